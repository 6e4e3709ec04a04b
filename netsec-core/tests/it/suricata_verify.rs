//! All of `../shared/data/suricata-verify/`: 696 real Suricata test cases, each passed by
//! Suricata 7.0.10, run as its README says (only the case's rules, its `threshold.config`
//! where present) through a sensor with the behavioural detectors off. Our alerts are
//! written as EVE (`EveAlertSink::to_eve`) and every check of `expected.json` counts the
//! alerts whose dotted fields equal its `match` values (compared as strings, as the
//! reference harness does). A case passes when every count is exact.
//!
//! The test prints the pass rate over all cases and over the 345 that are not
//! `http-evader-*` (those need stream reassembly and body normalisation), then every failure
//! with its cause, and a tally of causes. It asserts the non-evader pass count does not drop
//! below the figure measured when it was written.

use std::collections::BTreeMap;
use std::path::Path;

use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::config::SensorConfig;
use netsec_core::detect::EveAlertSink;
use netsec_core::rules::MidstreamPolicy;
use serde_json::Value;

use crate::util::data_dir;

/// Non-evader cases passing when this test was last tightened.
const MIN_PASSING: usize = 207;

/// The value at a dotted EVE path (`alert.signature_id`, `vlan[0]`).
fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        cur = cur.get(name)?;
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(cur)
}

/// `str(actual) == str(expected)` as the reference harness compares.
fn same(a: &Value, b: &Value) -> bool {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s(a) == s(b)
}

/// The TCP midstream settings a case ran with: its args (`--set stream.midstream=…`,
/// `--set stream.midstream-policy=…`, `--set exception-policy=…`, `--simulate-ips`) over
/// its `suricata.yaml` (`midstream-policy:`, the top-level `exception-policy:` master
/// switch) over Suricata's defaults (midstream off, policy `auto`). `auto` is `ignore`
/// when midstream is on or in IDS mode, `drop-flow` in IPS mode otherwise; every policy but
/// `ignore` leaves such a flow uninspected here, since nothing is blocked.
fn midstream_settings(dir: &Path, expected: &Value) -> (bool, MidstreamPolicy) {
    let args: Vec<&str> = expected["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let set = |key: &str| {
        args.iter()
            .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_string)
    };
    let yaml = std::fs::read_to_string(dir.join("suricata.yaml")).unwrap_or_default();
    let from_yaml = |key: &str, top_level: bool| {
        yaml.lines()
            .filter(|l| !top_level || !l.starts_with(' '))
            .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    };
    let midstream = set("stream.midstream").is_some_and(|v| v == "true");
    let ips = args.contains(&"--simulate-ips");
    let policy = set("stream.midstream-policy")
        .or_else(|| from_yaml("midstream-policy", false))
        .or_else(|| set("exception-policy"))
        .or_else(|| from_yaml("exception-policy", true))
        .unwrap_or_else(|| "auto".into());
    let ignore = match policy.as_str() {
        "auto" => midstream || !ips,
        p => p == "ignore",
    };
    let policy = if ignore {
        MidstreamPolicy::Ignore
    } else {
        MidstreamPolicy::PassFlow
    };
    (midstream, policy)
}

/// One case's outcome.
struct Outcome {
    pass: bool,
    cause: String,
}

