//! Application-layer metadata parsed from single packets: DNS, TLS, HTTP, DHCP, SSH, SIP.
//!
//! - [`AppProto`] and [`AppProto::detect`]: which application protocol a payload carries,
//!   decided from its bytes (not from the port).
//! - One parser per protocol ([`tls`], [`http`], [`ssh`], [`dns`], [`dhcp`]): each borrows the
//!   payload it is given (zero-copy) and returns an error on garbage; none panics on any input
//!   (the fuzz targets check this).
//! - [`AppField`] and [`AppRecord`]: the facts a flow record carries (SNI, HTTP host, SSH
//!   banners …), kept once per flow in one bounded text arena.
//! - [`AppInspector`]: the per-flow state the flow table keeps beside each flow; it looks at the
//!   first few payload packets of each direction only.
//!
//! # What is not reassembled
//! Every parser reads one TCP segment or one UDP datagram. A message split over segments is
//! parsed as far as the first segment goes (see each parser's docs); IP fragments other than
//! the first are not inspected; QUIC payloads are recognised but not decrypted.

mod cursor;
pub mod dhcp;
pub mod dns;
pub mod http;
mod inspect;
mod record;
pub mod sip;
pub mod smb2;
pub mod ssh;
pub mod tls;
pub mod tls_certs;

pub use inspect::{AppInspector, MAX_INSPECTED_PER_DIRECTION};
pub use record::{AppField, AppRecord, MAX_FIELD_LEN};

use crate::decode::IpProtocol;

/// The application protocol of a flow, as recognised from its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum AppProto {
    /// Not recognised (or not inspected).
    #[default]
    Unknown,
    /// DNS over UDP or TCP.
    Dns,
    /// TLS over TCP.
    Tls,
    /// HTTP/1.x.
    Http,
    /// SSH.
    Ssh,
    /// DHCP (BOOTP with the DHCP magic cookie).
    Dhcp,
    /// QUIC (a long-header packet of a known version).
    Quic,
    /// SIP over UDP or TCP (a request or status line naming `SIP/2.0`).
    Sip,
    /// TFTP (a read or write request: opcode, file name, transfer mode).
    Tftp,
}

impl AppProto {
    /// All protocols, in [`AppProto::index`] order.
    pub const ALL: [AppProto; 9] = [
        AppProto::Unknown,
        AppProto::Dns,
        AppProto::Tls,
        AppProto::Http,
        AppProto::Ssh,
        AppProto::Dhcp,
        AppProto::Quic,
        AppProto::Sip,
        AppProto::Tftp,
    ];

