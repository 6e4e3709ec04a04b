//! Network and transport layers: IPv4, IPv6 with its extension-header chain, TCP, UDP,
//! ICMP/ICMPv6, SCTP, and the tunnels found there (IP-in-IP, GRE, VXLAN, Geneve, GTP-U, Teredo,
//! CAPWAP).
//!
//! Length policy. smoltcp's `Ipv4Packet::new_checked` rejects a packet whose total length
//! exceeds the buffer, but a frame cut by the snap length must still yield the headers it holds.
//! So we check lengths ourselves and use smoltcp's `new_unchecked` views only after checking
//! that the fixed header is present:
//!
//! - an IP length field larger than the captured bytes is accepted as a cut capture (whatever
//!   the record's `orig_len` says: some writers record the cut length as the original one);
//! - an IP length smaller than its own header is `Invalid`;
//! - an IP length smaller than the captured bytes trims the buffer (Ethernet padding);
//! - `payload_len` always comes from the length fields, never from the captured length.

use std::net::IpAddr;

use smoltcp::wire::{Icmpv4Packet, Icmpv6Packet, Ipv4Packet, Ipv6Packet, TcpPacket, UdpPacket};

use super::link::{self, ETH_IPV4, ETH_IPV6};
use super::{
    Ctx, DecodeError, DecodeEvents, Decoded, Fragment, IpPacket, IpProtocol, Layer, PacketMeta,
    TcpFlags, Tunnel, TunnelKind,
};
use crate::wire::{self, capwap, check_len, geneve, gre, gtpu, ipv6_ext, sctp, tail, vxlan};

/// How many tunnels [`super::decode`] opens before it stops and reports the current packet with
/// `decapsulated: false`, so hostile nesting cannot recurse without bound.
pub const MAX_TUNNEL_DEPTH: u8 = 4;

const IPV4_MIN_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const TCP_MIN_HEADER: usize = 20;
const UDP_HEADER: usize = 8;
/// ICMP and ICMPv6 messages we care about have an 8-byte header (type, code, checksum, 4 bytes
/// of rest-of-header such as echo id/seq).
const ICMP_HEADER: usize = 8;
const PROTO_IPIP: u8 = 4;
const PROTO_IPV6: u8 = 41;
const TEREDO_PORT: u16 = 3544;

/// IP-layer facts handed to the transport decoder.
#[derive(Clone, Copy)]
struct IpFacts {
    src: IpAddr,
    dst: IpAddr,
    ip_len: u32,
    ttl: u8,
    fragment: Option<Fragment>,
    events: DecodeEvents,
}

#[inline]
fn invalid(layer: Layer, what: &'static str) -> DecodeError {
    DecodeError::Invalid { layer, what }
}

/// IPv4 or IPv6 from the version nibble (raw-IP link types, GTP-U payloads).
#[inline]
pub(super) fn by_version<'a>(ctx: Ctx, buf: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    match buf.first().map(|b| b >> 4) {
        Some(4) => ipv4(ctx, buf),
        Some(6) => ipv6(ctx, buf),
        Some(_) => Err(invalid(Layer::Ipv4, "IP version")),
        None => Err(wire::truncated(Layer::Ipv4, IPV4_MIN_HEADER, 0)),
    }
}

/// The end of the IP packet inside `buf` given its length field, applying the cut-capture policy.
///
/// An IP length beyond the captured bytes means the capture kept only the start of the packet.
/// That is what a snap length does, but capture tools in the wild also write records whose
/// `orig_len` equals the cut `caplen` (corpus: `benign/telnet.pcap`, `malformed/badpackets.pcap`),
/// so the record header cannot be trusted to say so. The headers we hold are still real: the
/// packet is kept, its lengths come from the header, and `ctx.snapped` is set so a transport
/// header cut short still yields its ports.
#[inline]
fn ip_end(ctx: &mut Ctx, total: usize, captured: usize) -> usize {
    if total <= captured {
        total
    } else {
        ctx.snapped = true;
        captured
    }
}

