//! End to end: pcap bytes in memory → reader → decode → flow table → CSV into a sink.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netsec_core::capture::PcapReader;
use netsec_core::flow::FlowTableConfig;
use netsec_core::output::{CsvFlowWriter, FlowSink};
use netsec_core::pipeline::FlowPipeline;

fn bench(c: &mut Criterion) {
    let bytes = netsec_benches::capture_bytes();
    let packets = netsec_benches::frames().len() as u64;
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Elements(packets));
    g.bench_function("flows_csv_packets", |b| {
        b.iter(|| {
            let reader = PcapReader::new(bytes.as_slice()).expect("header");
            let mut p = FlowPipeline::new(reader, FlowTableConfig::default()).expect("config");
            let mut w = CsvFlowWriter::new(std::io::sink());
            p.run(|f| w.emit(f)).expect("readable");
            p.stats().flows
        })
    });
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("flows_only_bytes", |b| {
        b.iter(|| {
            let reader = PcapReader::new(bytes.as_slice()).expect("header");
            let mut p = FlowPipeline::new(reader, FlowTableConfig::default()).expect("config");
            p.run(|_| Ok::<(), std::convert::Infallible>(()))
                .expect("readable");
            p.stats().flows
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
