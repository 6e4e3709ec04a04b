//! Decode: one captured frame → a small `Copy` [`PacketMeta`] plus borrowed payload.
//!
//! Decoding never copies packet bytes and never panics, whatever the input. A malformed packet
//! is data, not a failure: [`decode`] returns a cheap, `Copy` [`DecodeError`] naming the layer,
//! which the pipeline counts and moves past.
//!
//! Supported link types: Ethernet (with 802.1Q/802.1ad/QinQ tags of any depth, MPLS label
//! stacks and PPPoE sessions), raw IP (101, 12, 14), raw IPv4 (228), raw IPv6 (229), Linux SLL
//! and SLL2, BSD null and OpenBSD loop, IEEE 802.11 data frames with LLC/SNAP (105) and the
//! same after a radiotap header (127); other 802.11 frames are `Other { ethertype: 0 }`.
//! Above IP: the IPv6 extension-header chain, IPv4/IPv6 fragments, TCP, UDP, ICMP/ICMPv6,
//! SCTP ports.
//!
//! Tunnels: IP-in-IP (4in4, 6in4, 4in6, 6in6), GRE (IP, Ethernet, MPLS, VLAN inside), VXLAN,
//! Geneve, GTP-U G-PDUs and CAPWAP data (802.11 or 802.3 inside) are decapsulated, at most
//! [`MAX_TUNNEL_DEPTH`] deep; Teredo, GTP-U signalling, CAPWAP keep-alives, fragments and
//! DTLS-protected packets, and other GRE payloads are only recognised
//! (`Tunnel::decapsulated == false`, the meta describes the outer packet). When the inner frame
//! does not decode to IP (802.11 management, control, null or protected frames, ARP …), the
//! outer packet is reported, also with `decapsulated == false`. `PacketMeta::tunnel` names the
//! innermost tunnel traversed.
//!
//! Snap length: a frame cut short (`RawPacket::orig_len > data.len()`) still yields the headers
//! it holds, with lengths taken from the header fields; see the `ip` module for the policy.

use std::net::IpAddr;

mod ip;
mod link;
mod overlap;
#[cfg(test)]
mod tests;

pub use ip::MAX_TUNNEL_DEPTH;
pub use overlap::FragmentOverlaps;

use crate::capture::{LinkType, RawPacket};
use crate::time::Timestamp;
use crate::wire;
pub use crate::wire::{DecodeError, Layer};

/// An IP protocol number (IPv4 `protocol`, IPv6 final `next header`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// ICMP for IPv4.
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// TCP.
    pub const TCP: IpProtocol = IpProtocol(6);
    /// UDP.
    pub const UDP: IpProtocol = IpProtocol(17);
    /// GRE.
    pub const GRE: IpProtocol = IpProtocol(47);
    /// ICMP for IPv6.
    pub const ICMPV6: IpProtocol = IpProtocol(58);
    /// SCTP.
    pub const SCTP: IpProtocol = IpProtocol(132);

    /// Whether this protocol has 16-bit ports in our flow key (TCP, UDP, SCTP).
    pub fn has_ports(self) -> bool {
        matches!(self, IpProtocol::TCP | IpProtocol::UDP | IpProtocol::SCTP)
    }

    /// Short upper-case name (`TCP`, `UDP`, `ICMP`, `ICMPv6`, …) or the number.
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        match self {
            IpProtocol::ICMP => "ICMP".into(),
            IpProtocol::TCP => "TCP".into(),
            IpProtocol::UDP => "UDP".into(),
            IpProtocol::GRE => "GRE".into(),
            IpProtocol::ICMPV6 => "ICMPv6".into(),
            IpProtocol::SCTP => "SCTP".into(),
            IpProtocol(n) => n.to_string().into(),
        }
    }
}

