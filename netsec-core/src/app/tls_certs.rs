//! The server's certificate chain of a TLS handshake, reassembled from the server's side of
//! the stream.
//!
//! The Certificate message of TLS 1.2 and earlier is sent in clear after the ServerHello and
//! is often larger than a segment (a chain of three certificates is 3–5 KB), so it is
//! collected record by record across packets ([`CertificateCollector`]) until the message is
//! whole; then the first certificate (the server's) is read with `x509-parser` for the
//! names, serial and fingerprint rules ask about (`tls.cert_subject`, `tls.cert_issuer`,
//! `tls.cert_serial`, `tls.cert_fingerprint`, `tls.certs`), printed as Suricata prints them.
//! TLS 1.3 encrypts its certificates: there is nothing to collect.
//!
//! ```
//! use netsec_core::app::tls_certs::CertificateCollector;
//!
//! // A ServerHelloDone without a Certificate message before it: nothing, and done.
//! let mut c = CertificateCollector::default();
//! assert!(c.feed(&[22, 3, 3, 0, 4, 14, 0, 0, 0]).is_none());
//! assert!(c.is_done());
//! ```

use std::fmt::Write as _;

use sha1::{Digest, Sha1};

/// Bytes of the server's handshake kept while waiting for its Certificate message: a chain
/// beyond this is not read (Suricata's default `stream.reassembly.depth` is far larger, but
/// real chains are a few KB).
pub const MAX_HANDSHAKE_BYTES: usize = 64 * 1024;

const RECORD_HEADER: usize = 5;
const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
const CONTENT_HANDSHAKE: u8 = 22;
const HANDSHAKE_CERTIFICATE: u8 = 11;
const HANDSHAKE_SERVER_HELLO_DONE: u8 = 14;
const HANDSHAKE_FINISHED: u8 = 20;

/// Collects the server's handshake records, in order, until its Certificate message is
/// whole, the handshake ends without one, or the bytes are not TLS.
#[derive(Debug, Default)]
pub struct CertificateCollector {
    /// Record bytes not yet read (a record cut by a segment boundary).
    records: Vec<u8>,
    /// Handshake bytes not yet read (a message spanning records).
    handshake: Vec<u8>,
    done: bool,
    /// The sequence number of the next byte expected, once the handshake's start was seen
    /// ([`feed_segment`](Self::feed_segment)).
    next_seq: Option<u32>,
    /// Segments that arrived ahead of it (or before the start was seen), by sequence number.
    early: Vec<(u32, Vec<u8>)>,
}

impl CertificateCollector {
    /// Adds a TCP segment of the server's side starting at sequence number `seq`, in
    /// whatever order segments arrive: the handshake starts at the first segment that
    /// begins with a handshake record; segments ahead of the data collected so far wait
    /// (within [`MAX_HANDSHAKE_BYTES`]), bytes already collected (retransmissions) are
    /// skipped. Returns the chain when this segment completed it, as [`feed`](Self::feed).
    pub fn feed_segment(&mut self, seq: u32, data: &[u8]) -> Option<CertChain> {
        if self.done || data.is_empty() {
            return None;
        }
        let Some(next) = self.next_seq else {
            if data.starts_with(&[CONTENT_HANDSHAKE, 3]) {
                self.next_seq = Some(seq);
                return self.feed_in_order(seq, data);
            }
            self.keep_early(seq, data);
            return None;
        };
        // Ahead of what was collected: wait for the gap to fill.
        if (seq.wrapping_sub(next) as i32) > 0 {
            self.keep_early(seq, data);
            return None;
        }
        self.feed_in_order(seq, data)
    }

    /// Feeds the part of `data` (at `seq`, not ahead of `next_seq`) that is new, then every
    /// waiting segment that now continues it.
    fn feed_in_order(&mut self, seq: u32, data: &[u8]) -> Option<CertChain> {
        let mut chain = self.feed_new(seq, data);
        while !self.done && chain.is_none() {
            let Some(next) = self.next_seq else { break };
            // Waiting segments already wholly collected are dropped.
            self.early
                .retain(|(s, d)| (s.wrapping_add(d.len() as u32).wrapping_sub(next) as i32) > 0);
            let Some(i) = self
                .early
                .iter()
                .position(|(s, _)| (s.wrapping_sub(next) as i32) <= 0)
            else {
                break;
            };
            let (s, d) = self.early.swap_remove(i);
            chain = self.feed_new(s, &d);
        }
        chain
    }

    /// Feeds the bytes of `data` (at `seq`) from `next_seq` on.
    fn feed_new(&mut self, seq: u32, data: &[u8]) -> Option<CertChain> {
        let next = self.next_seq?;
        let skip = next.wrapping_sub(seq) as usize;
        let new = data.get(skip..).filter(|d| !d.is_empty())?;
        self.next_seq = Some(next.wrapping_add(new.len() as u32));
        self.feed(new)
    }