/// IPv4 (RFC 791). Options are skipped via IHL, not interpreted.
pub(super) fn ipv4<'a>(mut ctx: Ctx, buf: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    check_len(buf, IPV4_MIN_HEADER, Layer::Ipv4)?;
    // The 20-byte fixed header is present, so smoltcp's accessors cannot panic; its
    // `new_checked` would also reject snap-cut packets, which we must keep.
    let ip = Ipv4Packet::new_unchecked(buf);
    if ip.version() != 4 {
        return Err(invalid(Layer::Ipv4, "version"));
    }
    let hl = usize::from(ip.header_len());
    if hl < IPV4_MIN_HEADER {
        return Err(invalid(Layer::Ipv4, "IHL below 5"));
    }
    check_len(buf, hl, Layer::Ipv4)?;
    let mut total = usize::from(ip.total_len());
    if total == 0 {
        // TCP segmentation offload: captured on the sending host before the NIC split the
        // segment, the IP header still says 0. Wireshark takes the captured length too.
        total = buf.len();
    }
    if total < hl {
        return Err(invalid(Layer::Ipv4, "total length below header length"));
    }
    let end = ip_end(&mut ctx, total, buf.len());
    let l4 = buf.get(hl..end).unwrap_or_default();
    // smoltcp returns the offset in octets; the flow side wants RFC 791's 8-octet units.
    let offset = ip.frag_offset() >> 3;
    let more = ip.more_frags();
    let facts = IpFacts {
        src: IpAddr::V4(ip.src_addr()),
        dst: IpAddr::V4(ip.dst_addr()),
        ip_len: total as u32,
        ttl: ip.hop_limit(),
        fragment: (offset != 0 || more).then_some(Fragment {
            id: u32::from(ip.ident()),
            offset,
            more,
            len: (total - hl) as u32,
        }),
        events: DecodeEvents::NONE,
    };
    let header = buf.get(..hl).unwrap_or_default();
    transport(
        ctx,
        facts,
        header,
        u8::from(ip.next_header()),
        l4,
        (total - hl) as u32,
    )
}

