//! Model files: one versioned JSON format for both models.
//!
//! A file is one JSON object (written compactly, then a newline):
//!
//! | field | meaning |
//! |---|---|
//! | `format` | always `"netsec-ml-model"` |
//! | `format_version` | [`FORMAT_VERSION`]; other versions are refused |
//! | `kind` | `"random_forest"` or `"isolation_forest"` ([`ModelKind`]) |
//! | `name`, `version` | the model's name and version, copied into every alert |
//! | `schema_fingerprint` | [`schema_fingerprint`] as 16 hex digits; another schema is refused |
//! | `feature_names` | the [`Input`] names in column order: the 25 flow features, then the context features (must match ours) |
//! | `class_names` | class 0 is `BENIGN`; the isolation forest has `["BENIGN", "ANOMALY"]` |
//! | `thresholds` | [`Thresholds`]: when to alert and at which severity |
//! | `training` | [`TrainingMeta`]: seed, data digest, rows per split and class, date, source |
//! | `body` | the trees: `params` (hyperparameters), for the isolation forest `subsample` (ψ), and `trees`, each as parallel arrays `feature` (−1 at leaves), `value`, `child` and, for the random forest, `impurity` (see below) |
//!
//! In `trees`, node 0 is the root; a split sends a row to node `child` when
//! `row[feature] < value` and to `child + 1` otherwise (NaN goes right), and children always
//! come after their parent. Random-forest leaves hold the class index in `child`;
//! isolation-forest leaves hold their path length (depth + c(n)) in `value`. Numbers are
//! written by `serde_json` in their shortest exact form, so `f64` thresholds read back to the
//! same bits; the same model written twice gives the same bytes.
//!
//! Loading never panics and never trusts the file: wrong format, version, kind or schema,
//! truncated or malformed JSON, and trees whose indices, features or values are out of range
//! are all [`ModelError`]s.

use std::collections::BTreeMap;
use std::path::Path;

use netsec_core::detect::Severity;
use netsec_core::features::schema_fingerprint;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use crate::dataset::BENIGN;
use crate::forest::{RandomForestModel, RandomForestParams};
use crate::iforest::{IsolationForestModel, IsolationForestValidParams};
use crate::inputs::Input;
use crate::tree::TreeRepr;

/// The `format` field of every model file.
pub const FORMAT_NAME: &str = "netsec-ml-model";

/// The model file format this build reads and writes.
pub const FORMAT_VERSION: u32 = 2;

/// Class names of an isolation-forest file.
pub const ANOMALY_CLASSES: [&str; 2] = [BENIGN, "ANOMALY"];

/// Why a model file could not be read, written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Reading or writing the file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file ends early (cut off while copying or writing).
    #[error("model file is truncated: {0}")]
    Truncated(String),
    /// The file is not valid JSON or does not have the fields of a model file.
    #[error("model file is corrupt: {0}")]
    Corrupt(String),
    /// Valid JSON, but not a netsec model file.
    #[error("not a netsec model file (format {found:?}, expected {FORMAT_NAME:?})")]
    NotAModel {
        /// The `format` field found, if any.
        found: Option<String>,
    },
    /// A format version this build does not read.
    #[error("model file format version {found}, this build reads version {FORMAT_VERSION}")]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
    },
    /// A model kind this build does not know.
    #[error("unknown model kind {0:?}")]
    UnknownKind(String),
    /// The file holds another kind of model than the one asked for.
    #[error("model file holds a {found} model, expected a {expected} model")]
    WrongKind {
        /// Kind asked for.
        expected: ModelKind,
        /// Kind in the file.
        found: ModelKind,
    },
    /// The model was trained on another feature schema.
    #[error("model was trained on feature schema {found}, this build uses {expected}")]
    SchemaMismatch {
        /// Fingerprint in the file.
        found: String,
        /// Our fingerprint.
        expected: String,
    },
    /// The model's contents are out of range (hostile or damaged file, or a bad model given
    /// to [`ModelFile::to_bytes`]).
    #[error("invalid model: {0}")]
    Invalid(String),
}

