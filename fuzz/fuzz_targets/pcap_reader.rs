#![no_main]
//! Any file bytes: the capture reader must never panic (see `netsec_core::capture::drain_bytes`).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = netsec_core::capture::drain_bytes(data);
});
