//! Scoring a model file on labelled rows: the figures of `netsec eval` and of the reports
//! committed beside the shipped models.
//!
//! [`evaluate`] runs a [`ModelFile`] over a [`Dataset`] and returns an [`EvalReport`]:
//!
//! - **Random forest**: the multi-class [`ClassificationReport`] of the majority vote against
//!   the true classes. Classes of the data the model does not know are appended to the class
//!   list (never predicted, so their recall is 0) rather than dropped.
//! - **Isolation forest**: the two-class report (`BENIGN` vs `ANOMALY`) of "score ≥ the alert
//!   threshold" against benign vs any attack class.
//! - **Both**: ROC-AUC of the attack score (forest: share of trees voting attack; isolation
//!   forest: anomaly score) for benign vs attack, the benign/attack counts and false-positive
//!   rate at the model's alert threshold, and per true class how many rows would raise an
//!   alert ([`ClassDetection`]), which shows which attacks an anomaly detector misses.
//!
//! Which rows to score is the caller's business ([`EvalRows`] records the choice):
//! [`held_out_rows`] rebuilds the held-out part of the model's own training data from its
//! metadata, so figures are never computed on training rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dataset::{DataError, Dataset};
use crate::inputs::{InputRow, INPUT_COUNT};
use crate::metrics::{roc_auc, BinaryAtThreshold, ClassificationReport};
use crate::model::{Model, ModelFile, Thresholds, ANOMALY_CLASSES};
use crate::split::{split_by_counts, Split};

/// `TrainingMeta::rows` key of the training part's class counts.
pub const ROWS_TRAIN: &str = "train";
/// `TrainingMeta::rows` key of the held-out part's class counts.
pub const ROWS_TEST: &str = "test";
/// `TrainingMeta::rows` key of the rows a model was actually fitted on (the isolation forest
/// fits the benign training rows only).
pub const ROWS_FIT: &str = "fit";
/// Prefix of `TrainingMeta::data_digest`, followed by [`Dataset::digest`].
pub const DIGEST_PREFIX: &str = "sha256:";

/// Which rows an evaluation scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvalRows {
    /// The held-out part of the model's training data, rebuilt from the split seed and the
    /// per-class test counts in its metadata.
    HeldOut {
        /// The split seed.
        seed: u64,
        /// Rows in the whole training data.
        of_rows: u64,
    },
    /// All rows of data the user declared separate from the training data.
    Separate,
}

/// The model an evaluation scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// `random_forest` or `isolation_forest`.
    pub kind: String,
    /// Its thresholds.
    pub thresholds: Thresholds,
}

/// Alerts raised per true class at the alert threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassDetection {
    /// True class.
    pub class: String,
    /// Rows of the class.
    pub rows: u64,
    /// Rows that would raise an alert.
    pub alerted: u64,
    /// `alerted / rows` (0 for no rows): the detection rate for attacks, the false-positive
    /// rate for `BENIGN`.
    pub rate: f64,
    /// Mean attack score of the class's rows.
    pub mean_score: f64,
}

/// Benign-vs-attack figures of the attack score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryEval {
    /// ROC-AUC of the score for benign vs attack (`None` without both kinds of rows).
    pub roc_auc: Option<f64>,
    /// Counts and rates at the model's alert threshold.
    pub at_threshold: BinaryAtThreshold,
}

/// Everything `netsec eval` prints and writes as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The model.
    pub model: ModelSummary,
    /// Digest of the data evaluated ([`DIGEST_PREFIX`] + [`Dataset::digest`] of all its rows,
    /// before any split).
    pub data_digest: String,
    /// Which rows were scored.
    pub evaluated: EvalRows,
    /// Rows scored.
    pub rows: u64,
    /// Class-level figures (see the module docs for the classes of each kind).
    pub classification: ClassificationReport,
    /// Benign vs attack.
    pub binary: BinaryEval,
    /// Alerts per true class.
    pub detection_by_class: Vec<ClassDetection>,
}

