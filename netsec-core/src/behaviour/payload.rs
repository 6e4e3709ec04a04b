//! Payloads that give an attack away by their structure, as nDPI's flow risks and Zeek's
//! scripts read them, without a signature per sample:
//!
//! - **Heartbleed** (`Exploit_Heartbleed`): a TLS heartbeat request whose declared payload is
//!   longer than its record can hold (payload length + 19 > record length), Zeek's
//!   `SSL_Heartbeat_Attack`; or, for encrypted heartbeats, a heartbeat answer more than
//!   `heartbeat_growth` bytes longer than the request it answers.
//! - **Executable transfer** (`Malware_Executable_Transfer`): a segment or datagram that
//!   starts with a PE (`MZ` with its `PE\0\0` header in reach), ELF or Mach-O image. More
//!   severe when an HTTP response's `Content-Type` claims an image or text.
//! - **Shell script transfer** (`Reverse_Shell`): a payload that starts with a shell
//!   interpreter line (`#!/bin/sh`, `#!/bin/bash` …) or an interactive shell's banner
//!   (`Microsoft Windows [Version`) on a connection that is not HTTP: a dropper or shell
//!   session, nDPI's "Shellscript found".
//! - **Cryptocurrency mining** (`Cryptomining`): Monero's P2P (Levin) header, or the Stratum
//!   pool protocol (`mining.subscribe`, `mining.authorize`, or a `login` with an `agent`).
//!
//! - **HTTP request smuggling** (`HTTP_Request_Smuggling`): a request with both
//!   `Content-Length` and `Transfer-Encoding`, two different `Content-Length` values, or a
//!   `Transfer-Encoding` header line inside a request body (a second request hidden in the
//!   first, as front and back ends frame it differently).
//!
//! One alert per (sending address, finding) and episode (for mining, per client: the flow's
//! initiator, whichever side spoke); `meta.observed` says what was seen.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, Tally, TimedTable};
use super::{table_stats, transport, AlertBuilder, BehaviourConfigError, Check};
use crate::app::AppProto;
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "payload";

/// Settings of the [`PayloadDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PayloadConfig {
    /// Run the detector (default true).
    pub enabled: bool,
    /// Look for Heartbleed (default true).
    pub heartbleed: bool,
    /// An encrypted heartbeat answer this many bytes longer than its request is an attack
    /// (default 512: a genuine answer echoes the request's payload).
    pub heartbeat_growth: u64,
    /// Look for executables (default true).
    pub executables: bool,
    /// Look for shell scripts and shell banners outside HTTP (default true).
    pub shells: bool,
    /// Look for mining protocols (default true).
    pub mining: bool,
    /// Look for HTTP request smuggling (default true).
    pub smuggling: bool,
    /// A sender quiet for this long ends its episode, µs (default 600 s).
    pub quiet_us: i64,
    /// Cap of each table (senders, flows with a pending heartbeat), default 1024.
    pub max_tracked: usize,
}

impl Default for PayloadConfig {
    fn default() -> Self {
        PayloadConfig {
            enabled: true,
            heartbleed: true,
            heartbeat_growth: 512,
            executables: true,
            shells: true,
            mining: true,
            smuggling: true,
            quiet_us: 600_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl PayloadConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check("payload");
        c.at_least_one("heartbeat_growth", self.heartbeat_growth)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// What a payload gave away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Finding {
    Heartbleed,
    Executable,
    Shell,
    Mining,
    Smuggling,
}

impl Finding {
    fn attack_type(self) -> &'static str {
        match self {
            Finding::Heartbleed => "Exploit_Heartbleed",
            Finding::Executable => "Malware_Executable_Transfer",
            Finding::Shell => "Reverse_Shell",
            Finding::Mining => "Cryptomining",
            Finding::Smuggling => "HTTP_Request_Smuggling",
        }
    }
}

/// The kind of executable image `p` starts with.
pub(crate) fn executable(p: &[u8]) -> Option<&'static str> {
    if p.len() >= 64 && p.starts_with(b"MZ") {
        let at = u32::from_le_bytes([p[0x3c], p[0x3d], p[0x3e], p[0x3f]]) as usize;
        if p.get(at..at + 4) == Some(b"PE\0\0") {
            return Some("PE");
        }
    }
    if p.len() >= 6 && p.starts_with(b"\x7fELF") && matches!(p[4], 1 | 2) && matches!(p[5], 1 | 2) {
        return Some("ELF");
    }
    let magic = p.get(..4)?;
    match magic {
        [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => Some("Mach-O"),
        _ => None,
    }
}

/// The shell `p` starts with: an interpreter line or an interactive shell's banner.
pub(crate) fn shell(p: &[u8]) -> Option<&'static str> {
    const INTERPRETERS: [&[u8]; 6] = [
        b"#!/bin/sh",
        b"#! /bin/sh",
        b"#!/bin/bash",
        b"#! /bin/bash",
        b"#!/usr/bin/env sh",
        b"#!/usr/bin/env bash",
    ];
    if INTERPRETERS.iter().any(|i| p.starts_with(i)) {
        return Some("shell script");
    }
    if p.starts_with(b"Microsoft Windows [Version") {
        return Some("Windows command shell banner");
    }
    None
}

