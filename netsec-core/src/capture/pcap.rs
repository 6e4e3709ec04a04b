//! Streaming pcap / pcapng reader over any [`std::io::Read`], built on pcap-parser's
//! [`LegacyPcapReader`] and [`PcapNGReader`] (`next` / `consume` / `refill`).
//!
//! # Guarantees
//! * **No panic** on any input bytes, and no `unwrap()` on input data.
//! * **Constant memory**: one parse buffer (64 KiB, grown only when a single record needs more,
//!   up to [`MAX_RECORD_LEN`]) plus, for pcapng, one small entry per interface of the current
//!   section (at most [`MAX_INTERFACES`]). Nothing grows with the number of packets.
//! * **No allocation per packet** on our side: [`PcapReader::next_packet`] lends the bytes straight
//!   out of the parse buffer. (pcap-parser itself allocates a `Vec` for an Enhanced Packet Block's
//!   options, only when the block has options.)
//! * **Borrow contract** (deferred consume): the [`RawPacket`] returned by `next_packet` borrows
//!   the parse buffer; its bytes are released ("consumed") at the start of the *next* call, so the
//!   borrow checker guarantees nobody still holds them when the buffer is shifted or refilled.
//! * **Errors carry the input byte offset** of the record that failed; packets yielded before an
//!   error were valid. After an error (or a clean end) the reader is fused: further calls return
//!   `Ok(None)`.
//!
//! # Formats
//! * classic pcap: both byte orders, µs (`a1b2c3d4`) and ns (`a1b23c4d`) magic, any version
//!   (2.4, 2.1, …), and the little-endian "modified" pcap (`a1b2cd34`, 24-byte record headers);
//! * pcapng: several sections (each may switch byte order), several interfaces with their own
//!   link type, `if_tsresol` (powers of 10 and of 2) and `if_tsoffset`; Enhanced, Simple and the
//!   obsolete Packet blocks; every other block (statistics, name resolution, custom, unknown…) is
//!   skipped.
//!
//! Records with `caplen > len` are accepted as they are. Invalid timestamps (e.g. a µs field of
//! 1 000 000 or more) are read, not rejected: the excess carries into the seconds.
//!
//! # Input shorter than a file header
//! Empty input, or fewer bytes than the file header that still look like the start of a capture,
//! give [`CaptureError::Truncated`] with offset 0 from [`PcapReader::new`]; input whose first four
//! bytes are no known magic gives [`CaptureError::UnknownFormat`].

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};

use circular::Buffer;
use pcap_parser::pcapng::{Block, OptionCode};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{LegacyPcapReader, PcapBlockOwned, PcapError, PcapNGReader};

use super::{CaptureError, LinkType, PacketSource, RawPacket};
use crate::time::Timestamp;

/// Initial size of the parse buffer.
const INITIAL_BUFFER: usize = 64 * 1024;

/// Largest single record or block the reader accepts (16 MiB); the parse buffer grows up to this
/// size for one oversized record, and a larger one is reported as [`CaptureError::Corrupt`].
pub const MAX_RECORD_LEN: usize = 16 * 1024 * 1024;

/// Most interfaces one pcapng section may declare before the capture is deemed corrupt.
pub const MAX_INTERFACES: usize = 1 << 16;

/// pcapng Section Header Block type (a palindrome, the same in both byte orders).
const SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
/// Block type of the obsolete pcapng Packet Block.
const OBSOLETE_PACKET_BLOCK: u32 = 2;

/// The container format of a capture, as detected from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaptureFormat {
    /// Classic libpcap format (either byte order, µs or ns, or the "modified" variant).
    Pcap,
    /// pcapng.
    PcapNg,
}

impl CaptureFormat {
    /// Detects the format from the first four bytes of a capture.
    ///
    /// # Errors
    /// [`CaptureError::UnknownFormat`] when the bytes are no pcap or pcapng magic.
    pub fn detect(magic: [u8; 4]) -> Result<CaptureFormat, CaptureError> {
        match magic {
            // classic pcap, µs and ns, little- and big-endian, then LE "modified" pcap
            [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0xc3, 0xd4]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x34, 0xcd, 0xb2, 0xa1] => Ok(CaptureFormat::Pcap),
            SHB_TYPE => Ok(CaptureFormat::PcapNg),
            _ => Err(CaptureError::UnknownFormat {
                magic: u32::from_be_bytes(magic),
            }),
        }
    }
}

