//! The rule engine end to end on real Suricata test cases: `../shared/data/pcaps/groundtruth/
//! suricata-verify/<test>/` holds `test.yaml` (expected eve events) and `test.rules`; the pcap
//! is found through `MANIFEST.tsv`'s `ground_truth` column. Each capture goes reader → decode →
//! `FlowTable` → `RuleDetector`, and the alert count per `signature_id` must equal the yaml's.
//!
//! Supported (every rule loads, counts asserted):
//! - `alert-testmyids`: `content` with `|hex|` on an `ip` rule (`target` accepted as metadata).
//! - `issue-5466-alert-then-pass-01`: `pass` with `alert` (one alert, then the flow is passed)
//!   and `drop` with `noalert` (suppressed).
//! - `bug-6875-01`: the only complete packet has a TCP header with data offset 0; the decoder
//!   keeps its IP layer (`IpPacket::transport_error`), so the `ip` rule fires as in Suricata.
//!
//! Not supported (the loader skips their rules with a warning, asserted below):
//! - `bug-1450-04`: no rule file; relies on Suricata's built-in TLS app-layer event rules.
//! - `bug-3286-02-linux-evasion`: `stream-event` (needs TCP stream reassembly and its events);
//!   its `alert http` rule (sid 1) loads and its count is asserted.
//! - `issue-3341-tcphdr-01`: `tcp.hdr` sticky buffer (second tier).
//! - `smb-eicar-file`, `smb-named-pipe-ascii`, `smb2-07-frames`: `alert smb` (app-layer), with
//!   `file_data`, `smb_named_pipe`, `frame`, `startswith`/`endswith`.
//! - `ssh-hassh`: `alert ssh` with `ssh.hassh*` sticky buffers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::decode::{decode, Decoded};
use netsec_core::detect::{Alert, Detector, PacketView};
use netsec_core::flow::{FlowTable, FlowTableConfig};
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars, SkipReason};

use crate::util;

/// Tests expected to load every rule and match exactly.
const SUPPORTED: [&str; 5] = [
    "alert-testmyids",
    "issue-5466-alert-then-pass-01",
    "bug-6875-01",
    "issue-3341-tcphdr-01",
    "ssh-hassh",
];

/// One `filter` check of a test.yaml that concerns alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expect {
    /// `alert.signature_id`, or `None` for a total count of alerts.
    sid: Option<u64>,
    count: usize,
}

/// Reads the alert checks of a suricata-verify `test.yaml` (a tiny reader for its fixed shape:
/// `- filter:` blocks with `count:` and `match:` keys). Blocks that match on anything we do not
/// model (other event types, `has-key`, app-layer fields) are ignored.
fn alert_checks(yaml: &str) -> Vec<Expect> {
    let mut out = Vec::new();
    let blocks = yaml.split("- filter:").skip(1);
    for block in blocks {
        let block = block.split("- shell:").next().unwrap_or(block);
        let mut count = None;
        let mut sid = None;
        let mut is_alert = false;
        let mut unmodelled = false;
        for line in block.lines() {
            let t = line.trim();
            let Some((k, v)) = t.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k.trim() {
                "count" => count = v.parse().ok(),
                "event_type" => is_alert = v == "alert",
                "alert.signature_id" => sid = v.parse().ok(),
                "match" | "requires" | "min-version" | "pcap_cnt" | "stream" | "args"
                | "alert.signature" => {}
                _ => unmodelled = true,
            }
        }
        if let (Some(count), false) = (count, unmodelled) {
            if is_alert || sid.is_some() {
                out.push(Expect { sid, count });
            }
        }
    }
    out
}

/// `test name → pcap path` from the manifest's `ground_truth` column.
fn pcap_for(pcaps: &Path, test: &str) -> Option<PathBuf> {
    let text = std::fs::read_to_string(pcaps.join("MANIFEST.tsv")).ok()?;
    let needle = format!("suricata-verify/{test}/");
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split('\t').collect();
        (f.len() > 8 && f[8].contains(&needle)).then(|| pcaps.join(f[0]))
    })
}

/// Runs a capture through reader → decode → flow table → detector; returns all alerts.
pub(crate) fn run(pcap: &Path, detector: &mut dyn Detector) -> Vec<Alert> {
    let mut reader = PcapReader::open(pcap).expect("open capture");
    let mut table = FlowTable::new(FlowTableConfig::default()).expect("default config");
    let mut exported = Vec::new();
    let mut alerts = Vec::new();
    // A truncated last record ends the capture as Suricata does: keep what we had.
    while let Ok(Some(pkt)) = reader.next_packet() {
        let ts = pkt.ts;
        let Ok(decoded) = decode(&pkt) else {
            continue;
        };
        let ctx = match &decoded {
            Decoded::Ip(ip) => table.process_ip(ip, &mut exported),
            _ => None,
        };
        if let Some(view) = PacketView::from_decoded(ts, &decoded) {
            detector.on_packet(&view, ctx.as_ref(), &mut alerts);
        }
        for f in exported.drain(..) {
            detector.on_flow_end(&f, &f.features(), &mut alerts);
        }
    }
    table.flush(&mut exported);
    for f in exported.drain(..) {
        detector.on_flow_end(&f, &f.features(), &mut alerts);
    }
    alerts
}

