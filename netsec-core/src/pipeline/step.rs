//! The one packet step every driver shares: decode → count → flow table, then dispatch to the
//! detectors.
//!
//! [`Tracker`] owns the flow table and the counters and turns one captured frame into a
//! [`PacketView`] with its [`FlowContext`]; what happens next is the caller's visitor: the
//! [`Sensor`](super::Sensor) runs the detectors at once, the staged sensor copies the packet
//! into a batch for its detection thread, and the host inventory observes it. The fan-out
//! helpers below give packets, finished flows and clock ticks to a detector list in the one
//! documented order, counting alerts per detector.

use crate::capture::{LinkType, RawPacket};
use crate::decode::{decode, Decoded};
use crate::detect::{Alert, Detector, PacketView};
use crate::features::FeatureVector;
use crate::flow::{FlowConfigError, FlowContext, FlowRecord, FlowTable, FlowTableConfig};
use crate::time::Timestamp;

use super::PipelineStats;

/// Decode, count and flow tracking: everything of a packet's processing but detection.
#[derive(Debug)]
pub(crate) struct Tracker {
    pub(crate) table: FlowTable,
    pub(crate) stats: PipelineStats,
    pub(crate) last_link_type: Option<LinkType>,
}

impl Tracker {
    /// A tracker with an empty flow table built from `config`.
    pub(crate) fn new(config: FlowTableConfig) -> Result<Self, FlowConfigError> {
        Ok(Tracker {
            table: FlowTable::new(config)?,
            stats: PipelineStats::default(),
            last_link_type: None,
        })
    }

    /// Processes one frame: counts it, decodes it, gives an IP packet to the flow table (which
    /// appends the flows it exports to `flows`), and calls `visit` with the counters (for
    /// alert counts), the flows this frame exported, the packet and its flow context. Frames detectors never see (neither IP nor
    /// ARP, or undecodable) are counted and `visit` is not called.
    #[inline(always)]
    pub(crate) fn track<R>(
        &mut self,
        raw: &RawPacket<'_>,
        flows: &mut Vec<FlowRecord>,
        visit: impl FnOnce(
            &mut PipelineStats,
            &[FlowRecord],
            &PacketView<'_>,
            Option<&FlowContext>,
        ) -> R,
    ) -> Option<R> {
        self.stats.count_frame(raw);
        self.last_link_type = Some(raw.link_type);
        // Matched by reference: moving the decoded packet out of the result would copy it.
        let decoded = decode(raw);
        match &decoded {
            Ok(Decoded::Ip(ip)) => {
                let before = flows.len();
                let ctx = self.stats.count_ip(&mut self.table, ip, flows);
                Some(visit(
                    &mut self.stats,
                    &flows[before..],
                    &PacketView::Ip(ip),
                    ctx.as_ref(),
                ))
            }
            Ok(Decoded::Arp(arp, l2)) => {
                self.stats.arp_packets += 1;
                let view = PacketView::Arp {
                    ts: raw.ts,
                    arp,
                    l2,
                };
                Some(visit(&mut self.stats, &[], &view, None))
            }
            Ok(Decoded::Other { .. }) => {
                self.stats.non_ip_packets += 1;
                None
            }
            Err(e) => {
                self.stats.count_decode_error(e);
                None
            }
        }
    }

    /// Advances the flow table's clock to `now`, appending the flows it expires to `flows`;
    /// returns where they start.
    pub(crate) fn advance_time(&mut self, now: Timestamp, flows: &mut Vec<FlowRecord>) -> usize {
        let before = flows.len();
        self.table.advance_time(now, flows);
        self.stats.flows += (flows.len() - before) as u64;
        before
    }

    /// Exports every flow still in the table into `flows`, counted; returns where they start.
    pub(crate) fn flush(&mut self, flows: &mut Vec<FlowRecord>) -> usize {
        let before = flows.len();
        self.table.flush(flows);
        self.stats.flows += (flows.len() - before) as u64;
        before
    }
}

/// Gives every flow in `flows` to every detector's `on_flow_end`, flow by flow, detectors in
/// order, counting alerts per detector.
pub(crate) fn flows_to_detectors(
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
pub(crate) fn flow_to_detectors(
    detectors: &mut [Box<dyn Detector>],
    stats: &mut PipelineStats,
    flow: &FlowRecord,
    features: &FeatureVector,
    alerts: &mut Vec<Alert>,
) {
    for (i, d) in detectors.iter_mut().enumerate() {
        let before = alerts.len();
        d.on_flow_end(flow, features, alerts);
        stats.count_alerts(i, alerts.len() - before);
    }
}

/// Gives one packet to every detector's `on_packet`, in order, counting alerts per detector.
pub(crate) fn packet_to_detectors(
    detectors: &mut [Box<dyn Detector>],
    stats: &mut PipelineStats,
    view: &PacketView<'_>,
    ctx: Option<&FlowContext>,
    alerts: &mut Vec<Alert>,
) {
    for (i, d) in detectors.iter_mut().enumerate() {
        let before = alerts.len();
        d.on_packet(view, ctx, alerts);
        stats.count_alerts(i, alerts.len() - before);
    }
}

/// Gives a clock tick to every detector's `on_tick`, in order, counting alerts per detector.
pub(crate) fn tick_to_detectors(
    detectors: &mut [Box<dyn Detector>],
    stats: &mut PipelineStats,
    now: Timestamp,
    alerts: &mut Vec<Alert>,
) {
    for (i, d) in detectors.iter_mut().enumerate() {
        let before = alerts.len();
        d.on_tick(now, alerts);
        stats.count_alerts(i, alerts.len() - before);
    }
}

/// Empty counters with one zero alert count per detector, in order.
pub(crate) fn stats_for(detectors: &[Box<dyn Detector>]) -> PipelineStats {
    PipelineStats::for_detectors(detectors.iter().map(|d| d.name()))
}
