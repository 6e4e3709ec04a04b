//! Helpers shared by the server's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use netsec_core::time::Timestamp;
use netsec_server::api::AppState;
use netsec_server::auth::hash_password;
use netsec_server::config::ServerConfig;
use netsec_server::role::Role;

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsec-srv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A configuration with its data under `dir`, on an ephemeral loopback port.
pub fn config(dir: &Path) -> ServerConfig {
    let mut c = ServerConfig::default();
    c.server.data_dir = dir.to_path_buf();
    c.server.bind = "127.0.0.1:0".parse().expect("addr");
    c.server.heartbeat_s = 1;
    c
}

/// The server's state over `config`, with one user per role (`admin`, `analyst`,
/// `viewer`, each with password `password-<name>`).
pub fn state(config: ServerConfig) -> AppState {
    let state = AppState::open(config).expect("opens");
    for role in Role::ALL {
        let name = role.as_str();
        let hash = hash_password(&format!("password-{name}")).expect("hash");
        state
            .db
            .change_blocking(|s| s.create_user(name, role, &hash, Timestamp::from_micros(1)))
            .expect("user");
    }
    state
}

/// The shared data directory, or `None` (with the reason printed) when it is absent.
pub fn shared_pcaps() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/pcaps");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped: {} is absent", dir.display());
        None
    }
}
