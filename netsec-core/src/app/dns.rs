//! DNS messages (RFC 1035) over UDP and TCP, read in place.
//!
//! [`DnsMessage::parse`] takes a UDP payload, [`DnsMessage::parse_tcp`] a TCP segment that starts
//! with the 2-byte length prefix of RFC 1035 §4.2.2. Nothing is copied: names, record data and
//! TXT strings borrow the payload.
//!
//! ```
//! use netsec_core::app::dns::{DnsMessage, RData, RecordType};
//!
//! // A response: id 0x1234, one question "a.io" A, one answer (a pointer to the question name).
//! let msg = [
//!     0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, // header
//!     1, b'a', 2, b'i', b'o', 0, 0, 1, 0, 1, // question
//!     0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7, // answer
//! ];
//! let dns = DnsMessage::parse(&msg)?;
//! assert_eq!(dns.id(), 0x1234);
//! assert!(dns.flags().is_response());
//! let q = dns.question().expect("one question");
//! assert_eq!(q.name.to_string(), "a.io");
//! assert_eq!(q.qtype, RecordType::A);
//! let answer = dns.answers().next().expect("one answer");
//! assert_eq!(answer.data(), RData::A([10, 0, 0, 7].into()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Guarantees
//! No input panics or loops: names are walked with at most [`MAX_POINTERS`] compression pointers
//! and at most [`MAX_NAME_WIRE_LEN`] bytes of labels (RFC 1035 §2.3.4), so a pointer loop or an
//! over-long name is an error, not a hang. [`DnsMessage::parse`] checks the header and the whole
//! question section; the resource records are checked in the same pass and the record iterators
//! yield every record up to the first malformed one ([`DnsMessage::records_complete`] tells
//! whether all announced records were read). After `parse` succeeds no accessor panics.
//!
//! # Not handled
//! - TCP reassembly: a message whose length prefix announces more bytes than the segment holds is
//!   [`DnsError::Incomplete`], and a segment that does not start a message is garbage. Only the
//!   first message of a segment is parsed ([`DnsMessage::parse_tcp`] returns the rest).
//! - IP fragments are not reassembled (the decoder hands over the first fragment's payload, which
//!   usually holds the header and question of a large response).
//! - EDNS(0) extended response codes: [`DnsFlags::rcode`] is the 4-bit header code.
//! - DNS over TLS/HTTPS/QUIC is encrypted and out of reach.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;
/// Longest name on the wire, length octets included (RFC 1035 §2.3.4).
pub const MAX_NAME_WIRE_LEN: usize = 255;
/// Longest name in dotted form (253 characters: 255 minus the first length octet and the root).
pub const MAX_NAME_TEXT_LEN: usize = 253;
/// Compression pointers followed per name before it is called a loop.
pub const MAX_POINTERS: usize = 64;
/// Longest label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// Why a payload is not a DNS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// Shorter than the 12-byte header (or the 2-byte TCP length prefix).
    #[error("DNS message truncated: {actual} bytes")]
    TooShort {
        /// Bytes available.
        actual: usize,
    },
    /// A TCP length prefix announces more bytes than the segment holds (not reassembled).
    #[error("DNS over TCP: length prefix {declared} but {available} bytes in the segment")]
    Incomplete {
        /// Length from the prefix.
        declared: usize,
        /// Bytes after the prefix.
        available: usize,
    },
    /// The question section runs past the end or holds a malformed name.
    #[error("malformed DNS question section")]
    BadQuestion,
    /// A name is malformed: runs past the end, uses the reserved label types 0x40/0x80, is longer
    /// than 255 bytes or follows more than [`MAX_POINTERS`] pointers.
    #[error("malformed DNS name")]
    BadName,
}

