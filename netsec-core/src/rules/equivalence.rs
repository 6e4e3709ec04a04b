//! Property: candidate selection loses nothing. For random rule sets and packets, the rules
//! the [`RuleDetector`] matches (content groups, port groups, the address indexes) are
//! exactly those a naive walk over every rule matches, with IP-only rules asked once per
//! flow direction as documented in [`addr_index`](super::addr_index).

use proptest::prelude::*;

use super::addr_index::ip_only;
use super::buffers::AppBuffers;
use super::matcher::rule_matches;
use super::{RuleDetector, RuleSet, RuleVars};
use crate::app::AppProto;
use crate::decode::{IpPacket, IpProtocol, L2Info, PacketMeta, TcpFlags};
use crate::detect::{Detector, PacketView};
use crate::flow::{Direction, FlowContext};
use crate::time::Timestamp;

const HOSTS: [&str; 6] = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.1.7",
    "192.168.1.10",
    "8.8.8.8",
    "2001:db8::1",
];
const NETS: [&str; 9] = [
    "10.0.0.1",
    "10.0.0.2",
    "10.0.1.0/24",
    "10.0.0.0/8",
    "192.168.1.10",
    "8.8.0.0/16",
    "2001:db8::/32",
    "2001:db8::1",
    "!10.0.0.2",
];

fn addr() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("any".to_string()),
        Just("$HOME_NET".to_string()),
        (0..NETS.len() - 1).prop_map(|i| NETS[i].to_string()),
        proptest::collection::vec(0..NETS.len(), 1..5).prop_map(|v| {
            let items: Vec<&str> = v.iter().map(|&i| NETS[i]).collect();
            // A list of only negations means "not these": keep one positive entry.
            format!("[{},{}]", NETS[v[0] % (NETS.len() - 1)], items.join(","))
        }),
    ]
}

fn rule(sid: usize) -> impl Strategy<Value = String> {
    let proto = prop_oneof![Just("ip"), Just("tcp"), Just("udp"), Just("http")];
    let ports = prop_oneof![Just("any"), Just("80"), Just("[53,80]")];
    let dir = prop_oneof![Just("->"), Just("<>")];
    let opts = proptest::collection::vec(
        prop_oneof![
            Just(""),
            Just("flags:S;"),
            Just("content:\"abc\";"),
            Just("dsize:>2;"),
            Just("flow:to_server;"),
            Just("threshold: type limit, track by_src, seconds 60, count 1;"),
            Just("http.header; content:\"abc\";"),
            Just("http.header_names; content:\"|0d 0a|X|0d 0a|\"; pkt_data;"),
            // Transformed buffers: no fast pattern from them.
            Just("to_uppercase; content:\"ABC\";"),
            Just("pkt_data; xor:\"20\"; content:\"ABC\";"),
            Just("http.header; pcrexform:\"(b.)\"; content:\"bc\";"),
        ],
        0..3,
    );
    (proto, addr(), ports.clone(), dir, addr(), ports, opts).prop_map(
        move |(proto, src, sp, dir, dst, dp, opts)| {
            format!(
                "alert {proto} {src} {sp} {dir} {dst} {dp} ({} sid:{sid};)",
                opts.concat()
            )
        },
    )
}

#[derive(Debug, Clone)]
struct Packet {
    src: usize,
    dst: usize,
    udp: bool,
    dst_port: u16,
    syn: bool,
    payload: &'static [u8],
    flow: Option<(bool, bool, bool)>,
}

fn packet() -> impl Strategy<Value = Packet> {
    (
        0..HOSTS.len(),
        0..HOSTS.len(),
        any::<bool>(),
        prop_oneof![Just(80u16), Just(53), Just(443)],
        any::<bool>(),
        prop_oneof![
            Just(&b""[..]),
            Just(&b"abc"[..]),
            Just(&b"xxabcxx"[..]),
            Just(&b"zz"[..]),
            Just(&b"GET / HTTP/1.1\r\nX: abc\r\n\r\n"[..]),
            Just(&b"GET / HTTP/1.1\r\nX:zz\r\n\r\n"[..])
        ],
        proptest::option::of((any::<bool>(), any::<bool>(), any::<bool>())),
    )
        .prop_map(|(src, dst, udp, dst_port, syn, payload, flow)| Packet {
            src,
            dst,
            udp,
            dst_port,
            syn,
            payload,
            flow,
        })
}

