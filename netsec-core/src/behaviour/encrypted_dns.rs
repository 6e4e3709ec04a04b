//! Encrypted DNS channels: DNS over TLS, QUIC or HTTPS to a resolver outside the local network,
//! part of the [`DnsTunnelDetector`](super::DnsTunnelDetector).
//!
//! The rule, its trigger and its limits are documented on [`EncryptedDnsConfig`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::state::{Addr, Episodes, Table, Tally};
use super::{AlertBuilder, BehaviourConfigError, Check};
use crate::decode::{IpProtocol, PacketMeta};
use crate::detect::{Alert, Severity};
use crate::flow::FlowContext;
use crate::time::Timestamp;

/// `attack_type` of an encrypted DNS channel alert.
pub const ENCRYPTED_CHANNEL_ATTACK_TYPE: &str = "DNS_Encrypted_Channel";
/// DNS over TLS (TCP) and DNS over QUIC (UDP), IANA `domain-s`.
const DOT_PORT: u16 = 853;
/// DNS over HTTPS (HTTP/2 over TCP, HTTP/3 over UDP).
const DOH_PORT: u16 = 443;
/// Smallest QUIC short-header packet: 1 flags byte, and header protection samples 16 bytes
/// starting 4 bytes after the packet number offset (RFC 9001 §5.4.2), with no connection id.
const MIN_QUIC_SHORT: usize = 21;

const fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

#[allow(clippy::too_many_arguments)]
const fn v6(a: u16, b: u16, c: u16, d: u16, e: u16, f: u16, g: u16, h: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(a, b, c, d, e, f, g, h))
}

/// Service addresses of well-known public resolvers that answer DNS over HTTPS on port 443
/// (and plain DNS on 53, DoT on 853), as each provider publishes them:
///
/// - Cloudflare 1.1.1.1, standard, malware-blocking (`.2`) and family (`.3`):
///   <https://developers.cloudflare.com/1.1.1.1/ip-addresses/>
/// - Google Public DNS: <https://developers.google.com/speed/public-dns/docs/using>
/// - Quad9, secure, unsecured (`.10`) and ECS (`.11`):
///   <https://www.quad9.net/service/service-addresses-and-features>
/// - OpenDNS Home and FamilyShield: <https://www.opendns.com/setupguide/>
/// - AdGuard DNS, default, non-filtering and family:
///   <https://adguard-dns.io/kb/general/dns-providers/>
pub const DEFAULT_DOH_RESOLVERS: [IpAddr; 46] = [
    // Cloudflare
    v4(1, 1, 1, 1),
    v4(1, 0, 0, 1),
    v4(1, 1, 1, 2),
    v4(1, 0, 0, 2),
    v4(1, 1, 1, 3),
    v4(1, 0, 0, 3),
    v6(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1111),
    v6(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1001),
    v6(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1112),
    v6(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1002),
    v6(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1113),
    v6(0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1003),
    // Google
    v4(8, 8, 8, 8),
    v4(8, 8, 4, 4),
    v6(0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888),
    v6(0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8844),
    // Quad9
    v4(9, 9, 9, 9),
    v4(149, 112, 112, 112),
    v4(9, 9, 9, 10),
    v4(149, 112, 112, 10),
    v4(9, 9, 9, 11),
    v4(149, 112, 112, 11),
    v6(0x2620, 0xfe, 0, 0, 0, 0, 0, 0xfe),
    v6(0x2620, 0xfe, 0, 0, 0, 0, 0, 0x9),
    v6(0x2620, 0xfe, 0, 0, 0, 0, 0, 0x10),
    v6(0x2620, 0xfe, 0, 0, 0, 0, 0xfe, 0x10),
    v6(0x2620, 0xfe, 0, 0, 0, 0, 0, 0x11),
    v6(0x2620, 0xfe, 0, 0, 0, 0, 0xfe, 0x11),
    // OpenDNS
    v4(208, 67, 222, 222),
    v4(208, 67, 220, 220),
    v4(208, 67, 222, 123),
    v4(208, 67, 220, 123),
    v6(0x2620, 0x119, 0x35, 0, 0, 0, 0, 0x35),
    v6(0x2620, 0x119, 0x53, 0, 0, 0, 0, 0x53),
    // AdGuard
    v4(94, 140, 14, 14),
    v4(94, 140, 15, 15),
    v4(94, 140, 14, 140),
    v4(94, 140, 14, 141),
    v4(94, 140, 14, 15),
    v4(94, 140, 15, 16),
    v6(0x2a10, 0x50c0, 0, 0, 0, 0, 0xad1, 0xff),
    v6(0x2a10, 0x50c0, 0, 0, 0, 0, 0xad2, 0xff),
    v6(0x2a10, 0x50c0, 0, 0, 0, 0, 0x1, 0xff),
    v6(0x2a10, 0x50c0, 0, 0, 0, 0, 0x2, 0xff),
    v6(0x2a10, 0x50c0, 0, 0, 0, 0, 0xbad1, 0xff),
    v6(0x2a10, 0x50c0, 0, 0, 0, 0, 0xbad2, 0xff),
];

