//! Labelling real captures with a label file.

mod common;

use std::path::Path;

use netsec_core::flow::FlowTableConfig;
use netsec_ml::captures::{load_captures, CaptureLabeller};
use netsec_ml::labels::LabelRules;

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

const LABELS: &str = r#"
# FTP brute force from 192.168.56.1 (attacks/bruteforce_ftp.pcap).
[[label]]
label = "FTP-Patator"
src = "192.168.56.1"
dst_port = 21
protocol = "tcp"

# nmap against 130.211.223.103 (attacks/portscan_nmap_80_all.pcap), TCP only.
[[label]]
label = "Portscan"
src = "10.87.1.0/24"
dst = "130.211.223.103"
protocol = "tcp"

# Never matches: reported with 0 flows.
[[label]]
label = "Nothing"
port = "1-2"
start = "2030-01-01T00:00:00Z"
"#;

#[test]
fn attack_and_benign_captures_are_labelled() -> Result {
    let (Some(ftp), Some(scan), Some(benign)) = (
        common::shared("pcaps/attacks/bruteforce_ftp.pcap"),
        common::shared("pcaps/attacks/portscan_nmap_80_all.pcap"),
        common::shared("pcaps/benign/ftp_session.pcap"),
    ) else {
        return Ok(());
    };
    let rules = LabelRules::from_toml(LABELS, Path::new("labels.toml"))?;
    let captures = [ftp, scan, benign];
    let (data, report) = load_captures(&captures, &rules, FlowTableConfig::default())?;
    let counts: Vec<(String, usize)> = data
        .class_summary()
        .into_iter()
        .map(|c| (c.class, c.rows))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("BENIGN".to_string(), report.unmatched),
            ("FTP-Patator".to_string(), 30),
            ("Portscan".to_string(), 35),
        ]
    );
    assert_eq!(
        report.rules.iter().map(|r| r.flows).collect::<Vec<_>>(),
        vec![30, 35, 0]
    );
    assert_eq!(report.files.len(), 3);
    assert_eq!(report.flows, data.len());
    // The ICMP flow of the scan capture is benign (the rule says tcp), and so is every flow
    // of the benign FTP session.
    let scan_flows = report.files[1].1;
    let benign_flows = report.files[2].1;
    assert_eq!(report.unmatched, (scan_flows - 35) + benign_flows);
    assert!(data.features.iter().all(|v| v.is_finite()));
    // Same inputs, same rows.
    let (again, _) = load_captures(&captures, &rules, FlowTableConfig::default())?;
    assert_eq!(again.digest(), data.digest());
    Ok(())
}

#[test]
fn damaged_capture_is_an_error_naming_it() -> Result {
    let Some(ftp) = common::shared("pcaps/attacks/bruteforce_ftp.pcap") else {
        return Ok(());
    };
    // A real capture cut inside a record.
    let bytes = std::fs::read(&ftp)?;
    let cut = std::env::temp_dir().join(format!("netsec-ml-cut-{}.pcap", std::process::id()));
    std::fs::write(&cut, &bytes[..1000])?;
    let rules = LabelRules::from_csv("label,port\nx,1\n", Path::new("l.csv"))?;
    let result = load_captures(
        std::slice::from_ref(&cut),
        &rules,
        FlowTableConfig::default(),
    );
    let _ = std::fs::remove_file(&cut);
    let err = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        err.starts_with(&format!("{}: truncated capture", cut.display())),
        "error does not name the file and the problem: {err}"
    );
    assert!(err.contains("byte offset"), "{err}");

    // A labeller keeps what it had before the damaged capture (the rollback of rows from
    // a capture that fails after its first batch is a unit test in captures.rs).
    std::fs::write(&cut, &bytes[..1000])?;
    let mut labeller = CaptureLabeller::new(&rules, FlowTableConfig::default());
    labeller.add_file(&ftp, &mut |_| {})?;
    assert!(labeller.add_file(&cut, &mut |_| {}).is_err());
    let _ = std::fs::remove_file(&cut);
    let (data, report) = labeller.finish();
    assert_eq!(data.len(), 30);
    assert_eq!(report.flows, 30);
    assert_eq!(report.files.len(), 1);
    Ok(())
}
