//! The host inventory on real captures; expected values from tshark 4.0.17 on the same files
//! (the commands are quoted next to each value).

use std::net::IpAddr;

use netsec_core::capture::PcapReader;
use netsec_core::inventory::{Host, Inventory, InventoryConfig, NameSource};

use crate::util;

fn inventory(rel: &str, config: InventoryConfig) -> Option<Inventory> {
    let path = util::pcap(rel)?;
    let mut inv = Inventory::new(config);
    inv.read_capture(PcapReader::open(path).expect("open"))
        .expect("capture reads");
    Some(inv)
}

fn host<'a>(hosts: &'a [Host], ip: &str) -> &'a Host {
    let ip: IpAddr = ip.parse().expect("literal");
    hosts
        .iter()
        .find(|h| h.ip == ip)
        .unwrap_or_else(|| panic!("{ip} not in the inventory"))
}

fn names(h: &Host) -> Vec<(&str, NameSource)> {
    h.hostnames
        .iter()
        .map(|n| (n.name.as_str(), n.source))
        .collect()
}

#[test]
fn dhcp_lease_names_the_client() {
    let Some(inv) = inventory("benign/dhcp.pcap", InventoryConfig::default()) else {
        return;
    };
    let hosts = inv.hosts();
    // tshark -Y 'dhcp.option.dhcp == 5' -T fields -e dhcp.ip.your -e dhcp.hw.mac_addr
    //   -> 128.2.6.189  90:b1:1c:99:49:29; the REQUESTs carry dhcp.option.hostname btest.is.cool.
    let client = host(&hosts, "128.2.6.189");
    assert_eq!(client.mac.as_deref(), Some("90:b1:1c:99:49:29"));
    assert_eq!(client.vendor.as_deref(), Some("Dell Inc."));
    assert_eq!(names(client), [("btest.is.cool", NameSource::Dhcp)]);
    // The server (dhcp.option.dhcp_server_id 128.2.6.152) sends from 00:0c:29:40:0e:ef, TTL 128.
    let server = host(&hosts, "128.2.6.152");
    assert_eq!(server.mac.as_deref(), Some("00:0c:29:40:0e:ef"));
    assert_eq!(server.vendor.as_deref(), Some("VMware, Inc."));
    assert_eq!(server.os.initial_ttl, Some(128));
    assert_eq!(server.packets_sent, 3);
    assert_eq!(server.services, ["udp/67"]);
}

#[test]
fn home_network_hosts_services_names_and_traffic() {
    let Some(inv) = inventory("benign/app_android.pcap", InventoryConfig::default()) else {
        return;
    };
    let hosts = inv.hosts();
    let phone = host(&hosts, "192.168.2.16");
    assert_eq!(phone.mac.as_deref(), Some("4c:6a:f6:9f:f6:27"));
    assert_eq!(phone.vendor.as_deref(), Some("HMD Global Oy"));
    // tshark -Y 'ip.src==192.168.2.16' -> 228 packets, sum(ip.len) 29202; plus 1 ARP
    // (arp.src.proto_ipv4==192.168.2.16), counted as a packet without IP bytes.
    assert_eq!((phone.packets_sent, phone.bytes_sent), (229, 29202));
    // tshark -Y 'ip.dst==192.168.2.16' -> 192 packets, sum(ip.len) 86682.
    assert_eq!((phone.packets_received, phone.bytes_received), (192, 86682));
    // Its SYNs: tcp.window_size_value 65535, ip.ttl 64.
    assert_eq!(
        (phone.os.initial_ttl, phone.os.syn_window),
        (Some(64), Some(65535))
    );
    // The resolver answers on udp/53 from the router MAC, with its own unrouted TTL.
    let router = host(&hosts, "192.168.2.1");
    assert!(router.services.contains(&"udp/53".to_string()));
    assert_eq!(router.mac.as_deref(), Some("c6:2c:03:60:6a:64"));
    assert_eq!(router.vendor.as_deref(), Some("(locally administered)"));
    // A remote NTP server: named by a DNS A answer (dns.a 216.239.35.8 for time.android.com),
    // answered on udp/123, and behind the router so without a MAC.
    let ntp = host(&hosts, "216.239.35.8");
    assert_eq!(names(ntp), [("time.android.com", NameSource::DnsA)]);
    assert_eq!(ntp.services, ["udp/123"]);
    assert_eq!(ntp.mac, None);
    let web = host(&hosts, "172.217.18.3");
    assert_eq!(web.services, ["tcp/443"]);
    assert_eq!(
        names(web),
        [("connectivitycheck.gstatic.com", NameSource::DnsA)]
    );
    // The iMac of the DHCP exchange in the same capture (dhcp.option.hostname Lucas-iMac).
    let imac = host(&hosts, "169.254.225.216");
    assert_eq!(imac.vendor.as_deref(), Some("Apple, Inc."));
    assert_eq!(names(imac)[0], ("Lucas-iMac", NameSource::Dhcp));
    assert_eq!(inv.stats().dropped_hosts, 0);
}

#[test]
fn mdns_answers_name_hosts() {
    let Some(inv) = inventory("benign/app_iphone.pcap", InventoryConfig::default()) else {
        return;
    };
    let hosts = inv.hosts();
    // tshark -Y 'mdns && dns.a' -> Lucas-iMac.local A 169.254.225.216.
    let imac = host(&hosts, "169.254.225.216");
    assert!(
        names(imac).contains(&("Lucas-iMac.local", NameSource::Mdns)),
        "{:?}",
        imac.hostnames
    );
}

#[test]
fn caps_hold_and_count_drops() {
    let config = InventoryConfig {
        max_hosts: 5,
        ..InventoryConfig::default()
    };
    let Some(inv) = inventory("benign/app_android.pcap", config) else {
        return;
    };
    let s = inv.stats();
    assert_eq!(s.hosts, 5);
    assert!(s.dropped_hosts > 0, "{s:?}");
    assert_eq!(inv.hosts().len(), 5);
}

#[test]
fn whole_corpus_never_panics() {
    let Some(rows) = util::manifest() else {
        return;
    };
    let dir = util::pcaps_dir_or_skip("inventory corpus").expect("checked");
    let mut total = 0;
    for row in rows {
        let Ok(reader) = PcapReader::open(dir.join(&row.path)) else {
            continue;
        };
        let mut inv = Inventory::new(InventoryConfig::default());
        let _ = inv.read_capture(reader);
        total += inv.hosts().len();
    }
    assert!(total > 1000, "{total} hosts over the corpus");
}
