//! The shape every loader produces and every model consumes.

use ndarray::Array2;

/// Name of the class every benign row carries; always class index 0.
pub const BENIGN: &str = "BENIGN";

/// Labelled rows of the 25 flow features.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// One row per flow, one column per [`netsec_core::features::Feature`], in spec order.
    pub features: Array2<f64>,
    /// Class index of each row, into `class_names`.
    pub labels: Vec<usize>,
    /// Class names; index 0 is always [`BENIGN`].
    pub class_names: Vec<String>,
}
