//! Decoder unit tests: every link type, IP/transport edge cases, snap-length cuts, fragments,
//! tunnels, truncated prefixes, and a proptest round trip.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use super::*;
use crate::capture::{LinkType, RawPacket};

// ---------------------------------------------------------------- builders

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
const V4A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const V4B: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);

fn v6(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last)
}

fn tcp_seg(sport: u16, dport: u16, flags: u8, window: u16, opts: usize, payload: &[u8]) -> Vec<u8> {
    let hl = 20 + opts;
    let mut b = vec![0u8; hl];
    b[0..2].copy_from_slice(&sport.to_be_bytes());
    b[2..4].copy_from_slice(&dport.to_be_bytes());
    b[4..8].copy_from_slice(&1000u32.to_be_bytes());
    b[12] = ((hl / 4) as u8) << 4;
    b[13] = flags;
    b[14..16].copy_from_slice(&window.to_be_bytes());
    for o in b.iter_mut().skip(20) {
        *o = 1; // NOP options
    }
    b.extend_from_slice(payload);
    b
}

fn udp_dgram(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 8];
    b[0..2].copy_from_slice(&sport.to_be_bytes());
    b[2..4].copy_from_slice(&dport.to_be_bytes());
    b[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// IPv4 header (+ `opts` bytes of options) around `l4`; `frag` is (id, offset units, more).
fn ipv4_pkt(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ttl: u8,
    opts: usize,
    frag: (u16, u16, bool),
    l4: &[u8],
) -> Vec<u8> {
    let hl = 20 + opts;
    let mut b = vec![0u8; hl];
    b[0] = 0x40 | (hl / 4) as u8;
    b[2..4].copy_from_slice(&((hl + l4.len()) as u16).to_be_bytes());
    b[4..6].copy_from_slice(&frag.0.to_be_bytes());
    let fo = frag.1 | if frag.2 { 0x2000 } else { 0 };
    b[6..8].copy_from_slice(&fo.to_be_bytes());
    b[8] = ttl;
    b[9] = proto;
    b[12..16].copy_from_slice(&src.octets());
    b[16..20].copy_from_slice(&dst.octets());
    b.extend_from_slice(l4);
    b
}

fn ipv4_simple(proto: u8, l4: &[u8]) -> Vec<u8> {
    ipv4_pkt(V4A, V4B, proto, 64, 0, (7, 0, false), l4)
}

/// IPv6 header with `next` as next header around `rest` (extension headers + transport).
fn ipv6_pkt(src: Ipv6Addr, dst: Ipv6Addr, next: u8, hop: u8, rest: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 40];
    b[0] = 0x60;
    b[4..6].copy_from_slice(&(rest.len() as u16).to_be_bytes());
    b[6] = next;
    b[7] = hop;
    b[8..24].copy_from_slice(&src.octets());
    b[24..40].copy_from_slice(&dst.octets());
    b.extend_from_slice(rest);
    b
}

fn ipv6_simple(next: u8, rest: &[u8]) -> Vec<u8> {
    ipv6_pkt(v6(1), v6(2), next, 60, rest)
}

/// Ethernet with optional tags: each (tpid, vid).
fn eth(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&MAC_B);
    b.extend_from_slice(&MAC_A);
    for &(tpid, vid) in tags {
        b.extend_from_slice(&tpid.to_be_bytes());
        b.extend_from_slice(&vid.to_be_bytes());
    }
    b.extend_from_slice(&ethertype.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

fn raw(link_type: LinkType, data: &[u8]) -> RawPacket<'_> {
    RawPacket {
        ts: crate::time::Timestamp::from_micros(42),
        link_type,
        data,
        orig_len: data.len() as u32,
    }
}

/// `data` cut to `keep` bytes by the snap length.
fn snapped(link_type: LinkType, data: &[u8], keep: usize) -> RawPacket<'_> {
    RawPacket {
        orig_len: data.len() as u32,
        ..raw(link_type, &data[..keep])
    }
}

#[track_caller]
fn ip(d: Result<Decoded<'_>, DecodeError>) -> IpPacket<'_> {
    match d {
        Ok(Decoded::Ip(p)) => p,
        other => panic!("expected IP, got {other:?}"),
    }
}

/// An [`IpPacket`] with an owned payload, so tests can decode temporaries.
struct Owned {
    meta: PacketMeta,
    payload: Vec<u8>,
    l2: L2Info,
}

#[track_caller]
fn decode_ip(link_type: LinkType, data: &[u8]) -> Owned {
    let p = ip(decode(&raw(link_type, data)));
    Owned {
        meta: p.meta,
        payload: p.payload.to_vec(),
        l2: p.l2,
    }
}

// ---------------------------------------------------------------- link layers

#[test]
fn ethernet_ipv4_tcp_with_padding() {
    let seg = tcp_seg(40000, 443, TcpFlags::SYN | TcpFlags::ACK, 29200, 4, b"");
    let mut f = eth(&[], 0x0800, &ipv4_simple(6, &seg));
    f.resize(60, 0); // Ethernet minimum frame padding
    let p = decode_ip(LinkType::ETHERNET, &f);
    let m = p.meta;
    assert_eq!(m.ts.as_micros(), 42);
    assert_eq!((m.src_addr, m.dst_addr), (IpAddr::V4(V4A), IpAddr::V4(V4B)));
    assert_eq!((m.src_port, m.dst_port), (40000, 443));
    assert_eq!(m.protocol, IpProtocol::TCP);
    assert!(m.tcp_flags.syn() && m.tcp_flags.ack() && !m.tcp_flags.fin());
    assert_eq!(m.tcp_window, 29200);
    assert_eq!((m.payload_len, m.ip_len, m.ttl), (0, 44, 64));
    assert_eq!(m.fragment, None);
    assert_eq!(m.tunnel, None);
    assert!(p.payload.is_empty(), "padding is not payload");
    assert_eq!(p.l2.src_mac, Some(MAC_A));
    assert_eq!(p.l2.dst_mac, Some(MAC_B));
    assert_eq!(p.l2.vlan, None);
}

#[test]
fn real_frame_tcp_psh_ack() {
    // benign/app_android.pcap, first frame: 95.101.24.53:443 -> 192.168.2.17:50677, 24 bytes.
    let f = hex("c4618b3582a9c62c03606a6408004500004c332e00003506182b5f651835c0a8021101bbc5f54d9dde2a6e19ca8380180145cd0e00000101080a6c7e5e2811e19928170303001330c590345db93ab9c9c6d8e14d658006f11d72");
    let p = decode_ip(LinkType::ETHERNET, &f);
    assert_eq!(p.meta.src_addr, IpAddr::V4(Ipv4Addr::new(95, 101, 24, 53)));
    assert_eq!(p.meta.dst_addr, IpAddr::V4(Ipv4Addr::new(192, 168, 2, 17)));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (443, 50677));
    assert_eq!(p.meta.tcp_flags, TcpFlags(TcpFlags::PSH | TcpFlags::ACK));
    assert_eq!(p.meta.payload_len, 24);
    assert_eq!(p.payload.len(), 24);
    assert_eq!(p.meta.ttl, 53);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn qinq_keeps_outer_vlan() {
    let f = eth(
        &[(0x88a8, 10), (0x8100, 0x2014), (0x9100, 30)],
        0x86dd,
        &ipv6_simple(17, &udp_dgram(53, 5353, b"abc")),
    );
    let p = decode_ip(LinkType::ETHERNET, &f);
    assert_eq!(p.l2.vlan, Some(10));
    assert_eq!(
        (p.meta.src_port, p.meta.dst_port, p.meta.payload_len),
        (53, 5353, 3)
    );
    assert_eq!(p.payload, b"abc");
}

#[test]
fn mpls_stack_then_ipv4() {
    let mut l = vec![0, 1, 0, 64, 0, 2, 1, 64]; // two labels, second bottom-of-stack
    l.extend(ipv4_simple(17, &udp_dgram(1, 2, b"")));
    let p = decode_ip(LinkType::ETHERNET, &eth(&[(0x8100, 5)], 0x8847, &l));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (1, 2));
    assert_eq!(p.l2.vlan, Some(5));
    // Not IP after the stack.
    let f = eth(&[], 0x8847, &[0, 1, 1, 64, 0x00, 0x11]);
    assert_eq!(
        decode(&raw(LinkType::ETHERNET, &f)),
        Ok(Decoded::Other { ethertype: 0x8847 })
    );
}

