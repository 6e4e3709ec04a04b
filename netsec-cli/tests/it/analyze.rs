//! `netsec analyze` end to end: alerts from the bundled rules on real attack captures, EVE
//! shape, byte-identical output across runs and `--jobs`, damaged captures, the summary.

use crate::support::{self, netsec, path_str, repo};
use std::path::{Path, PathBuf};

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    support::scratch("analyze", test)
}

/// A rule that fires on the bundled sample's HTTP requests.
const SAMPLE_RULE: &str = "alert tcp any any -> any 80 (msg:\"TEST http GET\"; flow:to_server; content:\"GET \"; depth:4; classtype:web-application-activity; sid:1000001; rev:2;)\n";

fn sample_rule_file(dir: &Path) -> PathBuf {
    let p = dir.join("sample.rules");
    std::fs::write(&p, SAMPLE_RULE).expect("write rules");
    p
}

/// An attack capture from `../shared/data`, or `None` after printing why the test skips.
fn attack(name: &str) -> Option<String> {
    let p = repo().join("../shared/data/pcaps/attacks").join(name);
    if p.is_file() {
        Some(p.to_str().expect("utf-8 path").to_string())
    } else {
        eprintln!("SKIP: {} not found (../shared/data absent)", p.display());
        None
    }
}

fn eve_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    let text = std::str::from_utf8(bytes).expect("utf-8 output");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn sids(events: &[serde_json::Value]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| e["alert"]["signature_id"].as_u64())
        .collect()
}

#[test]
fn bundled_sample_runs_and_the_summary_has_every_section() {
    let out = netsec(&["analyze", "samples/synthetic.pcap"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for section in [
        "== netsec analyze summary ==",
        "samples/synthetic.pcap: 3000 packets, 976 flows",
        "span: 2023-11-14T22:13:20.001795Z .. ",
        "packets: 3000 (",
        "protocols: TCP ",
        "flows: 976 (",
        "top talkers of ",
        "   1. ",
        "rules: 27 rules loaded, 0 skipped",
        "behaviour: ",
        "alerts: ",
        "by detector: rules",
    ] {
        assert!(
            stderr.contains(section),
            "summary lacks {section:?}:\n{stderr}"
        );
    }
}

#[test]
fn summary_goes_to_stdout_when_alerts_go_to_a_file() {
    let dir = scratch("summary-stdout");
    let alerts = dir.join("alerts.json");
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--alerts",
        path_str(&alerts),
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("== netsec analyze summary =="), "{stdout}");
    assert!(alerts.is_file());
}

#[test]
fn eve_alerts_parse_and_carry_the_alerts_md_fields() {
    let dir = scratch("eve-fields");
    let rules = sample_rule_file(&dir);
    let flows = dir.join("flows.json");
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--rules",
        path_str(&rules),
        "--flows",
        path_str(&flows),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = eve_lines(&out.stdout);
    assert!(!alerts.is_empty(), "the test rule fires on the sample");
    let flow_events = eve_lines(&std::fs::read(&flows).expect("flows written"));
    assert_eq!(flow_events.len(), 976);
    let flow_ids: std::collections::HashSet<u64> = flow_events
        .iter()
        .map(|f| {
            assert_eq!(f["event_type"], "flow");
            assert!(f["flow"]["pkts_toserver"].is_u64());
            assert_eq!(f["features"].as_object().expect("features").len(), 25);
            f["flow_id"].as_u64().expect("flow_id")
        })
        .collect();
    let rule_alerts = alerts.iter().filter(|a| a["alert"]["gid"] == 1).count();
    assert!(rule_alerts > 0, "the test rule fires on the sample");
    for a in &alerts {
        assert_eq!(a["event_type"], "alert");
        if a["alert"]["gid"] != 1 {
            // Behavioural detectors: gid 9000, the documented id and stable name of the
            // (detector, attack type), and the per-alert sentence only in `netsec`.
            assert_eq!(a["alert"]["gid"], 9000, "{a}");
            let detector = a["netsec"]["detector"].as_str().expect("detector");
            let category = a["alert"]["category"].as_str().expect("category");
            let sig = netsec_core::detect::signature::non_rule(detector, category);
            assert_eq!(a["alert"]["signature_id"], sig.sid, "{a}");
            assert_eq!(a["alert"]["signature"], sig.name.as_ref(), "{a}");
            assert!(a["netsec"]["description"].is_string());
            assert!(a["netsec"]["score"].is_f64());
            continue;
        }
        for key in [
            "timestamp",
            "src_ip",
            "src_port",
            "dest_ip",
            "dest_port",
            "proto",
        ] {
            assert!(!a[key].is_null(), "missing {key}: {a}");
        }
        let ts = a["timestamp"].as_str().expect("timestamp");
        assert!(ts.ends_with('Z') && ts.len() == 27, "RFC 3339 µs UTC: {ts}");
        assert!(flow_ids.contains(&a["flow_id"].as_u64().expect("flow_id")));
        let al = &a["alert"];
        assert_eq!(al["action"], "allowed");
        assert_eq!(al["gid"], 1);
        assert_eq!(al["signature_id"], 1_000_001);
        assert_eq!(al["rev"], 2);
        assert_eq!(al["signature"], "TEST http GET");
        // The classtype's description, as Suricata writes `alert.category`.
        assert_eq!(
            al["category"],
            "access to a potentially vulnerable web application"
        );
        assert_eq!(al["severity"], 2);
    }
}

#[test]
fn jsonl_and_csv_alerts_have_their_shapes() {
    let dir = scratch("shapes");
    let rules = sample_rule_file(&dir);
    let jsonl = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--rules",
        path_str(&rules),
        "--format",
        "jsonl",
    ]);
    assert!(jsonl.status.success());
    let text = String::from_utf8(jsonl.stdout).expect("utf-8");
    assert!(!text.is_empty());
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        for key in [
            "id",
            "detector",
            "timestamp",
            "attack_type",
            "severity",
            "status",
            "score",
            "description",
            "tags",
            "meta",
        ] {
            assert!(!v[key].is_null(), "missing {key}: {line}");
        }
        assert_eq!(v["status"], "NEW");
        assert!(v["meta"]["detector"].is_string());
        assert_eq!(v["detector"], v["meta"]["detector"]);
    }
    let csv = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--rules",
        path_str(&rules),
        "--format",
        "csv",
    ]);
    assert!(csv.status.success());
    let text = String::from_utf8(csv.stdout).expect("utf-8");
    assert!(text.starts_with("id,detector,timestamp,attack_type,severity,"));
}

