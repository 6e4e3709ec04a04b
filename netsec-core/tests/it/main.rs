//! Integration tests for netsec-core, one binary (see STYLE.md §6).
//!
//! Real captures are read from `../shared/data` relative to the repository root; a test skips
//! with a printed reason when that folder is absent.

mod app;
mod app_l7;
mod behaviour;
mod capture;
mod cicflowmeter;
mod decode;
mod etopen;
mod flows;
mod inventory;
mod pipeline;
mod rules;
mod sensor;
mod suricata_verify;
mod threshold;
mod util;
