//! `netsec flows` end to end: output shape, determinism, damaged captures, exit codes.

use crate::support::{netsec, repo};
use std::process::Command;

#[test]
fn bundled_sample_gives_csv_with_the_spec_header() {
    let out = netsec(&["flows", "samples/synthetic.pcap"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 csv");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("flow_id,first_ts,last_ts,src_ip,src_port,dst_ip,dst_port,protocol,end_reason,flow_duration,"));
    assert!(header.contains(",syn_flag_cnt,psh_flag_cnt,app_proto,dns_query,"));
    assert!(header.ends_with(",ssh_server,dhcp_hostname"));
    let rows: Vec<&str> = lines.collect();
    // The generator's sidecar says 976 flows were started; every one is exported once.
    assert_eq!(rows.len(), 976);
    assert!(rows.iter().all(|r| r.split(',').count() == 34 + 1 + 17));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3000 packets"), "summary: {stderr}");
    assert!(stderr.contains("packets/s"), "summary: {stderr}");
}

#[test]
fn same_input_same_bytes_in_both_formats() {
    for format in ["csv", "jsonl"] {
        let a = netsec(&["flows", "samples/synthetic.pcap", "--format", format]);
        let b = netsec(&["flows", "samples/synthetic.pcap", "--format", format]);
        assert!(a.status.success());
        assert!(!a.stdout.is_empty());
        assert_eq!(a.stdout, b.stdout, "{format} output differs between runs");
    }
}

#[test]
fn jsonl_lines_parse_and_carry_every_feature() {
    let out = netsec(&["flows", "samples/synthetic.pcap", "--format", "jsonl"]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for line in text.lines().take(50) {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid JSON line");
        let obj = v.as_object().expect("object");
        // 34 columns and app_proto, then only the application facts the flow has.
        assert!(obj.len() >= 35);
        assert!(obj["app_proto"].is_string());
        assert!(obj["flow_duration"].is_number());
        assert!(obj["src_ip"].is_string());
    }
}

/// `../shared/data/pcaps/<rel>` (relative to the repo root), or `None` after saying why.
fn corpus(rel: &str) -> Option<String> {
    let p = repo().join("../shared/data/pcaps").join(rel);
    if p.is_file() {
        Some(p.to_string_lossy().into_owned())
    } else {
        eprintln!("SKIP: {} not found", p.display());
        None
    }
}

#[test]
fn application_facts_in_flows_and_no_app_turns_them_off() {
    let Some(tls) = corpus("benign/tls_443_curl.pcap") else {
        return;
    };
    let out = netsec(&["flows", &tls, "--format", "jsonl"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let flows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    // tshark: SNI www.ntop.org, ALPN h2,http/1.1, JA3 2a26b1a6…; ServerHello cipher 0xc02f.
    let tls_flow = flows
        .iter()
        .find(|f| f["app_proto"] == "tls")
        .expect("a TLS flow");
    assert_eq!(tls_flow["tls_sni"], "www.ntop.org");
    assert_eq!(tls_flow["tls_alpn"], "h2,http/1.1");
    assert_eq!(tls_flow["tls_ja3"], "2a26b1a62e40d25d4de3babc9d532f30");
    assert_eq!(tls_flow["tls_cipher"], "0xc02f");
    assert_eq!(tls_flow["tls_version"], "TLS 1.2");
    let off = netsec(&["flows", &tls, "--format", "jsonl", "--no-app"]);
    let text = String::from_utf8(off.stdout).expect("utf-8");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert_eq!(v["app_proto"], "unknown");
        assert!(v.get("tls_sni").is_none());
    }
    let Some(http) = corpus("benign/http_google.pcapng") else {
        return;
    };
    let out = netsec(&["flows", &http]);
    let csv = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        csv.lines()
            .any(|l| l.contains(",http,") && l.contains("google")),
        "{csv}"
    );
}

#[test]
fn stdin_and_file_give_the_same_flows() {
    let file = netsec(&["flows", "samples/synthetic.pcap"]);
    let piped = Command::new(env!("CARGO_BIN_EXE_netsec"))
        .args(["flows", "-"])
        .current_dir(repo())
        .stdin(std::fs::File::open(repo().join("samples/synthetic.pcap")).expect("sample"))
        .output()
        .expect("run netsec");
    assert!(piped.status.success());
    assert_eq!(file.stdout, piped.stdout);
}

#[test]
fn truncated_capture_keeps_earlier_flows_and_exits_2() {
    // Cut the bundled sample in the middle of a record.
    let bytes = std::fs::read(repo().join("samples/synthetic.pcap")).expect("sample");
    let cut = bytes.len() / 2 + 7;
    let dir = std::env::temp_dir().join(format!("netsec-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("cut.pcap");
    std::fs::write(&path, &bytes[..cut]).expect("write cut capture");
    let out_csv = dir.join("flows.csv");
    let out = netsec(&[
        "flows",
        path.to_str().expect("utf-8 path"),
        "--output",
        out_csv.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cut.pcap"),
        "error names the file: {stderr}"
    );
    assert!(
        stderr.contains("byte offset"),
        "error names the offset: {stderr}"
    );
    let written = std::fs::read_to_string(&out_csv).expect("flows written");
    let rows = written.lines().count() - 1;
    assert!(rows > 100, "flows before the damage are written ({rows})");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_options_and_missing_files_exit_2() {
    assert_eq!(
        netsec(&["flows", "samples/synthetic.pcap", "--idle-timeout", "-1"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        netsec(&["flows", "no/such/file.pcap"]).status.code(),
        Some(2)
    );
    assert_eq!(netsec(&["flows", "README.md"]).status.code(), Some(2));
}