/// The mining protocol `p` speaks, if any.
pub(crate) fn mining(p: &[u8]) -> Option<&'static str> {
    // Levin (Monero P2P): the 8-byte signature 0x0101010101012101, little-endian.
    if p.starts_with(&[0x01, 0x21, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01]) {
        return Some("Monero P2P (Levin)");
    }
    if p.first() != Some(&b'{') {
        return None;
    }
    let has = |needle: &[u8]| memchr::memmem::find(p, needle).is_some();
    if has(b"\"mining.subscribe\"") || has(b"\"mining.authorize\"") {
        return Some("Stratum");
    }
    let login = has(b"\"method\":\"login\"") || has(b"\"method\": \"login\"");
    (login && has(b"\"agent\"")).then_some("Stratum (login)")
}

/// Why the client data `p` of an HTTP flow (a request, unless `in_body`) smuggles a request,
/// if it does: a request whose
/// headers carry both `Content-Length` and `Transfer-Encoding`, or two different
/// `Content-Length` values; or (`in_body`: the segment does not start a request) a
/// `Transfer-Encoding` header line inside a body, which a front end and a back end that
/// frame the body differently read as two requests.
pub(crate) fn smuggling(p: &[u8], in_body: bool) -> Option<&'static str> {
    let header = |name: &[u8], line: &[u8]| {
        line.len() > name.len()
            && line[..name.len()].eq_ignore_ascii_case(name)
            && line[name.len()] == b':'
    };
    if in_body {
        let starts = p.starts_with(b"Transfer-Encoding:")
            || memchr::memmem::find_iter(p, b"\nTransfer-Encoding:")
                .next()
                .is_some()
            || memchr::memmem::find_iter(p, b"\ntransfer-encoding:")
                .next()
                .is_some();
        return starts.then_some("a Transfer-Encoding header inside a request body");
    }
    let end = memchr::memmem::find(p, b"\r\n\r\n").unwrap_or(p.len());
    let (mut te, mut length, mut conflicting) = (false, None::<&[u8]>, false);
    for line in p[..end].split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if header(b"transfer-encoding", line) {
            te = true;
        } else if header(b"content-length", line) {
            let value = line[15..].trim_ascii();
            conflicting |= length.is_some_and(|l| l != value);
            length = Some(value);
        }
    }
    if te && length.is_some() {
        return Some("Content-Length and Transfer-Encoding in one request");
    }
    conflicting.then_some("two different Content-Length headers")
}

/// A TLS heartbeat record at the start of `p`: (record length, message type, declared
/// payload length); the last two only when the record's first bytes are there.
fn heartbeat(p: &[u8]) -> Option<(u16, Option<(u8, u16)>)> {
    if p.len() < 5 || p[0] != 0x18 || p[1] != 3 || p[2] > 4 {
        return None;
    }
    let len = u16::from_be_bytes([p[3], p[4]]);
    let msg = (p.len() >= 8).then(|| (p[5], u16::from_be_bytes([p[6], p[7]])));
    Some((len, msg))
}

/// The `Content-Type` value in an HTTP header block, when it claims an image or text.
fn claimed_harmless(head: &[u8]) -> Option<&[u8]> {
    head.split(|&b| b == b'\n').find_map(|line| {
        let colon = memchr::memchr(b':', line)?;
        if !line[..colon].eq_ignore_ascii_case(b"content-type") {
            return None;
        }
        let value = line[colon + 1..].trim_ascii();
        let starts = |p: &[u8]| value.len() >= p.len() && value[..p.len()].eq_ignore_ascii_case(p);
        (starts(b"image/") || starts(b"text/")).then_some(value)
    })
}

/// Finds Heartbleed, executable and shell-script transfers and mining protocols in
/// payloads; one alert per sender, finding and episode.
#[derive(Debug)]
pub struct PayloadDetector {
    config: PayloadConfig,
    clock: Clock,
    senders: Episodes<(Addr, u8), ()>,
    /// Flows with an unanswered heartbeat request: its record length.
    heartbeats: TimedTable<u64, u16>,
    tally: Tally,
}

