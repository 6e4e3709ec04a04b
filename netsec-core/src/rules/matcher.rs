//! Per-packet matching: candidates from the [`Prefilter`](super::prefilter::Prefilter), full
//! rule evaluation, rate state, and the [`RuleDetector`].
//!
//! Direction, flow and `pass` semantics are documented on [`RuleDetector`].

use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState;
use std::net::IpAddr;

use super::ast::{
    Action, ByteRead, ChecksumKind, JumpFrom as ByteJumpFrom, PacketField, StickyBuffer,
    StreamSide, Track, UintCmp, VarField,
};
use super::buffers::AppBuffers;
use super::certs::FlowCertificates;
use super::compile::{var_value, CompiledRule, PayloadStep, VarValues, MAX_VARS};
use super::dataset::Datasets;
use super::literals::LiteralScratch;
use super::rate::{track_addrs, RateWindow};
use super::ssh_kexinit::FlowKexinits;
use super::state::RuleState;
use super::{RuleSet, RuleSetSummary, Threshold};
use crate::app::tls_certs::CertChain;
use crate::decode::{IpPacket, IpProtocol};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView};
use crate::features::FeatureVector;
use crate::flow::{FlowContext, FlowRecord};

/// Tuning for a [`RuleDetector`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDetectorConfig {
    /// Most threshold/detection_filter entries kept (by rule and tracked address).
    pub max_rate_entries: usize,
    /// Most passed flows remembered.
    pub max_passed_flows: usize,
    /// Most content-match attempts per rule per packet (bounds backtracking).
    pub max_match_steps: u32,
    /// Most entries in each state table: flows holding `flowbits`, `xbits` (address keys),
    /// flows holding `flowint` variables, TLS flows whose certificates are being collected.
    pub max_flowbit_flows: usize,
    /// Inspect TCP flows taken up midstream as sessions, as Suricata's `stream.midstream:
    /// true` does: established, with their application protocol (the default: captures
    /// handed to an analyst often start in the middle of sessions). Off, as Suricata's
    /// default, such a flow is never established and application-layer rules do not apply
    /// to it; packet rules still do.
    pub midstream: bool,
    /// What to do with TCP flows taken up midstream.
    pub midstream_policy: MidstreamPolicy,
    /// Most alerts one packet raises (Suricata's `packet-alert-max`; 0 means the default,
    /// [`DEFAULT_PACKET_ALERT_MAX`]). When more rules match, the alerts kept are those of
    /// the highest priority, then the earliest rules, as Suricata's signature order keeps
    /// them.
    pub packet_alert_max: u16,
}

/// What the rule detector does with a TCP flow taken up midstream, whose opening SYN it did
/// not see (Suricata's `stream.midstream-policy`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum MidstreamPolicy {
    /// Inspect it as any other flow (the default; Suricata's `ignore`).
    #[default]
    Ignore,
    /// Inspect none of its packets (Suricata's `pass-flow`; also what `bypass`,
    /// `drop-flow` and `reject` come to for a detector that blocks nothing).
    PassFlow,
}

impl Default for RuleDetectorConfig {
    fn default() -> Self {
        RuleDetectorConfig {
            max_rate_entries: 16_384,
            max_passed_flows: 16_384,
            max_match_steps: 4_096,
            max_flowbit_flows: 4_096,
            midstream: true,
            midstream_policy: MidstreamPolicy::Ignore,
            packet_alert_max: DEFAULT_PACKET_ALERT_MAX,
        }
    }
}

/// Suricata's default `packet-alert-max`.
pub const DEFAULT_PACKET_ALERT_MAX: u16 = 15;

/// Counters of a [`RuleDetector`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuleStats {
    /// IP packets inspected.
    pub packets: u64,
    /// Candidate rules evaluated in full.
    pub candidates: u64,
    /// Rule matches (before pass, noalert and thresholds).
    pub matches: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Packets skipped because their flow was passed.
    pub passed_packets: u64,
    /// Matches suppressed by a `pass` rule on the same packet.
    pub suppressed_by_pass: u64,
    /// Matches suppressed by `threshold` / `detection_filter`.
    pub suppressed_by_rate: u64,
    /// Alerts dropped because their packet raised more than `packet_alert_max`.
    pub suppressed_by_alert_max: u64,
    /// Matches not tracked (and not alerted) because the rate table was full.
    pub rate_table_drops: u64,
    /// Flows not remembered as passed because the pass table was full.
    pub pass_table_drops: u64,
    /// Rule evaluations that hit the backtracking bound (treated as no match).
    pub step_limit_hits: u64,
    /// `flowbits`/`xbits`/`flowint` writes not done because their table was full.
    pub flowbit_table_drops: u64,
}

/// (rule index, 0 = threshold / 1 = detection_filter, tracked addresses).
type RateKey = (u32, u8, IpAddr, IpAddr);

/// Runs a [`RuleSet`] on every packet.
///
/// # Semantics
///
/// - Header `->`: the packet's source must match the rule's source address/ports and its
///   destination the rule's destination. `<>`: either orientation.
/// - Ports are compared only for protocols with ports (TCP, UDP, SCTP); for ICMP and other
///   protocols the header ports are ignored, as in Suricata.
/// - `flow:to_server` / `from_client` = the packet travels in its flow's
///   [`Direction::Forward`](crate::flow::Direction) (sent by the side that opened the flow; the
///   flow table flips flows whose first packet is a SYN+ACK, so forward is the client).
///   `to_client` / `from_server` = [`Direction::Backward`](crate::flow::Direction). A packet
///   without a flow context matches neither.
/// - `flow:established` = the flow table saw the TCP handshake ([`FlowContext::established`]);
///   non-TCP flows are never established. `not_established` is the opposite; `stateless`
///   matches always.
/// - `pass`: a packet matched by a `pass` rule raises no alert from other rules, and its
///   whole flow is passed from then on (Suricata's behaviour); the `pass` rule itself alerts
///   only with the `alert` keyword. `noalert` rules match but never alert.
/// - `itype`/`icode` read the ICMP/ICMPv6 type and code the decoder reports
///   ([`PacketMeta::icmp_type`](crate::decode::PacketMeta::icmp_type), `icmp_code`), echo
///   request/reply included; they never match non-ICMP packets.
/// - `threshold` / `detection_filter` windows start at the first counted match and use packet
///   time; `limit` alerts on the first `count` matches per window, `threshold` on every
///   `count`-th, `both` once when `count` is reached, and `detection_filter` on every match
///   after the first `count`. Entries live in a table capped by
///   [`RuleDetectorConfig::max_rate_entries`]; when it is full (after dropping expired
///   windows) a new key is not tracked, its match raises no alert, and
///   [`RuleStats::rate_table_drops`] counts it.
///
/// # Guarantees
///
/// Deterministic: the same packets give the same alerts (ids included) in the same order.
/// All state (rate counters, passed flows) lives in bounded tables; the scratch buffers are
/// allocated once, so a packet that fires nothing allocates nothing.
#[derive(Debug)]
pub struct RuleDetector {
    set: RuleSet,
    config: RuleDetectorConfig,
    stats: RuleStats,
    /// Keyed partly by packet addresses: foldhash with a random per-table seed (as the
    /// behavioural tables), which is also far cheaper than std's SipHash per packet.
    rate: HashMap<RateKey, RateWindow, RandomState>,
    passed: HashSet<u64, RandomState>,
    /// `flowbits`, `xbits` and `flowint` state.
    state: RuleState,
    /// The `dataset` sets, as `set`/`unset` change them.
    datasets: Datasets,
    /// The server certificate chains being collected (only when a rule reads them).
    certs: FlowCertificates,
    /// SSH KEXINITs spanning segments being collected (only when a rule reads HASSH).
    kexinits: FlowKexinits,
    /// Literal search state (found fast patterns) of the current packet.
    scratch: LiteralScratch,
    /// Rules of the found fast patterns, sorted.
    hits: Vec<u32>,
    /// Rules listing the packet's addresses (the IP-only engine), sorted.
    listed: Vec<u32>,
    /// Rules whose application-buffer fast pattern the packet holds, sorted.
    buffer_hits: Vec<u32>,
    matched: Vec<u32>,
    /// Text of the rebuilt sticky buffers (DNS query, lower-cased HTTP host), reused.
    buffer_text: Vec<u8>,
    /// The transformed buffer and its scratch, reused.
    transform_bufs: (Vec<u8>, Vec<u8>),
}

const NAME: &str = "rules";

impl RuleDetector {
    /// A detector over `set` with default limits.
    pub fn new(set: RuleSet) -> RuleDetector {
        RuleDetector::with_config(set, RuleDetectorConfig::default())
    }

    /// A detector over `set` with the given limits.
    pub fn with_config(set: RuleSet, config: RuleDetectorConfig) -> RuleDetector {
        let n = set.rules.len();
        RuleDetector {
            config,
            stats: RuleStats::default(),
            rate: HashMap::default(),
            passed: HashSet::default(),
            state: RuleState::new(config.max_flowbit_flows),
            datasets: Datasets::new(set.datasets.clone()),
            certs: FlowCertificates::new(config.max_flowbit_flows),
            kexinits: FlowKexinits::new(config.max_flowbit_flows),
            scratch: LiteralScratch::with_capacity(
                set.prefilter
                    .groups()
                    .iter()
                    .flat_map(|g| [g.anywhere.literals.len(), g.prefix.literals.len()])
                    .chain(
                        set.prefilter
                            .buffer_groups
                            .iter()
                            .map(|g| g.index.literals.len()),
                    )
                    .max()
                    .unwrap_or(0),
            ),
            buffer_hits: Vec::with_capacity(64),
            hits: Vec::with_capacity(n.min(1024)),
            listed: Vec::with_capacity(64),
            matched: Vec::with_capacity(n.min(1024)),
            buffer_text: Vec::new(),
            transform_bufs: (Vec::new(), Vec::new()),
            set,
        }
    }

    /// The loaded rules.
    pub fn rule_set(&self) -> &RuleSet {
        &self.set
    }

    /// What loading the rules did.
    pub fn summary(&self) -> &RuleSetSummary {
        self.set.summary()
    }

    /// Counters so far.
    pub fn stats(&self) -> RuleStats {
        RuleStats {
            flowbit_table_drops: self.state.drops,
            ..self.stats
        }
    }

    /// Fills `self.hits` (sorted, distinct) with the rules of the packet's content group
    /// whose fast pattern occurs in the payload.
    fn gather_hits(&mut self, ip: &IpPacket<'_>, flow: Option<&FlowContext>) {
        self.hits.clear();
        let group = self.set.prefilter.group(ip.meta.protocol, flow);
        if ip.payload.is_empty() || group.is_empty() {
            return;
        }
        let mut found = 0;
        for (index, hay) in group.searches(ip.payload) {
            if index.literals.len() == 0 || hay.is_empty() {
                continue;
            }
            index.literals.find_all(hay, &mut self.scratch);
            for &lit in &self.scratch.found {
                self.hits.extend_from_slice(index.literal_rules(lit));
            }
            found += self.scratch.found.len();
        }
        // Literals' rule lists are disjoint, so only the order needs fixing (and usually
        // there is at most one literal).
        if found > 1 {
            self.hits.sort_unstable();
        }
    }

    /// The rules the last packet matched (before `pass`, `noalert` and rate limits), as
    /// indexes into the set.
    #[cfg(test)]
    pub(super) fn last_matched(&self) -> &[u32] {
        &self.matched
    }

    /// The rule set run.
    #[cfg(test)]
    pub(super) fn set(&self) -> &RuleSet {
        &self.set
    }

    /// The rules whose listed addresses hold the packet's: address-gated rules on every
    /// packet, IP-only rules on a flow's first packet each way (and on flowless packets).
    fn gather_listed(&mut self, ip: &IpPacket<'_>, flow: Option<&FlowContext>) {
        self.listed.clear();
        let index = &self.set.prefilter.addr;
        let (src, dst) = (ip.meta.src_addr, ip.meta.dst_addr);
        index.gated.candidates(src, dst, &mut self.listed);
        if flow.is_none_or(|f| f.first_in_direction) {
            index.ip_only.candidates(src, dst, &mut self.listed);
        }
        if self.listed.len() > 1 {
            self.listed.sort_unstable();
            self.listed.dedup();
        }
    }

    /// Records in `alert.meta.traffic` the `traffic/id/…` and `traffic/label/…` flowbits
    /// set on the flow (`{"id": [...], "label": [...]}`), as Suricata's EVE writes them.
    #[cold]
    fn tag_traffic(&self, flow_id: u64, alert: &mut Alert) {
        let bits = self.state.flow_bits(flow_id);
        let (mut ids, mut labels) = (Vec::new(), Vec::new());
        for (id, label, name) in &self.set.traffic_tags {
            if bits.contains(id) {
                let list = if *label { &mut labels } else { &mut ids };
                list.push(serde_json::Value::from(name.as_str()));
            }
        }
        let mut traffic = serde_json::Map::new();
        if !ids.is_empty() {
            traffic.insert("id".into(), ids.into());
        }
        if !labels.is_empty() {
            traffic.insert("label".into(), labels.into());
        }
        if !traffic.is_empty() {
            alert.meta.insert("traffic".into(), traffic.into());
        }
    }

