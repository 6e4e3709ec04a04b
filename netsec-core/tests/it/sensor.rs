//! `Sensor`: the one packet step driven three ways (pull, push, staged push) gives the same
//! flows, alerts and counters on real captures; `tick` alone ends flows after a quiet gap.

use std::path::Path;
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};

use netsec_core::capture::{LinkType, PacketSource, PcapReader, RawPacket};
use netsec_core::detect::{Alert, ChannelSink, Detector, RunId, SinkError};
use netsec_core::flow::{EndReason, FlowRecord, FlowTableConfig};
use netsec_core::output::FlowSink;
use netsec_core::pipeline::{FlowPipeline, PipelineStats, Sensor, StagedSensor};
use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};
use netsec_core::time::Timestamp;

use crate::util::pcaps_dir_or_skip;

/// One run id for every run compared, so their alert ids can be compared too.
const RUN: RunId = RunId::from_tag(0x5e_5500);

/// The bundled rules and the default behavioural detectors.
fn detectors() -> Vec<Box<dyn Detector>> {
    let rules = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/default.rules"),
    )
    .expect("bundled rules");
    let mut d: Vec<Box<dyn Detector>> = vec![Box::new(RuleDetector::new(RuleSet::from_text(
        &rules,
        &RuleVars::default(),
    )))];
    d.extend(netsec_core::behaviour::build_detectors(&Default::default()).expect("defaults"));
    d
}

/// What one run produced.
#[derive(Debug, PartialEq)]
struct Output {
    flows: Vec<FlowRecord>,
    alerts: Vec<Alert>,
    stats: PipelineStats,
}

fn pull(bytes: &[u8]) -> Output {
    let reader = PcapReader::new(bytes).expect("header");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), detectors())
        .expect("config");
    p.sensor_mut().set_run_id(RUN);
    let (mut flows, mut alerts) = (Vec::new(), Vec::new());
    // A damaged capture ends the run with an error after delivering what was read.
    let _ = p.run_with_alerts(
        |f| {
            flows.push(f.clone());
            Ok::<(), ()>(())
        },
        |a| {
            alerts.push(a.clone());
            Ok(())
        },
    );
    let stats = p.stats().clone();
    Output {
        flows,
        alerts,
        stats,
    }
}

/// Calls `push` for every frame of the capture, in order, until its end or damage.
fn each_frame(bytes: &[u8], mut push: impl FnMut(&RawPacket<'_>)) {
    let mut reader = PcapReader::new(bytes).expect("header");
    while let Ok(Some(raw)) = reader.next_packet() {
        push(&raw);
    }
}

fn push(bytes: &[u8]) -> Output {
    let mut sensor = Sensor::new(FlowTableConfig::default(), detectors()).expect("config");
    sensor.set_run_id(RUN);
    let (mut flows, mut alerts) = (Vec::new(), Vec::new());
    let mut n = 0u64;
    each_frame(bytes, |raw| {
        sensor.push(raw);
        n += 1;
        // Drained at odd moments: delivery timing must not change what is delivered.
        if n % 97 == 0 {
            flows.extend(sensor.drain_flows());
            alerts.extend(sensor.drain_alerts());
        }
    });
    sensor.finish();
    flows.extend(sensor.drain_flows());
    alerts.extend(sensor.drain_alerts());
    Output {
        flows,
        alerts,
        stats: sensor.stats().clone(),
    }
}

/// Collects flows from the detection thread.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<FlowRecord>>>);

impl FlowSink for Collect {
    fn emit(&mut self, flow: &FlowRecord) -> Result<(), SinkError> {
        self.0
            .lock()
            .map_err(|_| SinkError::Disconnected)?
            .push(flow.clone());
        Ok(())
    }
}

fn staged_push(bytes: &[u8]) -> Output {
    let mut sensor = Sensor::new(FlowTableConfig::default(), detectors()).expect("config");
    sensor.set_run_id(RUN);
    let flows = Collect::default();
    let (tx, rx) = channel();
    let mut staged = StagedSensor::start(
        sensor,
        Box::new(flows.clone()),
        Box::new(ChannelSink::new(tx)),
    );
    each_frame(bytes, |raw| staged.push(raw).expect("sinks never fail"));
    let sensor = staged.finish().expect("sinks never fail");
    let flows = std::mem::take(&mut *flows.0.lock().expect("lock"));
    Output {
        flows,
        alerts: rx.try_iter().collect(),
        stats: sensor.stats().clone(),
    }
}

/// Every real capture (attacks, benign, malformed) through the three drivers.
#[test]
fn pull_push_and_staged_push_agree_on_real_captures() {
    let Some(dir) = pcaps_dir_or_skip("pull_push_and_staged_push_agree_on_real_captures") else {
        return;
    };
    let mut files: Vec<_> = ["attacks", "benign", "malformed"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).into_iter().flatten())
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap")
        })
        .collect();
    files.sort();
    assert!(files.len() > 100, "{} captures", files.len());
    let (mut checked, mut with_alerts) = (0, 0);
    for path in &files {
        let bytes = std::fs::read(path).expect("read capture");
        if PcapReader::new(bytes.as_slice()).is_err() {
            continue;
        }
        let one = pull(&bytes);
        let name = path.display();
        let two = push(&bytes);
        assert_eq!(two.flows, one.flows, "push flows of {name}");
        assert_eq!(two.alerts, one.alerts, "push alerts of {name}");
        assert_eq!(two.stats, one.stats, "push stats of {name}");
        let three = staged_push(&bytes);
        assert_eq!(three.flows, one.flows, "staged flows of {name}");
        assert_eq!(three.alerts, one.alerts, "staged alerts of {name}");
        assert_eq!(three.stats, one.stats, "staged stats of {name}");
        checked += 1;
        with_alerts += usize::from(!one.alerts.is_empty());
    }
    assert!(checked > 100, "{checked} captures compared");
    assert!(with_alerts > 10, "{with_alerts} captures raised alerts");
}

