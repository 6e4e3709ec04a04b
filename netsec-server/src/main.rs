//! `netsec-server`: the live sensor. Captures (or replays), detects, stores in SQLite and
//! serves the REST API, WebSocket and SSE alert streams and Prometheus metrics.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use netsec_server::api::AppState;
use netsec_server::config::{ServerConfig, Speed, ENV_VARS};
use netsec_server::server;

fn env_help() -> String {
    let mut s = String::from(
        "Configuration comes from the TOML file (--config), then these environment variables, \
         then the flags.\n\nEnvironment:\n",
    );
    for (var, setting) in ENV_VARS {
        s.push_str(&format!("  {var:<22} {setting}\n"));
    }
    s.push_str(
        "\nFirst run: `netsec-server init` creates the first admin and prints its password once.\n\
         Signals: SIGTERM or ctrl-c stop the capture, flush flows, finish writes and exit;\n\
         SIGHUP reloads the rule files atomically.\n\
         Live capture needs a build with `--features live` (libpcap) and CAP_NET_RAW.",
    );
    s
}

#[derive(Parser, Debug)]
#[command(name = "netsec-server", version, about = "netsec live sensor: capture, detect, store, serve",
    after_help = env_help())]
struct Cli {
    /// TOML configuration file (the `[sensor]` section is netsec's sensor configuration).
    #[arg(short, long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8000).
    #[arg(long, global = true, value_name = "ADDR:PORT")]
    bind: Option<SocketAddr>,
    /// Directory of the database and the token key (default ./netsec-data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Capture live from this interface at start-up.
    #[arg(long, value_name = "IFACE", conflicts_with = "pcap")]
    interface: Option<String>,
    /// BPF filter for live capture.
    #[arg(long, value_name = "FILTER")]
    bpf: Option<String>,
    /// Replay this capture file at start-up.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Replay speed: max or realtime.
    #[arg(long, value_name = "SPEED")]
    speed: Option<String>,
    /// Rule file (repeatable; replaces the configured list).
    #[arg(long = "rules", value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Log filter (`info`, `debug`, `netsec_server=debug` …); RUST_LOG also works.
    #[arg(long, global = true, default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve (the default).
    Run,
    /// Create the data directory, the database and the first admin; prints its password once.
    Init {
        /// The admin's user name.
        #[arg(long, default_value = "admin")]
        username: String,
    },
    /// Check the configuration and exit.
    CheckConfig,
}

fn config_of(cli: &Cli) -> anyhow::Result<ServerConfig> {
    let mut config = match &cli.config {
        Some(path) => ServerConfig::load(path)?,
        None => ServerConfig::default(),
    };
    config.apply_env(std::env::vars())?;
    if let Some(b) = cli.bind {
        config.server.bind = b;
    }
    if let Some(d) = &cli.data_dir {
        config.server.data_dir.clone_from(d);
    }
    if let Some(i) = &cli.interface {
        config.capture.interface = Some(i.clone());
        config.capture.pcap = None;
    }
    if let Some(b) = &cli.bpf {
        config.capture.bpf = Some(b.clone());
    }
    if let Some(p) = &cli.pcap {
        config.capture.pcap = Some(p.clone());
        config.capture.interface = None;
    }
    if let Some(s) = &cli.speed {
        config.capture.speed = match s.as_str() {
            "max" => Speed::Max,
            "realtime" => Speed::Realtime,
            other => anyhow::bail!("--speed: {other:?} is not max or realtime"),
        };
    }
    if !cli.rules.is_empty() {
        config.sensor.rules.files.clone_from(&cli.rules);
    }
    config.check()?;
    Ok(config)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netsec-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = config_of(&cli)?;
    match &cli.command {
        Some(Command::Init { username }) => {
            let password = server::init(&config, username)?;
            println!(
                "Created admin {username:?} in {}.",
                config.server.data_dir.display()
            );
            println!("Password (shown once, stored hashed): {password}");
            println!("Log in: POST /api/v1/auth/login {{\"username\": \"{username}\", \"password\": \"…\"}}");
            Ok(())
        }
        Some(Command::CheckConfig) => {
            println!("configuration OK");
            Ok(())
        }
        Some(Command::Run) | None => serve(config),
    }
}

fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let bind = config.server.bind;
        let state = AppState::open(config)?;
        let users = state
            .db
            .read(|s| s.users())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if users.is_empty() {
            tracing::warn!(
                "no user exists yet: run `netsec-server init` to create the first admin"
            );
        }
        server::queue_retention(&state);
        server::start_configured_capture(&state)?;
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let local = listener.local_addr()?;
        tracing::info!(%local, "listening");
        // The actual address on stdout (useful with port 0).
        println!("listening on {local}");
        spawn_reload_on_hup(state.clone());
        server::serve(state, listener, shutdown_signal()).await?;
        tracing::info!("stopped cleanly");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: stopping capture, flushing flows, finishing writes");
}

fn spawn_reload_on_hup(state: AppState) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hup.recv().await.is_some() {
            let st = state.clone();
            match tokio::task::spawn_blocking(move || st.reload_rules()).await {
                Ok(Ok(n)) => tracing::info!(rules = n, "rules reloaded (SIGHUP)"),
                Ok(Err(e)) => tracing::error!(error = %e, "rules not reloaded; the old set stays"),
                Err(e) => tracing::error!(error = %e, "rule reload failed"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = state;
}
