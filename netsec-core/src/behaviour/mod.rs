//! Behavioural detectors: scans, floods, brute force, ARP spoofing and reflection, found from
//! traffic patterns over time rather than from single packets.
//!
//! | detector | type | `attack_type` | keyed by |
//! |---|---|---|---|
//! | `port_scan` | [`PortScanDetector`] | `Port_Scan` | scanning source |
//! | `syn_flood` | [`SynFloodDetector`] | `DDoS_SYN_Flood` | victim address |
//! | `brute_force` | [`BruteForceDetector`] | `Brute_Force_SSH`, `Brute_Force_FTP`, … | source → service |
//! | `icmp_flood` | [`IcmpFloodDetector`] | `ICMP_Flood` | victim address |
//! | `ping_sweep` | [`PingSweepDetector`] | `Ping_Sweep` | sweeping source |
//! | `arp_spoof` | [`ArpSpoofDetector`] | `MITM_ARP_Spoofing` | offending MAC |
//! | `arp_scan` | [`ArpScanDetector`] | `ARP_Scan` | scanning MAC |
//! | `dhcp_flood` | [`DhcpFloodDetector`] | `DHCP_Starvation` | client hardware address; server |
//! | `os_fingerprint` | [`OsFingerprintDetector`] | `OS_Fingerprinting` | (source, host) |
//! | `smb` | [`SmbDetector`] | `Lateral_Movement`, `Exploit_SMBGhost`, `Malware_Test_File_Transfer` | client and finding |
//! | `beacon` | [`BeaconDetector`] | `C2_Beaconing` | (client, destination) |
//! | `session_hijack` | [`SessionHijackDetector`] | `Session_Hijacking` | (client, server) |
//! | `icmp_tunnel` | [`IcmpTunnelDetector`] | `ICMP_Tunnel` | (source, host) |
//! | `login_scan` | [`LoginScanDetector`] | `Login_Scan` | source and service |
//! | `tcp_anomaly` | [`TcpAnomalyDetector`] | `Exploit_TCP_Urgent`, `TCP_Evasion`, `TCP_ACK_Storm`, `TCP_RST_Injection` | source and finding |
//! | `long_connection` | [`LongConnectionDetector`] | `Long_Connection` | (client, destination, port) and severity step |
//! | `amplification` | [`AmplificationDetector`] | `DDoS_Amplification` | victim address |
//! | `dns_tunnel` | [`DnsTunnelDetector`] | `DNS_Tunnel`, `DNS_Encrypted_Channel` | client address; client → resolver |
//! | `payload` | [`PayloadDetector`] | `Exploit_Heartbleed`, `Malware_Executable_Transfer`, `Reverse_Shell`, `Cryptomining` | sending address and finding |
//!
//! Build them from a [`BehaviourConfig`] (TOML via [`BehaviourConfig::from_toml_str`]) with
//! [`build_detectors`], and feed them like any other [`Detector`].
//!
//! # Guarantees
//!
//! - **One alert per attacker (or victim) and episode.** An episode starts with the key's first
//!   relevant packet after a quiet period (`quiet_us`, per detector) and lasts while packets
//!   keep coming; it raises at most one alert, when a threshold is first crossed. The alert
//!   summarises the episode so far: `meta.observed` (counts, `first_seen`, `last_seen`),
//!   `meta.thresholds` (the settings that fired) and `meta.detector`; `tags` is
//!   `["behaviour"]`; `score` grows from 0.5 (threshold just reached over a whole window)
//!   towards 1.0 (reached much faster than the window).
//! - **Packet time only.** Windows slide by packet timestamps (each detector keeps the highest
//!   time seen, so a packet with an earlier time never moves its clock back); the wall clock is
//!   never read. The same input gives the same alerts, ids included, in the same order.
//! - **Bounded memory.** Every per-source, per-destination or per-pair table holds at most
//!   `max_tracked` entries; when a new key arrives at a full table, expired entries go first,
//!   then the oldest is evicted and counted in the `evicted` of
//!   [`Detector::stats`]. A flood of spoofed
//!   sources therefore costs a fixed amount of memory. Idle state is pruned as time advances,
//!   in amortised O(1) per packet (a FIFO walk from the front, never a full scan).
//! - **Cheap hot path.** A packet that cannot matter to a detector is rejected on its
//!   protocol and flags before any hashing; a relevant one costs a few lookups of small `Copy`
//!   keys, each hashed once; no allocation unless a table grows (amortised) or an alert
//!   fires. `benches/benches/behaviour.rs` measures each detector.
//!
//! ```
//! use netsec_core::behaviour::{build_detectors, BehaviourConfig};
//!
//! let config = BehaviourConfig::from_toml_str(
//!     "[port_scan]\nvertical_ports = 50\n[arp_spoof]\nenabled = false\n",
//! )?;
//! assert_eq!(config.port_scan.vertical_ports, 50);
//! let detectors = build_detectors(&config)?;
//! assert_eq!(detectors.len(), 18);
//! assert_eq!(detectors[0].name(), "port_scan");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod amplification;
mod arp_scan;
mod arp_spoof;
mod beacon;
mod brute_force;
mod dhcp_flood;
mod dns_tunnel;
mod encrypted_dns;
mod icmp;
mod icmp_tunnel;
mod login_scan;
mod long_connection;
mod os_fingerprint;
mod payload;
mod port_scan;
mod prevalence;
mod session_hijack;
mod smb;
mod state;
mod syn_flood;
mod tcp_anomaly;
mod tcp_memory;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use amplification::{AmplificationConfig, AmplificationDetector, DEFAULT_AMPLIFIER_PORTS};
pub use arp_scan::{ArpScanConfig, ArpScanDetector};
pub use arp_spoof::{ArpSpoofConfig, ArpSpoofDetector};
pub use beacon::{BeaconConfig, BeaconDetector};
pub use brute_force::{BruteForceConfig, BruteForceDetector, LoginService, DEFAULT_LOGIN_SERVICES};
pub use dhcp_flood::{DhcpFloodConfig, DhcpFloodDetector};
pub use dns_tunnel::{DnsTunnelConfig, DnsTunnelDetector};
pub use encrypted_dns::{EncryptedDnsConfig, DEFAULT_DOH_RESOLVERS, ENCRYPTED_CHANNEL_ATTACK_TYPE};
pub use icmp::{IcmpConfig, IcmpFloodDetector, PingSweepDetector};
pub use icmp_tunnel::{IcmpTunnelConfig, IcmpTunnelDetector};
pub use login_scan::{LoginScanConfig, LoginScanDetector};
pub use long_connection::{LongConnectionConfig, LongConnectionDetector};
pub use os_fingerprint::{OsFingerprintConfig, OsFingerprintDetector};
pub use payload::{PayloadConfig, PayloadDetector};
pub use port_scan::{PortScanConfig, PortScanDetector};
pub use session_hijack::{SessionHijackConfig, SessionHijackDetector};
pub use smb::{SmbConfig, SmbDetector};
pub use syn_flood::{SynFloodConfig, SynFloodDetector};
pub use tcp_anomaly::{TcpAnomalyConfig, TcpAnomalyDetector};

