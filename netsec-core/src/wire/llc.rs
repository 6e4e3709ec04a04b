//! IEEE 802.2 LLC with a SNAP header (IEEE Std 802-2014 §10.3), the framing of 802.11 frame
//! bodies: `AA AA 03` then a 3-byte OUI and a 2-byte protocol id.
//!
//! With OUI 00-00-00 (RFC 1042) or 00-00-F8 (IEEE 802.1H bridge tunnel) the protocol id is an
//! EtherType. After [`SnapHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, check_len, tail};

mod field {
    pub const DSAP: usize = 0;
    pub const SSAP: usize = 1;
    pub const CONTROL: usize = 2;
    pub const OUI: core::ops::Range<usize> = 3..6;
    pub const PID: usize = 6;
}

/// LLC + SNAP header length.
pub const HEADER_LEN: usize = 8;
/// DSAP/SSAP value announcing SNAP.
pub const SAP_SNAP: u8 = 0xaa;
/// LLC control field of unnumbered information (UI) frames.
pub const CONTROL_UI: u8 = 0x03;
/// OUI of RFC 1042 encapsulation (the PID is an EtherType).
pub const OUI_RFC1042: [u8; 3] = [0, 0, 0];
/// OUI of IEEE 802.1H bridge-tunnel encapsulation (the PID is an EtherType).
pub const OUI_BRIDGE_TUNNEL: [u8; 3] = [0, 0, 0xf8];

/// A read-only view of an LLC/SNAP header.
#[derive(Debug, Clone, Copy)]
pub struct SnapHeader<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> SnapHeader<T> {
    /// Wraps `buf`, checking that it starts with `AA AA 03`.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Link`] below 8 bytes; `Invalid` when DSAP, SSAP or control is
    /// not SNAP UI (plain LLC such as STP's `42 42 03`).
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, HEADER_LEN, Layer::Link)?;
        if b[field::DSAP] != SAP_SNAP
            || b[field::SSAP] != SAP_SNAP
            || b[field::CONTROL] != CONTROL_UI
        {
            return Err(DecodeError::Invalid {
                layer: Layer::Link,
                what: "LLC header is not SNAP",
            });
        }
        Ok(SnapHeader { buf })
    }

    /// Organisationally unique identifier.
    #[inline]
    pub fn oui(&self) -> [u8; 3] {
        let b = &self.buf.as_ref()[field::OUI];
        [b[0], b[1], b[2]]
    }

    /// Protocol id (an EtherType when [`Self::is_ethertype`]).
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buf.as_ref(), field::PID)
    }

    /// Whether the protocol id is an EtherType (RFC 1042 or 802.1H OUI).
    #[inline]
    pub fn is_ethertype(&self) -> bool {
        matches!(self.oui(), OUI_RFC1042 | OUI_BRIDGE_TUNNEL)
    }
}

impl<'a> SnapHeader<&'a [u8]> {
    /// The encapsulated packet.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    const HDR: [u8; 9] = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 0x45];

    #[test]
    fn happy_path() {
        let h = SnapHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.oui(), OUI_RFC1042);
        assert!(h.is_ethertype());
        assert_eq!(h.protocol(), 0x0800);
        assert_eq!(h.payload(), &[0x45]);
    }

    #[test]
    fn vendor_oui_is_not_ethertype() {
        // Cisco Aironet (00-40-96), seen in benign/tunnel_capwap.pcap.
        let b = [0xaa, 0xaa, 0x03, 0x00, 0x40, 0x96, 0x00, 0x00];
        let h = SnapHeader::new_checked(&b[..]).expect("header");
        assert!(!h.is_ethertype());
        assert_eq!(h.protocol(), 0);
    }

    #[test]
    fn not_snap() {
        for i in 0..3 {
            let mut b = HDR;
            b[i] = 0x42;
            assert!(matches!(
                SnapHeader::new_checked(&b[..]),
                Err(DecodeError::Invalid { .. })
            ));
        }
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR, HEADER_LEN, |b| SnapHeader::new_checked(b).map(|_| ()));
    }
}
