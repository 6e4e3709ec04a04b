//! Two-stage running: reading and flow tracking on the caller's thread, detection on another.
//!
//! [`FlowPipeline::run_staged`] (pull) and [`StagedSensor`] (push) split the work of a
//! [`Sensor`] across two threads connected by bounded channels of batches, the way IDS engines
//! pipeline capture and detection:
//!
//! - **stage 1** (the calling thread): reads or is pushed frames, decodes them, runs the flow table and the
//!   application layer, and puts each decoded IP or ARP packet (its `Copy` summary plus a copy
//!   of its payload bytes), its [`FlowContext`] and the flows its processing exported into a
//!   batch of up to 4,096 frames;
//! - **stage 2** (a scoped thread): gives the exported flows and each packet to the detectors
//!   exactly as [`Sensor::push`] does, then hands the batch's flows and alerts to the caller's
//!   callbacks or sinks.
//!
//! Detectors see the same calls in the same order, so flows and alerts are identical to the
//! one-thread run (a test checks it on real captures). Batches are recycled through a return
//! channel, so steady-state running allocates nothing per batch; at most [`IN_FLIGHT`] batches
//! exist, which bounds memory whatever the input length.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use super::sensor::Sensor;
use super::step::{Detection, Tracker};
use super::{FlowPipeline, PipelineError, PipelineStats};
use crate::capture::{CaptureError, PacketSource, RawPacket};
use crate::decode::{ArpInfo, DecodeError, IpPacket, L2Info, PacketMeta};
use crate::detect::{Alert, AlertSink, PacketView, SinkError};
use crate::features::FeatureVector;
use crate::flow::{FlowContext, FlowRecord};
use crate::output::FlowSink;
use crate::time::Timestamp;

/// Frames per batch (as [`FlowPipeline::run_with_alerts`]).
const BATCH: usize = 4096;
/// Payload bytes after which a batch is sent early: 4,096 segmentation-offload frames of
/// 64 KiB would otherwise hold 256 MiB per batch.
const BATCH_BYTES: usize = 4 << 20;
/// Batches in existence at once: one being filled, one being detected, one queued.
const IN_FLIGHT: usize = 3;

/// A decoded packet (or a clock tick) handed to stage 2: everything but the payload bytes,
/// which are in [`Batch::bytes`] (IP packets are `Copy` apart from that slice).
#[derive(Debug, Clone, Copy)]
enum StagedPacket {
    Ip {
        meta: PacketMeta,
        l2: L2Info,
        transport_error: Option<DecodeError>,
        /// The packet's flow context (`None` for an orphan fragment).
        ctx: Option<FlowContext>,
        /// Bytes of the IP header, then of the transport header, stored before the payload.
        header_lens: (u16, u16),
    },
    Arp {
        ts: Timestamp,
        arp: ArpInfo,
        l2: L2Info,
    },
    /// [`Sensor::tick`]: the flows it expired precede it; then the detectors' `on_tick`.
    Tick(Timestamp),
    /// [`Sensor::finish`]: the flows it flushed precede it; then the detectors' `on_finish`.
    Finish,
}

/// One packet of a batch.
#[derive(Debug, Clone, Copy)]
struct StagedFrame {
    packet: StagedPacket,
    /// The frame's number in the input, from 1 (0 for ticks and the end).
    number: u64,
    /// End of the packet's payload in [`Batch::bytes`] (it starts where the previous ends).
    end: usize,
    /// Flows in [`Batch::flows`] exported up to and including this packet's processing.
    flows_end: usize,
}

/// Decoded packets, their payloads, and the flows exported while processing them.
#[derive(Debug, Default)]
struct Batch {
    bytes: Vec<u8>,
    frames: Vec<StagedFrame>,
    /// Exported flows in export order; those after the last frame's `flows_end` came from
    /// [`FlowTable::flush`](crate::flow::FlowTable::flush) at the end of input.
    flows: Vec<FlowRecord>,
    /// The features of each of `flows` (computed by stage 1, which has less to do).
    features: Vec<FeatureVector>,
}

impl Batch {
    fn clear(&mut self) {
        self.bytes.clear();
        self.frames.clear();
        self.flows.clear();
        self.features.clear();
    }

    fn is_full(&self) -> bool {
        self.frames.len() >= BATCH || self.bytes.len() >= BATCH_BYTES
    }
}

/// Stage 2 is gone: it stopped on a consumer error, which its join reports.
#[derive(Debug)]
struct Detached;

