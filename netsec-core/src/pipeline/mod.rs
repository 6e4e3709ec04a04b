//! Pipeline: source → decode → flow table → detectors, with per-reason accounting.
//!
//! [`FlowPipeline`] drives a [`PacketSource`] through [`decode`] into a
//! [`FlowTable`] and hands every finished [`FlowRecord`] to the caller in export order. It reuses
//! one output buffer, so nothing is allocated per packet. A malformed packet is counted in
//! [`PipelineStats`] and skipped; only capture I/O or corruption ends a run, and then every flow
//! already assembled is still delivered before the error is returned.
//!
//! # Detectors
//!
//! A pipeline built with [`FlowPipeline::with_detectors`] also runs a list of
//! [`Detector`]s. For every frame, in capture order:
//!
//! 1. the frame is decoded; an IP packet goes to [`FlowTable::process`];
//! 2. every flow that call exported (expired, evicted, or ended by this packet) is given to
//!    each detector's [`on_flow_end`](Detector::on_flow_end), flow by flow in export order,
//!    detector by detector in list order, with the flow's [`FeatureVector`];
//! 3. the packet is given to each detector's [`on_packet`](Detector::on_packet) in list order,
//!    with its [`FlowContext`] (`None` for ARP frames and orphan fragments).
//!
//! [`finish`](FlowPipeline::finish) (and [`advance_time`](FlowPipeline::advance_time)) give the
//! flows they export to `on_flow_end` the same way. Alerts are pushed into one `Vec<Alert>` the
//! pipeline owns and reuses: nothing is allocated per packet when nothing fires. The caller
//! takes them with [`drain_alerts`](FlowPipeline::drain_alerts) after each batch, or receives
//! them through [`run_with_alerts`](FlowPipeline::run_with_alerts). The order of both flows and
//! alerts depends only on the input, so the same capture gives the same output every run.
//!
//! [`run_staged`](FlowPipeline::run_staged) gives the same flows and alerts in the same order
//! with the detectors on a second thread, so reading and flow tracking overlap detection
//! (`netsec analyze` runs this way).

mod staged;

use crate::capture::{CaptureError, LinkType, PacketSource, RawPacket};
use crate::decode::{decode, DecodeError, Decoded, IpPacket, IpProtocol, Layer};
use crate::detect::{Alert, Detector, PacketView};
use crate::features::FeatureVector;
use crate::flow::{
    FlowConfigError, FlowContext, FlowRecord, FlowTable, FlowTableConfig, FlowTableStats,
};
use crate::time::Timestamp;

/// Number of [`Layer`] variants we keep decode-error counters for.
const LAYER_SLOTS: usize = 12;

/// Counters for one run: what was read, what became flows, and what was skipped and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Frames read from the source.
    pub packets: u64,
    /// Captured bytes read (sum of frame lengths as captured).
    pub captured_bytes: u64,
    /// Bytes on the wire (sum of original frame lengths).
    pub wire_bytes: u64,
    /// Frames that decoded to an IP packet and were given to the flow table.
    pub ip_packets: u64,
    /// ARP frames (not flows; detectors see them).
    pub arp_packets: u64,
    /// Frames whose EtherType is neither IP nor ARP.
    pub non_ip_packets: u64,
    /// Frames with a link type the decoder does not support.
    pub unsupported_link_type: u64,
    /// Frames that failed to decode, by the layer that failed (indexed by `Layer as usize`).
    decode_errors: [u64; LAYER_SLOTS],
    /// Non-first IP fragments whose first fragment was never seen (not attributed to a flow).
    pub orphan_fragments: u64,
    /// IP packets kept although their transport header is malformed (e.g. a TCP data offset
    /// below 5): they belong to their flow and reach detectors, and are counted here.
    pub transport_errors: u64,
    /// IP packets whose tunnel was decapsulated to the inner flow.
    pub tunnels_decapsulated: u64,
    /// IP packets carrying a recognised tunnel that was not decapsulated.
    pub tunnels_not_decapsulated: u64,
    /// Flows exported.
    pub flows: u64,
    /// Capture time of the earliest frame read (any kind), if any.
    pub first_ts: Option<Timestamp>,
    /// Capture time of the latest frame read (any kind), if any.
    pub last_ts: Option<Timestamp>,
    /// IP packets carrying TCP.
    pub tcp_packets: u64,
    /// IP packets carrying UDP.
    pub udp_packets: u64,
    /// IP packets carrying ICMP or ICMPv6.
    pub icmp_packets: u64,
    /// IP packets carrying any other protocol (GRE, SCTP, ESP, non-first fragments …).
    pub other_ip_packets: u64,
    /// Alerts raised by all detectors.
    pub alerts: u64,
    /// Alerts raised per detector, in the pipeline's detector order (zero counts included).
    pub alerts_by_detector: Vec<(String, u64)>,
}

