//! TLS handshake parser: ClientHello (SNI, ALPN, versions, JA4 and JA3 fingerprints) and
//! ServerHello (negotiated version and cipher suite), zero-copy over one packet payload.
//!
//! [`parse`] reads the first handshake message of the first TLS record in a TCP payload.
//! Nothing is copied: every field borrows the payload. Nothing panics on any input.
//!
//! # What is not reassembled
//! Only the bytes of the given payload are read. A ClientHello that spans several TCP
//! segments (large post-quantum key shares make Chrome's and Firefox's hellos ~1.8 kB, over one
//! segment) or several TLS records is parsed as far as the payload goes: the extensions that
//! are whole are read, [`ClientHello::complete`] is `false`, and the fingerprints, which need
//! every extension, are not computed. QUIC carries its ClientHello in encrypted Initial packets,
//! which are not decrypted, so there is no `q` JA4 yet. SSLv2-compatible hellos are not parsed.
//!
//! # Why a hand parser
//! The rusticata `tls-parser` crate parses whole records into `Vec`s of ciphers and extensions
//! (an allocation per message) and rejects a message cut by the segment end, which is the
//! common case for modern ClientHellos; this parser walks the extension block in place and
//! allocates nothing (see the `app_parsers` bench for the figures).

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::cursor::{u16s, Cursor};

/// TLS record content types (RFC 8446 §5.1).
const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;
/// Handshake message types (RFC 8446 §4).
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;

/// Extension types used here (IANA TLS ExtensionType registry).
mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
}

/// Why a payload is not a TLS hello this parser reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// Not a TLS handshake record (other content type or version bytes).
    #[error("not a TLS handshake record")]
    NotTls,
    /// A handshake message other than ClientHello or ServerHello.
    #[error("handshake message type {0} is not a hello")]
    OtherMessage(u8),
    /// The hello's fixed fields are cut short by the end of the payload.
    #[error("TLS hello truncated")]
    Truncated,
}

/// Whether `v` is a GREASE value (RFC 8701: `0x?a?a` with equal bytes).
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// Human-readable name of a TLS protocol version (`"TLS 1.2"`), as Suricata's EVE writes it.
pub fn version_name(v: u16) -> Option<&'static str> {
    Some(match v {
        0x0200 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        0x7f00..=0x7fff => "TLS 1.3 draft",
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        _ => return None,
    })
}

/// A hello message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hello<'a> {
    /// Sent by the client.
    Client(ClientHello<'a>),
    /// Sent by the server.
    Server(ServerHello),
}

/// A ClientHello; slices borrow the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// `legacy_version` of the hello (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// The 32 random bytes.
    pub random: &'a [u8],
    /// Cipher suites, raw big-endian pairs (GREASE included).
    cipher_bytes: &'a [u8],
    /// The whole extensions present (type, length, data), in order.
    extension_bytes: &'a [u8],
    /// Server name from the first `host_name` entry of the SNI extension.
    pub sni: Option<&'a [u8]>,
    /// `ProtocolNameList` of the ALPN extension (each entry length-prefixed).
    alpn: Option<&'a [u8]>,
    /// `supported_versions` list, raw pairs.
    supported_versions: Option<&'a [u8]>,
    /// `signature_algorithms` list, raw pairs.
    sig_algs: Option<&'a [u8]>,
    /// `supported_groups` list, raw pairs.
    groups: Option<&'a [u8]>,
    /// `ec_point_formats` list, one byte each.
    point_formats: Option<&'a [u8]>,
    /// Every extension of the hello was in the payload.
    pub complete: bool,
}

/// A ServerHello (also a TLS 1.3 HelloRetryRequest, which has the same shape).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version` of the hello.
    pub legacy_version: u16,
    /// The 32 random bytes.
    pub random: [u8; 32],
    /// The chosen cipher suite.
    pub cipher: u16,
    /// `supported_versions` selected version (TLS 1.3), if sent.
    pub selected_version: Option<u16>,
}