/// Class names for evaluating `data` with `model_classes`: the model's, then the data's
/// classes it does not know.
fn union_classes(model_classes: &[String], data: &Dataset) -> Vec<String> {
    let mut all = model_classes.to_vec();
    for c in &data.class_names {
        if !all.contains(c) {
            all.push(c.clone());
        }
    }
    all
}

/// Scores every row of `data` with `file` (see the module docs); `evaluated` and
/// `data_digest` are recorded as given.
///
/// # Errors
/// [`DataError::Shape`] when `data` is inconsistent.
pub fn evaluate(
    file: &ModelFile,
    data: &Dataset,
    evaluated: EvalRows,
    data_digest: String,
) -> Result<EvalReport, DataError> {
    // Copied row by row, so any memory layout of the matrix works.
    let rows: Vec<InputRow> = data
        .features
        .outer_iter()
        .map(|r| {
            let mut row = [0.0; INPUT_COUNT];
            for (d, v) in row.iter_mut().zip(r.iter()) {
                *d = *v;
            }
            row
        })
        .collect();
    let is_attack = data.is_attack();
    let threshold = file.thresholds.alert;
    let (classification, scores) = match &file.model {
        Model::RandomForest(forest) => {
            let classes = union_classes(forest.class_names(), data);
            let truth = data.with_classes(&classes)?.labels;
            let mut pred = Vec::with_capacity(rows.len());
            let mut scores = Vec::with_capacity(rows.len());
            for r in &rows {
                let vote = forest.vote(r);
                pred.push(vote.class);
                scores.push(vote.attack_score);
            }
            (ClassificationReport::new(&truth, &pred, &classes)?, scores)
        }
        Model::IsolationForest(iforest) => {
            let classes: Vec<String> = ANOMALY_CLASSES.iter().map(|c| c.to_string()).collect();
            let truth: Vec<usize> = is_attack.iter().map(|&a| usize::from(a)).collect();
            let mut scores = Vec::with_capacity(rows.len());
            for r in &rows {
                scores.push(iforest.score(r));
            }
            let pred: Vec<usize> = scores
                .iter()
                .map(|&s| usize::from(file.thresholds.fires(s)))
                .collect();
            (ClassificationReport::new(&truth, &pred, &classes)?, scores)
        }
    };
    let binary = BinaryEval {
        roc_auc: roc_auc(&scores, &is_attack)?,
        at_threshold: BinaryAtThreshold::new(&scores, &is_attack, threshold)?,
    };
    let detection_by_class = data
        .class_names
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let (mut n, mut alerted, mut sum) = (0u64, 0u64, 0.0);
            for (&l, &s) in data.labels.iter().zip(&scores) {
                if l == c {
                    n += 1;
                    sum += s;
                    alerted += u64::from(file.thresholds.fires(s));
                }
            }
            let per = |v: f64| if n == 0 { 0.0 } else { v / n as f64 };
            ClassDetection {
                class: name.clone(),
                rows: n,
                alerted,
                rate: per(alerted as f64),
                mean_score: per(sum),
            }
        })
        .collect();
    Ok(EvalReport {
        model: ModelSummary {
            name: file.name.clone(),
            version: file.version.clone(),
            kind: file.kind().as_str().to_string(),
            thresholds: file.thresholds,
        },
        data_digest,
        evaluated,
        rows: data.len() as u64,
        classification,
        binary,
        detection_by_class,
    })
}

/// Per-class row counts keyed by class name (the shape of `TrainingMeta::rows` entries).
pub fn class_count_map(data: &Dataset, rows: &[usize]) -> BTreeMap<String, u64> {
    let mut map: BTreeMap<String, u64> = BTreeMap::new();
    for &i in rows {
        if let Some(name) = data.labels.get(i).and_then(|&l| data.class_names.get(l)) {
            *map.entry(name.clone()).or_default() += 1;
        }
    }
    map
}

