//! Grouped evaluation: models judged capture by capture, never on a random split of flows.
//!
//! Flows of one capture are not independent (one scan gives a thousand near-identical
//! flows), so a random flow split puts near-copies of test rows in training and says little
//! about another network (Arp et al., "Dos and Don'ts of Machine Learning in Computer
//! Security", USENIX Security 2022). Here the unit is the capture:
//!
//! 1. [`CaptureSet::load`] assembles every capture's flows with netsec-core's pipeline (the
//!    flows and features `netsec analyze` scores) and labels them with a label file (rules
//!    may name their capture, see [`crate::labels`]); a capture's *family* is its most
//!    frequent attack class, or benign.
//! 2. [`assign_folds`] deals the captures into `k` folds, family by family in a seeded order,
//!    so every fold holds a share of each family and **no capture has flows in two folds**.
//! 3. For each fold, a model is trained on the other folds (plus any training-only captures,
//!    e.g. generated traffic, which are never tested) and scores every flow of the fold's
//!    captures: out-of-fold scores for every flow.
//! 4. **The alert threshold is calibrated to an alert budget:** the lowest score at which at
//!    most `alert_budget` of the held-out *benign* captures raise any alert once their flows'
//!    verdicts went through the episode aggregation the sensor applies (so a capture with one
//!    odd flow, below [`EpisodeConfig::min_flows`], does not count). For the figures of fold
//!    `f` the threshold comes from the benign captures of the *other* folds only; the shipped
//!    threshold from all of them.
//! 5. Each held-out capture then runs through the detector exactly as `netsec analyze` runs
//!    it: [`detector_for`](crate::detector_for) wrapped in netsec-core's
//!    [`EpisodeAggregator`], so the report counts the alerts an operator would see.
//!
//! The [`GroupedReport`] gives per capture: flows, flows alerted, alerts after episode
//! aggregation, the classes named and a verdict (`right_family`, `wrong_family`, `missed`
//! for attack captures; `quiet` or `false_alarm` for benign ones), and in total: benign
//! captures raising any alert, attack captures named right (per family), and the flow-level
//! ROC-AUC of the out-of-fold scores (benign against attack flows).
//!
//! Training rows are resampled to a realistic prior: every benign flow is kept, but at most
//! [`GroupedConfig::attack_rows_per_capture`] flows of each attack class per capture (evenly
//! spaced, so deterministic), so a 5,000-flow SYN flood does not outweigh a network's
//! ordinary traffic, nor one capture its whole family.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netsec_core::detect::{Alert, Detector, EpisodeAggregator, EpisodeConfig, Severity};
use netsec_core::flow::{FlowRecord, FlowTableConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::captures::{capture_name, open_capture, read_flows};
use crate::context::FlowContext;
use crate::dataset::{intern_class, DataError, Dataset, BENIGN};
use crate::detector::{attack_type_for, forest_attack_types, ANOMALY, ML_ATTACK};
use crate::drift::FeatureBins;
use crate::evaluate::{class_count_map, DIGEST_PREFIX, ROWS_FIT};
use crate::inputs::{InputRow, INPUT_COUNT};
use crate::labels::LabelRules;
use crate::metrics::roc_auc;
use crate::model::{Calibration, Model, ModelFile, ModelKind, Thresholds, TrainingMeta};
use crate::train::TrainError;
use crate::{IsolationForestParams, RandomForestParams};

/// One capture's flows, features and labels.
#[derive(Debug, Clone)]
pub struct CaptureFlows {
    /// File name (what label rules' `capture` sees and reports show).
    pub name: String,
    /// The flows in export order (application records dropped to save memory).
    pub flows: Vec<FlowRecord>,
    /// Their model rows: 25 features and the context counted over this capture's flows.
    pub rows: Vec<InputRow>,
    /// Their class indices into [`CaptureSet::class_names`] (0 = benign).
    pub labels: Vec<usize>,
    /// Training only: never held out, never reported (generated traffic).
    pub train_only: bool,
}

impl CaptureFlows {
    /// Flows per class index.
    pub fn class_counts(&self, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        counts
    }

    /// The capture's family: its most frequent attack class (ties: the lower index), or
    /// `None` for a capture without attack flows.
    pub fn family(&self, classes: usize) -> Option<usize> {
        let counts = self.class_counts(classes);
        (1..classes)
            .filter(|&c| counts[c] > 0)
            .max_by_key(|&c| (counts[c], std::cmp::Reverse(c)))
    }
}

/// Labelled captures, each kept apart.
#[derive(Debug, Clone)]
pub struct CaptureSet {
    /// Class names; class 0 is [`BENIGN`].
    pub class_names: Vec<String>,
    /// The captures in the order given.
    pub captures: Vec<CaptureFlows>,
}

impl CaptureSet {
    /// Reads `evaluated` (held out in turn) and `train_only` captures (training folds only),
    /// labelling their flows with `rules`; `progress` gets the bytes read of the current
    /// capture after every batch.
    ///
    /// # Errors
    /// [`DataError`] naming the capture that cannot be read.
    pub fn load(
        evaluated: &[PathBuf],
        train_only: &[PathBuf],
        rules: &LabelRules,
        table: FlowTableConfig,
        progress: &mut dyn FnMut(u64),
    ) -> Result<CaptureSet, DataError> {
        let mut set = CaptureSet {
            class_names: vec![BENIGN.to_string()],
            captures: Vec::new(),
        };
        // Class indices follow the rules' order, so they do not depend on which capture
        // matched first.
        for rule in &rules.rules {
            set.class_index(&rule.label);
        }
        let all = evaluated
            .iter()
            .map(|p| (p, false))
            .chain(train_only.iter().map(|p| (p, true)));
        for (path, only) in all {
            let capture = set.read_capture(path, rules, table, progress)?;
            set.captures.push(CaptureFlows {
                train_only: only,
                ..capture
            });
        }
        Ok(set)
    }

    fn class_index(&mut self, name: &str) -> usize {
        intern_class(&mut self.class_names, name)
    }

    fn read_capture(
        &mut self,
        path: &Path,
        rules: &LabelRules,
        table: FlowTableConfig,
        progress: &mut dyn FnMut(u64),
    ) -> Result<CaptureFlows, DataError> {
        let name = capture_name(path).unwrap_or_else(|| path.display().to_string());
        let reader = open_capture(path)?;
        let rule_class: Vec<usize> = rules
            .rules
            .iter()
            .map(|r| self.class_index(&r.label))
            .collect();
        let mut out = CaptureFlows {
            name: name.clone(),
            flows: Vec::new(),
            rows: Vec::new(),
            labels: Vec::new(),
            train_only: false,
        };
        let mut context = FlowContext::new();
        read_flows(reader, path, table, progress, &mut |mut flow| {
            let class = rules
                .position_in(Some(&name), &flow)
                .map_or(0, |i| rule_class[i]);
            out.rows.push(context.row(&flow, &flow.features()));
            out.labels.push(class);
            flow.app = None;
            out.flows.push(flow);
        })?;
        Ok(out)
    }

    /// The training rows of the captures `which`, resampled (see the module docs).
    pub fn training_rows(&self, which: &[usize], attack_rows_per_capture: usize) -> Dataset {
        let classes = self.class_names.len();
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for &i in which {
            let Some(c) = self.captures.get(i) else {
                continue;
            };
            let counts = c.class_counts(classes);
            let mut seen = vec![0usize; classes];
            let mut kept = vec![0usize; classes];
            for (row, &label) in c.rows.iter().zip(&c.labels) {
                let (n, k) = (counts[label], seen[label]);
                seen[label] += 1;
                // Spread over the capture: row k is kept when k · cap / n reaches the next
                // whole number, so `cap` of the `n` rows are (one when cap is 0).
                let keep = label == 0
                    || n <= attack_rows_per_capture
                    || k * attack_rows_per_capture / n >= kept[label];
                if keep {
                    kept[label] += 1;
                    values.extend_from_slice(row);
                    labels.push(label);
                }
            }
        }
        let rows = labels.len();
        let features = ndarray::Array2::from_shape_vec((rows, INPUT_COUNT), values)
            .unwrap_or_else(|_| ndarray::Array2::zeros((0, INPUT_COUNT)));
        Dataset {
            features,
            labels,
            class_names: self.class_names.clone(),
        }
    }

    /// `sha256:` digest of every capture's name, rows and labels, in order.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for c in &self.captures {
            h.update(c.name.as_bytes());
            h.update([u8::from(c.train_only)]);
            for (row, &l) in c.rows.iter().zip(&c.labels) {
                for v in row {
                    h.update(v.to_le_bytes());
                }
                h.update((l as u64).to_le_bytes());
            }
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("{DIGEST_PREFIX}{hex}")
    }
}

