//! `netsec analyze`: the forensics command. Runs rules, behavioural detectors and ML models
//! (`--model`) over one or more captures and writes alerts (EVE JSON, JSON Lines or CSV), optionally flows, and a
//! summary.
//!
//! Several captures are processed in parallel (`--jobs`), each by its own pipeline on a worker
//! thread. Workers stream their output in chunks through one bounded channel per capture, and
//! the main thread writes capture after capture in input order, so the output bytes do not
//! depend on the number of jobs. The worker of the earliest unfinished capture is always being
//! drained, so bounded channels cannot deadlock, and memory stays bounded by
//! `jobs × CHANNEL_CHUNKS × CHUNK_BYTES` whatever the input size.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use netsec_core::detect::{AlertSink, CsvAlertSink, Detector, EveAlertSink, JsonlAlertSink};
use netsec_core::flow::FlowTableConfig;
use netsec_core::output::{CsvFlowWriter, EveFlowWriter, FlowSink, JsonlFlowWriter};
use netsec_core::pipeline::{FlowPipeline, PipelineError};
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};
use netsec_ml::detector::detector_for;
use netsec_ml::ModelFile;

use crate::flows::TableArgs;
use crate::progress::Progress;
use crate::summary::{AlertTally, FileReport, Talkers, Totals};
use crate::Failure;

/// The bundled rule file, compiled into the binary.
pub const DEFAULT_RULES: &str = include_str!("../../config/default.rules");

/// A worker hands its output to the writer in chunks of about this many bytes.
const CHUNK_BYTES: usize = 256 * 1024;
/// Chunks buffered per capture before its worker waits for the writer.
const CHANNEL_CHUNKS: usize = 16;

/// Arguments of `netsec analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap or pcapng), processed and written in this order.
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// Extra Suricata rule file (repeatable), loaded after the bundled rules.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Do not load the bundled rules (config/default.rules).
    #[arg(long)]
    pub no_default_rules: bool,
    /// Behavioural detector configuration (TOML); replaces the bundled config/default.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format of alerts (and of flows, when written).
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Eve)]
    pub format: AnalyzeFormat,
    /// Write alerts to FILE instead of stdout (the summary then goes to stdout).
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
    /// Also write finished flows to FILE (EVE flow events, JSON Lines or CSV per --format).
    #[arg(long, value_name = "FILE")]
    pub flows: Option<PathBuf>,
    /// Captures processed at once (default: the number of CPUs). Output does not depend on it.
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// ML model file from `netsec train` (repeatable): its detector scores every finished flow
    /// and alerts at the file's threshold (e.g. models/rf-default.json).
    #[arg(long = "model", value_name = "FILE")]
    pub model: Vec<PathBuf>,
    /// Flow-table options.
    #[command(flatten)]
    pub table: TableArgs,
}

/// `--format` values of `analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// Suricata EVE JSON (`event_type` alert / flow).
    Eve,
    /// netsec's alert and flow records as JSON Lines.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// Everything a worker needs, shared read-only by all workers.
struct Plan<'a> {
    captures: &'a [PathBuf],
    rules: &'a RuleSet,
    behaviour: &'a netsec_core::behaviour::BehaviourConfig,
    /// ML models; each worker builds its own detectors from them.
    models: &'a [ModelFile],
    table: FlowTableConfig,
    format: AnalyzeFormat,
    write_flows: bool,
    progress: &'a Progress,
    /// Set when the writer failed: workers stop early.
    abort: &'a AtomicBool,
}

/// What a worker sends to the writer.
enum Chunk {
    Alerts(Vec<u8>),
    Flows(Vec<u8>),
    Done(Box<FileReport>),
}

/// A `Write` that ships its bytes to the writer thread in chunks.
struct ChunkWriter {
    buf: Vec<u8>,
    tx: SyncSender<Chunk>,
    flows: bool,
    /// Drop everything up to and including the first newline (the CSV header of every
    /// capture but the first, so the output has one header).
    skip_first_line: bool,
}

impl ChunkWriter {
    fn new(tx: SyncSender<Chunk>, flows: bool, skip_first_line: bool) -> Self {
        ChunkWriter {
            buf: Vec::with_capacity(CHUNK_BYTES),
            tx,
            flows,
            skip_first_line,
        }
    }