/// Reads a big-endian u16 at `at`, `None` past the end.
#[inline]
fn be16(buf: &[u8], at: usize) -> Option<u16> {
    match buf.get(at..at.checked_add(2)?)? {
        [a, b] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

/// Reads a big-endian u32 at `at`, `None` past the end.
#[inline]
fn be32(buf: &[u8], at: usize) -> Option<u32> {
    match buf.get(at..at.checked_add(4)?)? {
        [a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// The header flags word (the 16 bits after the id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DnsFlags(pub u16);

impl DnsFlags {
    /// QR: the message is a response.
    pub fn is_response(self) -> bool {
        self.0 & 0x8000 != 0
    }
    /// OPCODE (0 query, 1 inverse query, 2 status, 4 notify, 5 update).
    pub fn opcode(self) -> u8 {
        ((self.0 >> 11) & 0x0f) as u8
    }
    /// AA: authoritative answer.
    pub fn authoritative(self) -> bool {
        self.0 & 0x0400 != 0
    }
    /// TC: truncated (the client should retry over TCP).
    pub fn truncated(self) -> bool {
        self.0 & 0x0200 != 0
    }
    /// RD: recursion desired.
    pub fn recursion_desired(self) -> bool {
        self.0 & 0x0100 != 0
    }
    /// RA: recursion available.
    pub fn recursion_available(self) -> bool {
        self.0 & 0x0080 != 0
    }
    /// RCODE, the 4-bit response code of the header (0 no error, 2 server failure, 3 NXDOMAIN).
    pub fn rcode(self) -> u8 {
        (self.0 & 0x000f) as u8
    }
}

/// A resource-record or query type (`TYPE`/`QTYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordType(pub u16);

impl RecordType {
    /// IPv4 address.
    pub const A: RecordType = RecordType(1);
    /// Name server.
    pub const NS: RecordType = RecordType(2);
    /// Canonical name.
    pub const CNAME: RecordType = RecordType(5);
    /// Start of authority.
    pub const SOA: RecordType = RecordType(6);
    /// Null record (any data; a favourite of DNS tunnels).
    pub const NULL: RecordType = RecordType(10);
    /// Domain-name pointer.
    pub const PTR: RecordType = RecordType(12);
    /// Mail exchange.
    pub const MX: RecordType = RecordType(15);
    /// Text strings.
    pub const TXT: RecordType = RecordType(16);
    /// IPv6 address.
    pub const AAAA: RecordType = RecordType(28);
    /// Service locator.
    pub const SRV: RecordType = RecordType(33);
    /// EDNS(0) pseudo-record.
    pub const OPT: RecordType = RecordType(41);
    /// HTTPS service binding.
    pub const HTTPS: RecordType = RecordType(65);
    /// Zone transfer.
    pub const AXFR: RecordType = RecordType(252);
    /// Any type.
    pub const ANY: RecordType = RecordType(255);

    /// The mnemonic (`"A"`, `"AAAA"` …) for the types named above.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::A => "A",
            Self::NS => "NS",
            Self::CNAME => "CNAME",
            Self::SOA => "SOA",
            Self::NULL => "NULL",
            Self::PTR => "PTR",
            Self::MX => "MX",
            Self::TXT => "TXT",
            Self::AAAA => "AAAA",
            Self::SRV => "SRV",
            Self::OPT => "OPT",
            Self::HTTPS => "HTTPS",
            Self::AXFR => "AXFR",
            Self::ANY => "ANY",
            _ => return None,
        })
    }
}

impl fmt::Display for RecordType {
    /// The mnemonic, or `TYPE<n>` (RFC 3597) for others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

/// One step of a name walk.
enum Step {
    /// A label at `start..start + len`.
    Label { start: usize, len: usize },
    /// The terminating root label.
    End,
}

/// Walks the name at `at` in `msg`, calling `on_label` for each label, and returns the offset
/// just after the name *where it started* (after the first pointer or the root label).
///
/// # Errors
/// [`DnsError::BadName`] for every malformation listed there.
fn walk_name(msg: &[u8], at: usize, mut on_label: impl FnMut(&[u8])) -> Result<usize, DnsError> {
    let mut pos = at;
    let mut end_after = None;
    let mut pointers = 0usize;
    let mut wire_len = 0usize;
    loop {
        let step = step(msg, &mut pos, &mut pointers, &mut end_after)?;
        match step {
            Step::End => {
                wire_len += 1;
                if wire_len > MAX_NAME_WIRE_LEN {
                    return Err(DnsError::BadName);
                }
                return Ok(end_after.unwrap_or(pos));
            }
            Step::Label { start, len } => {
                wire_len += 1 + len;
                if wire_len > MAX_NAME_WIRE_LEN {
                    return Err(DnsError::BadName);
                }
                on_label(msg.get(start..start + len).ok_or(DnsError::BadName)?);
            }
        }
    }
}

/// Reads the next label at `*pos`, following pointers; records where the name ends in the
/// original sequence on the first pointer.
#[inline]
fn step(
    msg: &[u8],
    pos: &mut usize,
    pointers: &mut usize,
    end_after: &mut Option<usize>,
) -> Result<Step, DnsError> {
    loop {
        let len = *msg.get(*pos).ok_or(DnsError::BadName)? as usize;
        match len & 0xc0 {
            0x00 if len == 0 => {
                *pos += 1;
                return Ok(Step::End);
            }
            0x00 => {
                let start = *pos + 1;
                if start + len > msg.len() {
                    return Err(DnsError::BadName);
                }
                *pos = start + len;
                return Ok(Step::Label { start, len });
            }
            0xc0 => {
                let target = be16(msg, *pos).ok_or(DnsError::BadName)? & 0x3fff;
                if end_after.is_none() {
                    *end_after = Some(*pos + 2);
                }
                *pointers += 1;
                if *pointers > MAX_POINTERS {
                    return Err(DnsError::BadName);
                }
                *pos = target as usize;
            }
            // 0x40 (extended label types, RFC 6891 §5) and 0x80 are reserved.
            _ => return Err(DnsError::BadName),
        }
    }
}

/// A domain name inside a message, possibly compressed; validated when it was found, so its
/// labels can be walked without errors.
///
/// `Display` writes the dotted form with RFC 1035 master-file escapes: printable ASCII as is,
/// `.` and `\` inside a label as `\.` and `\\`, other bytes as `\DDD`; the root name is `.`.
/// [`Name::write_dotted`] writes the raw bytes instead, for matching.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    start: usize,
}

impl<'a> Name<'a> {
    /// Validates the name at offset `at` of `msg` (the whole message, for pointers) and returns
    /// it with the offset just after it.
    ///
    /// # Errors
    /// [`DnsError::BadName`] when the name is malformed (see there).
    pub fn parse(msg: &'a [u8], at: usize) -> Result<(Name<'a>, usize), DnsError> {
        let end = walk_name(msg, at, |_| {})?;
        Ok((Name { msg, start: at }, end))
    }

    /// The labels, first (leftmost) to last, without the root.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            pos: self.start,
            pointers: 0,
            done: false,
        }
    }

    /// Number of labels (0 for the root).
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// Length of the dotted form without escapes (0 for the root).
    pub fn text_len(&self) -> usize {
        let (mut n, mut labels) = (0usize, 0usize);
        for l in self.labels() {
            n += l.len();
            labels += 1;
        }
        n + labels.saturating_sub(1)
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.labels().next().is_none()
    }

    /// Writes the dotted name, raw bytes and no escapes (`www.example.com`, empty for the root),
    /// into `buf` and returns the written part. A validated name always fits
    /// ([`MAX_NAME_TEXT_LEN`] bytes).
    pub fn write_dotted<'b>(&self, buf: &'b mut [u8; MAX_NAME_WIRE_LEN]) -> &'b [u8] {
        let mut n = 0;
        for label in self.labels() {
            let sep = usize::from(n > 0);
            let Some(dst) = buf.get_mut(n..n + sep + label.len()) else {
                break;
            };
            if sep == 1 {
                dst[0] = b'.';
            }
            dst[sep..].copy_from_slice(label);
            n += sep + label.len();
        }
        &buf[..n]
    }

    /// Whether the dotted form equals `dotted`, ignoring ASCII case (a trailing `.` in `dotted`
    /// is allowed).
    pub fn eq_ignore_ascii_case(&self, dotted: &str) -> bool {
        let mut rest = dotted.strip_suffix('.').unwrap_or(dotted).as_bytes();
        let mut first = true;
        for label in self.labels() {
            if !first {
                match rest.split_first() {
                    Some((b'.', r)) => rest = r,
                    _ => return false,
                }
            }
            first = false;
            match rest.get(..label.len()) {
                Some(head) if head.eq_ignore_ascii_case(label) => rest = &rest[label.len()..],
                _ => return false,
            }
        }
        rest.is_empty()
    }

    /// Writes the escaped dotted form (see the type docs) to `w`, without allocating.
    ///
    /// # Errors
    /// Whatever `w` returns.
    pub fn write_escaped<W: fmt::Write>(&self, w: &mut W) -> fmt::Result {
        let mut first = true;
        for label in self.labels() {
            if !first {
                w.write_char('.')?;
            }
            first = false;
            for &b in label {
                match b {
                    b'.' | b'\\' => {
                        w.write_char('\\')?;
                        w.write_char(b as char)?;
                    }
                    0x21..=0x7e => w.write_char(b as char)?,
                    _ => write!(w, "\\{b:03}")?,
                }
            }
        }
        if first {
            w.write_char('.')?;
        }
        Ok(())
    }
}

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_escaped(f)
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name(\"{self}\")")
    }
}

