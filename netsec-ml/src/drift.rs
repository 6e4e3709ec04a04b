//! Drift: is the traffic being scored like the traffic the model learnt from?
//!
//! A model file can carry [`FeatureBins`]: for each input column (the 25 flow features and the context features), the training rows'
//! deciles (ties merged, so a mostly-zero feature gets few bins) and the share of training
//! rows in each bin. A [`DriftMonitor`] counts the scored flows into the same bins and
//! computes the **population stability index** per feature,
//! `PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ)` over the bins (`e` the training shares, `a` the scored
//! ones, both floored at 10⁻⁴). By the usual reading, below 0.1 the distributions are alike,
//! 0.1–0.25 is a moderate shift and above [`PSI_LIMIT`] (0.25) a major one: the model is
//! scoring traffic unlike its training data, and its scores deserve less trust. A model
//! trained on many captures raises its limit to the largest PSI any single training capture
//! shows against the mixture ([`FeatureBins::limit_from`]), since one network is never the
//! mixture. Drift is only judged once [`MIN_FLOWS`] flows were scored.
//!
//! Observing a flow costs one binary search per input column over at most 9 edges; nothing is allocated.
//!
//! ```
//! use ndarray::Array2;
//! use netsec_ml::drift::{DriftMonitor, FeatureBins};
//! use netsec_ml::inputs::INPUT_COUNT;
//!
//! // Training rows: every feature spread over 0..100.
//! let train = Array2::from_shape_fn((1000, INPUT_COUNT), |(i, _)| (i % 100) as f64);
//! let bins = FeatureBins::from_rows(train.view());
//! let mut monitor = DriftMonitor::new(&bins).expect("valid bins");
//! // Scored flows: the same spread, except feature 3, always 1,000.
//! for i in 0..500 {
//!     let mut row = [(i % 100) as f64; INPUT_COUNT];
//!     row[3] = 1000.0;
//!     monitor.observe(&row);
//! }
//! let drifted = monitor.drifted();
//! assert_eq!(drifted.len(), 1);
//! assert_eq!(drifted[0].0.name(), "totlen_fwd");
//! ```

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::inputs::{Input, InputRow, INPUT_COUNT};

/// Most bins per feature (deciles).
pub const BINS: usize = 10;

/// PSI above which a feature counts as drifted.
pub const PSI_LIMIT: f64 = 0.25;

/// Scored flows needed before drift is judged.
pub const MIN_FLOWS: u64 = 200;

/// Floor of a bin's share in the PSI (an empty bin would make it infinite).
const FLOOR: f64 = 1e-4;

/// The training distribution of every feature: bin edges and the share of rows per bin.
///
/// A value `v` falls in bin `i` = the number of edges `<= v`, so feature `f` has
/// `edges[f].len() + 1` bins and `expected[f]` as many shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureBins {
    /// Per feature, increasing bin edges (at most `BINS − 1`).
    pub edges: Vec<Vec<f64>>,
    /// Per feature, the share of training rows in each bin.
    pub expected: Vec<Vec<f64>>,
    /// PSI above which a feature counts as drifted (default [`PSI_LIMIT`]). Training that
    /// mixes many captures sets it to the largest PSI the ordinary traffic of any one
    /// training capture shows against the mixture ([`FeatureBins::limit_from`]): "far" then
    /// means farther than any benign traffic the model learnt from.
    #[serde(default = "default_limit")]
    pub psi_limit: f64,
}

fn default_limit() -> f64 {
    PSI_LIMIT
}

fn bin_of(edges: &[f64], v: f64) -> usize {
    edges.partition_point(|&e| e <= v)
}