/// Reads classic pcap and pcapng captures from any reader in constant memory.
///
/// See the [module docs](self) for the guarantees. pcap-parser keeps its own buffer, so wrapping
/// a [`File`] in a `BufReader` gains nothing.
///
/// ```
/// use netsec_core::capture::{LinkType, PacketSource, PcapReader, PcapWriter};
/// use netsec_core::time::Timestamp;
///
/// let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65_535)?;
/// w.write_packet(Timestamp::from_micros(1_500_000), &[0xab; 60], 60)?;
/// let bytes = w.into_inner();
///
/// let mut reader = PcapReader::new(&bytes[..])?;
/// while let Some(pkt) = reader.next_packet()? {
///     assert_eq!(pkt.ts.as_micros(), 1_500_000);
///     assert_eq!(pkt.data.len(), 60);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PcapReader<R: Read> {
    inner: Inner<R>,
    state: State,
    /// Where [`Tap`] parks the real I/O error (pcap-parser reduces it to `ReadError`). An
    /// `Arc<Mutex>` rather than `Rc<RefCell>` keeps the reader `Send`; it is only locked on error.
    io_error: Arc<Mutex<Option<io::Error>>>,
    /// Current size of the parse buffer.
    capacity: usize,
    /// Length of the block lent out by the previous call, consumed at the start of the next.
    pending: usize,
    /// Input bytes consumed (released) so far.
    consumed: u64,
    /// Set after an error or a clean end: the reader is fused.
    done: bool,
}

/// The pcap-parser reader for the detected format.
enum Inner<R: Read> {
    Legacy(LegacyPcapReader<Tap<R>>),
    Ng(PcapNGReader<Tap<R>>),
}

impl<R: Read> Inner<R> {
    fn it(&mut self) -> &mut dyn PcapReaderIterator {
        match self {
            Inner::Legacy(r) => r,
            Inner::Ng(r) => r,
        }
    }

    fn data(&self) -> &[u8] {
        match self {
            Inner::Legacy(r) => r.data(),
            Inner::Ng(r) => r.data(),
        }
    }
}

/// Per-format decoding state: everything that is not the parse buffer.
#[derive(Debug)]
struct State {
    /// Classic pcap: link type from the file header.
    legacy_link: LinkType,
    /// Classic pcap: sub-second units (1e6 or 1e9).
    legacy_units: u64,
    /// pcapng: byte order of the current section.
    big_endian: bool,
    /// pcapng: interfaces of the current section, by interface id.
    interfaces: Vec<Interface>,
    /// Link type of the most recent packet (or of the header / first interface before that).
    last_link: Option<LinkType>,
    /// Timestamp of the most recent packet (Simple Packet Blocks carry none and reuse it).
    last_ts: Timestamp,
}

/// One pcapng interface (Interface Description Block).
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: LinkType,
    snaplen: u32,
    /// Raw `if_tsresol` byte: MSB clear = 10^-n s, MSB set = 2^-n s.
    tsresol: u8,
    /// `if_tsoffset`, seconds added to every timestamp.
    tsoffset: i64,
}

/// A packet found in the buffer: everything but the bytes, which are a range of the buffer's
/// data so the borrow of the parser can end before we lend them out.
#[derive(Debug, Clone, Copy)]
struct Found {
    ts: Timestamp,
    link: LinkType,
    orig_len: u32,
    start: usize,
    len: usize,
}

/// What to do with a parsed block.
enum Step {
    Packet(Found),
    Skip,
}

impl PcapReader<File> {
    /// Opens a capture file.
    ///
    /// # Errors
    /// [`CaptureError::Io`] when the file cannot be opened or read, and the errors of
    /// [`PcapReader::new`].
    pub fn open(path: impl AsRef<Path>) -> Result<PcapReader<File>, CaptureError> {
        let file = File::open(path).map_err(|source| CaptureError::Io { offset: 0, source })?;
        PcapReader::new(file)
    }
}