impl PartialEq for Name<'_> {
    /// Label by label, bytes compared exactly (use [`Name::eq_ignore_ascii_case`] for DNS's
    /// case-insensitive comparison against text).
    fn eq(&self, other: &Self) -> bool {
        self.labels().eq(other.labels())
    }
}

impl Eq for Name<'_> {}

/// Iterator over the labels of a [`Name`], following compression pointers.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
    pointers: usize,
    done: bool,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        let mut end_after = Some(0); // not needed here
        match step(self.msg, &mut self.pos, &mut self.pointers, &mut end_after) {
            Ok(Step::Label { start, len }) => self.msg.get(start..start + len),
            // A validated name never fails; stop quietly if it somehow does.
            Ok(Step::End) | Err(_) => {
                self.done = true;
                None
            }
        }
    }
}

/// One entry of the question section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question<'a> {
    /// QNAME.
    pub name: Name<'a>,
    /// QTYPE.
    pub qtype: RecordType,
    /// QCLASS (1 = IN; mDNS sets the top bit for unicast responses).
    pub qclass: u16,
}

/// The section a resource record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// Answer section.
    Answer,
    /// Authority section.
    Authority,
    /// Additional section.
    Additional,
}

/// One resource record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Section.
    pub section: Section,
    /// Owner name.
    pub name: Name<'a>,
    /// TYPE.
    pub rtype: RecordType,
    /// CLASS (for OPT: the sender's UDP payload size).
    pub class: u16,
    /// TTL in seconds (for OPT: extended rcode and flags).
    pub ttl: u32,
    /// RDATA bytes.
    pub rdata: &'a [u8],
    /// The whole message and the offset of `rdata` in it, for names inside RDATA.
    msg: &'a [u8],
    rdata_at: usize,
}