#[test]
fn pppoe_session() {
    let mut b = vec![0x11, 0, 0, 1, 0, 0, 0x00, 0x57];
    b.extend(ipv6_simple(6, &tcp_seg(1, 2, TcpFlags::RST, 0, 0, b"")));
    let p = decode_ip(LinkType::ETHERNET, &eth(&[], 0x8864, &b));
    assert!(p.meta.tcp_flags.rst());
    b[7] = 0x21; // claims IPv4 but holds IPv6
    assert!(decode(&raw(LinkType::ETHERNET, &eth(&[], 0x8864, &b))).is_err());
    b[6..8].copy_from_slice(&0xc021u16.to_be_bytes()); // LCP
    assert_eq!(
        decode(&raw(LinkType::ETHERNET, &eth(&[], 0x8864, &b))),
        Ok(Decoded::Other { ethertype: 0x8864 })
    );
}

#[test]
fn non_ip_ethertypes_are_other() {
    let f = eth(&[], 0x88cc, &[0; 20]); // LLDP
    assert_eq!(
        decode(&raw(LinkType::ETHERNET, &f)),
        Ok(Decoded::Other { ethertype: 0x88cc })
    );
}

#[test]
fn arp_request() {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&MAC_A);
    a.extend_from_slice(&V4A.octets());
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&V4B.octets());
    let f = eth(&[(0x8100, 3)], 0x0806, &a);
    match decode(&raw(LinkType::ETHERNET, &f)) {
        Ok(Decoded::Arp(info, l2)) => {
            assert_eq!(info.operation, 1);
            assert_eq!(info.sender_mac, MAC_A);
            assert_eq!(info.sender_ip, V4A);
            assert_eq!(info.target_ip, V4B);
            assert_eq!(l2.vlan, Some(3));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        decode(&raw(LinkType::ETHERNET, &f[..f.len() - 1])),
        Err(DecodeError::Truncated {
            layer: Layer::Arp,
            ..
        })
    ));
}

#[test]
fn raw_ip_link_types() {
    let v4 = ipv4_simple(17, &udp_dgram(10, 20, b"x"));
    let six = ipv6_simple(17, &udp_dgram(10, 20, b"x"));
    for lt in [LinkType::RAW, LinkType::RAW_BSD, LinkType::RAW_OPENBSD] {
        assert_eq!(decode_ip(lt, &v4).meta.src_addr, IpAddr::V4(V4A));
        assert_eq!(decode_ip(lt, &six).meta.src_addr, IpAddr::V6(v6(1)));
    }
    assert_eq!(decode_ip(LinkType::IPV4, &v4).meta.payload_len, 1);
    assert_eq!(decode_ip(LinkType::IPV6, &six).meta.ip_len, 49);
    assert!(decode(&raw(LinkType::IPV4, &six)).is_err());
    assert!(decode(&raw(LinkType::RAW, &[])).is_err());
    assert!(matches!(
        decode(&raw(LinkType::RAW, &[0x50; 40])),
        Err(DecodeError::Invalid { .. })
    ));
}

#[test]
fn unsupported_link_type() {
    assert_eq!(
        decode(&raw(LinkType(160), &[0; 40])),
        Err(DecodeError::UnsupportedLinkType(LinkType(160)))
    );
}

#[test]
fn linux_sll_and_sll2() {
    let inner = ipv4_simple(6, &tcp_seg(5, 6, TcpFlags::FIN, 1, 0, b"z"));
    let mut s = vec![0, 4, 0, 1, 0, 6];
    s.extend_from_slice(&MAC_A);
    s.extend_from_slice(&[0, 0, 0x08, 0x00]);
    s.extend_from_slice(&inner);
    let p = decode_ip(LinkType::LINUX_SLL, &s);
    assert_eq!(p.l2.src_mac, Some(MAC_A));
    assert_eq!(p.l2.dst_mac, None);
    assert!(p.meta.tcp_flags.fin());

    let mut s2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6];
    s2.extend_from_slice(&MAC_B);
    s2.extend_from_slice(&[0, 0]);
    s2.extend_from_slice(&inner);
    let p = decode_ip(LinkType::LINUX_SLL2, &s2);
    assert_eq!(p.l2.src_mac, Some(MAC_B));
    assert_eq!(p.payload, b"z");
}

#[test]
fn null_and_loop() {
    let v4 = ipv4_simple(17, &udp_dgram(1, 2, b""));
    let v6 = ipv6_simple(17, &udp_dgram(1, 2, b""));
    let with = |fam: [u8; 4], ip: &[u8]| [&fam[..], ip].concat();
    // Little-endian host (x86 BSD / macOS).
    assert!(decode_ip(LinkType::NULL, &with([2, 0, 0, 0], &v4))
        .meta
        .src_addr
        .is_ipv4());
    for fam in [24u8, 28, 30] {
        assert!(decode_ip(LinkType::NULL, &with([fam, 0, 0, 0], &v6))
            .meta
            .src_addr
            .is_ipv6());
        // Big-endian host.
        assert!(decode_ip(LinkType::NULL, &with([0, 0, 0, fam], &v6))
            .meta
            .src_addr
            .is_ipv6());
    }
    assert!(decode_ip(LinkType::LOOP, &with([0, 0, 0, 2], &v4))
        .meta
        .src_addr
        .is_ipv4());
    assert!(decode_ip(LinkType::LOOP, &with([0, 0, 0, 24], &v6))
        .meta
        .src_addr
        .is_ipv6());
    assert_eq!(
        decode(&raw(LinkType::NULL, &with([7, 0, 0, 0], &v4))),
        Ok(Decoded::Other { ethertype: 7 })
    );
}

// ---------------------------------------------------------------- IPv4 lengths and snap cuts

#[test]
fn ipv4_options_are_skipped() {
    let pkt = ipv4_pkt(
        V4A,
        V4B,
        17,
        3,
        8,
        (1, 0, false),
        &udp_dgram(7, 8, b"hello"),
    );
    let p = decode_ip(LinkType::IPV4, &pkt);
    assert_eq!(
        (
            p.meta.src_port,
            p.meta.payload_len,
            p.meta.ip_len,
            p.meta.ttl
        ),
        (7, 5, 41, 3)
    );
}

#[test]
fn ipv4_total_length_zero_is_tso() {
    // Captured on the sender before segmentation offload: total length 0, data all there.
    let mut b = ipv4_simple(17, &udp_dgram(7, 8, b"hello"));
    b[2..4].copy_from_slice(&0u16.to_be_bytes());
    let p = ip(decode(&raw(LinkType::IPV4, &b)));
    assert_eq!((p.meta.ip_len, p.meta.payload_len), (33, 5));
}

#[test]
fn ipv4_bogus_lengths() {
    let good = ipv4_simple(17, &udp_dgram(7, 8, b"hello"));
    let mut b = good.clone();
    b[0] = 0x44; // IHL 4
    assert_eq!(
        decode(&raw(LinkType::IPV4, &b)),
        Err(DecodeError::Invalid {
            layer: Layer::Ipv4,
            what: "IHL below 5"
        })
    );
    let mut b = good.clone();
    b[2..4].copy_from_slice(&19u16.to_be_bytes());
    assert!(matches!(
        decode(&raw(LinkType::IPV4, &b)),
        Err(DecodeError::Invalid {
            layer: Layer::Ipv4,
            ..
        })
    ));
    let mut b = good.clone();
    b[0] = 0x4f; // IHL 15 = 60 bytes > total length 33
    assert!(decode(&raw(LinkType::IPV4, &b)).is_err());
    // Total length beyond the captured bytes, even with orig_len == caplen: a cut capture,
    // kept with the lengths from the header (see the policy in `ip.rs`).
    let mut b = good.clone();
    b[2..4].copy_from_slice(&100u16.to_be_bytes());
    let p = ip(decode(&raw(LinkType::IPV4, &b)));
    assert_eq!(p.meta.ip_len, 100);
    let mut b = good;
    b[0] = 0x65;
    assert!(matches!(
        decode(&raw(LinkType::IPV4, &b)),
        Err(DecodeError::Invalid {
            what: "version",
            ..
        })
    ));
}