impl<R: Read> PcapReader<R> {
    /// Detects the format from the first bytes and prepares to stream packets.
    ///
    /// Reads the file header (pcap) or the first Section Header Block (pcapng).
    ///
    /// # Errors
    /// * [`CaptureError::UnknownFormat`]: the first four bytes are no capture magic;
    /// * [`CaptureError::Truncated`] (offset 0): the input, possibly empty, ends inside the file
    ///   header;
    /// * [`CaptureError::Corrupt`]: the pcapng section header is invalid;
    /// * [`CaptureError::Io`]: the reader failed.
    pub fn new(reader: R) -> Result<Self, CaptureError> {
        let io_error = Arc::new(Mutex::new(None));
        let mut tap = Tap {
            inner: reader,
            error: Arc::clone(&io_error),
        };
        let mut buf = Buffer::with_capacity(INITIAL_BUFFER);

        let have_magic = fill_at_least(&mut tap, &mut buf, 4)?;
        let head = buf.data();
        let magic = match head.get(..4).and_then(|m| <[u8; 4]>::try_from(m).ok()) {
            Some(m) if have_magic => m,
            _ => return Err(short_header(head)),
        };
        let format = CaptureFormat::detect(magic)?;
        let header_len = match format {
            CaptureFormat::Pcap => 24,
            CaptureFormat::PcapNg => {
                // Block type, total length, byte-order magic: enough to learn the SHB length.
                if !fill_at_least(&mut tap, &mut buf, 12)? {
                    return Err(CaptureError::Truncated { offset: 0 });
                }
                shb_len(buf.data())?
            }
        };
        if !fill_at_least(&mut tap, &mut buf, header_len)? {
            return Err(CaptureError::Truncated { offset: 0 });
        }
        let capacity = buf.capacity();
        let inner = match format {
            CaptureFormat::Pcap => LegacyPcapReader::from_buffer(buf, tap)
                .map(Inner::Legacy)
                .map_err(|e| header_error(e, &io_error, header_len))?,
            CaptureFormat::PcapNg => PcapNGReader::from_buffer(buf, tap)
                .map(Inner::Ng)
                .map_err(|e| header_error(e, &io_error, header_len))?,
        };
        Ok(PcapReader {
            inner,
            state: State {
                legacy_link: LinkType::NULL,
                legacy_units: 1_000_000,
                big_endian: false,
                interfaces: Vec::new(),
                last_link: None,
                last_ts: Timestamp::default(),
            },
            io_error,
            capacity,
            pending: 0,
            consumed: 0,
            done: false,
        })
    }

    /// The detected container format.
    pub fn format(&self) -> CaptureFormat {
        match self.inner {
            Inner::Legacy(_) => CaptureFormat::Pcap,
            Inner::Ng(_) => CaptureFormat::PcapNg,
        }
    }

    /// Link type of the most recently returned packet; before the first packet, the link type of
    /// the pcap file header or of the first pcapng interface once read, else `None`.
    pub fn link_type(&self) -> Option<LinkType> {
        self.state.last_link
    }

    /// Releases the block lent out by the previous call.
    fn release_pending(&mut self) {
        if self.pending > 0 {
            self.inner.it().consume(self.pending);
            self.consumed += self.pending as u64;
            self.pending = 0;
        }
    }

    /// Parses blocks until the next packet, the end, or an error.
    fn advance(&mut self) -> Result<Option<Found>, CaptureError> {
        loop {
            let it = self.inner.it();
            // `next` never moves the buffer, so packet slices can be located relative to it.
            let base = it.data().as_ptr() as usize;
            let err = match it.next() {
                Ok((len, block)) => match self.state.on_block(block, base, self.consumed)? {
                    Step::Packet(found) => {
                        self.pending = len;
                        return Ok(Some(found));
                    }
                    Step::Skip => {
                        it.consume(len);
                        self.consumed += len as u64;
                        continue;
                    }
                },
                Err(e) => Failure::from(e),
            };
            match err {
                Failure::Eof => return Ok(None),
                Failure::UnexpectedEof => {
                    return if it.data().is_empty() {
                        Ok(None)
                    } else {
                        Err(CaptureError::Truncated {
                            offset: self.consumed,
                        })
                    };
                }
                Failure::Incomplete => {
                    if it.data().len() >= self.capacity {
                        self.grow()?;
                    }
                }
                Failure::BufferTooSmall => self.grow()?,
                Failure::Read => return Err(self.io_failure()),
                Failure::Invalid => {
                    return Err(CaptureError::Corrupt {
                        offset: self.consumed,
                        reason: match self.inner {
                            Inner::Legacy(_) => "invalid pcap record",
                            Inner::Ng(_) => "invalid pcapng block",
                        },
                    });
                }
            }
            if self.inner.it().refill().is_err() {
                return Err(self.io_failure());
            }
        }
    }