use crate::decode::IpPacket;
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketView, Severity};
use crate::time::Timestamp;
use state::{Episode, Table, Tally};

/// Largest accepted `max_tracked` for any detector (2^24 entries).
pub const MAX_TRACKED_LIMIT: usize = 1 << 24;

/// Settings of every behavioural detector; each section has `enabled` and documented defaults.
/// Durations are microseconds of packet time (`_us`), as in
/// [`FlowTableConfig`](crate::flow::FlowTableConfig).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BehaviourConfig {
    /// Vertical and horizontal port scans.
    pub port_scan: PortScanConfig,
    /// SYN floods and SYN-ACK backscatter.
    pub syn_flood: SynFloodConfig,
    /// Login brute force.
    pub brute_force: BruteForceConfig,
    /// ICMP echo floods and ping sweeps.
    pub icmp: IcmpConfig,
    /// ARP spoofing.
    pub arp_spoof: ArpSpoofConfig,
    /// UDP amplification / reflection.
    pub amplification: AmplificationConfig,
    /// DNS tunnelling and encrypted DNS channels.
    pub dns_tunnel: DnsTunnelConfig,
    /// Payloads that give an attack away: Heartbleed, executables, shells, mining.
    pub payload: PayloadConfig,
    /// ARP scans.
    pub arp_scan: ArpScanConfig,
    /// DHCP starvation.
    pub dhcp_flood: DhcpFloodConfig,
    /// Active OS fingerprinting.
    pub os_fingerprint: OsFingerprintConfig,
    /// SMB2 lateral movement and SMBGhost.
    pub smb: SmbConfig,
    /// Urgent-pointer abuse and TCP desynchronisation.
    pub tcp_anomaly: TcpAnomalyConfig,
    /// Command-and-control beaconing.
    pub beacon: BeaconConfig,
    /// HTTP session cookies replayed by another client.
    pub session_hijack: SessionHijackConfig,
    /// Tunnels over ICMP echo.
    pub icmp_tunnel: IcmpTunnelConfig,
    /// Login-service scanning and VNC password guessing.
    pub login_scan: LoginScanConfig,
    /// Long-lived connections, weighted by how rare their destination is.
    pub long_connection: LongConnectionConfig,
}