/// A JSON error on `bytes`: [`ModelError::Truncated`] when the parser ran out of input or
/// failed at the very end of it (a number or literal cut short), else [`ModelError::Corrupt`].
fn json_error(e: serde_json::Error, bytes: &[u8]) -> ModelError {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    let last_len = bytes.iter().rev().take_while(|&&b| b != b'\n').count();
    if e.is_eof() || (e.line() == lines && e.column() >= last_len) {
        ModelError::Truncated(e.to_string())
    } else {
        ModelError::Corrupt(e.to_string())
    }
}

/// Which model a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// [`RandomForestModel`].
    RandomForest,
    /// [`IsolationForestModel`].
    IsolationForest,
}

impl ModelKind {
    /// The wire name (`random_forest`, `isolation_forest`), also the detector name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::RandomForest => "random_forest",
            ModelKind::IsolationForest => "isolation_forest",
        }
    }

    fn from_name(s: &str) -> Option<ModelKind> {
        match s {
            "random_forest" => Some(ModelKind::RandomForest),
            "isolation_forest" => Some(ModelKind::IsolationForest),
            _ => None,
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a model's score raises an alert, and how severe it is.
///
/// An alert fires when `score >= alert`; its severity is `CRITICAL` from `critical` up,
/// `HIGH` from `high`, `MEDIUM` from `medium`, else `LOW`. All values are in 0..=1 with
/// `medium <= high <= critical`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// Lowest score that raises an alert.
    pub alert: f64,
    /// Lowest score rated `MEDIUM`.
    pub medium: f64,
    /// Lowest score rated `HIGH`.
    pub high: f64,
    /// Lowest score rated `CRITICAL`.
    pub critical: f64,
}

impl Thresholds {
    /// Defaults: the random forest alerts on a majority of attack votes (0.5; HIGH from 0.7,
    /// CRITICAL from 0.9); the isolation forest from score 0.6 (HIGH from 0.7, CRITICAL from
    /// 0.8). Training tools should calibrate the isolation forest's on held-out benign rows.
    pub fn default_for(kind: ModelKind) -> Thresholds {
        match kind {
            ModelKind::RandomForest => Thresholds {
                alert: 0.5,
                medium: 0.5,
                high: 0.7,
                critical: 0.9,
            },
            ModelKind::IsolationForest => Thresholds {
                alert: 0.6,
                medium: 0.6,
                high: 0.7,
                critical: 0.8,
            },
        }
    }

    /// Whether `score` raises an alert.
    pub fn fires(&self, score: f64) -> bool {
        score >= self.alert
    }

    /// The severity of an alert with `score`.
    pub fn severity(&self, score: f64) -> Severity {
        if score >= self.critical {
            Severity::Critical
        } else if score >= self.high {
            Severity::High
        } else if score >= self.medium {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// Checks the ranges and order.
    ///
    /// # Errors
    /// [`ModelError::Invalid`] naming the offending threshold.
    pub fn check(&self) -> Result<(), ModelError> {
        for (name, v) in [
            ("alert", self.alert),
            ("medium", self.medium),
            ("high", self.high),
            ("critical", self.critical),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(ModelError::Invalid(format!(
                    "threshold {name} = {v} is not in 0..=1"
                )));
            }
        }
        if !(self.medium <= self.high && self.high <= self.critical) {
            return Err(ModelError::Invalid(
                "thresholds must satisfy medium <= high <= critical".into(),
            ));
        }
        Ok(())
    }
}

/// How a model was trained, as the training tool fills it in. Everything here is supplied by
/// the caller (no clock is read), so retraining with the same inputs writes the same bytes.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingMeta {
    /// The seed training used.
    pub seed: u64,
    /// Digest of the training data (e.g. `sha256:…` of the input files).
    pub data_digest: String,
    /// Where the data came from (file names, command line).
    pub source: String,
    /// Training date (e.g. `2026-11-21`), as the caller wants it recorded.
    pub date: String,
    /// Rows per split (`train`, `test`, …) and class name.
    pub rows: BTreeMap<String, BTreeMap<String, u64>>,
    /// How the alert threshold was chosen, when it was calibrated by capture
    /// ([`crate::grouped`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// Where the training flows' features lay, to see drift in scored traffic
    /// ([`crate::drift`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_bins: Option<crate::drift::FeatureBins>,
}

/// How a model's alert threshold was calibrated to an alert budget on held-out benign
/// captures (see [`crate::grouped`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Calibration {
    /// In words, for the reader of the file.
    pub method: String,
    /// Share of held-out benign captures allowed to raise any alert.
    pub alert_budget: f64,
    /// Folds of the grouped cross-validation (no capture in two folds).
    pub folds: usize,
    /// Most training rows of one attack class per capture.
    pub attack_rows_per_capture: usize,
    /// Held-out benign captures the threshold was chosen on.
    pub benign_captures: usize,
    /// Of which raise an alert at the threshold (out of fold, after episode aggregation).
    pub benign_captures_alerting: usize,
    /// The threshold chosen (also `thresholds.alert`).
    pub threshold: f64,
}