    /// Doubles the parse buffer, up to [`MAX_RECORD_LEN`].
    fn grow(&mut self) -> Result<(), CaptureError> {
        if self.capacity >= MAX_RECORD_LEN {
            return Err(CaptureError::Corrupt {
                offset: self.consumed,
                reason: "record larger than the 16 MiB limit",
            });
        }
        let new = (self.capacity * 2).min(MAX_RECORD_LEN);
        self.inner.it().grow(new);
        self.capacity = new;
        Ok(())
    }

    /// The I/O error parked by [`Tap`], at the offset of the first byte not yet read.
    fn io_failure(&mut self) -> CaptureError {
        let offset = self.consumed + self.inner.data().len() as u64;
        CaptureError::Io {
            offset,
            source: take_io_error(&self.io_error),
        }
    }
}

impl<R: Read> PacketSource for PcapReader<R> {
    fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        self.release_pending();
        let found = match self.advance() {
            Ok(Some(found)) => found,
            other => {
                self.done = true;
                return other.map(|_| None);
            }
        };
        let Some(data) = self
            .inner
            .data()
            .get(found.start..found.start.saturating_add(found.len))
        else {
            self.done = true;
            return Err(CaptureError::Corrupt {
                offset: self.consumed,
                reason: "packet data outside its block",
            });
        };
        Ok(Some(RawPacket {
            ts: found.ts,
            link_type: found.link,
            data,
            orig_len: found.orig_len,
        }))
    }

    fn bytes_consumed(&self) -> u64 {
        self.consumed + self.pending as u64
    }
}