#[test]
fn snap_cut_payload_keeps_lengths() {
    let f = eth(
        &[],
        0x0800,
        &ipv4_simple(6, &tcp_seg(1, 80, TcpFlags::ACK, 512, 12, &[7; 1000])),
    );
    let cut = 14 + 20 + 32 + 10;
    let p = ip(decode(&snapped(LinkType::ETHERNET, &f, cut)));
    assert_eq!(p.meta.payload_len, 1000);
    assert_eq!(p.meta.ip_len, 1052);
    assert_eq!(p.payload.len(), 10);
    assert_eq!(p.meta.tcp_window, 512);
}

#[test]
fn snap_cut_inside_tcp_header_yields_ports() {
    let f = ipv4_simple(6, &tcp_seg(1234, 80, TcpFlags::ACK, 512, 0, &[7; 100]));
    let p = ip(decode(&snapped(LinkType::IPV4, &f, 20 + 10)));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (1234, 80));
    assert_eq!(p.meta.tcp_flags, TcpFlags(0));
    assert_eq!(p.meta.payload_len, 100);
    assert!(p.payload.is_empty());
    // Fewer than 4 bytes of TCP: nothing to yield, an invalid packet.
    let p = ip(decode(&snapped(LinkType::IPV4, &f, 22)));
    assert!(p.meta.events.is_invalid());
    assert!(matches!(
        p.transport_error,
        Some(DecodeError::Truncated {
            layer: Layer::Tcp,
            ..
        })
    ));
    // The same cut without a snap length is a bogus packet: invalid, `tcp.pkt_too_small`.
    let mut short = f[..30].to_vec();
    short[2..4].copy_from_slice(&30u16.to_be_bytes());
    let p = ip(decode(&raw(LinkType::IPV4, &short)));
    assert_eq!(
        p.meta.events.names().collect::<Vec<_>>(),
        ["tcp.pkt_too_small"]
    );
    assert_eq!((p.meta.src_port, p.meta.payload_len), (0, 0));
    assert!(p.payload.is_empty());
    assert!(matches!(
        p.transport_error,
        Some(DecodeError::Truncated {
            layer: Layer::Tcp,
            ..
        })
    ));
}

#[test]
fn snap_cut_in_tcp_options() {
    let f = ipv4_simple(6, &tcp_seg(1, 2, TcpFlags::SYN, 9, 20, b""));
    let p = ip(decode(&snapped(LinkType::IPV4, &f, 20 + 25)));
    assert!(p.meta.tcp_flags.syn());
    assert_eq!(p.meta.payload_len, 0);
    assert!(p.payload.is_empty());
}

#[test]
fn tcp_bad_data_offset_keeps_the_ip_layer() {
    // Like Suricata: the IP layer is sound, so the packet stays an IP packet (flows, `ip`
    // rules) with the transport error recorded and no payload claimed.
    let mut seg = tcp_seg(1, 2, 0, 0, 0, b"");
    seg[12] = 0x40;
    let f = ipv4_simple(6, &seg);
    let p = ip(decode(&raw(LinkType::IPV4, &f)));
    assert_eq!(
        (p.meta.src_port, p.meta.dst_port, p.meta.payload_len),
        (1, 2, 0)
    );
    assert_eq!(
        p.transport_error,
        Some(DecodeError::Invalid {
            layer: Layer::Tcp,
            what: "data offset below 5"
        })
    );
    seg[12] = 0xf0; // 60 bytes > 20-byte segment
    let f = ipv4_simple(6, &seg);
    let p = ip(decode(&raw(LinkType::IPV4, &f)));
    assert!(matches!(
        p.transport_error,
        Some(DecodeError::Invalid {
            layer: Layer::Tcp,
            what: "data offset beyond segment"
        })
    ));
}

#[test]
fn udp_lengths() {
    let mut d = udp_dgram(1, 2, b"abcd");
    d.extend_from_slice(&[0xee; 3]); // padding inside the IP payload
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(17, &d));
    assert_eq!(p.meta.payload_len, 4);
    assert_eq!(p.payload, b"abcd");
    // Padding: the datagram decodes, with Suricata's `udp.hlen_invalid`.
    assert_eq!(
        p.meta.events.names().collect::<Vec<_>>(),
        ["udp.hlen_invalid"]
    );
    assert!(!p.meta.events.is_invalid());
    // Invalid datagrams keep the IP layer, the event and the error, and no payload.
    let invalid = |d: &[u8]| {
        let f = ipv4_simple(17, d);
        let p = ip(decode(&raw(LinkType::IPV4, &f)));
        assert!(p.meta.events.is_invalid() && p.payload.is_empty());
        assert_eq!(p.transport_error.map(|e| e.layer()), Some(Layer::Udp));
        p.meta.events.names().collect::<Vec<_>>()
    };
    let mut bad = udp_dgram(1, 2, b"abcd");
    bad[4..6].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(invalid(&bad), ["udp.hlen_invalid", "udp.len_invalid"]);
    bad[4..6].copy_from_slice(&100u16.to_be_bytes());
    assert_eq!(invalid(&bad), ["udp.pkt_too_small"]);
    assert_eq!(invalid(&[0; 5]), ["udp.hlen_too_small"]);
    let whole = udp_dgram(1, 2, b"abcd");
    assert_eq!(
        decode_ip(LinkType::IPV4, &ipv4_simple(17, &whole))
            .meta
            .events,
        DecodeEvents::NONE
    );
}

#[test]
fn gre_shorter_than_its_header_is_a_decoder_event() {
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(47, &[0, 0]));
    assert_eq!(
        p.meta.events.names().collect::<Vec<_>>(),
        ["gre.pkt_too_small"]
    );
    assert!(!p.meta.events.is_invalid());
}

// ---------------------------------------------------------------- fragments

#[test]
fn ipv4_fragments() {
    let first = ipv4_pkt(
        V4A,
        V4B,
        17,
        64,
        0,
        (99, 0, true),
        &udp_dgram(53, 1000, &[1; 1472])[..1480],
    );
    let p = decode_ip(LinkType::IPV4, &first);
    assert_eq!(
        p.meta.fragment,
        Some(Fragment {
            id: 99,
            offset: 0,
            more: true,
            len: 1480,
        })
    );
    assert_eq!((p.meta.src_port, p.meta.dst_port), (53, 1000));
    assert_eq!(p.meta.payload_len, 1472);

    let second = ipv4_pkt(V4A, V4B, 17, 64, 0, (99, 185, false), &[2; 300]);
    let p = decode_ip(LinkType::IPV4, &second);
    assert_eq!(
        p.meta.fragment,
        Some(Fragment {
            id: 99,
            offset: 185,
            more: false,
            len: 300,
        })
    );
    assert!(!p.meta.fragment.is_some_and(|f| f.is_first()));
    assert_eq!(
        (p.meta.src_port, p.meta.dst_port, p.meta.tcp_flags),
        (0, 0, TcpFlags(0))
    );
    assert_eq!(p.meta.payload_len, 300);
    assert!(p.payload.is_empty());
}

#[test]
fn tiny_first_fragment_yields_ports() {
    // RFC 1858: TCP header split over fragments; the first holds only 8 bytes.
    let seg = tcp_seg(4000, 22, TcpFlags::SYN, 0, 0, b"");
    let pkt = ipv4_pkt(V4A, V4B, 6, 64, 0, (5, 0, true), &seg[..8]);
    let p = decode_ip(LinkType::IPV4, &pkt);
    assert_eq!((p.meta.src_port, p.meta.dst_port), (4000, 22));
}