    /// Keeps, of the matched rules that would alert, the `max` of highest priority (then
    /// earliest), in that order, and every rule that does not alert (their state was
    /// already applied); counts the alerts dropped.
    #[cold]
    fn keep_alerting(&mut self, max: usize, any_pass: bool) {
        let rules = &self.set.rules;
        let alerting = |i: &u32| {
            let r = &rules[*i as usize];
            r.raises && (!any_pass || r.action == Action::Pass)
        };
        let mut alerts: Vec<u32> = self.matched.iter().copied().filter(alerting).collect();
        if alerts.len() <= max {
            return;
        }
        alerts.sort_by_key(|&i| (rules[i as usize].priority, i));
        self.stats.suppressed_by_alert_max += (alerts.len() - max) as u64;
        alerts.truncate(max);
        self.matched.retain(|i| !alerting(i));
        self.matched.extend(alerts);
    }

    /// Whether a rate-limited rule may alert now.
    fn rate_allows(&mut self, key: RateKey, t: &Threshold, now_us: i64) -> bool {
        if !self.rate.contains_key(&key) && self.rate.len() >= self.config.max_rate_entries {
            self.rate.retain(|_, w| !w.expired(now_us));
            if self.rate.len() >= self.config.max_rate_entries {
                self.stats.rate_table_drops += 1;
                return false;
            }
        }
        self.rate
            .entry(key)
            .or_insert_with(|| RateWindow::new(now_us, t.seconds))
            .allows(t, now_us)
    }

    fn make_alert(r: &CompiledRule, ip: &IpPacket<'_>, flow: Option<&FlowContext>) -> Alert {
        let description = if r.msg.is_empty() {
            format!("rule {}:{}:{} matched", r.gid, r.sid, r.rev)
        } else {
            format!("{} [{}:{}:{}]", r.msg, r.gid, r.sid, r.rev)
        };
        let attack_type = r.classtype.clone().unwrap_or_else(|| "Rule_Match".into());
        let mut b = Alert::builder(NAME, ip.meta.ts, attack_type, r.severity)
            .packet(&ip.meta)
            .score(match r.priority {
                1 => 1.0,
                2 => 0.75,
                _ => 0.5,
            })
            .tag("rule")
            .meta("sid", r.sid)
            .meta("rev", r.rev)
            .meta("gid", r.gid)
            .meta("msg", r.msg.clone())
            .meta("priority", r.priority)
            .meta("action", r.action.as_str());
        // EVE's `alert.category`: the classtype's description, empty without one, as
        // Suricata writes it.
        let category = r
            .classtype
            .as_deref()
            .map_or("", |c| super::classtype_description(c).unwrap_or(c));
        b = b.meta("category", category);
        if let Some(ct) = &r.classtype {
            b = b.meta("classtype", ct.clone());
        }
        if let Some(f) = flow {
            b = b.flow_context(&ip.meta, f);
        }
        if let (Some(src), Some(dst)) = (ip.l2.src_mac, ip.l2.dst_mac) {
            b = b
                .meta("src_mac", crate::decode::mac_string(src))
                .meta("dest_mac", crate::decode::mac_string(dst));
        }
        if matches!(ip.meta.protocol, IpProtocol::ICMP | IpProtocol::ICMPV6) {
            b = b
                .meta("icmp_type", ip.meta.icmp_type)
                .meta("icmp_code", ip.meta.icmp_code);
        }
        b.description(description).build()
    }
}

/// Whether the rule's header, non-payload options and payload steps all match.
pub(super) fn rule_matches(
    r: &CompiledRule,
    ip: &IpPacket<'_>,
    flow: Option<&FlowContext>,
    buffers: &mut AppBuffers<'_>,
    max_steps: u32,
    limit_hit: &mut bool,
) -> bool {
    let m = &ip.meta;
    if !r.proto.admits(m.protocol) || !r.proto.admits_version(m.src_addr) {
        return false;
    }
    if let Some(app) = r.app {
        if flow.map(|f| f.app_proto) != Some(app) {
            return false;
        }
    }
    // A retransmission repeats a request or response already inspected: as in Suricata's
    // application layer, it makes no second transaction. (A segment that completed a
    // certificate chain brought new data, even when it arrived after later ones and so
    // looks like a retransmission to the flow table.)
    if r.app_layer && flow.is_some_and(|f| f.retransmission) && buffers.cert_chain().is_none() {
        return false;
    }
    if let Some(want) = r.flow.to_server {
        match flow {
            Some(f) if f.direction.is_forward() == want => {}
            _ => return false,
        }
    }
    if let Some(want) = r.flow.established {
        let est = flow.is_some_and(|f| f.established);
        if est != want {
            return false;
        }
    }
    let proto = u64::from(m.protocol.0);
    if !r.ip_proto.iter().all(|c| c.matches(proto)) {
        return false;
    }
    if !r.flags.is_empty() {
        if m.protocol != IpProtocol::TCP {
            return false;
        }
        if !r.flags.iter().all(|f| f.matches(m.tcp_flags.0)) {
            return false;
        }
    }
    if !r.ttl.iter().all(|c| c.matches(u64::from(m.ttl))) {
        return false;
    }
    if !r
        .fields
        .iter()
        .all(|(f, c)| field_matches(*f, *c, ip, flow, buffers.cert_chain()))
    {
        return false;
    }
    if !m.events.contains(r.decode_events) {
        return false;
    }
    let dsize = ip.payload.len() as u64;
    if !r.dsize.iter().all(|c| c.matches(dsize)) {
        return false;
    }
    if !r.itype.is_empty() || !r.icode.is_empty() {
        let is_icmp = m.protocol == IpProtocol::ICMP || m.protocol == IpProtocol::ICMPV6;
        if !is_icmp {
            return false;
        }
        if !r.itype.iter().all(|c| c.matches(u64::from(m.icmp_type)))
            || !r.icode.iter().all(|c| c.matches(u64::from(m.icmp_code)))
        {
            return false;
        }
    }
    // Ports and addresses last: the integer checks above reject most candidates cheaply.
    let ports = m.protocol.has_ports();
    let fwd = (!ports || (r.src_ports.matches(m.src_port) && r.dst_ports.matches(m.dst_port)))
        && r.src_set.contains(m.src_addr)
        && r.dst_set.contains(m.dst_addr);
    let header = fwd
        || (r.bidirectional
            && (!ports || (r.src_ports.matches(m.dst_port) && r.dst_ports.matches(m.src_port)))
            && r.src_set.contains(m.dst_addr)
            && r.dst_set.contains(m.src_addr));
    if !header {
        return false;
    }
    if r.steps.is_empty() {
        return true;
    }
    let mut budget = max_steps;
    // `byte_extract` / `byte_math` variables live for one evaluation of the rule, across
    // its buffers.
    let mut vars = VarValues::default();
    // Each run of steps on one buffer is evaluated on that buffer (relative matches do not
    // carry across buffers).
    let mut start = 0;
    let mut ok = true;
    while ok && start < r.steps.len() {
        let (buffer, transform) = (r.buffers[start], r.transforms[start]);
        let run = (start..r.steps.len())
            .take_while(|&i| r.buffers[i] == buffer && r.transforms[i] == transform)
            .count();
        let steps = &r.steps[start..start + run];
        let chain = buffers.cert_chain();
        let dotted = transform != 0;
        if buffer == StickyBuffer::Base64Data {
            // What this evaluation's `base64_decode` decoded (nothing: no match).
            let decoded = std::mem::take(&mut vars.decoded);
            ok = !decoded.is_empty() && eval_steps(steps, &decoded, 0, 0, &mut budget, &mut vars);
            vars.decoded = decoded;
            start += run;
            continue;
        }
        let hay = match r.chain(start) {
            None => buffers.get(buffer),
            Some(t) if t.is_dotprefix() => buffers.get_dotprefixed(buffer),
            Some(t) => buffers.get_transformed(buffer, t),
        };
        ok = match hay {
            // `tls.certs`: one of the certificates must match.
            Some(_) if buffer == StickyBuffer::TlsCerts && !dotted => chain.is_some_and(|c| {
                c.certs()
                    .any(|cert| eval_steps(steps, cert, 0, 0, &mut budget, &mut vars))
            }),
            // A multi-buffer's instances are its lines: one of them must match.
            Some(block) if buffer.is_multi() => {
                lines(block).any(|line| eval_steps(steps, line, 0, 0, &mut budget, &mut vars))
            }
            Some(hay) => eval_steps(steps, hay, 0, 0, &mut budget, &mut vars),
            None => false,
        };
        start += run;
    }
    if budget == 0 && !ok {
        *limit_hit = true;
    }
    ok
}

/// Decodes base64 text as Suricata's `base64_decode` does (RFC 4648 alphabet): up to the
/// first byte outside it or padding, a last group of 2 or 3 characters giving the bytes it
/// holds; into `out` (cleared).
fn base64_decode_lenient(text: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let sextet = |b: u8| -> Option<u32> {
        Some(u32::from(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let (mut acc, mut n) = (0u32, 0);
    for &b in text {
        let Some(v) = sextet(b) else { break };
        acc = acc << 6 | v;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&acc.to_be_bytes()[1..]);
            (acc, n) = (0, 0);
        }
    }
    match n {
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&((acc >> 2) as u16).to_be_bytes()),
        _ => {}
    }
}

