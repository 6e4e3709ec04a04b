//! The sticky buffers of one packet (`http.uri`, `tls.sni`, `dns.query` …), parsed on demand.
//!
//! A packet's payload is parsed at most once, and only when a candidate rule inspects an
//! application buffer; most packets never pay for it. The TLS server name borrows the
//! payload; the dotted DNS query name and the HTTP buffers (see
//! [`http_buffers`](super::http_buffers)) are rebuilt into one text buffer the rule detector
//! owns and reuses, so nothing is allocated per packet once it has grown.

use std::net::IpAddr;
use std::ops::Range;

use super::ast::StickyBuffer;
use super::http_buffers::HttpBuffers;
use super::transform::TransformChain;
use crate::app::tls_certs::CertChain;
use crate::app::{dns, sip, ssh, tls};
use crate::decode::{IpPacket, IpProtocol};

/// The buffers of one packet.
pub(crate) struct AppBuffers<'a> {
    payload: &'a [u8],
    /// The packet's IP and transport headers (empty when not known).
    ip_header: &'a [u8],
    transport_header: &'a [u8],
    /// The source and destination addresses (`ip.src`, `ip.dst`), when known.
    addrs: Option<[IpAddr; 2]>,
    /// Their bytes, once asked for: 4 or 16 of each array, as the length says.
    addr_bytes: Option<[([u8; 16], u8); 2]>,
    protocol: IpProtocol,
    parsed: bool,
    http: Option<HttpBuffers>,
    sni: Option<&'a [u8]>,
    ja3: Option<Range<usize>>,
    ja4: Option<Range<usize>>,
    /// The hello's random bytes (`tls.random`).
    tls_random: Option<Range<usize>>,
    quic_version: Option<Range<usize>>,
    query: Option<Range<usize>>,
    ssh_proto: Option<Range<usize>>,
    ssh_software: Option<Range<usize>>,
    /// Whether the packet comes from the client (the flow's opener), when known: it says
    /// whose HASSH a KEXINIT gives.
    from_client: Option<bool>,
    /// The HASSH input and digest of a KEXINIT.
    hassh_string: Option<Range<usize>>,
    hassh: Option<Range<usize>>,
    /// The SIP start line's parts (`sip.method` … `sip.stat_msg`), in
    /// [`StickyBuffer::SIP`] order.
    sip: [Option<Range<usize>>; 7],
    /// The last `dotprefix`ed buffer built this packet, and where.
    dotted: Option<(StickyBuffer, Range<usize>)>,
    /// The server's certificate chain, on the packet that completed it.
    certs: Option<&'a CertChain>,
    /// A KEXINIT that spanned segments, on the packet that completed it.
    kexinit: Option<&'a [u8]>,
    text: Vec<u8>,
    /// The last transformed buffer (`get_transformed`) and a scratch for transforms.
    transformed: Vec<u8>,
    scratch: Vec<u8>,
}