fn by_sid(alerts: &[Alert]) -> BTreeMap<u64, usize> {
    let mut m = BTreeMap::new();
    for a in alerts {
        *m.entry(a.meta_u64("sid").unwrap_or(0)).or_default() += 1;
    }
    m
}

#[test]
fn suricata_verify_supported_cases() {
    let Some(pcaps) = util::pcaps_dir_or_skip("suricata_verify_supported_cases") else {
        return;
    };
    let root = pcaps.join("groundtruth/suricata-verify");
    for test in SUPPORTED {
        let dir = root.join(test);
        let yaml = std::fs::read_to_string(dir.join("test.yaml")).expect("test.yaml");
        let rules = std::fs::read_to_string(dir.join("test.rules")).expect("test.rules");
        let set = RuleSet::from_text(&rules, &RuleVars::default());
        assert_eq!(set.summary().skipped, 0, "{test}: {}", set.summary());
        let pcap = pcap_for(&pcaps, test).unwrap_or_else(|| panic!("{test}: no pcap in manifest"));
        let mut det = RuleDetector::new(set);
        let alerts = run(&pcap, &mut det);
        let got = by_sid(&alerts);
        let checks = alert_checks(&yaml);
        assert!(!checks.is_empty(), "{test}: no alert checks read");
        for c in &checks {
            let n = match c.sid {
                Some(s) => got.get(&s).copied().unwrap_or(0),
                None => alerts.len(),
            };
            eprintln!("{test}: sid {:?} expected {} got {n}", c.sid, c.count);
            assert_eq!(
                n, c.count,
                "{test}: sid {:?}; all alerts by sid: {got:?}",
                c.sid
            );
        }
        // Same capture, same alerts, same ids.
        let mut again = RuleDetector::new(RuleSet::from_text(&rules, &RuleVars::default()));
        assert_eq!(run(&pcap, &mut again), alerts, "{test}: not deterministic");
    }
}

#[test]
fn suricata_verify_unsupported_cases_are_skipped_with_warnings() {
    let Some(pcaps) = util::pcaps_dir_or_skip("suricata_verify_unsupported") else {
        return;
    };
    let root = pcaps.join("groundtruth/suricata-verify");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("suricata-verify dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    for test in dirs.iter().filter(|t| !SUPPORTED.contains(&t.as_str())) {
        let Ok(rules) = std::fs::read_to_string(root.join(test).join("test.rules")) else {
            eprintln!("{test}: no test.rules (needs Suricata's built-in rules)");
            continue;
        };
        let set = RuleSet::from_text(&rules, &RuleVars::default());
        let s = set.summary();
        eprintln!("{test}: {s}");
        assert!(s.skipped > 0, "{test} loads fully: add it to SUPPORTED");
        for w in &s.warnings {
            assert!(w.sid.is_some(), "{test}: warning without sid: {w}");
            assert!(
                matches!(w.reason, SkipReason::Unsupported(_)),
                "{test}: {w}"
            );
        }
        // The rules that do load must still give the yaml's count for their sid.
        let loaded: Vec<u64> = set
            .rules()
            .flat_map(|r| &r.options)
            .filter_map(|o| match o {
                netsec_core::rules::RuleOption::Sid(n) => Some(*n),
                _ => None,
            })
            .collect();
        if loaded.is_empty() {
            continue;
        }
        let yaml = std::fs::read_to_string(root.join(test).join("test.yaml")).expect("yaml");
        let pcap = pcap_for(&pcaps, test).unwrap_or_else(|| panic!("{test}: no pcap"));
        let got = by_sid(&run(&pcap, &mut RuleDetector::new(set)));
        for c in alert_checks(&yaml) {
            if let Some(sid) = c.sid.filter(|s| loaded.contains(s)) {
                let n = got.get(&sid).copied().unwrap_or(0);
                eprintln!("{test}: loaded sid {sid} expected {} got {n}", c.count);
                assert_eq!(n, c.count, "{test}: sid {sid}");
            }
        }
    }
}

#[test]
fn yaml_reader_reads_alert_checks() {
    let yaml = "checks:\n  - filter:\n      count: 1\n      match:\n        event_type: alert\n  - filter:\n      count: 0\n      match:\n        has-key: alert.engine\n  - filter:\n      count: 2\n      match:\n        event_type: alert\n        alert.signature_id: 7\n  - filter:\n      count: 3\n      match:\n        event_type: flow\n";
    assert_eq!(
        alert_checks(yaml),
        vec![
            Expect {
                sid: None,
                count: 1
            },
            Expect {
                sid: Some(7),
                count: 2
            }
        ]
    );
}

