//! The shape every loader produces and every model consumes.
//!
//! A [`Dataset`] is a matrix of rows × [`INPUT_COUNT`] columns (in [`Input`] order) plus one class index
//! per row. Class 0 is always [`BENIGN`]; attack classes follow in the order the loader first
//! met them. Loaders build one with a [`DatasetBuilder`], which maps class names to indices and
//! normalises the benign spelling (`BENIGN`, `Benign`, `benign` → [`BENIGN`]).
//!
//! [`Dataset::digest`] is a stable SHA-256 over the class names, the row values (IEEE-754 bits,
//! little-endian) and the labels: two datasets with the same digest hold the same rows in the
//! same order, so a model's training metadata can name the exact data it saw.

use std::fmt;
use std::path::PathBuf;

use ndarray::{Array2, ArrayView1, Axis};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::inputs::{Input, InputRow, INPUT_COUNT};

/// Name of the class every benign row carries; always class index 0.
pub const BENIGN: &str = "BENIGN";

/// Labelled rows of the 25 flow features.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// One row per flow, one column per [`Input`]: the 25 flow features in spec order, then
    /// the context features.
    pub features: Array2<f64>,
    /// Class index of each row, into `class_names`.
    pub labels: Vec<usize>,
    /// Class names; index 0 is always [`BENIGN`].
    pub class_names: Vec<String>,
}

/// Where a data error happened: a file and, when known, a line (CSV, TOML) or byte offset
/// (captures).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when the error is tied to one.
    pub line: Option<u64>,
    /// Byte offset, when the error is tied to one and no line is known.
    pub offset: Option<u64>,
}

impl Location {
    /// A whole-file location.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Location {
            path: path.into(),
            line: None,
            offset: None,
        }
    }

    /// A location at a 1-based line of a file.
    pub fn line(path: impl Into<PathBuf>, line: u64) -> Self {
        Location {
            line: Some(line),
            ..Location::file(path)
        }
    }

    /// A location at a byte offset of a file.
    pub fn offset(path: impl Into<PathBuf>, offset: u64) -> Self {
        Location {
            offset: Some(offset),
            ..Location::file(path)
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        } else if let Some(offset) = self.offset {
            write!(f, " at byte offset {offset}")?;
        }
        Ok(())
    }
}

/// Why training or evaluation data could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file could not be opened or read. (The cause is part of the message, not a separate
    /// `source`, so `{:#}` chains do not print it twice.)
    #[error("{at}: {cause}")]
    Io {
        /// The file.
        at: Location,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// A file's content is malformed (bad CSV row, bad label rule, missing column …).
    #[error("{at}: {reason}")]
    Invalid {
        /// The file and line.
        at: Location,
        /// What was wrong.
        reason: String,
    },
    /// A capture could not be read (the reader's message names the byte offset).
    #[error("{at}: {cause}")]
    Capture {
        /// The capture file.
        at: Location,
        /// The reader's error.
        cause: netsec_core::capture::CaptureError,
    },
    /// Rows, labels and class names do not fit together.
    #[error("inconsistent dataset: {0}")]
    Shape(String),
    /// The data holds a class the model does not know.
    #[error("class {0:?} is not one of the model's classes")]
    UnknownClass(String),
    /// A split or fold parameter is out of range.
    #[error("invalid split: {0}")]
    Split(String),
}

/// The index of class `name` (trimmed; any spelling of benign is class 0) in `names`,
/// appending it when new: how every loader numbers its classes.
pub fn intern_class(names: &mut Vec<String>, name: &str) -> usize {
    let name = name.trim();
    if is_benign_name(name) {
        return 0;
    }
    match names.iter().position(|c| c == name) {
        Some(i) => i,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    }
}

/// Whether `name` is a spelling of the benign class (case-insensitive, surrounding blanks
/// ignored).
pub fn is_benign_name(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case(BENIGN)
}

