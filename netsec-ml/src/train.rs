//! Training a model file end to end: split, fit, calibrate, evaluate on the held-out part.
//!
//! [`train`] is what `netsec train` and `models/train.sh` run:
//!
//! 1. a stratified split of the whole dataset ([`stratified_split`], seeded);
//! 2. the random forest fits the training part (all classes); the isolation forest fits only
//!    the **benign** rows of the training part;
//! 3. the isolation forest's thresholds come from the scores of those benign training rows
//!    ([`calibrate_anomaly_thresholds`]): `alert` (= `medium`) is their `1 − target_fpr`
//!    quantile, so about `target_fpr` of benign training flows (1 % by default) score at or
//!    above it, `high` their 0.999 quantile and `critical` their maximum. Scores of training
//!    rows run slightly low (each tree saw some of them), so the held-out FPR comes out a
//!    little above the target; the evaluation reports the measured one. The forest keeps the
//!    default thresholds (alert on a majority of attack votes);
//! 4. the model is evaluated on the held-out part ([`evaluate`]).
//!
//! [`cross_validate`] gives k-fold figures (mean ± std over stratified folds) for the same
//! configuration.
//!
//! The model file's [`TrainingMeta`] records the seed (of both the split and the model), the
//! digest of the whole dataset, and the rows per class of the `train` and `test` parts (and of
//! the rows actually `fit`), which is what [`held_out_rows`](crate::evaluate::held_out_rows)
//! needs to rebuild the held-out part later. Nothing depends on the clock (the date is given),
//! so the same data and configuration give the same model (up to linfa's tie-breaking, see
//! [`crate::forest`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dataset::{DataError, Dataset, BENIGN};
use crate::error::MlError;
use crate::evaluate::{
    class_count_map, evaluate, EvalReport, EvalRows, DIGEST_PREFIX, ROWS_FIT, ROWS_TEST, ROWS_TRAIN,
};
use crate::metrics::quantile;
use crate::model::{Model, ModelError, ModelFile, ModelKind, Thresholds, TrainingMeta};
use crate::split::{stratified_kfold, stratified_split, Split, SplitSpec};
use crate::{IsolationForestParams, RandomForestParams};

/// How to train a model file.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Which model.
    pub kind: ModelKind,
    /// Seed of the split and of the model.
    pub seed: u64,
    /// Share of every class held out for evaluation, in (0, 1).
    pub test_fraction: f64,
    /// Forest hyperparameters (its `seed` is replaced by [`seed`](Self::seed)).
    pub forest: RandomForestParams,
    /// Isolation-forest hyperparameters (its seed is replaced by [`seed`](Self::seed)).
    pub iforest: IsolationForestParams,
    /// Isolation forest: share of benign training rows allowed at or above the alert
    /// threshold, in (0, 1).
    pub target_fpr: f64,
    /// Model name (copied into alerts).
    pub name: String,
    /// Model version (copied into alerts).
    pub version: String,
    /// Training date as recorded (e.g. `2026-11-21`).
    pub date: String,
    /// Where the data came from, as recorded.
    pub source: String,
}

impl TrainConfig {
    /// Defaults for `kind`: seed 0, 20 % held out, 100 trees, 1 % target FPR, name
    /// `rf`/`iforest`, version `1`, empty date and source.
    pub fn new(kind: ModelKind) -> Self {
        TrainConfig {
            kind,
            seed: 0,
            test_fraction: 0.2,
            forest: RandomForestParams::default(),
            iforest: IsolationForestParams::default(),
            target_fpr: 0.01,
            name: match kind {
                ModelKind::RandomForest => "rf".into(),
                ModelKind::IsolationForest => "iforest".into(),
            },
            version: "1".into(),
            date: String::new(),
            source: String::new(),
        }
    }
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The data or split is unusable.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The model could not be trained.
    #[error(transparent)]
    Ml(#[from] MlError),
    /// The model file could not be built.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The isolation forest needs benign training rows.
    #[error("no benign rows in the training part: the isolation forest trains on benign flows")]
    NoBenignRows,
    /// The target false-positive rate is out of range.
    #[error("target false-positive rate {0} is not strictly between 0 and 1")]
    TargetFpr(f64),
}

/// A trained model file with its held-out evaluation.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model file, metadata filled in.
    pub file: ModelFile,
    /// Figures on the held-out part.
    pub report: EvalReport,
    /// The split used.
    pub split: Split,
}