impl PipelineStats {
    /// Counts a frame read from the source.
    #[inline(always)]
    fn count_frame(&mut self, raw: &RawPacket<'_>) {
        self.packets += 1;
        self.captured_bytes += raw.data.len() as u64;
        self.wire_bytes += u64::from(raw.orig_len);
        self.count_time(raw.ts);
    }

    /// Counts a decoded IP packet and gives it to `table`, which appends the flows it exports
    /// to `out`; returns the packet's flow context (`None` for an orphan fragment).
    #[inline(always)]
    fn count_ip(
        &mut self,
        table: &mut FlowTable,
        ip: &IpPacket<'_>,
        out: &mut Vec<FlowRecord>,
    ) -> Option<FlowContext> {
        self.ip_packets += 1;
        self.count_protocol(ip.meta.protocol);
        if ip.transport_error.is_some() {
            self.transport_errors += 1;
        }
        if let Some(t) = ip.meta.tunnel {
            if t.decapsulated {
                self.tunnels_decapsulated += 1;
            } else {
                self.tunnels_not_decapsulated += 1;
            }
        }
        let before = out.len();
        let ctx = table.process_ip(ip, out);
        if ctx.is_none() {
            self.orphan_fragments += 1;
        }
        self.flows += (out.len() - before) as u64;
        ctx
    }

    fn count_decode_error(&mut self, err: &DecodeError) {
        match err {
            DecodeError::UnsupportedLinkType(_) => self.unsupported_link_type += 1,
            other => {
                let slot = (other.layer() as usize).min(LAYER_SLOTS - 1);
                self.decode_errors[slot] += 1;
            }
        }
    }

    /// Decode failures at `layer`.
    pub fn decode_errors(&self, layer: Layer) -> u64 {
        self.decode_errors[(layer as usize).min(LAYER_SLOTS - 1)]
    }

    /// Frames not turned into flow packets, by reason, in a fixed order; zero counts omitted.
    ///
    /// Reasons: `arp`, `non_ip`, `unsupported_link_type`, `orphan_fragment`, and
    /// `malformed_<layer>` per decode layer.
    pub fn skipped(&self) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        let mut push = |name: String, n: u64| {
            if n > 0 {
                out.push((name, n));
            }
        };
        push("arp".into(), self.arp_packets);
        push("non_ip".into(), self.non_ip_packets);
        push("unsupported_link_type".into(), self.unsupported_link_type);
        push("orphan_fragment".into(), self.orphan_fragments);
        for layer in ALL_LAYERS {
            push(
                format!("malformed_{}", layer.name()),
                self.decode_errors(layer),
            );
        }
        out
    }

    fn count_time(&mut self, ts: Timestamp) {
        if self.first_ts.is_none_or(|f| ts < f) {
            self.first_ts = Some(ts);
        }
        if self.last_ts.is_none_or(|l| ts > l) {
            self.last_ts = Some(ts);
        }
    }

    fn count_protocol(&mut self, protocol: IpProtocol) {
        match protocol {
            IpProtocol::TCP => self.tcp_packets += 1,
            IpProtocol::UDP => self.udp_packets += 1,
            IpProtocol::ICMP | IpProtocol::ICMPV6 => self.icmp_packets += 1,
            _ => self.other_ip_packets += 1,
        }
    }

    /// Total frames skipped for any reason.
    pub fn skipped_total(&self) -> u64 {
        self.arp_packets
            + self.non_ip_packets
            + self.unsupported_link_type
            + self.orphan_fragments
            + self.decode_errors.iter().sum::<u64>()
    }
}

