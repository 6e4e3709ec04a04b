//! Per-packet matching: the prefilter (one automaton + protocol/port groups), full rule
//! evaluation, rate state, and the [`RuleDetector`].
//!
//! # Direction semantics
//!
//! - Header `->`: the packet's source must match the rule's source address/ports and its
//!   destination the rule's destination. `<>`: either orientation.
//! - Ports are compared only for protocols with ports (TCP, UDP, SCTP); for ICMP and other
//!   protocols the header ports are ignored, as in Suricata.
//! - `flow:to_server` / `from_client` = the packet travels in its flow's
//!   [`Direction::Forward`](crate::flow::Direction) (sent by the side that opened the flow; the
//!   flow table flips flows whose first packet is a SYN+ACK, so forward is the client).
//!   `to_client` / `from_server` = [`Direction::Backward`](crate::flow::Direction). A packet
//!   without a flow context matches neither.
//! - `flow:established` = the flow table saw the TCP handshake ([`FlowContext::established`]);
//!   non-TCP flows are never established. `not_established` is the opposite; `stateless`
//!   matches always.
//! - `pass`: a packet matched by a `pass` rule raises no alert from other rules, and its
//!   whole flow is passed from then on (Suricata's behaviour); the `pass` rule itself alerts
//!   only with the `alert` keyword. `noalert` rules match but never alert.
//! - `itype`/`icode` read the ICMP type and code that the decoder puts in the port fields for
//!   non-echo messages; echo request/reply carry their identifier there instead, so those
//!   two keywords cannot see echo messages' type (see the work-item notes).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::ast::{Action, ThresholdType, Track};
use super::compile::{CompiledRule, PayloadStep, ProtoClass};
use super::{RuleSet, RuleSetSummary, Threshold};
use crate::decode::{IpPacket, IpProtocol};
use crate::detect::{Alert, AlertIdGen, AlertStatus, Detector, PacketView};
use crate::features::FeatureVector;
use crate::flow::{FlowContext, FlowRecord};

/// Content-less rules of one protocol class, grouped by destination port.
#[derive(Debug, Clone, Default)]
struct ProtoGroup {
    by_dst_port: HashMap<u16, Vec<u32>>,
    any_port: Vec<u32>,
}

/// Picks candidate rules for a packet.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    /// One automaton over every distinct fast pattern, ASCII case-insensitive (hits are
    /// verified exactly by full evaluation).
    ac: Option<AhoCorasick>,
    /// Pattern id → rules whose fast pattern it is.
    pattern_rules: Vec<Vec<u32>>,
    /// Rules without a fast pattern, by protocol class (index = `ProtoClass as usize`).
    groups: [ProtoGroup; 5],
}

fn class_index(c: ProtoClass) -> usize {
    match c {
        ProtoClass::Ip => 0,
        ProtoClass::Tcp => 1,
        ProtoClass::Udp => 2,
        ProtoClass::Icmp => 3,
        ProtoClass::Icmpv6 => 4,
    }
}

impl Prefilter {
    pub(crate) fn build(rules: &[CompiledRule]) -> Prefilter {
        let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut pattern_rules: Vec<Vec<u32>> = Vec::new();
        let mut groups: [ProtoGroup; 5] = Default::default();
        for (i, r) in rules.iter().enumerate() {
            let idx = i as u32;
            let fast = r.fast_pattern.and_then(|s| match &r.steps[s] {
                PayloadStep::Content(c) => Some(&c.spec.pattern),
                PayloadStep::Pcre(_) => None,
            });
            match fast {
                Some(p) => {
                    let key = p.to_ascii_lowercase();
                    let id = *ids.entry(key.clone()).or_insert_with(|| {
                        patterns.push(key);
                        pattern_rules.push(Vec::new());
                        patterns.len() - 1
                    });
                    pattern_rules[id].push(idx);
                }
                None => {
                    let g = &mut groups[class_index(r.proto)];
                    match r.dst_ports.single() {
                        Some(p) if !r.bidirectional => {
                            g.by_dst_port.entry(p).or_default().push(idx)
                        }
                        _ => g.any_port.push(idx),
                    }
                }
            }
        }
        let ac = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
                .or_else(|_| {
                    // A DFA over very many patterns can exceed its size limit; let the crate
                    // pick (contiguous NFA), which is still one pass over the payload.
                    AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .match_kind(MatchKind::Standard)
                        .build(&patterns)
                })
                .ok()
        };
        Prefilter {
            ac,
            pattern_rules,
            groups,
        }
    }
}

