//! IPv6 extension headers (RFC 8200 §4): the generic TLV-style headers, AH and Fragment.
//!
//! Hop-by-Hop (0), Routing (43), Destination Options (60), Mobility (135, RFC 6275), HIP (139,
//! RFC 7401) and Shim6 (140, RFC 5533) share one layout: next header, length in 8-octet units
//! not counting the first 8 octets. AH (51) counts 4-octet units minus 2 (RFC 4302 §2.2). The
//! Fragment header (44) is always 8 octets (RFC 8200 §4.5). ESP (50) is opaque and ends the
//! chain, as does No Next Header (59). After `new_checked` succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, be32, check_len, tail};

mod field {
    pub const NEXT_HEADER: usize = 0;
    pub const LENGTH: usize = 1;
    pub const FRAG_OFFSET: usize = 2;
    pub const FRAG_IDENT: usize = 4;
}

/// Hop-by-Hop Options.
pub const HOP_BY_HOP: u8 = 0;
/// Routing.
pub const ROUTING: u8 = 43;
/// Fragment.
pub const FRAGMENT: u8 = 44;
/// Encapsulating Security Payload (opaque; ends the chain).
pub const ESP: u8 = 50;
/// Authentication Header.
pub const AH: u8 = 51;
/// No Next Header.
pub const NO_NEXT_HEADER: u8 = 59;
/// Destination Options.
pub const DEST_OPTS: u8 = 60;
/// Mobility.
pub const MOBILITY: u8 = 135;
/// Host Identity Protocol.
pub const HIP: u8 = 139;
/// Shim6.
pub const SHIM6: u8 = 140;

/// Length of the Fragment header.
pub const FRAGMENT_LEN: usize = 8;

/// Whether `next_header` is an extension header with the generic (or AH) length layout.
#[inline]
pub fn is_generic(next_header: u8) -> bool {
    matches!(
        next_header,
        HOP_BY_HOP | ROUTING | DEST_OPTS | MOBILITY | HIP | SHIM6 | AH
    )
}

/// A read-only view of a generic extension header or AH.
#[derive(Debug, Clone, Copy)]
pub struct ExtHeader<T: AsRef<[u8]>> {
    buf: T,
    len: usize,
}

impl<T: AsRef<[u8]>> ExtHeader<T> {
    /// Wraps `buf` as the extension header of type `kind` (AH uses its own length unit).
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Ipv6Ext`] when `buf` is shorter than the header's length field says.
    #[inline]
    pub fn new_checked(buf: T, kind: u8) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, 2, Layer::Ipv6Ext)?;
        let units = usize::from(b[field::LENGTH]);
        let len = if kind == AH {
            // RFC 4302 §2.2: "the length of AH in 32-bit words (4-byte units), minus 2".
            (units + 2) * 4
        } else {
            (units + 1) * 8
        };
        check_len(b, len, Layer::Ipv6Ext)?;
        Ok(ExtHeader { buf, len })
    }

    /// The protocol of the next header.
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buf.as_ref()[field::NEXT_HEADER]
    }

    /// This header's length in bytes.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.len
    }
}

impl<'a> ExtHeader<&'a [u8]> {
    /// The bytes after this header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.len)
    }
}

/// A read-only view of the Fragment header.
#[derive(Debug, Clone, Copy)]
pub struct FragmentHeader<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    /// Wraps `buf`, checking it holds the 8-byte Fragment header.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Ipv6Ext`] when `buf` is shorter than 8 bytes.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        check_len(buf.as_ref(), FRAGMENT_LEN, Layer::Ipv6Ext)?;
        Ok(FragmentHeader { buf })
    }

    /// The protocol of the fragmentable part.
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buf.as_ref()[field::NEXT_HEADER]
    }

    /// Fragment offset in 8-octet units.
    #[inline]
    pub fn offset(&self) -> u16 {
        be16(self.buf.as_ref(), field::FRAG_OFFSET) >> 3
    }

    /// More-fragments flag.
    #[inline]
    pub fn more(&self) -> bool {
        be16(self.buf.as_ref(), field::FRAG_OFFSET) & 1 != 0
    }

    /// Identification.
    #[inline]
    pub fn ident(&self) -> u32 {
        be32(self.buf.as_ref(), field::FRAG_IDENT)
    }
}

impl<'a> FragmentHeader<&'a [u8]> {
    /// The bytes after the Fragment header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, FRAGMENT_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    // Hop-by-hop, length 0 (8 bytes): next = TCP, PadN option.
    const HBH: [u8; 9] = [6, 0, 1, 4, 0, 0, 0, 0, 0xaa];
    // Fragment: next = UDP, offset 185 (1480 bytes), M = 1, id 0x01020304.
    const FRAG: [u8; 8] = [17, 0, 0x05, 0xc9, 1, 2, 3, 4];

    #[test]
    fn generic_header() {
        let h = ExtHeader::new_checked(&HBH[..], HOP_BY_HOP).expect("header");
        assert_eq!(h.next_header(), 6);
        assert_eq!(h.header_len(), 8);
        assert_eq!(h.payload(), &[0xaa]);
    }

    #[test]
    fn ah_length_unit() {
        // AH with payload length 4: (4 + 2) * 4 = 24 bytes.
        let mut b = [0u8; 24];
        b[0] = 6;
        b[1] = 4;
        let h = ExtHeader::new_checked(&b[..], AH).expect("AH");
        assert_eq!(h.header_len(), 24);
        assert!(h.payload().is_empty());
        assert!(ExtHeader::new_checked(&b[..23], AH).is_err());
    }

    #[test]
    fn length_beyond_buffer() {
        let mut b = HBH;
        b[1] = 1; // claims 16 bytes
        assert!(matches!(
            ExtHeader::new_checked(&b[..], HOP_BY_HOP),
            Err(DecodeError::Truncated {
                layer: Layer::Ipv6Ext,
                needed: 16,
                actual: 9
            })
        ));
    }

    #[test]
    fn fragment_header() {
        let f = FragmentHeader::new_checked(&FRAG[..]).expect("fragment");
        assert_eq!(f.next_header(), 17);
        assert_eq!(f.offset(), 185);
        assert!(f.more());
        assert_eq!(f.ident(), 0x0102_0304);
        assert!(f.payload().is_empty());
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HBH[..8], 8, |b| {
            ExtHeader::new_checked(b, ROUTING).map(|_| ())
        });
        every_prefix_errors(&FRAG, 8, |b| FragmentHeader::new_checked(b).map(|_| ()));
    }
}