#[test]
fn output_is_byte_identical_across_runs_and_job_counts() {
    let dir = scratch("determinism");
    let rules = sample_rule_file(&dir);
    // The same capture twice plus once more: three pipelines whose output must come out in
    // input order whatever finishes first.
    let caps = ["samples/synthetic.pcap"; 3];
    for format in ["eve", "jsonl", "csv"] {
        let mut results = Vec::new();
        for (run, jobs) in [("a", "1"), ("b", "1"), ("c", "2"), ("d", "3")] {
            let flows = dir.join(format!("flows-{format}-{run}"));
            let mut args = vec!["analyze"];
            args.extend(caps);
            args.extend([
                "--rules",
                path_str(&rules),
                "--format",
                format,
                "--jobs",
                jobs,
            ]);
            args.extend(["--flows", path_str(&flows)]);
            let out = netsec(&args);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.stdout.is_empty());
            results.push((out.stdout, std::fs::read(&flows).expect("flows")));
        }
        for r in &results[1..] {
            assert!(
                r.0 == results[0].0,
                "{format}: alerts differ between runs/jobs"
            );
            assert!(
                r.1 == results[0].1,
                "{format}: flows differ between runs/jobs"
            );
        }
        if format == "csv" {
            let alerts = String::from_utf8_lossy(&results[0].0);
            assert_eq!(
                alerts.lines().filter(|l| l.starts_with("id,")).count(),
                1,
                "one header"
            );
            let flows = String::from_utf8_lossy(&results[0].1);
            assert_eq!(
                flows.lines().filter(|l| l.starts_with("flow_id,")).count(),
                1
            );
            assert_eq!(flows.lines().count(), 1 + 3 * 976);
        }
    }
}

#[test]
fn damaged_capture_exits_2_after_writing_what_was_read() {
    let dir = scratch("damaged");
    let rules = sample_rule_file(&dir);
    let bytes = std::fs::read(repo().join("samples/synthetic.pcap")).expect("sample");
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3 + 5]).expect("write cut capture");
    let flows = dir.join("flows.csv");
    let alerts = dir.join("alerts.csv");
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        path_str(&cut),
        "--rules",
        path_str(&rules),
        "--format",
        "csv",
        "--alerts",
        path_str(&alerts),
        "--flows",
        path_str(&flows),
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 of 2 captures not read to the end"),
        "{stderr}"
    );
    assert!(stderr.contains("cut.pcap"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("DAMAGED"), "{stdout}");
    let whole = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--rules",
        path_str(&rules),
        "--format",
        "csv",
    ]);
    let whole_alerts = whole.stdout.iter().filter(|&&b| b == b'\n').count();
    let alert_rows = std::fs::read(&alerts)
        .expect("alerts")
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    assert!(
        alert_rows > whole_alerts,
        "alerts from before the damage are written"
    );
    let flow_rows = std::fs::read_to_string(&flows)
        .expect("flows")
        .lines()
        .count();
    assert!(
        flow_rows > 1 + 976,
        "flows from before the damage are written"
    );
}

