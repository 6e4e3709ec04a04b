//! Streaming pcap / pcapng reader over any `std::io::Read` (pcap-parser).
// Owned by the capture work item: implementation in progress.

use super::{CaptureError, PacketSource, RawPacket};

/// Reads classic pcap and pcapng captures from any reader in constant memory.
#[derive(Debug)]
pub struct PcapReader<R> {
    reader: R,
}

impl<R: std::io::Read> PcapReader<R> {
    /// Detects the format from the first bytes and prepares to stream packets.
    ///
    /// # Errors
    /// [`CaptureError`] if the header cannot be read or is not pcap/pcapng.
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        Ok(PcapReader { reader })
    }
}

impl<R: std::io::Read> PacketSource for PcapReader<R> {
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        let _ = &mut self.reader;
        Ok(None)
    }

    fn bytes_consumed(&self) -> u64 {
        0
    }
}
