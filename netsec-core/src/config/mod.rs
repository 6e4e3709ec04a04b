//! Sensor assembly from configuration: one serde [`SensorConfig`] (TOML) → [`check`] →
//! [`CheckedSensorConfig`] → [`build`] → a [`Sensor`], for the CLI and the server alike.
//!
//! [`check`]: SensorConfig::check
//! [`build`]: CheckedSensorConfig::build
//!
//! A `SensorConfig` is plain data: the flow table and application layer, the rules (bundled
//! set, files, variables), the behavioural detector settings, model files and the outputs.
//! [`SensorConfig::check`] reads and validates everything once, before any packet or output:
//! rule files are read and compiled, variables parsed, model files loaded. Every error names
//! the setting or file at fault. The checked config then builds as many sensors as wanted (one
//! per capture, say), each with fresh detectors and no shared state.
//!
//! netsec-core builds the rule and behavioural detectors itself. Model files are loaded by a
//! [`ModelLoader`] handed to [`SensorConfig::check_with`]: netsec-ml provides one, and core
//! does not depend on it.
//!
//! ```
//! use netsec_core::config::SensorConfig;
//!
//! let config = SensorConfig::from_toml_str(r#"
//!     [flow]
//!     idle_timeout_us = 60000000
//!
//!     [rules]
//!     bundled = false
//!     inline = ['alert udp any any -> any 53 (msg:"DNS bytes"; content:"|01 02 03 04|"; sid:1;)']
//!     [rules.address_groups]
//!     HOME_NET = "[10.0.0.0/8]"
//!
//!     [behaviour.port_scan]
//!     vertical_ports = 50
//! "#)?;
//! let checked = config.check()?;
//! assert_eq!(checked.rules().len(), 1);
//! let sensor = checked.build()?;
//! let names: Vec<&str> = sensor.detectors().iter().map(|d| d.name()).collect();
//! assert_eq!(names[..2], ["rules", "port_scan"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::behaviour::{build_detectors, BehaviourConfig, BehaviourConfigError};
use crate::detect::{
    AlertSink, CsvAlertSink, Detector, EpisodeAggregator, EpisodeConfig, EveAlertSink,
    JsonlAlertSink,
};
use crate::flow::{FlowConfigError, FlowTableConfig};
use crate::output::{CsvFlowWriter, EveFlowWriter, FlowSink, JsonlFlowWriter};
use crate::pipeline::Sensor;
use crate::rules::{
    AlertFilter, MidstreamPolicy, ParseErrorKind, RuleDetector, RuleDetectorConfig, RuleSet,
    RuleVars, RuleWarning, ThresholdConfig, ThresholdConfigError,
};

/// The bundled rule file (`config/default.rules`), compiled into the library.
pub const BUNDLED_RULES: &str = include_str!("../../../config/default.rules");

/// The bundled behavioural configuration (`config/default.toml`): every key of
/// [`BehaviourConfig::default`], spelled out (a test keeps them equal).
pub const BUNDLED_BEHAVIOUR: &str = include_str!("../../../config/default.toml");

/// Everything a sensor is built from. Every section is optional in TOML; unknown keys are
/// errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorConfig {
    /// The flow table and the application layer (`app_layer`).
    pub flow: FlowTableConfig,
    /// Signature rules.
    pub rules: RulesConfig,
    /// Behavioural detector settings (the sections of `config/default.toml`).
    pub behaviour: BehaviourConfig,
    /// Model files (from `netsec train`), each scoring every finished flow.
    pub models: Vec<PathBuf>,
    /// How the models' per-flow alerts are grouped: one alert per (model, class, source)
    /// episode ([`EpisodeAggregator`]).
    pub model_episodes: EpisodeConfig,
    /// Where alerts and flows go.
    pub outputs: OutputsConfig,
    /// The sensor's memory budget (default 256 MiB): the flow table's memcap
    /// (`flow.memcap_bytes`) plus the most the detectors' tables and the alert filter can
    /// hold, every table at its cap, must fit in it; [`SensorConfig::check`] says when not.
    /// Model files themselves are not counted.
    pub memcap_bytes: usize,
}

/// The default [`SensorConfig::memcap_bytes`].
pub const DEFAULT_MEMCAP_BYTES: usize = 256 << 20;

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            flow: FlowTableConfig::default(),
            rules: RulesConfig::default(),
            behaviour: BehaviourConfig::default(),
            models: Vec::new(),
            model_episodes: EpisodeConfig::default(),
            outputs: OutputsConfig::default(),
            memcap_bytes: DEFAULT_MEMCAP_BYTES,
        }
    }
}

