//! Random forest: trained by linfa-ensemble over linfa-trees, scored by our own flat trees.
//!
//! [`RandomForestParams::fit`] trains a `linfa_ensemble::RandomForest` (each tree on a
//! bootstrap sample of the rows and a random subset of the columns, drawn with replacement as
//! linfa does), then converts every tree into our flat layout (private module `tree`), mapping the tree's
//! column indices back through its feature subset. The result, [`RandomForestModel`], predicts
//! exactly what linfa's trees predict (a unit test checks every tree on held-out rows) but
//! scores without allocating and can be saved (linfa-ensemble cannot serialise its ensemble).
//!
//! - **Votes.** Each tree votes for the class of the leaf the row reaches. The predicted class
//!   is the majority vote (ties: lowest class index; linfa-ensemble breaks ties by hash-map
//!   order, which is random), and the **attack score** is the fraction of trees voting for
//!   any class but [`BENIGN`](crate::dataset::BENIGN) (class 0).
//! - **Explanations.** Every split keeps linfa's impurity decrease (Gini of the node minus the
//!   weighted Gini of its children). [`RandomForestModel::explain`] sums, per feature, the
//!   impurity decrease of the splits on the decision paths of the trees that voted for the
//!   predicted attack class (or, when benign has the plurality, for any attack class), and
//!   reports the largest shares: the features whose tests separated the classes on the way to
//!   this verdict. (linfa does not expose node sample counts, so the
//!   decreases are not weighted by node size as scikit-learn's global MDI is.)
//! - **Scoring** walks 16 trees in lockstep without branches (private module `tree`): no
//!   allocation per row.
//! - **Reproducibility.** A seed fixes the bootstraps and feature subsets, and the same seed
//!   and data give the same forest, byte for byte, whatever the thread count (tested, also on
//!   multi-class data full of tied class counts). This needs the patched linfa-trees in
//!   `vendor/linfa-trees`: upstream 0.8.1 keeps class counts in randomly seeded `std` hash
//!   maps and breaks modal-class ties and sums Gini terms in their iteration order, so its
//!   multi-class forests differed from run to run (~1 % of nodes on the CIC sample).

use linfa::prelude::Fit;
use linfa::DatasetBase;
use linfa_ensemble::{EnsembleLearnerParams, RandomForest};
use linfa_trees::{DecisionTree, SplitQuality, TreeNode};
use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::MlError;
use crate::explain::{top_features, FeatureContribution};
use crate::inputs::{InputRow, INPUT_COUNT};
use crate::tree::{FlatForest, Node, TreeRepr};

/// Trees linfa-ensemble trains per call (one generator stream each; see
/// [`RandomForestParams::n_jobs`]).
pub const TREES_PER_CHUNK: usize = 10;

/// Most classes a forest may have (votes are counted in a fixed array).
pub const MAX_CLASSES: usize = 64;

/// Hyperparameters of [`RandomForestParams::fit`]; names and defaults follow scikit-learn's
/// `RandomForestClassifier` where linfa has the same knob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomForestParams {
    /// Number of trees (default 100).
    pub n_trees: usize,
    /// Deepest split level; `None` grows until leaves are pure (default 20: deeper trees
    /// barely change the votes but cost scoring time and file size).
    pub max_depth: Option<usize>,
    /// Fewest rows a node needs to be split (default 2).
    pub min_samples_split: usize,
    /// Fewest rows each side of a split must keep (default 1).
    pub min_samples_leaf: usize,
    /// Smallest Gini decrease worth a split (default 1e-5, linfa's; must be > 0).
    pub min_impurity_decrease: f64,
    /// Rows drawn (with replacement) for each tree, as a fraction of the training rows
    /// (default 1.0, a classic bootstrap).
    pub bootstrap_proportion: f64,
    /// Columns drawn (with replacement) for each tree, as a fraction of the 25 (default 0.5).
    /// linfa draws one subset per tree, not one per split as scikit-learn does.
    pub feature_proportion: f64,
    /// Seed of the bootstraps and feature subsets (default 0).
    pub seed: u64,
    /// Training threads; `None` (default) uses every core. The trees are trained in chunks of
    /// [`TREES_PER_CHUNK`], chunk `c` with the seed's ChaCha8 stream `c`, so the forest does not
    /// depend on the number of threads. Not saved in model files.
    #[serde(skip)]
    pub n_jobs: Option<usize>,
}

