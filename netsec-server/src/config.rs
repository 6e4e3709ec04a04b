//! [`ServerConfig`]: everything `netsec-server` runs from. A TOML file (which embeds the
//! Sensor's [`SensorConfig`] under `[sensor]`), then environment variables, then flags; the
//! defaults bind to 127.0.0.1:8000 and keep the database under `./netsec-data`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use netsec_core::config::SensorConfig;
use serde::{Deserialize, Serialize};

use crate::storage::Retention;

/// The whole server configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// HTTP, security and limits.
    pub server: HttpConfig,
    /// The database and what it keeps.
    pub storage: StorageConfig,
    /// What to capture at start-up, if anything.
    pub capture: CaptureConfig,
    /// The Sensor: flow table, rules, behavioural detectors, models (as `netsec analyze`
    /// reads it).
    pub sensor: SensorConfig,
}

/// The `[server]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on (default `127.0.0.1:8000`: loopback only).
    pub bind: SocketAddr,
    /// Where the database and the token-signing key live.
    pub data_dir: PathBuf,
    /// This sensor's name, stored with every row.
    pub sensor_name: String,
    /// Origins allowed to call the API from a browser (CORS); empty allows none.
    pub cors_origins: Vec<String>,
    /// Login attempts per minute per client address.
    pub login_per_minute: u32,
    /// Requests per minute per token (or address, without one).
    pub requests_per_minute: u32,
    /// Largest request body accepted, in bytes (larger gets 413).
    pub body_limit_bytes: usize,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_s: u64,
    /// Lifetime of a refresh token, in seconds.
    pub refresh_token_ttl_s: u64,
    /// Time budget of one list query, in milliseconds; past it the listing is `partial`.
    pub query_budget_ms: u64,
    /// Alerts buffered for WebSocket and SSE clients; a client further behind is told how
    /// many it missed, then dropped if it stays behind.
    pub stream_buffer: usize,
    /// Seconds between heartbeats on the WebSocket and SSE streams.
    pub heartbeat_s: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            data_dir: PathBuf::from("netsec-data"),
            sensor_name: "netsec".into(),
            cors_origins: Vec::new(),
            login_per_minute: 60,
            requests_per_minute: 6000,
            body_limit_bytes: 1 << 20,
            access_token_ttl_s: 15 * 60,
            refresh_token_ttl_s: 7 * 24 * 3600,
            query_budget_ms: 2000,
            stream_buffer: 4096,
            heartbeat_s: 15,
        }
    }
}

/// The `[storage]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// The database file; relative paths are under `data_dir` (default `netsec.db`).
    pub database: PathBuf,
    /// Alerts and flows whose packet time is older than this go (`"30d"`, `"12h"`; empty
    /// keeps them forever). Packet time, as EVE readers prune by `timestamp`: replays of old
    /// captures are pruned at the next pass unless this is empty.
    pub max_age: String,
    /// Above this many MiB the oldest alerts and flows go (0: no size limit).
    pub max_size_mib: u64,
    /// Seconds between retention passes.
    pub retention_interval_s: u64,
    /// Rows gathered before a batch goes to the writer (it goes at least every second).
    pub batch_rows: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            database: PathBuf::from("netsec.db"),
            max_age: "30d".into(),
            max_size_mib: 4096,
            retention_interval_s: 60,
            batch_rows: 2000,
        }
    }
}

/// Replay speed of a capture file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speed {
    /// As fast as the sensor goes.
    #[default]
    Max,
    /// At the pace the packets were recorded.
    Realtime,
}

/// The `[capture]` section: a source to start with the server.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptureConfig {
    /// Capture live from this interface.
    pub interface: Option<String>,
    /// A BPF filter for live capture (`"tcp or udp"`).
    pub bpf: Option<String>,
    /// Replay this capture file.
    pub pcap: Option<PathBuf>,
    /// Replay speed.
    pub speed: Speed,
}

