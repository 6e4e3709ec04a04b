//! `netsec`: offline pcap forensics over the netsec library.
//!
//! Thin glue: parse arguments, call the library, map the outcome to an exit code
//! (0 success, 1 runtime failure such as an unwritable output, 2 bad input: a corrupt or
//! truncated capture, or invalid arguments).

mod analyze;
mod behaviour;
mod devices;
mod eval;
mod flows;
mod input;
mod mldata;
mod progress;
mod summary;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// netsec: an intrusion-detection toolkit for packet captures.
#[derive(Debug, Parser)]
#[command(name = "netsec", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Detect attacks in captures: rules and behavioural detectors, alerts, flows, a summary.
    Analyze(analyze::AnalyzeArgs),
    /// Assemble bidirectional flows and their 25 features from a capture.
    Flows(flows::FlowsArgs),
    /// List the hosts of a capture: MAC and vendor, IPs, names, services, OS hints, traffic.
    Devices(devices::DevicesArgs),
    /// Train a random forest or isolation forest on labelled flows; evaluate it on a held-out
    /// split.
    Train(train::TrainArgs),
    /// Score a model file on labelled flows (its held-out split, or separate data).
    Eval(eval::EvalArgs),
}

/// How a subcommand ended, beyond success.
#[derive(Debug)]
pub enum Failure {
    /// The input was bad (corrupt capture, invalid option value): exit code 2.
    BadInput(anyhow::Error),
    /// Anything else: exit code 1.
    Runtime(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Runtime(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(&args),
        Command::Flows(args) => flows::run(&args),
        Command::Devices(args) => devices::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Eval(args) => eval::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(e)) => {
            eprintln!("netsec: error: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(e)) => {
            if is_broken_pipe(&e) {
                // `netsec flows x.pcap | head`: the reader went away, which is not a failure.
                return ExitCode::SUCCESS;
            }
            eprintln!("netsec: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