/// Settings of the encrypted DNS channel signal (`[dns_tunnel.encrypted]`).
///
/// A client that sends its queries encrypted to a public resolver bypasses the local resolver
/// and every DNS log, and the tunnelling checks of the detector cannot see the names. Tunnels
/// ride on such channels (dns2tcp or dnscat2 behind a DoH forwarder; the corpus's
/// `dns_tunnel_dns2tcp.pcap` is one TLS connection to 1.1.1.1:443 without SNI), so the channel
/// itself is worth an alert: the policy event an analyst knows from the Emerging Threats
/// `ET INFO`/`ET POLICY` signatures for DoT on port 853 and DoH to well-known resolvers. The
/// alert says what was seen, not that a tunnel was found:
///
/// - **`attack_type` `DNS_Encrypted_Channel`, severity LOW**, distinct from `DNS_Tunnel`
///   (HIGH, seen in the names): browsers and operating systems use DoH and DoT legitimately,
///   so an analyst triages these as a policy question, and rules or dashboards keyed on
///   `DNS_Tunnel` stay meaningful. `meta.signal` is `encrypted_channel`, `meta.channel` is
///   `dot`, `doq` or `doh`.
/// - **Which traffic**: client to server on TCP/853 (DoT, RFC 7858) or UDP/853 (DoQ, RFC 9250)
///   to any address but loopback (traffic that never leaves the host bypasses nothing); TCP or
///   UDP (HTTP/3) port 443 to an address of the configured list of public resolvers
///   ([`DEFAULT_DOH_RESOLVERS`]: Cloudflare, Google, Quad9, OpenDNS, AdGuard, as published
///   by each provider). HTTPS to other addresses is ordinary web traffic for this detector.
/// - **Trigger**: one alert per (client, resolver) episode once the client has sent
///   `min_data_packets` packets of application data, i.e. past the handshake: a TCP segment
///   opening with a TLS application-data record header (`17 03 0x`), or a UDP datagram that is
///   a QUIC short-header (1-RTT) packet of at least 21 bytes (the smallest that header
///   protection allows). The default 2 is the least that proves data beyond the handshake in
///   every TLS version (TLS 1.3 without middlebox compatibility sends its Finished in an
///   application-data record); a bare SYN or handshake to port 853, as scanners send, never
///   alerts. The episode ends after `quiet_us` (the detector's) without data packets.
///
/// What it does not see: DoH to a resolver reached by host name on shared CDN addresses
/// (Firefox's `mozilla.cloudflare-dns.com` on 104.16.248.249, the benign capture
/// `dns_doh.pcap`) unless that address is added to the list; matching the TLS SNI against
/// resolver host names would catch it. DNS over DTLS (RFC 8094, experimental) and DoQ on the
/// draft ports 784/8853 are not recognised. Nothing is decrypted: the alert cannot tell a
/// tunnel from ordinary lookups.
///
/// In the benign corpus only `dns_doh.pcap` (above) and `dns_over_quic.pcapng` (DoQ on the
/// draft port 784 to `::1`) carry encrypted DNS; the one packet to port 853 is a masscan SYN.
///
/// Cost per packet: a port comparison for every packet; for a client packet to port 443 or 853
/// a peek at its first bytes (bare ACKs and handshakes stop here), then for 443 a binary
/// search of the sorted resolver addresses (46 by default, as 128-bit words, no
/// allocation); one table lookup per application-data packet to a resolver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncryptedDnsConfig {
    /// Alert on DoT/DoQ to any address and DoH to a listed resolver (default true).
    pub enabled: bool,
    /// Application-data packets from one client to one resolver that raise the alert
    /// (default 2: the least that proves data beyond the handshake in every TLS version).
    pub min_data_packets: u64,
    /// Public resolvers whose port 443 is DNS over HTTPS (default [`DEFAULT_DOH_RESOLVERS`]).
    pub doh_resolvers: Vec<IpAddr>,
}

