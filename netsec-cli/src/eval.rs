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

use crate::mldata::{describe, load, DataArgs};
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
