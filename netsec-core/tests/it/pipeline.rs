//! `FlowPipeline` with detectors: every packet and flow reaches every detector exactly once, in
//! a deterministic order, and alerts point at the flows the pipeline exports.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use netsec_core::capture::PcapReader;
use netsec_core::detect::{Alert, Detector, PacketInterest, PacketView, RunId, Severity};
use netsec_core::features::FeatureVector;
use netsec_core::flow::{FlowContext, FlowRecord, FlowTableConfig};
use netsec_core::pipeline::FlowPipeline;
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};

/// One run id for every run compared, so their alert ids can be compared too.
const RUN: RunId = RunId::from_tag(0x5e_5500);

fn sample() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/synthetic.pcap");
    std::fs::read(&path).expect("bundled samples/synthetic.pcap")
}

/// What a [`Recorder`] saw.
#[derive(Debug, Default)]
struct Seen {
    ip_packets: u64,
    arp_packets: u64,
    packets_without_flow: u64,
    /// Flow id → times `on_flow_end` saw it.
    flow_ends: BTreeMap<u64, u32>,
    /// Flow ids in `on_flow_end` order.
    flow_order: Vec<u64>,
    /// Events in call order: `p<flow>` for packets, `f<flow>` for flow ends.
    events: Vec<String>,
}

/// Records every call; raises one alert per finished flow with more than 10 packets.
struct Recorder {
    seen: Arc<Mutex<Seen>>,
}

impl Detector for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        flow: Option<&FlowContext>,
        _out: &mut Vec<Alert>,
    ) {
        let mut s = self.seen.lock().expect("not poisoned");
        match pkt {
            PacketView::Ip(_) => s.ip_packets += 1,
            PacketView::Arp { .. } => s.arp_packets += 1,
        }
        match flow {
            Some(f) => s.events.push(format!("p{}", f.flow_id)),
            None => s.packets_without_flow += 1,
        }
    }

    fn on_flow_end(&mut self, flow: &FlowRecord, features: &FeatureVector, out: &mut Vec<Alert>) {
        assert_eq!(features, &flow.features(), "features belong to the flow");
        let mut s = self.seen.lock().expect("not poisoned");
        *s.flow_ends.entry(flow.id).or_default() += 1;
        s.flow_order.push(flow.id);
        s.events.push(format!("f{}", flow.id));
        if flow.packets() > 10 {
            out.push(
                Alert::builder("recorder", flow.last_ts, "Big_Flow", Severity::Low)
                    .flow_record(flow)
                    .score(0.1)
                    .tag("test")
                    .description(format!("flow with {} packets", flow.packets()))
                    .build(),
            );
        }
    }
}

const RULES: &str = r#"
alert tcp any any -> any 80 (msg:"HTTP GET"; content:"GET "; depth:4; classtype:policy-violation; sid:1; rev:1;)
alert udp any any -> any 53 (msg:"DNS query"; dsize:>0; classtype:misc-activity; sid:2; rev:1;)
"#;

struct Run {
    flows: Vec<FlowRecord>,
    alerts: Vec<Alert>,
    seen: Seen,
    stats: netsec_core::pipeline::PipelineStats,
}

fn run(bytes: &[u8], batch: usize) -> Run {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let detectors: Vec<Box<dyn Detector>> = vec![
        Box::new(RuleDetector::new(RuleSet::from_text(
            RULES,
            &RuleVars::default(),
        ))),
        Box::new(Recorder {
            seen: Arc::clone(&seen),
        }),
    ];
    let reader = PcapReader::new(bytes).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), detectors)
        .expect("default config");
    p.sensor_mut().set_run_id(RUN);
    let mut flows = Vec::new();
    let mut alerts = Vec::new();
    loop {
        let more = p.process_batch(batch, &mut flows).expect("readable");
        alerts.extend(p.drain_alerts());
        if !more {
            break;
        }
    }
    p.finish(&mut flows);
    alerts.extend(p.drain_alerts());
    assert!(p.alerts().is_empty());
    let stats = p.stats().clone();
    drop(p);
    let seen = Arc::try_unwrap(seen)
        .expect("pipeline dropped")
        .into_inner()
        .expect("not poisoned");
    Run {
        flows,
        alerts,
        seen,
        stats,
    }
}

