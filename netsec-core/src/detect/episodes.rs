//! [`EpisodeAggregator`]: one alert per (detector, source) episode, named by its majority
//! class, for the models.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Alert, Detector, DetectorStats, PacketInterest, PacketView};
use crate::features::FeatureVector;
use crate::flow::{FlowContext, FlowRecord};
use crate::time::Timestamp;

/// Settings of an [`EpisodeAggregator`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpisodeConfig {
    /// An episode ends after this long without a matching alert, in µs (default 120 s).
    pub quiet_us: i64,
    /// An episode that never goes quiet is emitted (and a new one starts) after this long, in
    /// µs, so a live sensor reports a long attack while it lasts (default 600 s).
    pub max_us: i64,
    /// Sources of one class against one destination after which new sources join one
    /// per-destination episode (default 10).
    pub fan_in: u32,
    /// Most episodes (and fan-in counters) held at once (default 1,024; an episode holds a
    /// whole alert, about 1 KiB, and a full table emits its oldest episode early, so nothing
    /// is lost).
    pub max_tracked: usize,
    /// Fewest flow alerts an episode needs to be reported (default 3): a model's verdict on
    /// one flow is weak evidence, a source whose flows keep being judged attacks is not.
    /// Smaller episodes are counted (`episodes_below_min_flows`), not reported.
    pub min_flows: u64,
}

impl Default for EpisodeConfig {
    fn default() -> Self {
        EpisodeConfig {
            quiet_us: 120_000_000,
            max_us: 600_000_000,
            fan_in: 10,
            max_tracked: 1 << 10,
            min_flows: 3,
        }
    }
}

impl EpisodeConfig {
    /// Checks the ranges: durations > 0, `fan_in` and `max_tracked` ≥ 1.
    ///
    /// # Errors
    /// The field at fault and why.
    pub fn check(&self) -> Result<(), String> {
        if self.quiet_us <= 0 || self.max_us <= 0 {
            return Err("quiet_us and max_us must be > 0".into());
        }
        if self.fan_in == 0 || self.max_tracked == 0 || self.min_flows == 0 {
            return Err("fan_in, max_tracked and min_flows must be >= 1".into());
        }
        Ok(())
    }
}

/// Bytes an open episode takes, about: the entry, its key and the alert it holds (strings and
/// `meta` included, as the models' alerts come: without their deferred description and
/// explanation, with their flow's 25 features).
const EPISODE_BYTES: usize = 1024;
/// Bytes a fan-in counter takes, about.
const FAN_IN_BYTES: usize = 96;

/// What an episode is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// One source.
    Src(IpAddr),
    /// One destination: a distributed episode.
    Dst(IpAddr),
}

/// An open episode.
#[derive(Debug, Clone)]
struct Open {
    /// The highest-scoring alert so far (the template of the summary).
    best: Alert,
    /// The features of its flow, when it came from `on_flow_end` (to complete a deferred
    /// alert's detail).
    best_features: Option<FeatureVector>,
    first: Timestamp,
    last: Timestamp,
    flows: u64,
    /// Distinct sources and destinations seen (the first few are kept to count exactly).
    sources: Distinct,
    destinations: Distinct,
    dst_port: Option<Option<u16>>,
    /// Flow alerts per `attack_type`, in order of first appearance (few classes).
    votes: Vec<(String, u64)>,
}

impl Open {
    /// An episode of one alert (about a flow with `features`, if known).
    fn new(a: Alert, features: Option<&FeatureVector>) -> Open {
        let mut ep = Open {
            first: a.timestamp,
            last: a.timestamp,
            flows: 1,
            sources: Distinct::default(),
            destinations: Distinct::default(),
            dst_port: Some(a.dst_port),
            votes: vec![(a.attack_type.clone(), 1)],
            best: a,
            best_features: features.copied(),
        };
        ep.sources.add(ep.best.src_ip);
        ep.destinations.add(ep.best.dst_ip);
        ep
    }

    /// Takes in one more alert (about a flow with `features`, if known).
    fn absorb(&mut self, a: Alert, features: Option<&FeatureVector>) {
        self.flows += 1;
        self.last = self.last.max(a.timestamp);
        self.sources.add(a.src_ip);
        self.destinations.add(a.dst_ip);
        if self.dst_port != Some(a.dst_port) {
            self.dst_port = Some(None);
        }
        self.vote(&a.attack_type, 1);
        if a.score > self.best.score {
            self.best = a;
            self.best_features = features.copied();
        }
    }