#[test]
fn ipv6_extension_chain_and_fragments() {
    // Hop-by-hop (8) -> destination options (16) -> TCP.
    let mut rest = vec![60, 0, 1, 4, 0, 0, 0, 0];
    rest.extend_from_slice(&[6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    rest.extend(tcp_seg(9, 10, TcpFlags::ACK, 77, 0, b"pay"));
    let p = decode_ip(LinkType::IPV6, &ipv6_simple(0, &rest));
    assert_eq!(p.meta.protocol, IpProtocol::TCP);
    assert_eq!(
        (p.meta.src_port, p.meta.payload_len, p.meta.ttl),
        (9, 3, 60)
    );
    assert_eq!(p.meta.ip_len, 40 + 24 + 23);

    // First fragment: UDP decoded, length from this fragment.
    let mut first = vec![17, 0, 0, 1, 0, 0, 0, 42];
    first.extend_from_slice(&udp_dgram(500, 4500, &[0; 100])[..64]);
    let p = decode_ip(LinkType::IPV6, &ipv6_simple(44, &first));
    assert_eq!(
        p.meta.fragment,
        Some(Fragment {
            id: 42,
            offset: 0,
            more: true,
            len: 64,
        })
    );
    assert_eq!((p.meta.src_port, p.meta.payload_len), (500, 56));

    // Later fragment: no transport.
    let mut later = vec![17, 0, 0, 64, 0, 0, 0, 42];
    later.extend_from_slice(&[0; 48]);
    let p = decode_ip(LinkType::IPV6, &ipv6_simple(44, &later));
    assert_eq!(
        p.meta.fragment,
        Some(Fragment {
            id: 42,
            offset: 8,
            more: false,
            len: 48,
        })
    );
    assert_eq!((p.meta.src_port, p.meta.payload_len), (0, 48));

    // Atomic fragment (RFC 6946): not a fragment.
    let mut atomic = vec![17, 0, 0, 0, 0, 0, 0, 1];
    atomic.extend(udp_dgram(1, 2, b""));
    assert_eq!(
        decode_ip(LinkType::IPV6, &ipv6_simple(44, &atomic))
            .meta
            .fragment,
        None
    );

    // AH then ESP: ESP ends the chain.
    let mut ah = vec![50, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
    ah.extend_from_slice(&[0xaa; 20]);
    let p = decode_ip(LinkType::IPV6, &ipv6_simple(51, &ah));
    assert_eq!((p.meta.protocol, p.meta.payload_len), (IpProtocol(50), 20));
}

#[test]
fn ipv6_fragment_header_anomalies_are_decoder_events() {
    let events = |rest: &[u8]| {
        decode_ip(LinkType::IPV6, &ipv6_simple(44, rest))
            .meta
            .events
    };
    let names = |e: DecodeEvents| e.names().collect::<Vec<_>>();
    // A well-formed first fragment: 64 bytes of data, more to come.
    let mut first = vec![17, 0, 0, 1, 0, 0, 0, 42];
    first.extend_from_slice(&udp_dgram(500, 4500, &[0; 100])[..64]);
    assert_eq!(events(&first), DecodeEvents::NONE);
    // The same with 63 bytes: a fragment other than the last must hold 8-byte units.
    assert_eq!(
        names(events(&first[..8 + 63])),
        ["ipv6.frag_invalid_length"]
    );
    // Atomic (offset 0, M clear): a Fragment header that fragments nothing.
    let mut atomic = vec![17, 0, 0, 0, 0, 0, 0, 1];
    atomic.extend(udp_dgram(1, 2, b""));
    assert_eq!(names(events(&atomic)), ["ipv6.exthdr_useless_fh"]);
    // Two Fragment headers in one chain.
    let mut twice = vec![44, 0, 0, 0, 0, 0, 0, 1];
    twice.extend_from_slice(&atomic);
    assert_eq!(
        names(events(&twice)),
        ["ipv6.exthdr_useless_fh", "ipv6.exthdr_dupl_fh"]
    );
    // The last fragment at offset 65,528 with 16 bytes ends past 65,535.
    let mut far = vec![17, 0, 0xff, 0xf8, 0, 0, 0, 42];
    far.extend_from_slice(&[0; 16]);
    assert_eq!(names(events(&far)), ["ipv6.frag_pkt_too_large"]);
    // IPv4 raises none of them.
    let udp = udp_dgram(1, 2, b"x");
    assert_eq!(
        decode_ip(LinkType::IPV4, &ipv4_simple(17, &udp))
            .meta
            .events,
        DecodeEvents::NONE
    );
}

#[test]
fn ipv6_bogus_ext_and_lengths() {
    // Extension header longer than the payload length: invalid, `ipv6.trunc_exthdr`, the
    // IP layer kept.
    let b = ipv6_simple(0, &[6, 3, 0, 0, 0, 0, 0, 0]);
    let p = ip(decode(&raw(LinkType::IPV6, &b)));
    assert_eq!(
        p.meta.events.names().collect::<Vec<_>>(),
        ["ipv6.trunc_exthdr"]
    );
    assert_eq!(p.meta.src_addr, IpAddr::V6(v6(1)));
    assert!(matches!(
        p.transport_error,
        Some(DecodeError::Truncated {
            layer: Layer::Ipv6Ext,
            ..
        })
    ));
    // A useless Fragment header with nothing after it (suricata-verify
    // ipv6-malformed-fragments-25): both events.
    let p = decode_ip(
        LinkType::IPV6,
        &ipv6_simple(44, &[6, 0, 0, 0, 0xfa, 0xce, 0xf0, 0xe1]),
    );
    assert_eq!(
        p.meta.events.names().collect::<Vec<_>>(),
        ["ipv6.exthdr_useless_fh", "ipv6.trunc_exthdr"]
    );
    // One byte after it is still too little for a header (…-26).
    let p = decode_ip(
        LinkType::IPV6,
        &ipv6_simple(44, &[0, 0, 0, 0, 0xfa, 0xce, 0xf0, 0xe4, 0]),
    );
    assert!(p.meta.events.contains(DecodeEvents::IPV6_TRUNC_EXTHDR));
    // A later fragment's data is not a header chain: no event.
    let mut later = vec![6, 0, 0, 8, 0, 0, 0, 1];
    later.push(0);
    let p = decode_ip(LinkType::IPV6, &ipv6_simple(44, &later));
    assert!(!p.meta.events.is_invalid());
    // Payload length beyond the capture, orig_len == caplen: kept as a cut capture.
    let mut b = ipv6_simple(17, &udp_dgram(1, 2, b""));
    b[4..6].copy_from_slice(&100u16.to_be_bytes());
    assert_eq!(ip(decode(&raw(LinkType::IPV6, &b))).meta.ip_len, 140);
    // ...and the same when the record says the capture was cut.
    let full = ipv6_simple(17, &udp_dgram(1, 2, &[0; 92]));
    let p = ip(decode(&snapped(LinkType::IPV6, &full, 50)));
    assert_eq!((p.meta.payload_len, p.meta.ip_len), (92, 140));
}

// ---------------------------------------------------------------- ICMP, SCTP

#[test]
fn icmp_type_and_code_are_exposed() {
    let req = [8, 0, 0, 0, 0x12, 0x34, 0, 1];
    let m = decode_ip(LinkType::IPV4, &ipv4_simple(1, &req)).meta;
    assert_eq!((m.icmp_type, m.icmp_code, m.src_port), (8, 0, 0x1234));
    let unreach = [3, 13, 0, 0, 0, 0, 0, 0];
    let m = decode_ip(LinkType::IPV4, &ipv4_simple(1, &unreach)).meta;
    assert_eq!((m.icmp_type, m.icmp_code), (3, 13));
    let echo6 = [129, 0, 0, 0, 0xbe, 0xef, 0, 9];
    let m = decode_ip(LinkType::IPV6, &ipv6_simple(58, &echo6)).meta;
    assert_eq!((m.icmp_type, m.icmp_code, m.dst_port), (129, 0, 0xbeef));
    // Not ICMP: both stay 0.
    let udp = [0, 53, 0, 53, 0, 8, 0, 0];
    let m = decode_ip(LinkType::IPV4, &ipv4_simple(17, &udp)).meta;
    assert_eq!((m.icmp_type, m.icmp_code), (0, 0));
}

#[test]
fn icmp_echo_shares_flow_key() {
    let mut req = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1];
    req.extend_from_slice(b"ping");
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(1, &req));
    assert_eq!(
        (p.meta.src_port, p.meta.dst_port, p.meta.payload_len),
        (0x1234, 0x1234, 4)
    );
    req[0] = 0;
    assert_eq!(
        decode_ip(LinkType::IPV4, &ipv4_simple(1, &req))
            .meta
            .src_port,
        0x1234
    );
    let unreach = [3, 3, 0, 0, 0, 0, 0, 0];
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(1, &unreach));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (3, 3));
    let echo6 = [128, 0, 0, 0, 0xbe, 0xef, 0, 9];
    let p = decode_ip(LinkType::IPV6, &ipv6_simple(58, &echo6));
    assert_eq!(
        (p.meta.protocol, p.meta.src_port, p.meta.dst_port),
        (IpProtocol::ICMPV6, 0xbeef, 0xbeef)
    );
    let ns = [135, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        decode_ip(LinkType::IPV6, &ipv6_simple(58, &ns))
            .meta
            .src_port,
        135
    );
    assert!(matches!(
        decode(&raw(LinkType::IPV4, &ipv4_simple(1, &req[..6]))),
        Err(DecodeError::Truncated {
            layer: Layer::Icmp,
            ..
        })
    ));
}