/// TCP control flags (the low 8 bits of the flags field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;

    /// Whether every bit of `mask` is set.
    pub fn contains(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
    /// SYN set.
    pub fn syn(self) -> bool {
        self.contains(Self::SYN)
    }
    /// ACK set.
    pub fn ack(self) -> bool {
        self.contains(Self::ACK)
    }
    /// FIN set.
    pub fn fin(self) -> bool {
        self.contains(Self::FIN)
    }
    /// RST set.
    pub fn rst(self) -> bool {
        self.contains(Self::RST)
    }
    /// PSH set.
    pub fn psh(self) -> bool {
        self.contains(Self::PSH)
    }
    /// ACK is the only control flag (ECE and CWR, bits 0xc0, may ride along): with no
    /// payload, a bare ACK.
    pub fn only_ack(self) -> bool {
        self.0 & 0x3f == Self::ACK
    }
}

/// IP fragmentation facts for a fragmented datagram (absent for whole datagrams).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// IPv4 identification or IPv6 fragment-header identification.
    pub id: u32,
    /// Fragment offset in 8-byte units; 0 for the first fragment.
    pub offset: u16,
    /// More-fragments flag.
    pub more: bool,
    /// Bytes of fragment data (what follows the IPv4 header or the IPv6 Fragment header),
    /// from the header length fields.
    pub len: u32,
}

impl Fragment {
    /// Whether this is the first fragment (the only one that holds the transport header).
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }
}

/// Tunnel encapsulations we recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TunnelKind {
    /// IP in IP (4in4, 6in4, 4in6, 6in6; IP protocols 4 and 41).
    IpInIp,
    /// VXLAN (UDP 4789).
    Vxlan,
    /// GRE (IP protocol 47).
    Gre,
    /// GTP-U (UDP 2152).
    GtpU,
    /// Geneve (UDP 6081).
    Geneve,
    /// Teredo (UDP 3544).
    Teredo,
    /// CAPWAP data channel (UDP 5247, RFC 5415) carrying IEEE 802.11 or 802.3 frames.
    Capwap,
}

/// A tunnel seen on the way to the flow's IP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    /// Which encapsulation.
    pub kind: TunnelKind,
    /// `true` when `PacketMeta` describes the inner packet; `false` when the tunnel was only
    /// recognised and the meta describes the outer packet.
    pub decapsulated: bool,
}

/// Summary of one IP packet: everything flows and features need, `Copy`, no borrowed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketMeta {
    /// Capture timestamp.
    pub ts: Timestamp,
    /// Source IP address (of the innermost decoded IP header).
    pub src_addr: IpAddr,
    /// Destination IP address.
    pub dst_addr: IpAddr,
    /// Source port (TCP/UDP/SCTP); ICMP echo: the identifier; other ICMP: the type. 0 when
    /// unknown (non-first fragment, header cut by the snap length).
    pub src_port: u16,
    /// Destination port (TCP/UDP/SCTP); ICMP echo: the identifier; other ICMP: the code.
    pub dst_port: u16,
    /// Transport protocol.
    pub protocol: IpProtocol,
    /// ICMP or ICMPv6 message type (echo request is 8 / 128); 0 for other protocols. Check
    /// [`protocol`](Self::protocol) first: 0 is also ICMPv4 echo reply.
    pub icmp_type: u8,
    /// ICMP or ICMPv6 message code; 0 for other protocols.
    pub icmp_code: u8,
    /// TCP flags (empty for non-TCP).
    pub tcp_flags: TcpFlags,
    /// Raw TCP window field (0 for non-TCP).
    pub tcp_window: u16,
    /// TCP sequence number (0 for non-TCP).
    pub tcp_seq: u32,
    /// TCP acknowledgement number (0 for non-TCP).
    pub tcp_ack: u32,
    /// TCP urgent pointer field, as sent whether or not URG is set (0 for non-TCP).
    pub tcp_urgent: u16,
    /// Transport payload bytes, from the header length fields (not the captured length), so a
    /// snap-length cut does not change it. For a non-first fragment: its IP payload bytes.
    pub payload_len: u32,
    /// IP packet length (header + payload) from the IP header.
    pub ip_len: u32,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// Set when the datagram is an IP fragment.
    pub fragment: Option<Fragment>,
    /// Set when a tunnel was recognised on the way to this header.
    pub tunnel: Option<Tunnel>,
    /// Anomalies noticed in a packet that still decoded.
    pub events: DecodeEvents,
}

