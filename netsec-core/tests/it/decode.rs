//! The decoder over the real-capture corpus: never panics, and agrees with tcpdump's decodes on
//! the odd link types (null, SLL, SLL2, raw IP).
//!
//! Frames come from the capture reader (pcap and pcapng alike).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netsec_core::capture::{LinkType, PacketSource, PcapReader, RawPacket};
use netsec_core::decode::{decode, Decoded, IpProtocol, TcpFlags};

use crate::util;

/// One frame, owned: captured bytes and the original length.
type Frame = (LinkType, Vec<u8>, u32);

/// Every frame the reader yields before the end or the first capture error.
fn frames(path: &std::path::Path) -> Vec<Frame> {
    let Ok(mut reader) = PcapReader::open(path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Ok(Some(p)) = reader.next_packet() {
        out.push((p.link_type, p.data.to_vec(), p.orig_len));
    }
    out
}

fn packet(frame: &Frame) -> RawPacket<'_> {
    RawPacket {
        ts: netsec_core::time::Timestamp::from_micros(0),
        link_type: frame.0,
        data: &frame.1,
        orig_len: frame.2,
    }
}

fn load(rel: &str) -> Option<Vec<Frame>> {
    Some(frames(&util::pcap(rel)?))
}

#[test]
fn whole_corpus_decodes_without_panic() {
    let Some(rows) = util::manifest() else {
        return;
    };
    let dir = util::pcaps_dir_or_skip("whole_corpus").expect("checked by manifest()");
    let (mut files, mut ip, mut errors, mut other) = (0, 0u64, 0u64, 0u64);
    let mut by_error = std::collections::BTreeMap::<String, u64>::new();
    for row in &rows {
        let path = dir.join(&row.path);
        files += 1;
        for frame in frames(&path) {
            match decode(&packet(&frame)) {
                Ok(Decoded::Ip(p)) => {
                    ip += 1;
                    assert!(
                        p.payload.len() <= p.meta.payload_len as usize,
                        "{}",
                        path.display()
                    );
                }
                Ok(_) => other += 1,
                Err(e) => {
                    errors += 1;
                    *by_error.entry(format!("{e}")).or_default() += 1;
                }
            }
        }
    }
    eprintln!("{files} captures: {ip} IP, {other} other, {errors} errors");
    for (e, n) in &by_error {
        eprintln!("  {n:6} {e}");
    }
    assert!(ip > errors, "most corpus packets should decode as IP");
}

#[test]
fn null_loopback_quic_matches_tcpdump() {
    // tcpdump: "IP6 (… next-header UDP (17), payload length 1208) ::1.50606 > ::1.443"
    let Some(recs) = load("malformed/linktype_null_quic.pcap") else {
        return;
    };
    assert_eq!(recs[0].0, LinkType::NULL);
    let Ok(Decoded::Ip(p)) = decode(&packet(&recs[0])) else {
        panic!("first packet should decode");
    };
    assert_eq!(p.meta.src_addr, IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (50606, 443));
    assert_eq!(p.meta.protocol, IpProtocol::UDP);
    assert_eq!(
        (p.meta.payload_len, p.meta.ip_len, p.meta.ttl),
        (1200, 1248, 64)
    );
}

#[test]
fn linux_sll_mptcp_matches_tcpdump() {
    // tcpdump: "IP 10.0.1.1.33306 > 10.0.2.1.10004: Flags [S], … win 65535"
    let Some(recs) = load("malformed/linktype_mptcp_sll.pcap") else {
        return;
    };
    assert_eq!(recs[0].0, LinkType::LINUX_SLL);
    let Ok(Decoded::Ip(p)) = decode(&packet(&recs[0])) else {
        panic!("first packet should decode");
    };
    assert_eq!(p.meta.src_addr, IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)));
    assert_eq!(p.meta.dst_addr, IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1)));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (33306, 10004));
    assert_eq!(p.meta.tcp_flags, TcpFlags(TcpFlags::SYN));
    assert_eq!(p.meta.tcp_window, 65535);
    for frame in &recs {
        assert!(matches!(decode(&packet(frame)), Ok(Decoded::Ip(_))));
    }
}

#[test]
fn linux_sll2_all_packets_decode() {
    let Some(recs) = load("benign/linux_sll2.pcap") else {
        return;
    };
    assert!(!recs.is_empty());
    for frame in &recs {
        assert_eq!(frame.0, LinkType::LINUX_SLL2);
        assert!(decode(&packet(frame)).is_ok());
    }
}