/// Interpreted RDATA of the record types the parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RData<'a> {
    /// A record.
    A(Ipv4Addr),
    /// AAAA record.
    Aaaa(Ipv6Addr),
    /// CNAME target.
    Cname(Name<'a>),
    /// PTR target.
    Ptr(Name<'a>),
    /// NS target.
    Ns(Name<'a>),
    /// TXT character-strings.
    Txt(TxtStrings<'a>),
    /// Another type: the raw RDATA.
    Other(&'a [u8]),
    /// A known type whose RDATA does not have its shape (wrong length, bad name).
    Malformed(&'a [u8]),
}

impl<'a> Record<'a> {
    /// The RDATA, interpreted for A, AAAA, CNAME, PTR, NS and TXT.
    pub fn data(&self) -> RData<'a> {
        let bad = RData::Malformed(self.rdata);
        match self.rtype {
            RecordType::A => match <[u8; 4]>::try_from(self.rdata) {
                Ok(a) => RData::A(a.into()),
                Err(_) => bad,
            },
            RecordType::AAAA => match <[u8; 16]>::try_from(self.rdata) {
                Ok(a) => RData::Aaaa(a.into()),
                Err(_) => bad,
            },
            RecordType::CNAME | RecordType::PTR | RecordType::NS => match self.rdata_name() {
                Some(n) if self.rtype == RecordType::CNAME => RData::Cname(n),
                Some(n) if self.rtype == RecordType::PTR => RData::Ptr(n),
                Some(n) => RData::Ns(n),
                None => bad,
            },
            RecordType::TXT => {
                let txt = TxtStrings { rest: self.rdata };
                if txt.is_well_formed() {
                    RData::Txt(txt)
                } else {
                    bad
                }
            }
            _ => RData::Other(self.rdata),
        }
    }

    /// The name at the start of RDATA, when it is valid and ends inside RDATA.
    fn rdata_name(&self) -> Option<Name<'a>> {
        let (name, end) = Name::parse(self.msg, self.rdata_at).ok()?;
        (end <= self.rdata_at + self.rdata.len()).then_some(name)
    }
}

/// The character-strings of TXT RDATA (each a length byte and that many bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxtStrings<'a> {
    rest: &'a [u8],
}

impl TxtStrings<'_> {
    fn is_well_formed(&self) -> bool {
        let mut rest = self.rest;
        while let Some((&len, tail)) = rest.split_first() {
            match tail.get(len as usize..) {
                Some(r) => rest = r,
                None => return false,
            }
        }
        true
    }
}

impl<'a> Iterator for TxtStrings<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, tail) = self.rest.split_first()?;
        let len = len as usize;
        let s = tail.get(..len)?;
        self.rest = tail.get(len..).unwrap_or(&[]);
        Some(s)
    }
}

