//! The HTTP sticky buffers of one packet, rebuilt as Suricata presents them.
//!
//! One pass over the start line and the header block fills a reused text buffer with every
//! HTTP buffer a rule can name; [`HttpBuffers::get`] hands out slices of it. Layouts follow
//! Suricata 7:
//!
//! - `http.request_line` / `http.response_line`: the start line without its line end;
//!   `http.method`, `http.uri.raw`, `http.protocol`, `http.stat_code`, `http.stat_msg`: its
//!   parts.
//! - `http.uri`: normalised as libhtp normalises it by default: `%XX` escapes decoded (path
//!   and query), and in the path `//` collapsed and `.`/`..` segments removed.
//! - `http.header`: `Name: value\r\n` for every header, in order (values trimmed);
//!   `http.header_names`: `\r\nName1\r\nName2\r\n\r\n`; `http.start`: the start line,
//!   `\r\n`, the header buffer and a final `\r\n`.
//! - One buffer per named header (`http.host` lower-cased, `http.user_agent`,
//!   `http.cookie` from `Cookie` in requests and `Set-Cookie` in responses, `http.referer`,
//!   `http.content_type`, `http.content_len`, `http.accept`, `http.accept_enc`,
//!   `http.accept_lang`, `http.connection`, `http.location`, `http.server`): the value,
//!   several headers of the same name joined with `, ` as libhtp joins them.
//!
//! Only the packet's own bytes are read: a header block cut by the end of the segment gives
//! the complete lines before the cut.

use std::ops::Range;

use crate::app::http::{self, next_line, trim};

use super::ast::StickyBuffer;

/// Header-valued buffers and the header names that fill them (requests, responses).
const VALUE_BUFFERS: [(StickyBuffer, &str, &str); 12] = [
    (StickyBuffer::HttpHost, "host", "host"),
    (StickyBuffer::HttpUserAgent, "user-agent", "user-agent"),
    (StickyBuffer::HttpCookie, "cookie", "set-cookie"),
    (StickyBuffer::HttpReferer, "referer", "referer"),
    (
        StickyBuffer::HttpContentType,
        "content-type",
        "content-type",
    ),
    (
        StickyBuffer::HttpContentLen,
        "content-length",
        "content-length",
    ),
    (StickyBuffer::HttpAccept, "accept", "accept"),
    (
        StickyBuffer::HttpAcceptEnc,
        "accept-encoding",
        "accept-encoding",
    ),
    (
        StickyBuffer::HttpAcceptLang,
        "accept-language",
        "accept-language",
    ),
    (StickyBuffer::HttpConnection, "connection", "connection"),
    (StickyBuffer::HttpLocation, "location", "location"),
    (StickyBuffer::HttpServer, "server", "server"),
];

/// The HTTP buffers of one packet, as ranges into a text buffer.
#[derive(Debug, Default)]
pub(crate) struct HttpBuffers {
    request: bool,
    line: Range<usize>,
    method: Range<usize>,
    uri_raw: Range<usize>,
    uri: Range<usize>,
    protocol: Range<usize>,
    stat_code: Range<usize>,
    stat_msg: Range<usize>,
    header: Range<usize>,
    header_names: Range<usize>,
    start: Range<usize>,
    values: [Option<Range<usize>>; VALUE_BUFFERS.len()],
}

/// Appends `bytes` to `text`, returning where they went.
fn push(text: &mut Vec<u8>, bytes: &[u8]) -> Range<usize> {
    let at = text.len();
    text.extend_from_slice(bytes);
    at..text.len()
}