impl PayloadDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &PayloadConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(PayloadDetector {
            config: config.clone(),
            clock: Clock::default(),
            senders: Episodes::new(config.max_tracked, config.quiet_us, config.quiet_us),
            heartbeats: TimedTable::new(config.max_tracked, config.quiet_us.max(1)),
            tally: Tally::default(),
        })
    }

    /// What this payload gives away, with a description and a severity.
    fn inspect(
        &mut self,
        payload: &[u8],
        tcp: bool,
        flow: Option<&FlowContext>,
        now: crate::time::Timestamp,
    ) -> Option<(Finding, String, Severity)> {
        let c = &self.config;
        // TLS runs over TCP; a UDP datagram starting `18 03 0x` is as likely a DNS query
        // with that transaction id (DTLS records start `18 fe`).
        if c.heartbleed && tcp {
            if let Some((len, msg)) = heartbeat(payload) {
                let forward = flow.is_none_or(|f| f.direction.is_forward());
                if let Some((1, declared)) = msg {
                    if u32::from(declared) + 19 > u32::from(len) {
                        return Some((
                            Finding::Heartbleed,
                            format!(
                                "TLS heartbeat request declares {declared} payload bytes in a {len}-byte record (over-read of {} bytes)",
                                u32::from(declared) + 19 - u32::from(len)
                            ),
                            Severity::Critical,
                        ));
                    }
                }
                if let Some(f) = flow {
                    if forward {
                        *self.heartbeats.touch(f.flow_id, now, || len, |_, _| {}) = len;
                    } else if let Some(&asked) = self.heartbeats.get(&f.flow_id) {
                        if u64::from(len) > u64::from(asked) + c.heartbeat_growth {
                            return Some((
                                Finding::Heartbleed,
                                format!(
                                    "TLS heartbeat answer of {len} bytes to a {asked}-byte request"
                                ),
                                Severity::Critical,
                            ));
                        }
                    }
                }
                return None;
            }
        }
        if c.executables {
            if let Some(kind) = executable(payload) {
                return Some((
                    Finding::Executable,
                    format!("{kind} executable image transferred"),
                    Severity::Medium,
                ));
            }
            // An HTTP response whose body starts in the same segment, with a type that lies.
            if payload.starts_with(b"HTTP/1.") {
                if let Some(end) = memchr::memmem::find(payload, b"\r\n\r\n") {
                    if let Some(kind) = executable(&payload[end + 4..]) {
                        if let Some(claim) = claimed_harmless(&payload[..end]) {
                            return Some((
                                Finding::Executable,
                                format!(
                                    "{kind} executable served as {}",
                                    String::from_utf8_lossy(claim)
                                ),
                                Severity::High,
                            ));
                        }
                    }
                }
            }
        }
        if c.shells && flow.is_none_or(|f| f.app_proto != AppProto::Http) {
            if let Some(kind) = shell(payload) {
                return Some((
                    Finding::Shell,
                    format!("{kind} sent over a non-HTTP connection"),
                    Severity::High,
                ));
            }
        }
        if c.smuggling {
            let http_client =
                flow.is_some_and(|f| f.app_proto == AppProto::Http && f.direction.is_forward());
            let request = [&b"POST "[..], b"PUT ", b"GET "]
                .iter()
                .any(|m| payload.starts_with(m));
            if http_client || request {
                if let Some(why) = smuggling(payload, !request) {
                    return Some((
                        Finding::Smuggling,
                        format!("HTTP request smuggling: {why}"),
                        Severity::High,
                    ));
                }
            }
        }
        if c.mining {
            if let Some(kind) = mining(payload) {
                return Some((
                    Finding::Mining,
                    format!("{kind} cryptocurrency mining protocol"),
                    Severity::Low,
                ));
            }
        }
        None
    }
}

