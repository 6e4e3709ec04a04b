//! PPPoE session header (RFC 2516 §4, EtherType 0x8864) plus the PPP protocol field
//! (RFC 1661 §2).
//!
//! 6 bytes (version/type = 0x11, code = 0 for session data, session id, length) then the 2-byte
//! PPP protocol: 0x0021 IPv4, 0x0057 IPv6. Protocol-field compression (a 1-byte protocol) is not
//! negotiated on PPPoE links in practice and is not handled. After [`PppoeSession::new_checked`]
//! succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, check_len, tail};

mod field {
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const SESSION: usize = 2;
    pub const LENGTH: usize = 4;
    pub const PPP_PROTOCOL: usize = 6;
}

/// PPPoE header plus the PPP protocol field.
pub const HEADER_LEN: usize = 8;
/// PPP protocol number of IPv4.
pub const PPP_IPV4: u16 = 0x0021;
/// PPP protocol number of IPv6.
pub const PPP_IPV6: u16 = 0x0057;

/// A read-only view of a PPPoE session header.
#[derive(Debug, Clone, Copy)]
pub struct PppoeSession<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> PppoeSession<T> {
    /// Wraps `buf`.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Link`]; `Invalid` when version/type is not 0x11 or the code is
    /// not 0 (RFC 2516 §4: session data uses code 0x00).
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, HEADER_LEN, Layer::Link)?;
        if b[field::VER_TYPE] != 0x11 || b[field::CODE] != 0 {
            return Err(DecodeError::Invalid {
                layer: Layer::Link,
                what: "PPPoE version/type or code",
            });
        }
        Ok(PppoeSession { buf })
    }

    /// Session id.
    #[inline]
    pub fn session_id(&self) -> u16 {
        be16(self.buf.as_ref(), field::SESSION)
    }

    /// PPPoE payload length (PPP protocol field included).
    #[inline]
    pub fn length(&self) -> u16 {
        be16(self.buf.as_ref(), field::LENGTH)
    }

    /// PPP protocol of the payload.
    #[inline]
    pub fn ppp_protocol(&self) -> u16 {
        be16(self.buf.as_ref(), field::PPP_PROTOCOL)
    }
}

impl<'a> PppoeSession<&'a [u8]> {
    /// The PPP payload (after the protocol field).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    const HDR: [u8; 9] = [0x11, 0, 0x12, 0x34, 0, 0x15, 0, 0x21, 0x45];

    #[test]
    fn happy_path() {
        let h = PppoeSession::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.session_id(), 0x1234);
        assert_eq!(h.length(), 0x15);
        assert_eq!(h.ppp_protocol(), PPP_IPV4);
        assert_eq!(h.payload(), &[0x45]);
    }

    #[test]
    fn bad_version() {
        let mut b = HDR;
        b[0] = 0x12;
        assert!(PppoeSession::new_checked(&b[..]).is_err());
    }

    #[test]
    fn discovery_code() {
        let mut b = HDR;
        b[1] = 0x09; // PADI
        assert!(PppoeSession::new_checked(&b[..]).is_err());
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR, HEADER_LEN, |b| {
            PppoeSession::new_checked(b).map(|_| ())
        });
    }
}
