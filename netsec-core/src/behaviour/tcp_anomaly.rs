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
//! - **ACK storms** (`TCP_ACK_Storm`): both sides of a connection repeat the same pure ACK
//!   (same sequence and acknowledgement numbers) `ack_storm_repeats` times each within
//!   `storm_window_us`: after a hijacker's injected data, client and server each answer the
//!   other's "unacceptable" segment with an ACK, forever. Duplicate ACKs of loss recovery
//!   come from the receiver only.
//! - **Blind RST injection** (`TCP_RST_Injection`): `injected_rsts` resets into one
//!   connection whose sequence numbers lie more than 16 MiB from where the sender's data
//!   reached ([`FlowContext::rst_out_of_window`]): an off-path attacker guessing the window.
//!
//! The flow table marks repeated ACKs and far resets as it follows each connection; only
//! those segments touch this detector's per-flow table. One alert per (source, finding) and
//! episode.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, Tally, TimedTable};
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
    /// Repeated pure ACKs from each side of one connection that make an ACK storm
    /// (default 100).
    pub ack_storm_repeats: u64,
    /// Out-of-window resets into one connection that make a blind injection (default 2).
    pub injected_rsts: u64,
    /// Window for both counts, µs (default 10 s).
    pub storm_window_us: i64,
    /// A source quiet for this long ends its episode, µs (default 600 s).
    pub quiet_us: i64,
    /// Cap of each table (connections with repeated ACKs or far resets, source episodes),
    /// default 1024.
    pub max_tracked: usize,
}

impl Default for TcpAnomalyConfig {
    fn default() -> Self {
        TcpAnomalyConfig {
            enabled: true,
            urgent: true,
            desync: true,
            ack_storm_repeats: 100,
            injected_rsts: 2,
            storm_window_us: 10_000_000,
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
        c.at_least_one("ack_storm_repeats", self.ack_storm_repeats)?;
        c.at_least_one("injected_rsts", self.injected_rsts)?;
        c.positive("storm_window_us", self.storm_window_us)?;
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
    /// Per connection: repeated pure ACKs (forward, backward), far resets, and whether the
    /// storm was reported.
    odd: TimedTable<u64, [u32; 4]>,
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
            odd: TimedTable::new(config.max_tracked, config.storm_window_us),
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
        table_stats(NAME, &self.tally, &[&self.odd, &self.sources])
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
        } else if let Some(why) = desync(flags, m.payload_len)
            .filter(|_| c.desync && flow.is_some_and(|f| f.sender_reset))
        {
            Some((1u8, "TCP_Evasion", Severity::Medium, why))
        } else if let Some(f) = flow.filter(|f| f.repeated_ack || f.rst_out_of_window) {
            self.count_oddity(f, m.ts)
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

impl TcpAnomalyDetector {
    /// Counts a repeated ACK or a far reset of flow `f`: a finding once a count crosses its
    /// threshold within the window.
    fn count_oddity(
        &mut self,
        f: &FlowContext,
        ts: crate::time::Timestamp,
    ) -> Option<(u8, &'static str, Severity, String)> {
        let now = self.clock.advance(ts);
        let c = &self.config;
        self.odd.expire(now, |_, _| {});
        let counts = self.odd.touch(f.flow_id, now, || [0; 4], |_, _| {});
        if f.rst_out_of_window {
            counts[2] += 1;
            if u64::from(counts[2]) == c.injected_rsts {
                return Some((
                    3,
                    "TCP_RST_Injection",
                    Severity::High,
                    format!(
                        "{} resets with sequence numbers far outside the connection's window (blind injection)",
                        counts[2]
                    ),
                ));
            }
            return None;
        }
        counts[usize::from(!f.direction.is_forward())] += 1;
        let (fwd, bwd) = (u64::from(counts[0]), u64::from(counts[1]));
        let storm = counts[3] == 0 && fwd.min(bwd) >= c.ack_storm_repeats;
        if storm {
            counts[3] = 1;
        }
        storm.then(|| {
            (
                2,
                "TCP_ACK_Storm",
                Severity::High,
                format!(
                    "an ACK storm: {fwd} and {bwd} identical pure ACKs from the two sides (a desynchronised, possibly hijacked session)"
                ),
            )
        })
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

    fn handshake(c: [u8; 4], s: [u8; 4]) -> Vec<crate::decode::PacketMeta> {
        use crate::synth::tcp;
        const A: u8 = TcpFlags::ACK;
        let mut syn = tcp(0, c, 40000, s, 80, TcpFlags::SYN, 0, 64240);
        syn.tcp_seq = 100;
        let mut syn_ack = tcp(10, s, 80, c, 40000, TcpFlags::SYN | A, 0, 64240);
        (syn_ack.tcp_seq, syn_ack.tcp_ack) = (500, 101);
        let mut ack = tcp(20, c, 40000, s, 80, A, 0, 64240);
        (ack.tcp_seq, ack.tcp_ack) = (101, 501);
        let mut data = tcp(30, c, 40000, s, 80, A | TcpFlags::PSH, 100, 64240);
        (data.tcp_seq, data.tcp_ack) = (101, 501);
        vec![syn, syn_ack, ack, data]
    }

    fn pure_ack(
        t: i64,
        from: [u8; 4],
        to: [u8; 4],
        ports: (u16, u16),
        seq: u32,
        ack: u32,
    ) -> crate::decode::PacketMeta {
        let mut m = crate::synth::tcp(t, from, ports.0, to, ports.1, TcpFlags::ACK, 0, 64240);
        (m.tcp_seq, m.tcp_ack) = (seq, ack);
        m
    }

    #[test]
    fn ack_storm_needs_both_sides() {
        use crate::behaviour::tests_util::feed;
        let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let mut storm = handshake(c, s);
        for i in 0..150 {
            storm.push(pure_ack(100 + 2 * i, c, s, (40000, 80), 201, 501));
            storm.push(pure_ack(101 + 2 * i, s, c, (80, 40000), 501, 201));
        }
        let mut d = TcpAnomalyDetector::new(&TcpAnomalyConfig::default()).expect("valid");
        let alerts = feed(&mut d, &storm);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].attack_type, "TCP_ACK_Storm");
        // Loss recovery: the receiver alone repeats its ACK.
        let mut dupacks = handshake(c, s);
        for i in 0..300 {
            dupacks.push(pure_ack(100 + i, s, c, (80, 40000), 501, 201));
        }
        let mut d = TcpAnomalyDetector::new(&TcpAnomalyConfig::default()).expect("valid");
        assert!(feed(&mut d, &dupacks).is_empty());
    }

    #[test]
    fn far_resets_are_injections_the_senders_own_are_not() {
        use crate::behaviour::tests_util::feed;
        let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let rst = |t: i64, seq: u32| {
            let mut m = crate::synth::tcp(t, c, 40000, s, 80, TcpFlags::RST, 0, 0);
            m.tcp_seq = seq;
            m
        };
        let mut guesses = handshake(c, s);
        guesses.extend([rst(100, 0x4000_0000), rst(101, 0x8000_0000)]);
        let mut d = TcpAnomalyDetector::new(&TcpAnomalyConfig::default()).expect("valid");
        let alerts = feed(&mut d, &guesses);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].attack_type, "TCP_RST_Injection");
        let mut own = handshake(c, s);
        own.push(rst(100, 201));
        let mut d = TcpAnomalyDetector::new(&TcpAnomalyConfig::default()).expect("valid");
        assert!(feed(&mut d, &own).is_empty());
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
