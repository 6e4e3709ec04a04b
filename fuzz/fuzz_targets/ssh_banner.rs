#![no_main]
//! Any TCP payload: the SSH identification-string parser must never panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = netsec_core::app::ssh::parse(data);
});
