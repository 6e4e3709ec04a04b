#![no_main]
//! Any TCP payload: the HTTP/1.x start-line and header parser must never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = netsec_core::app::http::parse(data);
});
