//! Tunnels over ICMP echo (ptunnel, icmptunnel, hans): echo messages that carry something
//! other than ping's filler, as nDPI's ICMP risks read them.
//!
//! - **Encapsulated IP:** the echo data starts with an IPv4 or IPv6 header whose length field
//!   matches the data (icmptunnel sends whole IP packets this way).
//! - **Varying sizes:** one source's echo requests to one host change their data length at
//!   least `size_changes` times, each within `window_us` of the one before. `ping` sends one
//!   size for a whole run (`-s`), so a tunnel's payload-driven sizes stand out. One table
//!   lookup per echo request (last size and change count per pair).
//!
//! One alert (`ICMP_Tunnel`) per (pinging host, pinged host) and episode: a tunnel's
//! requests and replies are one finding.

use serde::{Deserialize, Serialize};

use super::icmp::echo;
use super::state::{Addr, Clock, Episodes, Tally, TimedTable};
use super::{secs, table_stats, AlertBuilder, BehaviourConfigError, Check};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "icmp_tunnel";

/// Settings of the [`IcmpTunnelDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IcmpTunnelConfig {
    /// Run the detector (default true).
    pub enabled: bool,
    /// A pair's size changes are forgotten after this long without an echo request, µs
    /// (default 60 s).
    pub window_us: i64,
    /// Changes of echo-request data size from one source to one host (default 8).
    pub size_changes: u64,
    /// A pair quiet for this long ends its episode, µs (default 300 s).
    pub quiet_us: i64,
    /// Cap of each table, default 1024.
    pub max_tracked: usize,
}

impl Default for IcmpTunnelConfig {
    fn default() -> Self {
        IcmpTunnelConfig {
            enabled: true,
            window_us: 60_000_000,
            size_changes: 8,
            quiet_us: 300_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl IcmpTunnelConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("window_us", self.window_us)?;
        c.at_least_one("size_changes", self.size_changes)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// Whether echo `data` starts with an IP header whose total length is the data's length.
pub(crate) fn carries_ip(data: &[u8]) -> bool {
    match data.first().map(|b| b >> 4) {
        Some(4) if data.len() >= 20 && data[0] & 0x0f >= 5 => {
            usize::from(u16::from_be_bytes([data[2], data[3]])) == data.len()
        }
        Some(6) if data.len() >= 40 => {
            usize::from(u16::from_be_bytes([data[4], data[5]])) + 40 == data.len()
        }
        _ => false,
    }
}

/// Detects tunnels over ICMP echo.
#[derive(Debug)]
pub struct IcmpTunnelDetector {
    config: IcmpTunnelConfig,
    clock: Clock,
    /// Per pair: the last echo-request data size and the changes counted.
    sizes: TimedTable<(Addr, Addr), (u32, u32)>,
    pairs: Episodes<(Addr, Addr), ()>,
    tally: Tally,
}

impl IcmpTunnelDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &IcmpTunnelConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(IcmpTunnelDetector {
            config: config.clone(),
            clock: Clock::default(),
            sizes: TimedTable::new(config.max_tracked, config.window_us),
            pairs: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            tally: Tally::default(),
        })
    }
}

impl Detector for IcmpTunnelDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::ICMP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.sizes, &self.pairs])
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
        // Keyed by the pinging side, so a tunnel's requests and replies are one finding.
        let (client, server) = if request {
            (m.src_addr, m.dst_addr)
        } else {
            (m.dst_addr, m.src_addr)
        };
        let key = (Addr(client), Addr(server));
        let why = if carries_ip(ip.payload) {
            "echo data that is a whole IP packet".to_string()
        } else if request {
            self.sizes.expire(now, |_, _| {});
            let size = m.payload_len;
            let (last, changes) = self.sizes.touch(key, now, || (size, 0), |_, _| {});
            if *last != size {
                *last = size;
                *changes += 1;
            }
            if u64::from(*changes) != c.size_changes {
                return;
            }
            format!(
                "echo requests that changed their data size {changes} times, each within {} of the last",
                secs(c.window_us)
            )
        } else {
            return;
        };
        let (ep, ()) = self.pairs.event(key, now);
        if !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let description = format!("{client} <-> {server} (ICMP echo): {why}.");
        out.push(
            AlertBuilder::new(NAME, now, "ICMP_Tunnel", Severity::Medium, &ep)
                .addrs(Some(client), Some(server))
                .protocol(m.protocol)
                .score(0.8)
                .observed("finding", why)
                .observed("data_bytes", u64::from(m.payload_len))
                .threshold("size_changes", c.size_changes)
                .threshold("window_us", c.window_us)
                .build(description),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encapsulated_ip() {
        let mut v4 = vec![0x45, 0, 0, 28];
        v4.resize(28, 0);
        assert!(carries_ip(&v4));
        v4.push(0);
        assert!(!carries_ip(&v4), "length differs");
        // Linux ping's data: a timestamp then 0x08, 0x09, …
        let mut ping = vec![0x2d, 0x6e, 0x13, 0x51, 0, 0, 0, 0];
        ping.extend(8u8..56);
        assert!(!carries_ip(&ping));
        let mut v6 = vec![0x60, 0, 0, 0, 0, 8];
        v6.resize(48, 0);
        assert!(carries_ip(&v6));
        assert!(!carries_ip(&[]));
    }

    #[test]
    fn varying_echo_sizes_make_one_alert_fixed_ping_none() {
        use crate::behaviour::tests_util::feed;
        use crate::synth::icmp_echo;
        let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let ping: Vec<_> = (0..60)
            .map(|i| icmp_echo(i * 1_000_000, a, b, 7, 56))
            .collect();
        let mut d = IcmpTunnelDetector::new(&IcmpTunnelConfig::default()).expect("valid");
        assert!(feed(&mut d, &ping).is_empty(), "ping -s 56");
        let tunnel: Vec<_> = (0..60)
            .map(|i| icmp_echo(i * 100_000, a, b, 7, 40 + (i as u32 * 37) % 900))
            .collect();
        let mut d = IcmpTunnelDetector::new(&IcmpTunnelConfig::default()).expect("valid");
        let alerts = feed(&mut d, &tunnel);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].attack_type, "ICMP_Tunnel");
    }
}