#[test]
fn detectors_see_every_packet_and_every_flow_once() {
    let bytes = sample();
    let r = run(&bytes, 1000);
    assert_eq!(r.stats.packets, 3000);
    assert_eq!(r.seen.ip_packets, r.stats.ip_packets);
    assert_eq!(r.seen.arp_packets, r.stats.arp_packets);
    assert_eq!(
        r.seen.packets_without_flow,
        r.stats.orphan_fragments + r.stats.arp_packets
    );
    assert_eq!(r.flows.len() as u64, r.stats.flows);
    assert_eq!(r.seen.flow_ends.len(), r.flows.len());
    assert!(
        r.seen.flow_ends.values().all(|&n| n == 1),
        "a flow ended twice"
    );
    let exported: Vec<u64> = r.flows.iter().map(|f| f.id).collect();
    assert_eq!(
        r.seen.flow_order, exported,
        "detectors see flows in export order"
    );
    // A flow's end comes after all of its packets.
    let mut ended = std::collections::HashSet::new();
    for e in &r.seen.events {
        let (kind, id) = e.split_at(1);
        if kind == "f" {
            ended.insert(id.to_string());
        } else {
            assert!(!ended.contains(id), "packet of flow {id} after its end");
        }
    }
    // Per-detector counts add up.
    assert_eq!(r.stats.alerts, r.alerts.len() as u64);
    let names: Vec<&str> = r
        .stats
        .alerts_by_detector
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["rules", "recorder"]);
    for (name, n) in &r.stats.alerts_by_detector {
        let actual = r
            .alerts
            .iter()
            .filter(|a| a.detector() == Some(name))
            .count() as u64;
        assert_eq!(*n, actual, "{name}");
        assert!(*n > 0, "{name} raised nothing on the sample");
    }
    // Protocol counters and capture span.
    let s = &r.stats;
    assert_eq!(
        s.tcp_packets + s.udp_packets + s.icmp_packets + s.other_ip_packets,
        s.ip_packets
    );
    assert!(s.first_ts.is_some() && s.first_ts <= s.last_ts);
}

#[test]
fn alert_order_is_deterministic_and_independent_of_batch_size() {
    let bytes = sample();
    let a = run(&bytes, 4096);
    let b = run(&bytes, 4096);
    let c = run(&bytes, 7);
    assert!(!a.alerts.is_empty());
    assert_eq!(a.alerts, b.alerts);
    assert_eq!(a.alerts, c.alerts);
    assert_eq!(a.flows, c.flows);
}

#[test]
fn alerts_carry_the_flow_ids_of_the_flow_output() {
    let bytes = sample();
    let r = run(&bytes, 4096);
    let flows: BTreeMap<u64, &FlowRecord> = r.flows.iter().map(|f| (f.id, f)).collect();
    for a in &r.alerts {
        let id = a.flow_id.expect("every test alert belongs to a flow");
        let f = flows
            .get(&id)
            .unwrap_or_else(|| panic!("alert names unknown flow {id}"));
        let (src, dst) = (a.src_ip.expect("ip"), a.dst_ip.expect("ip"));
        assert!(
            (src == f.src_addr && dst == f.dst_addr) || (src == f.dst_addr && dst == f.src_addr),
            "alert {a:?} does not match flow {f:?}"
        );
        assert!(a.timestamp >= f.first_ts && a.timestamp <= f.last_ts);
    }
}

#[test]
fn run_with_alerts_delivers_the_same_as_batches() {
    let bytes = sample();
    let r = run(&bytes, 4096);
    let detectors: Vec<Box<dyn Detector>> = vec![
        Box::new(RuleDetector::new(RuleSet::from_text(
            RULES,
            &RuleVars::default(),
        ))),
        Box::new(Recorder {
            seen: Arc::default(),
        }),
    ];
    let reader = PcapReader::new(bytes.as_slice()).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), detectors)
        .expect("config");
    p.sensor_mut().set_run_id(RUN);
    let (mut flows, mut alerts) = (Vec::new(), Vec::new());
    p.run_with_alerts(
        |f| {
            flows.push(f.clone());
            Ok::<(), ()>(())
        },
        |a| {
            alerts.push(a.clone());
            Ok(())
        },
    )
    .expect("readable");
    assert_eq!(flows, r.flows);
    assert_eq!(alerts, r.alerts);
}

#[test]
fn damaged_capture_still_delivers_flows_and_alerts_read_before_the_damage() {
    let bytes = sample();
    let full = run(&bytes, 4096);
    // Cut mid-record, two thirds in.
    let cut = &bytes[..bytes.len() * 2 / 3 + 3];
    let seen = Arc::new(Mutex::new(Seen::default()));
    let detectors: Vec<Box<dyn Detector>> = vec![Box::new(Recorder {
        seen: Arc::clone(&seen),
    })];
    let reader = PcapReader::new(cut).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), detectors)
        .expect("config");
    p.sensor_mut().set_run_id(RUN);
    let (mut flows, mut alerts) = (0u64, 0u64);
    let result = p.run_with_alerts(
        |_| {
            flows += 1;
            Ok::<(), ()>(())
        },
        |_| {
            alerts += 1;
            Ok(())
        },
    );
    assert!(result.is_err(), "a cut record is an error");
    assert!(flows > 0 && flows == p.stats().flows);
    assert!(alerts > 0 && alerts == p.stats().alerts);
    assert!(p.stats().packets < full.stats.packets);
    assert_eq!(
        seen.lock().expect("not poisoned").flow_ends.len() as u64,
        flows
    );
}

