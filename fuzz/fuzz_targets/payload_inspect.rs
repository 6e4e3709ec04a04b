#![no_main]
//! Any bytes as the payload of TCP and UDP packets, both directions of one flow, through the
//! payload detector (Heartbleed, executables, shells, mining) and a rule set using the
//! position keywords (byte_test, byte_jump, isdataat, startswith/endswith, bsize) and the HTTP
//! and TLS buffers: nothing panics, whatever the bytes.

use netsec_core::behaviour::{PayloadConfig, PayloadDetector};
use netsec_core::decode::{IpPacket, IpProtocol, L2Info, PacketMeta, TcpFlags};
use netsec_core::detect::{Detector, PacketView};
use netsec_core::flow::{Direction, FlowContext};
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};
use netsec_core::time::Timestamp;

const RULES: &str = r#"
alert tcp any any -> any any (content:"A"; byte_test:2,>,10,0,relative; byte_jump:1,0,relative,multiplier 2,align; isdataat:1,relative; sid:1;)
alert tcp any any -> any any (byte_test:4,=,12,1,string,dec; byte_jump:2,1,little,from_end,post_offset -3; content:"Z"; within:2; sid:2;)
alert tcp any any -> any any (http.header_names; content:"|0d 0a|Host|0d 0a|"; http.uri; content:"/"; startswith; urilen:>1; sid:3;)
alert tcp any any -> any any (http.stat_code; content:"200"; bsize:3; ja3.hash; bsize:32; sid:4;)
alert udp any any -> any any (dns.query; dotprefix; content:".example"; endswith; sid:5;)
"#;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut payload = PayloadDetector::new(&PayloadConfig::default()).expect("defaults");
    let mut rules = RuleDetector::new(RuleSet::from_text(RULES, &RuleVars::default()));
    let mut out = Vec::new();
    for (i, udp) in [(0u8, false), (1, false), (2, true)] {
        let mut meta = PacketMeta {
            ts: Timestamp::from_micros(i64::from(i)),
            src_addr: [10, 0, 0, 1].into(),
            dst_addr: [10, 0, 0, 2].into(),
            src_port: 4000,
            dst_port: if udp { 53 } else { 443 },
            protocol: if udp {
                IpProtocol::UDP
            } else {
                IpProtocol::TCP
            },
            icmp_type: 0,
            icmp_code: 0,
            tcp_flags: TcpFlags(if udp {
                0
            } else {
                TcpFlags::ACK | TcpFlags::PSH
            }),
            tcp_window: 512,
            tcp_seq: 0,
            tcp_ack: 0,
            tcp_urgent: 0,
            payload_len: data.len() as u32,
            ip_len: 40 + data.len() as u32,
            ttl: 64,
            fragment: None,
            tunnel: None,
            events: netsec_core::decode::DecodeEvents::NONE,
        };
        meta.tcp_seq = u32::from(i) * 1000;
        let ip = IpPacket {
            meta,
            payload: data,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        let flow = FlowContext {
            flow_id: 1,
            direction: if i == 1 {
                Direction::Backward
            } else {
                Direction::Forward
            },
            packets: u64::from(i) + 1,
            established: true,
            new_flow: i == 0,
            first_in_direction: i < 2,
            retransmission: false,
            closed: false,
            gap_us: 0,
            sender_reset: false,
            rst_out_of_window: false,
            ack_out_of_sync: false,
            app_proto: netsec_core::app::AppProto::Unknown,
            midstream: false,
            age_us: 0,
            sent_bytes: [0; 2],
            side_packets: [0; 2],
            frame_bytes: [0; 2],
        };
        payload.on_packet(&PacketView::Ip(&ip), Some(&flow), &mut out);
        rules.on_packet(&PacketView::Ip(&ip), Some(&flow), &mut out);
        rules.on_packet(&PacketView::Ip(&ip), None, &mut out);
    }
});
