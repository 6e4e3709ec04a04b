//! Decode stage: frames → `PacketMeta`.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netsec_core::capture::RawPacket;
use netsec_core::decode::{decode, Decoded};

fn bench(c: &mut Criterion) {
    let frames = netsec_benches::frames();
    let bytes: u64 = frames.iter().map(|f| f.data.len() as u64).sum();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("packets", |b| {
        b.iter(|| {
            let mut ip = 0u64;
            for f in &frames {
                let raw = RawPacket {
                    ts: f.ts,
                    link_type: f.link_type,
                    data: &f.data,
                    orig_len: f.orig_len,
                };
                if let Ok(Decoded::Ip(p)) = decode(&raw) {
                    ip += u64::from(p.meta.payload_len);
                }
            }
            ip
        })
    });
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("bytes", |b| {
        b.iter(|| {
            frames
                .iter()
                .filter(|f| {
                    let raw = RawPacket {
                        ts: f.ts,
                        link_type: f.link_type,
                        data: &f.data,
                        orig_len: f.orig_len,
                    };
                    decode(&raw).is_ok()
                })
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
