//! The Emerging Threats Open set beside Suricata 7.0.10: every shared capture Suricata
//! processed, run through reader → decode → flow table → `RuleDetector` with
//! `../shared/data/rules/etopen/all.rules`, and the (capture, sid) pairs compared with
//! `../shared/data/groundtruth/etopen-suricata/pairs.tsv` on the rules we load, with
//! sessions joined midstream treated as Suricata's defaults treat them (netsec takes them up
//! by default; see `RuleDetectorConfig::midstream`).
//!
//! Every pair we miss or add is listed with its reason in [`KNOWN_MISSES`] and
//! [`KNOWN_EXTRAS`]; a pair outside those lists fails the test, so a regression (or a fix)
//! shows up by name. Targets: recall at least 0.95 and precision at least 0.98.

use std::collections::{BTreeMap, BTreeSet};

use netsec_core::rules::{RuleDetector, RuleDetectorConfig, RuleSet, RuleVars};

use crate::rules::run;
use crate::util;

/// Pairs Suricata raises and we do not, with why.
const KNOWN_MISSES: &[(&str, u64, &str)] = &[(
    "benign/telnet.pcap",
    2068415,
    "stream reassembly: Suricata matched `|ff fa 22|` then `|ff f0|` 109 bytes on across \
     segments of the reassembled client stream, at flow timeout (pkt_src \
     `stream (flow timeout)`); no single segment holds both",
)];

/// Pairs we raise and Suricata does not, with why.
const KNOWN_EXTRAS: &[(&str, u64, &str)] = &[];

#[test]
fn etopen_pairs_match_suricata() {
    let Some(data) = util::data_dir() else {
        eprintln!("SKIP etopen_pairs_match_suricata: ../shared/data not found");
        return;
    };
    let truth = data.join("groundtruth/etopen-suricata");
    let text = std::fs::read_to_string(data.join("rules/etopen/all.rules")).expect("all.rules");
    let started = std::time::Instant::now();
    let set = RuleSet::from_text(&text, &RuleVars::default());
    eprintln!(
        "etopen: {} in {:.2} s",
        set.summary(),
        started.elapsed().as_secs_f64()
    );
    // Suricata 7.0.10 accepts every rule of the set: none may be called malformed here.
    let malformed: Vec<String> = set
        .summary()
        .warnings
        .iter()
        .filter(|w| matches!(w.reason, netsec_core::rules::SkipReason::Malformed(_)))
        .map(ToString::to_string)
        .collect();
    assert!(
        malformed.is_empty(),
        "rules Suricata accepts: {malformed:#?}"
    );
    let loaded: BTreeSet<u64> = set.rules().filter_map(|r| r.sid()).collect();

    // Captures Suricata processed in full.
    let summary = std::fs::read_to_string(truth.join("summary.tsv")).expect("summary.tsv");
    let captures: Vec<String> = summary
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() > 1 && f[1] == "ok").then(|| f[0].to_string())
        })
        .collect();
    let pairs = std::fs::read_to_string(truth.join("pairs.tsv")).expect("pairs.tsv");
    let expected: BTreeSet<(String, u64)> = pairs
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some((f.first()?.to_string(), f.get(1)?.parse().ok()?))
        })
        .filter(|(_, sid)| loaded.contains(sid))
        .collect();

    let mut ours: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut counts: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for capture in &captures {
        // As Suricata ran for the ground truth: its default `stream.midstream: false`.
        let config = RuleDetectorConfig {
            midstream: false,
            ..RuleDetectorConfig::default()
        };
        let mut d = RuleDetector::with_config(set.clone(), config);
        for a in run(&data.join("pcaps").join(capture), &mut d) {
            if let Some(sid) = a.meta_u64("sid") {
                ours.insert((capture.clone(), sid));
                *counts.entry((capture.clone(), sid)).or_default() += 1;
            }
        }
    }
    // Alert counts per shared pair, a secondary measure (Suricata also counts matches on
    // the reassembled stream, which a packet engine cannot).
    let suricata_counts: BTreeMap<(String, u64), usize> = pairs
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some((
                (f.first()?.to_string(), f.get(1)?.parse().ok()?),
                f.get(2)?.parse().ok()?,
            ))
        })
        .collect();
    let mut same_count = 0;
    for pair in expected.intersection(&ours) {
        let (theirs, mine) = (suricata_counts[pair], counts[pair]);
        if theirs == mine {
            same_count += 1;
        } else {
            eprintln!(
                "  count {} {}: Suricata {theirs}, netsec {mine}",
                pair.0, pair.1
            );
        }
    }
    eprintln!(
        "etopen: {same_count} of {} shared pairs have Suricata's exact alert count",
        expected.intersection(&ours).count()
    );
    let hit = expected.intersection(&ours).count();
    let recall = hit as f64 / expected.len().max(1) as f64;
    let precision = hit as f64 / ours.len().max(1) as f64;
    eprintln!(
        "etopen: {} captures, {} of Suricata's pairs on loaded rules, {} ours, {} shared: \
         recall {recall:.3}, precision {precision:.3}",
        captures.len(),
        expected.len(),
        ours.len(),
        hit
    );
    let mut unexplained = Vec::new();
    for (c, sid) in expected.difference(&ours) {
        let known = KNOWN_MISSES.iter().any(|k| k.0 == c && k.1 == *sid);
        eprintln!("  miss  {c} {sid}{}", if known { " (known)" } else { "" });
        if !known {
            unexplained.push(format!("miss {c} {sid}"));
        }
    }
    for (c, sid) in ours.difference(&expected) {
        let known = KNOWN_EXTRAS.iter().any(|k| k.0 == c && k.1 == *sid);
        eprintln!(
            "  extra {c} {sid} ({} alerts){}",
            counts[&(c.clone(), *sid)],
            if known { " (known)" } else { "" }
        );
        if !known {
            unexplained.push(format!("extra {c} {sid}"));
        }
    }
    assert!(unexplained.is_empty(), "unexplained: {unexplained:?}");
    assert!(recall >= 0.95, "recall {recall:.3}");
    assert!(precision >= 0.98, "precision {precision:.3}");
}
