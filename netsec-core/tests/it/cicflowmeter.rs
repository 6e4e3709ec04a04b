//! One tiny hand-built capture per CICFlowMeter bug named in FEATURES.md, run through the whole
//! path (pcap bytes → reader → decoder → flow table → features) and checked against our values.

use netsec_core::capture::{LinkType, PcapReader, PcapWriter};
use netsec_core::features::Feature;
use netsec_core::flow::{EndReason, FlowRecord, FlowTableConfig};
use netsec_core::pipeline::FlowPipeline;
use netsec_core::time::Timestamp;

const CLIENT: [u8; 4] = [192, 168, 1, 10];
const SERVER: [u8; 4] = [192, 168, 1, 20];
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;

/// Internet checksum over `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Ethernet + IPv4 header around an L4 segment.
fn ipv4_frame(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
    let total = (20 + l4.len()) as u16;
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 1, 0x40, 0, 64, proto, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(l4);
    f
}

/// A TCP segment (checksum left 0: the decoder does not verify it).
fn tcp(from_client: bool, flags: u8, window: u16, payload: usize) -> Vec<u8> {
    let (src, dst, sport, dport) = if from_client {
        (CLIENT, SERVER, 40000u16, 80u16)
    } else {
        (SERVER, CLIENT, 80, 40000)
    };
    let mut seg = Vec::new();
    seg.extend_from_slice(&sport.to_be_bytes());
    seg.extend_from_slice(&dport.to_be_bytes());
    seg.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 1, 0x50, flags]);
    seg.extend_from_slice(&window.to_be_bytes());
    seg.extend_from_slice(&[0, 0, 0, 0]);
    seg.extend(std::iter::repeat_n(b'x', payload));
    ipv4_frame(src, dst, 6, &seg)
}

/// A UDP datagram.
fn udp(from_client: bool, payload: usize) -> Vec<u8> {
    let (src, dst, sport, dport) = if from_client {
        (CLIENT, SERVER, 5353u16, 53u16)
    } else {
        (SERVER, CLIENT, 53, 5353)
    };
    let mut d = Vec::new();
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend(std::iter::repeat_n(b'q', payload));
    ipv4_frame(src, dst, 17, &d)
}

/// Writes `(µs, frame)` pairs as a pcap and returns the flows the pipeline exports.
fn flows(frames: &[(i64, Vec<u8>)]) -> Vec<FlowRecord> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).expect("pcap header");
    for (us, f) in frames {
        w.write_packet(
            Timestamp::from_micros(1_700_000_000_000_000 + us),
            f,
            f.len() as u32,
        )
        .expect("write to Vec");
    }
    let bytes = w.into_inner().expect("flush Vec");
    let reader = PcapReader::new(bytes.as_slice()).expect("our own pcap");
    let mut p = FlowPipeline::new(reader, FlowTableConfig::default()).expect("default config");
    let mut out = Vec::new();
    p.run(|f| {
        out.push(f.clone());
        Ok::<(), std::convert::Infallible>(())
    })
    .expect("readable");
    assert_eq!(
        p.stats().ip_packets,
        frames.len() as u64,
        "every frame decodes as IP"
    );
    out
}

fn handshake() -> Vec<(i64, Vec<u8>)> {
    vec![
        (0, tcp(true, SYN, 64240, 0)),
        (1_000, tcp(false, SYN | ACK, 65160, 0)),
        (2_000, tcp(true, ACK, 502, 0)),
    ]
}

/// CICFlowMeter ends the flow at the first FIN, so the rest of the teardown becomes a new
/// "appendix" flow. Here the whole teardown, and a late retransmitted ACK, stay in one flow.
#[test]
fn teardown_stays_one_flow() {
    let mut f = handshake();
    f.push((3_000, tcp(true, PSH | ACK, 502, 100)));
    f.push((4_000, tcp(false, ACK, 509, 0)));
    f.push((5_000, tcp(true, FIN | ACK, 502, 0)));
    f.push((6_000, tcp(false, FIN | ACK, 509, 0)));
    f.push((7_000, tcp(true, ACK, 502, 0)));
    f.push((200_000, tcp(true, ACK, 502, 0))); // late duplicate of the final ACK
    let out = flows(&f);
    assert_eq!(out.len(), 1, "no appendix flow: {out:?}");
    assert_eq!(out[0].packets(), 9);
    assert_eq!(out[0].end_reason, EndReason::Fin);
    assert_eq!(out[0].features().get(Feature::TotFwdPkts), 6.0);
    assert_eq!(out[0].features().get(Feature::TotBwdPkts), 3.0);
}

/// CICFlowMeter counts the first packet's payload twice in the length statistics and not at all
/// in `act_data_pkt_fwd`.
#[test]
fn first_packet_payload_counted_once() {
    let out = flows(&[(0, udp(true, 100)), (10_000, udp(false, 50))]);
    assert_eq!(out.len(), 1);
    let v = out[0].features();
    assert_eq!(v.get(Feature::TotlenFwd), 100.0);
    assert_eq!(v.get(Feature::FwdPktLenMean), 100.0);
    assert_eq!(v.get(Feature::FwdPktLenMax), 100.0);
    assert_eq!(v.get(Feature::PktLenMean), 75.0);
    assert_eq!(v.get(Feature::FwdActDataPkts), 1.0);
    // Sample std of {100, 50}: sqrt(1250).
    assert!((v.get(Feature::PktLenStd) - 1250f64.sqrt()).abs() < 1e-9);
}

/// CICFlowMeter's `Init_Win_bytes_backward` holds the last backward window, not the first.
#[test]
fn backward_initial_window_is_the_first() {
    let mut f = handshake();
    f.push((3_000, tcp(false, ACK, 1_000, 10)));
    f.push((4_000, tcp(false, ACK, 2_000, 10)));
    let out = flows(&f);
    let v = out[0].features();
    assert_eq!(v.get(Feature::InitFwdWinBytes), 64240.0);
    assert_eq!(v.get(Feature::InitBwdWinBytes), 65160.0);
}

/// CICFlowMeter writes NaN/Infinity rates for zero-duration flows.
#[test]
fn zero_duration_rates_are_zero_not_nan() {
    let out = flows(&[(0, udp(true, 40))]);
    let v = out[0].features();
    assert_eq!(v.get(Feature::FlowDuration), 0.0);
    for f in [Feature::FlowBytesS, Feature::FlowPktsS, Feature::BwdPktsS] {
        assert_eq!(v.get(f), 0.0, "{}", f.name());
    }
    assert!(v.as_array().iter().all(|x| x.is_finite()));
}

/// CICFlowMeter writes −1 for the initial window of a side that sent nothing, and other −1
/// defaults; the spec says 0.
#[test]
fn no_minus_one_defaults() {
    let out = flows(&[
        (0, tcp(true, SYN, 1024, 0)),
        (500_000, tcp(true, SYN, 1024, 0)),
    ]);
    assert_eq!(out.len(), 1, "a retransmitted SYN joins its flow");
    let v = out[0].features();
    assert_eq!(v.get(Feature::InitBwdWinBytes), 0.0);
    assert_eq!(v.get(Feature::BwdPktLenMax), 0.0);
    assert_eq!(v.get(Feature::BwdIatMean), 0.0);
    assert_eq!(v.get(Feature::FwdIatMin), 500_000.0);
    assert!(v.as_array().iter().all(|x| *x >= 0.0));
}