impl Default for EncryptedDnsConfig {
    fn default() -> Self {
        EncryptedDnsConfig {
            enabled: true,
            min_data_packets: 2,
            doh_resolvers: DEFAULT_DOH_RESOLVERS.to_vec(),
        }
    }
}

impl EncryptedDnsConfig {
    /// Validates the settings (`section` names the enclosing config section).
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self, section: &'static str) -> Result<(), BehaviourConfigError> {
        let c = Check(section);
        c.at_least_one("encrypted.min_data_packets", self.min_data_packets)?;
        if let Some(a) = self
            .doh_resolvers
            .iter()
            .find(|a| a.is_unspecified() || a.is_loopback() || a.is_multicast())
        {
            return Err(BehaviourConfigError::Invalid {
                section,
                field: "encrypted.doh_resolvers",
                reason: format!("{a} is not a resolver address"),
            });
        }
        Ok(())
    }
}

/// The kind of encrypted DNS channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// DNS over TLS, TCP/853.
    Dot,
    /// DNS over QUIC, UDP/853.
    Doq,
    /// DNS over HTTPS, port 443 of a listed resolver.
    Doh,
}

impl Channel {
    /// `meta.channel`.
    fn name(self) -> &'static str {
        match self {
            Channel::Dot => "dot",
            Channel::Doq => "doq",
            Channel::Doh => "doh",
        }
    }

    /// For descriptions.
    fn label(self) -> &'static str {
        match self {
            Channel::Dot => "DNS over TLS",
            Channel::Doq => "DNS over QUIC",
            Channel::Doh => "DNS over HTTPS",
        }
    }
}

/// The client's payload carries application data: a TLS application-data record header over
/// TCP, a QUIC short-header packet over UDP.
fn carries_data(protocol: IpProtocol, payload: &[u8]) -> bool {
    match protocol {
        IpProtocol::TCP => matches!(payload, [0x17, 0x03, 0x01..=0x04, ..]),
        IpProtocol::UDP => {
            payload.len() >= MIN_QUIC_SHORT && payload.first().is_some_and(|b| b & 0xc0 == 0x40)
        }
        _ => false,
    }
}

/// Per-(client, resolver) episodes of encrypted DNS.
#[derive(Debug)]
pub(crate) struct EncryptedChannels {
    enabled: bool,
    min_data_packets: u64,
    quiet_us: i64,
    /// The DoH resolvers as sorted, deduplicated 128-bit words ([`Addr::bits`]).
    resolvers: Box<[u128]>,
    episodes: Episodes<(Addr, Addr), ()>,
}

impl EncryptedChannels {
    /// Tracks at most `cap` (client, resolver) pairs; an episode ends after `quiet_us`.
    pub(crate) fn new(config: &EncryptedDnsConfig, cap: usize, quiet_us: i64) -> Self {
        let mut resolvers: Vec<u128> = config
            .doh_resolvers
            .iter()
            .map(|&a| Addr(a).bits())
            .collect();
        resolvers.sort_unstable();
        resolvers.dedup();
        EncryptedChannels {
            enabled: config.enabled,
            min_data_packets: config.min_data_packets,
            quiet_us,
            resolvers: resolvers.into_boxed_slice(),
            episodes: Episodes::new(cap, quiet_us, quiet_us),
        }
    }

