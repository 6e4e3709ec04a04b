//! [`Sensor`]: the push-driven core that every driver (pull, staged, live) runs.

use crate::capture::{LinkType, RawPacket};
use crate::detect::{Alert, AlertSink, Detector, DetectorStats, RunId, SinkError};
use crate::flow::{FlowConfigError, FlowRecord, FlowTableConfig, FlowTableStats};
use crate::output::FlowSink;
use crate::rules::{AlertFilter, FilterStats};
use crate::time::Timestamp;

use super::step::{Detection, Tracker};
use super::PipelineStats;

/// A sensor you push captured frames into: decode → flow table → detectors, with the clock
/// driven by packet time and, when the network is quiet, by [`tick`](Sensor::tick).
///
/// - [`push`](Sensor::push) one captured frame;
/// - [`tick`](Sensor::tick) to advance the clock without a packet: flows whose idle or active
///   timeout passed are exported and given to the detectors, then each detector's
///   [`on_tick`](Detector::on_tick) runs;
/// - [`finish`](Sensor::finish) at the end of input: every open flow is exported.
///
/// Exported flows and raised alerts wait in the sensor until taken, with
/// [`drain_flows`](Sensor::drain_flows) and [`drain_alerts`](Sensor::drain_alerts) or
/// [`deliver`](Sensor::deliver) into an [`AlertSink`] and a [`FlowSink`]. Both buffers are
/// reused, so a sensor drained after every push or batch allocates nothing per packet in
/// steady state. Memory is bounded by the flow table's `max_flows` and the detectors' own caps,
/// whatever the length of the stream.
///
/// Call order, for every frame in push order: the flows the frame's processing exported go to
/// each detector's [`on_flow_end`](Detector::on_flow_end) (flow by flow, detectors in list
/// order), then the packet goes to each detector's [`on_packet`](Detector::on_packet). The
/// output depends only on the frames and ticks pushed, never on the wall clock.
///
/// ```
/// use netsec_core::capture::{LinkType, RawPacket};
/// use netsec_core::flow::FlowTableConfig;
/// use netsec_core::pipeline::Sensor;
/// use netsec_core::time::Timestamp;
///
/// let mut sensor = Sensor::new(FlowTableConfig::default(), Vec::new())?;
/// // One IPv4/UDP datagram 10.0.0.1:1000 -> 10.0.0.2:53, as a capture thread would hand it over.
/// let frame = [0x45,0,0,32, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2,
///              0x03,0xe8,0,53, 0,12,0,0, 1,2,3,4];
/// sensor.push(&RawPacket {
///     ts: Timestamp::from_micros(1_000_000),
///     link_type: LinkType::RAW,
///     data: &frame,
///     orig_len: frame.len() as u32,
/// });
/// assert_eq!(sensor.drain_flows().count(), 0); // the flow is still open
/// // Three quiet minutes later the clock alone ends it (idle timeout 120 s).
/// sensor.tick(Timestamp::from_micros(181_000_000));
/// let flows: Vec<_> = sensor.drain_flows().collect();
/// assert_eq!((flows[0].dst_port, flows[0].packets()), (53, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sensor {
    tracker: Tracker,
    detection: Detection,
    /// Alerts raised and not yet taken, in the order raised.
    alerts: Vec<Alert>,
    /// Flows exported and not yet taken, in export order.
    flows: Vec<FlowRecord>,
}

impl std::fmt::Debug for Sensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sensor")
            .field("tracker", &self.tracker)
            .field("detection", &self.detection)
            .field("pending_alerts", &self.alerts.len())
            .field("pending_flows", &self.flows.len())
            .finish_non_exhaustive()
    }
}

impl Sensor {
    /// A sensor with a flow table built from `config` that runs `detectors` (in this order).
    ///
    /// Its alerts get ids of a [`RunId::random`] run, unique across sensors and restarts; an
    /// offline run that wants the same ids every time sets its own with
    /// [`set_run_id`](Self::set_run_id).
    ///
    /// # Errors
    /// [`FlowConfigError`] when `config` is invalid (e.g. a zero timeout or table size).
    pub fn new(
        config: FlowTableConfig,
        detectors: Vec<Box<dyn Detector>>,
    ) -> Result<Self, FlowConfigError> {
        let mut tracker = Tracker::new(config)?;
        let detection = Detection::new(detectors, RunId::random());
        tracker.stats = detection.stats();
        Ok(Sensor {
            tracker,
            detection,
            alerts: Vec::with_capacity(64),
            flows: Vec::with_capacity(64),
        })
    }

    /// Processes one captured frame. A malformed frame is counted in
    /// [`stats`](Self::stats) and skipped; nothing a frame holds can make this fail or panic.
    #[inline]
    pub fn push(&mut self, frame: &RawPacket<'_>) {
        let mut flows = std::mem::take(&mut self.flows);
        self.push_into(frame, &mut flows);
        self.flows = flows;
    }