    /// Keeps a segment that cannot be read yet, or gives up when too much waits.
    fn keep_early(&mut self, seq: u32, data: &[u8]) {
        let waiting: usize = self.early.iter().map(|(_, d)| d.len()).sum();
        if waiting + data.len() > MAX_HANDSHAKE_BYTES {
            self.finish();
        } else {
            self.early.push((seq, data.to_vec()));
        }
    }

    /// Adds the next bytes the server sent; returns the chain when this data completed the
    /// Certificate message. After the chain, or once the handshake went past where it could
    /// be (encrypted records, a ServerHelloDone, bytes that are not TLS, more than
    /// [`MAX_HANDSHAKE_BYTES`]), it is [done](Self::is_done) and ignores what follows.
    pub fn feed(&mut self, data: &[u8]) -> Option<CertChain> {
        if self.done || data.is_empty() {
            return None;
        }
        if self.records.len() + self.handshake.len() + data.len() > MAX_HANDSHAKE_BYTES {
            self.finish();
            return None;
        }
        self.records.extend_from_slice(data);
        let mut read = 0;
        let mut chain = None;
        while let Some(header) = self.records.get(read..read + RECORD_HEADER) {
            let (content, major) = (header[0], header[1]);
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if major != 3 || !matches!(content, CONTENT_CHANGE_CIPHER_SPEC..=23) {
                self.done = true;
                break;
            }
            let Some(body) = self
                .records
                .get(read + RECORD_HEADER..read + RECORD_HEADER + len)
            else {
                break;
            };
            read += RECORD_HEADER + len;
            match content {
                CONTENT_HANDSHAKE => self.handshake.extend_from_slice(body),
                CONTENT_CHANGE_CIPHER_SPEC => {}
                // An alert or application data: the clear handshake is over.
                _ => {
                    self.done = true;
                    break;
                }
            }
            chain = self.read_messages();
            if self.done {
                break;
            }
        }
        if self.done {
            self.finish();
        } else {
            self.records.drain(..read);
        }
        chain
    }

    /// Reads the whole handshake messages collected so far.
    fn read_messages(&mut self) -> Option<CertChain> {
        let mut read = 0;
        let mut chain = None;
        while let Some(h) = self.handshake.get(read..read + 4) {
            let kind = h[0];
            let len = usize::from(h[1]) << 16 | usize::from(h[2]) << 8 | usize::from(h[3]);
            let Some(body) = self.handshake.get(read + 4..read + 4 + len) else {
                break;
            };
            read += 4 + len;
            match kind {
                HANDSHAKE_CERTIFICATE => {
                    chain = CertChain::parse(body);
                    self.done = true;
                    break;
                }
                HANDSHAKE_SERVER_HELLO_DONE | HANDSHAKE_FINISHED => {
                    self.done = true;
                    break;
                }
                _ => {}
            }
        }
        if !self.done {
            self.handshake.drain(..read);
        }
        chain
    }

    /// Whether it has nothing more to look for.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Bytes it holds now (records, handshake and waiting segments).
    pub fn held_bytes(&self) -> usize {
        self.records.len()
            + self.handshake.len()
            + self.early.iter().map(|(_, d)| d.len()).sum::<usize>()
    }

    /// Stops collecting and lets go of what it holds.
    pub fn abandon(&mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.done = true;
        self.records = Vec::new();
        self.handshake = Vec::new();
        self.early = Vec::new();
    }
}

/// The certificates of a Certificate message, the server's first, with the facts rules read
/// from the server's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertChain {
    /// Every certificate's DER, one after the other.
    der: Vec<u8>,
    /// Where each certificate ends in `der`.
    ends: Vec<usize>,
    subject: String,
    issuer: String,
    serial: String,
    fingerprint: String,
}

impl CertChain {
    /// The chain of a Certificate message's body (a 3-byte length, then each certificate with
    /// its own 3-byte length); `None` when the lengths do not add up or it holds none.
    pub fn parse(body: &[u8]) -> Option<CertChain> {
        let total = u24(body)?;
        let mut rest = body.get(3..3 + total)?;
        let mut der = Vec::with_capacity(total);
        let mut ends = Vec::new();
        while !rest.is_empty() {
            let len = u24(rest)?;
            der.extend_from_slice(rest.get(3..3 + len)?);
            ends.push(der.len());
            rest = &rest[3 + len..];
        }
        let first = der.get(..*ends.first()?)?;
        let mut chain = CertChain {
            fingerprint: fingerprint(first),
            der: Vec::new(),
            ends: Vec::new(),
            subject: String::new(),
            issuer: String::new(),
            serial: String::new(),
        };
        if let Ok((_, cert)) = x509_parser::parse_x509_certificate(first) {
            chain.subject = cert.subject().to_string();
            chain.issuer = cert.issuer().to_string();
            chain.serial = serial(cert.raw_serial());
        }
        chain.der = der;
        chain.ends = ends;
        Some(chain)
    }

