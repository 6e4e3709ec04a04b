//! Suricata's `threshold.config`: `suppress`, `threshold`, `event_filter` and `rate_filter`,
//! applied by the sensor to the alerts of every detector alike.
//!
//! ```text
//! # a rule's own threshold is replaced by this one
//! threshold gen_id 1, sig_id 2000001, type limit, track by_src, count 1, seconds 60
//! event_filter gen_id 1, sig_id 2000002, type both, track by_dst, count 5, seconds 30
//! suppress gen_id 1, sig_id 2000003
//! suppress gen_id 1, sig_id 2000004, track by_either, ip [10.0.0.0/8,$DNS_SERVERS]
//! rate_filter gen_id 1, sig_id 2000005, track by_rule, count 10, seconds 1, new_action pass, timeout 60
//! # netsec: non-rule detectors by their EVE signature (port scans are 9000:1) ...
//! suppress gen_id 9000, sig_id 1, track by_src, ip 192.168.1.10
//! # ... or by detector name
//! threshold detector isolation_forest, type limit, track by_src, count 1, seconds 3600
//! ```
//!
//! `gen_id 0` and `sig_id 0` match every gid and sid. Semantics follow Suricata 7:
//!
//! - **suppress** drops matching alerts (only those whose source, destination or either
//!   address is in `ip`, with a `track`);
//! - **threshold** / **event_filter** count matching alerts per `track` key in windows of
//!   `seconds`: `limit` keeps the first `count`, `threshold` every `count`-th, `both` one at
//!   `count`. An entry for one signature replaces that rule's own `threshold` keyword;
//! - **rate_filter** counts matching alerts per `track` key; once more than `count` come
//!   within `seconds`, the alert's action becomes `new_action` for `timeout` seconds: `alert`
//!   keeps alerting, `pass` and `log` stop alerting, `drop` and `reject` raise this alert
//!   (with `meta.action` set) and then silence the alert's flow, as an inline Suricata would
//!   drop it, and `sdrop` silences the flow without this alert.
//!
//! Every alert held back is counted in [`FilterStats`], by reason. State lives in a table of
//! at most [`MAX_FILTER_ENTRIES`] keys; when it is full a new key is not tracked (its alert
//! passes) and `table_full` counts it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use foldhash::fast::RandomState;
use serde::Serialize;

use super::ast::{Threshold, ThresholdType, Track};
use super::compile::{resolve_addr, AddrMatch};
use super::parse::parse_addr;
use super::rate::{track_addrs, RateWindow};
use super::RuleVars;
use crate::detect::signature::EveSignature;
use crate::detect::Alert;

/// Most tracked keys (windows and silenced flows) of one [`AlertFilter`].
pub const MAX_FILTER_ENTRIES: usize = 16_384;

/// Which alerts an entry is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    /// `gen_id`, `sig_id`; 0 matches any.
    Sig { gid: u64, sid: u64 },
    /// `detector NAME` (netsec).
    Detector(String),
}

impl Selector {
    fn matches(&self, alert: &Alert, gid: u64, sid: u64) -> bool {
        match self {
            Selector::Sig { gid: g, sid: s } => (*g == 0 || *g == gid) && (*s == 0 || *s == sid),
            Selector::Detector(d) => alert.detector() == Some(d),
        }
    }
}

/// Which address of an alert a `suppress` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SuppressBy {
    Src,
    Dst,
    Either,
}

/// What an alert becomes while a `rate_filter` is tripped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateAction {
    /// Keep alerting.
    Alert,
    /// No alert.
    Pass,
    /// No alert (logged only, in Suricata).
    Log,
    /// Alert once, then silence the flow.
    Drop,
    /// As `drop`.
    Reject,
    /// Silence the flow without an alert.
    Sdrop,
}