/// Tuning for a [`RuleDetector`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDetectorConfig {
    /// Most threshold/detection_filter entries kept (by rule and tracked address).
    pub max_rate_entries: usize,
    /// Most passed flows remembered.
    pub max_passed_flows: usize,
    /// Most content-match attempts per rule per packet (bounds backtracking).
    pub max_match_steps: u32,
}

impl Default for RuleDetectorConfig {
    fn default() -> Self {
        RuleDetectorConfig {
            max_rate_entries: 65_536,
            max_passed_flows: 65_536,
            max_match_steps: 4_096,
        }
    }
}

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
    /// Matches not tracked (and not alerted) because the rate table was full.
    pub rate_table_drops: u64,
    /// Flows not remembered as passed because the pass table was full.
    pub pass_table_drops: u64,
    /// Rule evaluations that hit the backtracking bound (treated as no match).
    pub step_limit_hits: u64,
}

#[derive(Debug, Clone, Copy)]
struct RateEntry {
    start_us: i64,
    window_us: i64,
    count: u32,
}

/// (rule index, 0 = threshold / 1 = detection_filter, tracked addresses).
type RateKey = (u32, u8, IpAddr, IpAddr);

/// Runs a [`RuleSet`] on every packet; see the module docs for the semantics.
///
/// Deterministic: the same packets give the same alerts (ids included) in the same order.
/// All state (rate counters, passed flows) lives in bounded tables; the scratch buffers are
/// allocated once, so a packet that fires nothing allocates nothing.
#[derive(Debug)]
pub struct RuleDetector {
    set: RuleSet,
    config: RuleDetectorConfig,
    ids: AlertIdGen,
    stats: RuleStats,
    rate: HashMap<RateKey, RateEntry>,
    passed: HashSet<u64>,
    candidates: Vec<u32>,
    matched: Vec<u32>,
    rule_mark: Vec<u32>,
    pattern_mark: Vec<u32>,
    generation: u32,
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
        let p = set.prefilter.pattern_rules.len();
        RuleDetector {
            config,
            ids: AlertIdGen::new(NAME),
            stats: RuleStats::default(),
            rate: HashMap::new(),
            passed: HashSet::new(),
            candidates: Vec::with_capacity(n),
            matched: Vec::with_capacity(n),
            rule_mark: vec![0; n],
            pattern_mark: vec![0; p],
            generation: 0,
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
        self.stats
    }