/// IPv6 (RFC 8200) and its extension-header chain.
pub(super) fn ipv6<'a>(mut ctx: Ctx, buf: &'a [u8]) -> Result<Decoded<'a>, DecodeError> {
    check_len(buf, IPV6_HEADER, Layer::Ipv6)?;
    // Fixed header present: smoltcp's accessors cannot panic.
    let ip = Ipv6Packet::new_unchecked(buf);
    if ip.version() != 6 {
        return Err(invalid(Layer::Ipv6, "version"));
    }
    let mut next = u8::from(ip.next_header());
    let mut plen = usize::from(ip.payload_len());
    if plen == 0 && next == ipv6_ext::HOP_BY_HOP {
        // RFC 2675 jumbogram: the real length is in a hop-by-hop option; take what we captured.
        plen = buf.len() - IPV6_HEADER;
    }
    let total = IPV6_HEADER + plen;
    let end = ip_end(&mut ctx, total, buf.len());
    let mut rest = buf.get(IPV6_HEADER..end).unwrap_or_default();
    let mut l4_len = plen;
    let mut fragment = None;
    let mut events = DecodeEvents::NONE;
    let mut fragment_headers = 0;
    let beyond = invalid(Layer::Ipv6Ext, "extension header beyond payload length");
    // A chain cut short, as Suricata's decoder finds it (`ipv6.trunc_exthdr`).
    let mut cut = None;
    let mut walked = false;
    // Every extension header is at least 8 bytes, so the chain ends on any input.
    loop {
        if ipv6_ext::is_generic(next) {
            let h = match ipv6_ext::ExtHeader::new_checked(rest, next) {
                Ok(h) => h,
                Err(e) => break cut = Some(e),
            };
            let Some(left) = l4_len.checked_sub(h.header_len()) else {
                break cut = Some(beyond);
            };
            l4_len = left;
            next = h.next_header();
            rest = h.payload();
            walked = true;
        } else if next == ipv6_ext::FRAGMENT {
            let f = match ipv6_ext::FragmentHeader::new_checked(rest) {
                Ok(f) => f,
                Err(e) => break cut = Some(e),
            };
            let Some(left) = l4_len.checked_sub(ipv6_ext::FRAGMENT_LEN) else {
                break cut = Some(beyond);
            };
            l4_len = left;
            walked = true;
            next = f.next_header();
            rest = f.payload();
            fragment_headers += 1;
            events.insert(fragment_events(
                fragment_headers,
                f.offset(),
                f.more(),
                l4_len,
            ));
            // RFC 6946: an "atomic fragment" (offset 0, M clear) is a whole datagram.
            if f.offset() != 0 || f.more() {
                fragment = Some(Fragment {
                    id: f.ident(),
                    offset: f.offset(),
                    more: f.more(),
                    len: l4_len as u32,
                });
            }
            if f.offset() != 0 {
                // Later headers are in the first fragment only (RFC 8200 §4.5).
                break;
            }
        } else {
            // Transport, ESP (opaque) or No Next Header.
            break;
        }
    }
    // After an extension header, fewer than 2 bytes cannot start the next one (unfragmented
    // packets only: a fragment's headers are read after reassembly).
    if cut.is_none()
        && walked
        && fragment.is_none()
        && next != ipv6_ext::NO_NEXT_HEADER
        && l4_len < 2
    {
        cut = Some(wire::truncated(Layer::Ipv6Ext, 2, l4_len));
    }
    let facts = IpFacts {
        src: IpAddr::V6(ip.src_addr()),
        dst: IpAddr::V6(ip.dst_addr()),
        ip_len: total as u32,
        ttl: ip.hop_limit(),
        fragment,
        events,
    };
    // The fixed header and the extension headers walked (`rest` ends where the IP data ends).
    let header = buf.get(..end - rest.len()).unwrap_or_default();
    if let Some(error) = cut {
        let meta = ip_meta(&ctx, &facts, next, 0);
        let mut d = invalid_packet(&ctx, meta, DecodeEvents::IPV6_TRUNC_EXTHDR, error);
        if let Decoded::Ip(p) = &mut d {
            p.ip_header = header;
        }
        return Ok(d);
    }
    transport(ctx, facts, header, next, rest, l4_len as u32)
}

/// The anomalies of the `nth` Fragment header of an IPv6 chain (offset in 8-byte units)
/// followed by `data` bytes, as Suricata's decoder and defragmenter report them.
fn fragment_events(nth: u32, offset: u16, more: bool, data: usize) -> DecodeEvents {
    let mut events = DecodeEvents::NONE;
    if nth > 1 {
        events.insert(DecodeEvents::IPV6_EXTHDR_DUPL_FH);
    }
    if offset == 0 && !more {
        events.insert(DecodeEvents::IPV6_EXTHDR_USELESS_FH);
    }
    if usize::from(offset) * 8 + data > usize::from(u16::MAX) {
        events.insert(DecodeEvents::IPV6_FRAG_PKT_TOO_LARGE);
    }
    if more && data % 8 != 0 {
        events.insert(DecodeEvents::IPV6_FRAG_INVALID_LENGTH);
    }
    events
}

/// The transport header in `buf` (captured bytes, trimmed to the IP length), whose length
/// according to the IP header is `l4_len`, after the IP header `ip_header`. The packet
/// decoded at this level (not one a tunnel inside it yields) keeps both headers' bytes.
#[inline(always)]
fn transport<'a>(
    ctx: Ctx,
    ip: IpFacts,
    ip_header: &'a [u8],
    proto: u8,
    buf: &'a [u8],
    l4_len: u32,
) -> Result<Decoded<'a>, DecodeError> {
    let mut decoded = transport_inner(ctx, ip, proto, buf, l4_len)?;
    if let Decoded::Ip(p) = &mut decoded {
        if p.ip_header.is_empty() {
            p.ip_header = ip_header;
            if ip.fragment.is_none_or(|f| f.is_first()) {
                p.transport_header = transport_header(proto, buf);
            }
        }
    }
    Ok(decoded)
}

