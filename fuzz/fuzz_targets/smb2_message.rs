#![no_main]
//! Any bytes as a TCP segment to an SMB server: framing, every message of the chain and every
//! accessor never panic, buffers stay inside the input, and the chain ends.

use netsec_core::app::smb2::{self, Frame};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = smb2::starts_smb(data);
    match smb2::frame(data) {
        Some(Frame::Messages(msgs)) => {
            let mut n = 0;
            for m in msgs {
                n += 1;
                let _ = (
                    m.command(),
                    m.is_response(),
                    m.status(),
                    m.message_id(),
                    m.tree_id(),
                );
                let _ = m.negotiate_311();
                for buf in [
                    m.tree_connect_path(),
                    m.create_name(),
                    m.write_data(),
                    m.ioctl_input(),
                ]
                .into_iter()
                .flatten()
                {
                    assert!(buf.len() <= data.len());
                    let _ = smb2::dcerpc_request_opnum(buf);
                    let _ = (
                        smb2::is_admin_share(buf),
                        smb2::utf16_eq_ignore_case(buf, "svcctl"),
                    );
                }
            }
            assert!(n <= 16);
        }
        Some(Frame::Compressed(t)) => {
            let _ = t.overflows();
        }
        None => {}
    }
});
