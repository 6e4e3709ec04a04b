//! Integration tests for the `netsec` binary: real runs of the built executable.

mod analyze;
mod devices;
mod flows;
mod ml;
mod support;