/// A UDP datagram `a:1000 -> b:53` at `secs`.
fn datagram(last_octet: u8) -> Vec<u8> {
    vec![
        0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, last_octet, 10, 0, 0, 2, 0x03, 0xe8, 0,
        53, 0, 12, 0, 0, 1, 2, 3, 4,
    ]
}

fn frame(data: &[u8], secs: i64) -> RawPacket<'_> {
    RawPacket {
        ts: Timestamp::from_micros(secs * 1_000_000),
        link_type: LinkType::RAW,
        data,
        orig_len: data.len() as u32,
    }
}

/// Records ticks; raises one alert per tick so the staged path's delivery can be checked.
struct TickCounter(Arc<Mutex<Vec<Timestamp>>>);

impl Detector for TickCounter {
    fn name(&self) -> &str {
        "ticks"
    }
    fn on_tick(&mut self, now: Timestamp, _out: &mut Vec<Alert>) {
        if let Ok(mut t) = self.0.lock() {
            t.push(now);
        }
    }
}

#[test]
fn a_long_gap_is_ended_by_tick_alone() {
    let ticks = Arc::new(Mutex::new(Vec::new()));
    let detectors: Vec<Box<dyn Detector>> = vec![Box::new(TickCounter(ticks.clone()))];
    let mut sensor = Sensor::new(FlowTableConfig::default(), detectors).expect("config");
    let (a, b) = (datagram(1), datagram(3));
    sensor.push(&frame(&a, 10));
    sensor.push(&frame(&b, 70));
    // Within the 120 s idle timeout of both: nothing ends.
    sensor.tick(Timestamp::from_micros(100_000_000));
    assert_eq!(sensor.flows().len(), 0);
    // 131 s: more than 120 s after the first flow's last packet, not the second's.
    sensor.tick(Timestamp::from_micros(131_000_000));
    let first: Vec<FlowRecord> = sensor.drain_flows().collect();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].src_addr.to_string(), "10.0.0.1");
    assert_eq!(first[0].end_reason, EndReason::Idle);
    // An hour of silence: the second ends too, with no packet pushed.
    sensor.tick(Timestamp::from_micros(3_700_000_000));
    let second: Vec<FlowRecord> = sensor.drain_flows().collect();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].src_addr.to_string(), "10.0.0.3");
    assert_eq!(second[0].end_reason, EndReason::Idle);
    assert_eq!(sensor.stats().flows, 2);
    let table = sensor.table_stats();
    assert_eq!(
        table.flows_created, table.flows_exported,
        "no flow left open"
    );
    sensor.finish();
    assert_eq!(sensor.drain_flows().count(), 0, "nothing left to flush");
    let seen = ticks.lock().expect("lock").clone();
    assert_eq!(
        seen,
        [100, 131, 3700].map(|s| Timestamp::from_micros(s * 1_000_000))
    );
}

