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

use netsec_ml::grouped::{train_by_capture, FileInfo, GroupedConfig, GroupedReport};

use crate::mldata::{describe, load, load_capture_set, DataArgs};
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
    /// Evaluate and calibrate by capture instead of a random split: K folds with no capture
    /// in two, the alert threshold fitted to --alert-budget on held-out benign captures, then
    /// the model trained on every capture (captures only; see `netsec_ml::grouped`).
    #[arg(long, value_name = "K", requires = "captures", conflicts_with = "cv",
          value_parser = clap::value_parser!(u16).range(2..))]
    pub folds: Option<u16>,
    /// With --folds: captures used for training only, never held out or reported (e.g.
    /// generated traffic adding examples of rare classes).
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "folds")]
    pub train_only: Vec<PathBuf>,
    /// With --folds: share of held-out benign captures allowed to raise any alert.
    #[arg(long, value_name = "F", default_value_t = 0.03)]
    pub alert_budget: f64,
    /// With --folds: most training rows of one attack class from one capture (benign rows
    /// are all kept), for a realistic prior.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub attack_rows_per_capture: usize,
    /// With --folds: also write the per-capture evaluation as a Markdown table.
    #[arg(long, value_name = "FILE", requires = "folds")]
    pub markdown: Option<PathBuf>,
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

    if let Some(k) = args.folds {
        return run_grouped(args, &cfg, usize::from(k));
    }
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

/// `netsec train --folds K`: grouped evaluation, calibration and the model on every capture.
fn run_grouped(args: &TrainArgs, cfg: &TrainConfig, k: usize) -> Result<(), Failure> {
    let started = Instant::now();
    let set = load_capture_set(&args.data, &args.train_only)?;
    let load_time = started.elapsed();
    let mut grouped = GroupedConfig::new(cfg.kind);
    grouped.folds = k;
    grouped.seed = cfg.seed;
    grouped.forest = cfg.forest.clone();
    grouped.iforest = cfg.iforest.clone();
    grouped.alert_budget = args.alert_budget;
    grouped.attack_rows_per_capture = args.attack_rows_per_capture;
    let info = FileInfo {
        name: cfg.name.clone(),
        version: cfg.version.clone(),
        date: cfg.date.clone(),
        source: grouped_source(args),
    };
    let stages = Stages::new();
    let started = Instant::now();
    let trained = train_by_capture(&set, &grouped, &info, &mut |s| stages.set(s));
    stages.finish();
    let (file, report) = trained.map_err(bad)?;
    file.save(&args.out)
        .with_context(|| format!("cannot write model {}", args.out.display()))?;
    write_grouped_report(&report, args.report.as_deref(), args.markdown.as_deref())?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "trained {} → {} by capture ({k} folds) in {:.1} s after {:.1} s loading\n",
        cfg.kind.as_str(),
        args.out.display(),
        started.elapsed().as_secs_f64(),
        load_time.as_secs_f64()
    );
    let _ = write!(out, "{}", report.to_markdown());
    Ok(())
}

/// The inputs of a grouped training run as recorded in the model file: file names (not
/// paths, so the bytes do not depend on the checkout's location) and the label file.
fn grouped_source(args: &TrainArgs) -> String {
    let names = |paths: &[PathBuf]| {
        paths
            .iter()
            .map(|p| {
                p.file_name()
                    .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
            })
            .collect::<Vec<String>>()
            .join(" ")
    };
    let labels = args
        .data
        .labels
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut s = format!(
        "captures ({}): {}; labels: {labels}",
        args.data.captures.len(),
        names(&args.data.captures)
    );
    if !args.train_only.is_empty() {
        s.push_str(&format!(
            "; training only ({}): {}",
            args.train_only.len(),
            names(&args.train_only)
        ));
    }
    s
}

/// Writes a grouped report as JSON and/or Markdown.
pub fn write_grouped_report(
    report: &GroupedReport,
    json: Option<&std::path::Path>,
    markdown: Option<&std::path::Path>,
) -> Result<(), Failure> {
    if let Some(path) = json {
        let mut bytes = serde_json::to_vec_pretty(report).context("report as JSON")?;
        bytes.push(b'\n');
        std::fs::write(path, bytes)
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    if let Some(path) = markdown {
        std::fs::write(path, report.to_markdown())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
