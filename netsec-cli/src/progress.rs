//! Progress bar on stderr, shown only when stderr is a terminal and the input size is known.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-position progress bar, or nothing.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar over `total` input bytes when stderr is a terminal; otherwise a no-op.
    pub fn new(total: Option<u64>) -> Self {
        let Some(total) = total.filter(|_| std::io::stderr().is_terminal()) else {
            return Progress(None);
        };
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8));
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress(Some(bar))
    }

    /// Moves the bar to `pos` bytes.
    pub fn set(&self, pos: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(pos);
        }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Progress {
    /// A bar over the summed sizes of several inputs, when every size is known.
    pub fn over(sizes: impl IntoIterator<Item = Option<u64>>) -> Self {
        let total: Option<u64> = sizes.into_iter().sum();
        Progress::new(total)
    }

    /// Advances the bar by `delta` bytes (shared by worker threads).
    pub fn inc(&self, delta: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(delta);
        }
    }
}

/// A spinner with the current stage on stderr, when stderr is a terminal.
pub struct Stages(Option<ProgressBar>);

impl Stages {
    /// A spinner, or nothing when stderr is not a terminal.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Stages(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(125));
        Stages(Some(bar))
    }

    /// Shows `stage`.
    pub fn set(&self, stage: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(stage.to_string());
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