/// Isolation-forest thresholds from the scores of benign training rows (see the module docs).
///
/// # Errors
/// [`TrainError::NoBenignRows`] for no scores, [`TrainError::TargetFpr`] for a target outside
/// (0, 1).
pub fn calibrate_anomaly_thresholds(
    benign_scores: &[f64],
    target_fpr: f64,
) -> Result<Thresholds, TrainError> {
    if !(target_fpr > 0.0 && target_fpr < 1.0) {
        return Err(TrainError::TargetFpr(target_fpr));
    }
    let q = |p: f64| quantile(benign_scores, p).ok_or(TrainError::NoBenignRows);
    let alert = q(1.0 - target_fpr)?;
    let high = q(0.999)?.max(alert);
    let critical = q(1.0)?.max(high);
    Ok(Thresholds {
        alert,
        medium: alert,
        high,
        critical,
    })
}

/// A fitted model before it becomes a file.
struct Fitted {
    model: Model,
    thresholds: Thresholds,
    fit_rows: BTreeMap<String, u64>,
}

/// Fits `cfg.kind` on `train_part` (the isolation forest on its benign rows, then calibrated).
fn fit(
    train_part: &Dataset,
    cfg: &TrainConfig,
    stage: &mut dyn FnMut(&str),
) -> Result<Fitted, TrainError> {
    match cfg.kind {
        ModelKind::RandomForest => {
            let params = RandomForestParams {
                seed: cfg.seed,
                ..cfg.forest.clone()
            };
            stage(&format!(
                "training {} trees on {} rows",
                params.n_trees,
                train_part.len()
            ));
            let forest = params.fit(train_part)?;
            let fit_rows = class_count_map(train_part, &(0..train_part.len()).collect::<Vec<_>>());
            Ok(Fitted {
                model: Model::RandomForest(forest),
                thresholds: Thresholds::default_for(ModelKind::RandomForest),
                fit_rows,
            })
        }
        ModelKind::IsolationForest => {
            let benign = train_part.benign_rows();
            if benign.is_empty() {
                return Err(TrainError::NoBenignRows);
            }
            stage(&format!(
                "training the isolation forest on {} benign rows",
                benign.len()
            ));
            let model = cfg
                .iforest
                .clone()
                .seed(cfg.seed)
                .fit_rows(benign.features.view())?;
            stage("calibrating the threshold");
            let scores = model.score_rows(benign.features.view())?;
            Ok(Fitted {
                model: Model::IsolationForest(model),
                thresholds: calibrate_anomaly_thresholds(&scores, cfg.target_fpr)?,
                fit_rows: BTreeMap::from([(BENIGN.to_string(), benign.len() as u64)]),
            })
        }
    }
}

/// Figures of one cross-validation fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldFigures {
    /// Fold number (0-based).
    pub fold: usize,
    /// Rows trained on.
    pub train_rows: u64,
    /// Rows evaluated.
    pub test_rows: u64,
    /// Macro-F1 on the fold's test rows.
    pub macro_f1: f64,
    /// Benign-vs-attack ROC-AUC on the fold's test rows.
    pub roc_auc: Option<f64>,
    /// False-positive rate at the alert threshold.
    pub fpr: f64,
    /// Detection rate at the alert threshold.
    pub tpr: f64,
}

/// Mean and sample standard deviation of a figure over folds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for fewer than two folds).
    pub std: f64,
}

impl MeanStd {
    fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = if values.is_empty() {
            0.0
        } else {
            values.iter().sum::<f64>() / n
        };
        let std = if values.len() < 2 {
            0.0
        } else {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        MeanStd { mean, std }
    }
}

/// Stratified k-fold cross-validation figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossValidation {
    /// Number of folds.
    pub k: usize,
    /// Seed of the fold assignment and of every model.
    pub seed: u64,
    /// Per fold.
    pub folds: Vec<FoldFigures>,
    /// Macro-F1 over folds.
    pub macro_f1: MeanStd,
    /// ROC-AUC over the folds where it is defined.
    pub roc_auc: MeanStd,
    /// False-positive rate over folds.
    pub fpr: MeanStd,
}

