//! SMB2/3 messages as they start TCP segments to or from port 445: the NetBIOS session
//! header, the 64-byte SMB2 header, and the few request bodies lateral-movement and
//! SMBGhost detection read (tree connect, create, write, ioctl, negotiate), plus the
//! SMB 3.1.1 compression transform header (MS-SMB2 §2.2.42) and the DCE/RPC request header
//! (Open Group C706 §12.6.4.9) carried in pipe writes.
//!
//! Zero-copy: every view borrows the segment and every accessor checks its bounds, so no
//! input panics (`fuzz/fuzz_targets/smb2_message.rs`). Only what one segment holds is read:
//! a message whose body continues in the next segment yields what is present (a write's
//! data is cut at the segment's end).
//!
//! ```
//! use netsec_core::app::smb2::{self, Command, Frame};
//!
//! // NetBIOS session header, then an SMB2 TREE_CONNECT request for \\dc1\IPC$.
//! let path: Vec<u8> = "\\\\dc1\\IPC$".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
//! let mut msg = vec![0u8; 64 + 8];
//! msg[..4].copy_from_slice(b"\xfeSMB");
//! msg[4] = 64;
//! msg[12] = 3; // TREE_CONNECT
//! msg[64..66].copy_from_slice(&9u16.to_le_bytes());
//! msg[68..70].copy_from_slice(&72u16.to_le_bytes());
//! msg[70..72].copy_from_slice(&(path.len() as u16).to_le_bytes());
//! msg.extend_from_slice(&path);
//! let mut seg = vec![0, 0, 0, msg.len() as u8];
//! seg.extend_from_slice(&msg);
//!
//! let Some(Frame::Messages(mut it)) = smb2::frame(&seg) else { panic!("an SMB2 segment") };
//! let m = it.next().expect("one message");
//! assert_eq!(m.command(), Command::TREE_CONNECT);
//! assert!(smb2::utf16_ends_with_ignore_case(m.tree_connect_path().expect("a path"), "ipc$"));
//! ```

/// An SMB2 command code (MS-SMB2 §2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Command(pub u16);

impl Command {
    /// NEGOTIATE.
    pub const NEGOTIATE: Command = Command(0);
    /// SESSION_SETUP.
    pub const SESSION_SETUP: Command = Command(1);
    /// TREE_CONNECT.
    pub const TREE_CONNECT: Command = Command(3);
    /// CREATE.
    pub const CREATE: Command = Command(5);
    /// WRITE.
    pub const WRITE: Command = Command(9);
    /// IOCTL.
    pub const IOCTL: Command = Command(11);
}

/// SMB2 header length.
const HEADER_LEN: usize = 64;
/// Dialect 3.1.1, the one with negotiate contexts.
const DIALECT_311: u16 = 0x0311;
/// SMB2_COMPRESSION_CAPABILITIES negotiate context type.
const COMPRESSION_CONTEXT: u16 = 0x0003;
/// SMB2_PREAUTH_INTEGRITY_CAPABILITIES negotiate context type.
const PREAUTH_CONTEXT: u16 = 0x0001;
/// Most chained messages followed in one segment.
const MAX_CHAIN: usize = 16;

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// `len` bytes at `offset` of `b`, or what of them is present; `None` when `offset` is past
/// the end.
fn field(b: &[u8], offset: usize, len: usize) -> Option<&[u8]> {
    let rest = b.get(offset..)?;
    Some(&rest[..len.min(rest.len())])
}

/// What a segment to or from an SMB server starts with.
#[derive(Debug, Clone)]
pub enum Frame<'a> {
    /// One or more (chained) SMB2 messages.
    Messages(Messages<'a>),
    /// An SMB 3.1.1 compression transform header.
    Compressed(CompressionTransform),
}

/// The SMB message a TCP segment starts with, after its 4-byte NetBIOS session header
/// (type 0, 24-bit length); `None` when the segment does not start an SMB2 or compressed
/// message.
pub fn frame(segment: &[u8]) -> Option<Frame<'_>> {
    if segment.len() < 8 || segment[0] != 0 {
        return None;
    }
    let body = &segment[4..];
    match &body[..4] {
        b"\xfeSMB" => Some(Frame::Messages(Messages {
            rest: body,
            left: MAX_CHAIN,
        })),
        b"\xfcSMB" => CompressionTransform::parse(body).map(Frame::Compressed),
        _ => None,
    }
}

/// Whether a segment starts an SMB1 or SMB2 message after its NetBIOS session header.
pub fn starts_smb(segment: &[u8]) -> bool {
    segment.len() >= 8
        && segment[0] == 0
        && matches!(&segment[4..8], b"\xffSMB" | b"\xfeSMB" | b"\xfcSMB")
}