impl<'a> AppBuffers<'a> {
    /// The buffers of `payload`, using `text` (cleared) for the rebuilt ones.
    pub(crate) fn new(payload: &'a [u8], protocol: IpProtocol, text: Vec<u8>) -> Self {
        AppBuffers {
            payload,
            ip_header: &[],
            transport_header: &[],
            addrs: None,
            addr_bytes: None,
            protocol,
            parsed: false,
            http: None,
            sni: None,
            ja3: None,
            ja4: None,
            tls_random: None,
            quic_version: None,
            query: None,
            ssh_proto: None,
            ssh_software: None,
            from_client: None,
            hassh_string: None,
            hassh: None,
            sip: Default::default(),
            dotted: None,
            certs: None,
            kexinit: None,
            text,
            transformed: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// `buffer` after `chain`'s transforms, built for each call (only rules with
    /// transforms other than a lone `dotprefix` ask).
    pub(crate) fn get_transformed(
        &mut self,
        buffer: StickyBuffer,
        chain: &TransformChain,
    ) -> Option<&[u8]> {
        let mut out = std::mem::take(&mut self.transformed);
        out.clear();
        out.extend_from_slice(self.get(buffer)?);
        chain.apply(&mut out, &mut self.scratch);
        self.transformed = out;
        Some(&self.transformed)
    }

    /// The same, with the certificate chain this packet completed.
    pub(crate) fn with_certs(mut self, certs: Option<&'a CertChain>) -> Self {
        self.certs = certs;
        self
    }

    /// The same, with the KEXINIT packet this packet completed (read for the HASSH buffers
    /// instead of the payload).
    pub(crate) fn with_kexinit(mut self, kexinit: Option<&'a [u8]>) -> Self {
        self.kexinit = kexinit;
        self
    }

    /// The certificate chain this packet completed, if any.
    pub(crate) fn cert_chain(&self) -> Option<&'a CertChain> {
        self.certs
    }

    /// A certificate buffer, when this packet completed the chain (an empty name is absent).
    fn certificate(&self, buffer: StickyBuffer) -> Option<&'a [u8]> {
        let c = self.certs?;
        let b: &'a [u8] = match buffer {
            StickyBuffer::TlsCertSubject => c.subject().as_bytes(),
            StickyBuffer::TlsCertIssuer => c.issuer().as_bytes(),
            StickyBuffer::TlsCertSerial => c.serial().as_bytes(),
            StickyBuffer::TlsCertFingerprint => c.fingerprint().as_bytes(),
            StickyBuffer::TlsCerts => c.der(),
            _ => return None,
        };
        (!b.is_empty()).then_some(b)
    }

    /// The buffers of `ip`'s payload, headers and addresses, using `text` (cleared) for the
    /// rebuilt ones.
    pub(crate) fn of_packet(ip: &IpPacket<'a>, text: Vec<u8>) -> Self {
        let mut b = AppBuffers::new(ip.payload, ip.meta.protocol, text);
        b.ip_header = ip.ip_header;
        b.transport_header = ip.transport_header;
        b.addrs = Some([ip.meta.src_addr, ip.meta.dst_addr]);
        b
    }

    /// The same, knowing whether the packet comes from the client.
    pub(crate) fn with_direction(mut self, from_client: Option<bool>) -> Self {
        self.from_client = from_client;
        self
    }

    /// `ip.src` or `ip.dst` (their bytes made at the first request of the packet).
    fn address(&mut self, buffer: StickyBuffer) -> Option<&[u8]> {
        let index = match buffer {
            StickyBuffer::IpSrc => 0,
            StickyBuffer::IpDst => 1,
            _ => return None,
        };
        let addrs = self.addrs?;
        let bytes = self.addr_bytes.get_or_insert_with(|| {
            addrs.map(|a| match a {
                IpAddr::V4(a) => {
                    let mut bytes = [0; 16];
                    bytes[..4].copy_from_slice(&a.octets());
                    (bytes, 4)
                }
                IpAddr::V6(a) => (a.octets(), 16),
            })
        });
        let (b, len) = &bytes[index];
        b.get(..usize::from(*len))
    }

    /// A header buffer, when the packet has that header.
    fn header(&self, buffer: StickyBuffer) -> Option<&'a [u8]> {
        let version = self.ip_header.first().map(|b| b >> 4);
        let (h, present) = match buffer {
            StickyBuffer::Ipv4Hdr => (self.ip_header, version == Some(4)),
            StickyBuffer::Ipv6Hdr => (self.ip_header, version == Some(6)),
            StickyBuffer::TcpHdr => (self.transport_header, self.protocol == IpProtocol::TCP),
            StickyBuffer::UdpHdr => (self.transport_header, self.protocol == IpProtocol::UDP),
            StickyBuffer::Icmpv4Hdr => (self.transport_header, self.protocol == IpProtocol::ICMP),
            StickyBuffer::Icmpv6Hdr => (self.transport_header, self.protocol == IpProtocol::ICMPV6),
            _ => return None,
        };
        (present && !h.is_empty()).then_some(h)
    }

    /// Gives back the text buffer for reuse.
    pub(crate) fn into_text(self) -> Vec<u8> {
        self.text
    }

    /// The same, reusing `bufs` (cleared as used) for transformed buffers, so a rule with
    /// transforms allocates nothing per packet once they have grown.
    pub(crate) fn with_transform_buffers(mut self, bufs: (Vec<u8>, Vec<u8>)) -> Self {
        (self.transformed, self.scratch) = bufs;
        self
    }

    /// Takes back the transform buffers for reuse.
    pub(crate) fn take_transform_buffers(&mut self) -> (Vec<u8>, Vec<u8>) {
        (
            std::mem::take(&mut self.transformed),
            std::mem::take(&mut self.scratch),
        )
    }

    /// `buffer` with a `.` before it (the `dotprefix` transform), built once per packet and
    /// buffer in the reused text buffer.
    pub(crate) fn get_dotprefixed(&mut self, buffer: StickyBuffer) -> Option<&[u8]> {
        // Parsed first: parsing starts the text buffer afresh.
        self.parse();
        if self.dotted.as_ref().is_none_or(|(b, _)| *b != buffer) {
            let at = self.text.len();
            match buffer {
                StickyBuffer::PktData => {
                    self.text.push(b'.');
                    self.text.extend_from_slice(self.payload);
                }
                StickyBuffer::TlsSni => {
                    let sni = self.sni?;
                    self.text.push(b'.');
                    self.text.extend_from_slice(sni);
                }
                StickyBuffer::IpSrc | StickyBuffer::IpDst => {
                    let mut a = [0u8; 16];
                    let addr = self.address(buffer)?;
                    let n = addr.len();
                    a[..n].copy_from_slice(addr);
                    self.text.push(b'.');
                    self.text.extend_from_slice(&a[..n]);
                }
                header if header.is_header() => {
                    let h = self.header(header)?;
                    self.text.push(b'.');
                    self.text.extend_from_slice(h);
                }
                cert if cert.is_certificate() => {
                    let c = self.certificate(cert)?;
                    self.text.push(b'.');
                    self.text.extend_from_slice(c);
                }
                _ => {
                    let range = self.range_of(buffer)?;
                    self.text.push(b'.');
                    self.text.extend_from_within(range);
                }
            }
            self.dotted = Some((buffer, at..self.text.len()));
        }
        self.dotted.clone().and_then(|(_, r)| self.text.get(r))
    }

    /// The content of `buffer` in this packet, or `None` when the packet does not carry it
    /// (a rule inspecting an absent buffer does not match, as in Suricata).
    pub(crate) fn get(&mut self, buffer: StickyBuffer) -> Option<&[u8]> {
        match buffer {
            StickyBuffer::PktData => Some(self.payload),
            StickyBuffer::TlsSni => {
                self.parse();
                self.sni
            }
            StickyBuffer::IpSrc | StickyBuffer::IpDst => self.address(buffer),
            header if header.is_header() => self.header(header),
            cert if cert.is_certificate() => self.certificate(cert),
            other => {
                let range = self.range_of(other)?;
                self.text.get(range)
            }
        }
    }

    /// Where a buffer rebuilt into the text buffer lies (`None` for those that borrow the
    /// payload, and for buffers the packet does not carry).
    fn range_of(&mut self, buffer: StickyBuffer) -> Option<Range<usize>> {
        self.parse();
        match buffer {
            StickyBuffer::PktData | StickyBuffer::TlsSni => None,
            header if header.is_header() => None,
            StickyBuffer::Ja3Hash => self.ja3.clone(),
            StickyBuffer::Ja4Hash => self.ja4.clone(),
            StickyBuffer::TlsRandom => self.tls_random.clone(),
            StickyBuffer::TlsRandomTime => self.tls_random.clone().map(|r| r.start..r.start + 4),
            StickyBuffer::TlsRandomBytes => self.tls_random.clone().map(|r| r.start + 4..r.end),
            StickyBuffer::DnsQuery => self.query.clone(),
            StickyBuffer::SshProto => self.ssh_proto.clone(),
            StickyBuffer::QuicVersion => self.quic_version.clone(),
            StickyBuffer::SshSoftware => self.ssh_software.clone(),
            StickyBuffer::SshHassh if self.from_client == Some(true) => self.hassh.clone(),
            StickyBuffer::SshHasshString if self.from_client == Some(true) => {
                self.hassh_string.clone()
            }
            StickyBuffer::SshHasshServer if self.from_client == Some(false) => self.hassh.clone(),
            StickyBuffer::SshHasshServerString if self.from_client == Some(false) => {
                self.hassh_string.clone()
            }
            sip if StickyBuffer::SIP.contains(&sip) => {
                let at = StickyBuffer::SIP.iter().position(|b| *b == sip)?;
                self.sip[at].clone()
            }
            http => self.http.as_ref().and_then(|h| h.get(http)),
        }
    }

    fn parse(&mut self) {
        if self.parsed {
            return;
        }
        self.parsed = true;
        self.text.clear();
        let p = self.payload;
        let dns = match self.protocol {
            IpProtocol::TCP => {
                match tls::parse(p) {
                    Ok(tls::Hello::Client(hello)) => {
                        self.sni = hello.sni;
                        let mut push = |bytes: &[u8]| {
                            let at = self.text.len();
                            self.text.extend_from_slice(bytes);
                            Some(at..self.text.len())
                        };
                        self.tls_random = push(hello.random);
                        if let Some(j) = hello.ja3() {
                            self.ja3 = push(j.as_str().as_bytes());
                        }
                        if let Some(j) = hello.ja4() {
                            self.ja4 = push(j.as_str().as_bytes());
                        }
                        return;
                    }
                    Ok(tls::Hello::Server(hello)) => {
                        let at = self.text.len();
                        self.text.extend_from_slice(&hello.random);
                        self.tls_random = Some(at..self.text.len());
                        return;
                    }
                    Err(_) => {}
                }
                if let Some(h) = HttpBuffers::parse(p, &mut self.text) {
                    self.http = Some(h);
                    return;
                }
                if self.parse_sip() {
                    return;
                }
                if let Some((proto, software)) = ssh_identification(p) {
                    let mut push = |b: &[u8]| {
                        let at = self.text.len();
                        self.text.extend_from_slice(b);
                        Some(at..self.text.len())
                    };
                    self.ssh_proto = push(proto);
                    self.ssh_software = push(software);
                    self.parse_kexinit();
                    return;
                }
                if self.parse_kexinit() {
                    return;
                }
                dns::DnsMessage::parse_tcp(p).map(|(m, _)| m)
            }
            IpProtocol::UDP => {
                if self.parse_sip() {
                    return;
                }
                // A QUIC Initial packet (the one Suricata's parser makes a transaction of):
                // long header, type 0 (type 1 in QUIC v2, RFC 9369), the version after the
                // first byte.
                if let [first, v0, v1, v2, v3, ..] = *p {
                    let initial_type = if [v0, v1, v2, v3] == [0x6b, 0x33, 0x43, 0xcf] {
                        1
                    } else {
                        0
                    };
                    if first & 0x80 != 0
                        && (first >> 4) & 3 == initial_type
                        && crate::app::AppProto::detect(self.protocol, p)
                            == crate::app::AppProto::Quic
                    {
                        let at = self.text.len();
                        self.text.extend_from_slice(&[v0, v1, v2, v3]);
                        self.quic_version = Some(at..self.text.len());
                        return;
                    }
                }
                dns::DnsMessage::parse(p)
            }
            _ => return,
        };
        // dns.query: the question name of a request.
        let Ok(msg) = dns else {
            return;
        };
        if msg.flags().is_response() {
            return;
        }
        if let Some(q) = msg.question() {
            let mut buf = [0u8; dns::MAX_NAME_WIRE_LEN];
            let name = q.name.write_dotted(&mut buf);
            let start = self.text.len();
            self.text.extend_from_slice(name);
            self.query = Some(start..self.text.len());
        }
    }
}

