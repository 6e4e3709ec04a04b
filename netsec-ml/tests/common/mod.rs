//! Paths to the shared real data, with a printed reason when it is absent.

use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared/data/<rel>` if present, else `None` after printing why the test skips.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = repo().join("../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIP: {} not found (../shared/data absent)", p.display());
        None
    }
}

/// The CIC-IDS2017 sample directory.
#[allow(dead_code)]
pub fn cic_sample() -> Option<PathBuf> {
    shared("flows/cicids2017_improved_rnd2500")
}