#[test]
fn staged_tick_delivers_expired_flows_without_more_packets() {
    let sensor = Sensor::new(FlowTableConfig::default(), Vec::new()).expect("config");
    let flows = Collect::default();
    let mut staged = StagedSensor::start(sensor, Box::new(flows.clone()), Box::new(NoSink));
    let a = datagram(1);
    staged.push(&frame(&a, 10)).expect("push");
    staged
        .tick(Timestamp::from_micros(200_000_000))
        .expect("tick");
    // The batch was shipped by the tick: the detection thread delivers it without `finish`.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while flows.0.lock().expect("lock").is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let got = flows.0.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "the idle flow arrives after the tick");
    assert_eq!(got[0].end_reason, EndReason::Idle);
    let sensor = staged.finish().expect("finish");
    assert_eq!(sensor.stats().flows, 1);
}

#[test]
fn a_failing_sink_stops_the_staged_sensor_with_its_error() {
    struct Broken;
    impl FlowSink for Broken {
        fn emit(&mut self, _flow: &FlowRecord) -> Result<(), SinkError> {
            Err(SinkError::Callback("disk full".into()))
        }
    }
    let sensor = Sensor::new(FlowTableConfig::default(), Vec::new()).expect("config");
    let mut staged = StagedSensor::start(sensor, Box::new(Broken), Box::new(NoSink));
    let a = datagram(1);
    staged.push(&frame(&a, 10)).expect("tracked");
    staged
        .tick(Timestamp::from_micros(200_000_000))
        .expect("shipped");
    // The next pushes find the detection thread gone and report its error.
    let mut err = None;
    for i in 0..20_000 {
        if let Err(e) = staged.push(&frame(&a, 300 + i)) {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("the sink error reaches the capture side");
    assert!(err.to_string().contains("disk full"), "{err}");
}

/// Discards alerts.
struct NoSink;

impl netsec_core::detect::AlertSink for NoSink {
    fn emit(&mut self, _alert: &Alert) -> Result<(), SinkError> {
        Ok(())
    }
}

/// Alerts of one capture through a sensor with `run` (random when `None`) and `detectors`.
fn alerts_of(bytes: &[u8], run: Option<RunId>, detectors: Vec<Box<dyn Detector>>) -> Vec<Alert> {
    let mut sensor = Sensor::new(FlowTableConfig::default(), detectors).expect("config");
    if let Some(run) = run {
        sensor.set_run_id(run);
    }
    each_frame(bytes, |raw| sensor.push(raw));
    sensor.finish();
    sensor.drain_alerts().collect()
}

#[test]
fn alert_ids_are_unique_across_sensors_and_runs_and_deterministic_per_run_id() {
    let Some(path) = crate::util::pcap("attacks/portscan_nmap_80_all.pcap") else {
        return;
    };
    let bytes = std::fs::read(&path).expect("read");
    // The same detector twice in one sensor (as two models of the same kind), firing on
    // every packet to port 80.
    let doubled = || -> Vec<Box<dyn Detector>> {
        let rule = "alert tcp any any -> any 80 (msg:\"to 80\"; sid:1;)";
        let one = || {
            Box::new(RuleDetector::new(RuleSet::from_text(
                rule,
                &RuleVars::default(),
            )))
        };
        vec![one(), one()]
    };
    let a = alerts_of(&bytes, None, doubled());
    let b = alerts_of(&bytes, None, doubled());
    assert!(a.len() >= 400, "{} alerts", a.len());
    let mut ids: Vec<&str> = a.iter().chain(&b).map(|x| x.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "ids repeat across two sensors or within one");
    assert!(a.iter().all(|x| x.id.len() == 26 && !x.detector.is_empty()));
    // Offline: the run id of the capture file gives the same ids every run, in time order.
    let run = RunId::of_capture_file(&path).expect("read");
    let one = alerts_of(&bytes, Some(run), detectors());
    let two = alerts_of(&bytes, Some(run), detectors());
    assert_eq!(one, two);
    let other = alerts_of(
        &bytes,
        Some(RunId::from_digest(b"another capture")),
        detectors(),
    );
    assert!(one.iter().zip(&other).all(|(x, y)| x.id != y.id));
    for pair in one.windows(2) {
        if pair[0].timestamp.as_micros() / 1000 < pair[1].timestamp.as_micros() / 1000 {
            assert!(pair[0].id < pair[1].id, "ids sort by time");
        }
    }
}

/// A flow record serializes to exactly the bytes the JSON Lines writer writes, on every flow of
/// the bundled sample (a server storing `serde_json::to_value(flow)` stores the CLI's shape).
#[test]
fn flow_records_serialize_as_the_jsonl_writer_writes_them() {
    use netsec_core::output::JsonlFlowWriter;
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/synthetic.pcap"))
            .expect("bundled sample");
    let out = pull(&bytes);
    assert!(out.flows.len() > 900);
    let mut w = JsonlFlowWriter::new(Vec::new());
    for f in &out.flows {
        w.emit(f).expect("in memory");
    }
    let text = String::from_utf8(w.into_inner()).expect("utf-8");
    for (line, flow) in text.lines().zip(&out.flows) {
        assert_eq!(serde_json::to_string(flow).expect("serializes"), line);
    }
    let stats = serde_json::to_value(&out.stats).expect("stats serialize");
    assert_eq!(stats["packets"], out.stats.packets);
    assert!(stats["first_ts"].is_string());
}

/// Each detector's statistics come through the trait: rule counts, behavioural tables, alerts.
#[test]
fn detector_stats_are_typed_and_serializable() {
    let Some(path) = crate::util::pcap("attacks/portscan_syn_nmap.pcapng") else {
        return;
    };
    let bytes = std::fs::read(&path).expect("read");
    let mut sensor = Sensor::new(FlowTableConfig::default(), detectors()).expect("config");
    each_frame(&bytes, |raw| sensor.push(raw));
    sensor.finish();
    let alerts: Vec<Alert> = sensor.drain_alerts().collect();
    let stats = sensor.detector_stats();
    assert_eq!(stats.len(), sensor.detectors().len());
    let rules = &stats[0];
    assert_eq!(rules.detector, "rules");
    assert!(rules.counters["rules_loaded"] > 20);
    assert!(rules.counters["matches"] >= rules.alerts);
    let scan = stats
        .iter()
        .find(|s| s.detector == "port_scan")
        .expect("port scan");
    assert!(scan.alerts >= 1);
    // Per-detector alert counts agree with what came out (no filter configured).
    for s in &stats {
        let out = alerts.iter().filter(|a| a.detector == s.detector).count() as u64;
        assert_eq!(out, s.alerts, "{}", s.detector);
    }
    let json = serde_json::to_value(&stats).expect("serializes");
    assert_eq!(
        json[0]["counters"]["rules_loaded"],
        rules.counters["rules_loaded"]
    );
}

/// The pull drivers take sinks too: one thread and staged write the same bytes.
#[test]
fn sinks_get_the_same_bytes_from_every_pull_driver() {
    use netsec_core::detect::JsonlAlertSink;
    use netsec_core::output::CsvFlowWriter;
    let bytes =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/synthetic.pcap"))
            .expect("bundled sample");
    let run = |staged: bool| {
        let reader = PcapReader::new(bytes.as_slice()).expect("header");
        let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), detectors())
            .expect("config");
        p.sensor_mut().set_run_id(RUN);
        let mut flows = CsvFlowWriter::new(Vec::new());
        let mut alerts = JsonlAlertSink::new(Vec::new());
        if staged {
            p.run_staged_into(&mut flows, &mut alerts).expect("runs");
        } else {
            p.run_into(&mut flows, &mut alerts).expect("runs");
        }
        (flows.into_inner(), alerts.into_inner())
    };
    let (one, two) = (run(false), run(true));
    assert!(one.0.len() > 100_000 && !one.1.is_empty());
    assert_eq!(one, two);
}

