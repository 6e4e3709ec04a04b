#![no_main]
//! Any TCP payload: the HTTP/1.x start-line and header parser must never panic.

use libfuzzer_sys::fuzz_target;
use netsec_core::app::http;

fuzz_target!(|data: &[u8]| {
    if let Ok(http::HttpMessage::Request(r)) = http::parse(data) {
        let _ = r.headers_complete();
    }
});