impl HttpBuffers {
    /// Parses `payload` if it starts an HTTP/1.x message, writing the rebuilt buffers into
    /// `text`.
    pub(crate) fn parse(payload: &[u8], text: &mut Vec<u8>) -> Option<HttpBuffers> {
        let message = http::parse(payload).ok()?;
        let (first, mut rest) = next_line(payload)?;
        let mut b = HttpBuffers {
            line: push(text, first),
            ..HttpBuffers::default()
        };
        match message {
            http::HttpMessage::Request(r) => {
                b.request = true;
                b.method = push(text, r.method.as_bytes());
                b.uri_raw = push(text, r.uri);
                let at = text.len();
                normalize_uri(r.uri, text);
                b.uri = at..text.len();
                b.protocol = push(text, r.version.as_bytes());
            }
            http::HttpMessage::Response(r) => {
                b.protocol = push(text, r.version.as_bytes());
                let code = [
                    b'0' + (r.status / 100 % 10) as u8,
                    b'0' + (r.status / 10 % 10) as u8,
                    b'0' + (r.status % 10) as u8,
                ];
                b.stat_code = push(text, &code);
                b.stat_msg = push(text, r.reason);
            }
        }
        // The header lines, in order (complete lines only), normalised as `Name: value\r\n`.
        let header_start = text.len();
        while let Some((line, tail)) = next_line(rest) {
            rest = tail;
            if line.is_empty() {
                break;
            }
            let Some(colon) = memchr::memchr(b':', line) else {
                continue;
            };
            text.extend_from_slice(trim(&line[..colon]));
            text.extend_from_slice(b": ");
            text.extend_from_slice(trim(&line[colon + 1..]));
            text.extend_from_slice(b"\r\n");
        }
        b.header = header_start..text.len();
        // The other buffers are read back from that block, so nothing is allocated.
        let at = text.len();
        text.extend_from_slice(b"\r\n");
        let mut pos = b.header.start;
        while let Some((name, _, next)) = header_field(text, pos, b.header.end) {
            pos = next;
            text.extend_from_within(name);
            text.extend_from_slice(b"\r\n");
        }
        text.extend_from_slice(b"\r\n");
        b.header_names = at..text.len();
        let at = text.len();
        text.extend_from_within(b.line.clone());
        text.extend_from_slice(b"\r\n");
        text.extend_from_within(b.header.clone());
        text.extend_from_slice(b"\r\n");
        b.start = at..text.len();
        for (slot, (buffer, req_name, resp_name)) in b.values.iter_mut().zip(VALUE_BUFFERS) {
            let want = if b.request { req_name } else { resp_name };
            let at = text.len();
            let mut seen = false;
            let mut pos = b.header.start;
            while let Some((name, value, next)) = header_field(text, pos, b.header.end) {
                pos = next;
                if !text[name].eq_ignore_ascii_case(want.as_bytes()) {
                    continue;
                }
                if seen {
                    text.extend_from_slice(b", ");
                }
                seen = true;
                if buffer == StickyBuffer::HttpHost {
                    for i in value {
                        let c = text[i].to_ascii_lowercase();
                        text.push(c);
                    }
                } else {
                    text.extend_from_within(value);
                }
            }
            *slot = seen.then_some(at..text.len());
        }
        Some(b)
    }

    /// The range of `buffer` in the text, if this message carries it.
    pub(crate) fn get(&self, buffer: StickyBuffer) -> Option<Range<usize>> {
        let request = |r: &Range<usize>| self.request.then(|| r.clone());
        let response = |r: &Range<usize>| (!self.request).then(|| r.clone());
        match buffer {
            StickyBuffer::HttpMethod => request(&self.method),
            StickyBuffer::HttpUri => request(&self.uri),
            StickyBuffer::HttpUriRaw => request(&self.uri_raw),
            StickyBuffer::HttpRequestLine => request(&self.line),
            StickyBuffer::HttpResponseLine => response(&self.line),
            StickyBuffer::HttpStatCode => response(&self.stat_code),
            StickyBuffer::HttpStatMsg => response(&self.stat_msg),
            StickyBuffer::HttpProtocol => Some(self.protocol.clone()),
            StickyBuffer::HttpHeader => Some(self.header.clone()),
            // The header block, whose lines the matcher takes one at a time.
            StickyBuffer::HttpRequestHeader => request(&self.header),
            StickyBuffer::HttpResponseHeader => response(&self.header),
            StickyBuffer::HttpHeaderNames => Some(self.header_names.clone()),
            StickyBuffer::HttpStart => Some(self.start.clone()),
            other => VALUE_BUFFERS
                .iter()
                .position(|v| v.0 == other)
                .and_then(|i| self.values[i].clone()),
        }
    }
}

