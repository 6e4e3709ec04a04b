//! `netsec`: offline pcap forensics.
fn main() {}