impl Default for RandomForestParams {
    fn default() -> Self {
        RandomForestParams {
            n_trees: 100,
            max_depth: Some(20),
            min_samples_split: 2,
            min_samples_leaf: 1,
            min_impurity_decrease: 1e-5,
            bootstrap_proportion: 1.0,
            feature_proportion: 0.5,
            seed: 0,
            n_jobs: None,
        }
    }
}

fn invalid(param: &'static str, reason: impl Into<String>) -> MlError {
    MlError::InvalidParams {
        param,
        reason: reason.into(),
    }
}

impl RandomForestParams {
    /// Validates the parameters.
    ///
    /// # Errors
    /// [`MlError::InvalidParams`] naming the first parameter out of range.
    pub fn check(&self) -> Result<(), MlError> {
        if self.n_trees == 0 || self.n_trees > 10_000 {
            return Err(invalid(
                "n_trees",
                format!("must be in 1..=10000, got {}", self.n_trees),
            ));
        }
        if self.n_jobs == Some(0) {
            return Err(invalid("n_jobs", "must be >= 1"));
        }
        if self.max_depth == Some(0) {
            return Err(invalid("max_depth", "must be >= 1"));
        }
        if self.min_samples_split < 2 {
            return Err(invalid("min_samples_split", "must be >= 2"));
        }
        if self.min_samples_leaf < 1 {
            return Err(invalid("min_samples_leaf", "must be >= 1"));
        }
        if !(self.min_impurity_decrease.is_finite() && self.min_impurity_decrease >= f64::EPSILON) {
            return Err(invalid("min_impurity_decrease", "must be finite and > 0"));
        }
        for (param, p) in [
            ("bootstrap_proportion", self.bootstrap_proportion),
            ("feature_proportion", self.feature_proportion),
        ] {
            if !(p > 0.0 && p <= 1.0) {
                return Err(invalid(param, format!("must be in (0, 1], got {p}")));
            }
        }
        Ok(())
    }

    /// Trains a forest on `data` (class 0 must be benign; see [`Dataset`]).
    ///
    /// # Errors
    /// [`MlError::InvalidParams`], [`MlError::NoRows`], [`MlError::WrongWidth`],
    /// [`MlError::NonFinite`], [`MlError::Labels`] (label count, a label without a class name,
    /// more than [`MAX_CLASSES`] classes), or [`MlError::Linfa`].
    pub fn fit(&self, data: &Dataset) -> Result<RandomForestModel, MlError> {
        Ok(self.fit_with_linfa(data)?.0)
    }

