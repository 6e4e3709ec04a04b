//! Network Service Header (RFC 8300), EtherType 0x894F: a 4-byte base header, a 4-byte
//! service path header and metadata, then the packet it carries.
//!
//! Base header: version (2 bits, must be 0), O, U, TTL (6 bits), length (6 bits: the whole
//! NSH in 4-byte words), MD type (4 bits), next protocol. After [`NshHeader::new_checked`]
//! succeeds, no accessor panics.

use super::{check_len, DecodeError, Layer};

/// Base header plus service path header.
pub const MIN_LEN: usize = 8;
/// EtherType of NSH.
pub const ETHERTYPE: u16 = 0x894f;
/// Next protocol: IPv4.
pub const NEXT_IPV4: u8 = 1;
/// Next protocol: IPv6.
pub const NEXT_IPV6: u8 = 2;
/// Next protocol: Ethernet.
pub const NEXT_ETHERNET: u8 = 3;
/// Next protocol: NSH.
pub const NEXT_NSH: u8 = 4;
/// Next protocol: MPLS.
pub const NEXT_MPLS: u8 = 5;

/// A read-only view of an NSH header.
#[derive(Debug, Clone, Copy)]
pub struct NshHeader<'a> {
    buf: &'a [u8],
    len: usize,
}

impl<'a> NshHeader<'a> {
    /// Wraps `buf`, checking the version and that the header (its length field) is there.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Tunnel`] when the header is cut short; `Invalid` for a version
    /// other than 0 or a length below the 8 fixed bytes.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        check_len(buf, MIN_LEN, Layer::Tunnel)?;
        let invalid = |what| DecodeError::Invalid {
            layer: Layer::Tunnel,
            what,
        };
        if buf[0] >> 6 != 0 {
            return Err(invalid("NSH version"));
        }
        let len = usize::from(buf[1] & 0x3f) * 4;
        if len < MIN_LEN {
            return Err(invalid("NSH length below 8"));
        }
        check_len(buf, len, Layer::Tunnel)?;
        Ok(NshHeader { buf, len })
    }

    /// The next protocol field.
    pub fn next_protocol(&self) -> u8 {
        self.buf[3]
    }

    /// The MD type (1: fixed 16-byte context, 2: variable TLVs).
    pub fn md_type(&self) -> u8 {
        self.buf[2] & 0x0f
    }

    /// What follows the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.len..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_length_and_next_protocol() {
        // MD type 1: 6 words (24 bytes), next protocol IPv4.
        let mut b = vec![0x0f, 0xc6, 0x01, NEXT_IPV4, 0, 0, 1, 255];
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(b"inner");
        let h = NshHeader::new_checked(&b).expect("valid");
        assert_eq!(
            (h.next_protocol(), h.md_type(), h.payload()),
            (1, 1, &b"inner"[..])
        );
        assert!(
            NshHeader::new_checked(&b[..20]).is_err(),
            "cut in the metadata"
        );
        let mut v1 = b.clone();
        v1[0] |= 0x40;
        assert!(NshHeader::new_checked(&v1).is_err(), "version 1");
        let mut short = b.clone();
        short[1] = 0xc1;
        assert!(NshHeader::new_checked(&short).is_err(), "length 4");
    }
}