/// A DNS message borrowed from a payload. See the module docs for what is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DnsMessage<'a> {
    msg: &'a [u8],
    /// Offset just after the question section.
    questions_end: usize,
    /// Records (all sections) that parsed, in order.
    records_ok: u32,
}

impl<'a> DnsMessage<'a> {
    /// Parses a message that fills `payload` (a UDP datagram's payload).
    ///
    /// # Errors
    /// [`DnsError::TooShort`] below 12 bytes; [`DnsError::BadQuestion`] when the question section
    /// does not parse.
    pub fn parse(payload: &'a [u8]) -> Result<Self, DnsError> {
        if payload.len() < HEADER_LEN {
            return Err(DnsError::TooShort {
                actual: payload.len(),
            });
        }
        let mut pos = HEADER_LEN;
        let qdcount = be16(payload, 4).unwrap_or(0);
        for _ in 0..qdcount {
            let (_, end) = Name::parse(payload, pos).map_err(|_| DnsError::BadQuestion)?;
            if end + 4 > payload.len() {
                return Err(DnsError::BadQuestion);
            }
            pos = end + 4;
        }
        let questions_end = pos;
        let mut records_ok = 0u32;
        let total = [6, 8, 10]
            .iter()
            .map(|&at| u32::from(be16(payload, at).unwrap_or(0)))
            .sum::<u32>();
        for _ in 0..total {
            match record_end(payload, pos) {
                Some(end) => {
                    pos = end;
                    records_ok += 1;
                }
                None => break,
            }
        }
        Ok(DnsMessage {
            msg: payload,
            questions_end,
            records_ok,
        })
    }