impl Dataset {
    /// A dataset from its parts, checked: [`INPUT_COUNT`] columns, one label per row, every label a valid
    /// class index, at least one class and class 0 named [`BENIGN`], class names unique.
    ///
    /// # Errors
    /// [`DataError::Shape`] when any of these fails.
    pub fn new(
        features: Array2<f64>,
        labels: Vec<usize>,
        class_names: Vec<String>,
    ) -> Result<Self, DataError> {
        if features.ncols() != INPUT_COUNT {
            return Err(DataError::Shape(format!(
                "{} feature columns, expected {INPUT_COUNT}",
                features.ncols()
            )));
        }
        if features.nrows() != labels.len() {
            return Err(DataError::Shape(format!(
                "{} rows but {} labels",
                features.nrows(),
                labels.len()
            )));
        }
        if class_names.first().map(String::as_str) != Some(BENIGN) {
            return Err(DataError::Shape(format!("class 0 must be {BENIGN}")));
        }
        for (i, name) in class_names.iter().enumerate() {
            if class_names[..i].contains(name) {
                return Err(DataError::Shape(format!("class {name:?} listed twice")));
            }
        }
        if let Some(bad) = labels.iter().find(|&&l| l >= class_names.len()) {
            return Err(DataError::Shape(format!(
                "label {bad} but only {} classes",
                class_names.len()
            )));
        }
        Ok(Dataset {
            features,
            labels,
            class_names,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// One row's features.
    pub fn row(&self, i: usize) -> Option<ArrayView1<'_, f64>> {
        (i < self.len()).then(|| self.features.row(i))
    }

    /// Rows per class, indexed like `class_names`.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.class_names.len()];
        for &l in &self.labels {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        counts
    }

    /// `(class name, rows)` for every class, in class order (zero counts included).
    pub fn class_summary(&self) -> Vec<ClassCount> {
        self.class_names
            .iter()
            .zip(self.class_counts())
            .map(|(name, rows)| ClassCount {
                class: name.clone(),
                rows,
            })
            .collect()
    }

    /// Whether each row is an attack (any class but [`BENIGN`]).
    pub fn is_attack(&self) -> Vec<bool> {
        self.labels.iter().map(|&l| l != 0).collect()
    }

    /// The rows at `indices` (in that order), with the same class names.
    ///
    /// # Errors
    /// [`DataError::Shape`] when an index is out of range.
    pub fn select(&self, indices: &[usize]) -> Result<Dataset, DataError> {
        if let Some(bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::Shape(format!(
                "row {bad} selected from {} rows",
                self.len()
            )));
        }
        Ok(Dataset {
            features: self.features.select(Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            class_names: self.class_names.clone(),
        })
    }

    /// Only the benign rows (what the isolation forest trains on).
    pub fn benign_rows(&self) -> Dataset {
        let idx: Vec<usize> = (0..self.len()).filter(|&i| self.labels[i] == 0).collect();
        Dataset {
            features: self.features.select(Axis(0), &idx),
            labels: vec![0; idx.len()],
            class_names: self.class_names.clone(),
        }
    }

    /// The same rows with labels re-indexed into `class_names` (e.g. a model's classes), matched
    /// by name. `class_names` must start with [`BENIGN`].
    ///
    /// # Errors
    /// [`DataError::UnknownClass`] when a class that has rows here is not in `class_names`;
    /// [`DataError::Shape`] when `class_names` is not a valid class list.
    pub fn with_classes(&self, class_names: &[String]) -> Result<Dataset, DataError> {
        let counts = self.class_counts();
        let mut map = Vec::with_capacity(self.class_names.len());
        for (name, &n) in self.class_names.iter().zip(&counts) {
            match class_names.iter().position(|c| c == name) {
                Some(i) => map.push(i),
                None if n == 0 => map.push(0),
                None => return Err(DataError::UnknownClass(name.clone())),
            }
        }
        Dataset::new(
            self.features.clone(),
            self.labels.iter().map(|&l| map[l]).collect(),
            class_names.to_vec(),
        )
    }

    /// Appends `other`'s rows, mapping its classes onto ours by name (new classes are added at
    /// the end).
    pub fn append(&mut self, other: &Dataset) {
        let mut builder =
            DatasetBuilder::from_dataset(std::mem::replace(self, DatasetBuilder::new().finish()));
        for (row, &label) in other.features.outer_iter().zip(&other.labels) {
            let class = builder.class_index(&other.class_names[label]);
            builder.push_row(row.iter().copied(), class);
        }
        *self = builder.finish();
    }

    /// Stable SHA-256 of the class names, row count, row values and labels, as 64 hex digits.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"netsec-ml dataset v1\n");
        for name in &self.class_names {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
        }
        h.update((self.len() as u64).to_le_bytes());
        h.update((self.features.ncols() as u64).to_le_bytes());
        for (row, &label) in self.features.outer_iter().zip(&self.labels) {
            for v in row {
                h.update(v.to_bits().to_le_bytes());
            }
            h.update((label as u64).to_le_bytes());
        }
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    }

    /// Feature names in column order (what model files record).
    pub fn feature_names() -> Vec<String> {
        Input::all().map(|f| f.name().to_string()).collect()
    }
}

/// Rows of one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassCount {
    /// Class name.
    pub class: String,
    /// Number of rows.
    pub rows: usize,
}

