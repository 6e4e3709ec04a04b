//! Geneve header (RFC 8926 §3.4), carried in UDP to port 6081.
//!
//! 8 fixed bytes (version 2 bits, option length 6 bits in 4-byte units, O/C flags, protocol
//! type as an EtherType, 24-bit VNI) plus variable options. Protocol 0x6558 means an inner
//! Ethernet frame. After [`GeneveHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, be32, check_len, tail};

mod field {
    pub const VER_OPTLEN: usize = 0;
    pub const FLAGS: usize = 1;
    pub const PROTOCOL: usize = 2;
    pub const VNI: usize = 4;
}

/// Fixed header length.
pub const FIXED_LEN: usize = 8;
/// IANA UDP port.
pub const UDP_PORT: u16 = 6081;
/// "Transparent Ethernet bridging": the payload is an Ethernet frame.
pub const PROTO_ETHERNET: u16 = 0x6558;

/// A read-only view of a Geneve header.
#[derive(Debug, Clone, Copy)]
pub struct GeneveHeader<T: AsRef<[u8]>> {
    buf: T,
    len: usize,
}

impl<T: AsRef<[u8]>> GeneveHeader<T> {
    /// Wraps `buf`, checking the version and that the options fit.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Tunnel`]; `Invalid` for a version other than 0 (RFC 8926 §3.4:
    /// packets with an unknown version MUST be dropped).
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, FIXED_LEN, Layer::Tunnel)?;
        if b[field::VER_OPTLEN] >> 6 != 0 {
            return Err(DecodeError::Invalid {
                layer: Layer::Tunnel,
                what: "Geneve version",
            });
        }
        let len = FIXED_LEN + usize::from(b[field::VER_OPTLEN] & 0x3f) * 4;
        check_len(b, len, Layer::Tunnel)?;
        Ok(GeneveHeader { buf, len })
    }

    /// Header length including options.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.len
    }

    /// OAM (control) packet flag.
    #[inline]
    pub fn oam(&self) -> bool {
        self.buf.as_ref()[field::FLAGS] & 0x80 != 0
    }

    /// Protocol type of the payload (EtherType).
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buf.as_ref(), field::PROTOCOL)
    }

    /// Virtual network identifier (24 bits).
    #[inline]
    pub fn vni(&self) -> u32 {
        be32(self.buf.as_ref(), field::VNI) >> 8
    }
}

impl<'a> GeneveHeader<&'a [u8]> {
    /// The encapsulated frame.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    // One 4-byte option, protocol Ethernet, VNI 7.
    const HDR: [u8; 13] = [0x01, 0, 0x65, 0x58, 0, 0, 7, 0, 1, 2, 3, 4, 0xee];

    #[test]
    fn happy_path() {
        let h = GeneveHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.header_len(), 12);
        assert_eq!(h.protocol(), PROTO_ETHERNET);
        assert_eq!(h.vni(), 7);
        assert!(!h.oam());
        assert_eq!(h.payload(), &[0xee]);
    }

    #[test]
    fn bad_version() {
        let mut b = HDR;
        b[0] |= 0x40;
        assert!(matches!(
            GeneveHeader::new_checked(&b[..]),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn options_beyond_buffer() {
        let mut b = HDR;
        b[0] = 0x3f;
        assert!(matches!(
            GeneveHeader::new_checked(&b[..]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR[..12], 12, |b| GeneveHeader::new_checked(b).map(|_| ()));
    }
}
