//! SSH identification string ("banner") parser, zero-copy over one packet payload.
//!
//! RFC 4253 §4.2: each side sends `SSH-protoversion-softwareversion [SP comments] CR LF`, at
//! most 255 characters; a server may send other lines first. [`parse`] finds that line in a
//! TCP payload. Nothing panics on any input.
//!
//! # What is not reassembled
//! Only the given payload is read: a banner split over two segments is not found (in practice
//! the identification string is one segment). [`kexinit`] reads the algorithm lists of a
//! `SSH_MSG_KEXINIT` (for HASSH) from the segment that holds it whole.

use memchr::memchr;

/// Longest identification line, CR LF included (RFC 4253 §4.2).
const MAX_LINE: usize = 255;

/// Why a payload holds no SSH identification string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SshError {
    /// No line starting with `SSH-` that is a valid identification string.
    #[error("no SSH identification string")]
    NotSsh,
}

/// An identification string; fields borrow the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SshBanner<'a> {
    /// The whole line without CR LF (`SSH-2.0-OpenSSH_9.6p1 Ubuntu-3`), as tshark's
    /// `ssh.protocol`.
    pub line: &'a str,
    /// Protocol version (`2.0`, `1.99`).
    pub proto_version: &'a str,
    /// Software version (`OpenSSH_9.6p1`).
    pub software: &'a str,
    /// Comments after the software version, if any (`Ubuntu-3`).
    pub comments: Option<&'a str>,
}

/// Finds and parses the identification string in `payload`.
///
/// The line must be printable US-ASCII (spaces allowed only before the comments), end with
/// LF (CR LF, or a bare LF as some implementations send), and have a non-empty protocol and
/// software version. Lines before it are skipped, as RFC 4253 allows of servers, as long as
/// they look like text lines. NUL padding before the line end (some Cisco servers send it)
/// is not part of the line, as Suricata reads it.
///
/// # Errors
/// [`SshError::NotSsh`] when there is no such line.
pub fn parse(payload: &[u8]) -> Result<SshBanner<'_>, SshError> {
    let mut rest = payload;
    while !rest.is_empty() {
        let end = memchr(b'\n', rest).ok_or(SshError::NotSsh)?;
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"SSH-") {
            let unpadded = line.len() - line.iter().rev().take_while(|b| **b == 0).count();
            return banner(&line[..unpadded]).ok_or(SshError::NotSsh);
        }
        if end >= MAX_LINE || line.iter().any(|b| *b < 0x20 && *b != b'\t') {
            break;
        }
        rest = &rest[end + 1..];
    }
    Err(SshError::NotSsh)
}

fn banner(line: &[u8]) -> Option<SshBanner<'_>> {
    if line.len() + 2 > MAX_LINE || !line.iter().all(|b| (0x20..0x7f).contains(b)) {
        return None;
    }
    let line = std::str::from_utf8(line).ok()?;
    let body = line.strip_prefix("SSH-")?;
    let (proto_version, rest) = body.split_once('-')?;
    let (software, comments) = match rest.split_once(' ') {
        Some((s, c)) => (s, Some(c)),
        None => (rest, None),
    };
    if proto_version.is_empty() || proto_version.contains(' ') || software.is_empty() {
        return None;
    }
    Some(SshBanner {
        line,
        proto_version,
        software,
        comments,
    })
}

/// `SSH_MSG_KEXINIT` (RFC 4253 §7.1).
const MSG_KEXINIT: u8 = 20;

/// The algorithm name-lists of a KEXINIT that HASSH reads; each borrows the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KexInit<'a> {
    /// `kex_algorithms`.
    pub kex: &'a [u8],
    /// `encryption_algorithms_client_to_server`, then `_server_to_client`.
    pub encryption: [&'a [u8]; 2],
    /// `mac_algorithms_client_to_server`, then `_server_to_client`.
    pub mac: [&'a [u8]; 2],
    /// `compression_algorithms_client_to_server`, then `_server_to_client`.
    pub compression: [&'a [u8]; 2],
}

impl KexInit<'_> {
    /// The HASSH input of the side that sent it (`kex;encryption;mac;compression`, each of
    /// its own direction: client to server for a client, server to client for a server),
    /// appended to `out`.
    pub fn hassh_string(&self, from_client: bool, out: &mut Vec<u8>) {
        let d = usize::from(!from_client);
        for (i, list) in [
            self.kex,
            self.encryption[d],
            self.mac[d],
            self.compression[d],
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                out.push(b';');
            }
            out.extend_from_slice(list);
        }
    }
}

