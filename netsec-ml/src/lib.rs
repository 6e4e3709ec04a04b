//! netsec-ml: random-forest and isolation-forest detectors over the 25 flow features and
//! three context features.
//!
//! Training data is a [`Dataset`](dataset::Dataset) (rows × [`inputs::INPUT_COUNT`] columns in
//! [`inputs::Input`] order: the 25 flow features of `FEATURES.md`, then what the recent flows
//! say about the flow's responder, see [`context`]; class 0 = `BENIGN`); models score a row
//! given as an [`inputs::InputRow`] (what [`context::FlowContext::row`] builds from a flow in
//! export order), or whole `ArrayView2`s.
//!
//! - [`dataset::Dataset`]: labelled rows (class 0 = `BENIGN`), the shape loaders produce:
//!   from CICFlowMeter CSVs ([`cic`]) or from captures plus a label file ([`labels`],
//!   [`captures`]); [`split`] makes seeded stratified train/test splits and folds, and
//!   [`metrics`] scores predictions the way scikit-learn users expect.
//! - [`forest`]: [`RandomForestParams::fit`] trains with linfa-ensemble and converts the trees
//!   into a flat [`RandomForestModel`] that votes without allocating.
//! - [`iforest`]: [`IsolationForestParams`] → [`IsolationForestModel`] (Liu, Ting & Zhou
//!   2008), linfa-style, seedable.
//! - [`model`]: [`ModelFile`], the one versioned file format for both, with thresholds and
//!   [`TrainingMeta`].
//! - [`inputs`] and [`context`]: the columns a model reads and the bounded per-address counts
//!   that give a flow its context.
//! - [`detector`]: [`RandomForestDetector`] and [`IsolationForestDetector`] score finished
//!   flows as `netsec_core` [`Detector`](netsec_core::detect::Detector)s; [`load_detector`]
//!   builds the right one from a file.
//!
//! Both models score through one flat, branch-free tree layout (private module `tree`):
//! 16-byte nodes in one array, 16 trees walked in lockstep, no allocation per row.
//! `benches/benches/ml.rs` measures scoring; `cargo run --release -p netsec-benches --example
//! ml_figures` prints training time and file sizes.
//!
//! ```
//! use linfa::traits::Predict;
//! use ndarray::Array2;
//! use netsec_ml::dataset::Dataset;
//! use netsec_ml::inputs::INPUT_COUNT;
//! use netsec_ml::{IsolationForestParams, Model, ModelFile, RandomForestParams};
//!
//! // Two classes: benign rows near 1, attack rows near 9 (25 flow features and 3 context
//! // features each).
//! let features = Array2::from_shape_fn((200, INPUT_COUNT), |(i, j)| {
//!     (if i % 2 == 0 { 1.0 } else { 9.0 }) + ((i * 7 + j) % 5) as f64 * 0.1
//! });
//! let labels = (0..200).map(|i| i % 2).collect();
//! let data = Dataset { features, labels, class_names: vec!["BENIGN".into(), "DoS".into()] };
//!
//! let forest = RandomForestParams { n_trees: 10, seed: 7, ..Default::default() }.fit(&data)?;
//! let attack = [9.0; INPUT_COUNT];
//! assert_eq!(forest.vote(&attack).class, 1);
//! assert!(forest.attack_score(&attack) > 0.5);
//!
//! // The isolation forest learns benign rows only.
//! let benign = data.features.select(ndarray::Axis(0), &(0..200).step_by(2).collect::<Vec<_>>());
//! let iforest = IsolationForestParams::default().seed(7).fit_rows(benign.view())?;
//! let scores = iforest.predict(&data.features); // linfa's Predict: anomaly scores
//! assert!(scores[1] > scores[0]);
//!
//! // Save with metadata, load back: the same model.
//! let mut file = ModelFile::new("demo-rf", "1", Model::RandomForest(forest));
//! file.training.seed = 7;
//! file.training.date = "2026-11-21".into();
//! let bytes = file.to_bytes()?;
//! assert_eq!(ModelFile::from_bytes(&bytes)?, file);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod captures;
pub mod cic;
pub mod context;
pub mod dataset;
pub mod detector;
pub mod drift;
pub mod error;
pub mod evaluate;
pub mod explain;
pub mod forest;
pub mod grouped;
pub mod iforest;
pub mod inputs;
pub mod labels;
pub mod metrics;
pub mod model;
pub mod split;
pub mod train;
mod tree;

pub use detector::{
    detector_for, load_detector, IsolationForestDetector, ModelFileLoader, RandomForestDetector,
};
pub use error::MlError;
pub use explain::FeatureContribution;
pub use forest::{ForestVote, RandomForestModel, RandomForestParams, MAX_CLASSES};
pub use iforest::{IsolationForestModel, IsolationForestParams, IsolationForestValidParams};
pub use model::{Model, ModelError, ModelFile, ModelKind, Thresholds, TrainingMeta};
