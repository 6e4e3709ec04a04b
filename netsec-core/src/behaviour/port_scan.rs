//! Port scans: one source probing many ports of one host (vertical), one port across many
//! hosts (horizontal), or sending probes no TCP stack sends in normal operation (stealth).
//!
//! A **probe** is a TCP segment without ACK and without RST (a SYN, or the FIN, NULL and Xmas
//! probes of stealth scans), or a UDP datagram that opens a flow (its [`FlowContext::new_flow`])
//! to a unicast address. A **stealth probe** is a TCP probe without SYN, or with SYN and FIN
//! together: after the handshake every segment carries ACK (RFC 9293 §3.10.7.4), so only
//! scanners and OS fingerprinting send those.
//!
//! Two more kinds are judged from what they leave behind:
//!
//! - **ACK and Maimon probes** (`nmap -sA`, `-sM`): a TCP flow of exactly one segment
//!   without SYN or payload, answered by one reset ([`Detector::on_flow_end`]): a bare ACK
//!   or FIN+ACK to a connection the target never had. They count as stealth probes. (A
//!   flow picked up mid-stream carries on; it is not answered by a reset alone.)
//! - **Slow scans** (`nmap -T0`/`-T1`, one probe every few minutes): failed connection
//!   attempts (a SYN-only flow left unanswered or answered by one reset), counted over
//!   `slow_window_us` rather than the window: `slow_hosts` distinct hosts on one port, or
//!   `slow_ports` distinct ports on one host. Only failures count, so a browser reaching many
//!   servers in an hour does not. A source's first failure only marks it in a direct-mapped
//!   filter of recent failing sources ([`REPEAT_FILTER_SLOTS`] slots, no hashing of keys);
//!   its later failures are counted, so a flood of spoofed one-off sources costs one array
//!   write each (while such a flood lasts, it can overwrite a slow scanner's slot and hide
//!   it). A source already reported for a fast scan within the slow window is not reported
//!   again as a slow one, and its slot in the filter says so, so a fast scanner's failures
//!   cost one lookup each instead of the slow-scan counting.
//! - **IP-protocol scans** (`nmap -sO`): one source sending `ip_protocols` different IP
//!   protocols other than TCP and UDP (ICMP, IGMP, GRE, raw numbers …) to one host within the
//!   window.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Counts, DistinctWindow, Episode, Episodes, Tally, TimedTable};
use super::{
    intensity_score, secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check,
};
use crate::decode::{is_unicast, IpProtocol, TcpFlags};
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::features::{Feature, FeatureVector};
use crate::flow::{EndReason, FlowContext, FlowRecord};
use crate::time::Timestamp;

const NAME: &str = "port_scan";

/// Settings of the [`PortScanDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortScanConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// Sliding window in which distinct ports/hosts are counted, µs (default 60 s).
    pub window_us: i64,
    /// A source quiet for this long ends its episode; its next scan alerts again, µs
    /// (default 300 s).
    pub quiet_us: i64,
    /// Distinct ports (TCP and UDP counted apart) of one host probed by one source within the
    /// window that make a vertical scan (default 20; a client rarely opens more than a handful).
    pub vertical_ports: u64,
    /// Distinct hosts probed on one port by one source within the window that make a
    /// horizontal scan (default 64; browsers reach ~20 servers on 443 per minute).
    pub horizontal_hosts: u64,
    /// Distinct (host, port) targets of stealth probes within the window (default 3).
    pub stealth_probes: u64,
    /// Window for slow scans, µs (default 1 h).
    pub slow_window_us: i64,
    /// Distinct hosts with failed connection attempts from one source on one port within the
    /// slow window (default 32).
    pub slow_hosts: u64,
    /// Distinct ports of one host with failed connection attempts from one source within the
    /// slow window (default 32).
    pub slow_ports: u64,
    /// Distinct IP protocols other than TCP and UDP from one source to one host within the
    /// window that make an IP-protocol scan (default 5; hosts use ICMP and perhaps one
    /// tunnel protocol).
    pub ip_protocols: u64,
    /// Cap of each table (sources, (source, host) and (source, port) pairs), default 16384;
    /// the IP-protocol and slow-scan tables hold at most 1024 pairs each (beyond that the
    /// oldest are evicted, so a slow scan hidden among more failing sources can be missed).
    pub max_tracked: usize,
}

