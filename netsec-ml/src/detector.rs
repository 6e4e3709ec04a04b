//! The models as [`Detector`]s: each finished flow's 25 features and its context (counted by
//! the detector over the flows it has seen, [`crate::context`]) are scored at
//! [`Detector::on_flow_end`], and a score at or above the model file's alert threshold raises
//! one [`Alert`] (`ALERTS.md`).
//!
//! | detector | `attack_type` | `score` |
//! |---|---|---|
//! | `random_forest` ([`RandomForestDetector`]) | the attack class with the most votes (`DoS_Hulk`, …; names reduced to `[A-Za-z0-9_]`; `ML_Attack` when a name reduces to nothing), also when benign has the plurality but the attack votes together pass the threshold | fraction of trees voting for an attack class |
//! | `isolation_forest` ([`IsolationForestDetector`]) | `Anomaly` | anomaly score 2^(−E\[h\]/c(ψ)) |
//!
//! Every alert carries the flow's addresses, ports, protocol and id, the time of the flow's
//! last packet, severity from the file's [`Thresholds`], `tags: ["ml"]`, and `meta` with
//! `detector`, `model_name`, `model_version`, `confidence` (the score), `threshold` (the alert
//! threshold), `top_features` (up to [`TOP_FEATURES`] of `{feature, share, value}`, see the
//! models' `explain`) and model-specific fields (`predicted_class`, `class_votes`, `trees` for
//! the forest; `mean_path_length`, `subsample` for the isolation forest).
//!
//! A flow that does not fire costs one scoring pass over the trees and allocates nothing.
//! Inside an [`EpisodeAggregator`](netsec_core::detect::EpisodeAggregator) (as the sensor
//! runs every model) the detectors defer the costly part of an alert, the explanation and
//! the description ([`Detector::defer_alert_detail`]): a firing flow costs its vote and a
//! bare alert, and only the alert an episode reports is completed.

use std::path::Path;
use std::sync::Arc;

use netsec_core::config::{DetectorFactory, ModelLoader};

use netsec_core::detect::{Alert, Detector, DetectorStats};
use netsec_core::features::{FeatureVector, FEATURE_COUNT};
use netsec_core::flow::FlowRecord;
use serde_json::{json, Value};

use crate::context::FlowContext;
use crate::drift::DriftMonitor;
use crate::explain::FeatureContribution;
use crate::forest::{ForestVote, RandomForestModel};
use crate::iforest::{average_path_length, IsolationForestModel};
use crate::inputs::{without_context, InputRow};
use crate::model::{Model, ModelError, ModelFile, ModelKind, Thresholds};

/// The alert `meta` key holding the scored row's context features (see [`crate::inputs`]).
pub const CONTEXT_META: &str = "context_inputs";

/// Most features listed in an alert's `meta.top_features`.
pub const TOP_FEATURES: usize = 3;

/// The `attack_type` of model alerts whose class name reduces to nothing.
pub const ML_ATTACK: &str = "ML_Attack";

/// The `attack_type` of isolation-forest alerts.
pub const ANOMALY: &str = "Anomaly";

/// Name, version and thresholds from the model file, and the alert count.
#[derive(Debug)]
struct Common {
    kind: ModelKind,
    model_name: String,
    model_version: String,
    thresholds: Thresholds,
    alerts: u64,
    /// Flows scored.
    scored: u64,
    /// Scored flows against the training distribution, when the file has one.
    drift: Option<DriftMonitor>,
    /// Leave explanations and descriptions to [`Detector::complete_alert`] (asked by an
    /// episode aggregator, which keeps one alert of many).
    defer: bool,
    /// The context features of the flows scored so far.
    context: FlowContext,
}

impl Common {
    fn new(file: &ModelFile) -> Common {
        Common {
            kind: file.kind(),
            model_name: file.name.clone(),
            model_version: file.version.clone(),
            thresholds: file.thresholds,
            alerts: 0,
            scored: 0,
            drift: file
                .training
                .feature_bins
                .as_ref()
                .and_then(DriftMonitor::new),
            defer: false,
            context: FlowContext::new(),
        }
    }