/// Why a [`BehaviourConfig`] was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BehaviourConfigError {
    /// The TOML text did not parse or did not fit the schema (unknown keys are errors).
    #[error("invalid behaviour config: {0}")]
    Parse(#[from] toml::de::Error),
    /// A field holds a value out of range.
    #[error("{section}.{field}: {reason}")]
    Invalid {
        /// Config section (`port_scan`, …).
        section: &'static str,
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl BehaviourConfig {
    /// Parses TOML (sections as the field names, missing keys take their defaults) and checks it.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Parse`] for bad TOML or unknown keys,
    /// [`BehaviourConfigError::Invalid`] for values [`check`](Self::check) rejects.
    pub fn from_toml_str(s: &str) -> Result<Self, BehaviourConfigError> {
        let config: BehaviourConfig = toml::from_str(s)?;
        config.check()?;
        Ok(config)
    }

    /// Validates every section (enabled or not).
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        self.port_scan.check()?;
        self.syn_flood.check()?;
        self.brute_force.check()?;
        self.icmp.check()?;
        self.arp_spoof.check()?;
        self.amplification.check()?;
        self.dns_tunnel.check()?;
        self.payload.check()?;
        self.arp_scan.check()?;
        self.dhcp_flood.check()?;
        self.os_fingerprint.check()?;
        self.smb.check()?;
        self.tcp_anomaly.check()?;
        self.beacon.check()?;
        self.session_hijack.check()?;
        self.icmp_tunnel.check()?;
        self.login_scan.check()?;
        self.long_connection.check()
    }
}

/// The enabled detectors, in a fixed order: port scan, SYN flood, brute force, ICMP flood, ping
/// sweep, ARP spoofing, amplification, DNS tunnelling, payload findings, ARP scans, DHCP
/// starvation, OS fingerprinting, SMB, TCP anomalies, beaconing, session hijacking, ICMP
/// tunnels, login scans, long connections.
///
/// # Errors
/// [`BehaviourConfigError::Invalid`] when the config does not pass [`BehaviourConfig::check`].
pub fn build_detectors(
    config: &BehaviourConfig,
) -> Result<Vec<Box<dyn Detector>>, BehaviourConfigError> {
    config.check()?;
    let mut out: Vec<Box<dyn Detector>> = Vec::new();
    if config.port_scan.enabled {
        out.push(Box::new(PortScanDetector::new(&config.port_scan)?));
    }
    if config.syn_flood.enabled {
        out.push(Box::new(SynFloodDetector::new(&config.syn_flood)?));
    }
    if config.brute_force.enabled {
        out.push(Box::new(BruteForceDetector::new(&config.brute_force)?));
    }
    if config.icmp.enabled {
        out.push(Box::new(IcmpFloodDetector::new(&config.icmp)?));
        out.push(Box::new(PingSweepDetector::new(&config.icmp)?));
    }
    if config.arp_spoof.enabled {
        out.push(Box::new(ArpSpoofDetector::new(&config.arp_spoof)?));
    }
    if config.amplification.enabled {
        out.push(Box::new(AmplificationDetector::new(&config.amplification)?));
    }
    if config.dns_tunnel.enabled {
        out.push(Box::new(DnsTunnelDetector::new(&config.dns_tunnel)?));
    }
    if config.payload.enabled {
        out.push(Box::new(PayloadDetector::new(&config.payload)?));
    }
    if config.arp_scan.enabled {
        out.push(Box::new(ArpScanDetector::new(&config.arp_scan)?));
    }
    if config.dhcp_flood.enabled {
        out.push(Box::new(DhcpFloodDetector::new(&config.dhcp_flood)?));
    }
    if config.os_fingerprint.enabled {
        out.push(Box::new(OsFingerprintDetector::new(
            &config.os_fingerprint,
        )?));
    }
    if config.smb.enabled {
        out.push(Box::new(SmbDetector::new(&config.smb)?));
    }
    if config.tcp_anomaly.enabled {
        out.push(Box::new(TcpAnomalyDetector::new(&config.tcp_anomaly)?));
    }
    if config.beacon.enabled {
        out.push(Box::new(BeaconDetector::new(&config.beacon)?));
    }
    if config.session_hijack.enabled {
        out.push(Box::new(SessionHijackDetector::new(
            &config.session_hijack,
        )?));
    }
    if config.icmp_tunnel.enabled {
        out.push(Box::new(IcmpTunnelDetector::new(&config.icmp_tunnel)?));
    }
    if config.login_scan.enabled {
        out.push(Box::new(LoginScanDetector::new(&config.login_scan)?));
    }
    if config.long_connection.enabled {
        out.push(Box::new(LongConnectionDetector::new(
            &config.long_connection,
        )?));
    }
    Ok(out)
}

/// A behavioural detector's statistics from its alert tally and its state tables, the one
/// way every detector reports them.
pub(crate) fn table_stats(detector: &str, tally: &Tally, tables: &[&dyn Table]) -> DetectorStats {
    let mut d = DetectorStats::new(detector);
    d.alerts = tally.alerts;
    d.suppressed = tally.suppressed;
    for t in tables {
        d.tracked += t.entries() as u64;
        d.evicted += t.evicted();
        d.memory_bytes += t.bytes() as u64;
        d.memory_bound_bytes += t.bound_bytes() as u64;
    }
    d
}

/// The IP packet of `pkt` when it has its transport header (not ARP, not a non-first
/// fragment): how the IP-based detectors open `on_packet`.
#[inline]
pub(crate) fn transport<'a>(pkt: &PacketView<'a>) -> Option<&'a IpPacket<'a>> {
    let ip = pkt.ip()?;
    ip.meta.fragment.is_none_or(|f| f.is_first()).then_some(ip)
}