#[test]
fn sctp_ports() {
    let s = [0x0b, 0x59, 0x0b, 0x5a, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4];
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(132, &s));
    assert_eq!(
        (
            p.meta.protocol,
            p.meta.src_port,
            p.meta.dst_port,
            p.meta.payload_len
        ),
        (IpProtocol::SCTP, 2905, 2906, 4)
    );
}

// ---------------------------------------------------------------- tunnels

fn inner_tcp_v4() -> Vec<u8> {
    ipv4_pkt(
        Ipv4Addr::new(172, 16, 0, 1),
        Ipv4Addr::new(172, 16, 0, 2),
        6,
        9,
        0,
        (1, 0, false),
        &tcp_seg(1111, 22, TcpFlags::SYN, 100, 0, b""),
    )
}

fn inner_udp_v6() -> Vec<u8> {
    ipv6_pkt(v6(0xa), v6(0xb), 17, 5, &udp_dgram(2222, 53, b"q"))
}

fn tun(kind: TunnelKind, decapsulated: bool) -> Option<Tunnel> {
    Some(Tunnel { kind, decapsulated })
}

#[test]
fn ip_in_ip_all_four() {
    for (outer_v6, inner_v6) in [(false, false), (false, true), (true, false), (true, true)] {
        let (inner, proto) = if inner_v6 {
            (inner_udp_v6(), 41)
        } else {
            (inner_tcp_v4(), 4)
        };
        let outer = if outer_v6 {
            ipv6_simple(proto, &inner)
        } else {
            ipv4_simple(proto, &inner)
        };
        let p = decode_ip(LinkType::RAW, &outer);
        assert_eq!(p.meta.tunnel, tun(TunnelKind::IpInIp, true));
        if inner_v6 {
            assert_eq!(
                (p.meta.src_addr, p.meta.dst_port),
                (IpAddr::V6(v6(0xa)), 53)
            );
        } else {
            assert_eq!((p.meta.src_port, p.meta.ttl), (1111, 9));
        }
    }
}

#[test]
fn tunnel_inner_garbage_reports_outer() {
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(4, &[0x45, 0, 0]));
    assert_eq!(p.meta.tunnel, tun(TunnelKind::IpInIp, false));
    assert_eq!(p.meta.src_addr, IpAddr::V4(V4A));
    assert_eq!(p.meta.protocol, IpProtocol(4));
}

#[test]
fn tunnel_depth_is_bounded() {
    let mut pkt = inner_tcp_v4();
    for _ in 0..10 {
        pkt = ipv4_simple(4, &pkt);
    }
    let p = decode_ip(LinkType::IPV4, &pkt);
    assert_eq!(p.meta.tunnel, tun(TunnelKind::IpInIp, false));
    assert_eq!(p.meta.protocol, IpProtocol(4));
    // Exactly MAX_TUNNEL_DEPTH levels are opened.
    let mut pkt = inner_tcp_v4();
    for _ in 0..MAX_TUNNEL_DEPTH {
        pkt = ipv4_simple(4, &pkt);
    }
    assert_eq!(decode_ip(LinkType::IPV4, &pkt).meta.src_port, 1111);
}

#[test]
fn vxlan_to_inner_ethernet() {
    let inner = eth(&[(0x8100, 77)], 0x0800, &inner_tcp_v4());
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    vx.extend(inner);
    let f = eth(
        &[(0x8100, 12)],
        0x0800,
        &ipv4_simple(17, &udp_dgram(50000, 4789, &vx)),
    );
    let p = decode_ip(LinkType::ETHERNET, &f);
    assert_eq!(p.meta.tunnel, tun(TunnelKind::Vxlan, true));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (1111, 22));
    assert_eq!(p.l2.vlan, Some(12), "outermost VLAN");
    assert_eq!(p.l2.src_mac, Some(MAC_A));
    // Not VXLAN (I flag clear): a plain UDP packet.
    vx[0] = 0;
    let f = ipv4_simple(17, &udp_dgram(50000, 4789, &vx));
    let p = decode_ip(LinkType::IPV4, &f);
    assert_eq!((p.meta.tunnel, p.meta.dst_port), (None, 4789));
}

// ---------------------------------------------------------------- CAPWAP and IEEE 802.11

const STA: [u8; 6] = [0x1c, 0xab, 0xa7, 0xf2, 0x13, 0x9d];
const BSSID: [u8; 6] = [0x58, 0x0a, 0x20, 0x69, 0x0e, 0x20];

/// An 802.11 data frame (frame control `fc` as written, i.e. already in the wire order under
/// test) from `STA` through `BSSID` to MAC_B, with an LLC/SNAP header for `ethertype`.
fn wifi_data(fc: [u8; 2], ethertype: u16, body: &[u8]) -> Vec<u8> {
    let mut b = fc.to_vec();
    b.extend_from_slice(&[0x2c, 0x00]);
    b.extend_from_slice(&BSSID);
    b.extend_from_slice(&STA);
    b.extend_from_slice(&MAC_B);
    b.extend_from_slice(&[0x50, 0x00]);
    b.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
    b.extend_from_slice(&ethertype.to_be_bytes());
    b.extend_from_slice(body);
    b
}

/// Ethernet/IPv4/UDP 12380 → 5247 around a CAPWAP header (HLEN 4 with 8 bytes of wireless
/// specific information, RID 1, WBID 1, `t` = native frame) and `frame`.
fn capwap_frame(t: bool, flags: u8, frame: &[u8]) -> Vec<u8> {
    let mut c = vec![0x00, 0x20, 0x42 | u8::from(t), flags, 0, 0, 0, 0];
    c.extend_from_slice(&[0x01, 0x04, 0xe9, 0x4b, 0, 0, 0, 0]);
    c.extend_from_slice(frame);
    eth(&[], 0x0800, &ipv4_simple(17, &udp_dgram(12380, 5247, &c)))
}

fn inner_udp_v4() -> Vec<u8> {
    ipv4_pkt(
        Ipv4Addr::new(0, 0, 0, 0),
        Ipv4Addr::new(255, 255, 255, 255),
        17,
        128,
        0,
        (1, 0, false),
        &udp_dgram(68, 67, b"dhcp"),
    )
}

#[test]
fn capwap_80211_ipv4_udp() {
    // Cisco order (flags byte first: ToDS), as in benign/tunnel_capwap.pcap.
    let f = capwap_frame(
        true,
        0x20,
        &wifi_data([0x01, 0x08], 0x0800, &inner_udp_v4()),
    );
    let p = decode_ip(LinkType::ETHERNET, &f);
    assert_eq!(
        p.meta.tunnel,
        Some(Tunnel {
            kind: TunnelKind::Capwap,
            decapsulated: true
        })
    );
    assert_eq!(
        (p.meta.src_addr, p.meta.dst_addr),
        (
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::BROADCAST)
        )
    );
    assert_eq!((p.meta.src_port, p.meta.dst_port), (68, 67));
    assert_eq!(p.meta.protocol, IpProtocol::UDP);
    assert_eq!(p.meta.ttl, 128);
    assert_eq!(p.payload, b"dhcp");
    // ToDS: SA is address 2, DA address 3.
    assert_eq!((p.l2.src_mac, p.l2.dst_mac), (Some(STA), Some(MAC_B)));

    // Standard frame-control order, QoS data with +HTC: 24 + 2 + 4 header bytes.
    let mut w = wifi_data([0x88, 0x81], 0x86dd, &inner_udp_v6());
    w.splice(24..24, [0, 0, 1, 2, 3, 4]);
    let p = decode_ip(LinkType::ETHERNET, &capwap_frame(true, 0x20, &w));
    assert_eq!(p.meta.tunnel, tun(TunnelKind::Capwap, true));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (2222, 53));
}

