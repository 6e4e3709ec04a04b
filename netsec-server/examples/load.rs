//! Load measurements of netsec-server (kept in the repo, not in the test suite).
//!
//! ```text
//! # p50/p99 of /api/v1/alerts and /api/v1/alerts/groups with N alerts stored, under R readers
//! cargo run --release -p netsec-server --example load -- readers [N=1000000] [R=50] [SECONDS=20]
//! # replay packets/s with C WebSocket clients on loopback, and alerts delivered vs produced
//! # (`noisy` adds a rule alerting on every source's SYNs, once a minute per source)
//! cargo run --release -p netsec-server --example load -- replay CAPTURE [C=0] [noisy]
//! # retention: fill past a size limit and show the pass holding the database under it
//! cargo run --release -p netsec-server --example load -- retention [MIB=64]
//! ```
//!
//! Each mode starts the real server in this process on 127.0.0.1:0 with a fresh data
//! directory under /tmp, and talks to it over loopback like any client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use netsec_core::detect::{Alert, AlertIds, RunId, Severity};
use netsec_core::time::Timestamp;
use netsec_server::api::AppState;
use netsec_server::auth::hash_password;
use netsec_server::config::ServerConfig;
use netsec_server::role::Role;
use netsec_server::server::serve;
use netsec_server::storage::{Batch, SqliteStore, Store, StoreWriter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn arg<T: std::str::FromStr>(i: usize, default: T) -> T {
    std::env::args()
        .nth(i)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsec-load-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn config(dir: &Path) -> ServerConfig {
    let mut c = ServerConfig::default();
    c.server.data_dir = dir.to_path_buf();
    c.server.bind = "127.0.0.1:0".parse().unwrap_or(c.server.bind);
    c.server.requests_per_minute = 10_000_000;
    c.server.login_per_minute = 1000;
    c.storage.max_age = String::new();
    c
}

/// Starts the server; returns its state, address and an admin access token.
async fn start(config: ServerConfig) -> Result<(AppState, SocketAddr, String), Error> {
    let state = AppState::open(config)?;
    let hash = hash_password("load-password-admin")?;
    state.db.change_blocking(|s| {
        s.create_user("admin", Role::Admin, &hash, Timestamp::from_micros(1))
    })?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(state.clone(), listener, std::future::pending()));
    let (_, body) = http(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(r#"{"username":"admin","password":"load-password-admin"}"#),
    )
    .await?;
    let v: serde_json::Value = serde_json::from_str(&body)?;
    let token = v["access_token"].as_str().ok_or("no token")?.to_string();
    Ok((state, addr, token))
}

/// One HTTP/1.1 request on a fresh connection: (status, body).
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Result<(u16, String), Error> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    s.write_all(
        format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// `n` alerts over 2,000 (source, destination) pairs and five detectors, one per ms.
fn fill(db: &Path, n: usize) -> Result<(), Error> {
    let writer = StoreWriter::spawn(Box::new(SqliteStore::open(db)?), 64);
    let run = RunId::from_tag(7);
    let mut ids = AlertIds::new(run);
    let kinds = [
        ("port_scan", "Port_Scan", Severity::Medium),
        ("syn_flood", "DDoS_SYN_Flood", Severity::High),
        ("brute_force", "Brute_Force_SSH", Severity::High),
        ("dns_tunnel", "DNS_Tunnel", Severity::Medium),
        ("icmp_flood", "ICMP_Flood", Severity::Low),
    ];
    let started = Instant::now();
    let mut sent = 0;
    while sent < n {
        let mut alerts = Vec::with_capacity(1000);
        for i in sent..(sent + 1000).min(n) {
            let (det, kind, sev) = kinds[i % kinds.len()];
            let pair = i % 2000;
            let ts = Timestamp::from_micros(1_700_000_000_000_000 + i as i64 * 1000);
            let mut a = Alert::builder(det, ts, kind, sev)
                .addrs(
                    Some(format!("10.{}.{}.{}", pair / 250, pair % 250, 9).parse()?),
                    Some("192.168.1.1".parse()?),
                )
                .description(format!("load alert {i}"))
                .build();
            a.id = ids.next_id(ts);
            alerts.push(a);
        }
        sent += alerts.len();
        writer
            .send(Batch {
                sensor: "load".into(),
                run,
                alerts,
                flows: vec![],
            })
            .map_err(|_| "writer stopped")?;
    }
    writer.flush();
    let secs = started.elapsed().as_secs_f64();
    writer.close()?;
    println!(
        "filled {n} alerts in {secs:.1} s ({:.0} alerts/s)",
        n as f64 / secs
    );
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn readers(n: usize, r: usize, secs: u64) -> Result<(), Error> {
    let dir = fresh_dir("readers");
    let c = config(&dir);
    fill(&c.database_path(), n)?;
    let (state, addr, token) = start(c).await?;
    let size = state
        .db
        .read(|s| s.size_bytes())
        .await
        .map_err(|e| e.to_string())?;
    println!("database: {} MiB", size >> 20);
    for path in [
        "/api/v1/alerts?limit=100",
        "/api/v1/alerts/groups?limit=100",
        "/api/v1/alerts?severity=HIGH&src_ip=10.1.7.9&limit=100",
    ] {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let partial = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..r {
            let token = token.clone();
            let partial = Arc::clone(&partial);
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match http(addr, "GET", path, Some(&token), None).await {
                        Ok((200, body)) => {
                            lat.push(t.elapsed().as_secs_f64() * 1e3);
                            if body.contains("\"partial\":true") {
                                partial.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Ok((s, b)) => eprintln!("{path}: {s} {b}"),
                        Err(e) => eprintln!("{path}: {e}"),
                    }
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await?);
        }
        all.sort_by(f64::total_cmp);
        println!(
            "{path}: {} requests by {r} readers in {secs} s ({:.0}/s): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, partial {}",
            all.len(),
            all.len() as f64 / secs as f64,
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            all.last().copied().unwrap_or(f64::NAN),
            partial.load(Ordering::Relaxed)
        );
    }
    Ok(())
}

async fn replay(capture: PathBuf, clients: usize, noisy: bool) -> Result<(), Error> {
    let dir = fresh_dir("replay");
    let mut c = config(&dir);
    c.server.stream_buffer = 4096;
    if noisy {
        // Many alerts: one per source and minute for every SYN.
        c.sensor.rules.inline.push(
            "alert tcp any any -> any any (msg:\"load: SYN\"; flags:S; \
             threshold: type limit, track by_src, count 1, seconds 60; sid:1; rev:1;)"
                .into(),
        );
    }
    let (state, addr, token) = start(c).await?;
    let delivered = Arc::new(AtomicU64::new(0));
    let lagged = Arc::new(AtomicU64::new(0));
    let mut conns = Vec::new();
    for _ in 0..clients {
        let (ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/ws/alerts?token={token}"))
                .await?;
        let delivered = Arc::clone(&delivered);
        let lagged = Arc::clone(&lagged);
        conns.push(tokio::spawn(async move {
            let mut ws = ws;
            while let Some(Ok(m)) = ws.next().await {
                // Cheap checks, as a client that only counts would do: alerts begin with
                // their id; the control messages are short.
                let Ok(t) = m.to_text() else { continue };
                if t.starts_with("{\"id\"") {
                    delivered.fetch_add(1, Ordering::Relaxed);
                } else if t.len() < 200 && t.contains("\"lagged\"") {
                    lagged.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Let every client get its hello.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let body = serde_json::json!({"pcap": capture, "speed": "max"}).to_string();
    let started = Instant::now();
    let (s, b) = http(
        addr,
        "POST",
        "/api/v1/capture/start",
        Some(&token),
        Some(&body),
    )
    .await?;
    if s != 202 {
        return Err(format!("start: {s} {b}").into());
    }
    let st = state.clone();
    tokio::task::spawn_blocking(move || st.capture.wait()).await?;
    let secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats = state.capture.stats();
    let packets = stats.packets.load(Ordering::Relaxed);
    let bytes = stats.bytes.load(Ordering::Relaxed);
    let produced = stats.alerts_total();
    let got = delivered.load(Ordering::Relaxed);
    println!(
        "replay with {clients} WebSocket clients: {packets} packets in {secs:.2} s: {:.0} packets/s, {:.0} MB/s; \
         alerts produced {produced}, delivered {got} of {} ({:.1} %), lag notices {}, clients dropped {}",
        packets as f64 / secs,
        bytes as f64 / secs / 1e6,
        produced * clients as u64,
        if clients == 0 { 100.0 } else { got as f64 * 100.0 / (produced * clients as u64).max(1) as f64 },
        lagged.load(Ordering::Relaxed),
        state.hub.dropped_clients(),
    );
    let counts = state
        .db
        .read(|s| s.counts())
        .await
        .map_err(|e| e.to_string())?;
    println!("stored: {} alerts, {} flows", counts.alerts, counts.flows);
    for c in conns {
        c.abort();
    }
    Ok(())
}

async fn retention(mib: u64) -> Result<(), Error> {
    let dir = fresh_dir("retention");
    let mut c = config(&dir);
    c.storage.max_size_mib = mib;
    let db = c.database_path();
    fill(&db, 600_000)?;
    let before = SqliteStore::open(&db)?.size_bytes()?;
    let (state, _addr, _token) = start(c).await?;
    netsec_server::server::queue_retention(&state);
    state.writer.flush();
    let after = state
        .db
        .read(|s| Ok((s.size_bytes()?, s.counts()?)))
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "retention at {mib} MiB: {} MiB before, {} MiB after ({} alerts kept), file {} MiB",
        before >> 20,
        after.0 >> 20,
        after.1.alerts,
        std::fs::metadata(&db)?.len() >> 20
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mode = std::env::args().nth(1).unwrap_or_default();
    rt.block_on(async {
        match mode.as_str() {
            "readers" => readers(arg(2, 1_000_000), arg(3, 50), arg(4, 20)).await,
            "replay" => {
                let noisy = std::env::args().nth(4).is_some_and(|a| a == "noisy");
                replay(arg(2, PathBuf::from("/tmp/gen5m.pcap")), arg(3, 0), noisy).await
            }
            "retention" => retention(arg(2, 64)).await,
            _ => Err(
                "modes: readers [N] [R] [SECONDS] | replay CAPTURE [CLIENTS] | retention [MIB]"
                    .into(),
            ),
        }
    })
}
