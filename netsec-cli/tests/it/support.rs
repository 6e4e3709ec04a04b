//! What every CLI test needs: the repository root, a run of the built binary, scratch space.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the CLI runs there, so `../shared/data` resolves as in CI).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the built `netsec` with `args` from the repository root.
pub fn netsec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netsec"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run netsec")
}

/// A fresh scratch directory `<group>-<test>` for one test.
pub fn scratch(group: &str, test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{group}-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A temporary path as a command-line argument.
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}