    /// [`fit`](Self::fit), also returning linfa's ensembles (one per chunk of
    /// [`TREES_PER_CHUNK`] trees, in order), to compare predictions with.
    pub(crate) fn fit_with_linfa(
        &self,
        data: &Dataset,
    ) -> Result<(RandomForestModel, Vec<RandomForest<f64, usize>>), MlError> {
        self.check()?;
        check_rows(data.features.view())?;
        check_labels(data)?;
        let dataset = DatasetBase::new(data.features.clone(), Array1::from(data.labels.clone()));
        let chunks: Vec<usize> = (0..self.n_trees).step_by(TREES_PER_CHUNK).collect();
        let jobs = self
            .n_jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, chunks.len());
        // Chunk c goes to job c % jobs; each job trains its chunks in order.
        let mut results: Vec<(usize, ChunkResult)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..jobs)
                .map(|job| {
                    let (dataset, chunks) = (&dataset, &chunks);
                    scope.spawn(move || {
                        (job..chunks.len())
                            .step_by(jobs)
                            .map(|c| (c, self.fit_chunk(dataset, c, chunks[c])))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec![(
                            0,
                            Err(MlError::Conversion("a training thread panicked".into())),
                        )]
                    })
                })
                .collect()
        });
        results.sort_by_key(|(c, _)| *c);
        let ensembles = results
            .into_iter()
            .map(|(_, r)| r)
            .collect::<Result<Vec<_>, _>>()?;
        // The model keeps what shaped it; the thread count did not.
        let params = RandomForestParams {
            n_jobs: None,
            ..self.clone()
        };
        let model = RandomForestModel::from_linfa(&ensembles, data.class_names.clone(), params)?;
        Ok((model, ensembles))
    }

    /// Trains chunk `c` (trees `first..first + TREES_PER_CHUNK`) with linfa-ensemble, its
    /// generator the seed's ChaCha8 stream `c`.
    fn fit_chunk(
        &self,
        dataset: &DatasetBase<Array2<f64>, Array1<usize>>,
        c: usize,
        first: usize,
    ) -> ChunkResult {
        let tree_params = DecisionTree::<f64, usize>::params()
            .split_quality(SplitQuality::Gini)
            .max_depth(self.max_depth)
            .min_weight_split(self.min_samples_split as f32)
            .min_weight_leaf(self.min_samples_leaf as f32)
            .min_impurity_decrease(self.min_impurity_decrease);
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(c as u64);
        Ok(EnsembleLearnerParams::new_fixed_rng(tree_params, rng)
            .ensemble_size(TREES_PER_CHUNK.min(self.n_trees - first))
            .bootstrap_proportion(self.bootstrap_proportion)
            .feature_proportion(self.feature_proportion)
            .fit(dataset)?)
    }
}

/// One chunk's linfa ensemble.
type ChunkResult = Result<RandomForest<f64, usize>, MlError>;

/// Rejects empty, wrongly shaped or non-finite training rows.
pub(crate) fn check_rows(x: ArrayView2<'_, f64>) -> Result<(), MlError> {
    if x.nrows() == 0 {
        return Err(MlError::NoRows);
    }
    if x.ncols() != INPUT_COUNT {
        return Err(MlError::WrongWidth {
            expected: INPUT_COUNT,
            found: x.ncols(),
        });
    }
    for (row, r) in x.rows().into_iter().enumerate() {
        if let Some(column) = r.iter().position(|v| !v.is_finite()) {
            return Err(MlError::NonFinite { row, column });
        }
    }
    Ok(())
}

fn check_labels(data: &Dataset) -> Result<(), MlError> {
    let n = data.class_names.len();
    if data.labels.len() != data.features.nrows() {
        return Err(MlError::Labels(format!(
            "{} labels for {} rows",
            data.labels.len(),
            data.features.nrows()
        )));
    }
    if n == 0 || n > MAX_CLASSES {
        return Err(MlError::Labels(format!(
            "{n} classes, need 1..={MAX_CLASSES}"
        )));
    }
    if let Some(&bad) = data.labels.iter().find(|&&l| l >= n) {
        return Err(MlError::Labels(format!("label {bad} has no class name")));
    }
    Ok(())
}

/// What a forest says about one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestVote {
    /// The majority class (ties: lowest index).
    pub class: usize,
    /// Trees that voted for `class`.
    pub class_votes: u32,
    /// Fraction of trees that voted for an attack class (any class but 0), 0..=1.
    pub attack_score: f64,
    /// The attack class with the most votes (ties: lowest index); 0 when no tree voted for
    /// an attack. What an alert raised on `attack_score` names, even when benign has the
    /// plurality: the alert is about the attack votes.
    pub attack_class: usize,
    /// Trees that voted for `attack_class`.
    pub attack_class_votes: u32,
}

/// A trained random forest in our flat layout (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct RandomForestModel {
    pub(crate) forest: FlatForest,
    /// Impurity decrease per node (0 at leaves), parallel to `forest.nodes`.
    pub(crate) impurity: Vec<f32>,
    pub(crate) class_names: Vec<String>,
    pub(crate) params: RandomForestParams,
}

