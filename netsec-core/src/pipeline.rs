//! Pipeline: source → decode → flow table, with per-reason accounting.
//!
//! [`FlowPipeline`] drives a [`PacketSource`] through [`decode`] into a
//! [`FlowTable`] and hands every finished [`FlowRecord`] to the caller in export order. It reuses
//! one output buffer, so nothing is allocated per packet. A malformed packet is counted in
//! [`PipelineStats`] and skipped; only capture I/O or corruption ends a run, and then every flow
//! already assembled is still delivered before the error is returned.

use crate::capture::{CaptureError, LinkType, PacketSource};
use crate::decode::{decode, DecodeError, Decoded, Layer};
use crate::flow::{FlowConfigError, FlowRecord, FlowTable, FlowTableConfig, FlowTableStats};

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
    /// IP packets whose tunnel was decapsulated to the inner flow.
    pub tunnels_decapsulated: u64,
    /// IP packets carrying a recognised tunnel that was not decapsulated.
    pub tunnels_not_decapsulated: u64,
    /// Flows exported.
    pub flows: u64,
}

impl PipelineStats {
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
    /// The flow consumer returned an error.
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
#[derive(Debug)]
pub struct FlowPipeline<S> {
    source: S,
    table: FlowTable,
    stats: PipelineStats,
    exported: Vec<FlowRecord>,
    last_link_type: Option<LinkType>,
}

impl<S: PacketSource> FlowPipeline<S> {
    /// A pipeline reading `source` into a flow table built from `config`.
    ///
    /// # Errors
    /// [`FlowConfigError`] when `config` is invalid (e.g. a zero timeout or table size).
    pub fn new(source: S, config: FlowTableConfig) -> Result<Self, FlowConfigError> {
        Ok(FlowPipeline {
            source,
            table: FlowTable::new(config)?,
            stats: PipelineStats::default(),
            exported: Vec::with_capacity(64),
            last_link_type: None,
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

    /// The flow table (for live-mode ticks or inspection).
    pub fn table_mut(&mut self) -> &mut FlowTable {
        &mut self.table
    }

    /// Processes up to `max_packets` frames, appending exported flows to `out`.
    ///
    /// Returns `Ok(true)` while the source may have more frames and `Ok(false)` at its clean end
    /// (remaining flows are then still in the table: call [`finish`](Self::finish)).
    ///
    /// # Errors
    /// [`CaptureError`] when the source fails; flows exported before the failure are already in
    /// `out`, and the remaining ones can be collected with [`finish`](Self::finish).
    pub fn process_batch(
        &mut self,
        max_packets: usize,
        out: &mut Vec<FlowRecord>,
    ) -> Result<bool, CaptureError> {
        for _ in 0..max_packets {
            let Some(raw) = self.source.next_packet()? else {
                return Ok(false);
            };
            self.stats.packets += 1;
            self.stats.captured_bytes += raw.data.len() as u64;
            self.stats.wire_bytes += u64::from(raw.orig_len);
            self.last_link_type = Some(raw.link_type);
            match decode(&raw) {
                Ok(Decoded::Ip(ip)) => {
                    self.stats.ip_packets += 1;
                    if let Some(t) = ip.meta.tunnel {
                        if t.decapsulated {
                            self.stats.tunnels_decapsulated += 1;
                        } else {
                            self.stats.tunnels_not_decapsulated += 1;
                        }
                    }
                    let before = out.len();
                    if self.table.process(&ip.meta, out).is_none() {
                        self.stats.orphan_fragments += 1;
                    }
                    self.stats.flows += (out.len() - before) as u64;
                }
                Ok(Decoded::Arp(..)) => self.stats.arp_packets += 1,
                Ok(Decoded::Other { .. }) => self.stats.non_ip_packets += 1,
                Err(e) => self.stats.count_decode_error(&e),
            }
        }
        Ok(true)
    }

    /// Ends the run: exports every flow still in the table (end reason `end`) into `out`.
    pub fn finish(&mut self, out: &mut Vec<FlowRecord>) {
        let before = out.len();
        self.table.flush(out);
        self.stats.flows += (out.len() - before) as u64;
    }

    /// Runs to the end of the source, calling `on_flow` for each flow in export order.
    ///
    /// On a capture error every flow assembled before the damage is still delivered (flushed
    /// with end reason `end`), then the error is returned.
    ///
    /// # Errors
    /// [`PipelineError::Capture`] when the source fails, [`PipelineError::Consumer`] when
    /// `on_flow` does (the run stops at once).
    pub fn run<E, F>(&mut self, mut on_flow: F) -> Result<(), PipelineError<E>>
    where
        F: FnMut(&FlowRecord) -> Result<(), E>,
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
            match step {
                Ok(true) => {}
                Ok(false) => break Ok(()),
                Err(e) => break Err(PipelineError::Capture(e)),
            }
        };
        buf.clear();
        self.exported = buf;
        result
    }
}