/// Collects rows and class names into a [`Dataset`]; class 0 is always [`BENIGN`].
#[derive(Debug, Clone)]
pub struct DatasetBuilder {
    values: Vec<f64>,
    labels: Vec<usize>,
    class_names: Vec<String>,
}

impl Default for DatasetBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl DatasetBuilder {
    /// An empty builder knowing only the [`BENIGN`] class.
    pub fn new() -> Self {
        DatasetBuilder {
            values: Vec::new(),
            labels: Vec::new(),
            class_names: vec![BENIGN.to_string()],
        }
    }

    fn from_dataset(d: Dataset) -> Self {
        DatasetBuilder {
            values: d.features.into_iter().collect(),
            labels: d.labels,
            class_names: d.class_names,
        }
    }

    /// The index of class `name` (trimmed; any spelling of benign is class 0), adding it when
    /// new.
    pub fn class_index(&mut self, name: &str) -> usize {
        intern_class(&mut self.class_names, name)
    }

    /// Appends one row (exactly [`INPUT_COUNT`] values, in [`Input`] order) of class
    /// `class` (an index from [`class_index`](Self::class_index)).
    ///
    /// Values beyond the 25th are ignored and missing ones are 0, so the matrix is always
    /// rectangular; loaders always pass 25.
    pub fn push_row(&mut self, values: impl IntoIterator<Item = f64>, class: usize) {
        let start = self.values.len();
        self.values.extend(values.into_iter().take(INPUT_COUNT));
        self.values.resize(start + INPUT_COUNT, 0.0);
        self.labels.push(class);
    }

    /// Appends one row labelled by class name.
    pub fn push(&mut self, values: &InputRow, class: &str) {
        let c = self.class_index(class);
        self.push_row(values.iter().copied(), c);
    }

    /// Rows so far.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Drops the rows after the first `rows` (class names are kept).
    pub fn truncate(&mut self, rows: usize) {
        self.labels.truncate(rows);
        self.values.truncate(rows.saturating_mul(INPUT_COUNT));
    }

