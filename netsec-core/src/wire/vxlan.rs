//! VXLAN header (RFC 7348 §5), carried in UDP to port 4789, followed by an inner Ethernet frame.
//!
//! 8 bytes: flags (the I bit, 0x08, must be set for a valid VNI), 3 reserved, 24-bit VNI,
//! 1 reserved. After [`VxlanHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be32, check_len, tail};

mod field {
    pub const FLAGS: usize = 0;
    pub const VNI: usize = 4;
}

/// Header length.
pub const HEADER_LEN: usize = 8;
/// IANA UDP port.
pub const UDP_PORT: u16 = 4789;
/// The "VNI valid" flag.
pub const FLAG_I: u8 = 0x08;

/// A read-only view of a VXLAN header.
#[derive(Debug, Clone, Copy)]
pub struct VxlanHeader<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> VxlanHeader<T> {
    /// Wraps `buf`, checking length and the I flag.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Tunnel`] below 8 bytes; `Invalid` when the I flag is clear
    /// (RFC 7348 §5: "The I flag MUST be set to 1 for a valid VXLAN Network ID").
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, HEADER_LEN, Layer::Tunnel)?;
        if b[field::FLAGS] & FLAG_I == 0 {
            return Err(DecodeError::Invalid {
                layer: Layer::Tunnel,
                what: "VXLAN I flag clear",
            });
        }
        Ok(VxlanHeader { buf })
    }

    /// The flags byte.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS]
    }

    /// VXLAN network identifier (24 bits).
    #[inline]
    pub fn vni(&self) -> u32 {
        be32(self.buf.as_ref(), field::VNI) >> 8
    }
}

impl<'a> VxlanHeader<&'a [u8]> {
    /// The inner Ethernet frame.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    const HDR: [u8; 9] = [0x08, 0, 0, 0, 0x00, 0x30, 0x39, 0, 0xff];

    #[test]
    fn happy_path() {
        let h = VxlanHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.vni(), 12345);
        assert_eq!(h.flags(), 0x08);
        assert_eq!(h.payload(), &[0xff]);
    }

    #[test]
    fn i_flag_clear() {
        let mut b = HDR;
        b[0] = 0;
        assert!(matches!(
            VxlanHeader::new_checked(&b[..]),
            Err(DecodeError::Invalid {
                layer: Layer::Tunnel,
                ..
            })
        ));
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR, HEADER_LEN, |b| {
            VxlanHeader::new_checked(b).map(|_| ())
        });
    }
}