    /// Parses the first message of a TCP segment that starts with the 2-byte length prefix and
    /// returns it with the bytes after it (possibly the next message).
    ///
    /// # Errors
    /// [`DnsError::TooShort`] when the segment holds no prefix; [`DnsError::Incomplete`] when the
    /// message continues in a later segment (not reassembled); otherwise as [`DnsMessage::parse`].
    pub fn parse_tcp(segment: &'a [u8]) -> Result<(Self, &'a [u8]), DnsError> {
        let declared = be16(segment, 0).ok_or(DnsError::TooShort {
            actual: segment.len(),
        })? as usize;
        let body = segment.get(2..).unwrap_or(&[]);
        match (body.get(..declared), body.get(declared..)) {
            (Some(msg), Some(rest)) => Ok((Self::parse(msg)?, rest)),
            _ => Err(DnsError::Incomplete {
                declared,
                available: body.len(),
            }),
        }
    }

    /// The raw message bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.msg
    }

    /// Transaction id.
    pub fn id(&self) -> u16 {
        be16(self.msg, 0).unwrap_or(0)
    }

    /// The flags word.
    pub fn flags(&self) -> DnsFlags {
        DnsFlags(be16(self.msg, 2).unwrap_or(0))
    }

    /// QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT as announced in the header.
    pub fn counts(&self) -> [u16; 4] {
        [4, 6, 8, 10].map(|at| be16(self.msg, at).unwrap_or(0))
    }

    /// Whether every record announced in the header was read.
    pub fn records_complete(&self) -> bool {
        let [_, an, ns, ar] = self.counts();
        self.records_ok == u32::from(an) + u32::from(ns) + u32::from(ar)
    }

    /// The question entries.
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            msg: self.msg,
            pos: HEADER_LEN,
            end: self.questions_end,
        }
    }

    /// The first question (the only one in practice), if any.
    pub fn question(&self) -> Option<Question<'a>> {
        self.questions().next()
    }

    /// All well-formed resource records, in message order, with their section.
    pub fn records(&self) -> Records<'a> {
        let [_, an, ns, _] = self.counts();
        Records {
            msg: self.msg,
            pos: self.questions_end,
            index: 0,
            remaining: self.records_ok,
            answers: u32::from(an),
            authority: u32::from(ns),
        }
    }

    /// The answer-section records.
    pub fn answers(&self) -> impl Iterator<Item = Record<'a>> {
        self.records().take_while(|r| r.section == Section::Answer)
    }
}

/// The offset after the record at `pos`, when it is whole.
fn record_end(msg: &[u8], pos: usize) -> Option<usize> {
    let (_, at) = Name::parse(msg, pos).ok()?;
    let rdlen = be16(msg, at + 8)? as usize;
    let end = at + 10 + rdlen;
    (end <= msg.len()).then_some(end)
}

/// Iterator over the question section.
#[derive(Debug, Clone)]
pub struct Questions<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Iterator for Questions<'a> {
    type Item = Question<'a>;

    fn next(&mut self) -> Option<Question<'a>> {
        if self.pos >= self.end {
            return None;
        }
        let (name, at) = Name::parse(self.msg, self.pos).ok()?;
        let qtype = RecordType(be16(self.msg, at)?);
        let qclass = be16(self.msg, at + 2)?;
        self.pos = at + 4;
        Some(Question {
            name,
            qtype,
            qclass,
        })
    }
}