    /// The model row of `flow` (its features and context), counted as scored (and placed in
    /// the training distribution).
    fn row(&mut self, flow: &FlowRecord, features: &FeatureVector) -> InputRow {
        let row = self.context.row(flow, features);
        self.scored += 1;
        if let Some(d) = &mut self.drift {
            d.observe(&row);
        }
        row
    }

    /// The trait's statistics: this model's name and version, its alerts and flows scored.
    fn stats(&self) -> DetectorStats {
        let mut d = DetectorStats::new(self.kind.as_str()).counter("flows_scored", self.scored);
        d.instance = Some(format!("{} {}", self.model_name, self.model_version));
        d.alerts = self.alerts;
        if let Some(drift) = &self.drift {
            let drifted = drift.drifted();
            d.counters.insert("drifted_features", drifted.len() as u64);
            if !drifted.is_empty() {
                let parts: Vec<String> = drifted
                    .iter()
                    .map(|(f, psi)| format!("{} {psi:.2}", f.name()))
                    .collect();
                d.notes.push(format!(
                    "drift: the {} flows scored by {} {} lie far from its training data in {} features (PSI > {:.2}): {}",
                    drift.flows(),
                    self.model_name,
                    self.model_version,
                    drifted.len(),
                    drift.psi_limit(),
                    parts.join(", ")
                ));
            }
        }
        d
    }

    /// An alert about `flow` without its detail: what episode aggregation needs (type,
    /// addresses, time, score, severity) and the model's name, version and threshold.
    /// The row's context features go in `meta.context_inputs`, so that
    /// [`Detector::complete_alert`] explains the row that was scored.
    fn alert(&mut self, flow: &FlowRecord, row: &InputRow, attack_type: &str, score: f64) -> Alert {
        self.alerts += 1;
        Alert::builder(
            self.kind.as_str(),
            flow.last_ts,
            attack_type,
            self.thresholds.severity(score),
        )
        .flow_record(flow)
        .score(score)
        .tag("ml")
        .meta("model_name", self.model_name.clone())
        .meta("model_version", self.model_version.clone())
        .meta("confidence", score)
        .meta("threshold", self.thresholds.alert)
        .meta(CONTEXT_META, &row[FEATURE_COUNT..])
        .build()
    }

    /// Adds an alert's detail: the description, `top_features` and the model's own fields.
    fn detail(
        alert: &mut Alert,
        description: String,
        top: &[FeatureContribution],
        extra: impl IntoIterator<Item = (&'static str, Value)>,
    ) {
        let top: Vec<Value> = top
            .iter()
            .map(|c| json!({"feature": c.feature.name(), "share": c.share, "value": c.value}))
            .collect();
        alert.meta.insert("top_features".into(), Value::Array(top));
        for (k, v) in extra {
            alert.meta.insert(k.into(), v);
        }
        alert.description = description;
    }
}

/// The row an alert was raised for: `features` and the context recorded in its meta (zeros
/// when absent).
fn alert_row(alert: &Alert, features: &FeatureVector) -> InputRow {
    let mut row = without_context(features.as_array());
    if let Some(Value::Array(ctx)) = alert.meta.get(CONTEXT_META) {
        for (slot, v) in row[FEATURE_COUNT..].iter_mut().zip(ctx) {
            *slot = v.as_f64().unwrap_or(0.0);
        }
    }
    row
}

/// `flow 10.0.0.1:1234 -> 10.0.0.2:80 TCP` (no ports for protocols without them), from the
/// flow fields of an alert.
fn flow_text(a: &Alert) -> String {
    let p = a.protocol.as_deref().unwrap_or("?");
    let addr = |ip: Option<std::net::IpAddr>| ip.map_or_else(|| "?".to_string(), |i| i.to_string());
    match (a.src_port, a.dst_port) {
        (Some(sp), Some(dp)) => format!(
            "flow {}:{sp} -> {}:{dp} {p}",
            addr(a.src_ip),
            addr(a.dst_ip)
        ),
        _ => format!("flow {} -> {} {p}", addr(a.src_ip), addr(a.dst_ip)),
    }
}

/// `; top features: flow_pkts_s 41 %, …` or nothing.
fn top_text(top: &[FeatureContribution]) -> String {
    if top.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = top
        .iter()
        .map(|c| format!("{} {:.0} %", c.feature.name(), c.share * 100.0))
        .collect();
    format!("; top features: {}", parts.join(", "))
}

/// A class name as an `attack_type`: runs of characters outside `[A-Za-z0-9]` become one
/// `_`, trimmed at both ends; [`ML_ATTACK`] when nothing is left.
pub fn attack_type_for(class_name: &str) -> String {
    let mut out = String::with_capacity(class_name.len());
    for c in class_name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        ML_ATTACK.into()
    } else {
        out
    }
}