impl FeatureBins {
    /// The deciles of `rows` (columns in [`Input`] order) and the share of rows in each bin.
    /// Rows with fewer than [`INPUT_COUNT`] columns give empty bins for the missing features.
    pub fn from_rows(rows: ArrayView2<'_, f64>) -> FeatureBins {
        let mut edges = Vec::with_capacity(INPUT_COUNT);
        let mut expected = Vec::with_capacity(INPUT_COUNT);
        for f in 0..INPUT_COUNT {
            let mut col: Vec<f64> = if f < rows.ncols() {
                rows.column(f)
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect()
            } else {
                Vec::new()
            };
            col.sort_by(f64::total_cmp);
            let mut e: Vec<f64> = Vec::new();
            if !col.is_empty() {
                for q in 1..BINS {
                    let v = col[(q * col.len() / BINS).min(col.len() - 1)];
                    // An edge equal to the smallest value would leave bin 0 empty.
                    if v > col[0] && e.last().is_none_or(|&last| v > last) {
                        e.push(v);
                    }
                }
            }
            let mut counts = vec![0u64; e.len() + 1];
            for &v in &col {
                counts[bin_of(&e, v)] += 1;
            }
            let n = col.len().max(1) as f64;
            expected.push(counts.iter().map(|&c| c as f64 / n).collect());
            edges.push(e);
        }
        FeatureBins {
            edges,
            expected,
            psi_limit: PSI_LIMIT,
        }
    }

    /// Sets [`psi_limit`](Self::psi_limit) to the largest PSI of any feature of any of
    /// `groups` (each a set of rows, e.g. one training capture) with at least [`MIN_FLOWS`]
    /// rows, and at least [`PSI_LIMIT`].
    pub fn limit_from<'a>(&mut self, groups: impl IntoIterator<Item = &'a [InputRow]>) {
        let mut limit = PSI_LIMIT;
        if self.check().is_ok() {
            for rows in groups {
                if (rows.len() as u64) < MIN_FLOWS {
                    continue;
                }
                let mut m = DriftMonitor {
                    bins: self.clone(),
                    counts: vec![[0; BINS]; INPUT_COUNT],
                    flows: 0,
                };
                for r in rows {
                    m.observe(r);
                }
                limit = m.psi().iter().copied().fold(limit, f64::max);
            }
        }
        self.psi_limit = limit;
    }

    /// Checks the shape: [`INPUT_COUNT`] columns, at most `BINS − 1` finite increasing edges each, one
    /// share per bin, shares in 0..=1.
    ///
    /// # Errors
    /// What is wrong, naming the feature.
    pub fn check(&self) -> Result<(), String> {
        if self.edges.len() != INPUT_COUNT || self.expected.len() != INPUT_COUNT {
            return Err(format!(
                "feature_bins must have {INPUT_COUNT} features, has {} edges and {} shares",
                self.edges.len(),
                self.expected.len()
            ));
        }
        for (f, (e, x)) in self.edges.iter().zip(&self.expected).enumerate() {
            let ok = e.len() < BINS
                && x.len() == e.len() + 1
                && e.iter().all(|v| v.is_finite())
                && e.windows(2).all(|w| w[0] < w[1])
                && x.iter().all(|s| (0.0..=1.0).contains(s))
                && self.psi_limit.is_finite()
                && self.psi_limit > 0.0;
            if !ok {
                return Err(format!("feature_bins: feature {f} has invalid bins"));
            }
        }
        Ok(())
    }
}

/// Counts scored flows into a model's training bins and reports the features that drifted.
#[derive(Debug, Clone)]
pub struct DriftMonitor {
    bins: FeatureBins,
    /// Per feature, `BINS` counters (only the first `edges + 1` used).
    counts: Vec<[u64; BINS]>,
    flows: u64,
}

impl DriftMonitor {
    /// A monitor for `bins`; `None` when they are malformed ([`FeatureBins::check`]).
    pub fn new(bins: &FeatureBins) -> Option<DriftMonitor> {
        bins.check().ok()?;
        Some(DriftMonitor {
            bins: bins.clone(),
            counts: vec![[0; BINS]; INPUT_COUNT],
            flows: 0,
        })
    }

