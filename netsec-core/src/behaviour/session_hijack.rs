//! HTTP session hijacking by cookie replay: a session cookie first sent to a site by one
//! client comes back from another client with a different `User-Agent` within `window_us`.
//! A stolen session (sniffed, or taken by cross-site scripting) is replayed this way; the
//! same browser moving between its IPv4 and IPv6 addresses keeps its `User-Agent` and does
//! not count.
//!
//! A **session cookie** is a `Cookie` pair whose name contains `sess`, `sid`, `token` or
//! `auth` (any case), or whose value is at least `min_value_len` characters long; its value
//! must be at least `min_value_len` characters long either way, so flags such as
//! `consent=yes` never count. Cookies are remembered by a keyed hash of (host, name, value):
//! no cookie text is stored. One alert (`Session_Hijacking`) per (replaying client, server)
//! and episode.

use std::hash::{BuildHasher, Hasher, RandomState};

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, Episodes, Tally, TimedTable};
use super::{secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check};
use crate::app::http::{next_line, trim};
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "session_hijack";

/// Settings of the [`SessionHijackDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionHijackConfig {
    /// Run the detector (default true).
    pub enabled: bool,
    /// How long a session cookie stays bound to its first client, µs (default 1 h).
    pub window_us: i64,
    /// Shortest cookie value that can identify a session (default 16).
    pub min_value_len: usize,
    /// A client quiet for this long ends its episode, µs (default 600 s).
    pub quiet_us: i64,
    /// Cap of each table (session cookies, client episodes), default 4096.
    pub max_tracked: usize,
}

impl Default for SessionHijackConfig {
    fn default() -> Self {
        SessionHijackConfig {
            enabled: true,
            window_us: 3_600_000_000,
            min_value_len: 16,
            quiet_us: 600_000_000,
            max_tracked: 1 << 12,
        }
    }
}

impl SessionHijackConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("window_us", self.window_us)?;
        c.at_least_one("min_value_len", self.min_value_len as u64)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// Whether a cookie pair identifies a session.
pub(crate) fn is_session_cookie(name: &[u8], value: &[u8], min_value_len: usize) -> bool {
    if value.len() < min_value_len {
        return false;
    }
    let named = [&b"sess"[..], b"sid", b"token", b"auth"]
        .iter()
        .any(|k| name.windows(k.len()).any(|w| w.eq_ignore_ascii_case(k)));
    named
        || value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.%".contains(b))
}

/// The `Host`, `User-Agent` and `Cookie` header values of a request's header block.
fn request_headers(payload: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let (mut host, mut agent, mut cookie) = (&[][..], &[][..], &[][..]);
    let Some((_, mut rest)) = next_line(payload) else {
        return (host, agent, cookie);
    };
    while let Some((line, after)) = next_line(rest) {
        if line.is_empty() {
            break;
        }
        rest = after;
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.eq_ignore_ascii_case(b"host") {
            host = value;
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            agent = value;
        } else if name.eq_ignore_ascii_case(b"cookie") {
            cookie = value;
        }
    }
    (host, agent, cookie)
}

/// Who first sent a session cookie.
#[derive(Debug, Clone, Copy)]
struct Owner {
    client: Addr,
    agent: u64,
}

/// Detects replayed HTTP session cookies.
#[derive(Debug)]
pub struct SessionHijackDetector {
    config: SessionHijackConfig,
    clock: Clock,
    hasher: RandomState,
    owners: TimedTable<u64, Owner>,
    clients: Episodes<(Addr, Addr), ()>,
    tally: Tally,
}

impl SessionHijackDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &SessionHijackConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(SessionHijackDetector {
            config: config.clone(),
            clock: Clock::default(),
            hasher: RandomState::new(),
            owners: TimedTable::new(config.max_tracked, config.window_us),
            clients: Episodes::new(config.max_tracked, config.quiet_us, config.quiet_us),
            tally: Tally::default(),
        })
    }

    fn hash(&self, parts: &[&[u8]]) -> u64 {
        let mut h = self.hasher.build_hasher();
        for p in parts {
            h.write(p);
            h.write_u8(0xff);
        }
        h.finish()
    }
}

