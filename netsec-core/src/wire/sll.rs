//! Linux "cooked" capture header v1 (`LINKTYPE_LINUX_SLL`, 113).
//!
//! 16 bytes: packet type, ARPHRD type, link-address length, 8 bytes of link address, protocol
//! (an EtherType for most ARPHRD types). See <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html>.
//! After [`SllHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, check_len, tail};

mod field {
    use core::ops::Range;
    pub const PACKET_TYPE: Range<usize> = 0..2;
    pub const ARPHRD: Range<usize> = 2..4;
    pub const ADDR_LEN: Range<usize> = 4..6;
    pub const ADDR: Range<usize> = 6..14;
    pub const PROTOCOL: Range<usize> = 14..16;
}

/// Header length.
pub const HEADER_LEN: usize = field::PROTOCOL.end;

/// `ARPHRD_ETHER`: the address is a MAC and the protocol an EtherType.
pub const ARPHRD_ETHER: u16 = 1;

/// A read-only view of a Linux SLL header.
#[derive(Debug, Clone, Copy)]
pub struct SllHeader<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> SllHeader<T> {
    /// Wraps `buf`, checking it holds a whole header.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Link`] when `buf` is shorter than 16 bytes.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        check_len(buf.as_ref(), HEADER_LEN, Layer::Link)?;
        Ok(SllHeader { buf })
    }

    /// Packet type (0 = to us, 1 = broadcast, 2 = multicast, 3 = other host, 4 = outgoing).
    #[inline]
    pub fn packet_type(&self) -> u16 {
        be16(self.buf.as_ref(), field::PACKET_TYPE.start)
    }

    /// Linux `ARPHRD_*` device type.
    #[inline]
    pub fn arphrd_type(&self) -> u16 {
        be16(self.buf.as_ref(), field::ARPHRD.start)
    }

    /// Link-layer address length as written (may exceed the 8 bytes stored).
    #[inline]
    pub fn addr_len(&self) -> u16 {
        be16(self.buf.as_ref(), field::ADDR_LEN.start)
    }

    /// The stored link-layer address bytes (at most 8).
    #[inline]
    pub fn addr(&self) -> &[u8] {
        let n = usize::from(self.addr_len()).min(field::ADDR.len());
        &self.buf.as_ref()[field::ADDR.start..field::ADDR.start + n]
    }

    /// The sender's MAC when the address is 6 bytes long.
    #[inline]
    pub fn src_mac(&self) -> Option<[u8; 6]> {
        self.addr().try_into().ok()
    }

    /// Protocol: an EtherType for Ethernet-like devices.
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buf.as_ref(), field::PROTOCOL.start)
    }
}

impl<'a> SllHeader<&'a [u8]> {
    /// The bytes after the header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    const HDR: [u8; 17] = [
        0, 4, 0, 1, 0, 6, 0x02, 0x42, 0xac, 0x11, 0, 2, 0, 0, 0x86, 0xdd, 0x60,
    ];

    #[test]
    fn happy_path() {
        let h = SllHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.packet_type(), 4);
        assert_eq!(h.arphrd_type(), ARPHRD_ETHER);
        assert_eq!(h.src_mac(), Some([0x02, 0x42, 0xac, 0x11, 0, 2]));
        assert_eq!(h.protocol(), 0x86dd);
        assert_eq!(h.payload(), &[0x60]);
    }

    #[test]
    fn oversized_address_length_is_clamped() {
        let mut b = HDR;
        b[5] = 200;
        let h = SllHeader::new_checked(&b[..]).expect("header");
        assert_eq!(h.addr().len(), 8);
        assert_eq!(h.src_mac(), None);
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR, HEADER_LEN, |b| SllHeader::new_checked(b).map(|_| ()));
    }
}