impl Default for PortScanConfig {
    fn default() -> Self {
        PortScanConfig {
            enabled: true,
            window_us: 60_000_000,
            quiet_us: 300_000_000,
            vertical_ports: 20,
            horizontal_hosts: 64,
            stealth_probes: 3,
            slow_window_us: 3_600_000_000,
            slow_hosts: 32,
            slow_ports: 32,
            ip_protocols: 5,
            max_tracked: 1 << 14,
        }
    }
}

impl PortScanConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("window_us", self.window_us)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.at_least_one("vertical_ports", self.vertical_ports)?;
        c.at_least_one("horizontal_hosts", self.horizontal_hosts)?;
        c.at_least_one("stealth_probes", self.stealth_probes)?;
        c.positive("slow_window_us", self.slow_window_us)?;
        c.at_least_one("slow_hosts", self.slow_hosts)?;
        c.at_least_one("slow_ports", self.slow_ports)?;
        c.at_least_one("ip_protocols", self.ip_protocols)?;
        c.cap(self.max_tracked)
    }
}

/// Per-source episode summary.
#[derive(Debug, Clone, Copy, Default)]
struct Scan {
    max_ports: u32,
    max_hosts: u32,
    max_stealth: u32,
    max_protocols: u32,
    max_slow: u32,
}

/// Detects port scans (see the module docs); one alert per scanning source and episode.
#[derive(Debug)]
pub struct PortScanDetector {
    config: PortScanConfig,
    clock: Clock,
    /// Distinct (source, host, port and protocol) probes first seen within the window. The
    /// vertical count of (source, host) is its number of distinct (port, protocol), the
    /// horizontal count of (source, port, protocol) its number of distinct hosts: both are
    /// counts of these probes, so one table (one hash per probe) serves both. It stands for
    /// two tables in [`stats`](Self::stats), the vertical and the horizontal pairs.
    probes: TimedTable<(Addr, Addr, u32), ()>,
    /// (source, host) → distinct (port, protocol) in `probes`.
    per_host: Counts<(Addr, Addr)>,
    /// (source, port and protocol) → distinct hosts in `probes`.
    per_port: Counts<(Addr, u32)>,
    /// source → distinct stealth-probed (host, port).
    stealth: DistinctWindow<Addr, (Addr, u16)>,
    /// (source, port) → distinct hosts with failed attempts, over the slow window.
    slow_hosts: DistinctWindow<(Addr, u16), Addr>,
    /// Fingerprints of recently failing sources, by slot.
    failing: Box<[u32]>,
    /// Sources reported for a fast scan within the slow window.
    fast_reported: TimedTable<Addr, ()>,
    /// (source, host) → distinct ports with failed attempts, over the slow window.
    slow_ports: DistinctWindow<(Addr, Addr), u16>,
    /// (source, host) → distinct IP protocols other than TCP and UDP.
    protocols: DistinctWindow<(Addr, Addr), u8>,
    sources: Episodes<Addr, Scan>,
    tally: Tally,
}

impl PortScanDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &PortScanConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        let (cap, w) = (config.max_tracked, config.window_us);
        Ok(PortScanDetector {
            config: config.clone(),
            clock: Clock::default(),
            probes: TimedTable::new(cap, w),
            per_host: Counts::new(cap),
            per_port: Counts::new(cap),
            stealth: DistinctWindow::new(cap, w),
            protocols: DistinctWindow::new(cap.min(1 << 10), w),
            failing: vec![0; REPEAT_FILTER_SLOTS].into_boxed_slice(),
            fast_reported: TimedTable::new(cap.min(1 << 10), config.slow_window_us),
            slow_hosts: DistinctWindow::new(cap.min(1 << 10), config.slow_window_us),
            slow_ports: DistinctWindow::new(cap.min(1 << 10), config.slow_window_us),
            sources: Episodes::new(cap, config.quiet_us, w),
            tally: Tally::default(),
        })
    }
}