#[test]
fn a_pipeline_without_detectors_counts_no_alerts() {
    let bytes = sample();
    let reader = PcapReader::new(bytes.as_slice()).expect("pcap header");
    let mut p = FlowPipeline::new(reader, FlowTableConfig::default()).expect("config");
    p.run(|_| Ok::<(), ()>(())).expect("readable");
    assert_eq!(p.stats().alerts, 0);
    assert!(p.stats().alerts_by_detector.is_empty());
    assert!(p.detectors().is_empty());
}

/// Flows, alerts and stats of one run, one-thread (`run_with_alerts`) or staged.
fn run_mode(
    bytes: &[u8],
    detectors: Vec<Box<dyn Detector>>,
    staged: bool,
) -> (
    Vec<FlowRecord>,
    Vec<Alert>,
    netsec_core::pipeline::PipelineStats,
    bool,
) {
    let reader = PcapReader::new(bytes).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), detectors)
        .expect("config");
    p.sensor_mut().set_run_id(RUN);
    let (mut flows, mut alerts) = (Vec::new(), Vec::new());
    let on_flow = |f: &FlowRecord| {
        flows.push(f.clone());
        Ok::<(), ()>(())
    };
    let on_alert = |a: &Alert| {
        alerts.push(a.clone());
        Ok(())
    };
    let ok = if staged {
        p.run_staged(on_flow, on_alert, |_| Ok(())).is_ok()
    } else {
        p.run_with_alerts(on_flow, on_alert).is_ok()
    };
    (flows, alerts, p.stats().clone(), ok)
}

fn all_detectors() -> Vec<Box<dyn Detector>> {
    let rules = format!(
        "{RULES}\n{}",
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/default.rules")
        )
        .expect("bundled rules")
    );
    let mut d: Vec<Box<dyn Detector>> = vec![Box::new(RuleDetector::new(RuleSet::from_text(
        &rules,
        &RuleVars::default(),
    )))];
    d.extend(netsec_core::behaviour::build_detectors(&Default::default()).expect("default config"));
    d
}

#[test]
fn staged_run_gives_what_the_one_thread_run_gives() {
    let bytes = sample();
    let recorder = || -> Vec<Box<dyn Detector>> {
        let mut d = all_detectors();
        d.push(Box::new(Recorder {
            seen: Arc::default(),
        }));
        d
    };
    let one = run_mode(&bytes, recorder(), false);
    let two = run_mode(&bytes, recorder(), true);
    assert!(one.3 && two.3);
    assert!(!one.1.is_empty() && one.0.len() > 10);
    assert_eq!(two.0, one.0, "flows");
    assert_eq!(two.1, one.1, "alerts");
    assert_eq!(two.2, one.2, "stats");
    // A pipeline that already counted alerts (a first batch by hand) adds to its counts.
    let reader = PcapReader::new(bytes.as_slice()).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), recorder())
        .expect("config");
    p.sensor_mut().set_run_id(RUN);
    let mut flows = Vec::new();
    p.process_batch(1000, &mut flows).expect("readable");
    let early: Vec<Alert> = p.drain_alerts().collect();
    let (mut n_flows, mut n_alerts) = (flows.len(), early.len());
    p.run_staged(
        |_| {
            n_flows += 1;
            Ok::<(), ()>(())
        },
        |_| {
            n_alerts += 1;
            Ok(())
        },
        |_| Ok(()),
    )
    .expect("readable");
    assert_eq!((n_flows, n_alerts), (one.0.len(), one.1.len()));
    assert_eq!(p.stats(), &one.2, "counts continue, not restart or double");
    // A capture cut mid-record: the same flows and alerts before the error, in both modes.
    let cut = &bytes[..bytes.len() * 2 / 3 + 3];
    let one = run_mode(cut, recorder(), false);
    let two = run_mode(cut, recorder(), true);
    assert!(!one.3 && !two.3, "a cut record is an error");
    assert_eq!((two.0, two.1, two.2), (one.0, one.1, one.2));
}