impl RateAction {
    fn parse(s: &str) -> Option<RateAction> {
        Some(match s {
            "alert" => RateAction::Alert,
            "pass" => RateAction::Pass,
            "log" => RateAction::Log,
            "drop" => RateAction::Drop,
            "reject" => RateAction::Reject,
            "sdrop" => RateAction::Sdrop,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            RateAction::Alert => "alert",
            RateAction::Pass => "pass",
            RateAction::Log => "log",
            RateAction::Drop => "drop",
            RateAction::Reject => "reject",
            RateAction::Sdrop => "sdrop",
        }
    }
}

#[derive(Debug, Clone)]
enum Entry {
    Suppress {
        sel: Selector,
        by: Option<(SuppressBy, AddrMatch)>,
    },
    Threshold {
        sel: Selector,
        threshold: Threshold,
    },
    Rate {
        sel: Selector,
        track: Track,
        count: u32,
        seconds: u32,
        action: RateAction,
        timeout_s: u32,
    },
}

/// A line of a `threshold.config` that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ThresholdConfigError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A parsed `threshold.config`.
#[derive(Debug, Clone, Default)]
pub struct ThresholdConfig {
    entries: Vec<Entry>,
}

impl ThresholdConfig {
    /// Parses the file's text; `$VAR`s in `ip` resolve through `vars`.
    ///
    /// # Errors
    /// The first line that is not a valid entry, with its number and why.
    pub fn parse(text: &str, vars: &RuleVars) -> Result<ThresholdConfig, ThresholdConfigError> {
        let mut entries = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = parse_entry(line, vars).map_err(|reason| ThresholdConfigError {
                line: i + 1,
                reason,
            })?;
            entries.push(entry);
        }
        Ok(ThresholdConfig { entries })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a `threshold`/`event_filter` entry names this one rule (gid and sid both
    /// given), which replaces the rule's own `threshold` keyword.
    pub fn overrides_rule_threshold(&self, gid: u64, sid: u64) -> bool {
        self.entries.iter().any(|e| {
            matches!(e, Entry::Threshold { sel: Selector::Sig { gid: g, sid: s }, .. }
                if *g == gid && *s == sid)
        })
    }
}

/// `key value` pairs of one entry, in order.
fn fields(rest: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut out = Vec::new();
    // `ip [a, b]` may hold commas: split on commas outside brackets.
    let (mut depth, mut start) = (0i32, 0usize);
    let mut parts = Vec::new();
    for (i, c) in rest.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&rest[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&rest[start..]);
    for part in parts {
        let part = part.trim();
        let (k, v) = part
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("`{part}` is not `key value`"))?;
        out.push((k, v.trim()));
    }
    Ok(out)
}

fn parse_entry(line: &str, vars: &RuleVars) -> Result<Entry, String> {
    let (kind, rest) = line
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("`{line}` has no fields"))?;
    let fields = fields(rest.trim())?;
    let get = |k: &str| fields.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let num = |k: &str| -> Result<u64, String> {
        let v = get(k).ok_or_else(|| format!("{kind} needs `{k}`"))?;
        v.parse().map_err(|_| format!("`{k} {v}` is not a number"))
    };
    let num32 = |k: &str| -> Result<u32, String> {
        let v = num(k)?;
        u32::try_from(v).map_err(|_| format!("`{k} {v}` is too large"))
    };
    for (k, _) in &fields {
        let known = [
            "gen_id",
            "sig_id",
            "detector",
            "type",
            "track",
            "count",
            "seconds",
            "ip",
            "new_action",
            "timeout",
        ];
        if !known.contains(k) {
            return Err(format!("unknown field `{k}`"));
        }
    }
    let sel = match get("detector") {
        Some(d) => Selector::Detector(d.to_string()),
        None => Selector::Sig {
            gid: num("gen_id")?,
            sid: num("sig_id")?,
        },
    };
    let track = |allow_either: bool| -> Result<Option<Track>, String> {
        Ok(match get("track") {
            None => None,
            Some("by_src") => Some(Track::BySrc),
            Some("by_dst") => Some(Track::ByDst),
            Some("by_rule") => Some(Track::ByRule),
            Some("by_both") => Some(Track::ByBoth),
            Some("by_either") if allow_either => None,
            Some(other) => return Err(format!("unknown track `{other}`")),
        })
    };
    match kind {
        "suppress" => {
            let by = match (get("track"), get("ip")) {
                (None, None) => None,
                (Some(t), Some(ip)) => {
                    let by = match t {
                        "by_src" => SuppressBy::Src,
                        "by_dst" => SuppressBy::Dst,
                        "by_either" => SuppressBy::Either,
                        other => return Err(format!("suppress cannot track `{other}`")),
                    };
                    let spec = parse_addr(ip).map_err(|e| e.to_string())?;
                    Some((by, resolve_addr(&spec, vars, 0)?))
                }
                (Some(_), None) => return Err("suppress with `track` needs `ip`".into()),
                (None, Some(_)) => return Err("suppress with `ip` needs `track`".into()),
            };
            Ok(Entry::Suppress { sel, by })
        }
        "threshold" | "event_filter" => {
            let entry = kind;
            let kind = match get("type") {
                Some("limit") => ThresholdType::Limit,
                Some("threshold") => ThresholdType::Threshold,
                Some("both") => ThresholdType::Both,
                Some(other) => return Err(format!("unknown type `{other}`")),
                None => return Err(format!("{entry} needs `type`")),
            };
            let track = track(false)?.ok_or_else(|| format!("{entry} needs `track`"))?;
            let count = num32("count")?;
            if count == 0 {
                return Err("`count` must be at least 1".into());
            }
            Ok(Entry::Threshold {
                sel,
                threshold: Threshold {
                    kind: Some(kind),
                    track,
                    count,
                    seconds: num32("seconds")?,
                },
            })
        }
        "rate_filter" => {
            let track = track(false)?.ok_or("rate_filter needs `track`")?;
            let action = get("new_action").ok_or("rate_filter needs `new_action`")?;
            let action = RateAction::parse(action)
                .ok_or_else(|| format!("unknown new_action `{action}`"))?;
            Ok(Entry::Rate {
                sel,
                track,
                count: num32("count")?,
                seconds: num32("seconds")?,
                action,
                timeout_s: num32("timeout")?,
            })
        }
        other => Err(format!(
            "unknown entry `{other}` (suppress, threshold, event_filter, rate_filter)"
        )),
    }
}