/// The rule part of a [`SensorConfig`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    /// Load the bundled rules ([`BUNDLED_RULES`]) first (default true).
    pub bundled: bool,
    /// Suricata rule files, loaded in this order after the bundled rules.
    pub files: Vec<PathBuf>,
    /// Rules given in the configuration itself, one per entry, loaded last.
    pub inline: Vec<String>,
    /// Address variables (`HOME_NET = "[10.0.0.0/8]"`), over Suricata's defaults.
    pub address_groups: BTreeMap<String, String>,
    /// Port variables (`HTTP_PORTS = "[80,8080]"`), over Suricata's defaults.
    pub port_groups: BTreeMap<String, String>,
    /// A Suricata `threshold.config` (`suppress`, `threshold`, `event_filter`,
    /// `rate_filter`), applied to the alerts of every detector.
    pub threshold_file: Option<PathBuf>,
    /// Inspect TCP flows whose opening SYN was not seen as sessions (established, with
    /// their application protocol), as Suricata's `stream.midstream: true` (default on;
    /// Suricata's default is off: see [`RuleDetectorConfig::midstream`]).
    pub midstream: bool,
    /// What the rules do with TCP flows taken up midstream (`ignore`: inspect them, the
    /// default; `pass-flow`: inspect none of their packets).
    pub midstream_policy: MidstreamPolicy,
    /// Most rule alerts one packet raises (Suricata's `packet-alert-max`; default 15, and 0
    /// means the default): beyond it, the highest-priority rules' alerts are kept.
    pub packet_alert_max: u16,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            bundled: true,
            files: Vec::new(),
            inline: Vec::new(),
            address_groups: BTreeMap::new(),
            port_groups: BTreeMap::new(),
            threshold_file: None,
            midstream: true,
            midstream_policy: MidstreamPolicy::Ignore,
            packet_alert_max: crate::rules::DEFAULT_PACKET_ALERT_MAX,
        }
    }
}

/// Output format of alerts and flows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Suricata EVE JSON (`event_type` alert / flow).
    #[default]
    Eve,
    /// netsec's alert and flow records as JSON Lines.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

impl OutputFormat {
    /// The alert sink of this format over `out` (wrap files in a `BufWriter`).
    pub fn alert_sink<'w, W: Write + Send + 'w>(self, out: W) -> Box<dyn AlertSink + Send + 'w> {
        match self {
            OutputFormat::Eve => Box::new(EveAlertSink::new(out)),
            OutputFormat::Jsonl => Box::new(JsonlAlertSink::new(out)),
            OutputFormat::Csv => Box::new(CsvAlertSink::new(out)),
        }
    }

    /// The flow sink of this format over `out` (wrap files in a `BufWriter`).
    pub fn flow_sink<'w, W: Write + Send + 'w>(self, out: W) -> Box<dyn FlowSink + Send + 'w> {
        match self {
            OutputFormat::Eve => Box::new(EveFlowWriter::new(out)),
            OutputFormat::Jsonl => Box::new(JsonlFlowWriter::new(out)),
            OutputFormat::Csv => Box::new(CsvFlowWriter::new(out)),
        }
    }
}

/// The output part of a [`SensorConfig`]. The library does not open these files itself: a
/// front end reads them (the CLI writes alerts to stdout when `alerts` is unset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputsConfig {
    /// Format of both outputs.
    pub format: OutputFormat,
    /// Alert file.
    pub alerts: Option<PathBuf>,
    /// Flow file (no flows are written when unset).
    pub flows: Option<PathBuf>,
}

/// Builds detectors for one loaded model, as often as sensors are built.
pub trait DetectorFactory: Send + Sync {
    /// One line naming the model for logs (`rf-default 3 (random_forest, alert at score >= 0.5)`).
    fn describe(&self) -> String;
    /// A fresh detector for one sensor.
    fn build(&self) -> Box<dyn Detector>;
}

/// Loads model files into [`DetectorFactory`]s: the hook through which netsec-ml contributes
/// its detectors without netsec-core depending on it.
pub trait ModelLoader {
    /// Loads the model at `path`.
    ///
    /// # Errors
    /// Why the file is not a usable model.
    fn load(
        &self,
        path: &Path,
    ) -> Result<Arc<dyn DetectorFactory>, Box<dyn std::error::Error + Send + Sync>>;
}

