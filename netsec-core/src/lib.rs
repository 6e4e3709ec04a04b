//! netsec-core: captures in, bidirectional flows and the 25-feature vector out.
//!
//! Data moves one way: a [`capture::PacketSource`] lends raw frames, [`decode::decode`] turns
//! each into a small `Copy` [`decode::PacketMeta`] without copying bytes, a [`flow::FlowTable`]
//! groups packets into bidirectional flows and exports each finished flow once as a
//! [`flow::FlowRecord`], whose [`features::FeatureVector`] holds the 25 features of
//! `FEATURES.md` in spec order.
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod capture;
pub mod decode;
pub mod features;
pub mod flow;
pub mod output;
pub mod pipeline;
pub mod synth;
pub mod time;
pub mod wire;