/// Anomalies the decoder noticed in a packet whose IP layer decoded, named as Suricata's
/// decoder events are (`decode-event:ipv6.exthdr_useless_fh` in a rule): a set of bits. Some
/// mark the packet [invalid](Self::is_invalid): the header after the IP layer is missing.
///
/// ```
/// use netsec_core::decode::DecodeEvents;
///
/// let e = DecodeEvents::from_name("ipv6.exthdr_useless_fh").expect("known");
/// let mut seen = DecodeEvents::NONE;
/// assert!(!seen.contains(e));
/// seen.insert(e);
/// assert!(seen.contains(e) && seen.contains(DecodeEvents::NONE));
/// assert_eq!(DecodeEvents::from_name("ipv6.no_such_event"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DecodeEvents(u16);

impl DecodeEvents {
    /// No anomaly.
    pub const NONE: DecodeEvents = DecodeEvents(0);
    /// An IPv6 Fragment header that fragments nothing: offset 0 and no more fragments
    /// (`ipv6.exthdr_useless_fh`).
    pub const IPV6_EXTHDR_USELESS_FH: DecodeEvents = DecodeEvents(1);
    /// A second Fragment header in one IPv6 header chain (`ipv6.exthdr_dupl_fh`).
    pub const IPV6_EXTHDR_DUPL_FH: DecodeEvents = DecodeEvents(1 << 1);
    /// An IPv6 fragment ending beyond the largest datagram, 65,535 bytes
    /// (`ipv6.frag_pkt_too_large`).
    pub const IPV6_FRAG_PKT_TOO_LARGE: DecodeEvents = DecodeEvents(1 << 2);
    /// An IPv6 fragment other than the last whose data is not a multiple of 8 bytes long
    /// (`ipv6.frag_invalid_length`).
    pub const IPV6_FRAG_INVALID_LENGTH: DecodeEvents = DecodeEvents(1 << 3);
    /// An IPv4 fragment overlapping one received before for the same datagram
    /// (`ipv4.frag_overlap`; raised by the sensor, which remembers fragments, not by
    /// [`decode`]).
    pub const IPV4_FRAG_OVERLAP: DecodeEvents = DecodeEvents(1 << 4);
    /// An IPv6 fragment overlapping one received before for the same datagram
    /// (`ipv6.frag_overlap`; raised by the sensor, as the IPv4 one).
    pub const IPV6_FRAG_OVERLAP: DecodeEvents = DecodeEvents(1 << 5);
    /// An IPv6 extension-header chain cut short: a header beyond the payload length, or
    /// fewer than 2 bytes left for the next header (`ipv6.trunc_exthdr`; invalid).
    pub const IPV6_TRUNC_EXTHDR: DecodeEvents = DecodeEvents(1 << 6);
    /// A TCP header shorter than its 20 fixed bytes (`tcp.pkt_too_small`; invalid).
    pub const TCP_PKT_TOO_SMALL: DecodeEvents = DecodeEvents(1 << 7);
    /// A UDP header shorter than its 8 bytes (`udp.hlen_too_small`; invalid).
    pub const UDP_HLEN_TOO_SMALL: DecodeEvents = DecodeEvents(1 << 8);
    /// A UDP length field beyond the IP payload (`udp.pkt_too_small`; invalid).
    pub const UDP_PKT_TOO_SMALL: DecodeEvents = DecodeEvents(1 << 9);
    /// A UDP length field other than the IP payload's length (`udp.hlen_invalid`; the
    /// packet still decodes when the length is shorter: the rest is padding).
    pub const UDP_HLEN_INVALID: DecodeEvents = DecodeEvents(1 << 10);
    /// A UDP length field below the header's 8 bytes (`udp.len_invalid`; invalid).
    pub const UDP_LEN_INVALID: DecodeEvents = DecodeEvents(1 << 11);
    /// A GRE header shorter than its 4 fixed bytes (`gre.pkt_too_small`; the packet stays a
    /// protocol-47 IP packet).
    pub const GRE_PKT_TOO_SMALL: DecodeEvents = DecodeEvents(1 << 12);

