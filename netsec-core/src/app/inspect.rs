//! Per-flow application inspection: which protocol a flow carries and its facts, from the
//! first few payload packets of each direction.

use crate::decode::IpProtocol;

use super::record::{AppField, AppRecord};
use super::{dhcp, dns, http, ssh, tls, AppProto};

/// Payload-carrying packets looked at per direction before a flow's inspection stops.
pub const MAX_INSPECTED_PER_DIRECTION: u8 = 4;

/// The application state of one flow, kept by the flow table beside the flow (not in it).
///
/// It looks at no more than [`MAX_INSPECTED_PER_DIRECTION`] payload packets per direction, and
/// stops earlier in a direction once that direction's facts are known (the ClientHello, the
/// request line, the banner …). The [`AppRecord`] is allocated only when a flow yields a fact,
/// so flows without application data cost no allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppInspector {
    proto: AppProto,
    /// Payload packets looked at, per direction (forward, backward).
    seen: [u8; 2],
    /// The direction's facts are known.
    done: [bool; 2],
    record: Option<Box<AppRecord>>,
}

impl AppInspector {
    /// The protocol recognised so far.
    pub fn proto(&self) -> AppProto {
        self.proto
    }

    /// The facts gathered so far.
    pub fn record(&self) -> Option<&AppRecord> {
        self.record.as_deref()
    }

    /// Whether further payload packets may still be looked at.
    pub fn wants_more(&self) -> bool {
        (0..2).any(|d| !self.done[d] && self.seen[d] < MAX_INSPECTED_PER_DIRECTION)
    }

    /// Heap bytes held for the facts (the record and its text), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.record
            .as_ref()
            .map_or(0, |r| std::mem::size_of::<AppRecord>() + r.text_capacity())
    }

    /// Takes the protocol and the facts (for the exported flow record), leaving a fresh state.
    pub fn take(&mut self) -> (AppProto, Option<Box<AppRecord>>) {
        let taken = std::mem::take(self);
        (taken.proto, taken.record)
    }

    /// Looks at one transport payload of the flow; `from_client` when the flow's initiator
    /// (its forward side) sent it. The application layer sits below flows and takes the side
    /// as a plain flag; the flow table translates its direction.
    pub fn inspect(&mut self, protocol: IpProtocol, from_client: bool, payload: &[u8]) {
        let d = usize::from(!from_client);
        if payload.is_empty() || self.done[d] || self.seen[d] >= MAX_INSPECTED_PER_DIRECTION {
            return;
        }
        self.seen[d] += 1;
        if self.proto == AppProto::Unknown {
            self.proto = AppProto::detect(protocol, payload);
        }
        self.done[d] = match self.proto {
            AppProto::Unknown => false,
            AppProto::Tls => self.tls(payload),
            AppProto::Http => self.http(payload),
            AppProto::Ssh => self.ssh(from_client, payload),
            AppProto::Dns => self.dns(protocol, payload),
            AppProto::Dhcp => self.dhcp(payload),
            // Recognised only: the payload is encrypted.
            AppProto::Quic => true,
            // Recognised only: rules read its start lines from each packet.
            AppProto::Sip => true,
            // Recognised only.
            AppProto::Tftp => true,
        };
    }

    fn rec(&mut self) -> &mut AppRecord {
        self.record.get_or_insert_with(Default::default)
    }

    fn tls(&mut self, payload: &[u8]) -> bool {
        match tls::parse(payload) {
            Ok(tls::Hello::Client(hello)) => {
                let r = self.rec();
                if let Some(sni) = hello.sni {
                    r.set_bytes(AppField::TlsSni, sni);
                }
                if hello.alpn().next().is_some() {
                    r.set_list(AppField::TlsAlpn, hello.alpn());
                }
                // The server's choice, when already seen, wins over the client's offer.
                if !r.has(AppField::TlsVersion) {
                    set_version(r, hello.version());
                }
                if let Some(ja4) = hello.ja4() {
                    r.set_bytes(AppField::TlsJa4, ja4.as_str().as_bytes());
                }
                if let Some(ja3) = hello.ja3() {
                    r.set_bytes(AppField::TlsJa3, ja3.as_str().as_bytes());
                }
                true
            }
            Ok(tls::Hello::Server(hello)) => {
                let r = self.rec();
                set_version(r, hello.version());
                r.set_fmt(AppField::TlsCipher, format_args!("0x{:04x}", hello.cipher));
                true
            }
            Err(_) => false,
        }
    }

    fn http(&mut self, payload: &[u8]) -> bool {
        match http::parse(payload) {
            Ok(http::HttpMessage::Request(req)) => {
                let r = self.rec();
                r.set_bytes(AppField::HttpMethod, req.method.as_bytes());
                r.set_bytes(AppField::HttpUri, req.uri);
                if let Some(host) = req.host {
                    r.set_bytes(AppField::HttpHost, host);
                }
                if let Some(ua) = req.user_agent {
                    r.set_bytes(AppField::HttpUserAgent, ua);
                }
                true
            }
            Ok(http::HttpMessage::Response(resp)) => {
                self.rec()
                    .set_fmt(AppField::HttpStatus, format_args!("{}", resp.status));
                true
            }
            Err(_) => false,
        }
    }

    fn ssh(&mut self, from_client: bool, payload: &[u8]) -> bool {
        let Ok(banner) = ssh::parse(payload) else {
            return false;
        };
        let field = if from_client {
            AppField::SshClient
        } else {
            AppField::SshServer
        };
        self.rec().set_bytes(field, banner.line.as_bytes());
        true
    }
}

