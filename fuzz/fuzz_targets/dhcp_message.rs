#![no_main]
//! Any bytes as a BOOTP/DHCP message: parsing and every accessor never panic, and the options
//! iterator ends.

use netsec_core::app::dhcp::DhcpMessage;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(msg) = DhcpMessage::parse(data) else {
        return;
    };
    let _ = (
        msg.xid(),
        msg.flags(),
        msg.ciaddr(),
        msg.yiaddr(),
        msg.siaddr(),
        msg.giaddr(),
    );
    let _ = (
        msg.client_mac(),
        msg.message_type(),
        msg.requested_ip(),
        msg.server_id(),
    );
    let _ = (msg.hostname(), msg.vendor_class());
    assert!(msg.chaddr().len() <= 16);
    let total: usize = msg.options().map(|o| o.data.len() + 2).sum();
    assert!(total <= data.len());
});