/// A seeded 64-bit mix (splitmix64) of `seed` and `text`, for orderings.
fn mix(seed: u64, text: &str) -> u64 {
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    for b in text.bytes() {
        x = (x ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The fold of every capture (`None` for training-only ones): family by family (benign
/// last), captures in a seeded order are dealt round-robin, continuing where the previous
/// family stopped, so folds stay balanced in size and families.
pub fn assign_folds(set: &CaptureSet, k: usize, seed: u64) -> Vec<Option<usize>> {
    let classes = set.class_names.len();
    let k = k.max(1);
    let mut by_family: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, c) in set.captures.iter().enumerate() {
        if !c.train_only {
            // Benign (None) sorts after every attack class.
            let fam = c.family(classes).unwrap_or(usize::MAX);
            by_family.entry(fam).or_default().push(i);
        }
    }
    let mut folds = vec![None; set.captures.len()];
    let mut next = 0usize;
    for members in by_family.values_mut() {
        members.sort_by_key(|&i| (mix(seed, &set.captures[i].name), i));
        for &i in members.iter() {
            folds[i] = Some(next % k);
            next += 1;
        }
    }
    folds
}

/// The lowest threshold the calibration may choose: a majority of attack votes for the
/// forest, an anomaly score above the average path's 0.5 for the isolation forest.
pub const THRESHOLD_FLOOR: f64 = 0.5;

/// How to train and evaluate by capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupedConfig {
    /// Which model.
    pub kind: ModelKind,
    /// Number of folds (≥ 2).
    pub folds: usize,
    /// Seed of the fold order and of the models.
    pub seed: u64,
    /// Forest hyperparameters (seed replaced by [`seed`](Self::seed)).
    pub forest: RandomForestParams,
    /// Isolation-forest hyperparameters (seed replaced).
    pub iforest: IsolationForestParams,
    /// Share of held-out benign captures allowed to raise any alert at the threshold.
    pub alert_budget: f64,
    /// Most training rows of one attack class from one capture.
    pub attack_rows_per_capture: usize,
    /// Episode aggregation, as the sensor runs it.
    pub episodes: EpisodeConfig,
}

impl GroupedConfig {
    /// Defaults for `kind`: 5 folds, seed 0, budget 3 %, 200 attack rows per capture and
    /// class, default hyperparameters and episodes.
    pub fn new(kind: ModelKind) -> Self {
        GroupedConfig {
            kind,
            folds: 5,
            seed: 0,
            forest: RandomForestParams::default(),
            iforest: IsolationForestParams::default(),
            alert_budget: 0.03,
            attack_rows_per_capture: 200,
            episodes: EpisodeConfig::default(),
        }
    }

    /// The same recipe written one way: the model's own seed set to [`seed`](Self::seed) (it
    /// is replaced when fitting anyway) and the other model's hyperparameters at their
    /// defaults, so reports and [`config_of`] compare equal for equal recipes.
    pub fn canonical(&self) -> GroupedConfig {
        let mut c = self.clone();
        match c.kind {
            ModelKind::RandomForest => {
                c.forest.seed = c.seed;
                c.forest.n_jobs = None;
                c.iforest = IsolationForestParams::default();
            }
            ModelKind::IsolationForest => {
                c.iforest = c.iforest.clone().seed(c.seed);
                c.forest = RandomForestParams::default();
            }
        }
        c
    }
}

/// What the model made of one held-out capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureResult {
    /// File name.
    pub capture: String,
    /// Its fold.
    pub fold: usize,
    /// The expected `attack_type` (its family's), or `None` for a benign capture.
    pub family: Option<String>,
    /// Flows in the capture.
    pub flows: usize,
    /// Flows labelled as attacks.
    pub attack_flows: usize,
    /// Flows scoring at or above the threshold.
    pub flows_alerted: usize,
    /// Alerts after episode aggregation.
    pub alerts: usize,
    /// Alerts per `attack_type`.
    pub named: BTreeMap<String, usize>,
    /// The highest out-of-fold score of any flow.
    pub max_score: f64,
    /// The threshold applied (calibrated without this fold).
    pub threshold: f64,
    /// `right_family`, `wrong_family`, `missed` (attack captures; an isolation forest only
    /// says `alerted` or `missed`), `quiet` or `false_alarm` (benign captures).
    pub verdict: String,
}

/// A count out of a total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Captures (or flows) counted.
    pub total: usize,
    /// Of which hit (raised an alert, or named the right family).
    pub hit: usize,
}

