//! ICMP echo floods (many echo packets to one address) and ping sweeps (one source
//! echo-requesting many addresses).
//!
//! Echo messages are ICMP types 8/0 and ICMPv6 types 128/129, read from
//! [`PacketMeta::icmp_type`](crate::decode::PacketMeta::icmp_type). The flood count includes
//! echo replies, so a Smurf-style reflected reply flood counts against its victim too. Non-first
//! fragments (no ICMP header) are ignored.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, DistinctWindow, Episodes, RateWindow, Tally};
use super::{intensity_score, secs, table_stats, AlertBuilder, BehaviourConfigError, Check};
use crate::decode::{IpProtocol, PacketMeta};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const FLOOD: &str = "icmp_flood";
const SWEEP: &str = "ping_sweep";

/// Settings of the [`IcmpFloodDetector`] and the [`PingSweepDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IcmpConfig {
    /// Run both detectors (default true).
    pub enabled: bool,
    /// Flood window, µs (default 10 s).
    pub flood_window_us: i64,
    /// Echo requests and replies to one address within the flood window (default 200, i.e.
    /// 20 per second; ping sends 1, traceroute bursts stay under 100).
    pub flood_packets: u64,
    /// Sweep window, µs (default 60 s).
    pub sweep_window_us: i64,
    /// Distinct addresses echo-requested by one source within the sweep window (default 32).
    pub sweep_hosts: u64,
    /// A key quiet for this long ends its episode, µs (default 120 s).
    pub quiet_us: i64,
    /// Cap of each table (victims, sources, (source, host) pairs), default 16384.
    pub max_tracked: usize,
}

impl Default for IcmpConfig {
    fn default() -> Self {
        IcmpConfig {
            enabled: true,
            flood_window_us: 10_000_000,
            flood_packets: 200,
            sweep_window_us: 60_000_000,
            sweep_hosts: 32,
            quiet_us: 120_000_000,
            max_tracked: 1 << 14,
        }
    }
}

impl IcmpConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check("icmp");
        c.positive("flood_window_us", self.flood_window_us)?;
        c.at_least_one("flood_packets", self.flood_packets)?;
        c.positive("sweep_window_us", self.sweep_window_us)?;
        c.at_least_one("sweep_hosts", self.sweep_hosts)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// `Some(true)` for an echo request, `Some(false)` for an echo reply, else `None`.
pub(crate) fn echo(m: &PacketMeta) -> Option<bool> {
    if m.fragment.is_some_and(|f| !f.is_first()) {
        return None;
    }
    match (m.protocol, m.icmp_type) {
        (IpProtocol::ICMP, 8) | (IpProtocol::ICMPV6, 128) => Some(true),
        (IpProtocol::ICMP, 0) | (IpProtocol::ICMPV6, 129) => Some(false),
        _ => None,
    }
}

/// Per-victim echo counts.
#[derive(Debug, Clone, Copy, Default)]
struct Flood {
    rate: RateWindow,
    requests: u64,
    replies: u64,
    bytes: u64,
}

/// Detects ICMP echo floods against one address; one alert per victim and episode.
#[derive(Debug)]
pub struct IcmpFloodDetector {
    config: IcmpConfig,
    clock: Clock,
    victims: Episodes<Addr, Flood>,
    tally: Tally,
}

impl IcmpFloodDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &IcmpConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(IcmpFloodDetector {
            config: config.clone(),
            clock: Clock::default(),
            victims: Episodes::new(config.max_tracked, config.quiet_us, config.flood_window_us),
            tally: Tally::default(),
        })
    }
}

impl Detector for IcmpFloodDetector {
    fn name(&self) -> &str {
        FLOOD
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::ICMP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(FLOOD, &self.tally, &[&self.victims])
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        _flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = pkt.ip() else {
            return;
        };
        let m = &ip.meta;
        let Some(request) = echo(m) else {
            return;
        };
        let now = self.clock.advance(m.ts);
        let c = &self.config;
        let (ep, v) = self.victims.event(Addr(m.dst_addr), now);
        if request {
            v.requests += 1;
        } else {
            v.replies += 1;
        }
        v.bytes = v.bytes.saturating_add(u64::from(m.ip_len));
        let count = v.rate.add(now, 1, c.flood_window_us);
        if count < c.flood_packets || !self.tally.fire(ep) {
            return;
        }
        let (ep, v) = (*ep, *v);
        let dst = m.dst_addr;
        let description = format!(
            "{dst} received {count} ICMP echo packets within {} ({} requests, {} replies, {} bytes since {}).",
            secs(c.flood_window_us),
            v.requests,
            v.replies,
            v.bytes,
            ep.first
        );
        let alert = AlertBuilder::new(FLOOD, now, "ICMP_Flood", Severity::Medium, &ep)
            .addrs(None, Some(dst))
            .protocol(m.protocol)
            .score(intensity_score(
                count,
                c.flood_packets,
                now.micros_since(ep.first),
                c.flood_window_us,
            ))
            .meta("last_source", m.src_addr.to_string())
            .observed("echo_requests", v.requests)
            .observed("echo_replies", v.replies)
            .observed("bytes", v.bytes)
            .observed("in_window", count)
            .threshold("flood_window_us", c.flood_window_us)
            .threshold("flood_packets", c.flood_packets)
            .build(description);
        out.push(alert);
    }
}

