//! The application facts a flow record carries: [`AppField`] names them once (columns, JSON
//! keys), [`AppRecord`] holds their text in one bounded arena per flow.

use std::fmt::Write as _;

/// Longest text kept per field, in bytes (longer values are cut at a character boundary).
pub const MAX_FIELD_LEN: usize = 256;

/// Arena bytes reserved when a flow gets its first fact.
const INITIAL_CAPACITY: usize = 192;

/// One application fact of a flow; the extra flow-output columns, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppField {
    /// DNS: the first query name.
    DnsQuery,
    /// DNS: the first query type (`A`, `AAAA`, … or the number).
    DnsQtype,
    /// DNS: the response code of the first response (`NOERROR`, `NXDOMAIN`, …).
    DnsRcode,
    /// TLS: server name (SNI) from the ClientHello.
    TlsSni,
    /// TLS: ALPN protocols offered by the client, comma-separated.
    TlsAlpn,
    /// TLS: version: the ServerHello's negotiated version, else the client's highest offer
    /// (`TLS 1.3`).
    TlsVersion,
    /// TLS: the server's chosen cipher suite (`0x1301`).
    TlsCipher,
    /// TLS: JA4 fingerprint of the ClientHello.
    TlsJa4,
    /// TLS: JA3 fingerprint (MD5) of the ClientHello.
    TlsJa3,
    /// HTTP: the first request's method.
    HttpMethod,
    /// HTTP: the first request's `Host` header.
    HttpHost,
    /// HTTP: the first request's URI.
    HttpUri,
    /// HTTP: the first request's `User-Agent` header.
    HttpUserAgent,
    /// HTTP: the first response's status code.
    HttpStatus,
    /// SSH: the client's identification string.
    SshClient,
    /// SSH: the server's identification string.
    SshServer,
    /// DHCP: the client's host name (option 12).
    DhcpHostname,
}

impl AppField {
    /// Number of fields.
    pub const COUNT: usize = 17;

    /// All fields, in column order.
    pub const ALL: [AppField; AppField::COUNT] = [
        AppField::DnsQuery,
        AppField::DnsQtype,
        AppField::DnsRcode,
        AppField::TlsSni,
        AppField::TlsAlpn,
        AppField::TlsVersion,
        AppField::TlsCipher,
        AppField::TlsJa4,
        AppField::TlsJa3,
        AppField::HttpMethod,
        AppField::HttpHost,
        AppField::HttpUri,
        AppField::HttpUserAgent,
        AppField::HttpStatus,
        AppField::SshClient,
        AppField::SshServer,
        AppField::DhcpHostname,
    ];

    /// Column / JSON key name (`tls_sni`, `http_user_agent`, …).
    pub fn name(self) -> &'static str {
        match self {
            AppField::DnsQuery => "dns_query",
            AppField::DnsQtype => "dns_qtype",
            AppField::DnsRcode => "dns_rcode",
            AppField::TlsSni => "tls_sni",
            AppField::TlsAlpn => "tls_alpn",
            AppField::TlsVersion => "tls_version",
            AppField::TlsCipher => "tls_cipher",
            AppField::TlsJa4 => "tls_ja4",
            AppField::TlsJa3 => "tls_ja3",
            AppField::HttpMethod => "http_method",
            AppField::HttpHost => "http_host",
            AppField::HttpUri => "http_uri",
            AppField::HttpUserAgent => "http_user_agent",
            AppField::HttpStatus => "http_status",
            AppField::SshClient => "ssh_client",
            AppField::SshServer => "ssh_server",
            AppField::DhcpHostname => "dhcp_hostname",
        }
    }

    /// Position in [`AppField::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The application facts of one flow: every value's text in one arena, at most
/// [`MAX_FIELD_LEN`] bytes each.
///
/// Values are kept as text, as written out. Bytes from the wire are kept when they are printable
/// UTF-8; control characters and invalid UTF-8 are written as `\xNN` (as Zeek does), so values
/// are safe to print and never hold a line break.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppRecord {
    text: String,
    spans: [Option<(u16, u16)>; AppField::COUNT],
}

impl AppRecord {
    /// Bytes allocated for the values' text.
    pub fn text_capacity(&self) -> usize {
        self.text.capacity()
    }

    /// The value of `field`, if the flow had it.
    pub fn get(&self, field: AppField) -> Option<&str> {
        let (start, len) = self.spans[field.index()]?;
        let start = usize::from(start);
        self.text.get(start..start + usize::from(len))
    }

    /// Whether `field` has a value.
    pub fn has(&self, field: AppField) -> bool {
        self.spans[field.index()].is_some()
    }

