//! End to end as `netsec analyze` runs it: pcap bytes in memory → reader → decode → flow table
//! → detectors (behavioural defaults, bundled rules plus 1,000 generated content rules) → EVE alerts and EVE flows
//! into a sink; compared with the same pipeline without detectors, and run on one thread
//! (`run_with_alerts`) and staged over two (`run_staged`, as the CLI runs it).
//!
//! The generated rules have the shape of `benches/gen_rules.py` (random 8–16 byte patterns,
//! mixed protocols and ports, some `nocase`, half with a second relative content), built here
//! with the same fixed-seed xorshift so the bench needs no external file.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netsec_benches::Rng;
use netsec_core::behaviour::{build_detectors, BehaviourConfig};
use netsec_core::capture::PcapReader;
use netsec_core::detect::{AlertSink, Detector, EveAlertSink};
use netsec_core::flow::FlowTableConfig;
use netsec_core::output::{CsvFlowWriter, FlowSink};
use netsec_core::pipeline::FlowPipeline;
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};

/// The bundled rule file (the same text the CLI embeds).
use netsec_core::config::BUNDLED_RULES as DEFAULT_RULES;

fn generated_rules(n: usize) -> String {
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-.";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C16);
    let mut text = String::new();
    for i in 0..n {
        let len = 8 + rng.below(9) as usize;
        let pat: String = (0..len)
            .map(|_| ALPHA[rng.below(ALPHA.len() as u64) as usize] as char)
            .collect();
        let proto = ["tcp", "tcp", "tcp", "udp", "ip"][rng.below(5) as usize];
        let port = ["any", "80", "443", "53", "$HTTP_PORTS", "1024:"][rng.below(6) as usize];
        let nocase = if rng.below(3) == 0 { " nocase;" } else { "" };
        let second = if rng.below(2) == 0 {
            format!(" content:\"{}\"; distance:0; within:64;", &pat[..4])
        } else {
            String::new()
        };
        text.push_str(&format!(
            "alert {proto} any any -> any {port} (msg:\"GEN rule {i}\"; content:\"{pat}\";{nocase}{second} classtype:bad-unknown; sid:{}; rev:1;)\n",
            9_500_000 + i
        ));
    }
    text
}

fn bench(c: &mut Criterion) {
    let bytes = netsec_benches::capture_bytes();
    let packets = netsec_benches::frames().len() as u64;
    let mut g = c.benchmark_group("analyze");
    g.throughput(Throughput::Elements(packets));
    g.sample_size(10);
    g.bench_function("flows_only", |b| {
        b.iter(|| {
            let reader = PcapReader::new(bytes.as_slice()).expect("header");
            let mut p = FlowPipeline::new(reader, FlowTableConfig::default()).expect("config");
            let mut w = CsvFlowWriter::new(std::io::sink());
            p.run(|f| w.emit(f)).expect("readable");
            p.stats().flows
        })
    });
    for n in [0usize, 1000] {
        let text = format!("{DEFAULT_RULES}\n{}", generated_rules(n));
        let set = RuleSet::from_text(&text, &RuleVars::default());
        assert_eq!(set.summary().skipped, 0, "{}", set.summary());
        let pipeline = |set: &RuleSet| {
            let mut detectors: Vec<Box<dyn Detector>> =
                vec![Box::new(RuleDetector::new(set.clone()))];
            detectors.extend(build_detectors(&BehaviourConfig::default()).expect("default config"));
            let reader = PcapReader::new(bytes.as_slice()).expect("header");
            FlowPipeline::with_detectors(reader, FlowTableConfig::default(), detectors)
                .expect("config")
        };
        // One thread, as an embedder calling `run_with_alerts` gets it.
        g.bench_with_input(BenchmarkId::new("rules_eve", set.len()), &set, |b, set| {
            b.iter(|| {
                let mut p = pipeline(set);
                let mut w = CsvFlowWriter::new(std::io::sink());
                let mut sink = EveAlertSink::new(std::io::sink());
                p.run_with_alerts(|f| w.emit(f), |a| sink.emit(a))
                    .expect("readable");
                p.stats().alerts
            })
        });
        // Detection on a second thread, as `netsec analyze` runs.
        g.bench_with_input(
            BenchmarkId::new("rules_eve_staged", set.len()),
            &set,
            |b, set| {
                b.iter(|| {
                    let mut p = pipeline(set);
                    let mut w = CsvFlowWriter::new(std::io::sink());
                    let mut sink = EveAlertSink::new(std::io::sink());
                    p.run_staged(|f| w.emit(f), |a| sink.emit(a), |_| Ok(()))
                        .expect("readable");
                    p.stats().alerts
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
