//! Bidirectional flows: key, table, statistics and exported records.
//!
//! - the canonical [`FlowKey`] and [`Direction`] (`key.rs`, the only place with direction
//!   logic);
//! - [`FlowStats`], the fixed-size, O(1)-per-packet statistics behind the 25 features;
//! - the [`FlowTable`] that groups packets into flows and exports each finished flow exactly
//!   once as a [`FlowRecord`], with the semantics below.
//!
//! # Flow table guarantees
//! - Every flow that starts is exported exactly once, as a [`FlowRecord`], by
//!   [`FlowTable::process`], [`FlowTable::advance_time`] or [`FlowTable::flush`]. After a flush,
//!   the packets of all exported flows sum to the packets given to `process` minus
//!   [`FlowTableStats::orphan_fragments`].
//! - Flow ids are sequential in creation order, starting at 1, and export order depends only
//!   on the input, so the same capture always gives the same records in the same order.
//! - The table never holds more than [`FlowTableConfig::max_flows`] flows.
//! - `process` is O(1) and allocates only when a new flow grows the slab or map (amortised).
//!   Timestamps going backwards never panic and never give negative features.
//!
//! # Flow table semantics
//! - **Timeouts** are checked as packet time advances (the highest timestamp seen so far), and
//!   on [`FlowTable::advance_time`] in live mode. A flow expires when *more than*
//!   `idle_timeout_us` passed since its last packet (`idle`), or more than `active_timeout_us`
//!   since its first packet (`active`). A packet that would cross either limit of its own flow
//!   first exports that flow, then starts a new one. Expiry scans only the least recently seen
//!   flows (O(1) per packet), so a flow that passed its *active* limit while still more
//!   recently seen than others is exported at its next packet or once it reaches the front of
//!   the idle order; its reason is still `active`.
//! - **TCP teardown**: RST ends a flow (`rst`); a FIN in both directions followed by an ACK
//!   ends it (`fin`). An ended flow is not dropped at once: it lingers for
//!   `teardown_linger_us` of packet time after its last packet, and late teardown packets
//!   (retransmitted FINs, the last ACK, a RST after FIN) join it instead of opening an
//!   "appendix" flow. A new SYN without ACK on an ended flow exports it and starts a new flow
//!   (port reuse). Lingering flows keep their `rst`/`fin` reason, also on flush or eviction.
//! - **Eviction**: when a new flow needs room in a full table, the oldest lingering (already
//!   ended) flow is exported first; otherwise the open flow idle for longest is exported as
//!   `evicted` and counted in [`FlowTableStats::evicted`].
//! - **Fragments**: a first fragment (offset 0) carries ports and joins its flow normally; the
//!   table remembers `(src, dst, protocol, fragment id) → flow` in a FIFO-bounded map
//!   (`max_fragments` entries, each kept `fragment_timeout_us`). Later fragments join that flow
//!   as payload-only packets (no TCP flags, no window); they never end, expire or start a flow
//!   themselves. A non-first fragment with no remembered first fragment (or whose flow has
//!   ended) never creates a flow: `process` returns `None` and counts it in
//!   [`FlowTableStats::orphan_fragments`].
//! - **Export order**: within one call, expired flows in deadline order, then the flow the
//!   packet ended or evicted. [`FlowTable::flush`] exports the rest in flow-id order.
//! - **Application layer**: with [`FlowTableConfig::app_layer`] on, packets given with their
//!   payload ([`FlowTable::process_ip`]) are inspected by the flow's [`AppInspector`](crate::app::AppInspector), which
//!   looks at no more than the first [`MAX_INSPECTED_PER_DIRECTION`](crate::app::MAX_INSPECTED_PER_DIRECTION)
//!   payload packets of each direction. Its state lives in an array beside the slab, not in
//!   the flow entry: the entry holds only the recognised [`AppProto`](crate::app::AppProto) and whether inspection
//!   is still going, so packets of flows past inspection never touch that array. Exported
//!   records carry [`FlowRecord::app_proto`] and [`FlowRecord::app`]; the record's text arena
//!   is allocated only for flows that yield facts.

mod key;
mod stats;
mod table;

pub use key::{Direction, Endpoint, FlowKey};
pub use stats::FlowStats;
pub use table::{
    CheckedFlowTableConfig, EndReason, FlowConfigError, FlowContext, FlowRecord, FlowTable,
    FlowTableConfig, FlowTableStats, FLOW_ENTRY_BYTES, MAX_FLOWS_LIMIT,
};
