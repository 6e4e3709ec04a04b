//! [`FlowPipeline`]: the pull driver, a [`PacketSource`] read to its end through a [`Sensor`].

use crate::capture::{CaptureError, LinkType, PacketSource};
use crate::detect::{Alert, AlertSink, Detector, SinkError};
use crate::flow::{FlowConfigError, FlowRecord, FlowTable, FlowTableConfig, FlowTableStats};
use crate::output::FlowSink;
use crate::time::Timestamp;

use super::{PipelineStats, Sensor};

/// Frames per batch of the run loops, and flows per batch of their final flush.
pub(super) const BATCH: usize = 4096;

/// Why a pipeline run stopped early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError<E> {
    /// The capture could not be read further (I/O error, corruption, truncation).
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The flow (or alert) consumer returned an error.
    #[error("flow consumer failed: {0}")]
    Consumer(E),
}

/// Drives a packet source to its end through a [`Sensor`]: the pull counterpart of
/// [`Sensor::push`], for capture files and other sources that can be read in a loop.
///
/// ```
/// use netsec_core::capture::{LinkType, PcapReader, PcapWriter};
/// use netsec_core::flow::FlowTableConfig;
/// use netsec_core::pipeline::FlowPipeline;
/// # use netsec_core::time::Timestamp;
/// # let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535)?;
/// # // One IPv4/UDP datagram 10.0.0.1:1000 -> 10.0.0.2:53 with 4 payload bytes.
/// # let frame = [0x45,0,0,32, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2, 0x03,0xe8,0,53, 0,12,0,0, 1,2,3,4];
/// # w.write_packet(Timestamp::from_micros(1_000_000), &frame, frame.len() as u32)?;
/// # let capture: Vec<u8> = w.into_inner()?;
/// let source = PcapReader::new(capture.as_slice())?;
/// let mut pipeline = FlowPipeline::new(source, FlowTableConfig::default())?;
/// let mut flows = Vec::new();
/// pipeline.run(|flow| {
///     flows.push((flow.dst_port, flow.packets()));
///     Ok::<(), std::io::Error>(())
/// })?;
/// assert_eq!(flows, vec![(53, 1)]);
/// assert_eq!(pipeline.stats().ip_packets, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// With detectors, alerts arrive alongside the flows:
///
/// ```
/// # use netsec_core::capture::{LinkType, PcapReader, PcapWriter};
/// # use netsec_core::flow::FlowTableConfig;
/// # use netsec_core::time::Timestamp;
/// use netsec_core::detect::Detector;
/// use netsec_core::pipeline::FlowPipeline;
/// use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};
/// # let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535)?;
/// # let frame = [0x45,0,0,32, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2, 0x03,0xe8,0,53, 0,12,0,0, 1,2,3,4];
/// # w.write_packet(Timestamp::from_micros(1_000_000), &frame, frame.len() as u32)?;
/// # let capture: Vec<u8> = w.into_inner()?;
/// let rules = RuleSet::from_text(
///     r#"alert udp any any -> any 53 (msg:"bytes 1-4"; content:"|01 02 03 04|"; sid:1;)"#,
///     &RuleVars::default(),
/// );
/// let detectors: Vec<Box<dyn Detector>> = vec![Box::new(RuleDetector::new(rules))];
/// let source = PcapReader::new(capture.as_slice())?;
/// let mut pipeline = FlowPipeline::with_detectors(source, FlowTableConfig::default(), detectors)?;
/// let (mut flow_ids, mut alert_flow_ids) = (Vec::new(), Vec::new());
/// pipeline.run_with_alerts(
///     |flow| Ok::<(), std::io::Error>(flow_ids.push(flow.id)),
///     |alert| Ok(alert_flow_ids.push(alert.flow_id)),
/// )?;
/// assert_eq!(flow_ids, vec![1]);
/// assert_eq!(alert_flow_ids, vec![Some(1)]);
/// assert_eq!(pipeline.stats().alerts_by_detector, vec![("rules".to_string(), 1)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FlowPipeline<S> {
    pub(super) source: S,
    pub(super) sensor: Sensor,
    /// The batch buffer of [`run_with_alerts`](Self::run_with_alerts), reused across runs.
    exported: Vec<FlowRecord>,
}

impl<S> std::fmt::Debug for FlowPipeline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowPipeline")
            .field("sensor", &self.sensor)
            .finish_non_exhaustive()
    }
}

