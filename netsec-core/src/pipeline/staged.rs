//! Two-stage running: reading and flow tracking on the caller's thread, detection on another.
//!
//! [`FlowPipeline::run_staged`] splits the work of
//! [`run_with_alerts`](FlowPipeline::run_with_alerts) across two threads connected by bounded
//! channels of batches, the way IDS engines pipeline capture and detection:
//!
//! - **stage 1** (the calling thread): reads frames, decodes them, runs the flow table and the
//!   application layer, and puts each decoded IP or ARP packet (its `Copy` summary plus a copy
//!   of its payload bytes), its [`FlowContext`] and the flows its processing exported into a
//!   batch of up to 4,096 frames;
//! - **stage 2** (a scoped thread): gives the exported flows and each packet to the detectors
//!   exactly as [`process_batch`](FlowPipeline::process_batch) does, then hands the batch's
//!   flows and alerts to the caller's callbacks.
//!
//! Detectors see the same calls in the same order, so flows and alerts are identical to the
//! one-thread run (a test checks it on real captures). Batches are recycled through a return
//! channel, so steady-state running allocates nothing per batch; at most [`IN_FLIGHT`] batches
//! exist, which bounds memory whatever the input length.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::{flow_to_detectors, packet_to_detectors, FlowPipeline, PipelineError, PipelineStats};
use crate::capture::{CaptureError, PacketSource};
use crate::decode::{decode, ArpInfo, DecodeError, Decoded, IpPacket, L2Info, PacketMeta};
use crate::detect::{Alert, Detector, PacketView};
use crate::features::FeatureVector;
use crate::flow::{FlowContext, FlowRecord};
use crate::time::Timestamp;

/// Frames per batch (as [`FlowPipeline::run_with_alerts`]).
const BATCH: usize = 4096;
/// Payload bytes after which a batch is sent early: 4,096 segmentation-offload frames of
/// 64 KiB would otherwise hold 256 MiB per batch.
const BATCH_BYTES: usize = 4 << 20;
/// Batches in existence at once: one being filled, one being detected, one queued.
const IN_FLIGHT: usize = 3;

/// A decoded packet handed to stage 2: everything but the payload bytes, which are in
/// [`Batch::bytes`] (IP packets are `Copy` apart from that slice).
#[derive(Debug, Clone, Copy)]
enum StagedPacket {
    Ip {
        meta: PacketMeta,
        l2: L2Info,
        transport_error: Option<DecodeError>,
        /// The packet's flow context (`None` for an orphan fragment).
        ctx: Option<FlowContext>,
    },
    Arp {
        ts: Timestamp,
        arp: ArpInfo,
        l2: L2Info,
    },
}

/// One packet of a batch.
#[derive(Debug, Clone, Copy)]
struct StagedFrame {
    packet: StagedPacket,
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
}