#[test]
fn staged_run_matches_on_real_attack_captures() {
    let names = [
        "attacks/portscan_syn_nmap.pcapng",
        "attacks/web_sqli_dvwa.pcapng",
        "attacks/bruteforce_ftp.pcap",
        "attacks/arp_spoofing.pcap",
    ];
    for name in names {
        let Some(path) = crate::util::pcap(name) else {
            return;
        };
        let bytes = std::fs::read(&path).expect("read capture");
        let one = run_mode(&bytes, all_detectors(), false);
        let two = run_mode(&bytes, all_detectors(), true);
        assert!(one.3 && two.3, "{name}");
        assert!(!one.1.is_empty(), "{name}: alerts expected");
        assert_eq!(two.0, one.0, "{name}: flows");
        assert_eq!(two.1, one.1, "{name}: alerts");
        assert_eq!(two.2, one.2, "{name}: stats");
    }
}

#[test]
fn staged_run_stops_on_a_consumer_error() {
    let bytes = sample();
    let reader = PcapReader::new(bytes.as_slice()).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), all_detectors())
        .expect("config");
    p.sensor_mut().set_run_id(RUN);
    let mut flows = 0;
    let r = p.run_staged(
        |_| {
            flows += 1;
            if flows == 3 {
                Err("disk full")
            } else {
                Ok(())
            }
        },
        |_| Ok(()),
        |_| Ok(()),
    );
    assert!(matches!(
        r,
        Err(netsec_core::pipeline::PipelineError::Consumer("disk full"))
    ));
    assert_eq!(flows, 3);
    // The detectors are back in the pipeline.
    assert!(!p.detectors().is_empty());
    // Told to stop by the progress callback: an error, after delivering what was read.
    let reader = PcapReader::new(bytes.as_slice()).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), all_detectors())
        .expect("config");
    p.sensor_mut().set_run_id(RUN);
    let mut delivered = 0;
    let r = p.run_staged(
        |_| {
            delivered += 1;
            Ok(())
        },
        |_| Ok(()),
        |_| Err("aborted"),
    );
    assert!(matches!(
        r,
        Err(netsec_core::pipeline::PipelineError::Consumer("aborted"))
    ));
    assert!(delivered > 0 && delivered == p.stats().flows);
}

#[test]
fn staged_batches_of_large_frames_are_cut_by_size() {
    use netsec_core::capture::{LinkType, PcapWriter};
    use netsec_core::time::Timestamp;
    // 200 IPv4/UDP datagrams of 60,000 payload bytes (12 MB): one batch by frame count, at
    // least three when a batch is capped at ~4 MiB of payload.
    let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535).expect("writer");
    let payload = 60_000usize;
    for i in 0..200u32 {
        let total = (20 + 8 + payload) as u16;
        let mut frame = vec![0x45, 0];
        frame.extend_from_slice(&total.to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        frame.extend_from_slice(&[0x13, 0x88, 0x13, 0x89]);
        frame.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend(std::iter::repeat_n(b'x', payload));
        w.write_packet(
            Timestamp::from_micros(1_000_000 + i64::from(i)),
            &frame,
            frame.len() as u32,
        )
        .expect("write");
    }
    let bytes = w.into_inner().expect("capture");
    let one = run_mode(&bytes, all_detectors(), false);
    let reader = PcapReader::new(bytes.as_slice()).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), all_detectors())
        .expect("config");
    p.sensor_mut().set_run_id(RUN);
    let (mut flows, mut batches) = (Vec::new(), 0);
    p.run_staged(
        |f| {
            flows.push(f.clone());
            Ok::<(), ()>(())
        },
        |_| Ok(()),
        |_| {
            batches += 1;
            Ok(())
        },
    )
    .expect("readable");
    assert_eq!(p.stats().ip_packets, 200);
    assert!(batches >= 3, "{batches} batches for 12 MB of payload");
    assert_eq!(flows, one.0);
    assert_eq!(p.stats(), &one.2);
}

/// Counts the packets it is given by class; declares `interest`.
struct ClassCounter {
    interest: PacketInterest,
    seen: Arc<Mutex<BTreeMap<u8, u64>>>,
}

impl Detector for ClassCounter {
    fn name(&self) -> &str {
        "class_counter"
    }

    fn interest(&self) -> PacketInterest {
        self.interest
    }

    fn on_packet(&mut self, pkt: &PacketView<'_>, _: Option<&FlowContext>, _: &mut Vec<Alert>) {
        let class = PacketInterest::of(pkt);
        let key = [
            PacketInterest::ARP,
            PacketInterest::TCP_CONTROL,
            PacketInterest::TCP_DATA,
            PacketInterest::UDP,
            PacketInterest::ICMP,
            PacketInterest::OTHER,
            PacketInterest::TCP_ACK,
        ]
        .iter()
        .position(|c| *c == class)
        .expect("one of the classes") as u8;
        *self
            .seen
            .lock()
            .expect("not poisoned")
            .entry(key)
            .or_default() += 1;
    }
}

