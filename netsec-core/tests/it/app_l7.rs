//! The TLS, HTTP and SSH parsers against tshark on the real-capture corpus.
//!
//! `tests/golden/app/*.tsv` hold tshark 4.0's decodes (TCP reassembly off, so each row is what
//! one segment holds) of every TLS hello, HTTP request or status line and SSH identification
//! string in `../shared/data/pcaps`; `tests/golden/make.sh` made them. Every row must match
//! what netsec's parser reads from the same frame, except the cases counted under a named
//! reason below (each explained where it is counted).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use netsec_core::app::{http, ssh, tls};
use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::decode::{decode, Decoded, IpProtocol, PacketMeta};

use crate::util;

/// Golden rows of one file: `path → frame → column → value`.
type Golden = BTreeMap<String, BTreeMap<u64, HashMap<String, String>>>;

fn golden(name: &str) -> Golden {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/app")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("golden file");
    let mut lines = text.lines();
    let cols: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let mut out = Golden::new();
    for line in lines {
        let row: HashMap<String, String> = cols
            .iter()
            .zip(line.split('\t').chain(std::iter::repeat("")))
            .map(|(c, v)| (c.to_string(), v.to_string()))
            .collect();
        let frame = row["frame"].parse().expect("frame number");
        out.entry(row["path"].clone())
            .or_default()
            .insert(frame, row);
    }
    out
}

/// Outcome counts of one comparison run.
#[derive(Debug, Default)]
struct Tally {
    matched: u64,
    /// Known differences, by reason.
    excepted: BTreeMap<&'static str, u64>,
    mismatches: Vec<String>,
}

impl Tally {
    fn except(&mut self, reason: &'static str) {
        *self.excepted.entry(reason).or_default() += 1;
    }

    fn check(&mut self, what: &str, ours: &str, theirs: &str) -> bool {
        if ours == theirs {
            true
        } else {
            self.mismatches
                .push(format!("{what}: netsec {ours:?}, tshark {theirs:?}"));
            false
        }
    }

    fn report(&self, name: &str) {
        eprintln!(
            "{name}: {} rows match tshark; excepted {:?}; {} mismatches",
            self.matched,
            self.excepted,
            self.mismatches.len()
        );
        for m in self.mismatches.iter().take(20) {
            eprintln!("  {m}");
        }
        assert!(
            self.mismatches.is_empty(),
            "{name}: rows differ from tshark"
        );
    }
}

/// Calls `f(protocol, payload, row)` for every frame of the golden rows, or counts why not.
fn each_row(
    golden: &Golden,
    tally: &mut Tally,
    mut f: impl FnMut(&mut Tally, &PacketMeta, &[u8], &HashMap<String, String>, &str),
) -> Option<()> {
    let dir = util::pcaps_dir_or_skip("app golden")?;
    for (path, rows) in golden {
        let mut reader = PcapReader::open(dir.join(path)).expect("capture opens");
        let mut frame = 0u64;
        while let Ok(Some(pkt)) = reader.next_packet() {
            frame += 1;
            let Some(row) = rows.get(&frame) else {
                continue;
            };
            let what = format!("{path}#{frame}");
            match decode(&pkt) {
                Ok(Decoded::Ip(ip)) if ip.meta.fragment.is_none_or(|fr| fr.is_first()) => {
                    f(tally, &ip.meta, ip.payload, row, &what)
                }
                // tshark reassembles IP fragments; netsec inspects only first fragments.
                Ok(Decoded::Ip(_)) => tally.except("later IP fragment (not reassembled)"),
                _ => tally.except("frame netsec does not decode to IP"),
            }
        }
    }
    Some(())
}

fn nums(list: &str) -> Vec<u16> {
    list.split(',')
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let s = s.trim_start_matches("0x");
            u16::from_str_radix(s, 16).ok()
        })
        .collect()
}

fn has_http1_version(line: &[u8]) -> bool {
    line.windows(7).any(|w| w == b"HTTP/1.")
}