    fn vote(&mut self, class: &str, n: u64) {
        match self.votes.iter_mut().find(|(c, _)| c == class) {
            Some(v) => v.1 += n,
            None => self.votes.push((class.to_string(), n)),
        }
    }

    /// The class most flows were given (ties: the first seen).
    fn majority(&self) -> Option<&str> {
        let mut best: Option<&(String, u64)> = None;
        for v in &self.votes {
            if best.is_none_or(|b| v.1 > b.1) {
                best = Some(v);
            }
        }
        best.map(|(c, _)| c.as_str())
    }

    /// Takes in another episode's flows (a source's episode joining its destination's).
    fn merge(&mut self, other: Open) {
        self.flows += other.flows;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.sources.merge(other.sources);
        self.destinations.merge(other.destinations);
        if self.dst_port != other.dst_port {
            self.dst_port = Some(None);
        }
        for (c, n) in other.votes {
            self.vote(&c, n);
        }
        if other.best.score > self.best.score {
            self.best = other.best;
            self.best_features = other.best_features;
        }
    }
}

/// A distinct count exact up to [`Distinct::EXACT`] values, then a lower bound.
#[derive(Debug, Clone, Default)]
struct Distinct {
    seen: Vec<IpAddr>,
    more: bool,
}

impl Distinct {
    const EXACT: usize = 64;

    fn add(&mut self, a: Option<IpAddr>) {
        let Some(a) = a else { return };
        if !self.seen.contains(&a) {
            if self.seen.len() < Self::EXACT {
                self.seen.push(a);
            } else {
                self.more = true;
            }
        }
    }

    fn merge(&mut self, other: Distinct) {
        for a in other.seen {
            self.add(Some(a));
        }
        self.more |= other.more;
    }

    fn count(&self) -> usize {
        self.seen.len()
    }

    fn only(&self) -> Option<IpAddr> {
        (self.seen.len() == 1 && !self.more).then(|| self.seen[0])
    }
}

/// One alert per (detector, source) episode, for detectors that judge flow by flow (the
/// models), so one finding is one alert and not thousands.
///
/// It wraps any [`Detector`] and takes the alerts it raises. Alerts from the same source
/// address form an *episode*, which lasts while they keep coming with gaps of at most
/// [`EpisodeConfig::quiet_us`]. The episode is named by its **majority class**: the
/// `attack_type` most of its flow alerts had (a scan whose flows are mostly judged
/// `Portscan` and sometimes `DoS` is one `Portscan` finding). When an episode ends (a quiet
/// gap seen on a later alert or a [`tick`](Detector::on_tick), [`on_finish`](Detector::on_finish),
/// the table filling up, or after [`EpisodeConfig::max_us`] for an episode that never goes
/// quiet) one alert goes out summarising it, provided it holds at least
/// [`EpisodeConfig::min_flows`] flow alerts: `meta.episode` holds `flows`, `classes` (flow
/// alerts per class), `first_seen`, `last_seen`, `sources`, `destinations` and `max_score`,
/// the alert's time is the last flow's, its score and severity the highest seen, and its
/// `meta` otherwise that of the highest-scoring flow (the model's `top_features` among it).
///
/// A distributed attack (a spoofed flood: one new source per flow) would still give one
/// episode per source; so once [`EpisodeConfig::fan_in`] sources have opened episodes against
/// one destination within the quiet period, the open episodes of sources that only hit it and
/// every further new source join one episode keyed by the destination
/// (`meta.episode.key` `"dst"`, `src_ip` absent).
///
/// Memory is bounded by [`EpisodeConfig::max_tracked`] episodes (a full table ends and emits
/// its oldest episode; nothing is lost) and as many fan-in counters. The order of emitted
/// alerts depends only on the input.
pub struct EpisodeAggregator {
    inner: Box<dyn Detector>,
    config: EpisodeConfig,
    open: HashMap<Key, Open>,
    /// Keys in the order their episodes opened (expiry looks at the front, lazily).
    order: VecDeque<Key>,
    /// Destination → (sources that opened episodes, last time).
    fan_in: HashMap<IpAddr, (u32, Timestamp)>,
    scratch: Vec<Alert>,
    /// The inner detector leaves alert detail to `complete_alert`, done for reported alerts.
    deferred: bool,
    /// Highest time seen.
    now: Timestamp,
    stats: Counts,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    alerts: u64,
    absorbed: u64,
    evicted: u64,
    below_min: u64,
}

