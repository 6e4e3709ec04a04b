//! DNS parser: real DNS payloads (queries and responses) → `DnsMessage`, then every name.
//!
//! Input: the UDP/53 payloads of a few corpus captures in `../shared/data/pcaps` (ordinary
//! lookups from a phone and a browser, and iodine's binary-label tunnel), loaded once; when the
//! corpus is absent, a built-in compressed response stands in.
use std::path::Path;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netsec_core::app::dns::{DnsMessage, RData, MAX_NAME_WIRE_LEN};
use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::decode::{decode, Decoded, IpProtocol};

const CAPTURES: [(&str, &str); 3] = [
    ("lookups", "benign/app_android.pcap"),
    ("lookups", "benign/wikipedia.pcap"),
    ("iodine", "attacks/dns_tunnel_iodine.pcap"),
];

/// UDP/53 payloads of `rel` under the corpus, empty when absent.
fn payloads(rel: &str) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/pcaps")
        .join(rel);
    let Ok(mut reader) = PcapReader::open(&path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while let Ok(Some(raw)) = reader.next_packet() {
        if let Ok(Decoded::Ip(ip)) = decode(&raw) {
            let m = ip.meta;
            if m.protocol == IpProtocol::UDP && (m.src_port == 53 || m.dst_port == 53) {
                out.push(ip.payload.to_vec());
            }
        }
    }
    out
}

/// A response for www.example.com with a CNAME and an A record, names compressed.
fn fallback() -> Vec<Vec<u8>> {
    let mut m = vec![0xab, 0xcd, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 0, 0, 6]);
    m.extend_from_slice(b"\x03cdn\xc0\x10");
    m.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 1]);
    vec![m]
}

/// Parses and walks every name (question, owners, CNAME/PTR targets) into a stack buffer.
fn walk(msg: &[u8], buf: &mut [u8; MAX_NAME_WIRE_LEN]) -> usize {
    let Ok(dns) = DnsMessage::parse(msg) else {
        return 0;
    };
    let mut n = 0;
    for q in dns.questions() {
        n += q.name.write_dotted(buf).len();
    }
    for r in dns.records() {
        n += r.name.write_dotted(buf).len();
        match r.data() {
            RData::Cname(t) | RData::Ptr(t) => n += t.write_dotted(buf).len(),
            RData::A(_) | RData::Aaaa(_) => n += 1,
            _ => {}
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dns");
    let mut sets: Vec<(&str, Vec<Vec<u8>>)> = Vec::new();
    for (label, rel) in CAPTURES {
        let p = payloads(rel);
        match sets.iter_mut().find(|(l, _)| *l == label) {
            Some((_, v)) => v.extend(p),
            None => sets.push((label, p)),
        }
    }
    sets.retain(|(_, v)| !v.is_empty());
    if sets.is_empty() {
        sets.push(("builtin", fallback()));
    }
    for (label, msgs) in &sets {
        let bytes: u64 = msgs.iter().map(|m| m.len() as u64).sum();
        g.throughput(Throughput::Elements(msgs.len() as u64));
        g.bench_with_input(BenchmarkId::new("parse", label), msgs, |b, msgs| {
            b.iter(|| {
                msgs.iter()
                    .filter_map(|m| DnsMessage::parse(m).ok())
                    .map(|d| d.counts()[1] as usize)
                    .sum::<usize>()
            })
        });
        g.throughput(Throughput::Bytes(bytes));
        g.bench_with_input(
            BenchmarkId::new("parse_and_names", label),
            msgs,
            |b, msgs| {
                let mut buf = [0u8; MAX_NAME_WIRE_LEN];
                b.iter(|| msgs.iter().map(|m| walk(m, &mut buf)).sum::<usize>())
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