    /// The channel a client packet with application data belongs to, if any.
    #[inline]
    pub(crate) fn channel(&self, m: &PacketMeta, payload: &[u8]) -> Option<Channel> {
        if !self.enabled || !matches!(m.dst_port, DOT_PORT | DOH_PORT) {
            return None;
        }
        // The payload peek before the address lookup: most client packets of a download are
        // bare ACKs.
        if !carries_data(m.protocol, payload) || m.dst_addr.is_loopback() {
            return None;
        }
        match (m.dst_port, m.protocol) {
            (DOT_PORT, IpProtocol::TCP) => Some(Channel::Dot),
            (DOT_PORT, IpProtocol::UDP) => Some(Channel::Doq),
            (DOH_PORT, _)
                if self
                    .resolvers
                    .binary_search(&Addr(m.dst_addr).bits())
                    .is_ok() =>
            {
                Some(Channel::Doh)
            }
            _ => None,
        }
    }

    /// Records a data packet of channel `ch` at `now`; the alert when this crosses the
    /// threshold for the first time in the episode.
    pub(crate) fn observe(
        &mut self,
        ch: Channel,
        m: &PacketMeta,
        flow: Option<&FlowContext>,
        now: Timestamp,
        (detector, tally): (&str, &mut Tally),
    ) -> Option<Alert> {
        let (ep, ()) = self
            .episodes
            .event((Addr(m.src_addr), Addr(m.dst_addr)), now);
        if ep.events < self.min_data_packets || !tally.fire(ep) {
            return None;
        }
        let ep = *ep;
        let description = format!(
            "{} sent {} application-data packets of {} to {}{} port {} ({}) since {}; the queries are encrypted, so a DNS tunnel inside cannot be seen.",
            m.src_addr,
            ep.events,
            ch.label(),
            if ch == Channel::Doh { "public resolver " } else { "" },
            m.dst_addr,
            m.dst_port,
            m.protocol.name(),
            ep.first
        );
        Some(
            AlertBuilder::new(
                detector,
                now,
                ENCRYPTED_CHANNEL_ATTACK_TYPE,
                Severity::Low,
                &ep,
            )
            .addrs(Some(m.src_addr), Some(m.dst_addr))
            .ports(None, Some(m.dst_port))
            .protocol(m.protocol)
            .flow(flow.map(|f| f.flow_id))
            .meta("signal", "encrypted_channel")
            .meta("channel", ch.name())
            .observed("data_packets", ep.events)
            .threshold("min_data_packets", self.min_data_packets)
            .threshold("quiet_us", self.quiet_us)
            .build(description),
        )
    }
}

