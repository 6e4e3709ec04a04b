//! ML scoring throughput: the default 100-tree random forest and the default 100-tree isolation
//! forest (ψ = 256) scoring synthetic flow-feature rows (`netsec_benches::ml_rows`, 8 heavily
//! overlapping classes, so the trees are deep: a pessimistic case), in flows per second on one
//! core.
//!
//! - `ml_score/random_forest_vote`: majority class and attack score of each row
//!   (`RandomForestModel::vote`); the forest is trained on 5,000 rows in the setup (about
//!   1,500 nodes and depth up to 20 per tree).
//! - `ml_score/random_forest_vote_separable`: the same on well separated classes
//!   (`ml_rows` centre range 8): trees of about 100 nodes, the size forests trained on the
//!   CIC-IDS2017 sample have.
//! - `ml_score/isolation_forest_score`: anomaly score of each row.
//! - `ml_score/*_detector_quiet`: the detectors' `on_flow_end` on the rows that raise nothing
//!   with the alert threshold at 1.0 (those scoring below 1), i.e. the per-flow cost in a
//!   pipeline.
//! - `ml_score/random_forest_detector_episodes`: the forest's detector as the sensor runs it,
//!   inside the episode aggregation, with the drift monitor on and the default threshold
//!   (0.5), on all rows (flows from 64 sources, one second apart): scoring, alerting and
//!   aggregation included, explanations for the alerts episodes report.
//!
//! Training time and model sizes for 100,000 rows: `cargo run --release -p netsec-benches
//! --example ml_figures` (a training bench would make `cargo bench` slow).
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netsec_core::detect::{Detector, EpisodeAggregator, EpisodeConfig};
use netsec_core::features::FeatureVector;
use netsec_ml::drift::FeatureBins;
use netsec_ml::inputs::{without_context, InputRow};
use netsec_ml::{
    detector_for, IsolationForestParams, Model, ModelFile, RandomForestParams, Thresholds,
};

const SCORED: usize = 10_000;

fn never() -> Thresholds {
    Thresholds {
        alert: 1.0,
        medium: 1.0,
        high: 1.0,
        critical: 1.0,
    }
}

fn bench(c: &mut Criterion) {
    let data = netsec_benches::ml_dataset(5_000, 8, 3.0, 42);
    let rf = RandomForestParams {
        seed: 1,
        ..RandomForestParams::default()
    }
    .fit(&data)
    .expect("trains");
    let rf_sep = RandomForestParams {
        seed: 1,
        ..RandomForestParams::default()
    }
    .fit(&netsec_benches::ml_dataset(5_000, 8, 8.0, 42))
    .expect("trains");
    let (rows_sep, _) = netsec_benches::ml_rows(SCORED, 8, 8.0, 7);
    let rows_sep: Vec<InputRow> = rows_sep.iter().map(without_context).collect();
    let (benign, _) = netsec_benches::ml_rows(20_000, 1, 3.0, 43);
    let iso = IsolationForestParams::default()
        .seed(1)
        .fit_rows(netsec_benches::ml_matrix(&benign).view())
        .expect("trains");
    let (rows, _) = netsec_benches::ml_rows(SCORED, 8, 3.0, 7);
    let vectors: Vec<FeatureVector> = rows.iter().map(|r| FeatureVector::from_array(*r)).collect();
    let rows: Vec<InputRow> = rows.iter().map(without_context).collect();

    let mut g = c.benchmark_group("ml_score");
    g.throughput(Throughput::Elements(SCORED as u64));
    g.bench_function("random_forest_vote", |b| {
        b.iter(|| {
            let mut attacks = 0u32;
            for r in &rows {
                attacks += u32::from(black_box(rf.vote(r)).class != 0);
            }
            attacks
        })
    });
    g.bench_function("random_forest_vote_separable", |b| {
        b.iter(|| {
            let mut attacks = 0u32;
            for r in &rows_sep {
                attacks += u32::from(black_box(rf_sep.vote(r)).class != 0);
            }
            attacks
        })
    });
    g.bench_function("isolation_forest_score", |b| {
        b.iter(|| rows.iter().map(|r| iso.score(black_box(r))).sum::<f64>())
    });
    // The detectors on rows that raise nothing: alert threshold 1.0, rows scoring below it.
    let flow = netsec_benches::ml_flow();
    let quiet_rf: Vec<FeatureVector> = vectors
        .iter()
        .filter(|v| rf.attack_score(&without_context(v.as_array())) < 1.0)
        .copied()
        .collect();
    let quiet_iso: Vec<FeatureVector> = vectors
        .iter()
        .filter(|v| iso.score(&without_context(v.as_array())) < 1.0)
        .copied()
        .collect();
    // The forest as the sensor runs it: alerts, explanations, drift and episodes.
    let mut file = ModelFile::new("bench", "1", Model::RandomForest(rf.clone()));
    file.training.feature_bins = Some(FeatureBins::from_rows(data.features.view()));
    let mut sensor_like = EpisodeAggregator::new(detector_for(&file), EpisodeConfig::default());
    let flows = netsec_benches::ml_flows(SCORED);
    let mut out = Vec::new();
    g.throughput(Throughput::Elements(SCORED as u64));
    g.bench_function("random_forest_detector_episodes", |b| {
        b.iter(|| {
            for (f, v) in flows.iter().zip(&vectors) {
                sensor_like.on_flow_end(f, black_box(v), &mut out);
            }
            out.clear();
        })
    });
    for (model, quiet) in [
        (Model::RandomForest(rf), quiet_rf),
        (Model::IsolationForest(iso), quiet_iso),
    ] {
        let mut file = ModelFile::new("bench", "1", model);
        file.thresholds = never();
        let mut detector = detector_for(&file);
        let mut out = Vec::new();
        g.throughput(Throughput::Elements(quiet.len() as u64));
        g.bench_function(format!("{}_detector_quiet", file.kind()), |b| {
            b.iter(|| {
                for v in &quiet {
                    detector.on_flow_end(&flow, black_box(v), &mut out);
                }
                out.len()
            })
        });
        assert!(out.is_empty());
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