    /// [`push`](Self::push), appending the exported flows to `flows` instead of the sensor's
    /// own buffer (the pull driver's batch buffer).
    #[inline(always)]
    pub(crate) fn push_into(&mut self, frame: &RawPacket<'_>, flows: &mut Vec<FlowRecord>) {
        let Sensor {
            tracker,
            detection,
            alerts,
            ..
        } = self;
        tracker.track(frame, flows, |stats, exported, view, ctx| {
            if !detection.is_empty() {
                detection.flows(stats, exported, alerts);
                detection.packet(stats, stats.packets, view, ctx, alerts);
            }
        });
    }

    /// Advances the clock to `now` without a packet: exports the flows whose idle or active
    /// timeout passed by `now` (see [`FlowTable::advance_time`](crate::flow::FlowTable::advance_time))
    /// and gives each to the detectors, then gives the tick to every detector's
    /// [`on_tick`](Detector::on_tick). A live sensor calls this on a wall-clock timer, with the
    /// capture clock's notion of now, so idle flows end while the network is quiet.
    pub fn tick(&mut self, now: Timestamp) {
        let mut flows = std::mem::take(&mut self.flows);
        self.tick_into(now, &mut flows);
        self.flows = flows;
    }

    /// [`tick`](Self::tick), appending the exported flows to `flows`.
    pub(crate) fn tick_into(&mut self, now: Timestamp, flows: &mut Vec<FlowRecord>) {
        let start = self.tracker.advance_time(now, flows);
        let stats = &mut self.tracker.stats;
        self.detection
            .flows(stats, &flows[start..], &mut self.alerts);
        self.detection.tick(stats, now, &mut self.alerts);
    }

    /// Ends the input: exports every flow still open (end reason `end`) and gives each to the
    /// detectors, then calls every detector's [`on_finish`](Detector::on_finish) (pending
    /// episodes are raised). The sensor stays usable: frames pushed afterwards start new flows.
    /// With many flows open, [`finish_batch`](Self::finish_batch) bounds the memory.
    pub fn finish(&mut self) {
        let mut flows = std::mem::take(&mut self.flows);
        self.finish_into(&mut flows);
        self.flows = flows;
    }

    /// [`finish`](Self::finish), appending the exported flows to `flows`.
    pub(crate) fn finish_into(&mut self, flows: &mut Vec<FlowRecord>) {
        let start = self.tracker.flush(flows);
        let stats = &mut self.tracker.stats;
        self.detection
            .flows(stats, &flows[start..], &mut self.alerts);
        self.detection.finish(stats, &mut self.alerts);
    }

    /// [`finish`](Self::finish) in chunks: exports at most `max` of the open flows (in id
    /// order, continuing the previous call) and gives them to the detectors; returns `true`
    /// once the table is empty, after the detectors' [`on_finish`](Detector::on_finish).
    /// Draining the flows after each call keeps memory at `max` records, where one `finish`
    /// of a table holding 600,000 flows holds them all at once.
    pub fn finish_batch(&mut self, max: usize) -> bool {
        let mut flows = std::mem::take(&mut self.flows);
        let done = self.finish_some_into(max, &mut flows);
        self.flows = flows;
        done
    }

    /// [`finish`](Self::finish) in chunks of at most `max` flows, appended to `flows`;
    /// `true` once the table is empty (the detectors' `on_finish` has then run).
    pub(crate) fn finish_some_into(&mut self, max: usize, flows: &mut Vec<FlowRecord>) -> bool {
        let (start, done) = self.tracker.flush_some(max, flows);
        let stats = &mut self.tracker.stats;
        self.detection
            .flows(stats, &flows[start..], &mut self.alerts);
        if done {
            self.detection.finish(stats, &mut self.alerts);
        }
        done
    }

    /// Flows exported and not yet taken, in export order.
    pub fn flows(&self) -> &[FlowRecord] {
        &self.flows
    }