/// Stage 1's end of the two channels and the batch being filled.
struct Stage1 {
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
    batch: Option<Batch>,
    /// Compute flow features for stage 2 (only when there are detectors to give them to).
    with_features: bool,
}

/// Stage 2's ends of the channels.
struct Stage2Ends {
    full: Receiver<Batch>,
    empty: SyncSender<Batch>,
}

/// Stage 2's result: the detection (given back to the sensor), its alert counters, and the
/// first consumer error.
type Stage2<E> = (Detection, PipelineStats, Result<(), E>);

/// The connected ends of a fresh two-stage run.
fn stages(with_features: bool) -> (Stage1, Stage2Ends) {
    let (full_tx, full_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        // Cannot fail: the receiver is alive and the channel has room for all of them.
        let _ = empty_tx.send(Batch::default());
    }
    let stage1 = Stage1 {
        full: full_tx,
        empty: empty_rx,
        batch: None,
        with_features,
    };
    let ends = Stage2Ends {
        full: full_rx,
        empty: empty_tx,
    };
    (stage1, ends)
}

impl Stage1 {
    /// The batch being filled, taking an empty one from stage 2 first if needed.
    fn batch(&mut self) -> Result<&mut Batch, Detached> {
        if self.batch.is_none() {
            let mut batch = self.empty.recv().map_err(|_| Detached)?;
            batch.clear();
            self.batch = Some(batch);
        }
        self.batch.as_mut().ok_or(Detached)
    }

    /// Tracks one frame into the current batch and sends the batch when it is full.
    fn push(&mut self, tracker: &mut Tracker, raw: &RawPacket<'_>) -> Result<(), Detached> {
        self.batch()?;
        self.push_unsent(tracker, raw);
        if self.batch.as_ref().is_some_and(Batch::is_full) {
            self.send()?;
        }
        Ok(())
    }

    /// Tracks one frame into the current batch (the one packet step, without detection); the
    /// caller has made sure a batch is there.
    #[inline(always)]
    fn push_unsent(&mut self, tracker: &mut Tracker, raw: &RawPacket<'_>) {
        let Some(batch) = self.batch.as_mut() else {
            return;
        };
        let Batch {
            bytes,
            frames,
            flows,
            ..
        } = batch;
        let packet = tracker.track(raw, flows, |_, _, view, ctx| {
            let (packet, payload) = match *view {
                PacketView::Ip(ip) => {
                    // Lengths fit a u16: the IP length field bounds both headers.
                    let max = usize::from(u16::MAX);
                    let ip_header = &ip.ip_header[..ip.ip_header.len().min(max)];
                    let transport_header =
                        &ip.transport_header[..ip.transport_header.len().min(max)];
                    let packet = StagedPacket::Ip {
                        meta: ip.meta,
                        l2: ip.l2,
                        transport_error: ip.transport_error,
                        ctx: ctx.copied(),
                        header_lens: (ip_header.len() as u16, transport_header.len() as u16),
                    };
                    bytes.extend_from_slice(ip_header);
                    bytes.extend_from_slice(transport_header);
                    (packet, ip.payload)
                }
                PacketView::Arp { ts, arp, l2 } => {
                    let packet = StagedPacket::Arp {
                        ts,
                        arp: *arp,
                        l2: *l2,
                    };
                    (packet, &[][..])
                }
            };
            bytes.extend_from_slice(payload);
            packet
        });
        if let Some(packet) = packet {
            frames.push(StagedFrame {
                packet,
                // Counted by `track`, this frame included.
                number: tracker.stats.packets,
                end: bytes.len(),
                flows_end: flows.len(),
            });
        }
    }

    /// Advances the clock into the current batch: the flows `now` expires, then a tick.
    fn tick(&mut self, tracker: &mut Tracker, now: Timestamp) -> Result<(), Detached> {
        let batch = self.batch()?;
        tracker.advance_time(now, &mut batch.flows);
        batch.frames.push(StagedFrame {
            packet: StagedPacket::Tick(now),
            number: 0,
            end: batch.bytes.len(),
            flows_end: batch.flows.len(),
        });
        Ok(())
    }

