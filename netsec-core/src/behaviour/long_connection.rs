//! Long-lived connections and rare destinations, as RITA finds them: a connection open for
//! hours (an interactive backdoor, a tunnel, a C2 session that never hangs up) is worth a
//! look whatever it carries, and more so when its destination is one no other client
//! talks to.
//!
//! - **Duration.** A connection is one transport 5-tuple from its first packet to its last;
//!   the flow table exports a long one in pieces at its active timeout (30 min by default),
//!   which this detector joins back together (a piece that ended by active timeout and the
//!   next piece of the same 5-tuple, within `min_duration_us`). A connection is reported
//!   when one of its pieces is exported and it has lasted `min_duration_us` (RITA's base
//!   threshold, 1 h, `Severity::Low`), and again as it passes `medium_us` (4 h, `Medium`)
//!   and `high_us` (8 h, `High`), RITA's further steps.
//! - **Rare destination** (RITA's prevalence): once at least `rare_min_clients` clients have
//!   been seen within `prevalence_window_us` ([`Prevalence`]: an estimate and a
//!   direct-mapped table of destinations, a few instructions per flow), a destination that
//!   no other client contacted in that window is rare, and raises the severity one step.
//!   `meta.observed` gives the destination's clients and the population estimate.
//!
//! Broadcast and multicast destinations are not judged. A live sensor sees a long
//! connection when the flow table exports it (every active timeout), a capture at the
//! latest when it ends. One alert per (client, destination, port, protocol) and severity
//! step.

use serde::{Deserialize, Serialize};

use super::prevalence::Prevalence;
use super::state::{Addr, Clock, Episodes, Tally, TimedTable};
use super::{secs, table_stats, AlertBuilder, BehaviourConfigError, Check};
use crate::decode::{is_unicast, IpProtocol};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, Severity};
use crate::features::FeatureVector;
use crate::flow::{EndReason, FlowRecord};
use crate::time::Timestamp;

const NAME: &str = "long_connection";

/// Settings of the [`LongConnectionDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LongConnectionConfig {
    /// Run the detector (default true).
    pub enabled: bool,
    /// Duration that makes a connection long, µs (default 1 h, RITA's base threshold).
    pub min_duration_us: i64,
    /// Duration reported again at medium severity, µs (default 4 h).
    pub medium_us: i64,
    /// Duration reported again at high severity, µs (default 8 h).
    pub high_us: i64,
    /// Clients that must have been seen before a destination can be rare (default 10).
    pub rare_min_clients: u32,
    /// Window of the destination and client counts, µs (default 24 h).
    pub prevalence_window_us: i64,
    /// Cap of each table (connections continued across exports, destinations, clients,
    /// reported connections), default 1024.
    pub max_tracked: usize,
}

impl Default for LongConnectionConfig {
    fn default() -> Self {
        LongConnectionConfig {
            enabled: true,
            min_duration_us: 3_600_000_000,
            medium_us: 4 * 3_600_000_000,
            high_us: 8 * 3_600_000_000,
            rare_min_clients: 10,
            prevalence_window_us: 24 * 3_600_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl LongConnectionConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("min_duration_us", self.min_duration_us)?;
        c.positive("medium_us", self.medium_us)?;
        c.positive("high_us", self.high_us)?;
        if !(self.min_duration_us <= self.medium_us && self.medium_us <= self.high_us) {
            return Err(BehaviourConfigError::Invalid {
                section: NAME,
                field: "medium_us",
                reason: format!(
                    "must lie between min_duration_us ({}) and high_us ({}), got {}",
                    self.min_duration_us, self.high_us, self.medium_us
                ),
            });
        }
        c.at_least_one("rare_min_clients", u64::from(self.rare_min_clients))?;
        c.positive("prevalence_window_us", self.prevalence_window_us)?;
        c.cap(self.max_tracked)
    }

    /// The severity step (1 low, 2 medium, 3 high) a connection of `duration_us` reached, 0
    /// below the minimum.
    fn step(&self, duration_us: i64) -> u8 {
        [self.min_duration_us, self.medium_us, self.high_us]
            .iter()
            .filter(|&&t| duration_us >= t)
            .count() as u8
    }
}

/// A connection's 5-tuple, the lower (address, port) first: a piece the flow table
/// exports after an active timeout may start with either side's packet.
type ConnKey = (Addr, u16, Addr, u16, u8);

/// The [`ConnKey`] of `flow`.
fn conn_key(flow: &FlowRecord) -> ConnKey {
    let a = (flow.src_addr, flow.src_port);
    let b = (flow.dst_addr, flow.dst_port);
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (Addr(lo.0), lo.1, Addr(hi.0), hi.1, flow.protocol.0)
}

/// Where a connection started and which side opened it.
#[derive(Debug, Clone, Copy)]
struct Opened {
    /// First packet, µs.
    start: i64,
    /// The client's and the server's (address, port), from the connection's first piece.
    client: (Addr, u16),
    server: (Addr, u16),
    /// The connection ended for good (a later flow on the 5-tuple is a new connection).
    ended: bool,
}

/// Detects long-lived connections, with rare destinations weighing more.
#[derive(Debug)]
pub struct LongConnectionDetector {
    config: LongConnectionConfig,
    clock: Clock,
    /// Connections whose last piece ended by active timeout.
    continued: TimedTable<ConnKey, Opened>,
    /// Clients per destination and in all.
    prevalence: Prevalence,
    /// Reported connections (without the client port): the highest step reported.
    reported: Episodes<(Addr, Addr, u16, u8), u8>,
    tally: Tally,
}

impl LongConnectionDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &LongConnectionConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        let (cap, window) = (config.max_tracked, config.prevalence_window_us);
        Ok(LongConnectionDetector {
            config: config.clone(),
            clock: Clock::default(),
            continued: TimedTable::new(cap, config.min_duration_us),
            prevalence: Prevalence::new(cap, window),
            reported: Episodes::new(cap, window, window),
            tally: Tally::default(),
        })
    }

    /// The connection `flow` is a piece of: the one continued from a piece that ended by
    /// active timeout, else a new one opened by `flow`'s client. `true` with it when it
    /// continues.
    fn connection(&mut self, flow: &FlowRecord, now: Timestamp) -> (Opened, bool) {
        self.continued.expire(now, |_, _| {});
        let key = conn_key(flow);
        let earlier = self.continued.get(&key).copied().filter(|o| !o.ended);
        let opened = earlier.unwrap_or(Opened {
            start: flow.first_ts.as_micros(),
            client: (Addr(flow.src_addr), flow.src_port),
            server: (Addr(flow.dst_addr), flow.dst_port),
            ended: false,
        });
        if flow.end_reason == EndReason::Active {
            *self.continued.touch(key, now, || opened, |_, _| {}) = opened;
        } else if let Some(o) = self.continued.get_mut(&key) {
            o.ended = true;
        }
        (opened, earlier.is_some())
    }
}

