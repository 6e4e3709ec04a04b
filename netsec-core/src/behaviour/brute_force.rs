//! Brute force against login services: many short connections from one source to one service
//! (address and port) within a window.
//!
//! Works on finished flows ([`Detector::on_flow_end`]): a TCP flow to a login port counts as
//! one **attempt** when the server answered, some payload was exchanged (a login dialogue, not
//! a bare port probe), and it stayed short (`max_attempt_duration_us`, `max_attempt_packets`).
//! Long interactive sessions and bulk transfers therefore never count. Time is the flow's last
//! packet time, so an attempt counts when its flow ends (FIN/RST plus the flow table's linger,
//! or its idle timeout).

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, RateWindow, Tally};
use super::{intensity_score, secs, table_stats, AlertBuilder, BehaviourConfigError, Check};
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, Severity};
use crate::features::FeatureVector;
use crate::flow::FlowRecord;

const NAME: &str = "brute_force";

/// Login services watched by default: FTP 21, SSH 22, Telnet 23, SMB 445, RDP 3389.
pub const DEFAULT_LOGIN_SERVICES: [(u16, &str); 5] = [
    (21, "FTP"),
    (22, "SSH"),
    (23, "Telnet"),
    (445, "SMB"),
    (3389, "RDP"),
];

/// A TCP port watched for brute force and the name used in `Brute_Force_<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginService {
    /// TCP port of the service.
    pub port: u16,
    /// Name for the attack type (`[A-Za-z0-9_]+`, e.g. `VNC`).
    pub name: String,
}

/// Settings of the [`BruteForceDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BruteForceConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// Sliding window for attempts, µs (default 120 s).
    pub window_us: i64,
    /// A (source, service) pair without attempts for this long ends its episode, µs
    /// (default 600 s).
    pub quiet_us: i64,
    /// Attempts from one source to one service within the window (default 10, as Zeek's
    /// SSH guessing notice in the reference traces).
    pub attempts: u64,
    /// Longest flow that counts as an attempt, µs (default 30 s).
    pub max_attempt_duration_us: i64,
    /// Most packets (both directions) of a flow that counts as an attempt (default 200).
    pub max_attempt_packets: u64,
    /// Services watched besides [`DEFAULT_LOGIN_SERVICES`] (a port listed here overrides the
    /// default name). TOML: `extra_services = [{ port = 5900, name = "VNC" }]`.
    pub extra_services: Vec<LoginService>,
    /// Cap of the (source, service) table (default 16384).
    pub max_tracked: usize,
}

impl Default for BruteForceConfig {
    fn default() -> Self {
        BruteForceConfig {
            enabled: true,
            window_us: 120_000_000,
            quiet_us: 600_000_000,
            attempts: 10,
            max_attempt_duration_us: 30_000_000,
            max_attempt_packets: 200,
            extra_services: Vec::new(),
            max_tracked: 1 << 14,
        }
    }
}

impl BruteForceConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("window_us", self.window_us)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.at_least_one("attempts", self.attempts)?;
        c.positive("max_attempt_duration_us", self.max_attempt_duration_us)?;
        c.at_least_one("max_attempt_packets", self.max_attempt_packets)?;
        c.ports("extra_services", self.extra_services.iter().map(|s| s.port))?;
        for s in &self.extra_services {
            c.ident("extra_services", &s.name)?;
        }
        c.cap(self.max_tracked)
    }
}

/// Per (source, server, port) counts.
#[derive(Debug, Clone, Copy, Default)]
struct Attempts {
    rate: RateWindow,
}

/// Detects login brute force (see the module docs); one alert per (source, server, port) and
/// episode, with `attack_type` `Brute_Force_<service>`.
#[derive(Debug)]
pub struct BruteForceDetector {
    config: BruteForceConfig,
    /// (port, `Brute_Force_<name>`), at most a few dozen: a linear scan beats hashing.
    services: Vec<(u16, String)>,
    clock: Clock,
    pairs: Episodes<(Addr, Addr, u16), Attempts>,
    tally: Tally,
}

