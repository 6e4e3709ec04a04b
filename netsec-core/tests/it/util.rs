//! Shared helpers: locating the real-capture corpus and reading its manifest.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/data` relative to the repository root, if present.
pub fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    dir.is_dir().then(|| dir.canonicalize().unwrap_or(dir))
}

/// `data_dir()/pcaps`, or `None` after printing why the caller skips.
pub fn pcaps_dir_or_skip(test: &str) -> Option<PathBuf> {
    match data_dir() {
        Some(d) => Some(d.join("pcaps")),
        None => {
            eprintln!("SKIP {test}: ../shared/data not found next to the repository");
            None
        }
    }
}

/// Path of one corpus file, panicking with its name when it is missing.
pub fn pcap(rel: &str) -> Option<PathBuf> {
    let dir = pcaps_dir_or_skip(rel)?;
    let p = dir.join(rel);
    assert!(p.is_file(), "corpus file missing: {}", p.display());
    Some(p)
}

/// One row of `MANIFEST.tsv`.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    /// Path relative to the pcaps folder.
    pub path: String,
    /// File size.
    pub bytes: u64,
    /// Complete records in the file.
    pub packets: u64,
    /// DLT names, comma separated.
    pub linktype: String,
    /// Container/endianness/resolution.
    pub format: String,
    /// `benign:…`, `attack:…`, `malformed:…`, `format:…`.
    pub label: String,
}

/// All manifest rows, or `None` (skip) when the corpus is absent.
pub fn manifest() -> Option<Vec<ManifestRow>> {
    let dir = pcaps_dir_or_skip("manifest")?;
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    let mut rows = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 8 {
            continue;
        }
        rows.push(ManifestRow {
            path: f[0].to_string(),
            bytes: f[1].parse().expect("bytes column"),
            packets: f[2].parse().expect("packets column"),
            linktype: f[3].to_string(),
            format: f[4].to_string(),
            label: f[7].to_string(),
        });
    }
    Some(rows)
}