impl std::fmt::Debug for EpisodeAggregator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpisodeAggregator")
            .field("inner", &self.inner.name())
            .field("config", &self.config)
            .field("open", &self.open.len())
            .finish_non_exhaustive()
    }
}

impl EpisodeAggregator {
    /// Aggregates the alerts of `inner`, asking it to defer their detail
    /// ([`Detector::defer_alert_detail`]): only the alert an episode reports is completed.
    pub fn new(mut inner: Box<dyn Detector>, config: EpisodeConfig) -> EpisodeAggregator {
        let deferred = inner.defer_alert_detail();
        EpisodeAggregator {
            inner,
            deferred,
            config,
            open: HashMap::new(),
            order: VecDeque::new(),
            fan_in: HashMap::new(),
            scratch: Vec::new(),
            now: Timestamp::from_micros(i64::MIN),
            stats: Counts::default(),
        }
    }

    /// Takes the inner detector's new alerts (about a flow with `features`, when they came
    /// from `on_flow_end`) into episodes; emits the ones that end.
    fn absorb(&mut self, features: Option<&FeatureVector>, out: &mut Vec<Alert>) {
        let mut alerts = std::mem::take(&mut self.scratch);
        for a in alerts.drain(..) {
            if a.timestamp > self.now {
                self.now = a.timestamp;
            }
            self.close_quiet(self.now, out);
            self.add(a, features, out);
        }
        self.scratch = alerts;
    }

    fn add(&mut self, a: Alert, features: Option<&FeatureVector>, out: &mut Vec<Alert>) {
        let src_key = a.src_ip.map(Key::Src);
        let dst_key = a.dst_ip.map(Key::Dst);
        let mut gather = None;
        let key = match (&src_key, &dst_key) {
            (Some(k), _) if self.open.contains_key(k) => k.clone(),
            (_, Some(k)) if self.open.contains_key(k) => k.clone(),
            _ => {
                // A new source: does its destination already see many?
                let crowded = match a.dst_ip {
                    Some(d) => self.count_fan_in(d, a.timestamp),
                    None => false,
                };
                match (crowded, src_key, dst_key) {
                    (true, _, Some(k)) => {
                        gather = a.dst_ip;
                        k
                    }
                    (false, None, Some(k)) => k,
                    (_, Some(k), _) => k,
                    // Neither address: one episode with the unspecified source.
                    (_, None, None) => Key::Src(IpAddr::from([0u8, 0, 0, 0])),
                }
            }
        };
        if let Some(ep) = self.open.get_mut(&key) {
            self.stats.absorbed += 1;
            ep.absorb(a, features);
            return;
        }
        if self.open.len() >= self.config.max_tracked {
            // Full: the oldest episode ends now (it is emitted, not lost).
            if let Some(oldest) = self.order.pop_front() {
                if let Some(ep) = self.open.remove(&oldest) {
                    self.stats.evicted += 1;
                    out.extend(self.summary(&oldest, ep));
                }
            }
        }
        let mut ep = Open::new(a, features);
        if let Some(d) = gather {
            // The sources that crowded this destination join its episode.
            let joining: Vec<Key> = self
                .open
                .iter()
                .filter(|(k, e)| matches!(k, Key::Src(_)) && e.destinations.only() == Some(d))
                .map(|(k, _)| k.clone())
                .collect();
            for k in joining {
                if let Some(e) = self.open.remove(&k) {
                    self.stats.absorbed += e.flows;
                    ep.merge(e);
                }
            }
        }
        self.order.push_back(key.clone());
        self.open.insert(key, ep);
    }

    /// Counts a new source against `dst`; `true` once they pass `fan_in`.
    fn count_fan_in(&mut self, dst: IpAddr, now: Timestamp) -> bool {
        let quiet = self.config.quiet_us;
        if self.fan_in.len() >= self.config.max_tracked {
            self.fan_in
                .retain(|_, (_, last)| now.micros_since(*last) <= quiet);
            if self.fan_in.len() >= self.config.max_tracked {
                return false;
            }
        }
        let e = self.fan_in.entry(dst).or_insert((0, now));
        if now.micros_since(e.1) > quiet {
            *e = (0, now);
        }
        e.0 = e.0.saturating_add(1);
        e.1 = e.1.max(now);
        e.0 > self.config.fan_in
    }