/// The `attack_type` of each of the forest's classes: [`attack_type_for`] its name, class 0
/// (benign) [`ML_ATTACK`].
pub(crate) fn forest_attack_types(model: &RandomForestModel) -> Vec<String> {
    model
        .class_names()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                ML_ATTACK.into()
            } else {
                attack_type_for(c)
            }
        })
        .collect()
}

/// The random forest as a [`Detector`] (see the module docs).
#[derive(Debug)]
pub struct RandomForestDetector {
    model: RandomForestModel,
    /// `attack_type` per class; class 0 (benign) maps to [`ML_ATTACK`].
    attack_types: Vec<String>,
    common: Common,
}

impl RandomForestDetector {
    /// A detector for the random forest in `file`.
    ///
    /// # Errors
    /// [`ModelError::WrongKind`] when the file holds another model.
    pub fn new(file: &ModelFile) -> Result<Self, ModelError> {
        let Model::RandomForest(model) = &file.model else {
            return Err(ModelError::WrongKind {
                expected: ModelKind::RandomForest,
                found: file.kind(),
            });
        };
        Ok(Self::build(model, file))
    }

    fn build(model: &RandomForestModel, file: &ModelFile) -> Self {
        RandomForestDetector {
            model: model.clone(),
            attack_types: forest_attack_types(model),
            common: Common::new(file),
        }
    }

    /// The model.
    pub fn model(&self) -> &RandomForestModel {
        &self.model
    }

    /// Alerts raised so far.
    pub fn alerts(&self) -> u64 {
        self.common.alerts
    }
}

impl Detector for RandomForestDetector {
    fn name(&self) -> &str {
        ModelKind::RandomForest.as_str()
    }

    fn stats(&self) -> DetectorStats {
        self.common.stats()
    }

    fn on_flow_end(&mut self, flow: &FlowRecord, features: &FeatureVector, out: &mut Vec<Alert>) {
        let row = &self.common.row(flow, features);
        let vote = self.model.vote(row);
        if !self.common.thresholds.fires(vote.attack_score) {
            return;
        }
        let attack_type = self
            .attack_types
            .get(vote.attack_class)
            .map_or(ML_ATTACK, String::as_str);
        let mut alert = self.common.alert(flow, row, attack_type, vote.attack_score);
        if !self.common.defer {
            self.detail(&mut alert, row, &vote);
        }
        out.push(alert);
    }

    fn defer_alert_detail(&mut self) -> bool {
        self.common.defer = true;
        true
    }

    fn complete_alert(&self, alert: &mut Alert, features: &FeatureVector) {
        let row = &alert_row(alert, features);
        self.detail(alert, row, &self.model.vote(row));
    }
}

impl RandomForestDetector {
    /// Explains `vote` on `row` into `alert` (description, top features, votes).
    fn detail(&self, alert: &mut Alert, row: &InputRow, vote: &ForestVote) {
        let top = self
            .model
            .explain_class(row, vote.attack_class, TOP_FEATURES);
        let class_name = self
            .model
            .class_names()
            .get(vote.attack_class)
            .map_or("?", String::as_str);
        let trees = self.model.n_trees();
        let description = format!(
            "Random forest {} {}: {}/{trees} trees voted {class_name}, attack score {:.2} for {}{}.",
            self.common.model_name,
            self.common.model_version,
            vote.attack_class_votes,
            vote.attack_score,
            flow_text(alert),
            top_text(&top),
        );
        Common::detail(
            alert,
            description,
            &top,
            [
                ("predicted_class", Value::from(class_name)),
                ("class_votes", vote.attack_class_votes.into()),
                ("trees", trees.into()),
            ],
        );
    }
}

/// The isolation forest as a [`Detector`] (see the module docs).
#[derive(Debug)]
pub struct IsolationForestDetector {
    model: IsolationForestModel,
    common: Common,
}