impl PortScanDetector {
    /// Records a probe at `now`; returns the distinct (port, protocol) its source probed on its
    /// host and the distinct hosts it probed on its port and protocol, within the window.
    #[inline]
    fn observe(
        &mut self,
        src: Addr,
        dst: Addr,
        port: u16,
        proto: u8,
        now: Timestamp,
    ) -> (u32, u32) {
        let service = u32::from(port) << 8 | u32::from(proto);
        let (per_host, per_port) = (&mut self.per_host, &mut self.per_port);
        let mut gone = |(s, d, p): (Addr, Addr, u32), ()| {
            per_host.decrement((s, d));
            per_port.decrement((s, p));
        };
        self.probes.expire(now, &mut gone);
        if self
            .probes
            .insert_new((src, dst, service), now, || (), gone)
        {
            (
                self.per_host.increment((src, dst)),
                self.per_port.increment((src, service)),
            )
        } else {
            (
                self.per_host.get((src, dst)),
                self.per_port.get((src, service)),
            )
        }
    }
}

/// Whether `m` is a probe, and whether a stealth one.
fn probe_kind(
    protocol: IpProtocol,
    flags: TcpFlags,
    dst: IpAddr,
    flow: Option<&FlowContext>,
) -> Option<bool> {
    match protocol {
        IpProtocol::TCP if !flags.ack() && !flags.rst() => Some(!flags.syn() || flags.fin()),
        IpProtocol::UDP if flow.is_some_and(|f| f.new_flow) && is_unicast(dst) => Some(false),
        _ => None,
    }
}

/// Slots of the filter of recently failing sources (a 256 KiB array).
pub const REPEAT_FILTER_SLOTS: usize = 1 << 16;

/// The filter slot and fingerprint of a source address (multiply-shift mixing, no keyed
/// hash: the filter only saves work, it decides nothing alone).
fn slot_and_print(a: IpAddr) -> (usize, u32) {
    let bits = Addr(a).bits();
    let x = ((bits >> 64) as u64 ^ bits as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((x >> 48) as usize, (x as u32) | 1)
}

/// The filter's mark of a source reported for a fast scan: its fingerprint with the low
/// bit cleared (fingerprints of failing sources have it set).
fn reported_mark(print: u32) -> u32 {
    print & !1
}

/// What kind of scan crossed its threshold (`meta.scan_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScanKind {
    /// Many ports on one host.
    Vertical,
    /// One port on many hosts.
    Horizontal,
    /// TCP probes without SYN, ACK or RST (FIN, NULL, Xmas …), or ACK probes.
    Stealth,
    /// Many IP protocols to one host.
    Protocol,
    /// Failed attempts on many hosts or ports over the slow window.
    Slow,
}

impl ScanKind {
    fn as_str(self) -> &'static str {
        match self {
            ScanKind::Vertical => "vertical",
            ScanKind::Horizontal => "horizontal",
            ScanKind::Stealth => "stealth",
            ScanKind::Protocol => "ip_protocol",
            ScanKind::Slow => "slow",
        }
    }
}