/// Why a [`SensorConfig`] was rejected; each names the setting or file at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML text did not parse or did not fit the schema (unknown keys are errors).
    #[error("invalid sensor config: {0}")]
    Parse(#[from] toml::de::Error),
    /// The `[flow]` section is out of range.
    #[error("flow: {0}")]
    Flow(#[from] FlowConfigError),
    /// The `[model_episodes]` section is out of range.
    #[error("model_episodes: {0}")]
    Episodes(String),
    /// The `[behaviour]` section is out of range.
    #[error("behaviour: {0}")]
    Behaviour(#[from] BehaviourConfigError),
    /// A rule file could not be read.
    #[error("cannot read rule file {path}: {source}")]
    RuleFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A rule variable does not parse.
    #[error("rules.{group}.{name}: invalid value {value:?}: {reason}")]
    RuleVar {
        /// `address_groups` or `port_groups`.
        group: &'static str,
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// The threshold file could not be read.
    #[error("cannot read threshold file {path}: {source}")]
    ThresholdFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of the threshold file is not a valid entry.
    #[error("invalid threshold file {path}: {source}")]
    Threshold {
        /// The file.
        path: PathBuf,
        /// The line and why.
        source: ThresholdConfigError,
    },
    /// The flow memcap and the detectors' tables do not fit in the sensor's budget.
    #[error("memcap_bytes {memcap} is too small: the flow table's memcap {flows} plus the detectors' tables at their caps {detectors} need {}; raise memcap_bytes, or lower flow.memcap_bytes or the detectors' max_tracked", flows + detectors)]
    Memcap {
        /// The budget.
        memcap: u64,
        /// `flow.memcap_bytes`.
        flows: u64,
        /// The detectors' bound.
        detectors: u64,
    },
    /// Model files were configured but no [`ModelLoader`] was given.
    #[error("models: {0} needs a model loader (netsec-ml's), none was given")]
    NoModelLoader(PathBuf),
    /// A model file could not be loaded.
    #[error("cannot load model {path}: {source}")]
    Model {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// One skipped rule, with the rule source (file name, `<bundled default.rules>` or
/// `<inline>`) and the warning's line counted in that source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedRuleWarning {
    /// Where the rule came from.
    pub source: String,
    /// The warning, its `line` local to `source`.
    pub warning: RuleWarning,
}

impl fmt::Display for SourcedRuleWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.warning)
    }
}

/// A validated [`SensorConfig`]: rules compiled, models loaded. Build sensors from it with
/// [`build`](Self::build).
#[derive(Clone)]
pub struct CheckedSensorConfig {
    config: SensorConfig,
    rules: RuleSet,
    thresholds: Option<Arc<ThresholdConfig>>,
    rule_warnings: Vec<SourcedRuleWarning>,
    models: Vec<(PathBuf, Arc<dyn DetectorFactory>)>,
}

impl fmt::Debug for CheckedSensorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckedSensorConfig")
            .field("config", &self.config)
            .field("rules", &self.rules.summary().to_string())
            .field(
                "models",
                &self.models.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SensorConfig {
    /// Parses TOML; sections left out keep their defaults.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] naming the line and key at fault.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// Validates everything and loads the rules; fails on any model file (use
    /// [`check_with`](Self::check_with) to load models).
    ///
    /// # Errors
    /// The first [`ConfigError`].
    pub fn check(&self) -> Result<CheckedSensorConfig, ConfigError> {
        self.check_with(None)
    }

    /// Validates everything, loads the rules, and loads each model file with `models`.
    ///
    /// # Errors
    /// The first [`ConfigError`]: an out-of-range setting, an unreadable rule file, a bad
    /// variable, or a model that does not load.
    pub fn check_with(
        &self,
        models: Option<&dyn ModelLoader>,
    ) -> Result<CheckedSensorConfig, ConfigError> {
        FlowTableConfig::check(self.flow)?;
        self.behaviour.check()?;
        self.model_episodes.check().map_err(ConfigError::Episodes)?;
        let vars = self.rules.vars()?;
        let (mut rules, rule_warnings) = self.rules.load(&vars)?;
        let thresholds = match &self.rules.threshold_file {
            None => None,
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::ThresholdFile {
                        path: path.clone(),
                        source,
                    })?;
                let parsed = ThresholdConfig::parse(&text, &vars).map_err(|source| {
                    ConfigError::Threshold {
                        path: path.clone(),
                        source,
                    }
                })?;
                rules.apply_threshold_config(&parsed);
                Some(Arc::new(parsed))
            }
        };
        let mut loaded = Vec::with_capacity(self.models.len());
        for path in &self.models {
            let loader = models.ok_or_else(|| ConfigError::NoModelLoader(path.clone()))?;
            let factory = loader.load(path).map_err(|source| ConfigError::Model {
                path: path.clone(),
                source,
            })?;
            loaded.push((path.clone(), factory));
        }
        let checked = CheckedSensorConfig {
            config: self.clone(),
            rules,
            thresholds,
            rule_warnings,
            models: loaded,
        };
        let memory = checked.build()?.memory();
        if memory.bound_bytes() > self.memcap_bytes as u64 {
            return Err(ConfigError::Memcap {
                memcap: self.memcap_bytes as u64,
                flows: memory.flow_memcap_bytes,
                detectors: memory.detector_bound_bytes,
            });
        }
        Ok(checked)
    }
}