/// Why the held-out part of a model's training data cannot be rebuilt from `data`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeldOutError {
    /// The data is not the data the model was trained on.
    #[error(
        "this data (digest {found}) is not the model's training data (digest {expected}): pass \
         the exact training inputs to score the held-out part, or declare the data separate"
    )]
    OtherData {
        /// The model's training-data digest.
        expected: String,
        /// The digest of the data given.
        found: String,
    },
    /// The model's metadata does not record its split.
    #[error("the model's metadata records no held-out split (no \"test\" row counts)")]
    NoSplit,
    /// The recorded split does not fit the data.
    #[error("the recorded split does not fit the data: {0}")]
    BadSplit(String),
}

/// The split a model was trained with, rebuilt from its metadata when `data` is its training
/// data (same digest). Score only `test`.
///
/// # Errors
/// [`HeldOutError`] when the data differs or the metadata records no split.
pub fn held_out_rows(file: &ModelFile, data: &Dataset) -> Result<Split, HeldOutError> {
    let found = format!("{DIGEST_PREFIX}{}", data.digest());
    if file.training.data_digest != found {
        return Err(HeldOutError::OtherData {
            expected: file.training.data_digest.clone(),
            found,
        });
    }
    let test = file
        .training
        .rows
        .get(ROWS_TEST)
        .ok_or(HeldOutError::NoSplit)?;
    let mut counts = vec![0usize; data.class_names.len()];
    for (name, &n) in test {
        let c = data
            .class_names
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| HeldOutError::BadSplit(format!("unknown class {name:?}")))?;
        counts[c] = usize::try_from(n).map_err(|_| HeldOutError::BadSplit("count".into()))?;
    }
    let split = split_by_counts(&data.labels, file.training.seed, &counts)
        .map_err(|e| HeldOutError::BadSplit(e.to_string()))?;
    if let Some(train) = file.training.rows.get(ROWS_TRAIN) {
        if &class_count_map(data, &split.train) != train {
            return Err(HeldOutError::BadSplit(
                "training counts differ from the recorded ones".into(),
            ));
        }
    }
    Ok(split)
}

