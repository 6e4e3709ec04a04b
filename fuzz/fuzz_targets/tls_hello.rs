#![no_main]
//! Any TCP payload: the TLS hello parser and the fingerprints must never panic.

use libfuzzer_sys::fuzz_target;
use netsec_core::app::tls;

fuzz_target!(|data: &[u8]| {
    match tls::parse(data) {
        Ok(tls::Hello::Client(h)) => {
            let _ = (h.ja4(), h.ja3(), h.version(), h.sni_str(), h.alpn().count());
            let _ = (h.extensions().count(), h.signature_algorithms().count());
        }
        Ok(tls::Hello::Server(h)) => {
            let _ = h.version();
        }
        Err(_) => {}
    }
});