/// Field checks shared by the config sections.
pub(crate) struct Check(pub &'static str);

impl Check {
    fn invalid(&self, field: &'static str, reason: String) -> BehaviourConfigError {
        BehaviourConfigError::Invalid {
            section: self.0,
            field,
            reason,
        }
    }

    /// A duration that must be > 0.
    pub(crate) fn positive(&self, field: &'static str, v: i64) -> Result<(), BehaviourConfigError> {
        if v <= 0 {
            return Err(self.invalid(field, format!("must be > 0, got {v}")));
        }
        Ok(())
    }

    /// A duration that must be >= 0.
    pub(crate) fn non_negative(
        &self,
        field: &'static str,
        v: i64,
    ) -> Result<(), BehaviourConfigError> {
        if v < 0 {
            return Err(self.invalid(field, format!("must be >= 0, got {v}")));
        }
        Ok(())
    }

    /// A count threshold that must be >= 1.
    pub(crate) fn at_least_one(
        &self,
        field: &'static str,
        v: u64,
    ) -> Result<(), BehaviourConfigError> {
        if v == 0 {
            return Err(self.invalid(field, "must be >= 1".into()));
        }
        Ok(())
    }

    /// A table cap in `1..=MAX_TRACKED_LIMIT`.
    pub(crate) fn cap(&self, v: usize) -> Result<(), BehaviourConfigError> {
        self.size("max_tracked", v, MAX_TRACKED_LIMIT)
    }

    /// A size of `field` in `1..=max`.
    pub(crate) fn size(
        &self,
        field: &'static str,
        v: usize,
        max: usize,
    ) -> Result<(), BehaviourConfigError> {
        if v == 0 || v > max {
            return Err(self.invalid(field, format!("must be in 1..={max}, got {v}")));
        }
        Ok(())
    }

    /// A port list without 0.
    pub(crate) fn ports(
        &self,
        field: &'static str,
        ports: impl IntoIterator<Item = u16>,
    ) -> Result<(), BehaviourConfigError> {
        if ports.into_iter().any(|p| p == 0) {
            return Err(self.invalid(field, "port 0 is not a service port".into()));
        }
        Ok(())
    }

    /// A name usable in an `attack_type` (`[A-Za-z0-9_]+`).
    pub(crate) fn ident(&self, field: &'static str, s: &str) -> Result<(), BehaviourConfigError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(self.invalid(field, format!("{s:?} must match [A-Za-z0-9_]+")));
        }
        Ok(())
    }
}