impl ServerHello {
    /// The negotiated version: the `supported_versions` selection, else `legacy_version`.
    pub fn version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

/// Parses the first handshake message of the first TLS handshake record of `payload` (alert
/// and change_cipher_spec records before it are skipped).
///
/// # Errors
/// [`TlsError::NotTls`] when the payload does not start with a TLS handshake record,
/// [`TlsError::OtherMessage`] for other handshake messages, [`TlsError::Truncated`] when the
/// hello's fixed fields (before the extensions) are cut short.
pub fn parse(payload: &[u8]) -> Result<Hello<'_>, TlsError> {
    let mut c = Cursor::new(payload);
    let record = loop {
        let (Some(kind), Some(version), Some(record_len)) = (c.u8(), c.u16(), c.u16()) else {
            return Err(TlsError::NotTls);
        };
        if version >> 8 != 3 || version & 0xff > 4 || record_len == 0 {
            return Err(TlsError::NotTls);
        }
        match kind {
            // The record and the message may both extend past this payload: read what is here.
            CONTENT_HANDSHAKE => {
                break &c.rest()[..c.rest().len().min(usize::from(record_len))];
            }
            // A warning alert (e.g. unrecognized_name) or change_cipher_spec may precede the
            // hello in the same segment.
            CONTENT_CHANGE_CIPHER_SPEC | CONTENT_ALERT => {
                c.take(usize::from(record_len)).ok_or(TlsError::NotTls)?;
            }
            _ => return Err(TlsError::NotTls),
        }
    };
    let mut c = Cursor::new(record);
    let kind = c.u8().ok_or(TlsError::Truncated)?;
    let len = c.u24().ok_or(TlsError::Truncated)?;
    let body = &c.rest()[..c.rest().len().min(len)];
    let whole = body.len() == len;
    match kind {
        CLIENT_HELLO => client_hello(body, whole).map(Hello::Client),
        SERVER_HELLO => server_hello(body).map(Hello::Server),
        other => Err(TlsError::OtherMessage(other)),
    }
}

fn client_hello(body: &[u8], whole: bool) -> Result<ClientHello<'_>, TlsError> {
    let mut c = Cursor::new(body);
    let legacy_version = c.u16().ok_or(TlsError::Truncated)?;
    let random = c.take(32).ok_or(TlsError::Truncated)?;
    c.vec8().ok_or(TlsError::Truncated)?; // legacy_session_id
    let cipher_bytes = c.vec16().ok_or(TlsError::Truncated)?;
    c.vec8().ok_or(TlsError::Truncated)?; // legacy_compression_methods
    let mut hello = ClientHello {
        legacy_version,
        random,
        cipher_bytes,
        extension_bytes: &[],
        sni: None,
        alpn: None,
        supported_versions: None,
        sig_algs: None,
        groups: None,
        point_formats: None,
        complete: whole,
    };
    if c.is_empty() {
        // A hello without extensions (TLS 1.0 era) ends here.
        return Ok(hello);
    }
    let Some(declared) = c.u16() else {
        hello.complete = false;
        return Ok(hello);
    };
    let block = c.rest();
    let block = &block[..block.len().min(usize::from(declared))];
    let mut exts = Cursor::new(block);
    let mut whole_len = 0;
    while let (Some(kind), Some(data)) = (exts.u16(), exts.vec16()) {
        whole_len = block.len() - exts.rest().len();
        let list16 = || Cursor::new(data).vec16();
        match kind {
            ext::SERVER_NAME => hello.sni = hello.sni.or_else(|| first_host_name(data)),
            ext::ALPN => hello.alpn = list16(),
            ext::SUPPORTED_VERSIONS => hello.supported_versions = Cursor::new(data).vec8(),
            ext::SIGNATURE_ALGORITHMS => hello.sig_algs = list16(),
            ext::SUPPORTED_GROUPS => hello.groups = list16(),
            ext::EC_POINT_FORMATS => hello.point_formats = Cursor::new(data).vec8(),
            _ => {}
        }
    }
    hello.extension_bytes = &block[..whole_len];
    hello.complete &= whole_len == usize::from(declared);
    Ok(hello)
}

/// The first `host_name` (type 0) of a `ServerNameList` (RFC 6066 §3).
fn first_host_name(data: &[u8]) -> Option<&[u8]> {
    let mut list = Cursor::new(Cursor::new(data).vec16()?);
    while let (Some(kind), Some(name)) = (list.u8(), list.vec16()) {
        if kind == 0 {
            return Some(name);
        }
    }
    None
}

fn server_hello(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut c = Cursor::new(body);
    let legacy_version = c.u16().ok_or(TlsError::Truncated)?;
    let mut random = [0; 32];
    random.copy_from_slice(c.take(32).ok_or(TlsError::Truncated)?);
    c.vec8().ok_or(TlsError::Truncated)?; // legacy_session_id_echo
    let cipher = c.u16().ok_or(TlsError::Truncated)?;
    c.u8().ok_or(TlsError::Truncated)?; // legacy_compression_method
    let mut selected_version = None;
    if let Some(block) = c.vec16() {
        let mut exts = Cursor::new(block);
        while let (Some(kind), Some(data)) = (exts.u16(), exts.vec16()) {
            if kind == ext::SUPPORTED_VERSIONS {
                selected_version = Cursor::new(data).u16();
            }
        }
    }
    Ok(ServerHello {
        legacy_version,
        random,
        cipher,
        selected_version,
    })
}

/// One extension of a hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    /// Extension type.
    pub kind: u16,
    /// Extension data.
    pub data: &'a [u8],
}

