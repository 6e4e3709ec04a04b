//! HTTP/1.x parser: the request line and the `Host` and `User-Agent` headers of a request,
//! the status line of a response, zero-copy over one packet payload.
//!
//! [`parse`] reads the start of a TCP payload. Fields borrow the payload as bytes (a URI or a
//! header may hold any octet); nothing panics on any input.
//!
//! # What is not reassembled
//! Only the given payload is read: headers that continue in the next segment are not seen
//! ([`HttpRequest::headers_complete`] says whether the blank line ending the header block is
//! in the payload; a header line cut by the segment end is ignored rather than reported
//! half). Only the first message of a payload is parsed (pipelined requests after it are
//! not), bodies and chunked encoding are not decoded, and HTTP/2 is not parsed.

use memchr::memchr;

/// Why a payload is not the start of an HTTP/1.x message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The first line is not a request line or a status line.
    #[error("not an HTTP/1.x start line")]
    NotHttp,
}

/// An HTTP message start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMessage<'a> {
    /// A request.
    Request(HttpRequest<'a>),
    /// A response.
    Response(HttpResponse<'a>),
}

/// An HTTP request; fields borrow the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpRequest<'a> {
    /// The method token (`GET`, `POST`, …).
    pub method: &'a str,
    /// The request target as sent.
    pub uri: &'a [u8],
    /// The version (`HTTP/1.1`; empty for an HTTP/0.9 simple request).
    pub version: &'a str,
    /// The first `Host` header value, trimmed.
    pub host: Option<&'a [u8]>,
    /// The first `User-Agent` header value, trimmed.
    pub user_agent: Option<&'a [u8]>,
    /// The payload after the last header line read (the scan stops once both headers above
    /// are found).
    rest: &'a [u8],
    /// The scan reached the empty line ending the headers.
    saw_end: bool,
}

impl HttpRequest<'_> {
    /// Whether the empty line ending the header block is in the payload.
    pub fn headers_complete(&self) -> bool {
        self.saw_end || {
            let mut rest = self.rest;
            loop {
                match next_line(rest) {
                    Some((&[], _)) => break true,
                    Some((_, tail)) => rest = tail,
                    None => break false,
                }
            }
        }
    }
}

/// An HTTP response status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpResponse<'a> {
    /// The version (`HTTP/1.1`).
    pub version: &'a str,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase as sent.
    pub reason: &'a [u8],
}

/// Longest method token accepted (`VERSION-CONTROL` and other WebDAV methods fit).
const MAX_METHOD: usize = 24;

/// Parses the HTTP/1.x message that starts `payload`.
///
/// A request line is `token SP target SP HTTP/1.x` (or HTTP/0.9's `GET SP /path`), where the token is upper-case letters,
/// `-` or `_` (the registered methods and WebDAV extensions); a status line is
/// `HTTP/1.x SP 3DIGIT [SP reason]`. Lines end with CRLF or a bare LF.
///
/// # Errors
/// [`HttpError::NotHttp`] when the first line is neither (including a first line cut short).
pub fn parse(payload: &[u8]) -> Result<HttpMessage<'_>, HttpError> {
    let (first, mut rest) = next_line(payload).ok_or(HttpError::NotHttp)?;
    if first.starts_with(b"HTTP/") {
        return status_line(first).map(HttpMessage::Response);
    }
    let (method, uri, version) = request_line(first).ok_or(HttpError::NotHttp)?;
    let mut req = HttpRequest {
        method,
        uri,
        version,
        host: None,
        user_agent: None,
        rest,
        saw_end: false,
    };
    // Stop at the blank line, or as soon as both headers are known (most of a request's
    // header block is then left unread).
    while req.host.is_none() || req.user_agent.is_none() {
        let Some((line, tail)) = next_line(rest) else {
            break;
        };
        rest = tail;
        if line.is_empty() {
            req.saw_end = true;
            break;
        }
        let Some(colon) = memchr(b':', line) else {
            continue;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if req.host.is_none() && name.eq_ignore_ascii_case(b"host") {
            req.host = Some(value);
        } else if req.user_agent.is_none() && name.eq_ignore_ascii_case(b"user-agent") {
            req.user_agent = Some(value);
        }
    }
    req.rest = rest;
    Ok(HttpMessage::Request(req))
}

/// Whether `payload` starts like an HTTP/1.x message (a cheap check for protocol detection).
pub fn looks_like_http(payload: &[u8]) -> bool {
    parse(payload).is_ok()
}

/// The first line (without CRLF/LF) and what follows; `None` when no line end is present.
pub(crate) fn next_line(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = memchr(b'\n', buf)?;
    let line = &buf[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, &buf[end + 1..]))
}