/// The bytes of the transport header at the start of `buf`, as Suricata's `tcp.hdr`,
/// `udp.hdr`, `icmpv4.hdr` and `icmpv6.hdr` see them: TCP's data offset (options included),
/// UDP's 8 bytes, ICMP's 8 (an ICMPv4 router advertisement adds its address entries); as
/// much as was captured, and nothing for other protocols or a TCP offset below 5.
fn transport_header(proto: u8, buf: &[u8]) -> &[u8] {
    let len = match proto {
        6 => match buf.get(12) {
            Some(&off) if off >> 4 >= 5 => usize::from(off >> 4) * 4,
            _ => 0,
        },
        17 => UDP_HEADER,
        1 => match buf {
            // Router advertisement: entries × words per entry × 4 bytes follow.
            [9, _, _, _, n, size, ..] => ICMP_HEADER + usize::from(*n) * usize::from(*size) * 4,
            _ => ICMP_HEADER,
        },
        58 => ICMP_HEADER,
        _ => 0,
    };
    buf.get(..len.min(buf.len())).unwrap_or_default()
}

/// The packet summary from the IP layer alone: no ports, flags or ICMP fields yet.
fn ip_meta(ctx: &Ctx, ip: &IpFacts, proto: u8, l4_len: u32) -> PacketMeta {
    PacketMeta {
        ts: ctx.ts,
        src_addr: ip.src,
        dst_addr: ip.dst,
        src_port: 0,
        dst_port: 0,
        protocol: IpProtocol(proto),
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: TcpFlags(0),
        tcp_window: 0,
        tcp_seq: 0,
        tcp_ack: 0,
        tcp_urgent: 0,
        payload_len: l4_len,
        ip_len: ip.ip_len,
        ttl: ip.ttl,
        fragment: ip.fragment,
        tunnel: ctx.tunnel,
        events: ip.events,
    }
}

/// A packet whose IP layer decoded but whose next header is missing or cut (`event`, one of
/// [`DecodeEvents::INVALID`]): no payload, `error` says what was wrong. Suricata's decoder
/// marks such a packet invalid; it still runs detection (decoder-event rules) but takes no
/// part in a flow.
fn invalid_packet<'a>(
    ctx: &Ctx,
    mut meta: PacketMeta,
    event: DecodeEvents,
    error: DecodeError,
) -> Decoded<'a> {
    meta.events.insert(event);
    meta.payload_len = 0;
    Decoded::Ip(IpPacket {
        transport_error: Some(error),
        ..ip_packet(ctx, meta, &[])
    })
}

fn transport_inner<'a>(
    ctx: Ctx,
    ip: IpFacts,
    proto: u8,
    buf: &'a [u8],
    l4_len: u32,
) -> Result<Decoded<'a>, DecodeError> {
    let meta = ip_meta(&ctx, &ip, proto, l4_len);
    if ip.fragment.is_some_and(|f| !f.is_first()) {
        // A non-first fragment holds no transport header.
        return Ok(packet(&ctx, meta, &[]));
    }
    // A header cut short is still worth its ports when the cut is explained: by the snap length,
    // or by fragmentation (tiny-fragment attacks split the TCP header, RFC 1858 §3).
    let partial_ok = ctx.snapped || ip.fragment.is_some();
    match proto {
        6 => tcp(ctx, meta, buf, l4_len, partial_ok),
        17 => udp(ctx, meta, buf, l4_len, partial_ok),
        1 | 58 => icmp(ctx, meta, buf, l4_len, proto == 58),
        132 => Ok(sctp(ctx, meta, buf, l4_len)),
        PROTO_IPIP | PROTO_IPV6 => {
            let outer = packet(&ctx, meta, buf);
            Ok(decap(ctx, TunnelKind::IpInIp, outer, |c| {
                if proto == PROTO_IPIP {
                    ipv4(c, buf)
                } else {
                    ipv6(c, buf)
                }
            }))
        }
        47 => Ok(gre(ctx, meta, buf)),
        _ => Ok(packet(&ctx, meta, buf)),
    }
}

