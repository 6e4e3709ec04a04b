//! Behavioural detectors for `analyze`: the bundled `config/default.toml` or `--config FILE`.
//!
//! Adapter over `netsec_core::behaviour` (being written in parallel); until it lands, no
//! behavioural detector runs and the summary says so.

use std::path::Path;

use netsec_core::detect::Detector;

use crate::Failure;

/// Builds the behavioural detectors from `--config FILE` (or the bundled defaults); returns
/// them with a one-line description for the summary.
pub fn detectors(config: Option<&Path>) -> Result<(Vec<Box<dyn Detector>>, String), Failure> {
    if let Some(path) = config {
        std::fs::read_to_string(path).map_err(|e| {
            Failure::BadInput(anyhow::anyhow!(
                "cannot read config {}: {e}",
                path.display()
            ))
        })?;
    }
    Ok((Vec::new(), "not available in this build".to_string()))
}
