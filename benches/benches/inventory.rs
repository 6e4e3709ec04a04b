//! Host inventory: a whole capture (read, decode, flow table, `Inventory::observe`) against the
//! same run without the inventory, so the difference is the inventory's per-packet cost.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::decode::{decode, Decoded};
use netsec_core::flow::{FlowTable, FlowTableConfig};
use netsec_core::inventory::{Inventory, InventoryConfig};

fn bench(c: &mut Criterion) {
    let bytes = netsec_benches::capture_bytes();
    let packets = netsec_benches::frames().len() as u64;
    let mut g = c.benchmark_group("inventory");
    g.throughput(Throughput::Elements(packets));
    g.bench_function("read_capture", |b| {
        b.iter(|| {
            let mut inv = Inventory::new(InventoryConfig::default());
            let reader = PcapReader::new(bytes.as_slice()).expect("bench capture");
            inv.read_capture(reader).expect("reads");
            inv.stats().hosts
        })
    });
    g.bench_function("baseline_without_inventory", |b| {
        b.iter(|| {
            let mut reader = PcapReader::new(bytes.as_slice()).expect("bench capture");
            let mut table = FlowTable::new(FlowTableConfig::default()).expect("config");
            let mut out = Vec::new();
            let mut n = 0u64;
            while let Ok(Some(raw)) = reader.next_packet() {
                if let Ok(Decoded::Ip(ip)) = decode(&raw) {
                    n += u64::from(table.process(&ip.meta, &mut out).is_some());
                    out.clear();
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