#[test]
fn capwap_real_frame_igmp() {
    // benign/tunnel_capwap.pcap frame 318: IGMP from a station, Cisco frame-control order.
    let f = hex(concat!(
        "24e9b347ae20b83861f305ac08004500006c006840004011a4b5c0a80a0ac0a80a09305c147f0058000000",
        "204320000000000104e94b0000000001082c00580a20690e201caba7f2139d01005e0000fb0100aaaa0300",
        "000008004600002089140000ff02bb4fa9fe5779e00000fb9404000016000904e00000fb"
    ));
    let p = decode_ip(LinkType::ETHERNET, &f);
    assert_eq!(p.meta.tunnel, tun(TunnelKind::Capwap, true));
    assert_eq!(p.meta.protocol, IpProtocol(2));
    assert_eq!(
        (p.meta.src_addr, p.meta.dst_addr),
        (
            IpAddr::V4(Ipv4Addr::new(169, 254, 87, 121)),
            IpAddr::V4(Ipv4Addr::new(224, 0, 0, 251))
        )
    );
    assert_eq!(p.l2.src_mac, Some(STA));
}

#[test]
fn capwap_8023_payload() {
    let f = capwap_frame(false, 0x20, &eth(&[], 0x0800, &inner_tcp_v4()));
    let p = decode_ip(LinkType::ETHERNET, &f);
    assert_eq!(p.meta.tunnel, tun(TunnelKind::Capwap, true));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (1111, 22));
    assert_eq!(p.l2.src_mac, Some(MAC_A));
}

/// Asserts `f` decodes to the outer CAPWAP UDP packet, marked recognised.
#[track_caller]
fn assert_outer_capwap(f: &[u8]) {
    let p = decode_ip(LinkType::ETHERNET, f);
    assert_eq!(p.meta.tunnel, tun(TunnelKind::Capwap, false));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (12380, 5247));
    assert_eq!(p.meta.src_addr, IpAddr::V4(V4A));
}

#[test]
fn capwap_undecodable_frames_keep_outer() {
    let body = inner_udp_v4();
    // Probe request (management), Cisco order as in the corpus.
    assert_outer_capwap(&capwap_frame(
        true,
        0x20,
        &wifi_data([0x00, 0x40], 0x0800, &body),
    ));
    // Control frame (ACK).
    assert_outer_capwap(&capwap_frame(
        true,
        0x20,
        &[0xd4, 0x00, 0, 0, 1, 2, 3, 4, 5, 6],
    ));
    // Null data and QoS Null.
    assert_outer_capwap(&capwap_frame(
        true,
        0x20,
        &wifi_data([0x01, 0x48], 0x0800, &body),
    ));
    assert_outer_capwap(&capwap_frame(
        true,
        0x20,
        &wifi_data([0xc8, 0x01], 0x0800, &body),
    ));
    // Protected (WEP/WPA): the body is ciphertext.
    assert_outer_capwap(&capwap_frame(
        true,
        0x20,
        &wifi_data([0x41, 0x08], 0x0800, &body),
    ));
    // QoS data whose body is an A-MSDU.
    let mut w = wifi_data([0x88, 0x01], 0x0800, &body);
    w.splice(24..24, [0x80, 0]);
    assert_outer_capwap(&capwap_frame(true, 0x20, &w));
    // Vendor SNAP (Cisco Aironet) and plain LLC.
    let mut w = wifi_data([0x02, 0x08], 0x0000, &body);
    w[27..30].copy_from_slice(&[0x00, 0x40, 0x96]);
    assert_outer_capwap(&capwap_frame(true, 0x20, &w));
    let mut w = wifi_data([0x02, 0x08], 0x0800, &body);
    w[24..27].copy_from_slice(&[0x42, 0x42, 0x03]);
    assert_outer_capwap(&capwap_frame(true, 0x20, &w));
    // Inner ARP falls back to the outer packet, as in every tunnel.
    let mut arp = hex("0001080006040001");
    arp.extend_from_slice(&STA);
    arp.extend_from_slice(&[192, 168, 10, 10, 0, 0, 0, 0, 0, 0, 192, 168, 10, 1]);
    assert_outer_capwap(&capwap_frame(
        true,
        0x20,
        &wifi_data([0x01, 0x08], 0x0806, &arp),
    ));
    // 802.11 header cut short, inner IP garbage.
    assert_outer_capwap(&capwap_frame(true, 0x20, &[0x01, 0x08, 0, 0]));
    assert_outer_capwap(&capwap_frame(
        true,
        0x20,
        &wifi_data([0x01, 0x08], 0x0800, &[0x45, 0]),
    ));
    // Keep-alive, fragment, and a binding other than 802.11.
    assert_outer_capwap(&capwap_frame(
        true,
        0x28,
        &wifi_data([0x01, 0x08], 0x0800, &body),
    ));
    assert_outer_capwap(&capwap_frame(
        true,
        0xa0,
        &wifi_data([0x01, 0x08], 0x0800, &body),
    ));
    let mut f = capwap_frame(true, 0x20, &wifi_data([0x01, 0x08], 0x0800, &body));
    f[14 + 20 + 8 + 2] = 0x46 | 1; // WBID 3 (EPCGlobal)
    assert_outer_capwap(&f);
}

#[test]
fn capwap_not_a_tunnel() {
    let w = wifi_data([0x01, 0x08], 0x0800, &inner_udp_v4());
    // Not a CAPWAP header (version 1, HLEN 0 or beyond the datagram): plain UDP.
    for (at, v) in [(0usize, 0x10u8), (1, 0x00), (1, 0xf8)] {
        let mut f = capwap_frame(true, 0x20, &w);
        f[14 + 20 + 8 + at] = v;
        let p = decode_ip(LinkType::ETHERNET, &f);
        assert_eq!((p.meta.tunnel, p.meta.dst_port), (None, 5247));
    }
    // DTLS-protected data channel: recognised, opaque.
    let mut f = capwap_frame(true, 0x20, &w);
    f[14 + 20 + 8] = 0x01;
    assert_outer_capwap(&f);
    // The control channel is never decapsulated.
    let mut c = vec![
        0x00, 0x20, 0x43, 0x20, 0, 0, 0, 0, 1, 4, 0xe9, 0x4b, 0, 0, 0, 0,
    ];
    c.extend(w);
    let p = decode_ip(
        LinkType::IPV4,
        &ipv4_simple(17, &udp_dgram(12380, 5246, &c)),
    );
    assert_eq!((p.meta.tunnel, p.meta.dst_port), (None, 5246));
}

#[test]
fn capwap_nested_depth_is_bounded() {
    // CAPWAP (802.3) inside CAPWAP … deeper than MAX_TUNNEL_DEPTH stops at the bound.
    let mut f = eth(&[], 0x0800, &inner_tcp_v4());
    for _ in 0..=MAX_TUNNEL_DEPTH {
        f = capwap_frame(false, 0, &f);
    }
    let p = decode_ip(LinkType::ETHERNET, &f);
    assert_eq!(p.meta.tunnel, tun(TunnelKind::Capwap, false));
    assert_eq!(p.meta.dst_port, 5247);
}