#[inline]
fn packet<'a>(ctx: &Ctx, meta: PacketMeta, payload: &'a [u8]) -> Decoded<'a> {
    Decoded::Ip(ip_packet(ctx, meta, payload))
}

#[inline]
fn ip_packet<'a>(ctx: &Ctx, meta: PacketMeta, payload: &'a [u8]) -> IpPacket<'a> {
    IpPacket {
        meta,
        payload,
        l2: ctx.l2,
        transport_error: None,
        ip_header: &[],
        transport_header: &[],
    }
}

/// Tries to decode the inner packet of a recognised tunnel.
///
/// Returns the inner IP packet (with `tunnel = Some(kind, decapsulated: true)`) when that works;
/// otherwise the outer packet marked `decapsulated: false`: when the depth bound is reached,
/// when the outer datagram is a fragment, or when the inner frame is not a decodable IP packet
/// (the outer is still a real IP flow worth counting).
fn decap<'a>(
    ctx: Ctx,
    kind: TunnelKind,
    outer: Decoded<'a>,
    inner: impl FnOnce(Ctx) -> Result<Decoded<'a>, DecodeError>,
) -> Decoded<'a> {
    let Decoded::Ip(mut outer_ip) = outer else {
        return outer;
    };
    outer_ip.meta.tunnel = Some(Tunnel {
        kind,
        decapsulated: false,
    });
    if ctx.depth >= MAX_TUNNEL_DEPTH || outer_ip.meta.fragment.is_some() {
        return Decoded::Ip(outer_ip);
    }
    let inner_ctx = Ctx {
        depth: ctx.depth + 1,
        tunnel: Some(Tunnel {
            kind,
            decapsulated: true,
        }),
        ..ctx
    };
    match inner(inner_ctx) {
        Ok(d @ Decoded::Ip(_)) => d,
        _ => Decoded::Ip(outer_ip),
    }
}

/// TCP (RFC 9293).
fn tcp<'a>(
    ctx: Ctx,
    mut meta: PacketMeta,
    buf: &'a [u8],
    l4_len: u32,
    partial_ok: bool,
) -> Result<Decoded<'a>, DecodeError> {
    if buf.len() < TCP_MIN_HEADER {
        if partial_ok && buf.len() >= 4 {
            meta.src_port = wire::be16(buf, 0);
            meta.dst_port = wire::be16(buf, 2);
            meta.payload_len = l4_len.saturating_sub(TCP_MIN_HEADER as u32);
            return Ok(packet(&ctx, meta, &[]));
        }
        let error = wire::truncated(Layer::Tcp, TCP_MIN_HEADER, buf.len());
        return Ok(invalid_packet(
            &ctx,
            meta,
            DecodeEvents::TCP_PKT_TOO_SMALL,
            error,
        ));
    }
    // 20 bytes present: smoltcp's fixed-field accessors cannot panic.
    let t = TcpPacket::new_unchecked(buf);
    let hl = u32::from(t.header_len());
    meta.src_port = t.src_port();
    meta.dst_port = t.dst_port();
    // smoltcp exposes flags one by one; the raw low byte (incl. ECE/CWR) is byte 13.
    meta.tcp_flags = TcpFlags(buf.get(13).copied().unwrap_or(0));
    meta.tcp_window = t.window_len();
    meta.tcp_seq = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    meta.tcp_ack = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
    meta.tcp_urgent = u16::from_be_bytes([buf[18], buf[19]]);
    let bogus = if hl < TCP_MIN_HEADER as u32 {
        Some("data offset below 5")
    } else if hl > l4_len {
        Some("data offset beyond segment")
    } else {
        None
    };
    if let Some(what) = bogus {
        // The fixed header is there but its length is nonsense: where the payload starts is
        // unknown. Keep the IP layer (flows, `ip` rules) and report the transport error.
        meta.payload_len = 0;
        return Ok(Decoded::Ip(IpPacket {
            transport_error: Some(invalid(Layer::Tcp, what)),
            ..ip_packet(&ctx, meta, &[])
        }));
    }
    meta.payload_len = l4_len - hl;
    Ok(packet(&ctx, meta, tail(buf, hl as usize)))
}

