//! Builders for synthetic [`PacketMeta`] values, for tests, benches and doctests.
//!
//! These build decoded packet summaries directly (no frame bytes), with plausible IP lengths and
//! a TTL of 64, so flow tests read as a list of packets:
//!
//! ```
//! use netsec_core::decode::TcpFlags;
//! use netsec_core::flow::{FlowTable, FlowTableConfig};
//! use netsec_core::synth;
//!
//! let mut table = FlowTable::new(FlowTableConfig::default())?;
//! let mut out = Vec::new();
//! let c = [10, 0, 0, 1];
//! let s = [10, 0, 0, 2];
//! table.process(&synth::tcp(0, c, 40000, s, 80, TcpFlags::SYN, 0, 64240), &mut out);
//! table.process(&synth::tcp(10, s, 80, c, 40000, TcpFlags::SYN | TcpFlags::ACK, 0, 65535), &mut out);
//! table.flush(&mut out);
//! assert_eq!(out.len(), 1);
//! assert_eq!(out[0].packets(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;

use crate::decode::{DecodeEvents, Fragment, IpProtocol, PacketMeta, TcpFlags};
use crate::time::Timestamp;

fn ip_header_len(addr: IpAddr) -> u32 {
    if addr.is_ipv4() {
        20
    } else {
        40
    }
}

fn base(
    ts_us: i64,
    (src, src_port): (IpAddr, u16),
    (dst, dst_port): (IpAddr, u16),
    protocol: IpProtocol,
    transport_header: u32,
    payload_len: u32,
) -> PacketMeta {
    PacketMeta {
        ts: Timestamp::from_micros(ts_us),
        src_addr: src,
        dst_addr: dst,
        src_port,
        dst_port,
        protocol,
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: TcpFlags::default(),
        tcp_window: 0,
        tcp_seq: 0,
        tcp_ack: 0,
        tcp_urgent: 0,
        payload_len,
        ip_len: ip_header_len(src)
            .saturating_add(transport_header)
            .saturating_add(payload_len),
        ttl: 64,
        fragment: None,
        tunnel: None,
        events: DecodeEvents::NONE,
    }
}

/// A TCP segment at `ts_us` µs with the given flags (`TcpFlags::SYN | TcpFlags::ACK` …),
/// payload bytes and raw window field.
#[allow(clippy::too_many_arguments)]
pub fn tcp(
    ts_us: i64,
    src: impl Into<IpAddr>,
    src_port: u16,
    dst: impl Into<IpAddr>,
    dst_port: u16,
    flags: u8,
    payload_len: u32,
    window: u16,
) -> PacketMeta {
    let mut m = base(
        ts_us,
        (src.into(), src_port),
        (dst.into(), dst_port),
        IpProtocol::TCP,
        20,
        payload_len,
    );
    m.tcp_flags = TcpFlags(flags);
    m.tcp_window = window;
    // Each endpoint keeps one sequence number and acknowledges its peer's + 1, so a
    // SYN, SYN+ACK, ACK built here is a valid handshake.
    m.tcp_seq = isn(m.src_addr, src_port);
    if m.tcp_flags.ack() {
        m.tcp_ack = isn(m.dst_addr, dst_port).wrapping_add(1);
    }
    m
}

/// A fixed initial sequence number per endpoint (FNV-1a of address and port).
fn isn(addr: IpAddr, port: u16) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    let bytes = match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    for b in bytes.iter().chain(port.to_be_bytes().iter()) {
        h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// A UDP datagram at `ts_us` µs with `payload_len` payload bytes.
pub fn udp(
    ts_us: i64,
    src: impl Into<IpAddr>,
    src_port: u16,
    dst: impl Into<IpAddr>,
    dst_port: u16,
    payload_len: u32,
) -> PacketMeta {
    base(
        ts_us,
        (src.into(), src_port),
        (dst.into(), dst_port),
        IpProtocol::UDP,
        8,
        payload_len,
    )
}

/// An ICMP (IPv4) or ICMPv6 echo request (type 8 / 128): both ports hold the identifier, as the
/// decoder does, so request and reply share a flow. Set `icmp_type` to 0 / 129 for a reply.
pub fn icmp_echo(
    ts_us: i64,
    src: impl Into<IpAddr>,
    dst: impl Into<IpAddr>,
    identifier: u16,
    payload_len: u32,
) -> PacketMeta {
    let src = src.into();
    let protocol = if src.is_ipv4() {
        IpProtocol::ICMP
    } else {
        IpProtocol::ICMPV6
    };
    let mut m = base(
        ts_us,
        (src, identifier),
        (dst.into(), identifier),
        protocol,
        8,
        payload_len,
    );
    m.icmp_type = if src.is_ipv4() { 8 } else { 128 };
    m
}

/// A non-echo ICMP (IPv4) or ICMPv6 message of type `icmp_type` and code `icmp_code`; the ports
/// hold type and code, as the decoder does.
pub fn icmp(
    ts_us: i64,
    src: impl Into<IpAddr>,
    dst: impl Into<IpAddr>,
    icmp_type: u8,
    icmp_code: u8,
    payload_len: u32,
) -> PacketMeta {
    let src = src.into();
    let protocol = if src.is_ipv4() {
        IpProtocol::ICMP
    } else {
        IpProtocol::ICMPV6
    };
    let mut m = base(
        ts_us,
        (src, u16::from(icmp_type)),
        (dst.into(), u16::from(icmp_code)),
        protocol,
        8,
        payload_len,
    );
    m.icmp_type = icmp_type;
    m.icmp_code = icmp_code;
    m
}

/// Marks `meta` as an IP fragment. For a non-first fragment (`offset > 0`) this also clears
/// what the decoder cannot know (ports, TCP flags and window), as the decoder does.
pub fn fragment(mut meta: PacketMeta, id: u32, offset: u16, more: bool) -> PacketMeta {
    let len = meta.ip_len.saturating_sub(ip_header_len(meta.src_addr));
    meta.fragment = Some(Fragment {
        id,
        offset,
        more,
        len,
    });
    if offset != 0 {
        meta.src_port = 0;
        meta.dst_port = 0;
        meta.tcp_flags = TcpFlags::default();
        meta.tcp_window = 0;
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_fill_fields() {
        let t = tcp(5, [1, 2, 3, 4], 1, [5, 6, 7, 8], 2, TcpFlags::SYN, 10, 99);
        assert_eq!(t.ts.as_micros(), 5);
        assert!(t.tcp_flags.syn());
        assert_eq!((t.payload_len, t.ip_len, t.tcp_window), (10, 50, 99));
        let e = icmp_echo(0, [1, 1, 1, 1], [2, 2, 2, 2], 7, 56);
        assert_eq!(
            (e.src_port, e.dst_port, e.protocol, e.icmp_type),
            (7, 7, IpProtocol::ICMP, 8)
        );
        let u = icmp(0, [1, 1, 1, 1], [2, 2, 2, 2], 3, 1, 28);
        assert_eq!(
            (u.src_port, u.dst_port, u.icmp_type, u.icmp_code),
            (3, 1, 3, 1)
        );
        let f = fragment(
            udp(0, [1, 1, 1, 1], 53, [2, 2, 2, 2], 53, 100),
            9,
            185,
            false,
        );
        assert_eq!(f.src_port, 0);
        assert!(!f.fragment.expect("set above").is_first());
    }
}
