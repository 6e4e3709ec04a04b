//! Capture: where frames come from.
//!
//! A [`PacketSource`] lends one frame at a time as a [`RawPacket`] whose bytes borrow the
//! source's internal buffer; the borrow ends at the next call, so reading allocates nothing per
//! packet. [`PcapReader`] reads classic pcap and pcapng from any [`std::io::Read`] in constant
//! memory; [`PcapWriter`] writes small classic pcap files (tests, benches, tools).
//!
//! Guarantees of the reader (details in [`PcapReader`]): no panic on any input, constant memory
//! whatever the file size, no allocation per packet, errors that carry the input byte offset, and
//! every packet yielded before an error stays valid. [`drain`] and [`drain_bytes`] read a whole
//! source and summarise it (packet count and how it ended): the fuzz target and the corpus test
//! use them, and they suit a quick `info` command.

mod pcap;
mod writer;

pub use pcap::{CaptureFormat, PcapReader, MAX_INTERFACES, MAX_RECORD_LEN};
pub use writer::PcapWriter;

use crate::time::Timestamp;

pub use crate::wire::LinkType;

/// One captured frame, borrowed from the source until its next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPacket<'a> {
    /// Capture timestamp (µs; nanosecond captures are truncated).
    pub ts: Timestamp,
    /// Link type of the interface this frame was captured on.
    pub link_type: LinkType,
    /// Captured bytes (may be shorter than `orig_len` when cut by the snap length).
    pub data: &'a [u8],
    /// Length of the frame on the wire.
    pub orig_len: u32,
}

/// Yields captured frames; the returned slice is valid until the next call.
///
/// `Ok(None)` is a clean end of stream: end of file is not an error. After an `Err`, the source
/// is in an unspecified state and callers should stop reading; everything yielded before the
/// error was valid.
pub trait PacketSource {
    /// The next frame, `Ok(None)` at a clean end of input.
    ///
    /// # Errors
    /// [`CaptureError`] when the underlying reader fails or the capture is corrupt or truncated;
    /// the error carries the byte offset where the problem was found.
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError>;

    /// Bytes of input consumed so far (for progress reporting).
    fn bytes_consumed(&self) -> u64;
}

/// Why reading a capture stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The underlying reader failed.
    #[error("I/O error at byte offset {offset}: {source}")]
    Io {
        /// Byte offset in the input where the read failed.
        offset: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The input is not a pcap or pcapng capture.
    #[error("not a pcap or pcapng capture (unrecognised magic {magic:#010x})")]
    UnknownFormat {
        /// The first four bytes, big-endian.
        magic: u32,
    },
    /// The capture is corrupt: a header or block that cannot be parsed.
    #[error("corrupt capture at byte offset {offset}: {reason}")]
    Corrupt {
        /// Byte offset of the record or block that failed to parse.
        offset: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// The input ends in the middle of a record or block.
    #[error("truncated capture: input ends inside a record at byte offset {offset}")]
    Truncated {
        /// Byte offset of the incomplete record or block.
        offset: u64,
    },
}

impl CaptureError {
    /// Byte offset of the problem in the input, where known.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Io { offset, .. }
            | CaptureError::Corrupt { offset, .. }
            | CaptureError::Truncated { offset } => Some(*offset),
            CaptureError::UnknownFormat { .. } => Some(0),
        }
    }
}

/// How reading a whole source went: see [`drain`].
#[derive(Debug)]
pub struct DrainSummary {
    /// Packets read before the end or the error.
    pub packets: u64,
    /// Sum of the captured lengths of those packets.
    pub captured_bytes: u64,
    /// Input bytes consumed ([`PacketSource::bytes_consumed`] at the end).
    pub bytes_consumed: u64,
    /// `None` for a clean end of input, else why reading stopped.
    pub error: Option<CaptureError>,
}

/// Reads `source` to its end (or first error) and counts what it yields.
///
/// Never panics on its own; the reader's guarantees do the rest. Useful for fuzzing, corpus checks
/// and progress-free "how many packets" questions.
pub fn drain<S: PacketSource + ?Sized>(source: &mut S) -> DrainSummary {
    let mut packets = 0u64;
    let mut captured_bytes = 0u64;
    let error = loop {
        match source.next_packet() {
            Ok(Some(pkt)) => {
                packets += 1;
                captured_bytes += pkt.data.len() as u64;
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    DrainSummary {
        packets,
        captured_bytes,
        bytes_consumed: source.bytes_consumed(),
        error,
    }
}

/// Reads an in-memory capture (any bytes) with [`PcapReader`] and [`drain`]s it; an input that
/// is not a capture gives a summary with zero packets and the error from [`PcapReader::new`].
/// This is the whole body of the `pcap_reader` fuzz target.
pub fn drain_bytes(input: &[u8]) -> DrainSummary {
    match PcapReader::new(input) {
        Ok(mut reader) => drain(&mut reader),
        Err(e) => DrainSummary {
            packets: 0,
            captured_bytes: 0,
            bytes_consumed: 0,
            error: Some(e),
        },
    }
}