const ALL_LAYERS: [Layer; 11] = [
    Layer::Link,
    Layer::Vlan,
    Layer::Mpls,
    Layer::Ipv4,
    Layer::Ipv6,
    Layer::Ipv6Ext,
    Layer::Tcp,
    Layer::Udp,
    Layer::Icmp,
    Layer::Arp,
    Layer::Tunnel,
];

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

/// Drives a packet source into a flow table.
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
    source: S,
    table: FlowTable,
    stats: PipelineStats,
    exported: Vec<FlowRecord>,
    last_link_type: Option<LinkType>,
    detectors: Vec<Box<dyn Detector>>,
    /// Alerts raised and not yet taken by the caller; reused, so it allocates only when it
    /// grows past its high-water mark.
    alerts: Vec<Alert>,
}

impl<S> std::fmt::Debug for FlowPipeline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.detectors.iter().map(|d| d.name()).collect();
        f.debug_struct("FlowPipeline")
            .field("table", &self.table)
            .field("stats", &self.stats)
            .field("last_link_type", &self.last_link_type)
            .field("detectors", &names)
            .field("pending_alerts", &self.alerts.len())
            .finish_non_exhaustive()
    }
}

/// Gives every flow in `flows` to every detector's `on_flow_end`, flow by flow, detectors in
/// order, counting alerts per detector.
fn flows_to_detectors(
    detectors: &mut [Box<dyn Detector>],
    stats: &mut PipelineStats,
    flows: &[FlowRecord],
    alerts: &mut Vec<Alert>,
) {
    if detectors.is_empty() {
        return;
    }
    for flow in flows {
        flow_to_detectors(detectors, stats, flow, &flow.features(), alerts);
    }
}

/// Gives one finished flow with its features to every detector's `on_flow_end`, in order.
fn flow_to_detectors(
    detectors: &mut [Box<dyn Detector>],
    stats: &mut PipelineStats,
    flow: &FlowRecord,
    features: &FeatureVector,
    alerts: &mut Vec<Alert>,
) {
    for (i, d) in detectors.iter_mut().enumerate() {
        let before = alerts.len();
        d.on_flow_end(flow, features, alerts);
        count_alerts(stats, i, alerts.len() - before);
    }
}

/// Gives one packet to every detector's `on_packet`, in order, counting alerts per detector.
fn packet_to_detectors(
    detectors: &mut [Box<dyn Detector>],
    stats: &mut PipelineStats,
    view: &PacketView<'_>,
    ctx: Option<&FlowContext>,
    alerts: &mut Vec<Alert>,
) {
    for (i, d) in detectors.iter_mut().enumerate() {
        let before = alerts.len();
        d.on_packet(view, ctx, alerts);
        count_alerts(stats, i, alerts.len() - before);
    }
}