/// Stratified `k`-fold cross-validation of `cfg` on `data` (as scikit-learn's
/// `cross_validate` with `StratifiedKFold(k, shuffle=True)`): each fold's model is fitted on
/// the other folds exactly as [`train`] fits (isolation forest: benign rows, calibrated
/// threshold) and evaluated on the fold. `netsec train --cv K` runs it on the training part of
/// the split, so the held-out rows stay unseen.
///
/// # Errors
/// [`TrainError`] when the folds or a fit fail.
pub fn cross_validate(
    data: &Dataset,
    cfg: &TrainConfig,
    k: usize,
    stage: &mut dyn FnMut(&str),
) -> Result<CrossValidation, TrainError> {
    let folds = stratified_kfold(&data.labels, k, cfg.seed)?;
    let mut figures = Vec::with_capacity(k);
    for (i, fold) in folds.iter().enumerate() {
        stage(&format!("cross-validation fold {}/{k}", i + 1));
        let train_part = data.select(&fold.train)?;
        let test_part = data.select(&fold.test)?;
        let fitted = fit(&train_part, cfg, &mut |_| {})?;
        let mut file = ModelFile::new(cfg.name.clone(), cfg.version.clone(), fitted.model);
        file.thresholds = fitted.thresholds;
        let r = evaluate(&file, &test_part, EvalRows::Separate, String::new())?;
        figures.push(FoldFigures {
            fold: i,
            train_rows: train_part.len() as u64,
            test_rows: test_part.len() as u64,
            macro_f1: r.classification.macro_f1,
            roc_auc: r.binary.roc_auc,
            fpr: r.binary.at_threshold.fpr,
            tpr: r.binary.at_threshold.tpr,
        });
    }
    let pick =
        |f: fn(&FoldFigures) -> Option<f64>| -> Vec<f64> { figures.iter().filter_map(f).collect() };
    Ok(CrossValidation {
        k,
        seed: cfg.seed,
        macro_f1: MeanStd::of(&pick(|f| Some(f.macro_f1))),
        roc_auc: MeanStd::of(&pick(|f| f.roc_auc)),
        fpr: MeanStd::of(&pick(|f| Some(f.fpr))),
        folds: figures,
    })
}

