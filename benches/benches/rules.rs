//! Rule matching stage: per-packet cost of a `RuleDetector` with 100 / 1,000 / 10,000
//! generated content rules over realistic payloads (HTTP requests and responses, DNS queries,
//! TLS-like binary records). The prefilter (one Aho-Corasick pass, then only candidate rules)
//! should make 10,000 rules cost little more per packet than 100.
use std::net::{IpAddr, Ipv4Addr};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netsec_core::decode::{IpPacket, IpProtocol, L2Info, PacketMeta, TcpFlags};
use netsec_core::detect::{Detector, PacketView};
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};
use netsec_core::time::Timestamp;

/// A fixed-seed xorshift generator: no extra dependency, same rules every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

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
                rng.next(),
                rng.next()
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
        let tls: Vec<u8> = (0..1400).map(|_| rng.next() as u8).collect();
        out.push((IpProtocol::TCP, 443, tls));
    }
    out
}

fn bench(c: &mut Criterion) {
    let payloads = payloads();
    let mut g = c.benchmark_group("rules");
    g.throughput(Throughput::Elements(payloads.len() as u64));
    for n in [100usize, 1_000, 10_000] {
        let set = RuleSet::from_text(&rules(n), &RuleVars::default());
        assert_eq!(set.summary().skipped, 0, "{}", set.summary());
        let mut det = RuleDetector::new(set);
        let packets: Vec<IpPacket<'_>> = payloads
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
                    payload_len: p.len() as u32,
                    ip_len: p.len() as u32 + 40,
                    ttl: 64,
                    fragment: None,
                    tunnel: None,
                },
                payload: p,
                l2: L2Info::default(),
            })
            .collect();
        let mut out = Vec::with_capacity(64);
        g.bench_with_input(BenchmarkId::new("packets", n), &packets, |b, packets| {
            b.iter(|| {
                let mut alerts = 0usize;
                for p in packets {
                    det.on_packet(&PacketView::Ip(p), None, &mut out);
                    alerts += out.len();
                    out.clear();
                }
                alerts
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