    /// The fields present, in column order, with their values.
    pub fn iter(&self) -> impl Iterator<Item = (AppField, &str)> + '_ {
        AppField::ALL
            .into_iter()
            .filter_map(|f| Some((f, self.get(f)?)))
    }

    /// The fields set, by [`AppField::name`], as a JSON object (the server's `app` column and
    /// the report's flows).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.iter()
            .map(|(k, v)| (k.name().to_string(), v.into()))
            .collect()
    }

    /// Sets `field` from wire bytes (escaped and bounded as the type docs say), replacing an
    /// earlier value.
    pub fn set_bytes(&mut self, field: AppField, value: &[u8]) {
        self.set_list(field, std::iter::once(value));
    }

    /// Sets `field` to `items` joined by commas (escaped and bounded as the type docs say),
    /// replacing an earlier value.
    pub fn set_list<'b>(&mut self, field: AppField, items: impl Iterator<Item = &'b [u8]>) {
        let start = self.text.len();
        for (i, item) in items.enumerate() {
            if (i > 0 && !self.push_escaped(start, b",")) || !self.push_escaped(start, item) {
                break;
            }
        }
        self.close(field, start);
    }

    /// Appends `value` escaped; `false` once the value that began at `start` is full.
    fn push_escaped(&mut self, start: usize, value: &[u8]) -> bool {
        if self.text.capacity() == 0 {
            // One allocation per flow with facts: enough for a typical flow's values.
            self.text.reserve(INITIAL_CAPACITY);
        }
        for chunk in value.utf8_chunks() {
            let valid = chunk.valid();
            // Fast path: printable text (no ASCII control, DEL or C1 control, whose UTF-8 lead
            // byte is 0xc2) is copied whole, cut at a character boundary if too long.
            if !valid.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2) {
                let room = MAX_FIELD_LEN.saturating_sub(self.text.len() - start);
                let mut end = valid.len().min(room);
                while !valid.is_char_boundary(end) {
                    end -= 1;
                }
                self.text.push_str(valid.get(..end).unwrap_or_default());
                if end < valid.len() {
                    return false;
                }
            } else {
                for c in valid.chars() {
                    let len = if c.is_control() { 4 } else { c.len_utf8() };
                    if self.text.len() - start + len > MAX_FIELD_LEN {
                        return false;
                    }
                    if c.is_control() {
                        let _ = write!(self.text, "\\x{:02x}", u32::from(c) & 0xff);
                    } else {
                        self.text.push(c);
                    }
                }
            }
            for b in chunk.invalid() {
                if self.text.len() - start + 4 > MAX_FIELD_LEN {
                    return false;
                }
                let _ = write!(self.text, "\\x{b:02x}");
            }
        }
        true
    }

    /// Sets `field` to formatted text (numbers, names), replacing an earlier value.
    pub fn set_fmt(&mut self, field: AppField, value: std::fmt::Arguments<'_>) {
        if self.text.capacity() == 0 {
            self.text.reserve(INITIAL_CAPACITY);
        }
        let start = self.text.len();
        let _ = self.text.write_fmt(value);
        let mut end = self.text.len().min(start + MAX_FIELD_LEN);
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        self.text.truncate(end);
        self.close(field, start);
    }

    /// Records the text from `start` to the arena's end as `field`'s value.
    fn close(&mut self, field: AppField, start: usize) {
        // Inspection is bounded (a few packets per flow, a few fields each), so the arena stays
        // far below 64 KiB; a value that would not fit is dropped rather than mis-recorded.
        match (u16::try_from(start), u16::try_from(self.text.len() - start)) {
            (Ok(s), Ok(len)) => self.spans[field.index()] = Some((s, len)),
            _ => self.text.truncate(start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_once() {
        for (i, f) in AppField::ALL.iter().enumerate() {
            assert_eq!(f.index(), i);
        }
        let mut names: Vec<_> = AppField::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AppField::COUNT);
    }

    #[test]
    fn set_get_replace_and_escape() {
        let mut r = AppRecord::default();
        assert_eq!(r.get(AppField::TlsSni), None);
        r.set_bytes(AppField::TlsSni, b"example.com");
        r.set_bytes(AppField::HttpUri, b"/a\r\nb\xff\xc3\xa9");
        r.set_fmt(AppField::HttpStatus, format_args!("{}", 404));
        assert_eq!(r.get(AppField::TlsSni), Some("example.com"));
        assert_eq!(r.get(AppField::HttpUri), Some("/a\\x0d\\x0ab\\xff\u{e9}"));
        assert_eq!(r.get(AppField::HttpStatus), Some("404"));
        r.set_bytes(AppField::TlsSni, b"other.org");
        assert_eq!(r.get(AppField::TlsSni), Some("other.org"));
        let present: Vec<_> = r.iter().map(|(f, _)| f).collect();
        assert_eq!(
            present,
            [AppField::TlsSni, AppField::HttpUri, AppField::HttpStatus]
        );
    }

    #[test]
    fn values_are_bounded() {
        let mut r = AppRecord::default();
        r.set_bytes(AppField::HttpUri, &[b'a'; 1000]);
        assert_eq!(r.get(AppField::HttpUri).map(str::len), Some(MAX_FIELD_LEN));
        r.set_bytes(AppField::HttpHost, &[0u8; 1000]);
        let host = r.get(AppField::HttpHost).expect("set");
        assert!(host.len() <= MAX_FIELD_LEN && host.starts_with("\\x00"));
        let long = "é".repeat(200);
        r.set_fmt(AppField::SshClient, format_args!("{long}"));
        assert!(r
            .get(AppField::SshClient)
            .is_some_and(|v| v.len() <= MAX_FIELD_LEN));
    }
}
