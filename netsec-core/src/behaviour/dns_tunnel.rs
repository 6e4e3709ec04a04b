//! DNS tunnelling (iodine, dnscat2, dns2tcp, DNSExfiltrator …): data carried in query names,
//! seen as a client sending, within a sliding window,
//!
//! - many **distinct names under one parent domain** (every query encodes new data, so caches
//!   never answer and the names never repeat);
//! - many **long or high-entropy names** under one parent: a label of at least
//!   `long_label_len` bytes, or a subdomain part (the labels left of the parent) of at least
//!   `entropy_min_len` bytes whose byte entropy reaches `entropy_bits` (base32/base64/binary
//!   encodings sit near 5–6 bits, host names near 3–3.5);
//! - many **distinct TXT or NULL queries** (the record types tunnels use for the downstream).
//!
//! Only queries (QR = 0, opcode QUERY) to port 53 over UDP, or over TCP when the message is
//! whole in the segment, are looked at; mDNS and LLMNR use other ports. Reverse lookups
//! (`*.arpa`) and `*.local` names are skipped. The **parent domain** is the last two labels, or
//! the last three when they look like a country-code second level (`example.co.uk`: a 2-letter
//! top level under a label of at most 3 bytes); there is no public-suffix list. Names are
//! compared ASCII-case-insensitively, as 64-bit hashes of their labels (no name is stored).
//!
//! DNS over HTTPS/TLS/QUIC is encrypted: the names are invisible to these checks. The detector
//! instead reports the **encrypted channel** itself, to a public resolver or on the DoT/DoQ
//! port, as a separate LOW alert `DNS_Encrypted_Channel` (see
//! [`EncryptedDnsConfig`] for the rule and why it is a type of its own).

use std::hash::{BuildHasher, Hasher};

use foldhash::fast::FixedState;
use serde::{Deserialize, Serialize};

use super::encrypted_dns::{EncryptedChannels, EncryptedDnsConfig};
use super::state::{Addr, Clock, DistinctWindow, Episodes, Tally};
use super::{
    intensity_score, secs, table_stats, transport, AlertBuilder, BehaviourConfigError, Check,
};
use crate::app::dns::{DnsMessage, Name, RecordType};
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "dns_tunnel";
/// Most labels a name can have (255 wire bytes, 2 per label at least).
const MAX_LABELS: usize = 128;

/// Settings of the [`DnsTunnelDetector`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsTunnelConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// Sliding window in which distinct names are counted, µs (default 60 s).
    pub window_us: i64,
    /// A client without queries for this long ends its episode, µs (default 300 s).
    pub quiet_us: i64,
    /// Distinct names under one parent domain queried by one client within the window
    /// (default 100; the busiest client of the benign corpus asks 13 names of one domain).
    pub unique_subdomains: u64,
    /// Distinct long or high-entropy names under one parent domain from one client within the
    /// window (default 10).
    pub suspicious_names: u64,
    /// A label this long (bytes) makes a name suspicious (default 40; host names and CDN
    /// labels stay under 30, iodine fills labels to 63).
    pub long_label_len: usize,
    /// Shortest subdomain part (bytes, dots excluded) whose entropy is judged (default 32;
    /// shorter strings cannot show a high entropy).
    pub entropy_min_len: usize,
    /// Byte entropy of the subdomain part, bits per byte, that makes a name suspicious
    /// (default 4.0: random base32 reaches 4.2 at 32 bytes and 4.6 at 63, base64 more; the
    /// benign corpus peaks at 3.94; hex encodings stay under 4 and are left to the other
    /// signals).
    pub entropy_bits: f64,
    /// Distinct TXT or NULL query names from one client within the window (default 30).
    pub txt_null_queries: u64,
    /// Cap of each table (clients, (client, domain, name), (client, name) and (client,
    /// resolver) pairs), default 16384.
    pub max_tracked: usize,
    /// Encrypted DNS channels (DoT, DoQ, DoH to a public resolver): `[dns_tunnel.encrypted]`.
    pub encrypted: EncryptedDnsConfig,
}

impl Default for DnsTunnelConfig {
    fn default() -> Self {
        DnsTunnelConfig {
            enabled: true,
            window_us: 60_000_000,
            quiet_us: 300_000_000,
            unique_subdomains: 100,
            suspicious_names: 10,
            long_label_len: 40,
            entropy_min_len: 32,
            entropy_bits: 4.0,
            txt_null_queries: 30,
            max_tracked: 1 << 14,
            encrypted: EncryptedDnsConfig::default(),
        }
    }
}

