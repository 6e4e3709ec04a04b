#![no_main]
//! Any bytes as the payload of TCP segments to and from SMB, VNC, HTTP and an odd port, of
//! a UDP datagram and of an ICMP echo, through a real flow table and every behavioural
//! detector of the default config (SMB2 and DCE/RPC parsing, VNC and login greetings, HTTP
//! cookies, ICMP tunnels, beacons, TCP anomalies …): nothing panics, whatever the bytes.
//! The first two bytes pick the TCP flags and urgent pointer.

use netsec_core::behaviour::{build_detectors, BehaviourConfig};
use netsec_core::decode::{IpPacket, IpProtocol, L2Info, PacketMeta, TcpFlags};
use netsec_core::detect::PacketView;
use netsec_core::flow::{FlowTable, FlowTableConfig};
use netsec_core::time::Timestamp;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(mut detectors) = build_detectors(&BehaviourConfig::default()) else {
        return;
    };
    let Ok(mut table) = FlowTable::new(FlowTableConfig::default()) else {
        return;
    };
    let flags = data
        .first()
        .copied()
        .unwrap_or(TcpFlags::ACK | TcpFlags::PSH);
    let urgent = data.get(1).copied().map_or(0, u16::from);
    let mut exported = Vec::new();
    let mut out = Vec::new();
    let client: std::net::IpAddr = [10, 0, 0, 1].into();
    let server: std::net::IpAddr = [10, 0, 0, 2].into();
    let cases = [
        (IpProtocol::TCP, 445, true),
        (IpProtocol::TCP, 445, false),
        (IpProtocol::TCP, 5900, false),
        (IpProtocol::TCP, 80, true),
        (IpProtocol::TCP, 4444, true),
        (IpProtocol::UDP, 443, true),
        (IpProtocol::ICMP, 0, true),
        (IpProtocol::ICMP, 0, false),
    ];
    for (i, (protocol, port, to_server)) in cases.into_iter().enumerate() {
        let (src, dst, src_port, dst_port) = if to_server {
            (client, server, 40000, port)
        } else {
            (server, client, port, 40000)
        };
        let meta = PacketMeta {
            ts: Timestamp::from_micros(i as i64 * 3_000_000),
            src_addr: src,
            dst_addr: dst,
            src_port,
            dst_port,
            protocol,
            icmp_type: if to_server { 8 } else { 0 },
            icmp_code: 0,
            tcp_flags: TcpFlags(if protocol == IpProtocol::TCP {
                flags
            } else {
                0
            }),
            tcp_window: 512,
            tcp_seq: i as u32 * 1000,
            tcp_ack: 1,
            tcp_urgent: urgent,
            payload_len: data.len() as u32,
            ip_len: 40 + data.len() as u32,
            ttl: 64,
            fragment: None,
            tunnel: None,
            events: netsec_core::decode::DecodeEvents::NONE,
        };
        let ip = IpPacket {
            meta,
            payload: data,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        let ctx = table.process_ip(&ip, &mut exported);
        for d in detectors.iter_mut() {
            d.on_packet(&PacketView::Ip(&ip), ctx.as_ref(), &mut out);
        }
    }
    table.flush(&mut exported);
    for f in &exported {
        for d in detectors.iter_mut() {
            d.on_flow_end(f, &f.features(), &mut out);
        }
    }
});
