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
use crate::decode::{decode, Decoded, FragmentOverlaps};
use crate::detect::{
    Alert, AlertIds, Detector, PacketInterest, PacketView, RunId, PACKET_NUMBER_META,
};
use crate::features::FeatureVector;
use crate::flow::{FlowConfigError, FlowContext, FlowRecord, FlowTable, FlowTableConfig};
use crate::rules::AlertFilter;
use crate::time::Timestamp;

use super::PipelineStats;

/// Packet classes a detector can declare interest in.
const CLASSES: usize = PacketInterest::CLASSES;

/// Decode, count and flow tracking: everything of a packet's processing but detection.
#[derive(Debug)]
pub(crate) struct Tracker {
    pub(crate) table: FlowTable,
    pub(crate) stats: PipelineStats,
    pub(crate) last_link_type: Option<LinkType>,
    /// Fragment ranges, for the overlap decoder events.
    overlaps: FragmentOverlaps,
}

impl Tracker {
    /// A tracker with an empty flow table built from `config`.
    pub(crate) fn new(config: FlowTableConfig) -> Result<Self, FlowConfigError> {
        Ok(Tracker {
            table: FlowTable::new(config)?,
            stats: PipelineStats::default(),
            last_link_type: None,
            overlaps: FragmentOverlaps::default(),
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
        let mut decoded = decode(raw);
        match &mut decoded {
            Ok(Decoded::Ip(ip)) => {
                if ip.meta.fragment.is_some() {
                    let overlap = self.overlaps.observe(&ip.meta);
                    ip.meta.events.insert(overlap);
                }
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

    /// Exports at most `max` of the flows still in the table (in id order, continuing a
    /// previous call) into `flows`, counted; returns where they start and whether the table is
    /// now empty.
    pub(crate) fn flush_some(&mut self, max: usize, flows: &mut Vec<FlowRecord>) -> (usize, bool) {
        let before = flows.len();
        let done = self.table.flush_some(max, flows);
        self.stats.flows += (flows.len() - before) as u64;
        (before, done)
    }
}

/// Records in each alert the number of the frame that raised it (`pcap_cnt`).
#[cold]
#[inline(never)]
fn stamp_packet_number(alerts: &mut [Alert], number: u64) {
    for a in alerts {
        a.meta.insert(PACKET_NUMBER_META.into(), number.into());
    }
}

/// The detectors of one sensor and what every alert they raise goes through: its id from the
/// run's [`AlertIds`], its `detector` field, and the per-detector count.
pub(crate) struct Detection {
    pub(crate) detectors: Vec<Box<dyn Detector>>,
    /// Per packet class (bit of [`PacketInterest`]), the indexes of the detectors
    /// interested in it, in order (kept by [`Detection::refresh`]).
    by_class: [Vec<usize>; CLASSES],
    /// Detectors the lists cover; any added after the last refresh get every packet.
    refreshed: usize,
    ids: AlertIds,
    /// `threshold.config` entries applied to every detector's alerts.
    pub(crate) filter: Option<AlertFilter>,
}

impl std::fmt::Debug for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.detectors.iter().map(|d| d.name()).collect();
        f.debug_struct("Detection")
            .field("detectors", &names)
            .field("ids", &self.ids)
            .field("filter", &self.filter.as_ref().map(AlertFilter::stats))
            .finish()
    }
}

impl Detection {
    pub(crate) fn new(detectors: Vec<Box<dyn Detector>>, run: RunId) -> Self {
        let mut d = Detection {
            detectors,
            by_class: Default::default(),
            refreshed: 0,
            ids: AlertIds::new(run),
            filter: None,
        };
        d.refresh();
        d
    }

    /// Re-reads the detectors' interests, after the set of detectors changed.
    pub(crate) fn refresh(&mut self) {
        for (bit, list) in self.by_class.iter_mut().enumerate() {
            let class = PacketInterest::from_bits(1 << bit);
            list.clear();
            list.extend(
                self.detectors
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.interest().intersects(class))
                    .map(|(i, _)| i),
            );
        }
        self.refreshed = self.detectors.len();
    }

    /// Moves the detectors and ids out, leaving none (the staged driver's detection thread
    /// takes them and gives them back at the end).
    pub(crate) fn take(&mut self) -> Detection {
        let run = self.ids.run();
        std::mem::replace(self, Detection::new(Vec::new(), run))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.detectors.is_empty()
    }

    /// The run whose ids alerts get.
    pub(crate) fn run_id(&self) -> RunId {
        self.ids.run()
    }

    /// Starts a new run: ids from `run`, counting from 1.
    pub(crate) fn set_run_id(&mut self, run: RunId) {
        self.ids = AlertIds::new(run);
    }

    /// Gives every flow in `flows` to every detector's `on_flow_end`, flow by flow, detectors
    /// in order.
    pub(crate) fn flows(
        &mut self,
        stats: &mut PipelineStats,
        flows: &[FlowRecord],
        alerts: &mut Vec<Alert>,
    ) {
        if self.detectors.is_empty() {
            return;
        }
        for flow in flows {
            self.flow(stats, flow, &flow.features(), alerts);
        }
    }

    /// Gives one finished flow with its features to every detector's `on_flow_end`, in order.
    pub(crate) fn flow(
        &mut self,
        stats: &mut PipelineStats,
        flow: &FlowRecord,
        features: &FeatureVector,
        alerts: &mut Vec<Alert>,
    ) {
        for i in 0..self.detectors.len() {
            let before = alerts.len();
            self.detectors[i].on_flow_end(flow, features, alerts);
            self.settle(stats, i, alerts, before);
        }
        if let Some(f) = self.filter.as_mut() {
            f.flow_ended(flow.id);
        }
    }

    /// Gives one packet, the `number`th frame of the input (from 1), to every detector's
    /// `on_packet`, in order. The alerts it raises record the number as `pcap_cnt` meta, as
    /// Suricata's EVE does.
    #[inline]
    pub(crate) fn packet(
        &mut self,
        stats: &mut PipelineStats,
        number: u64,
        view: &PacketView<'_>,
        ctx: Option<&FlowContext>,
        alerts: &mut Vec<Alert>,
    ) {
        let start = alerts.len();
        self.packet_alerts(stats, view, ctx, alerts);
        if alerts.len() > start {
            stamp_packet_number(&mut alerts[start..], number);
        }
    }

    #[inline(always)]
    fn packet_alerts(
        &mut self,
        stats: &mut PipelineStats,
        view: &PacketView<'_>,
        ctx: Option<&FlowContext>,
        alerts: &mut Vec<Alert>,
    ) {
        let class = PacketInterest::of(view).bit_index();
        for n in 0..self.by_class[class].len() {
            let i = self.by_class[class][n];
            let before = alerts.len();
            self.detectors[i].on_packet(view, ctx, alerts);
            self.settle(stats, i, alerts, before);
        }
        // A detector added without a refresh is called for every packet.
        for i in self.refreshed..self.detectors.len() {
            let before = alerts.len();
            self.detectors[i].on_packet(view, ctx, alerts);
            self.settle(stats, i, alerts, before);
        }
    }

    /// Gives a clock tick to every detector's `on_tick`, in order.
    pub(crate) fn tick(
        &mut self,
        stats: &mut PipelineStats,
        now: Timestamp,
        alerts: &mut Vec<Alert>,
    ) {
        for i in 0..self.detectors.len() {
            let before = alerts.len();
            self.detectors[i].on_tick(now, alerts);
            self.settle(stats, i, alerts, before);
        }
    }

    /// End of input: every detector's `on_finish`, in order.
    pub(crate) fn finish(&mut self, stats: &mut PipelineStats, alerts: &mut Vec<Alert>) {
        for i in 0..self.detectors.len() {
            let before = alerts.len();
            self.detectors[i].on_finish(alerts);
            self.settle(stats, i, alerts, before);
        }
    }

    /// Passes the alerts detector `i` just raised (`alerts[before..]`) through the filter,
    /// gives those kept their ids and detector name, and counts both.
    ///
    /// Inlined down to the length test: detectors are called about ten times per packet and
    /// almost never raise an alert, so the call of the work below (and the registers it
    /// saves) cost more than everything it does on those calls.
    #[inline(always)]
    fn settle(
        &mut self,
        stats: &mut PipelineStats,
        i: usize,
        alerts: &mut Vec<Alert>,
        before: usize,
    ) {
        if alerts.len() != before {
            self.settle_new(stats, i, alerts, before);
        }
    }

    /// [`settle`](Self::settle) once there are new alerts.
    #[cold]
    #[inline(never)]
    fn settle_new(
        &mut self,
        stats: &mut PipelineStats,
        i: usize,
        alerts: &mut Vec<Alert>,
        before: usize,
    ) {
        let name = self.detectors[i].name();
        let mut kept = before;
        for j in before..alerts.len() {
            if let Some(f) = self.filter.as_mut() {
                if !f.admit(&mut alerts[j]) {
                    stats.alerts_filtered += 1;
                    continue;
                }
            }
            let a = &mut alerts[j];
            a.id = self.ids.next_id(a.timestamp);
            if a.detector.is_empty() {
                a.detector = name.to_string();
            }
            alerts.swap(kept, j);
            kept += 1;
        }
        alerts.truncate(kept);
        stats.count_alerts(i, kept - before);
    }

    /// Empty counters with one zero alert count per detector, in order.
    pub(crate) fn stats(&self) -> PipelineStats {
        PipelineStats::for_detectors(self.detectors.iter().map(|d| d.name()))
    }
}