impl<S> FlowPipeline<S> {
    /// The sensor this pipeline drives (counters, detectors, pending alerts).
    pub fn sensor(&self) -> &Sensor {
        &self.sensor
    }

    /// The sensor, mutably: push frames from elsewhere, tick, or drain.
    pub fn sensor_mut(&mut self) -> &mut Sensor {
        &mut self.sensor
    }

    /// Gives back the source and the sensor (with its open flows and pending alerts).
    pub fn into_parts(self) -> (S, Sensor) {
        (self.source, self.sensor)
    }
}

impl<S: PacketSource> FlowPipeline<S> {
    /// A pipeline reading `source` into a flow table built from `config`, without detectors.
    ///
    /// # Errors
    /// [`FlowConfigError`] when `config` is invalid (e.g. a zero timeout or table size).
    pub fn new(source: S, config: FlowTableConfig) -> Result<Self, FlowConfigError> {
        Self::with_detectors(source, config, Vec::new())
    }

    /// A pipeline that also runs `detectors` (in this order) on every packet and finished flow;
    /// see the [module docs](crate::pipeline) for the exact call order.
    ///
    /// # Errors
    /// [`FlowConfigError`] when `config` is invalid (e.g. a zero timeout or table size).
    pub fn with_detectors(
        source: S,
        config: FlowTableConfig,
        detectors: Vec<Box<dyn Detector>>,
    ) -> Result<Self, FlowConfigError> {
        Ok(Self::with_sensor(source, Sensor::new(config, detectors)?))
    }