    /// Whether no row was pushed.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The dataset.
    pub fn finish(self) -> Dataset {
        let rows = self.labels.len();
        let features = Array2::from_shape_vec((rows, INPUT_COUNT), self.values)
            .unwrap_or_else(|_| Array2::zeros((0, INPUT_COUNT)));
        Dataset {
            features,
            labels: self.labels,
            class_names: self.class_names,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: f64) -> InputRow {
        [v; INPUT_COUNT]
    }

    fn sample() -> Dataset {
        let mut b = DatasetBuilder::new();
        b.push(&row(1.0), "DoS");
        b.push(&row(2.0), "benign");
        b.push(&row(3.0), "Portscan");
        b.push(&row(4.0), " DoS ");
        b.finish()
    }

    #[test]
    fn builder_maps_classes_benign_first() {
        let d = sample();
        assert_eq!(d.class_names, vec!["BENIGN", "DoS", "Portscan"]);
        assert_eq!(d.labels, vec![1, 0, 2, 1]);
        assert_eq!(d.class_counts(), vec![1, 2, 1]);
        assert_eq!(d.features.shape(), &[4, INPUT_COUNT]);
        assert_eq!(d.features[[2, 24]], 3.0);
        assert_eq!(d.is_attack(), vec![true, false, true, true]);
    }

    #[test]
    fn new_rejects_inconsistent_parts() {
        let ok = sample();
        assert!(Dataset::new(ok.features.clone(), vec![0; 3], ok.class_names.clone()).is_err());
        assert!(Dataset::new(
            ok.features.clone(),
            vec![0, 0, 0, 9],
            ok.class_names.clone()
        )
        .is_err());
        assert!(Dataset::new(ok.features.clone(), ok.labels.clone(), vec!["DoS".into()]).is_err());
        assert!(Dataset::new(
            Array2::zeros((4, 3)),
            ok.labels.clone(),
            ok.class_names.clone()
        )
        .is_err());
        let dup = vec!["BENIGN".into(), "DoS".into(), "DoS".into()];
        assert!(Dataset::new(ok.features.clone(), ok.labels.clone(), dup).is_err());
        assert_eq!(
            Dataset::new(
                ok.features.clone(),
                ok.labels.clone(),
                ok.class_names.clone()
            )
            .ok(),
            Some(ok)
        );
    }

    #[test]
    fn digest_is_stable_and_sensitive() {
        let d = sample();
        let digest = d.digest();
        assert_eq!(digest.len(), 64);
        assert_eq!(digest, sample().digest());
        let mut changed = sample();
        changed.features[[0, 0]] = 1.5;
        assert_ne!(changed.digest(), digest);
        let mut relabelled = sample();
        relabelled.labels[0] = 2;
        assert_ne!(relabelled.digest(), digest);
        // Row order matters.
        let swapped = d.select(&[1, 0, 2, 3]).ok();
        assert_ne!(swapped.map(|s| s.digest()), Some(digest));
    }

    #[test]
    fn select_benign_and_reclass() {
        let d = sample();
        let s = d.select(&[3, 1]).ok();
        assert_eq!(s.as_ref().map(|s| s.labels.clone()), Some(vec![1, 0]));
        assert!(d.select(&[4]).is_err());
        let b = d.benign_rows();
        assert_eq!(b.len(), 1);
        assert_eq!(b.features[[0, 0]], 2.0);

        let model: Vec<String> = ["BENIGN", "Portscan", "DoS", "Other"]
            .map(String::from)
            .to_vec();
        let r = d.with_classes(&model).ok();
        assert_eq!(r.map(|r| r.labels), Some(vec![2, 0, 1, 2]));
        let small: Vec<String> = ["BENIGN", "DoS"].map(String::from).to_vec();
        assert!(matches!(
            d.with_classes(&small),
            Err(DataError::UnknownClass(c)) if c == "Portscan"
        ));
    }

    #[test]
    fn append_merges_classes_by_name() {
        let mut a = sample();
        let mut b = DatasetBuilder::new();
        b.push(&row(9.0), "Portscan");
        b.push(&row(8.0), "Botnet");
        a.append(&b.finish());
        assert_eq!(a.class_names, vec!["BENIGN", "DoS", "Portscan", "Botnet"]);
        assert_eq!(a.labels, vec![1, 0, 2, 1, 2, 3]);
        assert_eq!(a.features[[5, 3]], 8.0);
    }

    #[test]
    fn location_display() {
        assert_eq!(Location::line("a.csv", 3).to_string(), "a.csv:3");
        assert_eq!(
            Location::offset("x.pcap", 24).to_string(),
            "x.pcap at byte offset 24"
        );
    }
}