/// The (client, resolver) episodes are this part's one table.
impl Table for EncryptedChannels {
    fn entries(&self) -> usize {
        self.episodes.entries()
    }
    fn evicted(&self) -> u64 {
        self.episodes.evicted()
    }
    fn bytes(&self) -> usize {
        self.episodes.bytes()
    }
    fn bound_bytes(&self) -> usize {
        self.episodes.bound_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::{DnsTunnelConfig, DnsTunnelDetector};
    use crate::decode::{IpPacket, L2Info};
    use crate::detect::{Detector, PacketView};
    use crate::synth;

    const CLIENT: [u8; 4] = [10, 0, 0, 5];
    /// A TLS application-data record header and some ciphertext.
    const TLS_DATA: [u8; 24] = [
        0x17, 3, 3, 0, 19, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ];
    /// A TLS handshake record header (ClientHello).
    const TLS_HELLO: [u8; 9] = [0x16, 3, 1, 0, 4, 1, 0, 0, 0];

    fn detector(f: impl FnOnce(&mut EncryptedDnsConfig)) -> DnsTunnelDetector {
        let mut c = DnsTunnelConfig::default();
        f(&mut c.encrypted);
        DnsTunnelDetector::new(&c).expect("valid")
    }

    /// Feeds one client packet at `ms` milliseconds and returns the alerts.
    fn send(
        d: &mut DnsTunnelDetector,
        ms: i64,
        udp: bool,
        dst: impl Into<IpAddr>,
        port: u16,
        payload: &[u8],
    ) -> Vec<Alert> {
        let len = payload.len() as u32;
        let meta = if udp {
            synth::udp(ms * 1000, CLIENT, 40000, dst, port, len)
        } else {
            synth::tcp(ms * 1000, CLIENT, 40000, dst, port, 0x18, len, 500)
        };
        let ip = IpPacket {
            meta,
            payload,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        let mut out = Vec::new();
        d.on_packet(&PacketView::Ip(&ip), None, &mut out);
        out
    }

    #[test]
    fn doh_to_a_listed_resolver_alerts_once_after_two_data_packets() {
        let mut d = detector(|_| {});
        let cf = v4(1, 1, 1, 1);
        assert!(send(&mut d, 0, false, cf, 443, &TLS_HELLO).is_empty());
        assert!(send(&mut d, 1, false, cf, 443, &TLS_DATA).is_empty());
        let a = send(&mut d, 2, false, cf, 443, &TLS_DATA);
        assert_eq!(a.len(), 1);
        let a = &a[0];
        assert_eq!(a.attack_type, ENCRYPTED_CHANNEL_ATTACK_TYPE);
        assert_eq!(a.severity, Severity::Low);
        assert_eq!(a.meta["channel"], "doh");
        assert_eq!(a.meta["signal"], "encrypted_channel");
        assert_eq!(a.meta["detector"], "dns_tunnel");
        assert_eq!(a.meta["observed"]["data_packets"], 2);
        assert_eq!((a.src_ip, a.dst_ip), (Some(CLIENT.into()), Some(cf)));
        assert_eq!(
            (a.dst_port, a.protocol.as_deref()),
            (Some(443), Some("TCP"))
        );
        assert!(a
            .description
            .contains("DNS over HTTPS to public resolver 1.1.1.1 port 443"));
        for i in 3..100 {
            assert!(send(&mut d, i, false, cf, 443, &TLS_DATA).is_empty());
        }
        assert_eq!((d.stats().alerts, d.stats().suppressed), (1, 97));
        // Another resolver is another episode; so is the same one after the quiet period.
        let g = v6(0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888);
        assert!(send(&mut d, 100, false, g, 443, &TLS_DATA).is_empty());
        assert_eq!(send(&mut d, 101, false, g, 443, &TLS_DATA).len(), 1);
        assert!(send(&mut d, 400_000, false, cf, 443, &TLS_DATA).is_empty());
        assert_eq!(send(&mut d, 400_001, false, cf, 443, &TLS_DATA).len(), 1);
    }

    #[test]
    fn https_elsewhere_handshakes_and_scans_stay_silent() {
        let mut d = detector(|_| {});
        for i in 0..50 {
            // HTTPS to a web server, a port 53 neighbour of the resolver, server to client.
            assert!(send(&mut d, i, false, v4(93, 184, 216, 34), 443, &TLS_DATA).is_empty());
            assert!(send(&mut d, i, false, v4(1, 1, 1, 1), 8443, &TLS_DATA).is_empty());
            // Handshake records, empty segments and a SYN to 853 carry no data.
            assert!(send(&mut d, i, false, v4(1, 1, 1, 1), 443, &TLS_HELLO).is_empty());
            assert!(send(&mut d, i, false, v4(9, 9, 9, 9), 853, &[]).is_empty());
            // DoT to loopback never leaves the host.
            assert!(send(&mut d, i, false, v4(127, 0, 0, 1), 853, &TLS_DATA).is_empty());
            // QUIC long headers (Initial/Handshake) are not 1-RTT data.
            let mut initial = [0u8; 1200];
            initial[0] = 0xc3;
            assert!(send(&mut d, i, true, v4(8, 8, 8, 8), 443, &initial).is_empty());
        }
        assert_eq!(d.stats().alerts, 0);
    }

    #[test]
    fn dot_to_any_address_and_quic_channels() {
        let mut d = detector(|_| {});
        let own = v4(10, 0, 0, 53);
        assert!(send(&mut d, 0, false, own, 853, &TLS_DATA).is_empty());
        let a = send(&mut d, 1, false, own, 853, &TLS_DATA);
        assert_eq!(a[0].meta["channel"], "dot");
        assert!(a[0]
            .description
            .contains("DNS over TLS to 10.0.0.53 port 853 (TCP)"));
        // QUIC short header: fixed bit set, long-header bit clear, at least 21 bytes.
        let mut short = [0u8; 40];
        short[0] = 0x41;
        assert!(
            send(&mut d, 2, true, own, 853, &short[..20]).is_empty(),
            "too short"
        );
        assert!(send(&mut d, 3, true, v4(9, 9, 9, 9), 853, &short).is_empty());
        assert_eq!(
            send(&mut d, 4, true, v4(9, 9, 9, 9), 853, &short)[0].meta["channel"],
            "doq"
        );
        let q = v4(149, 112, 112, 112);
        assert!(send(&mut d, 5, true, q, 443, &short).is_empty());
        let a = send(&mut d, 6, true, q, 443, &short);
        assert_eq!(
            (a[0].meta["channel"].as_str(), a[0].protocol.as_deref()),
            (Some("doh"), Some("UDP"))
        );
    }

    #[test]
    fn the_list_threshold_and_switch_come_from_the_config() {
        let cdn = v4(104, 16, 248, 249);
        let mut d = detector(|c| {
            c.doh_resolvers = vec![cdn];
            c.min_data_packets = 3;
        });
        assert!(send(&mut d, 0, false, v4(1, 1, 1, 1), 443, &TLS_DATA).is_empty());
        assert!(send(&mut d, 1, false, v4(1, 1, 1, 1), 443, &TLS_DATA).is_empty());
        assert!(send(&mut d, 2, false, cdn, 443, &TLS_DATA).is_empty());
        assert!(send(&mut d, 3, false, cdn, 443, &TLS_DATA).is_empty());
        assert_eq!(send(&mut d, 4, false, cdn, 443, &TLS_DATA).len(), 1);

        let mut d = detector(|c| c.enabled = false);
        for i in 0..10 {
            assert!(send(&mut d, i, false, v4(9, 9, 9, 9), 853, &TLS_DATA).is_empty());
        }
        assert_eq!(d.stats().tracked, 0);
    }

    #[test]
    fn default_list_is_valid_and_config_checks() {
        let c = EncryptedDnsConfig::default();
        c.check("dns_tunnel").expect("defaults are valid");
        let set: std::collections::HashSet<_> = c.doh_resolvers.iter().collect();
        assert_eq!(set.len(), DEFAULT_DOH_RESOLVERS.len(), "no duplicates");
        assert!(c
            .doh_resolvers
            .iter()
            .all(|a| !a.is_loopback() && !a.is_unspecified()));
        for bad in [
            EncryptedDnsConfig {
                min_data_packets: 0,
                ..EncryptedDnsConfig::default()
            },
            EncryptedDnsConfig {
                doh_resolvers: vec![v4(0, 0, 0, 0)],
                ..EncryptedDnsConfig::default()
            },
        ] {
            let e = bad.check("dns_tunnel").expect_err("invalid");
            assert!(e.to_string().starts_with("dns_tunnel.encrypted."), "{e}");
        }
        let parsed = crate::behaviour::BehaviourConfig::from_toml_str(
            "[dns_tunnel.encrypted]\nmin_data_packets = 5\ndoh_resolvers = [\"192.0.2.1\", \"2001:db8::1\"]\n",
        )
        .expect("parses");
        assert_eq!(parsed.dns_tunnel.encrypted.min_data_packets, 5);
        assert_eq!(parsed.dns_tunnel.encrypted.doh_resolvers.len(), 2);
    }

    #[test]
    fn payload_shapes() {
        assert!(carries_data(IpProtocol::TCP, &TLS_DATA));
        assert!(!carries_data(IpProtocol::TCP, &TLS_HELLO));
        assert!(!carries_data(IpProtocol::TCP, &[0x17, 3]));
        assert!(!carries_data(IpProtocol::TCP, b"GET / HTTP/1.1\r\n"));
        assert!(!carries_data(IpProtocol::UDP, &[]));
        assert!(!carries_data(IpProtocol::ICMP, &TLS_DATA));
    }
}