impl DnsTunnelConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check(NAME);
        c.positive("window_us", self.window_us)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.at_least_one("unique_subdomains", self.unique_subdomains)?;
        c.at_least_one("suspicious_names", self.suspicious_names)?;
        c.at_least_one("long_label_len", self.long_label_len as u64)?;
        c.at_least_one("entropy_min_len", self.entropy_min_len as u64)?;
        if !(self.entropy_bits > 0.0 && self.entropy_bits <= 8.0) {
            return Err(BehaviourConfigError::Invalid {
                section: NAME,
                field: "entropy_bits",
                reason: format!("must be in (0, 8], got {}", self.entropy_bits),
            });
        }
        c.at_least_one("txt_null_queries", self.txt_null_queries)?;
        c.cap(self.max_tracked)?;
        self.encrypted.check(NAME)
    }
}

/// What one query name looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
struct NameFacts {
    /// Hash of the whole name (lower case).
    name: u64,
    /// Hash of the parent domain (lower case).
    parent: u64,
    /// Labels in the parent domain (2 or 3).
    parent_labels: usize,
    /// Longest label of the subdomain part.
    longest_label: usize,
    /// Byte entropy of the subdomain part (0 when shorter than `entropy_min_len`).
    entropy: f64,
}

/// Hashes labels lower-cased, each with its length, so `a.bc` and `ab.c` differ.
fn hash_labels(labels: &[&[u8]]) -> u64 {
    let mut h = FixedState::with_seed(0x6e65_7473_6563_646e).build_hasher();
    for l in labels {
        h.write_u8(l.len() as u8);
        for &b in *l {
            h.write_u8(b.to_ascii_lowercase());
        }
    }
    h.finish()
}

/// Shannon entropy of the bytes of `labels`, bits per byte.
fn entropy(labels: &[&[u8]], len: usize) -> f64 {
    let mut counts = [0u16; 256];
    for l in labels {
        for &b in *l {
            counts[usize::from(b.to_ascii_lowercase())] += 1;
        }
    }
    let n = len as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The facts of `name`, or `None` for names the detector skips (root, single label,
/// `*.arpa`, `*.local`).
fn name_facts(name: &Name<'_>, entropy_min_len: usize) -> Option<NameFacts> {
    let mut labels: [&[u8]; MAX_LABELS] = [&[]; MAX_LABELS];
    let mut n = 0;
    for l in name.labels() {
        *labels.get_mut(n)? = l;
        n += 1;
    }
    let labels = labels.get(..n)?;
    let [.., second, tld] = labels else {
        return None;
    };
    if tld.eq_ignore_ascii_case(b"arpa") || tld.eq_ignore_ascii_case(b"local") {
        return None;
    }
    let parent_len = if n >= 3 && tld.len() == 2 && second.len() <= 3 {
        3
    } else {
        2
    };
    let (sub, parent) = labels.split_at(n - parent_len);
    let sub_len: usize = sub.iter().map(|l| l.len()).sum();
    Some(NameFacts {
        name: hash_labels(labels),
        parent: hash_labels(parent),
        parent_labels: parent_len,
        longest_label: sub.iter().map(|l| l.len()).max().unwrap_or(0),
        entropy: if sub_len >= entropy_min_len {
            entropy(sub, sub_len)
        } else {
            0.0
        },
    })
}

/// Per-client episode summary.
#[derive(Debug, Clone, Copy, Default)]
struct Tunnel {
    max_unique: u32,
    max_suspicious: u32,
    max_txt_null: u32,
    longest_label: usize,
    max_entropy: f64,
}

/// Detects DNS tunnelling (see the module docs); one alert per client and episode.
#[derive(Debug)]
pub struct DnsTunnelDetector {
    config: DnsTunnelConfig,
    clock: Clock,
    /// (client, parent) → distinct names.
    unique: DistinctWindow<(Addr, u64), u64>,
    /// (client, parent) → distinct long or high-entropy names.
    suspicious: DistinctWindow<(Addr, u64), u64>,
    /// client → distinct TXT/NULL query names.
    txt_null: DistinctWindow<Addr, u64>,
    clients: Episodes<Addr, Tunnel>,
    /// (client, resolver) episodes of encrypted DNS.
    encrypted: EncryptedChannels,
    tally: Tally,
}

impl DnsTunnelDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &DnsTunnelConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        let (cap, w) = (config.max_tracked, config.window_us);
        Ok(DnsTunnelDetector {
            config: config.clone(),
            clock: Clock::default(),
            unique: DistinctWindow::new(cap, w),
            suspicious: DistinctWindow::new(cap, w),
            txt_null: DistinctWindow::new(cap, w),
            clients: Episodes::new(cap, config.quiet_us, w),
            encrypted: EncryptedChannels::new(&config.encrypted, cap, config.quiet_us),
            tally: Tally::default(),
        })
    }
}

