//! Classic pcap writer (µs resolution, little-endian), for tests, benches and tools that need a
//! small capture in memory or on disk.

use std::io::{self, Write};

use super::{LinkType, RawPacket};
use crate::time::Timestamp;

/// Writes a classic pcap stream (magic `a1b2c3d4` written little-endian, version 2.4, µs
/// timestamps) with one link type.
///
/// The file header is written by [`PcapWriter::new`]; each [`PcapWriter::write_packet`] appends
/// one record. Data longer than the snap length is cut to it, as a capture tool would.
///
/// ```
/// use netsec_core::capture::{LinkType, PcapWriter};
/// use netsec_core::time::Timestamp;
///
/// let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 0)?;
/// w.write_packet(Timestamp::from_micros(42), &[0x45, 0, 0, 20], 20)?;
/// assert_eq!(w.into_inner()?.len(), 24 + 16 + 4);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    link_type: LinkType,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the pcap file header. A `snaplen` of 0 means "no limit" (65 535 is written in the
    /// header, and records are not cut).
    ///
    /// # Errors
    /// The error of the underlying writer.
    pub fn new(mut out: W, link_type: LinkType, snaplen: u32) -> io::Result<Self> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs stay 0.
        let header_snaplen = if snaplen == 0 { 65_535 } else { snaplen };
        h[16..20].copy_from_slice(&header_snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&u32::from(link_type.0).to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            link_type,
            snaplen,
        })
    }

    /// Appends one record: `data` (cut to the snap length) captured at `ts` from a frame of
    /// `orig_len` bytes on the wire. `orig_len` is written as given, even if smaller than
    /// `data.len()`, so tests can build odd records.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] when `ts` is before 1970 or after 2106 (outside the
    /// 32-bit unsigned seconds of pcap) or `data` is longer than 4 GiB; else the writer's error.
    pub fn write_packet(&mut self, ts: Timestamp, data: &[u8], orig_len: u32) -> io::Result<()> {
        let us = ts.as_micros();
        let secs = u32::try_from(us.div_euclid(1_000_000)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "timestamp outside the pcap range (1970..2106)",
            )
        })?;
        let frac = us.rem_euclid(1_000_000) as u32;
        let data = if self.snaplen != 0 && data.len() > self.snaplen as usize {
            &data[..self.snaplen as usize]
        } else {
            data
        };
        let caplen = u32::try_from(data.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "packet longer than 4 GiB"))?;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&frac.to_le_bytes());
        h[8..12].copy_from_slice(&caplen.to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(data)
    }

    /// Appends a packet read from another source (its link type is not checked against ours).
    ///
    /// # Errors
    /// As [`PcapWriter::write_packet`].
    pub fn write_raw(&mut self, pkt: &RawPacket<'_>) -> io::Result<()> {
        self.write_packet(pkt.ts, pkt.data, pkt.orig_len)
    }

    /// The link type written in the header.
    pub fn link_type(&self) -> LinkType {
        self.link_type
    }

    /// Flushes the underlying writer.
    ///
    /// # Errors
    /// The writer's error.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the underlying writer.
    ///
    /// # Errors
    /// The writer's flush error.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_record_layout() {
        let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 4).expect("vec write");
        w.write_packet(Timestamp::from_micros(3_000_007), &[1, 2, 3, 4, 5, 6], 6)
            .expect("vec write");
        let b = w.into_inner().expect("vec flush");
        assert_eq!(&b[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&b[16..20], &4u32.to_le_bytes());
        assert_eq!(&b[20..24], &1u32.to_le_bytes());
        assert_eq!(&b[24..28], &3u32.to_le_bytes());
        assert_eq!(&b[28..32], &7u32.to_le_bytes());
        assert_eq!(&b[32..36], &4u32.to_le_bytes(), "cut to snaplen");
        assert_eq!(&b[36..40], &6u32.to_le_bytes());
        assert_eq!(&b[40..], &[1, 2, 3, 4]);
    }

    #[test]
    fn rejects_out_of_range_timestamps() {
        let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 0).expect("vec write");
        let err = w
            .write_packet(Timestamp::from_micros(-1), &[], 0)
            .expect_err("before 1970");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