impl RulesConfig {
    /// Suricata's default variables with this config's groups over them.
    fn vars(&self) -> Result<RuleVars, ConfigError> {
        let mut vars = RuleVars::default();
        let invalid = |group: &'static str, name: &str, value: &str, e: ParseErrorKind| {
            ConfigError::RuleVar {
                group,
                name: name.to_string(),
                value: value.to_string(),
                reason: e.to_string(),
            }
        };
        for (name, value) in &self.address_groups {
            vars.set_addr(name, value)
                .map_err(|e| invalid("address_groups", name, value, e))?;
        }
        for (name, value) in &self.port_groups {
            vars.set_port(name, value)
                .map_err(|e| invalid("port_groups", name, value, e))?;
        }
        Ok(vars)
    }

    /// Reads every source into one rule set; each skipped rule's warning names its source
    /// and local line.
    fn load(&self, vars: &RuleVars) -> Result<(RuleSet, Vec<SourcedRuleWarning>), ConfigError> {
        let mut text = String::new();
        // (first line in `text`, source name)
        let mut origins: Vec<(usize, String)> = Vec::new();
        // (first line in `text`, directory) of each file, for relative dataset files.
        let mut dirs: Vec<(usize, PathBuf)> = Vec::new();
        let mut add = |name: String, body: &str, text: &mut String| {
            origins.push((text.lines().count() + 1, name));
            text.push_str(body);
            // A blank line keeps a trailing `\` continuation from joining the next source.
            text.push_str("\n\n");
        };
        if self.bundled {
            add("<bundled default.rules>".into(), BUNDLED_RULES, &mut text);
        }
        for path in &self.files {
            let body = std::fs::read_to_string(path).map_err(|source| ConfigError::RuleFile {
                path: path.clone(),
                source,
            })?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            dirs.push((text.lines().count() + 1, dir));
            add(path.display().to_string(), &body, &mut text);
        }
        // Inline rules read relative dataset files from the working directory.
        dirs.push((text.lines().count() + 1, PathBuf::from(".")));
        for rule in &self.inline {
            add("<inline>".into(), rule, &mut text);
        }
        let set = RuleSet::from_sources(&text, vars, &dirs);
        let warnings = set
            .summary()
            .warnings
            .iter()
            .map(|w| {
                let (start, name) = origins
                    .iter()
                    .rev()
                    .find(|(start, _)| *start <= w.line)
                    .map(|(s, n)| (*s, n.clone()))
                    .unwrap_or((1, "<rules>".into()));
                let mut warning = w.clone();
                warning.line = w.line + 1 - start;
                SourcedRuleWarning {
                    source: name,
                    warning,
                }
            })
            .collect();
        Ok((set, warnings))
    }
}

impl CheckedSensorConfig {
    /// The configuration as given.
    pub fn config(&self) -> &SensorConfig {
        &self.config
    }

    /// The compiled rules (all sources together).
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// One warning per skipped rule, naming its source and line there.
    pub fn rule_warnings(&self) -> &[SourcedRuleWarning] {
        &self.rule_warnings
    }

    /// Each loaded model's file and description, in configuration order.
    pub fn models(&self) -> impl Iterator<Item = (&Path, String)> {
        self.models.iter().map(|(p, f)| (p.as_path(), f.describe()))
    }

    /// A fresh rule detector over the loaded rules; `None` when no rule loaded.
    pub fn rule_detector(&self) -> Option<Box<dyn Detector>> {
        let config = RuleDetectorConfig {
            midstream: self.config.rules.midstream,
            midstream_policy: self.config.rules.midstream_policy,
            packet_alert_max: self.config.rules.packet_alert_max,
            ..RuleDetectorConfig::default()
        };
        (!self.rules.is_empty()).then(|| {
            Box::new(RuleDetector::with_config(self.rules.clone(), config)) as Box<dyn Detector>
        })
    }