/// The KEXINIT that starts `payload` (a binary packet: length, padding length, message), or
/// that follows the identification line in it.
pub fn kexinit(payload: &[u8]) -> Option<KexInit<'_>> {
    let packet = if payload.starts_with(b"SSH-") {
        &payload[memchr(b'\n', payload)? + 1..]
    } else {
        payload
    };
    let len = u32::from_be_bytes(packet.get(..4)?.try_into().ok()?) as usize;
    let body = packet.get(5..4 + len)?;
    let mut rest = body.strip_prefix(&[MSG_KEXINIT])?.get(16..)?; // after the cookie
    let mut list = || {
        let n = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let l = rest.get(4..4 + n)?;
        rest = &rest[4 + n..];
        Some(l)
    };
    let kex = list()?;
    let _host_key = list()?;
    let encryption = [list()?, list()?];
    let mac = [list()?, list()?];
    let compression = [list()?, list()?];
    Some(KexInit {
        kex,
        encryption,
        mac,
        compression,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A KEXINIT packet with these ten name-lists.
    pub(crate) fn kexinit_packet(lists: [&str; 10]) -> Vec<u8> {
        let mut body = vec![MSG_KEXINIT];
        body.extend_from_slice(&[7; 16]);
        for l in lists {
            body.extend_from_slice(&(l.len() as u32).to_be_bytes());
            body.extend_from_slice(l.as_bytes());
        }
        body.extend_from_slice(&[0, 0, 0, 0, 0]);
        let padding = 4;
        let mut p = ((body.len() + 1 + padding) as u32).to_be_bytes().to_vec();
        p.push(padding as u8);
        p.extend(body);
        p.extend_from_slice(&[0; 4]);
        p
    }

    #[test]
    fn kexinit_lists_and_hassh_strings() {
        let lists = ["kx", "hk", "ec", "es", "mc", "ms", "cc", "cs", "", ""];
        let p = kexinit_packet(lists);
        let k = kexinit(&p).expect("kexinit");
        let mut out = Vec::new();
        k.hassh_string(true, &mut out);
        assert_eq!(out, b"kx;ec;mc;cc");
        out.clear();
        k.hassh_string(false, &mut out);
        assert_eq!(out, b"kx;es;ms;cs");
        // After the banner in one segment; cut short; another message.
        let mut both = b"SSH-2.0-x\r\n".to_vec();
        both.extend_from_slice(&p);
        assert!(kexinit(&both).is_some());
        assert!(kexinit(&p[..p.len() - 10]).is_none());
        let mut other = p.clone();
        other[5] = 21;
        assert!(kexinit(&other).is_none());
    }

    #[test]
    fn client_and_server_banners() {
        let b = parse(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n").expect("banner");
        assert_eq!(b.line, "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13");
        assert_eq!(b.proto_version, "2.0");
        assert_eq!(b.software, "OpenSSH_9.6p1");
        assert_eq!(b.comments, Some("Ubuntu-3ubuntu13"));
        let b = parse(b"SSH-1.99-Cisco-1.25\n").expect("bare LF");
        assert_eq!(
            (b.proto_version, b.software, b.comments),
            ("1.99", "Cisco-1.25", None)
        );
    }

    #[test]
    fn nul_padding_before_the_line_end_is_dropped() {
        let mut seg = b"SSH-1.99-Cisco_server-1.24 ".to_vec();
        seg.extend([0; 40]);
        seg.push(b'\n');
        let b = parse(&seg).expect("padded banner");
        assert_eq!((b.proto_version, b.software), ("1.99", "Cisco_server-1.24"));
        // A NUL inside the line still rejects it.
        assert!(parse(b"SSH-2.0-Open\0SSH\n").is_err());
    }

    #[test]
    fn lines_before_the_banner_are_skipped() {
        let b = parse(b"Welcome\r\nto the host\r\nSSH-2.0-dropbear_2022.83\r\n").expect("found");
        assert_eq!(b.software, "dropbear_2022.83");
    }

    #[test]
    fn rejects_others() {
        for bad in [
            &b""[..],
            b"SSH-2.0-OpenSSH",
            b"SSH-2.0-\r\n",
            b"SSH--x\r\n",
            b"SSH-2.0-a\x01b\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
            b"\x00\x00\x01\x0c\x0a\x14SSH-2.0-x\r\n",
        ] {
            assert_eq!(parse(bad), Err(SshError::NotSsh), "{bad:?}");
        }
        let long = [b"SSH-2.0-".as_slice(), &[b'a'; 300], b"\r\n"].concat();
        assert_eq!(parse(&long), Err(SshError::NotSsh));
    }
}