/// UDP (RFC 768) and the tunnels carried over it.
fn udp<'a>(
    ctx: Ctx,
    mut meta: PacketMeta,
    buf: &'a [u8],
    l4_len: u32,
    partial_ok: bool,
) -> Result<Decoded<'a>, DecodeError> {
    let hdr = UDP_HEADER as u32;
    if buf.len() < UDP_HEADER {
        if partial_ok && buf.len() >= 4 {
            meta.src_port = wire::be16(buf, 0);
            meta.dst_port = wire::be16(buf, 2);
            meta.payload_len = l4_len.saturating_sub(hdr);
            return Ok(packet(&ctx, meta, &[]));
        }
        let error = wire::truncated(Layer::Udp, UDP_HEADER, buf.len());
        return Ok(invalid_packet(
            &ctx,
            meta,
            DecodeEvents::UDP_HLEN_TOO_SMALL,
            error,
        ));
    }
    if l4_len < hdr {
        let error = invalid(Layer::Udp, "IP payload shorter than UDP header");
        return Ok(invalid_packet(
            &ctx,
            meta,
            DecodeEvents::UDP_HLEN_TOO_SMALL,
            error,
        ));
    }
    // 8 bytes present: smoltcp's accessors cannot panic.
    let u = UdpPacket::new_unchecked(buf);
    meta.src_port = u.src_port();
    meta.dst_port = u.dst_port();
    let udp_len = u32::from(u.len());
    let mut payload = tail(buf, UDP_HEADER);
    meta.payload_len = if meta.fragment.is_some() || udp_len == 0 {
        // First fragment: the UDP length covers the whole datagram, this fragment carries less.
        // Length 0: RFC 2675 §4 jumbogram; the IP length is authoritative.
        l4_len - hdr
    } else if udp_len > l4_len {
        let error = invalid(Layer::Udp, "length beyond IP payload");
        return Ok(invalid_packet(
            &ctx,
            meta,
            DecodeEvents::UDP_PKT_TOO_SMALL,
            error,
        ));
    } else if udp_len < hdr {
        // Also a length other than the IP payload's, as Suricata reports both.
        meta.events.insert(DecodeEvents::UDP_HLEN_INVALID);
        let error = invalid(Layer::Udp, "length below 8");
        return Ok(invalid_packet(
            &ctx,
            meta,
            DecodeEvents::UDP_LEN_INVALID,
            error,
        ));
    } else {
        if udp_len < l4_len {
            meta.events.insert(DecodeEvents::UDP_HLEN_INVALID);
        }
        // Bytes past the UDP length inside the IP payload are padding.
        payload = payload.get(..(udp_len - hdr) as usize).unwrap_or(payload);
        udp_len - hdr
    };
    let outer = packet(&ctx, meta, payload);
    let (sp, dp) = (meta.src_port, meta.dst_port);
    Ok(if dp == vxlan::UDP_PORT {
        match vxlan::VxlanHeader::new_checked(payload) {
            Ok(v) => decap(ctx, TunnelKind::Vxlan, outer, |c| {
                link::ethernet(c, v.payload())
            }),
            Err(_) => outer,
        }
    } else if dp == geneve::UDP_PORT {
        match geneve::GeneveHeader::new_checked(payload) {
            Ok(g) => decap(ctx, TunnelKind::Geneve, outer, |c| {
                if g.protocol() == geneve::PROTO_ETHERNET {
                    link::ethernet(c, g.payload())
                } else {
                    link::ethertype(c, g.protocol(), g.payload())
                }
            }),
            Err(_) => outer,
        }
    } else if dp == gtpu::UDP_PORT || sp == gtpu::UDP_PORT {
        match gtpu::GtpuHeader::new_checked(payload) {
            Ok(g) if g.msg_type() == gtpu::MSG_G_PDU => {
                decap(ctx, TunnelKind::GtpU, outer, |c| by_version(c, g.payload()))
            }
            // Echo and other GTP-U signalling: recognised, nothing inside.
            Ok(_) => recognised(outer, TunnelKind::GtpU),
            Err(_) => outer,
        }
    } else if dp == capwap::DATA_PORT || sp == capwap::DATA_PORT {
        // Only the data channel is a tunnel; the control channel (5246) stays plain UDP.
        capwap(ctx, outer, payload)
    } else if dp == TEREDO_PORT || sp == TEREDO_PORT {
        match teredo_inner(payload) {
            Some(inner) => decap(ctx, TunnelKind::Teredo, outer, |c| by_version(c, inner)),
            // Qualification and bubbles without a whole IPv6 packet: only recognised.
            None => recognised(outer, TunnelKind::Teredo),
        }
    } else {
        outer
    })
}

