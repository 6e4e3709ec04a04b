//! `netsec train rf|iforest`: trains a model on the training part of a seeded stratified
//! split, evaluates it on the held-out part, and writes the model file (with its training
//! metadata) and optionally the evaluation as JSON. See `netsec_ml::train` for what is
//! trained on what and how the isolation forest's threshold is chosen.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use netsec_core::time::Timestamp;
use netsec_ml::model::ModelKind;
use netsec_ml::split::{stratified_split, SplitSpec};
use netsec_ml::train::{cross_validate, train, CrossValidation, TrainConfig};
use netsec_ml::IsolationForestParams;

use crate::mldata::{describe, load, DataArgs};
use crate::progress::Stages;
use crate::Failure;

/// Which model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Random forest over all classes (linfa-ensemble).
    Rf,
    /// Isolation forest over the benign rows (anomaly detection).
    Iforest,
}

/// Arguments of `netsec train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Model to train.
    #[arg(value_enum)]
    pub kind: KindArg,
    /// Training data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Model file to write (JSON).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Also write the held-out evaluation as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Seed of the split and of the model.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Share of every class held out for evaluation.
    #[arg(long, value_name = "F", default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Number of trees.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub trees: usize,
    /// Random forest: deepest split level (0 = grow until pure).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_depth: usize,
    /// Random forest: fewest training rows in a leaf.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub min_samples_leaf: usize,
    /// Isolation forest: rows drawn per tree (ψ).
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub subsample: usize,
    /// Isolation forest: share of benign training rows allowed above the alert threshold.
    #[arg(long, value_name = "F", default_value_t = 0.01)]
    pub target_fpr: f64,
    /// Model name recorded in the file and in alerts (default: rf or iforest).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Model version recorded in the file and in alerts.
    #[arg(long, value_name = "V", default_value = "1")]
    pub model_version: String,
    /// Also cross-validate: K stratified folds of the training part (the held-out rows stay
    /// unseen), printing mean ± std of macro-F1, ROC-AUC and FPR.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(2..))]
    pub cv: Option<u16>,
    /// Write the cross-validation figures as JSON.
    #[arg(long, value_name = "FILE", requires = "cv")]
    pub cv_report: Option<PathBuf>,
    /// Training date recorded in the file (default: today, UTC); fix it for reproducible bytes.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
}

/// Today's date (UTC) from the wall clock, `YYYY-MM-DD`.
fn today() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    Timestamp::from_micros(micros)
        .to_string()
        .chars()
        .take(10)
        .collect()
}

fn bad(e: impl Into<anyhow::Error>) -> Failure {
    Failure::BadInput(e.into())
}

/// Runs `netsec train`.
pub fn run(args: &TrainArgs) -> Result<(), Failure> {
    let kind = match args.kind {
        KindArg::Rf => ModelKind::RandomForest,
        KindArg::Iforest => ModelKind::IsolationForest,
    };
    let mut cfg = TrainConfig::new(kind);
    cfg.seed = args.seed;
    cfg.test_fraction = args.test_fraction;
    cfg.target_fpr = args.target_fpr;
    cfg.forest.n_trees = args.trees;
    cfg.forest.max_depth = (args.max_depth > 0).then_some(args.max_depth);
    cfg.forest.min_samples_leaf = args.min_samples_leaf;
    cfg.iforest = IsolationForestParams::default()
        .n_trees(args.trees)
        .subsample(args.subsample);
    if let Some(name) = &args.name {
        cfg.name = name.clone();
    }
    cfg.version = args.model_version.clone();
    cfg.date = args.date.clone().unwrap_or_else(today);

    let started = Instant::now();
    let loaded = load(&args.data)?;
    let load_time = started.elapsed();
    cfg.source = loaded.source;
    eprintln!(
        "netsec: {} rows, {} classes: {}",
        loaded.data.len(),
        loaded.data.class_names.len(),
        describe(&loaded.data)
    );

    let cv = match args.cv {
        Some(k) => Some(run_cv(&loaded.data, &cfg, usize::from(k), args)?),
        None => None,
    };

    let stages = Stages::new();
    let started = Instant::now();
    let mut timings: Vec<(String, Duration)> = Vec::new();
    let mut last = (String::new(), Instant::now());
    let trained = train(&loaded.data, &cfg, &mut |stage| {
        stages.set(stage);
        let now = Instant::now();
        if !last.0.is_empty() {
            timings.push((last.0.clone(), now - last.1));
        }
        last = (stage.to_string(), now);
    });
    stages.finish();
    let trained = trained.map_err(bad)?;
    timings.push((last.0, last.1.elapsed()));
    let total = started.elapsed();

    trained
        .file
        .save(&args.out)
        .with_context(|| format!("cannot write model {}", args.out.display()))?;
    if let Some(path) = &args.report {
        let mut json = serde_json::to_vec_pretty(&trained.report).context("report as JSON")?;
        json.push(b'\n');
        std::fs::write(path, json)
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    let size = std::fs::metadata(&args.out).map_or(0, |m| m.len());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "trained {} → {} ({size} bytes): {} training rows, {} held out",
        kind.as_str(),
        args.out.display(),
        trained.split.train.len(),
        trained.split.test.len()
    );
    let _ = writeln!(out, "time: loading {:.2} s", load_time.as_secs_f64());
    for (stage, d) in &timings {
        let _ = writeln!(out, "time: {stage}: {:.2} s", d.as_secs_f64());
    }
    let _ = writeln!(
        out,
        "time: total after loading {:.2} s\n",
        total.as_secs_f64()
    );
    if let Some(cv) = &cv {
        let _ = writeln!(
            out,
            "cross-validation ({} folds of the {} training rows): macro-F1 {:.4} ± {:.4}, ROC-AUC {:.4} ± {:.4}, FPR {:.4} ± {:.4}\n",
            cv.k,
            trained.split.train.len(),
            cv.macro_f1.mean,
            cv.macro_f1.std,
            cv.roc_auc.mean,
            cv.roc_auc.std,
            cv.fpr.mean,
            cv.fpr.std
        );
    }
    let _ = write!(out, "{}", trained.report.render());
    Ok(())
}

/// K-fold cross-validation on the training part of the split `train` will make.
fn run_cv(
    data: &netsec_ml::dataset::Dataset,
    cfg: &TrainConfig,
    k: usize,
    args: &TrainArgs,
) -> Result<CrossValidation, Failure> {
    let split = stratified_split(
        &data.labels,
        SplitSpec {
            seed: cfg.seed,
            test_fraction: cfg.test_fraction,
        },
    )
    .map_err(bad)?;
    let train_part = data.select(&split.train).map_err(bad)?;
    let stages = Stages::new();
    let cv = cross_validate(&train_part, cfg, k, &mut |s| stages.set(s));
    stages.finish();
    let cv = cv.map_err(bad)?;
    if let Some(path) = &args.cv_report {
        let mut json = serde_json::to_vec_pretty(&cv).context("cross-validation as JSON")?;
        json.push(b'\n');
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(cv)
}
