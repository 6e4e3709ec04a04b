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
//! - **Overlapping segments with different data** (`TCP_Evasion`): a data segment that
//!   overlaps its direction's previous segment, arriving within `overlap_max_gap_us` of it,
//!   with bytes that differ where they overlap. An IDS and the receiving host may keep
//!   different copies (the classic insertion/evasion of Ptacek and Newsham); a real stack
//!   resends the same bytes, and only after a retransmission timeout (at least 200 ms on
//!   Linux, 1 s by RFC 6298), which is why a slow conflicting resend (a TLS server replacing
//!   an unacknowledged record by an alert seconds later, seen in benign WebEx traffic) does
//!   not count. The first and last [`SAMPLE`](super::tcp_memory::SAMPLE) bytes of each
//!   direction's latest segment are compared, so a conflict in a long segment's middle
//!   bytes, or with a segment older than the latest, is missed.
//! - **ACK storms** (`TCP_ACK_Storm`): one side of a connection repeats the same
//!   out-of-step pure ACK ([`FlowContext::ack_out_of_sync`]: its sequence number behind
//!   where its data reached, or its acknowledgement beyond the other side's data)
//!   `ack_storm_repeats` times within `storm_window_us`. After a hijacker's injected data
//!   the two endpoints disagree on the sequence numbers and each answers the other's
//!   "unacceptable" segment with an ACK, forever; the side the injection bypassed is the
//!   one out of step with what the wire carried. Duplicate ACKs of loss recovery are in
//!   step, and a keepalive is out of step once per interval.
//! - **Blind RST injection** (`TCP_RST_Injection`): `injected_rsts` resets into one
//!   connection within `storm_window_us` whose sequence numbers lie more than 16 MiB from
//!   where the sender's data reached ([`FlowContext::rst_out_of_window`]): an off-path
//!   attacker guessing the window.
//!
//! The last three need memory per connection: a direct-mapped array of `max_connections`
//! slots indexed by flow id (no hashing, nothing allocated after start), touched only by
//! data segments, out-of-step pure ACKs and far resets. One alert per (source, finding) and episode.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, Tally};
use super::tcp_memory::{ConnectionMemory, Finding, Limits};
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
    /// Look for overlapping segments with different data, ACK storms and blind resets
    /// (default true).
    pub connections: bool,
    /// Longest time between a segment and an overlapping copy with other bytes that counts
    /// as evasion, µs (default 200 ms, Linux's shortest retransmission timeout).
    pub overlap_max_gap_us: i64,
    /// Repeats of one out-of-step pure ACK from one side of a connection that make an ACK
    /// storm (default 100).
    pub ack_storm_repeats: u32,
    /// Out-of-window resets into one connection that make a blind injection (default 2).
    pub injected_rsts: u32,
    /// Window of both counts, µs (default 10 s).
    pub storm_window_us: i64,
    /// Connections remembered at once (slots of the direct-mapped memory, rounded up to a
    /// power of two; default 4096, 120 bytes each; at most 2^20).
    pub max_connections: usize,
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
            connections: true,
            overlap_max_gap_us: 200_000,
            ack_storm_repeats: 100,
            injected_rsts: 2,
            storm_window_us: 10_000_000,
            max_connections: 1 << 12,
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
        c.non_negative("overlap_max_gap_us", self.overlap_max_gap_us)?;
        c.at_least_one("ack_storm_repeats", u64::from(self.ack_storm_repeats))?;
        c.at_least_one("injected_rsts", u64::from(self.injected_rsts))?;
        c.positive("storm_window_us", self.storm_window_us)?;
        c.size("max_connections", self.max_connections, 1 << 20)?;
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