/// Alerts held back by an [`AlertFilter`], by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FilterStats {
    /// Dropped by a `suppress`.
    pub suppressed: u64,
    /// Held back by a `threshold` or `event_filter`.
    pub thresholded: u64,
    /// Held back by a tripped `rate_filter` (`pass`, `log`, `sdrop`).
    pub rate_filtered: u64,
    /// Held back because a `rate_filter` `drop`/`reject`/`sdrop` silenced their flow.
    pub flow_silenced: u64,
    /// Keys not tracked because the table was full (their alerts passed).
    pub table_full: u64,
}

impl FilterStats {
    /// All alerts held back.
    pub fn total(&self) -> u64 {
        self.suppressed + self.thresholded + self.rate_filtered + self.flow_silenced
    }
}

/// State of one tracked key.
#[derive(Debug, Clone, Copy)]
struct KeyState {
    window: RateWindow,
    /// While a rate filter is tripped: until when (µs).
    tripped_until_us: Option<i64>,
}

/// The runtime side of a [`ThresholdConfig`]: one per sensor.
#[derive(Debug, Clone)]
pub struct AlertFilter {
    config: Arc<ThresholdConfig>,
    keys: HashMap<(u32, IpAddr, IpAddr), KeyState, RandomState>,
    silenced_flows: HashSet<u64, RandomState>,
    stats: FilterStats,
}

impl fmt::Display for FilterStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} held back (suppress {}, threshold {}, rate_filter {}, silenced flows {})",
            self.total(),
            self.suppressed,
            self.thresholded,
            self.rate_filtered,
            self.flow_silenced
        )
    }
}

impl AlertFilter {
    /// A filter applying `config`, with empty state.
    pub fn new(config: Arc<ThresholdConfig>) -> AlertFilter {
        AlertFilter {
            config,
            keys: HashMap::default(),
            silenced_flows: HashSet::default(),
            stats: FilterStats::default(),
        }
    }

    /// What was held back so far.
    pub fn stats(&self) -> FilterStats {
        self.stats
    }

    /// The most bytes the filter's state can take: both tables at [`MAX_FILTER_ENTRIES`]
    /// (hash tables up to twice the buckets their entries need).
    pub fn memory_bound_bytes() -> usize {
        let key = std::mem::size_of::<((u32, IpAddr, IpAddr), KeyState)>() + 1;
        let flow = std::mem::size_of::<u64>() + 1;
        2 * MAX_FILTER_ENTRIES.next_power_of_two() * (key + flow)
    }

