//! `threshold.config` semantics against Suricata's own counts: every suricata-verify case that
//! ships a `threshold.config` or uses `threshold`/`detection_filter` in its rules runs through a
//! sensor built from its rules and threshold file, and each alert check
//! (`event_type: alert`, `alert.signature_id`) must give Suricata 7.0.10's exact count.

use std::collections::BTreeMap;
use std::path::Path;

use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::config::SensorConfig;

use crate::util::data_dir;

/// The cases of suricata-verify about thresholds, with their folders.
fn threshold_cases(root: &Path) -> Vec<std::path::PathBuf> {
    let mut cases: Vec<_> = std::fs::read_dir(root)
        .expect("suricata-verify folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|dir| {
            let rules = std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "rules"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .any(|t| t.contains("threshold:") || t.contains("detection_filter:"));
            dir.join("threshold.config").is_file() || rules
        })
        .collect();
    cases.sort();
    cases
}

/// Alerts per signature id of one case.
fn run_case(dir: &Path, expected: &serde_json::Value) -> BTreeMap<u64, u64> {
    let mut config = SensorConfig::default();
    config.rules.bundled = false;
    config.behaviour.port_scan.enabled = false;
    config.behaviour.syn_flood.enabled = false;
    config.behaviour.brute_force.enabled = false;
    config.behaviour.icmp.enabled = false;
    config.behaviour.arp_spoof.enabled = false;
    config.behaviour.amplification.enabled = false;
    config.behaviour.dns_tunnel.enabled = false;
    let rules = expected["rules"].as_str().expect("rules file name");
    config.rules.files.push(dir.join(rules));
    if dir.join("threshold.config").is_file() {
        config.rules.threshold_file = Some(dir.join("threshold.config"));
    }
    let mut sensor = config
        .check()
        .expect("config checks")
        .build()
        .expect("sensor");
    let pcap = expected["pcap"].as_str().expect("pcap file name");
    let file = std::fs::File::open(dir.join(pcap)).expect("capture");
    let mut reader = PcapReader::new(file).expect("capture header");
    while let Ok(Some(raw)) = reader.next_packet() {
        sensor.push(&raw);
    }
    sensor.finish();
    let mut by_sid = BTreeMap::new();
    for a in sensor.drain_alerts() {
        *by_sid.entry(a.meta_u64("sid").unwrap_or(0)).or_default() += 1;
    }
    by_sid
}

#[test]
fn threshold_cases_give_suricatas_counts() {
    let Some(root) = data_dir().map(|d| d.join("suricata-verify")) else {
        eprintln!("SKIP threshold_cases_give_suricatas_counts: ../shared/data not found");
        return;
    };
    let cases = threshold_cases(&root);
    assert!(cases.len() >= 7, "{} threshold cases", cases.len());
    let mut checks = 0;
    for dir in &cases {
        let text = std::fs::read_to_string(dir.join("expected.json")).expect("expected.json");
        let expected: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let got = run_case(dir, &expected);
        let name = dir.display();
        for check in expected["checks"].as_array().expect("checks") {
            let m = &check["match"];
            let only_alert_sid = m.as_object().is_some_and(|o| {
                o.len() == 2 && m["event_type"] == "alert" && m["alert.signature_id"].is_u64()
            });
            if !only_alert_sid {
                continue;
            }
            let sid = m["alert.signature_id"].as_u64().expect("sid");
            let want = check["count"].as_u64().expect("count");
            assert_eq!(
                got.get(&sid).copied().unwrap_or(0),
                want,
                "{name}: sid {sid}"
            );
            checks += 1;
        }
    }
    assert!(checks >= 7, "{checks} checks compared");
}