impl Detector for PortScanDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        // A bare ACK is never a probe (ACK probes are judged from their flows).
        PacketInterest::TCP_CONTROL
            | PacketInterest::TCP_DATA
            | PacketInterest::UDP
            | PacketInterest::ICMP
            | PacketInterest::OTHER
    }

    fn stats(&self) -> DetectorStats {
        let mut d = table_stats(
            NAME,
            &self.tally,
            &[
                &self.probes,
                &self.per_host,
                &self.per_port,
                &self.stealth,
                &self.protocols,
                &self.fast_reported,
                &self.slow_hosts,
                &self.slow_ports,
                &self.sources,
            ],
        );
        let filter = (self.failing.len() * std::mem::size_of::<u32>()) as u64;
        d.memory_bytes += filter;
        d.memory_bound_bytes += filter;
        d
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
        if !matches!(m.protocol, IpProtocol::TCP | IpProtocol::UDP) {
            // Each protocol tried opens a flow of its own: only flow openers are counted.
            if flow.is_none_or(|f| f.new_flow) && is_unicast(m.dst_addr) {
                let now = self.clock.advance(m.ts);
                let key = (Addr(m.src_addr), Addr(m.dst_addr));
                let (n, _) = self.protocols.observe(key, m.protocol.0, now);
                let probe = Probe {
                    src: m.src_addr,
                    dst: m.dst_addr,
                    port: 0,
                    protocol: m.protocol,
                };
                let seen = Observed {
                    protocols: n,
                    ..Observed::default()
                };
                self.judge(probe, seen, now, out);
            }
            return;
        }
        let Some(stealth) = probe_kind(m.protocol, m.tcp_flags, m.dst_addr, flow) else {
            return;
        };
        let now = self.clock.advance(m.ts);
        let probe = Probe {
            src: m.src_addr,
            dst: m.dst_addr,
            port: m.dst_port,
            protocol: m.protocol,
        };
        self.probe(probe, stealth, now, out);
    }

    fn on_flow_end(&mut self, flow: &FlowRecord, features: &FeatureVector, out: &mut Vec<Alert>) {
        let s = &flow.stats;
        let failed_attempt = flow.protocol == IpProtocol::TCP
            && features[Feature::SynFlagCnt] > 0.0
            && s.payload_bytes() == 0
            && s.fwd_packets() <= 3
            && (s.bwd_packets() == 0
                || (s.bwd_packets() == 1 && flow.end_reason == EndReason::Rst));
        if failed_attempt && is_unicast(flow.dst_addr) {
            let (slot, print) = slot_and_print(flow.src_addr);
            let now = self.clock.advance(flow.first_ts);
            let (src, dst) = (Addr(flow.src_addr), Addr(flow.dst_addr));
            if self.failing[slot] == reported_mark(print) {
                // Reported for a fast scan: while that holds, its failures are not a slow
                // scan, and counting them is the bulk of a fast scanner's cost here.
                if self.fast_reported.get(&src).is_some() {
                    return;
                }
                self.failing[slot] = print;
            } else if std::mem::replace(&mut self.failing[slot], print) != print {
                return;
            }
            let (hosts, _) = self.slow_hosts.observe((src, flow.dst_port), dst, now);
            let (ports, _) = self.slow_ports.observe((src, dst), flow.dst_port, now);
            let c = &self.config;
            if u64::from(hosts) >= c.slow_hosts || u64::from(ports) >= c.slow_ports {
                let probe = Probe {
                    src: flow.src_addr,
                    dst: flow.dst_addr,
                    port: flow.dst_port,
                    protocol: flow.protocol,
                };
                let slow = Observed {
                    slow: hosts.max(ports),
                    ..Observed::default()
                };
                self.judge(probe, slow, now, out);
            }
            return;
        }
        let ack_probe = flow.protocol == IpProtocol::TCP
            && flow.end_reason == EndReason::Rst
            && s.fwd_packets() == 1
            && s.bwd_packets() == 1
            && s.payload_bytes() == 0
            && features[Feature::SynFlagCnt] == 0.0;
        if !ack_probe || !is_unicast(flow.dst_addr) {
            return;
        }
        let now = self.clock.advance(flow.first_ts);
        let probe = Probe {
            src: flow.src_addr,
            dst: flow.dst_addr,
            port: flow.dst_port,
            protocol: flow.protocol,
        };
        self.probe(probe, true, now, out);
    }
}

/// What a probe brought a source's distinct counts to (0 for counts it did not touch).
#[derive(Debug, Clone, Copy, Default)]
struct Observed {
    ports: u32,
    hosts: u32,
    stealthy: u32,
    protocols: u32,
    slow: u32,
}

/// One probe's identity.
#[derive(Debug, Clone, Copy)]
struct Probe {
    src: IpAddr,
    dst: IpAddr,
    port: u16,
    protocol: IpProtocol,
}

impl PortScanDetector {
    /// Counts a port probe and alerts when its source crosses a threshold.
    #[inline]
    fn probe(&mut self, p: Probe, stealth: bool, now: Timestamp, out: &mut Vec<Alert>) {
        let (ports, hosts) = self.observe(Addr(p.src), Addr(p.dst), p.port, p.protocol.0, now);
        let stealthy = if stealth {
            self.stealth
                .observe(Addr(p.src), (Addr(p.dst), p.port), now)
                .0
        } else {
            0
        };
        let seen = Observed {
            ports,
            hosts,
            stealthy,
            ..Observed::default()
        };
        self.judge(p, seen, now, out);
    }