/// How far above its threshold an episode is, as a score in [0.5, 1): 0.5 when `count` events
/// took the whole window, approaching 1 when they came much faster (`elapsed_us` since the
/// episode started). Always within 0..=1.
pub(crate) fn intensity_score(count: u64, threshold: u64, elapsed_us: i64, window_us: i64) -> f64 {
    let window = window_us.max(1) as f64;
    // A burst within 1/1000 of the window counts as that fast, no faster.
    let elapsed = (elapsed_us.max(0) as f64).clamp(window / 1000.0, window);
    let rate_ratio = (count as f64 / threshold.max(1) as f64) * (window / elapsed);
    (1.0 - 0.5 / rate_ratio.max(1.0)).clamp(0.0, 1.0)
}

/// Seconds with up to 3 decimals, for descriptions.
pub(crate) fn secs(us: i64) -> String {
    let s = us as f64 / 1e6;
    if (s - s.round()).abs() < 1e-9 {
        format!("{s:.0} s")
    } else {
        format!("{s:.3} s")
    }
}

pub(crate) use crate::decode::mac_string;

/// Builds a behavioural [`Alert`] on [`Alert::builder`]: `tags` `["behaviour"]`,
/// `meta.observed` (with the episode's `first_seen`, `last_seen` and `events`) and
/// `meta.thresholds`.
pub(crate) struct AlertBuilder {
    inner: crate::detect::AlertBuilder,
    observed: Map<String, Value>,
    thresholds: Map<String, Value>,
}

impl AlertBuilder {
    /// An alert raised at `ts` by `detector` for the episode `ep`.
    pub(crate) fn new(
        detector: &str,
        ts: Timestamp,
        attack_type: impl Into<String>,
        severity: Severity,
        ep: &Episode,
    ) -> AlertBuilder {
        let mut observed = Map::new();
        observed.insert("first_seen".into(), ep.first.to_string().into());
        observed.insert("last_seen".into(), ep.last.to_string().into());
        observed.insert("events".into(), ep.events.into());
        AlertBuilder {
            inner: Alert::builder(detector, ts, attack_type, severity).tag("behaviour"),
            observed,
            thresholds: Map::new(),
        }
    }

    /// Source and destination addresses.
    pub(crate) fn addrs(mut self, src: Option<IpAddr>, dst: Option<IpAddr>) -> Self {
        self.inner = self.inner.addrs(src, dst);
        self
    }

