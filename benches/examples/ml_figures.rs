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
use std::time::Instant;

use ndarray::Array2;
use netsec_ml::dataset::Dataset;
use netsec_ml::{IsolationForestParams, Model, ModelFile, RandomForestParams};

fn matrix(rows: &[[f64; 25]]) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), 25), |(i, j)| rows[i][j])
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
    let (rows, labels) = netsec_benches::ml_rows(n, 8, range, 42);
    let data = Dataset {
        features: matrix(&rows),
        labels,
        class_names: (0..8)
            .map(|c| {
                if c == 0 {
                    "BENIGN".into()
                } else {
                    format!("class_{c}")
                }
            })
            .collect(),
    };
    let t = Instant::now();
    let rf = RandomForestParams {
        seed: 1,
        ..RandomForestParams::default()
    }
    .fit(&data)?;
    let rf_secs = t.elapsed().as_secs_f64();
    let (rf_trees, rf_nodes) = (rf.n_trees(), rf.n_nodes());
    let rf_bytes = ModelFile::new("bench-rf", "1", Model::RandomForest(rf))
        .to_bytes()?
        .len();
    println!(
        "random forest: {n} rows, {rf_trees} trees, {rf_nodes} nodes, trained in {rf_secs:.1} s, file {rf_bytes} bytes"
    );

    let (benign, _) = netsec_benches::ml_rows(n, 1, range, 43);
    let benign = matrix(&benign);
    let t = Instant::now();
    let iso = IsolationForestParams::default()
        .seed(1)
        .fit_rows(benign.view())?;
    let iso_secs = t.elapsed().as_secs_f64();
    let (iso_trees, iso_nodes) = (iso.n_trees(), iso.n_nodes());
    let iso_bytes = ModelFile::new("bench-iforest", "1", Model::IsolationForest(iso))
        .to_bytes()?
        .len();
    println!(
        "isolation forest: {n} rows, {iso_trees} trees, {iso_nodes} nodes, trained in {:.1} ms, file {iso_bytes} bytes",
        iso_secs * 1e3
    );
    Ok(())
}