/// The next `Name: value\r\n` line of `text[pos..end]`: its name and value ranges and where
/// the line after it starts. Ranges, not slices, so the caller can append to `text` between
/// calls (the block itself never moves).
fn header_field(
    text: &[u8],
    pos: usize,
    end: usize,
) -> Option<(Range<usize>, Range<usize>, usize)> {
    if pos >= end {
        return None;
    }
    let line_end = memchr::memmem::find(&text[pos..end], b"\r\n").map_or(end, |i| pos + i);
    // Every line of the block was written as `Name: value`.
    let sep = memchr::memmem::find(&text[pos..line_end], b": ").map_or(line_end, |i| pos + i);
    Some((pos..sep, (sep + 2).min(line_end)..line_end, line_end + 2))
}

/// Appends the normalised form of request target `uri` to `out`: `%XX` decoded in path and
/// query; in the path, empty segments (`//`) collapsed and `.`/`..` segments removed.
pub(crate) fn normalize_uri(uri: &[u8], out: &mut Vec<u8>) {
    let (path, query) = match memchr::memchr(b'?', uri) {
        Some(q) => (&uri[..q], Some(&uri[q + 1..])),
        None => (uri, None),
    };
    let start = out.len();
    percent_decode(path, out);
    remove_dot_segments(out, start);
    if let Some(q) = query {
        out.push(b'?');
        percent_decode(q, out);
    }
}

/// Resolves `.`, `..` and empty segments of the path in `buf[start..]` in place (RFC 3986
/// 5.2.4, with `//` collapsed); the result is never longer, so it is written over the input.
fn remove_dot_segments(buf: &mut Vec<u8>, start: usize) {
    let end = buf.len();
    let absolute = buf.get(start) == Some(&b'/');
    // Segments are written from `base`, each after a `/` but the first.
    let base = start + usize::from(absolute);
    let (mut w, mut r, mut written, mut trailing_slash) = (base, base, 0usize, false);
    while r <= end {
        let seg_end = buf[r..end]
            .iter()
            .position(|&b| b == b'/')
            .map_or(end, |i| r + i);
        let last = seg_end == end;
        match &buf[r..seg_end] {
            b"" => trailing_slash = last && r > start,
            b"." => trailing_slash = last,
            b".." => {
                if written > 0 {
                    w = buf[base..w]
                        .iter()
                        .rposition(|&b| b == b'/')
                        .map_or(base, |i| base + i);
                    written -= 1;
                }
                trailing_slash = last;
            }
            _ => {
                if written > 0 {
                    buf[w] = b'/';
                    w += 1;
                }
                buf.copy_within(r..seg_end, w);
                w += seg_end - r;
                written += 1;
                trailing_slash = false;
            }
        }
        r = seg_end + 1;
    }
    buf.truncate(w);
    if trailing_slash && w > start && buf[w - 1] != b'/' {
        buf.push(b'/');
    }
}