    /// How many certificates it holds (`tls.cert_chain_len`).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether it holds none (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every certificate's DER, the server's first (`tls.certs`).
    pub fn certs(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(s, e)| &self.der[s..e])
    }

    /// Every certificate's DER, one after the other.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The server certificate's subject (`C=FR, ST=IDF, O=Stamus, CN=SELKS`; empty when it
    /// does not parse as X.509).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The server certificate's issuer, as the subject.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The server certificate's serial number: upper-case hex bytes joined by `:`.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The SHA-1 of the server certificate's DER: lower-case hex bytes joined by `:`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

fn u24(b: &[u8]) -> Option<usize> {
    let h = b.get(..3)?;
    Some(usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]))
}

fn serial(raw: &[u8]) -> String {
    hex_joined(raw, true)
}

fn fingerprint(der: &[u8]) -> String {
    hex_joined(&Sha1::digest(der), false)
}

/// Bytes as two hex digits each, joined by `:`.
fn hex_joined(bytes: &[u8], upper: bool) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        // Writing to a String cannot fail.
        let _ = if upper {
            write!(s, "{b:02X}")
        } else {
            write!(s, "{b:02x}")
        };
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Certificate message (in one handshake record) holding `certs`.
    fn certificate_record(certs: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for c in certs {
            list.extend_from_slice(&(c.len() as u32).to_be_bytes()[1..]);
            list.extend_from_slice(c);
        }
        let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
        body.extend(list);
        let mut msg = vec![HANDSHAKE_CERTIFICATE];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend(body);
        let mut rec = vec![CONTENT_HANDSHAKE, 3, 3];
        rec.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        rec.extend(msg);
        rec
    }

    #[test]
    fn a_chain_cut_across_segments_is_whole_on_the_last() {
        let hello = [CONTENT_HANDSHAKE, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3];
        let rec = certificate_record(&[b"first cert", b"second"]);
        let mut stream = hello.to_vec();
        stream.extend_from_slice(&rec);
        let mut c = CertificateCollector::default();
        let (a, b) = stream.split_at(hello.len() + 7);
        assert!(c.feed(a).is_none());
        assert!(!c.is_done());
        let chain = c.feed(b).expect("whole");
        assert!(c.is_done());
        assert_eq!(chain.len(), 2);
        let certs: Vec<&[u8]> = chain.certs().collect();
        assert_eq!(certs, [&b"first cert"[..], b"second"]);
        assert_eq!(chain.der(), b"first certsecond");
        // Not X.509: no names, but the fingerprint of the bytes.
        assert_eq!(chain.subject(), "");
        assert_eq!(chain.fingerprint().len(), 59);
        // Done: later data is ignored.
        assert!(c.feed(&rec).is_none());
    }

    #[test]
    fn segments_out_of_order_and_retransmitted_are_put_in_order() {
        let hello = [CONTENT_HANDSHAKE, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3];
        let mut stream = hello.to_vec();
        stream.extend_from_slice(&certificate_record(&[b"the server's cert"]));
        let (a, rest) = stream.split_at(9);
        let (b, c) = rest.split_at(10);
        let base = u32::MAX - 4; // sequence numbers wrap inside the handshake
        let (sb, sc) = (base.wrapping_add(9), base.wrapping_add(19));
        let mut col = CertificateCollector::default();
        // The last segment first, before the start was seen; then the middle one.
        assert!(col.feed_segment(sc, c).is_none());
        assert!(col.feed_segment(sb, b).is_none());
        // The first completes it; a retransmission later changes nothing.
        let chain = col.feed_segment(base, a).expect("whole");
        assert_eq!(
            chain.certs().collect::<Vec<_>>(),
            [&b"the server's cert"[..]]
        );
        assert!(col.feed_segment(base, a).is_none());
        // Overlapping retransmission in the middle of an in-order stream.
        let mut col = CertificateCollector::default();
        assert!(col.feed_segment(100, &stream[..15]).is_none());
        assert!(col.feed_segment(105, &stream[5..20]).is_none());
        assert!(col.feed_segment(120, &stream[20..]).is_some());
    }

    #[test]
    fn encrypted_or_foreign_bytes_end_the_collection() {
        let mut c = CertificateCollector::default();
        assert!(c.feed(&[23, 3, 3, 0, 2, 0xaa, 0xbb]).is_none());
        assert!(c.is_done());
        let mut c = CertificateCollector::default();
        assert!(c.feed(b"HTTP/1.1 200 OK\r\n").is_none());
        assert!(c.is_done());
        let mut c = CertificateCollector::default();
        let big = vec![CONTENT_HANDSHAKE; MAX_HANDSHAKE_BYTES + 1];
        assert!(c.feed(&big).is_none());
        assert!(c.is_done());
    }

    #[test]
    fn lengths_that_do_not_add_up_give_no_chain() {
        assert_eq!(CertChain::parse(&[0, 0, 9, 0, 0, 2, 1]), None);
        assert_eq!(CertChain::parse(&[0, 0, 0]), None);
        assert_eq!(CertChain::parse(&[]), None);
    }

    #[test]
    fn serial_and_fingerprint_are_written_as_suricata_writes_them() {
        assert_eq!(serial(&[0x5c, 0x0a]), "5C:0A");
        assert_eq!(
            fingerprint(b"abc"),
            "a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d"
        );
    }
}
