//! TCP segments that break the protocol in ways attacks and evasions need:
//!
//! - **Urgent-pointer abuse** (`Exploit_TCP_Urgent`, after URGENT/11, CVE-2019-12255 and
//!   CVE-2019-12260): `URG` on a SYN or a RST (no data can be urgent before the handshake
//!   or in a reset), or `URG` with an urgent pointer of 0, which VxWorks' IPnet turned into
//!   a buffer overflow. Telnet and FTP send `URG` on established connections with a
//!   pointer into their data, which never matches; nor do Xmas probes (`FIN|PSH|URG`, with
//!   or without SYN), which the scan detectors report.
//! - **Desynchronisation** (`TCP_Evasion`): a host that reset a connection keeps talking on
//!   it within `desync_window_us`: data, a FIN or a SYN-ACK after its own RST, without a new
//!   SYN in between. A real stack forgets a connection once it resets it; an attacker who
//!   injects resets (to blind an IDS or hijack the session) or a peer crafted to evade one
//!   does not.
//!
//! One alert per (source, finding) and episode.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, Table, Tally, TimedTable};
use super::{secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check};
use crate::decode::{IpProtocol, PacketMeta, TcpFlags};
use crate::detect::{Alert, Detector, DetectorStats, PacketView, Severity};
use crate::flow::FlowContext;
use crate::time::Timestamp;

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
    /// How long after its RST a host's data, FIN or SYN-ACK on the same connection counts,
    /// µs (default 5 s).
    pub desync_window_us: i64,
    /// A source quiet for this long ends its episode, µs (default 600 s).
    pub quiet_us: i64,
    /// Cap of each table (recent resets, source episodes), default 1024.
    pub max_tracked: usize,
}

impl Default for TcpAnomalyConfig {
    fn default() -> Self {
        TcpAnomalyConfig {
            enabled: true,
            urgent: true,
            desync: true,
            desync_window_us: 5_000_000,
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
        c.positive("desync_window_us", self.desync_window_us)?;
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

/// A direction of a connection: (sender, its port, receiver, its port).
type Conn = (Addr, u16, Addr, u16);

/// Detects urgent-pointer abuse and traffic after a host's own reset.
#[derive(Debug)]
pub struct TcpAnomalyDetector {
    config: TcpAnomalyConfig,
    clock: Clock,
    /// Connections a host reset, by the resetting direction.
    resets: TimedTable<Conn, Option<Timestamp>>,
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
            resets: TimedTable::new(config.max_tracked, config.desync_window_us),
            sources: Episodes::new(config.max_tracked, config.quiet_us, config.quiet_us),
            tally: Tally::default(),
        })
    }

    /// After a reset from this direction: why this segment desynchronises, if it does.
    fn desync(&mut self, m: &PacketMeta, now: Timestamp) -> Option<String> {
        const SYN: u8 = TcpFlags::SYN;
        const ACK: u8 = TcpFlags::ACK;
        let flags = m.tcp_flags.0;
        let conn = (Addr(m.src_addr), m.src_port, Addr(m.dst_addr), m.dst_port);
        self.resets.expire(now, |_, _| {});
        if flags & TcpFlags::RST != 0 {
            *self.resets.touch(conn, now, || None, |_, _| {}) = Some(now);
            return None;
        }
        if flags & (SYN | ACK) == SYN {
            // A new connection on the same ports: whatever either side reset is over.
            let back = (conn.2, conn.3, conn.0, conn.1);
            for key in [conn, back] {
                if let Some(at) = self.resets.get_mut(&key) {
                    *at = None;
                }
            }
            return None;
        }
        let reset_at = (*self.resets.get(&conn)?)?;
        if now.micros_since(reset_at) > self.config.desync_window_us {
            return None;
        }
        let what = if flags & (SYN | ACK) == SYN | ACK {
            "a SYN-ACK".to_string()
        } else if m.payload_len > 0 {
            format!("{} bytes of data", m.payload_len)
        } else if flags & TcpFlags::FIN != 0 {
            "a FIN".to_string()
        } else {
            return None;
        };
        Some(format!(
            "{what} {} after resetting the connection itself",
            secs(now.micros_since(reset_at))
        ))
    }

    /// Whether no reset is remembered (so no segment needs a lookup).
    fn resets_empty(&self) -> bool {
        self.resets.entries() == 0
    }
}

impl Detector for TcpAnomalyDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.resets, &self.sources])
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
        let flags = m.tcp_flags.0;
        let c = &self.config;
        let finding = if let Some(why) = urgent_abuse(flags, m.tcp_urgent).filter(|_| c.urgent) {
            Some((
                0u8,
                "Exploit_TCP_Urgent",
                Severity::High,
                format!("{why} (urgent pointer {})", m.tcp_urgent),
            ))
        } else if c.desync
            && (flags & TcpFlags::RST != 0
                || (!self.resets_empty()
                    && (m.payload_len > 0 || flags & (TcpFlags::SYN | TcpFlags::FIN) != 0)))
        {
            let now = self.clock.advance(m.ts);
            self.desync(m, now)
                .map(|why| (1u8, "TCP_Evasion", Severity::Medium, why))
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
                .threshold("desync_window_us", self.config.desync_window_us)
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
}