/// Hand-written app-layer rules on real captures. Expected counts are per packet, from tshark
/// 4.0.17 with TCP reassembly off (`-o tcp.desegment_tcp_streams:FALSE`), e.g.
/// `tshark -r benign/wikipedia.pcap -Y 'dns.flags.response==0 && lower(dns.qry.name) contains "wikimedia"' | wc -l`.
#[test]
fn app_layer_keywords_on_real_captures() {
    let cases: [(&str, &str, usize); 9] = [
        // tls.handshake.extensions_server_name contains "ntop"
        (
            "benign/tls_443_curl.pcap",
            r#"alert tls any any -> any any (tls.sni; content:"www.ntop.org"; sid:1;)"#,
            1,
        ),
        // no ClientHello carries another name
        (
            "benign/tls_443_curl.pcap",
            r#"alert tls any any -> any any (tls.sni; content:"example"; sid:1;)"#,
            0,
        ),
        // http.request && lower(http.host) contains "google"
        (
            "benign/http_google.pcapng",
            r#"alert http any any -> any any (http.host; content:"google"; sid:1;)"#,
            1,
        ),
        // http.request && http.host contains "wikimedia": 1 + 1 + 12
        (
            "benign/wikipedia.pcap",
            r#"alert http any any -> any any (http.host; content:"wikimedia.org"; sid:1;)"#,
            14,
        ),
        // dns.flags.response==0 && lower(dns.qry.name) contains "wikimedia"
        (
            "benign/wikipedia.pcap",
            r#"alert dns any any -> any any (dns.query; content:"wikimedia"; nocase; sid:1;)"#,
            14,
        ),
        // http.user_agent contains "Mozilla"
        (
            "benign/http_bro_org.pcap",
            r#"alert tcp any any -> any any (http.user_agent; content:"Mozilla"; sid:1;)"#,
            31,
        ),
        // http.request.method == "GET"
        (
            "benign/http_bro_org.pcap",
            r#"alert http any any -> any any (http.method; content:"GET"; sid:1;)"#,
            31,
        ),
        // http.request.uri contains ".js"
        (
            "benign/http_bro_org.pcap",
            r#"alert http any any -> any any (http.uri; content:".js"; sid:1;)"#,
            10,
        ),
        // tcp.payload[0:8] == "SSH-2.0-": the two banners on port 22 (tshark's ssh.protocol)
        // and two on port 8000, which tshark leaves undissected but netsec recognises from
        // the payload.
        (
            "benign/ssh_session.pcap",
            r#"alert ssh any any -> any any (content:"SSH-2.0-"; depth:8; sid:1;)"#,
            4,
        ),
    ];
    for (capture, rule, expected) in cases {
        let Some(pcap) = util::pcap(capture) else {
            return;
        };
        let set = RuleSet::from_text(rule, &RuleVars::default());
        assert_eq!(set.summary().loaded, 1, "{rule}: {}", set.summary());
        let mut detector = RuleDetector::new(set);
        let alerts = run(&pcap, &mut detector);
        assert_eq!(alerts.len(), expected, "{capture}: {rule}");
    }
}

/// `ja3.hash` / `ja4.hash` (and the older `ja3_hash`) match the fingerprints of the real
/// ClientHellos of a capture: as many alerts as hellos with that fingerprint (the parser's
/// fingerprints are checked against tshark in `app_l7`).
#[test]
fn ja3_and_ja4_buffers_on_a_real_capture() {
    let Some(path) = util::pcap("benign/tls_443_curl.pcap") else {
        return;
    };
    let mut reader = PcapReader::open(&path).expect("open capture");
    let mut hellos: Vec<(String, String)> = Vec::new();
    while let Ok(Some(pkt)) = reader.next_packet() {
        let Ok(Decoded::Ip(ip)) = decode(&pkt) else {
            continue;
        };
        if let Ok(netsec_core::app::tls::Hello::Client(h)) =
            netsec_core::app::tls::parse(ip.payload)
        {
            if let (Some(j3), Some(j4)) = (h.ja3(), h.ja4()) {
                hellos.push((j3.to_string(), j4.to_string()));
            }
        }
    }
    let (ja3, ja4) = hellos.first().cloned().expect("a complete ClientHello");
    let want3 = hellos.iter().filter(|h| h.0 == ja3).count();
    let want4 = hellos.iter().filter(|h| h.1 == ja4).count();
    for (rule, want) in [
        (format!(r#"alert tls any any -> any any (ja3.hash; content:"{ja3}"; sid:1;)"#), want3),
        (format!(r#"alert tls any any -> any any (ja3_hash; content:"{ja3}"; sid:1;)"#), want3),
        (format!(r#"alert tls any any -> any any (ja4.hash; content:"{ja4}"; sid:1;)"#), want4),
        (r#"alert tls any any -> any any (ja3.hash; content:"00000000000000000000000000000000"; sid:1;)"#.to_string(), 0),
    ] {
        let set = RuleSet::from_text(&rule, &RuleVars::default());
        assert_eq!(set.summary().skipped, 0, "{rule}: {}", set.summary());
        let mut d = RuleDetector::new(set);
        assert_eq!(run(&path, &mut d).len(), want, "{rule}");
    }
}
