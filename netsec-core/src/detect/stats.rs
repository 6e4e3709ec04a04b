//! [`DetectorStats`]: what every detector reports about itself through the trait, so a summary
//! or a `/metrics` endpoint reads rules, behavioural tables and models alike without
//! downcasting.

use std::collections::BTreeMap;

use serde::Serialize;

/// One detector's counters. Fields a detector has no notion of stay zero or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DetectorStats {
    /// The detector's name ([`Detector::name`](super::Detector::name)).
    pub detector: String,
    /// Which instance, when one kind can run several (a model's `name version`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Alerts raised (before the sensor's alert filter).
    pub alerts: u64,
    /// Findings the detector's own logic did not raise again: threshold crossings inside an
    /// episode that had already alerted, rule matches held back by `threshold`,
    /// `detection_filter` or a `pass` rule.
    pub suppressed: u64,
    /// Entries now held in the detector's state tables.
    pub tracked: u64,
    /// Entries evicted, or not tracked, because a table was full.
    pub evicted: u64,
    /// Bytes the detector's state tables hold now (approximate: their allocations).
    pub memory_bytes: u64,
    /// The most bytes its state tables can hold, every table at its cap: what the sensor's
    /// memory budget reserves for it.
    pub memory_bound_bytes: u64,
    /// Detector-specific counters (`rules_loaded`, `matches`, `flows_scored`, …).
    pub counters: BTreeMap<&'static str, u64>,
    /// Rule sets: rules skipped at load, by unsupported keyword (`malformed` and `invalid`
    /// included).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped_by_keyword: BTreeMap<String, u64>,
    /// Warnings for the operator in words, e.g. a model scoring traffic unlike its training
    /// data (`drift: …`, naming the features).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl DetectorStats {
    /// Empty counters of the detector named `detector`.
    pub fn new(detector: &str) -> DetectorStats {
        DetectorStats {
            detector: detector.to_string(),
            ..DetectorStats::default()
        }
    }

    /// Sets one detector-specific counter.
    pub fn counter(mut self, name: &'static str, value: u64) -> DetectorStats {
        self.counters.insert(name, value);
        self
    }
}
