//! Application-layer metadata parsed from single packets: DNS, TLS, HTTP, DHCP, SSH.
//!
//! Every parser borrows the payload it is given (zero-copy) and returns `None` or an error on
//! garbage; none panics on any input.

pub mod dhcp;
pub mod dns;
pub mod http;
pub mod ssh;
pub mod tls;