/// A rule reload: the new rule detector replaces the old one between two packets, and only
/// the new rules fire afterwards.
#[test]
fn a_replaced_rule_detector_takes_over_between_packets() {
    let rule = |sid: u32, port: u16| {
        let text =
            format!(r#"alert udp any any -> any {port} (msg:"to {port}"; sid:{sid}; rev:1;)"#);
        Box::new(RuleDetector::new(RuleSet::from_text(
            &text,
            &RuleVars::default(),
        ))) as Box<dyn Detector>
    };
    let mut sensor = Sensor::new(FlowTableConfig::default(), vec![rule(1, 53)]).expect("sensor");
    let pkt = datagram(1);
    sensor.push(&frame(&pkt, 1));
    let old = sensor
        .replace_detector(rule(2, 9999))
        .expect("the old one comes back");
    assert_eq!(old.name(), "rules");
    assert_eq!(sensor.detectors().len(), 1, "replaced, not added");
    sensor.push(&frame(&pkt, 2));
    let sids: Vec<_> = sensor
        .drain_alerts()
        .map(|a| a.meta["sid"].clone())
        .collect();
    assert_eq!(
        sids,
        vec![serde_json::json!(1)],
        "the new rule does not match port 53"
    );
    assert!(sensor.remove_detector("rules").is_some());
    assert!(sensor.detectors().is_empty());
    assert!(
        sensor.replace_detector(rule(3, 53)).is_none(),
        "added when absent"
    );
    sensor.push(&frame(&pkt, 3));
    assert_eq!(sensor.drain_alerts().count(), 1);
}