/// The query in a DNS payload to port 53, if it is one.
fn query<'a>(protocol: IpProtocol, payload: &'a [u8]) -> Option<DnsMessage<'a>> {
    let msg = match protocol {
        IpProtocol::UDP => DnsMessage::parse(payload).ok()?,
        IpProtocol::TCP => DnsMessage::parse_tcp(payload).ok()?.0,
        _ => return None,
    };
    let flags = msg.flags();
    (!flags.is_response() && flags.opcode() == 0).then_some(msg)
}

impl Detector for DnsTunnelDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::TCP_DATA | PacketInterest::UDP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(
            NAME,
            &self.tally,
            &[
                &self.unique,
                &self.suspicious,
                &self.txt_null,
                &self.clients,
                &self.encrypted,
            ],
        )
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
        if m.dst_port != 53 {
            if let Some(ch) = self.encrypted.channel(m, ip.payload) {
                let now = self.clock.advance(m.ts);
                let ctx = (NAME, &mut self.tally);
                out.extend(self.encrypted.observe(ch, m, flow, now, ctx));
            }
            return;
        }
        let Some(msg) = query(m.protocol, ip.payload) else {
            return;
        };
        let Some(q) = msg.question() else {
            return;
        };
        let c = &self.config;
        let Some(facts) = name_facts(&q.name, c.entropy_min_len) else {
            return;
        };
        let now = self.clock.advance(m.ts);
        let client = Addr(m.src_addr);
        let key = (client, facts.parent);
        let unique = self.unique.observe(key, facts.name, now).0;
        let is_suspicious =
            facts.longest_label >= c.long_label_len || facts.entropy >= c.entropy_bits;
        let suspicious = if is_suspicious {
            self.suspicious.observe(key, facts.name, now).0
        } else {
            0
        };
        let txt_null = if matches!(q.qtype, RecordType::TXT | RecordType::NULL) {
            self.txt_null.observe(client, facts.name, now).0
        } else {
            0
        };
        let (ep, t) = self.clients.event(client, now);
        t.max_unique = t.max_unique.max(unique);
        t.max_suspicious = t.max_suspicious.max(suspicious);
        t.max_txt_null = t.max_txt_null.max(txt_null);
        t.longest_label = t.longest_label.max(facts.longest_label);
        t.max_entropy = t.max_entropy.max(facts.entropy);
        let (signal, count, threshold) = if u64::from(suspicious) >= c.suspicious_names {
            ("suspicious_names", suspicious, c.suspicious_names)
        } else if u64::from(unique) >= c.unique_subdomains {
            ("unique_subdomains", unique, c.unique_subdomains)
        } else if u64::from(txt_null) >= c.txt_null_queries {
            ("txt_null_queries", txt_null, c.txt_null_queries)
        } else {
            return;
        };
        if !self.tally.fire(ep) {
            return;
        }
        let (ep, t) = (*ep, *t);
        let labels: Vec<_> = q.name.labels().collect();
        let parent = labels[labels.len().saturating_sub(facts.parent_labels)..]
            .iter()
            .map(|l| String::from_utf8_lossy(l))
            .collect::<Vec<_>>()
            .join(".");
        let description = format!(
            "{} queried names typical of DNS tunnelling under {parent}: {} distinct names, {} long or high-entropy, {} TXT/NULL queries within {} ({} queries since {}).",
            m.src_addr,
            t.max_unique,
            t.max_suspicious,
            t.max_txt_null,
            secs(c.window_us),
            ep.events,
            ep.first
        );
        let alert = AlertBuilder::new(NAME, now, "DNS_Tunnel", Severity::High, &ep)
            .addrs(Some(m.src_addr), Some(m.dst_addr))
            .ports(None, Some(53))
            .protocol(m.protocol)
            .flow(flow.map(|f| f.flow_id))
            .score(intensity_score(
                u64::from(count),
                threshold,
                now.micros_since(ep.first),
                c.window_us,
            ))
            .meta("domain", parent)
            .meta("signal", signal)
            .observed("queries", ep.events)
            .observed("unique_subdomains", t.max_unique)
            .observed("suspicious_names", t.max_suspicious)
            .observed("txt_null_queries", t.max_txt_null)
            .observed("longest_label", t.longest_label)
            .observed("max_entropy", (t.max_entropy * 100.0).round() / 100.0)
            .threshold("window_us", c.window_us)
            .threshold("unique_subdomains", c.unique_subdomains)
            .threshold("suspicious_names", c.suspicious_names)
            .threshold("long_label_len", c.long_label_len)
            .threshold("entropy_min_len", c.entropy_min_len)
            .threshold("entropy_bits", c.entropy_bits)
            .threshold("txt_null_queries", c.txt_null_queries)
            .build(description);
        out.push(alert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{IpPacket, L2Info};
    use crate::synth;

    const CLIENT: [u8; 4] = [10, 0, 0, 5];
    const RESOLVER: [u8; 4] = [10, 0, 0, 53];

    /// A DNS query for `name` (dotted, ASCII) of type `qtype`.
    fn query_bytes(id: u16, name: &str, qtype: u16) -> Vec<u8> {
        let mut m = id.to_be_bytes().to_vec();
        m.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        for l in name.split('.') {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.extend_from_slice(&[0, (qtype >> 8) as u8, qtype as u8, 0, 1]);
        m
    }

    /// Feeds one query at `ms` milliseconds and returns the alerts.
    fn send(d: &mut DnsTunnelDetector, ms: i64, name: &str, qtype: u16) -> Vec<Alert> {
        let payload = query_bytes(ms as u16, name, qtype);
        let meta = synth::udp(ms * 1000, CLIENT, 40000, RESOLVER, 53, payload.len() as u32);
        let ip = IpPacket {
            meta,
            payload: &payload,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        let mut out = Vec::new();
        d.on_packet(&PacketView::Ip(&ip), None, &mut out);
        out
    }

    fn detector(f: impl FnOnce(&mut DnsTunnelConfig)) -> DnsTunnelDetector {
        let mut c = DnsTunnelConfig::default();
        f(&mut c);
        DnsTunnelDetector::new(&c).expect("valid")
    }

    /// A base32-looking label of `len` bytes, different for each `i`.
    fn encoded(i: u64, len: usize) -> String {
        let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b"abcdefghijklmnopqrstuvwxyz012345"[(x % 32) as usize] as char
            })
            .collect()
    }

    #[test]
    fn facts_split_parent_and_measure_labels() {
        let q = query_bytes(1, "a.Bc.example.co.uk", 1);
        let msg = DnsMessage::parse(&q).expect("query");
        let name = msg.question().expect("q").name;
        let f = name_facts(&name, 1).expect("facts");
        assert_eq!(f.parent_labels, 3);
        assert_eq!(f.longest_label, 2);
        let q2 = query_bytes(1, "A.bC.EXAMPLE.co.uk", 1);
        let msg2 = DnsMessage::parse(&q2).expect("query");
        let f2 = name_facts(&msg2.question().expect("q").name, 1).expect("facts");
        assert_eq!((f.name, f.parent), (f2.name, f2.parent), "case-insensitive");
        for skipped in ["4.3.2.1.in-addr.arpa", "printer.local", "localhost"] {
            let q = query_bytes(1, skipped, 12);
            let msg = DnsMessage::parse(&q).expect("query");
            assert_eq!(name_facts(&msg.question().expect("q").name, 1), None);
        }
        // Entropy: 32 distinct symbols evenly used is 5 bits.
        let sym: &[u8] = b"abcdefghijklmnopqrstuvwxyz012345";
        assert!((entropy(&[sym], 32) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn long_labels_alert_once_per_episode() {
        let mut d = detector(|_| {});
        for i in 0..9 {
            let name = format!("{}.t.pirate.sea", encoded(i, 45));
            assert!(send(&mut d, i as i64 * 100, &name, 1).is_empty(), "{i}");
        }
        let a = send(
            &mut d,
            1000,
            &format!("{}.t.pirate.sea", encoded(99, 45)),
            1,
        );
        assert_eq!(a.len(), 1);
        let a = &a[0];
        assert_eq!(a.attack_type, "DNS_Tunnel");
        assert_eq!(a.meta["domain"], "pirate.sea");
        assert_eq!(a.meta["signal"], "suspicious_names");
        assert_eq!(a.meta["observed"]["suspicious_names"], 10);
        assert_eq!(a.src_ip, Some(std::net::IpAddr::from(CLIENT)));
        assert_eq!((a.dst_port, a.protocol.as_deref()), (Some(53), Some("UDP")));
        assert!(
            a.description.contains("tunnelling under pirate.sea"),
            "{}",
            a.description
        );
        for i in 100..200 {
            assert!(send(
                &mut d,
                2000 + i,
                &format!("{}.pirate.sea", encoded(i as u64, 50)),
                1
            )
            .is_empty());
        }
        assert_eq!(d.stats().alerts, 1);
        assert!(d.stats().suppressed > 0);
    }

    #[test]
    fn repeated_names_do_not_count_and_short_names_are_not_suspicious() {
        let mut d = detector(|_| {});
        for i in 0..500 {
            let name = format!("{}.pirate.sea", encoded(1, 45));
            assert!(send(&mut d, i, &name, 1).is_empty());
        }
        // 99 distinct ordinary names under one domain: below 100.
        for i in 0..99 {
            assert!(send(&mut d, 1000 + i, &format!("host{i}.example.com"), 1).is_empty());
        }
        let a = send(&mut d, 2000, "host-last.example.com", 1);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].meta["signal"], "unique_subdomains");
    }

    #[test]
    fn high_entropy_needs_length_and_txt_null_volume_alerts() {
        let mut d = detector(|c| c.suspicious_names = 1);
        // 31 bytes of high entropy: too short to judge.
        assert!(send(&mut d, 0, &format!("{}.x.org", encoded(3, 31)), 1).is_empty());
        // 60 bytes in three short labels: judged, and random base32 is above 4 bits.
        let name = format!(
            "{}.{}.{}.x.org",
            encoded(4, 20),
            encoded(5, 20),
            encoded(6, 20)
        );
        assert_eq!(send(&mut d, 1, &name, 1).len(), 1);

        let mut d = detector(|_| {});
        for i in 0..29 {
            assert!(send(&mut d, i, &format!("s{i}.tun.example.net"), 16).is_empty());
        }
        let a = send(&mut d, 30, "s29.tun.example.net", 10);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].meta["signal"], "txt_null_queries");
    }

    #[test]
    fn window_slides_and_responses_are_ignored() {
        let mut d = detector(|c| c.suspicious_names = 2);
        assert!(send(&mut d, 0, &format!("{}.pirate.sea", encoded(1, 45)), 1).is_empty());
        // 61 s later the first one has left the window.
        assert!(send(&mut d, 61_000, &format!("{}.pirate.sea", encoded(2, 45)), 1).is_empty());
        // A response with the same shape is not a query.
        let mut resp = query_bytes(1, &format!("{}.pirate.sea", encoded(3, 45)), 1);
        resp[2] |= 0x80;
        let meta = synth::udp(61_500_000, CLIENT, 40000, RESOLVER, 53, resp.len() as u32);
        let ip = IpPacket {
            meta,
            payload: &resp,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        let mut out = Vec::new();
        d.on_packet(&PacketView::Ip(&ip), None, &mut out);
        assert!(out.is_empty());
        assert_eq!(
            send(&mut d, 62_000, &format!("{}.pirate.sea", encoded(4, 45)), 1).len(),
            1
        );
    }

    #[test]
    fn many_clients_stay_bounded() {
        let mut d = detector(|c| c.max_tracked = 32);
        for i in 0..2000u32 {
            let b = i.to_be_bytes();
            let payload = query_bytes(1, &format!("{}.pirate.sea", encoded(u64::from(i), 45)), 16);
            let meta = synth::udp(i64::from(i), [11, b[1], b[2], b[3]], 1, RESOLVER, 53, 0);
            let ip = IpPacket {
                meta,
                payload: &payload,
                l2: L2Info::default(),
                transport_error: None,
                ip_header: &[],
                transport_header: &[],
            };
            d.on_packet(&PacketView::Ip(&ip), None, &mut Vec::new());
        }
        let s = d.stats();
        // Three distinct windows (pairs and per-key counts), clients, encrypted pairs.
        assert!(s.tracked <= 8 * 32, "{s:?}");
        assert!(s.evicted > 0 && s.alerts == 0, "{s:?}");
        assert!(s.memory_bytes <= s.memory_bound_bytes, "{s:?}");
    }

    #[test]
    fn config_checks() {
        let bad = DnsTunnelConfig {
            entropy_bits: 9.0,
            ..DnsTunnelConfig::default()
        };
        assert!(bad.check().is_err());
        let bad = DnsTunnelConfig {
            long_label_len: 0,
            ..DnsTunnelConfig::default()
        };
        assert!(bad.check().is_err());
        DnsTunnelConfig::default()
            .check()
            .expect("defaults are valid");
    }
}
