//! `netsec flows`: stream finished flows with their 25 features as CSV or JSON Lines.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use netsec_core::flow::{FlowTableConfig, FlowTableStats};
use netsec_core::output::{flow_writer, FlowFormat};
use netsec_core::pipeline::{FlowPipeline, PipelineStats};

use crate::Failure;

/// Packets per batch between progress updates and output writes.
const BATCH: usize = 16 * 1024;

/// Arguments of `netsec flows`.
#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Capture file (pcap or pcapng), or `-` for stdin.
    pub capture: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub format: FormatArg,
    /// Write flows to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Flow-table options.
    #[command(flatten)]
    pub table: TableArgs,
}

/// Flow-table options shared by `flows` and `analyze`.
#[derive(Debug, Args)]
pub struct TableArgs {
    /// Seconds without a packet after which a flow ends.
    #[arg(long, value_name = "S", default_value_t = 120.0)]
    pub idle_timeout: f64,
    /// Seconds after its first packet at which a flow is cut.
    #[arg(long, value_name = "S", default_value_t = 1800.0)]
    pub active_timeout: f64,
    /// Most flows held at once; the longest-idle flow is evicted when full.
    #[arg(long, value_name = "N")]
    pub max_flows: Option<usize>,
    /// Byte budget of the flow table in MiB (default 128). When a new flow would exceed it,
    /// idle flows end after 10 s instead of the idle timeout, then the longest-idle are
    /// evicted; the summary counts both.
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u32).range(1..))]
    pub memcap: Option<u32>,
    /// Do not inspect payloads for the application layer (app_proto stays `unknown`, the
    /// application columns empty, and rules naming an application protocol in their header,
    /// such as `alert http`, never match; sticky buffers like `http.uri` still work).
    #[arg(long)]
    pub no_app: bool,
}

impl TableArgs {
    /// The flow-table configuration these options describe.
    pub fn config(&self) -> Result<FlowTableConfig, Failure> {
        let mut config = table_config(self.idle_timeout, self.active_timeout, self.max_flows)?;
        config.app_layer = !self.no_app;
        if let Some(mib) = self.memcap {
            config.memcap_bytes = (mib as usize) << 20;
        }
        Ok(config)
    }
}

/// `--format` values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// CSV with a header row.
    Csv,
    /// JSON Lines.
    Jsonl,
}

impl From<FormatArg> for FlowFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Csv => FlowFormat::Csv,
            FormatArg::Jsonl => FlowFormat::Jsonl,
        }
    }
}

/// Seconds (from the command line) to whole microseconds, rejecting nonsense.
pub fn seconds_to_micros(name: &str, s: f64) -> Result<i64, Failure> {
    if !s.is_finite() || s <= 0.0 || s > 1e9 {
        return Err(Failure::BadInput(anyhow::anyhow!(
            "--{name} must be a positive number of seconds, got {s}"
        )));
    }
    Ok((s * 1e6).round() as i64)
}

/// Builds the flow-table configuration from the shared timeout/size options.
pub fn table_config(
    idle: f64,
    active: f64,
    max_flows: Option<usize>,
) -> Result<FlowTableConfig, Failure> {
    let mut config = FlowTableConfig {
        idle_timeout_us: seconds_to_micros("idle-timeout", idle)?,
        active_timeout_us: seconds_to_micros("active-timeout", active)?,
        ..FlowTableConfig::default()
    };
    if let Some(n) = max_flows {
        config.max_flows = n;
    }
    Ok(config)
}

/// Runs `netsec flows`.
pub fn run(args: &FlowsArgs) -> Result<(), Failure> {
    let config = args.table.config()?;
    let input = crate::input::open(&args.capture)?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut writer = flow_writer(args.format.into(), BufWriter::with_capacity(1 << 20, out));
    let progress = crate::progress::Progress::new(input.len);
    let mut pipeline = FlowPipeline::new(input.reader, config)
        .map_err(|e| Failure::BadInput(anyhow::Error::new(e).context("invalid flow options")))?;

    let started = Instant::now();
    let mut flows = Vec::with_capacity(BATCH);
    let outcome = loop {
        flows.clear();
        let step = pipeline.process_batch(BATCH, &mut flows);
        for flow in &flows {
            writer.emit(flow).context("cannot write flow output")?;
        }
        progress.set(pipeline.bytes_consumed());
        match step {
            Ok(true) => {}
            Ok(false) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    // End of input, or damage: every flow assembled so far is still written, a batch at a
    // time (a table of a million open flows is never held as records at once).
    loop {
        flows.clear();
        let done = pipeline.finish_batch(BATCH, &mut flows);
        for flow in &flows {
            writer.emit(flow).context("cannot write flow output")?;
        }
        if done {
            break;
        }
    }
    writer.flush().context("cannot write flow output")?;
    progress.finish();
    print_summary(
        &input.name,
        pipeline.stats(),
        &pipeline.table_stats(),
        started.elapsed().as_secs_f64(),
    );
    outcome.map_err(|e| {
        Failure::BadInput(
            anyhow::Error::new(e).context(format!("capture {} is damaged", input.name)),
        )
    })
}

/// The end-of-run summary on stderr.
pub fn print_summary(name: &str, s: &PipelineStats, table: &FlowTableStats, secs: f64) {
    let _ = write_summary(&mut io::stderr().lock(), name, s, table, secs);
}

/// Writes the `flows` summary (run line, skipped packets, flow table) to `err`.
pub fn write_summary(
    err: &mut dyn Write,
    name: &str,
    s: &PipelineStats,
    table: &FlowTableStats,
    secs: f64,
) -> io::Result<()> {
    let pps = if secs > 0.0 {
        s.packets as f64 / secs
    } else {
        0.0
    };
    let mbps = if secs > 0.0 {
        s.captured_bytes as f64 / secs / 1e6
    } else {
        0.0
    };
    writeln!(
        err,
        "{name}: {} packets, {} bytes, {} IP packets, {} flows in {secs:.3} s ({pps:.0} packets/s, {mbps:.1} MB/s)",
        s.packets, s.wire_bytes, s.ip_packets, s.flows
    )?;
    let skipped = s.skipped();
    if skipped.is_empty() {
        writeln!(err, "skipped: none")?;
    } else {
        let parts: Vec<String> = skipped.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(err, "skipped: {} ({})", s.skipped_total(), parts.join(", "))?;
    }
    if s.transport_errors > 0 {
        writeln!(
            err,
            "kept with a malformed transport header: {}",
            s.transport_errors
        )?;
    }
    writeln!(
        err,
        "flow table: peak {} flows held, {} evicted because the table was full",
        table.peak_flows, table.evicted
    )?;
    if table.emergency_entered > 0 {
        writeln!(
            err,
            "flow memcap reached: emergency mode entered {} times, {} flows ended by the emergency idle timeout (peak {} MiB)",
            table.emergency_entered,
            table.emergency_expired,
            table.peak_memory_bytes >> 20
        )?;
    }
    Ok(())
}