    /// Takes the exported flows, in export order; the buffer keeps its capacity.
    pub fn drain_flows(&mut self) -> std::vec::Drain<'_, FlowRecord> {
        self.flows.drain(..)
    }

    /// Alerts raised and not yet taken, in the order they were raised.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Takes the pending alerts, in the order raised; the buffer keeps its capacity, so
    /// draining after every batch allocates nothing in steady state.
    pub fn drain_alerts(&mut self) -> std::vec::Drain<'_, Alert> {
        self.alerts.drain(..)
    }

    /// Hands the pending flows to `flows` (in export order), then the pending alerts to
    /// `alerts` (in the order raised), and empties both buffers.
    ///
    /// # Errors
    /// The first [`SinkError`]; what was not delivered yet is dropped.
    pub fn deliver(
        &mut self,
        flows: &mut dyn FlowSink,
        alerts: &mut dyn AlertSink,
    ) -> Result<(), SinkError> {
        let result = deliver(&self.flows, &self.alerts, flows, alerts);
        self.flows.clear();
        self.alerts.clear();
        result
    }

    /// Counters so far (frames, flows, skips by reason, alerts per detector).
    pub fn stats(&self) -> &PipelineStats {
        &self.tracker.stats
    }

    /// The flow table's own counters (peak size, evictions, exports by reason, fragments).
    pub fn table_stats(&self) -> FlowTableStats {
        self.tracker.table.stats()
    }

    /// Link type of the most recent frame, if any was pushed.
    pub fn last_link_type(&self) -> Option<LinkType> {
        self.tracker.last_link_type
    }

    /// The detectors, in call order.
    pub fn detectors(&self) -> &[Box<dyn Detector>] {
        &self.detection.detectors
    }

    /// What the sensor holds in memory and the most it may hold: the flow table against its
    /// memcap, the detectors' tables against their caps.
    pub fn memory(&self) -> SensorMemory {
        let table = self.tracker.table.stats();
        let (mut now, mut bound) = (0, 0);
        for d in &self.detection.detectors {
            let s = d.stats();
            now += s.memory_bytes;
            bound += s.memory_bound_bytes;
        }
        if self.detection.filter.is_some() {
            bound += AlertFilter::memory_bound_bytes() as u64;
        }
        SensorMemory {
            flow_bytes: table.memory_bytes as u64,
            flow_memcap_bytes: self.tracker.table.config().memcap_bytes as u64,
            detector_bytes: now,
            detector_bound_bytes: bound,
        }
    }

    /// Every detector's statistics, in call order ([`Detector::stats`]).
    pub fn detector_stats(&self) -> Vec<DetectorStats> {
        self.detection.detectors.iter().map(|d| d.stats()).collect()
    }

    /// The run whose ids this sensor's alerts get.
    pub fn run_id(&self) -> RunId {
        self.detection.run_id()
    }

    /// Gives alerts raised from now on ids of `run`, counting from 1: an offline run sets one
    /// derived from its input ([`RunId::of_capture_file`]) so the same capture gives the same
    /// ids every time.
    pub fn set_run_id(&mut self, run: RunId) {
        self.detection.set_run_id(run);
    }

    /// Applies `filter` (a `threshold.config`) to every detector's alerts from now on.
    pub fn set_alert_filter(&mut self, filter: AlertFilter) {
        self.detection.filter = Some(filter);
    }

    /// Removes the alert filter: alerts from now on pass unfiltered.
    pub fn clear_alert_filter(&mut self) {
        self.detection.filter = None;
    }

    /// Swaps in `detector` for the one with the same [`name`](Detector::name), between two
    /// packets, and returns the old one; adds it when none has that name. A live sensor
    /// reloads its rules this way: the new rule set takes over whole at one packet
    /// boundary, with its own fresh state (flowbits, thresholds), as Suricata's reload does.
    pub fn replace_detector(&mut self, detector: Box<dyn Detector>) -> Option<Box<dyn Detector>> {
        let slots = &mut self.detection.detectors;
        let old = match slots.iter_mut().find(|d| d.name() == detector.name()) {
            Some(slot) => Some(std::mem::replace(slot, detector)),
            None => {
                slots.push(detector);
                None
            }
        };
        self.detection.refresh();
        old
    }

    /// Removes the detector named `name`; `None` when there is none.
    pub fn remove_detector(&mut self, name: &str) -> Option<Box<dyn Detector>> {
        let slots = &mut self.detection.detectors;
        let at = slots.iter().position(|d| d.name() == name)?;
        let old = slots.remove(at);
        self.detection.refresh();
        Some(old)
    }

    /// What the alert filter held back so far, by reason (`None` without a filter).
    pub fn filter_stats(&self) -> Option<FilterStats> {
        self.detection.filter.as_ref().map(AlertFilter::stats)
    }

    /// Parts for the staged driver, which runs the detection on another thread.
    pub(crate) fn parts(&mut self) -> (&mut Tracker, &mut Detection) {
        (&mut self.tracker, &mut self.detection)
    }
}

/// A sensor's memory ([`Sensor::memory`]), in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SensorMemory {
    /// The flow table now (entries, index, application-layer state).
    pub flow_bytes: u64,
    /// The flow table's budget ([`FlowTableConfig::memcap_bytes`]).
    pub flow_memcap_bytes: u64,
    /// The detectors' tables now.
    pub detector_bytes: u64,
    /// The most the detectors' tables (and the alert filter) can take, every table at its cap.
    pub detector_bound_bytes: u64,
}

impl SensorMemory {
    /// The most the sensor's state can take: the flow memcap plus the detectors' bound.
    pub fn bound_bytes(&self) -> u64 {
        self.flow_memcap_bytes + self.detector_bound_bytes
    }
}

/// Gives `flows` to one sink and `alerts` to the other, stopping at the first error.
pub(crate) fn deliver(
    flows: &[FlowRecord],
    alerts: &[Alert],
    flow_sink: &mut dyn FlowSink,
    alert_sink: &mut dyn AlertSink,
) -> Result<(), SinkError> {
    for flow in flows {
        flow_sink.emit(flow)?;
    }
    for alert in alerts {
        alert_sink.emit(alert)?;
    }
    Ok(())
}
