//! CAPWAP data-channel header (RFC 5415 §4.3), carried in UDP port 5247.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |CAPWAP Preamble|  HLEN   |   RID   | WBID    |T|F|L|W|M|K|Flags|
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          Fragment ID          |     Frag Offset         |Rsvd |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        (optional) Radio MAC Address / Wireless Specific Info  |
//! ```
//!
//! The preamble (§4.1) is a 4-bit version (0) and a 4-bit type: 0 means this clear-text header
//! follows, 1 means a DTLS record follows (the payload is encrypted). HLEN counts the whole
//! header, optional parts included, in 4-byte words, so the payload starts at `4 * HLEN`.
//! With T set the payload is in the native format of the wireless binding WBID (1 = IEEE 802.11,
//! RFC 5416); with T clear it is an IEEE 802.3 (Ethernet) frame.
//!
//! After [`CapwapHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::ieee80211::FcOrder;
use super::{be16, check_len, tail};

mod field {
    pub const PREAMBLE: usize = 0;
    /// HLEN (5 bits) then the top 3 bits of RID.
    pub const HLEN_RID: usize = 1;
    /// Bottom 2 bits of RID, WBID (5 bits), T.
    pub const RID_WBID_T: usize = 2;
    /// F, L, W, M, K and 3 reserved flag bits.
    pub const FLAGS: usize = 3;
    pub const FRAG_ID: usize = 4;
    pub const FRAG_OFFSET: usize = 6;
}

/// Minimum header length (HLEN = 2).
pub const MIN_HEADER_LEN: usize = 8;
/// IANA UDP port of the CAPWAP data channel (RFC 5415 §15.7).
pub const DATA_PORT: u16 = 5247;
/// IANA UDP port of the CAPWAP control channel (RFC 5415 §15.7); not a tunnel.
pub const CONTROL_PORT: u16 = 5246;
/// Preamble of a DTLS-protected packet (version 0, type 1; RFC 5415 §4.1).
pub const PREAMBLE_DTLS: u8 = 0x01;
/// Wireless binding identifier of IEEE 802.11 (RFC 5415 §4.3, RFC 5416).
pub const WBID_IEEE80211: u8 = 1;

/// F: this packet is a fragment.
pub const FLAG_F: u8 = 0x80;
/// L: last fragment.
pub const FLAG_L: u8 = 0x40;
/// W: the optional Wireless Specific Information field is present.
pub const FLAG_W: u8 = 0x20;
/// M: the optional Radio MAC Address field is present.
pub const FLAG_M: u8 = 0x10;
/// K: data-channel keep-alive; the payload holds message elements, not a frame.
pub const FLAG_K: u8 = 0x08;

#[inline]
fn invalid(what: &'static str) -> DecodeError {
    DecodeError::Invalid {
        layer: Layer::Tunnel,
        what,
    }
}

/// A read-only view of a clear-text CAPWAP header.
#[derive(Debug, Clone, Copy)]
pub struct CapwapHeader<T: AsRef<[u8]>> {
    buf: T,
    len: usize,
}

impl<T: AsRef<[u8]>> CapwapHeader<T> {
    /// Wraps `buf`, checking the preamble and that the `4 * HLEN` header bytes are present.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Tunnel`] when fewer than 8 bytes or fewer than `4 * HLEN`;
    /// `Invalid` for a preamble other than version 0 type 0 (RFC 5415 §4.1: a DTLS record,
    /// [`PREAMBLE_DTLS`], or an unknown version) and for HLEN below 2 (the fixed part alone
    /// is two words).
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, MIN_HEADER_LEN, Layer::Tunnel)?;
        match b[field::PREAMBLE] {
            0 => {}
            PREAMBLE_DTLS => return Err(invalid("CAPWAP DTLS-protected")),
            _ => return Err(invalid("CAPWAP preamble")),
        }
        let len = usize::from(b[field::HLEN_RID] >> 3) * 4;
        if len < MIN_HEADER_LEN {
            return Err(invalid("CAPWAP HLEN below 2"));
        }
        check_len(b, len, Layer::Tunnel)?;
        Ok(CapwapHeader { buf, len })
    }

    /// Header length in bytes (`4 * HLEN`), optional fields included.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.len
    }

    /// Radio ID (5 bits).
    #[inline]
    pub fn radio_id(&self) -> u8 {
        let b = self.buf.as_ref();
        ((b[field::HLEN_RID] & 0x07) << 2) | (b[field::RID_WBID_T] >> 6)
    }

    /// Wireless binding identifier (5 bits); [`WBID_IEEE80211`] for IEEE 802.11.
    #[inline]
    pub fn wbid(&self) -> u8 {
        (self.buf.as_ref()[field::RID_WBID_T] >> 1) & 0x1f
    }

    /// T: the payload is in the binding's native format (else IEEE 802.3).
    #[inline]
    pub fn native_frame(&self) -> bool {
        self.buf.as_ref()[field::RID_WBID_T] & 0x01 != 0
    }

    /// The F, L, W, M, K flag byte (compare with the `FLAG_*` constants).
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS]
    }

    /// F: this packet is one fragment of a larger one (RFC 5415 §3.4).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.flags() & FLAG_F != 0
    }

    /// K: a data-channel keep-alive (RFC 5415 §4.4.1), which carries no frame.
    #[inline]
    pub fn is_keep_alive(&self) -> bool {
        self.flags() & FLAG_K != 0
    }

    /// Fragment ID.
    #[inline]
    pub fn fragment_id(&self) -> u16 {
        be16(self.buf.as_ref(), field::FRAG_ID)
    }

    /// Fragment offset (13 bits, in 8-byte units).
    #[inline]
    pub fn fragment_offset(&self) -> u16 {
        be16(self.buf.as_ref(), field::FRAG_OFFSET) >> 3
    }
}