impl Tally {
    fn add(&mut self, hit: bool) {
        self.total += 1;
        self.hit += usize::from(hit);
    }

    /// `hit / total`, 0 when empty.
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.hit as f64 / self.total as f64
        }
    }
}

/// The whole grouped evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupedReport {
    /// What was run.
    pub config: GroupedConfig,
    /// Class names of the labels.
    pub class_names: Vec<String>,
    /// Threshold from all folds' held-out benign captures (what a shipped model uses).
    pub threshold: f64,
    /// Benign captures: total and those raising any alert.
    pub benign_captures: Tally,
    /// Attack captures: total and those named with the right family (the isolation
    /// forest: those raising any alert).
    pub attack_captures: Tally,
    /// The same per family (`attack_type`).
    pub families: BTreeMap<String, Tally>,
    /// Flow-level ROC-AUC of the out-of-fold scores, benign against attack flows.
    pub roc_auc: Option<f64>,
    /// Benign and attack flows scored.
    pub flows: BTreeMap<String, usize>,
    /// Training-only captures (never held out).
    pub train_only: Vec<String>,
    /// Per held-out capture, in input order.
    pub captures: Vec<CaptureResult>,
}

/// Fits `cfg.kind` on `rows` (the isolation forest on their benign rows).
///
/// # Errors
/// [`TrainError`] when the rows cannot train the model.
pub fn fit_model(rows: &Dataset, cfg: &GroupedConfig) -> Result<Model, TrainError> {
    match cfg.kind {
        ModelKind::RandomForest => {
            let params = RandomForestParams {
                seed: cfg.seed,
                ..cfg.forest.clone()
            };
            Ok(Model::RandomForest(params.fit(rows)?))
        }
        ModelKind::IsolationForest => {
            let benign = rows.benign_rows();
            if benign.is_empty() {
                return Err(TrainError::NoBenignRows);
            }
            let m = cfg
                .iforest
                .clone()
                .seed(cfg.seed)
                .fit_rows(benign.features.view())?;
            Ok(Model::IsolationForest(m))
        }
    }
}

/// The model's score of one row (the forest's attack score, the isolation forest's anomaly
/// score): what its detector compares with the alert threshold.
pub fn score(model: &Model, row: &InputRow) -> f64 {
    verdict(model, row).0
}

/// The score of one row and the class its detector would name (the forest's predicted
/// class, 1 for the isolation forest).
fn verdict(model: &Model, row: &InputRow) -> (f64, usize) {
    match model {
        Model::RandomForest(m) => {
            let v = m.vote(row);
            (v.attack_score, v.attack_class)
        }
        Model::IsolationForest(m) => (m.score(row), 1),
    }
}

