//! `netsec devices` end to end: table and JSON on a real DHCP capture, output file, exit codes.

use crate::support::{netsec, repo};

const DHCP: &str = "../shared/data/pcaps/benign/dhcp.pcap";

fn corpus() -> bool {
    let ok = repo().join(DHCP).is_file();
    if !ok {
        eprintln!("SKIP: {DHCP} not found");
    }
    ok
}

#[test]
fn table_lists_the_dhcp_client_with_vendor_and_name() {
    if !corpus() {
        return;
    }
    let out = netsec(&["devices", DHCP]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("IP  "), "{header}");
    let client = lines
        .find(|l| l.starts_with("128.2.6.189 "))
        .expect("client row");
    for cell in ["90:b1:1c:99:49:29", "Dell Inc.", "btest.is.cool"] {
        assert!(client.contains(cell), "{client}");
    }
    // Columns line up: every row has the MAC column where the header has it.
    let col = header.find("MAC").expect("MAC column");
    assert_eq!(client.find("90:b1"), Some(col));
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 hosts"));
}

#[test]
fn json_to_a_file() {
    if !corpus() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("netsec-devices-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("hosts.json");
    let file_arg = file.to_str().expect("utf-8 path");
    let out = netsec(&["devices", DHCP, "--format", "json", "--output", file_arg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("json");
    let hosts = doc["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 3);
    let client = hosts
        .iter()
        .find(|h| h["ip"] == "128.2.6.189")
        .expect("client");
    assert_eq!(client["mac"], "90:b1:1c:99:49:29");
    assert_eq!(client["hostnames"][0]["name"], "btest.is.cool");
    assert_eq!(client["hostnames"][0]["source"], "dhcp");
    assert_eq!(client["first_seen"], "2013-06-02T19:14:04.371332Z");
    assert_eq!(doc["stats"]["dropped_hosts"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_exits_2() {
    let out = netsec(&["devices", "Cargo.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = netsec(&["devices", "samples/synthetic.pcap", "--max-hosts", "0"]);
    assert_eq!(out.status.code(), Some(2));
    // The bundled sample has no MACs (raw IP) but hosts with traffic.
    let out = netsec(&["devices", "samples/synthetic.pcap", "--format", "json"]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(doc["hosts"].as_array().is_some_and(|h| !h.is_empty()));
}
