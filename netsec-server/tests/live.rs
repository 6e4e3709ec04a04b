//! Live capture in a network namespace of our own (feature `live`, root): a veth pair, a
//! TCP port scan sent from inside the namespace, and the server capturing on the host end
//! sees the flows and raises the port-scan alert.
#![cfg(feature = "live")]

mod common;

use std::process::Command;
use std::time::Duration;

use netsec_server::engine::SourceSpec;
use netsec_server::storage::{AlertQuery, FlowQuery};

fn sh(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .status()
        .is_ok_and(|s| s.success())
}

/// Removes the namespace and the host end of the pair when the test ends, even on failure.
struct Netns {
    ns: String,
    host: String,
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = sh(&["ip", "link", "del", &self.host]);
        let _ = sh(&["ip", "netns", "del", &self.ns]);
    }
}

fn root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn a_scan_inside_a_namespace_is_seen_live() {
    if !root() || !sh(&["ip", "-V"]) {
        eprintln!("skipped: needs root and iproute2 to make a network namespace");
        return;
    }
    let id = std::process::id() % 100_000;
    let net = Netns {
        ns: format!("netsec-t{id}"),
        host: format!("nsh{id}"),
    };
    let peer = format!("nsp{id}");
    let ns = net.ns.as_str();
    for cmd in [
        vec!["ip", "netns", "add", ns],
        vec![
            "ip", "link", "add", &net.host, "type", "veth", "peer", "name", &peer,
        ],
        vec!["ip", "link", "set", &peer, "netns", ns],
        vec!["ip", "addr", "add", "10.213.7.1/24", "dev", &net.host],
        vec!["ip", "link", "set", &net.host, "up"],
        vec![
            "ip",
            "netns",
            "exec",
            ns,
            "ip",
            "addr",
            "add",
            "10.213.7.2/24",
            "dev",
            &peer,
        ],
        vec!["ip", "netns", "exec", ns, "ip", "link", "set", &peer, "up"],
        vec!["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"],
    ] {
        assert!(sh(&cmd), "{cmd:?}");
    }
    let dir = common::scratch("live");
    let mut config = common::config(&dir);
    config.sensor.flow.idle_timeout_us = 2_000_000;
    let state = common::state(config);
    let spec = SourceSpec::Live {
        interface: net.host.clone(),
        bpf: Some("tcp or arp".into()),
    };
    state
        .capture
        .start(&spec, &state.sensor_config())
        .expect("captures on the veth");
    std::thread::sleep(Duration::from_millis(500));
    // A connect scan of 60 ports from the namespace; closed ports answer RST.
    let scan = "for p in $(seq 1 60); do (exec 3<>/dev/tcp/10.213.7.1/$p) 2>/dev/null; done; true";
    assert!(
        sh(&["ip", "netns", "exec", ns, "bash", "-c", scan]),
        "scan ran"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(state.capture.stop(), "the capture was running");
    let stats = state.capture.stats();
    let kernel = stats
        .kernel_packets
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        kernel >= 100,
        "libpcap counted the scan's packets ({kernel})"
    );
    let (flows, alerts) = state
        .db
        .change_blocking(|s| {
            let (flows, _) = s.flows_within(&FlowQuery::default(), Duration::from_secs(5))?;
            Ok((flows, s.alerts(&AlertQuery::default())?))
        })
        .expect("reads");
    let scanned: std::collections::BTreeSet<u16> = flows
        .iter()
        .filter(|f| f.src_ip.to_string() == "10.213.7.2")
        .map(|f| f.dst_port)
        .collect();
    assert!(scanned.len() >= 50, "flows to {} ports", scanned.len());
    assert!(
        alerts.iter().any(|a| a.attack_type == "Port_Scan"
            && a.src_ip.is_some_and(|ip| ip.to_string() == "10.213.7.2")),
        "a port-scan alert from the namespace: {alerts:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
