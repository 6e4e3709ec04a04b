//! The decoder over the real-capture corpus: never panics, and agrees with tcpdump's decodes on
//! the odd link types (null, SLL, SLL2, raw IP).
//!
//! Uses a tiny classic-pcap walker of its own so these tests do not depend on the capture
//! module; pcapng files are skipped here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netsec_core::capture::{LinkType, RawPacket};
use netsec_core::decode::{decode, Decoded, IpProtocol, TcpFlags};
use netsec_core::time::Timestamp;

use crate::util;

/// One record: captured bytes and the original length.
type Record<'a> = (&'a [u8], u32);

/// Every record of a classic pcap file as (link type, data, orig_len); `None` for pcapng or
/// an unreadable header. Stops quietly at a truncated record.
fn records(bytes: &[u8]) -> Option<(LinkType, Vec<Record<'_>>)> {
    let magic = bytes.get(..4)?;
    let le = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return None,
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let link = LinkType((u32_at(20)? & 0xffff) as u16);
    let mut out = Vec::new();
    let mut off = 24;
    while let (Some(incl), Some(orig)) = (u32_at(off + 8), u32_at(off + 12)) {
        let start = off + 16;
        let Some(data) = bytes.get(start..start + incl as usize) else {
            break;
        };
        out.push((data, orig));
        off = start + incl as usize;
    }
    Some((link, out))
}

fn packet(link_type: LinkType, data: &[u8], orig_len: u32) -> RawPacket<'_> {
    RawPacket {
        ts: Timestamp::from_micros(0),
        link_type,
        data,
        orig_len,
    }
}

fn load(rel: &str) -> Option<Vec<u8>> {
    let p = util::pcap(rel)?;
    Some(std::fs::read(p).expect("read corpus file"))
}

#[test]
fn whole_corpus_decodes_without_panic() {
    let Some(dir) = util::pcaps_dir_or_skip("whole_corpus_decodes_without_panic") else {
        return;
    };
    let (mut files, mut ip, mut errors, mut other) = (0, 0u64, 0u64, 0u64);
    let mut by_error = std::collections::BTreeMap::<String, u64>::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let Some((lt, recs)) = records(&bytes) else {
                continue;
            };
            files += 1;
            for (data, orig) in recs {
                match decode(&packet(lt, data, orig)) {
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
    }
    eprintln!("{files} classic pcaps: {ip} IP, {other} other, {errors} errors");
    for (e, n) in &by_error {
        eprintln!("  {n:6} {e}");
    }
    assert!(ip > errors, "most corpus packets should decode as IP");
}

#[test]
fn null_loopback_quic_matches_tcpdump() {
    // tcpdump: "IP6 (… next-header UDP (17), payload length 1208) ::1.50606 > ::1.443"
    let Some(bytes) = load("malformed/linktype_null_quic.pcap") else {
        return;
    };
    let (lt, recs) = records(&bytes).expect("classic pcap");
    assert_eq!(lt, LinkType::NULL);
    let (data, orig) = recs[0];
    let Ok(Decoded::Ip(p)) = decode(&packet(lt, data, orig)) else {
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
    let Some(bytes) = load("malformed/linktype_mptcp_sll.pcap") else {
        return;
    };
    let (lt, recs) = records(&bytes).expect("classic pcap");
    assert_eq!(lt, LinkType::LINUX_SLL);
    let (data, orig) = recs[0];
    let Ok(Decoded::Ip(p)) = decode(&packet(lt, data, orig)) else {
        panic!("first packet should decode");
    };
    assert_eq!(p.meta.src_addr, IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)));
    assert_eq!(p.meta.dst_addr, IpAddr::V4(Ipv4Addr::new(10, 0, 2, 1)));
    assert_eq!((p.meta.src_port, p.meta.dst_port), (33306, 10004));
    assert_eq!(p.meta.tcp_flags, TcpFlags(TcpFlags::SYN));
    assert_eq!(p.meta.tcp_window, 65535);
    for (data, orig) in recs {
        assert!(matches!(
            decode(&packet(lt, data, orig)),
            Ok(Decoded::Ip(_))
        ));
    }
}

#[test]
fn linux_sll2_all_packets_decode() {
    let Some(bytes) = load("benign/linux_sll2.pcap") else {
        return;
    };
    let (lt, recs) = records(&bytes).expect("classic pcap");
    assert_eq!(lt, LinkType::LINUX_SLL2);
    assert!(!recs.is_empty());
    for (data, orig) in recs {
        assert!(decode(&packet(lt, data, orig)).is_ok());
    }
}