    /// Exports every open flow, [`BATCH`] flows per batch (each full batch is sent), then marks
    /// the end of input in the last batch, which is left for the caller to send.
    fn flush_table(&mut self, tracker: &mut Tracker) -> Result<(), Detached> {
        loop {
            let batch = self.batch()?;
            let (_, done) = tracker.flush_some(BATCH, &mut batch.flows);
            if done {
                batch.frames.push(StagedFrame {
                    packet: StagedPacket::Finish,
                    number: 0,
                    end: batch.bytes.len(),
                    flows_end: batch.flows.len(),
                });
                return Ok(());
            }
            self.send()?;
        }
    }

    /// Sends the current batch (if any) to stage 2, with its flows' features.
    fn send(&mut self) -> Result<(), Detached> {
        let Some(mut batch) = self.batch.take() else {
            return Ok(());
        };
        if self.with_features {
            let Batch {
                flows, features, ..
            } = &mut batch;
            features.extend(flows.iter().map(FlowRecord::features));
        }
        self.full.send(batch).map_err(|_| Detached)
    }
}

impl<S: PacketSource> FlowPipeline<S> {
    /// Runs to the end of the source like [`run_with_alerts`](Self::run_with_alerts), with the
    /// detectors and both callbacks on a second thread.
    ///
    /// The calling thread reads, decodes and tracks flows (application layer included); each
    /// batch of up to 4,096 decoded packets (their `Copy` summaries, a copy of their payload
    /// bytes, their [`FlowContext`]s and the flows exported while processing them) goes over a
    /// bounded channel to a scoped thread that calls the detectors exactly as
    /// [`process_batch`](Self::process_batch) does, then the callbacks. Batches are reused, at
    /// most three exist at once, and each holds at most ~4 MiB of payload (it is sent early
    /// when full), so memory stays bounded whatever the input length or frame size.
    ///
    /// `on_progress` is called on the calling thread after each batch is read, with
    /// [`bytes_consumed`](Self::bytes_consumed); an error from it stops reading (what was read
    /// is still detected and delivered, open flows included) and is returned as
    /// [`PipelineError::Consumer`].
    ///
    /// Flows and alerts, and their order, are the same as with `run_with_alerts`: within a
    /// batch the batch's flows are delivered first, then its alerts. On a capture error every
    /// flow assembled before the damage is still delivered, with every alert, then the error is
    /// returned.
    ///
    /// # Errors
    /// [`PipelineError::Capture`] when the source fails, [`PipelineError::Consumer`] when a
    /// callback does (the run stops at once).
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
    /// let (mut flows, mut alerts) = (0, 0);
    /// pipeline.run_staged(
    ///     |_flow| {
    ///         flows += 1;
    ///         Ok::<(), std::io::Error>(())
    ///     },
    ///     |_alert| {
    ///         alerts += 1;
    ///         Ok(())
    ///     },
    ///     |_bytes_read| Ok(()),
    /// )?;
    /// assert_eq!((flows, alerts), (1, 1));
    /// assert_eq!(pipeline.stats().alerts, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run_staged<E, F, A, P>(
        &mut self,
        on_flow: F,
        on_alert: A,
        mut on_progress: P,
    ) -> Result<(), PipelineError<E>>
    where
        E: Send,
        F: FnMut(&FlowRecord) -> Result<(), E> + Send,
        A: FnMut(&Alert) -> Result<(), E> + Send,
        P: FnMut(u64) -> Result<(), E>,
    {
        let (tracker, detection) = self.sensor.parts();
        let detection = detection.take();
        let (mut stage1, ends) = stages(!detection.is_empty());
        // Stage 2 counts from zero; its counts are added to the sensor's at the end.
        let counters = zero_alert_counts(&tracker.stats);
        let source = &mut self.source;
        let (stage1, (detection, counters, stage2)) = std::thread::scope(|scope| {
            let worker =
                scope.spawn(move || detect_stage(detection, counters, ends, on_flow, on_alert));
            let read = read_stage(source, tracker, &mut stage1, &mut on_progress);
            // Closing the channel ends stage 2 once it has drained the batches sent.
            drop(stage1);
            match worker.join() {
                Ok(done) => (read, done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        let (tracker, mine) = self.sensor.parts();
        *mine = detection;
        tracker.stats.add_alert_counts(&counters);
        stage2.map_err(PipelineError::Consumer)?;
        match stage1 {
            Ok(()) => Ok(()),
            Err(Stop::Capture(e)) => Err(PipelineError::Capture(e)),
            Err(Stop::Progress(e)) => Err(PipelineError::Consumer(e)),
            // Stage 2 stopped first; its error was returned above, or it had none to give.
            Err(Stop::Detached) => Ok(()),
        }
    }
}

impl<S: PacketSource> FlowPipeline<S> {
    /// [`run_staged`](Self::run_staged) into sinks: flows to `flows`, alerts to `alerts` (both
    /// on the detection thread), then both flushed.
    ///
    /// # Errors
    /// [`PipelineError::Capture`] when the source fails, [`PipelineError::Consumer`] when a
    /// sink does.
    pub fn run_staged_into(
        &mut self,
        flows: &mut (dyn FlowSink + Send),
        alerts: &mut (dyn AlertSink + Send),
    ) -> Result<(), PipelineError<SinkError>> {
        self.run_staged(|f| flows.emit(f), |a| alerts.emit(a), |_| Ok(()))?;
        flows.flush().map_err(PipelineError::Consumer)?;
        alerts.flush().map_err(PipelineError::Consumer)
    }
}

/// Counters for a detection thread: the same detectors, every count zero.
fn zero_alert_counts(stats: &PipelineStats) -> PipelineStats {
    PipelineStats::for_detectors(stats.alerts_by_detector.iter().map(|(n, _)| n.as_str()))
}

/// Stage 1 of a pull run: fills batches until the source ends, fails or `on_progress` says
/// stop.
fn read_stage<S, E, P>(
    source: &mut S,
    tracker: &mut Tracker,
    stage1: &mut Stage1,
    on_progress: &mut P,
) -> Result<(), Stop<E>>
where
    S: PacketSource,
    P: FnMut(u64) -> Result<(), E>,
{
    loop {
        let step = fill(source, tracker, stage1);
        let progress = on_progress(source.bytes_consumed());
        if !matches!(step, Ok(true)) || progress.is_err() {
            // Last batch (end of input, damage, or told to stop): the flows still open
            // are exported too, so what was read is detected and delivered.
            stage1.flush_table(tracker).map_err(|_| Stop::Detached)?;
        }
        stage1.send().map_err(|_| Stop::Detached)?;
        progress.map_err(Stop::Progress)?;
        match step {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(Fill::Capture(e)) => return Err(Stop::Capture(e)),
            Err(Fill::Detached) => return Err(Stop::Detached),
        }
    }
}

/// Why filling a batch stopped early.
enum Fill {
    Capture(CaptureError),
    Detached,
}

/// Reads frames into the current batch until it is full; `Ok(false)` at the clean end of
/// input. The batch is left for the caller to send.
fn fill<S: PacketSource>(
    source: &mut S,
    tracker: &mut Tracker,
    stage1: &mut Stage1,
) -> Result<bool, Fill> {
    loop {
        let batch = stage1.batch().map_err(|_| Fill::Detached)?;
        if batch.is_full() {
            return Ok(true);
        }
        let Some(raw) = source.next_packet().map_err(Fill::Capture)? else {
            return Ok(false);
        };
        // Never sends: the batch had room for this frame; it is sent by the caller.
        stage1.push_unsent(tracker, &raw);
    }
}

/// Why stage 1 stopped early.
enum Stop<E> {
    Capture(CaptureError),
    Progress(E),
    /// Stage 2 is gone (it stopped on a consumer error).
    Detached,
}

/// Stage 2: runs the detectors over each batch, then delivers its flows and alerts.
fn detect_stage<E, F, A>(
    mut detection: Detection,
    mut counters: PipelineStats,
    ends: Stage2Ends,
    mut on_flow: F,
    mut on_alert: A,
) -> Stage2<E>
where
    F: FnMut(&FlowRecord) -> Result<(), E>,
    A: FnMut(&Alert) -> Result<(), E>,
{
    let mut alerts: Vec<Alert> = Vec::with_capacity(64);
    let result = (|| {
        for batch in ends.full.iter() {
            detect_batch(&mut detection, &mut counters, &batch, &mut alerts);
            for flow in &batch.flows {
                on_flow(flow)?;
            }
            for alert in alerts.drain(..) {
                on_alert(&alert)?;
            }
            // Stage 1 may have stopped; the batch is then simply dropped.
            let _ = ends.empty.send(batch);
        }
        Ok(())
    })();
    (detection, counters, result)
}

/// Gives a batch's flows and packets to the detectors in the one-thread order.
fn detect_batch(
    detection: &mut Detection,
    counters: &mut PipelineStats,
    batch: &Batch,
    alerts: &mut Vec<Alert>,
) {
    let (mut start, mut flows_done) = (0, 0);
    for f in &batch.frames {
        batch_flows(detection, counters, batch, flows_done..f.flows_end, alerts);
        flows_done = f.flows_end;
        let payload = &batch.bytes[start..f.end];
        start = f.end;
        match f.packet {
            StagedPacket::Ip {
                meta,
                l2,
                transport_error,
                ctx,
                header_lens: (ip_len, transport_len),
            } => {
                let (ip_header, rest) = payload.split_at(usize::from(ip_len).min(payload.len()));
                let (transport_header, payload) =
                    rest.split_at(usize::from(transport_len).min(rest.len()));
                let ip = IpPacket {
                    meta,
                    payload,
                    l2,
                    transport_error,
                    ip_header,
                    transport_header,
                };
                detection.packet(
                    counters,
                    f.number,
                    &PacketView::Ip(&ip),
                    ctx.as_ref(),
                    alerts,
                )
            }
            StagedPacket::Arp { ts, arp, l2 } => {
                let view = PacketView::Arp {
                    ts,
                    arp: &arp,
                    l2: &l2,
                };
                detection.packet(counters, f.number, &view, None, alerts)
            }
            StagedPacket::Tick(now) => detection.tick(counters, now, alerts),
            StagedPacket::Finish => detection.finish(counters, alerts),
        }
    }
    let all = batch.flows.len();
    batch_flows(detection, counters, batch, flows_done..all, alerts);
}

/// Gives the batch's flows in `range`, with their precomputed features, to the detectors.
fn batch_flows(
    detection: &mut Detection,
    counters: &mut PipelineStats,
    batch: &Batch,
    range: std::ops::Range<usize>,
    alerts: &mut Vec<Alert>,
) {
    // Without detectors stage 1 computes no features, and there is nobody to give flows to.
    if detection.is_empty() {
        return;
    }
    let features = &batch.features[range.clone()];
    for (flow, features) in batch.flows[range].iter().zip(features) {
        detection.flow(counters, flow, features, alerts);
    }
}

/// A [`Sensor`] split over two threads, for push: frames are tracked on the caller's thread
/// and detected on a second one, which hands flows and alerts to the sinks given at start.
///
/// This is the push counterpart of [`FlowPipeline::run_staged`]: the same batches, the same
/// detector calls, so the flows and alerts (and their order) are those of a one-thread
/// [`Sensor`] fed the same frames and ticks. A batch goes to the detection thread when it is
/// full (4,096 frames or ~4 MiB of payload) and on every [`tick`](Self::tick), so a live sensor
/// that ticks once a second delivers its alerts within a second. At most three batches exist.
/// Dropping it without [`finish`](Self::finish) lets the detection thread deliver what was
/// sent and end on its own.
///
/// ```
/// use std::sync::mpsc::channel;
/// use netsec_core::capture::{LinkType, RawPacket};
/// use netsec_core::detect::{ChannelSink, Detector};
/// use netsec_core::flow::FlowTableConfig;
/// use netsec_core::output::NoFlows;
/// use netsec_core::pipeline::{Sensor, StagedSensor};
/// use netsec_core::rules::{RuleDetector, RuleSet, RuleVars};
/// use netsec_core::time::Timestamp;
///
/// let rules = RuleSet::from_text(
///     r#"alert udp any any -> any 53 (msg:"bytes 1-4"; content:"|01 02 03 04|"; sid:1;)"#,
///     &RuleVars::default(),
/// );
/// let detectors: Vec<Box<dyn Detector>> = vec![Box::new(RuleDetector::new(rules))];
/// let sensor = Sensor::new(FlowTableConfig::default(), detectors)?;
/// let (tx, rx) = channel();
/// let mut staged = StagedSensor::start(sensor, Box::new(NoFlows), Box::new(ChannelSink::new(tx)));
/// let frame = [0x45,0,0,32, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2,
///              0x03,0xe8,0,53, 0,12,0,0, 1,2,3,4];
/// staged.push(&RawPacket {
///     ts: Timestamp::from_micros(1_000_000),
///     link_type: LinkType::RAW,
///     data: &frame,
///     orig_len: frame.len() as u32,
/// })?;
/// staged.tick(Timestamp::from_micros(2_000_000))?; // ships the batch to the detection thread
/// let alert = rx.recv()?;
/// assert_eq!(alert.meta_u64("sid"), Some(1));
/// let sensor = staged.finish()?;
/// assert_eq!(sensor.stats().alerts, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StagedSensor {
    sensor: Sensor,
    stage1: Stage1,
    worker: Option<JoinHandle<Stage2<SinkError>>>,
}

impl std::fmt::Debug for StagedSensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedSensor")
            .field("sensor", &self.sensor)
            .finish_non_exhaustive()
    }
}