impl AppBuffers<'_> {
    /// The HASSH buffers of a payload holding a KEXINIT from a known side; whether it did.
    fn parse_kexinit(&mut self) -> bool {
        use md5::{Digest, Md5};
        let source = self.kexinit.unwrap_or(self.payload);
        let (Some(from_client), Some(k)) = (self.from_client, ssh::kexinit(source)) else {
            return false;
        };
        let at = self.text.len();
        k.hassh_string(from_client, &mut self.text);
        let end = self.text.len();
        let digest = Md5::digest(&self.text[at..end]);
        for b in digest {
            self.text.extend_from_slice(&tls::hex_byte(b));
        }
        self.hassh_string = Some(at..end);
        self.hassh = Some(end..self.text.len());
        true
    }

    /// The SIP buffers of a payload starting with a SIP start line; whether it did.
    fn parse_sip(&mut self) -> bool {
        let Some(line) = sip::parse(self.payload) else {
            return false;
        };
        let parts = match line {
            sip::StartLine::Request {
                line,
                method,
                uri,
                version,
            } => [
                Some(method),
                Some(uri),
                Some(version),
                Some(line),
                None,
                None,
                None,
            ],
            sip::StartLine::Response {
                line,
                version,
                code,
                reason,
            } => [
                None,
                None,
                Some(version),
                None,
                Some(line),
                Some(code),
                Some(reason),
            ],
        };
        for (slot, part) in self.sip.iter_mut().zip(parts) {
            if let Some(part) = part {
                let at = self.text.len();
                self.text.extend_from_slice(part);
                *slot = Some(at..self.text.len());
            }
        }
        true
    }
}