    fn ship(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        let chunk = if self.flows {
            Chunk::Flows(data)
        } else {
            Chunk::Alerts(data)
        };
        self.tx
            .send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "output writer stopped"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let n = data.len();
        if self.skip_first_line {
            match data.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.skip_first_line = false;
                    data = &data[i + 1..];
                }
                None => return Ok(n),
            }
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.ship()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.ship()
    }
}

/// Loads the bundled rules (unless disabled) and every `--rules` file into one set; prints one
/// warning per skipped rule, naming its file and line.
fn load_rules(args: &AnalyzeArgs) -> Result<RuleSet, Failure> {
    let mut text = String::new();
    // (first line in `text`, source name)
    let mut origins: Vec<(usize, String)> = Vec::new();
    let mut add = |name: String, body: &str, text: &mut String| {
        origins.push((text.lines().count() + 1, name));
        text.push_str(body);
        // A blank line keeps a trailing `\` continuation from joining the next file.
        text.push_str("\n\n");
    };
    if !args.no_default_rules {
        add("<bundled default.rules>".into(), DEFAULT_RULES, &mut text);
    }
    for path in &args.rules {
        let body = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read rule file {}", path.display()))
            .map_err(Failure::BadInput)?;
        add(path.display().to_string(), &body, &mut text);
    }
    let set = RuleSet::from_text(&text, &RuleVars::default());
    let mut err = io::stderr().lock();
    for w in &set.summary().warnings {
        let (start, name) = origins
            .iter()
            .rev()
            .find(|(start, _)| *start <= w.line)
            .map(|(s, n)| (*s, n.as_str()))
            .unwrap_or((1, "<rules>"));
        let mut local = w.clone();
        local.line = w.line + 1 - start;
        let _ = writeln!(err, "netsec: warning: {name}: {local}");
    }
    Ok(set)
}

/// Loads every `--model` file (checked before any output is created) and names each on
/// stderr.
fn load_models(paths: &[PathBuf]) -> Result<Vec<ModelFile>, Failure> {
    let mut models = Vec::with_capacity(paths.len());
    for path in paths {
        let file = ModelFile::load(path)
            .with_context(|| format!("cannot load model {}", path.display()))
            .map_err(Failure::BadInput)?;
        eprintln!(
            "netsec: model {} {} ({}, alert at score >= {}) from {}",
            file.name,
            file.version,
            file.kind().as_str(),
            file.thresholds.alert,
            path.display()
        );
        models.push(file);
    }
    Ok(models)
}

/// Runs `netsec analyze`.
pub fn run(args: &AnalyzeArgs) -> Result<(), Failure> {
    let models = load_models(&args.model)?;
    let table = args.table.config()?;
    FlowTableConfig::check(table)
        .map_err(|e| Failure::BadInput(anyhow::Error::new(e).context("invalid flow options")))?;
    let rules = load_rules(args)?;
    // Checked once, before any output is created.
    let behaviour = crate::behaviour::load_config(args.config.as_deref())?;
    let behaviour_line = crate::behaviour::describe(&behaviour)?;

    let mut alerts_out: Box<dyn Write> = match &args.alerts {
        Some(path) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())),
    };
    let mut flows_out: Option<Box<dyn Write>> = match &args.flows {
        Some(path) => Some(Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ))),
        None => None,
    };

    let sizes = args.captures.iter().map(|p| {
        std::fs::metadata(p)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    });
    let progress = Progress::over(sizes);
    let abort = AtomicBool::new(false);
    let plan = Plan {
        captures: &args.captures,
        rules: &rules,
        behaviour: &behaviour,
        models: &models,
        table,
        format: args.format,
        write_flows: flows_out.is_some(),
        progress: &progress,
        abort: &abort,
    };
    let n = args.captures.len();
    let jobs = usize::from(args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, |p| p.get().min(u16::MAX as usize) as u16)
    }))
    .clamp(1, n.max(1));

    let started = Instant::now();
    let mut senders = Vec::with_capacity(n);
    let mut receivers = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = sync_channel::<Chunk>(CHANNEL_CHUNKS);
        senders.push(Mutex::new(Some(tx)));
        receivers.push(rx);
    }
    let next = AtomicUsize::new(0);
    let mut totals = Totals::default();
    let mut write_error: Option<anyhow::Error> = None;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| worker(&plan, &next, &senders));
        }
        let mut receivers = receivers.into_iter();
        for (i, rx) in receivers.by_ref().enumerate() {
            match drain(&rx, &mut alerts_out, flows_out.as_mut()) {
                Ok(report) => totals.add(*report),
                Err(e) => {
                    write_error = Some(e.context(format!(
                        "while writing the output of {}",
                        args.captures[i].display()
                    )));
                    break;
                }
            }
        }
        if write_error.is_some() {
            abort.store(true, Ordering::Relaxed);
        }
        // Dropping the remaining receivers unblocks workers still sending.
        drop(receivers);
    });
    if let Some(e) = write_error {
        return Err(Failure::Runtime(e));
    }
    alerts_out.flush().context("cannot write alert output")?;
    if let Some(f) = flows_out.as_mut() {
        f.flush().context("cannot write flow output")?;
    }
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    let summary =
        |o: &mut dyn Write| totals.write(o, &rules.summary().to_string(), &behaviour_line, secs);
    if args.alerts.is_some() {
        summary(&mut io::stdout().lock()).context("cannot write the summary")?;
    } else {
        let _ = summary(&mut io::stderr().lock());
    }
    let damaged: Vec<String> = totals.damaged().collect();
    if !damaged.is_empty() {
        return Err(Failure::BadInput(anyhow::anyhow!(
            "{} of {} captures not read to the end (everything read before the damage was analyzed and written): {}",
            damaged.len(),
            n,
            damaged.join("; ")
        )));
    }
    Ok(())
}

