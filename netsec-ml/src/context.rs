//! The context features of a flow ([`crate::inputs::ContextFeature`]): what the flows that
//! ended in the last [`WINDOW_SECS`] seconds say about the address this flow went to.
//!
//! A [`FlowContext`] is fed every finished flow in export order, the order `netsec analyze`'s
//! model detectors and the training loaders ([`crate::captures`], [`crate::grouped`]) both see,
//! so a model scores the context it was trained on. Per address it keeps, for the flows the
//! address took part in (either side) since its window opened: their number, and two
//! 256-bit linear-counting sketches of distinct peers and distinct (peer, responder port,
//! protocol). A window opens at the first flow of an address and closes [`WINDOW_SECS`] later
//! (by the flows' last-packet times); the next flow then opens a new one.
//!
//! Memory is fixed: [`SLOTS`] direct-mapped slots (about 400 KiB, allocated at the first
//! flow), indexed by a seeded hash of the address. An address that lands on a slot held by
//! another starts a new window there: under address churn (a flood from spoofed sources)
//! some counts restart, never growing memory. Deterministic: the same flows in the same
//! order give the same values on every run.
//!
//! ```
//! use netsec_ml::context::FlowContext;
//! # use netsec_core::flow::{FlowRecord, EndReason, FlowStats};
//! # use netsec_core::decode::IpProtocol;
//! # use netsec_core::time::Timestamp;
//! # use netsec_core::app::AppProto;
//! # fn flow(src: [u8; 4], dst_port: u16, secs: i64) -> FlowRecord {
//! #     FlowRecord { id: 0, first_ts: Timestamp::from_micros(secs * 1_000_000),
//! #         last_ts: Timestamp::from_micros(secs * 1_000_000), src_addr: src.into(), src_port: 40000,
//! #         dst_addr: [10, 0, 0, 1].into(), dst_port, protocol: IpProtocol::TCP,
//! #         end_reason: EndReason::Rst, stats: FlowStats::default(), app_proto: AppProto::Unknown, app: None }
//! # }
//! let mut ctx = FlowContext::new();
//! // One host probes 200 ports of 10.0.0.1 within a second.
//! let mut last = [0.0; 3];
//! for port in 0..200 {
//!     last = ctx.observe(&flow([10, 0, 0, 9], port, 100));
//! }
//! assert_eq!(last[0], 200.0); // 200 flows at the responder
//! assert!(last[1] < 1.5); // one peer (estimated)
//! assert!(last[2] > 150.0); // ~200 endpoints (estimated)
//! ```

use std::hash::BuildHasher;
use std::net::IpAddr;

use foldhash::fast::FixedState;
use netsec_core::features::{FeatureVector, FEATURE_COUNT};
use netsec_core::flow::FlowRecord;

use crate::inputs::{without_context, InputRow, CONTEXT_COUNT};

/// How long an address's counts accumulate before they start over, in seconds.
pub const WINDOW_SECS: i64 = 60;

/// Addresses remembered at once (direct-mapped).
pub const SLOTS: usize = 4096;

/// Bits of each distinct-count sketch.
const SKETCH_BITS: u32 = 256;

/// Fixed so values do not change between runs or builds.
const SEED: u64 = 0x6e65_7473_6563_2d6d;

/// A 256-bit linear-counting sketch (Whang et al. 1990): accurate to a few percent up to
/// about a thousand distinct items, saturating at 256 · ln 256 ≈ 1,420.
#[derive(Debug, Clone, Copy, Default)]
struct Sketch([u64; 4]);