impl StagedSensor {
    /// Starts the detection thread with `sensor`'s detectors, which deliver every flow to
    /// `flows` and every alert to `alerts`, and flush both at the end.
    pub fn start(
        mut sensor: Sensor,
        mut flows: Box<dyn FlowSink + Send>,
        mut alerts: Box<dyn AlertSink + Send>,
    ) -> StagedSensor {
        let (tracker, detection) = sensor.parts();
        let detection = detection.take();
        let counters = zero_alert_counts(&tracker.stats);
        let (stage1, ends) = stages(!detection.is_empty());
        let worker = std::thread::spawn(move || {
            let (detection, counters, result) = detect_stage(
                detection,
                counters,
                ends,
                |f| flows.emit(f),
                |a| alerts.emit(a),
            );
            let result = result
                .and_then(|()| flows.flush())
                .and_then(|()| alerts.flush());
            (detection, counters, result)
        });
        StagedSensor {
            sensor,
            stage1,
            worker: Some(worker),
        }
    }

    /// Tracks one captured frame; detection follows on the other thread.
    ///
    /// # Errors
    /// The sink error that stopped the detection thread (the run is over: call
    /// [`finish`](Self::finish) to get the sensor back).
    pub fn push(&mut self, frame: &RawPacket<'_>) -> Result<(), SinkError> {
        let (tracker, _) = self.sensor.parts();
        match self.stage1.push(tracker, frame) {
            Ok(()) => Ok(()),
            Err(Detached) => Err(self.stopped()),
        }
    }

