//! Running the server: [`serve`] (HTTP on a listener, the retention task, graceful shutdown)
//! and [`init`] (the first admin). The binary adds flags and signals around them.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use netsec_core::time::Timestamp;

use crate::api::{app, AppState};
use crate::auth::{hash_password, random_password};
use crate::config::ServerConfig;
use crate::engine::{now_us, SourceSpec};
use crate::role::Role;
use crate::storage::{SqliteStore, Store, StoreError};

/// Starts the source `[capture]` names, if any.
///
/// # Errors
/// The source's problem (a missing file, an interface that cannot be opened).
pub fn start_configured_capture(state: &AppState) -> Result<(), crate::engine::StartError> {
    let c = &state.config.capture;
    let spec = match (&c.interface, &c.pcap) {
        (Some(i), _) => SourceSpec::Live {
            interface: i.clone(),
            bpf: c.bpf.clone(),
        },
        (None, Some(p)) => SourceSpec::Replay {
            pcap: p.clone(),
            speed: c.speed,
        },
        (None, None) => return Ok(()),
    };
    state.capture.start(&spec, &state.sensor_config())
}

/// Queues a retention pass on the writer thread, recording the database size for
/// `/metrics`.
pub fn queue_retention(state: &AppState) {
    let Ok(policy) = state.config.retention() else {
        return;
    };
    let bytes = Arc::clone(&state.metrics.db_bytes);
    state.writer.run(Box::new(move |store| {
        match store.retain(&policy, Timestamp::from_micros(now_us())) {
            Ok(r) => {
                bytes.store(r.bytes, Ordering::Relaxed);
                if r.alerts + r.flows > 0 {
                    tracing::info!(
                        alerts = r.alerts,
                        flows = r.flows,
                        bytes = r.bytes,
                        "retention pass"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "retention pass failed"),
        }
    }));
}

/// Serves the API on `listener` until `shutdown` resolves, running retention every
/// `storage.retention_interval_s`; then stops the capture (flows flushed, alerts stored) and
/// waits for the writer.
///
/// # Errors
/// The listener's I/O error.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let every = Duration::from_secs(state.config.storage.retention_interval_s);
    let retention_state = state.clone();
    let retention = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            queue_retention(&retention_state);
            // The limiters keep a cell per client address: forget the idle ones, so many
            // addresses cannot grow them without bound.
            retention_state.login_limiter.retain_recent();
            retention_state.request_limiter.retain_recent();
        }
    });
    let router = app(state.clone());
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    retention.abort();
    shutdown_capture(&state).await;
    result
}

/// Stops the capture and waits until what it produced is committed.
pub async fn shutdown_capture(state: &AppState) {
    let st = state.clone();
    let _ = tokio::task::spawn_blocking(move || {
        st.capture.stop();
        st.writer.flush();
    })
    .await;
}

/// Why `init` refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// Users exist already: `init` runs once.
    #[error("already initialised: {0} user(s) exist; manage users through the API")]
    AlreadyInitialised(usize),
    /// The name is not valid.
    #[error("username: 1 to 64 letters, digits, '.', '_' or '-'")]
    BadUsername,
    /// The data directory could not be made.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing or the key failed.
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
}

/// Creates the data directory, the database, the token key and the first admin, and returns
/// its generated password (print it once; it is stored hashed only).
///
/// # Errors
/// [`InitError`]; in particular it refuses when any user exists.
pub fn init(config: &ServerConfig, username: &str) -> Result<String, InitError> {
    if crate::api::admin::check_username(username).is_err() {
        return Err(InitError::BadUsername);
    }
    let dir = &config.server.data_dir;
    std::fs::create_dir_all(dir).map_err(|source| InitError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    crate::auth::TokenKeys::load_or_create(&config.key_path())?;
    let mut store = SqliteStore::open(&config.database_path())?;
    let existing = store.users()?.len();
    if existing > 0 {
        return Err(InitError::AlreadyInitialised(existing));
    }
    let password = random_password();
    let hash = hash_password(&password)?;
    store.create_user(
        username,
        Role::Admin,
        &hash,
        Timestamp::from_micros(now_us()),
    )?;
    Ok(password)
}
