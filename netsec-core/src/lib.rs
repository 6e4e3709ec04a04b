//! netsec-core: captured frames in; bidirectional flows, the 25-feature vector and alerts out.
//!
//! The one entry point is the [`pipeline::Sensor`]: [`push`](pipeline::Sensor::push) it each
//! captured frame, [`tick`](pipeline::Sensor::tick) its clock when the network is quiet, and
//! [`finish`](pipeline::Sensor::finish) at the end; take the finished flows and the alerts as
//! they come. Build it from a [`config::SensorConfig`] (TOML: flow table, rules, behavioural
//! detectors, models, outputs), or from a flow-table config and your own
//! [`detect::Detector`]s. [`pipeline::FlowPipeline`] pulls a capture file through a sensor, and
//! [`pipeline::StagedSensor`] splits one over two threads.
//!
//! Inside, data moves one way: [`decode::decode`] turns each frame into a small `Copy`
//! [`decode::PacketMeta`] without copying bytes, a [`flow::FlowTable`] groups packets into
//! bidirectional flows and exports each finished flow once as a [`flow::FlowRecord`], whose
//! [`features::FeatureVector`] holds the 25 features of `FEATURES.md` in spec order, and the
//! detectors raise [`detect::Alert`]s (`ALERTS.md`). [`output`] and [`detect`] write flows and
//! alerts as EVE JSON, JSON Lines or CSV.
//!
//! Guarantees for embedders: no global state, no panics on any input (the fuzz targets check
//! the reader and the decoder), no allocation per packet on the hot path, and memory bounded by
//! the flow-table size (`FlowTableConfig::max_flows`) and the detectors' caps whatever the
//! length of the stream.
//!
//! ```
//! use netsec_core::capture::{LinkType, RawPacket};
//! use netsec_core::config::SensorConfig;
//! use netsec_core::features::Feature;
//! use netsec_core::time::Timestamp;
//!
//! // The bundled rules and behavioural detectors, plus one rule of our own.
//! let mut config = SensorConfig::default();
//! config.rules.inline.push(
//!     r#"alert udp any any -> any 53 (msg:"DNS 01020304"; content:"|01 02 03 04|"; sid:1;)"#.into(),
//! );
//! let mut sensor = config.check()?.build()?;
//!
//! // A DNS-like exchange as raw IPv4/UDP, as a capture thread would hand it over:
//! // 10.0.0.1:1000 -> 10.0.0.2:53 and the reply.
//! let query = [0x45,0,0,32, 0,0,0,0, 64,17,0,0, 10,0,0,1, 10,0,0,2,
//!              0x03,0xe8,0,53, 0,12,0,0, 1,2,3,4];
//! let reply = [0x45,0,0,36, 0,0,0,0, 64,17,0,0, 10,0,0,2, 10,0,0,1,
//!              0,53,0x03,0xe8, 0,16,0,0, 1,2,3,4,5,6,7,8];
//! for (us, frame) in [(1_000_000, &query[..]), (1_250_000, &reply[..])] {
//!     sensor.push(&RawPacket {
//!         ts: Timestamp::from_micros(us),
//!         link_type: LinkType::RAW,
//!         data: frame,
//!         orig_len: frame.len() as u32,
//!     });
//! }
//! let alerts: Vec<_> = sensor.drain_alerts().collect();
//! assert_eq!(alerts.len(), 1); // the rule matched the query (`-> any 53`), not the reply
//! assert_eq!((alerts[0].detector.as_str(), alerts[0].meta_u64("sid")), ("rules", Some(1)));
//!
//! // No packet for three minutes: the idle timeout (120 s) ends the flow on a tick.
//! sensor.tick(Timestamp::from_micros(181_000_000));
//! let flows: Vec<_> = sensor.drain_flows().collect();
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
pub mod report;
pub mod rules;
pub mod summary;
#[cfg(test)]
pub(crate) mod synth;
pub mod time;
mod wire;
