//! netsec-ml: random-forest and isolation-forest detectors over the 25 flow features.
//!
//! Not yet implemented: this crate holds the workspace slot for the ML issue.