/// The sensor calls a detector only for the packet classes it declares: a UDP-and-ICMP
/// detector sees exactly the UDP and ICMP packets an every-packet detector sees.
#[test]
fn detectors_get_only_the_packets_of_their_interest() {
    let bytes = sample();
    let all = Arc::new(Mutex::new(BTreeMap::new()));
    let some = Arc::new(Mutex::new(BTreeMap::new()));
    let detectors: Vec<Box<dyn Detector>> = vec![
        Box::new(ClassCounter {
            interest: PacketInterest::ALL,
            seen: Arc::clone(&all),
        }),
        Box::new(ClassCounter {
            interest: PacketInterest::UDP | PacketInterest::ICMP,
            seen: Arc::clone(&some),
        }),
    ];
    let reader = PcapReader::new(&bytes[..]).expect("pcap header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), detectors)
        .expect("default config");
    let mut flows = Vec::new();
    while p.process_batch(1000, &mut flows).expect("readable") {}
    p.finish(&mut flows);
    drop(p);
    let all = all.lock().expect("not poisoned").clone();
    let some = some.lock().expect("not poisoned").clone();
    assert!(all.len() >= 3, "the sample has several classes: {all:?}");
    let expected: BTreeMap<u8, u64> = all
        .into_iter()
        .filter(|(k, _)| *k == 3 || *k == 4)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(some, expected);
}

#[test]
fn invalid_packets_reach_decoder_event_rules_but_no_flow_and_no_other_detector() {
    use netsec_core::capture::{LinkType, PcapWriter};
    use netsec_core::decode::Layer;
    use netsec_core::time::Timestamp;
    // An IPv4 header saying TCP with no TCP header (suricata-verify decode-too-small), then
    // a sound UDP datagram.
    let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535).expect("writer");
    let too_small = [
        0x45, 0, 0, 20, 0, 1, 0, 0, 64, 6, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    ];
    let mut udp = vec![
        0x45, 0, 0, 29, 0, 1, 0, 0, 64, 17, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    ];
    udp.extend_from_slice(&[0x13, 0x88, 0, 53, 0, 9, 0, 0, b'x']);
    for (i, frame) in [&too_small[..], &udp].into_iter().enumerate() {
        let ts = Timestamp::from_micros(1_000_000 + i as i64);
        w.write_packet(ts, frame, frame.len() as u32)
            .expect("write");
    }
    let bytes = w.into_inner().expect("capture");
    let detectors = || -> Vec<Box<dyn Detector>> {
        vec![
            Box::new(RuleDetector::new(RuleSet::from_text(
                "alert tcp any any -> any any (msg:\"too small\"; \
                 decode-event:tcp.pkt_too_small; sid:1;)\n\
                 alert ip any any -> any any (msg:\"any ip\"; sid:2;)",
                &RuleVars::default(),
            ))),
            Box::new(Recorder {
                seen: Arc::default(),
            }),
        ]
    };
    for staged in [false, true] {
        let (flows, alerts, stats, ok) = run_mode(&bytes, detectors(), staged);
        assert!(ok);
        let sids: Vec<_> = alerts
            .iter()
            .map(|a| a.meta["sid"].as_u64().unwrap_or(0))
            .collect();
        // The invalid packet: sid 1 and the catch-all sid 2; the datagram: sid 2 only.
        assert_eq!(sids.iter().filter(|&&s| s == 1).count(), 1, "{sids:?}");
        assert_eq!(sids.iter().filter(|&&s| s == 2).count(), 2, "{sids:?}");
        // One flow (the datagram's); the invalid packet is a TCP decode error, as before.
        assert_eq!(flows.len(), 1);
        assert_eq!((stats.ip_packets, stats.decode_errors(Layer::Tcp)), (1, 1));
    }
    // A detector with the default interest never sees it.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let reader = PcapReader::new(bytes.as_slice()).expect("pcap header");
    let recorder: Vec<Box<dyn Detector>> = vec![Box::new(Recorder {
        seen: Arc::clone(&seen),
    })];
    let mut p =
        FlowPipeline::with_detectors(reader, FlowTableConfig::default(), recorder).expect("config");
    p.run(|_| Ok::<(), ()>(())).expect("readable");
    assert_eq!(seen.lock().expect("not poisoned").ip_packets, 1);
}