/// The `attack_type` the model's detector gives each class index.
fn attack_types(model: &Model) -> Vec<String> {
    match model {
        Model::RandomForest(m) => forest_attack_types(m),
        Model::IsolationForest(_) => vec![ANOMALY.to_string(); 2],
    }
}

/// Replays already-scored flows: raises, for the flow it is handed next, the alert the
/// model's detector would raise (type, addresses, time, score) when the score reaches the
/// threshold. Calibration runs it under the real [`EpisodeAggregator`] at many thresholds
/// without scoring the trees again.
struct Rescored {
    detector: &'static str,
    verdicts: Vec<(f64, usize)>,
    types: Vec<String>,
    threshold: f64,
    next: usize,
}

impl Detector for Rescored {
    fn name(&self) -> &str {
        self.detector
    }

    fn on_flow_end(
        &mut self,
        flow: &FlowRecord,
        _features: &netsec_core::features::FeatureVector,
        out: &mut Vec<Alert>,
    ) {
        let Some(&(score, class)) = self.verdicts.get(self.next) else {
            return;
        };
        self.next += 1;
        if score >= self.threshold {
            let t = self.types.get(class).map_or(ML_ATTACK, String::as_str);
            out.push(
                Alert::builder(self.detector, flow.last_ts, t, Severity::Medium)
                    .flow_record(flow)
                    .score(score)
                    .build(),
            );
        }
    }
}

/// Alerts the detector of a model (of `kind`, naming classes `types`) raises on capture `c`
/// at `threshold`, after episode aggregation, given the flows' `verdicts`.
fn episode_alerts(
    kind: ModelKind,
    types: &[String],
    c: &CaptureFlows,
    verdicts: &[(f64, usize)],
    threshold: f64,
    episodes: EpisodeConfig,
) -> usize {
    // A capture none of whose flows reaches the threshold raises nothing.
    if !verdicts.iter().any(|v| v.0 >= threshold) {
        return 0;
    }
    let inner = Rescored {
        detector: kind.as_str(),
        verdicts: verdicts.to_vec(),
        types: types.to_vec(),
        threshold,
        next: 0,
    };
    let mut det = EpisodeAggregator::new(Box::new(inner), episodes);
    let mut out = Vec::new();
    for flow in &c.flows {
        det.on_flow_end(flow, &flow.features(), &mut out);
    }
    det.on_finish(&mut out);
    out.len()
}

/// The next representable value above `v`, for scores (finite, ≥ 0); `f64::next_up` needs
/// a newer compiler than our MSRV.
fn next_up(v: f64) -> f64 {
    if v.is_finite() && v >= 0.0 {
        f64::from_bits(v.to_bits() + 1)
    } else {
        v
    }
}

/// A benign capture with the verdicts of the model that did not see it.
struct HeldOutBenign<'a> {
    capture: &'a CaptureFlows,
    verdicts: &'a [(f64, usize)],
    types: &'a [String],
}

