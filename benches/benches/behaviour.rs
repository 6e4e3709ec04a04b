//! Behavioural detectors: the decoded packets (and finished flows) of the bench capture, fed to
//! each default-config detector alone and to all of them together, as the pipeline feeds them.
//!
//! Decoding and flow tracking happen once, outside the timed closures; each iteration builds
//! fresh detectors (outside the timing too) so every run sees the same state evolution.
//! Throughput is in packets (IP and ARP frames given to `on_packet`); `detector/none` is the
//! harness alone, to subtract from the others.
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use netsec_core::behaviour::{build_detectors, BehaviourConfig};
use netsec_core::capture::RawPacket;
use netsec_core::decode::{decode, Decoded};
use netsec_core::detect::{Alert, Detector, PacketView};
use netsec_core::features::FeatureVector;
use netsec_core::flow::{FlowContext, FlowRecord, FlowTable, FlowTableConfig};
use netsec_core::time::Timestamp;

/// What the pipeline hands the detectors, in order. Built once before timing; packets stay
/// inline so the measured loop does not chase a box per packet.
#[allow(clippy::large_enum_variant)]
enum Event<'a> {
    Packet(Timestamp, Decoded<'a>, Option<FlowContext>),
    Flow(Box<(FlowRecord, FeatureVector)>),
}

fn events(frames: &[netsec_benches::Frame]) -> Vec<Event<'_>> {
    let mut table = FlowTable::new(FlowTableConfig::default()).expect("default config");
    let mut flows = Vec::new();
    let mut out = Vec::with_capacity(frames.len());
    let push_flows = |flows: &mut Vec<FlowRecord>, out: &mut Vec<Event<'_>>| {
        for f in flows.drain(..) {
            let features = f.features();
            out.push(Event::Flow(Box::new((f, features))));
        }
    };
    for f in frames {
        let raw = RawPacket {
            ts: f.ts,
            link_type: f.link_type,
            data: &f.data,
            orig_len: f.orig_len,
        };
        match decode(&raw) {
            Ok(d @ Decoded::Ip(ip)) => {
                let ctx = table.process(&ip.meta, &mut flows);
                push_flows(&mut flows, &mut out);
                out.push(Event::Packet(f.ts, d, ctx));
            }
            Ok(d @ Decoded::Arp(..)) => out.push(Event::Packet(f.ts, d, None)),
            _ => {}
        }
    }
    table.flush(&mut flows);
    push_flows(&mut flows, &mut out);
    out
}

#[inline(never)]
fn run(detectors: &mut [Box<dyn Detector>], events: &[Event<'_>]) -> usize {
    let mut alerts: Vec<Alert> = Vec::new();
    let mut total = 0;
    for e in events {
        match e {
            Event::Packet(ts, d, ctx) => {
                let view = PacketView::from_decoded(*ts, d).expect("IP or ARP");
                for det in detectors.iter_mut() {
                    det.on_packet(&view, ctx.as_ref(), &mut alerts);
                }
            }
            Event::Flow(f) => {
                for det in detectors.iter_mut() {
                    det.on_flow_end(&f.0, &f.1, &mut alerts);
                }
            }
        }
        total += alerts.len();
        alerts.clear();
    }
    total
}

fn bench(c: &mut Criterion) {
    let frames = netsec_benches::frames();
    let events = events(&frames);
    let packets = events
        .iter()
        .filter(|e| matches!(e, Event::Packet(..)))
        .count() as u64;
    let config = BehaviourConfig::default();
    let names: Vec<String> = build_detectors(&config)
        .expect("default config")
        .iter()
        .map(|d| d.name().to_string())
        .collect();
    let mut g = c.benchmark_group("behaviour");
    g.throughput(Throughput::Elements(packets));
    g.sample_size(10);
    // `none` measures the harness alone (walking the events, building views): subtract it.
    let all = names.len();
    let none = all + 1;
    let ids = names.iter().map(String::as_str).chain(["all", "none"]);
    for (i, name) in ids.enumerate() {
        g.bench_with_input(BenchmarkId::new("detector", name), &i, |b, &i| {
            b.iter_batched(
                || {
                    let mut d = build_detectors(&config).expect("default config");
                    if i < all {
                        d = vec![d.swap_remove(i)];
                    } else if i == none {
                        d.clear();
                    }
                    d
                },
                |mut d| run(&mut d, &events),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