impl IsolationForestDetector {
    /// A detector for the isolation forest in `file`.
    ///
    /// # Errors
    /// [`ModelError::WrongKind`] when the file holds another model.
    pub fn new(file: &ModelFile) -> Result<Self, ModelError> {
        let Model::IsolationForest(model) = &file.model else {
            return Err(ModelError::WrongKind {
                expected: ModelKind::IsolationForest,
                found: file.kind(),
            });
        };
        Ok(Self::build(model, file))
    }

    fn build(model: &IsolationForestModel, file: &ModelFile) -> Self {
        IsolationForestDetector {
            model: model.clone(),
            common: Common::new(file),
        }
    }

    /// The model.
    pub fn model(&self) -> &IsolationForestModel {
        &self.model
    }

    /// Alerts raised so far.
    pub fn alerts(&self) -> u64 {
        self.common.alerts
    }
}

impl Detector for IsolationForestDetector {
    fn name(&self) -> &str {
        ModelKind::IsolationForest.as_str()
    }

    fn stats(&self) -> DetectorStats {
        self.common.stats()
    }

    fn on_flow_end(&mut self, flow: &FlowRecord, features: &FeatureVector, out: &mut Vec<Alert>) {
        let row = &self.common.row(flow, features);
        let path = self.model.mean_path_length(row);
        let psi = self.model.subsample();
        let score = (-path / average_path_length(psi)).exp2();
        if !self.common.thresholds.fires(score) {
            return;
        }
        let mut alert = self.common.alert(flow, row, ANOMALY, score);
        if !self.common.defer {
            self.detail(&mut alert, row, path);
        }
        out.push(alert);
    }

    fn defer_alert_detail(&mut self) -> bool {
        self.common.defer = true;
        true
    }

    fn complete_alert(&self, alert: &mut Alert, features: &FeatureVector) {
        let row = &alert_row(alert, features);
        self.detail(alert, row, self.model.mean_path_length(row));
    }
}

impl IsolationForestDetector {
    /// Explains the score of `row` (mean path length `path`) into `alert`.
    fn detail(&self, alert: &mut Alert, row: &InputRow, path: f64) {
        let top = self.model.explain(row, TOP_FEATURES);
        let psi = self.model.subsample();
        let description = format!(
            "Isolation forest {} {}: anomaly score {:.2} (threshold {:.2}), isolated in {path:.1} splits on average against {:.1} for normal traffic, for {}{}.",
            self.common.model_name,
            self.common.model_version,
            alert.score,
            self.common.thresholds.alert,
            average_path_length(psi),
            flow_text(alert),
            top_text(&top),
        );
        Common::detail(
            alert,
            description,
            &top,
            [
                ("mean_path_length", Value::from(path)),
                ("subsample", psi.into()),
            ],
        );
    }
}

/// The detector for whichever model `file` holds.
pub fn detector_for(file: &ModelFile) -> Box<dyn Detector> {
    match &file.model {
        Model::RandomForest(m) => Box::new(RandomForestDetector::build(m, file)),
        Model::IsolationForest(m) => Box::new(IsolationForestDetector::build(m, file)),
    }
}

/// Loads a model file and builds its detector (what `netsec analyze --model FILE` does).
///
/// # Errors
/// The errors of [`ModelFile::load`].
pub fn load_detector(path: impl AsRef<Path>) -> Result<Box<dyn Detector>, ModelError> {
    Ok(detector_for(&ModelFile::load(path)?))
}

/// netsec-ml's [`ModelLoader`]: pass it to
/// [`SensorConfig::check_with`](netsec_core::config::SensorConfig::check_with) so the
/// config's `models` files become detectors.
///
/// ```no_run
/// use netsec_core::config::SensorConfig;
/// use netsec_ml::ModelFileLoader;
///
/// let mut config = SensorConfig::default();
/// config.models.push("models/rf-default.json".into());
/// let checked = config.check_with(Some(&ModelFileLoader))?;
/// let sensor = checked.build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct ModelFileLoader;

impl ModelLoader for ModelFileLoader {
    fn load(
        &self,
        path: &Path,
    ) -> Result<Arc<dyn DetectorFactory>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Arc::new(ModelFile::load(path)?))
    }
}

impl DetectorFactory for ModelFile {
    fn describe(&self) -> String {
        format!(
            "{} {} ({}, alert at score >= {})",
            self.name,
            self.version,
            self.kind().as_str(),
            self.thresholds.alert
        )
    }