    /// Decides whether `alert` goes out; may set `meta.action` (a tripped `drop`/`reject`
    /// rate filter). Counts what it holds back.
    pub fn admit(&mut self, alert: &mut Alert) -> bool {
        if let Some(flow) = alert.flow_id {
            if !self.silenced_flows.is_empty() && self.silenced_flows.contains(&flow) {
                self.stats.flow_silenced += 1;
                return false;
            }
        }
        let sig = EveSignature::of(alert);
        let (gid, sid) = (sig.gid, sig.sid);
        let now = alert.timestamp.as_micros();
        let none = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let (src, dst) = (alert.src_ip.unwrap_or(none), alert.dst_ip.unwrap_or(none));
        let config = Arc::clone(&self.config);
        for (i, entry) in config.entries.iter().enumerate() {
            match entry {
                Entry::Suppress { sel, by } if sel.matches(alert, gid, sid) => {
                    let hit = match by {
                        None => true,
                        Some((SuppressBy::Src, m)) => alert.src_ip.is_some_and(|a| m.matches(a)),
                        Some((SuppressBy::Dst, m)) => alert.dst_ip.is_some_and(|a| m.matches(a)),
                        Some((SuppressBy::Either, m)) => {
                            alert.src_ip.is_some_and(|a| m.matches(a))
                                || alert.dst_ip.is_some_and(|a| m.matches(a))
                        }
                    };
                    if hit {
                        self.stats.suppressed += 1;
                        return false;
                    }
                }
                Entry::Threshold { sel, threshold } if sel.matches(alert, gid, sid) => {
                    let (a, b) = track_addrs(threshold.track, src, dst);
                    let Some(state) = self.key(i, a, b, now, threshold.seconds) else {
                        continue;
                    };
                    if !state.window.allows(threshold, now) {
                        self.stats.thresholded += 1;
                        return false;
                    }
                }
                Entry::Rate {
                    sel,
                    track,
                    count,
                    seconds,
                    action,
                    timeout_s,
                } if sel.matches(alert, gid, sid) => {
                    let (a, b) = track_addrs(*track, src, dst);
                    let Some(state) = self.key(i, a, b, now, *seconds) else {
                        continue;
                    };
                    let tripped = match state.tripped_until_us {
                        Some(until) if now <= until => true,
                        _ => {
                            state.tripped_until_us = None;
                            if state.window.count(now) > *count {
                                let timeout = i64::from(*timeout_s).saturating_mul(1_000_000);
                                state.tripped_until_us = Some(now.saturating_add(timeout));
                                true
                            } else {
                                false
                            }
                        }
                    };
                    if tripped {
                        match action {
                            RateAction::Alert => {}
                            RateAction::Pass | RateAction::Log => {
                                self.stats.rate_filtered += 1;
                                return false;
                            }
                            RateAction::Drop | RateAction::Reject | RateAction::Sdrop => {
                                self.silence(alert.flow_id);
                                if *action == RateAction::Sdrop {
                                    self.stats.rate_filtered += 1;
                                    return false;
                                }
                                alert.meta.insert("action".into(), action.as_str().into());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        true
    }

    /// A finished flow can no longer alert: forget that it was silenced.
    pub fn flow_ended(&mut self, flow_id: u64) {
        if !self.silenced_flows.is_empty() {
            self.silenced_flows.remove(&flow_id);
        }
    }

    fn silence(&mut self, flow: Option<u64>) {
        if let Some(f) = flow {
            if self.silenced_flows.len() < MAX_FILTER_ENTRIES {
                self.silenced_flows.insert(f);
            } else {
                self.stats.table_full += 1;
            }
        }
    }

    /// The state of entry `i`'s key `(a, b)`, created if there is room.
    fn key(
        &mut self,
        i: usize,
        a: IpAddr,
        b: IpAddr,
        now: i64,
        seconds: u32,
    ) -> Option<&mut KeyState> {
        let key = (i as u32, a, b);
        if !self.keys.contains_key(&key) && self.keys.len() >= MAX_FILTER_ENTRIES {
            self.keys.retain(|_, s| {
                !s.window.expired(now) || s.tripped_until_us.is_some_and(|u| now <= u)
            });
            if self.keys.len() >= MAX_FILTER_ENTRIES {
                self.stats.table_full += 1;
                return None;
            }
        }
        Some(self.keys.entry(key).or_insert(KeyState {
            window: RateWindow::new(now, seconds),
            tripped_until_us: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Severity;
    use crate::time::Timestamp;

    fn rule_alert(sid: u64, src: &str, dst: &str, secs: i64, flow: u64) -> Alert {
        Alert::builder(
            "rules",
            Timestamp::from_micros(secs * 1_000_000),
            "x",
            Severity::Low,
        )
        .addrs(src.parse().ok(), dst.parse().ok())
        .flow(Some(flow))
        .meta("gid", 1)
        .meta("sid", sid)
        .build()
    }

    fn filter(text: &str) -> AlertFilter {
        let config = ThresholdConfig::parse(text, &RuleVars::default()).expect("parses");
        AlertFilter::new(Arc::new(config))
    }

    fn kept(f: &mut AlertFilter, alerts: &mut [Alert]) -> usize {
        alerts.iter_mut().map(|a| f.admit(a)).filter(|k| *k).count()
    }

    #[test]
    fn parse_errors_name_the_line() {
        let vars = RuleVars::default();
        for (text, needle) in [
            ("suppress gen_id 1", "sig_id"),
            ("threshold gen_id 1, sig_id 2, type often, track by_src, count 1, seconds 1", "type"),
            ("rate_filter gen_id 1, sig_id 2, track by_src, count 1, seconds 1, new_action x, timeout 1", "new_action"),
            ("suppress gen_id 1, sig_id 2, track by_src, ip 10.0.0.0/99", "10.0.0.0/99"),
            ("suppress gen_id 1, sig_id 2, track by_src, ip $NOPE", "NOPE"),
            ("frobnicate gen_id 1, sig_id 2", "frobnicate"),
            ("suppress gen_id 1, sig_id 2, colour red", "colour"),
        ] {
            let text = format!("# header\n\n{text}\n");
            let err = ThresholdConfig::parse(&text, &vars).expect_err(&text);
            assert_eq!(err.line, 3, "{text}");
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
        }
    }

    #[test]
    fn suppress_by_signature_address_and_detector() {
        let mut f = filter(
            "suppress gen_id 1, sig_id 7\n\
             suppress gen_id 1, sig_id 8, track by_src, ip [10.0.0.0/8]\n\
             suppress detector port_scan, track by_either, ip $HOME_NET\n",
        );
        assert!(!f.admit(&mut rule_alert(7, "1.1.1.1", "2.2.2.2", 0, 1)));
        assert!(!f.admit(&mut rule_alert(8, "10.1.1.1", "2.2.2.2", 0, 1)));
        assert!(f.admit(&mut rule_alert(8, "2.2.2.2", "10.1.1.1", 0, 1)));
        assert!(f.admit(&mut rule_alert(9, "1.1.1.1", "2.2.2.2", 0, 1)));
        let mut scan = Alert::builder(
            "port_scan",
            Timestamp::from_micros(0),
            "Port_Scan",
            Severity::Low,
        )
        .addrs("8.8.8.8".parse().ok(), "192.168.0.1".parse().ok())
        .build();
        assert!(!f.admit(&mut scan));
        assert_eq!(f.stats().suppressed, 3);
    }

    #[test]
    fn a_global_limit_applies_to_every_signature_and_non_rule_ones_by_their_eve_id() {
        let mut f =
            filter("threshold gen_id 0, sig_id 0, type limit, track by_src, count 1, seconds 60\n");
        let mut a: Vec<Alert> = (0..5)
            .map(|i| rule_alert(1, "1.1.1.1", "2.2.2.2", i, 1))
            .collect();
        assert_eq!(kept(&mut f, &mut a), 1);
        let mut f = filter(
            "event_filter gen_id 9000, sig_id 1, type limit, track by_src, count 2, seconds 60\n",
        );
        let mut scans: Vec<Alert> = (0..5)
            .map(|i| {
                Alert::builder(
                    "port_scan",
                    Timestamp::from_micros(i),
                    "Port_Scan",
                    Severity::Low,
                )
                .addrs("8.8.8.8".parse().ok(), None)
                .build()
            })
            .collect();
        assert_eq!(kept(&mut f, &mut scans), 2);
        assert_eq!(f.stats().thresholded, 3);
    }

    #[test]
    fn rate_filter_actions() {
        // pass: after `count` in the window, nothing more until the timeout ends.
        let mut f = filter("rate_filter gen_id 1, sig_id 1, track by_rule, count 2, seconds 10, new_action pass, timeout 100\n");
        let mut a: Vec<Alert> = [0, 1, 2, 3, 50, 103, 104]
            .iter()
            .map(|&s| rule_alert(1, "1.1.1.1", "2.2.2.2", s, 1))
            .collect();
        let out: Vec<bool> = a.iter_mut().map(|x| f.admit(x)).collect();
        assert_eq!(out, [true, true, false, false, false, true, true]);
        // drop: the tripping alert goes out marked, then its flow is silent; other flows not.
        let mut f = filter("rate_filter gen_id 1, sig_id 1, track by_both, count 1, seconds 60, new_action drop, timeout 1000\n");
        let mut first = rule_alert(1, "1.1.1.1", "2.2.2.2", 0, 1);
        let mut second = rule_alert(1, "2.2.2.2", "1.1.1.1", 1, 1);
        assert!(f.admit(&mut first));
        assert!(f.admit(&mut second));
        assert_eq!(second.meta["action"], "drop");
        assert!(
            !f.admit(&mut rule_alert(2, "1.1.1.1", "2.2.2.2", 2, 1)),
            "flow 1 is silent"
        );
        f.flow_ended(1);
        assert_eq!(f.stats().flow_silenced, 1);
    }
}