/// Writes one capture's chunks as they arrive; returns its report.
fn drain(
    rx: &Receiver<Chunk>,
    alerts_out: &mut dyn Write,
    mut flows_out: Option<&mut Box<dyn Write>>,
) -> anyhow::Result<Box<FileReport>> {
    loop {
        match rx.recv() {
            Ok(Chunk::Alerts(b)) => alerts_out
                .write_all(&b)
                .context("cannot write alert output")?,
            Ok(Chunk::Flows(b)) => {
                if let Some(f) = flows_out.as_mut() {
                    f.write_all(&b).context("cannot write flow output")?;
                }
            }
            Ok(Chunk::Done(report)) => return Ok(report),
            Err(_) => anyhow::bail!("the worker thread stopped unexpectedly"),
        }
    }
}

/// Takes captures in input order until none is left.
fn worker(plan: &Plan<'_>, next: &AtomicUsize, senders: &[Mutex<Option<SyncSender<Chunk>>>]) {
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(slot) = senders.get(i) else {
            return;
        };
        let tx = match slot.lock() {
            Ok(mut guard) => guard.take(),
            Err(_) => return,
        };
        let Some(tx) = tx else {
            return;
        };
        if plan.abort.load(Ordering::Relaxed) {
            return;
        }
        let report = analyze_one(plan, i, &tx);
        if tx.send(Chunk::Done(Box::new(report))).is_err() {
            return;
        }
    }
}

/// Why a capture's run stopped before its end without a capture error.
enum Stop {
    /// An output channel closed (the main thread reports why).
    Write,
    /// Another capture failed fatally, or the run was interrupted.
    Abort,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stop::Write => "output closed",
            Stop::Abort => "aborted",
        })
    }
}

