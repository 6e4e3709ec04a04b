//! The Emerging Threats Open set (`../shared/data/rules/etopen/all.rules`, 15,946 rules) in
//! the rule engine, on the real shared captures:
//!
//! - `etopen/load`: parsing and compiling the whole set;
//! - `etopen/packets/full`: every Ethernet capture of `../shared/data/pcaps/{attacks,benign}`
//!   (decoded and given flow contexts once, outside the timing) through a `RuleDetector`
//!   with the full set;
//! - `etopen/packets/no_reputation`: the same without the IP reputation lists (CINS,
//!   Spamhaus DROP, Dshield, TOR, compromised hosts, Threatview). The IP-only engine should
//!   make the two cost about the same per packet.
//!
//! Skips with a message when `../shared/data` is absent. `benches/etopen/compare.sh` runs the
//! same set in `netsec analyze` beside Suricata 7.0.10.

use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, Throughput};
use netsec_benches::Frame;
use netsec_core::capture::{PacketSource, PcapReader, RawPacket};
use netsec_core::decode::{decode, Decoded};
use netsec_core::detect::{Alert, Detector, PacketView};
use netsec_core::flow::{FlowContext, FlowTable, FlowTableConfig};
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};

fn data() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    d.is_dir().then_some(d)
}

/// Whether a rule line is one of ET's IP reputation lists.
fn reputation(line: &str) -> bool {
    [
        "ET CINS",
        "ET DROP",
        "ET TOR",
        "ET COMPROMISED",
        "Threatview",
        "ET DSHIELD",
    ]
    .iter()
    .any(|m| line.contains(&format!("msg:\"{m}")))
}

/// The frames of every Ethernet capture in `attacks/` and `benign/`.
fn frames(data: &Path) -> Vec<Frame> {
    let manifest = std::fs::read_to_string(data.join("pcaps/MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut out = Vec::new();
    for line in manifest.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let ok = f.len() > 3
            && f[3] == "EN10MB(1)"
            && (f[0].starts_with("attacks/") || f[0].starts_with("benign/"));
        if !ok {
            continue;
        }
        let Ok(mut reader) = PcapReader::open(data.join("pcaps").join(f[0])) else {
            continue;
        };
        while let Ok(Some(p)) = reader.next_packet() {
            out.push(Frame {
                ts: p.ts,
                link_type: p.link_type,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
            });
        }
    }
    out
}

fn run(
    det: &mut RuleDetector,
    packets: &[(PacketView<'_>, Option<FlowContext>)],
    out: &mut Vec<Alert>,
) -> usize {
    let mut n = 0;
    for (view, ctx) in packets {
        det.on_packet(view, ctx.as_ref(), out);
        n += out.len();
        out.clear();
    }
    n
}

fn bench(c: &mut Criterion, data: &Path) {
    let text = std::fs::read_to_string(data.join("rules/etopen/all.rules")).expect("all.rules");
    let without: String = text
        .lines()
        .filter(|l| !reputation(l))
        .collect::<Vec<_>>()
        .join("\n");
    let frames = frames(data);
    let raws: Vec<RawPacket<'_>> = frames
        .iter()
        .map(|f| RawPacket {
            ts: f.ts,
            link_type: f.link_type,
            data: &f.data,
            orig_len: f.orig_len,
        })
        .collect();
    let decoded: Vec<_> = raws
        .iter()
        .filter_map(|r| decode(r).ok().map(|d| (r.ts, d)))
        .collect();
    let mut table = FlowTable::new(FlowTableConfig::default()).expect("default config");
    let mut exported = Vec::new();
    let mut packets: Vec<(PacketView<'_>, Option<FlowContext>)> = Vec::new();
    for (ts, d) in &decoded {
        let ctx = match d {
            Decoded::Ip(ip) => table.process_ip(ip, &mut exported),
            _ => None,
        };
        exported.clear();
        if let Some(view) = PacketView::from_decoded(*ts, d) {
            packets.push((view, ctx));
        }
    }
    let mut g = c.benchmark_group("etopen");
    g.sample_size(10);
    g.bench_function("load", |b| {
        b.iter(|| RuleSet::from_text(&text, &RuleVars::default()).len())
    });
    g.throughput(Throughput::Elements(packets.len() as u64));
    for (name, rules) in [("full", &text), ("no_reputation", &without)] {
        let set = RuleSet::from_text(rules, &RuleVars::default());
        eprintln!("etopen/{name}: {}", set.summary().loaded);
        let mut det = RuleDetector::new(set);
        let mut out = Vec::with_capacity(64);
        g.bench_with_input(BenchmarkId::new("packets", name), &packets, |b, p| {
            b.iter(|| run(&mut det, p, &mut out))
        });
    }
    g.finish();
}

fn main() {
    let Some(data) = data() else {
        eprintln!("etopen: skipped, ../shared/data is absent");
        return;
    };
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &data);
    c.final_summary();
}
