//! UDP amplification / reflection: many replies from well-known amplifier source ports, sent
//! by many reflectors to one victim.
//!
//! Counted per victim (the destination): UDP datagrams whose source port is an amplifier port
//! and whose payload is at least `min_payload` bytes, and the distinct reflectors (source
//! addresses) that sent them. Both thresholds must be reached within the window: many replies
//! from one server (a VPN peer on 4500, a busy resolver) are not reflection. Non-first
//! fragments carry no ports and are not counted.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, DistinctWindow, Episodes, RateWindow, Tally};
use super::{
    intensity_score, secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check,
};
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "amplification";

/// Source ports of well-known UDP amplifiers: QOTD 17, chargen 19, DNS 53, TFTP 69, portmap
/// 111, NTP 123, NetBIOS 137, SNMP 161, CLDAP 389, ISAKMP 500 and NAT-T 4500, RIPv1 520,
/// SSDP 1900, ARMS 3283, WS-Discovery 3702, mDNS 5353, CoAP 5683, Ubiquiti 10001, memcached
/// 11211.
pub const DEFAULT_AMPLIFIER_PORTS: [u16; 20] = [
    17, 19, 53, 69, 111, 123, 137, 161, 389, 500, 520, 1900, 3283, 3702, 4500, 5353, 5683, 10001,
    11211, 27960,
];

/// Settings of the [`AmplificationDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmplificationConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// Sliding window, µs (default 10 s).
    pub window_us: i64,
    /// Replies to one victim within the window (default 200).
    pub min_packets: u64,
    /// Distinct reflectors sending them within the window (default 20).
    pub min_reflectors: u64,
    /// Smallest UDP payload that counts, bytes (default 100; real amplified replies are
    /// larger, small ones are ordinary request/response traffic).
    pub min_payload: u32,
    /// Amplifier source ports besides [`DEFAULT_AMPLIFIER_PORTS`].
    pub extra_ports: Vec<u16>,
    /// A victim quiet for this long ends its episode, µs (default 120 s).
    pub quiet_us: i64,
    /// Cap of the victim table and of the (victim, reflector) table (default 16384).
    pub max_tracked: usize,
}

impl Default for AmplificationConfig {
    fn default() -> Self {
        AmplificationConfig {
            enabled: true,
            window_us: 10_000_000,
            min_packets: 200,
            min_reflectors: 20,
            min_payload: 100,
            extra_ports: Vec::new(),
            quiet_us: 120_000_000,
            max_tracked: 1 << 14,
        }
    }
}

impl AmplificationConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("window_us", self.window_us)?;
        c.at_least_one("min_packets", self.min_packets)?;
        c.at_least_one("min_reflectors", self.min_reflectors)?;
        c.ports("extra_ports", self.extra_ports.iter().copied())?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// Per-victim counts.
#[derive(Debug, Clone, Copy, Default)]
struct Victim {
    rate: RateWindow,
    bytes: u64,
    /// The amplifier port while all replies used one.
    port: Option<u16>,
    ports_mixed: bool,
}

/// Detects UDP amplification (see the module docs); one alert per victim and episode.
#[derive(Debug)]
pub struct AmplificationDetector {
    config: AmplificationConfig,
    /// Sorted, deduplicated amplifier ports.
    ports: Vec<u16>,
    clock: Clock,
    reflectors: DistinctWindow<Addr, Addr>,
    victims: Episodes<Addr, Victim>,
    tally: Tally,
}

impl AmplificationDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &AmplificationConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        let mut ports: Vec<u16> = DEFAULT_AMPLIFIER_PORTS
            .iter()
            .chain(&config.extra_ports)
            .copied()
            .collect();
        ports.sort_unstable();
        ports.dedup();
        Ok(AmplificationDetector {
            config: config.clone(),
            ports,
            clock: Clock::default(),
            reflectors: DistinctWindow::new(config.max_tracked, config.window_us),
            victims: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            tally: Tally::default(),
        })
    }
}

