//! Which features pushed a decision: the shape both models' explanations take.
//!
//! Each model accumulates a non-negative weight per feature along the decision paths of the
//! row it explains (the random forest: impurity decrease of the splits; the isolation forest:
//! how shallow the splits that isolated the row were; see their `explain` methods), and
//! `top_features` turns those weights into the `k` largest shares.

use crate::inputs::{Input, InputRow, INPUT_COUNT};

/// One feature's part in a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureContribution {
    /// The input (a flow or context feature).
    pub feature: Input,
    /// Its share of the explanation weight, 0..=1; the shares of all features sum to 1.
    pub share: f64,
    /// The row's value of the feature.
    pub value: f64,
}

/// The `k` features with the largest weights (ties: spec order), as shares of the total
/// weight; empty when no feature has weight.
pub(crate) fn top_features(
    weights: &InputRow,
    row: &InputRow,
    k: usize,
) -> Vec<FeatureContribution> {
    let total: f64 = weights.iter().filter(|w| w.is_finite()).sum();
    if total <= 0.0 || !total.is_finite() {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..INPUT_COUNT)
        .filter(|&i| weights[i].is_finite() && weights[i] > 0.0)
        .collect();
    order.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
    order
        .into_iter()
        .take(k)
        .filter_map(|i| {
            Some(FeatureContribution {
                feature: Input::from_index(i)?,
                share: weights[i] / total,
                value: row[i],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsec_core::features::Feature;

    #[test]
    fn largest_shares_first_ties_in_spec_order() {
        let mut w = [0.0; INPUT_COUNT];
        w[4] = 1.0;
        w[2] = 2.0;
        w[7] = 1.0;
        let row = [3.0; INPUT_COUNT];
        let top = top_features(&w, &row, 2);
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].feature, Input::Flow(Feature::TotBwdPkts));
        assert!((top[0].share - 0.5).abs() < 1e-12);
        assert_eq!(top[1].feature, Input::Flow(Feature::TotlenBwd));
        assert_eq!(top[1].value, 3.0);
        assert!(top_features(&[0.0; INPUT_COUNT], &row, 3).is_empty());
    }
}
