//! Behavioural detectors for `analyze`: the bundled `config/default.toml` or `--config FILE`.

use std::path::Path;

use anyhow::Context;
use netsec_core::behaviour::{build_detectors, BehaviourConfig};
use netsec_core::config::BUNDLED_BEHAVIOUR;

use crate::Failure;

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
            BUNDLED_BEHAVIOUR.to_string(),
            "<bundled default.toml>".to_string(),
        ),
    };
    BehaviourConfig::from_toml_str(&text)
        .with_context(|| format!("invalid config {name}"))
        .map_err(Failure::BadInput)
}

/// One line for the summary: which behavioural detectors run.
pub fn describe(config: &BehaviourConfig) -> Result<String, Failure> {
    let names: Vec<String> = build_detectors(config)
        .context("invalid behaviour config")
        .map_err(Failure::BadInput)?
        .iter()
        .map(|d| d.name().to_string())
        .collect();
    Ok(if names.is_empty() {
        "all behavioural detectors disabled".to_string()
    } else {
        format!("{} detectors on ({})", names.len(), names.join(", "))
    })
}
