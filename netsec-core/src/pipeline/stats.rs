//! [`PipelineStats`]: what a sensor read, what became flows, and what it skipped and why.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::capture::RawPacket;
use crate::decode::{DecodeError, IpPacket, IpProtocol, Layer};
use crate::flow::{FlowContext, FlowRecord, FlowTable};
use crate::time::Timestamp;

/// Number of [`Layer`] variants we keep decode-error counters for.
const LAYER_SLOTS: usize = 12;

/// Counters for one run: what was read, what became flows, and what was skipped and why.
///
/// Serializes to one JSON object (times as RFC 3339, `decode_errors` as `{layer: count}`), for a
/// metrics or status endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    #[serde(serialize_with = "decode_errors_by_layer")]
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
    /// Alerts raised by all detectors (after the alert filter).
    pub alerts: u64,
    /// Alerts the `threshold.config` filter held back (by reason in
    /// [`Sensor::filter_stats`](super::Sensor::filter_stats)).
    pub alerts_filtered: u64,
    /// Alerts raised per detector, in the pipeline's detector order (zero counts included).
    pub alerts_by_detector: Vec<(String, u64)>,
}

impl PipelineStats {
    /// Counts a frame read from the source.
    #[inline(always)]
    pub(crate) fn count_frame(&mut self, raw: &RawPacket<'_>) {
        self.packets += 1;
        self.captured_bytes += raw.data.len() as u64;
        self.wire_bytes += u64::from(raw.orig_len);
        self.count_time(raw.ts);
    }

    /// Counts a decoded IP packet and gives it to `table`, which appends the flows it exports
    /// to `out`; returns the packet's flow context (`None` for an orphan fragment, and for an
    /// invalid packet, which is counted as a decode error at its layer and has no flow).
    #[inline(always)]
    pub(crate) fn count_ip(
        &mut self,
        table: &mut FlowTable,
        ip: &IpPacket<'_>,
        out: &mut Vec<FlowRecord>,
    ) -> Option<FlowContext> {
        if ip.meta.events.is_invalid() {
            // No transport header: counted as the decode failure it is, and no flow.
            if let Some(e) = &ip.transport_error {
                self.count_decode_error(e);
            }
            return None;
        }
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

    pub(crate) fn count_decode_error(&mut self, err: &DecodeError) {
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

    /// Empty counters with one zero alert count per detector name, in order.
    pub(crate) fn for_detectors<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        PipelineStats {
            alerts_by_detector: names.into_iter().map(|n| (n.to_string(), 0)).collect(),
            ..PipelineStats::default()
        }
    }

    /// Counts `n` alerts raised by the detector at index `detector`.
    #[inline]
    pub(crate) fn count_alerts(&mut self, detector: usize, n: usize) {
        if n > 0 {
            self.alerts += n as u64;
            if let Some(slot) = self.alerts_by_detector.get_mut(detector) {
                slot.1 += n as u64;
            }
        }
    }

    /// Adds the alert counts of `other` (a staged run's detection thread) to these.
    pub(crate) fn add_alert_counts(&mut self, other: &PipelineStats) {
        self.alerts += other.alerts;
        self.alerts_filtered += other.alerts_filtered;
        for (mine, theirs) in self
            .alerts_by_detector
            .iter_mut()
            .zip(&other.alerts_by_detector)
        {
            mine.1 += theirs.1;
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

/// `decode_errors` as `{layer name: count}`, zero counts omitted.
fn decode_errors_by_layer<S: Serializer>(
    counts: &[u64; LAYER_SLOTS],
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    for layer in ALL_LAYERS {
        let n = counts[(layer as usize).min(LAYER_SLOTS - 1)];
        if n > 0 {
            map.serialize_entry(layer.name(), &n)?;
        }
    }
    map.end()
}
