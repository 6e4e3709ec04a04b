//! Isolation forest (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008), in linfa's shape:
//! [`IsolationForestParams`] → [`ParamGuard::check`] →
//! [`Fit::fit`] → [`IsolationForestModel`], which implements linfa's `Predict` (anomaly
//! scores).
//!
//! - **Training** (on benign rows): each of `n_trees` trees grows on `subsample` rows (ψ,
//!   default 256) drawn without replacement. A node picks a feature uniformly among those not
//!   constant in the node (the paper picks any feature; a constant one cannot split) and a split
//!   value uniformly between that feature's minimum and maximum in the node, and stops at the
//!   height limit ⌈log2 ψ⌉ or when one row is left.
//! - **Log scale** (default, [`IsolationForestParams::log_scale`]): the split value is drawn
//!   uniformly between the minimum and maximum of sign(x)·ln(1 + |x|) and mapped back, so a
//!   split is as likely between 10 and 100 bytes as between 10 and 100 MB. Flow features are
//!   heavy-tailed (durations, byte counts, rates span ten orders of magnitude); drawn on a
//!   linear scale almost every split falls above the bulk of the rows, and a forest isolates
//!   the few long sessions instead of the floods of tiny flows (on the shared captures: flow
//!   ROC-AUC 0.34 linear, see models/README.md). The trees keep raw split values, so scoring
//!   and explanations are unchanged; `false` is the paper's linear draw.
//! - **Scoring**: a row's path length in a tree is the depth of the leaf it reaches plus
//!   c(n) for the n training rows left in that leaf, where c(n) = 2H(n−1) − 2(n−1)/n is the
//!   average path length of an unsuccessful binary-search-tree search (c(2) = 1,
//!   c(n ≤ 1) = 0). The score is s = 2^(−E\[h\]/c(ψ)): near 1 for anomalies, below 0.5 for rows
//!   like the training data. Leaves store depth + c(n), so scoring is one walk per tree and a
//!   sum, with no allocation.
//! - **Reproducible**: a ChaCha8 generator seeded from `seed` draws every sample, feature and
//!   split value, so a seed gives identical trees on every platform.
//! - **Explanations** ([`IsolationForestModel::explain`]): in each tree where the row was
//!   isolated sooner than the average path c(ψ), the feature of the split that cut it off
//!   (the last split on its path) earns (c(ψ) − h)/c(ψ); the features with the most credit
//!   are those whose splits isolated the row at the shallowest depths. A row no tree isolated
//!   early has no explanation.

use linfa::traits::{Fit, PredictInplace};
use linfa::{DatasetBase, ParamGuard};
use ndarray::{Array1, ArrayBase, ArrayView2, Data, Ix2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::MlError;
use crate::explain::{top_features, FeatureContribution};
use crate::forest::{check_rows, map_rows};
use crate::inputs::{InputRow, INPUT_COUNT};
use crate::tree::{FlatForest, Node, TreeRepr};

/// Euler–Mascheroni constant, for the harmonic number in [`average_path_length`].
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Deepest height limit accepted (a tree of ψ ≤ 2^24 rows never needs more).
const MAX_DEPTH_LIMIT: usize = 64;

/// c(n): the average path length of an unsuccessful search in a binary search tree of `n`
/// nodes, which normalises isolation path lengths (0 for n ≤ 1, 1 for n = 2).
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let n = n as f64;
            2.0 * ((n - 1.0).ln() + EULER_GAMMA) - 2.0 * (n - 1.0) / n
        }
    }
}

/// Checked hyperparameters of the isolation forest, which [`Fit`] trains; get them from
/// [`IsolationForestParams`] through [`ParamGuard::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationForestValidParams {
    n_trees: usize,
    subsample: usize,
    max_depth: Option<usize>,
    seed: u64,
    /// Split values drawn on a log scale (absent in files of earlier builds: linear).
    #[serde(default)]
    log_scale: bool,
}

/// Hyperparameters of the isolation forest, unchecked, built linfa-style:
/// `IsolationForestParams::default().n_trees(100).seed(7).check()?` (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IsolationForestParams(IsolationForestValidParams);

