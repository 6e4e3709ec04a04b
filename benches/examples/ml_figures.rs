//! Training time and model file size for 100,000 rows, the figures `benches/benches/ml.rs`
//! does not time (a training bench would make `cargo bench` slow):
//!
//! ```text
//! cargo run --release -p netsec-benches --example ml_figures [ROWS [CENTRE_RANGE]]
//! ```
//!
//! Trains the default 100-tree random forest on `ROWS` (default 100,000) synthetic rows of 8
//! classes (`netsec_benches::ml_rows`, centres over `CENTRE_RANGE`, default 8: well separated
//! classes, as most attack classes are) and the default isolation forest (t = 100, ψ = 256) on
//! the same number of benign rows, then prints wall-clock training times, node counts and the
//! size of each model file. linfa-trees scans every row of the bootstrap for every feature at
//! every node, so forest training time grows with rows × nodes.
//!
//! Then both models score 10,000 fresh rows 20 times on one thread, and the scoring rate is
//! printed per second of wall time and per second of this process's CPU time (from
//! `/proc/self/stat`, Linux only), which stays meaningful on a machine busy with other work.
use std::time::Instant;

use netsec_ml::inputs::{without_context, InputRow};
use netsec_ml::{IsolationForestParams, Model, ModelFile, RandomForestParams};

/// Runs `score` over `rows` `passes` times; prints flows/s per wall and per CPU second.
fn rate(name: &str, rows: &[InputRow], passes: usize, mut score: impl FnMut(&InputRow) -> f64) {
    let (wall, cpu) = (Instant::now(), netsec_benches::cpu_seconds());
    let mut sink = 0.0;
    for _ in 0..passes {
        for r in rows {
            sink += score(std::hint::black_box(r));
        }
    }
    let flows = (rows.len() * passes) as f64;
    let wall = wall.elapsed().as_secs_f64();
    let cpu = cpu.zip(netsec_benches::cpu_seconds()).map(|(a, b)| b - a);
    println!(
        "{name}: {:.0} flows/s per wall second, {} per CPU second (checksum {sink:.1})",
        flows / wall,
        cpu.map_or("?".into(), |c| format!(
            "{:.0} flows/s",
            flows / c.max(0.01)
        ))
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = match std::env::args().nth(1) {
        Some(a) => a.parse()?,
        None => 100_000,
    };
    let range: f64 = match std::env::args().nth(2) {
        Some(a) => a.parse()?,
        None => 8.0,
    };
    let data = netsec_benches::ml_dataset(n, 8, range, 42);
    let t = Instant::now();
    let rf = RandomForestParams {
        seed: 1,
        ..RandomForestParams::default()
    }
    .fit(&data)?;
    let rf_secs = t.elapsed().as_secs_f64();
    let (rf_trees, rf_nodes) = (rf.n_trees(), rf.n_nodes());
    let (fresh, _) = netsec_benches::ml_rows(10_000, 8, range, 7);
    let fresh: Vec<InputRow> = fresh.iter().map(without_context).collect();
    rate("random forest vote", &fresh, 20, |r| {
        rf.vote(r).attack_score
    });
    let rf_bytes = ModelFile::new("bench-rf", "1", Model::RandomForest(rf))
        .to_bytes()?
        .len();
    println!(
        "random forest: {n} rows, {rf_trees} trees, {rf_nodes} nodes, trained in {rf_secs:.1} s, file {rf_bytes} bytes"
    );

    let (benign, _) = netsec_benches::ml_rows(n, 1, range, 43);
    let benign = netsec_benches::ml_matrix(&benign);
    let t = Instant::now();
    let iso = IsolationForestParams::default()
        .seed(1)
        .fit_rows(benign.view())?;
    let iso_secs = t.elapsed().as_secs_f64();
    let (iso_trees, iso_nodes) = (iso.n_trees(), iso.n_nodes());
    rate("isolation forest score", &fresh, 20, |r| iso.score(r));
    let iso_bytes = ModelFile::new("bench-iforest", "1", Model::IsolationForest(iso))
        .to_bytes()?
        .len();
    println!(
        "isolation forest: {n} rows, {iso_trees} trees, {iso_nodes} nodes, trained in {:.1} ms, file {iso_bytes} bytes",
        iso_secs * 1e3
    );
    Ok(())
}