/// Runs one capture through its own pipeline, streaming its output through `tx`.
fn analyze_one(plan: &Plan<'_>, index: usize, tx: &SyncSender<Chunk>) -> FileReport {
    let path = &plan.captures[index];
    let mut report = FileReport {
        name: path.display().to_string(),
        ..FileReport::default()
    };
    let input = match crate::input::open(path) {
        Ok(i) => i,
        Err(Failure::BadInput(e) | Failure::Runtime(e)) => {
            report.error = Some(format!("{e:#}"));
            return report;
        }
    };
    report.name = input.name.clone();
    let mut detectors: Vec<Box<dyn Detector>> = Vec::new();
    if !plan.rules.is_empty() {
        detectors.push(Box::new(RuleDetector::new(plan.rules.clone())));
    }
    match crate::behaviour::detectors(plan.behaviour) {
        Ok(d) => detectors.extend(d),
        Err(Failure::BadInput(e) | Failure::Runtime(e)) => {
            report.error = Some(format!("{e:#}"));
            return report;
        }
    }
    detectors.extend(plan.models.iter().map(detector_for));
    let mut pipeline = match FlowPipeline::with_detectors(input.reader, plan.table, detectors) {
        Ok(p) => p,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    let csv_tail = index > 0 && plan.format == AnalyzeFormat::Csv;
    let alert_out = ChunkWriter::new(tx.clone(), false, csv_tail);
    let mut sink: Box<dyn AlertSink + Send> = match plan.format {
        AnalyzeFormat::Eve => Box::new(EveAlertSink::new(alert_out)),
        AnalyzeFormat::Jsonl => Box::new(JsonlAlertSink::new(alert_out)),
        AnalyzeFormat::Csv => Box::new(CsvAlertSink::new(alert_out)),
    };
    let mut flow_out: Option<Box<dyn FlowSink + Send>> = plan.write_flows.then(|| {
        let w = ChunkWriter::new(tx.clone(), true, csv_tail);
        match plan.format {
            AnalyzeFormat::Eve => Box::new(EveFlowWriter::new(w)) as Box<dyn FlowSink + Send>,
            AnalyzeFormat::Jsonl => Box::new(JsonlFlowWriter::new(w)),
            AnalyzeFormat::Csv => Box::new(CsvFlowWriter::new(w)),
        }
    });

    let mut talkers = Talkers::default();
    let mut tally = AlertTally::default();
    // Reading and flow tracking here, detection and output on a second thread (see
    // `FlowPipeline::run_staged`): the output is the same as one thread's.
    let mut consumed = 0u64;
    let result = pipeline.run_staged(
        |flow| {
            talkers.add_flow(flow);
            match flow_out.as_mut() {
                Some(w) => w.emit(flow).map_err(|_| Stop::Write),
                None => Ok(()),
            }
        },
        |alert| {
            tally.add(alert);
            sink.emit(alert).map_err(|_| Stop::Write)
        },
        |now| {
            plan.progress.inc(now.saturating_sub(consumed));
            consumed = now;
            if plan.abort.load(Ordering::Relaxed) {
                Err(Stop::Abort)
            } else {
                Ok(())
            }
        },
    );
    let outcome: Result<(), String> = match result {
        Ok(()) => Ok(()),
        // The writer went away (the main thread reports why), or the run was aborted.
        Err(PipelineError::Consumer(_)) => return report,
        Err(PipelineError::Capture(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if sink.flush().is_err() {
        return report;
    }
    if let Some(w) = flow_out.as_mut() {
        if w.flush().is_err() {
            return report;
        }
    }
    report.stats = Some(pipeline.stats().clone());
    report.table = pipeline.table_stats();
    report.talkers = talkers;
    report.alerts = tally;
    report.error = outcome.err();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_rules_all_load_with_complete_metadata() {
        let set = RuleSet::from_text(DEFAULT_RULES, &RuleVars::default());
        let summary = set.summary();
        assert_eq!(summary.skipped, 0, "{summary}: {:?}", summary.warnings);
        assert!((10..=30).contains(&set.len()), "{} rules", set.len());
        let mut sids = std::collections::BTreeSet::new();
        for rule in set.rules() {
            let text = rule.to_string();
            let sid = rule.sid().expect("every bundled rule has a sid");
            assert!((9_100_000..9_200_000).contains(&sid), "{text}");
            assert!(sids.insert(sid), "duplicate sid {sid}");
            for key in ["msg:", "rev:", "classtype:"] {
                assert!(text.contains(key), "sid {sid} lacks {key}");
            }
        }
    }

    #[test]
    fn chunk_writer_drops_only_the_first_line_when_asked() {
        let (tx, rx) = sync_channel(4);
        let mut w = ChunkWriter::new(tx, false, true);
        w.write_all(b"head").expect("write");
        w.write_all(b"er\nrow 1\n").expect("write");
        w.write_all(b"row 2\n").expect("write");
        w.flush().expect("flush");
        drop(w);
        let mut got = Vec::new();
        while let Ok(Chunk::Alerts(b)) = rx.recv() {
            got.extend(b);
        }
        assert_eq!(got, b"row 1\nrow 2\n");
    }
}
