//! Behavioural detectors for `analyze`: the bundled `config/default.toml` or `--config FILE`.

use std::path::Path;

use anyhow::Context;
use netsec_core::behaviour::{build_detectors, BehaviourConfig};
use netsec_core::detect::Detector;

use crate::Failure;

/// The bundled behavioural configuration, compiled into the binary. A test keeps it equal to
/// `BehaviourConfig::default()`, key for key.
pub const DEFAULT_CONFIG: &str = include_str!("../../config/default.toml");

/// Reads and checks the configuration: `--config FILE`, or the bundled one.
pub fn load_config(path: Option<&Path>) -> Result<BehaviourConfig, Failure> {
    let (text, name) = match path {
        Some(p) => (
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read config {}", p.display()))
                .map_err(Failure::BadInput)?,
            p.display().to_string(),
        ),
        None => (
            DEFAULT_CONFIG.to_string(),
            "<bundled default.toml>".to_string(),
        ),
    };
    BehaviourConfig::from_toml_str(&text)
        .with_context(|| format!("invalid config {name}"))
        .map_err(Failure::BadInput)
}

/// The enabled detectors for `config`.
pub fn detectors(config: &BehaviourConfig) -> Result<Vec<Box<dyn Detector>>, Failure> {
    build_detectors(config)
        .context("invalid behaviour config")
        .map_err(Failure::BadInput)
}

/// One line for the summary: which behavioural detectors run.
pub fn describe(config: &BehaviourConfig) -> Result<String, Failure> {
    let names: Vec<String> = detectors(config)?
        .iter()
        .map(|d| d.name().to_string())
        .collect();
    Ok(if names.is_empty() {
        "all behavioural detectors disabled".to_string()
    } else {
        format!("{} detectors on ({})", names.len(), names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `config/default.toml` must hold exactly the library defaults, every key spelled out.
    #[test]
    fn bundled_config_matches_the_library_defaults_key_for_key() {
        let parsed = BehaviourConfig::from_toml_str(DEFAULT_CONFIG).expect("bundled config parses");
        assert_eq!(parsed, BehaviourConfig::default(), "values drifted");
        let file: toml::Table = toml::from_str(DEFAULT_CONFIG).expect("toml");
        let expected = toml::Table::try_from(BehaviourConfig::default()).expect("serializes");
        assert_eq!(
            file,
            expected,
            "config/default.toml must list every key; regenerate the values from:\n{}",
            toml::to_string(&BehaviourConfig::default()).expect("serializes")
        );
    }
}
