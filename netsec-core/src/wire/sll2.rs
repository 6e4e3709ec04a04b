//! Linux "cooked" capture header v2 (`LINKTYPE_LINUX_SLL2`, 276).
//!
//! 20 bytes: protocol (EtherType), reserved, interface index, ARPHRD type, packet type,
//! link-address length, 8 bytes of link address. See
//! <https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html>. After
//! [`Sll2Header::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, be32, check_len, tail};

mod field {
    use core::ops::Range;
    pub const PROTOCOL: Range<usize> = 0..2;
    pub const IFINDEX: Range<usize> = 4..8;
    pub const ARPHRD: Range<usize> = 8..10;
    pub const PACKET_TYPE: usize = 10;
    pub const ADDR_LEN: usize = 11;
    pub const ADDR: Range<usize> = 12..20;
}

/// Header length.
pub const HEADER_LEN: usize = field::ADDR.end;

/// A read-only view of a Linux SLL2 header.
#[derive(Debug, Clone, Copy)]
pub struct Sll2Header<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> Sll2Header<T> {
    /// Wraps `buf`, checking it holds a whole header.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Link`] when `buf` is shorter than 20 bytes.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        check_len(buf.as_ref(), HEADER_LEN, Layer::Link)?;
        Ok(Sll2Header { buf })
    }

    /// Protocol (EtherType).
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buf.as_ref(), field::PROTOCOL.start)
    }

    /// Interface index on the capturing host.
    #[inline]
    pub fn interface_index(&self) -> u32 {
        be32(self.buf.as_ref(), field::IFINDEX.start)
    }

    /// Linux `ARPHRD_*` device type.
    #[inline]
    pub fn arphrd_type(&self) -> u16 {
        be16(self.buf.as_ref(), field::ARPHRD.start)
    }

    /// Packet type (0 = to us … 4 = outgoing).
    #[inline]
    pub fn packet_type(&self) -> u8 {
        self.buf.as_ref()[field::PACKET_TYPE]
    }

    /// Link-layer address length as written.
    #[inline]
    pub fn addr_len(&self) -> u8 {
        self.buf.as_ref()[field::ADDR_LEN]
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
}

impl<'a> Sll2Header<&'a [u8]> {
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

    const HDR: [u8; 21] = [
        0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 0x02, 0x42, 0xac, 0x11, 0, 2, 0, 0, 0x45,
    ];

    #[test]
    fn happy_path() {
        let h = Sll2Header::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.protocol(), 0x0800);
        assert_eq!(h.interface_index(), 3);
        assert_eq!(h.arphrd_type(), 1);
        assert_eq!(h.packet_type(), 0);
        assert_eq!(h.src_mac(), Some([0x02, 0x42, 0xac, 0x11, 0, 2]));
        assert_eq!(h.payload(), &[0x45]);
    }

    #[test]
    fn oversized_address_length_is_clamped() {
        let mut b = HDR;
        b[11] = 255;
        let h = Sll2Header::new_checked(&b[..]).expect("header");
        assert_eq!(h.addr().len(), 8);
        assert_eq!(h.src_mac(), None);
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR, HEADER_LEN, |b| Sll2Header::new_checked(b).map(|_| ()));
    }
}