/// A configuration that cannot run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("{origin}: {message}")]
    Parse {
        /// The file (or `<text>`).
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is out of range, naming the setting or environment variable.
    #[error("{setting}: {reason}")]
    Invalid {
        /// Which setting or variable.
        setting: String,
        /// Why.
        reason: String,
    },
    /// The sensor part does not check.
    #[error("[sensor]: {0}")]
    Sensor(#[from] netsec_core::config::ConfigError),
}

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_string(),
        reason: reason.into(),
    }
}

/// The environment variables [`ServerConfig::apply_env`] reads, with what they set.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("NETSEC_BIND", "server.bind"),
    ("NETSEC_DATA_DIR", "server.data_dir"),
    ("NETSEC_SENSOR_NAME", "server.sensor_name"),
    (
        "NETSEC_CORS_ORIGINS",
        "server.cors_origins (comma-separated)",
    ),
    ("NETSEC_DATABASE", "storage.database"),
    ("NETSEC_MAX_AGE", "storage.max_age"),
    ("NETSEC_MAX_SIZE_MIB", "storage.max_size_mib"),
    ("NETSEC_INTERFACE", "capture.interface"),
    ("NETSEC_BPF", "capture.bpf"),
    ("NETSEC_PCAP", "capture.pcap"),
    ("NETSEC_SPEED", "capture.speed (max or realtime)"),
    ("NETSEC_RULES", "sensor.rules.files (comma-separated)"),
];

