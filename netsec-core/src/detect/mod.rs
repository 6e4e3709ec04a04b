//! Detection: the [`Detector`] trait every detector implements, the one [`Alert`] record they
//! all produce (`ALERTS.md`), and the [`AlertSink`]s that write alerts out.
//!
//! Data flow: the pipeline decodes a frame, gives IP packets to the flow table, wraps the result
//! in a [`PacketView`] and calls [`Detector::on_packet`] on every detector with the packet's
//! [`FlowContext`]; when the flow table exports a finished flow it calls
//! [`Detector::on_flow_end`]. Detectors push [`Alert`]s into a `Vec` that the pipeline owns and
//! reuses, then the pipeline hands them to an [`AlertSink`].
//!
//! Detectors build alerts with [`Alert::builder`] and leave the id empty; the sensor gives each
//! alert its id from its run's [`AlertIds`] (packet time, [`RunId`], sequence). Ids are unique
//! across runs and sensors, and deterministic when the run id is: the same capture with the
//! same run id through the same detectors yields the same alerts, with the same ids, in the
//! same order.

mod alert;
mod builder;
mod episodes;
mod ids;
mod interest;
pub mod signature;
mod sink;
mod stats;

pub use alert::{Alert, AlertStatus, Severity, PACKET_NUMBER_META};
pub use builder::AlertBuilder;
pub use episodes::{EpisodeAggregator, EpisodeConfig};
pub use ids::{AlertIds, RunId};
pub use interest::PacketInterest;
pub use sink::{
    AlertSink, ChannelSink, CsvAlertSink, EveAlertSink, FnSink, JsonlAlertSink, SinkError,
    ALERT_CSV_COLUMNS,
};
pub use stats::DetectorStats;

use crate::decode::{ArpInfo, Decoded, IpPacket, L2Info};
use crate::features::FeatureVector;
use crate::flow::{FlowContext, FlowRecord};
use crate::time::Timestamp;

/// One decoded frame as detectors see it: an IP packet (with its payload) or an ARP frame.
///
/// It borrows from the capture buffer, so it lives only for the duration of one
/// [`Detector::on_packet`] call; detectors copy what they need to keep (the `Copy`
/// [`PacketMeta`](crate::decode::PacketMeta) is cheap to keep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketView<'a> {
    /// An IP packet after decoding and decapsulation.
    Ip(&'a IpPacket<'a>),
    /// An ARP frame (not part of any flow).
    Arp {
        /// Capture time of the frame.
        ts: Timestamp,
        /// The ARP fields.
        arp: &'a ArpInfo,
        /// Link-layer facts (source MAC, VLAN).
        l2: &'a L2Info,
    },
}

impl<'a> PacketView<'a> {
    /// A view of a decoded frame captured at `ts`; `None` for frames that are neither IP nor
    /// ARP (detectors never see those).
    pub fn from_decoded(ts: Timestamp, decoded: &'a Decoded<'a>) -> Option<PacketView<'a>> {
        match decoded {
            Decoded::Ip(ip) => Some(PacketView::Ip(ip)),
            Decoded::Arp(arp, l2) => Some(PacketView::Arp { ts, arp, l2 }),
            Decoded::Other { .. } => None,
        }
    }

    /// The packet's capture time (the time alerts carry).
    pub fn ts(&self) -> Timestamp {
        match self {
            PacketView::Ip(ip) => ip.meta.ts,
            PacketView::Arp { ts, .. } => *ts,
        }
    }

    /// The IP packet, if this is one.
    pub fn ip(&self) -> Option<&'a IpPacket<'a>> {
        match self {
            PacketView::Ip(ip) => Some(ip),
            PacketView::Arp { .. } => None,
        }
    }

    /// The ARP fields, if this is an ARP frame.
    pub fn arp(&self) -> Option<&'a ArpInfo> {
        match self {
            PacketView::Ip(_) => None,
            PacketView::Arp { arp, .. } => Some(arp),
        }
    }

    /// Link-layer facts of either kind of frame.
    pub fn l2(&self) -> &'a L2Info {
        match self {
            PacketView::Ip(ip) => &ip.l2,
            PacketView::Arp { l2, .. } => l2,
        }
    }
}