impl Default for IsolationForestParams {
    /// t = 100 trees, ψ = 256, height limit ⌈log2 ψ⌉, seed 0, splits on a log scale.
    fn default() -> Self {
        IsolationForestParams(IsolationForestValidParams {
            n_trees: 100,
            subsample: 256,
            max_depth: None,
            seed: 0,
            log_scale: true,
        })
    }
}

impl IsolationForestParams {
    /// Number of trees t (default 100; 1..=10000).
    pub fn n_trees(mut self, n: usize) -> Self {
        self.0.n_trees = n;
        self
    }

    /// Rows per tree ψ (default 256; 2..=2^24; fewer are used when the data has fewer rows).
    pub fn subsample(mut self, psi: usize) -> Self {
        self.0.subsample = psi;
        self
    }

    /// Height limit; `None` (default) means ⌈log2 ψ⌉ as in the paper (else 1..=64).
    pub fn max_depth(mut self, depth: Option<usize>) -> Self {
        self.0.max_depth = depth;
        self
    }

    /// Seed of every random draw (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }

    /// Draw split values on a log scale (default `true`; see the module docs) or, `false`,
    /// linearly as the paper does.
    pub fn log_scale(mut self, on: bool) -> Self {
        self.0.log_scale = on;
        self
    }

    /// Checks the parameters and trains on the rows of `x` (normally the benign rows).
    ///
    /// # Errors
    /// [`MlError::InvalidParams`] and the errors of [`IsolationForestValidParams::fit_rows`].
    pub fn fit_rows(&self, x: ArrayView2<'_, f64>) -> Result<IsolationForestModel, MlError> {
        self.check_ref()?.fit_rows(x)
    }
}

impl ParamGuard for IsolationForestParams {
    type Checked = IsolationForestValidParams;
    type Error = MlError;

    fn check_ref(&self) -> Result<&IsolationForestValidParams, MlError> {
        self.0.validate()?;
        Ok(&self.0)
    }

    fn check(self) -> Result<IsolationForestValidParams, MlError> {
        self.0.validate()?;
        Ok(self.0)
    }
}

impl IsolationForestValidParams {
    /// Number of trees t.
    pub fn n_trees(&self) -> usize {
        self.n_trees
    }

    /// Rows per tree ψ requested.
    pub fn subsample(&self) -> usize {
        self.subsample
    }

    /// Height limit (`None`: ⌈log2 ψ⌉).
    pub fn max_depth(&self) -> Option<usize> {
        self.max_depth
    }

    /// Seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether split values are drawn on a log scale.
    pub fn log_scale(&self) -> bool {
        self.log_scale
    }

    /// Validates (also used on parameters read from a model file).
    pub(crate) fn validate(&self) -> Result<(), MlError> {
        let invalid = |param, reason: String| Err(MlError::InvalidParams { param, reason });
        if self.n_trees == 0 || self.n_trees > 10_000 {
            return invalid(
                "n_trees",
                format!("must be in 1..=10000, got {}", self.n_trees),
            );
        }
        if self.subsample < 2 || self.subsample > 1 << 24 {
            return invalid(
                "subsample",
                format!("must be in 2..=16777216, got {}", self.subsample),
            );
        }
        if let Some(d) = self.max_depth {
            if d == 0 || d > MAX_DEPTH_LIMIT {
                return invalid(
                    "max_depth",
                    format!("must be in 1..={MAX_DEPTH_LIMIT}, got {d}"),
                );
            }
        }
        Ok(())
    }