/// Detects ping sweeps from one source; one alert per source and episode.
#[derive(Debug)]
pub struct PingSweepDetector {
    config: IcmpConfig,
    clock: Clock,
    hosts: DistinctWindow<Addr, Addr>,
    sources: Episodes<Addr, ()>,
    tally: Tally,
}

impl PingSweepDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &IcmpConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(PingSweepDetector {
            config: config.clone(),
            clock: Clock::default(),
            hosts: DistinctWindow::new(config.max_tracked, config.sweep_window_us),
            sources: Episodes::new(config.max_tracked, config.quiet_us, config.sweep_window_us),
            tally: Tally::default(),
        })
    }
}

impl Detector for PingSweepDetector {
    fn name(&self) -> &str {
        SWEEP
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::ICMP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(SWEEP, &self.tally, &[&self.hosts, &self.sources])
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        _flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = pkt.ip() else {
            return;
        };
        let m = &ip.meta;
        if echo(m) != Some(true) {
            return;
        }
        let now = self.clock.advance(m.ts);
        let c = &self.config;
        let (hosts, _) = self.hosts.observe(Addr(m.src_addr), Addr(m.dst_addr), now);
        let (ep, ()) = self.sources.event(Addr(m.src_addr), now);
        if u64::from(hosts) < c.sweep_hosts || !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let src = m.src_addr;
        let description = format!(
            "{src} sent ICMP echo requests to {hosts} distinct hosts within {} ({} requests since {}).",
            secs(c.sweep_window_us),
            ep.events,
            ep.first
        );
        let alert = AlertBuilder::new(SWEEP, now, "Ping_Sweep", Severity::Low, &ep)
            .addrs(Some(src), None)
            .protocol(m.protocol)
            .score(intensity_score(
                u64::from(hosts),
                c.sweep_hosts,
                now.micros_since(ep.first),
                c.sweep_window_us,
            ))
            .observed("distinct_hosts", hosts)
            .observed("echo_requests", ep.events)
            .threshold("sweep_window_us", c.sweep_window_us)
            .threshold("sweep_hosts", c.sweep_hosts)
            .build(description);
        out.push(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::tests_util::feed;
    use crate::synth;
    use std::net::IpAddr;

    fn config(f: impl FnOnce(&mut IcmpConfig)) -> IcmpConfig {
        let mut c = IcmpConfig::default();
        f(&mut c);
        c
    }

    #[test]
    fn flood_edge_and_replies_count() {
        let mut d = IcmpFloodDetector::new(&IcmpConfig::default()).expect("valid");
        let victim = [10, 0, 0, 1];
        let pkts: Vec<_> = (0..199)
            .map(|i| synth::icmp_echo(i * 1000, [1, 1, 1, (i % 200) as u8], victim, 7, 56))
            .collect();
        assert!(feed(&mut d, &pkts).is_empty());
        let mut reply = synth::icmp_echo(200_000, [2, 2, 2, 2], victim, 7, 56);
        reply.icmp_type = 0;
        let a = feed(&mut d, &[reply]);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].attack_type, "ICMP_Flood");
        assert_eq!(a[0].meta["observed"]["echo_replies"], 1);
        assert_eq!(a[0].protocol.as_deref(), Some("ICMP"));
    }

    #[test]
    fn non_echo_and_slow_pings_do_not_flood() {
        let mut d = IcmpFloodDetector::new(&config(|c| c.flood_packets = 5)).expect("valid");
        let unreach: Vec<_> = (0..50)
            .map(|i| synth::icmp(i, [1, 1, 1, 1], [10, 0, 0, 1], 3, 3, 28))
            .collect();
        assert!(feed(&mut d, &unreach).is_empty());
        // One ping per 3 s: at most 4 in a 10 s window.
        let slow: Vec<_> = (0..100)
            .map(|i| synth::icmp_echo(i * 3_000_000, [1, 1, 1, 1], [10, 0, 0, 1], 7, 56))
            .collect();
        assert!(feed(&mut d, &slow).is_empty());
    }

    #[test]
    fn sweep_edge_episode_and_bound() {
        let c = config(|c| c.max_tracked = 40);
        let mut d = PingSweepDetector::new(&c).expect("valid");
        let sweep = |t0: i64, n: u8| -> Vec<_> {
            (0..n)
                .map(|h| {
                    synth::icmp_echo(
                        t0 + i64::from(h) * 1000,
                        [10, 0, 0, 128],
                        [10, 0, 0, h],
                        1,
                        0,
                    )
                })
                .collect()
        };
        assert!(feed(&mut d, &sweep(0, 31)).is_empty());
        let a = feed(&mut d, &sweep(1_000_000, 40));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].attack_type, "Ping_Sweep");
        assert_eq!(a[0].src_ip, Some(IpAddr::from([10, 0, 0, 128])));
        assert_eq!(a[0].severity, Severity::Low);
        // Same episode: nothing new; after the quiet period: again.
        assert!(feed(&mut d, &sweep(2_000_000, 40)).is_empty());
        assert_eq!(feed(&mut d, &sweep(600_000_000, 40)).len(), 1);
        assert!(d.stats().tracked <= 80);
        // Replies are not requests.
        let mut d = PingSweepDetector::new(&config(|c| c.sweep_hosts = 2)).expect("valid");
        let mut r = sweep(0, 5);
        for m in &mut r {
            m.icmp_type = 0;
        }
        assert!(feed(&mut d, &r).is_empty());
    }
}
