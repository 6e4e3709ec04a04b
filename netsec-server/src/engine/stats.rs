//! [`CaptureStats`]: live counters the capture and detection threads update and the API and
//! `/metrics` read, named as Suricata names them where it has a name.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// Where the capture is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureState {
    /// No source has run yet.
    Idle,
    /// A source is running.
    Running,
    /// Stop was asked; flows are being flushed.
    Stopping,
    /// The source ended (a replay reached its end, or it was stopped).
    Finished,
    /// The source failed; `error` says why.
    Failed,
}

impl CaptureState {
    fn code(self) -> u8 {
        self as u8
    }

    fn of(code: u8) -> CaptureState {
        match code {
            1 => CaptureState::Running,
            2 => CaptureState::Stopping,
            3 => CaptureState::Finished,
            4 => CaptureState::Failed,
            _ => CaptureState::Idle,
        }
    }
}

/// Counters of the current (or last) capture.
#[derive(Debug, Default)]
pub struct CaptureStats {
    state: AtomicU8,
    /// Packets the kernel (or the file) delivered (`capture.kernel_packets`).
    pub kernel_packets: AtomicU64,
    /// Packets the kernel dropped (`capture.kernel_drops`).
    pub kernel_drops: AtomicU64,
    /// Packets the sensor processed.
    pub packets: AtomicU64,
    /// Bytes of those packets (as captured).
    pub bytes: AtomicU64,
    /// Flows in the table now.
    pub flows_active: AtomicU64,
    /// Flows finished and exported.
    pub flows: AtomicU64,
    /// Alerts raised, by severity rank ([`Severity::rank`](netsec_core::detect::Severity::rank)).
    pub alerts: [AtomicU64; 4],
    /// Rule reloads applied.
    pub rule_reloads: AtomicU64,
    /// Wall-clock start of the current source (µs since the epoch).
    pub started_us: AtomicU64,
    /// The source, for `GET /api/v1/capture/status`.
    pub source: Mutex<Option<String>>,
    /// Why the source failed, when it did.
    pub error: Mutex<Option<String>>,
}

impl CaptureStats {
    /// The state.
    pub fn state(&self) -> CaptureState {
        CaptureState::of(self.state.load(Ordering::Acquire))
    }

    /// Sets the state.
    pub fn set_state(&self, s: CaptureState) {
        self.state.store(s.code(), Ordering::Release);
    }

    /// Counters back to zero for a new source.
    pub fn reset(&self, source: String, now_us: u64) {
        for c in [
            &self.kernel_packets,
            &self.kernel_drops,
            &self.packets,
            &self.bytes,
            &self.flows_active,
            &self.flows,
        ]
        .into_iter()
        .chain(self.alerts.iter())
        {
            c.store(0, Ordering::Relaxed);
        }
        self.started_us.store(now_us, Ordering::Relaxed);
        if let Ok(mut s) = self.source.lock() {
            *s = Some(source);
        }
        if let Ok(mut e) = self.error.lock() {
            *e = None;
        }
    }

    /// Records why the source failed.
    pub fn fail(&self, why: String) {
        if let Ok(mut e) = self.error.lock() {
            *e = Some(why);
        }
        self.set_state(CaptureState::Failed);
    }

    /// Alerts raised, all severities.
    pub fn alerts_total(&self) -> u64 {
        self.alerts.iter().map(|a| a.load(Ordering::Relaxed)).sum()
    }
}