impl BruteForceDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &BruteForceConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        let mut services: Vec<(u16, String)> = config
            .extra_services
            .iter()
            .map(|s| (s.port, format!("Brute_Force_{}", s.name)))
            .collect();
        for (port, name) in DEFAULT_LOGIN_SERVICES {
            if !services.iter().any(|(p, _)| *p == port) {
                services.push((port, format!("Brute_Force_{name}")));
            }
        }
        Ok(BruteForceDetector {
            config: config.clone(),
            services,
            clock: Clock::default(),
            pairs: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            tally: Tally::default(),
        })
    }

    fn is_attempt(&self, flow: &FlowRecord) -> bool {
        let s = &flow.stats;
        flow.protocol == IpProtocol::TCP
            && s.bwd_packets() > 0
            && s.payload_bytes() > 0
            && s.packets() <= self.config.max_attempt_packets
            && flow.last_ts.micros_since(flow.first_ts) <= self.config.max_attempt_duration_us
    }
}

impl Detector for BruteForceDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::NONE
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.pairs])
    }

    fn on_flow_end(&mut self, flow: &FlowRecord, _features: &FeatureVector, out: &mut Vec<Alert>) {
        let Some(idx) = self.services.iter().position(|(p, _)| *p == flow.dst_port) else {
            return;
        };
        if !self.is_attempt(flow) {
            return;
        }
        let now = self.clock.advance(flow.last_ts);
        let c = &self.config;
        let key = (Addr(flow.src_addr), Addr(flow.dst_addr), flow.dst_port);
        let (ep, st) = self.pairs.event(key, now);
        let count = st.rate.add(now, 1, c.window_us);
        if count < c.attempts || !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let attack = &self.services[idx].1;
        let service = attack.trim_start_matches("Brute_Force_");
        let (src, dst, port) = (flow.src_addr, flow.dst_addr, flow.dst_port);
        let description = format!(
            "{src} made {count} short {service} connections to {dst}:{port} within {} ({} since {}).",
            secs(c.window_us),
            ep.events,
            ep.first
        );
        let alert = AlertBuilder::new(NAME, now, attack.as_str(), Severity::High, &ep)
            .addrs(Some(src), Some(dst))
            .ports(None, Some(port))
            .protocol(IpProtocol::TCP)
            .flow(Some(flow.id))
            .score(intensity_score(
                count,
                c.attempts,
                now.micros_since(ep.first),
                c.window_us,
            ))
            .meta("service", service)
            .observed("attempts", ep.events)
            .observed("in_window", count)
            .threshold("window_us", c.window_us)
            .threshold("attempts", c.attempts)
            .threshold("max_attempt_duration_us", c.max_attempt_duration_us)
            .threshold("max_attempt_packets", c.max_attempt_packets)
            .build(description);
        out.push(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::tests_util::feed;
    use crate::decode::{PacketMeta, TcpFlags};
    use crate::synth;

    const C: [u8; 4] = [192, 168, 56, 1];
    const S: [u8; 4] = [192, 168, 56, 101];

    /// One short login dialogue on `port` starting at `t_s` seconds: handshake, banner,
    /// credentials, rejection, FIN teardown.
    fn session(t_s: i64, sport: u16, port: u16) -> Vec<PacketMeta> {
        let t = t_s * 1_000_000;
        let (syn, ack, fin, psh) = (TcpFlags::SYN, TcpFlags::ACK, TcpFlags::FIN, TcpFlags::PSH);
        vec![
            synth::tcp(t, C, sport, S, port, syn, 0, 1),
            synth::tcp(t + 1, S, port, C, sport, syn | ack, 0, 1),
            synth::tcp(t + 2, C, sport, S, port, ack, 0, 1),
            synth::tcp(t + 3, S, port, C, sport, psh | ack, 20, 1),
            synth::tcp(t + 4, C, sport, S, port, psh | ack, 16, 1),
            synth::tcp(t + 5, S, port, C, sport, psh | ack, 22, 1),
            synth::tcp(t + 6, C, sport, S, port, fin | ack, 0, 1),
            synth::tcp(t + 7, S, port, C, sport, fin | ack, 0, 1),
            synth::tcp(t + 8, C, sport, S, port, ack, 0, 1),
        ]
    }

    fn sessions(n: u16, port: u16, every_s: i64) -> Vec<PacketMeta> {
        (0..n)
            .flat_map(|i| session(i64::from(i) * every_s, 40000 + i, port))
            .collect()
    }

    fn detector(f: impl FnOnce(&mut BruteForceConfig)) -> BruteForceDetector {
        let mut c = BruteForceConfig::default();
        f(&mut c);
        BruteForceDetector::new(&c).expect("valid")
    }

    #[test]
    fn threshold_edge_and_service_name() {
        let mut d = detector(|_| {});
        assert!(feed(&mut d, &sessions(9, 22, 5)).is_empty());
        let mut d = detector(|_| {});
        let a = feed(&mut d, &sessions(30, 21, 2));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].attack_type, "Brute_Force_FTP");
        assert_eq!(a[0].dst_port, Some(21));
        assert_eq!(a[0].meta["observed"]["attempts"], 10);
        assert!(a[0].flow_id.is_some());
        assert!(
            a[0].description.contains("10 short FTP connections"),
            "{}",
            a[0].description
        );
    }

    #[test]
    fn window_quiet_period_and_extra_services() {
        // One attempt every 15 s: at most 8 in any 120 s window.
        let mut d = detector(|_| {});
        assert!(feed(&mut d, &sessions(40, 22, 15)).is_empty());
        // 10 attempts, then 20 minutes of silence, then 10 more: two episodes.
        let mut d = detector(|_| {});
        let mut pkts = sessions(10, 3389, 1);
        pkts.extend((0..10u16).flat_map(|i| session(1200 + i64::from(i), 50000 + i, 3389)));
        let a = feed(&mut d, &pkts);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].attack_type, "Brute_Force_RDP");
        let mut d = detector(|c| {
            c.extra_services = vec![LoginService {
                port: 5900,
                name: "VNC".into(),
            }]
        });
        assert_eq!(
            feed(&mut d, &sessions(10, 5900, 1))[0].attack_type,
            "Brute_Force_VNC"
        );
        // Not a login port.
        let mut d = detector(|_| {});
        assert!(feed(&mut d, &sessions(50, 80, 1)).is_empty());
    }

    #[test]
    fn long_sessions_and_probes_are_not_attempts() {
        let mut d = detector(|c| c.max_attempt_packets = 5);
        assert!(feed(&mut d, &sessions(20, 22, 1)).is_empty());
        // SYN probes answered by RST carry no payload.
        let mut d = detector(|_| {});
        let pkts: Vec<_> = (0..50u16)
            .flat_map(|i| {
                let t = i64::from(i) * 1000;
                [
                    synth::tcp(t, C, 1000 + i, S, 22, TcpFlags::SYN, 0, 1),
                    synth::tcp(
                        t + 1,
                        S,
                        22,
                        C,
                        1000 + i,
                        TcpFlags::RST | TcpFlags::ACK,
                        0,
                        0,
                    ),
                ]
            })
            .collect();
        assert!(feed(&mut d, &pkts).is_empty());
    }

    #[test]
    fn bounded() {
        let mut d = detector(|c| {
            c.max_tracked = 8;
            c.attempts = 1000;
        });
        let pkts: Vec<_> = (0..100u16)
            .flat_map(|i| {
                let mut s = session(i64::from(i), 40000, 22);
                for m in &mut s {
                    if m.src_addr == std::net::IpAddr::from(C) {
                        m.src_addr = [10, 0, (i >> 8) as u8, i as u8].into();
                    } else {
                        m.dst_addr = [10, 0, (i >> 8) as u8, i as u8].into();
                    }
                }
                s
            })
            .collect();
        assert!(feed(&mut d, &pkts).is_empty());
        assert!(d.stats().tracked <= 8);
        assert_eq!(d.stats().evicted, 92);
    }
}