    /// A pipeline reading `source` into `sensor` (built by
    /// [`CheckedSensorConfig::build`](crate::config::CheckedSensorConfig::build), say).
    pub fn with_sensor(source: S, sensor: Sensor) -> Self {
        FlowPipeline {
            source,
            sensor,
            exported: Vec::with_capacity(64),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &PipelineStats {
        self.sensor.stats()
    }

    /// Input bytes consumed so far (for progress reporting).
    pub fn bytes_consumed(&self) -> u64 {
        self.source.bytes_consumed()
    }

    /// Link type of the most recent frame, if any was read.
    pub fn last_link_type(&self) -> Option<LinkType> {
        self.sensor.last_link_type()
    }

    /// The flow table's own counters (peak size, evictions, exports by reason, fragments).
    pub fn table_stats(&self) -> FlowTableStats {
        self.sensor.table_stats()
    }

    /// The flow table (for inspection). Flows exported through it directly bypass the
    /// detectors: prefer [`advance_time`](Self::advance_time) for live-mode ticks.
    pub fn table_mut(&mut self) -> &mut FlowTable {
        &mut self.sensor.parts().0.table
    }

    /// The detectors, in call order.
    pub fn detectors(&self) -> &[Box<dyn Detector>] {
        self.sensor.detectors()
    }

    /// Alerts raised and not yet taken, in the order they were raised.
    pub fn alerts(&self) -> &[Alert] {
        self.sensor.alerts()
    }

    /// Takes the pending alerts, in the order they were raised. The internal buffer keeps its
    /// capacity, so draining after every batch allocates nothing in steady state.
    pub fn drain_alerts(&mut self) -> std::vec::Drain<'_, Alert> {
        self.sensor.drain_alerts()
    }

    /// Processes up to `max_packets` frames, appending exported flows to `out`; alerts raised by
    /// the detectors are kept for [`drain_alerts`](Self::drain_alerts).
    ///
    /// Returns `Ok(true)` while the source may have more frames and `Ok(false)` at its clean end
    /// (remaining flows are then still in the table: call [`finish`](Self::finish)).
    ///
    /// # Errors
    /// [`CaptureError`] when the source fails; flows exported (and alerts raised) before the
    /// failure are already delivered, and the remaining flows can be collected with
    /// [`finish`](Self::finish).
    pub fn process_batch(
        &mut self,
        max_packets: usize,
        out: &mut Vec<FlowRecord>,
    ) -> Result<bool, CaptureError> {
        for _ in 0..max_packets {
            let Some(raw) = self.source.next_packet()? else {
                return Ok(false);
            };
            self.sensor.push_into(&raw, out);
        }
        Ok(true)
    }

    /// Ends the run: exports every flow still in the table (end reason `end`) into `out`, and
    /// gives each to the detectors.
    pub fn finish(&mut self, out: &mut Vec<FlowRecord>) {
        self.sensor.finish_into(out);
    }

    /// [`finish`](Self::finish) in chunks: exports at most `max` of the flows still in the
    /// table (in id order, continuing the previous call) into `out` and gives them to the
    /// detectors; returns `true` once the table is empty. Delivering each chunk before asking
    /// for the next keeps memory at `max` records, where one `finish` of a table holding a
    /// million flows would hold them all.
    pub fn finish_batch(&mut self, max: usize, out: &mut Vec<FlowRecord>) -> bool {
        self.sensor.finish_some_into(max, out)
    }

    /// Live-mode clock tick: exports into `out` the flows whose timeouts passed by `now` and
    /// gives each to the detectors (see [`Sensor::tick`]).
    pub fn advance_time(&mut self, now: Timestamp, out: &mut Vec<FlowRecord>) {
        self.sensor.tick_into(now, out);
    }

    /// Runs to the end of the source, calling `on_flow` for each flow in export order.
    ///
    /// Alerts raised by detectors are discarded; use
    /// [`run_with_alerts`](Self::run_with_alerts) to receive them. On a capture error every
    /// flow assembled before the damage is still delivered (flushed with end reason `end`),
    /// then the error is returned.
    ///
    /// # Errors
    /// [`PipelineError::Capture`] when the source fails, [`PipelineError::Consumer`] when
    /// `on_flow` does (the run stops at once).
    pub fn run<E, F>(&mut self, on_flow: F) -> Result<(), PipelineError<E>>
    where
        F: FnMut(&FlowRecord) -> Result<(), E>,
    {
        self.run_with_alerts(on_flow, |_| Ok(()))
    }

    /// Runs to the end of the source like [`run_with_alerts`](Self::run_with_alerts),
    /// delivering flows to `flows` and alerts to `alerts`, then flushing both.
    ///
    /// # Errors
    /// [`PipelineError::Capture`] when the source fails, [`PipelineError::Consumer`] when a
    /// sink does (the run stops at once).
    pub fn run_into(
        &mut self,
        flows: &mut dyn FlowSink,
        alerts: &mut dyn AlertSink,
    ) -> Result<(), PipelineError<SinkError>> {
        self.run_with_alerts(|f| flows.emit(f), |a| alerts.emit(a))?;
        flows.flush().map_err(PipelineError::Consumer)?;
        alerts.flush().map_err(PipelineError::Consumer)
    }

    /// Runs to the end of the source, calling `on_flow` for each flow in export order and
    /// `on_alert` for each alert in the order raised.
    ///
    /// Work is done in batches of 4,096 frames, and the flows still open at the end are
    /// flushed 4,096 at a time; within a batch the batch's flows are delivered first, then its
    /// alerts. On a capture error every flow assembled before the damage is
    /// still delivered (flushed with end reason `end`, and seen by the detectors), with every
    /// alert raised so far, then the error is returned.
    ///
    /// # Errors
    /// [`PipelineError::Capture`] when the source fails, [`PipelineError::Consumer`] when
    /// `on_flow` or `on_alert` does (the run stops at once).
    pub fn run_with_alerts<E, F, A>(
        &mut self,
        mut on_flow: F,
        mut on_alert: A,
    ) -> Result<(), PipelineError<E>>
    where
        F: FnMut(&FlowRecord) -> Result<(), E>,
        A: FnMut(&Alert) -> Result<(), E>,
    {
        let mut buf = std::mem::take(&mut self.exported);
        let mut ended: Option<Result<(), CaptureError>> = None;
        let result = loop {
            buf.clear();
            // Reading until the input ends; then the open flows, a batch at a time.
            let finished = match ended {
                None => {
                    let step = self.process_batch(BATCH, &mut buf);
                    if !matches!(step, Ok(true)) {
                        // End of input or damaged capture: what was read is still delivered.
                        ended = Some(step.map(|_| ()));
                    }
                    false
                }
                Some(_) => self.finish_batch(BATCH, &mut buf),
            };
            if let Some(e) = buf.iter().find_map(|flow| on_flow(flow).err()) {
                break Err(PipelineError::Consumer(e));
            }
            if let Some(e) = self.sensor.drain_alerts().find_map(|a| on_alert(&a).err()) {
                break Err(PipelineError::Consumer(e));
            }
            if finished {
                break match ended.take() {
                    Some(Err(e)) => Err(PipelineError::Capture(e)),
                    _ => Ok(()),
                };
            }
        };
        buf.clear();
        self.exported = buf;
        self.sensor.drain_alerts();
        result
    }
}
