//! TCP segments that break the protocol in ways attacks and evasions need:
//!
//! - **Urgent-pointer abuse** (`Exploit_TCP_Urgent`, after URGENT/11, CVE-2019-12255 and
//!   CVE-2019-12260): `URG` on a SYN or a RST (no data can be urgent before the handshake
//!   or in a reset), or `URG` with an urgent pointer of 0, which VxWorks' IPnet turned into
//!   a buffer overflow. Telnet and FTP send `URG` on established connections with a
//!   pointer into their data, which never matches; nor do Xmas probes (`FIN|PSH|URG`, with
//!   or without SYN), which the scan detectors report.
//! - **Desynchronisation** (`TCP_Evasion`): a host that reset a connection keeps talking on
//!   it: data, a FIN or a SYN-ACK after its own RST, while the flow table still holds the
//!   connection (a new SYN starts a new flow). A real stack forgets a connection once it resets it; an attacker who
//!   injects resets (to blind an IDS or hijack the session) or a peer crafted to evade one
//!   does not. The flow table says whether the sender reset the flow
//!   ([`FlowContext::sender_reset`]), so this costs no table of its own.
//!
//! One alert per (source, finding) and episode.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, Tally};
use super::{table_stats, transport, AlertBuilder, BehaviourConfigError, Check};
use crate::decode::{IpProtocol, TcpFlags};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "tcp_anomaly";

/// Settings of the [`TcpAnomalyDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TcpAnomalyConfig {
    /// Run the detector (default true).
    pub enabled: bool,
    /// Look for urgent-pointer abuse (default true).
    pub urgent: bool,
    /// Look for traffic after a host's own reset (default true).
    pub desync: bool,
    /// A source quiet for this long ends its episode, µs (default 600 s).
    pub quiet_us: i64,
    /// Cap of the source episodes table, default 1024.
    pub max_tracked: usize,
}

impl Default for TcpAnomalyConfig {
    fn default() -> Self {
        TcpAnomalyConfig {
            enabled: true,
            urgent: true,
            desync: true,
            quiet_us: 600_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl TcpAnomalyConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// Why a segment's urgent data is abuse, if it is.
pub(crate) fn urgent_abuse(flags: u8, urgent_pointer: u16) -> Option<&'static str> {
    const XMAS: u8 = TcpFlags::FIN | TcpFlags::PSH | TcpFlags::URG;
    // Xmas probes (with or without SYN) are scans, owned by the port-scan and
    // OS-fingerprinting detectors.
    if flags & TcpFlags::URG == 0 || flags == XMAS || flags == XMAS | TcpFlags::SYN {
        return None;
    }
    if flags & TcpFlags::SYN != 0 {
        Some("URG on a SYN")
    } else if flags & TcpFlags::RST != 0 {
        Some("URG on a RST")
    } else if urgent_pointer == 0 {
        Some("URG with an urgent pointer of 0")
    } else {
        None
    }
}

/// Detects urgent-pointer abuse and traffic after a host's own reset.
#[derive(Debug)]
pub struct TcpAnomalyDetector {
    config: TcpAnomalyConfig,
    clock: Clock,
    sources: Episodes<(Addr, u8), ()>,
    tally: Tally,
}

impl TcpAnomalyDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &TcpAnomalyConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(TcpAnomalyDetector {
            config: config.clone(),
            clock: Clock::default(),
            sources: Episodes::new(config.max_tracked, config.quiet_us, config.quiet_us),
            tally: Tally::default(),
        })
    }
}

/// Why a segment from a host that reset its connection desynchronises it, if it does.
pub(crate) fn desync(flags: u8, payload_len: u32) -> Option<String> {
    const SYN: u8 = TcpFlags::SYN;
    const ACK: u8 = TcpFlags::ACK;
    if flags & TcpFlags::RST != 0 {
        None
    } else if flags & (SYN | ACK) == SYN | ACK {
        Some("a SYN-ACK after resetting the connection itself".into())
    } else if payload_len > 0 {
        Some(format!(
            "{payload_len} bytes of data after resetting the connection itself"
        ))
    } else if flags & TcpFlags::FIN != 0 {
        Some("a FIN after resetting the connection itself".into())
    } else {
        None
    }
}

impl Detector for TcpAnomalyDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP | PacketInterest::TCP_DATA
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.sources])
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = transport(pkt) else {
            return;
        };
        let m = &ip.meta;
        if m.protocol != IpProtocol::TCP {
            return;
        }
        let flags = m.tcp_flags.0;
        let c = &self.config;
        let finding = if let Some(why) = urgent_abuse(flags, m.tcp_urgent).filter(|_| c.urgent) {
            Some((
                0u8,
                "Exploit_TCP_Urgent",
                Severity::High,
                format!("{why} (urgent pointer {})", m.tcp_urgent),
            ))
        } else if c.desync && flow.is_some_and(|f| f.sender_reset) {
            desync(flags, m.payload_len).map(|why| (1u8, "TCP_Evasion", Severity::Medium, why))
        } else {
            None
        };
        let Some((kind, attack_type, severity, what)) = finding else {
            return;
        };
        let now = self.clock.advance(m.ts);
        let (ep, ()) = self.sources.event((Addr(m.src_addr), kind), now);
        if !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let description = format!(
            "{}:{} -> {}:{}: {what}.",
            m.src_addr, m.src_port, m.dst_addr, m.dst_port
        );
        out.push(
            AlertBuilder::new(NAME, now, attack_type, severity, &ep)
                .addrs(Some(m.src_addr), Some(m.dst_addr))
                .ports(Some(m.src_port), Some(m.dst_port))
                .protocol(m.protocol)
                .score(0.8)
                .observed("finding", what)
                .observed("tcp_flags", u64::from(flags))
                .observed("urgent_pointer", u64::from(m.tcp_urgent))
                .threshold("quiet_us", self.config.quiet_us)
                .build(description),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgent_pointer_abuse() {
        const URG: u8 = TcpFlags::URG;
        assert_eq!(
            urgent_abuse(URG | TcpFlags::SYN | TcpFlags::FIN, 10),
            Some("URG on a SYN")
        );
        assert_eq!(
            urgent_abuse(URG | TcpFlags::ACK, 0),
            Some("URG with an urgent pointer of 0")
        );
        assert_eq!(
            urgent_abuse(URG | TcpFlags::ACK | TcpFlags::PSH, 1),
            None,
            "telnet's interrupt"
        );
        assert_eq!(urgent_abuse(TcpFlags::SYN, 10), None, "no URG flag");
    }

    #[test]
    fn what_desynchronises() {
        assert!(desync(TcpFlags::SYN | TcpFlags::ACK, 0).is_some());
        assert!(desync(TcpFlags::ACK | TcpFlags::PSH, 338).is_some());
        assert!(desync(TcpFlags::FIN | TcpFlags::ACK, 0).is_some());
        assert_eq!(desync(TcpFlags::ACK, 0), None, "a bare ACK");
        assert_eq!(desync(TcpFlags::RST, 0), None, "another reset");
    }
}
