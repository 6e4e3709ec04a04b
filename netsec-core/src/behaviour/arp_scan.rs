//! ARP scans: one MAC asking for many addresses (`arp-scan`, `nmap -sn` on a local segment,
//! worms mapping their LAN). A host resolves the few neighbours it talks to; a scanner asks
//! for a whole subnet in seconds.
//!
//! Requests count by (sender MAC, target IP) within `window_us`; ARP probes (sender IP
//! 0.0.0.0, RFC 5227 duplicate-address detection) and gratuitous ARPs do not count. One alert
//! per MAC and episode, `attack_type` `ARP_Scan`, with `meta.mac` and the number of addresses
//! asked for.

use serde::{Deserialize, Serialize};

use super::state::{Clock, DistinctWindow, Episodes, Tally};
use super::{
    intensity_score, mac_string, secs, table_stats, AlertBuilder, BehaviourConfigError, Check,
};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "arp_scan";

/// Settings of the [`ArpScanDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArpScanConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// Window for distinct addresses asked for, µs (default 60 s).
    pub window_us: i64,
    /// Distinct addresses one MAC asks for within the window (default 32: a busy host
    /// resolves a handful of neighbours; a /24 sweep asks for 254).
    pub distinct_targets: u64,
    /// A MAC quiet for this long ends its episode, µs (default 300 s).
    pub quiet_us: i64,
    /// Cap of each table (MACs, (MAC, address) pairs), default 4096: ARP stays on the local
    /// segment.
    pub max_tracked: usize,
}

impl Default for ArpScanConfig {
    fn default() -> Self {
        ArpScanConfig {
            enabled: true,
            window_us: 60_000_000,
            distinct_targets: 32,
            quiet_us: 300_000_000,
            max_tracked: 1 << 12,
        }
    }
}

impl ArpScanConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check("arp_scan");
        c.positive("window_us", self.window_us)?;
        c.at_least_one("distinct_targets", self.distinct_targets)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// Detects ARP scans; one alert per scanning MAC and episode.
#[derive(Debug)]
pub struct ArpScanDetector {
    config: ArpScanConfig,
    clock: Clock,
    targets: DistinctWindow<[u8; 6], std::net::Ipv4Addr>,
    macs: Episodes<[u8; 6], ()>,
    tally: Tally,
}

impl ArpScanDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &ArpScanConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(ArpScanDetector {
            config: config.clone(),
            clock: Clock::default(),
            targets: DistinctWindow::new(config.max_tracked, config.window_us),
            macs: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            tally: Tally::default(),
        })
    }
}

impl Detector for ArpScanDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::ARP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.targets, &self.macs])
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        _flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let PacketView::Arp { ts, arp, .. } = pkt else {
            return;
        };
        let probe = arp.sender_ip.is_unspecified();
        let gratuitous = arp.sender_ip == arp.target_ip;
        if arp.operation != 1 || probe || gratuitous || arp.target_ip.is_unspecified() {
            return;
        }
        let now = self.clock.advance(*ts);
        let c = &self.config;
        let (asked, _) = self.targets.observe(arp.sender_mac, arp.target_ip, now);
        let (ep, ()) = self.macs.event(arp.sender_mac, now);
        if u64::from(asked) < c.distinct_targets || !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let mac = mac_string(arp.sender_mac);
        let description = format!(
            "{mac} ({}) asked for {asked} addresses by ARP within {} (last {}): an ARP scan.",
            arp.sender_ip,
            secs(c.window_us),
            arp.target_ip
        );
        let alert = AlertBuilder::new(NAME, now, "ARP_Scan", Severity::Medium, &ep)
            .protocol_name("ARP")
            .score(intensity_score(
                u64::from(asked),
                c.distinct_targets,
                now.micros_since(ep.first),
                c.window_us,
            ))
            .meta("mac", mac)
            .meta("ip", arp.sender_ip.to_string())
            .observed("distinct_targets", u64::from(asked))
            .observed("arp_requests", ep.events)
            .threshold("window_us", c.window_us)
            .threshold("distinct_targets", c.distinct_targets)
            .build(description);
        out.push(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{ArpInfo, L2Info};
    use crate::time::Timestamp;

    fn request(t_ms: i64, mac: [u8; 6], sip: [u8; 4], tip: [u8; 4]) -> Vec<Alert> {
        let arp = ArpInfo {
            operation: 1,
            sender_mac: mac,
            sender_ip: sip.into(),
            target_mac: [0; 6],
            target_ip: tip.into(),
        };
        let l2 = L2Info::default();
        let pkt = PacketView::Arp {
            ts: Timestamp::from_micros(t_ms * 1000),
            arp: &arp,
            l2: &l2,
        };
        let mut out = Vec::new();
        DETECTOR.with(|d| d.borrow_mut().on_packet(&pkt, None, &mut out));
        out
    }

    thread_local! {
        static DETECTOR: std::cell::RefCell<ArpScanDetector> =
            std::cell::RefCell::new(ArpScanDetector::new(&ArpScanConfig::default()).expect("defaults"));
    }

    #[test]
    fn a_subnet_sweep_alerts_once_and_neighbour_lookups_never() {
        let scanner = [2, 0, 0, 0, 0, 1];
        let host = [2, 0, 0, 0, 0, 2];
        let mut alerts = Vec::new();
        for i in 1..=100u8 {
            alerts.extend(request(
                i64::from(i) * 10,
                scanner,
                [10, 0, 0, 5],
                [10, 0, 0, i],
            ));
            // A normal host asks for its gateway and a few peers, again and again.
            alerts.extend(request(
                i64::from(i) * 10,
                host,
                [10, 0, 0, 6],
                [10, 0, 0, 1 + i % 5],
            ));
            // Probes (sender 0.0.0.0) never count.
            alerts.extend(request(
                i64::from(i) * 10,
                host,
                [0, 0, 0, 0],
                [10, 0, 1, i],
            ));
        }
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!(a.attack_type, "ARP_Scan");
        assert_eq!(a.meta["mac"], "02:00:00:00:00:01");
        assert_eq!(a.meta["observed"]["distinct_targets"], 32);
    }
}