impl<'a> CapwapHeader<&'a [u8]> {
    /// The encapsulated frame (after the optional Radio MAC and Wireless Specific Information).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.len)
    }
}

/// The byte order of the frame control of an 802.11 frame carried in CAPWAP.
///
/// Cisco controllers send the two frame-control bytes swapped (flags first); Wireshark's CAPWAP
/// dissector swaps them by default ("Swap Frame Control"). We decide per frame: the protocol
/// version (low 2 bits of the standard first byte) is always 0, so when the first byte has
/// those bits set and the second has not, the first byte must be the flags (ToDS/FromDS, which
/// every frame relayed by an AP sets). Frames with neither DS bit look the same both ways round
/// only when they are management/control or ad-hoc data frames, which are not decapsulated.
#[inline]
pub fn frame_control_order(frame: &[u8]) -> FcOrder {
    match frame {
        [a, b, ..] if a & 0x03 != 0 && b & 0x03 == 0 => FcOrder::Swapped,
        _ => FcOrder::Standard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    // From benign/tunnel_capwap.pcap: HLEN 4, RID 1, WBID 1, T, W, 8 bytes of wireless info.
    const HDR: [u8; 17] = [
        0x00, 0x20, 0x43, 0x20, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0xee, 0x4f, 0x00, 0x00, 0x00,
        0x00, 0xaa,
    ];

    #[test]
    fn happy_path() {
        let h = CapwapHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.header_len(), 16);
        assert_eq!(h.radio_id(), 1);
        assert_eq!(h.wbid(), WBID_IEEE80211);
        assert!(h.native_frame());
        assert_eq!(h.flags(), FLAG_W);
        assert!(!h.is_fragment());
        assert!(!h.is_keep_alive());
        assert_eq!(h.fragment_id(), 0);
        assert_eq!(h.fragment_offset(), 0);
        assert_eq!(h.payload(), &[0xaa]);
    }

    #[test]
    fn minimal_header_802_3() {
        let b = [0x00, 0x10, 0x02, 0x00, 0x12, 0x34, 0x00, 0x28, 0xee];
        let h = CapwapHeader::new_checked(&b[..]).expect("header");
        assert_eq!(h.header_len(), 8);
        assert!(!h.native_frame());
        assert_eq!(h.wbid(), WBID_IEEE80211);
        assert_eq!(h.fragment_id(), 0x1234);
        assert_eq!(h.fragment_offset(), 5);
        assert_eq!(h.payload(), &[0xee]);
    }

    #[test]
    fn dtls_preamble() {
        let mut b = HDR;
        b[0] = PREAMBLE_DTLS;
        assert!(matches!(
            CapwapHeader::new_checked(&b[..]),
            Err(DecodeError::Invalid {
                layer: Layer::Tunnel,
                what: "CAPWAP DTLS-protected"
            })
        ));
    }

    #[test]
    fn bad_version() {
        let mut b = HDR;
        b[0] = 0x10;
        assert!(matches!(
            CapwapHeader::new_checked(&b[..]),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn hlen_below_two() {
        for hlen in [0u8, 1] {
            let mut b = HDR;
            b[1] = hlen << 3;
            assert!(matches!(
                CapwapHeader::new_checked(&b[..]),
                Err(DecodeError::Invalid { .. })
            ));
        }
    }

    #[test]
    fn hlen_beyond_buffer() {
        let mut b = HDR;
        b[1] = 0xf8; // 31 words = 124 bytes
        assert!(matches!(
            CapwapHeader::new_checked(&b[..]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn fc_order_heuristic() {
        // From the corpus: Cisco ToDS data frame, swapped; and the same as on the air.
        assert_eq!(frame_control_order(&[0x01, 0x08]), FcOrder::Swapped);
        assert_eq!(frame_control_order(&[0x02, 0x88]), FcOrder::Swapped);
        assert_eq!(frame_control_order(&[0x08, 0x01]), FcOrder::Standard);
        assert_eq!(frame_control_order(&[0x00, 0x40]), FcOrder::Standard);
        assert_eq!(frame_control_order(&[0x01]), FcOrder::Standard);
        assert_eq!(frame_control_order(&[]), FcOrder::Standard);
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR, 16, |b| CapwapHeader::new_checked(b).map(|_| ()));
    }
}