    /// The events that make a packet invalid, as Suricata's decoder marks them: the IP layer
    /// decoded but the header after it is missing or cut, so the packet has no transport, no
    /// flow and no payload; only detectors asking for
    /// [`PacketInterest::INVALID`](crate::detect::PacketInterest::INVALID) see it.
    pub const INVALID: DecodeEvents = DecodeEvents(
        Self::IPV6_TRUNC_EXTHDR.0
            | Self::TCP_PKT_TOO_SMALL.0
            | Self::UDP_HLEN_TOO_SMALL.0
            | Self::UDP_PKT_TOO_SMALL.0
            | Self::UDP_LEN_INVALID.0,
    );

    /// Every event with its Suricata name.
    const NAMED: [(&'static str, DecodeEvents); 13] = [
        ("ipv6.exthdr_useless_fh", Self::IPV6_EXTHDR_USELESS_FH),
        ("ipv6.exthdr_dupl_fh", Self::IPV6_EXTHDR_DUPL_FH),
        ("ipv6.frag_pkt_too_large", Self::IPV6_FRAG_PKT_TOO_LARGE),
        ("ipv6.frag_invalid_length", Self::IPV6_FRAG_INVALID_LENGTH),
        ("ipv4.frag_overlap", Self::IPV4_FRAG_OVERLAP),
        ("ipv6.frag_overlap", Self::IPV6_FRAG_OVERLAP),
        ("ipv6.trunc_exthdr", Self::IPV6_TRUNC_EXTHDR),
        ("tcp.pkt_too_small", Self::TCP_PKT_TOO_SMALL),
        ("udp.hlen_too_small", Self::UDP_HLEN_TOO_SMALL),
        ("udp.pkt_too_small", Self::UDP_PKT_TOO_SMALL),
        ("udp.hlen_invalid", Self::UDP_HLEN_INVALID),
        ("udp.len_invalid", Self::UDP_LEN_INVALID),
        ("gre.pkt_too_small", Self::GRE_PKT_TOO_SMALL),
    ];

    /// The event Suricata calls `name`, if the decoder raises it.
    pub fn from_name(name: &str) -> Option<DecodeEvents> {
        Self::NAMED.iter().find(|(n, _)| *n == name).map(|e| e.1)
    }

    /// The Suricata names of the events in the set.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMED
            .into_iter()
            .filter(move |(_, e)| self.contains(*e))
            .map(|(n, _)| n)
    }

    /// Whether every event of `other` is in the set.
    pub fn contains(self, other: DecodeEvents) -> bool {
        self.0 & other.0 == other.0
    }

    /// Adds the events of `other`.
    pub fn insert(&mut self, other: DecodeEvents) {
        self.0 |= other.0;
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the set holds an event that makes the packet invalid ([`Self::INVALID`]).
    #[inline]
    pub fn is_invalid(self) -> bool {
        self.0 & Self::INVALID.0 != 0
    }
}

/// Link-layer facts kept for detectors (ARP spoofing, host inventory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct L2Info {
    /// Source MAC (Ethernet, SLL with a 6-byte address).
    pub src_mac: Option<[u8; 6]>,
    /// Destination MAC (Ethernet only).
    pub dst_mac: Option<[u8; 6]>,
    /// Outermost 802.1Q VLAN id.
    pub vlan: Option<u16>,
    /// Captured bytes of the whole frame that carried the packet (the outer frame of a
    /// tunnel): what Suricata counts as a flow's bytes.
    pub frame_len: u32,
}

