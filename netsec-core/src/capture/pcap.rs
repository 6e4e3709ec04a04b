//! Streaming pcap / pcapng reader over any [`std::io::Read`], built on pcap-parser's
//! [`LegacyPcapReader`] and [`PcapNGReader`] (`next` / `consume` / `refill`).
//!
//! The guarantees are documented on [`PcapReader`], the public face of this module.

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
const INITIAL_BUFFER: usize = 256 * 1024;

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
/// pcap-parser keeps its own buffer, so wrapping a [`File`] in a `BufReader` gains nothing.
///
/// # Guarantees
/// * **No panic** on any input bytes, and no `unwrap()` on input data.
/// * **Constant memory**: one parse buffer (64 KiB, grown only when a single record needs more,
///   up to [`MAX_RECORD_LEN`]) plus, for pcapng, one small entry per interface of the current
///   section (at most [`MAX_INTERFACES`]). Nothing grows with the number of packets.
/// * **No allocation per packet** on our side: [`PcapReader::next_packet`] lends the bytes straight
///   out of the parse buffer. (pcap-parser itself allocates a `Vec` for an Enhanced Packet Block's
///   options, only when the block has options.)
/// * **Borrow contract** (deferred consume): the [`RawPacket`] returned by `next_packet` borrows
///   the parse buffer; its bytes are released ("consumed") at the start of the *next* call, so the
///   borrow checker guarantees nobody still holds them when the buffer is shifted or refilled.
/// * **Errors carry the input byte offset** of the record that failed; packets yielded before an
///   error were valid. After an error (or a clean end) the reader is fused: further calls return
///   `Ok(None)`.
///
/// # Formats
/// * classic pcap: both byte orders, µs (`a1b2c3d4`) and ns (`a1b23c4d`) magic, any version
///   (2.4, 2.1, …), and the little-endian "modified" pcap (`a1b2cd34`, 24-byte record headers);
/// * pcapng: several sections (each may switch byte order), several interfaces with their own
///   link type, `if_tsresol` (powers of 10 and of 2) and `if_tsoffset`; Enhanced, Simple and the
///   obsolete Packet blocks; every other block (statistics, name resolution, custom, unknown…) is
///   skipped.
///
/// Records with `caplen > len` are accepted as they are. Invalid timestamps (e.g. a µs field of
/// 1 000 000 or more) are read, not rejected: the excess carries into the seconds.
///
/// # Input shorter than a file header
/// Empty input, or fewer bytes than the file header that still look like the start of a capture,
/// give [`CaptureError::Truncated`] with offset 0 from [`PcapReader::new`]; input whose first four
/// bytes are no known magic gives [`CaptureError::UnknownFormat`].
///
/// # Example
/// ```
/// use netsec_core::capture::{LinkType, PacketSource, PcapReader, PcapWriter};
/// use netsec_core::time::Timestamp;
///
/// let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65_535)?;
/// w.write_packet(Timestamp::from_micros(1_500_000), &[0xab; 60], 60)?;
/// let bytes = w.into_inner()?;
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
    /// Classic pcap with standard 16-byte record headers: `Some(big_endian)` once the file
    /// header is read, enabling the inline record fast path in [`PcapReader::advance`].
    legacy_records: Option<bool>,
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
                legacy_records: None,
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
            self.inner.it().consume_noshift(self.pending);
            self.consumed += self.pending as u64;
            self.pending = 0;
        }
    }

    /// Parses blocks until the next packet, the end, or an error.
    #[inline(always)]
    fn advance(&mut self) -> Result<Option<Found>, CaptureError> {
        // The fast path inline in the caller's loop; the general one out of line.
        if let Some(found) = self.next_whole_record() {
            return Ok(Some(found));
        }
        self.advance_general()
    }

    /// [`advance`](Self::advance) through pcap-parser's block machinery.
    #[inline(never)]
    fn advance_general(&mut self) -> Result<Option<Found>, CaptureError> {
        loop {
            if matches!(self.inner, Inner::Ng(_)) {
                if let Some(reason) = bad_block_length(self.inner.it().data(), &self.state) {
                    return Err(CaptureError::Corrupt {
                        offset: self.consumed,
                        reason,
                    });
                }
            }
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
                        it.consume_noshift(len);
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

    /// Fast path for classic pcap: a complete 16-byte record header and its data already in the
    /// buffer are read in place. The record layout is fixed (RFC draft "PCAP Capture File
    /// Format" §5), so this skips pcap-parser's generic block machinery per packet; anything
    /// else (incomplete record, refill, oversized record, end of input) takes the general path
    /// through pcap-parser, which also reports every error.
    #[inline(always)]
    fn next_whole_record(&mut self) -> Option<Found> {
        let (Inner::Legacy(r), Some(big_endian)) = (&self.inner, self.state.legacy_records) else {
            return None;
        };
        let data = r.data();
        let header: &[u8; 16] = data.get(..16)?.try_into().ok()?;
        let word = |at: usize| {
            let b = [header[at], header[at + 1], header[at + 2], header[at + 3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let caplen = word(8) as usize;
        if caplen > data.len() - 16 {
            return None;
        }
        let ts = Timestamp::from_parts(
            i64::from(word(0)),
            u64::from(word(4)),
            self.state.legacy_units,
        );
        let link = self.state.legacy_link;
        self.state.last_ts = ts;
        self.state.last_link = Some(link);
        self.pending = 16 + caplen;
        Some(Found {
            ts,
            link,
            orig_len: word(12),
            start: 16,
            len: caplen,
        })
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

/// The pcapng block at the start of `data` declares a total length below the 12 bytes of its
/// own framing (type, length, trailing length).
///
/// pcap-parser 0.17 subtracts 12 from that length unchecked for blocks whose fixed header is
/// shorter (the process-information block, type `0x80000001`): an overflow panic in debug
/// builds, a bogus huge length in release. Checked here first, so either way the caller gets
/// [`CaptureError::Corrupt`].
fn bad_block_length(data: &[u8], state: &State) -> Option<&'static str> {
    let header: &[u8; 8] = data.first_chunk()?;
    let [t0, t1, t2, t3, l0, l1, l2, l3] = *header;
    // A section header's length is in the byte order it declares itself; pcap-parser checks
    // it against its larger fixed header. Its type reads the same in both byte orders.
    if [t0, t1, t2, t3] == [0x0a, 0x0d, 0x0d, 0x0a] {
        return None;
    }
    let len = if state.big_endian {
        u32::from_be_bytes([l0, l1, l2, l3])
    } else {
        u32::from_le_bytes([l0, l1, l2, l3])
    };
    (len < 12).then_some("pcapng block length below 12")
}

impl<R: Read> PacketSource for PcapReader<R> {
    // Always inlined into the pipeline's loop: once the binary has other callers (the host
    // inventory), LLVM stopped inlining it, +5M instructions on the 200k-packet capture.
    #[inline(always)]
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
                self.legacy_records = (!h.is_modified_format()).then(|| h.is_bigendian());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{drain, drain_bytes, PcapWriter};
    use proptest::prelude::*;

    /// A packet copied out of the lending borrow, for comparisons.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Owned {
        ts: i64,
        link: LinkType,
        data: Vec<u8>,
        orig_len: u32,
    }

    fn read_all<R: Read>(r: R) -> (Vec<Owned>, Option<CaptureError>) {
        let mut reader = match PcapReader::new(r) {
            Ok(r) => r,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut out = Vec::new();
        loop {
            match reader.next_packet() {
                Ok(Some(p)) => out.push(Owned {
                    ts: p.ts.as_micros(),
                    link: p.link_type,
                    data: p.data.to_vec(),
                    orig_len: p.orig_len,
                }),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    /// Classic pcap bytes; returns the file and the end offset of each record.
    fn legacy(
        be: bool,
        magic: u32,
        version: (u16, u16),
        link: u32,
        recs: &[(u32, u32, &[u8], u32)],
    ) -> (Vec<u8>, Vec<usize>) {
        let u16b = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let u32b = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut f = Vec::new();
        f.extend(u32b(magic));
        f.extend(u16b(version.0));
        f.extend(u16b(version.1));
        f.extend(u32b(0));
        f.extend(u32b(0));
        f.extend(u32b(65_535));
        f.extend(u32b(link));
        let mut ends = vec![f.len()];
        for &(s, frac, data, orig) in recs {
            f.extend(u32b(s));
            f.extend(u32b(frac));
            f.extend(u32b(data.len() as u32));
            f.extend(u32b(orig));
            if magic == 0xa1b2_cd34 {
                f.extend([0u8; 8]); // ifindex, protocol, pkt_type, pad
            }
            f.extend_from_slice(data);
            ends.push(f.len());
        }
        (f, ends)
    }

    /// Builds pcapng blocks in one byte order.
    struct Ng {
        be: bool,
        buf: Vec<u8>,
        ends: Vec<usize>,
    }

    impl Ng {
        fn new(be: bool) -> Self {
            let mut ng = Ng {
                be,
                buf: Vec::new(),
                ends: Vec::new(),
            };
            ng.shb(be);
            ng
        }
        fn u16(&self, v: u16) -> [u8; 2] {
            if self.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }
        fn u32(&self, v: u32) -> [u8; 4] {
            if self.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }
        fn block(&mut self, ty: u32, body: &[u8]) -> &mut Self {
            let mut body = body.to_vec();
            while body.len() % 4 != 0 {
                body.push(0);
            }
            let len = (body.len() + 12) as u32;
            let (t, l) = (self.u32(ty), self.u32(len));
            self.buf.extend(t);
            self.buf.extend(l);
            self.buf.extend(body);
            self.buf.extend(l);
            self.ends.push(self.buf.len());
            self
        }
        fn shb(&mut self, be: bool) -> &mut Self {
            self.be = be;
            let mut b = Vec::new();
            b.extend(self.u32(0x1a2b_3c4d));
            b.extend(self.u16(1));
            b.extend(self.u16(0));
            b.extend([0xff; 8]); // section length: unknown
            self.block(0x0a0d_0d0a, &b)
        }
        fn idb(&mut self, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) -> &mut Self {
            let mut b = Vec::new();
            b.extend(self.u16(link));
            b.extend(self.u16(0));
            b.extend(self.u32(0)); // snaplen: none
            if let Some(r) = tsresol {
                b.extend(self.u16(9));
                b.extend(self.u16(1));
                b.extend([r, 0, 0, 0]);
            }
            if let Some(o) = tsoffset {
                b.extend(self.u16(14));
                b.extend(self.u16(8));
                b.extend(if self.be {
                    o.to_be_bytes()
                } else {
                    o.to_le_bytes()
                });
            }
            b.extend([0u8; 4]); // opt_endofopt
            self.block(1, &b)
        }
        fn epb(&mut self, if_id: u32, ts: u64, data: &[u8], orig: u32) -> &mut Self {
            let mut b = Vec::new();
            b.extend(self.u32(if_id));
            b.extend(self.u32((ts >> 32) as u32));
            b.extend(self.u32(ts as u32));
            b.extend(self.u32(data.len() as u32));
            b.extend(self.u32(orig));
            b.extend_from_slice(data);
            self.block(6, &b)
        }
        fn spb(&mut self, data: &[u8]) -> &mut Self {
            let mut b = self.u32(data.len() as u32).to_vec();
            b.extend_from_slice(data);
            self.block(3, &b)
        }
        fn obsolete_pb(&mut self, if_id: u16, ts: u64, data: &[u8]) -> &mut Self {
            let mut b = Vec::new();
            b.extend(self.u16(if_id));
            b.extend(self.u16(0));
            b.extend(self.u32((ts >> 32) as u32));
            b.extend(self.u32(ts as u32));
            b.extend(self.u32(data.len() as u32));
            b.extend(self.u32(data.len() as u32));
            b.extend_from_slice(data);
            self.block(2, &b)
        }
    }

    /// A pcapng file exercising most features; returns the bytes and the expected packets.
    fn rich_pcapng() -> (Vec<u8>, Vec<Owned>) {
        let mut ng = Ng::new(false);
        ng.idb(1, None, None) // Ethernet, µs
            .idb(101, Some(9), Some(10)) // raw IP, ns, +10 s
            .block(0x0000_0bad, b"unknown block body")
            .epb(0, 1_000_000_123, &[1; 14], 14)
            .epb(1, 2_000_000_456_789, &[0x45; 20], 40)
            .block(0x8000_0001, &[0, 0, 0x7e, 0x6b, 1, 2, 3]) // custom block (PEN + data)
            .spb(&[2; 9])
            .idb(276, Some(0x80 | 20), None) // SLL2, 2^-20 s
            .epb(2, 3 << 20 | 1 << 19, &[3; 5], 5)
            .obsolete_pb(0, 5_000_000, &[4; 7])
            .shb(true) // a big-endian section: interfaces start over
            .idb(0, Some(3), None) // NULL, ms
            .epb(0, 7_250, &[5; 4], 4);
        let p = |ts: i64, link: u16, data: &[u8], orig_len: u32| Owned {
            ts,
            link: LinkType(link),
            data: data.to_vec(),
            orig_len,
        };
        let expected = vec![
            p(1_000_000_123, 1, &[1; 14], 14),
            p(2_010_000_456, 101, &[0x45; 20], 40),
            p(2_010_000_456, 1, &[2; 9], 9), // SPB: interface 0, previous timestamp
            p(3_500_000, 276, &[3; 5], 5),
            p(5_000_000, 1, &[4; 7], 7),
            p(7_250_000, 0, &[5; 4], 4),
        ];
        (ng.buf, expected)
    }

    /// pcap-parser 0.17 underflows on a process-information block shorter than 12 bytes
    /// (found by `mutated_captures_never_panic`): reported as corrupt, packets before it kept.
    #[test]
    fn pcapng_block_shorter_than_its_framing_is_corrupt() {
        for be in [false, true] {
            let mut ng = Ng::new(be);
            ng.idb(101, None, None).epb(0, 1, &[0x45; 20], 20);
            let good = ng.buf.len() as u64;
            let (t, l) = (ng.u32(0x8000_0001), ng.u32(8));
            ng.buf.extend(t);
            ng.buf.extend(l);
            ng.buf.extend([0u8; 8]);
            let s = drain_bytes(&ng.buf);
            assert_eq!(s.packets, 1, "packets before the damage are kept");
            match s.error {
                Some(CaptureError::Corrupt { offset, reason }) => {
                    assert_eq!(offset, good);
                    assert!(reason.contains("block length"), "{reason}");
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
        }
    }

    #[test]
    fn classic_pcap_all_byte_orders_and_resolutions() {
        let recs: [(u32, u32, &[u8], u32); 2] =
            [(1, 2, &[9; 10], 60), (3, 999_999_999, &[8; 3], 3)];
        for (be, magic, units) in [
            (false, 0xa1b2_c3d4, 1_000_000u64),
            (true, 0xa1b2_c3d4, 1_000_000),
            (false, 0xa1b2_3c4d, 1_000_000_000),
            (true, 0xa1b2_3c4d, 1_000_000_000),
        ] {
            let (f, _) = legacy(be, magic, (2, 4), 113, &recs);
            let (pkts, err) = read_all(&f[..]);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(pkts.len(), 2);
            assert_eq!(pkts[0].link, LinkType::LINUX_SLL);
            assert_eq!(pkts[0].data, vec![9; 10]);
            assert_eq!(pkts[0].orig_len, 60);
            let ts1 = Timestamp::from_parts(3, 999_999_999, units).as_micros();
            assert_eq!(pkts[1].ts, ts1, "be={be} magic={magic:x}");
        }
        let (f, _) = legacy(false, 0xa1b2_3c4d, (2, 4), 1, &recs);
        let (pkts, _) = read_all(&f[..]);
        assert_eq!(pkts[1].ts, 3_999_999, "ns truncated to µs");
    }

    #[test]
    fn version_2_1_modified_format_and_odd_records() {
        // pcap 2.1, caplen > len, µs field >= 1e6 (an invalid timestamp is read, not fatal).
        let recs: [(u32, u32, &[u8], u32); 1] = [(5, 2_500_000, &[7; 30], 20)];
        let (f, _) = legacy(true, 0xa1b2_c3d4, (2, 1), 1, &recs);
        let (pkts, err) = read_all(&f[..]);
        assert!(err.is_none());
        assert_eq!(pkts[0].ts, 7_500_000);
        assert_eq!((pkts[0].data.len(), pkts[0].orig_len), (30, 20));

        let (f, _) = legacy(false, 0xa1b2_cd34, (2, 4), 1, &recs);
        let (pkts, err) = read_all(&f[..]);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            pkts[0].data,
            vec![7; 30],
            "modified pcap: 24-byte record header"
        );
    }

    #[test]
    fn pcapng_interfaces_resolutions_sections_and_skipped_blocks() {
        let (f, expected) = rich_pcapng();
        let mut r = PcapReader::new(&f[..]).expect("header");
        assert_eq!(r.format(), CaptureFormat::PcapNg);
        let mut got = Vec::new();
        while let Some(p) = r.next_packet().expect("valid file") {
            got.push(Owned {
                ts: p.ts.as_micros(),
                link: p.link_type,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
            });
        }
        assert_eq!(got, expected);
        assert_eq!(r.bytes_consumed(), f.len() as u64);
        assert_eq!(r.link_type(), Some(LinkType::NULL));
        assert!(r.next_packet().expect("fused").is_none());
    }

    #[test]
    fn pcapng_undeclared_interface_is_corrupt() {
        let mut ng = Ng::new(false);
        ng.idb(1, None, None).epb(0, 1, &[1], 1);
        let good_end = ng.buf.len() as u64;
        ng.epb(3, 1, &[1], 1);
        let (pkts, err) = read_all(&ng.buf[..]);
        assert_eq!(pkts.len(), 1);
        match err {
            Some(CaptureError::Corrupt { offset, .. }) => assert_eq!(offset, good_end),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pcapng_bad_block_length_is_corrupt() {
        let mut ng = Ng::new(false);
        ng.idb(1, None, None);
        let at = ng.buf.len();
        ng.epb(0, 1, &[1; 8], 8);
        ng.buf[at + 4] = 8; // total length below the 12-byte minimum
        let (_, err) = read_all(&ng.buf[..]);
        assert!(
            matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == at as u64),
            "{err:?}"
        );
    }

    #[test]
    fn not_a_capture_and_empty_input() {
        assert!(matches!(
            PcapReader::new(&b""[..]),
            Err(CaptureError::Truncated { offset: 0 })
        ));
        assert!(matches!(
            PcapReader::new(&[0xd4, 0xc3][..]),
            Err(CaptureError::Truncated { offset: 0 })
        ));
        assert!(matches!(
            PcapReader::new(&b"hi"[..]),
            Err(CaptureError::UnknownFormat { magic: 0x6869_0000 })
        ));
        assert!(matches!(
            PcapReader::new(&b"GET / HTTP/1.1\r\n"[..]),
            Err(CaptureError::UnknownFormat { magic: 0x4745_5420 })
        ));
        let mut bad_bom = Ng::new(false).buf;
        bad_bom[8] = 0;
        assert!(matches!(
            PcapReader::new(&bad_bom[..]),
            Err(CaptureError::Corrupt { offset: 0, .. })
        ));
    }

    /// Every prefix of a valid file yields exactly the records complete before the cut, then a
    /// clean end (cut on a boundary) or `Truncated` at the start of the cut record.
    fn check_every_prefix(file: &[u8], ends: &[usize], packets_before: impl Fn(usize) -> usize) {
        let header_end = ends[0];
        for cut in 0..=file.len() {
            let (pkts, err) = read_all(&file[..cut]);
            let last_end = ends.iter().copied().filter(|&e| e <= cut).max();
            match (last_end, err) {
                (None, Some(CaptureError::Truncated { offset: 0 })) => assert!(cut < header_end),
                (Some(end), None) => {
                    assert_eq!(end, cut, "clean end only on a boundary");
                    assert_eq!(pkts.len(), packets_before(cut));
                }
                (Some(end), Some(CaptureError::Truncated { offset })) => {
                    assert_eq!(offset, end as u64, "cut {cut}");
                    assert_eq!(pkts.len(), packets_before(end), "cut {cut}");
                }
                (end, err) => panic!("cut {cut}: last boundary {end:?}, {err:?}"),
            }
        }
    }

    #[test]
    fn every_truncated_prefix_of_a_pcap() {
        let recs: [(u32, u32, &[u8], u32); 3] =
            [(1, 1, &[1; 10], 10), (2, 2, &[], 0), (3, 3, &[3; 33], 33)];
        let (f, ends) = legacy(false, 0xa1b2_c3d4, (2, 4), 1, &recs);
        check_every_prefix(&f, &ends, |at| {
            ends.iter().position(|&e| e == at).unwrap_or(0)
        });
    }

    #[test]
    fn every_truncated_prefix_of_a_pcapng() {
        let (f, _) = rich_pcapng();
        // Boundaries and how many packets end at or before each, rebuilt from the block lengths.
        let mut ends = Vec::new();
        let mut counts = Vec::new();
        let (mut at, mut pkts, mut be) = (0usize, 0usize, false);
        while at < f.len() {
            let ty: [u8; 4] = f[at..at + 4].try_into().expect("4 bytes");
            if ty == SHB_TYPE {
                be = f[at + 8] == 0x1a;
            }
            let len: [u8; 4] = f[at + 4..at + 8].try_into().expect("4 bytes");
            let (ty, len) = if be {
                (u32::from_be_bytes(ty), u32::from_be_bytes(len))
            } else {
                (u32::from_le_bytes(ty), u32::from_le_bytes(len))
            };
            at += len as usize;
            pkts += usize::from(matches!(ty, 2 | 3 | 6));
            ends.push(at);
            counts.push(pkts);
        }
        check_every_prefix(&f, &ends, |cut| {
            ends.iter().position(|&e| e == cut).map_or(0, |i| counts[i])
        });
    }

    #[test]
    fn record_larger_than_initial_buffer_grows_it() {
        let big = vec![0x5a; 300_000];
        let recs: [(u32, u32, &[u8], u32); 2] = [(1, 0, &big, 300_000), (2, 0, &[1], 1)];
        let (f, _) = legacy(false, 0xa1b2_c3d4, (2, 4), 1, &recs);
        let (pkts, err) = read_all(&f[..]);
        assert!(err.is_none());
        assert_eq!(pkts.len(), 2);
        assert_eq!(pkts[0].data.len(), 300_000);

        let mut ng = Ng::new(false);
        ng.idb(1, None, None).epb(0, 1, &big, 300_000);
        let (pkts, err) = read_all(&ng.buf[..]);
        assert!(err.is_none());
        assert_eq!(pkts[0].data, big);
    }

    #[test]
    fn record_beyond_the_limit_is_corrupt() {
        let (mut f, _) = legacy(false, 0xa1b2_c3d4, (2, 4), 1, &[]);
        f.extend([0u8; 8]);
        f.extend((MAX_RECORD_LEN as u32 + 1).to_le_bytes());
        f.extend([0u8; 4]);
        // An endless stream of zeros behind it: the reader must give up, not buffer forever.
        let (pkts, err) = read_all(f.as_slice().chain(io::repeat(0)));
        assert!(pkts.is_empty());
        assert!(
            matches!(err, Some(CaptureError::Corrupt { offset: 24, .. })),
            "{err:?}"
        );
    }

    /// Returns at most `chunks[i]` bytes per read, an `Interrupted` error every third call, and
    /// optionally a real error once `fail_at` bytes have been read.
    struct Chunky<'a> {
        data: &'a [u8],
        chunks: Vec<usize>,
        calls: usize,
        fail_at: Option<usize>,
        pos: usize,
    }

    impl Read for Chunky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls % 3 == 0 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            if self.fail_at.is_some_and(|f| self.pos >= f) {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "gone"));
            }
            let chunk = self.chunks[self.calls % self.chunks.len()];
            let mut n = chunk.min(buf.len()).min(self.data.len() - self.pos);
            if let Some(f) = self.fail_at {
                n = n.min(f - self.pos);
            }
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn io_errors_keep_their_source_and_offset() {
        let recs: [(u32, u32, &[u8], u32); 2] = [(1, 0, &[1; 100], 100), (2, 0, &[2; 100], 100)];
        let (f, ends) = legacy(false, 0xa1b2_c3d4, (2, 4), 1, &recs);
        let r = Chunky {
            data: &f,
            chunks: vec![7],
            calls: 0,
            fail_at: Some(ends[1] + 5),
            pos: 0,
        };
        let (pkts, err) = read_all(r);
        assert_eq!(pkts.len(), 1);
        match err {
            Some(CaptureError::Io { offset, source }) => {
                assert_eq!(offset, (ends[1] + 5) as u64);
                assert_eq!(source.kind(), io::ErrorKind::ConnectionReset);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reader_is_send_so_a_pipeline_can_move_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<PcapReader<File>>();
        assert_send::<PcapReader<&'static [u8]>>();
    }

    #[test]
    fn drain_summarises() {
        let (f, _) = rich_pcapng();
        let s = drain_bytes(&f);
        assert_eq!((s.packets, s.bytes_consumed), (6, f.len() as u64));
        assert!(s.error.is_none());
        let s = drain_bytes(&f[..f.len() - 1]);
        assert_eq!(s.packets, 5);
        assert!(matches!(s.error, Some(CaptureError::Truncated { .. })));
        let mut r = PcapReader::new(&f[..]).expect("header");
        assert_eq!(drain(&mut r).captured_bytes, 14 + 20 + 9 + 5 + 7 + 4);
    }

    fn arb_packets() -> impl Strategy<Value = Vec<(i64, Vec<u8>, u32)>> {
        prop::collection::vec(
            (
                0i64..4_000_000_000_000_000,
                prop::collection::vec(any::<u8>(), 0..200),
                any::<u32>(),
            ),
            0..20,
        )
    }

    proptest! {
        #[test]
        fn chunked_reads_give_identical_packets(
            pkts in arb_packets(),
            chunks in prop::collection::vec(1usize..64, 1..8),
            pcapng in any::<bool>(),
        ) {
            let file = if pcapng {
                rich_pcapng().0
            } else {
                let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 0).expect("vec");
                for (ts, data, orig) in &pkts {
                    w.write_packet(Timestamp::from_micros(*ts), data, *orig).expect("vec");
                }
                w.into_inner().expect("vec")
            };
            let whole = read_all(&file[..]);
            prop_assert!(whole.1.is_none());
            let chunky = Chunky { data: &file, chunks, calls: 0, fail_at: None, pos: 0 };
            let (got, err) = read_all(chunky);
            prop_assert!(err.is_none(), "{:?}", err);
            prop_assert_eq!(got, whole.0);
        }

        #[test]
        fn writer_reader_round_trip(pkts in arb_packets()) {
            let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 0).expect("vec");
            for (ts, data, orig) in &pkts {
                w.write_packet(Timestamp::from_micros(*ts), data, *orig).expect("vec");
            }
            let (got, err) = read_all(&w.into_inner().expect("vec")[..]);
            prop_assert!(err.is_none());
            let want: Vec<Owned> = pkts
                .into_iter()
                .map(|(ts, data, orig_len)| Owned { ts, link: LinkType::RAW, data, orig_len })
                .collect();
            prop_assert_eq!(got, want);
        }

        /// A cheap stand-in for the fuzz target: corrupt bytes of valid files never panic.
        #[test]
        fn mutated_captures_never_panic(
            pcapng in any::<bool>(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut f = if pcapng {
                rich_pcapng().0
            } else {
                let recs: [(u32, u32, &[u8], u32); 2] = [(1, 1, &[1; 10], 10), (2, 2, &[2; 3], 3)];
                legacy(false, 0xa1b2_c3d4, (2, 4), 1, &recs).0
            };
            for (i, b) in edits {
                let i = i.index(f.len());
                f[i] = b;
            }
            let cut = cut.index(f.len() + 1);
            let s = drain_bytes(&f[..cut]);
            prop_assert!(s.bytes_consumed <= cut as u64);
        }
    }
}
