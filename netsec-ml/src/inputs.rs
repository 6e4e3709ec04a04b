//! What a model reads: the 25 flow features of `FEATURES.md`, then [`CONTEXT_COUNT`] context
//! features about the flow's responder (see [`crate::context`]).
//!
//! One flow cannot tell a scan probe from a flood packet or a brute-force guess from an
//! ordinary login: a SYN with no answer is the same 25 numbers whether one host sends it to a
//! thousand ports or a thousand spoofed hosts send it to one. What the attacks share is what
//! they do to their target: its address suddenly takes part in many flows, with many peers, on
//! many ports. So a model's row is the flow's features followed by three counts about the
//! address it went to, over the flows that ended in the last minute.
//!
//! Rows loaded from CICFlowMeter CSVs have no flow order to count over: their context columns
//! are 0, and a model trained on them never splits on those columns.

use netsec_core::features::{Feature, FEATURE_COUNT};

/// Context features after the flow features.
pub const CONTEXT_COUNT: usize = 3;

/// Columns of a model's row: the flow features, then the context features.
pub const INPUT_COUNT: usize = FEATURE_COUNT + CONTEXT_COUNT;

/// One model input row, in [`Input`] order.
pub type InputRow = [f64; INPUT_COUNT];

/// A context feature: what the flows of the last [`crate::context::WINDOW_SECS`] seconds say
/// about the flow's responder address (either side of those flows), as counts (the distinct
/// ones estimated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextFeature {
    /// Flows the responder took part in (this one included).
    RespFlows,
    /// Distinct peer addresses of those flows (estimated).
    RespPeers,
    /// Distinct (peer, port, protocol) of those flows, the port being the flow's responder
    /// port (estimated): many ports of one host, or one service of many.
    RespEndpoints,
}

impl ContextFeature {
    /// The three, in column order.
    pub const ALL: [ContextFeature; CONTEXT_COUNT] = [
        ContextFeature::RespFlows,
        ContextFeature::RespPeers,
        ContextFeature::RespEndpoints,
    ];

    /// Its name in model files and explanations.
    pub fn name(self) -> &'static str {
        match self {
            ContextFeature::RespFlows => "ctx_resp_flows",
            ContextFeature::RespPeers => "ctx_resp_peers",
            ContextFeature::RespEndpoints => "ctx_resp_endpoints",
        }
    }
}

/// One column of a model's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Input {
    /// A flow feature (`FEATURES.md`).
    Flow(Feature),
    /// A context feature.
    Context(ContextFeature),
}

impl Input {
    /// The input of column `index`, if there is one.
    pub fn from_index(index: usize) -> Option<Input> {
        if index < FEATURE_COUNT {
            Feature::from_index(index).map(Input::Flow)
        } else {
            ContextFeature::ALL
                .get(index - FEATURE_COUNT)
                .copied()
                .map(Input::Context)
        }
    }

    /// Its column.
    pub fn index(self) -> usize {
        match self {
            Input::Flow(f) => f.index(),
            Input::Context(c) => FEATURE_COUNT + c as usize,
        }
    }

    /// Its name (a flow feature's `FEATURES.md` name, or a context feature's).
    pub fn name(self) -> &'static str {
        match self {
            Input::Flow(f) => f.name(),
            Input::Context(c) => c.name(),
        }
    }

    /// Every input, in column order.
    pub fn all() -> impl Iterator<Item = Input> {
        (0..INPUT_COUNT).filter_map(Input::from_index)
    }
}

/// A row of the flow features `features` with no context (zeros), as CSV-loaded rows have.
pub fn without_context(features: &[f64; FEATURE_COUNT]) -> InputRow {
    let mut row = [0.0; INPUT_COUNT];
    row[..FEATURE_COUNT].copy_from_slice(features);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_the_features_then_the_context_in_order() {
        let all: Vec<Input> = Input::all().collect();
        assert_eq!(all.len(), INPUT_COUNT);
        for (i, input) in all.iter().enumerate() {
            assert_eq!(input.index(), i);
            assert_eq!(Input::from_index(i), Some(*input));
        }
        assert_eq!(all[0], Input::Flow(Feature::ALL[0]));
        assert_eq!(
            all[FEATURE_COUNT],
            Input::Context(ContextFeature::RespFlows)
        );
        assert_eq!(Input::from_index(INPUT_COUNT), None);
        let names: std::collections::HashSet<&str> = all.iter().map(|i| i.name()).collect();
        assert_eq!(names.len(), INPUT_COUNT, "names are distinct");
    }
}
