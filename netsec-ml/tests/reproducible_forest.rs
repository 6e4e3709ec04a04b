//! A seeded random forest trains to the same bytes every time, also on multi-class data full of
//! ties. Upstream linfa-trees 0.8.1 counts classes in `std` hash maps, whose iteration order is
//! random per map even within one process, and breaks modal-class ties and sums Gini terms in
//! that order; the patched copy in `vendor/linfa-trees` iterates in label order. Without the
//! patch this test fails (the two files differ).

use ndarray::Array2;
use netsec_ml::dataset::{Dataset, BENIGN};
use netsec_ml::inputs::INPUT_COUNT;
use netsec_ml::{Model, ModelFile, RandomForestParams};

/// Four classes on coarse integer features: many identical rows carry different labels, so
/// leaves hold tied class counts and candidate splits tie or nearly tie on Gini.
fn tied_classes(n: usize) -> Dataset {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 33) % m
    };
    let mut x = Array2::zeros((n, INPUT_COUNT));
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        // Only 3^4 = 81 distinct rows: columns 0..4 take 0..=2, the rest is constant.
        for j in 0..4 {
            x[(i, j)] = next(3) as f64;
        }
        // The label leans on column 0 but is often another class.
        let class = if next(2) == 0 {
            x[(i, 0)] as usize
        } else {
            next(4) as usize
        };
        labels.push(class);
    }
    let names = [BENIGN, "DoS", "PortScan", "Botnet"]
        .map(String::from)
        .to_vec();
    Dataset::new(x, labels, names).expect("valid dataset")
}

fn forest_bytes(data: &Dataset) -> Vec<u8> {
    let model = RandomForestParams {
        n_trees: 20,
        max_depth: None,
        min_samples_leaf: 1,
        seed: 7,
        n_jobs: Some(1),
        ..RandomForestParams::default()
    }
    .fit(data)
    .expect("trains");
    ModelFile::new("tied", "1", Model::RandomForest(model))
        .to_bytes()
        .expect("serialises")
}

#[test]
fn same_seed_same_bytes_on_tied_multiclass_data() {
    let data = tied_classes(600);
    let first = forest_bytes(&data);
    for run in 1..3 {
        assert!(
            forest_bytes(&data) == first,
            "run {run} trained a different forest from the same seed and data"
        );
    }
}