impl<'a> ClientHello<'a> {
    /// Cipher suites in hello order, GREASE included.
    pub fn ciphers(&self) -> impl Iterator<Item = u16> + 'a {
        u16s(self.cipher_bytes)
    }

    /// The extensions present in the payload, in hello order, GREASE included.
    pub fn extensions(&self) -> impl Iterator<Item = Extension<'a>> + 'a {
        let mut c = Cursor::new(self.extension_bytes);
        std::iter::from_fn(move || {
            Some(Extension {
                kind: c.u16()?,
                data: c.vec16()?,
            })
        })
    }

    /// ALPN protocol names in preference order (empty when there is no ALPN extension).
    pub fn alpn(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut c = Cursor::new(self.alpn.unwrap_or_default());
        std::iter::from_fn(move || c.vec8())
    }

    /// Signature algorithms in hello order.
    pub fn signature_algorithms(&self) -> impl Iterator<Item = u16> + 'a {
        u16s(self.sig_algs.unwrap_or_default())
    }

    /// The SNI as text, when it is valid UTF-8 (host names are ASCII).
    pub fn sni_str(&self) -> Option<&'a str> {
        self.sni.and_then(|s| std::str::from_utf8(s).ok())
    }

    /// The highest version the client offers: the highest non-GREASE `supported_versions`
    /// entry when the extension is present, else `legacy_version`.
    pub fn version(&self) -> u16 {
        self.supported_versions
            .and_then(|v| u16s(v).filter(|v| !is_grease(*v)).max())
            .unwrap_or(self.legacy_version)
    }

    /// The JA4 fingerprint (FoxIO spec, TCP `t` variant); `None` unless the hello is
    /// [`complete`](Self::complete).
    ///
    /// `t` + version + `d`/`i` (SNI present or not) + cipher count + extension count (both
    /// two digits, GREASE ignored, capped at 99) + first and last character of the first ALPN
    /// value, `_`, the first 12 hex digits of SHA-256 over the sorted cipher list, `_`, the same
    /// over the sorted extension list without SNI and ALPN, `_`, and the signature algorithms
    /// in hello order.
    pub fn ja4(&self) -> Option<Ja4> {
        if !self.complete {
            return None;
        }
        let mut out = [b'0'; 36];
        out[0] = b't';
        out[1..3].copy_from_slice(ja4_version(self.version()));
        let has_sni = self.extensions().any(|e| e.kind == ext::SERVER_NAME);
        out[3] = if has_sni { b'd' } else { b'i' };
        let ciphers = || self.ciphers().filter(|c| !is_grease(*c));
        out[4..6].copy_from_slice(&two_digits(ciphers().count()));
        let exts = || self.extensions().map(|e| e.kind).filter(|k| !is_grease(*k));
        out[6..8].copy_from_slice(&two_digits(exts().count()));
        out[8..10].copy_from_slice(&ja4_alpn(self.alpn().next()));
        out[10] = b'_';
        let mut sorted = SortBuf::new();
        if let Some(hash) = hash_hex_list(sorted.sorted(ciphers())) {
            out[11..23].copy_from_slice(&hash);
        }
        out[23] = b'_';
        let exts = exts().filter(|k| *k != ext::SERVER_NAME && *k != ext::ALPN);
        if let Some(hash) = hash_ja4_extensions(sorted.sorted(exts), self.signature_algorithms()) {
            out[24..36].copy_from_slice(&hash);
        }
        Some(Ja4(out))
    }

    /// The JA3 fingerprint (Salesforce): MD5 of
    /// `version,ciphers,extensions,groups,point_formats` in decimal, `-`-joined, GREASE
    /// removed; `None` unless the hello is [`complete`](Self::complete).
    pub fn ja3(&self) -> Option<Ja3> {
        if !self.complete {
            return None;
        }
        let mut md5 = Md5::new();
        md5.update(decimal(self.legacy_version).as_bytes());
        md5.update(b",");
        dash_list(&mut md5, self.ciphers());
        md5.update(b",");
        dash_list(&mut md5, self.extensions().map(|e| e.kind));
        md5.update(b",");
        dash_list(&mut md5, u16s(self.groups.unwrap_or_default()));
        md5.update(b",");
        let formats = self.point_formats.unwrap_or_default();
        dash_list(&mut md5, formats.iter().map(|&b| u16::from(b)));
        let digest = md5.finalize();
        let mut out = [0u8; 32];
        for (pair, byte) in out.chunks_exact_mut(2).zip(digest.iter()) {
            pair.copy_from_slice(&hex_byte(*byte));
        }
        Some(Ja3(out))
    }
}

/// A JA4 fingerprint, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ja4([u8; 36]);