    /// Updates the source's episode with the counts (distinct ports, hosts, stealth targets,
    /// IP protocols) and alerts when one crosses its threshold.
    ///
    /// Always inlined: called on its own, its `Observed` argument went through the stack, and
    /// the wide load of fields just stored one by one stalled (a failed store forwarding, the
    /// hottest instruction of the detector).
    #[inline(always)]
    fn judge(&mut self, p: Probe, seen: Observed, now: Timestamp, out: &mut Vec<Alert>) {
        let Observed {
            ports,
            hosts,
            stealthy,
            protocols,
            slow,
        } = seen;
        let src = p.src;
        let c = &self.config;
        let (ep, scan) = self.sources.event(Addr(src), now);
        scan.max_ports = scan.max_ports.max(ports);
        scan.max_hosts = scan.max_hosts.max(hosts);
        scan.max_stealth = scan.max_stealth.max(stealthy);
        scan.max_protocols = scan.max_protocols.max(protocols);
        scan.max_slow = scan.max_slow.max(slow);
        let kind = if u64::from(ports) >= c.vertical_ports {
            (ScanKind::Vertical, u64::from(ports), c.vertical_ports)
        } else if u64::from(hosts) >= c.horizontal_hosts {
            (ScanKind::Horizontal, u64::from(hosts), c.horizontal_hosts)
        } else if u64::from(stealthy) >= c.stealth_probes {
            (ScanKind::Stealth, u64::from(stealthy), c.stealth_probes)
        } else if u64::from(protocols) >= c.ip_protocols {
            (ScanKind::Protocol, u64::from(protocols), c.ip_protocols)
        } else if slow > 0 && self.fast_reported.get(&Addr(src)).is_none() {
            (
                ScanKind::Slow,
                u64::from(slow),
                c.slow_hosts.min(c.slow_ports),
            )
        } else {
            return;
        };
        if !self.tally.fire(ep) {
            return;
        }
        let (ep, scan) = (*ep, *scan);
        self.report(p, kind, ep, scan, now, out);
    }

