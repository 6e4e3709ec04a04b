//! Packet sources: a capture file replayed at recorded speed or as fast as possible, and live
//! capture from an interface through libpcap (the `live` feature).

use std::path::PathBuf;

use netsec_core::capture::{PacketSource, PcapReader};
use serde::{Deserialize, Serialize};

use super::read::{KernelStats, Read, SourceError};
use crate::config::Speed;

/// What to capture from (`POST /api/v1/capture/start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum SourceSpec {
    /// Live capture from an interface, with an optional BPF filter.
    Live {
        /// The interface (`eth0`).
        interface: String,
        /// A BPF filter (`"tcp port 80"`).
        #[serde(default)]
        bpf: Option<String>,
    },
    /// Replay of a capture file (pcap or pcapng).
    Replay {
        /// The file, on the server.
        #[schema(value_type = String)]
        pcap: PathBuf,
        /// `max` (default) or `realtime`.
        #[serde(default)]
        #[schema(value_type = String, example = "max")]
        speed: Speed,
    },
}

impl std::fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceSpec::Live { interface, bpf } => match bpf {
                Some(b) => write!(f, "interface {interface} (filter {b:?})"),
                None => write!(f, "interface {interface}"),
            },
            SourceSpec::Replay { pcap, speed } => {
                let speed = match speed {
                    Speed::Max => "max",
                    Speed::Realtime => "realtime",
                };
                write!(f, "replay {} ({speed})", pcap.display())
            }
        }
    }
}

/// A started source, read on the capture thread.
pub enum Opened {
    /// A capture file.
    Replay(PcapReader<std::fs::File>, Speed),
    /// A live interface.
    #[cfg(feature = "live")]
    Live(super::live::LiveSource),
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Opened::Replay(_, s) => write!(f, "Replay({s:?})"),
            #[cfg(feature = "live")]
            Opened::Live(_) => f.write_str("Live"),
        }
    }
}

impl Opened {
    /// Opens `spec`, reporting problems before any thread starts.
    ///
    /// # Errors
    /// [`SourceError`] naming the file or interface.
    pub fn open(spec: &SourceSpec) -> Result<Opened, SourceError> {
        match spec {
            SourceSpec::Replay { pcap, speed } => PcapReader::open(pcap)
                .map(|r| Opened::Replay(r, *speed))
                .map_err(|e| SourceError::Replay {
                    path: pcap.clone(),
                    reason: e.to_string(),
                }),
            #[cfg(feature = "live")]
            SourceSpec::Live { interface, bpf } => {
                super::live::LiveSource::open(interface, bpf.as_deref()).map(Opened::Live)
            }
            #[cfg(not(feature = "live"))]
            SourceSpec::Live { .. } => Err(SourceError::LiveUnavailable),
        }
    }

    /// The next frame.
    ///
    /// # Errors
    /// A corrupt or truncated file, or a failing interface, as text.
    pub fn next(&mut self) -> Result<Read<'_>, String> {
        match self {
            Opened::Replay(r, _) => match r.next_packet() {
                Ok(Some(p)) => Ok(Read::Frame(p)),
                Ok(None) => Ok(Read::End),
                Err(e) => Err(e.to_string()),
            },
            #[cfg(feature = "live")]
            Opened::Live(l) => l.next(),
        }
    }

    /// The replay speed (`None` for live capture).
    pub fn speed(&self) -> Option<Speed> {
        match self {
            Opened::Replay(_, s) => Some(*s),
            #[cfg(feature = "live")]
            Opened::Live(_) => None,
        }
    }

    /// The kernel's counters (`None` for a file).
    pub fn kernel_stats(&mut self) -> Option<KernelStats> {
        match self {
            Opened::Replay(..) => None,
            #[cfg(feature = "live")]
            Opened::Live(l) => l.stats(),
        }
    }
}