fn text(b: Option<&[u8]>) -> String {
    b.map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

#[test]
fn tls_hellos_match_tshark() {
    let golden = golden("tls.tsv");
    let mut t = Tally::default();
    let done = each_row(&golden, &mut t, |t, meta, payload, row, what| {
        if meta.protocol != IpProtocol::TCP {
            // QUIC Initial packets (tshark decrypts them) and DTLS: not parsed by netsec.
            return t.except("QUIC/DTLS hello (not decrypted / not parsed)");
        }
        let first_type = row["type"].split(',').next().unwrap_or("");
        match (first_type, tls::parse(payload)) {
            ("1", Ok(tls::Hello::Client(h))) => {
                let alpn: Vec<String> = h.alpn().map(|a| text(Some(a))).collect();
                let ciphers: Vec<u16> = h.ciphers().collect();
                let mut ok = t.check(&format!("{what} sni"), &text(h.sni), &row["sni"]);
                ok &= t.check(&format!("{what} alpn"), &alpn.join(","), &row["alpn"]);
                let legacy = format!("0x{:04x}", h.legacy_version);
                ok &= t.check(&format!("{what} version"), &legacy, &row["legacy_version"]);
                let offered = nums(&row["supported_versions"]);
                let max = offered
                    .iter()
                    .copied()
                    .filter(|v| !tls::is_grease(*v))
                    .max();
                let expected = max.unwrap_or(h.legacy_version);
                ok &= t.check(
                    &format!("{what} max version"),
                    &h.version().to_string(),
                    &expected.to_string(),
                );
                if !row["ja3"].is_empty() {
                    // tshark read the whole hello: so must we, with the same fingerprints.
                    ok &= t.check(&format!("{what} complete"), &h.complete.to_string(), "true");
                    ok &= t.check(
                        &format!("{what} ciphers"),
                        &format!("{ciphers:?}"),
                        &format!("{:?}", nums(&row["ciphers"])),
                    );
                    let ja3 = h.ja3().map(|j| j.to_string()).unwrap_or_default();
                    ok &= t.check(&format!("{what} ja3"), &ja3, &row["ja3"]);
                    let ja4 = h.ja4().map(|j| j.to_string()).unwrap_or_default();
                    ok &= t.check(&format!("{what} ja4"), &ja4, &row["ja4"]);
                }
                if ok {
                    t.matched += 1;
                }
            }
            ("2", Ok(tls::Hello::Server(h))) => {
                let cipher = format!("0x{:04x}", h.cipher);
                let mut ok = t.check(&format!("{what} cipher"), &cipher, &row["ciphers"]);
                let selected = nums(&row["supported_versions"]).first().copied();
                let expected = selected.unwrap_or(h.legacy_version);
                ok &= t.check(
                    &format!("{what} version"),
                    &h.version().to_string(),
                    &expected.to_string(),
                );
                if ok {
                    t.matched += 1;
                }
            }
            // tshark finds TLS inside OpenVPN's control channel (reassembling OpenVPN's own
            // fragments); netsec reads TLS only at the start of a TCP payload.
            (_, Err(tls::TlsError::NotTls)) if meta.src_port == 1194 || meta.dst_port == 1194 => {
                t.except("TLS inside OpenVPN")
            }
            (ty, other) => t
                .mismatches
                .push(format!("{what}: tshark type {ty}, netsec {other:?}")),
        }
    });
    if done.is_some() {
        t.report("tls");
        assert!(t.matched > 400, "{t:?}");
    }
}

#[test]
fn http_messages_match_tshark() {
    let golden = golden("http.tsv");
    let mut t = Tally::default();
    let done = each_row(&golden, &mut t, |t, meta, payload, row, what| {
        // Several messages in one segment: tshark lists each (comma-joined); netsec reads the
        // first, so its value must be the first of the list.
        let first_of = |ours: &str, theirs: &str| {
            if theirs.starts_with(ours) && theirs.as_bytes().get(ours.len()) == Some(&b',') {
                theirs.to_string()
            } else {
                ours.to_string()
            }
        };
        let parsed = http::parse(payload);
        if parsed.is_err() && meta.protocol != IpProtocol::TCP {
            return t.except("inside a tunnel netsec does not decapsulate (AYIYA)");
        }
        let first_line = payload.split(|b| *b == b'\n').next().unwrap_or_default();
        if first_line.len() == payload.len() {
            // tshark reports the method and the URI so far; netsec needs the whole line.
            return t.except("request line cut by the segment end");
        }
        match parsed {
            Ok(http::HttpMessage::Request(r)) if !row["method"].is_empty() => {
                let mut ok = true;
                for (col, ours) in [
                    ("method", r.method.to_string()),
                    ("uri", text(Some(r.uri))),
                    ("host", text(r.host)),
                    ("user_agent", text(r.user_agent)),
                ] {
                    let theirs = &row[col];
                    let ours = first_of(&ours, theirs);
                    if ours.is_empty() && !theirs.is_empty() && payload.ends_with(theirs.as_bytes())
                    {
                        // tshark reports the part of a header line the segment holds.
                        t.except("header line cut by the segment end");
                        ok = false;
                    } else if ours.contains('\0') && ours.starts_with(theirs.as_str()) {
                        t.except("NUL in a header value (tshark's string stops there)");
                        ok = false;
                    } else {
                        ok &= t.check(&format!("{what} {col}"), &ours, theirs);
                    }
                }
                if ok {
                    t.matched += 1;
                }
            }
            // tshark takes any line starting with a method and a space for a request.
            Err(_) if !row["method"].is_empty() && !has_http1_version(first_line) => {
                t.except("request line without an HTTP/1.x version")
            }
            Ok(http::HttpMessage::Response(r)) if !row["status"].is_empty() => {
                let ours = first_of(&r.status.to_string(), &row["status"]);
                if t.check(&format!("{what} status"), &ours, &row["status"]) {
                    t.matched += 1;
                }
            }
            other => t.mismatches.push(format!(
                "{what}: tshark method {:?} status {:?}, netsec {other:?}",
                row["method"], row["status"]
            )),
        }
    });
    if done.is_some() {
        t.report("http");
        assert!(t.matched > 900, "{t:?}");
    }
}

#[test]
fn ssh_banners_match_tshark() {
    let golden = golden("ssh.tsv");
    let mut t = Tally::default();
    let done = each_row(
        &golden,
        &mut t,
        |t, _meta, payload, row, what| match ssh::parse(payload) {
            Ok(b) => {
                if t.check(&format!("{what} banner"), b.line, &row["protocol"]) {
                    t.matched += 1;
                }
            }
            Err(e) => t.mismatches.push(format!(
                "{what}: tshark {:?}, netsec {e:?}",
                row["protocol"]
            )),
        },
    );
    if done.is_some() {
        t.report("ssh");
        assert!(t.matched > 60, "{t:?}");
    }
}

/// Flow records through the pipeline: how many flows each capture has per application
/// protocol, against tshark's stream counts (reassembly off), e.g.
/// `tshark -r benign/wikipedia.pcap -Y http.request -T fields -e tcp.stream | sort -u | wc -l`.
#[test]
fn flow_app_protocols_match_tshark_streams() {
    use netsec_core::app::{AppField, AppProto};
    use netsec_core::flow::FlowTableConfig;
    use netsec_core::pipeline::FlowPipeline;

    // (capture, protocol, flows): tshark filter for the streams counted.
    let cases: [(&str, AppProto, usize); 7] = [
        ("benign/wikipedia.pcap", AppProto::Http, 9), // http.request, tcp.stream
        ("benign/http_bro_org.pcap", AppProto::Http, 8), // http.request, tcp.stream
        ("benign/sites_22ifaces.pcapng", AppProto::Tls, 55), // tls.handshake.type==1, tcp.stream
        ("benign/sites_22ifaces.pcapng", AppProto::Quic, 4), // quic, udp.stream
        ("benign/quic_youtube.pcap", AppProto::Quic, 3), // gquic, udp.stream
        ("benign/tls_443_curl.pcap", AppProto::Tls, 1), // tls.handshake.type==1, tcp.stream
        ("benign/dhcp.pcap", AppProto::Dhcp, 4),      // dhcp, udp.stream
    ];
    let golden = golden("tls.tsv");
    for (capture, proto, expected) in cases {
        let Some(path) = util::pcap(capture) else {
            return;
        };
        let source = PcapReader::open(&path).expect("opens");
        let mut pipeline = FlowPipeline::new(source, FlowTableConfig::default()).expect("valid");
        let mut flows = Vec::new();
        pipeline
            .run(|f| {
                flows.push(f.clone());
                Ok::<(), std::io::Error>(())
            })
            .expect("runs");
        let got = flows.iter().filter(|f| f.app_proto == proto).count();
        assert_eq!(got, expected, "{capture}: {proto} flows");
        if proto == AppProto::Tls {
            // Each TLS flow's SNI is its ClientHello's, as tshark read it (TCP rows).
            let mut ours: Vec<String> = flows
                .iter()
                .filter(|f| f.app_proto == AppProto::Tls)
                .map(|f| {
                    let app = f.app.as_deref();
                    app.and_then(|a| a.get(AppField::TlsSni))
                        .unwrap_or_default()
                        .to_string()
                })
                .collect();
            let mut theirs: Vec<String> = golden[capture]
                .values()
                // QUIC ClientHellos (tshark decrypts them) are the ones offering only h3.
                .filter(|r| r["type"].starts_with('1') && r["alpn"] != "h3")
                .map(|r| r["sni"].clone())
                .collect();
            ours.sort();
            theirs.sort();
            assert_eq!(ours, theirs, "{capture}: SNIs");
        }
    }
}
