#![no_main]
//! A flow's payloads: protocol detection and per-flow inspection (every parser, the record
//! arena) must never panic and stay bounded.
//!
//! Byte 0 picks TCP or UDP; the rest is split at `0xff 0xfe` markers into payloads, which
//! alternate direction.

use libfuzzer_sys::fuzz_target;
use netsec_core::app::{AppInspector, AppProto, MAX_FIELD_LEN};
use netsec_core::decode::IpProtocol;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let proto = if first & 1 == 0 {
        IpProtocol::TCP
    } else {
        IpProtocol::UDP
    };
    let mut app = AppInspector::default();
    let mut from_client = true;
    let mut start = 0;
    for i in 0..=rest.len() {
        if i == rest.len() || rest[i..].starts_with(&[0xff, 0xfe]) {
            let payload = &rest[start..i];
            let _ = AppProto::detect(proto, payload);
            app.inspect(proto, from_client, payload);
            from_client = !from_client;
            start = (i + 2).min(rest.len());
        }
    }
    if let Some(r) = app.record() {
        assert!(r.iter().all(|(_, v)| v.len() <= MAX_FIELD_LEN + 8));
    }
});