    /// Counts one scored row.
    pub fn observe(&mut self, row: &InputRow) {
        self.flows += 1;
        for ((counts, edges), &v) in self.counts.iter_mut().zip(&self.bins.edges).zip(row) {
            if let Some(c) = counts.get_mut(bin_of(edges, v)) {
                *c += 1;
            }
        }
    }

    /// The PSI above which a feature counts as drifted.
    pub fn psi_limit(&self) -> f64 {
        self.bins.psi_limit
    }

    /// Rows observed.
    pub fn flows(&self) -> u64 {
        self.flows
    }

    /// The PSI of every feature, in [`Input`] order (0 before any flow).
    pub fn psi(&self) -> InputRow {
        let mut out = [0.0; INPUT_COUNT];
        if self.flows == 0 {
            return out;
        }
        let n = self.flows as f64;
        for (f, psi) in out.iter_mut().enumerate() {
            let expected = &self.bins.expected[f];
            *psi = expected
                .iter()
                .zip(&self.counts[f])
                .map(|(&e, &c)| {
                    let (e, a) = (e.max(FLOOR), (c as f64 / n).max(FLOOR));
                    (a - e) * (a / e).ln()
                })
                .sum();
        }
        out
    }

    /// Features whose PSI is above the bins' [`psi_limit`](FeatureBins::psi_limit), largest
    /// first, once at least [`MIN_FLOWS`] flows were observed (else none).
    pub fn drifted(&self) -> Vec<(Input, f64)> {
        if self.flows < MIN_FLOWS {
            return Vec::new();
        }
        let mut out: Vec<(Input, f64)> = Input::all()
            .zip(self.psi())
            .filter(|(_, p)| *p > self.bins.psi_limit)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn uniform() -> FeatureBins {
        FeatureBins::from_rows(
            Array2::from_shape_fn((1000, INPUT_COUNT), |(i, _)| (i % 100) as f64).view(),
        )
    }

    #[test]
    fn deciles_split_rows_evenly_and_merge_ties() {
        let b = uniform();
        assert_eq!(b.edges[0].len(), 9);
        assert!(b.expected[0].iter().all(|&s| (s - 0.1).abs() < 1e-9));
        // Mostly zero: 80 % zeros, then 1..=200.
        let rows = Array2::from_shape_fn((1000, INPUT_COUNT), |(i, _)| {
            if i < 800 {
                0.0
            } else {
                (i - 799) as f64
            }
        });
        let z = FeatureBins::from_rows(rows.view());
        assert_eq!(z.edges[0][0], 1.0, "{:?}", z.edges[0]);
        assert!((z.expected[0][0] - 0.8).abs() < 1e-9);
        z.check().unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn same_distribution_does_not_drift_and_a_shift_does() {
        let b = uniform();
        let mut same = DriftMonitor::new(&b).unwrap_or_else(|| panic!("valid"));
        for i in 0..1000 {
            same.observe(&[(i % 100) as f64; INPUT_COUNT]);
        }
        assert!(same.psi().iter().all(|&p| p < 0.01), "{:?}", same.psi());
        assert!(same.drifted().is_empty());
        let mut shifted = DriftMonitor::new(&b).unwrap_or_else(|| panic!("valid"));
        for i in 0..199 {
            shifted.observe(&[1e6 + i as f64; INPUT_COUNT]);
        }
        assert!(
            shifted.drifted().is_empty(),
            "below MIN_FLOWS nothing is judged"
        );
        shifted.observe(&[1e6; INPUT_COUNT]);
        assert_eq!(shifted.drifted().len(), INPUT_COUNT);
    }

    #[test]
    fn malformed_bins_are_refused_not_trusted() {
        let mut b = uniform();
        b.edges[4] = vec![3.0, 2.0];
        b.expected[4] = vec![0.3, 0.3, 0.4];
        assert!(DriftMonitor::new(&b).is_none());
        let mut short = uniform();
        short.expected.pop();
        assert!(short.check().is_err());
        let mut nan = uniform();
        nan.edges[0][0] = f64::NAN;
        assert!(nan.check().is_err());
    }
}