impl EvalReport {
    /// The text `netsec eval` prints.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "model {} {} ({}), alert threshold {}",
            self.model.name, self.model.version, self.model.kind, self.model.thresholds.alert
        );
        let what = match &self.evaluated {
            EvalRows::HeldOut { seed, of_rows } => {
                format!("held-out split (seed {seed}) of the training data, {of_rows} rows in all")
            }
            EvalRows::Separate => "all rows of data declared separate from training".into(),
        };
        let _ = writeln!(out, "evaluated {} rows: {what}\n", self.rows);
        out.push_str(&self.classification.render());
        let b = &self.binary;
        let _ = writeln!(
            out,
            "\nbenign vs attack: ROC-AUC {}, at threshold {}: FPR {:.4} ({} of {} benign), \
             detection rate {:.4}, precision {:.4}",
            b.roc_auc.map_or("n/a".into(), |a| format!("{a:.4}")),
            b.at_threshold.threshold,
            b.at_threshold.fpr,
            b.at_threshold.false_positives,
            b.at_threshold.false_positives + b.at_threshold.true_negatives,
            b.at_threshold.tpr,
            b.at_threshold.precision,
        );
        let _ = writeln!(out, "\nalerts per true class:");
        for d in &self.detection_by_class {
            let _ = writeln!(
                out,
                "  {:<28} {:>6} of {:>6} ({:.4}), mean score {:.4}",
                d.class, d.alerted, d.rows, d.rate, d.mean_score
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{DatasetBuilder, BENIGN};
    use crate::{IsolationForestParams, RandomForestParams};

    fn data() -> Dataset {
        let mut b = DatasetBuilder::new();
        for i in 0..120 {
            let base = if i % 3 == 0 { 50.0 } else { 1.0 };
            let class = if i % 3 == 0 { "DoS" } else { BENIGN };
            let mut row = [base; crate::inputs::INPUT_COUNT];
            row[0] += (i % 7) as f64 * 0.1;
            b.push(&row, class);
        }
        b.finish()
    }

    #[test]
    fn forest_report_on_separable_data() -> Result<(), Box<dyn std::error::Error>> {
        let d = data();
        let forest = RandomForestParams {
            n_trees: 5,
            seed: 1,
            ..Default::default()
        }
        .fit(&d)?;
        let file = ModelFile::new("t", "1", Model::RandomForest(forest));
        let r = evaluate(&file, &d, EvalRows::Separate, "x".into())?;
        assert_eq!(r.rows, 120);
        assert_eq!(r.classification.macro_f1, 1.0);
        assert_eq!(r.binary.roc_auc, Some(1.0));
        assert_eq!(r.binary.at_threshold.fpr, 0.0);
        assert_eq!(r.detection_by_class[1].alerted, 40);
        // A class the model never saw is kept, with recall 0.
        let mut extra = DatasetBuilder::new();
        extra.push(&[50.0; crate::inputs::INPUT_COUNT], "Botnet");
        let mut d2 = d.clone();
        d2.append(&extra.finish());
        let r2 = evaluate(&file, &d2, EvalRows::Separate, "x".into())?;
        assert_eq!(r2.classification.per_class.len(), 3);
        assert_eq!(r2.classification.per_class[2].class, "Botnet");
        assert_eq!(r2.classification.per_class[2].recall, 0.0);
        Ok(())
    }

    #[test]
    fn iforest_report_is_binary() -> Result<(), Box<dyn std::error::Error>> {
        let d = data();
        let model = IsolationForestParams::default()
            .seed(3)
            .subsample(64)
            .fit_rows(d.benign_rows().features.view())?;
        let file = ModelFile::new("i", "1", Model::IsolationForest(model));
        let r = evaluate(&file, &d, EvalRows::Separate, "x".into())?;
        assert_eq!(
            r.classification.confusion.classes,
            vec!["BENIGN", "ANOMALY"]
        );
        assert_eq!(r.classification.rows, 120);
        assert!(r.binary.roc_auc.is_some_and(|a| a > 0.9), "{:?}", r.binary);
        let json = serde_json::to_string(&r)?;
        let back: EvalReport = serde_json::from_str(&json)?;
        assert_eq!(back, r);
        assert!(r.render().contains("ROC-AUC"));
        Ok(())
    }

    #[test]
    fn held_out_rows_need_the_same_data() -> Result<(), Box<dyn std::error::Error>> {
        let d = data();
        let split = crate::split::stratified_split(
            &d.labels,
            crate::split::SplitSpec {
                seed: 5,
                test_fraction: 0.25,
            },
        )?;
        let forest = RandomForestParams {
            n_trees: 2,
            ..Default::default()
        }
        .fit(&d.select(&split.train)?)?;
        let mut file = ModelFile::new("t", "1", Model::RandomForest(forest));
        file.training.seed = 5;
        file.training.data_digest = format!("{DIGEST_PREFIX}{}", d.digest());
        assert_eq!(held_out_rows(&file, &d), Err(HeldOutError::NoSplit));
        file.training
            .rows
            .insert(ROWS_TEST.into(), class_count_map(&d, &split.test));
        file.training
            .rows
            .insert(ROWS_TRAIN.into(), class_count_map(&d, &split.train));
        assert_eq!(held_out_rows(&file, &d), Ok(split.clone()));
        let other = d.select(&(0..100).collect::<Vec<_>>())?;
        assert!(matches!(
            held_out_rows(&file, &other),
            Err(HeldOutError::OtherData { .. })
        ));
        file.training
            .rows
            .insert(ROWS_TRAIN.into(), class_count_map(&d, &split.test));
        assert!(matches!(
            held_out_rows(&file, &d),
            Err(HeldOutError::BadSplit(_))
        ));
        Ok(())
    }
}