/// The lowest threshold (at least `floor`, at most 1) at which at most `budget` of the
/// held-out benign captures raise an alert after episode aggregation (binary search over
/// the scores seen; alerts only fall as the threshold rises).
fn calibrate(
    benign: &[HeldOutBenign<'_>],
    kind: ModelKind,
    budget: f64,
    floor: f64,
    episodes: EpisodeConfig,
) -> f64 {
    let allowed = (budget * benign.len() as f64).floor() as usize;
    let alerting = |t: f64| {
        benign
            .iter()
            .filter(|b| episode_alerts(kind, b.types, b.capture, b.verdicts, t, episodes) > 0)
            .count()
    };
    let mut cands: Vec<f64> = benign
        .iter()
        .flat_map(|b| b.verdicts.iter().map(|v| v.0))
        .filter(|&v| v.is_finite() && v > floor && v <= 1.0)
        .map(next_up)
        .filter(|&v| v <= 1.0)
        .collect();
    cands.push(floor);
    cands.sort_by(f64::total_cmp);
    cands.dedup();
    if alerting(floor) <= allowed {
        return floor;
    }
    let (mut lo, mut hi) = (0usize, cands.len() - 1);
    if alerting(cands[hi]) > allowed {
        return cands[hi];
    }
    // Invariant: cands[lo] alerts too much, cands[hi] does not.
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if alerting(cands[mid]) > allowed {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    cands[hi]
}

/// Thresholds with `alert` (and `medium`) at `alert`, `high` and `critical` kept at or above.
pub fn thresholds_at(kind: ModelKind, alert: f64) -> Thresholds {
    let d = Thresholds::default_for(kind);
    let high = d.high.max(alert);
    Thresholds {
        alert,
        medium: alert,
        high,
        critical: d.critical.max(high),
    }
}

/// Runs one capture through the detector of `file` wrapped in episode aggregation, as the
/// sensor does; the alerts that come out.
pub fn replay(file: &ModelFile, capture: &CaptureFlows, episodes: EpisodeConfig) -> Vec<Alert> {
    let mut det = EpisodeAggregator::new(crate::detector_for(file), episodes);
    let mut out = Vec::new();
    for flow in &capture.flows {
        det.on_flow_end(flow, &flow.features(), &mut out);
    }
    det.on_finish(&mut out);
    out
}

/// Out-of-fold results before thresholds: per capture, per flow verdicts, and the
/// `attack_type`s of each fold's model.
struct OutOfFold {
    models: Vec<Model>,
    types: Vec<Vec<String>>,
    verdicts: Vec<Vec<(f64, usize)>>,
}

/// Trains a model per fold and scores every held-out flow with the model that did not see it.
fn out_of_fold(
    set: &CaptureSet,
    folds: &[Option<usize>],
    cfg: &GroupedConfig,
    stage: &mut dyn FnMut(&str),
) -> Result<OutOfFold, TrainError> {
    let mut verdicts = vec![Vec::new(); set.captures.len()];
    let mut models = Vec::with_capacity(cfg.folds);
    let mut types = Vec::with_capacity(cfg.folds);
    for f in 0..cfg.folds {
        let train: Vec<usize> = (0..set.captures.len())
            .filter(|&i| folds[i] != Some(f))
            .collect();
        let rows = set.training_rows(&train, cfg.attack_rows_per_capture);
        stage(&format!(
            "fold {}/{}: training on {} rows of {} captures",
            f + 1,
            cfg.folds,
            rows.len(),
            train.len()
        ));
        let model = fit_model(&rows, cfg)?;
        for (i, c) in set.captures.iter().enumerate() {
            if folds[i] == Some(f) {
                verdicts[i] = c.rows.iter().map(|r| verdict(&model, r)).collect();
            }
        }
        types.push(attack_types(&model));
        models.push(model);
    }
    Ok(OutOfFold {
        models,
        types,
        verdicts,
    })
}

/// Whether the capture is benign (no attack flow).
fn is_benign(c: &CaptureFlows) -> bool {
    c.labels.iter().all(|&l| l == 0)
}

/// Cross-validates `cfg` by capture over `set` (see the module docs); `stage` hears what is
/// being done.
///
/// # Errors
/// [`TrainError`] when fewer captures than folds are held out, or a fold cannot train.
pub fn grouped_evaluation(
    set: &CaptureSet,
    cfg: &GroupedConfig,
    stage: &mut dyn FnMut(&str),
) -> Result<GroupedReport, TrainError> {
    let held_out = set.captures.iter().filter(|c| !c.train_only).count();
    if cfg.folds < 2 || held_out < cfg.folds {
        return Err(TrainError::Data(DataError::Shape(format!(
            "{} folds need at least as many evaluated captures, have {held_out}",
            cfg.folds
        ))));
    }
    if !(cfg.alert_budget >= 0.0 && cfg.alert_budget < 1.0) {
        return Err(TrainError::TargetFpr(cfg.alert_budget));
    }
    let folds = assign_folds(set, cfg.folds, cfg.seed);
    let oof = out_of_fold(set, &folds, cfg, stage)?;
    let benign_except = |except: Option<usize>| -> Vec<HeldOutBenign<'_>> {
        (0..set.captures.len())
            .filter(|&i| is_benign(&set.captures[i]))
            .filter_map(|i| {
                let f = folds[i].filter(|&f| Some(f) != except)?;
                Some(HeldOutBenign {
                    capture: &set.captures[i],
                    verdicts: &oof.verdicts[i],
                    types: oof.types.get(f)?,
                })
            })
            .collect()
    };
    let calibrated = |except: Option<usize>| {
        calibrate(
            &benign_except(except),
            cfg.kind,
            cfg.alert_budget,
            THRESHOLD_FLOOR,
            cfg.episodes,
        )
    };
    stage("calibrating the alert threshold on held-out benign captures");
    let threshold = calibrated(None);
    // Each fold's model at the threshold chosen without that fold.
    let files: Vec<ModelFile> = oof
        .models
        .iter()
        .enumerate()
        .map(|(f, model)| {
            let mut file = ModelFile::new("grouped-cv", format!("fold{}", f + 1), model.clone());
            file.thresholds = thresholds_at(cfg.kind, calibrated(Some(f)));
            file
        })
        .collect();
    stage("replaying the held-out captures");
    let mut report = GroupedReport::empty(cfg.canonical(), set, threshold);
    let mut all_scores = Vec::new();
    let mut all_attack = Vec::new();
    for (i, c) in set.captures.iter().enumerate() {
        let Some((f, file)) = folds[i].and_then(|f| Some((f, files.get(f)?))) else {
            continue;
        };
        let scores: Vec<f64> = oof.verdicts[i].iter().map(|v| v.0).collect();
        all_scores.extend_from_slice(&scores);
        all_attack.extend(c.labels.iter().map(|&l| l != 0));
        report
            .captures
            .push(capture_result(file, set, c, &scores, f, cfg.episodes));
    }
    report.finish(&all_scores, &all_attack)?;
    Ok(report)
}

/// What the detector of `file` (threshold included) makes of capture `c`, whose flows
/// scored `scores`.
fn capture_result(
    file: &ModelFile,
    set: &CaptureSet,
    c: &CaptureFlows,
    scores: &[f64],
    fold: usize,
    episodes: EpisodeConfig,
) -> CaptureResult {
    let t = file.thresholds.alert;
    let alerts = replay(file, c, episodes);
    let mut named = BTreeMap::new();
    for a in &alerts {
        *named.entry(a.attack_type.clone()).or_insert(0) += 1;
    }
    let family = c
        .family(set.class_names.len())
        .map(|k| attack_type_for(&set.class_names[k]));
    let verdict = match (&family, alerts.is_empty()) {
        (None, true) => "quiet",
        (None, false) => "false_alarm",
        (Some(_), true) => "missed",
        (Some(_), false) if file.kind() == ModelKind::IsolationForest => "alerted",
        (Some(fam), false) if named.contains_key(fam) => "right_family",
        (Some(_), false) => "wrong_family",
    };
    CaptureResult {
        capture: c.name.clone(),
        fold,
        family,
        flows: c.flows.len(),
        attack_flows: c.labels.iter().filter(|&&l| l != 0).count(),
        flows_alerted: scores.iter().filter(|&&s| s >= t).count(),
        alerts: alerts.len(),
        named,
        max_score: scores.iter().copied().fold(0.0, f64::max),
        threshold: t,
        verdict: verdict.to_string(),
    }
}

/// Scores every evaluated capture of `set` with the model of `file` as it is (its own
/// threshold, no folds): for data separate from its training captures.
///
/// # Errors
/// [`TrainError::Data`] on a shape mismatch (never for well-formed sets).
pub fn evaluate_separate(
    file: &ModelFile,
    set: &CaptureSet,
    episodes: EpisodeConfig,
) -> Result<GroupedReport, TrainError> {
    let mut cfg = config_of(file).unwrap_or_else(|| GroupedConfig::new(file.kind()).canonical());
    cfg.folds = 1;
    cfg.episodes = episodes;
    let mut report = GroupedReport::empty(cfg, set, file.thresholds.alert);
    let (mut all_scores, mut all_attack) = (Vec::new(), Vec::new());
    for c in set.captures.iter().filter(|c| !c.train_only) {
        let scores: Vec<f64> = c.rows.iter().map(|r| score(&file.model, r)).collect();
        all_scores.extend_from_slice(&scores);
        all_attack.extend(c.labels.iter().map(|&l| l != 0));
        report
            .captures
            .push(capture_result(file, set, c, &scores, 0, episodes));
    }
    report.finish(&all_scores, &all_attack)?;
    Ok(report)
}

impl GroupedReport {
    fn empty(config: GroupedConfig, set: &CaptureSet, threshold: f64) -> GroupedReport {
        GroupedReport {
            config,
            class_names: set.class_names.clone(),
            threshold,
            benign_captures: Tally::default(),
            attack_captures: Tally::default(),
            families: BTreeMap::new(),
            roc_auc: None,
            flows: BTreeMap::new(),
            train_only: set
                .captures
                .iter()
                .filter(|c| c.train_only)
                .map(|c| c.name.clone())
                .collect(),
            captures: Vec::new(),
        }
    }

    /// Tallies the per-capture results and the flow-level ROC-AUC.
    fn finish(&mut self, scores: &[f64], is_attack: &[bool]) -> Result<(), TrainError> {
        for r in &self.captures {
            match &r.family {
                None => self.benign_captures.add(r.verdict == "false_alarm"),
                Some(fam) => {
                    let hit = r.verdict == "right_family" || r.verdict == "alerted";
                    self.attack_captures.add(hit);
                    self.families.entry(fam.clone()).or_default().add(hit);
                }
            }
        }
        let attack_flows = is_attack.iter().filter(|&&a| a).count();
        self.flows
            .insert(BENIGN.to_string(), is_attack.len() - attack_flows);
        self.flows.insert("attack".to_string(), attack_flows);
        self.roc_auc = roc_auc(scores, is_attack)?;
        Ok(())
    }
}

impl GroupedReport {
    /// The report as Markdown: totals, then one table row per capture.
    pub fn to_markdown(&self) -> String {
        let pct = |t: &Tally| format!("{} of {} ({:.0} %)", t.hit, t.total, t.share() * 100.0);
        let mut s = String::new();
        let kind = self.config.kind.as_str();
        s.push_str(&format!(
            "| measure | value |\n|---|---|\n| model | {kind}, {} folds by capture, seed {} |\n",
            self.config.folds, self.config.seed
        ));
        s.push_str(&format!(
            "| alert threshold | {:.4} (at most {:.0} % of held-out benign captures alerting) |\n",
            self.threshold,
            self.config.alert_budget * 100.0
        ));
        s.push_str(&format!(
            "| benign captures raising any alert | {} |\n",
            pct(&self.benign_captures)
        ));
        let what = if self.config.kind == ModelKind::IsolationForest {
            "raising an alert"
        } else {
            "named with the right family"
        };
        s.push_str(&format!(
            "| attack captures {what} | {} |\n",
            pct(&self.attack_captures)
        ));
        for (fam, t) in &self.families {
            s.push_str(&format!("| … {fam} | {} |\n", pct(t)));
        }
        s.push_str(&format!(
            "| flow ROC-AUC, benign vs attack (out of fold) | {} |\n",
            self.roc_auc.map_or("n/a".into(), |a| format!("{a:.3}"))
        ));
        s.push_str(&format!(
            "| flows | {} benign, {} attack |\n",
            self.flows.get(BENIGN).copied().unwrap_or(0),
            self.flows.get("attack").copied().unwrap_or(0)
        ));
        if !self.train_only.is_empty() {
            s.push_str(&format!(
                "| training-only captures | {} |\n",
                self.train_only.join(", ")
            ));
        }
        s.push_str("\n| capture | fold | family | flows | attack flows | flows alerted | alerts | named | max score | verdict |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for r in &self.captures {
            let named: Vec<String> = r.named.iter().map(|(k, v)| format!("{k} {v}")).collect();
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {:.3} | {} |\n",
                r.capture,
                r.fold + 1,
                r.family.as_deref().unwrap_or("benign"),
                r.flows,
                r.attack_flows,
                r.flows_alerted,
                r.alerts,
                named.join(", "),
                r.max_score,
                r.verdict
            ));
        }
        s
    }
}