impl Ja4 {
    /// The fingerprint text.
    pub fn as_str(&self) -> &str {
        // Built only from ASCII digits, letters and `_`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A JA3 fingerprint: 32 lower-case hex digits of an MD5.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ja3([u8; 32]);

impl Ja3 {
    /// The fingerprint text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

macro_rules! text_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }
    };
}
text_impls!(Ja4);
text_impls!(Ja3);

fn ja4_version(v: u16) -> &'static [u8; 2] {
    match v {
        0x0304 => b"13",
        0x0303 => b"12",
        0x0302 => b"11",
        0x0301 => b"10",
        0x0300 => b"s3",
        0x0200 => b"s2",
        0xfeff => b"d1",
        0xfefd => b"d2",
        0xfefc => b"d3",
        _ => b"00",
    }
}

fn two_digits(n: usize) -> [u8; 2] {
    let n = n.min(99) as u8;
    [b'0' + n / 10, b'0' + n % 10]
}

/// First and last character of the first ALPN value; `00` when absent or empty; the first
/// and last hex digit of the value when either end is not ASCII alphanumeric.
fn ja4_alpn(first: Option<&[u8]>) -> [u8; 2] {
    let ends = first.and_then(|v| Some((*v.first()?, *v.last()?)));
    match ends {
        Some((a, b)) if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() => [a, b],
        Some((a, b)) => [hex_byte(a)[0], hex_byte(b)[1]],
        None => *b"00",
    }
}

/// A byte as two lower-case hex digits.
pub(crate) fn hex_byte(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

fn hex_u16(v: u16) -> [u8; 4] {
    let [h, l] = v.to_be_bytes();
    let (h, l) = (hex_byte(h), hex_byte(l));
    [h[0], h[1], l[0], l[1]]
}

/// Sorts small lists on the stack; only lists longer than real hellos carry (garbage) spill
/// to the heap.
struct SortBuf {
    inline: [u16; 128],
    spill: Vec<u16>,
}

impl SortBuf {
    fn new() -> Self {
        SortBuf {
            inline: [0; 128],
            spill: Vec::new(),
        }
    }

    fn sorted(&mut self, items: impl Iterator<Item = u16>) -> &[u16] {
        let mut n = 0;
        self.spill.clear();
        for v in items {
            if self.spill.is_empty() && n < self.inline.len() {
                self.inline[n] = v;
                n += 1;
            } else {
                if self.spill.is_empty() {
                    self.spill.extend_from_slice(&self.inline);
                }
                self.spill.push(v);
            }
        }
        let list = if self.spill.is_empty() {
            self.inline.get_mut(..n).unwrap_or_default()
        } else {
            &mut self.spill
        };
        list.sort_unstable();
        list
    }
}

fn hash_comma_list(sha: &mut Sha256, items: impl Iterator<Item = u16>) {
    for (i, v) in items.enumerate() {
        if i > 0 {
            sha.update(b",");
        }
        sha.update(hex_u16(v));
    }
}

fn truncated_hex(sha: Sha256) -> [u8; 12] {
    let digest = sha.finalize();
    let mut out = [0u8; 12];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest.iter()) {
        pair.copy_from_slice(&hex_byte(*byte));
    }
    out
}

/// Truncated SHA-256 of the comma-joined hex list; `None` (the spec's `000000000000`) when
/// the list is empty.
fn hash_hex_list(items: &[u16]) -> Option<[u8; 12]> {
    if items.is_empty() {
        return None;
    }
    let mut sha = Sha256::new();
    hash_comma_list(&mut sha, items.iter().copied());
    Some(truncated_hex(sha))
}

/// JA4 part c: sorted extensions, then `_` and the signature algorithms when there are any.
fn hash_ja4_extensions(items: &[u16], sig_algs: impl Iterator<Item = u16>) -> Option<[u8; 12]> {
    if items.is_empty() {
        return None;
    }
    let mut sha = Sha256::new();
    hash_comma_list(&mut sha, items.iter().copied());
    let mut sig_algs = sig_algs.peekable();
    if sig_algs.peek().is_some() {
        sha.update(b"_");
        hash_comma_list(&mut sha, sig_algs);
    }
    Some(truncated_hex(sha))
}

/// Decimal text of a `u16` without allocating.
struct Decimal {
    buf: [u8; 5],
    start: usize,
}

impl Decimal {
    fn as_bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

fn decimal(mut v: u16) -> Decimal {
    let mut buf = [0u8; 5];
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    Decimal { buf, start }
}

fn dash_list(md5: &mut Md5, items: impl Iterator<Item = u16>) {
    for (i, v) in items.filter(|v| !is_grease(*v)).enumerate() {
        if i > 0 {
            md5.update(b"-");
        }
        md5.update(decimal(v).as_bytes());
    }
}

#[cfg(test)]
mod tests;