impl ServerConfig {
    /// Parses a TOML configuration; `origin` names it in errors.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] with the line and column.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<ServerConfig, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })
    }

    /// Reads a TOML file.
    ///
    /// # Errors
    /// [`ConfigError::Read`] or [`ConfigError::Parse`].
    pub fn load(path: &std::path::Path) -> Result<ServerConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, &path.display().to_string())
    }

    /// Applies the `NETSEC_*` variables of [`ENV_VARS`] found in `vars`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the variable.
    pub fn apply_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        let list = |v: &str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        for (key, value) in vars {
            match key.as_str() {
                "NETSEC_BIND" => {
                    self.server.bind = value
                        .parse()
                        .map_err(|_| invalid(&key, format!("{value:?} is not an address:port")))?;
                }
                "NETSEC_DATA_DIR" => self.server.data_dir = value.into(),
                "NETSEC_SENSOR_NAME" => self.server.sensor_name = value,
                "NETSEC_CORS_ORIGINS" => self.server.cors_origins = list(&value),
                "NETSEC_DATABASE" => self.storage.database = value.into(),
                "NETSEC_MAX_AGE" => self.storage.max_age = value,
                "NETSEC_MAX_SIZE_MIB" => {
                    self.storage.max_size_mib = value
                        .parse()
                        .map_err(|_| invalid(&key, format!("{value:?} is not a number")))?;
                }
                "NETSEC_INTERFACE" => self.capture.interface = Some(value),
                "NETSEC_BPF" => self.capture.bpf = Some(value),
                "NETSEC_PCAP" => self.capture.pcap = Some(value.into()),
                "NETSEC_SPEED" => {
                    self.capture.speed = match value.as_str() {
                        "max" => Speed::Max,
                        "realtime" => Speed::Realtime,
                        _ => return Err(invalid(&key, format!("{value:?}: max or realtime"))),
                    };
                }
                "NETSEC_RULES" => {
                    self.sensor.rules.files = list(&value).into_iter().map(Into::into).collect();
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.server.data_dir.join(&self.storage.database)
    }

    /// The file holding the key that signs access and refresh tokens.
    pub fn key_path(&self) -> PathBuf {
        self.server.data_dir.join("token-key")
    }

    /// The retention policy of `[storage]`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a malformed `max_age`.
    pub fn retention(&self) -> Result<Retention, ConfigError> {
        let max_age_us = match self.storage.max_age.trim() {
            "" => None,
            text => {
                let age = humantime::parse_duration(text)
                    .map_err(|e| invalid("storage.max_age", format!("{text:?}: {e}")))?;
                Some(i64::try_from(age.as_micros()).unwrap_or(i64::MAX))
            }
        };
        Ok(Retention {
            max_age_us,
            max_bytes: (self.storage.max_size_mib > 0)
                .then(|| self.storage.max_size_mib.saturating_mul(1 << 20)),
        })
    }

    /// The list-query time budget.
    pub fn query_budget(&self) -> Duration {
        Duration::from_millis(self.server.query_budget_ms)
    }

    /// Checks every value, the sensor's included.
    ///
    /// # Errors
    /// The first problem, naming the setting.
    pub fn check(&self) -> Result<(), ConfigError> {
        self.retention()?;
        let s = &self.server;
        if s.sensor_name.trim().is_empty() || s.sensor_name.len() > 64 {
            return Err(invalid("server.sensor_name", "1 to 64 characters"));
        }
        for (name, value) in [
            ("server.login_per_minute", u64::from(s.login_per_minute)),
            (
                "server.requests_per_minute",
                u64::from(s.requests_per_minute),
            ),
            ("server.body_limit_bytes", s.body_limit_bytes as u64),
            ("server.access_token_ttl_s", s.access_token_ttl_s),
            ("server.refresh_token_ttl_s", s.refresh_token_ttl_s),
            ("server.query_budget_ms", s.query_budget_ms),
            ("server.stream_buffer", s.stream_buffer as u64),
            ("server.heartbeat_s", s.heartbeat_s),
            (
                "storage.retention_interval_s",
                self.storage.retention_interval_s,
            ),
            ("storage.batch_rows", self.storage.batch_rows as u64),
        ] {
            if value == 0 {
                return Err(invalid(name, "must be above 0"));
            }
        }
        for origin in &s.cors_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(invalid(
                    "server.cors_origins",
                    format!("{origin:?} is not an http(s) origin"),
                ));
            }
        }
        if self.capture.interface.is_some() && self.capture.pcap.is_some() {
            return Err(invalid("capture", "give an interface or a pcap, not both"));
        }
        self.sensor.check()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_bind_to_loopback_and_check() {
        let c = ServerConfig::default();
        assert_eq!(c.server.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(c.database_path(), PathBuf::from("netsec-data/netsec.db"));
        c.check().expect("defaults check");
    }

    #[test]
    fn toml_then_env_override() {
        let mut c = ServerConfig::from_toml_str(
            "[server]\nbind = \"127.0.0.1:9000\"\n[storage]\nmax_age = \"2h\"\n\
             [sensor.flow]\nidle_timeout_us = 5000000\n",
            "test.toml",
        )
        .expect("parses");
        assert_eq!(c.server.bind.port(), 9000);
        assert_eq!(c.retention().expect("age").max_age_us, Some(7_200_000_000));
        c.apply_env([
            ("NETSEC_BIND".to_string(), "127.0.0.1:9100".to_string()),
            ("NETSEC_SPEED".to_string(), "realtime".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ])
        .expect("applies");
        assert_eq!(c.server.bind.port(), 9100);
        assert_eq!(c.capture.speed, Speed::Realtime);
    }

    #[test]
    fn the_example_configuration_checks() {
        let text = include_str!("../../config/server.toml");
        let c = ServerConfig::from_toml_str(text, "config/server.toml").expect("parses");
        c.check().expect("checks");
        assert_eq!(c.server.bind, ServerConfig::default().server.bind);
        assert_eq!(
            c.storage,
            ServerConfig::default().storage,
            "the file shows the defaults"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let err =
            ServerConfig::from_toml_str("[server]\nbnid = 1\n", "x.toml").expect_err("unknown key");
        assert!(err.to_string().contains("bnid"), "{err}");
        let mut c = ServerConfig::default();
        let err = c
            .apply_env([("NETSEC_BIND".to_string(), "nowhere".to_string())])
            .expect_err("bad bind");
        assert!(err.to_string().contains("NETSEC_BIND"), "{err}");
        c.storage.max_age = "forever".into();
        assert!(c
            .check()
            .expect_err("bad age")
            .to_string()
            .contains("storage.max_age"));
        let mut c = ServerConfig::default();
        c.server.cors_origins = vec!["evil".into()];
        assert!(c.check().is_err());
    }
}