#[inline]
fn count_alerts(stats: &mut PipelineStats, detector: usize, n: usize) {
    if n > 0 {
        stats.alerts += n as u64;
        if let Some(slot) = stats.alerts_by_detector.get_mut(detector) {
            slot.1 += n as u64;
        }
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
    /// see the [module docs](self) for the exact call order.
    ///
    /// # Errors
    /// [`FlowConfigError`] when `config` is invalid (e.g. a zero timeout or table size).
    pub fn with_detectors(
        source: S,
        config: FlowTableConfig,
        detectors: Vec<Box<dyn Detector>>,
    ) -> Result<Self, FlowConfigError> {
        let stats = PipelineStats {
            alerts_by_detector: detectors
                .iter()
                .map(|d| (d.name().to_string(), 0))
                .collect(),
            ..PipelineStats::default()
        };
        Ok(FlowPipeline {
            source,
            table: FlowTable::new(config)?,
            stats,
            exported: Vec::with_capacity(64),
            last_link_type: None,
            detectors,
            alerts: Vec::with_capacity(64),
        })
    }

    /// Counters so far.
    pub fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    /// Input bytes consumed so far (for progress reporting).
    pub fn bytes_consumed(&self) -> u64 {
        self.source.bytes_consumed()
    }

    /// Link type of the most recent frame, if any was read.
    pub fn last_link_type(&self) -> Option<LinkType> {
        self.last_link_type
    }

    /// The flow table's own counters (peak size, evictions, exports by reason, fragments).
    pub fn table_stats(&self) -> FlowTableStats {
        self.table.stats()
    }

    /// The flow table (for inspection). Flows exported through it directly bypass the
    /// detectors: prefer [`advance_time`](Self::advance_time) for live-mode ticks.
    pub fn table_mut(&mut self) -> &mut FlowTable {
        &mut self.table
    }

    /// The detectors, in call order.
    pub fn detectors(&self) -> &[Box<dyn Detector>] {
        &self.detectors
    }

    /// Alerts raised and not yet taken, in the order they were raised.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Takes the pending alerts, in the order they were raised. The internal buffer keeps its
    /// capacity, so draining after every batch allocates nothing in steady state.
    pub fn drain_alerts(&mut self) -> std::vec::Drain<'_, Alert> {
        self.alerts.drain(..)
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
            self.stats.count_frame(&raw);
            self.last_link_type = Some(raw.link_type);
            // Matched by reference: moving the decoded packet out of the result would copy it.
            let decoded = decode(&raw);
            match &decoded {
                Ok(Decoded::Ip(ip)) => {
                    let before = out.len();
                    let ctx = self.stats.count_ip(&mut self.table, ip, out);
                    if !self.detectors.is_empty() {
                        flows_to_detectors(
                            &mut self.detectors,
                            &mut self.stats,
                            &out[before..],
                            &mut self.alerts,
                        );
                        packet_to_detectors(
                            &mut self.detectors,
                            &mut self.stats,
                            &PacketView::Ip(ip),
                            ctx.as_ref(),
                            &mut self.alerts,
                        );
                    }
                }
                Ok(Decoded::Arp(arp, l2)) => {
                    self.stats.arp_packets += 1;
                    if !self.detectors.is_empty() {
                        let view = PacketView::Arp {
                            ts: raw.ts,
                            arp,
                            l2,
                        };
                        packet_to_detectors(
                            &mut self.detectors,
                            &mut self.stats,
                            &view,
                            None,
                            &mut self.alerts,
                        );
                    }
                }
                Ok(Decoded::Other { .. }) => self.stats.non_ip_packets += 1,
                Err(e) => self.stats.count_decode_error(e),
            }
        }
        Ok(true)
    }

    /// Ends the run: exports every flow still in the table (end reason `end`) into `out`, and
    /// gives each to the detectors.
    pub fn finish(&mut self, out: &mut Vec<FlowRecord>) {
        let before = self.flush_table(out);
        flows_to_detectors(
            &mut self.detectors,
            &mut self.stats,
            &out[before..],
            &mut self.alerts,
        );
    }

    /// Exports every flow still in the table into `out`, counted; returns where they start.
    fn flush_table(&mut self, out: &mut Vec<FlowRecord>) -> usize {
        let before = out.len();
        self.table.flush(out);
        self.stats.flows += (out.len() - before) as u64;
        before
    }

    /// Live-mode clock tick: exports into `out` the flows whose timeouts passed by `now` and
    /// gives each to the detectors (see [`FlowTable::advance_time`]).
    pub fn advance_time(&mut self, now: Timestamp, out: &mut Vec<FlowRecord>) {
        let before = out.len();
        self.table.advance_time(now, out);
        self.stats.flows += (out.len() - before) as u64;
        flows_to_detectors(
            &mut self.detectors,
            &mut self.stats,
            &out[before..],
            &mut self.alerts,
        );
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

    /// Runs to the end of the source, calling `on_flow` for each flow in export order and
    /// `on_alert` for each alert in the order raised.
    ///
    /// Work is done in batches of 4,096 frames; within a batch the batch's flows are delivered
    /// first, then its alerts. On a capture error every flow assembled before the damage is
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
        let result = loop {
            buf.clear();
            let step = self.process_batch(4096, &mut buf);
            if !matches!(step, Ok(true)) {
                // End of input or damaged capture: what was read so far is still delivered.
                self.finish(&mut buf);
            }
            if let Some(e) = buf.iter().find_map(|flow| on_flow(flow).err()) {
                break Err(PipelineError::Consumer(e));
            }
            if let Some(e) = self.alerts.drain(..).find_map(|a| on_alert(&a).err()) {
                break Err(PipelineError::Consumer(e));
            }
            match step {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(PipelineError::Capture(e)),
            }
        };
        buf.clear();
        self.exported = buf;
        self.alerts.clear();
        result
    }
}