/// The chained SMB2 messages of a segment (each header's `NextCommand` offset).
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    rest: &'a [u8],
    left: usize,
}

impl<'a> Iterator for Messages<'a> {
    type Item = Message<'a>;

    fn next(&mut self) -> Option<Message<'a>> {
        if self.left == 0 || self.rest.len() < HEADER_LEN || &self.rest[..4] != b"\xfeSMB" {
            return None;
        }
        self.left -= 1;
        let msg = Message { bytes: self.rest };
        let next = le32(self.rest, 20).unwrap_or(0) as usize;
        self.rest = if next >= HEADER_LEN {
            self.rest.get(next..).unwrap_or(&[])
        } else {
            &[]
        };
        Some(msg)
    }
}

/// One SMB2 message: its header and the body that follows in the segment.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// From the header's first byte to the end of the segment.
    bytes: &'a [u8],
}

impl<'a> Message<'a> {
    /// The command.
    pub fn command(&self) -> Command {
        Command(le16(self.bytes, 12).unwrap_or(u16::MAX))
    }

    /// Whether this is a server's response (flag SMB2_FLAGS_SERVER_TO_REDIR).
    pub fn is_response(&self) -> bool {
        le32(self.bytes, 16).is_some_and(|f| f & 1 != 0)
    }

    /// The NT status (responses).
    pub fn status(&self) -> u32 {
        le32(self.bytes, 8).unwrap_or(u32::MAX)
    }

    /// The message id, which pairs a response with its request.
    pub fn message_id(&self) -> u64 {
        le64(self.bytes, 24).unwrap_or(0)
    }

    /// The tree id (synchronous messages; 0 for asynchronous ones).
    pub fn tree_id(&self) -> u32 {
        let async_flag = le32(self.bytes, 16).is_some_and(|f| f & 2 != 0);
        if async_flag {
            0
        } else {
            le32(self.bytes, 36).unwrap_or(0)
        }
    }

    fn body(&self) -> &'a [u8] {
        self.bytes.get(HEADER_LEN..).unwrap_or(&[])
    }

    /// A request's buffer at `offset` (from the header) of `len` bytes, cut at the segment.
    fn buffer(&self, offset: usize, len: usize) -> Option<&'a [u8]> {
        if offset < HEADER_LEN {
            return None;
        }
        field(self.bytes, offset, len)
    }

    /// A TREE_CONNECT request's share path (`\\server\share`, UTF-16LE bytes).
    pub fn tree_connect_path(&self) -> Option<&'a [u8]> {
        if self.command() != Command::TREE_CONNECT || self.is_response() {
            return None;
        }
        let b = self.body();
        self.buffer(usize::from(le16(b, 4)?), usize::from(le16(b, 6)?))
    }

    /// A CREATE request's file or pipe name (UTF-16LE bytes, relative to the share).
    pub fn create_name(&self) -> Option<&'a [u8]> {
        if self.command() != Command::CREATE || self.is_response() {
            return None;
        }
        let b = self.body();
        self.buffer(usize::from(le16(b, 44)?), usize::from(le16(b, 46)?))
    }

    /// A WRITE request's data (as much as the segment holds).
    pub fn write_data(&self) -> Option<&'a [u8]> {
        if self.command() != Command::WRITE || self.is_response() {
            return None;
        }
        let b = self.body();
        self.buffer(usize::from(le16(b, 2)?), le32(b, 4)? as usize)
    }

    /// An IOCTL request's input (FSCTL_PIPE_TRANSCEIVE carries a DCE/RPC call here).
    pub fn ioctl_input(&self) -> Option<&'a [u8]> {
        if self.command() != Command::IOCTL || self.is_response() {
            return None;
        }
        let b = self.body();
        self.buffer(le32(b, 24)? as usize, le32(b, 28)? as usize)
    }

    /// A NEGOTIATE request's offer, when it offers dialect 3.1.1.
    pub fn negotiate_311(&self) -> Option<Negotiate> {
        if self.command() != Command::NEGOTIATE || self.is_response() {
            return None;
        }
        let b = self.body();
        let dialects = usize::from(le16(b, 2)?);
        let client_guid = b.get(12..28)?;
        let list = b.get(36..36 + 2 * dialects)?;
        if !list.chunks_exact(2).any(|d| d == DIALECT_311.to_le_bytes()) {
            return None;
        }
        let mut offer = Negotiate {
            zero_client_guid: client_guid.iter().all(|&x| x == 0),
            ..Negotiate::default()
        };
        let mut at = le32(b, 28)? as usize;
        let count = le16(b, 32)?;
        for _ in 0..count.min(32) {
            let (Some(kind), Some(len)) = (le16(self.bytes, at), le16(self.bytes, at + 2)) else {
                break;
            };
            let data = field(self.bytes, at + 8, usize::from(len)).unwrap_or(&[]);
            match kind {
                COMPRESSION_CONTEXT => offer.compression = true,
                PREAUTH_CONTEXT => {
                    // HashAlgorithmCount, SaltLength, algorithms, salt.
                    let algs = usize::from(le16(data, 0).unwrap_or(0));
                    let salt_len = usize::from(le16(data, 2).unwrap_or(0));
                    let salt = field(data, 4 + 2 * algs, salt_len).unwrap_or(&[]);
                    offer.zero_salt = salt_len > 0 && salt.iter().all(|&x| x == 0);
                }
                _ => {}
            }
            // Contexts are 8-byte aligned.
            at = (at + 8 + usize::from(len) + 7) & !7;
        }
        Some(offer)
    }
}

