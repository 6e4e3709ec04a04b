#![no_main]
//! Any file bytes: the capture reader must never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = data;
});