/// The IPv6 packet a Teredo datagram (RFC 4380 §5.1.1) carries after an optional origin
/// indication, when the datagram holds exactly one, as Suricata decides: version 6, a hop
/// limit, not a hop-by-hop header first (no marker says a datagram is Teredo, so these keep
/// other traffic on port 3544 out). A datagram with an authentication indication is
/// qualification, not tunnelled traffic.
fn teredo_inner(payload: &[u8]) -> Option<&[u8]> {
    let mut p = payload;
    if let [0, 0, ..] = p {
        // Origin indication: 8 bytes.
        p = p.get(8..)?;
    }
    let plen = usize::from(u16::from_be_bytes([*p.get(4)?, *p.get(5)?]));
    let whole = p.len() == 40 + plen;
    (whole && p[0] >> 4 == 6 && p[6] != 0 && p[7] != 0).then_some(p)
}

/// CAPWAP data channel (RFC 5415 §4.3; either port is 5247, the WTP picks the other).
///
/// With T set and WBID 1 the payload is an IEEE 802.11 frame (RFC 5416 §3); with T clear an
/// IEEE 802.3 frame. Keep-alives (K), fragments (F: only reassembly would give a whole frame),
/// DTLS-protected packets and other bindings are only recognised. A header that is not CAPWAP
/// leaves a plain UDP packet.
fn capwap<'a>(ctx: Ctx, outer: Decoded<'a>, payload: &'a [u8]) -> Decoded<'a> {
    let h = match capwap::CapwapHeader::new_checked(payload) {
        Ok(h) => h,
        Err(_) if payload.first() == Some(&capwap::PREAMBLE_DTLS) => {
            return recognised(outer, TunnelKind::Capwap);
        }
        Err(_) => return outer,
    };
    let inner = h.payload();
    if h.is_keep_alive() || h.is_fragment() {
        recognised(outer, TunnelKind::Capwap)
    } else if !h.native_frame() {
        decap(ctx, TunnelKind::Capwap, outer, |c| link::ethernet(c, inner))
    } else if h.wbid() == capwap::WBID_IEEE80211 {
        let order = capwap::frame_control_order(inner);
        decap(ctx, TunnelKind::Capwap, outer, |c| {
            link::ieee80211(c, inner, order)
        })
    } else {
        recognised(outer, TunnelKind::Capwap)
    }
}