#[test]
fn ieee80211_link_types() {
    let w = wifi_data([0x08, 0x02], 0x0800, &inner_tcp_v4());
    let p = decode_ip(LinkType::IEEE802_11, &w);
    assert_eq!((p.meta.src_port, p.meta.tunnel), (1111, None));
    // FromDS: DA is address 1, SA address 3.
    assert_eq!((p.l2.src_mac, p.l2.dst_mac), (Some(MAC_B), Some(BSSID)));
    let mut r = vec![
        0x00, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02, 0, 0, 0,
    ];
    r.extend_from_slice(&w);
    let p = decode_ip(LinkType::IEEE802_11_RADIOTAP, &r);
    assert_eq!((p.meta.src_port, p.meta.dst_port), (1111, 22));

    // Management frame: well-formed, not IP.
    let mgmt = [0x40, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(
        decode(&raw(LinkType::IEEE802_11, &mgmt)),
        Ok(Decoded::Other { ethertype: 0 })
    );
    // Broken headers are errors at the link layer.
    for (lt, bad) in [
        (LinkType::IEEE802_11, &w[..1]),
        (LinkType::IEEE802_11, &w[..20]),
        (LinkType::IEEE802_11_RADIOTAP, &r[..10]),
    ] {
        assert!(matches!(
            decode(&raw(lt, bad)),
            Err(DecodeError::Truncated {
                layer: Layer::Link,
                ..
            })
        ));
    }
    assert!(LinkType::IEEE802_11.is_supported() && LinkType::IEEE802_11_RADIOTAP.is_supported());
}

#[test]
fn gre_variants() {
    let mut g = vec![0x20, 0, 0x86, 0xdd, 0, 0, 0, 5]; // key present
    g.extend(inner_udp_v6());
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(47, &g));
    assert_eq!(p.meta.tunnel, tun(TunnelKind::Gre, true));
    assert_eq!(p.meta.dst_port, 53);

    let mut teb = vec![0, 0, 0x65, 0x58];
    teb.extend(eth(&[], 0x0800, &inner_tcp_v4()));
    let p = decode_ip(LinkType::IPV6, &ipv6_simple(47, &teb));
    assert_eq!(
        (p.meta.tunnel, p.meta.src_port),
        (tun(TunnelKind::Gre, true), 1111)
    );

    let pptp = [
        0x30, 0x01, 0x88, 0x0b, 0, 4, 0, 1, 0, 0, 0, 1, 0xff, 0x03, 0, 0x21,
    ];
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(47, &pptp));
    assert_eq!(
        (p.meta.tunnel, p.meta.protocol),
        (tun(TunnelKind::Gre, false), IpProtocol::GRE)
    );

    let p = decode_ip(LinkType::IPV4, &ipv4_simple(47, &[0x40, 0, 8, 0]));
    assert_eq!(p.meta.tunnel, None);
}