/// What an SMB 3.1.1 NEGOTIATE request offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Negotiate {
    /// It carries SMB2_COMPRESSION_CAPABILITIES.
    pub compression: bool,
    /// Its ClientGuid is all zeros (Windows sends a random one).
    pub zero_client_guid: bool,
    /// Its pre-authentication salt is all zeros (Windows sends a random one).
    pub zero_salt: bool,
}

/// An SMB 3.1.1 compression transform header (MS-SMB2 §2.2.42.1, unchained).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompressionTransform {
    /// OriginalCompressedSegmentSize: the size once decompressed.
    pub original_size: u32,
    /// CompressionAlgorithm.
    pub algorithm: u16,
    /// Flags (1 = chained).
    pub flags: u16,
    /// Offset (unchained): uncompressed bytes before the compressed part.
    pub offset: u32,
}

impl CompressionTransform {
    fn parse(b: &[u8]) -> Option<Self> {
        Some(CompressionTransform {
            original_size: le32(b, 4)?,
            algorithm: le16(b, 8)?,
            flags: le16(b, 10)?,
            offset: le32(b, 12)?,
        })
    }

    /// SMBGhost's shape (CVE-2020-0796): an unchained header whose offset and original size
    /// add up past 32 bits, so the server's buffer size computation wraps, or either alone
    /// exceeds what a message can be (16 MiB).
    pub fn overflows(&self) -> bool {
        const MAX_MESSAGE: u32 = 16 << 20;
        self.flags & 1 == 0
            && (self.original_size.checked_add(self.offset).is_none()
                || self.original_size > MAX_MESSAGE
                || self.offset > MAX_MESSAGE)
    }
}

/// The operation number of a DCE/RPC request PDU (`data` as written to a pipe).
pub fn dcerpc_request_opnum(data: &[u8]) -> Option<u16> {
    // rpc_vers 5, minor 0 or 1, ptype 0 (request), little-endian data representation.
    if data.len() < 24 || data[0] != 5 || data[2] != 0 || data[4] & 0x10 == 0 {
        return None;
    }
    le16(data, 22)
}

/// Whether UTF-16LE `name` ends with ASCII `suffix`, ignoring ASCII case.
pub fn utf16_ends_with_ignore_case(name: &[u8], suffix: &str) -> bool {
    let n = suffix.len();
    if name.len() < 2 * n || name.len() % 2 != 0 {
        return false;
    }
    let tail = &name[name.len() - 2 * n..];
    tail.chunks_exact(2)
        .zip(suffix.bytes())
        .all(|(u, c)| u[1] == 0 && u[0].eq_ignore_ascii_case(&c))
}

/// Whether UTF-16LE `name` equals ASCII `want` (ignoring case and one leading `\`).
pub fn utf16_eq_ignore_case(name: &[u8], want: &str) -> bool {
    let name = match name {
        [b'\\', 0, rest @ ..] => rest,
        _ => name,
    };
    name.len() == 2 * want.len() && utf16_ends_with_ignore_case(name, want)
}