    /// Ends the episodes quiet since before `now` or older than `max_us`, oldest first.
    fn close_quiet(&mut self, now: Timestamp, out: &mut Vec<Alert>) {
        let (quiet, max) = (self.config.quiet_us, self.config.max_us);
        // Every open episode is in `order`; episodes are few (bounded by max_tracked) and
        // this runs per alert, not per packet. One turn of the queue, in place: the episodes
        // that go on are pushed back in their order.
        for _ in 0..self.order.len() {
            let Some(key) = self.order.pop_front() else {
                break;
            };
            let done = self.open.get(&key).is_some_and(|ep| {
                now.micros_since(ep.last) > quiet || now.micros_since(ep.first) > max
            });
            if done {
                if let Some(ep) = self.open.remove(&key) {
                    out.extend(self.summary(&key, ep));
                }
            } else if self.open.contains_key(&key) {
                self.order.push_back(key);
            }
        }
    }

    /// Ends every open episode, oldest first.
    fn close_all(&mut self, out: &mut Vec<Alert>) {
        while let Some(key) = self.order.pop_front() {
            if let Some(ep) = self.open.remove(&key) {
                out.extend(self.summary(&key, ep));
            }
        }
        self.fan_in.clear();
    }

    /// The one alert of an ended episode; `None` (counted) when it has fewer than
    /// `min_flows` flow alerts.
    fn summary(&mut self, key: &Key, ep: Open) -> Option<Alert> {
        if ep.flows < self.config.min_flows {
            self.stats.below_min += 1;
            return None;
        }
        self.stats.alerts += 1;
        let class = ep.majority().unwrap_or("").to_string();
        let classes: serde_json::Map<String, Value> = ep
            .votes
            .iter()
            .map(|(c, n)| (c.clone(), Value::from(*n)))
            .collect();
        let mut a = ep.best;
        if self.deferred {
            if let Some(f) = &ep.best_features {
                self.inner.complete_alert(&mut a, f);
            }
        }
        if !class.is_empty() {
            a.attack_type = class.clone();
        }
        let (key_name, subject) = match key {
            Key::Src(s) => ("src", format!("from {s}")),
            Key::Dst(d) => ("dst", format!("to {d}")),
        };
        a.description = format!(
            "{} {} flows {subject} classified {class} between {} and {} (highest score {:.2}); {}",
            a.detector().unwrap_or("model"),
            ep.flows,
            ep.first,
            ep.last,
            a.score,
            a.description
        );
        a.timestamp = ep.last;
        if matches!(key, Key::Dst(..)) {
            a.src_ip = None;
            a.src_port = None;
        } else if ep.flows > 1 {
            a.src_port = None;
        }
        a.dst_ip = ep.destinations.only();
        a.dst_port = ep.dst_port.flatten();
        if ep.flows > 1 {
            if let Some(f) = a.flow_id.take() {
                a.meta.insert("top_flow_id".into(), f.into());
            }
        }
        a.meta.insert(
            "episode".into(),
            json!({
                "key": key_name,
                "flows": ep.flows,
                "classes": classes,
                "first_seen": ep.first.to_string(),
                "last_seen": ep.last.to_string(),
                "sources": ep.sources.count(),
                "sources_more": ep.sources.more,
                "destinations": ep.destinations.count(),
                "destinations_more": ep.destinations.more,
                "max_score": Value::from(a.score),
            }),
        );
        Some(a)
    }
}

impl Detector for EpisodeAggregator {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn interest(&self) -> PacketInterest {
        self.inner.interest()
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        self.inner.on_packet(pkt, flow, &mut self.scratch);
        if !self.scratch.is_empty() {
            self.absorb(None, out);
        }
    }

    fn on_flow_end(&mut self, flow: &FlowRecord, features: &FeatureVector, out: &mut Vec<Alert>) {
        self.inner.on_flow_end(flow, features, &mut self.scratch);
        if !self.scratch.is_empty() {
            self.absorb(Some(features), out);
        }
    }

