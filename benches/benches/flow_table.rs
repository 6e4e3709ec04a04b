//! Flow-table stage: `PacketMeta` → flows (insert, update, expire, flush).
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use netsec_core::capture::RawPacket;
use netsec_core::decode::{decode, Decoded, PacketMeta};
use netsec_core::flow::{FlowTable, FlowTableConfig};

fn metas() -> Vec<PacketMeta> {
    netsec_benches::frames()
        .iter()
        .filter_map(|f| {
            let raw = RawPacket {
                ts: f.ts,
                link_type: f.link_type,
                data: &f.data,
                orig_len: f.orig_len,
            };
            match decode(&raw) {
                Ok(Decoded::Ip(p)) => Some(p.meta),
                _ => None,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let metas = metas();
    let mut g = c.benchmark_group("flow_table");
    g.throughput(Throughput::Elements(metas.len() as u64));
    g.bench_function("process+flush", |b| {
        b.iter_batched_ref(
            || {
                (
                    FlowTable::new(FlowTableConfig::default()).expect("default config"),
                    Vec::with_capacity(4096),
                )
            },
            |(table, out)| {
                for m in &metas {
                    table.process(m, out);
                    out.clear();
                }
                table.flush(out);
                out.len()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
