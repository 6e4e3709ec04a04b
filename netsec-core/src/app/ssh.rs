//! SSH identification string ("banner") parser, zero-copy over one packet payload.
//!
//! RFC 4253 §4.2: each side sends `SSH-protoversion-softwareversion [SP comments] CR LF`, at
//! most 255 characters; a server may send other lines first. [`parse`] finds that line in a
//! TCP payload. Nothing panics on any input.
//!
//! # What is not reassembled
//! Only the given payload is read: a banner split over two segments is not found (in practice
//! the identification string is one segment). Key exchange (and so HASSH) is not parsed.

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
/// they look like text lines.
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
            return banner(line).ok_or(SshError::NotSsh);
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

#[cfg(test)]
mod tests {
    use super::*;

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