    fn on_tick(&mut self, now: Timestamp, out: &mut Vec<Alert>) {
        self.inner.on_tick(now, &mut self.scratch);
        self.absorb(None, out);
        if now > self.now {
            self.now = now;
        }
        self.close_quiet(self.now, out);
    }

    fn on_finish(&mut self, out: &mut Vec<Alert>) {
        self.inner.on_finish(&mut self.scratch);
        self.absorb(None, out);
        self.close_all(out);
    }

    fn stats(&self) -> DetectorStats {
        let mut d = self
            .inner
            .stats()
            .counter("episodes_open", self.open.len() as u64)
            .counter("flow_alerts_absorbed", self.stats.absorbed)
            .counter("episodes_evicted", self.stats.evicted)
            .counter("episodes_below_min_flows", self.stats.below_min);
        d.counters.insert("flow_alerts", d.alerts);
        d.alerts = self.stats.alerts;
        d.suppressed += self.stats.absorbed;
        d.tracked += (self.open.len() + self.fan_in.len()) as u64;
        d.memory_bytes +=
            (self.open.len() * EPISODE_BYTES + self.fan_in.len() * FAN_IN_BYTES) as u64;
        d.memory_bound_bytes += (self.config.max_tracked * (EPISODE_BYTES + FAN_IN_BYTES)) as u64;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Severity;

    /// Raises one alert per finished flow, classed by destination port.
    struct PerFlow;

    impl Detector for PerFlow {
        fn name(&self) -> &str {
            "per_flow"
        }
        fn on_flow_end(&mut self, f: &FlowRecord, _x: &FeatureVector, out: &mut Vec<Alert>) {
            let class = if f.dst_port == 80 { "Web" } else { "Other" };
            out.push(
                Alert::builder("per_flow", f.last_ts, class, Severity::Medium)
                    .flow_record(f)
                    .score(f.src_port as f64 / 100_000.0)
                    .description("flow")
                    .build(),
            );
        }
    }

    fn flow(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, secs: i64) -> FlowRecord {
        let ts = Timestamp::from_micros(secs * 1_000_000);
        FlowRecord {
            id: secs as u64,
            first_ts: ts,
            last_ts: ts,
            src_addr: src.into(),
            src_port: sport,
            dst_addr: dst.into(),
            dst_port: dport,
            protocol: crate::decode::IpProtocol::TCP,
            end_reason: crate::flow::EndReason::Idle,
            stats: Default::default(),
            app_proto: Default::default(),
            app: None,
        }
    }

    fn run(flows: &[FlowRecord], ticks: &[i64]) -> Vec<Alert> {
        let mut d = EpisodeAggregator::new(Box::new(PerFlow), EpisodeConfig::default());
        let mut out = Vec::new();
        for f in flows {
            d.on_flow_end(f, &f.features(), &mut out);
        }
        for t in ticks {
            d.on_tick(Timestamp::from_micros(t * 1_000_000), &mut out);
        }
        d.on_finish(&mut out);
        out
    }

    #[test]
    fn one_alert_per_source_episode_named_by_its_majority_class() {
        let a = [10, 0, 0, 1];
        let mut flows: Vec<FlowRecord> = (0..50)
            .map(|i| flow(a, [10, 0, 0, 9], 1000 + i, 80, i as i64))
            .collect();
        // One flow of the same source judged another class: same episode, outvoted.
        flows.push(flow(a, [10, 0, 0, 9], 5000, 22, 60));
        // After 10 quiet minutes, a second episode, too small to report.
        flows.push(flow(a, [10, 0, 0, 9], 2000, 80, 700));
        flows.push(flow(a, [10, 0, 0, 9], 2001, 80, 701));
        let mut d = EpisodeAggregator::new(Box::new(PerFlow), EpisodeConfig::default());
        let mut out = Vec::new();
        for f in &flows {
            d.on_flow_end(f, &f.features(), &mut out);
        }
        d.on_finish(&mut out);
        assert_eq!(out.len(), 1, "{out:#?}");
        let web = &out[0];
        assert_eq!(web.attack_type, "Web");
        assert_eq!(web.meta["episode"]["flows"], 51);
        assert_eq!(web.meta["episode"]["classes"]["Web"], 50);
        assert_eq!(web.meta["episode"]["classes"]["Other"], 1);
        assert_eq!(
            web.meta["episode"]["first_seen"],
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(web.timestamp, Timestamp::from_micros(60_000_000));
        assert_eq!(web.dst_ip, Some([10, 0, 0, 9].into()));
        assert_eq!(web.dst_port, None, "ports 80 and 22");
        assert_eq!(web.flow_id, None);
        assert_eq!(web.score, 0.05, "the highest score of the episode");
        let stats = d.stats();
        assert_eq!(stats.counters["episodes_below_min_flows"], 1);
        assert_eq!(stats.alerts, 1);
    }

    #[test]
    fn a_majority_of_other_classes_renames_the_episode() {
        let a = [10, 0, 0, 1];
        let flows: Vec<FlowRecord> = (0..5)
            .map(|i| {
                flow(
                    a,
                    [10, 0, 0, 9],
                    1000 + i,
                    if i == 0 { 80 } else { 22 },
                    i as i64,
                )
            })
            .collect();
        let out = run(&flows, &[]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].attack_type, "Other");
        assert_eq!(out[0].meta["episode"]["classes"]["Web"], 1);
    }

    #[test]
    fn a_tick_ends_quiet_episodes_and_a_spoofed_flood_is_one_alert() {
        let flows: Vec<FlowRecord> = (0..1000u32)
            .map(|i| {
                let b = i.to_be_bytes();
                flow([11, b[1], b[2], b[3]], [10, 0, 0, 9], 1000, 80, 1)
            })
            .collect();
        let out = run(&flows, &[500]);
        // The first `fan_in` sources' episodes join the destination's: one alert.
        assert_eq!(out.len(), 1, "{out:#?}");
        let dst = &out[0];
        assert_eq!(dst.meta["episode"]["key"], "dst");
        assert_eq!(dst.src_ip, None);
        assert_eq!(dst.meta["episode"]["flows"], 1000);
        assert_eq!(dst.meta["episode"]["sources"], 64);
        assert_eq!(dst.meta["episode"]["sources_more"], true);
    }

    /// Like [`PerFlow`], but defers its detail: completion writes the flow's first feature
    /// into the description and counts itself.
    struct Deferring(std::sync::Arc<std::sync::atomic::AtomicU64>);

    impl Detector for Deferring {
        fn name(&self) -> &str {
            "deferring"
        }
        fn on_flow_end(&mut self, f: &FlowRecord, x: &FeatureVector, out: &mut Vec<Alert>) {
            PerFlow.on_flow_end(f, x, out);
        }
        fn defer_alert_detail(&mut self) -> bool {
            true
        }
        fn complete_alert(&self, a: &mut Alert, x: &FeatureVector) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            a.description = format!("detail {}", x.as_array()[0]);
        }
    }

