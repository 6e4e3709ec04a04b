//! Training and evaluation data on the command line: CICFlowMeter CSVs, or captures plus a
//! label file (shared by `netsec train` and `netsec eval`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use netsec_core::flow::FlowTableConfig;
use netsec_ml::captures::CaptureLabeller;
use netsec_ml::cic::{expand_csv_paths, load_cic, CicOptions};
use netsec_ml::dataset::Dataset;
use netsec_ml::grouped::CaptureSet;
use netsec_ml::labels::LabelRules;

use crate::flows::TableArgs;
use crate::progress::Progress;
use crate::Failure;

/// Where the labelled rows come from.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// CICFlowMeter CSV files or directories of them (CIC-IDS2017, its improved version,
    /// CSE-CIC-IDS2018 column names); classes from the `Label` column.
    #[arg(long, value_name = "FILE", num_args = 1.., required_unless_present = "captures",
          conflicts_with_all = ["captures", "labels"])]
    pub csv: Vec<PathBuf>,
    /// Captures (pcap/pcapng) whose flows are labelled by --labels.
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "labels")]
    pub captures: Vec<PathBuf>,
    /// Label file (TOML or CSV rules: time window, addresses, ports, protocol → class;
    /// unmatched flows are BENIGN).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Skip CSV rows that cannot be read (they are counted) instead of failing.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Flow-table options (captures only).
    #[command(flatten)]
    pub table: TableArgs,
}

/// Loaded rows and a one-line description of where they came from.
pub struct Loaded {
    /// The rows.
    pub data: Dataset,
    /// `csv: a.csv, b.csv` or `captures: x.pcap; labels: l.toml`, paths as given.
    pub source: String,
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `--labels` file (its path and rules) and the flow-table options, for captures.
fn labels_and_table(args: &DataArgs) -> Result<(&PathBuf, LabelRules, FlowTableConfig), Failure> {
    let labels_path = args
        .labels
        .as_ref()
        .context("--captures needs --labels")
        .map_err(Failure::BadInput)?;
    let rules =
        LabelRules::load(labels_path).map_err(|e| Failure::BadInput(anyhow::Error::new(e)))?;
    Ok((labels_path, rules, args.table.config()?))
}

/// A progress bar over the bytes of `paths` (those that are files).
fn progress_over<'a>(paths: impl Iterator<Item = &'a PathBuf>) -> Progress {
    Progress::over(paths.map(|p| {
        std::fs::metadata(p)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    }))
}

/// Loads the rows `args` name, printing load notes (skipped rows, corrections, rules that never
/// matched) on stderr.
pub fn load(args: &DataArgs) -> Result<Loaded, Failure> {
    let bad = |e: netsec_ml::dataset::DataError| Failure::BadInput(anyhow::Error::new(e));
    if !args.csv.is_empty() {
        let opts = CicOptions {
            skip_bad_rows: args.skip_bad_rows,
        };
        let files = expand_csv_paths(&args.csv).map_err(bad)?;
        if files.is_empty() {
            return Err(Failure::BadInput(anyhow::anyhow!(
                "no CSV files in {}",
                list(&args.csv)
            )));
        }
        let (data, report) = load_cic(&files, opts).map_err(bad)?;
        if report.skipped_rows > 0 {
            eprintln!(
                "netsec: warning: skipped {} unreadable rows, e.g. {}",
                report.skipped_rows,
                report.skipped_examples.join("; ")
            );
        }
        eprintln!(
            "netsec: read {} rows from {} CSV files ({} NaN/Infinity set to 0, {} negative set to 0, {} act_data_pkt_fwd corrected)",
            report.rows,
            report.files.len(),
            report.non_finite_replaced,
            report.negatives_clamped,
            report.act_data_corrected
        );
        return Ok(Loaded {
            data,
            source: format!("csv: {}", list(&args.csv)),
        });
    }
    let (labels_path, rules, table) = labels_and_table(args)?;
    let progress = progress_over(args.captures.iter());
    let mut labeller = CaptureLabeller::new(&rules, table);
    let mut done = 0u64;
    for path in &args.captures {
        let mut last = 0u64;
        labeller
            .add_file(path, &mut |pos| {
                progress.inc(pos.saturating_sub(last));
                last = pos;
            })
            .map_err(bad)?;
        done += last;
    }
    progress.finish();
    let (data, report) = labeller.finish();
    for hits in report.rules.iter().filter(|h| h.flows == 0) {
        eprintln!(
            "netsec: warning: {}:{}: rule for {:?} matched no flow",
            labels_path.display(),
            hits.line,
            hits.label
        );
    }
    eprintln!(
        "netsec: labelled {} flows from {} captures ({done} bytes): {} matched a rule, {} benign",
        report.flows,
        report.files.len(),
        report.flows - report.unmatched,
        report.unmatched
    );
    Ok(Loaded {
        data,
        source: format!(
            "captures: {}; labels: {}",
            list(&args.captures),
            labels_path.display()
        ),
    })
}

/// Rows per class, one line, for the terminal.
pub fn describe(data: &Dataset) -> String {
    data.class_summary()
        .iter()
        .map(|c| format!("{} {}", c.class, c.rows))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Loads `args.captures` (evaluated by capture) and `train_only` captures as a
/// [`CaptureSet`], labelled by `args.labels`, printing what was read on stderr.
pub fn load_capture_set(args: &DataArgs, train_only: &[PathBuf]) -> Result<CaptureSet, Failure> {
    let bad = |e: netsec_ml::dataset::DataError| Failure::BadInput(anyhow::Error::new(e));
    let (_, rules, table) = labels_and_table(args)?;
    let progress = progress_over(args.captures.iter().chain(train_only));
    let mut last = 0u64;
    let set = CaptureSet::load(&args.captures, train_only, &rules, table, &mut |pos| {
        if pos < last {
            last = 0;
        }
        progress.inc(pos - last);
        last = pos;
    });
    progress.finish();
    let set = set.map_err(bad)?;
    let classes = set.class_names.len();
    let mut flows = vec![0usize; classes];
    for c in &set.captures {
        for (n, k) in flows.iter_mut().zip(c.class_counts(classes)) {
            *n += k;
        }
    }
    let per_class: Vec<String> = set
        .class_names
        .iter()
        .zip(&flows)
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    eprintln!(
        "netsec: {} captures ({} training only), flows per class: {}",
        set.captures.len(),
        train_only.len(),
        per_class.join(", ")
    );
    Ok(set)
}