    fn build(&self) -> Box<dyn Detector> {
        detector_for(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsec_core::detect::Severity;

    use crate::forest::tests::three_classes;
    use crate::{IsolationForestParams, RandomForestParams};
    use netsec_core::decode::IpProtocol;
    use netsec_core::flow::{EndReason, FlowStats};
    use netsec_core::time::Timestamp;

    fn flow(protocol: IpProtocol) -> FlowRecord {
        FlowRecord {
            id: 42,
            first_ts: Timestamp::from_micros(1_000_000),
            last_ts: Timestamp::from_micros(2_500_000),
            src_addr: "10.0.0.1".parse().expect("literal"),
            src_port: 40_000,
            dst_addr: "10.0.0.2".parse().expect("literal"),
            dst_port: 80,
            protocol,
            end_reason: EndReason::Fin,
            stats: FlowStats::default(),
            app_proto: netsec_core::app::AppProto::Unknown,
            app: None,
        }
    }

    /// Three classes of 600 rows and a 21-tree forest trained on them.
    fn small_forest() -> (crate::dataset::Dataset, ModelFile) {
        let data = three_classes(600, 3);
        let model = RandomForestParams {
            n_trees: 21,
            seed: 4,
            ..RandomForestParams::default()
        }
        .fit(&data)
        .expect("trains");
        (
            data,
            ModelFile::new("rf", "2.1", Model::RandomForest(model)),
        )
    }

    fn row_of(data: &crate::dataset::Dataset, i: usize) -> FeatureVector {
        FeatureVector::from_array(std::array::from_fn(|j| data.features[(i, j)]))
    }

    #[test]
    fn forest_detector_alerts_on_attack_rows_only() {
        let (data, file) = small_forest();
        let mut d = RandomForestDetector::new(&file).expect("a forest");
        assert_eq!(d.name(), "random_forest");
        let mut out = Vec::new();
        // Rows 0, 3, 6… are benign; 1, 4… DoS; 2, 5… PortScan (training rows: confident).
        d.on_flow_end(&flow(IpProtocol::TCP), &row_of(&data, 0), &mut out);
        assert!(out.is_empty());
        d.on_flow_end(&flow(IpProtocol::TCP), &row_of(&data, 1), &mut out);
        d.on_flow_end(&flow(IpProtocol::ICMP), &row_of(&data, 2), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(d.alerts(), 2);
        let a = &out[0];
        assert_eq!(a.attack_type, "DoS");
        assert_eq!(out[1].attack_type, "PortScan");
        assert_eq!(a.timestamp, Timestamp::from_micros(2_500_000));
        assert_eq!((a.src_port, a.dst_port), (Some(40_000), Some(80)));
        assert_eq!(
            (out[1].src_port, out[1].protocol.as_deref()),
            (None, Some("ICMP"))
        );
        assert_eq!(a.flow_id, Some(42));
        assert_eq!(a.detector(), Some("random_forest"));
        assert_eq!(a.meta["model_name"], "rf");
        assert_eq!(a.meta["model_version"], "2.1");
        assert_eq!(a.meta["predicted_class"], "DoS");
        assert_eq!(a.meta["confidence"], a.score);
        assert!(a.score >= 0.5);
        assert_eq!(a.severity, file.thresholds.severity(a.score));
        assert!(!a.meta["top_features"].as_array().expect("array").is_empty());
        // Deterministic: the same calls on a fresh detector give the same alerts.
        let mut again = Vec::new();
        let mut d2 = RandomForestDetector::new(&file).expect("a forest");
        d2.on_flow_end(&flow(IpProtocol::TCP), &row_of(&data, 0), &mut again);
        d2.on_flow_end(&flow(IpProtocol::TCP), &row_of(&data, 1), &mut again);
        assert_eq!(again[0], out[0]);
    }

    #[test]
    fn isolation_detector_uses_the_file_thresholds() {
        let data = three_classes(300, 5);
        let benign: Vec<usize> = (0..300).step_by(3).collect();
        let model = IsolationForestParams::default()
            .seed(1)
            .fit_rows(data.features.select(ndarray::Axis(0), &benign).view())
            .expect("trains");
        let far = FeatureVector::from_array([1e9; 25]);
        let score = model.score(&without_context(far.as_array()));
        let mut file = ModelFile::new("if", "1", Model::IsolationForest(model));
        let mut out = Vec::new();
        file.thresholds.alert = (score + 0.01).min(1.0);
        IsolationForestDetector::new(&file)
            .expect("an isolation forest")
            .on_flow_end(&flow(IpProtocol::UDP), &far, &mut out);
        assert!(out.is_empty(), "below the file's threshold");
        file.thresholds.alert = score;
        let mut d = IsolationForestDetector::new(&file).expect("an isolation forest");
        d.on_flow_end(&flow(IpProtocol::UDP), &far, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].attack_type, ANOMALY);
        assert_eq!(out[0].detector(), Some("isolation_forest"));
        assert!((out[0].score - score).abs() < 1e-12);
        assert!(RandomForestDetector::new(&file).is_err());
        assert_eq!(detector_for(&file).name(), "isolation_forest");
    }

    #[test]
    fn a_deferred_alert_is_completed_as_the_eager_one_is() {
        use netsec_core::detect::{EpisodeAggregator, EpisodeConfig};
        let (data, file) = small_forest();
        let f = flow(IpProtocol::TCP);
        let row = row_of(&data, 1);
        let mut eager = Vec::new();
        RandomForestDetector::new(&file)
            .expect("a forest")
            .on_flow_end(&f, &row, &mut eager);
        let eager = &eager[0];
        // Asked to defer, the detector raises the alert without its detail...
        let mut d = RandomForestDetector::new(&file).expect("a forest");
        assert!(d.defer_alert_detail());
        let mut light = Vec::new();
        d.on_flow_end(&f, &row, &mut light);
        assert!(light[0].description.is_empty());
        assert!(!light[0].meta.contains_key("top_features"));
        // ...and completing it gives the eager alert.
        d.complete_alert(&mut light[0], &row);
        assert_eq!(&light[0], eager);
        // Through the episode aggregator: the reported alert carries the detail.
        let mut agg = EpisodeAggregator::new(detector_for(&file), EpisodeConfig::default());
        let mut out = Vec::new();
        for _ in 0..3 {
            agg.on_flow_end(&f, &row, &mut out);
        }
        agg.on_finish(&mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].description.ends_with(&eager.description),
            "{}",
            out[0].description
        );
        assert_eq!(out[0].meta["top_features"], eager.meta["top_features"]);
        // The isolation forest defers the same way.
        let benign: Vec<usize> = (0..600).step_by(3).collect();
        let iso = IsolationForestParams::default()
            .seed(1)
            .fit_rows(data.features.select(ndarray::Axis(0), &benign).view())
            .expect("trains");
        let mut file = ModelFile::new("if", "1", Model::IsolationForest(iso));
        file.thresholds.alert = 0.01;
        let far = FeatureVector::from_array([1e9; 25]);
        let mut eager = Vec::new();
        IsolationForestDetector::new(&file)
            .expect("an isolation forest")
            .on_flow_end(&f, &far, &mut eager);
        let mut d = IsolationForestDetector::new(&file).expect("an isolation forest");
        assert!(d.defer_alert_detail());
        let mut light = Vec::new();
        d.on_flow_end(&f, &far, &mut light);
        assert!(light[0].description.is_empty());
        d.complete_alert(&mut light[0], &far);
        assert_eq!(light[0], eager[0]);
    }

    #[test]
    fn attack_types_from_class_names() {
        assert_eq!(attack_type_for("DoS Hulk"), "DoS_Hulk");
        assert_eq!(
            attack_type_for("Web Attack – Brute Force"),
            "Web_Attack_Brute_Force"
        );
        assert_eq!(attack_type_for("  PortScan "), "PortScan");
        assert_eq!(attack_type_for("–"), ML_ATTACK);
    }

    #[test]
    fn severity_follows_thresholds() {
        let t = Thresholds::default_for(ModelKind::RandomForest);
        assert!(!t.fires(0.49) && t.fires(0.5));
        assert_eq!(t.severity(0.5), Severity::Medium);
        assert_eq!(t.severity(0.7), Severity::High);
        assert_eq!(t.severity(0.95), Severity::Critical);
        assert_eq!(t.severity(0.1), Severity::Low);
    }
}