    #[test]
    fn only_reported_alerts_are_completed_with_their_flows_features() {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut d =
            EpisodeAggregator::new(Box::new(Deferring(done.clone())), EpisodeConfig::default());
        let mut out = Vec::new();
        for i in 0..50u16 {
            let f = flow([10, 0, 0, 1], [10, 0, 0, 9], 1000 + i, 80, i64::from(i));
            // The highest score (src port 1049) has feature 0 = 49.
            let mut x = [0.0; crate::features::FEATURE_COUNT];
            x[0] = f64::from(i);
            d.on_flow_end(&f, &FeatureVector::from_array(x), &mut out);
        }
        d.on_finish(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(
            out[0].description.ends_with("; detail 49"),
            "{}",
            out[0].description
        );
    }

    #[test]
    fn a_full_table_emits_its_oldest_episode() {
        let mut d = EpisodeAggregator::new(
            Box::new(PerFlow),
            EpisodeConfig {
                max_tracked: 4,
                fan_in: 1000,
                min_flows: 1,
                ..EpisodeConfig::default()
            },
        );
        let mut out = Vec::new();
        for i in 0..10u8 {
            let f = flow([10, 0, 1, i], [10, 0, 2, i], 1000, 80, 1);
            d.on_flow_end(&f, &f.features(), &mut out);
        }
        assert_eq!(out.len(), 6);
        assert!(d.stats().tracked <= 8);
        d.on_finish(&mut out);
        assert_eq!(out.len(), 10);
    }
}
