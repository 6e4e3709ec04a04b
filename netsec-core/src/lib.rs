//! netsec-core: captures in, bidirectional flows and the 25-feature vector out.
//!
//! Data moves one way: a [`capture::PacketSource`] lends raw frames, [`decode::decode`] turns
//! each into a small `Copy` [`decode::PacketMeta`] without copying bytes, a [`flow::FlowTable`]
//! groups packets into bidirectional flows and exports each finished flow once as a
//! [`flow::FlowRecord`], whose [`features::FeatureVector`] holds the 25 features of
//! `FEATURES.md` in spec order. [`pipeline::FlowPipeline`] ties these together and counts what
//! it skips and why; [`output`] writes flows as CSV or JSON Lines.
//!
//! Guarantees for embedders: no global state, no panics on any input (the fuzz targets check
//! the reader and the decoder), no allocation per packet on the hot path, and memory bounded by
//! the flow-table size (`FlowTableConfig::max_flows`) whatever the length of the stream.
//!
//! ```
//! use netsec_core::capture::{LinkType, PcapReader, PcapWriter};
//! use netsec_core::features::Feature;
//! use netsec_core::flow::FlowTableConfig;
//! use netsec_core::pipeline::FlowPipeline;
//! use netsec_core::time::Timestamp;
//!
//! // A DNS-like exchange as raw IPv4/UDP: 10.0.0.1:1000 -> 10.0.0.2:53 and the reply.
//! let query = [0x45,0,0,32, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2,
//!              0x03,0xe8,0,53, 0,12,0,0, 1,2,3,4];
//! let reply = [0x45,0,0,36, 0,0,0,0, 64,17,0,0, 10,0,0,2, 10,0,0,1,
//!              0,53,0x03,0xe8, 0,16,0,0, 1,2,3,4,5,6,7,8];
//! let mut writer = PcapWriter::new(Vec::new(), LinkType::RAW, 65535)?;
//! writer.write_packet(Timestamp::from_micros(1_000_000), &query, query.len() as u32)?;
//! writer.write_packet(Timestamp::from_micros(1_250_000), &reply, reply.len() as u32)?;
//! let capture = writer.into_inner()?;
//!
//! let mut pipeline = FlowPipeline::new(PcapReader::new(capture.as_slice())?, FlowTableConfig::default())?;
//! let mut flows = Vec::new();
//! pipeline.run(|flow| {
//!     flows.push(flow.clone());
//!     Ok::<(), std::io::Error>(())
//! })?;
//! let features = flows[0].features();
//! assert_eq!(flows[0].dst_port, 53);
//! assert_eq!(features.get(Feature::FlowDuration), 250_000.0); // µs
//! assert_eq!(features.get(Feature::TotlenBwd), 8.0); // payload bytes
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod app;
pub mod behaviour;
pub mod capture;
pub mod config;
pub mod decode;
pub mod detect;
pub mod features;
pub mod flow;
pub mod inventory;
pub mod output;
pub mod pipeline;
pub mod rules;
pub mod summary;
pub mod synth;
pub mod time;
pub mod wire;