    fn next_generation(&mut self) -> u32 {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.rule_mark.iter_mut().for_each(|m| *m = 0);
            self.pattern_mark.iter_mut().for_each(|m| *m = 0);
            self.generation = 1;
        }
        self.generation
    }

    /// Fills `self.candidates` (sorted, distinct) for one packet.
    fn gather(&mut self, ip: &IpPacket<'_>) {
        let gen = self.next_generation();
        self.candidates.clear();
        let pf = &self.set.prefilter;
        if let (Some(ac), false) = (&pf.ac, ip.payload.is_empty()) {
            for m in ac.find_overlapping_iter(ip.payload) {
                let pid = m.pattern().as_usize();
                if self.pattern_mark[pid] == gen {
                    continue;
                }
                self.pattern_mark[pid] = gen;
                for &r in &pf.pattern_rules[pid] {
                    if self.rule_mark[r as usize] != gen {
                        self.rule_mark[r as usize] = gen;
                        self.candidates.push(r);
                    }
                }
            }
        }
        let proto = ip.meta.protocol;
        let dport = ip.meta.dst_port;
        for class in [
            ProtoClass::Ip,
            ProtoClass::Tcp,
            ProtoClass::Udp,
            ProtoClass::Icmp,
            ProtoClass::Icmpv6,
        ] {
            if !class.admits(proto) {
                continue;
            }
            let g = &pf.groups[class_index(class)];
            let by_port = if proto.has_ports() {
                g.by_dst_port.get(&dport).map(Vec::as_slice)
            } else {
                None
            };
            for &r in g.any_port.iter().chain(by_port.unwrap_or(&[])) {
                if self.rule_mark[r as usize] != gen {
                    self.rule_mark[r as usize] = gen;
                    self.candidates.push(r);
                }
            }
            // Without ports every port-grouped rule is a candidate (ports are not compared).
            if !proto.has_ports() {
                for rules in g.by_dst_port.values() {
                    for &r in rules {
                        if self.rule_mark[r as usize] != gen {
                            self.rule_mark[r as usize] = gen;
                            self.candidates.push(r);
                        }
                    }
                }
            }
        }
        self.candidates.sort_unstable();
    }

    /// Whether a rate-limited rule may alert now.
    fn rate_allows(&mut self, key: RateKey, t: &Threshold, now_us: i64) -> bool {
        let window_us = i64::from(t.seconds).saturating_mul(1_000_000);
        if !self.rate.contains_key(&key) && self.rate.len() >= self.config.max_rate_entries {
            self.rate
                .retain(|_, e| now_us.saturating_sub(e.start_us) <= e.window_us);
            if self.rate.len() >= self.config.max_rate_entries {
                self.stats.rate_table_drops += 1;
                return false;
            }
        }
        let e = self.rate.entry(key).or_insert(RateEntry {
            start_us: now_us,
            window_us,
            count: 0,
        });
        if now_us.saturating_sub(e.start_us) > e.window_us || now_us < e.start_us {
            e.start_us = now_us;
            e.count = 0;
        }
        e.count = e.count.saturating_add(1);
        match t.kind {
            Some(ThresholdType::Limit) => e.count <= t.count,
            Some(ThresholdType::Threshold) => {
                if e.count >= t.count {
                    e.count = 0;
                    true
                } else {
                    false
                }
            }
            Some(ThresholdType::Both) => e.count == t.count,
            // detection_filter: every match after the first `count` in the window.
            None => e.count > t.count,
        }
    }

    fn make_alert(
        ids: &mut AlertIdGen,
        r: &CompiledRule,
        ip: &IpPacket<'_>,
        flow: Option<&FlowContext>,
    ) -> Alert {
        let m = &ip.meta;
        let mut meta = serde_json::Map::new();
        meta.insert("detector".into(), NAME.into());
        meta.insert("sid".into(), r.sid.into());
        meta.insert("rev".into(), r.rev.into());
        meta.insert("gid".into(), r.gid.into());
        meta.insert("msg".into(), r.msg.clone().into());
        meta.insert("priority".into(), r.priority.into());
        meta.insert("action".into(), r.action.as_str().into());
        if let Some(ct) = &r.classtype {
            meta.insert("classtype".into(), ct.clone().into());
        }
        let has_ports = m.protocol.has_ports();
        let description = if r.msg.is_empty() {
            format!("rule {}:{}:{} matched", r.gid, r.sid, r.rev)
        } else {
            format!("{} [{}:{}:{}]", r.msg, r.gid, r.sid, r.rev)
        };
        Alert {
            id: ids.next_id(m.ts),
            timestamp: m.ts,
            attack_type: r.classtype.clone().unwrap_or_else(|| "Rule_Match".into()),
            severity: r.severity,
            status: AlertStatus::New,
            src_ip: Some(m.src_addr),
            dst_ip: Some(m.dst_addr),
            src_port: has_ports.then_some(m.src_port),
            dst_port: has_ports.then_some(m.dst_port),
            protocol: Some(m.protocol.name().into_owned()),
            score: match r.priority {
                1 => 1.0,
                2 => 0.75,
                _ => 0.5,
            },
            description,
            tags: vec!["rule".into()],
            flow_id: flow.map(|f| f.flow_id),
            meta,
        }
    }
}