/// The non-empty `\r\n`-separated lines of a rebuilt header block.
fn lines(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = block;
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memmem::find(rest, b"\r\n") {
            Some(i) => (&rest[..i], &rest[i + 2..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if !line.is_empty() {
            return Some(line);
        }
    })
}

/// Evaluates payload steps from `i`, with the previous match ending at `prev_end`,
/// backtracking over earlier content occurrences as Suricata does.
pub(crate) fn eval_steps(
    steps: &[PayloadStep],
    payload: &[u8],
    i: usize,
    prev_end: usize,
    budget: &mut u32,
    vars: &mut VarValues,
) -> bool {
    let Some(step) = steps.get(i) else {
        return true;
    };
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let len = payload.len() as i64;
    match step {
        PayloadStep::Content(c) => {
            let s = &c.spec;
            let plen = s.pattern.len() as i64;
            let (mut offset, mut depth, mut distance, mut within) =
                (s.offset, s.depth, s.distance, s.within);
            for &(field, slot) in c.vars.iter() {
                let v = vars[usize::from(slot) % MAX_VARS];
                let as_u32 = u32::try_from(v).unwrap_or(u32::MAX);
                match field {
                    VarField::Offset => offset = Some(as_u32),
                    VarField::Depth => depth = Some(as_u32),
                    VarField::Distance => distance = Some(i32::try_from(v).unwrap_or(i32::MAX)),
                    VarField::Within => within = Some(as_u32),
                    _ => {}
                }
            }
            let (start, end) = if s.startswith {
                // Anchored where the search begins: the buffer start, or the previous
                // match's end (+ distance) for a relative content.
                let base = if s.is_relative() {
                    prev_end as i64 + i64::from(distance.unwrap_or(0))
                } else {
                    0
                };
                (base.max(0), (base + plen).min(len))
            } else if s.is_relative() {
                let base = prev_end as i64 + i64::from(distance.unwrap_or(0));
                let end = match within {
                    Some(w) => base + i64::from(w),
                    None => len,
                };
                (base.max(0), end.min(len))
            } else {
                let start = i64::from(offset.unwrap_or(0));
                let end = match depth {
                    Some(d) => start + i64::from(d),
                    None => len,
                };
                (start, end.min(len))
            };
            if end - start < plen {
                // The pattern cannot fit: a positive content fails, a negated one holds.
                return s.negated && eval_steps(steps, payload, i + 1, prev_end, budget, vars);
            }
            if s.endswith {
                // Only an occurrence ending at the buffer's end counts.
                let at = len - plen;
                let found = end == len && at >= start && c.find(&payload[at as usize..]) == Some(0);
                return if s.negated {
                    !found && eval_steps(steps, payload, i + 1, prev_end, budget, vars)
                } else {
                    found && eval_steps(steps, payload, i + 1, len as usize, budget, vars)
                };
            }
            let window = &payload[start as usize..end as usize];
            if s.negated {
                return c.find(window).is_none()
                    && eval_steps(steps, payload, i + 1, prev_end, budget, vars);
            }
            let mut from = 0usize;
            while from < window.len() {
                let Some(k) = c.find(&window[from..]) else {
                    return false;
                };
                let m_end = start as usize + from + k + s.pattern.len();
                if eval_steps(steps, payload, i + 1, m_end, budget, vars) {
                    return true;
                }
                if *budget == 0 {
                    return false;
                }
                // Later relative steps failed: retry this content at its next occurrence,
                // unless nothing after it depends on where it matched.
                if !steps[i + 1..].iter().any(step_is_relative) {
                    return false;
                }
                from += k + 1;
            }
            false
        }
        PayloadStep::Bsize(cmp) => {
            cmp.matches(payload.len() as u64)
                && eval_steps(steps, payload, i + 1, prev_end, budget, vars)
        }
        PayloadStep::ByteTest(t, slots) => {
            let Some(read) = read_with_vars(t.read, slots, vars) else {
                return false;
            };
            let Some((value, _, _)) = read_number(&read, payload, prev_end) else {
                return false;
            };
            let operand = var_value(slots, VarField::Value, vars).unwrap_or(t.value);
            t.op.holds(value, operand) != t.negated
                && eval_steps(steps, payload, i + 1, prev_end, budget, vars)
        }
        PayloadStep::ByteJump(j, slots) => {
            let Some(read) = read_with_vars(j.read, slots, vars) else {
                return false;
            };
            let Some((value, at, used)) = read_number(&read, payload, prev_end)
                .or_else(|| zero_byte_jump_at_end(&read, payload, prev_end))
            else {
                return false;
            };
            // As Suricata: multiplier, then align to 4, then post_offset, from where.
            let mut jump = i128::from(value) * i128::from(j.multiplier);
            if j.align && jump % 4 != 0 {
                jump += 4 - jump % 4;
            }
            jump += i128::from(j.post_offset);
            let to = match j.from {
                ByteJumpFrom::Beginning => jump,
                ByteJumpFrom::End => payload.len() as i128 + jump,
                ByteJumpFrom::Cursor => (at + used) as i128 + jump,
            };
            // Before the buffer: Suricata 7 jumps to its start; past its end: no match.
            if to >= payload.len() as i128 {
                return false;
            }
            eval_steps(steps, payload, i + 1, to.max(0) as usize, budget, vars)
        }
        PayloadStep::Base64Decode(b) => {
            let from = if b.relative { prev_end } else { 0 };
            let start = from.saturating_add(b.offset.unwrap_or(0) as usize);
            let Some(text) = payload.get(start..) else {
                return false;
            };
            let text = match b.bytes {
                Some(n) => &text[..text.len().min(n as usize)],
                None => text,
            };
            base64_decode_lenient(text, &mut vars.decoded);
            !vars.decoded.is_empty() && eval_steps(steps, payload, i + 1, prev_end, budget, vars)
        }
        PayloadStep::ByteExtract(e, slot) => {
            let Some((value, at, used)) = read_number(&e.read, payload, prev_end) else {
                return false;
            };
            let mut value = value.wrapping_mul(u64::from(e.multiplier));
            let align = u64::from(e.align);
            if align > 1 && value % align != 0 {
                // The number came from the packet: near u64::MAX, rounding up wraps as
                // Suricata's unsigned arithmetic does instead of overflowing.
                value = value.wrapping_add(align - value % align);
            }
            vars[usize::from(*slot) % MAX_VARS] = value;
            eval_steps(steps, payload, i + 1, at + used, budget, vars)
        }
        PayloadStep::ByteMath(m, slots, slot) => {
            let Some(read) = read_with_vars(m.read, slots, vars) else {
                return false;
            };
            // As Suricata: the number, the operator, then the bitmask.
            let unmasked = ByteRead {
                bitmask: None,
                ..read
            };
            let Some((value, at, used)) = read_number(&unmasked, payload, prev_end) else {
                return false;
            };
            let rvalue = var_value(slots, VarField::Rvalue, vars).unwrap_or(m.rvalue);
            let Some(mut value) = m.oper.apply(value, rvalue) else {
                return false;
            };
            if let Some(mask) = read.bitmask {
                value &= mask;
                if value != 0 && mask != 0 {
                    value >>= mask.trailing_zeros();
                }
            }
            vars[usize::from(*slot) % MAX_VARS] = value;
            eval_steps(steps, payload, i + 1, at + used, budget, vars)
        }
        PayloadStep::IsDataAt(d, slots) => {
            // As Suricata counts: absolute `n` needs a byte at index `n`; relative `n` needs
            // `n` more bytes after the previous match.
            let position =
                var_value(slots, VarField::Offset, vars).unwrap_or(u64::from(d.position));
            let (at, len) = (position, payload.len() as u64);
            let present = if d.relative {
                (prev_end as u64).saturating_add(at) <= len
            } else {
                at < len
            };
            present != d.negated && eval_steps(steps, payload, i + 1, prev_end, budget, vars)
        }
        PayloadStep::Pcre(p) => {
            let start = if p.relative {
                prev_end.min(payload.len())
            } else {
                0
            };
            let hay = &payload[start..];
            let Some(regex) = p.regex() else {
                return false;
            };
            if p.negated {
                return !regex.is_match(hay)
                    && eval_steps(steps, payload, i + 1, prev_end, budget, vars);
            }
            match regex.find(hay) {
                Some(m) => eval_steps(steps, payload, i + 1, start + m.end(), budget, vars),
                None => false,
            }
        }
    }
}

fn step_is_relative(s: &PayloadStep) -> bool {
    match s {
        PayloadStep::Content(c) => c.spec.is_relative(),
        PayloadStep::Pcre(p) => p.relative,
        PayloadStep::Bsize(_) => false,
        PayloadStep::IsDataAt(d, _) => d.relative,
        PayloadStep::ByteTest(b, _) => b.read.relative,
        PayloadStep::ByteJump(b, _) => b.read.relative,
        PayloadStep::ByteExtract(b, _) => b.read.relative,
        PayloadStep::ByteMath(b, ..) => b.read.relative,
        PayloadStep::Base64Decode(b) => b.relative,
    }
}

/// `read` with its bytes and offset from variables where the rule names them; `None` when
/// a variable's value is no valid byte count.
fn read_with_vars(
    mut read: ByteRead,
    slots: &[(VarField, u8)],
    vars: &VarValues,
) -> Option<ByteRead> {
    if slots.is_empty() {
        return Some(read);
    }
    if let Some(n) = var_value(slots, VarField::Bytes, vars) {
        let max = if read.base.is_some() { 23 } else { 8 };
        read.bytes = u8::try_from(n).ok().filter(|b| *b <= max)?;
    }
    if let Some(n) = var_value(slots, VarField::Offset, vars) {
        read.offset = i32::try_from(n).ok()?;
    }
    Some(read)
}

/// Reads the number `read` describes, from the buffer start or `prev_end`: the value (after
/// the bitmask), where it was read and how many bytes it took; `None` when the buffer is
/// empty, the number does not fit in it, a relative read starts at or past its end, or (as
/// a string) it holds no digit. As in Suricata 7, a binary read of 0 bytes reads 0 and a
/// string of 0 bytes never reads.
/// A `byte_jump` of no bytes, relative, at the very end of the buffer: it reads 0 there
/// (Suricata bug 4623: a jump back from after a content that ends the buffer), where every
/// other relative read needs a byte to start at.
fn zero_byte_jump_at_end(
    read: &ByteRead,
    buf: &[u8],
    prev_end: usize,
) -> Option<(u64, usize, usize)> {
    let at = prev_end as i64 + i64::from(read.offset);
    (read.bytes == 0 && read.relative && read.base.is_none() && at == buf.len() as i64).then_some((
        0,
        buf.len(),
        0,
    ))
}

fn read_number(read: &ByteRead, buf: &[u8], prev_end: usize) -> Option<(u64, usize, usize)> {
    let base = if read.relative { prev_end as i64 } else { 0 };
    let at = base + i64::from(read.offset);
    let n = usize::from(read.bytes);
    if buf.is_empty() || at < 0 || at as usize + n > buf.len() {
        return None;
    }
    if read.relative && at as usize >= buf.len() {
        return None;
    }
    if n == 0 {
        return read.base.is_none().then_some((0, at as usize, 0));
    }
    let at = at as usize;
    let bytes = &buf[at..at + n];
    let (mut value, used) = match read.base {
        None => {
            let mut v = 0u64;
            if read.little {
                for &b in bytes.iter().rev() {
                    v = v << 8 | u64::from(b);
                }
            } else {
                for &b in bytes {
                    v = v << 8 | u64::from(b);
                }
            }
            (v, n)
        }
        Some(radix) => {
            // As strtoull: leading blanks, then digits of the base (a 0x/0 prefix picks it
            // when the base is 0), up to the first other byte.
            let mut i = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let mut radix = u32::from(radix);
            if radix == 0 || radix == 16 {
                if bytes[i..].starts_with(b"0x") || bytes[i..].starts_with(b"0X") {
                    radix = 16;
                    i += 2;
                } else if radix == 0 {
                    radix = if bytes[i..].starts_with(b"0") { 8 } else { 10 };
                }
            }
            let digits = bytes[i..]
                .iter()
                .take_while(|b| (**b as char).is_digit(radix))
                .count();
            if digits == 0 {
                return None;
            }
            let text = std::str::from_utf8(&bytes[i..i + digits]).ok()?;
            (u64::from_str_radix(text, radix).ok()?, i + digits)
        }
    };
    if let Some(mask) = read.bitmask {
        value &= mask;
        if mask != 0 {
            value >>= mask.trailing_zeros();
        }
    }
    Some((value, at, used))
}

/// Runs a matching rule's `dataset` commands on their buffers, in order; whether all match
/// (a command on a buffer the packet lacks does not).
fn apply_datasets(sets: &mut Datasets, r: &CompiledRule, buffers: &mut AppBuffers<'_>) -> bool {
    r.datasets.iter().all(|op| {
        let chain = usize::from(op.transform)
            .checked_sub(1)
            .and_then(|i| r.chains.get(i));
        let value = match chain {
            Some(t) => buffers.get_transformed(op.buffer, t),
            None => buffers.get(op.buffer),
        };
        value.is_some_and(|value| sets.apply(op.id, op.dataset.command, value))
    })
}

/// How rules see a flow taken up midstream: with midstream take-up on, as an established
/// session of its application protocol (Suricata's pickup makes it established at once);
/// off, as a flow that is neither.
fn midstream_view(f: &FlowContext, take_up: bool) -> FlowContext {
    FlowContext {
        established: take_up,
        app_proto: if take_up {
            f.app_proto
        } else {
            crate::app::AppProto::Unknown
        },
        ..*f
    }
}

/// Whether a packet (and its flow) has `field` and it compares as `cmp` asks.
fn field_matches(
    field: PacketField,
    cmp: UintCmp,
    ip: &IpPacket<'_>,
    flow: Option<&FlowContext>,
    certs: Option<&CertChain>,
) -> bool {
    match field {
        PacketField::FlowAge => flow.is_some_and(|f| cmp.matches(f.age_us / 1_000_000)),
        PacketField::TlsCertChainLen => certs.is_some_and(|c| cmp.matches(c.len() as u64)),
        PacketField::StreamSize(side) => {
            let Some(f) = flow.filter(|_| ip.meta.protocol == IpProtocol::TCP) else {
                return false;
            };
            // Sequence space: the payload sent plus the SYN.
            let client = cmp.matches(f.sent_bytes[0].saturating_add(1));
            let server = cmp.matches(f.sent_bytes[1].saturating_add(1));
            match side {
                StreamSide::Client => client,
                StreamSide::Server => server,
                StreamSide::Both => client && server,
                StreamSide::Either => client || server,
            }
        }
        _ => field_value(field, ip).is_some_and(|v| cmp.matches(v)),
    }
}

/// A number of the packet a rule compares, when the packet has it.
fn field_value(field: PacketField, ip: &IpPacket<'_>) -> Option<u64> {
    let m = &ip.meta;
    let tcp = m.protocol == IpProtocol::TCP;
    match field {
        PacketField::TcpSeq => tcp.then_some(u64::from(m.tcp_seq)),
        PacketField::TcpAck => tcp.then_some(u64::from(m.tcp_ack)),
        PacketField::TcpWindow => tcp.then_some(u64::from(m.tcp_window)),
        PacketField::TcpMss if tcp => tcp_mss(ip.transport_header).map(u64::from),
        PacketField::TcpMss => None,
        // Known from the flow's certificates, not the packet (`field_matches`).
        PacketField::TlsCertChainLen => None,
        PacketField::DnsOpcode => {
            let msg = match m.protocol {
                IpProtocol::UDP => ip.payload,
                IpProtocol::TCP => ip.payload.get(2..)?,
                _ => return None,
            };
            // The DNS header is 12 bytes; the opcode is bits 3-6 of its third byte.
            (msg.len() >= 12).then(|| u64::from((msg[2] >> 3) & 0x0f))
        }
        PacketField::IcmpId | PacketField::IcmpSeq => {
            let echo_like = match m.protocol {
                // Echo reply and request, timestamp, information, address mask.
                IpProtocol::ICMP => matches!(m.icmp_type, 0 | 8 | 13..=18),
                IpProtocol::ICMPV6 => matches!(m.icmp_type, 128 | 129),
                _ => false,
            };
            let at = if field == PacketField::IcmpId { 4 } else { 6 };
            let b = ip.transport_header.get(at..at + 2).filter(|_| echo_like)?;
            Some(u64::from(u16::from_be_bytes([b[0], b[1]])))
        }
        PacketField::Icmpv6Mtu => {
            let too_big = m.protocol == IpProtocol::ICMPV6 && m.icmp_type == 2;
            let b = ip.transport_header.get(4..8).filter(|_| too_big)?;
            Some(u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        }
        PacketField::Checksum(kind) => checksum_valid(kind, ip).map(u64::from),
        PacketField::DhcpLeaseTime
        | PacketField::DhcpRenewalTime
        | PacketField::DhcpRebindingTime => {
            let code = match field {
                PacketField::DhcpLeaseTime => 51,
                PacketField::DhcpRenewalTime => 58,
                _ => 59,
            };
            if m.protocol != IpProtocol::UDP {
                return None;
            }
            let msg = crate::app::dhcp::DhcpMessage::parse(ip.payload).ok()?;
            let v: [u8; 4] = msg.option(code)?.try_into().ok()?;
            Some(u64::from(u32::from_be_bytes(v)))
        }
        PacketField::FlowAge | PacketField::StreamSize(_) => None,
    }
}

/// Whether the checksum `kind` names is valid in this packet; `None` when the packet is not
/// of that protocol and version, is a fragment, or was cut short by the snap length.
fn checksum_valid(kind: ChecksumKind, ip: &IpPacket<'_>) -> Option<bool> {
    use crate::wire::checksum;
    let m = &ip.meta;
    let (v4, proto) = match kind {
        ChecksumKind::Ipv4 => {
            let h = ip.ip_header;
            return (m.src_addr.is_ipv4() && h.len() >= 20)
                .then(|| checksum::is_valid(checksum::sum(0, h)));
        }
        ChecksumKind::Tcpv4 => (true, IpProtocol::TCP),
        ChecksumKind::Tcpv6 => (false, IpProtocol::TCP),
        ChecksumKind::Udpv4 => (true, IpProtocol::UDP),
        ChecksumKind::Udpv6 => (false, IpProtocol::UDP),
        ChecksumKind::Icmpv4 => (true, IpProtocol::ICMP),
        ChecksumKind::Icmpv6 => (false, IpProtocol::ICMPV6),
    };
    let header = ip.transport_header;
    let complete = m.fragment.is_none()
        && !header.is_empty()
        && ip.payload.len() as u64 == u64::from(m.payload_len);
    if m.protocol != proto || m.src_addr.is_ipv4() != v4 || !complete {
        return None;
    }
    if kind == ChecksumKind::Udpv4 && header.get(6..8) == Some(&[0, 0]) {
        return Some(true);
    }
    let length = (header.len() + ip.payload.len()) as u32;
    let pseudo = if proto == IpProtocol::ICMP {
        0
    } else {
        checksum::pseudo_header(m.src_addr, m.dst_addr, proto.0, length)
    };
    Some(checksum::is_valid(checksum::sum(
        checksum::sum(pseudo, header),
        ip.payload,
    )))
}

/// The maximum segment size option of a TCP header (kind 2, length 4), if it has one.
fn tcp_mss(header: &[u8]) -> Option<u16> {
    let mut opts = header.get(20..)?;
    while let [kind, rest @ ..] = opts {
        match kind {
            0 => return None,
            1 => opts = rest,
            _ => {
                let len = usize::from(*rest.first()?);
                if *kind == 2 && len == 4 {
                    return Some(u16::from_be_bytes([*rest.get(1)?, *rest.get(2)?]));
                }
                if len < 2 {
                    return None;
                }
                opts = opts.get(len..)?;
            }
        }
    }
    None
}

/// The rules of `groups` whose literal occurs in their buffer of this packet. A group whose
/// rules name an application protocol is searched only in flows of that protocol; the
/// buffers are parsed (once per packet) only when a group is searched.
fn gather_buffer_hits(
    groups: &[super::prefilter::BufferGroup],
    buffers: &mut AppBuffers<'_>,
    ip: &IpPacket<'_>,
    flow: Option<&FlowContext>,
    scratch: &mut LiteralScratch,
    out: &mut Vec<u32>,
) {
    out.clear();
    // Without payload only the header buffers, which come first, have anything to search.
    let no_payload = ip.payload.is_empty();
    for g in groups {
        if no_payload && !g.buffer.is_header() {
            break;
        }
        if let Some(app) = g.app {
            if flow.map(|f| f.app_proto) != Some(app) {
                continue;
            }
        }
        let Some(hay) = buffers.get(g.buffer) else {
            continue;
        };
        g.index.literals.find_all(hay, scratch);
        for &lit in &scratch.found {
            out.extend_from_slice(g.index.literal_rules(lit));
        }
    }
    if out.len() > 1 {
        out.sort_unstable();
        out.dedup();
    }
}

/// Removes and returns the smallest head of sorted lists.
fn pop_min(lists: &mut [&[u32]; 6]) -> Option<u32> {
    let mut best: Option<(usize, u32)> = None;
    for (i, l) in lists.iter().enumerate() {
        if let Some(&v) = l.first() {
            if best.is_none_or(|(_, b)| v < b) {
                best = Some((i, v));
            }
        }
    }
    let (i, v) = best?;
    lists[i] = &lists[i][1..];
    Some(v)
}

fn track_key(track: Track, ip: &IpPacket<'_>) -> (IpAddr, IpAddr) {
    track_addrs(track, ip.meta.src_addr, ip.meta.dst_addr)
}

impl Detector for RuleDetector {
    fn name(&self) -> &str {
        NAME
    }

    /// Every packet, invalid ones included: decoder-event rules match those.
    fn interest(&self) -> PacketInterest {
        PacketInterest::ALL | PacketInterest::INVALID
    }

    fn stats(&self) -> DetectorStats {
        let s = &self.stats;
        let summary = self.set.summary();
        let mut d = DetectorStats::new(NAME)
            .counter("rules_loaded", summary.loaded as u64)
            .counter("rules_skipped", summary.skipped as u64)
            .counter("certificate_flows", self.certs.len() as u64)
            .counter("certificate_flows_dropped", self.certs.dropped)
            .counter(
                "ip_only_rules",
                self.set.prefilter.addr.ip_only.len() as u64,
            )
            .counter(
                "address_gated_rules",
                self.set.prefilter.addr.gated.len() as u64,
            )
            .counter(
                "address_segments",
                self.set.prefilter.addr.segments() as u64,
            )
            .counter("packets", s.packets)
            .counter("candidates", s.candidates)
            .counter("matches", s.matches)
            .counter("passed_packets", s.passed_packets)
            .counter("suppressed_by_pass", s.suppressed_by_pass)
            .counter("suppressed_by_rate", s.suppressed_by_rate)
            .counter("suppressed_by_alert_max", s.suppressed_by_alert_max)
            .counter("step_limit_hits", s.step_limit_hits)
            .counter("dataset_values", self.datasets.len() as u64)
            .counter("dataset_drops", self.datasets.drops);
        d.alerts = s.alerts;
        d.suppressed = s.suppressed_by_pass + s.suppressed_by_rate + s.suppressed_by_alert_max;
        d.tracked = (self.rate.len() + self.passed.len() + self.state.len()) as u64;
        d.evicted = s.rate_table_drops + s.pass_table_drops + self.state.drops;
        // Hash tables: a control byte per bucket, buckets up to twice the entries at the cap.
        let rate_entry = std::mem::size_of::<(RateKey, RateWindow)>() + 1;
        let pass_entry = std::mem::size_of::<u64>() + 1;
        let (state_now, state_bound) = self.state.memory();
        d.memory_bytes = (self.rate.capacity() * rate_entry * 8 / 7
            + self.passed.capacity() * pass_entry * 8 / 7) as u64
            + state_now;
        d.memory_bound_bytes = (2 * self.config.max_rate_entries.next_power_of_two() * rate_entry
            + 2 * self.config.max_passed_flows.next_power_of_two() * pass_entry)
            as u64
            + state_bound;
        d.skipped_by_keyword = summary
            .by_keyword
            .iter()
            .map(|(k, n)| (k.clone(), *n as u64))
            .collect();
        for (k, n) in [
            ("malformed", summary.malformed),
            ("invalid", summary.invalid),
        ] {
            if n > 0 {
                d.skipped_by_keyword.insert(k.into(), n as u64);
            }
        }
        d
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = pkt.ip() else {
            return;
        };
        self.stats.packets += 1;
        let taken_up;
        let mut flow = flow;
        if let Some(f) = flow {
            let midstream_pass =
                f.midstream && self.config.midstream_policy == MidstreamPolicy::PassFlow;
            if midstream_pass || (!self.passed.is_empty() && self.passed.contains(&f.flow_id)) {
                self.stats.passed_packets += 1;
                return;
            }
            if f.midstream {
                taken_up = midstream_view(f, self.config.midstream);
                flow = Some(&taken_up);
            }
        }
        self.gather_hits(ip, flow);
        self.gather_listed(ip, flow);
        self.matched.clear();
        let max_steps = self.config.max_match_steps;
        let [plain_a, plain_b, plain_app] =
            self.set
                .prefilter
                .plain_candidates(ip.meta.protocol, ip.meta.dst_port, flow);
        // Candidates are six sorted, pairwise disjoint lists (fast-pattern hits, the
        // protocol's any-port rules, its rules for this port, its rules for the flow's
        // application protocol, rules listing the packet's addresses, rules whose
        // application-buffer fast pattern the packet holds); evaluate them in rule order by
        // merging, so alerts come out in file order without a per-packet sort.
        let chain = match flow {
            Some(f) if self.set.uses_certificates => self.certs.feed(ip, f),
            _ => None,
        };
        let kexinit = match flow {
            Some(f) if self.set.uses_hassh => self.kexinits.feed(ip, f),
            _ => None,
        };
        let text = std::mem::take(&mut self.buffer_text);
        let mut buffers = AppBuffers::of_packet(ip, text)
            .with_direction(flow.map(|f| f.direction.is_forward()))
            .with_certs(chain.as_ref())
            .with_kexinit(kexinit.as_deref())
            .with_transform_buffers(std::mem::take(&mut self.transform_bufs));
        gather_buffer_hits(
            &self.set.prefilter.buffer_groups,
            &mut buffers,
            ip,
            flow,
            &mut self.scratch,
            &mut self.buffer_hits,
        );
        let mut lists = [
            self.hits.as_slice(),
            plain_a,
            plain_b,
            plain_app,
            &self.listed,
            &self.buffer_hits,
        ];
        while let Some(idx) = pop_min(&mut lists) {
            self.stats.candidates += 1;
            let mut limit_hit = false;
            let r = &self.set.rules[idx as usize];
            if rule_matches(r, ip, flow, &mut buffers, max_steps, &mut limit_hit)
                && (r.datasets.is_empty() || apply_datasets(&mut self.datasets, r, &mut buffers))
                && (r.state.is_empty()
                    || self.state.apply(
                        &r.state,
                        flow,
                        ip.meta.src_addr,
                        ip.meta.dst_addr,
                        ip.meta.ts.as_micros(),
                    ))
            {
                self.matched.push(idx);
            }
            if limit_hit {
                self.stats.step_limit_hits += 1;
            }
        }
        self.transform_bufs = buffers.take_transform_buffers();
        self.buffer_text = buffers.into_text();
        if self.matched.is_empty() {
            return;
        }
        self.stats.matches += self.matched.len() as u64;
        let any_pass = self
            .matched
            .iter()
            .any(|&i| self.set.rules[i as usize].action == Action::Pass);
        let now_us = ip.meta.ts.as_micros();
        let max = match self.config.packet_alert_max {
            0 => DEFAULT_PACKET_ALERT_MAX,
            n => n,
        };
        if self.matched.len() > usize::from(max) {
            self.keep_alerting(usize::from(max), any_pass);
        }
        for k in 0..self.matched.len() {
            let idx = self.matched[k];
            let r = &self.set.rules[idx as usize];
            if any_pass && r.action != Action::Pass {
                self.stats.suppressed_by_pass += 1;
                continue;
            }
            if !r.raises {
                continue;
            }
            let (df, th) = (r.detection_filter, r.threshold);
            if let Some(t) = df {
                let (a, b) = track_key(t.track, ip);
                if !self.rate_allows((idx, 1, a, b), &t, now_us) {
                    self.stats.suppressed_by_rate += 1;
                    continue;
                }
            }
            if let Some(t) = th {
                let (a, b) = track_key(t.track, ip);
                if !self.rate_allows((idx, 0, a, b), &t, now_us) {
                    self.stats.suppressed_by_rate += 1;
                    continue;
                }
            }
            let r = &self.set.rules[idx as usize];
            let mut alert = Self::make_alert(r, ip, flow);
            if let (false, Some(f)) = (self.set.traffic_tags.is_empty(), flow) {
                self.tag_traffic(f.flow_id, &mut alert);
            }
            out.push(alert);
            self.stats.alerts += 1;
        }
        if let (true, Some(f)) = (any_pass, flow) {
            if self.passed.len() < self.config.max_passed_flows {
                self.passed.insert(f.flow_id);
            } else {
                self.stats.pass_table_drops += 1;
            }
        }
    }

    fn on_flow_end(&mut self, flow: &FlowRecord, _features: &FeatureVector, _out: &mut Vec<Alert>) {
        if !self.passed.is_empty() {
            self.passed.remove(&flow.id);
        }
        self.state.end_flow(flow.id);
        self.certs.end_flow(flow.id);
        self.kexinits.end_flow(flow.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::AppProto;
    use crate::decode::{L2Info, PacketMeta, TcpFlags};
    use crate::flow::Direction;
    use crate::rules::RuleVars;
    use crate::time::Timestamp;
    use std::net::Ipv4Addr;

    fn meta(proto: IpProtocol, sport: u16, dport: u16, flags: u8, ts_s: i64) -> PacketMeta {
        PacketMeta {
            ts: Timestamp::from_micros(ts_s * 1_000_000),
            src_addr: "192.168.1.10".parse().expect("ip"),
            dst_addr: "8.8.8.8".parse().expect("ip"),
            src_port: sport,
            dst_port: dport,
            protocol: proto,
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: TcpFlags(flags),
            tcp_window: 0,
            tcp_seq: 0,
            tcp_ack: 0,
            tcp_urgent: 0,
            payload_len: 0,
            ip_len: 0,
            ttl: 64,
            fragment: None,
            tunnel: None,
            events: crate::decode::DecodeEvents::NONE,
        }
    }

    fn tcp(payload: &[u8]) -> IpPacket<'_> {
        let mut m = meta(IpProtocol::TCP, 40000, 80, TcpFlags::ACK | TcpFlags::PSH, 0);
        m.payload_len = payload.len() as u32;
        IpPacket {
            meta: m,
            payload,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        }
    }

    fn ctx(dir: Direction, established: bool) -> FlowContext {
        FlowContext {
            flow_id: 1,
            direction: dir,
            packets: 3,
            established,
            new_flow: false,
            first_in_direction: false,
            retransmission: false,
            closed: false,
            gap_us: 0,
            sender_reset: false,
            rst_out_of_window: false,
            ack_out_of_sync: false,
            app_proto: crate::app::AppProto::Unknown,
            midstream: false,
            age_us: 0,
            sent_bytes: [0; 2],
            side_packets: [0; 2],
            frame_bytes: [0; 2],
        }
    }

    fn flow_n(id: u64) -> FlowContext {
        FlowContext {
            flow_id: id,
            ..ctx(Direction::Forward, true)
        }
    }

    #[test]
    fn icmp_ids_sequences_and_mtus_come_from_the_right_messages() {
        let mut d = detector(
            "alert icmp any any -> any any (icmp_id:21781; sid:1;)\n\
             alert icmp any any -> any any (icmp_seq:7; sid:2;)\n\
             alert ipv6 any any -> any any (icmpv6.mtu:<1280; sid:3;)\n\
             alert ipv4 any any -> any any (icmp_seq:7; sid:4;)",
        );
        let header = [8, 0, 0, 0, 0x55, 0x15, 0, 7];
        let echo = |proto, icmp_type| {
            let mut p = IpPacket {
                transport_header: &header,
                ..tcp(b"")
            };
            p.meta.protocol = proto;
            p.meta.icmp_type = icmp_type;
            p
        };
        assert_eq!(
            sids(&mut d, &echo(IpProtocol::ICMP, 8), None),
            vec![1, 2, 4]
        );
        // Destination unreachable has no identifier.
        assert!(sids(&mut d, &echo(IpProtocol::ICMP, 3), None).is_empty());
        // ICMPv6 echo request: `ipv4` does not admit it; packet-too-big with MTU 0x5515…
        let mut v6 = echo(IpProtocol::ICMPV6, 128);
        v6.meta.src_addr = "2001:db8::1".parse().expect("addr");
        assert_eq!(sids(&mut d, &v6, None), vec![1, 2]);
        let too_big = [2, 0, 0, 0, 0, 0, 0x04, 0xd0];
        v6.transport_header = &too_big;
        v6.meta.icmp_type = 2;
        assert_eq!(sids(&mut d, &v6, None), vec![3]);
    }

    #[test]
    fn stream_size_and_flow_age_read_the_flow() {
        let mut d = detector(
            "alert tcp any any -> any any (stream_size:server,<,10; sid:1;)\n\
             alert tcp any any -> any any (stream_size:either,>=,100; sid:2;)\n\
             alert tcp any any -> any any (flow.age:>20; sid:3;)",
        );
        let f = FlowContext {
            sent_bytes: [120, 5],
            age_us: 20_999_999,
            ..ctx(Direction::Forward, true)
        };
        assert_eq!(sids(&mut d, &tcp(b"x"), Some(&f)), vec![1, 2]);
        let f = FlowContext {
            sent_bytes: [0, 9],
            age_us: 21_000_000,
            ..f
        };
        assert_eq!(sids(&mut d, &tcp(b"x"), Some(&f)), vec![3]);
    }

    #[test]
    fn checksum_keywords_validate_the_segment() {
        let mut d = detector(
            "alert tcp any any -> any any (tcpv4-csum:invalid; sid:1;)\n\
             alert tcp any any -> any any (tcpv4-csum:valid; sid:2;)\n\
             alert tcp any any -> any any (tcpv6-csum:valid; sid:3;)",
        );
        // 10.0.0.1:40000 -> 10.0.0.2:80, ACK|PSH, payload "hi"; checksum worked out below.
        let mut h = [0u8; 20];
        h[0..2].copy_from_slice(&40000u16.to_be_bytes());
        h[2..4].copy_from_slice(&80u16.to_be_bytes());
        h[12] = 5 << 4;
        h[13] = 0x18;
        let mut p = tcp(b"hi");
        p.meta.src_addr = "10.0.0.1".parse().expect("addr");
        p.meta.dst_addr = "10.0.0.2".parse().expect("addr");
        let pseudo = crate::wire::checksum::pseudo_header(p.meta.src_addr, p.meta.dst_addr, 6, 22);
        let mut acc = crate::wire::checksum::sum(crate::wire::checksum::sum(pseudo, &h), b"hi");
        while acc >> 16 != 0 {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        h[16..18].copy_from_slice(&(!(acc as u16)).to_be_bytes());
        let good = h;
        p.transport_header = &good;
        assert_eq!(sids(&mut d, &p, None), vec![2]);
        let mut bad = good;
        bad[17] ^= 0x40;
        p.transport_header = &bad;
        assert_eq!(sids(&mut d, &p, None), vec![1]);
        // Cut by the snap length: not known, neither rule.
        p.meta.payload_len = 100;
        assert!(sids(&mut d, &p, None).is_empty());
    }

    #[test]
    fn header_buffers_match_the_packet_headers_only() {
        let mut ip4 = [0u8; 20];
        ip4[0] = 0x45;
        ip4[8] = 0x40;
        let mut tcph = [0u8; 24];
        tcph[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcph[12] = 6 << 4;
        tcph[20..24].copy_from_slice(&[2, 4, 0x05, 0xb4]);
        let mut d = detector(
            "alert tcp any any -> any any (tcp.hdr; content:\"|00 50|\"; offset:2; depth:2; sid:1;)\n\
             alert tcp any any -> any any (tcp.hdr; content:\"|02 04 05 b4|\"; endswith; sid:2;)\n\
             alert ip any any -> any any (ipv4.hdr; content:\"|40|\"; offset:8; depth:1; sid:3;)\n\
             alert ip any any -> any any (ipv6.hdr; content:\"|40|\"; sid:4;)\n\
             alert udp any any -> any any (udp.hdr; content:\"|00 50|\"; sid:5;)\n\
             alert tcp any any -> any any (content:\"|00 50|\"; sid:6;)",
        );
        // No payload: header rules still match (SYNs carry none).
        let syn = IpPacket {
            ip_header: &ip4,
            transport_header: &tcph,
            ..tcp(b"")
        };
        assert_eq!(sids(&mut d, &syn, None), vec![1, 2, 3]);
        // Without the headers (a test packet, a decoder that had none) nothing matches.
        assert!(sids(&mut d, &tcp(b"x"), None).is_empty());
    }

    #[test]
    fn midstream_flows_are_sessions_only_with_take_up_on() {
        let rules = "alert tcp any any -> any any (flow:established; content:\"GET\"; sid:1;)\n\
                     alert http any any -> any any (content:\"GET\"; sid:2;)\n\
                     alert tcp any any -> any any (content:\"GET\"; sid:3;)";
        let midstream = FlowContext {
            midstream: true,
            established: false,
            app_proto: crate::app::AppProto::Http,
            ..flow_n(1)
        };
        let run = |take_up: bool| {
            let mut d = RuleDetector::with_config(
                RuleSet::from_text(rules, &RuleVars::default()),
                RuleDetectorConfig {
                    midstream: take_up,
                    ..RuleDetectorConfig::default()
                },
            );
            sids(&mut d, &tcp(b"GET / HTTP/1.1\r\n\r\n"), Some(&midstream))
        };
        assert_eq!(run(true), vec![1, 2, 3]);
        assert_eq!(run(false), vec![3], "packet rules only");
    }

    #[test]
    fn dataset_set_matches_once_per_value_and_feeds_isset() {
        let mut d = detector(
            "alert tcp any any -> any any (ip.dst; dataset:set,seen,type ip; sid:1;)\n\
             alert tcp any any -> any any (content:\"x\"; ip.dst; dataset:isset,seen,type ip; sid:2;)",
        );
        assert_eq!(sids(&mut d, &tcp(b"a"), None), vec![1], "first time: added");
        assert!(sids(&mut d, &tcp(b"a"), None).is_empty(), "already there");
        assert_eq!(sids(&mut d, &tcp(b"x"), None), vec![2]);
        let other = IpPacket {
            meta: PacketMeta {
                dst_addr: "8.8.4.4".parse().expect("ip"),
                ..tcp(b"x").meta
            },
            ..tcp(b"x")
        };
        assert_eq!(sids(&mut d, &other, None), vec![1, 2]);
    }

    #[test]
    fn address_rules_with_packet_fields_are_asked_on_every_packet() {
        // Listed addresses and nothing else would make these IP-only (asked once per flow
        // direction); their packet conditions must keep them per packet.
        let mut d = detector(
            "alert tcp 192.168.1.10 any -> any any (seq:5; sid:1;)\n\
             alert tcp 192.168.1.10 any -> any any (ip.src; dataset:set,seen,type ip; sid:2;)",
        );
        let later = FlowContext {
            first_in_direction: false,
            ..flow_n(1)
        };
        let mut p = tcp(b"");
        p.meta.tcp_seq = 5;
        assert_eq!(sids(&mut d, &p, Some(&later)), vec![1, 2]);
    }

    #[test]
    fn midstream_flows_pass_under_the_pass_flow_policy() {
        let rules = "alert tcp any any -> any any (content:\"uid=0\"; sid:1;)";
        let set = || RuleSet::from_text(rules, &RuleVars::default());
        let midstream = FlowContext {
            midstream: true,
            ..flow_n(1)
        };
        let mut ignore = RuleDetector::new(set());
        assert_eq!(sids(&mut ignore, &tcp(b"uid=0"), Some(&midstream)), vec![1]);
        let mut pass = RuleDetector::with_config(
            set(),
            RuleDetectorConfig {
                midstream_policy: MidstreamPolicy::PassFlow,
                ..RuleDetectorConfig::default()
            },
        );
        assert!(sids(&mut pass, &tcp(b"uid=0"), Some(&midstream)).is_empty());
        assert_eq!(sids(&mut pass, &tcp(b"uid=0"), Some(&flow_n(2))), vec![1]);
        assert_eq!(pass.stats().passed_packets, 1);
    }

    #[test]
    fn flowbits_set_then_read_across_packets_and_within_one() {
        // The reader comes first in the file: ordering must still let the same packet's
        // set be seen.
        let mut d = detector(
            "alert tcp any any -> any any (msg:\"read\"; flowbits:isset,logged.in; content:\"secret\"; sid:2;)\n\
             alert tcp any any -> any any (msg:\"set\"; content:\"login\"; flowbits:set,logged.in; flowbits:noalert; sid:1;)\n\
             alert tcp any any -> any any (msg:\"not\"; flowbits:isnotset,logged.in; content:\"secret\"; sid:3;)",
        );
        let (f1, f2) = (flow_n(1), flow_n(2));
        assert_eq!(sids(&mut d, &tcp(b"secret"), Some(&f1)), vec![3]);
        assert_eq!(
            sids(&mut d, &tcp(b"login"), Some(&f1)),
            Vec::<u64>::new(),
            "noalert"
        );
        assert_eq!(sids(&mut d, &tcp(b"secret"), Some(&f1)), vec![2]);
        assert_eq!(
            sids(&mut d, &tcp(b"secret"), Some(&f2)),
            vec![3],
            "bits are per flow"
        );
        assert_eq!(
            sids(&mut d, &tcp(b"login secret"), Some(&f2)),
            vec![2],
            "same packet"
        );
        assert_eq!(
            sids(&mut d, &tcp(b"login secret"), None),
            Vec::<u64>::new(),
            "no flow"
        );
    }

    #[test]
    fn flowbits_unset_toggle_or_groups_and_the_table_cap() {
        let rules = "alert tcp any any -> any any (content:\"a\"; flowbits:set,A; flowbits:noalert; sid:1;)\n\
             alert tcp any any -> any any (content:\"b\"; flowbits:set,B; flowbits:noalert; sid:2;)\n\
             alert tcp any any -> any any (content:\"u\"; flowbits:unset,A&B; flowbits:noalert; sid:3;)\n\
             alert tcp any any -> any any (content:\"t\"; flowbits:toggle,A; flowbits:noalert; sid:4;)\n\
             alert tcp any any -> any any (content:\"?\"; flowbits:isset,A|B; sid:10;)\n\
             alert tcp any any -> any any (content:\"?\"; flowbits:isnotset,A|B; sid:11;)";
        let mut d = detector(rules);
        let f = flow_n(1);
        let probe = |d: &mut RuleDetector, p: &[u8]| {
            sids(d, &tcp(p), Some(&f));
            sids(d, &tcp(b"?"), Some(&f))
        };
        assert_eq!(probe(&mut d, b"-"), vec![11]);
        assert_eq!(probe(&mut d, b"b"), vec![10], "B alone satisfies A|B");
        assert_eq!(probe(&mut d, b"u"), vec![11], "unset both");
        assert_eq!(probe(&mut d, b"t"), vec![10], "toggle on");
        assert_eq!(probe(&mut d, b"t"), vec![11], "toggle off");
        // The flow ends: its bits go.
        sids(&mut d, &tcp(b"a"), Some(&f));
        assert_eq!(d.state.flows_with_bits(), 1);
        let rec = crate::flow::FlowRecord {
            id: 1,
            first_ts: Timestamp::from_micros(0),
            last_ts: Timestamp::from_micros(0),
            src_addr: Ipv4Addr::new(10, 0, 0, 1).into(),
            src_port: 1,
            dst_addr: Ipv4Addr::new(10, 0, 0, 2).into(),
            dst_port: 2,
            protocol: IpProtocol::TCP,
            end_reason: crate::flow::EndReason::Idle,
            stats: Default::default(),
            app_proto: AppProto::Unknown,
            app: None,
        };
        d.on_flow_end(&rec, &rec.features(), &mut Vec::new());
        assert_eq!(d.state.flows_with_bits(), 0);
        // A full table sets nothing more, and says so.
        let mut small = RuleDetector::with_config(
            RuleSet::from_text(rules, &RuleVars::default()),
            RuleDetectorConfig {
                max_flowbit_flows: 1,
                ..RuleDetectorConfig::default()
            },
        );
        sids(&mut small, &tcp(b"a"), Some(&flow_n(1)));
        sids(&mut small, &tcp(b"a"), Some(&flow_n(2)));
        assert_eq!(sids(&mut small, &tcp(b"?"), Some(&flow_n(2))), vec![11]);
        assert_eq!(small.stats().flowbit_table_drops, 1);
    }

    fn detector(rules: &str) -> RuleDetector {
        let set = RuleSet::from_text(rules, &RuleVars::default());
        assert_eq!(set.summary().skipped, 0, "{}", set.summary());
        RuleDetector::new(set)
    }

    fn sids(d: &mut RuleDetector, ip: &IpPacket<'_>, flow: Option<&FlowContext>) -> Vec<u64> {
        let mut out = Vec::new();
        d.on_packet(&PacketView::Ip(ip), flow, &mut out);
        out.iter().filter_map(|a| a.meta_u64("sid")).collect()
    }

    fn hits(rule_opts: &str, payload: &[u8]) -> bool {
        let mut d = detector(&format!(
            "alert tcp any any -> any any ({rule_opts} sid:1;)"
        ));
        !sids(&mut d, &tcp(payload), None).is_empty()
    }

    #[test]
    fn traffic_flowbits_tag_the_alerts_of_their_flow() {
        let mut d = detector(
            "alert tcp any any -> any any (content:\"moz\"; flowbits:set,traffic/id/mozilla; \
             flowbits:set,traffic/label/web; sid:1;)\n\
             alert tcp any any -> any any (content:\"x\"; sid:2;)",
        );
        let f = flow_n(9);
        let mut out = Vec::new();
        d.on_packet(&PacketView::Ip(&tcp(b"x")), Some(&f), &mut out);
        assert_eq!(out[0].meta.get("traffic"), None, "no tag set yet");
        out.clear();
        d.on_packet(&PacketView::Ip(&tcp(b"moz x")), Some(&f), &mut out);
        for a in &out {
            let eve = crate::detect::EveAlertSink::<Vec<u8>>::to_eve(a);
            assert_eq!(eve["traffic"]["id"], serde_json::json!(["mozilla"]));
            assert_eq!(eve["traffic"]["label"], serde_json::json!(["web"]));
        }
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn packet_alert_max_keeps_the_highest_priority_then_earliest_rules() {
        let rules: String = (1..=6)
            .map(|sid| {
                let prio = if sid == 5 { "priority:1; " } else { "" };
                format!("alert tcp any any -> any any (content:\"x\"; {prio}sid:{sid};)\n")
            })
            .collect();
        let set = RuleSet::from_text(&rules, &RuleVars::default());
        let config = RuleDetectorConfig {
            packet_alert_max: 3,
            ..RuleDetectorConfig::default()
        };
        let mut d = RuleDetector::with_config(set, config);
        assert_eq!(sids(&mut d, &tcp(b"x"), None), [5, 1, 2]);
        assert_eq!(d.stats().suppressed_by_alert_max, 3);
        // Within the limit, nothing changes; 0 is the default (15).
        let mut d = detector(&rules);
        assert_eq!(sids(&mut d, &tcp(b"x"), None), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn byte_reads_of_no_bytes_read_zero_as_binary_and_nothing_as_strings() {
        // As Suricata 7: a string of no digits never reads, a binary number of 0 bytes is 0.
        assert!(!hits("byte_test:0,=,0,0,string,dec;", b"0123"));
        assert!(hits("byte_test:0,!=,5,0;", b"0123"));
        assert!(!hits("byte_test:0,=,5,0;", b"0123"));
        assert!(hits("byte_jump:0,0; content:\"0\"; within:1;", b"0123"));
        assert!(hits("byte_test:1,=,48,0;", b"0123"));
        // A relative read must start inside the buffer, even of no bytes (but a jump: see
        // `a_jump_of_no_bytes_may_start_at_the_end_of_the_buffer`).
        assert!(!hits("content:\"3\"; byte_test:0,=,0,0,relative;", b"0123"));
    }

    #[test]
    fn byte_extract_and_byte_math_variables_feed_later_keywords() {
        // Length 3 at byte 0, then "abc" must sit within those 3 bytes after it.
        assert!(hits(
            "byte_extract:1,0,len; content:\"abc\"; within:len;",
            b"\x03abcd"
        ));
        assert!(!hits(
            "byte_extract:1,0,len; content:\"abc\"; within:len;",
            b"\x02abcd"
        ));
        // As a string, multiplied, as an offset.
        assert!(hits(
            "byte_extract:1,0,at,string,dec,multiplier 2; content:\"x\"; offset:at; depth:1;",
            b"2bcdx"
        ));
        // byte_math on a variable, compared by byte_test.
        assert!(hits(
            "byte_extract:1,0,a; byte_math:bytes 1,offset 1,oper +,rvalue a,result sum; byte_test:1,=,sum,2;",
            b"\x02\x03\x05"
        ));
        assert!(!hits(
            "byte_extract:1,0,a; byte_math:bytes 1,offset 1,oper *,rvalue a,result p; byte_test:1,=,p,2;",
            b"\x02\x03\x05"
        ));
        // Division by zero never matches; bytes to read taken from a variable.
        assert!(!hits(
            "byte_math:bytes 1,offset 0,oper /,rvalue 0,result q;",
            b"\x04"
        ));
        assert!(hits(
            "byte_extract:1,0,n; byte_test:n,=,0x0102,1;",
            b"\x02\x01\x02"
        ));
        // Rounding a huge extracted number up to the alignment wraps (to 0 here), as
        // unsigned arithmetic in Suricata does, instead of overflowing.
        assert!(hits(
            "byte_extract:8,0,n,align 4; isdataat:n;",
            b"\xff\xff\xff\xff\xff\xff\xff\xff"
        ));
        // isdataat at a position read from the packet.
        assert!(hits("byte_extract:1,0,n; isdataat:n;", b"\x02\x01\x02"));
        assert!(!hits("byte_extract:1,0,n; isdataat:n;", b"\x03\x01\x02"));
    }

    #[test]
    fn a_jump_before_the_buffer_lands_on_its_start() {
        assert!(hits(
            "content:\"12\"; byte_jump:0,0,relative,post_offset -10; content:\"01\"; within:2;",
            b"0123"
        ));
        assert!(!hits(
            "byte_jump:1,0,from_beginning,post_offset 4;",
            b"\x00123"
        ));
    }

    #[test]
    fn base64_decode_feeds_base64_data() {
        let rule = |opts: &str| {
            format!(
                "content:\"arg=\"; base64_decode:{opts}relative; base64_data; content:\"isatest\";"
            )
        };
        // "thisisatest\n", then a space ends the text.
        let payload = b"GET /?arg=dGhpc2lzYXRlc3QK HTTP/1.1";
        assert!(hits(&rule(""), payload));
        assert!(hits(&rule("bytes 16,"), payload));
        // 10 characters decode to "thisisa": not enough.
        assert!(!hits(&rule("bytes 10,"), payload));
        // Skipping one character misaligns the groups.
        assert!(!hits(&rule("offset 1,"), payload));
        // Nothing decodable: no match, even for a negated content.
        assert!(!hits(
            "content:\"arg=\"; base64_decode:relative; base64_data; content:!\"x\";",
            b"arg= "
        ));
        let mut out = Vec::new();
        base64_decode_lenient(b"YWJj", &mut out);
        assert_eq!(out, b"abc");
        base64_decode_lenient(b"YWI=", &mut out);
        assert_eq!(out, b"ab");
        base64_decode_lenient(b"YQ", &mut out);
        assert_eq!(out, b"a");
    }

    #[test]
    fn a_jump_of_no_bytes_may_start_at_the_end_of_the_buffer() {
        // Suricata bug 4623: the content ends the payload; the jump goes back from there.
        let rule = "content:\"|0f 54|\"; byte_jump:0,0,relative,post_offset -5; \
                    pcre:\"/^\\xe0\\x3a/R\";";
        assert!(hits(rule, b"\x7c\xe0\x3a\x01\x0f\x54"));
        // A relative read of one byte there has nothing to read.
        assert!(!hits(
            "content:\"|0f 54|\"; byte_test:1,=,0,0,relative;",
            b"\x0f\x54"
        ));
    }

    #[test]
    fn content_offset_depth() {
        assert!(hits(r#"content:"abc";"#, b"xxabcxx"));
        assert!(!hits(r#"content:"abc";"#, b"xxabxcx"));
        assert!(hits(r#"content:"abc"; offset:2;"#, b"xxabc"));
        assert!(!hits(r#"content:"abc"; offset:3;"#, b"xxabc"));
        assert!(hits(r#"content:"abc"; depth:3;"#, b"abcxx"));
        assert!(!hits(r#"content:"abc"; depth:3;"#, b"xabcx"));
        assert!(hits(r#"content:"abc"; offset:1; depth:3;"#, b"xabcx"));
    }

    #[test]
    fn startswith_endswith_bsize_isdataat() {
        assert!(hits(r#"content:"GET"; startswith;"#, b"GET /"));
        assert!(!hits(r#"content:"GET"; startswith;"#, b" GET /"));
        assert!(hits(
            r#"content:"a"; content:"bc"; distance:0; startswith;"#,
            b"xabc"
        ));
        assert!(!hits(
            r#"content:"a"; content:"bc"; distance:0; startswith;"#,
            b"xaxbc"
        ));
        assert!(hits(r#"content:".exe"; endswith;"#, b"x.exe"));
        assert!(!hits(r#"content:".exe"; endswith;"#, b"x.exe "));
        assert!(hits(r#"content:"abc"; startswith; endswith;"#, b"abc"));
        assert!(!hits(r#"content:"abc"; startswith; endswith;"#, b"abcabc"));
        assert!(hits(r#"content:!"x"; endswith;"#, b"xa"));
        assert!(!hits(r#"content:!"x"; endswith;"#, b"ax"));
        assert!(hits("bsize:3;", b"abc"));
        assert!(!hits("bsize:>3;", b"abc"));
        assert!(hits("bsize:2<>5;", b"abc"));
        assert!(hits("isdataat:2;", b"abc"));
        assert!(!hits("isdataat:3;", b"abc"));
        assert!(hits("isdataat:!3;", b"abc"));
        assert!(hits(r#"content:"a"; isdataat:2,relative;"#, b"abc"));
        assert!(!hits(r#"content:"a"; isdataat:3,relative;"#, b"abc"));
        assert!(hits(r#"content:"c"; isdataat:!1,relative;"#, b"abc"));
    }

    #[test]
    fn http_buffers_in_rules() {
        let req = b"GET /x/../a%20b HTTP/1.1\r\nHost: h\r\nCookie: id=7\r\n\r\n";
        assert!(hits(
            r#"http.header_names; content:"|0d 0a|Host|0d 0a|Cookie|0d 0a 0d 0a|"; http.uri; content:"/a b"; bsize:4; urilen:4; urilen:11,raw; http.cookie; content:"id=7"; http.request_line; content:"GET /x/"; startswith;"#,
            req
        ));
        assert!(
            !hits(r#"http.uri; content:"/x/"; "#, req),
            "normalised away"
        );
        assert!(hits(r#"http.uri.raw; content:"/x/../"; "#, req));
        assert!(hits(
            r#"content:"GET"; pcre:"/^\/a b$/U"; pcre:"/\.\./I";"#,
            req
        ));
        assert!(
            !hits(r#"content:"GET"; pcre:"/^GET/U";"#, req),
            "U reads the URI only"
        );
        assert!(!hits("urilen:>4;", req));
        let resp = b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n";
        assert!(hits(
            r#"http.stat_code; content:"404"; http.server; content:"nginx"; bsize:5;"#,
            resp
        ));
        assert!(!hits(r#"http.stat_code; content:"200";"#, resp));
        assert!(
            !hits(r#"http.method; content:"GET";"#, resp),
            "a response has no method"
        );
    }

    #[test]
    fn header_multi_buffers_match_one_line_at_a_time() {
        let req = b"GET / HTTP/1.1\r\nHost: h\r\nKey: abc\r\nX: y\r\n\r\n";
        assert!(hits(
            r#"http.request_header; content:"Key: "; startswith; bsize:8;"#,
            req
        ));
        assert!(hits(
            r#"http.request_header; content:"X: y"; startswith; endswith;"#,
            req
        ));
        // Across lines, as http.header would allow, no single instance holds both.
        assert!(hits(r#"http.header; content:"abc|0d 0a|X";"#, req));
        assert!(!hits(r#"http.request_header; content:"abc|0d 0a|X";"#, req));
        assert!(!hits(
            r#"http.request_header; content:"Host"; content:"Key"; distance:0;"#,
            req
        ));
        assert!(!hits(r#"http.response_header; content:"Host";"#, req));
        let resp = b"HTTP/1.1 200 OK\r\nDate: today\r\n\r\n";
        assert!(hits(
            r#"http.response_header; content:"Date|3a 20|";"#,
            resp
        ));
        assert!(!hits(r#"http.request_header; content:"Date";"#, resp));
    }

    #[test]
    fn snort_style_modifiers_move_a_content_into_its_buffer() {
        let req = b"GET /admin HTTP/1.1\r\nHost: h\r\nCookie: s=1\r\n\r\n";
        assert!(hits(
            r#"content:"GET"; http_method; content:"/admin"; http_uri; content:"HTTP";"#,
            req
        ));
        assert!(hits(
            r#"uricontent:"/admin"; content:"s=1"; http_cookie;"#,
            req
        ));
        assert!(!hits(r#"content:"Host"; http_uri;"#, req));
        let r = crate::rules::parse_rule(
            r#"alert tcp any any -> any any (content:"a"; http_uri; nocase; content:"b"; sid:1;)"#,
        )
        .expect("parses");
        assert_eq!(
            r.to_string(),
            r#"alert tcp any any -> any any (http.uri; content:"a"; nocase; pkt_data; content:"b"; sid:1;)"#
        );
    }

    #[test]
    fn xbits_follow_an_address_across_flows_and_expire() {
        let rules = "alert tcp any any -> any any (content:\"login\"; xbits:set,seen,track ip_src,expire 60; noalert; sid:1;)\n\
                     alert tcp any any -> any any (content:\"data\"; xbits:isset,seen,track ip_src; sid:2;)\n\
                     alert tcp any any -> any any (content:\"data\"; hostbits:isnotset,seen; sid:3;)";
        let mut d = detector(rules);
        let at = |payload: &'static [u8], secs: i64| {
            let mut p = tcp(payload);
            p.meta.ts = Timestamp::from_micros(secs * 1_000_000);
            p
        };
        // Another flow (or none) from the same source sees the bit; it expires after 60 s.
        assert_eq!(sids(&mut d, &at(b"data", 0), None), vec![3]);
        assert!(sids(&mut d, &at(b"login", 1), Some(&flow_n(1))).is_empty());
        assert_eq!(sids(&mut d, &at(b"data", 2), Some(&flow_n(2))), vec![2]);
        assert_eq!(sids(&mut d, &at(b"data", 30), None), vec![2]);
        assert_eq!(sids(&mut d, &at(b"data", 62), None), vec![3], "expired");
    }

    #[test]
    fn flowint_counts_per_flow() {
        let rules = "alert tcp any any -> any any (content:\"USER\"; flowint:tries,notset; flowint:tries,=,1; noalert; sid:1;)\n\
                     alert tcp any any -> any any (content:\"USER\"; flowint:tries,isset; flowint:tries,+,1; noalert; sid:2;)\n\
                     alert tcp any any -> any any (content:\"USER\"; flowint:tries,>=,3; sid:3;)";
        let mut d = detector(rules);
        let f = flow_n(1);
        let got: Vec<Vec<u64>> = (0..4)
            .map(|_| sids(&mut d, &tcp(b"USER x"), Some(&f)))
            .collect();
        // Packet 1: set to 1, and the isset rule (which runs after, on the same packet) adds
        // one: 2. Packet 2: 3, so the test holds; and on.
        assert_eq!(got, vec![vec![], vec![3], vec![3], vec![3]]);
        assert!(
            sids(&mut d, &tcp(b"USER x"), Some(&flow_n(2))).is_empty(),
            "per flow"
        );
    }

    #[test]
    fn byte_test_and_byte_jump() {
        // Binary, both byte orders, bitmask, negation.
        assert!(hits("byte_test:2,=,258,0;", &[1, 2, 9]));
        assert!(hits("byte_test:2,=,513,0,little;", &[1, 2, 9]));
        assert!(hits("byte_test:1,&,0x80,2;", &[0, 0, 0x81]));
        assert!(!hits("byte_test:1,!&,0x80,2;", &[0, 0, 0x81]));
        assert!(hits("byte_test:1,=,3,0,bitmask 0x0c;", &[0b1100]));
        assert!(!hits("byte_test:4,>,1,0;", &[0, 0, 0]), "does not fit");
        // Strings, relative to a content.
        assert!(hits(
            r#"content:"len="; byte_test:3,>,99,0,relative,string,dec;"#,
            b"len=120;"
        ));
        assert!(!hits(
            r#"content:"len="; byte_test:3,>,99,0,relative,string,dec;"#,
            b"len=x20;"
        ));
        assert!(hits(
            r#"content:"v="; byte_test:4,=,255,0,relative,string,hex;"#,
            b"v=0xff"
        ));
        // A length field jumped over, then content right after the skipped bytes.
        assert!(hits(
            r#"content:"T"; byte_jump:1,0,relative; content:"Z"; within:1;"#,
            b"T\x03abcZ"
        ));
        assert!(!hits(
            r#"content:"T"; byte_jump:1,0,relative; content:"Z"; within:1;"#,
            b"T\x02abcZ"
        ));
        assert!(hits(
            r#"byte_jump:1,0,multiplier 2,post_offset -1; content:"Z"; within:1;"#,
            b"\x01xZ"
        ));
        assert!(hits(
            r#"byte_jump:1,0,from_beginning; content:"Z"; within:1;"#,
            b"\x02xZ"
        ));
        assert!(hits(
            r#"byte_jump:1,0,align; content:"Z"; within:1;"#,
            b"\x02xxxxZ"
        ));
        assert!(
            !hits("byte_jump:1,0;", b"\x09ab"),
            "a jump past the end fails"
        );
    }

    #[test]
    fn dotprefix_on_an_application_buffer() {
        let mut d = detector(
            "alert dns any any -> any any (dns.query; dotprefix; content:\".example.com\"; endswith; sid:1;)",
        );
        let query = |name: &str| {
            let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
            for label in name.split('.') {
                q.push(label.len() as u8);
                q.extend_from_slice(label.as_bytes());
            }
            q.extend_from_slice(&[0, 0, 1, 0, 1]);
            q
        };
        let mut f = ctx(Direction::Forward, false);
        f.app_proto = AppProto::Dns;
        let udp = |payload: &[u8]| {
            let mut m = meta(IpProtocol::UDP, 40000, 53, 0, 0);
            m.payload_len = payload.len() as u32;
            (m, payload.to_vec())
        };
        for (name, want) in [
            ("example.com", true),
            ("www.example.com", true),
            ("badexample.com", false),
            ("example.com.evil", false),
        ] {
            let (m, payload) = udp(&query(name));
            let ip = IpPacket {
                meta: m,
                payload: &payload,
                l2: L2Info::default(),
                transport_error: None,
                ip_header: &[],
                transport_header: &[],
            };
            assert_eq!(!sids(&mut d, &ip, Some(&f)).is_empty(), want, "{name}");
        }
    }

    #[test]
    fn content_distance_within_and_backtracking() {
        assert!(hits(r#"content:"ab"; content:"cd"; distance:0;"#, b"abcd"));
        assert!(hits(
            r#"content:"ab"; content:"cd"; distance:2;"#,
            b"abxxcd"
        ));
        assert!(!hits(
            r#"content:"ab"; content:"cd"; distance:3;"#,
            b"abxxcd"
        ));
        assert!(hits(r#"content:"ab"; content:"cd"; within:2;"#, b"abcd"));
        assert!(!hits(r#"content:"ab"; content:"cd"; within:3;"#, b"abxxcd"));
        // The first "ab" has no "cd" right after it; the second does (backtracking).
        assert!(hits(
            r#"content:"ab"; content:"cd"; within:2;"#,
            b"ab--abcd"
        ));
        // Negative distance looks back.
        assert!(hits(
            r#"content:"cd"; content:"bc"; distance:-3; within:2;"#,
            b"abcd"
        ));
    }

    #[test]
    fn content_negation_and_nocase() {
        assert!(hits(r#"content:"GET"; content:!"evil";"#, b"GET /good"));
        assert!(!hits(r#"content:"GET"; content:!"evil";"#, b"GET /evil"));
        assert!(hits(
            r#"content:"GET"; content:!"evil"; distance:0; within:4;"#,
            b"GET /xx evil"
        ));
        assert!(!hits(r#"content:"get";"#, b"GET /"));
        assert!(hits(r#"content:"get"; nocase;"#, b"GET /"));
        // The prefilter folds case in its anchors; verification must reject `eVIL` for sid 1.
        let mut d = detector("alert tcp any any -> any any (content:\"Evil\"; sid:1;)\nalert tcp any any -> any any (content:\"EVIL\"; nocase; sid:2;)");
        assert_eq!(sids(&mut d, &tcp(b"an eVIL thing"), None), vec![2]);
        assert_eq!(sids(&mut d, &tcp(b"an Evil thing"), None), vec![1, 2]);
        assert!(hits(r#"content:"a|00|b";"#, b"xa\0b"));
    }

    #[test]
    fn pcre_and_dsize() {
        assert!(hits(r#"pcre:"/^GET\s+\/admin/i";"#, b"get   /ADMIN"));
        assert!(!hits(r#"pcre:"/^GET\s+\/admin/";"#, b"xGET /admin"));
        assert!(hits(
            r#"content:"user="; pcre:"/^[a-z]+\;/R";"#,
            b"user=root;"
        ));
        assert!(!hits(
            r#"content:"user="; pcre:"/^[a-z]+\;/R";"#,
            b"user=1root;"
        ));
        assert!(hits(r#"pcre:!"/evil/";"#, b"good"));
        assert!(hits("dsize:>3;", b"abcd"));
        assert!(!hits("dsize:>3;", b"abc"));
        assert!(hits("dsize:2<>5;", b"abc"));
    }

    #[test]
    fn flags_modifiers() {
        let flags = |spec: &str, f: u8| {
            let mut d = detector(&format!(
                "alert tcp any any -> any any (flags:{spec}; sid:1;)"
            ));
            let mut ip = tcp(b"");
            ip.meta.tcp_flags = TcpFlags(f);
            !sids(&mut d, &ip, None).is_empty()
        };
        assert!(flags("S", TcpFlags::SYN));
        assert!(!flags("S", TcpFlags::SYN | TcpFlags::ACK));
        assert!(flags("S+", TcpFlags::SYN | TcpFlags::ACK));
        assert!(flags("*SF", TcpFlags::FIN));
        assert!(!flags("*SF", TcpFlags::ACK));
        assert!(flags("!SA", TcpFlags::SYN));
        assert!(!flags("!SA", TcpFlags::SYN | TcpFlags::ACK));
        assert!(flags("S,CE", TcpFlags::SYN | 0xC0));
        assert!(flags("0", 0));
        assert!(!flags("0", TcpFlags::ACK));
    }

    #[test]
    fn header_direction_ports_and_ttl() {
        let mut d = detector(
            "alert tcp $HOME_NET any -> $EXTERNAL_NET 80 (sid:1;)\n\
             alert tcp $EXTERNAL_NET 80 -> $HOME_NET any (sid:2;)\n\
             alert tcp $EXTERNAL_NET 80 <> $HOME_NET any (sid:3;)\n\
             alert udp any any -> any any (sid:4;)\n\
             alert ip any any -> any any (ttl:64; sid:5;)\n\
             alert tcp any any -> any 443 (sid:6;)\n\
             alert tcp any any -> any any (ip_proto:6; sid:7;)",
        );
        assert_eq!(sids(&mut d, &tcp(b"x"), None), vec![1, 3, 5, 7]);
    }

    #[test]
    fn pkthdr_decode_event_rules_match_packets_with_the_event() {
        use crate::decode::DecodeEvents;
        let mut d = detector(
            "alert pkthdr any any -> any any (decode-event:ipv6.exthdr_useless_fh; sid:1;)\n\
             alert pkthdr any any -> any any (decode-event:ipv6.exthdr_useless_fh; \
             decode-event:ipv6.exthdr_dupl_fh; sid:2;)",
        );
        let mut ip = tcp(b"");
        assert!(sids(&mut d, &ip, None).is_empty());
        ip.meta.events = DecodeEvents::IPV6_EXTHDR_USELESS_FH;
        assert_eq!(sids(&mut d, &ip, None), vec![1]);
        ip.meta.events.insert(DecodeEvents::IPV6_EXTHDR_DUPL_FH);
        assert_eq!(sids(&mut d, &ip, None), vec![1, 2]);
        // An event the decoder does not raise would never match: the rule is skipped, named.
        let set = RuleSet::from_text(
            "alert pkthdr any any -> any any (decode-event:ipv4.trunc_pkt; sid:3;)",
            &RuleVars::default(),
        );
        assert_eq!(set.summary().skipped, 1);
        assert_eq!(set.summary().by_keyword.get("decode-event"), Some(&1));
    }

    #[test]
    fn icmp_type_code_and_ports_ignored() {
        let mut d = detector(
            "alert icmp any any -> any 80 (itype:3; icode:3; sid:1;)\nalert icmp any any -> any any (itype:8; sid:2;)",
        );
        let mut m = meta(IpProtocol::ICMP, 3, 3, 0, 0);
        (m.icmp_type, m.icmp_code) = (3, 3);
        let ip = IpPacket {
            meta: m,
            payload: b"",
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        assert_eq!(sids(&mut d, &ip, None), vec![1]);
        // Echo request: identifier 0x1234 in the ports, type 8 still matches `itype:8`.
        let mut m = meta(IpProtocol::ICMP, 0x1234, 0x1234, 0, 0);
        m.icmp_type = 8;
        let ip = IpPacket {
            meta: m,
            payload: b"",
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        assert_eq!(sids(&mut d, &ip, None), vec![2]);
        // A TCP packet never matches itype, whatever its ports.
        let ip = IpPacket {
            meta: meta(IpProtocol::TCP, 8, 0, 0, 0),
            payload: b"",
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        assert!(sids(&mut d, &ip, None).is_empty());
    }

    #[test]
    fn flow_keywords() {
        let mut d = detector(
            "alert tcp any any -> any any (flow:to_server,established; sid:1;)\n\
             alert tcp any any -> any any (flow:to_client; sid:2;)\n\
             alert tcp any any -> any any (flow:not_established; sid:3;)\n\
             alert tcp any any -> any any (flow:stateless; sid:4;)\n\
             alert tcp any any -> any any (flow:from_client; sid:5;)",
        );
        let ip = tcp(b"x");
        assert_eq!(
            sids(&mut d, &ip, Some(&ctx(Direction::Forward, true))),
            vec![1, 4, 5]
        );
        assert_eq!(
            sids(&mut d, &ip, Some(&ctx(Direction::Backward, false))),
            vec![2, 3, 4]
        );
        assert_eq!(sids(&mut d, &ip, None), vec![3, 4]);
    }

    fn at(secs: i64, payload: &[u8]) -> IpPacket<'_> {
        let mut ip = tcp(payload);
        ip.meta.ts = Timestamp::from_micros(secs * 1_000_000);
        ip
    }

    fn count_over(rule: &str, times: &[i64]) -> usize {
        let mut d = detector(rule);
        times
            .iter()
            .map(|&t| sids(&mut d, &at(t, b"x"), None).len())
            .sum()
    }

    #[test]
    fn thresholds() {
        let limit = "alert tcp any any -> any any (threshold:type limit, track by_src, count 2, seconds 10; sid:1;)";
        assert_eq!(count_over(limit, &[0, 1, 2, 3, 11, 12, 13]), 4);
        let every = "alert tcp any any -> any any (threshold:type threshold, track by_src, count 3, seconds 60; sid:1;)";
        assert_eq!(count_over(every, &[0, 1, 2, 3, 4, 5, 6]), 2);
        let both = "alert tcp any any -> any any (threshold:type both, track by_dst, count 3, seconds 10; sid:1;)";
        assert_eq!(count_over(both, &[0, 1, 2, 3, 4, 20, 21, 22]), 2);
        let df = "alert tcp any any -> any any (detection_filter:track by_src, count 2, seconds 10; sid:1;)";
        assert_eq!(count_over(df, &[0, 1, 2, 3, 30]), 2);
    }

    #[test]
    fn rate_table_is_bounded() {
        let set = RuleSet::from_text(
            "alert tcp any any -> any any (threshold:type limit, track by_src, count 1, seconds 100; sid:1;)",
            &RuleVars::default(),
        );
        let mut d = RuleDetector::with_config(
            set,
            RuleDetectorConfig {
                max_rate_entries: 2,
                ..RuleDetectorConfig::default()
            },
        );
        let mut out = Vec::new();
        for i in 0..5u8 {
            let mut ip = tcp(b"x");
            ip.meta.src_addr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, i));
            d.on_packet(&PacketView::Ip(&ip), None, &mut out);
        }
        assert_eq!(out.len(), 2);
        assert_eq!(d.stats().rate_table_drops, 3);
        assert!(d.rate.len() <= 2);
    }

    #[test]
    fn pass_suppresses_and_passes_the_flow() {
        let mut d = detector(
            "alert tcp any any -> any any (content:\"x\"; sid:1;)\n\
             pass tcp any any -> any 80 (content:\"ok\"; sid:2;)\n\
             pass tcp any any -> any 80 (content:\"loud\"; alert; sid:3;)\n\
             drop tcp any any -> any any (content:\"quiet\"; noalert; sid:4;)",
        );
        let f = ctx(Direction::Forward, true);
        assert_eq!(sids(&mut d, &tcp(b"x quiet"), Some(&f)), vec![1]);
        assert_eq!(sids(&mut d, &tcp(b"x ok"), None), Vec::<u64>::new());
        assert_eq!(sids(&mut d, &tcp(b"x loud"), Some(&f)), vec![3]);
        // Flow 1 is now passed.
        assert_eq!(sids(&mut d, &tcp(b"x"), Some(&f)), Vec::<u64>::new());
        assert_eq!(d.stats().passed_packets, 1);
        assert_eq!(sids(&mut d, &tcp(b"x"), None), vec![1]);
    }

    #[test]
    fn alert_fields() {
        let mut d = detector("alert tcp any any -> any any (msg:\"M\"; content:\"x\"; classtype:trojan-activity; sid:7; rev:2;)");
        let mut out = Vec::new();
        let f = ctx(Direction::Forward, true);
        d.on_packet(&PacketView::Ip(&at(5, b"x")), Some(&f), &mut out);
        let a = &out[0];
        assert_eq!(a.attack_type, "trojan-activity");
        assert_eq!(a.severity, crate::detect::Severity::Critical);
        assert_eq!(a.flow_id, Some(1));
        assert_eq!((a.src_port, a.dst_port), (Some(40000), Some(80)));
        assert_eq!(a.protocol.as_deref(), Some("TCP"));
        assert_eq!(a.meta_u64("gid"), Some(1));
        assert_eq!(a.meta_u64("rev"), Some(2));
        assert_eq!(a.detector(), Some("rules"));
        assert_eq!(a.timestamp, Timestamp::from_micros(5_000_000));
        assert_eq!(a.description, "M [1:7:2]");
    }

    #[test]
    fn prefilter_only_evaluates_candidates() {
        let mut text = String::new();
        for i in 0..1000 {
            text.push_str(&format!(
                "alert tcp any any -> any any (content:\"pattern-{i:04}\"; sid:{};)\n",
                i + 1
            ));
        }
        text.push_str("alert udp any any -> any 53 (sid:5000;)\n");
        let mut d = detector(&text);
        assert_eq!(sids(&mut d, &tcp(b"xx pattern-0042 yy"), None), vec![43]);
        assert_eq!(d.stats().candidates, 1);
        assert!(sids(&mut d, &tcp(b"nothing here"), None).is_empty());
        assert_eq!(d.stats().candidates, 1);
        // A case-sensitive fast pattern present only in another case is no candidate; a
        // content-less rule of another protocol is none either.
        assert!(sids(&mut d, &tcp(b"xx PATTERN-0042 yy"), None).is_empty());
        assert_eq!(d.stats().candidates, 1);
    }

    #[test]
    fn candidates_merge_in_rule_order() {
        let mut d = detector(
            "alert tcp any any -> any 80 (content:\"zz\"; sid:1;)\n\
             alert tcp any any -> any any (sid:2;)\n\
             alert ip any any -> any 80 (sid:3;)\n\
             alert tcp any any -> any any (content:\"Abcd\"; nocase; sid:4;)\n\
             alert tcp any any -> any 81 (sid:5;)\n\
             alert ip any any -> any any (content:\"x\"; sid:6;)\n\
             alert udp any any -> any 80 (sid:7;)",
        );
        assert_eq!(sids(&mut d, &tcp(b"x abcd zz"), None), vec![1, 2, 3, 4, 6]);
        assert_eq!(d.stats().candidates, 5);
        let mut icmp = tcp(b"ABCD");
        icmp.meta.protocol = IpProtocol::ICMP;
        // Without ports, port-grouped `ip` rules are candidates too.
        assert_eq!(sids(&mut d, &icmp, None), vec![3]);
    }

    #[test]
    fn content_groups_by_direction_and_app_protocol() {
        let mut d = detector(
            "alert tcp any any -> any any (flow:to_server; content:\"%27\"; sid:1;)\n\
             alert http any any -> any any (content:\"union\"; sid:2;)\n\
             alert tcp any any -> any any (flow:to_client; content:\"ELF!\"; sid:3;)\n\
             alert tcp any any -> any any (content:\"GET \"; depth:4; sid:4;)\n\
             alert udp any any -> any any (content:\"union\"; sid:5;)",
        );
        let p = tcp(b"GET /?id=%27union ELF!");
        let mut http = ctx(Direction::Forward, true);
        http.app_proto = AppProto::Http;
        assert_eq!(sids(&mut d, &p, Some(&http)), vec![1, 2, 4]);
        assert_eq!(d.stats().candidates, 3, "sid 3 and 5 are in no group here");
        let back = ctx(Direction::Backward, true);
        assert_eq!(sids(&mut d, &p, Some(&back)), vec![3, 4]);
        assert_eq!(d.stats().candidates, 5);
        assert_eq!(sids(&mut d, &p, None), vec![4]);
        assert_eq!(d.stats().candidates, 6);
        // `GET ` bounded to the first 4 bytes is searched only there.
        assert!(sids(&mut d, &tcp(b"x GET /"), None).is_empty());
        assert_eq!(d.stats().candidates, 6);
        let pf = &d.rule_set().prefilter;
        let g = pf.group(IpProtocol::TCP, None);
        assert_eq!(
            (
                g.anywhere.literals.len(),
                g.prefix.literals.len(),
                g.prefix_len
            ),
            (0, 1, 4)
        );
    }

    fn evaluate_all(set: &RuleSet, ip: &IpPacket<'_>, flow: Option<&FlowContext>) -> Vec<u64> {
        let mut buffers = AppBuffers::of_packet(ip, Vec::new());
        let mut limit = false;
        set.rules
            .iter()
            .filter(|r| rule_matches(r, ip, flow, &mut buffers, u32::MAX, &mut limit))
            .map(|r| r.sid)
            .collect()
    }

    proptest::proptest! {
        /// The prefilter (content groups, prefix literals, port groups) never changes which
        /// rules match: the detector raises exactly the rules that match when all are
        /// evaluated.
        #[test]
        fn prefilter_is_exact(
            rules in proptest::collection::vec(
                (0usize..5, 0usize..3, "[ab]{1,5}", proptest::option::of(0u32..4),
                 proptest::option::of(1u32..8), proptest::bool::ANY, proptest::option::of(0usize..3)),
                1..12),
            payload in "[abAB]{0,24}",
            proto in 0usize..3,
            dir in 0usize..3,
            app in 0usize..AppProto::ALL.len(),
        ) {
            let mut text = String::new();
            for (i, (hdr, flow, pat, offset, depth, nocase, second)) in rules.iter().enumerate() {
                let hdr = ["tcp", "udp", "ip", "http", "tls"][*hdr];
                let flow = ["", "flow:to_server; ", "flow:to_client; "][*flow];
                let mut opts = format!("content:\"{pat}\"; ");
                if let Some(o) = offset { opts += &format!("offset:{o}; "); }
                if let Some(d) = depth { opts += &format!("depth:{}; ", d + pat.len() as u32); }
                if *nocase { opts += "nocase; "; }
                match second {
                    Some(0) => opts += "content:\"ab\"; distance:0; within:3; ",
                    Some(1) => opts += "content:\"bab\"; distance:1; ",
                    Some(_) => opts += "content:!\"aaa\"; ",
                    None => {}
                }
                text += &format!("alert {hdr} any any -> any any ({flow}{opts}sid:{};)\n", i + 1);
            }
            let set = RuleSet::from_text(&text, &RuleVars::default());
            proptest::prop_assert_eq!(set.summary().skipped, 0, "{}", text);
            let mut ip = tcp(payload.as_bytes());
            ip.meta.protocol = [IpProtocol::TCP, IpProtocol::UDP, IpProtocol::ICMP][proto];
            let mut c = ctx([Direction::Forward, Direction::Backward, Direction::Forward][dir], true);
            c.app_proto = AppProto::ALL[app];
            let flow = (dir < 2).then_some(&c);
            let want = evaluate_all(&set, &ip, flow);
            let mut d = RuleDetector::new(set);
            proptest::prop_assert_eq!(sids(&mut d, &ip, flow), want, "{}", text);
        }
    }

    #[test]
    fn arp_is_ignored() {
        let mut d = detector("alert ip any any -> any any (sid:1;)");
        let arp = crate::decode::ArpInfo {
            operation: 1,
            sender_mac: [0; 6],
            sender_ip: Ipv4Addr::LOCALHOST,
            target_mac: [0; 6],
            target_ip: Ipv4Addr::LOCALHOST,
        };
        let l2 = L2Info::default();
        let mut out = Vec::new();
        d.on_packet(
            &PacketView::Arp {
                ts: Timestamp::default(),
                arp: &arp,
                l2: &l2,
            },
            None,
            &mut out,
        );
        assert!(out.is_empty());
    }
}