    /// Source and destination ports.
    pub(crate) fn ports(mut self, src: Option<u16>, dst: Option<u16>) -> Self {
        self.inner = self.inner.ports(src, dst);
        self
    }

    /// The IP protocol (its upper-case name).
    pub(crate) fn protocol(mut self, p: IpProtocol) -> Self {
        self.inner = self.inner.protocol(p);
        self
    }

    /// A protocol name that is not an IP protocol (`ARP`).
    pub(crate) fn protocol_name(mut self, p: &str) -> Self {
        self.inner = self.inner.protocol_name(p);
        self
    }

    /// The flow the alert belongs to.
    pub(crate) fn flow(mut self, flow_id: Option<u64>) -> Self {
        self.inner = self.inner.flow(flow_id);
        self
    }

    /// The score (clamped to 0..=1; a non-finite value keeps 0.5).
    pub(crate) fn score(mut self, s: f64) -> Self {
        if s.is_finite() {
            self.inner = self.inner.score(s);
        }
        self
    }

    /// One `meta.observed` entry.
    pub(crate) fn observed(mut self, key: &str, v: impl Into<Value>) -> Self {
        self.observed.insert(key.into(), v.into());
        self
    }

    /// One `meta.thresholds` entry.
    pub(crate) fn threshold(mut self, key: &str, v: impl Into<Value>) -> Self {
        self.thresholds.insert(key.into(), v.into());
        self
    }

    /// Another top-level `meta` entry (`mac`, `service`, …).
    pub(crate) fn meta(mut self, key: &str, v: impl Into<Value>) -> Self {
        self.inner = self.inner.meta(key, v);
        self
    }

    /// Finishes with the one-sentence description.
    pub(crate) fn build(self, description: String) -> Alert {
        self.inner
            .meta("observed", Value::Object(self.observed))
            .meta("thresholds", Value::Object(self.thresholds))
            .description(description)
            .build()
    }
}

/// Test drivers shared by the detectors' unit tests.
#[cfg(test)]
pub(crate) mod tests_util {
    use crate::decode::{IpPacket, L2Info, PacketMeta};
    use crate::detect::{Alert, Detector, PacketView};
    use crate::flow::{Direction, FlowContext, FlowTable, FlowTableConfig};

