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

use crate::flows::TableArgs;
use crate::progress::Progress;
use crate::summary::{FileReport, Totals};
use crate::Failure;
use anyhow::Context;
use clap::{Args, ValueEnum};
use netsec_core::config::{
    CheckedSensorConfig, ConfigError, OutputFormat, OutputsConfig, RulesConfig, SensorConfig,
};
use netsec_core::detect::RunId;
use netsec_core::inventory::{Inventory, InventoryConfig};
use netsec_core::pipeline::{FlowPipeline, PipelineError};
use netsec_core::report::ReportBuilder;
use netsec_core::summary::{AlertTally, Talkers};
use netsec_ml::ModelFileLoader;

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
    /// Suricata threshold.config (suppress, threshold, event_filter, rate_filter), applied to
    /// the alerts of every detector; non-rule detectors by their EVE gid:sid or `detector NAME`.
    #[arg(long = "threshold", value_name = "FILE")]
    pub threshold: Option<PathBuf>,
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
    /// Also write a self-contained HTML report to FILE (the dashboard with the data inline:
    /// opens from disk, no server, no network; at most 5,000 flows, sampled, and 50,000
    /// alerts).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
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

impl From<AnalyzeFormat> for OutputFormat {
    fn from(f: AnalyzeFormat) -> Self {
        match f {
            AnalyzeFormat::Eve => OutputFormat::Eve,
            AnalyzeFormat::Jsonl => OutputFormat::Jsonl,
            AnalyzeFormat::Csv => OutputFormat::Csv,
        }
    }
}

/// Everything a worker needs, shared read-only by all workers.
struct Plan<'a> {
    captures: &'a [PathBuf],
    /// Rules, behaviour and models, checked; each worker builds its own sensor from it.
    sensor: &'a CheckedSensorConfig,
    format: OutputFormat,
    write_flows: bool,
    /// Gather the HTML report's data.
    report: bool,
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

/// The sensor configuration the flags describe: `--no-default-rules` and `--rules`, `--config`
/// (behaviour), `--model`, the flow-table flags and the outputs.
fn sensor_config(args: &AnalyzeArgs) -> Result<SensorConfig, Failure> {
    Ok(SensorConfig {
        flow: args.table.config()?,
        rules: RulesConfig {
            bundled: !args.no_default_rules,
            files: args.rules.clone(),
            threshold_file: args.threshold.clone(),
            ..RulesConfig::default()
        },
        behaviour: crate::behaviour::load_config(args.config.as_deref())?,
        models: args.model.clone(),
        outputs: OutputsConfig {
            format: args.format.into(),
            alerts: args.alerts.clone(),
            flows: args.flows.clone(),
        },
        ..SensorConfig::default()
    })
}

/// Checks the configuration (rules read and compiled, models loaded) before any output is
/// created; names each model and every skipped rule on stderr.
fn check(config: &SensorConfig) -> Result<CheckedSensorConfig, Failure> {
    let checked = config
        .check_with(Some(&ModelFileLoader))
        .map_err(|e| match e {
            ConfigError::Model { path, source } => anyhow::Error::from_boxed(source)
                .context(format!("cannot load model {}", path.display())),
            ConfigError::Flow(e) => anyhow::Error::new(e).context("invalid flow options"),
            other => anyhow::Error::new(other),
        })
        .map_err(Failure::BadInput)?;
    for (path, model) in checked.models() {
        eprintln!("netsec: model {model} from {}", path.display());
    }
    let mut err = io::stderr().lock();
    for w in checked.rule_warnings() {
        let _ = writeln!(err, "netsec: warning: {w}");
    }
    Ok(checked)
}

/// Runs `netsec analyze`.
pub fn run(args: &AnalyzeArgs) -> Result<(), Failure> {
    // Checked once, before any output is created.
    let checked = check(&sensor_config(args)?)?;
    let behaviour_line = crate::behaviour::describe(&checked.config().behaviour)?;

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
        sensor: &checked,
        format: args.format.into(),
        write_flows: flows_out.is_some(),
        report: args.report.is_some(),
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
    let title = match args.captures.as_slice() {
        [one] => one.display().to_string(),
        many => format!("{} captures", many.len()),
    };
    let mut html = ReportBuilder::new(&title);
    let mut write_error: Option<anyhow::Error> = None;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| worker(&plan, &next, &senders));
        }
        let mut receivers = receivers.into_iter();
        for (i, rx) in receivers.by_ref().enumerate() {
            match drain(&rx, &mut alerts_out, flows_out.as_mut()) {
                Ok(mut report) => {
                    if let Some(part) = report.report.take() {
                        html.merge(part);
                    }
                    totals.add(*report)
                }
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
    if let Some(path) = &args.report {
        html.add_rule_texts(checked.rules());
        let mut out = BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        );
        html.write_html(&mut out)
            .and_then(|()| out.flush())
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    let summary = |o: &mut dyn Write| {
        totals.write(
            o,
            &checked.rules().summary().to_string(),
            &behaviour_line,
            secs,
        )
    };
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
    let mut sensor = match plan.sensor.build() {
        Ok(s) => s,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    // Alert ids from the capture's own digest: the same capture gives the same ids every run,
    // different captures different ones.
    sensor.set_run_id(
        RunId::of_capture_file(path).unwrap_or_else(|_| RunId::from_digest(report.name.as_bytes())),
    );
    let mut pipeline = FlowPipeline::with_sensor(input.reader, sensor);
    let csv_tail = index > 0 && plan.format == OutputFormat::Csv;
    let mut sink = plan
        .format
        .alert_sink(ChunkWriter::new(tx.clone(), false, csv_tail));
    let mut flow_out = plan.write_flows.then(|| {
        plan.format
            .flow_sink(ChunkWriter::new(tx.clone(), true, csv_tail))
    });

    let mut talkers = Talkers::default();
    let mut tally = AlertTally::default();
    // Flows and alerts come to two closures (possibly on two threads): two builders,
    // merged after the run.
    let mut html = plan.report.then(|| {
        let mut r = ReportBuilder::new(&report.name);
        r.add_capture(&report.name);
        r
    });
    let mut html_alerts = plan.report.then(|| ReportBuilder::new(&report.name));
    // Reading and flow tracking here, detection and output on a second thread (see
    // `FlowPipeline::run_staged`): the output is the same as one thread's.
    let mut consumed = 0u64;
    let result = pipeline.run_staged(
        |flow| {
            talkers.add_flow(flow);
            if let Some(r) = html.as_mut() {
                r.add_flow(0, flow);
            }
            match flow_out.as_mut() {
                Some(w) => w.emit(flow).map_err(|_| Stop::Write),
                None => Ok(()),
            }
        },
        |alert| {
            tally.add(alert);
            if let Some(r) = html_alerts.as_mut() {
                r.add_alert(alert);
            }
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
    report.notes = pipeline
        .sensor()
        .detector_stats()
        .into_iter()
        .flat_map(|d| d.notes)
        .collect();
    report.table = pipeline.table_stats();
    report.talkers = talkers;
    report.alerts = tally;
    report.error = outcome.err();
    if let Some(mut r) = html {
        if let Some(a) = html_alerts {
            r.merge(a);
        }
        // Devices come from a second, inventory-only read of the file (not of stdin).
        if path.as_os_str() != "-" {
            let mut inventory = Inventory::new(InventoryConfig::default());
            if let Ok(reader) = netsec_core::capture::PcapReader::open(path) {
                let _ = inventory.read_capture(reader);
                r.add_devices(0, &inventory.hosts());
            }
        }
        report.report = Some(r);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

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