impl RandomForestModel {
    /// Converts linfa's ensemble (see the module docs).
    fn from_linfa(
        ensembles: &[RandomForest<f64, usize>],
        class_names: Vec<String>,
        params: RandomForestParams,
    ) -> Result<Self, MlError> {
        let mut forest = FlatForest::default();
        let mut impurity = Vec::new();
        for ensemble in ensembles {
            if ensemble.models.len() != ensemble.model_features.len() {
                return Err(MlError::Conversion(
                    "a tree without its feature subset".into(),
                ));
            }
            for (tree, subset) in ensemble.models.iter().zip(&ensemble.model_features) {
                let (nodes, imp) = convert_tree(tree.root_node(), subset, class_names.len())?;
                forest.push_tree(&nodes);
                impurity.extend(imp);
            }
        }
        Ok(RandomForestModel {
            forest,
            impurity,
            class_names,
            params,
        })
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.forest.n_trees()
    }

    /// Nodes over all trees (splits and leaves).
    pub fn n_nodes(&self) -> usize {
        self.forest.nodes.len()
    }

    /// Class names; index 0 is benign.
    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    /// The parameters it was trained with.
    pub fn params(&self) -> &RandomForestParams {
        &self.params
    }

    /// Adds each tree's vote for `row` into `votes` (one counter per class).
    #[inline]
    fn count_votes(&self, row: &InputRow, votes: &mut [u32; MAX_CLASSES]) {
        self.forest.for_each_leaf(row, |leaf| {
            votes[leaf.value as usize % MAX_CLASSES] += 1;
        });
    }

    /// Votes on one row: majority class and attack score. No allocation.
    pub fn vote(&self, row: &InputRow) -> ForestVote {
        let mut votes = [0u32; MAX_CLASSES];
        self.count_votes(row, &mut votes);
        let n = self.class_names.len().min(MAX_CLASSES);
        let (mut attack_class, mut attack_best) = (0, 0);
        for (c, &v) in votes.iter().enumerate().take(n).skip(1) {
            if v > attack_best {
                (attack_class, attack_best) = (c, v);
            }
        }
        let (class, best) = if votes[0] >= attack_best {
            (0, votes[0])
        } else {
            (attack_class, attack_best)
        };
        let trees = self.n_trees().max(1) as f64;
        ForestVote {
            class,
            class_votes: best,
            attack_score: f64::from(self.n_trees() as u32 - votes[0]) / trees,
            attack_class,
            attack_class_votes: attack_best,
        }
    }

    /// The fraction of trees voting for each class (scikit-learn's `predict_proba` for a
    /// hard-voting forest), indexed like [`class_names`](Self::class_names).
    pub fn class_fractions(&self, row: &InputRow) -> Vec<f64> {
        let mut votes = [0u32; MAX_CLASSES];
        self.count_votes(row, &mut votes);
        let trees = self.n_trees().max(1) as f64;
        votes[..self.class_names.len().min(MAX_CLASSES)]
            .iter()
            .map(|&v| f64::from(v) / trees)
            .collect()
    }

    /// Fraction of trees voting for an attack class, 0..=1. No allocation.
    pub fn attack_score(&self, row: &InputRow) -> f64 {
        self.vote(row).attack_score
    }

    /// Votes on every row of `x` ([`INPUT_COUNT`] columns).
    ///
    /// # Errors
    /// [`MlError::WrongWidth`] when `x` does not have [`INPUT_COUNT`] columns.
    pub fn vote_rows(&self, x: ArrayView2<'_, f64>) -> Result<Vec<ForestVote>, MlError> {
        map_rows(x, |row| self.vote(row))
    }

    /// The features that pushed the verdict on `row` (see the module docs), at most `k`: over
    /// the trees that voted for the predicted class when it is an attack class, else over the
    /// trees that voted for any attack class (what pushed the attack score up); empty when no
    /// tree did.
    pub fn explain(&self, row: &InputRow, k: usize) -> Vec<FeatureContribution> {
        self.explain_class(row, self.vote(row).class, k)
    }

