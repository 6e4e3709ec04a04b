//! Bidirectional flows: key, table, statistics and exported records.
//!
//! - [`key`]: the canonical [`FlowKey`] and [`Direction`] — the only place with direction logic.
//! - [`stats`]: [`FlowStats`], the fixed-size, O(1)-per-packet statistics behind the 25 features.
//! - [`table`]: the [`FlowTable`] that groups packets into flows and exports each finished flow
//!   exactly once as a [`FlowRecord`]; its module docs state the timeout, teardown, eviction and
//!   fragment semantics.

pub mod key;
pub mod stats;
pub mod table;

pub use key::{Direction, Endpoint, FlowKey};
pub use stats::FlowStats;
pub use table::{
    CheckedFlowTableConfig, EndReason, FlowConfigError, FlowContext, FlowRecord, FlowTable,
    FlowTableConfig, FlowTableStats, MAX_FLOWS_LIMIT,
};