/// Appends `s` with every valid `%XX` escape decoded.
fn percent_decode(s: &[u8], out: &mut Vec<u8>) {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(uri: &str) -> String {
        let mut out = Vec::new();
        normalize_uri(uri.as_bytes(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn uri_normalisation() {
        assert_eq!(norm("/a/b/c"), "/a/b/c");
        assert_eq!(norm("/a//b/./c/../d"), "/a/b/d");
        assert_eq!(norm("/%61dmin/x%2ephp?q=%27or%201"), "/admin/x.php?q='or 1");
        assert_eq!(norm("/a/../../etc/passwd"), "/etc/passwd");
        assert_eq!(norm("/dir/"), "/dir/");
        assert_eq!(norm("/dir/."), "/dir/");
        assert_eq!(norm("/"), "/");
        assert_eq!(norm("/%zz%4"), "/%zz%4");
        assert_eq!(norm("*"), "*");
    }

    fn get<'t>(b: &HttpBuffers, text: &'t [u8], buffer: StickyBuffer) -> Option<&'t str> {
        b.get(buffer)
            .map(|r| std::str::from_utf8(&text[r]).expect("utf-8"))
    }

    #[test]
    fn request_buffers() {
        let req =
            b"GET /x/../a%20b?q=1 HTTP/1.1\r\nHost: WWW.Example.com\r\nUser-Agent:  ua/1 \r\n\
                    Cookie: a=1\r\nAccept: */*\r\nAccept: text/html\r\n\r\nbody";
        let mut text = Vec::new();
        let b = HttpBuffers::parse(req, &mut text).expect("http");
        let g = |buf| get(&b, &text, buf);
        assert_eq!(
            g(StickyBuffer::HttpRequestLine),
            Some("GET /x/../a%20b?q=1 HTTP/1.1")
        );
        assert_eq!(g(StickyBuffer::HttpResponseLine), None);
        assert_eq!(g(StickyBuffer::HttpMethod), Some("GET"));
        assert_eq!(g(StickyBuffer::HttpUriRaw), Some("/x/../a%20b?q=1"));
        assert_eq!(g(StickyBuffer::HttpUri), Some("/a b?q=1"));
        assert_eq!(g(StickyBuffer::HttpProtocol), Some("HTTP/1.1"));
        assert_eq!(g(StickyBuffer::HttpHost), Some("www.example.com"));
        assert_eq!(g(StickyBuffer::HttpUserAgent), Some("ua/1"));
        assert_eq!(g(StickyBuffer::HttpCookie), Some("a=1"));
        assert_eq!(g(StickyBuffer::HttpAccept), Some("*/*, text/html"));
        assert_eq!(g(StickyBuffer::HttpReferer), None);
        assert_eq!(
            g(StickyBuffer::HttpHeader),
            Some("Host: WWW.Example.com\r\nUser-Agent: ua/1\r\nCookie: a=1\r\nAccept: */*\r\nAccept: text/html\r\n")
        );
        assert_eq!(
            g(StickyBuffer::HttpHeaderNames),
            Some("\r\nHost\r\nUser-Agent\r\nCookie\r\nAccept\r\nAccept\r\n\r\n")
        );
        assert!(g(StickyBuffer::HttpStart)
            .is_some_and(|s| s.starts_with("GET /x/../a%20b?q=1 HTTP/1.1\r\nHost: ")
                && s.ends_with("text/html\r\n\r\n")));
    }

    #[test]
    fn response_buffers_and_a_cut_header_block() {
        let resp = b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\nSet-Cookie: s=2\r\nContent-Ty";
        let mut text = Vec::new();
        let b = HttpBuffers::parse(resp, &mut text).expect("http");
        let g = |buf| get(&b, &text, buf);
        assert_eq!(g(StickyBuffer::HttpStatCode), Some("404"));
        assert_eq!(g(StickyBuffer::HttpStatMsg), Some("Not Found"));
        assert_eq!(
            g(StickyBuffer::HttpResponseLine),
            Some("HTTP/1.1 404 Not Found")
        );
        assert_eq!(g(StickyBuffer::HttpServer), Some("nginx"));
        assert_eq!(g(StickyBuffer::HttpCookie), Some("s=2"));
        assert_eq!(
            g(StickyBuffer::HttpContentType),
            None,
            "the cut line is not read"
        );
        assert_eq!(g(StickyBuffer::HttpUri), None);
        assert!(HttpBuffers::parse(b"\x16\x03\x01", &mut text).is_none());
    }
}