impl Detector for AmplificationDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::UDP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.reflectors, &self.victims])
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        _flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = transport(pkt) else {
            return;
        };
        let m = &ip.meta;
        if m.protocol != IpProtocol::UDP
            || m.payload_len < self.config.min_payload
            || self.ports.binary_search(&m.src_port).is_err()
        {
            return;
        }
        let now = self.clock.advance(m.ts);
        let c = &self.config;
        let (reflectors, _) = self
            .reflectors
            .observe(Addr(m.dst_addr), Addr(m.src_addr), now);
        let (ep, v) = self.victims.event(Addr(m.dst_addr), now);
        v.bytes = v.bytes.saturating_add(u64::from(m.ip_len));
        match v.port {
            None if !v.ports_mixed => v.port = Some(m.src_port),
            Some(p) if p != m.src_port => {
                v.port = None;
                v.ports_mixed = true;
            }
            _ => {}
        }
        let count = v.rate.add(now, 1, c.window_us);
        if count < c.min_packets || u64::from(reflectors) < c.min_reflectors || !self.tally.fire(ep)
        {
            return;
        }
        let (ep, v) = (*ep, *v);
        let dst = m.dst_addr;
        let from = match v.port {
            Some(p) => format!("source port {p}"),
            None => "several amplifier ports".to_string(),
        };
        let description = format!(
            "{dst} received {count} UDP replies of at least {} payload bytes from {reflectors} reflectors ({from}) within {} ({} replies, {} bytes since {}).",
            c.min_payload,
            secs(c.window_us),
            ep.events,
            v.bytes,
            ep.first
        );
        let alert = AlertBuilder::new(NAME, now, "DDoS_Amplification", Severity::High, &ep)
            .addrs(None, Some(dst))
            .ports(v.port, None)
            .protocol(IpProtocol::UDP)
            .score(intensity_score(
                count,
                c.min_packets,
                now.micros_since(ep.first),
                c.window_us,
            ))
            .observed("replies", ep.events)
            .observed("reflectors", reflectors)
            .observed("bytes", v.bytes)
            .observed("in_window", count)
            .threshold("window_us", c.window_us)
            .threshold("min_packets", c.min_packets)
            .threshold("min_reflectors", c.min_reflectors)
            .threshold("min_payload", c.min_payload)
            .build(description);
        out.push(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::tests_util::feed;
    use crate::decode::PacketMeta;
    use crate::synth;
    use std::net::IpAddr;

    const VICTIM: [u8; 4] = [10, 10, 10, 10];

    fn reply(i: u32, reflectors: u32, sport: u16, len: u32) -> PacketMeta {
        let r = (i % reflectors).to_be_bytes();
        synth::udp(
            i64::from(i) * 100,
            [100, r[1], r[2], r[3]],
            sport,
            VICTIM,
            40000,
            len,
        )
    }

    fn detector(f: impl FnOnce(&mut AmplificationConfig)) -> AmplificationDetector {
        let mut c = AmplificationConfig::default();
        f(&mut c);
        AmplificationDetector::new(&c).expect("valid")
    }

    #[test]
    fn needs_packets_and_reflectors() {
        let mut d = detector(|_| {});
        let pkts: Vec<_> = (0..199).map(|i| reply(i, 50, 161, 1200)).collect();
        assert!(feed(&mut d, &pkts).is_empty());
        let a = feed(&mut d, &[reply(199, 50, 161, 1200)]);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].attack_type, "DDoS_Amplification");
        assert_eq!(a[0].src_port, Some(161));
        assert_eq!(a[0].dst_ip, Some(IpAddr::from(VICTIM)));
        assert_eq!(a[0].meta["observed"]["reflectors"], 50);
        // One busy server (a VPN peer on 4500) is not reflection.
        let mut d = detector(|_| {});
        let pkts: Vec<_> = (0..5000).map(|i| reply(i, 1, 4500, 1200)).collect();
        assert!(feed(&mut d, &pkts).is_empty());
        // Small replies and other ports do not count.
        let mut d = detector(|_| {});
        let mut pkts: Vec<_> = (0..1000).map(|i| reply(i, 500, 53, 40)).collect();
        pkts.extend((0..1000).map(|i| reply(i, 500, 8080, 1200)));
        assert!(feed(&mut d, &pkts).is_empty());
    }

    #[test]
    fn extra_ports_episodes_and_bounds() {
        let mut d = detector(|c| {
            c.extra_ports = vec![8080];
            c.min_packets = 10;
            c.min_reflectors = 5;
            c.max_tracked = 32;
        });
        let mut pkts: Vec<_> = (0..100).map(|i| reply(i, 1000, 8080, 500)).collect();
        pkts.extend((0..100).map(|i| {
            let mut m = reply(i, 1000, 8080, 500);
            m.ts = m.ts.add_micros(1_000_000_000);
            m
        }));
        let a = feed(&mut d, &pkts);
        assert_eq!(a.len(), 2);
        let s = d.stats();
        assert!(s.tracked <= 64 && s.evicted > 0, "{s:?}");
    }
}