/// Detects urgent-pointer abuse, traffic after a host's own reset, overlapping segments
/// with different data, ACK storms and blind resets.
#[derive(Debug)]
pub struct TcpAnomalyDetector {
    config: TcpAnomalyConfig,
    clock: Clock,
    connections: ConnectionMemory,
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
            connections: ConnectionMemory::new(
                config.max_connections,
                Limits {
                    ack_storm_repeats: config.ack_storm_repeats,
                    injected_rsts: config.injected_rsts,
                    window_us: config.storm_window_us,
                    overlap_max_gap_us: config.overlap_max_gap_us,
                },
            ),
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
        table_stats(NAME, &self.tally, &[&self.connections, &self.sources])
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
        let mut connection = None;
        let finding = if let Some(why) = urgent_abuse(flags, m.tcp_urgent).filter(|_| c.urgent) {
            Some((
                0u8,
                "Exploit_TCP_Urgent",
                Severity::High,
                format!("{why} (urgent pointer {})", m.tcp_urgent),
            ))
        } else if let Some(why) = (c.desync && flow.is_some_and(|f| f.sender_reset))
            .then(|| desync(flags, m.payload_len))
            .flatten()
        {
            // Asked only of a host that reset the flow: `desync` formats its finding.
            Some((1u8, "TCP_Evasion", Severity::Medium, why))
        } else if let Some(f) = flow.filter(|_| c.connections) {
            connection = self.connection_finding(f, &ip.meta, ip.payload);
            connection.map(describe)
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
        let alert = AlertBuilder::new(NAME, now, attack_type, severity, &ep)
            .addrs(Some(m.src_addr), Some(m.dst_addr))
            .ports(Some(m.src_port), Some(m.dst_port))
            .protocol(m.protocol)
            .score(0.8)
            .observed("finding", what)
            .observed("tcp_flags", u64::from(flags))
            .observed("urgent_pointer", u64::from(m.tcp_urgent))
            .threshold("quiet_us", self.config.quiet_us);
        out.push(with_counts(alert, connection, &self.config).build(description));
    }
}

/// Adds a connection finding's observed counts and the thresholds they crossed.
fn with_counts(a: AlertBuilder, f: Option<Finding>, c: &TcpAnomalyConfig) -> AlertBuilder {
    match f {
        None => a,
        Some(Finding::Overlap {
            compared,
            differing,
            gap_us,
        }) => a
            .observed("bytes_compared", compared)
            .observed("bytes_differing", differing)
            .observed("gap_us", gap_us)
            .threshold("overlap_max_gap_us", c.overlap_max_gap_us),
        Some(Finding::AckStorm { repeats }) => a
            .observed("ack_repeats", repeats)
            .threshold("ack_storm_repeats", c.ack_storm_repeats)
            .threshold("storm_window_us", c.storm_window_us),
        Some(Finding::RstInjection { resets }) => a
            .observed("far_resets", resets)
            .threshold("injected_rsts", c.injected_rsts)
            .threshold("storm_window_us", c.storm_window_us),
    }
}

impl TcpAnomalyDetector {
    /// What the segment `m` (with captured `payload`) of flow `f` shows against the
    /// connection's memory; only pure ACKs, data segments and far resets look.
    fn connection_finding(
        &mut self,
        f: &FlowContext,
        m: &crate::decode::PacketMeta,
        payload: &[u8],
    ) -> Option<Finding> {
        let flags = m.tcp_flags;
        let now = m.ts.as_micros();
        if f.rst_out_of_window {
            self.connections.far_reset(f.flow_id, now)
        } else if flags.syn() || flags.rst() {
            None
        } else if m.payload_len > 0 {
            let captured = &payload[..payload.len().min(m.payload_len as usize)];
            self.connections
                .data(f.flow_id, f.direction, m.tcp_seq, captured, now)
        } else if f.ack_out_of_sync {
            self.connections
                .pure_ack(f.flow_id, f.direction, m.tcp_seq, m.tcp_ack, now)
        } else {
            None
        }
    }
}