fn run_case(dir: &Path, expected: &Value) -> Outcome {
    let fail = |cause: String| Outcome { pass: false, cause };
    let mut config = SensorConfig::default();
    config.rules.bundled = false;
    let b = &mut config.behaviour;
    b.port_scan.enabled = false;
    b.syn_flood.enabled = false;
    b.brute_force.enabled = false;
    b.icmp.enabled = false;
    b.arp_spoof.enabled = false;
    b.amplification.enabled = false;
    b.dns_tunnel.enabled = false;
    let Some(rules) = expected["rules"].as_str() else {
        return fail("no rule file".into());
    };
    config.rules.files.push(dir.join(rules));
    (config.rules.midstream, config.rules.midstream_policy) = midstream_settings(dir, expected);
    // The case's `packet-alert-max:` (top level of its suricata.yaml).
    let yaml = std::fs::read_to_string(dir.join("suricata.yaml")).unwrap_or_default();
    if let Some(max) = yaml
        .lines()
        .find_map(|l| l.strip_prefix("packet-alert-max:"))
        .and_then(|v| v.trim().parse().ok())
    {
        config.rules.packet_alert_max = max;
    }
    if dir.join("threshold.config").is_file() {
        config.rules.threshold_file = Some(dir.join("threshold.config"));
    }
    let checked = match config.check() {
        Ok(c) => c,
        Err(e) => return fail(format!("config: {e}")),
    };
    let summary = checked.rules().summary().clone();
    let mut sensor = match checked.build() {
        Ok(s) => s,
        Err(e) => return fail(format!("sensor: {e}")),
    };
    let pcap = expected["pcap"].as_str().unwrap_or("input.pcap");
    let Ok(file) = std::fs::File::open(dir.join(pcap)) else {
        return fail("capture missing".into());
    };
    let Ok(mut reader) = PcapReader::new(file) else {
        return fail("capture unreadable".into());
    };
    while let Ok(Some(raw)) = reader.next_packet() {
        sensor.push(&raw);
    }
    sensor.finish();
    let eve: Vec<Value> = sensor
        .drain_alerts()
        .map(|a| EveAlertSink::<std::io::Sink>::to_eve(&a))
        .collect();
    // `SV_DUMP=<case>` prints the case's EVE lines, to see why it fails.
    if std::env::var("SV_DUMP").is_ok_and(|c| dir.ends_with(&c)) {
        for e in &eve {
            println!("{e}");
        }
    }
    let mut wrong = Vec::new();
    let mut missing_fields = Vec::new();
    for check in expected["checks"].as_array().into_iter().flatten() {
        let Some(m) = check["match"].as_object() else {
            continue;
        };
        let want = check["count"].as_u64().unwrap_or(0);
        let got = eve
            .iter()
            .filter(|e| {
                // A field not written compares as null, as the reference harness's
                // `str(None)` does.
                m.iter()
                    .all(|(k, v)| same(lookup(e, k).unwrap_or(&Value::Null), v))
            })
            .count() as u64;
        if got != want {
            for k in m.keys() {
                if !eve.is_empty() && eve.iter().all(|e| lookup(e, k).is_none()) {
                    missing_fields.push(k.clone());
                }
            }
            let what = m
                .get("alert.signature_id")
                .map_or("alerts".to_string(), |s| format!("sid {s}"));
            wrong.push(format!("{what}: want {want}, got {got}"));
        }
    }
    if wrong.is_empty() {
        return Outcome {
            pass: true,
            cause: String::new(),
        };
    }
    let cause = if summary.skipped > 0 {
        let mut kws: Vec<String> = summary.by_keyword.keys().cloned().collect();
        if summary.malformed > 0 {
            kws.push("malformed".into());
        }
        if summary.invalid > 0 {
            kws.push("invalid".into());
        }
        format!("rules skipped ({})", kws.join(", "))
    } else if !missing_fields.is_empty() {
        missing_fields.sort();
        missing_fields.dedup();
        format!("EVE fields not written ({})", missing_fields.join(", "))
    } else {
        let args = expected["args"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let args = if args.is_empty() {
            String::new()
        } else {
            format!(" [args: {args}]")
        };
        format!("counts differ: {}{args}", wrong.join("; "))
    };
    fail(cause)
}

#[test]
fn suricata_verify_cases() {
    let Some(root) = data_dir().map(|d| d.join("suricata-verify")) else {
        eprintln!("SKIP suricata_verify_cases: ../shared/data not found");
        return;
    };
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("suricata-verify folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| d.join("expected.json").is_file())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 696, "cases in {}", root.display());
    let (mut pass, mut pass_core, mut core) = (0, 0, 0);
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
        let expected: Value = serde_json::from_str(&text).expect("JSON");
        let evader = name.starts_with("http-evader-");
        let outcome = run_case(dir, &expected);
        if !evader {
            core += 1;
        }
        if outcome.pass {
            pass += 1;
            if !evader {
                pass_core += 1;
            }
            continue;
        }
        let kind = if evader {
            "http-evader: stream reassembly and body normalisation".to_string()
        } else {
            outcome
                .cause
                .split(" (")
                .next()
                .unwrap_or("")
                .split(':')
                .next()
                .unwrap_or("")
                .to_string()
        };
        *causes.entry(kind).or_default() += 1;
        if !evader {
            failures.push(format!("{name}: {}", outcome.cause));
        }
    }
    eprintln!(
        "suricata-verify: {pass} of {} cases pass ({:.1}%); without http-evader-*: {pass_core} of {core} ({:.1}%)",
        dirs.len(),
        100.0 * pass as f64 / dirs.len() as f64,
        100.0 * pass_core as f64 / core.max(1) as f64
    );
    for f in &failures {
        eprintln!("  FAIL {f}");
    }
    for (cause, n) in &causes {
        eprintln!("  {n:4}  {cause}");
    }
    assert!(
        pass_core >= MIN_PASSING,
        "{pass_core} non-evader cases pass, fewer than {MIN_PASSING}"
    );
}