impl Detector for SessionHijackDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP_DATA
    }

    fn stats(&self) -> DetectorStats {
        table_stats(NAME, &self.tally, &[&self.owners, &self.clients])
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = transport(pkt) else {
            return;
        };
        let m = &ip.meta;
        if m.protocol != IpProtocol::TCP || ip.payload.len() < 16 {
            return;
        }
        if !flow.is_some_and(|f| f.direction.is_forward() && !f.retransmission) {
            return;
        }
        let p = ip.payload;
        if !(p.starts_with(b"GET ") || p.starts_with(b"POST ") || p.starts_with(b"PUT ")) {
            return;
        }
        let (host, agent, cookies) = request_headers(p);
        if cookies.is_empty() {
            return;
        }
        let now = self.clock.advance(m.ts);
        self.owners.expire(now, |_, _| {});
        let me = Owner {
            client: Addr(m.src_addr),
            agent: self.hash(&[agent]),
        };
        let min_len = self.config.min_value_len;
        let mut replayed = None;
        for pair in cookies.split(|&b| b == b';') {
            let pair = trim(pair);
            let Some(eq) = memchr::memchr(b'=', pair) else {
                continue;
            };
            let (name, value) = (&pair[..eq], &pair[eq + 1..]);
            if !is_session_cookie(name, value, min_len) {
                continue;
            }
            let key = self.hash(&[host, name, value]);
            let owner = *self.owners.touch(key, now, || me, |_, _| {});
            if owner.client != me.client && owner.agent != me.agent {
                replayed = Some((owner.client, String::from_utf8_lossy(name).into_owned()));
                break;
            }
        }
        let Some((first, cookie)) = replayed else {
            return;
        };
        let (ep, ()) = self.clients.event((me.client, Addr(m.dst_addr)), now);
        if !self.tally.fire(ep) {
            return;
        }
        let ep = *ep;
        let site = String::from_utf8_lossy(host);
        let description = format!(
            "{} replayed the {cookie} session cookie of {} to {site} ({}) with another User-Agent, within {}.",
            m.src_addr,
            first.0,
            m.dst_addr,
            secs(self.config.window_us)
        );
        out.push(
            AlertBuilder::new(NAME, now, "Session_Hijacking", Severity::High, &ep)
                .addrs(Some(m.src_addr), Some(m.dst_addr))
                .ports(Some(m.src_port), Some(m.dst_port))
                .protocol(m.protocol)
                .score(0.85)
                .meta("cookie", cookie)
                .meta("host", site.into_owned())
                .observed("first_client", first.0.to_string())
                .threshold("window_us", self.config.window_us)
                .threshold("min_value_len", self.config.min_value_len as u64)
                .build(description),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookies() {
        assert!(is_session_cookie(
            b"PHPSESSID",
            b"ncobrqrb7fj2a2sinddtk567q4",
            16
        ));
        assert!(is_session_cookie(b"x", b"0123456789abcdef0123", 16));
        assert!(!is_session_cookie(b"security", b"impossible", 16), "short");
        assert!(!is_session_cookie(b"consent", b"yes", 16));
        assert!(
            !is_session_cookie(b"prefs", b"{\"theme\": \"dark\", \"x\": 1}", 16),
            "not token-like and not named like a session"
        );
    }

    #[test]
    fn header_block() {
        let req = b"GET / HTTP/1.1\r\nHost: a.example\r\nCookie: s=1; PHPSESSID=abc\r\nUser-Agent: UA/1\r\n\r\nCookie: body";
        let (host, agent, cookie) = request_headers(req);
        assert_eq!(host, b"a.example");
        assert_eq!(agent, b"UA/1");
        assert_eq!(cookie, b"s=1; PHPSESSID=abc");
        assert_eq!(request_headers(b"GET /").2, b"");
    }
}