fn request_line(line: &[u8]) -> Option<(&str, &[u8], &str)> {
    let sp = memchr(b' ', line)?;
    let method = &line[..sp];
    if method.is_empty()
        || method.len() > MAX_METHOD
        || !method
            .iter()
            .all(|b| b.is_ascii_uppercase() || *b == b'-' || *b == b'_')
    {
        return None;
    }
    let rest = &line[sp + 1..];
    // HTTP/0.9 simple request: `GET SP target` and nothing else.
    if method == b"GET" && rest.first() == Some(&b'/') && memchr(b' ', rest).is_none() {
        return Some(("GET", rest, ""));
    }
    let sp = rest.iter().rposition(|b| *b == b' ')?;
    let (uri, version) = (&rest[..sp], &rest[sp + 1..]);
    if uri.is_empty() || !is_http1_version(version) {
        return None;
    }
    Some((ascii(method)?, uri, ascii(version)?))
}

fn status_line(line: &[u8]) -> Result<HttpResponse<'_>, HttpError> {
    let version = line.get(..8).filter(|v| is_http1_version(v));
    let code = line.get(9..12).filter(|c| c.iter().all(u8::is_ascii_digit));
    let sep_ok = line.get(8) == Some(&b' ') && matches!(line.get(12), None | Some(b' '));
    let (Some(version), Some(code), true) = (version, code, sep_ok) else {
        return Err(HttpError::NotHttp);
    };
    let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    Ok(HttpResponse {
        version: ascii(version).ok_or(HttpError::NotHttp)?,
        status,
        reason: line.get(13..).unwrap_or_default(),
    })
}

fn is_http1_version(v: &[u8]) -> bool {
    matches!(v, [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit())
}

fn ascii(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

/// Strips optional whitespace (SP / HTAB) on both ends (RFC 9110 §5.5).
pub(crate) fn trim(v: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !ows(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !ows(b)).map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &[u8] = b"GET /index.html?q=1 HTTP/1.1\r\nHost:  www.example.com \r\nuser-agent: curl/8.5.0\r\nAccept: */*\r\n\r\n";

    fn request(b: &[u8]) -> HttpRequest<'_> {
        match parse(b) {
            Ok(HttpMessage::Request(r)) => r,
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn request_fields() {
        let r = request(REQ);
        assert_eq!(r.method, "GET");
        assert_eq!(r.uri, b"/index.html?q=1");
        assert_eq!(r.version, "HTTP/1.1");
        assert_eq!(r.host, Some(&b"www.example.com"[..]));
        assert_eq!(r.user_agent, Some(&b"curl/8.5.0"[..]));
        assert!(r.headers_complete());
    }

    #[test]
    fn bare_lf_and_cut_headers() {
        let r = request(b"POST /x HTTP/1.0\nHost: a\nUser-Agent: part");
        assert_eq!(r.method, "POST");
        assert_eq!(r.host, Some(&b"a"[..]));
        // The cut last line is not reported half.
        assert_eq!(r.user_agent, None);
        assert!(!r.headers_complete());
        // Both headers found early: the end of the block is still found on demand.
        let r = request(b"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: b\r\nX: y\r\n");
        assert!(!r.headers_complete());
        let r = request(b"GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: b\r\nX: y\r\n\r\nbody");
        assert!(r.headers_complete());
    }

    #[test]
    fn uri_with_spaces_keeps_the_last_space_as_separator() {
        let r = request(b"GET /a b HTTP/1.1\r\n\r\n");
        assert_eq!(r.uri, b"/a b");
    }

    #[test]
    fn http09_simple_request() {
        let r = request(b"GET /\r\n\r\n");
        assert_eq!((r.method, r.uri, r.version), ("GET", &b"/"[..], ""));
    }

    #[test]
    fn response_status() {
        for (line, status, reason) in [
            (
                &b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"[..],
                200,
                &b"OK"[..],
            ),
            (b"HTTP/1.0 404 Not Found\r\n", 404, b"Not Found"),
            (b"HTTP/1.1 204\r\n", 204, b""),
        ] {
            match parse(line) {
                Ok(HttpMessage::Response(r)) => {
                    assert_eq!((r.status, r.reason), (status, reason));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn rejects_other_payloads() {
        for bad in [
            &b""[..],
            b"GET / HTTP/1.1",
            b"get / HTTP/1.1\r\n",
            b"POST /\r\n",
            b"GET \r\n",
            b"GET / HTTP/2.0\r\n",
            b"GET HTTP/1.1\r\n",
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"HTTP/1.1 2x0 OK\r\n",
            b"HTTP/1.1 2000 OK\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n",
        ] {
            assert_eq!(parse(bad), Err(HttpError::NotHttp), "{bad:?}");
        }
    }

    #[test]
    fn every_prefix_is_harmless() {
        for n in 0..REQ.len() {
            let _ = parse(&REQ[..n]);
        }
    }
}
