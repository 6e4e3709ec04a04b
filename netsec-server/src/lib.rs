//! netsec-server: the live sensor. One process captures or replays ([`engine`]), detects with
//! the library's Sensor, stores in SQLite ([`storage`]) and serves the REST API, WebSocket and
//! SSE alert streams and Prometheus metrics of `API.md` ([`api`]), with users, roles and tokens
//! ([`auth`], [`role`]) and configuration from TOML, environment and flags ([`config`]).
//! [`server::serve`] runs it on a listener; the `netsec-server` binary adds flags and signals.
//!
//! Routes are built by [`api::app`] over an [`api::AppState`], so they can be driven without
//! a socket:
//!
//! ```
//! use axum::body::Body;
//! use axum::http::Request;
//! use tower::ServiceExt;
//!
//! let dir = std::env::temp_dir().join(format!("netsec-doc-{}", std::process::id()));
//! let mut config = netsec_server::config::ServerConfig::default();
//! config.server.data_dir = dir.clone();
//! let state = netsec_server::api::AppState::open(config)?;
//! let rt = tokio::runtime::Runtime::new()?;
//! let status = rt.block_on(async {
//!     let req = Request::get("/api/v1/alerts").body(Body::empty())?;
//!     let res = netsec_server::api::app(state).oneshot(req).await?;
//!     Ok::<_, Box<dyn std::error::Error>>(res.status())
//! })?;
//! assert_eq!(status, 401, "every listing needs a token");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The store alone:
//!
//! ```
//! use netsec_core::detect::{Alert, RunId, Severity};
//! use netsec_core::time::Timestamp;
//! use netsec_server::storage::{AlertQuery, Batch, SqliteStore, Store};
//!
//! let mut store = SqliteStore::open_in_memory()?;
//! let mut alert = Alert::builder("port_scan", Timestamp::from_micros(1_000_000), "Port_Scan", Severity::Medium)
//!     .addrs(Some("10.0.0.9".parse()?), None)
//!     .description("10.0.0.9 probed 120 ports")
//!     .build();
//! alert.id = "01ARZ3NDEKTSV4RRFFQ69G5FAV".into();
//! let batch = Batch { sensor: "pi-5".into(), run: RunId::from_tag(7), alerts: vec![alert], flows: vec![] };
//! assert_eq!(store.write(&batch)?.alerts, 1);
//! assert_eq!(store.write(&batch)?.alerts, 0, "a retried batch never duplicates");
//! let found = store.alerts(&AlertQuery::default())?;
//! assert_eq!(found[0].attack_type, "Port_Scan");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod api;
pub mod auth;
pub mod config;
pub mod engine;
pub mod role;
pub mod server;
pub mod storage;
