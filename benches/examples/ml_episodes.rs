//! The criterion bench `ml_score/random_forest_detector_episodes` as a plain run timed per
//! second of this process's CPU time, for a machine too busy for wall-clock figures:
//!
//! ```text
//! cargo run --release -p netsec-benches --example ml_episodes [PASSES]
//! ```
//!
//! The default 100-tree random forest (trained on `netsec_benches::ml_dataset(5_000, 8, 3.0,
//! 42)`, drift bins on, default thresholds) scores the bench's 10,000 flows per pass inside
//! the sensor's episode aggregation, `PASSES` times (default 20). Prints flows per wall
//! second and per CPU second (`/proc/self/stat`, Linux only).
use std::hint::black_box;
use std::time::Instant;

use netsec_core::detect::{Detector, EpisodeAggregator, EpisodeConfig};
use netsec_core::features::FeatureVector;
use netsec_core::flow::{EndReason, FlowRecord, FlowStats};
use netsec_core::time::Timestamp;
use netsec_ml::drift::FeatureBins;
use netsec_ml::{detector_for, Model, ModelFile, RandomForestParams};

/// User plus system CPU time of this process, in seconds (`/proc/self/stat`, 100 ticks/s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let passes: usize = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 20,
    };
    const FLOWS: usize = 10_000;
    let data = netsec_benches::ml_dataset(5_000, 8, 3.0, 42);
    let rf = RandomForestParams {
        seed: 1,
        ..RandomForestParams::default()
    }
    .fit(&data)?;
    let mut file = ModelFile::new("bench", "1", Model::RandomForest(rf));
    file.training.feature_bins = Some(FeatureBins::from_rows(data.features.view()));
    let (rows, _) = netsec_benches::ml_rows(FLOWS, 8, 3.0, 7);
    let vectors: Vec<FeatureVector> = rows.iter().map(|r| FeatureVector::from_array(*r)).collect();
    let flows: Vec<FlowRecord> = (0..FLOWS)
        .map(|i| FlowRecord {
            id: i as u64,
            first_ts: Timestamp::from_micros(i as i64 * 1_000_000),
            last_ts: Timestamp::from_micros(i as i64 * 1_000_000 + 1),
            src_addr: std::net::IpAddr::from([10, 0, 1, (i % 64) as u8]),
            src_port: 40000,
            dst_addr: std::net::IpAddr::from([10, 0, 0, 2]),
            dst_port: 80,
            protocol: netsec_core::decode::IpProtocol::TCP,
            end_reason: EndReason::Fin,
            stats: FlowStats::default(),
            app_proto: netsec_core::app::AppProto::Unknown,
            app: None,
        })
        .collect();
    let mut sensor_like = EpisodeAggregator::new(detector_for(&file), EpisodeConfig::default());
    let mut out = Vec::new();
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut alerts = 0;
    for _ in 0..passes {
        for (f, v) in flows.iter().zip(&vectors) {
            sensor_like.on_flow_end(f, black_box(v), &mut out);
        }
        alerts += out.len();
        out.clear();
    }
    let n = (FLOWS * passes) as f64;
    let wall = wall.elapsed().as_secs_f64();
    let cpu = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
    println!(
        "forest detector inside episode aggregation: {:.0} flows/s per wall second, {} per CPU second ({alerts} episode alerts)",
        n / wall,
        cpu.map_or("?".into(), |c| format!("{:.0} flows/s", n / c.max(0.01)))
    );
    Ok(())
}
