#![no_main]
//! Any frame bytes under any link type: the decoder must never panic.
//!
//! The first two bytes choose the link type: the low bits index the supported list, and one
//! extra slot takes the raw 16-bit value (exercising `UnsupportedLinkType`). The third byte sets
//! whether the frame was cut by the snap length. The rest is the frame.

use netsec_core::capture::{LinkType, RawPacket};
use netsec_core::time::Timestamp;

const LINK_TYPES: [LinkType; 10] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::RAW_BSD,
    LinkType::RAW_OPENBSD,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::NULL,
    LinkType::LOOP,
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [a, b, snap, frame @ ..] = data else {
        return;
    };
    let sel = u16::from_be_bytes([*a, *b]);
    let link_type = LINK_TYPES
        .get(usize::from(sel) % (LINK_TYPES.len() + 1))
        .copied()
        .unwrap_or(LinkType(sel));
    let len = frame.len() as u32;
    let orig_len = if snap & 1 == 1 {
        len.saturating_add(u32::from(*snap))
    } else {
        len
    };
    let pkt = RawPacket {
        ts: Timestamp::from_micros(0),
        link_type,
        data: frame,
        orig_len,
    };
    let _ = netsec_core::decode::decode(&pkt);
});
