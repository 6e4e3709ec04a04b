//! netsec-ml: random-forest and isolation-forest detectors over the 25 flow features.
//!
//! Work in progress: [`dataset::Dataset`] is the shared shape of training and evaluation data.
#![warn(missing_docs)]

pub mod dataset;