/// Stage 2's result: the detectors (given back to the pipeline), its alert counters, and the
/// first consumer error.
type Stage2<E> = (Vec<Box<dyn Detector>>, PipelineStats, Result<(), E>);

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
        let (full_tx, full_rx) = sync_channel::<Batch>(IN_FLIGHT);
        let (empty_tx, empty_rx) = sync_channel::<Batch>(IN_FLIGHT);
        for _ in 0..IN_FLIGHT {
            // Cannot fail: the receiver is alive and the channel has room for all of them.
            let _ = empty_tx.send(Batch::default());
        }
        let detectors = std::mem::take(&mut self.detectors);
        let with_features = !detectors.is_empty();
        // Stage 2 counts from zero; its counts are added to the pipeline's at the end.
        let counters = PipelineStats {
            alerts_by_detector: self
                .stats
                .alerts_by_detector
                .iter()
                .map(|(name, _)| (name.clone(), 0))
                .collect(),
            ..PipelineStats::default()
        };
        let (stage1, (detectors, counters, stage2)) = std::thread::scope(|scope| {
            let worker = scope.spawn(move || {
                detect_stage(detectors, counters, full_rx, empty_tx, on_flow, on_alert)
            });
            let read = self.read_stage(&full_tx, &empty_rx, &mut on_progress, with_features);
            // Closing the channel ends stage 2 once it has drained the batches sent.
            drop(full_tx);
            match worker.join() {
                Ok(done) => (read, done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        });
        self.detectors = detectors;
        self.stats.alerts += counters.alerts;
        for (mine, theirs) in self
            .stats
            .alerts_by_detector
            .iter_mut()
            .zip(counters.alerts_by_detector)
        {
            mine.1 += theirs.1;
        }
        stage2.map_err(PipelineError::Consumer)?;
        match stage1 {
            Ok(()) => Ok(()),
            Err(Stop::Capture(e)) => Err(PipelineError::Capture(e)),
            Err(Stop::Progress(e)) => Err(PipelineError::Consumer(e)),
            // Stage 2 stopped first; its error was returned above, or it had none to give.
            Err(Stop::Detached) => Ok(()),
        }
    }

    /// Stage 1: fills batches until the source ends, fails or `on_progress` says stop.
    fn read_stage<E, P>(
        &mut self,
        full: &SyncSender<Batch>,
        empty: &Receiver<Batch>,
        on_progress: &mut P,
        with_features: bool,
    ) -> Result<(), Stop<E>>
    where
        P: FnMut(u64) -> Result<(), E>,
    {
        loop {
            let Ok(mut batch) = empty.recv() else {
                return Err(Stop::Detached);
            };
            batch.clear();
            let step = self.fill(&mut batch);
            let progress = on_progress(self.source.bytes_consumed());
            if !matches!(step, Ok(true)) || progress.is_err() {
                // Last batch (end of input, damage, or told to stop): the flows still open
                // are exported too, so what was read is detected and delivered.
                self.flush_table(&mut batch.flows);
            }
            if with_features {
                batch
                    .features
                    .extend(batch.flows.iter().map(FlowRecord::features));
            }
            if full.send(batch).is_err() {
                return Err(Stop::Detached);
            }
            progress.map_err(Stop::Progress)?;
            match step {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return Err(Stop::Capture(e)),
            }
        }
    }

    /// Reads up to [`BATCH`] frames, or [`BATCH_BYTES`] payload bytes, into `batch`;
    /// `Ok(false)` at the clean end of input.
    fn fill(&mut self, batch: &mut Batch) -> Result<bool, CaptureError> {
        for _ in 0..BATCH {
            if batch.bytes.len() >= BATCH_BYTES {
                break;
            }
            let Some(raw) = self.source.next_packet()? else {
                return Ok(false);
            };
            self.stats.count_frame(&raw);
            self.last_link_type = Some(raw.link_type);
            let decoded = decode(&raw);
            let (packet, payload) = match &decoded {
                Ok(Decoded::Ip(ip)) => {
                    let ctx = self.stats.count_ip(&mut self.table, ip, &mut batch.flows);
                    let packet = StagedPacket::Ip {
                        meta: ip.meta,
                        l2: ip.l2,
                        transport_error: ip.transport_error,
                        ctx,
                    };
                    (packet, ip.payload)
                }
                Ok(Decoded::Arp(arp, l2)) => {
                    self.stats.arp_packets += 1;
                    let packet = StagedPacket::Arp {
                        ts: raw.ts,
                        arp: *arp,
                        l2: *l2,
                    };
                    (packet, &[][..])
                }
                Ok(Decoded::Other { .. }) => {
                    self.stats.non_ip_packets += 1;
                    continue;
                }
                Err(e) => {
                    self.stats.count_decode_error(e);
                    continue;
                }
            };
            batch.bytes.extend_from_slice(payload);
            batch.frames.push(StagedFrame {
                packet,
                end: batch.bytes.len(),
                flows_end: batch.flows.len(),
            });
        }
        Ok(true)
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
    mut detectors: Vec<Box<dyn Detector>>,
    mut counters: PipelineStats,
    full: Receiver<Batch>,
    empty: SyncSender<Batch>,
    mut on_flow: F,
    mut on_alert: A,
) -> Stage2<E>
where
    F: FnMut(&FlowRecord) -> Result<(), E>,
    A: FnMut(&Alert) -> Result<(), E>,
{
    let mut alerts: Vec<Alert> = Vec::with_capacity(64);
    let result = (|| {
        for batch in full.iter() {
            detect_batch(&mut detectors, &mut counters, &batch, &mut alerts);
            for flow in &batch.flows {
                on_flow(flow)?;
            }
            for alert in alerts.drain(..) {
                on_alert(&alert)?;
            }
            // Stage 1 may have stopped; the batch is then simply dropped.
            let _ = empty.send(batch);
        }
        Ok(())
    })();
    (detectors, counters, result)
}

/// Gives a batch's flows and packets to the detectors in the one-thread order.
fn detect_batch(
    detectors: &mut [Box<dyn Detector>],
    counters: &mut PipelineStats,
    batch: &Batch,
    alerts: &mut Vec<Alert>,
) {
    let (mut start, mut flows_done) = (0, 0);
    for f in &batch.frames {
        batch_flows_to_detectors(detectors, counters, batch, flows_done..f.flows_end, alerts);
        flows_done = f.flows_end;
        let payload = &batch.bytes[start..f.end];
        start = f.end;
        match f.packet {
            StagedPacket::Ip {
                meta,
                l2,
                transport_error,
                ctx,
            } => {
                let ip = IpPacket {
                    meta,
                    payload,
                    l2,
                    transport_error,
                };
                packet_to_detectors(
                    detectors,
                    counters,
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
                packet_to_detectors(detectors, counters, &view, None, alerts)
            }
        }
    }
    let all = batch.flows.len();
    batch_flows_to_detectors(detectors, counters, batch, flows_done..all, alerts);
}

/// Gives the batch's flows in `range`, with their precomputed features, to the detectors.
fn batch_flows_to_detectors(
    detectors: &mut [Box<dyn Detector>],
    counters: &mut PipelineStats,
    batch: &Batch,
    range: std::ops::Range<usize>,
    alerts: &mut Vec<Alert>,
) {
    let features = &batch.features[range.clone()];
    for (flow, features) in batch.flows[range].iter().zip(features) {
        flow_to_detectors(detectors, counters, flow, features, alerts);
    }
}