/// Something that looks at traffic and raises [`Alert`]s.
///
/// A detector sees two kinds of events, and both hooks default to doing nothing, so an
/// implementation overrides only what it needs:
///
/// - [`on_packet`](Detector::on_packet) for every decoded IP or ARP frame, in capture order,
///   with the packet's [`FlowContext`] when it belongs to a flow. Signature rules
///   ([`RuleDetector`](crate::rules::RuleDetector)) live here.
/// - [`on_flow_end`](Detector::on_flow_end) once per finished flow, with its
///   [`FeatureVector`]. Models that score whole flows live here.
///
/// Behavioural detectors (scans, floods, ARP spoofing) typically use both.
///
/// # Contract
///
/// - **Push, don't return.** Alerts go into `out`, a `Vec` the caller owns, clears and reuses
///   between calls, so a hook that raises nothing allocates nothing. Never clear `out`
///   yourself: other detectors may have pushed into it first.
/// - **Deterministic.** The same sequence of calls yields the same alerts in the same order.
///   Use packet time ([`PacketView::ts`], [`FlowRecord::last_ts`]), never the wall clock, and
///   build alerts with [`Alert::builder`] (the sensor assigns their ids).
/// - **Bounded.** Any per-host or per-flow state must live in a table with a fixed cap,
///   dropping (and counting) entries when full; a capture must not be able to grow a detector
///   without bound.
/// - **No panics on input.** Packets are attacker-controlled bytes.
///
/// The trait is object safe, so a pipeline holds `Vec<Box<dyn Detector>>`, and requires
/// `Send` so the pipeline can move to a worker thread (the server runs it off its async
/// runtime).
///
/// # Example
///
/// ```
/// use netsec_core::detect::{Alert, Detector, PacketView};
/// use netsec_core::flow::FlowContext;
///
/// /// Counts packets; raises nothing.
/// struct Counter(u64);
///
/// impl Detector for Counter {
///     fn name(&self) -> &str {
///         "counter"
///     }
///     fn on_packet(&mut self, _pkt: &PacketView<'_>, _flow: Option<&FlowContext>, _out: &mut Vec<Alert>) {
///         self.0 += 1;
///     }
/// }
///
/// let detectors: Vec<Box<dyn Detector>> = vec![Box::new(Counter(0))];
/// assert_eq!(detectors[0].name(), "counter");
/// ```
pub trait Detector: Send {
    /// A short, stable, lower-case name (`rules`, `port_scan`, `random_forest`); it is written
    /// into every alert's `meta.detector` and used in logs and statistics.
    fn name(&self) -> &str;

    /// Called for every decoded IP or ARP frame, in capture order.
    ///
    /// `flow` is the context the flow table returned for this packet (`None` for ARP frames and
    /// for IP packets that belong to no flow, such as orphan fragments). Push any alerts into
    /// `out`. The default does nothing.
    fn on_packet(
        &mut self,
        _pkt: &PacketView<'_>,
        _flow: Option<&FlowContext>,
        _out: &mut Vec<Alert>,
    ) {
    }

    /// The packets [`on_packet`](Detector::on_packet) can act on; a sensor calls it only for
    /// those (a detector of ARP frames is not called for TCP segments). It must not change
    /// while the detector runs. The default is [`PacketInterest::ALL`].
    fn interest(&self) -> PacketInterest {
        PacketInterest::ALL
    }

    /// Called once for every finished flow, in the flow table's export order, with its
    /// 25 features. Push any alerts into `out`. The default does nothing.
    fn on_flow_end(
        &mut self,
        _flow: &FlowRecord,
        _features: &FeatureVector,
        _out: &mut Vec<Alert>,
    ) {
    }

    /// Called when the sensor's clock advances to `now` without a packet (a live sensor's
    /// wall-clock tick, after the flows that `now` expired were given to
    /// [`on_flow_end`](Detector::on_flow_end)). Detectors with time windows close or prune
    /// them here; `now` never goes back. The default does nothing.
    fn on_tick(&mut self, _now: Timestamp, _out: &mut Vec<Alert>) {}

    /// Called once at the end of input, after the last flows were given to
    /// [`on_flow_end`](Detector::on_flow_end): raise what is still pending (an episode still
    /// open, say). The default does nothing.
    fn on_finish(&mut self, _out: &mut Vec<Alert>) {}

    /// Asks a detector that judges finished flows to raise its alerts from
    /// [`on_flow_end`](Detector::on_flow_end) without their costly detail (an explanation, a
    /// long description) and to add it in [`complete_alert`](Detector::complete_alert)
    /// instead: a wrapper that keeps one alert of many (the [`EpisodeAggregator`]) asks, and
    /// completes only the alerts it reports. Returns whether the detector will; the default
    /// declines and changes nothing.
    fn defer_alert_detail(&mut self) -> bool {
        false
    }

    /// Adds the detail left out after [`defer_alert_detail`](Detector::defer_alert_detail)
    /// to `alert`, which this detector raised from `on_flow_end` for a flow with `features`.
    /// The default does nothing.
    fn complete_alert(&self, _alert: &mut Alert, _features: &FeatureVector) {}

    /// What the detector has done and holds so far. The default reports only its name.
    fn stats(&self) -> DetectorStats {
        DetectorStats::new(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn detector_is_object_safe_and_send() {
        struct Nop;
        impl Detector for Nop {
            fn name(&self) -> &str {
                "nop"
            }
        }
        assert_send::<Box<dyn Detector>>();
        let mut d: Box<dyn Detector> = Box::new(Nop);
        let mut out = Vec::new();
        let arp = ArpInfo {
            operation: 1,
            sender_mac: [0; 6],
            sender_ip: std::net::Ipv4Addr::LOCALHOST,
            target_mac: [0; 6],
            target_ip: std::net::Ipv4Addr::LOCALHOST,
        };
        let l2 = L2Info::default();
        let decoded = Decoded::Arp(arp, l2);
        let view = PacketView::from_decoded(Timestamp::from_micros(5), &decoded)
            .expect("ARP frames have a view");
        assert_eq!(view.ts(), Timestamp::from_micros(5));
        assert!(view.ip().is_none());
        assert!(view.arp().is_some());
        d.on_packet(&view, None, &mut out);
        assert!(out.is_empty());
        assert!(
            PacketView::from_decoded(Timestamp::default(), &Decoded::Other { ethertype: 1 })
                .is_none()
        );
    }
}