/// The protocol and software versions of an SSH identification line
/// (`SSH-protoversion-softwareversion[ comments]\r\n`, RFC 4253 4.2) at the start of `p`.
fn ssh_identification(p: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = p.strip_prefix(b"SSH-")?;
    let dash = rest.iter().position(|&b| b == b'-')?;
    let (proto, rest) = (&rest[..dash], &rest[dash + 1..]);
    let end = rest
        .iter()
        .position(|&b| matches!(b, b' ' | b'\r' | b'\n'))
        .unwrap_or(rest.len());
    Some((proto, &rest[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_buffers() {
        let req = b"GET /a?b HTTP/1.1\r\nHost: WWW.Example.com\r\nUser-Agent: ua/1\r\n\r\n";
        let mut b = AppBuffers::new(req, IpProtocol::TCP, Vec::new());
        assert_eq!(b.get(StickyBuffer::HttpUri), Some(&b"/a?b"[..]));
        assert_eq!(b.get(StickyBuffer::HttpMethod), Some(&b"GET"[..]));
        assert_eq!(b.get(StickyBuffer::HttpHost), Some(&b"www.example.com"[..]));
        assert_eq!(b.get(StickyBuffer::HttpUserAgent), Some(&b"ua/1"[..]));
        assert_eq!(b.get(StickyBuffer::TlsSni), None);
        assert_eq!(b.get(StickyBuffer::PktData), Some(&req[..]));
        // UDP never carries HTTP here.
        let mut u = AppBuffers::new(req, IpProtocol::UDP, Vec::new());
        assert_eq!(u.get(StickyBuffer::HttpUri), None);
    }

    #[test]
    fn dns_query_of_requests_only() {
        let query = [
            0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, b'w', b'w', b'w', 7, b'e', b'x',
            b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1,
        ];
        let mut b = AppBuffers::new(&query, IpProtocol::UDP, Vec::new());
        assert_eq!(b.get(StickyBuffer::DnsQuery), Some(&b"www.example.com"[..]));
        let mut reply = query;
        reply[2] = 0x81;
        let mut b = AppBuffers::new(&reply, IpProtocol::UDP, Vec::new());
        assert_eq!(b.get(StickyBuffer::DnsQuery), None);
    }

    #[test]
    fn tls_random_of_client_and_server_hellos() {
        // A record holding a hello of `kind` with random 0..32 and nothing optional.
        let hello = |kind: u8| {
            let mut body = vec![3, 3];
            body.extend(0u8..32);
            body.extend_from_slice(&[0, 0, 2, 0x13, 0x01]); // session id, one cipher
            body.push(if kind == 1 { 1 } else { 0 }); // compression (a count for a client)
            if kind == 1 {
                body.push(0);
            }
            let mut hs = vec![kind, 0, 0, body.len() as u8];
            hs.extend(body);
            let mut rec = vec![22, 3, 1, 0, hs.len() as u8];
            rec.extend(hs);
            rec
        };
        for kind in [1u8, 2] {
            let p = hello(kind);
            let mut b = AppBuffers::new(&p, IpProtocol::TCP, Vec::new());
            let want: Vec<u8> = (0u8..32).collect();
            assert_eq!(
                b.get(StickyBuffer::TlsRandom),
                Some(&want[..]),
                "hello {kind}"
            );
            assert_eq!(b.get(StickyBuffer::TlsRandomTime), Some(&want[..4]));
            assert_eq!(b.get(StickyBuffer::TlsRandomBytes), Some(&want[4..]));
        }
    }

    #[test]
    fn hassh_of_the_side_that_sent_the_kexinit() {
        use md5::{Digest, Md5};
        let p = crate::app::ssh::tests::kexinit_packet([
            "kx", "hk", "ec", "es", "mc", "ms", "cc", "cs", "", "",
        ]);
        let hex = |s: &[u8]| format!("{:x}", Md5::digest(s)).into_bytes();
        let mut b = AppBuffers::new(&p, IpProtocol::TCP, Vec::new()).with_direction(Some(true));
        assert_eq!(
            b.get(StickyBuffer::SshHasshString),
            Some(&b"kx;ec;mc;cc"[..])
        );
        assert_eq!(
            b.get(StickyBuffer::SshHassh),
            Some(&hex(b"kx;ec;mc;cc")[..])
        );
        assert_eq!(b.get(StickyBuffer::SshHasshServer), None);
        let mut b = AppBuffers::new(&p, IpProtocol::TCP, Vec::new()).with_direction(Some(false));
        assert_eq!(
            b.get(StickyBuffer::SshHasshServer),
            Some(&hex(b"kx;es;ms;cs")[..])
        );
        assert_eq!(b.get(StickyBuffer::SshHassh), None);
        let mut b = AppBuffers::new(&p, IpProtocol::TCP, Vec::new());
        assert_eq!(b.get(StickyBuffer::SshHasshString), None, "side unknown");
    }

    #[test]
    fn sip_start_lines_over_udp_and_tcp() {
        let req = b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
        for proto in [IpProtocol::UDP, IpProtocol::TCP] {
            let mut b = AppBuffers::new(req, proto, Vec::new());
            assert_eq!(b.get(StickyBuffer::SipMethod), Some(&b"INVITE"[..]));
            assert_eq!(
                b.get(StickyBuffer::SipUri),
                Some(&b"sip:bob@example.com"[..])
            );
            assert_eq!(b.get(StickyBuffer::SipProtocol), Some(&b"SIP/2.0"[..]));
            assert_eq!(b.get(StickyBuffer::SipStatCode), None);
            assert_eq!(b.get(StickyBuffer::HttpMethod), None);
        }
        let resp = b"SIP/2.0 180 Ringing\r\n\r\n";
        let mut b = AppBuffers::new(resp, IpProtocol::UDP, Vec::new());
        assert_eq!(
            b.get(StickyBuffer::SipResponseLine),
            Some(&b"SIP/2.0 180 Ringing"[..])
        );
        assert_eq!(b.get(StickyBuffer::SipStatCode), Some(&b"180"[..]));
        assert_eq!(b.get(StickyBuffer::SipStatMsg), Some(&b"Ringing"[..]));
        assert_eq!(b.get(StickyBuffer::SipMethod), None);
    }

    #[test]
    fn ssh_identification_lines_give_proto_and_software() {
        let line = b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n";
        let mut b = AppBuffers::new(line, IpProtocol::TCP, Vec::new());
        assert_eq!(b.get(StickyBuffer::SshProto), Some(&b"2.0"[..]));
        assert_eq!(
            b.get(StickyBuffer::SshSoftware),
            Some(&b"OpenSSH_9.6p1"[..])
        );
        let mut b = AppBuffers::new(b"SSH-1.99-Cisco-1.25\r\n", IpProtocol::TCP, Vec::new());
        assert_eq!(b.get(StickyBuffer::SshProto), Some(&b"1.99"[..]));
        assert_eq!(b.get(StickyBuffer::SshSoftware), Some(&b"Cisco-1.25"[..]));
        // Not a banner: no SSH buffers.
        for p in [
            &b"SSH-2.0"[..],
            b"GET / HTTP/1.1\r\n\r\n",
            b"xSSH-2.0-a\r\n",
        ] {
            let mut b = AppBuffers::new(p, IpProtocol::TCP, Vec::new());
            assert_eq!(b.get(StickyBuffer::SshProto), None, "{p:?}");
            assert_eq!(b.get(StickyBuffer::SshSoftware), None);
        }
    }
}