#[test]
fn geneve_gtpu_teredo() {
    let mut gen = vec![0, 0, 0x08, 0x00, 0, 0, 1, 0];
    gen.extend(inner_tcp_v4());
    let p = decode_ip(LinkType::IPV4, &ipv4_simple(17, &udp_dgram(1, 6081, &gen)));
    assert_eq!(
        (p.meta.tunnel, p.meta.src_port),
        (tun(TunnelKind::Geneve, true), 1111)
    );

    let inner = inner_udp_v6();
    let mut gtp = vec![0x30, 0xff, 0, inner.len() as u8, 0, 0, 0, 1];
    gtp.extend_from_slice(&inner);
    let p = decode_ip(
        LinkType::IPV4,
        &ipv4_simple(17, &udp_dgram(2152, 2152, &gtp)),
    );
    assert_eq!(
        (p.meta.tunnel, p.meta.dst_port),
        (tun(TunnelKind::GtpU, true), 53)
    );
    let echo = [0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0];
    let p = decode_ip(
        LinkType::IPV4,
        &ipv4_simple(17, &udp_dgram(2152, 2152, &echo)),
    );
    assert_eq!(
        (p.meta.tunnel, p.meta.dst_port),
        (tun(TunnelKind::GtpU, false), 2152)
    );

    // Teredo: the IPv6 packet inside is decoded, after an origin indication too.
    let p = decode_ip(
        LinkType::IPV4,
        &ipv4_simple(17, &udp_dgram(3544, 40000, &inner)),
    );
    assert_eq!(
        (p.meta.tunnel, p.meta.dst_port),
        (tun(TunnelKind::Teredo, true), 53)
    );
    let mut origin = vec![0, 0, 1, 2, 3, 4, 5, 6];
    origin.extend_from_slice(&inner);
    let p = decode_ip(
        LinkType::IPV4,
        &ipv4_simple(17, &udp_dgram(40000, 3544, &origin)),
    );
    assert_eq!(
        (p.meta.tunnel, p.meta.dst_port),
        (tun(TunnelKind::Teredo, true), 53)
    );
    // Qualification (an authentication indication) and other bytes: only recognised.
    let mut auth = vec![0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    auth.extend_from_slice(&inner);
    for payload in [&auth[..], &inner[..inner.len() - 1]] {
        let p = decode_ip(
            LinkType::IPV4,
            &ipv4_simple(17, &udp_dgram(3544, 40000, payload)),
        );
        assert_eq!(
            (p.meta.tunnel, p.meta.src_port),
            (tun(TunnelKind::Teredo, false), 3544)
        );
    }
}

#[test]
fn fragmented_tunnel_is_not_opened() {
    let pkt = ipv4_pkt(V4A, V4B, 4, 64, 0, (3, 0, true), &inner_tcp_v4());
    let p = decode_ip(LinkType::IPV4, &pkt);
    assert_eq!(p.meta.tunnel, tun(TunnelKind::IpInIp, false));
}

// ---------------------------------------------------------------- never panic

fn sample_frames() -> Vec<(LinkType, Vec<u8>)> {
    let mut vx = vec![0x08, 0, 0, 0, 0, 0, 1, 0];
    vx.extend(eth(&[], 0x86dd, &inner_udp_v6()));
    let mut ext = vec![
        60, 0, 1, 4, 0, 0, 0, 0, 44, 0, 1, 4, 0, 0, 0, 0, 6, 0, 0, 1, 0, 0, 0, 9,
    ];
    ext.extend(tcp_seg(1, 2, 0x12, 3, 8, b"data"));
    vec![
        (LinkType::ETHERNET, hex("c4618b3582a9c62c03606a6408004500004c332e00003506182b5f651835c0a8021101bbc5f54d9dde2a6e19ca8380180145cd0e00000101080a6c7e5e2811e19928170303001330c590345db93ab9c9c6d8e14d658006f11d72")),
        (LinkType::ETHERNET, hex("001b2ff07eb440f308c38ee108004500003c4f2a400040061182c0a80067adfc6b04dc3e01bb1e84a5a200000000a0023908da3e0000020405b40402080a0003ea880000000001030306")),
        (LinkType::ETHERNET, eth(&[(0x88a8, 1), (0x8100, 2)], 0x0800, &ipv4_simple(17, &udp_dgram(1, 4789, &vx)))),
        (LinkType::RAW, ipv6_simple(0, &ext)),
        (LinkType::IPV4, ipv4_simple(47, &[&[0x20u8, 0, 0x08, 0x00, 0, 0, 0, 1][..], &inner_tcp_v4()].concat())),
        (LinkType::NULL, [&[30u8, 0, 0, 0][..], &ipv6_simple(41, &inner_tcp_v4())].concat()),
    ]
}

#[test]
fn every_truncated_prefix_errors_or_decodes_without_panic() {
    for (lt, f) in sample_frames() {
        assert!(
            matches!(decode(&raw(lt, &f)), Ok(Decoded::Ip(_))),
            "{lt}: {f:02x?}"
        );
        for n in 0..f.len() {
            // orig_len == caplen: any outcome but a panic; an IP result never claims more
            // captured payload than its header length allows.
            if let Ok(Decoded::Ip(p)) = decode(&raw(lt, &f[..n])) {
                assert!(
                    p.payload.len() <= p.meta.payload_len as usize,
                    "{lt} prefix {n}"
                );
            }
            // With a snap cut: anything but a panic, and lengths still from the headers.
            if let Ok(Decoded::Ip(p)) = decode(&snapped(lt, &f, n)) {
                assert!(p.payload.len() <= p.meta.payload_len as usize);
            }
        }
    }
}

#[test]
fn every_link_type_survives_junk() {
    let lts = [
        LinkType::ETHERNET,
        LinkType::RAW,
        LinkType::IPV4,
        LinkType::IPV6,
        LinkType::LINUX_SLL,
        LinkType::LINUX_SLL2,
        LinkType::NULL,
        LinkType::LOOP,
    ];
    let mut x: u32 = 12345;
    for _ in 0..20_000 {
        let mut buf = [0u8; 96];
        for b in &mut buf {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        let lt = lts[(x as usize >> 8) % lts.len()];
        let n = (x as usize >> 16) % buf.len();
        let _ = decode(&raw(lt, &buf[..n]));
        let _ = decode(&snapped(lt, &buf, n));
    }
}

// ---------------------------------------------------------------- proptest round trip

#[derive(Debug, Clone)]
struct Spec {
    v6: bool,
    src: [u8; 16],
    dst: [u8; 16],
    tcp: bool,
    sport: u16,
    dport: u16,
    flags: u8,
    window: u16,
    payload_len: usize,
    ttl: u8,
    vlan: Option<u16>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<bool>(),
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
        any::<u16>(),
        0usize..1400,
        any::<u8>(),
        proptest::option::of(0u16..4096),
    )
        .prop_map(
            |(v6, src, dst, tcp, sport, dport, flags, window, payload_len, ttl, vlan)| Spec {
                v6,
                src,
                dst,
                tcp,
                sport,
                dport,
                flags,
                window,
                payload_len,
                ttl,
                vlan,
            },
        )
}

proptest! {
    #[test]
    fn round_trip(s in spec(), tunnel_ports in any::<bool>()) {
        // Avoid ports that mean tunnels for UDP unless tested elsewhere.
        let dport = if !s.tcp && tunnel_ports && [4789, 6081, 2152, 3544, 5247].contains(&s.dport) { 9 } else { s.dport };
        let sport = if !s.tcp && [2152, 3544, 5247].contains(&s.sport) { 9 } else { s.sport };
        let dport = if !s.tcp && [4789, 6081, 2152, 3544, 5247].contains(&dport) { 9 } else { dport };
        let payload = vec![0x5a; s.payload_len];
        let l4 = if s.tcp { tcp_seg(sport, dport, s.flags, s.window, 0, &payload) } else { udp_dgram(sport, dport, &payload) };
        let proto = if s.tcp { 6 } else { 17 };
        let (ip_bytes, src, dst) = if s.v6 {
            let (a, b) = (Ipv6Addr::from(s.src), Ipv6Addr::from(s.dst));
            (ipv6_pkt(a, b, proto, s.ttl, &l4), IpAddr::V6(a), IpAddr::V6(b))
        } else {
            let a = Ipv4Addr::new(s.src[0], s.src[1], s.src[2], s.src[3]);
            let b = Ipv4Addr::new(s.dst[0], s.dst[1], s.dst[2], s.dst[3]);
            (ipv4_pkt(a, b, proto, s.ttl, 0, (0, 0, false), &l4), IpAddr::V4(a), IpAddr::V4(b))
        };
        let tags: Vec<(u16, u16)> = s.vlan.map(|v| vec![(0x8100, v)]).unwrap_or_default();
        let f = eth(&tags, if s.v6 { 0x86dd } else { 0x0800 }, &ip_bytes);
        let p = ip(decode(&raw(LinkType::ETHERNET, &f)));
        let m = p.meta;
        prop_assert_eq!((m.src_addr, m.dst_addr), (src, dst));
        prop_assert_eq!((m.src_port, m.dst_port), (sport, dport));
        prop_assert_eq!(m.protocol, IpProtocol(proto));
        prop_assert_eq!(m.tcp_flags, TcpFlags(if s.tcp { s.flags } else { 0 }));
        prop_assert_eq!(m.tcp_window, if s.tcp { s.window } else { 0 });
        prop_assert_eq!(m.payload_len as usize, s.payload_len);
        prop_assert_eq!(m.ip_len as usize, ip_bytes.len());
        prop_assert_eq!(m.ttl, s.ttl);
        prop_assert_eq!(p.l2.vlan, s.vlan);
        prop_assert_eq!(p.payload, &payload[..]);
        prop_assert_eq!(m.tunnel, None);
        prop_assert_eq!(m.fragment, None);

        // Any snap cut after the transport header keeps every field but the captured payload.
        let hdrs = f.len() - s.payload_len;
        let cut = ip(decode(&snapped(LinkType::ETHERNET, &f, hdrs + s.payload_len / 2)));
        prop_assert_eq!(cut.meta, m);
        prop_assert_eq!(cut.payload.len(), s.payload_len / 2);
    }
}

#[test]
fn ip_and_transport_headers_are_kept_as_captured() {
    let headers = |data: &[u8], link: LinkType| {
        let p = ip(decode(&raw(link, data)));
        (
            p.ip_header.to_vec(),
            p.transport_header.to_vec(),
            p.payload.to_vec(),
        )
    };
    // IPv4 with 4 bytes of options, TCP with 8 of options.
    let pkt = ipv4_pkt(
        V4A,
        V4B,
        6,
        64,
        4,
        (7, 0, false),
        &tcp_seg(1, 2, 0x18, 9, 8, b"hi"),
    );
    let (iph, th, pay) = headers(&pkt, LinkType::IPV4);
    assert_eq!(
        (iph.as_slice(), th.len(), pay.as_slice()),
        (&pkt[..24], 28, &b"hi"[..])
    );
    assert_eq!(&th[..4], &[0, 1, 0, 2]);
    // IPv6 with a hop-by-hop header, then UDP: the IP header covers the chain.
    let mut rest = vec![17, 0, 1, 4, 0, 0, 0, 0];
    rest.extend(udp_dgram(53, 53, b"q"));
    let pkt = ipv6_simple(0, &rest);
    let (iph, th, _) = headers(&pkt, LinkType::IPV6);
    assert_eq!((iph.len(), th.as_slice()), (48, &pkt[48..56]));
    // ICMP router advertisement: 2 entries of 2 words follow the 8-byte header.
    let mut advert = vec![9, 0, 0, 0, 2, 2, 0, 30];
    advert.extend_from_slice(&[10; 16]);
    advert.extend_from_slice(b"tail");
    let (_, th, _) = headers(&ipv4_simple(1, &advert), LinkType::IPV4);
    assert_eq!(th.len(), 24);
    // A non-first fragment has no transport header.
    let frag = ipv4_pkt(V4A, V4B, 17, 64, 0, (7, 2, false), &[0; 16]);
    let (iph, th, _) = headers(&frag, LinkType::IPV4);
    assert_eq!((iph.len(), th.len()), (20, 0));
    // A tunnel's inner packet carries the inner headers.
    let (iph, th, _) = headers(&ipv4_simple(4, &inner_tcp_v4()), LinkType::RAW);
    assert_eq!((iph.as_slice(), th.len()), (&inner_tcp_v4()[..20], 20));
}

#[test]
fn nsh_carries_ipv4_ipv6_and_ethernet() {
    let nsh = |next: u8, inner: &[u8]| {
        // MD type 2 without metadata: 2 words.
        let mut b = vec![0x0f, 0xc2, 0x02, next, 0, 0, 1, 255];
        b.extend_from_slice(inner);
        b
    };
    let v4 = ipv4_simple(17, &udp_dgram(1, 2, b"x"));
    let p = decode_ip(LinkType::ETHERNET, &eth(&[], 0x894f, &nsh(1, &v4)));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (1, 2));
    let v6 = ipv6_simple(17, &udp_dgram(3, 4, b"y"));
    let p = decode_ip(LinkType::ETHERNET, &eth(&[], 0x894f, &nsh(2, &v6)));
    assert_eq!(p.meta.src_port, 3);
    let inner = eth(&[], 0x0800, &v4);
    let p = decode_ip(LinkType::ETHERNET, &eth(&[], 0x894f, &nsh(3, &inner)));
    assert_eq!(p.meta.dst_port, 2);
    // An unknown next protocol is not IP; a cut header is an error.
    assert!(matches!(
        decode(&raw(LinkType::ETHERNET, &eth(&[], 0x894f, &nsh(9, &v4)))),
        Ok(Decoded::Other { .. })
    ));
    assert!(decode(&raw(LinkType::ETHERNET, &eth(&[], 0x894f, &[0, 0xc2]))).is_err());
}