/// A connection finding as (kind, attack type, severity, what was seen).
fn describe(f: Finding) -> (u8, &'static str, Severity, String) {
    match f {
        Finding::Overlap {
            compared,
            differing,
            gap_us,
        } => (
            4,
            "TCP_Evasion",
            Severity::High,
            format!(
                "a segment overlapping the previous one {gap_us} µs later with other data ({differing} of {compared} compared bytes differ)"
            ),
        ),
        Finding::AckStorm { repeats } => (
            2,
            "TCP_ACK_Storm",
            Severity::High,
            format!(
                "an ACK storm: one out-of-step pure ACK repeated {repeats} times (a desynchronised, possibly hijacked session)"
            ),
        ),
        Finding::RstInjection { resets } => (
            3,
            "TCP_RST_Injection",
            Severity::High,
            format!(
                "{resets} resets with sequence numbers far outside the connection's window (blind injection)"
            ),
        ),
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

    /// A handshake and one data segment between `c`:40000 and `s`:80 (client ISN 100,
    /// server ISN 500).
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

    /// 50 bytes from `c`:40000 right after [`handshake`]'s data (seq 201, ack 501).
    fn client_data(t: i64, c: [u8; 4], s: [u8; 4]) -> crate::decode::PacketMeta {
        let flags = TcpFlags::ACK | TcpFlags::PSH;
        let mut m = crate::synth::tcp(t, c, 40000, s, 80, flags, 50, 64240);
        (m.tcp_seq, m.tcp_ack) = (201, 501);
        m
    }

    fn detector() -> TcpAnomalyDetector {
        TcpAnomalyDetector::new(&TcpAnomalyConfig::default()).expect("valid")
    }

    /// A hijack: after [`handshake`], someone injects 50 bytes as the client; the server
    /// acknowledges them, the client (which never sent them) answers with its own stale
    /// ACK, the server repeats its ACK, and so on.
    fn hijack_storm(gap_us: i64, rounds: i64) -> Vec<crate::decode::PacketMeta> {
        let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let mut pkts = handshake(c, s);
        pkts.push(client_data(50, c, s));
        for i in 0..rounds {
            pkts.push(pure_ack(100 + gap_us * i, s, c, (80, 40000), 501, 251));
            pkts.push(pure_ack(101 + gap_us * i, c, s, (40000, 80), 201, 501));
        }
        pkts
    }

    #[test]
    fn ack_storm_of_a_hijacked_session() {
        use crate::behaviour::tests_util::feed;
        let alerts = feed(&mut detector(), &hijack_storm(2, 150));
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].attack_type, "TCP_ACK_Storm");
        assert_eq!(alerts[0].src_ip, Some([10, 0, 0, 1].into()));
        assert_eq!(alerts[0].meta["observed"]["ack_repeats"], 100);
        assert_eq!(alerts[0].meta["thresholds"]["ack_storm_repeats"], 100);
        // Slower than 100 repeats in 10 s.
        assert!(feed(&mut detector(), &hijack_storm(200_000, 150)).is_empty());
        // Loss recovery: the receiver repeats an ACK that is in step with the data seen.
        let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let mut dupacks = handshake(c, s);
        for i in 0..300 {
            dupacks.push(pure_ack(100 + i, s, c, (80, 40000), 501, 201));
            dupacks.push(pure_ack(100 + i, c, s, (40000, 80), 201, 501));
        }
        assert!(feed(&mut detector(), &dupacks).is_empty());
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
        let alerts = feed(&mut detector(), &guesses);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].attack_type, "TCP_RST_Injection");
        // The sender's own reset, even repeated.
        let mut own = handshake(c, s);
        own.extend([rst(100, 201), rst(101, 201)]);
        assert!(feed(&mut detector(), &own).is_empty());
        // A single guess is not enough, and does not make the client's next data
        // "traffic after its own reset".
        let mut one = handshake(c, s);
        one.push(rst(100, 0x4000_0000));
        one.push(client_data(200, c, s));
        assert!(feed(&mut detector(), &one).is_empty());
    }

    #[test]
    fn connection_findings_can_be_turned_off() {
        use crate::behaviour::tests_util::feed;
        let storm = hijack_storm(2, 150);
        let config = TcpAnomalyConfig {
            connections: false,
            ..TcpAnomalyConfig::default()
        };
        let mut d = TcpAnomalyDetector::new(&config).expect("valid");
        assert!(feed(&mut d, &storm).is_empty());
        let bad = TcpAnomalyConfig {
            max_connections: 0,
            ..TcpAnomalyConfig::default()
        };
        let err = TcpAnomalyDetector::new(&bad).expect_err("zero slots");
        assert!(err.to_string().contains("max_connections"), "{err}");
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