impl AppInspector {
    fn dns(&mut self, protocol: IpProtocol, payload: &[u8]) -> bool {
        let parsed = if protocol == IpProtocol::TCP {
            dns::DnsMessage::parse_tcp(payload).map(|(m, _)| m)
        } else {
            dns::DnsMessage::parse(payload)
        };
        let Ok(msg) = parsed else {
            return false;
        };
        let r = self.rec();
        if let Some(q) = msg.question() {
            if !r.has(AppField::DnsQuery) {
                let mut buf = [0u8; dns::MAX_NAME_WIRE_LEN];
                r.set_bytes(AppField::DnsQuery, q.name.write_dotted(&mut buf));
                match q.qtype.name() {
                    Some(name) => r.set_bytes(AppField::DnsQtype, name.as_bytes()),
                    None => r.set_fmt(AppField::DnsQtype, format_args!("{}", q.qtype.0)),
                }
            }
        }
        if msg.flags().is_response() {
            match rcode_name(msg.flags().rcode()) {
                Some(name) => r.set_bytes(AppField::DnsRcode, name.as_bytes()),
                None => r.set_fmt(AppField::DnsRcode, format_args!("{}", msg.flags().rcode())),
            }
        }
        true
    }

    fn dhcp(&mut self, payload: &[u8]) -> bool {
        let hostname = dhcp::DhcpMessage::parse(payload)
            .ok()
            .and_then(|m| m.hostname());
        if let Some(name) = hostname {
            self.rec().set_bytes(AppField::DhcpHostname, name);
        }
        hostname.is_some()
    }
}

/// The DNS response code mnemonic (RFC 1035 §4.1.1, RFC 2136 §2.2).
fn rcode_name(rcode: u8) -> Option<&'static str> {
    Some(match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => return None,
    })
}

fn set_version(r: &mut AppRecord, v: u16) {
    match tls::version_name(v) {
        Some(name) => r.set_bytes(AppField::TlsVersion, name.as_bytes()),
        None => r.set_fmt(AppField::TlsVersion, format_args!("0x{v:04x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FWD: bool = true;
    const BWD: bool = false;

    #[test]
    fn http_flow_facts() {
        let mut a = AppInspector::default();
        a.inspect(IpProtocol::TCP, FWD, b"");
        assert_eq!(a.proto(), AppProto::Unknown);
        a.inspect(
            IpProtocol::TCP,
            FWD,
            b"GET /x HTTP/1.1\r\nHost: h.example\r\nUser-Agent: t/1\r\n\r\n",
        );
        assert_eq!(a.proto(), AppProto::Http);
        assert!(a.wants_more());
        a.inspect(IpProtocol::TCP, BWD, b"HTTP/1.1 301 Moved\r\n\r\n");
        assert!(!a.wants_more());
        let r = a.record().expect("facts");
        assert_eq!(r.get(AppField::HttpHost), Some("h.example"));
        assert_eq!(r.get(AppField::HttpUri), Some("/x"));
        assert_eq!(r.get(AppField::HttpUserAgent), Some("t/1"));
        assert_eq!(r.get(AppField::HttpMethod), Some("GET"));
        assert_eq!(r.get(AppField::HttpStatus), Some("301"));
        let (proto, rec) = a.take();
        assert_eq!((proto, rec.is_some()), (AppProto::Http, true));
        assert_eq!(a, AppInspector::default());
    }

    #[test]
    fn ssh_banners_by_direction() {
        let mut a = AppInspector::default();
        a.inspect(IpProtocol::TCP, BWD, b"SSH-2.0-OpenSSH_8.9\r\n");
        a.inspect(IpProtocol::TCP, FWD, b"SSH-2.0-PuTTY_0.78\r\n");
        let r = a.record().expect("facts");
        assert_eq!(r.get(AppField::SshServer), Some("SSH-2.0-OpenSSH_8.9"));
        assert_eq!(r.get(AppField::SshClient), Some("SSH-2.0-PuTTY_0.78"));
        assert!(!a.wants_more());
    }

    #[test]
    fn dns_query_and_rcode() {
        let query = [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p', b'l',
            b'e', 3, b'c', b'o', b'm', 0, 0, 28, 0, 1,
        ];
        let mut reply = query;
        reply[2..4].copy_from_slice(&[0x81, 0x83]);
        let mut a = AppInspector::default();
        a.inspect(IpProtocol::UDP, FWD, &query);
        a.inspect(IpProtocol::UDP, BWD, &reply);
        assert_eq!(a.proto(), AppProto::Dns);
        let r = a.record().expect("facts");
        assert_eq!(r.get(AppField::DnsQuery), Some("example.com"));
        assert_eq!(r.get(AppField::DnsQtype), Some("AAAA"));
        assert_eq!(r.get(AppField::DnsRcode), Some("NXDOMAIN"));
    }

    #[test]
    fn inspection_is_bounded() {
        let mut a = AppInspector::default();
        for _ in 0..10 {
            a.inspect(IpProtocol::TCP, FWD, b"\x00\x01garbage");
            a.inspect(IpProtocol::TCP, BWD, b"\x00\x01garbage");
        }
        assert_eq!(a.seen, [MAX_INSPECTED_PER_DIRECTION; 2]);
        assert!(!a.wants_more());
        assert_eq!((a.proto(), a.record()), (AppProto::Unknown, None));
        // Once a direction stopped, later packets are not looked at.
        a.inspect(IpProtocol::TCP, FWD, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(a.proto(), AppProto::Unknown);
    }
}