/// Iterator over the resource records of all sections (up to the first malformed one).
#[derive(Debug, Clone)]
pub struct Records<'a> {
    msg: &'a [u8],
    pos: usize,
    index: u32,
    remaining: u32,
    answers: u32,
    authority: u32,
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        if self.remaining == 0 {
            return None;
        }
        let (name, at) = Name::parse(self.msg, self.pos).ok()?;
        let rtype = RecordType(be16(self.msg, at)?);
        let class = be16(self.msg, at + 2)?;
        let ttl = be32(self.msg, at + 4)?;
        let rdlen = be16(self.msg, at + 8)? as usize;
        let rdata_at = at + 10;
        let rdata = self.msg.get(rdata_at..rdata_at + rdlen)?;
        let section = if self.index < self.answers {
            Section::Answer
        } else if self.index < self.answers + self.authority {
            Section::Authority
        } else {
            Section::Additional
        };
        self.pos = rdata_at + rdlen;
        self.index += 1;
        self.remaining -= 1;
        Some(Record {
            section,
            name,
            rtype,
            class,
            ttl,
            rdata,
            msg: self.msg,
            rdata_at,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining as usize, Some(self.remaining as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Response for www.example.com A with a CNAME and an A answer, names compressed.
    fn response() -> Vec<u8> {
        let mut m = vec![0xab, 0xcd, 0x81, 0x83, 0, 1, 0, 2, 0, 0, 0, 0];
        m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
        // CNAME www.example.com -> cdn.example.com (pointer to "example.com" at 16)
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 0, 0, 6]);
        m.extend_from_slice(b"\x03cdn\xc0\x10");
        // A cdn.example.com (pointer to the CNAME target at 45)
        m.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 1]);
        m
    }

    #[test]
    fn parses_header_question_and_answers() {
        let m = response();
        let dns = DnsMessage::parse(&m).expect("parses");
        assert_eq!(dns.id(), 0xabcd);
        let f = dns.flags();
        assert!(f.is_response() && f.recursion_desired() && f.recursion_available());
        assert_eq!((f.opcode(), f.rcode()), (0, 3));
        assert_eq!(dns.counts(), [1, 2, 0, 0]);
        let q = dns.question().expect("question");
        assert_eq!(q.name.to_string(), "www.example.com");
        assert!(q.name.eq_ignore_ascii_case("WWW.Example.com."));
        assert!(!q.name.eq_ignore_ascii_case("www.example.co"));
        assert!(!q.name.eq_ignore_ascii_case("www.example.comx"));
        assert_eq!((q.qtype, q.qclass), (RecordType::A, 1));
        assert!(dns.records_complete());
        let answers: Vec<_> = dns.answers().collect();
        assert_eq!(answers.len(), 2);
        assert_eq!(answers[0].rtype, RecordType::CNAME);
        match answers[0].data() {
            RData::Cname(n) => assert_eq!(n.to_string(), "cdn.example.com"),
            other => panic!("{other:?}"),
        }
        assert_eq!(answers[1].name.to_string(), "cdn.example.com");
        assert_eq!(answers[1].ttl, 30);
        assert_eq!(answers[1].data(), RData::A(Ipv4Addr::new(192, 0, 2, 1)));
        let mut buf = [0u8; MAX_NAME_WIRE_LEN];
        assert_eq!(answers[1].name.write_dotted(&mut buf), b"cdn.example.com");
        assert_eq!(answers[1].name.text_len(), 15);
        assert_eq!(answers[1].name.label_count(), 3);
    }

    #[test]
    fn every_truncated_prefix_is_an_error_or_partial() {
        let m = response();
        for n in 0..m.len() {
            match DnsMessage::parse(&m[..n]) {
                Ok(dns) => {
                    assert!(n >= 33, "question needs 33 bytes, parsed at {n}");
                    assert!(!dns.records_complete());
                    for r in dns.records() {
                        let _ = r.data();
                    }
                }
                Err(_) => assert!(n < 33),
            }
        }
    }

    #[test]
    fn pointer_loops_and_long_names_are_errors() {
        // A name that points at itself.
        let mut m = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1];
        assert_eq!(DnsMessage::parse(&m), Err(DnsError::BadQuestion));
        assert_eq!(Name::parse(&m, 12).map(|_| ()), Err(DnsError::BadName));
        // Two pointers pointing at each other.
        m.truncate(12);
        m.extend_from_slice(&[0xc0, 14, 0xc0, 12]);
        assert_eq!(Name::parse(&m, 12).map(|_| ()), Err(DnsError::BadName));
        // A label chain longer than 255 bytes.
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend_from_slice(&[b'a'; 63]);
        }
        long.push(0);
        assert_eq!(Name::parse(&long, 0).map(|_| ()), Err(DnsError::BadName));
        // Reserved label type.
        assert_eq!(
            Name::parse(&[0x41, 0], 0).map(|_| ()),
            Err(DnsError::BadName)
        );
        // The longest legal name: 253 characters.
        let mut ok = Vec::new();
        for _ in 0..3 {
            ok.push(63);
            ok.extend_from_slice(&[b'b'; 63]);
        }
        ok.push(61);
        ok.extend_from_slice(&[b'c'; 61]);
        ok.push(0);
        let (name, end) = Name::parse(&ok, 0).expect("255 bytes is legal");
        assert_eq!(end, 255);
        assert_eq!(name.text_len(), MAX_NAME_TEXT_LEN);
        let mut buf = [0u8; MAX_NAME_WIRE_LEN];
        assert_eq!(name.write_dotted(&mut buf).len(), MAX_NAME_TEXT_LEN);
    }

    #[test]
    fn escapes_odd_bytes_and_prints_root() {
        let m = b"\x04a.b\xff\x00";
        let (n, _) = Name::parse(m, 0).expect("valid");
        assert_eq!(n.to_string(), "a\\.b\\255");
        let (root, end) = Name::parse(b"\x00", 0).expect("root");
        assert_eq!(
            (root.to_string(), end, root.is_root()),
            (".".to_string(), 1, true)
        );
    }

    #[test]
    fn tcp_prefix_and_incomplete_messages() {
        let m = response();
        let mut seg = (m.len() as u16).to_be_bytes().to_vec();
        seg.extend_from_slice(&m);
        seg.extend_from_slice(&[0, 12]);
        let (dns, rest) = DnsMessage::parse_tcp(&seg).expect("whole");
        assert_eq!((dns.id(), rest), (0xabcd, &[0u8, 12][..]));
        assert_eq!(
            DnsMessage::parse_tcp(&seg[..20]),
            Err(DnsError::Incomplete {
                declared: m.len(),
                available: 18
            })
        );
        assert!(matches!(
            DnsMessage::parse_tcp(&[0]),
            Err(DnsError::TooShort { actual: 1 })
        ));
    }

    #[test]
    fn txt_and_malformed_rdata() {
        let mut m = vec![0, 1, 0x80, 0, 0, 0, 0, 3, 0, 0, 0, 0];
        // TXT with two strings.
        m.extend_from_slice(&[
            0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 7, 2, b'h', b'i', 3, b'a', b'b', b'c',
        ]);
        // A with 3 bytes: malformed.
        m.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
        // TXT whose string runs past RDATA.
        m.extend_from_slice(&[0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 2, 5, b'x']);
        let dns = DnsMessage::parse(&m).expect("parses");
        let recs: Vec<_> = dns.records().collect();
        assert_eq!(recs.len(), 3);
        match recs[0].data() {
            RData::Txt(t) => assert_eq!(t.collect::<Vec<_>>(), vec![&b"hi"[..], b"abc"]),
            other => panic!("{other:?}"),
        }
        assert_eq!(recs[1].data(), RData::Malformed(&[1, 2, 3]));
        assert_eq!(recs[2].data(), RData::Malformed(&[5, b'x']));
    }

    #[test]
    fn cname_pointing_outside_rdata_is_malformed() {
        let mut m = vec![0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        // CNAME rdata of length 1 whose name is 3 bytes long.
        m.extend_from_slice(&[0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 1, 1, b'a', 0]);
        let dns = DnsMessage::parse(&m).expect("parses");
        let r = dns.records().next().expect("one record");
        assert!(matches!(r.data(), RData::Malformed(_)));
    }

    #[test]
    fn record_types_print_mnemonics() {
        assert_eq!(RecordType::AAAA.to_string(), "AAAA");
        assert_eq!(RecordType(99).to_string(), "TYPE99");
    }
}
