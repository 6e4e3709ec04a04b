//! Application-layer parsers on real payloads: TLS hellos (with JA4 and JA3), HTTP start lines,
//! SSH banners, and protocol detection over every payload of a capture.
//!
//! Inputs are TCP/UDP payloads from `../shared/data/pcaps` (skipped when absent), loaded once.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netsec_core::app::{http, ssh, tls, AppProto};
use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::decode::{decode, Decoded, IpProtocol};

/// `(protocol, payload)` of every IP packet with a payload in these captures.
fn payloads(files: &[&str]) -> Vec<(IpProtocol, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/pcaps");
    let mut out = Vec::new();
    for f in files {
        let Ok(mut reader) = PcapReader::open(dir.join(f)) else {
            eprintln!("skipping {f}: not found");
            continue;
        };
        while let Ok(Some(pkt)) = reader.next_packet() {
            if let Ok(Decoded::Ip(ip)) = decode(&pkt) {
                if !ip.payload.is_empty() {
                    out.push((ip.meta.protocol, ip.payload.to_vec()));
                }
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let all = payloads(&[
        "benign/tls_443_curl.pcap",
        "benign/sites_22ifaces.pcapng",
        "benign/http_bro_org.pcap",
        "benign/ssh_session.pcap",
        "benign/wikipedia.pcap",
    ]);
    let pick = |f: &dyn Fn(&[u8]) -> bool| -> Vec<&[u8]> {
        all.iter()
            .map(|(_, p)| p.as_slice())
            .filter(|p| f(p))
            .collect()
    };
    let hellos = pick(&|p| matches!(tls::parse(p), Ok(tls::Hello::Client(h)) if h.complete));
    let http_msgs = pick(&|p| http::parse(p).is_ok());
    let banners = pick(&|p| ssh::parse(p).is_ok());
    let mut g = c.benchmark_group("app_parsers");
    for (name, set) in [
        ("tls_client_hello", &hellos),
        ("http", &http_msgs),
        ("ssh", &banners),
    ] {
        if set.is_empty() {
            continue;
        }
        g.throughput(Throughput::Elements(set.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0usize;
                for p in set.iter() {
                    n += match name {
                        "tls_client_hello" => match tls::parse(p) {
                            Ok(tls::Hello::Client(h)) => h.sni.map_or(0, <[u8]>::len),
                            _ => 0,
                        },
                        "http" => usize::from(http::parse(p).is_ok()),
                        _ => usize::from(ssh::parse(p).is_ok()),
                    };
                }
                n
            })
        });
    }
    if !hellos.is_empty() {
        g.throughput(Throughput::Elements(hellos.len() as u64));
        g.bench_function("tls_ja4_ja3", |b| {
            b.iter(|| {
                hellos
                    .iter()
                    .filter_map(|p| match tls::parse(p) {
                        Ok(tls::Hello::Client(h)) => Some((h.ja4(), h.ja3())),
                        _ => None,
                    })
                    .count()
            })
        });
    }
    if !hellos.is_empty() {
        // The same hellos through rusticata's tls-parser: record, ClientHello, then the
        // extension list, to the SNI (what the hand parser's `tls_client_hello` does).
        g.throughput(Throughput::Elements(hellos.len() as u64));
        g.bench_function("tls_client_hello_tls_parser_crate", |b| {
            b.iter(|| {
                let mut n = 0usize;
                for p in hellos.iter() {
                    n += tls_parser_sni_len(p);
                }
                n
            })
        });
    }
    if !all.is_empty() {
        g.throughput(Throughput::Elements(all.len() as u64));
        g.bench_function("detect_every_payload", |b| {
            b.iter(|| {
                all.iter()
                    .filter(|(proto, p)| AppProto::detect(*proto, p) != AppProto::Unknown)
                    .count()
            })
        });
    }
    g.finish();
}

/// SNI length through tls-parser (0 when it rejects the payload).
fn tls_parser_sni_len(p: &[u8]) -> usize {
    use tls_parser::{TlsExtension, TlsMessage, TlsMessageHandshake};
    let Ok((_, record)) = tls_parser::parse_tls_plaintext(p) else {
        return 0;
    };
    for msg in &record.msg {
        if let TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) = msg {
            let Some(ext) = ch.ext else {
                return 0;
            };
            let Ok((_, exts)) = tls_parser::parse_tls_client_hello_extensions(ext) else {
                return 0;
            };
            for e in exts {
                if let TlsExtension::SNI(names) = e {
                    return names.first().map_or(0, |(_, n)| n.len());
                }
            }
        }
    }
    0
}

criterion_group!(benches, bench);
criterion_main!(benches);
