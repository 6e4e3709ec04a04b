//! Rule matching stage: per-packet cost of a `RuleDetector` with 100 / 1,000 / 10,000
//! generated content rules.
//!
//! - `rules/packets`: realistic payloads (HTTP requests and responses, DNS queries, TLS-like
//!   binary records; ~700 bytes on average), some of which fire the "hot" rules.
//! - `rules/small`: ~170-byte payloads shaped like `big1m.pcap` (syslog lines, DNS queries,
//!   HTTP API requests, binary) that fire nothing: the cost of the prefilter alone.
//! - `rules/small+short`: the same with three 2–4 byte fast patterns added, as in
//!   `config/default.rules` (the prefilter's dense case).
//!
//! The prefilter (a sampled 4-byte-anchor filter, then only candidate rules) should make
//! 10,000 rules cost little more per packet than 100.
//!
//! `NETSEC_RULES_ONESHOT=<rules>:<rounds>:<packets|small|small+short>` skips criterion and runs one
//! payload set `rounds` times through one detector, for instruction counts under
//! `valgrind --tool=callgrind` (run once with 0 rounds to subtract the setup).
use std::net::{IpAddr, Ipv4Addr};

use criterion::{BenchmarkId, Criterion, Throughput};
use netsec_benches::Rng;
use netsec_core::decode::{IpPacket, IpProtocol, L2Info, PacketMeta, TcpFlags};
use netsec_core::detect::{Alert, Detector, PacketView};
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};
use netsec_core::time::Timestamp;

/// `n` rules, each with a random 8–16 byte fast pattern plus a mix of modifiers, ports and
/// a second relative content; ten "hot" rules match the HTTP payloads in every set size.
fn rules(n: usize) -> String {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut text = String::new();
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-.";
    let hot = [
        "GET /index",
        "User-Agent",
        "Host: www",
        "HTTP/1.1 200",
        "Content-Type",
    ];
    for (i, h) in hot.iter().enumerate() {
        text.push_str(&format!(
            "alert tcp any any -> any any (msg:\"hot {i}\"; content:\"{h}\"; threshold:type limit, track by_src, count 1, seconds 3600; sid:{};)\n",
            9_000_000 + i
        ));
    }
    for i in 0..n.saturating_sub(hot.len()) {
        let len = 8 + rng.below(9) as usize;
        let pat: String = (0..len)
            .map(|_| ALPHA[rng.below(ALPHA.len() as u64) as usize] as char)
            .collect();
        let proto = ["tcp", "tcp", "tcp", "udp", "ip"][rng.below(5) as usize];
        let port = ["any", "80", "443", "53", "$HTTP_PORTS", "[1024:]"][rng.below(6) as usize];
        let nocase = if rng.below(3) == 0 { " nocase;" } else { "" };
        let second = if rng.below(2) == 0 {
            format!(" content:\"{}\"; distance:0; within:64;", &pat[..4])
        } else {
            String::new()
        };
        text.push_str(&format!(
            "alert {proto} any any -> any {port} (msg:\"gen {i}\"; content:\"{pat}\";{nocase}{second} classtype:misc-activity; sid:{};)\n",
            i + 1
        ));
    }
    text
}

fn payloads() -> Vec<(IpProtocol, u16, Vec<u8>)> {
    let mut rng = Rng(42);
    let mut out = Vec::new();
    for i in 0..64 {
        out.push((
            IpProtocol::TCP,
            80,
            format!(
                "GET /index{i}.html?id={} HTTP/1.1\r\nHost: www.example{i}.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Language: en-US,en;q=0.5\r\nCookie: session={:x}\r\n\r\n",
                rng.next_u64(),
                rng.next_u64()
            )
            .into_bytes(),
        ));
        let mut body = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 900\r\nServer: nginx\r\n\r\n<html><head><title>Page {i}</title></head><body>"
        )
        .into_bytes();
        while body.len() < 1200 {
            body.extend_from_slice(
                b"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>",
            );
        }
        out.push((IpProtocol::TCP, 51000, body));
        let mut dns = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["www", "example", "com"] {
            dns.push(label.len() as u8);
            dns.extend_from_slice(label.as_bytes());
        }
        dns.extend_from_slice(&[0, 0, 1, 0, 1]);
        out.push((IpProtocol::UDP, 53, dns));
        let tls: Vec<u8> = (0..1400).map(|_| rng.next_u64() as u8).collect();
        out.push((IpProtocol::TCP, 443, tls));
    }
    out
}

