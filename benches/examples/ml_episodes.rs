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
use netsec_ml::drift::FeatureBins;
use netsec_ml::{detector_for, Model, ModelFile, RandomForestParams};

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
    let flows = netsec_benches::ml_flows(FLOWS);
    let mut sensor_like = EpisodeAggregator::new(detector_for(&file), EpisodeConfig::default());
    let mut out = Vec::new();
    let (wall, cpu) = (Instant::now(), netsec_benches::cpu_seconds());
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
    let cpu = cpu.zip(netsec_benches::cpu_seconds()).map(|(a, b)| b - a);
    println!(
        "forest detector inside episode aggregation: {:.0} flows/s per wall second, {} per CPU second ({alerts} episode alerts)",
        n / wall,
        cpu.map_or("?".into(), |c| format!("{:.0} flows/s", n / c.max(0.01)))
    );
    Ok(())
}
