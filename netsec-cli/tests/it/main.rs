//! Integration tests for the `netsec` binary: real runs of the built executable.

mod analyze;
mod flows;
mod ml;
