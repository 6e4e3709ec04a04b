//! Feature extraction: finished flows → 25-feature vectors.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netsec_core::capture::PcapReader;
use netsec_core::flow::{FlowRecord, FlowTableConfig};
use netsec_core::pipeline::FlowPipeline;

fn bench(c: &mut Criterion) {
    let bytes = netsec_benches::capture_bytes();
    let reader = PcapReader::new(bytes.as_slice()).expect("bench capture header");
    let mut pipeline =
        FlowPipeline::new(reader, FlowTableConfig::default()).expect("default config");
    let mut flows: Vec<FlowRecord> = Vec::new();
    pipeline
        .run(|f| {
            flows.push(f.clone());
            Ok::<(), std::convert::Infallible>(())
        })
        .expect("bench capture readable");
    let mut g = c.benchmark_group("features");
    g.throughput(Throughput::Elements(flows.len() as u64));
    g.bench_function("flows", |b| {
        b.iter(|| {
            flows
                .iter()
                .map(|f| f.features().as_array()[0])
                .sum::<f64>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
