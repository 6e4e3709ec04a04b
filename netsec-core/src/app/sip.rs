//! SIP (RFC 3261 §7.1, §7.2): the start line of a request (`METHOD SP Request-URI SP
//! SIP/2.0`) or a response (`SIP/2.0 SP Status-Code SP Reason-Phrase`), from one datagram or
//! segment. Zero-copy; `None` on anything else.

use super::http::next_line;

/// The version token every SIP/2.0 message carries.
const VERSION: &[u8] = b"SIP/2.0";

/// Longest method token accepted (`SUBSCRIBE`, `REGISTER` … are well below it).
const MAX_METHOD: usize = 32;

/// The start line of a SIP message, each part borrowing the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// A request.
    Request {
        /// The whole line, without its line end.
        line: &'a [u8],
        /// `REGISTER`, `INVITE` …
        method: &'a [u8],
        /// The Request-URI (`sip:alice@example.com`).
        uri: &'a [u8],
        /// `SIP/2.0`.
        version: &'a [u8],
    },
    /// A response.
    Response {
        /// The whole line, without its line end.
        line: &'a [u8],
        /// `SIP/2.0`.
        version: &'a [u8],
        /// The three-digit status code.
        code: &'a [u8],
        /// The reason phrase (may be empty).
        reason: &'a [u8],
    },
}

/// The start line of the SIP message at the start of `payload`.
pub fn parse(payload: &[u8]) -> Option<StartLine<'_>> {
    let (line, _) = next_line(payload)?;
    if let Some(rest) = line.strip_prefix(VERSION) {
        let rest = rest.strip_prefix(b" ")?;
        let code = rest.get(..3).filter(|c| c.iter().all(u8::is_ascii_digit))?;
        let reason = match rest.get(3..) {
            Some([]) | None => &[][..],
            Some([b' ', reason @ ..]) => reason,
            Some(_) => return None,
        };
        let version = &line[..VERSION.len()];
        return Some(StartLine::Response {
            line,
            version,
            code,
            reason,
        });
    }
    let mut parts = line.splitn(3, |&b| b == b' ');
    let method = parts.next()?;
    let uri = parts.next()?;
    let version = parts.next()?;
    let method_ok = !method.is_empty()
        && method.len() <= MAX_METHOD
        && method.iter().all(|b| b.is_ascii_uppercase() || *b == b'-');
    let uri_ok = [&b"sip:"[..], b"sips:", b"tel:"]
        .iter()
        .any(|scheme| uri.len() > scheme.len() && uri[..scheme.len()].eq_ignore_ascii_case(scheme));
    (method_ok && uri_ok && version == VERSION).then_some(StartLine::Request {
        line,
        method,
        uri,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses() {
        let req = b"REGISTER sip:sip.example.dk SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\n\r\n";
        assert_eq!(
            parse(req),
            Some(StartLine::Request {
                line: &req[..35],
                method: b"REGISTER",
                uri: b"sip:sip.example.dk",
                version: b"SIP/2.0",
            })
        );
        let resp = b"SIP/2.0 100 Trying\r\n\r\n";
        assert_eq!(
            parse(resp),
            Some(StartLine::Response {
                line: b"SIP/2.0 100 Trying",
                version: b"SIP/2.0",
                code: b"100",
                reason: b"Trying",
            })
        );
    }

    #[test]
    fn other_text_is_not_sip() {
        for p in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\n\r\n",
            b"REGISTER sip:x SIP/2.0",
            b"REGISTER http://x SIP/2.0\r\n",
            b"register sip:x SIP/2.0\r\n",
            b"SIP/2.0 1x0 Trying\r\n",
            b"SIP/2.0 100Trying\r\n",
            b"",
        ] {
            assert_eq!(parse(p), None, "{p:?}");
        }
    }
}