/// Whether `a` can be one host's address: not multicast, not the limited broadcast, not
/// unspecified (a subnet broadcast address is not recognisable without the netmask).
pub fn is_unicast(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

/// A MAC address as `aa:bb:cc:dd:ee:ff` (lower-case hex), as alerts and the inventory print it.
pub fn mac_string(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

/// An ARP packet (Ethernet/IPv4 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpInfo {
    /// 1 = request, 2 = reply.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: [u8; 6],
    /// Sender protocol address.
    pub sender_ip: std::net::Ipv4Addr,
    /// Target hardware address.
    pub target_mac: [u8; 6],
    /// Target protocol address.
    pub target_ip: std::net::Ipv4Addr,
}

/// An IP packet after decoding (and decapsulation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// The summary flows use.
    pub meta: PacketMeta,
    /// The captured transport payload (may be shorter than `meta.payload_len` when cut by the
    /// snap length; empty for non-first fragments' unknown transport).
    pub payload: &'a [u8],
    /// Link-layer facts.
    pub l2: L2Info,
    /// Set when the transport header is malformed but the IP layer is sound (e.g. a TCP data
    /// offset below 5): the packet is still an IP packet of its flow and still seen by `ip`
    /// rules, as Suricata does; `meta` then holds the fields that could be read (ports, flags,
    /// window) and a zero `payload_len`.
    pub transport_error: Option<DecodeError>,
    /// The IP header as captured: IPv4's with its options, IPv6's fixed header with the
    /// extension headers that precede the transport (Suricata's `ipv4.hdr` / `ipv6.hdr`).
    pub ip_header: &'a [u8],
    /// The transport header as captured (see `tcp.hdr`, `udp.hdr`, `icmpv4.hdr`,
    /// `icmpv6.hdr`): empty for non-first fragments and protocols without one.
    pub transport_header: &'a [u8],
}

/// What a frame turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// An IP packet: becomes part of a flow.
    Ip(IpPacket<'a>),
    /// An ARP packet: not a flow, but detectors see it.
    Arp(ArpInfo, L2Info),
    /// Anything else (LLDP, STP, IPX …): counted and skipped.
    Other {
        /// The EtherType (or SLL protocol) that was not IP or ARP.
        ethertype: u16,
    },
}

/// Per-frame decoding state threaded through the layers (by value: it is small and `Copy`, and
/// a failed decapsulation simply keeps the outer copy).
#[derive(Clone, Copy)]
struct Ctx {
    ts: Timestamp,
    l2: L2Info,
    tunnel: Option<Tunnel>,
    /// Tunnels opened so far.
    depth: u8,
    /// The capture cut this frame (`orig_len > data.len()`).
    snapped: bool,
}

/// Decodes one captured frame.
///
/// Never panics and never allocates; the returned payload borrows from `pkt.data`.
///
/// # Errors
/// [`DecodeError`] naming the layer where the frame stopped making sense;
/// [`DecodeError::UnsupportedLinkType`] for link types outside [`LinkType::is_supported`].
// Always inlined: with a second caller (the host inventory) LLVM kept it out of the pipeline's
// loop, returning the decoded packet through memory.
#[inline(always)]
pub fn decode<'a>(pkt: &RawPacket<'a>) -> Result<Decoded<'a>, DecodeError> {
    let data = pkt.data;
    let ctx = Ctx {
        ts: pkt.ts,
        l2: L2Info {
            frame_len: u32::try_from(data.len()).unwrap_or(u32::MAX),
            ..L2Info::default()
        },
        tunnel: None,
        depth: 0,
        snapped: u64::from(pkt.orig_len) > data.len() as u64,
    };
    match pkt.link_type {
        LinkType::ETHERNET => link::ethernet(ctx, data),
        LinkType::RAW | LinkType::RAW_BSD | LinkType::RAW_OPENBSD => ip::by_version(ctx, data),
        LinkType::IPV4 => ip::ipv4(ctx, data),
        LinkType::IPV6 => ip::ipv6(ctx, data),
        LinkType::LINUX_SLL => link::sll(ctx, data),
        LinkType::LINUX_SLL2 => link::sll2(ctx, data),
        LinkType::NULL => link::null(ctx, data, false),
        LinkType::LOOP => link::null(ctx, data, true),
        LinkType::IEEE802_11 => link::ieee80211(ctx, data, wire::ieee80211::FcOrder::Standard),
        LinkType::IEEE802_11_RADIOTAP => link::radiotap(ctx, data),
        other => Err(DecodeError::UnsupportedLinkType(other)),
    }
}