    /// Calls `on_packet` with `m` as an IP packet without payload.
    pub(crate) fn on_ip(
        d: &mut dyn Detector,
        m: &PacketMeta,
        flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let ip = IpPacket {
            meta: *m,
            payload: &[],
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        d.on_packet(&PacketView::Ip(&ip), flow, out);
    }

    /// The context of a packet that opened flow `id`.
    pub(crate) fn new_flow(id: u64) -> FlowContext {
        FlowContext {
            flow_id: id,
            direction: Direction::Forward,
            packets: 1,
            established: false,
            new_flow: true,
            first_in_direction: true,
            retransmission: false,
            closed: false,
            gap_us: 0,
            sender_reset: false,
            rst_out_of_window: false,
            ack_out_of_sync: false,
            app_proto: crate::app::AppProto::Unknown,
            midstream: false,
            age_us: 0,
            sent_bytes: [0; 2],
            side_packets: [0; 2],
            frame_bytes: [0; 2],
        }
    }

    /// Runs `pkts` through a fresh flow table and `d` (packets, finished flows, then a flush).
    pub(crate) fn feed(d: &mut dyn Detector, pkts: &[PacketMeta]) -> Vec<Alert> {
        let mut table = FlowTable::new(FlowTableConfig::default()).expect("default config");
        let mut out = Vec::new();
        let mut flows = Vec::new();
        for m in pkts {
            let ctx = table.process(m, &mut flows);
            on_ip(d, m, ctx.as_ref(), &mut out);
            for f in flows.drain(..) {
                d.on_flow_end(&f, &f.features(), &mut out);
            }
        }
        table.flush(&mut flows);
        for f in flows.drain(..) {
            d.on_flow_end(&f, &f.features(), &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn detectors_are_send() {
        assert_send::<PortScanDetector>();
        assert_send::<SynFloodDetector>();
        assert_send::<BruteForceDetector>();
        assert_send::<IcmpFloodDetector>();
        assert_send::<PingSweepDetector>();
        assert_send::<ArpSpoofDetector>();
        assert_send::<AmplificationDetector>();
        assert_send::<DnsTunnelDetector>();
    }

    #[test]
    fn defaults_check_and_build_all_in_order() {
        let c = BehaviourConfig::default();
        c.check().expect("defaults are valid");
        let names: Vec<String> = build_detectors(&c)
            .expect("builds")
            .iter()
            .map(|d| d.name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "port_scan",
                "syn_flood",
                "brute_force",
                "icmp_flood",
                "ping_sweep",
                "arp_spoof",
                "amplification",
                "dns_tunnel",
                "payload",
                "arp_scan",
                "dhcp_flood",
                "os_fingerprint",
                "smb",
                "tcp_anomaly",
                "beacon",
                "session_hijack",
                "icmp_tunnel",
                "login_scan",
                "long_connection"
            ]
        );
    }

    /// Every behavioural detector's alerts carry the behaviour gid (9000) in EVE.
    #[test]
    fn every_detector_is_in_the_behaviour_signature_family() {
        use crate::detect::signature::{non_rule, GID_BEHAVIOUR};
        for d in build_detectors(&BehaviourConfig::default()).expect("builds") {
            assert_eq!(
                non_rule(d.name(), "Any_Type").gid,
                GID_BEHAVIOUR,
                "{}",
                d.name()
            );
        }
    }

    #[test]
    fn toml_round_trip_and_errors() {
        let c = BehaviourConfig::default();
        let text = toml::to_string(&c).expect("serializes");
        assert_eq!(BehaviourConfig::from_toml_str(&text).expect("parses"), c);
        assert_eq!(BehaviourConfig::from_toml_str("").expect("empty"), c);
        let c = BehaviourConfig::from_toml_str(
            "[brute_force]\nextra_services = [{ port = 5900, name = \"VNC\" }]\n[syn_flood]\nenabled = false",
        )
        .expect("parses");
        assert_eq!(c.brute_force.extra_services[0].port, 5900);
        assert_eq!(build_detectors(&c).expect("builds").len(), 18);
        assert!(matches!(
            BehaviourConfig::from_toml_str("[port_scan]\nbogus = 1"),
            Err(BehaviourConfigError::Parse(_))
        ));
        let e = BehaviourConfig::from_toml_str("[port_scan]\nwindow_us = 0").expect_err("bad");
        assert_eq!(e.to_string(), "port_scan.window_us: must be > 0, got 0");
        let e = BehaviourConfig::from_toml_str("[icmp]\nmax_tracked = 0").expect_err("bad");
        assert!(e.to_string().starts_with("icmp.max_tracked"), "{e}");
        let e = BehaviourConfig::from_toml_str(
            "[brute_force]\nextra_services = [{ port = 1, name = \"a b\" }]",
        )
        .expect_err("bad");
        assert!(
            e.to_string().starts_with("brute_force.extra_services"),
            "{e}"
        );
    }

    #[test]
    fn scores_stay_in_range() {
        assert_eq!(intensity_score(10, 10, 60_000_000, 60_000_000), 0.5);
        assert!(intensity_score(10, 10, 1_000, 60_000_000) > 0.99);
        assert!(intensity_score(0, 0, -5, 0) <= 1.0);
        let mid = intensity_score(10, 10, 30_000_000, 60_000_000);
        assert!((mid - 0.75).abs() < 1e-9);
    }

    #[test]
    fn helpers_format() {
        assert_eq!(secs(60_000_000), "60 s");
        assert_eq!(secs(1_250_000), "1.250 s");
        assert_eq!(
            mac_string([0, 0xe0, 0x4d, 0x3c, 0x25, 0x7b]),
            "00:e0:4d:3c:25:7b"
        );
    }
}
