//! What a packet source gives the capture thread: frames, idleness, its kernel counters,
//! and why it could not start.

use std::path::PathBuf;

use netsec_core::capture::RawPacket;

/// Why a source could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The capture file cannot be opened or is not a capture.
    #[error("cannot replay {path}: {reason}")]
    Replay {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The interface cannot be opened or the filter does not compile.
    #[error("cannot capture on {interface}: {reason}")]
    Live {
        /// The interface.
        interface: String,
        /// Why.
        reason: String,
    },
    /// This build has no live capture.
    #[error(
        "live capture is not in this build: rebuild netsec-server with `--features live` \
         (needs libpcap-dev), or replay a capture file"
    )]
    LiveUnavailable,
}

/// Kernel counters of a live source, as libpcap reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Packets received.
    pub packets: u64,
    /// Packets dropped (by the kernel buffer and by the interface).
    pub drops: u64,
}

/// What one read gave.
pub enum Read<'a> {
    /// A frame.
    Frame(RawPacket<'a>),
    /// Nothing within the poll interval (live capture).
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    Idle,
    /// The end of the capture file.
    End,
}