    /// Raises the alert for a source whose `kind` crossed its threshold: kept out of
    /// [`judge`](Self::judge), which runs for every probe, so its code and its large stack
    /// frame stay off the per-probe path.
    #[cold]
    #[inline(never)]
    fn report(
        &mut self,
        p: Probe,
        kind: (ScanKind, u64, u64),
        ep: Episode,
        scan: Scan,
        now: Timestamp,
        out: &mut Vec<Alert>,
    ) {
        let Probe {
            src,
            dst,
            port,
            protocol,
        } = p;
        let c = &self.config;
        let (what, count, threshold) = kind;
        if what != ScanKind::Slow {
            self.fast_reported.expire(now, |_, _| {});
            self.fast_reported.touch(Addr(src), now, || (), |_, _| {});
            let (slot, print) = slot_and_print(src);
            self.failing[slot] = reported_mark(print);
        }
        let proto_name = protocol.name();
        let window = secs(c.window_us);
        let (dst_ip, dst_port, severity, description) = match what {
            ScanKind::Vertical => (
                Some(dst),
                None,
                Severity::Medium,
                format!(
                    "{src} probed {count} distinct ports on {dst} within {window} ({} probes since {}).",
                    ep.events, ep.first
                ),
            ),
            ScanKind::Horizontal => (
                None,
                Some(port),
                Severity::Medium,
                format!(
                    "{src} probed {proto_name} port {port} on {count} distinct hosts within {window} ({} probes since {}).",
                    ep.events, ep.first
                ),
            ),
            ScanKind::Stealth => (
                Some(dst),
                None,
                Severity::High,
                format!(
                    "{src} sent stealth TCP probes (no SYN, or ACK probes answered by a reset) to {count} distinct targets within {window} ({} probes since {}).",
                    ep.events, ep.first
                ),
            ),
            ScanKind::Slow => (
                Some(dst),
                Some(port),
                Severity::Medium,
                format!(
                    "{src} made failed connection attempts to {count} distinct hosts of one port or ports of one host within {} (a slow scan; last {dst}:{port}).",
                    secs(c.slow_window_us)
                ),
            ),
            ScanKind::Protocol => (
                Some(dst),
                None,
                Severity::Medium,
                format!(
                    "{src} sent {count} different IP protocols to {dst} within {window} (an IP-protocol scan; {} probes since {}).",
                    ep.events, ep.first
                ),
            ),
        };
        let alert = AlertBuilder::new(NAME, now, "Port_Scan", severity, &ep)
            .addrs(Some(src), dst_ip)
            .ports(None, dst_port)
            .protocol(protocol)
            .score(intensity_score(
                count,
                threshold,
                now.micros_since(ep.first),
                c.window_us,
            ))
            .meta("scan_kind", what.as_str())
            .observed("probes", ep.events)
            .observed("distinct_ports", scan.max_ports)
            .observed("distinct_hosts", scan.max_hosts)
            .observed("stealth_targets", scan.max_stealth)
            .observed("ip_protocols", scan.max_protocols)
            .observed("slow_failed_targets", scan.max_slow)
            .threshold("window_us", c.window_us)
            .threshold("vertical_ports", c.vertical_ports)
            .threshold("horizontal_hosts", c.horizontal_hosts)
            .threshold("stealth_probes", c.stealth_probes)
            .threshold("ip_protocols", c.ip_protocols)
            .threshold("slow_window_us", c.slow_window_us)
            .threshold("slow_hosts", c.slow_hosts)
            .threshold("slow_ports", c.slow_ports)
            .build(description);
        out.push(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::tests_util::{feed, new_flow, on_ip};
    use crate::synth;

    const SCANNER: [u8; 4] = [10, 0, 0, 9];

    fn syn(ts_ms: i64, dst: [u8; 4], port: u16) -> crate::decode::PacketMeta {
        synth::tcp(
            ts_ms * 1000,
            SCANNER,
            40000,
            dst,
            port,
            TcpFlags::SYN,
            0,
            1024,
        )
    }

    fn detector(f: impl FnOnce(&mut PortScanConfig)) -> PortScanDetector {
        let mut c = PortScanConfig::default();
        f(&mut c);
        PortScanDetector::new(&c).expect("valid")
    }

    /// `nmap -sA`: a bare ACK to each port, each answered by a reset.
    #[test]
    fn ack_probes_answered_by_resets_are_stealth_probes() {
        let target = [10, 0, 0, 1];
        let mut pkts = Vec::new();
        for (i, port) in [22u16, 80, 443, 8080].into_iter().enumerate() {
            let t = i as i64 * 10_000;
            pkts.push(synth::tcp(
                t,
                SCANNER,
                50000,
                target,
                port,
                TcpFlags::ACK,
                0,
                1024,
            ));
            pkts.push(synth::tcp(
                t + 100,
                target,
                port,
                SCANNER,
                50000,
                TcpFlags::RST,
                0,
                0,
            ));
        }
        let alerts = feed(&mut detector(|_| {}), &pkts);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].meta["scan_kind"], "stealth");
    }

    /// A capture that starts mid-connection: bare ACKs and data to several servers, no
    /// resets: not probes.
    #[test]
    fn flows_picked_up_mid_stream_are_not_ack_probes() {
        let mut pkts = Vec::new();
        for (i, host) in [[10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3], [10, 0, 0, 4]]
            .into_iter()
            .enumerate()
        {
            let t = i as i64 * 10_000;
            pkts.push(synth::tcp(
                t,
                SCANNER,
                50000 + i as u16,
                host,
                443,
                TcpFlags::ACK,
                0,
                1024,
            ));
            pkts.push(synth::tcp(
                t + 100,
                host,
                443,
                SCANNER,
                50000 + i as u16,
                TcpFlags::ACK | TcpFlags::PSH,
                900,
                501,
            ));
            pkts.push(synth::tcp(
                t + 200,
                SCANNER,
                50000 + i as u16,
                host,
                443,
                TcpFlags::ACK,
                0,
                1024,
            ));
        }
        assert!(feed(&mut detector(|_| {}), &pkts).is_empty());
    }