impl Detector for LongConnectionDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::NONE
    }

    fn stats(&self) -> DetectorStats {
        table_stats(
            NAME,
            &self.tally,
            &[&self.continued, &self.prevalence, &self.reported],
        )
    }

    fn on_flow_end(&mut self, flow: &FlowRecord, _features: &FeatureVector, out: &mut Vec<Alert>) {
        if !is_unicast(flow.dst_addr) {
            return;
        }
        let now = self.clock.advance(flow.last_ts);
        let (opened, continues) = self.connection(flow, now);
        let (client, server) = (opened.client.0, opened.server.0);
        // A connection's client is counted at its first piece, which it opened.
        let shared = if continues {
            self.prevalence.shared(server, now)
        } else {
            self.prevalence.observe(client, server, now)
        };
        let proto = flow.protocol.0;
        let start = opened.start;
        let duration = flow.last_ts.as_micros().saturating_sub(start);
        let c = &self.config;
        let step = c.step(duration);
        if step == 0 {
            return;
        }
        let population = self.prevalence.clients();
        let rare = !shared && population >= c.rare_min_clients as usize;
        let (ep, reported) = self
            .reported
            .event((client, server, opened.server.1, proto), now);
        if step <= *reported {
            self.tally.suppressed += 1;
            return;
        }
        *reported = step;
        ep.alerted = true;
        self.tally.alerts += 1;
        let ep = *ep;
        let level = step + u8::from(rare);
        let severity = match level {
            1 => Severity::Low,
            2 => Severity::Medium,
            _ => Severity::High,
        };
        let rarity = if rare {
            format!("; no other of the {population} clients seen talks to it")
        } else {
            String::new()
        };
        let ((c_addr, c_port), (s_addr, s_port)) = (opened.client, opened.server);
        let description = format!(
            "{}:{c_port} -> {}:{s_port}: one connection open for {:.1} h (since {}){rarity}.",
            c_addr.0,
            s_addr.0,
            duration as f64 / 3.6e9,
            Timestamp::from_micros(start),
        );
        out.push(
            AlertBuilder::new(NAME, now, "Long_Connection", severity, &ep)
                .addrs(Some(c_addr.0), Some(s_addr.0))
                .ports(Some(c_port), Some(s_port))
                .protocol(IpProtocol(proto))
                .flow(Some(flow.id))
                .score((0.5 + 0.125 * f64::from(level)).min(1.0))
                .observed("duration_us", duration)
                .observed(
                    "connection_start",
                    Timestamp::from_micros(start).to_string(),
                )
                .observed("rare_destination", rare)
                .observed(
                    "destination_clients",
                    if shared { "2 or more" } else { "1" },
                )
                .observed("clients_seen_estimate", population as u64)
                .threshold("min_duration_us", c.min_duration_us)
                .threshold("medium_us", c.medium_us)
                .threshold("high_us", c.high_us)
                .threshold("rare_min_clients", c.rare_min_clients)
                .threshold("prevalence_window_us", secs(c.prevalence_window_us))
                .build(description),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::tests_util::feed;
    use crate::decode::{PacketMeta, TcpFlags};
    use crate::synth;

    const MIN: i64 = 60_000_000;

    /// A TCP connection from `client`:`sport` to `server`:4444 with a keystroke and its echo
    /// every 30 s for `minutes`, starting at `t0` µs.
    fn session(
        client: [u8; 4],
        sport: u16,
        server: [u8; 4],
        t0: i64,
        minutes: i64,
    ) -> Vec<PacketMeta> {
        const A: u8 = TcpFlags::ACK;
        let mut p = vec![
            synth::tcp(t0, client, sport, server, 4444, TcpFlags::SYN, 0, 64240),
            synth::tcp(
                t0 + 1,
                server,
                4444,
                client,
                sport,
                TcpFlags::SYN | A,
                0,
                64240,
            ),
            synth::tcp(t0 + 2, client, sport, server, 4444, A, 0, 64240),
        ];
        for i in 1..=2 * minutes {
            let t = t0 + i * MIN / 2;
            p.push(synth::tcp(
                t,
                client,
                sport,
                server,
                4444,
                A | TcpFlags::PSH,
                1,
                64240,
            ));
            p.push(synth::tcp(
                t + 5,
                server,
                4444,
                client,
                sport,
                A | TcpFlags::PSH,
                1,
                64240,
            ));
        }
        p
    }

    /// `n` other clients making one short connection each to a shared server.
    fn crowd(n: u8, t0: i64) -> Vec<PacketMeta> {
        (0..n)
            .flat_map(|i| {
                session(
                    [10, 0, 1, 10 + i],
                    50000,
                    [10, 0, 9, 9],
                    t0 + i64::from(i),
                    1,
                )
            })
            .collect()
    }

    fn by_time(mut p: Vec<PacketMeta>) -> Vec<PacketMeta> {
        p.sort_by_key(|m| m.ts);
        p
    }

    fn detector() -> LongConnectionDetector {
        LongConnectionDetector::new(&LongConnectionConfig::default()).expect("valid")
    }

    #[test]
    fn a_connection_split_by_the_active_timeout_is_joined_and_reported_per_step() {
        // 5 h: exported in 30-minute pieces by the flow table's active timeout.
        let alerts = feed(
            &mut detector(),
            &session([10, 0, 0, 5], 40000, [203, 0, 113, 7], 0, 300),
        );
        let steps: Vec<_> = alerts
            .iter()
            .map(|a| (a.attack_type.as_str(), a.severity))
            .collect();
        assert_eq!(
            steps,
            [
                ("Long_Connection", Severity::Low),
                ("Long_Connection", Severity::Medium)
            ],
            "{alerts:?}"
        );
        assert_eq!(alerts[0].dst_port, Some(4444));
        assert_eq!(alerts[0].src_ip, Some([10, 0, 0, 5].into()));
        let d = alerts[0].meta["observed"]["duration_us"]
            .as_i64()
            .expect("duration");
        assert!((3_600_000_000..=5_400_000_000).contains(&d), "{d}");
        assert_eq!(alerts[0].meta["observed"]["rare_destination"], false);
    }

    #[test]
    fn short_connections_and_broadcasts_are_not_long() {
        // 50 minutes, then another 50 on a new connection: neither lasts an hour.
        let mut p = session([10, 0, 0, 5], 40000, [203, 0, 113, 7], 0, 50);
        p.extend(session(
            [10, 0, 0, 5],
            40001,
            [203, 0, 113, 7],
            51 * MIN,
            50,
        ));
        assert!(feed(&mut detector(), &p).is_empty());
        let p = session([10, 0, 0, 5], 40000, [255, 255, 255, 255], 0, 90);
        assert!(feed(&mut detector(), &p).is_empty());
    }

    fn seventy_minutes_to_one_destination() -> Vec<PacketMeta> {
        session([10, 0, 0, 5], 40000, [203, 0, 113, 7], 10 * MIN, 70)
    }

    #[test]
    fn a_rare_destination_raises_the_severity() {
        let mut p = crowd(12, 0);
        p.extend(seventy_minutes_to_one_destination());
        let alerts = feed(&mut detector(), &by_time(p));
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].severity, Severity::Medium);
        assert_eq!(alerts[0].meta["observed"]["rare_destination"], true);
        assert!(
            alerts[0].description.contains("no other of the 13 clients"),
            "{}",
            alerts[0].description
        );
        // The same destination shared with another client is not rare.
        let mut p = crowd(12, 0);
        p.extend(session([10, 0, 0, 6], 40000, [203, 0, 113, 7], 0, 2));
        p.extend(seventy_minutes_to_one_destination());
        let alerts = feed(&mut detector(), &by_time(p));
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].severity, Severity::Low);
    }

    #[test]
    fn bad_settings_are_named() {
        let c = LongConnectionConfig {
            medium_us: 1,
            ..LongConnectionConfig::default()
        };
        let e = LongConnectionDetector::new(&c).expect_err("medium below minimum");
        assert!(e.to_string().contains("long_connection.medium_us"), "{e}");
    }
}