    /// Trains on the rows of `x` ([`INPUT_COUNT`] columns, finite; normally the benign rows).
    ///
    /// # Errors
    /// [`MlError::NoRows`], [`MlError::TooFewRows`] (fewer than 2), [`MlError::WrongWidth`],
    /// [`MlError::NonFinite`].
    pub fn fit_rows(&self, x: ArrayView2<'_, f64>) -> Result<IsolationForestModel, MlError> {
        check_rows(x)?;
        if x.nrows() < 2 {
            return Err(MlError::TooFewRows {
                needed: 2,
                found: x.nrows(),
            });
        }
        let psi = self.subsample.min(x.nrows());
        let limit = self
            .max_depth
            .unwrap_or_else(|| psi.next_power_of_two().trailing_zeros() as usize);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut forest = FlatForest::default();
        for _ in 0..self.n_trees {
            let mut sample = rand::seq::index::sample(&mut rng, x.nrows(), psi).into_vec();
            let nodes = grow(x, &mut sample, limit, self.log_scale, &mut rng);
            forest.push_tree(&nodes);
        }
        Ok(IsolationForestModel {
            forest,
            subsample: psi,
            params: self.clone(),
        })
    }
}

impl<D: Data<Elem = f64>, T> Fit<ArrayBase<D, Ix2>, T, MlError> for IsolationForestValidParams {
    type Object = IsolationForestModel;

    /// Trains on the records; targets are ignored (the forest is unsupervised).
    fn fit(
        &self,
        dataset: &DatasetBase<ArrayBase<D, Ix2>, T>,
    ) -> Result<IsolationForestModel, MlError> {
        self.fit_rows(dataset.records.view())
    }
}

/// Grows one isolation tree over the rows `sample` of `x` (reordered in place), returning its
/// nodes with local indices, children after parents.
fn grow(
    x: ArrayView2<'_, f64>,
    sample: &mut [usize],
    limit: usize,
    log_scale: bool,
    rng: &mut ChaCha8Rng,
) -> Vec<Node> {
    let scale = |v: f64| if log_scale { to_log(v) } else { v };
    let unscale = |v: f64| if log_scale { from_log(v) } else { v };
    let mut nodes = vec![Node::leaf(0.0)];
    // (node index, rows lo..hi of `sample`, depth)
    let mut stack = vec![(0usize, 0usize, sample.len(), 0usize)];
    while let Some((at, lo, hi, depth)) = stack.pop() {
        let rows = &mut sample[lo..hi];
        let leaf = Node::leaf(depth as f64 + average_path_length(rows.len()));
        if depth >= limit || rows.len() <= 1 {
            nodes[at] = leaf;
            continue;
        }
        let mut min = [f64::INFINITY; INPUT_COUNT];
        let mut max = [f64::NEG_INFINITY; INPUT_COUNT];
        for &r in rows.iter() {
            for (j, &v) in x.row(r).iter().enumerate().take(INPUT_COUNT) {
                let v = scale(v);
                min[j] = min[j].min(v);
                max[j] = max[j].max(v);
            }
        }
        let mut candidates = [0usize; INPUT_COUNT];
        let mut k = 0;
        for j in 0..INPUT_COUNT {
            if max[j] > min[j] {
                candidates[k] = j;
                k += 1;
            }
        }
        if k == 0 {
            nodes[at] = leaf;
            continue;
        }
        let q = candidates[rng.gen_range(0..k)];
        let u: f64 = rng.gen();
        // Written so that huge ranges cannot overflow to infinity.
        let split = unscale(min[q] * (1.0 - u) + max[q] * u);
        let mut left = 0;
        for i in 0..rows.len() {
            if x[(rows[i], q)] < split {
                rows.swap(i, left);
                left += 1;
            }
        }
        let child = nodes.len();
        nodes.extend([Node::leaf(0.0); 2]);
        nodes[at] = Node {
            value: split,
            feature: q as u32,
            child: child as u32,
        };
        stack.push((child + 1, lo + left, hi, depth + 1));
        stack.push((child, lo, lo + left, depth + 1));
    }
    nodes
}

/// sign(v)·ln(1 + |v|): the log scale of split draws.
fn to_log(v: f64) -> f64 {
    v.signum() * v.abs().ln_1p()
}

/// The inverse of [`to_log`].
fn from_log(y: f64) -> f64 {
    y.signum() * y.abs().exp_m1()
}