/// Names and dates recorded in a model file trained by [`train_by_capture`].
#[derive(Debug, Clone, Default)]
pub struct FileInfo {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// Training date as recorded.
    pub date: String,
    /// Where the data came from, as recorded.
    pub source: String,
}

/// The model to ship: the grouped evaluation of `cfg` over `set` (which calibrates the alert
/// threshold), then one model fitted on every capture's training rows with that threshold.
/// The file records the calibration and the training rows' feature bins (for drift).
///
/// # Errors
/// As [`grouped_evaluation`] and [`fit_model`].
pub fn train_by_capture(
    set: &CaptureSet,
    cfg: &GroupedConfig,
    info: &FileInfo,
    stage: &mut dyn FnMut(&str),
) -> Result<(ModelFile, GroupedReport), TrainError> {
    let report = grouped_evaluation(set, cfg, stage)?;
    let all: Vec<usize> = (0..set.captures.len()).collect();
    let rows = set.training_rows(&all, cfg.attack_rows_per_capture);
    stage(&format!(
        "training the shipped model on {} rows of {} captures",
        rows.len(),
        all.len()
    ));
    let model = fit_model(&rows, cfg)?;
    let fit_rows = match cfg.kind {
        ModelKind::RandomForest => rows,
        ModelKind::IsolationForest => rows.benign_rows(),
    };
    let mut bins = FeatureBins::from_rows(fit_rows.features.view());
    // "Far" = farther than any one real benign training capture.
    let benign_rows: Vec<Vec<InputRow>> = set
        .captures
        .iter()
        .filter(|c| !c.train_only && is_benign(c))
        .map(|c| c.rows.clone())
        .collect();
    bins.limit_from(benign_rows.iter().map(Vec::as_slice));
    let mut file = ModelFile::new(info.name.clone(), info.version.clone(), model);
    file.thresholds = thresholds_at(cfg.kind, report.threshold);
    file.training = TrainingMeta {
        seed: cfg.seed,
        data_digest: set.digest(),
        source: info.source.clone(),
        date: info.date.clone(),
        rows: BTreeMap::from([(
            ROWS_FIT.to_string(),
            class_count_map(&fit_rows, &(0..fit_rows.len()).collect::<Vec<_>>()),
        )]),
        calibration: Some(Calibration {
            method: format!(
                "grouped {}-fold cross-validation by capture; alert threshold = lowest score at \
                 which at most {} % of held-out benign captures raise an alert (floor {})",
                cfg.folds,
                cfg.alert_budget * 100.0,
                THRESHOLD_FLOOR
            ),
            alert_budget: cfg.alert_budget,
            folds: cfg.folds,
            attack_rows_per_capture: cfg.attack_rows_per_capture,
            benign_captures: report.benign_captures.total,
            benign_captures_alerting: report.benign_captures.hit,
            threshold: report.threshold,
        }),
        feature_bins: Some(bins),
    };
    Ok((file, report))
}