impl<R: Read> fmt::Debug for PcapReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcapReader")
            .field("format", &self.format())
            .field("bytes_consumed", &self.bytes_consumed())
            .field("buffer_capacity", &self.capacity)
            .field("link_type", &self.state.last_link)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl State {
    /// Updates the state from one block; a packet block becomes a [`Found`] located relative to
    /// `base`, the start of the parser's buffered data.
    fn on_block(
        &mut self,
        block: PcapBlockOwned<'_>,
        base: usize,
        offset: u64,
    ) -> Result<Step, CaptureError> {
        let corrupt = |reason| CaptureError::Corrupt { offset, reason };
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.legacy_units = if h.is_nanosecond_precision() {
                    1_000_000_000
                } else {
                    1_000_000
                };
                // The upper 16 bits of the field may carry FCS information: not the link type.
                let link = LinkType((h.network.0 as u32 & 0xffff) as u16);
                self.legacy_link = link;
                self.last_link = Some(link);
                Ok(Step::Skip)
            }
            PcapBlockOwned::Legacy(rec) => {
                let ts = Timestamp::from_parts(
                    i64::from(rec.ts_sec),
                    u64::from(rec.ts_usec),
                    self.legacy_units,
                );
                self.packet(ts, self.legacy_link, rec.data, rec.origlen, base)
                    .ok_or_else(|| corrupt("pcap record data outside the buffer"))
            }
            PcapBlockOwned::NG(block) => self.on_ng_block(block, base, offset),
        }
    }

    fn on_ng_block(
        &mut self,
        block: Block<'_>,
        base: usize,
        offset: u64,
    ) -> Result<Step, CaptureError> {
        let corrupt = |reason| CaptureError::Corrupt { offset, reason };
        let outside = "pcapng packet data outside the buffer";
        match block {
            Block::SectionHeader(shb) => {
                self.big_endian = shb.big_endian();
                self.interfaces.clear();
                Ok(Step::Skip)
            }
            Block::InterfaceDescription(idb) => {
                if self.interfaces.len() >= MAX_INTERFACES {
                    return Err(corrupt("too many interfaces in one pcapng section"));
                }
                let mut iface = Interface {
                    link: LinkType(idb.linktype.0 as u16),
                    snaplen: idb.snaplen,
                    tsresol: 6,
                    tsoffset: 0,
                };
                // pcap-parser reads if_tsoffset as little-endian whatever the section's byte
                // order, so both options are decoded here.
                for opt in &idb.options {
                    let v = opt.value();
                    if opt.code == OptionCode::IfTsresol {
                        if let Some(&r) = v.first() {
                            iface.tsresol = r;
                        }
                    } else if opt.code == OptionCode::IfTsoffset {
                        if let Some(b) = v.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                            iface.tsoffset = if self.big_endian {
                                i64::from_be_bytes(b)
                            } else {
                                i64::from_le_bytes(b)
                            };
                        }
                    }
                }
                self.last_link.get_or_insert(iface.link);
                self.interfaces.push(iface);
                Ok(Step::Skip)
            }
            Block::EnhancedPacket(epb) => {
                let iface = self.interface(epb.if_id, offset)?;
                let raw = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let ts = ng_timestamp(raw, iface.tsresol, iface.tsoffset);
                let caplen = (epb.caplen as usize).min(epb.data.len());
                let data = epb.data.get(..caplen).unwrap_or(epb.data);
                self.packet(ts, iface.link, data, epb.origlen, base)
                    .ok_or_else(|| corrupt(outside))
            }
            Block::SimplePacket(spb) => {
                let iface = self.interface(0, offset)?;
                // RFC draft: captured length = min(original length, snaplen of interface 0);
                // the rest of the block is padding.
                let mut caplen = (spb.origlen as usize).min(spb.data.len());
                if iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
                let data = spb.data.get(..caplen).unwrap_or(spb.data);
                // No timestamp in an SPB: reuse the previous packet's so flows do not jump.
                self.packet(self.last_ts, iface.link, data, spb.origlen, base)
                    .ok_or_else(|| corrupt(outside))
            }
            Block::Unknown(u) => {
                // `block_type` is read little-endian by pcap-parser whatever the section order.
                let ty = if self.big_endian {
                    u.block_type.swap_bytes()
                } else {
                    u.block_type
                };
                if ty != OBSOLETE_PACKET_BLOCK {
                    return Ok(Step::Skip);
                }
                // Obsolete Packet Block: if_id u16, drops u16, ts_high, ts_low, caplen, len, data.
                let c = u.data;
                let (Some(if_id), Some(ts_high), Some(ts_low), Some(caplen), Some(origlen)) = (
                    self.u16_at(c, 0),
                    self.u32_at(c, 4),
                    self.u32_at(c, 8),
                    self.u32_at(c, 12),
                    self.u32_at(c, 16),
                ) else {
                    return Err(corrupt("pcapng packet block too short"));
                };
                let data = c
                    .get(20..)
                    .and_then(|d| d.get(..caplen as usize))
                    .ok_or_else(|| corrupt("pcapng packet block captured length too large"))?;
                let iface = self.interface(u32::from(if_id), offset)?;
                let raw = (u64::from(ts_high) << 32) | u64::from(ts_low);
                let ts = ng_timestamp(raw, iface.tsresol, iface.tsoffset);
                self.packet(ts, iface.link, data, origlen, base)
                    .ok_or_else(|| corrupt(outside))
            }
            // Statistics, name resolution, decryption secrets, journal, process info, custom.
            _ => Ok(Step::Skip),
        }
    }

    fn interface(&self, id: u32, offset: u64) -> Result<Interface, CaptureError> {
        self.interfaces
            .get(id as usize)
            .copied()
            .ok_or(CaptureError::Corrupt {
                offset,
                reason: "pcapng packet refers to an undeclared interface",
            })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<u16> {
        let b: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// Records the packet as the latest and locates its bytes relative to `base`.
    fn packet(
        &mut self,
        ts: Timestamp,
        link: LinkType,
        data: &[u8],
        orig_len: u32,
        base: usize,
    ) -> Option<Step> {
        let start = (data.as_ptr() as usize).checked_sub(base)?;
        self.last_ts = ts;
        self.last_link = Some(link);
        Some(Step::Packet(Found {
            ts,
            link,
            orig_len,
            start,
            len: data.len(),
        }))
    }
}

/// A pcapng timestamp: `raw` units of 10^-n or 2^-n seconds (`if_tsresol`), plus `offset`
/// seconds (`if_tsoffset`), truncated to µs. Resolutions too fine for 128-bit arithmetic read as
/// the offset alone.
fn ng_timestamp(raw: u64, tsresol: u8, offset: i64) -> Timestamp {
    let n = u32::from(tsresol & 0x7f);
    let units: Option<u128> = if tsresol & 0x80 == 0 {
        10u128.checked_pow(n)
    } else {
        1u128.checked_shl(n)
    };
    let Some(units) = units.filter(|&u| u > 0) else {
        return Timestamp::from_parts(offset, 0, 1);
    };
    let raw = u128::from(raw);
    let secs = i64::try_from(raw / units).unwrap_or(i64::MAX);
    // (raw % units) < 2^64, times 1e6 < 2^84: no overflow.
    let frac_us = ((raw % units) * 1_000_000 / units) as u64;
    Timestamp::from_parts(secs.saturating_add(offset), frac_us, 1_000_000)
}

/// pcap-parser's error, reduced to what the read loop branches on.
enum Failure {
    Eof,
    UnexpectedEof,
    Incomplete,
    BufferTooSmall,
    Read,
    Invalid,
}

impl<I> From<PcapError<I>> for Failure {
    fn from(e: PcapError<I>) -> Self {
        match e {
            PcapError::Eof => Failure::Eof,
            PcapError::UnexpectedEof => Failure::UnexpectedEof,
            PcapError::Incomplete(_) => Failure::Incomplete,
            PcapError::BufferTooSmall => Failure::BufferTooSmall,
            PcapError::ReadError => Failure::Read,
            PcapError::HeaderNotRecognized
            | PcapError::NomError(..)
            | PcapError::OwnedNomError(..) => Failure::Invalid,
        }
    }
}

/// Maps an error from pcap-parser's reader constructors (the header is already buffered).
fn header_error(
    e: PcapError<&'static [u8]>,
    io_error: &Mutex<Option<io::Error>>,
    header_len: usize,
) -> CaptureError {
    match Failure::from(e) {
        Failure::Read => CaptureError::Io {
            offset: header_len as u64,
            source: take_io_error(io_error),
        },
        Failure::Eof | Failure::UnexpectedEof | Failure::Incomplete | Failure::BufferTooSmall => {
            CaptureError::Truncated { offset: 0 }
        }
        Failure::Invalid => CaptureError::Corrupt {
            offset: 0,
            reason: "invalid file header",
        },
    }
}

fn take_io_error(slot: &Mutex<Option<io::Error>>) -> io::Error {
    slot.lock()
        .ok()
        .and_then(|mut e| e.take())
        .unwrap_or_else(|| io::Error::other("read failed"))
}

/// Fewer than four bytes: a truncated header if they start a known magic, else not a capture.
fn short_header(head: &[u8]) -> CaptureError {
    let known: [[u8; 4]; 6] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x34, 0xcd, 0xb2, 0xa1],
        SHB_TYPE,
    ];
    if known.iter().any(|m| m.starts_with(head)) {
        CaptureError::Truncated { offset: 0 }
    } else {
        let mut magic = [0u8; 4];
        magic[..head.len()].copy_from_slice(head);
        CaptureError::UnknownFormat {
            magic: u32::from_be_bytes(magic),
        }
    }
}

