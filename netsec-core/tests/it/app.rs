//! The DNS and DHCP parsers against tshark on real captures.
//!
//! Expected values are the golden files `tests/golden/{dns,dhcp}_<capture>.tsv`, made by
//! `tests/golden/make_dns_dhcp.sh` (tshark 4.0.17). Every frame tshark dissects must give the
//! same values here, except the frames tshark decoded from data a single-packet parser never
//! sees, which are counted per reason:
//! - IP fragments tshark reassembled (the DNS row sits on the last fragment);
//! - TCP segments tshark reassembled (a message spanning segments);
//! - DNS quoted inside an ICMP/ICMPv6 error;
//! - DNS over QUIC, which tshark decrypts with the keys stored in the pcapng;
//! - messages the parser rejects on purpose (see [`SNAPPED`] and [`TOO_LONG`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use netsec_core::app::dhcp::DhcpMessage;
use netsec_core::app::dns::{DnsMessage, Name, RData};
use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::decode::{decode, Decoded, IpPacket, IpProtocol};

use crate::util;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Golden files with a given prefix, as (capture path relative to pcaps, rows by frame).
fn golden(prefix: &str) -> Vec<(String, Vec<BTreeMap<String, String>>)> {
    let mut out = Vec::new();
    let script = std::fs::read_to_string(golden_dir().join("make_dns_dhcp.sh")).expect("script");
    let mut entries: Vec<_> = std::fs::read_dir(golden_dir())
        .expect("golden dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".tsv"))
        .collect();
    entries.sort();
    for name in entries {
        let stem = &name[prefix.len()..name.len() - 4];
        // The capture path as the script names it.
        let capture = script
            .split_whitespace()
            .find(|w| {
                w.rsplit('/')
                    .next()
                    .is_some_and(|f| f.split('.').next() == Some(stem))
            })
            .unwrap_or_else(|| panic!("{name}: capture not listed in make_dns_dhcp.sh"))
            .to_string();
        let text = std::fs::read_to_string(golden_dir().join(&name)).expect("read golden");
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
        let rows = lines
            .map(|l| {
                header
                    .iter()
                    .zip(l.split('\t').chain(std::iter::repeat("")))
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect();
        out.push((capture, rows));
    }
    assert!(!out.is_empty(), "no {prefix}*.tsv golden files");
    out
}

/// Calls `f` with each decoded IP packet, its 1-based frame number and whether the snap length
/// cut the frame.
fn for_each_ip(path: &Path, mut f: impl FnMut(u64, &IpPacket<'_>, bool)) {
    let mut reader = PcapReader::open(path).expect("open capture");
    let mut frame = 0u64;
    while let Ok(Some(pkt)) = reader.next_packet() {
        frame += 1;
        let snapped = pkt.orig_len as usize > pkt.data.len();
        if let Ok(Decoded::Ip(ip)) = decode(&pkt) {
            f(frame, &ip, snapped);
        }
    }
}

/// A name as tshark 4.0 prints it: labels read as UTF-8 with invalid sequences replaced by
/// U+FFFD, the root as `<Root>`.
fn tshark_name(name: &Name<'_>) -> String {
    let mut s = String::new();
    for (i, label) in name.labels().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(&String::from_utf8_lossy(label));
    }
    if s.is_empty() {
        s.push_str("<Root>");
    }
    s
}

/// `s` with each run of U+FFFD replaced by one: tshark 4.0 and Rust repair invalid UTF-8 with
/// different policies (one replacement per bad byte or per maximal bad subsequence), so binary
/// labels (iodine) are compared up to the length of their runs of undecodable bytes.
fn collapse_replacements(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c == '\u{fffd}' && out.ends_with('\u{fffd}')) {
            out.push(c);
        }
    }
    out
}

/// The golden columns for every DNS message in `ip`'s payload, `None` when none parses.
fn dns_columns(ip: &IpPacket<'_>) -> Option<BTreeMap<&'static str, String>> {
    let mut messages = Vec::new();
    if ip.meta.protocol == IpProtocol::TCP {
        let mut rest = ip.payload;
        while let Ok((m, r)) = DnsMessage::parse_tcp(rest) {
            messages.push(m);
            if r.is_empty() {
                break;
            }
            rest = r;
        }
    } else if ip.meta.protocol == IpProtocol::UDP {
        messages.extend(DnsMessage::parse(ip.payload).ok());
    }
    if messages.is_empty() {
        return None;
    }
    let mut cols: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for m in &messages {
        let f = m.flags();
        cols.entry("id")
            .or_default()
            .push(format!("{:#06x}", m.id()));
        cols.entry("response")
            .or_default()
            .push(u8::from(f.is_response()).to_string());
        cols.entry("opcode")
            .or_default()
            .push(f.opcode().to_string());
        if f.is_response() {
            cols.entry("rcode").or_default().push(f.rcode().to_string());
        }
        for q in m.questions() {
            cols.entry("qry_name")
                .or_default()
                .push(tshark_name(&q.name));
            cols.entry("qry_type")
                .or_default()
                .push(q.qtype.0.to_string());
        }
        for r in m.records() {
            match r.data() {
                RData::A(a) => cols.entry("a").or_default().push(a.to_string()),
                RData::Aaaa(a) => cols.entry("aaaa").or_default().push(a.to_string()),
                RData::Cname(n) => cols.entry("cname").or_default().push(tshark_name(&n)),
                RData::Ptr(n) => cols.entry("ptr").or_default().push(tshark_name(&n)),
                RData::Txt(t) => {
                    let e = cols.entry("txt_length").or_default();
                    e.extend(t.map(|s| s.len().to_string()));
                }
                _ => {}
            }
        }
    }
    Some(cols.into_iter().map(|(k, v)| (k, v.join("|"))).collect())
}

/// Why tshark saw DNS where a single-packet parser cannot, if it did.
fn dns_exception(
    row: &BTreeMap<String, String>,
    ip: Option<&IpPacket<'_>>,
) -> Option<&'static str> {
    let has = |k: &str| row.get(k).is_some_and(|v| !v.is_empty());
    if has("ip_frags") || has("ipv6_frags") {
        return Some("IP fragments reassembled by tshark");
    }
    if has("tcp_reassembled") {
        return Some("TCP segments reassembled by tshark");
    }
    if has("icmp_type") || has("icmpv6_type") {
        return Some("DNS quoted in an ICMP error");
    }
    if ip.is_some_and(|p| p.meta.src_port == 784 || p.meta.dst_port == 784) {
        return Some("DNS over QUIC, decrypted by tshark");
    }
    None
}

/// A message cut inside its question section (by the snap length, or a frame shorter than its
/// IP header announces): tshark shows the header, the parser rejects the message (it checks
/// the whole question section).
const SNAPPED: &str = "frame cut inside the question section";
/// A question name longer than 255 bytes (RFC 1035 §2.3.4): tshark prints `<Name too long>` and
/// goes on, the parser rejects the message.
const TOO_LONG: &str = "question name over 255 bytes";

const DNS_COLUMNS: [&str; 11] = [
    "id",
    "response",
    "opcode",
    "rcode",
    "qry_name",
    "qry_type",
    "a",
    "aaaa",
    "cname",
    "ptr",
    "txt_length",
];

#[test]
fn dns_matches_tshark() {
    let Some(pcaps) = util::pcaps_dir_or_skip("dns_matches_tshark") else {
        return;
    };
    let (mut compared, mut exceptions) = (0u64, BTreeMap::<&str, u64>::new());
    let mut mismatches = String::new();
    for (capture, rows) in golden("dns_") {
        let by_frame: BTreeMap<u64, &BTreeMap<String, String>> = rows
            .iter()
            .map(|r| (r["frame"].parse().expect("frame number"), r))
            .collect();
        let mut seen = BTreeMap::new();
        for_each_ip(&pcaps.join(&capture), |frame, ip, snapped| {
            if let Some(row) = by_frame.get(&frame) {
                seen.insert(frame, ());
                if let Some(why) = dns_exception(row, Some(ip)) {
                    *exceptions.entry(why).or_default() += 1;
                    return;
                }
                let Some(ours) = dns_columns(ip) else {
                    // Cut by the snap length, or shorter than its IP/UDP headers announce.
                    if snapped || (ip.payload.len() as u64) < u64::from(ip.meta.payload_len) {
                        *exceptions.entry(SNAPPED).or_default() += 1;
                    } else if row["qry_name"].contains("<Name too long>") {
                        *exceptions.entry(TOO_LONG).or_default() += 1;
                    } else {
                        let _ = writeln!(mismatches, "{capture} frame {frame}: not parsed");
                    }
                    return;
                };
                compared += 1;
                for col in DNS_COLUMNS {
                    let theirs = row.get(col).map_or("", String::as_str);
                    let mine = ours.get(col).map_or("", String::as_str);
                    if collapse_replacements(theirs) != collapse_replacements(mine) {
                        let _ = writeln!(
                            mismatches,
                            "{capture} frame {frame} {col}: tshark {theirs:?}, ours {mine:?}"
                        );
                    }
                }
            }
        });
        for (frame, row) in &by_frame {
            if !seen.contains_key(frame) {
                match dns_exception(row, None) {
                    Some(why) => *exceptions.entry(why).or_default() += 1,
                    None => {
                        let _ = writeln!(mismatches, "{capture} frame {frame}: not decoded as IP");
                    }
                }
            }
        }
    }
    eprintln!("dns: {compared} frames compared, exceptions {exceptions:?}");
    assert!(mismatches.is_empty(), "DNS mismatches:\n{mismatches}");
    assert!(compared > 900, "only {compared} DNS frames compared");
}

const DHCP_COLUMNS: [&str; 8] = [
    "op",
    "msg_type",
    "mac",
    "requested_ip",
    "hostname",
    "vendor_class",
    "yiaddr",
    "server_id",
];

fn dhcp_columns(ip: &IpPacket<'_>) -> Option<BTreeMap<&'static str, String>> {
    if ip.meta.protocol != IpProtocol::UDP {
        return None;
    }
    let d = DhcpMessage::parse(ip.payload).ok()?;
    let mac = d
        .chaddr()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>();
    let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
    let addr = |a: Option<std::net::Ipv4Addr>| a.map(|a| a.to_string());
    Some(
        [
            ("op", Some(d.op().to_string())),
            ("msg_type", d.message_type().map(|t| t.0.to_string())),
            ("mac", Some(mac.join(":"))),
            ("requested_ip", addr(d.requested_ip())),
            ("hostname", text(d.hostname())),
            ("vendor_class", text(d.vendor_class())),
            ("yiaddr", Some(d.yiaddr().to_string())),
            ("server_id", addr(d.server_id())),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect(),
    )
}

#[test]
fn dhcp_matches_tshark() {
    let Some(pcaps) = util::pcaps_dir_or_skip("dhcp_matches_tshark") else {
        return;
    };
    let (mut compared, mut exceptions) = (0u64, BTreeMap::<&str, u64>::new());
    let mut mismatches = String::new();
    for (capture, rows) in golden("dhcp_") {
        let by_frame: BTreeMap<u64, &BTreeMap<String, String>> = rows
            .iter()
            .map(|r| (r["frame"].parse().expect("frame number"), r))
            .collect();
        for_each_ip(&pcaps.join(&capture), |frame, ip, _| {
            let Some(row) = by_frame.get(&frame) else {
                return;
            };
            if !row["icmp_type"].is_empty() {
                *exceptions
                    .entry("DHCP quoted in an ICMP error")
                    .or_default() += 1;
                return;
            }
            compared += 1;
            let Some(ours) = dhcp_columns(ip) else {
                let _ = writeln!(mismatches, "{capture} frame {frame}: not parsed");
                return;
            };
            for col in DHCP_COLUMNS {
                let mut theirs = row.get(col).map_or("", String::as_str);
                if col == "mac" {
                    // The second value, when present, is the client identifier (option 61).
                    theirs = theirs.split('|').next().unwrap_or("");
                }
                let mine = ours.get(col).map_or("", String::as_str);
                if theirs != mine {
                    let _ = writeln!(
                        mismatches,
                        "{capture} frame {frame} {col}: tshark {theirs:?}, ours {mine:?}"
                    );
                }
            }
        });
    }
    eprintln!("dhcp: {compared} frames compared, exceptions {exceptions:?}");
    assert!(mismatches.is_empty(), "DHCP mismatches:\n{mismatches}");
    assert!(compared > 500, "only {compared} DHCP frames compared");
}
