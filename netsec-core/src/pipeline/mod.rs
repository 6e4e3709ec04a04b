//! Pipeline: frames → decode → flow table → detectors, with per-reason accounting.
//!
//! The one packet step lives in [`Sensor`]: [`push`](Sensor::push) a captured frame,
//! [`tick`](Sensor::tick) the clock when no packet comes, [`finish`](Sensor::finish) at the end.
//! Three drivers run it:
//!
//! - [`Sensor`] itself, pushed by a live capture thread;
//! - [`FlowPipeline`], which pulls from a [`PacketSource`] (a capture file) and hands every
//!   finished [`FlowRecord`] to the caller in export order;
//! - [`StagedSensor`] and [`FlowPipeline::run_staged`], which split the same work over two
//!   threads (tracking on the caller's, detection on a second).
//!
//! All reuse their output buffers, so nothing is allocated per packet. A malformed packet is counted in
//! [`PipelineStats`] and skipped; only capture I/O or corruption ends a run, and then every flow
//! already assembled is still delivered before the error is returned.
//!
//! # Detectors
//!
//! A sensor (or a pipeline built with [`FlowPipeline::with_detectors`]) runs a list of
//! [`Detector`]s. For every frame, in capture order:
//!
//! 1. the frame is decoded; an IP packet goes to [`FlowTable::process`];
//! 2. every flow that call exported (expired, evicted, or ended by this packet) is given to
//!    each detector's [`on_flow_end`](Detector::on_flow_end), flow by flow in export order,
//!    detector by detector in list order, with the flow's [`FeatureVector`];
//! 3. the packet is given to each detector's [`on_packet`](Detector::on_packet) in list order,
//!    with its [`FlowContext`] (`None` for ARP frames and orphan fragments).
//!
//! [`finish`](Sensor::finish) and [`tick`](Sensor::tick) give the flows they export to
//! `on_flow_end` the same way; a tick then calls every detector's
//! [`on_tick`](Detector::on_tick). Alerts are pushed into one `Vec<Alert>` the
//! pipeline owns and reuses: nothing is allocated per packet when nothing fires. The caller
//! takes them with [`drain_alerts`](FlowPipeline::drain_alerts) after each batch, or receives
//! them through [`run_with_alerts`](FlowPipeline::run_with_alerts). The order of both flows and
//! alerts depends only on the input, so the same capture gives the same output every run.
//!
//! [`run_staged`](FlowPipeline::run_staged) gives the same flows and alerts in the same order
//! with the detectors on a second thread, so reading and flow tracking overlap detection
//! (`netsec analyze` runs this way).

mod pull;
mod sensor;
mod staged;
mod stats;
mod step;

pub use pull::{FlowPipeline, PipelineError};
pub use sensor::{Sensor, SensorMemory};
pub use staged::StagedSensor;
pub use stats::PipelineStats;
pub(crate) use step::Tracker;

#[cfg(doc)]
use crate::{
    capture::PacketSource,
    decode::decode,
    detect::Detector,
    features::FeatureVector,
    flow::{FlowContext, FlowRecord, FlowTable},
};
