//! netsec-ml: random-forest and isolation-forest detectors over the 25 flow features.
//!
//! Data comes in as a [`dataset::Dataset`] from CICFlowMeter CSVs ([`cic`]) or from captures
//! plus a label file ([`labels`], [`captures`]); [`split`] makes seeded stratified train/test
//! splits and folds, and [`metrics`] scores predictions the way scikit-learn users expect.
#![warn(missing_docs)]

pub mod captures;
pub mod cic;
pub mod dataset;
pub mod labels;
pub mod metrics;
pub mod split;
