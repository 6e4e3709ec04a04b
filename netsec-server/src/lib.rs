//! netsec-server: live capture, detection, storage and alert streaming.
//!
//! Built so far: [`storage`], the store behind one trait ([`storage::Store`]) with its default
//! SQLite implementation ([`storage::SqliteStore`]): embedded, WAL, migrated schema, typed
//! columns with indexes for the API's filters, idempotent batch writes, status history and
//! retention by age and by size. The HTTP API, WebSocket, capture sources and authentication
//! come next (issue 11).
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