/// A trained isolation forest (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct IsolationForestModel {
    pub(crate) forest: FlatForest,
    /// ψ actually used (the subsample, or fewer when training had fewer rows).
    pub(crate) subsample: usize,
    pub(crate) params: IsolationForestValidParams,
}

impl IsolationForestModel {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.forest.n_trees()
    }

    /// Nodes over all trees.
    pub fn n_nodes(&self) -> usize {
        self.forest.nodes.len()
    }

    /// ψ used in training (normalises path lengths through c(ψ)).
    pub fn subsample(&self) -> usize {
        self.subsample
    }

    /// The parameters it was trained with.
    pub fn params(&self) -> &IsolationForestValidParams {
        &self.params
    }

    /// E[h(x)]: the mean path length of `row` over the trees.
    pub fn mean_path_length(&self, row: &InputRow) -> f64 {
        let mut sum = 0.0;
        self.forest.for_each_leaf(row, |leaf| sum += leaf.value);
        sum / self.n_trees().max(1) as f64
    }

    /// The anomaly score s = 2^(−E\[h\]/c(ψ)), in (0, 1]. No allocation.
    pub fn score(&self, row: &InputRow) -> f64 {
        (-self.mean_path_length(row) / average_path_length(self.subsample)).exp2()
    }

    /// Scores every row of `x` ([`INPUT_COUNT`] columns).
    ///
    /// # Errors
    /// [`MlError::WrongWidth`] when `x` does not have [`INPUT_COUNT`] columns.
    pub fn score_rows(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, MlError> {
        map_rows(x, |row| self.score(row))
    }

    /// The features whose splits isolated `row` soonest (see the module docs), at most `k`.
    pub fn explain(&self, row: &InputRow, k: usize) -> Vec<FeatureContribution> {
        let c = average_path_length(self.subsample);
        let mut weights = [0.0f64; INPUT_COUNT];
        for &root in &self.forest.roots {
            let mut last = None;
            let leaf = self.forest.walk(root, row, |_, i| last = Some(i));
            let (Some(i), true) = (last, leaf.value < c) else {
                continue;
            };
            let feature = self.forest.nodes[i].feature as usize;
            weights[feature] += (c - leaf.value) / c;
        }
        top_features(&weights, row, k)
    }

    /// The saved trees.
    pub(crate) fn tree_reprs(&self) -> Vec<TreeRepr> {
        (0..self.n_trees())
            .map(|t| self.forest.tree_repr(t, None, |path| (path, 0)))
            .collect()
    }

    /// Rebuilds a model from saved trees, validating every node.
    pub(crate) fn from_reprs(
        trees: &[TreeRepr],
        subsample: usize,
        params: IsolationForestValidParams,
    ) -> Result<Self, String> {
        params.validate().map_err(|e| e.to_string())?;
        if trees.is_empty() {
            return Err("no trees".into());
        }
        if !(2..=1 << 24).contains(&subsample) {
            return Err(format!("subsample {subsample} out of range"));
        }
        let mut forest = FlatForest::default();
        for (t, repr) in trees.iter().enumerate() {
            let nodes = repr
                .to_nodes(false, |value, child| {
                    if value.is_finite() && value >= 0.0 && child == 0 {
                        Ok(value)
                    } else {
                        Err(format!("bad leaf (path length {value}, child {child})"))
                    }
                })
                .map_err(|e| format!("tree {t}: {e}"))?;
            forest.push_tree(&nodes);
        }
        Ok(IsolationForestModel {
            forest,
            subsample,
            params,
        })
    }
}