/// Trains and evaluates a model on `data` (see the module docs); `stage` is told what is
/// happening, for progress display.
///
/// # Errors
/// [`TrainError`] when the split, the training or the model file fails.
pub fn train(
    data: &Dataset,
    cfg: &TrainConfig,
    stage: &mut dyn FnMut(&str),
) -> Result<Trained, TrainError> {
    stage("splitting");
    let split = stratified_split(
        &data.labels,
        SplitSpec {
            seed: cfg.seed,
            test_fraction: cfg.test_fraction,
        },
    )?;
    let train_part = data.select(&split.train)?;
    let test_part = data.select(&split.test)?;
    let mut rows = BTreeMap::new();
    rows.insert(ROWS_TRAIN.to_string(), class_count_map(data, &split.train));
    rows.insert(ROWS_TEST.to_string(), class_count_map(data, &split.test));
    let Fitted {
        model,
        thresholds,
        fit_rows,
    } = fit(&train_part, cfg, stage)?;
    rows.insert(ROWS_FIT.to_string(), fit_rows);
    let mut file = ModelFile::new(cfg.name.clone(), cfg.version.clone(), model);
    file.thresholds = thresholds;
    let digest = format!("{DIGEST_PREFIX}{}", data.digest());
    file.training = TrainingMeta {
        seed: cfg.seed,
        data_digest: digest.clone(),
        source: cfg.source.clone(),
        date: cfg.date.clone(),
        rows,
        calibration: None,
        feature_bins: Some(crate::drift::FeatureBins::from_rows(
            train_part.features.view(),
        )),
    };
    stage(&format!("evaluating on {} held-out rows", test_part.len()));
    let report = evaluate(
        &file,
        &test_part,
        EvalRows::HeldOut {
            seed: cfg.seed,
            of_rows: data.len() as u64,
        },
        digest,
    )?;
    Ok(Trained {
        file,
        report,
        split,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::DatasetBuilder;
    use crate::evaluate::held_out_rows;

    fn data() -> Dataset {
        let mut b = DatasetBuilder::new();
        for i in 0..300 {
            let (base, class) = match i % 3 {
                0 => (40.0, "DoS"),
                1 => (1.0, BENIGN),
                _ => (1.5, BENIGN),
            };
            let mut row = [base; crate::inputs::INPUT_COUNT];
            row[(i % 25) as usize] += (i % 11) as f64 * 0.05;
            b.push(&row, class);
        }
        b.finish()
    }

    #[test]
    fn calibration_quantiles() -> Result<(), TrainError> {
        let scores: Vec<f64> = (0..=100).map(|i| f64::from(i) / 100.0).collect();
        let t = calibrate_anomaly_thresholds(&scores, 0.01)?;
        assert!((t.alert - 0.99).abs() < 1e-12);
        assert_eq!(t.medium, t.alert);
        assert!((t.high - 0.999).abs() < 1e-12);
        assert_eq!(t.critical, 1.0);
        assert!(calibrate_anomaly_thresholds(&scores, 0.0).is_err());
        assert!(matches!(
            calibrate_anomaly_thresholds(&[], 0.01),
            Err(TrainError::NoBenignRows)
        ));
        Ok(())
    }

    #[test]
    fn forest_round_trip_and_held_out_rebuild() -> Result<(), Box<dyn std::error::Error>> {
        let d = data();
        let mut cfg = TrainConfig::new(ModelKind::RandomForest);
        cfg.forest.n_trees = 5;
        cfg.seed = 9;
        cfg.test_fraction = 0.3;
        cfg.date = "2026-11-21".into();
        let t = train(&d, &cfg, &mut |_| {})?;
        assert_eq!(t.report.rows, 90);
        assert_eq!(t.report.classification.macro_f1, 1.0);
        assert_eq!(t.file.training.rows[ROWS_TEST]["DoS"], 30);
        assert_eq!(t.file.training.rows[ROWS_FIT]["BENIGN"], 140);
        // The file alone rebuilds the same held-out rows.
        let back = ModelFile::from_bytes(&t.file.to_bytes()?)?;
        assert_eq!(held_out_rows(&back, &d)?, t.split);
        Ok(())
    }

    #[test]
    fn cross_validation_folds() -> Result<(), Box<dyn std::error::Error>> {
        let d = data();
        let mut cfg = TrainConfig::new(ModelKind::RandomForest);
        cfg.forest.n_trees = 3;
        let cv = cross_validate(&d, &cfg, 3, &mut |_| {})?;
        assert_eq!(cv.folds.len(), 3);
        assert_eq!(cv.folds.iter().map(|f| f.test_rows).sum::<u64>(), 300);
        assert!(cv.folds.iter().all(|f| f.train_rows == 200));
        assert_eq!(cv.macro_f1.mean, 1.0);
        assert_eq!(cv.macro_f1.std, 0.0);
        assert_eq!(
            MeanStd::of(&[1.0, 3.0]),
            MeanStd {
                mean: 2.0,
                std: 2f64.sqrt()
            }
        );
        assert!(cross_validate(&d, &cfg, 1, &mut |_| {}).is_err());
        Ok(())
    }

    #[test]
    fn iforest_trains_on_benign_and_calibrates() -> Result<(), Box<dyn std::error::Error>> {
        let d = data();
        let mut cfg = TrainConfig::new(ModelKind::IsolationForest);
        cfg.iforest = IsolationForestParams::default().subsample(64);
        cfg.target_fpr = 0.05;
        let t = train(&d, &cfg, &mut |_| {})?;
        assert_eq!(t.file.training.rows[ROWS_FIT]["BENIGN"], 160);
        assert!(t.file.thresholds.alert > 0.0 && t.file.thresholds.alert < 1.0);
        assert!(t.report.binary.roc_auc.is_some_and(|a| a > 0.9));
        assert_eq!(
            t.report.evaluated,
            EvalRows::HeldOut {
                seed: 0,
                of_rows: 300
            }
        );
        // All-attack training data cannot train it.
        let attacks = d.select(&(0..300).step_by(3).collect::<Vec<_>>())?;
        assert!(matches!(
            train(&attacks, &cfg, &mut |_| {}),
            Err(TrainError::NoBenignRows)
        ));
        Ok(())
    }
}