/// Whether a tree connect path names an administrative share: `ADMIN$` or a drive (`C$`).
pub fn is_admin_share(path: &[u8]) -> bool {
    if utf16_ends_with_ignore_case(path, "\\admin$") {
        return true;
    }
    // `\X$` at the end, X a letter.
    let n = path.len();
    n >= 6
        && path.len() % 2 == 0
        && path[n - 6..n - 4] == [b'\\', 0]
        && path[n - 3] == 0
        && path[n - 4].is_ascii_alphabetic()
        && path[n - 2..] == [b'$', 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn message(command: u16, body: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; 64];
        m[..4].copy_from_slice(b"\xfeSMB");
        m[4] = 64;
        m[12..14].copy_from_slice(&command.to_le_bytes());
        m.extend_from_slice(body);
        let mut seg = vec![0, 0, (m.len() >> 8) as u8, m.len() as u8];
        seg.extend_from_slice(&m);
        seg
    }

    fn first(seg: &[u8]) -> Message<'_> {
        match frame(seg) {
            Some(Frame::Messages(mut it)) => it.next().expect("a message"),
            other => panic!("not SMB2: {other:?}"),
        }
    }

    #[test]
    fn create_and_write_bodies() {
        let name = utf16("PSEXESVC.exe");
        let mut body = vec![0u8; 56];
        body[44..46].copy_from_slice(&120u16.to_le_bytes());
        body[46..48].copy_from_slice(&(name.len() as u16).to_le_bytes());
        body.extend_from_slice(&name);
        let seg = message(5, &body);
        let m = first(&seg);
        assert_eq!(m.command(), Command::CREATE);
        assert!(utf16_ends_with_ignore_case(
            m.create_name().expect("a name"),
            ".EXE"
        ));
        assert!(!utf16_eq_ignore_case(
            m.create_name().expect("a name"),
            "svcctl"
        ));

        let mut body = vec![0u8; 48];
        body[2..4].copy_from_slice(&112u16.to_le_bytes());
        body[4..8].copy_from_slice(&65536u32.to_le_bytes());
        body.extend_from_slice(b"MZ\x90\x00");
        let seg = message(9, &body);
        assert_eq!(
            first(&seg).write_data(),
            Some(&b"MZ\x90\x00"[..]),
            "cut at the segment"
        );
    }

    #[test]
    fn names_and_shares() {
        assert!(utf16_eq_ignore_case(&utf16("\\svcctl"), "svcctl"));
        assert!(utf16_eq_ignore_case(&utf16("SAMR"), "samr"));
        assert!(is_admin_share(&utf16("\\\\dc1\\ADMIN$")));
        assert!(is_admin_share(&utf16("\\\\10.0.0.1\\c$")));
        assert!(!is_admin_share(&utf16("\\\\dc1\\IPC$")));
        assert!(!is_admin_share(&utf16("\\\\dc1\\share")));
        assert!(!is_admin_share(&[0x5c]));
    }

    #[test]
    fn compression_transform_overflow() {
        let mut seg = vec![0, 0, 0, 16];
        seg.extend_from_slice(b"\xfcSMB");
        seg.extend_from_slice(&0xffff_ffffu32.to_le_bytes());
        seg.extend_from_slice(&1u16.to_le_bytes());
        seg.extend_from_slice(&0u16.to_le_bytes());
        seg.extend_from_slice(&16u32.to_le_bytes());
        let Some(Frame::Compressed(t)) = frame(&seg) else {
            panic!("a transform header")
        };
        assert!(t.overflows());
        let ok = CompressionTransform {
            original_size: 4096,
            algorithm: 1,
            flags: 0,
            offset: 0,
        };
        assert!(!ok.overflows());
    }

    #[test]
    fn dcerpc_requests() {
        let mut pdu = vec![5, 0, 0, 3, 0x10, 0, 0, 0];
        pdu.resize(24, 0);
        pdu[22..24].copy_from_slice(&12u16.to_le_bytes());
        assert_eq!(dcerpc_request_opnum(&pdu), Some(12));
        pdu[2] = 11; // bind
        assert_eq!(dcerpc_request_opnum(&pdu), None);
        assert_eq!(dcerpc_request_opnum(&[5, 0, 0]), None);
    }

    #[test]
    fn garbage_is_not_smb() {
        assert!(starts_smb(b"\0\0\0\x10\xffSMB"));
        assert!(!starts_smb(b"\0\0\0\x10\xffSM"));
        assert!(!starts_smb(b"GET / HTTP/1.1\r\n"));
        assert!(frame(b"").is_none());
        assert!(frame(b"GET / HTTP/1.1\r\n").is_none());
        let mut seg = message(3, &[]);
        assert!(first(&seg).tree_connect_path().is_none());
        seg[4 + 20] = 64; // a NextCommand pointing past the end
        let Some(Frame::Messages(it)) = frame(&seg) else {
            panic!()
        };
        assert_eq!(it.count(), 1);
    }
}