impl<D: Data<Elem = f64>> PredictInplace<ArrayBase<D, Ix2>, Array1<f64>> for IsolationForestModel {
    /// Anomaly score of each row. Rows of the wrong width, and targets beyond the rows, get
    /// NaN (linfa's `PredictInplace` cannot report errors).
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f64>) {
        let scores = self.score_rows(x.view()).unwrap_or_default();
        for (i, target) in y.iter_mut().enumerate() {
            *target = scores.get(i).copied().unwrap_or(f64::NAN);
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forest::tests::TestRng;
    use linfa::traits::Predict;
    use ndarray::Array2;

    /// A Gaussian-ish blob (sum of uniforms) around 10 with spread 1 per feature.
    fn blob(n: usize, seed: u64) -> Array2<f64> {
        let mut rng = TestRng(seed);
        Array2::from_shape_fn((n, INPUT_COUNT), |_| {
            10.0 + (0..4).map(|_| rng.next_f64() - 0.5).sum::<f64>()
        })
    }

    fn as_row(v: ndarray::ArrayView1<'_, f64>) -> InputRow {
        let mut r = [0.0; INPUT_COUNT];
        for (d, s) in r.iter_mut().zip(v) {
            *d = *s;
        }
        r
    }

    #[test]
    fn c_of_n_matches_the_paper() {
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
        // c(256) ≈ 10.2448 (2·(ln 255 + γ) − 2·255/256).
        assert!((average_path_length(256) - 10.244_770_920_533_3).abs() < 1e-9);
    }

    #[test]
    fn log_scale_draws_isolate_a_tiny_row_among_heavy_tailed_ones() {
        // Column 0 spans 1..10^9 log-uniformly (byte counts, durations); the rest is constant.
        let mut train = Array2::zeros((1000, INPUT_COUNT));
        for i in 0..1000 {
            train[(i, 0)] = 10f64.powf(1.0 + 8.0 * (i as f64) / 1000.0);
        }
        let tiny = {
            let mut r = [0.0; INPUT_COUNT];
            r[0] = 0.0;
            r
        };
        let typical = {
            let mut r = [0.0; INPUT_COUNT];
            r[0] = 1e5;
            r
        };
        let fit = |log| {
            IsolationForestParams::default()
                .seed(3)
                .log_scale(log)
                .fit_rows(train.view())
                .expect("trains")
        };
        let (log, linear) = (fit(true), fit(false));
        assert!(log.params().log_scale() && !linear.params().log_scale());
        // Linear draws almost never split below 10^8: the tiny row looks typical.
        assert!(linear.score(&tiny) < 0.5, "{}", linear.score(&tiny));
        // Log draws cut the decades evenly: the row below them all is isolated early.
        assert!(log.score(&tiny) > 0.6, "{}", log.score(&tiny));
        assert!(log.score(&typical) < 0.5, "{}", log.score(&typical));
    }

    #[test]
    fn outliers_score_high_inliers_low() {
        let train = blob(2000, 1);
        // The paper's linear draws (the blob is not heavy-tailed; see the next test).
        let model = IsolationForestParams::default()
            .seed(9)
            .log_scale(false)
            .fit_rows(train.view())
            .expect("trains");
        assert_eq!(model.n_trees(), 100);
        assert_eq!(model.subsample(), 256);
        let inliers = blob(200, 2);
        let mean_in: f64 = model
            .score_rows(inliers.view())
            .expect("width")
            .iter()
            .sum::<f64>()
            / 200.0;
        assert!(mean_in < 0.5, "{mean_in}");
        let mut outlier = as_row(inliers.row(0));
        let off = [3, 7, 12, 18, 22];
        for &j in &off {
            outlier[j] = if j % 2 == 0 { -5.0 } else { 40.0 };
        }
        // Five of the features far out (most paths test none of them): the score rises above
        // every inlier's.
        let s = model.score(&outlier);
        let max_in = model
            .score_rows(inliers.view())
            .expect("width")
            .into_iter()
            .fold(0.0, f64::max);
        assert!(s > max_in, "{s} vs {max_in}");
        let mut far = outlier;
        far.iter_mut().take(10).for_each(|v| *v += 30.0);
        // Beyond the training range a row shares the extreme rows' leaves, so scores saturate
        // well below 1 in 25 dimensions; more deviant features still score higher.
        assert!(model.score(&far) > s.max(0.6), "{}", model.score(&far));
        let why = model.explain(&outlier, 2);
        let named: Vec<usize> = why.iter().map(|c| c.feature.index()).collect();
        assert_eq!(named.len(), 2);
        assert!(
            off.contains(&named[0]),
            "the strongest is a far-out feature: {why:?}"
        );
        // linfa's Predict gives the same scores.
        let via_linfa: Array1<f64> = model.predict(&inliers);
        assert_eq!(
            via_linfa.to_vec(),
            model.score_rows(inliers.view()).expect("width")
        );
    }

    #[test]
    fn a_seed_gives_identical_trees() {
        let train = blob(600, 3);
        let p = IsolationForestParams::default().n_trees(20).seed(5);
        let a = p.fit_rows(train.view()).expect("trains");
        let b = p.fit_rows(train.view()).expect("trains");
        assert_eq!(a, b);
        let c = p.clone().seed(6).fit_rows(train.view()).expect("trains");
        assert_ne!(a, c);
        // Through linfa's Fit on a dataset (targets ignored).
        let d: IsolationForestModel = p.fit(&DatasetBase::from(train.clone())).expect("trains");
        assert_eq!(a, d);
    }

    #[test]
    fn height_limit_and_small_data() {
        let train = blob(10, 4);
        let model = IsolationForestParams::default()
            .fit_rows(train.view())
            .expect("trains");
        assert_eq!(model.subsample(), 10);
        // ⌈log2 10⌉ = 4 levels of splits at most: at most 31 nodes per tree.
        assert!(model.n_nodes() <= 100 * 31);
        let two = blob(2, 4);
        assert!(IsolationForestParams::default()
            .fit_rows(two.view())
            .is_ok());
        let one = blob(1, 4);
        assert!(matches!(
            IsolationForestParams::default().fit_rows(one.view()),
            Err(MlError::TooFewRows { .. })
        ));
        for p in [
            IsolationForestParams::default().n_trees(0),
            IsolationForestParams::default().subsample(1),
            IsolationForestParams::default().max_depth(Some(0)),
        ] {
            assert!(matches!(
                p.fit_rows(train.view()),
                Err(MlError::InvalidParams { .. })
            ));
        }
        // Constant data: every tree is a single leaf.
        let flat = Array2::from_elem((50, INPUT_COUNT), 1.0);
        let m = IsolationForestParams::default()
            .fit_rows(flat.view())
            .expect("trains");
        assert_eq!(m.n_nodes(), 100);
    }

    /// Cross-check with the `extended-isolation-forest` crate at extension level 0 (the
    /// original axis-parallel algorithm): scores rank-correlate (Spearman) ≥ 0.9.
    #[test]
    fn ranks_like_extended_isolation_forest_at_level_0() {
        let train = blob(3000, 8);
        // Test points from the centre out to far outliers, so scores spread.
        let mut rng = TestRng(77);
        let test: Vec<InputRow> = (0..400)
            .map(|i| {
                let reach = (i as f64 / 400.0) * 6.0;
                let mut r = [0.0; INPUT_COUNT];
                for v in r.iter_mut() {
                    *v = 10.0 + (rng.next_f64() - 0.5) * 2.0 * reach;
                }
                r
            })
            .collect();
        let ours = IsolationForestParams::default()
            .n_trees(200)
            .seed(1)
            .fit_rows(train.view())
            .expect("trains");
        let rows: Vec<InputRow> = train.rows().into_iter().map(as_row).collect();
        let theirs = extended_isolation_forest::Forest::from_slice(
            &rows,
            &extended_isolation_forest::ForestOptions {
                n_trees: 200,
                sample_size: 256,
                max_tree_depth: None,
                extension_level: 0,
            },
        )
        .expect("trains");
        let a: Vec<f64> = test.iter().map(|r| ours.score(r)).collect();
        let b: Vec<f64> = test.iter().map(|r| theirs.score(r)).collect();
        let rho = crate::metrics::spearman(&a, &b)
            .expect("same lengths")
            .expect("scores vary");
        eprintln!("Spearman rank correlation with extended-isolation-forest: {rho:.4}");
        assert!(rho >= 0.9, "Spearman {rho}");
    }
}
