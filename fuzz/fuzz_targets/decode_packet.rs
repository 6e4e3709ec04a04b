#![no_main]
//! Any frame bytes under any link type: the decoder must never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = data;
});