    /// Fresh detectors, in the fixed order: rules (when any loaded), the enabled behavioural
    /// detectors, then one per model, each wrapped in an [`EpisodeAggregator`].
    pub fn detectors(&self) -> Vec<Box<dyn Detector>> {
        let mut detectors: Vec<Box<dyn Detector>> = Vec::new();
        detectors.extend(self.rule_detector());
        // Checked in `check_with`, so building cannot fail.
        detectors.extend(build_detectors(&self.config.behaviour).unwrap_or_default());
        let episodes = self.config.model_episodes;
        detectors.extend(self.models.iter().map(|(_, f)| -> Box<dyn Detector> {
            Box::new(EpisodeAggregator::new(f.build(), episodes))
        }));
        detectors
    }

    /// A new sensor with fresh detectors (no state shared with other sensors).
    ///
    /// # Errors
    /// None in practice: the flow settings were checked; the type stays honest should a
    /// future setting only be checkable at build time.
    pub fn build(&self) -> Result<Sensor, FlowConfigError> {
        let mut sensor = Sensor::new(self.config.flow, self.detectors())?;
        if let Some(t) = &self.thresholds {
            sensor.set_alert_filter(AlertFilter::new(Arc::clone(t)));
        }
        Ok(sensor)
    }

    /// The parsed threshold file, if one was configured.
    pub fn thresholds(&self) -> Option<&ThresholdConfig> {
        self.thresholds.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_behaviour_matches_the_library_defaults_key_for_key() {
        let parsed = BehaviourConfig::from_toml_str(BUNDLED_BEHAVIOUR).expect("parses");
        assert_eq!(parsed, BehaviourConfig::default(), "values drifted");
        let file: toml::Table = toml::from_str(BUNDLED_BEHAVIOUR).expect("toml");
        let expected = toml::Table::try_from(BehaviourConfig::default()).expect("serializes");
        assert_eq!(
            file,
            expected,
            "config/default.toml must list every key; regenerate the values from:\n{}",
            toml::to_string(&BehaviourConfig::default()).expect("serializes")
        );
    }

    #[test]
    fn bundled_rules_all_load_with_complete_metadata() {
        let checked = SensorConfig::default().check().expect("defaults check");
        let summary = checked.rules().summary();
        assert_eq!(summary.skipped, 0, "{summary}: {:?}", summary.warnings);
        assert!(
            (10..=30).contains(&checked.rules().len()),
            "{}",
            checked.rules().len()
        );
        let mut sids = std::collections::BTreeSet::new();
        for rule in checked.rules().rules() {
            let text = rule.to_string();
            let sid = rule.sid().expect("every bundled rule has a sid");
            assert!((9_100_000..9_200_000).contains(&sid), "{text}");
            assert!(sids.insert(sid), "duplicate sid {sid}");
            for key in ["msg:", "rev:", "classtype:"] {
                assert!(text.contains(key), "sid {sid} lacks {key}");
            }
        }
    }

    #[test]
    fn the_default_sensor_fits_its_memory_budget() {
        let sensor = SensorConfig::default()
            .check()
            .expect("defaults check")
            .build()
            .expect("sensor");
        let m = sensor.memory();
        assert!(m.bound_bytes() <= DEFAULT_MEMCAP_BYTES as u64, "{m:?}");
        // Room for a threshold file and a few models (each model's episodes ~1.1 MiB).
        assert!(
            m.bound_bytes() + AlertFilter::memory_bound_bytes() as u64 + 4 * (1_200 << 10)
                <= DEFAULT_MEMCAP_BYTES as u64,
            "{m:?}"
        );
        assert!(
            m.detector_bound_bytes > 10 << 20,
            "the tables are counted: {m:?}"
        );
        let c = SensorConfig {
            memcap_bytes: 64 << 20,
            ..SensorConfig::default()
        };
        let err = c.check().expect_err("128 MiB of flows do not fit in 64");
        assert!(
            err.to_string()
                .contains("memcap_bytes 67108864 is too small"),
            "{err}"
        );
    }

    #[test]
    fn the_default_config_round_trips_through_toml() {
        let text = toml::to_string(&SensorConfig::default()).expect("serializes");
        assert_eq!(
            SensorConfig::from_toml_str(&text).expect("parses"),
            SensorConfig::default()
        );
    }

    #[test]
    fn dataset_files_are_read_beside_their_rule_file() {
        let dir = std::env::temp_dir().join(format!("netsec-config-ds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("ua.csv"), "Y3VybA==\n").expect("write");
        std::fs::write(dir.join("bad.csv"), "%%%\n").expect("write");
        std::fs::write(
            dir.join("ds.rules"),
            "alert http any any -> any any (http.user_agent; dataset:isset,ua,type string,load ua.csv; sid:1;)\n\
             alert http any any -> any any (http.user_agent; dataset:isset,bad,type string,load bad.csv; sid:2;)\n",
        )
        .expect("write");
        let mut c = SensorConfig::default();
        c.rules.bundled = false;
        c.rules.files.push(dir.join("ds.rules"));
        let checked = c.check().expect("loads");
        assert_eq!(checked.rules().len(), 1);
        let w = &checked.rule_warnings()[0];
        assert_eq!((w.warning.sid, w.warning.line), (Some(2), 2));
        assert!(
            w.warning.to_string().contains("bad.csv line 1"),
            "{}",
            w.warning
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn midstream_settings_parse() {
        let c = SensorConfig::from_toml_str(
            "[rules]\nmidstream = false\nmidstream_policy = \"pass-flow\"\n",
        )
        .expect("parses");
        assert!(!c.rules.midstream);
        assert_eq!(c.rules.midstream_policy, MidstreamPolicy::PassFlow);
        let err = SensorConfig::from_toml_str("[rules]\nmidstream_policy = \"drop\"\n")
            .expect_err("unknown policy");
        assert!(err.to_string().contains("drop"), "{err}");
    }

    #[test]
    fn errors_name_the_setting_or_file() {
        let err =
            SensorConfig::from_toml_str("[flow]\nidle_timeout = 3\n").expect_err("unknown key");
        assert!(err.to_string().contains("idle_timeout"), "{err}");

        let mut c = SensorConfig::default();
        c.flow.max_flows = 0;
        assert!(matches!(c.check(), Err(ConfigError::Flow(_))));

        let mut c = SensorConfig::default();
        c.rules.files.push("/nonexistent/x.rules".into());
        let err = c.check().expect_err("missing file");
        assert!(err.to_string().contains("/nonexistent/x.rules"), "{err}");

        let mut c = SensorConfig::default();
        c.rules
            .address_groups
            .insert("HOME_NET".into(), "[10.0.0.0/99]".into());
        let err = c.check().expect_err("bad cidr");
        assert!(
            err.to_string().contains("rules.address_groups.HOME_NET"),
            "{err}"
        );

        let mut c = SensorConfig::default();
        c.models.push("m.json".into());
        assert!(matches!(c.check(), Err(ConfigError::NoModelLoader(_))));

        let mut c = SensorConfig::default();
        c.behaviour.port_scan.vertical_ports = 0;
        assert!(
            matches!(c.check(), Err(ConfigError::Behaviour(_))),
            "{:?}",
            c.check()
        );
    }

    #[test]
    fn warnings_name_the_source_and_its_own_line() {
        let dir = std::env::temp_dir().join(format!("netsec-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("local.rules");
        std::fs::write(
            &file,
            "# comment\nalert tcp any any -> any any (msg:\"ok\"; sid:1;)\nalert tcp any any -> any any (msg:\"x\"; frobnicate; sid:2;)\n",
        )
        .expect("write");
        let mut c = SensorConfig::default();
        c.rules.files.push(file.clone());
        c.rules.inline.push("alert tcp any any (sid:3;)".into());
        let checked = c.check().expect("checks");
        let w = checked.rule_warnings();
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            (w[0].source.as_str(), w[0].warning.line),
            (file.to_str().expect("utf-8"), 3)
        );
        assert_eq!((w[1].source.as_str(), w[1].warning.line), ("<inline>", 1));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn variables_reach_the_rules() {
        let mut c = SensorConfig::default();
        c.rules.bundled = false;
        c.rules
            .inline
            .push("alert udp $MY_NET any -> any $MY_PORTS (msg:\"m\"; sid:7;)".into());
        assert_eq!(
            c.check().expect("checks").rules().len(),
            0,
            "undefined variables skip the rule"
        );
        c.rules
            .address_groups
            .insert("MY_NET".into(), "[10.0.0.0/8]".into());
        c.rules
            .port_groups
            .insert("MY_PORTS".into(), "[53,5353]".into());
        assert_eq!(c.check().expect("checks").rules().len(), 1);
    }
}