/// The grouped configuration a model file was trained with ([`train_by_capture`]): kind,
/// hyperparameters and seed from the file, folds, budget and resampling from its
/// calibration; `None` for a file not trained by capture.
pub fn config_of(file: &ModelFile) -> Option<GroupedConfig> {
    let cal = file.training.calibration.as_ref()?;
    let mut cfg = GroupedConfig::new(file.kind());
    cfg.seed = file.training.seed;
    cfg.folds = cal.folds;
    cfg.alert_budget = cal.alert_budget;
    cfg.attack_rows_per_capture = cal.attack_rows_per_capture;
    match &file.model {
        Model::RandomForest(m) => cfg.forest = m.params().clone(),
        Model::IsolationForest(m) => {
            let p = m.params();
            cfg.iforest = IsolationForestParams::default()
                .n_trees(p.n_trees())
                .subsample(p.subsample())
                .max_depth(p.max_depth())
                .seed(p.seed());
        }
    }
    Some(cfg.canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsec_core::decode::IpProtocol;
    use netsec_core::flow::EndReason;
    use netsec_core::time::Timestamp;

    fn flow(src: u8, port: u16, secs: i64) -> FlowRecord {
        let ts = Timestamp::from_micros(secs * 1_000_000);
        FlowRecord {
            id: secs as u64,
            first_ts: ts,
            last_ts: ts,
            src_addr: [10, 0, 0, src].into(),
            src_port: port,
            dst_addr: [10, 0, 1, 1].into(),
            dst_port: 80,
            protocol: IpProtocol::TCP,
            end_reason: EndReason::Idle,
            stats: Default::default(),
            app_proto: Default::default(),
            app: None,
        }
    }

    /// A capture of `labels.len()` flows from one source, row values = its index.
    fn capture(name: &str, labels: &[usize], train_only: bool) -> CaptureFlows {
        CaptureFlows {
            name: name.into(),
            flows: (0..labels.len())
                .map(|i| flow(1, 1000 + i as u16, i as i64))
                .collect(),
            rows: (0..labels.len()).map(|i| [i as f64; INPUT_COUNT]).collect(),
            labels: labels.to_vec(),
            train_only,
        }
    }

    fn set() -> CaptureSet {
        let mut captures = Vec::new();
        for i in 0..6 {
            captures.push(capture(&format!("benign{i}.pcap"), &[0; 4], false));
        }
        for i in 0..3 {
            captures.push(capture(&format!("scan{i}.pcap"), &[1; 10], false));
            captures.push(capture(&format!("flood{i}.pcap"), &[0, 2, 2, 2, 2], false));
        }
        captures.push(capture("gen.pcap", &[0, 1, 2], true));
        CaptureSet {
            class_names: vec![BENIGN.into(), "Portscan".into(), "DoS".into()],
            captures,
        }
    }

    #[test]
    fn every_capture_is_in_one_fold_and_families_are_spread() {
        let s = set();
        let folds = assign_folds(&s, 3, 7);
        assert_eq!(
            folds.last(),
            Some(&None),
            "training-only captures are never held out"
        );
        assert!(folds[..folds.len() - 1].iter().all(Option::is_some));
        for fam in ["scan", "flood", "benign"] {
            let mut seen: Vec<Option<usize>> = s
                .captures
                .iter()
                .zip(&folds)
                .filter(|(c, _)| c.name.starts_with(fam))
                .map(|(_, f)| *f)
                .collect();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), 3, "{fam}: one capture of the family per fold");
        }
        assert_eq!(folds, assign_folds(&s, 3, 7), "seeded");
        assert_eq!(s.captures[7].family(3), Some(2));
        assert_eq!(s.captures[0].family(3), None);
    }

    #[test]
    fn training_rows_keep_benign_and_cap_each_attack_class_per_capture() {
        let s = set();
        let rows = s.training_rows(&[0, 6, 7, 12], 3);
        let counts = rows.class_counts();
        // benign 4 + 1 (flood0) + 1 (gen); Portscan 3 of scan0's 10 + gen's 1; DoS 3 + 1.
        assert_eq!(counts, vec![6, 4, 4]);
        // Spread over the capture: scan0's rows 0, 4 and 7, not the first three.
        let scan: Vec<f64> = (0..rows.len())
            .filter(|&i| rows.labels[i] == 1)
            .map(|i| rows.features[[i, 0]])
            .collect();
        assert_eq!(scan, vec![0.0, 4.0, 7.0, 1.0]);
    }

    #[test]
    fn the_threshold_is_the_lowest_within_the_alert_budget_after_episodes() {
        // Ten benign captures of three flows from one source: with min_flows 3 a capture
        // raises an episode only when all three flows reach the threshold, i.e. at its
        // lowest score 0.55 + 0.03 i.
        let captures: Vec<CaptureFlows> = (0..10)
            .map(|i| capture(&format!("b{i}"), &[0, 0, 0], false))
            .collect();
        let verdicts: Vec<Vec<(f64, usize)>> = (0..10)
            .map(|i| {
                let f = i as f64;
                vec![(0.9, 1), (0.6 + 0.03 * f, 1), (0.55 + 0.03 * f, 1)]
            })
            .collect();
        let types = vec![ML_ATTACK.to_string(), "Portscan".to_string()];
        let benign: Vec<HeldOutBenign<'_>> = captures
            .iter()
            .zip(&verdicts)
            .map(|(c, v)| HeldOutBenign {
                capture: c,
                verdicts: v,
                types: &types,
            })
            .collect();
        let ep = EpisodeConfig::default();
        let kind = ModelKind::RandomForest;
        // 10 % of 10: one capture (the last, lowest score 0.82) may alert.
        let t = calibrate(&benign, kind, 0.1, 0.5, ep);
        assert_eq!(t, next_up(0.55f64 + 0.03 * 8.0));
        let alerting = |t: f64| {
            benign
                .iter()
                .filter(|b| episode_alerts(kind, b.types, b.capture, b.verdicts, t, ep) > 0)
                .count()
        };
        assert_eq!(alerting(t), 1);
        assert_eq!(alerting(f64::from_bits(t.to_bits() - 1)), 2);
        // No budget: above every capture's lowest score; 99 %: all but one may alert.
        assert_eq!(alerting(calibrate(&benign, kind, 0.0, 0.5, ep)), 0);
        assert_eq!(calibrate(&benign, kind, 0.99, 0.5, ep), next_up(0.55));
        // One odd flow per capture is below min_flows: never an alert.
        let single = vec![vec![(1.0, 1), (0.0, 0), (0.0, 0)]; 10];
        let lone: Vec<HeldOutBenign<'_>> = captures
            .iter()
            .zip(&single)
            .map(|(c, v)| HeldOutBenign {
                capture: c,
                verdicts: v,
                types: &types,
            })
            .collect();
        assert_eq!(calibrate(&lone, kind, 0.0, 0.5, ep), 0.5);
    }
}