fn build(p: &Packet) -> (IpPacket<'static>, Option<FlowContext>) {
    // Mixed families cannot share a packet: map an IPv6 partner onto an IPv6 host.
    let (mut src, mut dst) = (HOSTS[p.src], HOSTS[p.dst]);
    let v6 = |h: &str| h.contains(':');
    if v6(src) != v6(dst) {
        src = if v6(src) { "2001:db8::2" } else { src };
        dst = if v6(dst) { dst } else { "2001:db8::2" };
        if !v6(src) {
            src = "2001:db8::2";
        }
    }
    let meta = PacketMeta {
        ts: Timestamp::from_micros(1_000_000),
        src_addr: src.parse().expect("ip"),
        dst_addr: dst.parse().expect("ip"),
        src_port: 40000,
        dst_port: p.dst_port,
        protocol: if p.udp {
            IpProtocol::UDP
        } else {
            IpProtocol::TCP
        },
        icmp_type: 0,
        icmp_code: 0,
        tcp_flags: TcpFlags(if p.syn { TcpFlags::SYN } else { TcpFlags::ACK }),
        tcp_window: 0,
        tcp_seq: 0,
        tcp_ack: 0,
        tcp_urgent: 0,
        payload_len: p.payload.len() as u32,
        ip_len: 0,
        ttl: 64,
        fragment: None,
        tunnel: None,
        events: crate::decode::DecodeEvents::NONE,
    };
    let flow = p.flow.map(|(forward, first, http)| FlowContext {
        flow_id: 1,
        direction: if forward {
            Direction::Forward
        } else {
            Direction::Backward
        },
        packets: 2,
        established: false,
        new_flow: false,
        first_in_direction: first,
        retransmission: false,
        closed: false,
        gap_us: 0,
        sender_reset: false,
        rst_out_of_window: false,
        ack_out_of_sync: false,
        app_proto: if http {
            AppProto::Http
        } else {
            AppProto::Unknown
        },
        midstream: false,
        age_us: 0,
        sent_bytes: [0; 2],
        side_packets: [0; 2],
        frame_bytes: [0; 2],
    });
    let ip = IpPacket {
        meta,
        payload: p.payload,
        l2: L2Info::default(),
        transport_error: None,
        ip_header: &[],
        transport_header: &[],
    };
    (ip, flow)
}

/// Every rule, in order, asked directly.
fn naive(set: &RuleSet, ip: &IpPacket<'_>, flow: Option<&FlowContext>) -> Vec<u32> {
    let mut out = Vec::new();
    let mut buffers = AppBuffers::of_packet(ip, Vec::new());
    for (i, r) in set.rules.iter().enumerate() {
        let indexed_ip_only = super::addr_index::indexable(r) && ip_only(r);
        if indexed_ip_only && flow.is_some_and(|f| !f.first_in_direction) {
            continue;
        }
        let mut hit = false;
        if rule_matches(r, ip, flow, &mut buffers, 4096, &mut hit) {
            out.push(i as u32);
        }
    }
    out
}

fn rules_and_packets() -> impl Strategy<Value = (Vec<String>, Vec<Packet>)> {
    (1usize..24).prop_flat_map(|n| {
        let rules: Vec<_> = (1..=n).map(rule).collect();
        (rules, proptest::collection::vec(packet(), 1..12))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn grouped_matching_equals_naive((rules, packets) in rules_and_packets()) {
        let text = rules.join("\n");
        let set = RuleSet::from_text(&text, &RuleVars::default());
        prop_assert_eq!(set.summary().skipped, 0, "{}", set.summary());
        let mut d = RuleDetector::new(set);
        for p in &packets {
            let (ip, flow) = build(p);
            let mut out = Vec::new();
            d.on_packet(&PacketView::Ip(&ip), flow.as_ref(), &mut out);
            let want = naive(d.set(), &ip, flow.as_ref());
            prop_assert_eq!(d.last_matched(), want.as_slice(), "rules:\n{}\npacket {:?}", text, p);
        }
    }
}