    /// `nmap -sO`: ICMP, IGMP, GRE, ESP, AH and SCTP to one host.
    /// `nmap -T0 -p 23`: one SYN every 2 minutes to a new host, unanswered, for 80 minutes;
    /// far below the per-minute thresholds, a slow scan over the hour.
    #[test]
    fn slow_scan_of_one_port_over_an_hour() {
        let pkts: Vec<_> = (0..40u8)
            .map(|i| syn(i64::from(i) * 120_000, [10, 1, 0, i], 23))
            .collect();
        let alerts = feed(&mut detector(|_| {}), &pkts);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].meta["scan_kind"], "slow");
        // Answered connections (a client's ordinary day) are not failures.
        let mut ok = Vec::new();
        for i in 0..40u8 {
            let t = i64::from(i) * 120_000_000;
            let host = [10, 1, 0, i];
            ok.push(synth::tcp(
                t,
                SCANNER,
                40000,
                host,
                443,
                TcpFlags::SYN,
                0,
                1024,
            ));
            ok.push(synth::tcp(
                t + 10,
                host,
                443,
                SCANNER,
                40000,
                TcpFlags::SYN | TcpFlags::ACK,
                0,
                1024,
            ));
            ok.push(synth::tcp(
                t + 20,
                SCANNER,
                40000,
                host,
                443,
                TcpFlags::ACK,
                0,
                1024,
            ));
        }
        assert!(feed(&mut detector(|_| {}), &ok).is_empty());
    }

    #[test]
    fn ip_protocol_scan() {
        let target = [10, 0, 0, 1];
        let pkts: Vec<_> = [1u8, 2, 47, 50, 51, 132]
            .into_iter()
            .enumerate()
            .map(|(i, proto)| {
                let mut m = synth::udp(i as i64 * 1000, SCANNER, 0, target, 0, 0);
                m.protocol = IpProtocol(proto);
                m
            })
            .collect();
        let alerts = feed(&mut detector(|_| {}), &pkts);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].meta["scan_kind"], "ip_protocol");
        assert_eq!(alerts[0].meta["observed"]["ip_protocols"], 5);
        // ICMP and GRE alone are ordinary.
        let alerts = feed(&mut detector(|_| {}), &pkts[..2]);
        assert!(alerts.is_empty());
    }

    #[test]
    fn vertical_threshold_edge_and_one_alert_per_episode() {
        let mut d = detector(|_| {});
        let host = [10, 0, 0, 1];
        let pkts: Vec<_> = (0..19).map(|p| syn(p, host, 1000 + p as u16)).collect();
        assert!(feed(&mut d, &pkts).is_empty(), "19 ports: below 20");
        let alerts = feed(&mut d, &[syn(20, host, 2000)]);
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.attack_type, "Port_Scan");
        assert_eq!(a.src_ip, Some(IpAddr::from(SCANNER)));
        assert_eq!(a.dst_ip, Some(IpAddr::from(host)));
        assert_eq!(a.tags, ["behaviour"]);
        assert_eq!(a.detector(), Some("port_scan"));
        assert_eq!(a.meta["observed"]["distinct_ports"], 20);
        assert_eq!(a.meta["thresholds"]["vertical_ports"], 20);
        assert!(
            a.description.contains("20 distinct ports"),
            "{}",
            a.description
        );
        assert!(a.score > 0.5 && a.score <= 1.0);
        // More ports in the same episode: no second alert, counted as suppressed.
        let more: Vec<_> = (0..50)
            .map(|p| syn(30 + p, host, 3000 + p as u16))
            .collect();
        assert!(feed(&mut d, &more).is_empty());
        assert_eq!(d.stats().alerts, 1);
        assert!(d.stats().suppressed > 0);
        // Quiet for longer than quiet_us (300 s): the next scan is a new episode.
        let later: Vec<_> = (0..20)
            .map(|p| syn(400_000 + p, host, 5000 + p as u16))
            .collect();
        assert_eq!(feed(&mut d, &later).len(), 1);
    }

    #[test]
    fn window_slides() {
        // 19 ports, then one more 61 s later: the window forgot the first ones.
        let mut d = detector(|_| {});
        let host = [10, 0, 0, 1];
        let mut pkts: Vec<_> = (0..19).map(|p| syn(p, host, 1000 + p as u16)).collect();
        pkts.push(syn(61_000, host, 9));
        assert!(feed(&mut d, &pkts).is_empty());
    }

    #[test]
    fn horizontal_and_stealth() {
        let mut d = detector(|c| c.horizontal_hosts = 5);
        let pkts: Vec<_> = (0..5).map(|h| syn(h, [10, 0, 1, h as u8], 22)).collect();
        let a = feed(&mut d, &pkts);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].dst_port, Some(22));
        assert_eq!(a[0].meta["scan_kind"], "horizontal");

        let mut d = detector(|_| {});
        let host = [10, 0, 0, 1];
        let flags = [TcpFlags::FIN, 0, TcpFlags::FIN | TcpFlags::PSH | 0x20];
        let pkts: Vec<_> = flags
            .iter()
            .enumerate()
            .map(|(i, &f)| synth::tcp(i as i64, SCANNER, 1, host, 100 + i as u16, f, 0, 0))
            .collect();
        let a = feed(&mut d, &pkts);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].meta["scan_kind"], "stealth");
        assert_eq!(a[0].severity, Severity::High);
    }

    /// A UDP host sweep (`nmap -sn -PU`: one datagram to port 40125 of each host) is a
    /// horizontal scan with the default thresholds, through the real flow table.
    #[test]
    fn udp_host_sweep_is_a_horizontal_scan() {
        let mut d = detector(|_| {});
        let pkts: Vec<_> = (0..70u8)
            .map(|h| synth::udp(i64::from(h) * 1000, SCANNER, 5000, [10, 0, 2, h], 40125, 0))
            .collect();
        let a = feed(&mut d, &pkts);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].meta["scan_kind"], "horizontal");
        assert_eq!(a[0].protocol.as_deref(), Some("UDP"));
        // Fewer hosts than the threshold (64) is not a sweep.
        let mut d = detector(|_| {});
        assert!(feed(&mut d, &pkts[..60]).is_empty());
    }

    #[test]
    fn acks_and_replies_are_not_probes_and_udp_needs_new_flow() {
        let mut d = detector(|c| c.vertical_ports = 2);
        let host = [10, 0, 0, 1];
        let acks: Vec<_> = (0..10)
            .map(|p| synth::tcp(p, SCANNER, 1, host, p as u16, TcpFlags::ACK, 0, 0))
            .collect();
        assert!(feed(&mut d, &acks).is_empty());
        let mut out = Vec::new();
        for p in 0..3u16 {
            let m = synth::udp(i64::from(p), SCANNER, 5000, host, 100 + p, 0);
            on_ip(&mut d, &m, None, &mut out);
        }
        assert!(
            out.is_empty(),
            "UDP without a new-flow context is not a probe"
        );
        for p in 0..2u16 {
            let m = synth::udp(i64::from(p), SCANNER, 5000, host, 100 + p, 0);
            on_ip(&mut d, &m, Some(&new_flow(u64::from(p))), &mut out);
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].protocol.as_deref(), Some("UDP"));
    }

    #[test]
    fn spoofed_sources_stay_bounded() {
        let mut d = detector(|c| c.max_tracked = 64);
        let pkts: Vec<_> = (0..10_000u32)
            .map(|i| {
                let b = i.to_be_bytes();
                synth::tcp(
                    i64::from(i),
                    [11, b[1], b[2], b[3]],
                    1,
                    [10, 0, 0, 1],
                    80,
                    2,
                    0,
                    0,
                )
            })
            .collect();
        assert!(feed(&mut d, &pkts).is_empty());
        let s = d.stats();
        // Probes, the two per-probe counts, sources, fast-reported sources, and the pairs and
        // counts of the stealth, protocol and two slow-scan windows: 64 each.
        assert!(s.tracked <= 13 * 64, "{s:?}");
        assert!(s.evicted >= 2 * (10_000 - 64), "{s:?}");
        assert!(s.memory_bytes <= s.memory_bound_bytes, "{s:?}");
    }
}