/// The model a file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// A random forest.
    RandomForest(RandomForestModel),
    /// An isolation forest.
    IsolationForest(IsolationForestModel),
}

impl Model {
    /// Which kind it is.
    pub fn kind(&self) -> ModelKind {
        match self {
            Model::RandomForest(_) => ModelKind::RandomForest,
            Model::IsolationForest(_) => ModelKind::IsolationForest,
        }
    }

    /// Class names: the forest's, or [`ANOMALY_CLASSES`].
    pub fn class_names(&self) -> Vec<String> {
        match self {
            Model::RandomForest(m) => m.class_names().to_vec(),
            Model::IsolationForest(_) => ANOMALY_CLASSES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// A model with everything needed to use and audit it (see the module docs for the format).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// Model name, copied into alerts as `meta.model_name`.
    pub name: String,
    /// Model version, copied into alerts as `meta.model_version`.
    pub version: String,
    /// Alert and severity thresholds.
    pub thresholds: Thresholds,
    /// Training metadata.
    pub training: TrainingMeta,
    /// The model.
    pub model: Model,
}

/// The outer object, generic over the body so the header can be read first.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr<B> {
    format: String,
    format_version: u32,
    kind: String,
    name: String,
    version: String,
    schema_fingerprint: String,
    feature_names: Vec<String>,
    class_names: Vec<String>,
    thresholds: Thresholds,
    training: TrainingMeta,
    body: B,
}

/// Just enough to decide whether and how to read the rest.
#[derive(Deserialize)]
struct Probe {
    format: Option<String>,
    format_version: Option<u32>,
    kind: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ForestBody {
    params: RandomForestParams,
    trees: Vec<TreeRepr>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IsolationBody {
    params: IsolationForestValidParams,
    subsample: usize,
    trees: Vec<TreeRepr>,
}

fn fingerprint_hex() -> String {
    format!("{:016x}", schema_fingerprint())
}

impl ModelFile {
    /// A file for `model` with the default thresholds of its kind and empty training metadata
    /// (fill in the public fields).
    pub fn new(name: impl Into<String>, version: impl Into<String>, model: Model) -> ModelFile {
        ModelFile {
            name: name.into(),
            version: version.into(),
            thresholds: Thresholds::default_for(model.kind()),
            training: TrainingMeta::default(),
            model,
        }
    }

    /// Which kind of model it holds.
    pub fn kind(&self) -> ModelKind {
        self.model.kind()
    }

    /// The file's bytes: compact JSON and a newline; identical for identical models.
    ///
    /// # Errors
    /// [`ModelError::Invalid`] when the thresholds are out of range.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.thresholds.check()?;
        let mut bytes = match &self.model {
            Model::RandomForest(m) => serde_json::to_vec(&self.repr(ForestBody {
                params: m.params().clone(),
                trees: m.tree_reprs(),
            })),
            Model::IsolationForest(m) => serde_json::to_vec(&self.repr(IsolationBody {
                params: m.params().clone(),
                subsample: m.subsample(),
                trees: m.tree_reprs(),
            })),
        }
        .map_err(|e| ModelError::Invalid(e.to_string()))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The outer object around `body`.
    fn repr<B>(&self, body: B) -> FileRepr<B> {
        FileRepr {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            kind: self.kind().as_str().into(),
            name: self.name.clone(),
            version: self.version.clone(),
            schema_fingerprint: fingerprint_hex(),
            feature_names: Input::all().map(|f| f.name().to_string()).collect(),
            class_names: self.model.class_names(),
            thresholds: self.thresholds,
            training: self.training.clone(),
            body,
        }
    }

    /// Reads a model file's bytes, checking everything (see the module docs).
    ///
    /// # Errors
    /// Every [`ModelError`] but `Io` and `WrongKind`.
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelFile, ModelError> {
        let probe: Probe = serde_json::from_slice(bytes).map_err(|e| json_error(e, bytes))?;
        if probe.format.as_deref() != Some(FORMAT_NAME) {
            return Err(ModelError::NotAModel {
                found: probe.format,
            });
        }
        match probe.format_version {
            Some(FORMAT_VERSION) => {}
            Some(found) => return Err(ModelError::UnsupportedVersion { found }),
            None => return Err(ModelError::Corrupt("no format_version".into())),
        }
        let kind_name = probe.kind.unwrap_or_default();
        let kind = ModelKind::from_name(&kind_name).ok_or(ModelError::UnknownKind(kind_name))?;
        let header: FileRepr<IgnoredAny> =
            serde_json::from_slice(bytes).map_err(|e| json_error(e, bytes))?;
        if header.schema_fingerprint != fingerprint_hex() {
            return Err(ModelError::SchemaMismatch {
                found: header.schema_fingerprint,
                expected: fingerprint_hex(),
            });
        }
        let ours = Input::all().map(|f| f.name());
        if !header.feature_names.iter().map(String::as_str).eq(ours) {
            return Err(ModelError::Invalid(
                "feature names differ from this build's".into(),
            ));
        }
        header.thresholds.check()?;
        if let Some(bins) = &header.training.feature_bins {
            bins.check().map_err(ModelError::Invalid)?;
        }
        if header.class_names.first().map(String::as_str) != Some(BENIGN) {
            return Err(ModelError::Invalid(format!("class 0 must be {BENIGN}")));
        }
        let model = match kind {
            ModelKind::RandomForest => {
                let file: FileRepr<ForestBody> =
                    serde_json::from_slice(bytes).map_err(|e| json_error(e, bytes))?;
                file.body
                    .params
                    .check()
                    .map_err(|e| ModelError::Invalid(e.to_string()))?;
                Model::RandomForest(
                    RandomForestModel::from_reprs(
                        &file.body.trees,
                        header.class_names.clone(),
                        file.body.params,
                    )
                    .map_err(ModelError::Invalid)?,
                )
            }
            ModelKind::IsolationForest => {
                if !header
                    .class_names
                    .iter()
                    .map(String::as_str)
                    .eq(ANOMALY_CLASSES)
                {
                    return Err(ModelError::Invalid(format!(
                        "isolation forest classes must be {ANOMALY_CLASSES:?}"
                    )));
                }
                let file: FileRepr<IsolationBody> =
                    serde_json::from_slice(bytes).map_err(|e| json_error(e, bytes))?;
                Model::IsolationForest(
                    IsolationForestModel::from_reprs(
                        &file.body.trees,
                        file.body.subsample,
                        file.body.params,
                    )
                    .map_err(ModelError::Invalid)?,
                )
            }
        };
        Ok(ModelFile {
            name: header.name,
            version: header.version,
            thresholds: header.thresholds,
            training: header.training,
            model,
        })
    }

    /// Writes the file at `path`.
    ///
    /// # Errors
    /// [`ModelError::Io`], or the errors of [`to_bytes`](Self::to_bytes).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), ModelError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()?).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads the file at `path`.
    ///
    /// # Errors
    /// [`ModelError::Io`], or the errors of [`from_bytes`](Self::from_bytes).
    pub fn load(path: impl AsRef<Path>) -> Result<ModelFile, ModelError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        ModelFile::from_bytes(&bytes)
    }

    /// Checks that the file holds a model of `kind`.
    ///
    /// # Errors
    /// [`ModelError::WrongKind`].
    pub fn expect_kind(&self, kind: ModelKind) -> Result<(), ModelError> {
        if self.kind() == kind {
            Ok(())
        } else {
            Err(ModelError::WrongKind {
                expected: kind,
                found: self.kind(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forest::tests::three_classes;
    use crate::iforest::IsolationForestParams;

    fn forest_file() -> ModelFile {
        let model = RandomForestParams {
            n_trees: 8,
            max_depth: Some(5),
            seed: 2,
            ..RandomForestParams::default()
        }
        .fit(&three_classes(300, 4))
        .expect("trains");
        let mut f = ModelFile::new("rf-test", "1.0.0", Model::RandomForest(model));
        f.training = TrainingMeta {
            seed: 2,
            data_digest: "sha256:00".into(),
            source: "three_classes".into(),
            date: "2026-11-21".into(),
            rows: BTreeMap::from([(
                "train".to_string(),
                BTreeMap::from([("BENIGN".to_string(), 100), ("DoS".to_string(), 100)]),
            )]),
            ..TrainingMeta::default()
        };
        f
    }

    fn iforest_file() -> ModelFile {
        let data = three_classes(300, 5);
        let model = IsolationForestParams::default()
            .n_trees(6)
            .seed(3)
            .fit_rows(data.features.view())
            .expect("trains");
        ModelFile::new("if-test", "1.0.0", Model::IsolationForest(model))
    }

    #[test]
    fn round_trips_both_kinds_bit_for_bit() {
        for file in [forest_file(), iforest_file()] {
            let bytes = file.to_bytes().expect("writes");
            assert_eq!(bytes.last(), Some(&b'\n'));
            let back = ModelFile::from_bytes(&bytes).expect("reads");
            // PartialEq on f64 thresholds: every split value read back exactly.
            assert_eq!(back, file);
            assert_eq!(back.to_bytes().expect("writes"), bytes);
        }
    }

    #[test]
    fn same_model_written_twice_gives_identical_bytes() {
        // The same model object, and a clone of it.
        let a = forest_file();
        assert_eq!(a.to_bytes().expect("writes"), a.to_bytes().expect("writes"));
        assert_eq!(
            a.to_bytes().expect("writes"),
            a.clone().to_bytes().expect("writes")
        );
        // The isolation forest retrained with the same seed: the same bytes.
        let (a, b) = (iforest_file(), iforest_file());
        assert_eq!(a.to_bytes().expect("writes"), b.to_bytes().expect("writes"));
    }

    #[test]
    fn save_and_load_through_a_file() {
        let dir = std::env::temp_dir().join(format!("netsec-ml-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("rf.json");
        let file = forest_file();
        file.save(&path).expect("saves");
        assert_eq!(ModelFile::load(&path).expect("loads"), file);
        assert!(matches!(
            ModelFile::load(dir.join("missing.json")),
            Err(ModelError::Io { .. })
        ));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    /// Edits the JSON object of a valid file.
    fn edited(file: &ModelFile, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value =
            serde_json::from_slice(&file.to_bytes().expect("writes")).expect("json");
        edit(&mut v);
        serde_json::to_vec(&v).expect("json")
    }

    #[test]
    fn typed_errors_for_bad_files() {
        let rf = forest_file();
        let err = |bytes: &[u8]| ModelFile::from_bytes(bytes).expect_err("must be refused");
        assert!(matches!(
            err(&edited(&rf, |v| v["format_version"] = 1.into())),
            ModelError::UnsupportedVersion { found: 1 }
        ));
        assert!(matches!(
            err(&edited(&rf, |v| v["format"] = "other".into())),
            ModelError::NotAModel { .. }
        ));
        assert!(matches!(err(b"[1, 2]"), ModelError::Corrupt(_)));
        assert!(matches!(
            err(b"{\"a\": 1}"),
            ModelError::NotAModel { found: None }
        ));
        assert!(matches!(
            err(&edited(&rf, |v| v["kind"] = "svm".into())),
            ModelError::UnknownKind(_)
        ));
        assert!(matches!(
            err(&edited(&rf, |v| v["schema_fingerprint"] = "0000000000000000".into())),
            ModelError::SchemaMismatch { .. }
        ));
        assert!(matches!(
            err(&edited(&rf, |v| v["feature_names"][0] = "duration".into())),
            ModelError::Invalid(_)
        ));
        assert!(matches!(
            err(&edited(&rf, |v| v["thresholds"]["alert"] = 1.5.into())),
            ModelError::Invalid(_)
        ));
        assert!(matches!(
            err(&edited(&rf, |v| v["class_names"][0] = "NORMAL".into())),
            ModelError::Invalid(_)
        ));
        // A forest body under the isolation-forest kind does not parse.
        assert!(matches!(
            err(&edited(&rf, |v| {
                v["kind"] = "isolation_forest".into();
                v["class_names"] = serde_json::json!(["BENIGN", "ANOMALY"]);
            })),
            ModelError::Corrupt(_)
        ));
        // Hostile trees: a child pointing outside the tree, a feature past 24, a NaN split, a
        // leaf class without a name.
        let hostile: [fn(&mut serde_json::Value); 4] = [
            |v| v["body"]["trees"][0]["child"][0] = 1_000_000.into(),
            |v| v["body"]["trees"][0]["feature"][0] = crate::inputs::INPUT_COUNT.into(),
            |v| v["body"]["trees"][0]["value"][0] = serde_json::Value::Null,
            |v| {
                let tree = &mut v["body"]["trees"][0];
                let leaf = tree["feature"]
                    .as_array()
                    .and_then(|f| f.iter().position(|x| x == -1))
                    .expect("a leaf");
                tree["child"][leaf] = 3.into();
            },
        ];
        for (i, edit) in hostile.into_iter().enumerate() {
            let e = err(&edited(&rf, edit));
            assert!(
                matches!(e, ModelError::Invalid(_) | ModelError::Corrupt(_)),
                "edit {i}: {e}"
            );
        }
        let iso = iforest_file();
        assert!(matches!(
            err(&edited(&iso, |v| v["body"]["subsample"] = 1.into())),
            ModelError::Invalid(_)
        ));
        assert!(matches!(
            err(&edited(&iso, |v| {
                let tree = &mut v["body"]["trees"][0];
                let leaf = tree["feature"]
                    .as_array()
                    .and_then(|f| f.iter().position(|x| x == -1))
                    .expect("a leaf");
                tree["value"][leaf] = (-1.0).into();
            })),
            ModelError::Invalid(_)
        ));
    }

    #[test]
    fn every_truncation_and_byte_flip_is_an_error_not_a_panic() {
        let bytes = iforest_file().to_bytes().expect("writes");
        let tail = bytes.len().saturating_sub(64);
        for len in (0..tail).step_by(11).chain(tail..bytes.len() - 1) {
            assert!(
                ModelFile::from_bytes(&bytes[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
        for len in [1, 10, bytes.len() / 3, bytes.len() / 2, bytes.len() - 2] {
            let cut = ModelFile::from_bytes(&bytes[..len]);
            assert!(
                matches!(cut, Err(ModelError::Truncated(_))),
                "{len}: {cut:?}"
            );
        }
        for i in (0..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            let _ = ModelFile::from_bytes(&b);
        }
    }

    #[test]
    fn wrong_kind_is_reported() {
        let file = iforest_file();
        assert!(file.expect_kind(ModelKind::IsolationForest).is_ok());
        assert!(matches!(
            file.expect_kind(ModelKind::RandomForest),
            Err(ModelError::WrongKind {
                expected: ModelKind::RandomForest,
                found: ModelKind::IsolationForest
            })
        ));
        assert!(matches!(
            crate::detector::RandomForestDetector::new(&file),
            Err(ModelError::WrongKind { .. })
        ));
    }
}