impl Sketch {
    fn insert(&mut self, hash: u64) {
        // Folded and multiplied so every input bit reaches the top byte.
        let bit = ((hash ^ (hash >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize;
        self.0[bit >> 6] |= 1 << (bit & 63);
    }

    fn estimate(&self) -> f64 {
        let set: u32 = self.0.iter().map(|w| w.count_ones()).sum();
        let m = f64::from(SKETCH_BITS);
        let zeros = f64::from(SKETCH_BITS - set);
        if zeros == 0.0 {
            m * m.ln()
        } else {
            m * (m / zeros).ln()
        }
    }
}

/// One address's window.
#[derive(Debug, Clone, Copy)]
struct Slot {
    addr: Option<IpAddr>,
    /// Last-packet time (µs) of the flow that opened the window.
    start: i64,
    flows: u32,
    peers: Sketch,
    endpoints: Sketch,
}

const EMPTY: Slot = Slot {
    addr: None,
    start: 0,
    flows: 0,
    peers: Sketch([0; 4]),
    endpoints: Sketch([0; 4]),
};

/// Per-address counts over the recent flows (see the module docs).
#[derive(Debug, Clone)]
pub struct FlowContext {
    slots: Vec<Slot>,
    hasher: FixedState,
}

impl Default for FlowContext {
    fn default() -> Self {
        FlowContext::new()
    }
}

impl FlowContext {
    /// An empty context (no memory until the first flow).
    pub fn new() -> FlowContext {
        FlowContext {
            slots: Vec::new(),
            hasher: FixedState::with_seed(SEED),
        }
    }

    /// Counts `flow` and returns its context features (this flow included), in
    /// [`ContextFeature`](crate::inputs::ContextFeature) order.
    pub fn observe(&mut self, flow: &FlowRecord) -> [f64; CONTEXT_COUNT] {
        if self.slots.is_empty() {
            self.slots = vec![EMPTY; SLOTS];
        }
        let now = flow.last_ts.as_micros();
        let (port, proto) = (flow.dst_port, flow.protocol.0);
        self.count(flow.src_addr, flow.dst_addr, port, proto, now);
        let at = self.count(flow.dst_addr, flow.src_addr, port, proto, now);
        let s = &self.slots[at];
        [
            f64::from(s.flows),
            s.peers.estimate(),
            s.endpoints.estimate(),
        ]
    }

    /// The model row of `flow`: its `features`, then its context ([`FlowContext::observe`]).
    pub fn row(&mut self, flow: &FlowRecord, features: &FeatureVector) -> InputRow {
        let mut row = without_context(features.as_array());
        row[FEATURE_COUNT..].copy_from_slice(&self.observe(flow));
        row
    }

    /// Adds one flow of `addr` with `peer` to its window; returns the slot.
    fn count(&mut self, addr: IpAddr, peer: IpAddr, port: u16, proto: u8, now: i64) -> usize {
        let at = (self.hasher.hash_one(addr) as usize) & (SLOTS - 1);
        let slot = &mut self.slots[at];
        if slot.addr != Some(addr) || now.saturating_sub(slot.start) > WINDOW_SECS * 1_000_000 {
            *slot = Slot {
                addr: Some(addr),
                start: now,
                ..EMPTY
            };
        }
        slot.flows = slot.flows.saturating_add(1);
        slot.peers.insert(self.hasher.hash_one(peer));
        slot.endpoints
            .insert(self.hasher.hash_one((peer, port, proto)));
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsec_core::app::AppProto;
    use netsec_core::decode::IpProtocol;
    use netsec_core::flow::{EndReason, FlowStats};
    use netsec_core::time::Timestamp;

    fn flow(src: [u8; 4], dst: [u8; 4], dst_port: u16, secs: i64) -> FlowRecord {
        FlowRecord {
            id: 0,
            first_ts: Timestamp::from_micros(secs * 1_000_000),
            last_ts: Timestamp::from_micros(secs * 1_000_000),
            src_addr: src.into(),
            src_port: 40000,
            dst_addr: dst.into(),
            dst_port,
            protocol: IpProtocol::TCP,
            end_reason: EndReason::Rst,
            stats: FlowStats::default(),
            app_proto: AppProto::Unknown,
            app: None,
        }
    }

    #[test]
    fn a_flood_of_many_sources_counts_peers_at_the_victim() {
        let mut ctx = FlowContext::new();
        let mut last = [0.0; CONTEXT_COUNT];
        for i in 0..300u32 {
            let b = i.to_be_bytes();
            last = ctx.observe(&flow([172, 16, b[2], b[3]], [10, 0, 0, 1], 80, 5));
        }
        assert_eq!(last[0], 300.0);
        let peers = last[1];
        assert!((250.0..350.0).contains(&peers), "{peers}");
        // (peer, port 80): as many endpoints as peers.
        let endpoints = last[2];
        assert!((250.0..350.0).contains(&endpoints), "{endpoints}");
    }

    #[test]
    fn counts_start_over_after_the_window_and_per_address() {
        let mut ctx = FlowContext::new();
        for _ in 0..10 {
            ctx.observe(&flow([10, 0, 0, 9], [10, 0, 0, 1], 22, 0));
        }
        let same = ctx.observe(&flow([10, 0, 0, 9], [10, 0, 0, 1], 22, WINDOW_SECS));
        assert_eq!(same[0], 11.0, "still in the window");
        let later = ctx.observe(&flow([10, 0, 0, 9], [10, 0, 0, 1], 22, WINDOW_SECS + 1));
        assert_eq!(later[0], 1.0, "a new window");
        let other = ctx.observe(&flow([10, 0, 0, 9], [10, 0, 0, 2], 22, WINDOW_SECS + 1));
        assert_eq!(other[0], 1.0, "another responder");
    }

    #[test]
    fn the_responder_counts_flows_it_started_too() {
        let mut ctx = FlowContext::new();
        // 10.0.0.1 opens 5 flows, then receives one.
        for p in 0..5 {
            ctx.observe(&flow([10, 0, 0, 1], [10, 0, 0, 50 + p], 443, 1));
        }
        let c = ctx.observe(&flow([10, 0, 0, 7], [10, 0, 0, 1], 22, 2));
        assert_eq!(c[0], 6.0);
        let peers = c[1];
        assert!((5.0..7.5).contains(&peers), "{peers}");
    }

    #[test]
    fn sketch_estimates_and_saturates() {
        let h = FixedState::with_seed(SEED);
        let mut s = Sketch::default();
        assert_eq!(s.estimate(), 0.0);
        for i in 0..100u32 {
            s.insert(h.hash_one(i));
        }
        let e = s.estimate();
        assert!((80.0..120.0).contains(&e), "{e}");
        for i in 0..100_000u32 {
            s.insert(h.hash_one(i));
        }
        assert!((s.estimate() - 256.0 * 256f64.ln()).abs() < 1e-9);
    }
}