    /// [`explain`](Self::explain) for a row whose predicted class is already known (from
    /// [`vote`](Self::vote)), so the trees are not voted on twice.
    pub fn explain_class(
        &self,
        row: &InputRow,
        class: usize,
        k: usize,
    ) -> Vec<FeatureContribution> {
        let counts = |leaf_class: usize| {
            if class == 0 {
                leaf_class != 0
            } else {
                leaf_class == class
            }
        };
        let mut weights = [0.0f64; INPUT_COUNT];
        self.forest
            .for_each_path(row, &self.impurity, |leaf, path_weights| {
                if counts(leaf.value as usize) {
                    for (w, p) in weights.iter_mut().zip(path_weights) {
                        *w += p;
                    }
                }
            });
        top_features(&weights, row, k)
    }

    /// The saved trees.
    pub(crate) fn tree_reprs(&self) -> Vec<TreeRepr> {
        (0..self.n_trees())
            .map(|t| {
                self.forest
                    .tree_repr(t, Some(&self.impurity), |class| (0.0, class as u32))
            })
            .collect()
    }

    /// Rebuilds a model from saved trees, validating every node.
    pub(crate) fn from_reprs(
        trees: &[TreeRepr],
        class_names: Vec<String>,
        params: RandomForestParams,
    ) -> Result<Self, String> {
        if trees.is_empty() {
            return Err("no trees".into());
        }
        let n_classes = class_names.len();
        if n_classes == 0 || n_classes > MAX_CLASSES {
            return Err(format!("{n_classes} classes, need 1..={MAX_CLASSES}"));
        }
        let mut forest = FlatForest::default();
        let mut impurity = Vec::new();
        for (t, repr) in trees.iter().enumerate() {
            let nodes = repr
                .to_nodes(true, |_, class| {
                    if (class as usize) < n_classes {
                        Ok(f64::from(class))
                    } else {
                        Err(format!("leaf class {class} of {n_classes}"))
                    }
                })
                .map_err(|e| format!("tree {t}: {e}"))?;
            forest.push_tree(&nodes);
            impurity.extend_from_slice(&repr.impurity);
        }
        Ok(RandomForestModel {
            forest,
            impurity,
            class_names,
            params,
        })
    }
}

/// Applies `f` to each row of `x` (which must have [`INPUT_COUNT`] columns).
pub(crate) fn map_rows<T>(
    x: ArrayView2<'_, f64>,
    mut f: impl FnMut(&InputRow) -> T,
) -> Result<Vec<T>, MlError> {
    if x.ncols() != INPUT_COUNT {
        return Err(MlError::WrongWidth {
            expected: INPUT_COUNT,
            found: x.ncols(),
        });
    }
    let mut row = [0.0; INPUT_COUNT];
    Ok(x.rows()
        .into_iter()
        .map(|r| {
            for (dst, src) in row.iter_mut().zip(r.iter()) {
                *dst = *src;
            }
            f(&row)
        })
        .collect())
}

/// One linfa tree as flat nodes (local indices, children after parents) plus per-node
/// impurity decrease; `subset[j]` is the dataset column of the tree's column `j`.
fn convert_tree(
    root: &TreeNode<f64, usize>,
    subset: &[usize],
    n_classes: usize,
) -> Result<(Vec<Node>, Vec<f32>), MlError> {
    let bad = |what: String| MlError::Conversion(what);
    let mut nodes = vec![Node::leaf(0.0)];
    let mut impurity = vec![0.0f32];
    let mut stack = vec![(root, 0usize)];
    while let Some((n, at)) = stack.pop() {
        if let Some(class) = n.prediction() {
            if class >= n_classes {
                return Err(bad(format!("leaf class {class} of {n_classes}")));
            }
            nodes[at] = Node::leaf(class as f64);
            continue;
        }
        let (local, value, decrease) = n.split();
        let feature = *subset
            .get(local)
            .ok_or_else(|| bad(format!("column {local} outside the tree's feature subset")))?;
        let children = n.children();
        let (Some(Some(left)), Some(Some(right))) = (children.first(), children.get(1)) else {
            return Err(bad("a split without two children".into()));
        };
        let child = nodes.len();
        nodes.extend([Node::leaf(0.0); 2]);
        impurity.extend([0.0; 2]);
        nodes[at] = Node {
            value,
            feature: feature as u32,
            child: child as u32,
        };
        impurity[at] = decrease as f32;
        stack.push((right, child + 1));
        stack.push((left, child));
    }
    Ok((nodes, impurity))
}

