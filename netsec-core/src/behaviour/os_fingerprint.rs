//! Active OS fingerprinting (`nmap -O`, Xprobe): probes whose TCP flags and window sizes no
//! ordinary stack sends, aimed at one host.
//!
//! Probe kinds, after nmap's OS detection probes: a segment with no flags (`NULL`, its T2);
//! `FIN|PSH|URG` without ACK (T7, "Xmas"); `SYN|FIN|PSH|URG` (T3); an ECN-setup SYN
//! (`SYN|ECE|CWR`) with a window of 3 (its ECN probe); and SYNs with the odd windows of its
//! sequence probes (1, 4, 16, 63); any other SYN+FIN without ACK. An ordinary ECN SYN has a normal window, so it does not
//! count. `distinct_kinds` different kinds from one source to one host within `window_us`
//! make one alert per (source, host) and episode, `attack_type` `OS_Fingerprinting`.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, DistinctWindow, Episodes, Tally};
use super::{secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check};
use crate::decode::{IpProtocol, TcpFlags};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "os_fingerprint";

/// Settings of the [`OsFingerprintDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OsFingerprintConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// Window for distinct probe kinds, µs (default 60 s).
    pub window_us: i64,
    /// Distinct probe kinds from one source to one host within the window (default 3 of the
    /// 6 kinds; nmap sends five of them within a second).
    pub distinct_kinds: u64,
    /// A pair quiet for this long ends its episode, µs (default 300 s).
    pub quiet_us: i64,
    /// Cap of each table, default 1024.
    pub max_tracked: usize,
}

impl Default for OsFingerprintConfig {
    fn default() -> Self {
        OsFingerprintConfig {
            enabled: true,
            window_us: 60_000_000,
            distinct_kinds: 3,
            quiet_us: 300_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl OsFingerprintConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check("os_fingerprint");
        c.positive("window_us", self.window_us)?;
        c.at_least_one("distinct_kinds", self.distinct_kinds)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// The probe kind of a TCP segment with `flags` and `window`, if it is one.
pub(crate) fn probe_kind(flags: u8, window: u16) -> Option<&'static str> {
    const SYN: u8 = TcpFlags::SYN;
    const FIN: u8 = TcpFlags::FIN;
    const PSH: u8 = TcpFlags::PSH;
    const URG: u8 = TcpFlags::URG;
    const ACK: u8 = TcpFlags::ACK;
    const ECE: u8 = 0x40;
    const CWR: u8 = 0x80;
    match flags {
        0 => Some("null"),
        f if f == FIN | PSH | URG => Some("fin_psh_urg"),
        f if f == SYN | FIN | PSH | URG => Some("syn_fin_psh_urg"),
        f if f == SYN | ECE | CWR && window == 3 => Some("ecn_syn_window_3"),
        f if f == SYN && matches!(window, 1 | 4 | 16 | 63) => Some("syn_odd_window"),
        f if f & ACK == 0 && f & SYN != 0 && f & FIN != 0 => Some("syn_fin"),
        _ => None,
    }
}

/// Detects active OS fingerprinting; one alert per (source, host) and episode.
#[derive(Debug)]
pub struct OsFingerprintDetector {
    config: OsFingerprintConfig,
    clock: Clock,
    kinds: DistinctWindow<(Addr, Addr), &'static str>,
    pairs: Episodes<(Addr, Addr), ()>,
    tally: Tally,
}

impl OsFingerprintDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &OsFingerprintConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(OsFingerprintDetector {
            config: config.clone(),
            clock: Clock::default(),
            kinds: DistinctWindow::new(config.max_tracked, config.window_us),
            pairs: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            tally: Tally::default(),
        })
    }
}

impl Detector for OsFingerprintDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP_CONTROL | PacketInterest::TCP_DATA
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.kinds, &self.pairs])
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
        if m.protocol != IpProtocol::TCP {
            return;
        }
        let Some(kind) = probe_kind(m.tcp_flags.0, m.tcp_window) else {
            return;
        };
        let now = self.clock.advance(m.ts);
        let c = &self.config;
        let key = (Addr(m.src_addr), Addr(m.dst_addr));
        let (seen, _) = self.kinds.observe(key, kind, now);
        let (ep, ()) = self.pairs.event(key, now);
        if u64::from(seen) < c.distinct_kinds || !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let description = format!(
            "{} sent {seen} kinds of OS-fingerprinting probes to {} within {} (last: {kind} to port {}).",
            m.src_addr,
            m.dst_addr,
            secs(c.window_us),
            m.dst_port
        );
        out.push(
            AlertBuilder::new(NAME, now, "OS_Fingerprinting", Severity::Low, &ep)
                .addrs(Some(m.src_addr), Some(m.dst_addr))
                .protocol(m.protocol)
                .score(0.8)
                .meta("last_probe", kind)
                .observed("probe_kinds", u64::from(seen))
                .observed("probes", ep.events)
                .threshold("window_us", c.window_us)
                .threshold("distinct_kinds", c.distinct_kinds)
                .build(description),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_kinds_and_ordinary_segments() {
        assert_eq!(probe_kind(0, 128), Some("null"));
        assert_eq!(probe_kind(0x29, 65535), Some("fin_psh_urg"));
        assert_eq!(probe_kind(0x2b, 256), Some("syn_fin_psh_urg"));
        assert_eq!(probe_kind(0xc2, 3), Some("ecn_syn_window_3"));
        assert_eq!(probe_kind(0xc2, 64240), None, "an ordinary ECN SYN");
        assert_eq!(probe_kind(0x02, 1), Some("syn_odd_window"));
        assert_eq!(probe_kind(0x02, 64240), None);
        assert_eq!(probe_kind(0x12, 8192), None, "SYN+ACK");
        assert_eq!(probe_kind(0x18, 502), None, "PSH+ACK");
        assert_eq!(probe_kind(0x11, 502), None, "FIN+ACK");
    }
}
