//! [`AppState`]: what every handler shares: the configuration, the store connections, the
//! capture engine, the alert hub, the signing keys, the limiters and the metrics.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use netsec_core::config::CheckedSensorConfig;

use super::error::ApiError;
use super::metrics::Metrics;
use crate::auth::TokenKeys;
use crate::config::ServerConfig;
use crate::engine::{AlertHub, CaptureControl};
use crate::storage::{SqliteStore, Store, StoreError, StoreWriter};

/// Batches waiting for the writer (at 2,000 rows each, about 20 MB of flows at most).
const WRITER_QUEUE: usize = 16;

/// Read connections the API keeps open (WAL: readers never wait for the writer).
const READERS: usize = 4;

/// The store connections of the API: a few readers and one connection for the API's own
/// changes (status, filters, users), each used on the blocking pool.
pub struct Db {
    readers: Vec<Mutex<Box<dyn Store>>>,
    next: std::sync::atomic::AtomicUsize,
    changes: Mutex<Box<dyn Store>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("readers", &self.readers.len())
            .finish()
    }
}

impl Db {
    /// Connections opened by `open`.
    ///
    /// # Errors
    /// The first connection that fails.
    pub fn open(open: impl Fn() -> Result<Box<dyn Store>, StoreError>) -> Result<Db, StoreError> {
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            readers.push(Mutex::new(open()?));
        }
        Ok(Db {
            readers,
            next: std::sync::atomic::AtomicUsize::new(0),
            changes: Mutex::new(open()?),
        })
    }

    /// Runs `f` on a read connection, on the blocking pool.
    ///
    /// # Errors
    /// `f`'s error as an [`ApiError`].
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let i = db.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % db.readers.len();
            let conn = db.readers[i].lock().unwrap_or_else(PoisonError::into_inner);
            f(conn.as_ref())
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
    }

    /// Runs `f` on the change connection, on the blocking pool.
    ///
    /// # Errors
    /// `f`'s error as an [`ApiError`].
    pub async fn change<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = db.changes.lock().unwrap_or_else(PoisonError::into_inner);
            f(conn.as_mut())
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
    }

    /// Runs `f` on the change connection now, on this thread (start-up, `init`, tests).
    ///
    /// # Errors
    /// `f`'s error.
    pub fn change_blocking<T>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        f(conn.as_mut())
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// The configuration is not valid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened.
    #[error("database {path}: {source}")]
    Store {
        /// The file.
        path: String,
        /// Why.
        source: StoreError,
    },
    /// The token key could not be read or created.
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
}

/// A keyed limiter (per address or per token).
pub type Limiter<K> = DefaultKeyedRateLimiter<K>;

/// What the handlers share.
pub struct Shared {
    /// The configuration the server started with.
    pub config: ServerConfig,
    /// The sensor configuration captures start from (replaced by a rule reload).
    pub sensor: RwLock<Arc<CheckedSensorConfig>>,
    /// Store connections.
    pub db: Arc<Db>,
    /// The writer thread (alerts, flows, devices, retention).
    pub writer: Arc<StoreWriter>,
    /// The capture engine.
    pub capture: CaptureControl,
    /// The alert feed.
    pub hub: Arc<AlertHub>,
    /// Token signing.
    pub keys: TokenKeys,
    /// Login attempts per client address.
    pub login_limiter: Limiter<IpAddr>,
    /// Requests per token or address.
    pub request_limiter: Limiter<String>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// When the server started.
    pub started: Instant,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("bind", &self.config.server.bind)
            .finish_non_exhaustive()
    }
}

/// The handlers' state: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The sensor configuration of `config`, its model files loaded.
///
/// # Errors
/// The sensor section's problem.
pub fn check_sensor(
    config: &ServerConfig,
) -> Result<CheckedSensorConfig, crate::config::ConfigError> {
    Ok(config
        .sensor
        .check_with(Some(&netsec_ml::ModelFileLoader))?)
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl AppState {
    /// Opens everything `config` names: the data directory, the database (migrated), the
    /// token key (created on first run), the writer thread and the capture engine. No source
    /// is started.
    ///
    /// # Errors
    /// [`StartupError`] naming what failed.
    pub fn open(config: ServerConfig) -> Result<AppState, StartupError> {
        config.check()?;
        let sensor = check_sensor(&config)?;
        let dir = &config.server.data_dir;
        std::fs::create_dir_all(dir).map_err(|source| StartupError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        let path = config.database_path();
        let store_err = |source| StartupError::Store {
            path: path.display().to_string(),
            source,
        };
        let open =
            || -> Result<Box<dyn Store>, StoreError> { Ok(Box::new(SqliteStore::open(&path)?)) };
        let writer_store = open().map_err(store_err)?;
        let db = Arc::new(Db::open(open).map_err(store_err)?);
        let keys = TokenKeys::load_or_create(&config.key_path())?;
        let writer = Arc::new(StoreWriter::spawn(writer_store, WRITER_QUEUE));
        let hub = Arc::new(AlertHub::new(config.server.stream_buffer));
        let capture = CaptureControl::new(
            Arc::clone(&hub),
            Arc::clone(&writer),
            config.server.sensor_name.clone(),
            config.storage.batch_rows,
        );
        let metrics = Metrics::new();
        metrics.attach(
            Arc::clone(capture.stats()),
            Arc::clone(&hub),
            Arc::clone(&writer),
        );
        Ok(AppState(Arc::new(Shared {
            login_limiter: RateLimiter::keyed(per_minute(config.server.login_per_minute)),
            request_limiter: RateLimiter::keyed(per_minute(config.server.requests_per_minute)),
            sensor: RwLock::new(Arc::new(sensor)),
            config,
            db,
            writer,
            capture,
            hub,
            keys,
            metrics,
            started: Instant::now(),
        })))
    }

    /// The sensor configuration new captures start from.
    pub fn sensor_config(&self) -> Arc<CheckedSensorConfig> {
        Arc::clone(&self.sensor.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Re-reads the rule files (and `threshold.config`) of the configuration and swaps the
    /// new set into the running capture between two packets. On any error the old set stays.
    ///
    /// # Errors
    /// The configuration's problem, naming the file and line.
    pub fn reload_rules(&self) -> Result<usize, crate::config::ConfigError> {
        let checked = check_sensor(&self.config)?;
        let loaded = checked.rules().len();
        self.capture.reload_rules(&checked);
        *self.sensor.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(checked);
        Ok(loaded)
    }
}