impl<D: Data<Elem = f64>> linfa::traits::PredictInplace<ArrayBase<D, Ix2>, Array1<usize>>
    for RandomForestModel
{
    /// Majority class of each row. Rows of the wrong width, and targets beyond the rows, get
    /// class 0 (linfa's `PredictInplace` cannot report errors).
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<usize>) {
        let votes = self.vote_rows(x.view()).unwrap_or_default();
        for (i, target) in y.iter_mut().enumerate() {
            *target = votes.get(i).map_or(0, |v| v.class);
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use linfa::traits::Predict;
    use ndarray::{Array2, Axis};

    /// A small deterministic generator for test data.
    pub(crate) struct TestRng(pub u64);

    impl TestRng {
        pub(crate) fn next_f64(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Three classes with overlapping, partly integer-valued features.
    pub(crate) fn three_classes(n: usize, seed: u64) -> Dataset {
        let mut rng = TestRng(seed);
        let mut x = Array2::zeros((n, INPUT_COUNT));
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let class = i % 3;
            for j in 0..INPUT_COUNT {
                let base = (j as f64 + 1.0) * (class as f64 * 0.7 + 1.0);
                let v = base + rng.next_f64() * 6.0;
                x[(i, j)] = if j % 2 == 0 { v.floor() } else { v };
            }
            labels.push(class);
        }
        Dataset {
            features: x,
            labels,
            class_names: vec!["BENIGN".into(), "DoS".into(), "PortScan".into()],
        }
    }

    /// A forest of one-leaf trees voting `leaves` (class indices).
    fn stumps(leaves: &[usize]) -> RandomForestModel {
        let mut forest = FlatForest::default();
        for &c in leaves {
            forest.push_tree(&[Node::leaf(c as f64)]);
        }
        RandomForestModel {
            forest,
            impurity: vec![0.0; leaves.len()],
            class_names: vec!["BENIGN".into(), "DoS".into(), "PortScan".into()],
            params: RandomForestParams::default(),
        }
    }

    #[test]
    fn an_attack_score_names_the_most_voted_attack_class_even_under_a_benign_plurality() {
        // 4 benign, 3 PortScan, 3 DoS: benign has the plurality, the attacks 60 % together.
        let m = stumps(&[0, 0, 0, 0, 2, 2, 2, 1, 1, 1]);
        let v = m.vote(&[0.0; INPUT_COUNT]);
        assert_eq!((v.class, v.class_votes), (0, 4));
        assert!((v.attack_score - 0.6).abs() < 1e-12);
        // Ties between attack classes: the lowest index.
        assert_eq!((v.attack_class, v.attack_class_votes), (1, 3));
        let v = stumps(&[2, 2, 1, 0]).vote(&[0.0; INPUT_COUNT]);
        assert_eq!((v.class, v.attack_class, v.attack_class_votes), (2, 2, 2));
        let v = stumps(&[0, 0]).vote(&[0.0; INPUT_COUNT]);
        assert_eq!(
            (v.attack_class, v.attack_class_votes, v.attack_score),
            (0, 0, 0.0)
        );
    }

    fn row(x: ArrayView2<'_, f64>, i: usize) -> InputRow {
        let mut r = [0.0; INPUT_COUNT];
        for (d, s) in r.iter_mut().zip(x.row(i)) {
            *d = *s;
        }
        r
    }

    #[test]
    fn converted_trees_predict_exactly_what_linfa_predicts() {
        let data = three_classes(900, 7);
        let (train_x, test_x) = data.features.view().split_at(Axis(0), 600);
        let train = Dataset {
            features: train_x.to_owned(),
            labels: data.labels[..600].to_vec(),
            class_names: data.class_names.clone(),
        };
        let params = RandomForestParams {
            n_trees: 25,
            max_depth: Some(6),
            seed: 3,
            ..RandomForestParams::default()
        };
        let (model, linfa_forests) = params.fit_with_linfa(&train).expect("trains");
        assert_eq!(model.n_trees(), 25);
        assert_eq!(linfa_forests.len(), 3, "chunks of 10, 10 and 5 trees");
        let test_x = test_x.to_owned();
        // Tree by tree: identical leaves on every held-out row.
        let trees = linfa_forests
            .iter()
            .flat_map(|f| f.models.iter().zip(&f.model_features));
        for (t, (tree, subset)) in trees.enumerate() {
            let theirs: Array1<usize> = tree.predict(&test_x.select(Axis(1), subset));
            for i in 0..test_x.nrows() {
                let ours = model
                    .forest
                    .leaf(model.forest.roots[t], &row(test_x.view(), i));
                assert_eq!(ours.value as usize, theirs[i], "tree {t}, row {i}");
            }
        }
        // One linfa ensemble: its majority class has as many votes as ours (equal unless tied).
        let first = RandomForestModel::from_linfa(
            &linfa_forests[..1],
            train.class_names.clone(),
            params.clone(),
        )
        .expect("converts");
        let model = first;
        let theirs: Array1<usize> = linfa_forests[0].predict(&test_x);
        let mut ties = 0;
        for i in 0..test_x.nrows() {
            let r = row(test_x.view(), i);
            let ours = model.vote(&r);
            let mut votes = [0u32; MAX_CLASSES];
            model.count_votes(&r, &mut votes);
            assert_eq!(votes[theirs[i]], ours.class_votes, "row {i}");
            if theirs[i] != ours.class {
                ties += 1;
            }
        }
        assert!(ties < test_x.nrows() / 10, "{ties} ties");
        let ours: Array1<usize> = model.predict(&test_x);
        let agree = ours.iter().zip(&theirs).filter(|(a, b)| a == b).count();
        assert!(agree + ties == test_x.nrows());
    }

    #[test]
    fn learns_the_classes_and_scores_attacks() {
        let data = three_classes(900, 11);
        let model = RandomForestParams {
            n_trees: 30,
            seed: 1,
            ..RandomForestParams::default()
        }
        .fit(&data)
        .expect("trains");
        let fresh = three_classes(300, 99);
        let votes = model.vote_rows(fresh.features.view()).expect("25 columns");
        let correct = votes
            .iter()
            .zip(&fresh.labels)
            .filter(|(v, &l)| v.class == l)
            .count();
        assert!(correct > 270, "{correct}/300");
        let benign_score: f64 = votes
            .iter()
            .zip(&fresh.labels)
            .filter(|(_, &l)| l == 0)
            .map(|(v, _)| v.attack_score)
            .sum::<f64>()
            / 100.0;
        assert!(benign_score < 0.2, "{benign_score}");
        let r = row(fresh.features.view(), 1);
        let fractions = model.class_fractions(&r);
        assert_eq!(fractions.len(), 3);
        assert!((fractions.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((1.0 - fractions[0] - model.attack_score(&r)).abs() < 1e-12);
        let why = model.explain(&r, 3);
        assert!(!why.is_empty() && why.len() <= 3);
        assert!(why.windows(2).all(|w| w[0].share >= w[1].share));
        assert!(model
            .vote_rows(fresh.features.select(Axis(1), &[0, 1, 2]).view())
            .is_err());
    }

    #[test]
    fn same_seed_same_forest_on_two_classes() {
        let mut data = three_classes(400, 5);
        data.labels.iter_mut().for_each(|l| *l = (*l).min(1));
        data.class_names.truncate(2);
        let p = RandomForestParams {
            n_trees: 10,
            seed: 42,
            ..RandomForestParams::default()
        };
        let a = p.fit(&data).expect("trains");
        let b = p.fit(&data).expect("trains");
        assert_eq!(a, b);
        // The number of threads does not change the forest.
        let one = RandomForestParams {
            n_jobs: Some(1),
            ..p.clone()
        };
        let three = RandomForestParams {
            n_jobs: Some(3),
            n_trees: 25,
            ..p.clone()
        };
        assert_eq!(one.fit(&data).expect("trains"), a);
        let a25 = RandomForestParams {
            n_trees: 25,
            ..p.clone()
        };
        assert_eq!(
            three.fit(&data).expect("trains"),
            a25.fit(&data).expect("trains")
        );
        let c = RandomForestParams { seed: 43, ..p }
            .fit(&data)
            .expect("trains");
        assert_ne!(a, c);
    }

    #[test]
    fn lockstep_path_sums_equal_one_walk_per_tree() {
        let data = three_classes(300, 5);
        let forest = RandomForestParams {
            n_trees: 37,
            seed: 3,
            ..Default::default()
        }
        .fit(&data)
        .expect("trains");
        for i in (0..300).step_by(7) {
            let r = row(data.features.view(), i);
            let mut lockstep = Vec::new();
            forest
                .forest
                .for_each_path(&r, &forest.impurity, |leaf, sums| {
                    lockstep.push((leaf.value, *sums));
                });
            assert_eq!(lockstep.len(), 37);
            for (t, &root) in forest.forest.roots.iter().enumerate() {
                let mut walked = [0.0f64; INPUT_COUNT];
                let leaf = forest.forest.walk(root, &r, |_, n| {
                    let w = forest.impurity.get(n).copied().unwrap_or(0.0).max(0.0);
                    walked[forest.forest.nodes[n].feature as usize] += f64::from(w);
                });
                assert_eq!(leaf.value, lockstep[t].0, "tree {t}");
                assert_eq!(walked[..], lockstep[t].1[..INPUT_COUNT], "tree {t}");
            }
        }
    }

    #[test]
    fn rejects_bad_params_and_data() {
        let data = three_classes(30, 1);
        for p in [
            RandomForestParams {
                n_trees: 0,
                ..Default::default()
            },
            RandomForestParams {
                max_depth: Some(0),
                ..Default::default()
            },
            RandomForestParams {
                feature_proportion: 0.0,
                ..Default::default()
            },
            RandomForestParams {
                bootstrap_proportion: 1.5,
                ..Default::default()
            },
            RandomForestParams {
                min_impurity_decrease: f64::NAN,
                ..Default::default()
            },
            RandomForestParams {
                min_samples_split: 1,
                ..Default::default()
            },
        ] {
            assert!(
                matches!(p.fit(&data), Err(MlError::InvalidParams { .. })),
                "{p:?}"
            );
        }
        let p = RandomForestParams::default();
        let mut bad = data.clone();
        bad.features[(3, 4)] = f64::NAN;
        assert!(matches!(
            p.fit(&bad),
            Err(MlError::NonFinite { row: 3, column: 4 })
        ));
        let mut bad = data.clone();
        bad.labels[0] = 3;
        assert!(matches!(p.fit(&bad), Err(MlError::Labels(_))));
        let mut bad = data.clone();
        bad.labels.pop();
        assert!(matches!(p.fit(&bad), Err(MlError::Labels(_))));
        let empty = Dataset {
            features: Array2::zeros((0, INPUT_COUNT)),
            labels: vec![],
            class_names: data.class_names.clone(),
        };
        assert!(matches!(p.fit(&empty), Err(MlError::NoRows)));
        let narrow = Dataset {
            features: Array2::zeros((3, 4)),
            labels: vec![0; 3],
            class_names: data.class_names,
        };
        assert!(matches!(p.fit(&narrow), Err(MlError::WrongWidth { .. })));
    }
}
