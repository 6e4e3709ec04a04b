//! A `kill -9` of a child server in the middle of a replay loses at most the batch not yet
//! committed and never corrupts the database: every row seen committed before the kill is
//! there after reopening, and the integrity check passes.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netsec_server::storage::{SqliteStore, Store};

/// Writes 40,000 one-packet flows (20 s of packet time) and a configuration replaying them at
/// recorded speed with `extra` TOML appended, and starts a child server on it.
fn replaying_child(dir: &std::path::Path, extra: &str) -> std::process::Child {
    let pcap = dir.join("many.pcap");
    common::write_many_flows(&pcap, 40_000, 500);
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nbind = \"127.0.0.1:0\"\ndata_dir = {:?}\n\
             [capture]\npcap = {:?}\nspeed = \"realtime\"\n{extra}",
            dir.display().to_string(),
            pcap.display().to_string()
        ),
    )
    .expect("config");
    Command::new(env!("CARGO_BIN_EXE_netsec-server"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts the server")
}

#[test]
fn kill_9_mid_replay_keeps_what_was_committed_and_the_database_sound() {
    let dir = common::scratch("kill9");
    // 40,000 one-packet flows over 20 s of packet time, replayed at recorded speed.
    let mut child = replaying_child(
        &dir,
        "[storage]\nbatch_rows = 500\n[sensor.flow]\nidle_timeout_us = 300000\n",
    );
    let db = dir.join("netsec.db");
    // Wait until flows are being committed, then note how many, then kill.
    let started = Instant::now();
    let mut seen = 0;
    while started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
        if !db.exists() {
            continue;
        }
        if let Ok(store) = SqliteStore::open(&db) {
            if let Ok(c) = store.counts() {
                seen = c.flows;
            }
        }
        if seen >= 5_000 {
            break;
        }
    }
    assert!(
        seen >= 5_000,
        "flows were committed during the replay ({seen})"
    );
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let store = SqliteStore::open(&db).expect("reopens after kill -9");
    assert!(
        store.integrity_ok().expect("checks"),
        "PRAGMA integrity_check is ok"
    );
    let after = store.counts().expect("counts");
    assert!(
        after.flows >= seen,
        "nothing committed was lost: {} < {seen}",
        after.flows
    );
    assert!(
        after.flows < 40_000,
        "the kill came mid-replay ({} flows)",
        after.flows
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM mid-replay stops the source, flushes the open flows and finishes the writes: with
/// an idle timeout longer than the capture no flow had left before the signal, and every
/// flow of the packets read is stored after it; the process exits 0.
#[cfg(unix)]
#[test]
fn sigterm_flushes_open_flows_and_finishes_writes() {
    let dir = common::scratch("sigterm");
    let mut child = replaying_child(&dir, "[sensor.flow]\nidle_timeout_us = 600000000\n");
    std::thread::sleep(Duration::from_secs(3));
    let db = dir.join("netsec.db");
    let before = SqliteStore::open(&db)
        .expect("opens")
        .counts()
        .expect("counts");
    assert_eq!(before.flows, 0, "no flow had ended before the signal");
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let status = child.wait().expect("waits");
    assert!(status.success(), "exits cleanly: {status:?}");
    let after = SqliteStore::open(&db)
        .expect("reopens")
        .counts()
        .expect("counts");
    // About 2 s of packets at 2,000 flows/s were read before the signal.
    assert!(
        after.flows >= 2_000 && after.flows < 40_000,
        "{} flows flushed",
        after.flows
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `init` creates the first admin once and prints a password that logs in; a second `init`
/// refuses.
#[test]
fn init_makes_the_first_admin_once() {
    let dir = common::scratch("init");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_netsec-server"))
            .arg("--data-dir")
            .arg(&dir)
            .arg("init")
            .output()
            .expect("runs")
    };
    let first = run();
    assert!(first.status.success(), "{first:?}");
    let out = String::from_utf8_lossy(&first.stdout);
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Password (shown once, stored hashed): "))
        .expect("the password is printed")
        .to_string();
    assert_eq!(password.len(), 20);
    let second = run();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already initialised"));
    let store = SqliteStore::open(&dir.join("netsec.db")).expect("opens");
    let (user, hash) = store
        .user_credentials("admin")
        .expect("reads")
        .expect("admin exists");
    assert_eq!(user.role, netsec_server::role::Role::Admin);
    assert!(netsec_server::auth::verify_password(&password, &hash));
    assert!(!hash.contains(&password), "stored hashed");
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGHUP reloads the rules of a running server: the capture status counts the reload.
#[cfg(unix)]
#[test]
fn sighup_reloads_the_rules_of_the_running_capture() {
    use std::io::{BufRead, BufReader};
    let dir = common::scratch("sighup");
    let pcap = dir.join("many.pcap");
    common::write_many_flows(&pcap, 40_000, 500);
    let init = Command::new(env!("CARGO_BIN_EXE_netsec-server"))
        .arg("--data-dir")
        .arg(&dir)
        .arg("init")
        .output()
        .expect("init");
    let out = String::from_utf8_lossy(&init.stdout).to_string();
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("Password (shown once, stored hashed): "))
        .expect("password")
        .to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netsec-server"))
        .args(["--bind", "127.0.0.1:0", "--speed", "realtime"])
        .arg("--data-dir")
        .arg(&dir)
        .arg("--pcap")
        .arg(&pcap)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("reads");
    let addr: std::net::SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("prints its address")
        .parse()
        .expect("address");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let status = rt.block_on(async {
        let (_, login) = common::http::request(
            addr,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(serde_json::json!({"username": "admin", "password": password})),
        )
        .await;
        let token = login["access_token"].as_str().expect("token").to_string();
        let pid = child.id().to_string();
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill")
            .success());
        let mut status = serde_json::Value::Null;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            status =
                common::http::request(addr, "GET", "/api/v1/capture/status", Some(&token), None)
                    .await
                    .1;
            if status["rule_reloads"] == 1 {
                break;
            }
        }
        status
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status["state"], "running", "{status}");
    assert_eq!(status["rule_reloads"], 1, "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}
