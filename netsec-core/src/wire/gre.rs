//! GRE header: version 0 (RFC 2784 with the key and sequence extensions of RFC 2890) and
//! version 1, the "enhanced GRE" of PPTP (RFC 2637 §4.1).
//!
//! The protocol field is an EtherType: 0x0800/0x86dd carry IP, 0x6558 an Ethernet frame
//! ("transparent Ethernet bridging"), 0x880b PPP (PPTP). After [`GreHeader::new_checked`]
//! succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, check_len, tail};

mod field {
    pub const FLAGS: usize = 0;
    pub const FLAGS_VERSION: usize = 1;
    pub const PROTOCOL: usize = 2;
}

/// Length of the mandatory part.
pub const BASE_LEN: usize = 4;
/// Checksum present.
const FLAG_C: u8 = 0x80;
/// Routing present (RFC 1701 only).
const FLAG_R: u8 = 0x40;
/// Key present.
const FLAG_K: u8 = 0x20;
/// Sequence number present.
const FLAG_S: u8 = 0x10;
/// Acknowledgment present (version 1, second byte).
const FLAG_A: u8 = 0x80;
/// Transparent Ethernet bridging.
pub const PROTO_ETHERNET: u16 = 0x6558;

/// A read-only view of a GRE header.
#[derive(Debug, Clone, Copy)]
pub struct GreHeader<T: AsRef<[u8]>> {
    buf: T,
    len: usize,
}

fn invalid(what: &'static str) -> DecodeError {
    DecodeError::Invalid {
        layer: Layer::Tunnel,
        what,
    }
}

impl<T: AsRef<[u8]>> GreHeader<T> {
    /// Wraps `buf`, computing the header length from the flags.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Tunnel`]; `Invalid` for a version above 1, for the RFC 1701
    /// routing bit (RFC 2784 §2.3: a receiver not implementing RFC 1701 MUST discard such
    /// packets), and for a version-1 header without the key bit (RFC 2637 §4.1).
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, BASE_LEN, Layer::Tunnel)?;
        let flags = b[field::FLAGS];
        let flags2 = b[field::FLAGS_VERSION];
        if flags & FLAG_R != 0 {
            return Err(invalid("GRE routing present"));
        }
        let opt = |set: bool| if set { 4 } else { 0 };
        let len = match flags2 & 0x07 {
            0 => {
                BASE_LEN
                    + opt(flags & FLAG_C != 0)
                    + opt(flags & FLAG_K != 0)
                    + opt(flags & FLAG_S != 0)
            }
            1 => {
                if flags & FLAG_K == 0 {
                    return Err(invalid("PPTP GRE without key"));
                }
                BASE_LEN + 4 + opt(flags & FLAG_S != 0) + opt(flags2 & FLAG_A != 0)
            }
            _ => return Err(invalid("GRE version")),
        };
        check_len(b, len, Layer::Tunnel)?;
        Ok(GreHeader { buf, len })
    }

    /// GRE version (0 or 1).
    #[inline]
    pub fn version(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS_VERSION] & 0x07
    }

    /// Header length including the optional fields.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.len
    }

    /// Protocol type of the payload (EtherType).
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(self.buf.as_ref(), field::PROTOCOL)
    }
}

impl<'a> GreHeader<&'a [u8]> {
    /// The encapsulated packet.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    // Key + sequence present, IPv4 payload.
    const HDR: [u8; 13] = [0x30, 0, 0x08, 0x00, 0, 0, 0, 1, 0, 0, 0, 9, 0x45];

    #[test]
    fn plain() {
        let b = [0, 0, 0x86, 0xdd, 0x60];
        let h = GreHeader::new_checked(&b[..]).expect("header");
        assert_eq!(h.header_len(), 4);
        assert_eq!(h.protocol(), 0x86dd);
        assert_eq!(h.payload(), &[0x60]);
    }

    #[test]
    fn key_and_sequence() {
        let h = GreHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.version(), 0);
        assert_eq!(h.header_len(), 12);
        assert_eq!(h.payload(), &[0x45]);
    }

    #[test]
    fn pptp() {
        // K + S, version 1 with A: 16 bytes.
        let b = [0x30, 0x81, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
        let h = GreHeader::new_checked(&b[..]).expect("header");
        assert_eq!(h.version(), 1);
        assert_eq!(h.header_len(), 16);
    }

    #[test]
    fn pptp_without_key() {
        let b = [0x00, 0x01, 0x88, 0x0b, 0, 0, 0, 0];
        assert!(GreHeader::new_checked(&b[..]).is_err());
    }

    #[test]
    fn routing_bit() {
        let b = [0x40, 0, 0x08, 0x00, 0, 0, 0, 0];
        assert!(GreHeader::new_checked(&b[..]).is_err());
    }

    #[test]
    fn bad_version() {
        let b = [0, 2, 0x08, 0x00];
        assert!(GreHeader::new_checked(&b[..]).is_err());
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR[..12], 12, |b| GreHeader::new_checked(b).map(|_| ()));
    }
}