/// ~170-byte payloads like those of `big1m.pcap` that contain no generated or hot pattern.
fn small_payloads() -> Vec<(IpProtocol, u16, Vec<u8>)> {
    let mut rng = Rng(7);
    let mut out = Vec::new();
    for i in 0..64u64 {
        out.push((
            IpProtocol::UDP,
            514,
            format!(
                "<134>Jan 21 10:00:{:02} host{} app[{}]: event {} status=ok user=svc{} latency_ms={} path=/var/lib/app/data/{:x}.db result=committed",
                i % 60,
                rng.below(64),
                rng.below(10_000),
                rng.below(1_000_000),
                rng.below(100),
                rng.below(500),
                rng.next_u64()
            )
            .into_bytes(),
        ));
        let mut dns = vec![(i >> 8) as u8, i as u8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["telemetry", "eu-west-1", "corp", "example", "net"] {
            dns.push(label.len() as u8);
            dns.extend_from_slice(label.as_bytes());
        }
        dns.extend_from_slice(&[0, 0, 1, 0, 1]);
        while dns.len() < 150 {
            dns.push(rng.next_u64() as u8);
        }
        out.push((IpProtocol::UDP, 53, dns));
        out.push((
            IpProtocol::TCP,
            8080,
            format!(
                "POST /api/v2/items/{} HTTP/1.1\r\nhost: api.example.net\r\naccept: application/json\r\ncontent-length: {}\r\nx-request-id: {:016x}\r\n\r\n{{\"id\":{}}}",
                rng.below(100_000),
                rng.below(999),
                rng.next_u64(),
                rng.below(1000)
            )
            .into_bytes(),
        ));
        let bin: Vec<u8> = (0..200).map(|_| rng.next_u64() as u8).collect();
        out.push((IpProtocol::TCP, 443, bin));
    }
    out
}

fn packets(payloads: &[(IpProtocol, u16, Vec<u8>)]) -> Vec<IpPacket<'_>> {
    payloads
        .iter()
        .enumerate()
        .map(|(i, (proto, dport, p))| IpPacket {
            meta: PacketMeta {
                ts: Timestamp::from_micros(i as i64),
                src_addr: IpAddr::V4(Ipv4Addr::new(192, 168, 1, (i % 200) as u8)),
                dst_addr: IpAddr::V4(Ipv4Addr::new(93, 184, 216, 34)),
                src_port: 40_000 + i as u16,
                dst_port: *dport,
                protocol: *proto,
                icmp_type: 0,
                icmp_code: 0,
                tcp_flags: TcpFlags(TcpFlags::ACK | TcpFlags::PSH),
                tcp_window: 502,
                tcp_seq: 0,
                tcp_ack: 0,
                tcp_urgent: 0,
                payload_len: p.len() as u32,
                ip_len: p.len() as u32 + 40,
                ttl: 64,
                fragment: None,
                tunnel: None,
                events: netsec_core::decode::DecodeEvents::NONE,
            },
            payload: p,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        })
        .collect()
}

/// Short fast patterns like those of `config/default.rules` (`GET `, `%27`, `|18 03|`): one
/// 4-byte pattern makes the prefilter test every window instead of every fifth, and 2–3 byte
/// patterns add a byte-pair table. None occurs in the small payloads.
const SHORT_RULES: &str = "\
alert tcp any any -> any any (msg:\"short 1\"; content:\"GET \"; depth:4; sid:8000001;)
alert tcp any any -> any any (msg:\"short 2\"; content:\"%27\"; nocase; sid:8000002;)
alert tcp any any -> any 443 (msg:\"short 3\"; content:\"|18 03|\"; depth:2; sid:8000003;)
";

fn detector(n: usize, short: bool) -> RuleDetector {
    let mut text = rules(n);
    if short {
        text.push_str(SHORT_RULES);
    }
    let set = RuleSet::from_text(&text, &RuleVars::default());
    assert_eq!(set.summary().skipped, 0, "{}", set.summary());
    RuleDetector::new(set)
}

/// Runs every packet through the detector; returns the number of alerts.
fn run(det: &mut RuleDetector, packets: &[IpPacket<'_>], out: &mut Vec<Alert>) -> usize {
    let mut alerts = 0usize;
    for p in packets {
        det.on_packet(&PacketView::Ip(p), None, out);
        alerts += out.len();
        out.clear();
    }
    alerts
}

fn bench(c: &mut Criterion) {
    let (big, small) = (payloads(), small_payloads());
    let avg = small.iter().map(|p| p.2.len()).sum::<usize>() / small.len();
    eprintln!(
        "rules/small: {} payloads, {avg} bytes on average",
        small.len()
    );
    let (big, small) = (packets(&big), packets(&small));
    let mut g = c.benchmark_group("rules");
    for n in [100usize, 1_000, 10_000] {
        let mut det = detector(n, false);
        let mut out = Vec::with_capacity(64);
        g.throughput(Throughput::Elements(big.len() as u64));
        g.bench_with_input(BenchmarkId::new("packets", n), &big, |b, packets| {
            b.iter(|| run(&mut det, packets, &mut out))
        });
        g.throughput(Throughput::Elements(small.len() as u64));
        g.bench_with_input(BenchmarkId::new("small", n), &small, |b, packets| {
            b.iter(|| {
                let alerts = run(&mut det, packets, &mut out);
                assert_eq!(alerts, 0, "small payloads must fire nothing");
                alerts
            })
        });
        let mut det = detector(n, true);
        g.bench_with_input(BenchmarkId::new("small+short", n), &small, |b, packets| {
            b.iter(|| {
                let alerts = run(&mut det, packets, &mut out);
                assert_eq!(alerts, 0, "small payloads must fire nothing");
                alerts
            })
        });
    }
    g.finish();
}

fn oneshot(spec: &str) {
    let usage = "NETSEC_RULES_ONESHOT=<rules>:<rounds>:<packets|small|small+short>";
    let mut it = spec.split(':');
    let n: usize = it.next().and_then(|v| v.parse().ok()).expect(usage);
    let rounds: usize = it.next().and_then(|v| v.parse().ok()).expect(usage);
    let payloads = match it.next() {
        Some("packets") => payloads(),
        Some("small" | "small+short") => small_payloads(),
        _ => panic!("{usage}"),
    };
    let packets = packets(&payloads);
    let mut det = detector(n, spec.ends_with("+short"));
    let mut out = Vec::with_capacity(64);
    let alerts: usize = (0..rounds).map(|_| run(&mut det, &packets, &mut out)).sum();
    println!(
        "{spec}: {} packets, {alerts} alerts",
        rounds * packets.len()
    );
}

fn main() {
    if let Ok(spec) = std::env::var("NETSEC_RULES_ONESHOT") {
        oneshot(&spec);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