#[test]
fn missing_capture_and_model_are_bad_input() {
    let out = netsec(&["analyze", "no/such/file.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    let out = netsec(&["analyze", "samples/synthetic.pcap", "--model", "m.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot load model m.json"));
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--rules",
        "no/such.rules",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn skipped_rules_are_warned_about_with_file_and_line() {
    let dir = scratch("warnings");
    let rules = dir.join("mixed.rules");
    std::fs::write(
        &rules,
        "# comment\nalert smb any any -> any any (msg:\"x\"; sid:5;)\nalert tcp any any -> any any (content:\"ok\"; sid:6;)\n",
    )
    .expect("write");
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--no-default-rules",
        "--rules",
        path_str(&rules),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mixed.rules: line 2: rule sid 5 skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("rules: 1 rules loaded, 1 skipped (by keyword: protocol:smb 1)"),
        "{stderr}"
    );
}

#[test]
fn bundled_rules_fire_on_real_web_attacks() {
    let cases = [
        ("web_sqli.pcap", 9_100_010),
        ("web_sqli_dvwa.pcapng", 9_100_011),
        ("web_log4shell.pcap", 9_100_024),
        ("web_xss.pcap", 9_100_020),
        ("web_dirtraversal_dvwa.pcapng", 9_100_022),
        ("sv_smb_eicar.pcap", 9_100_001),
        ("portscan_nmap_80_all.pcap", 9_100_030),
    ];
    for (name, sid) in cases {
        let Some(path) = attack(name) else {
            return;
        };
        let out = netsec(&["analyze", &path]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let events = eve_lines(&out.stdout);
        assert!(
            sids(&events).contains(&sid),
            "{name}: sid {sid} not raised: {:?}",
            sids(&events)
        );
        let again = netsec(&["analyze", &path]);
        assert_eq!(
            out.stdout, again.stdout,
            "{name}: output differs between runs"
        );
    }
}

#[test]
fn behavioural_detectors_fire_on_a_real_port_scan() {
    let Some(path) = attack("portscan_syn_nmap.pcapng") else {
        return;
    };
    let out = netsec(&["analyze", &path, "--format", "jsonl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let types: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            v["attack_type"].as_str().expect("attack_type").to_string()
        })
        .collect();
    assert!(types.iter().any(|t| t == "Port_Scan"), "{types:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Port_Scan"), "summary by type: {stderr}");
}

#[test]
fn a_config_can_turn_behavioural_detectors_off_and_bad_configs_are_bad_input() {
    let dir = scratch("config");
    let off = dir.join("off.toml");
    std::fs::write(
        &off,
        "[port_scan]\nenabled = false\n[syn_flood]\nenabled = false\n[brute_force]\nenabled = false\n[icmp]\nenabled = false\n[arp_spoof]\nenabled = false\n[amplification]\nenabled = false\n[dns_tunnel]\nenabled = false\n[payload]\nenabled = false\n[arp_scan]\nenabled = false\n[dhcp_flood]\nenabled = false\n[os_fingerprint]\nenabled = false\n[smb]\nenabled = false\n[tcp_anomaly]\nenabled = false\n[beacon]\nenabled = false\n[session_hijack]\nenabled = false\n[icmp_tunnel]\nenabled = false\n[login_scan]\nenabled = false\n[long_connection]\nenabled = false\n",
    )
    .expect("write");
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--config",
        path_str(&off),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("behaviour: all behavioural detectors disabled"),
        "{stderr}"
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[port_scan]\nno_such_key = 1\n").expect("write");
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--config",
        path_str(&bad),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        out.stdout.is_empty(),
        "nothing written before the config is checked"
    );
}

/// `--report` writes one self-contained page: the dashboard inline (no external script or
/// style), the data as JSON holding every alert the analysis wrote, and as many flows as it
/// found (the sample holds all of them under 5,000), the same bytes on every run.
#[test]
fn report_is_self_contained_and_holds_every_alert() {
    let dir = scratch("report");
    let html = dir.join("report.html");
    let alerts = dir.join("alerts.jsonl");
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--format",
        "jsonl",
        "--alerts",
        path_str(&alerts),
        "--report",
        path_str(&html),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(&html).expect("report written");
    assert!(
        !page.contains("src=\"/assets") && !page.contains("href=\"/assets"),
        "nothing external"
    );
    assert!(
        !page.contains("http://") || !page.contains("<script src"),
        "no remote script"
    );
    let start =
        page.find("id=\"netsec-report\">").expect("data element") + "id=\"netsec-report\">".len();
    let end = start + page[start..].find("</script>").expect("end of data");
    let data: serde_json::Value = serde_json::from_str(&page[start..end]).expect("data is JSON");
    let written = std::fs::read_to_string(&alerts)
        .expect("alerts")
        .lines()
        .count();
    assert!(written > 0);
    assert_eq!(data["alerts"].as_array().map(Vec::len), Some(written));
    assert_eq!(data["alerts_total"], written);
    assert_eq!(data["flows_total"], 976);
    assert_eq!(data["flows"].as_array().map(Vec::len), Some(976));
    assert!(!data["devices"].as_array().expect("devices").is_empty());
    let again = dir.join("again.html");
    let out = netsec(&[
        "analyze",
        "samples/synthetic.pcap",
        "--report",
        path_str(&again),
    ]);
    assert!(out.status.success());
    assert_eq!(
        std::fs::read(&again).expect("read"),
        page.as_bytes(),
        "deterministic"
    );
}