/// Total length of the first Section Header Block, from its first 12 bytes.
fn shb_len(head: &[u8]) -> Result<usize, CaptureError> {
    let corrupt = |reason| CaptureError::Corrupt { offset: 0, reason };
    let field = |r: Range<usize>| head.get(r).and_then(|b| <[u8; 4]>::try_from(b).ok());
    let (Some(len), Some(bom)) = (field(4..8), field(8..12)) else {
        return Err(CaptureError::Truncated { offset: 0 });
    };
    let len = match bom {
        [0x4d, 0x3c, 0x2b, 0x1a] => u32::from_le_bytes(len),
        [0x1a, 0x2b, 0x3c, 0x4d] => u32::from_be_bytes(len),
        _ => {
            return Err(corrupt(
                "pcapng section header has an invalid byte-order magic",
            ))
        }
    } as usize;
    if !(28..=MAX_RECORD_LEN).contains(&len) {
        return Err(corrupt("pcapng section header has an invalid length"));
    }
    Ok(len)
}

/// Reads into `buf` until it holds `n` bytes (growing it if needed); `false` at end of input.
fn fill_at_least<R: Read>(
    tap: &mut Tap<R>,
    buf: &mut Buffer,
    n: usize,
) -> Result<bool, CaptureError> {
    if buf.capacity() < n {
        buf.grow(n);
    }
    while buf.available_data() < n {
        match tap.inner.read(buf.space()) {
            Ok(0) => return Ok(false),
            Ok(k) => {
                buf.fill(k);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(CaptureError::Io {
                    offset: buf.available_data() as u64,
                    source,
                })
            }
        }
    }
    Ok(true)
}

/// The caller's reader, as handed to pcap-parser: retries `Interrupted` and parks any other I/O
/// error where [`PcapReader`] can report it (pcap-parser keeps only "read error").
struct Tap<R> {
    inner: R,
    error: Arc<Mutex<Option<io::Error>>>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.inner.read(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let kind = e.kind();
                    if let Ok(mut slot) = self.error.lock() {
                        *slot = Some(e);
                    }
                    return Err(io::Error::from(kind));
                }
                ok => return ok,
            }
        }
    }
}
