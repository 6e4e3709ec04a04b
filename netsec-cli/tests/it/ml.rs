//! `netsec train`, `netsec eval` and `netsec analyze --model` end to end, on the real CIC
//! sample, real captures and the shipped models.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{self, netsec, path_str as s, repo};

fn scratch(test: &str) -> PathBuf {
    support::scratch("ml", test)
}

/// `../shared/data/<rel>` (relative to the repo, as the CLI sees it), or `None` after printing
/// why the test skips.
fn shared(rel: &str) -> Option<String> {
    let rel = format!("../shared/data/{rel}");
    if repo().join(&rel).exists() {
        Some(rel)
    } else {
        eprintln!("SKIP: {rel} not found (../shared/data absent)");
        None
    }
}

const CIC: &str = "flows/cicids2017_improved_rnd2500";

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read JSON")).expect("valid JSON")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An isolation forest trained in `dir` on the CIC sample's benign and DDoS rows (seed 42),
/// with its held-out report; `None` when the sample is absent.
fn cic_iforest(dir: &Path) -> Option<(PathBuf, PathBuf, String)> {
    let cic = shared(CIC)?;
    let model = dir.join("iforest.json");
    let report = dir.join("iforest.eval.json");
    let benign = format!("{cic}/BENIGN_2500.csv");
    let ddos = format!("{cic}/DDoS_2500.csv");
    let o = netsec(&[
        "train",
        "iforest",
        "--csv",
        &benign,
        &ddos,
        "--seed",
        "42",
        "--trees",
        "20",
        "--out",
        s(&model),
        "--report",
        s(&report),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    Some((model, report, cic))
}

#[test]
fn eval_scores_only_the_held_out_part_of_the_training_data() {
    let dir = scratch("eval-held-out");
    let Some((model, committed, cic)) = cic_iforest(&dir) else {
        return;
    };
    let (benign, ddos) = (
        format!("{cic}/BENIGN_2500.csv"),
        format!("{cic}/DDoS_2500.csv"),
    );
    let out = dir.join("eval.json");
    let o = netsec(&[
        "eval",
        "--model",
        s(&model),
        "--csv",
        &benign,
        &ddos,
        "--json",
        s(&out),
        "--seed",
        "42",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("held-out split (seed 42)"), "{text}");
    assert!(text.contains("true \\ predicted"), "{text}");
    // The report train wrote is what eval prints, figure for figure.
    let got = json(&out);
    assert_eq!(got, json(&committed));
    assert_eq!(got["rows"], 1000);
    assert!(got["binary"]["roc_auc"].as_f64().is_some_and(|a| a > 0.8));
    assert_eq!(
        got["classification"]["confusion"]["classes"],
        serde_json::json!(["BENIGN", "ANOMALY"])
    );
}

#[test]
fn eval_refuses_training_rows() {
    let dir = scratch("eval-refuses");
    let Some((model, _, cic)) = cic_iforest(&dir) else {
        return;
    };
    let (benign, ddos) = (
        format!("{cic}/BENIGN_2500.csv"),
        format!("{cic}/DDoS_2500.csv"),
    );
    // Part of the training data is not "separate" data and not the training data either.
    let o = netsec(&["eval", "--model", s(&model), "--csv", &ddos]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not the model's training data"),
        "{}",
        stderr(&o)
    );
    // The training data declared separate.
    let o = netsec(&[
        "eval",
        "--model",
        s(&model),
        "--csv",
        &benign,
        &ddos,
        "--separate",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("this is the model's training data"),
        "{}",
        stderr(&o)
    );
    // Another split seed.
    let o = netsec(&[
        "eval",
        "--model",
        s(&model),
        "--csv",
        &benign,
        &ddos,
        "--seed",
        "7",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("differs from the model's split seed 42"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn train_and_eval_by_capture() {
    let names = [
        "pcaps/benign/http_ipv6.pcap",
        "pcaps/benign/ftp_session.pcap",
        "pcaps/benign/dns_doh.pcap",
        "pcaps/benign/gnutella.pcap",
        "pcaps/attacks/scan_icmp.pcap",
        "pcaps/attacks/portscan_masscan_tcp.pcap",
    ];
    let Some(captures) = names
        .iter()
        .map(|n| shared(n))
        .collect::<Option<Vec<String>>>()
    else {
        return;
    };
    let dir = scratch("by-capture");
    let labels = dir.join("labels.toml");
    std::fs::write(
        &labels,
        "[[label]]\nlabel = \"Portscan\"\ncapture = \"scan_icmp.pcap\"\nsrc = \"10.0.0.128\"\n\n\
         [[label]]\nlabel = \"Portscan\"\ncapture = \"portscan_masscan_tcp.pcap\"\nsrc = \"172.31.15.102\"\n",
    )
    .expect("write labels");
    let (model, report, md) = (
        dir.join("m.json"),
        dir.join("m.eval.json"),
        dir.join("m.md"),
    );
    let mut args = vec!["train", "rf", "--captures"];
    args.extend(captures.iter().map(String::as_str));
    args.extend([
        "--labels",
        s(&labels),
        "--folds",
        "2",
        "--trees",
        "10",
        "--seed",
        "3",
        "--out",
        s(&model),
        "--report",
        s(&report),
        "--markdown",
        s(&md),
    ]);
    let o = netsec(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&report);
    // Every capture is reported once, in one of the two folds.
    let rows = r["captures"].as_array().expect("captures");
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|c| c["fold"] == 0 || c["fold"] == 1));
    let scans: Vec<&serde_json::Value> =
        rows.iter().filter(|c| c["family"] == "Portscan").collect();
    assert_eq!(scans.len(), 2);
    assert_ne!(
        scans[0]["fold"], scans[1]["fold"],
        "one scan capture per fold"
    );
    assert_eq!(r["benign_captures"]["total"], 4);
    assert_eq!(r["attack_captures"]["total"], 2);
    let m = json(&model);
    let cal = &m["training"]["calibration"];
    assert_eq!(cal["folds"], 2);
    assert_eq!(cal["threshold"], m["thresholds"]["alert"]);
    assert_eq!(cal["threshold"], r["threshold"]);
    assert_eq!(
        m["training"]["feature_bins"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(netsec_ml::inputs::INPUT_COUNT)
    );
    let table = std::fs::read_to_string(&md).expect("markdown");
    assert!(table.contains("| scan_icmp.pcap |"), "{table}");

    // eval --by-capture repeats the grouped evaluation from the model's recipe.
    let again = dir.join("again.json");
    let mut args = vec!["eval", "--by-capture", "--model", s(&model), "--captures"];
    args.extend(captures.iter().map(String::as_str));
    args.extend(["--labels", s(&labels), "--json", s(&again)]);
    let o = netsec(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&again), r);

    // A model not trained by capture is refused without --separate.
    let other = dir.join("plain.json");
    let o = netsec(&[
        "train",
        "rf",
        "--captures",
        &captures[4],
        &captures[0],
        "--labels",
        s(&labels),
        "--trees",
        "3",
        "--out",
        s(&other),
        "--test-fraction",
        "0.5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut args = vec!["eval", "--by-capture", "--model", s(&other), "--captures"];
    args.extend(captures.iter().map(String::as_str));
    args.extend(["--labels", s(&labels)]);
    let o = netsec(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("was not trained by capture"),
        "{}",
        stderr(&o)
    );
    // With --separate it scores every capture with the model as it is.
    args.push("--separate");
    let o = netsec(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("| gnutella.pcap |"));
}

#[test]
fn train_from_csv_then_eval_reproduces_the_report() {
    let Some(cic) = shared(CIC) else { return };
    let dir = scratch("train-csv");
    let benign = format!("{cic}/BENIGN_2500.csv");
    let ddos = format!("{cic}/DDoS_2500.csv");
    let scan = format!("{cic}/Portscan_2500.csv");
    let (model, report, again) = (dir.join("m.json"), dir.join("r.json"), dir.join("e.json"));
    let cv = dir.join("cv.json");
    let o = netsec(&[
        "train",
        "rf",
        "--csv",
        &benign,
        &ddos,
        &scan,
        "--out",
        s(&model),
        "--report",
        s(&report),
        "--seed",
        "3",
        "--test-fraction",
        "0.3",
        "--trees",
        "10",
        "--date",
        "2026-01-01",
        "--cv",
        "3",
        "--cv-report",
        s(&cv),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("5250 training rows, 2250 held out"), "{text}");
    assert!(
        text.contains("cross-validation (3 folds of the 5250 training rows)"),
        "{text}"
    );
    let cv = json(&cv);
    assert_eq!(cv["folds"].as_array().map(Vec::len), Some(3));
    assert_eq!(cv["folds"][0]["test_rows"], 1750);
    assert!(
        cv["macro_f1"]["mean"].as_f64().is_some_and(|f| f > 0.9),
        "{cv}"
    );
    let r = json(&report);
    assert!(
        r["classification"]["macro_f1"]
            .as_f64()
            .is_some_and(|f| f > 0.9),
        "{r}"
    );
    let m = json(&model);
    assert_eq!(m["training"]["date"], "2026-01-01");
    assert_eq!(m["training"]["rows"]["test"]["DDoS"], 750);

    let o = netsec(&[
        "eval",
        "--model",
        s(&model),
        "--csv",
        &benign,
        &ddos,
        &scan,
        "--json",
        s(&again),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&again), r);
}

#[test]
fn train_from_captures_and_labels() {
    let (Some(ftp), Some(scan), Some(benign)) = (
        shared("pcaps/attacks/bruteforce_ftp.pcap"),
        shared("pcaps/attacks/portscan_nmap_80_all.pcap"),
        shared("pcaps/benign/http_ipv6.pcap"),
    ) else {
        return;
    };
    let dir = scratch("train-captures");
    let labels = dir.join("labels.csv");
    std::fs::write(
        &labels,
        "label,src,dst,dst_port,protocol\nFTP-Patator,192.168.56.1,,21,tcp\nPortscan,10.87.1.10,130.211.223.103,,tcp\n",
    )
    .expect("write labels");
    let model = dir.join("m.json");
    let o = netsec(&[
        "train",
        "rf",
        "--captures",
        &ftp,
        &scan,
        &benign,
        "--labels",
        s(&labels),
        "--out",
        s(&model),
        "--trees",
        "5",
        "--test-fraction",
        "0.3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("labelled 81 flows from 3 captures"),
        "{}",
        stderr(&o)
    );
    let m = json(&model);
    assert_eq!(m["training"]["rows"]["test"]["FTP-Patator"], 9);
    assert!(m["training"]["source"]
        .as_str()
        .is_some_and(|s| s.contains("labels.csv")));

    // Evaluating on the same captures and labels scores the held-out flows only.
    let report = dir.join("eval.json");
    let o = netsec(&[
        "eval",
        "--model",
        s(&model),
        "--captures",
        &ftp,
        &scan,
        &benign,
        "--labels",
        s(&labels),
        "--json",
        s(&report),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&report);
    assert_eq!(r["rows"], 25); // 9 + 11 + 5 of 30 + 35 + 16
    assert_eq!(r["evaluated"]["held_out"]["of_rows"], 81);

    // A bad label file names its line.
    std::fs::write(&labels, "label,dst_port\nx,21\ny,http\n").expect("write labels");
    let o = netsec(&[
        "train",
        "rf",
        "--captures",
        &ftp,
        "--labels",
        s(&labels),
        "--out",
        s(&model),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("labels.csv:3: dst_port"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn analyze_with_models_alerts_through_the_sinks() {
    let (Some(scan), Some(ftp)) = (
        shared("pcaps/attacks/scan_icmp.pcap"),
        shared("pcaps/attacks/bruteforce_ftp.pcap"),
    ) else {
        return;
    };
    let o = netsec(&[
        "analyze",
        "--no-default-rules",
        "--format",
        "jsonl",
        "--model",
        "models/rf-default.json",
        "--model",
        "models/iforest-default.json",
        &scan,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("model rf-default 3 (random_forest"),
        "{}",
        stderr(&o)
    );
    let alerts: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let ml: Vec<&serde_json::Value> = alerts
        .iter()
        .filter(|a| a["meta"]["model_name"] == "rf-default")
        .collect();
    // The ICMP sweep's 512 flows (a capture the shipped forest trained on) come out as one
    // episode alert from the scanner, named by the majority of its flows' votes.
    assert_eq!(ml.len(), 1, "{ml:?}");
    let a = ml[0];
    assert_eq!(a["detector"], "random_forest");
    assert_eq!(a["attack_type"], "Portscan");
    assert_eq!(a["src_ip"], "10.0.0.128");
    assert_eq!(a["meta"]["model_version"], "3");
    assert_eq!(a["meta"]["episode"]["key"], "src");
    let flows = a["meta"]["episode"]["flows"]
        .as_u64()
        .expect("episode flows");
    assert!(flows >= 400, "{a}");
    assert!(a["meta"]["episode"]["classes"]["Portscan"].as_u64() > Some(flows / 2));
    assert!(a["meta"]["confidence"].as_f64().is_some_and(|c| c >= 0.5));
    assert!(a["meta"]["top_features"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    // A model file that is not one is refused before any output.
    let o = netsec(&["analyze", "--model", "models/train.sh", &ftp]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains("cannot load model models/train.sh"),
        "{}",
        stderr(&o)
    );
}