    /// Advances the clock to `now` (as [`Sensor::tick`]) and ships the batch, so what was
    /// pushed so far reaches the sinks without waiting for a full batch.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn tick(&mut self, now: Timestamp) -> Result<(), SinkError> {
        let (tracker, _) = self.sensor.parts();
        let sent = self
            .stage1
            .tick(tracker, now)
            .and_then(|()| self.stage1.send());
        sent.map_err(|Detached| self.stopped())
    }

    /// Counters of the tracking side so far (frames, flows, skips; alert counts arrive at
    /// [`finish`](Self::finish)).
    pub fn stats(&self) -> &PipelineStats {
        self.sensor.stats()
    }

    /// Ends the input: exports every open flow, waits for the detection thread to deliver
    /// everything and flush the sinks, and gives back the sensor with its detectors and alert
    /// counts.
    ///
    /// # Errors
    /// The first sink error of the detection thread.
    pub fn finish(mut self) -> Result<Sensor, SinkError> {
        let (tracker, _) = self.sensor.parts();
        // A detached stage 2 has its error in the join below.
        let _ = self
            .stage1
            .flush_table(tracker)
            .and_then(|()| self.stage1.send());
        let Some((detection, counters, result)) = self.join() else {
            // The thread stopped on an error already reported by `push` or `tick`.
            return Err(SinkError::Disconnected);
        };
        let (tracker, mine) = self.sensor.parts();
        *mine = detection;
        tracker.stats.add_alert_counts(&counters);
        result.map(|()| self.sensor)
    }

    /// The error that stopped the detection thread, once it has stopped (the detectors and
    /// their counts go back to the sensor); [`SinkError::Disconnected`] when asked again.
    fn stopped(&mut self) -> SinkError {
        match self.join() {
            Some((detection, counters, result)) => {
                let (tracker, mine) = self.sensor.parts();
                *mine = detection;
                tracker.stats.add_alert_counts(&counters);
                result.err().unwrap_or(SinkError::Disconnected)
            }
            None => SinkError::Disconnected,
        }
    }

    /// Closes the channel to the detection thread and waits for it; `None` when that was done
    /// before.
    fn join(&mut self) -> Option<Stage2<SinkError>> {
        // Replacing the sender closes the channel, which ends stage 2 after the batches sent.
        let (closed, _) = stages(false);
        drop(std::mem::replace(&mut self.stage1, closed));
        match self.worker.take().map(JoinHandle::join) {
            Some(Ok(done)) => Some(done),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => None,
        }
    }
}