/// Whether the rule's header, non-payload options and payload steps all match.
fn rule_matches(
    r: &CompiledRule,
    ip: &IpPacket<'_>,
    flow: Option<&FlowContext>,
    max_steps: u32,
    limit_hit: &mut bool,
) -> bool {
    let m = &ip.meta;
    if !r.proto.admits(m.protocol) {
        return false;
    }
    let ports = m.protocol.has_ports();
    let fwd = r.src.matches(m.src_addr)
        && r.dst.matches(m.dst_addr)
        && (!ports || (r.src_ports.matches(m.src_port) && r.dst_ports.matches(m.dst_port)));
    let header = fwd
        || (r.bidirectional
            && r.src.matches(m.dst_addr)
            && r.dst.matches(m.src_addr)
            && (!ports || (r.src_ports.matches(m.dst_port) && r.dst_ports.matches(m.src_port))));
    if !header {
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
    let dsize = ip.payload.len() as u64;
    if !r.dsize.iter().all(|c| c.matches(dsize)) {
        return false;
    }
    if !r.itype.is_empty() || !r.icode.is_empty() {
        let is_icmp = m.protocol == IpProtocol::ICMP || m.protocol == IpProtocol::ICMPV6;
        if !is_icmp || m.src_port > 255 || m.dst_port > 255 {
            return false;
        }
        if !r.itype.iter().all(|c| c.matches(u64::from(m.src_port)))
            || !r.icode.iter().all(|c| c.matches(u64::from(m.dst_port)))
        {
            return false;
        }
    }
    if r.steps.is_empty() {
        return true;
    }
    let mut budget = max_steps;
    let ok = eval_steps(&r.steps, ip.payload, 0, 0, &mut budget);
    if budget == 0 && !ok {
        *limit_hit = true;
    }
    ok
}

/// Evaluates payload steps from `i`, with the previous match ending at `prev_end`,
/// backtracking over earlier content occurrences as Suricata does.
pub(crate) fn eval_steps(
    steps: &[PayloadStep],
    payload: &[u8],
    i: usize,
    prev_end: usize,
    budget: &mut u32,
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
            let (start, end) = if s.is_relative() {
                let base = prev_end as i64 + i64::from(s.distance.unwrap_or(0));
                let end = match s.within {
                    Some(w) => base + i64::from(w),
                    None => len,
                };
                (base.max(0), end.min(len))
            } else {
                let start = i64::from(s.offset.unwrap_or(0));
                let end = match s.depth {
                    Some(d) => start + i64::from(d),
                    None => len,
                };
                (start, end.min(len))
            };
            if end - start < plen {
                // The pattern cannot fit: a positive content fails, a negated one holds.
                return s.negated && eval_steps(steps, payload, i + 1, prev_end, budget);
            }
            let window = &payload[start as usize..end as usize];
            if s.negated {
                return c.find(window).is_none()
                    && eval_steps(steps, payload, i + 1, prev_end, budget);
            }
            let mut from = 0usize;
            while from < window.len() {
                let Some(k) = c.find(&window[from..]) else {
                    return false;
                };
                let m_end = start as usize + from + k + s.pattern.len();
                if eval_steps(steps, payload, i + 1, m_end, budget) {
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
        PayloadStep::Pcre(p) => {
            let start = if p.relative {
                prev_end.min(payload.len())
            } else {
                0
            };
            let hay = &payload[start..];
            if p.negated {
                return !p.regex.is_match(hay)
                    && eval_steps(steps, payload, i + 1, prev_end, budget);
            }
            match p.regex.find(hay) {
                Some(m) => eval_steps(steps, payload, i + 1, start + m.end(), budget),
                None => false,
            }
        }
    }
}

fn step_is_relative(s: &PayloadStep) -> bool {
    match s {
        PayloadStep::Content(c) => c.spec.is_relative(),
        PayloadStep::Pcre(p) => p.relative,
    }
}

fn track_key(track: Track, ip: &IpPacket<'_>) -> (IpAddr, IpAddr) {
    let none = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    match track {
        Track::BySrc => (ip.meta.src_addr, none),
        Track::ByDst => (ip.meta.dst_addr, none),
        Track::ByRule => (none, none),
        Track::ByBoth => (ip.meta.src_addr, ip.meta.dst_addr),
    }
}

impl Detector for RuleDetector {
    fn name(&self) -> &str {
        NAME
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
        if let Some(f) = flow {
            if self.passed.contains(&f.flow_id) {
                self.stats.passed_packets += 1;
                return;
            }
        }
        self.gather(ip);
        self.matched.clear();
        let max_steps = self.config.max_match_steps;
        for &idx in &self.candidates {
            self.stats.candidates += 1;
            let mut limit_hit = false;
            if rule_matches(
                &self.set.rules[idx as usize],
                ip,
                flow,
                max_steps,
                &mut limit_hit,
            ) {
                self.matched.push(idx);
            }
            if limit_hit {
                self.stats.step_limit_hits += 1;
            }
        }
        if self.matched.is_empty() {
            return;
        }
        self.stats.matches += self.matched.len() as u64;
        let any_pass = self
            .matched
            .iter()
            .any(|&i| self.set.rules[i as usize].action == Action::Pass);
        let now_us = ip.meta.ts.as_micros();
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
            out.push(Self::make_alert(&mut self.ids, r, ip, flow));
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
        self.passed.remove(&flow.id);
    }
}