    /// Lower-case name, as the `app_proto` column and rule headers spell it (`unknown`, `dns`,
    /// `tls`, `http`, `ssh`, `dhcp`, `quic`, `sip`, `tftp`).
    pub fn as_str(self) -> &'static str {
        match self {
            AppProto::Unknown => "unknown",
            AppProto::Dns => "dns",
            AppProto::Tls => "tls",
            AppProto::Http => "http",
            AppProto::Ssh => "ssh",
            AppProto::Dhcp => "dhcp",
            AppProto::Quic => "quic",
            AppProto::Sip => "sip",
            AppProto::Tftp => "tftp",
        }
    }

    /// The protocol named `name` (as [`as_str`](Self::as_str) writes it).
    pub fn from_name(name: &str) -> Option<AppProto> {
        AppProto::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Position in [`AppProto::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Recognises the protocol of one transport payload from its bytes.
    ///
    /// TCP: a TLS handshake record, an SSH identification string, a SIP start line, an
    /// HTTP/1.x request or status line, or a length-prefixed DNS message. UDP: DHCP (BOOTP
    /// with the magic cookie), a QUIC long-header packet of a known version, a SIP start
    /// line, a TFTP read or write request, or a DNS message. Ports are not consulted,
    /// so services on unusual ports are recognised and other traffic on well-known ports is
    /// not mislabelled. Cheap: each check looks at a few bytes before parsing further.
    pub fn detect(protocol: IpProtocol, payload: &[u8]) -> AppProto {
        match protocol {
            IpProtocol::TCP => detect_tcp(payload),
            IpProtocol::UDP => detect_udp(payload),
            _ => AppProto::Unknown,
        }
    }
}

impl std::fmt::Display for AppProto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn detect_tcp(p: &[u8]) -> AppProto {
    match p.first() {
        // A TLS record (RFC 8446 §5.1): handshake, alert, change cipher spec or application
        // data, version 3.x. A flow seen from its middle is recognised by its data records.
        Some(20..=23) if matches!(p.get(1..3), Some([3, 0..=4])) => AppProto::Tls,
        Some(b'S') if ssh::parse(p).is_ok() => AppProto::Ssh,
        Some(b'A'..=b'Z') if sip::parse(p).is_some() => AppProto::Sip,
        Some(b'A'..=b'Z') if http::looks_like_http(p) => AppProto::Http,
        // DNS over TCP: a two-byte length, then the message (RFC 1035 §4.2.2).
        Some(_) if p.len() >= 14 && looks_like_dns(&p[2..]) => AppProto::Dns,
        _ => AppProto::Unknown,
    }
}

fn detect_udp(p: &[u8]) -> AppProto {
    if is_dhcp(p) {
        AppProto::Dhcp
    } else if is_quic_long_header(p) || is_gquic_with_version(p) {
        AppProto::Quic
    } else if sip::parse(p).is_some() {
        AppProto::Sip
    } else if is_tftp_request(p) {
        AppProto::Tftp
    } else if looks_like_dns(p) {
        AppProto::Dns
    } else {
        AppProto::Unknown
    }
}

/// A TFTP read or write request (RFC 1350 §5): opcode 1 or 2, a file name of printable
/// bytes, a NUL, a transfer mode Suricata knows (`netascii`, `octet`, `mail`, any case),
/// a NUL (options may follow, RFC 2347).
fn is_tftp_request(p: &[u8]) -> bool {
    let Some(rest) = p.strip_prefix(&[0, 1]).or_else(|| p.strip_prefix(&[0, 2])) else {
        return false;
    };
    let Some(name_end) = rest.iter().position(|&b| b == 0) else {
        return false;
    };
    let name = &rest[..name_end];
    let after = &rest[name_end + 1..];
    let Some(mode_end) = after.iter().position(|&b| b == 0) else {
        return false;
    };
    let mode = &after[..mode_end];
    !name.is_empty()
        && name.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
        && ["netascii", "octet", "mail"]
            .iter()
            .any(|m| mode.eq_ignore_ascii_case(m.as_bytes()))
}

/// BOOTP (RFC 951) op 1 or 2 with the DHCP magic cookie at offset 236 (RFC 2131 §3).
fn is_dhcp(p: &[u8]) -> bool {
    matches!(p.first(), Some(1 | 2)) && p.get(236..240) == Some(&[99, 130, 83, 99])
}

/// A QUIC long header (RFC 9000 §17.2): form and fixed bits set, a known version, connection
/// id lengths within the 20-byte limit and inside the datagram.
fn is_quic_long_header(p: &[u8]) -> bool {
    let Some(&[first, v0, v1, v2, v3, dcid_len]) = p.get(..6) else {
        return false;
    };
    if first & 0xc0 != 0xc0 {
        return false;
    }
    let version = u32::from_be_bytes([v0, v1, v2, v3]);
    let known = matches!(version, 1 | 0x6b33_43cf)
        || version >> 8 == 0xff_0000 // IETF drafts
        || version >> 8 == 0x51_3030 // Google QUIC Q0xx with IETF-style headers (Q046, Q050)
        || version & 0xffff_fff0 == 0xface_b000; // mvfst
    let dcid_len = usize::from(dcid_len);
    let scid_len = p.get(6 + dcid_len).map(|&n| usize::from(n));
    known && dcid_len <= 20 && scid_len.is_some_and(|n| n <= 20 && 7 + dcid_len + n <= p.len())
}

/// A Google QUIC packet with the legacy public header and the version present (a client's
/// first packets): public flags with the version bit and an 8-byte connection id, then
/// `Q0nn` (gQUIC before Q046 used this header; later versions use the long header above).
fn is_gquic_with_version(p: &[u8]) -> bool {
    let Some(&flags) = p.first() else {
        return false;
    };
    flags & 0x81 == 0x01
        && flags & 0x0c == 0x0c
        && matches!(p.get(9..13), Some([b'Q', b'0', a, b]) if a.is_ascii_digit() && b.is_ascii_digit())
}

/// A plausible DNS message (RFC 1035 §4.1): a known opcode, one to a few questions (or none and
/// a few answers, as mDNS announcements), and a first name that is well-formed labels (or a
/// compression pointer) followed by a type and class.
fn looks_like_dns(p: &[u8]) -> bool {
    let Some(&[_, _, flags, _, qd_hi, qd_lo, an_hi, an_lo]) = p.get(..8) else {
        return false;
    };
    let opcode = (flags >> 3) & 0x0f;
    let questions = u16::from_be_bytes([qd_hi, qd_lo]);
    let answers = u16::from_be_bytes([an_hi, an_lo]);
    let counts_ok = (1..=8).contains(&questions) || (questions == 0 && (1..=64).contains(&answers));
    if !matches!(opcode, 0 | 1 | 2 | 4 | 5) || !counts_ok || p.len() < 17 {
        return false;
    }
    let mut i = 12;
    let mut labels = 0;
    loop {
        let Some(&len) = p.get(i) else {
            return false;
        };
        match len {
            0 => {
                i += 1;
                break;
            }
            1..=63 => {
                let label = p.get(i + 1..i + 1 + usize::from(len));
                if !label.is_some_and(|l| l.iter().all(|b| b.is_ascii_graphic())) {
                    return false;
                }
                i += 1 + usize::from(len);
                labels += 1;
                if labels > 127 {
                    return false;
                }
            }
            0xc0..=0xff if labels > 0 => {
                i += 2;
                break;
            }
            _ => return false,
        }
    }
    p.len() >= i + 4
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: IpProtocol = IpProtocol::TCP;
    const UDP: IpProtocol = IpProtocol::UDP;

    #[test]
    fn names_round_trip() {
        for p in AppProto::ALL {
            assert_eq!(AppProto::from_name(p.as_str()), Some(p));
            assert_eq!(AppProto::ALL[p.index()], p);
        }
        assert_eq!(AppProto::from_name("smtp"), None);
    }

    #[test]
    fn detects_tftp_requests_only() {
        assert_eq!(
            AppProto::detect(UDP, b"\0\x01rfc1350.txt\0octet\0"),
            AppProto::Tftp
        );
        assert_eq!(
            AppProto::detect(UDP, b"\0\x02a b\0NetASCII\0blksize\x00512\0"),
            AppProto::Tftp
        );
        for not in [
            &b"\0\x01\0octet\0"[..],
            b"\0\x01f\0binary\0",
            b"\0\x03\0\x01data",
            b"\0\x01f\0octet",
        ] {
            assert_ne!(AppProto::detect(UDP, not), AppProto::Tftp, "{not:?}");
        }
    }

    #[test]
    fn detects_tcp_protocols() {
        assert_eq!(AppProto::detect(TCP, &[22, 3, 1, 0, 5, 1]), AppProto::Tls);
        assert_eq!(AppProto::detect(TCP, &[23, 3, 3, 0, 5, 1]), AppProto::Tls);
        assert_eq!(
            AppProto::detect(TCP, &[22, 2, 1, 0, 5, 1]),
            AppProto::Unknown
        );
        assert_eq!(
            AppProto::detect(TCP, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            AppProto::Http
        );
        assert_eq!(
            AppProto::detect(TCP, b"HTTP/1.1 200 OK\r\n"),
            AppProto::Http
        );
        assert_eq!(
            AppProto::detect(TCP, b"SSH-2.0-OpenSSH_9.6\r\n"),
            AppProto::Ssh
        );
        let mut dns = vec![0, 29];
        dns.extend(DNS_QUERY);
        assert_eq!(AppProto::detect(TCP, &dns), AppProto::Dns);
        assert_eq!(AppProto::detect(TCP, b"hello world"), AppProto::Unknown);
        assert_eq!(AppProto::detect(TCP, b""), AppProto::Unknown);
        assert_eq!(
            AppProto::detect(IpProtocol::ICMP, b"GET / HTTP/1.1\r\n"),
            AppProto::Unknown
        );
    }

    /// Query for `example.com` A.
    const DNS_QUERY: &[u8] = &[
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p', b'l',
        b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1,
    ];

    #[test]
    fn detects_udp_protocols() {
        let register = b"REGISTER sip:example.dk SIP/2.0\r\n\r\n";
        assert_eq!(AppProto::detect(UDP, register), AppProto::Sip);
        assert_eq!(AppProto::detect(TCP, register), AppProto::Sip);
        assert_eq!(AppProto::detect(UDP, b"SIP/2.0 200 OK\r\n"), AppProto::Sip);
        assert_eq!(AppProto::detect(UDP, DNS_QUERY), AppProto::Dns);
        assert_eq!(AppProto::detect(UDP, &DNS_QUERY[..27]), AppProto::Unknown);
        let mut dhcp = vec![0u8; 300];
        dhcp[0] = 1;
        dhcp[236..240].copy_from_slice(&[99, 130, 83, 99]);
        assert_eq!(AppProto::detect(UDP, &dhcp), AppProto::Dhcp);
        let mut quic = vec![0xc3, 0, 0, 0, 1, 8];
        quic.extend([0xaa; 8]);
        quic.push(0);
        quic.extend([0; 20]);
        assert_eq!(AppProto::detect(UDP, &quic), AppProto::Quic);
        quic[4] = 9; // unknown version
        assert_eq!(AppProto::detect(UDP, &quic), AppProto::Unknown);
        // gQUIC Q035 client packet: flags 0x0d, 8-byte connection id, version.
        let mut gquic = vec![0x0d, 1, 2, 3, 4, 5, 6, 7, 8];
        gquic.extend(b"Q035\x01rest of packet");
        assert_eq!(AppProto::detect(UDP, &gquic), AppProto::Quic);
        gquic[9] = b'X';
        assert_eq!(AppProto::detect(UDP, &gquic), AppProto::Unknown);
        // mDNS announcement: no question, one answer.
        let mut mdns = DNS_QUERY.to_vec();
        mdns[2..8].copy_from_slice(&[0x84, 0, 0, 0, 0, 1]);
        assert_eq!(AppProto::detect(UDP, &mdns), AppProto::Dns);
        assert_eq!(AppProto::detect(UDP, &[0u8; 64]), AppProto::Unknown);
    }
}