impl Detector for PayloadDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP_DATA | PacketInterest::UDP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.senders, &self.heartbeats])
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
        if ip.payload.is_empty() || !matches!(m.protocol, IpProtocol::TCP | IpProtocol::UDP) {
            return;
        }
        if flow.is_some_and(|f| f.retransmission) {
            return;
        }
        let now = self.clock.advance(m.ts);
        let Some((finding, what, severity)) =
            self.inspect(ip.payload, m.protocol == IpProtocol::TCP, flow, now)
        else {
            return;
        };
        // Mining is the inside host's doing whichever side speaks: keyed by the flow's client
        // (so one miner talking to many peers is one finding); the rest by the sender.
        let client = match flow {
            Some(f) if finding == Finding::Mining && !f.direction.is_forward() => m.dst_addr,
            _ => m.src_addr,
        };
        let key = (Addr(client), finding as u8);
        let (ep, ()) = self.senders.event(key, now);
        if !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let description = format!(
            "{}:{} -> {}:{}: {what}.",
            m.src_addr, m.src_port, m.dst_addr, m.dst_port
        );
        let alert = AlertBuilder::new(NAME, now, finding.attack_type(), severity, &ep)
            .addrs(Some(m.src_addr), Some(m.dst_addr))
            .ports(Some(m.src_port), Some(m.dst_port))
            .protocol(m.protocol)
            .score(if matches!(severity, Severity::High | Severity::Critical) {
                0.9
            } else {
                0.7
            })
            .observed("finding", what)
            .observed("payload_bytes", ip.payload.len() as u64)
            .threshold("heartbeat_growth", self.config.heartbeat_growth)
            .threshold("quiet_us", self.config.quiet_us);
        out.push(alert.build(description));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        let mut pe = vec![0u8; 128];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert_eq!(executable(&pe), Some("PE"));
        pe[0x40] = b'X';
        assert_eq!(executable(&pe), None, "MZ alone is not enough");
        assert_eq!(executable(b"\x7fELF\x02\x01\x01\x00"), Some("ELF"));
        assert_eq!(executable(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0]), Some("Mach-O"));
        assert_eq!(executable(b"GET / HTTP/1.1"), None);
        assert_eq!(shell(b"#!/bin/sh\necho"), Some("shell script"));
        assert_eq!(shell(b"#!/usr/bin/python"), None);
        assert_eq!(
            mining(br#"{"id":1,"method":"mining.subscribe","params":[]}"#),
            Some("Stratum")
        );
        assert_eq!(
            mining(br#"{"id":1,"method":"login","params":{"login":"x","agent":"XMRig/6"}}"#),
            Some("Stratum (login)")
        );
        assert_eq!(mining(br#"{"method":"login","params":{}}"#), None);
        assert_eq!(
            mining(&[1, 0x21, 1, 1, 1, 1, 1, 1, 9]),
            Some("Monero P2P (Levin)")
        );
    }

    #[test]
    fn smuggled_requests() {
        let both = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        assert!(smuggling(both, false).is_some());
        let two = b"POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 6\r\n\r\nabcd";
        assert!(smuggling(two, false).is_some());
        let same = b"POST / HTTP/1.1\r\nContent-Length: 4\r\ncontent-length: 4\r\n\r\nabcd";
        assert!(smuggling(same, false).is_none());
        let plain = b"POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Transfer-Encoding: base64\r\n\r\nabcd";
        assert!(smuggling(plain, false).is_none());
        assert!(smuggling(b"MIME-Version: 1.0\r\nTransfer-Encoding: chunked\r\n", true).is_some());
        assert!(smuggling(b"--b\r\nContent-Transfer-Encoding: base64\r\n", true).is_none());
    }

    #[test]
    fn heartbeat_records() {
        // Record of 0x3ff0 bytes declaring 0x3fed payload bytes: 16,365 + 19 > 16,368.
        assert_eq!(
            heartbeat(&[0x18, 3, 3, 0x3f, 0xf0, 1, 0x3f, 0xed]),
            Some((0x3ff0, Some((1, 0x3fed))))
        );
        assert_eq!(heartbeat(&[0x17, 3, 3, 0, 5]), None, "application data");
        assert_eq!(heartbeat(&[0x18, 3, 3, 0, 20]), Some((20, None)));
    }

    /// Runs one packet with `payload` through a default detector.
    fn alerts_on(meta: crate::decode::PacketMeta, payload: &[u8]) -> Vec<Alert> {
        let mut d = PayloadDetector::new(&PayloadConfig::default()).expect("default config");
        let ip = crate::decode::IpPacket {
            meta,
            payload,
            l2: crate::decode::L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        let mut out = Vec::new();
        let flow = crate::behaviour::tests_util::new_flow(1);
        d.on_packet(&PacketView::Ip(&ip), Some(&flow), &mut out);
        out
    }

    #[test]
    fn heartbleed_only_over_tcp() {
        // A heartbeat request declaring 16,365 payload bytes in a 3-byte message.
        let request = [0x18, 3, 2, 0, 3, 1, 0x3f, 0xed];
        let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let len = request.len() as u32;
        let tcp = crate::synth::tcp(0, c, 40000, s, 443, crate::decode::TcpFlags::ACK, len, 512);
        let found = alerts_on(tcp, &request);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].attack_type, "Exploit_Heartbleed");
        // The same bytes open a DNS query whose transaction id is 0x1803 (flags 0x0200):
        // found in generated traffic, one query in 65,536 would otherwise be "Heartbleed".
        let dns = crate::synth::udp(0, c, 40000, s, 53, len);
        assert!(alerts_on(dns, &request).is_empty());
    }
}
