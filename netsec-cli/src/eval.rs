//! `netsec eval`: scores a model file on labelled data and prints (and optionally writes as
//! JSON) per-class precision/recall/F1, the confusion matrix, ROC-AUC and the false-positive
//! rate at the model's alert threshold.
//!
//! Figures are never computed on training rows. Given the model's own training data (same
//! digest as recorded in the model file), only the held-out part is scored, rebuilt from the
//! split seed and per-class counts in the model's metadata. Other data is refused unless
//! `--separate` declares it disjoint from the training data; then every row is scored.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use netsec_ml::evaluate::{evaluate, held_out_rows, EvalRows, DIGEST_PREFIX};
use netsec_ml::ModelFile;

use netsec_core::detect::EpisodeConfig;
use netsec_ml::grouped::{config_of, evaluate_separate, grouped_evaluation};

use crate::mldata::{describe, load, load_capture_set, DataArgs};
use crate::progress::Stages;
use crate::train::write_grouped_report;
use crate::Failure;

/// Arguments of `netsec eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model file (from `netsec train`).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// Evaluation data.
    #[command(flatten)]
    pub data: DataArgs,
    /// Write the figures as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Split seed expected in the model's metadata (a check: the held-out part is always
    /// rebuilt from the recorded seed).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The data is separate from the model's training data (no row in common): score every
    /// row. Without it, only the model's own training data is accepted, and only its held-out
    /// part is scored.
    #[arg(long)]
    pub separate: bool,
    /// Captures only: with a model trained by capture (`netsec train --folds`), repeat its
    /// grouped evaluation on these captures (its recipe: kind, hyperparameters, seed, folds,
    /// alert budget); with --separate, score each capture with the model as it is. Either
    /// way the report is per capture, after episode aggregation.
    #[arg(long, requires = "captures")]
    pub by_capture: bool,
    /// With --by-capture: captures used for training only (as given to `netsec train`).
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "by_capture")]
    pub train_only: Vec<PathBuf>,
    /// With --by-capture: also write the report as a Markdown table.
    #[arg(long, value_name = "FILE", requires = "by_capture")]
    pub markdown: Option<PathBuf>,
}

/// `netsec eval --by-capture`.
fn run_by_capture(args: &EvalArgs, file: &ModelFile) -> Result<(), Failure> {
    let set = load_capture_set(&args.data, &args.train_only)?;
    let report = if args.separate {
        evaluate_separate(file, &set, EpisodeConfig::default()).map_err(bad)?
    } else {
        let cfg = config_of(file).ok_or_else(|| {
            bad(anyhow::anyhow!(
                "{} was not trained by capture (no calibration record): use --separate to \
                 score separate captures with it",
                args.model.display()
            ))
        })?;
        let stages = Stages::new();
        let r = grouped_evaluation(&set, &cfg, &mut |s| stages.set(s));
        stages.finish();
        r.map_err(bad)?
    };
    write_grouped_report(&report, args.json.as_deref(), args.markdown.as_deref())?;
    let mut out = std::io::stdout().lock();
    out.write_all(report.to_markdown().as_bytes())
        .context("cannot write to stdout")?;
    Ok(())
}

fn bad(e: impl Into<anyhow::Error>) -> Failure {
    Failure::BadInput(e.into())
}

/// Runs `netsec eval`.
pub fn run(args: &EvalArgs) -> Result<(), Failure> {
    let file = ModelFile::load(&args.model)
        .with_context(|| format!("cannot load model {}", args.model.display()))
        .map_err(Failure::BadInput)?;
    if let Some(seed) = args.seed {
        if seed != file.training.seed {
            return Err(bad(anyhow::anyhow!(
                "--seed {seed} differs from the model's split seed {}: scoring that split would \
                 include training rows",
                file.training.seed
            )));
        }
    }
    if args.by_capture {
        return run_by_capture(args, &file);
    }
    let loaded = load(&args.data)?;
    let digest = format!("{DIGEST_PREFIX}{}", loaded.data.digest());
    eprintln!(
        "netsec: {} rows: {}",
        loaded.data.len(),
        describe(&loaded.data)
    );
    let (rows, evaluated) = if args.separate {
        if digest == file.training.data_digest {
            return Err(bad(anyhow::anyhow!(
                "--separate, but this is the model's training data (same digest); drop \
                 --separate to score its held-out part"
            )));
        }
        (loaded.data, EvalRows::Separate)
    } else {
        let split = held_out_rows(&file, &loaded.data).map_err(bad)?;
        let test = loaded.data.select(&split.test).map_err(bad)?;
        (
            test,
            EvalRows::HeldOut {
                seed: file.training.seed,
                of_rows: loaded.data.len() as u64,
            },
        )
    };
    let report = evaluate(&file, &rows, evaluated, digest).map_err(bad)?;
    if let Some(path) = &args.json {
        let mut json = serde_json::to_vec_pretty(&report).context("report as JSON")?;
        json.push(b'\n');
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let mut out = std::io::stdout().lock();
    out.write_all(report.render().as_bytes())
        .context("cannot write to stdout")?;
    Ok(())
}