/// Marks an outer packet as carrying a tunnel that is not opened.
#[inline]
fn recognised(mut d: Decoded<'_>, kind: TunnelKind) -> Decoded<'_> {
    if let Decoded::Ip(ip) = &mut d {
        ip.meta.tunnel = Some(Tunnel {
            kind,
            decapsulated: false,
        });
    }
    d
}

/// ICMP (RFC 792) and ICMPv6 (RFC 4443): echo uses the identifier as both "ports" so requests
/// and replies share a flow key; other messages use type and code.
fn icmp<'a>(
    ctx: Ctx,
    mut meta: PacketMeta,
    buf: &'a [u8],
    l4_len: u32,
    v6: bool,
) -> Result<Decoded<'a>, DecodeError> {
    check_len(buf, 4, Layer::Icmp)?;
    // Type and code are present; echo id is read only after the 8-byte check below.
    let (ty, code) = if v6 {
        let p = Icmpv6Packet::new_unchecked(buf);
        (u8::from(p.msg_type()), p.msg_code())
    } else {
        let p = Icmpv4Packet::new_unchecked(buf);
        (u8::from(p.msg_type()), p.msg_code())
    };
    meta.icmp_type = ty;
    meta.icmp_code = code;
    let echo = if v6 {
        matches!(ty, 128 | 129)
    } else {
        matches!(ty, 0 | 8)
    };
    if echo {
        check_len(buf, ICMP_HEADER, Layer::Icmp)?;
        let id = if v6 {
            Icmpv6Packet::new_unchecked(buf).echo_ident()
        } else {
            Icmpv4Packet::new_unchecked(buf).echo_ident()
        };
        meta.src_port = id;
        meta.dst_port = id;
    } else {
        meta.src_port = u16::from(ty);
        meta.dst_port = u16::from(code);
    }
    meta.payload_len = l4_len.saturating_sub(ICMP_HEADER as u32);
    Ok(packet(&ctx, meta, tail(buf, ICMP_HEADER)))
}

/// SCTP (RFC 9260): ports only. Lenient: with fewer than 4 bytes the ports stay 0.
fn sctp<'a>(ctx: Ctx, mut meta: PacketMeta, buf: &'a [u8], l4_len: u32) -> Decoded<'a> {
    meta.payload_len = l4_len.saturating_sub(sctp::HEADER_LEN as u32);
    match sctp::SctpHeader::new_checked(buf) {
        Ok(h) => {
            meta.src_port = h.src_port();
            meta.dst_port = h.dst_port();
            packet(&ctx, meta, h.payload())
        }
        Err(_) => {
            if buf.len() >= 4 {
                meta.src_port = wire::be16(buf, 0);
                meta.dst_port = wire::be16(buf, 2);
            }
            packet(&ctx, meta, &[])
        }
    }
}

/// GRE: decapsulate IP, Ethernet (0x6558) and anything the EtherType dispatch knows; other
/// payloads (PPTP's PPP, ERSPAN) are only recognised. A malformed GRE header leaves a plain
/// protocol-47 packet.
fn gre<'a>(ctx: Ctx, mut meta: PacketMeta, buf: &'a [u8]) -> Decoded<'a> {
    if buf.len() < gre::BASE_LEN {
        meta.events.insert(DecodeEvents::GRE_PKT_TOO_SMALL);
    }
    let outer = packet(&ctx, meta, buf);
    let Ok(g) = gre::GreHeader::new_checked(buf) else {
        return outer;
    };
    let proto = g.protocol();
    let inner = g.payload();
    match proto {
        gre::PROTO_ETHERNET => decap(ctx, TunnelKind::Gre, outer, |c| link::ethernet(c, inner)),
        _ if g.version() == 0 && is_decodable_ethertype(proto) => {
            decap(ctx, TunnelKind::Gre, outer, |c| {
                link::ethertype(c, proto, inner)
            })
        }
        _ => recognised(outer, TunnelKind::Gre),
    }
}

/// EtherTypes GRE may carry that lead to an IP packet.
#[inline]
fn is_decodable_ethertype(t: u16) -> bool {
    matches!(t, ETH_IPV4 | ETH_IPV6 | 0x8847 | 0x8848) || wire::vlan::is_vlan_tpid(t)
}
