//! GTP-U header (3GPP TS 29.281 §5), carried in UDP port 2152.
//!
//! 8 mandatory bytes (version 3 bits = 1, PT = 1, E/S/PN flags, message type, length, TEID);
//! when any of E, S, PN is set, 4 more (sequence number, N-PDU number, next extension header
//! type), then a chain of extension headers, each `4 * n` bytes long with its length `n` in the
//! first byte and the next type in the last (§5.2.1). Message type 255 (G-PDU) carries a user IP
//! packet. After [`GtpuHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, be32, check_len, tail};

mod field {
    pub const FLAGS: usize = 0;
    pub const MSG_TYPE: usize = 1;
    pub const LENGTH: usize = 2;
    pub const TEID: usize = 4;
    pub const NEXT_EXT: usize = 11;
}

/// Mandatory header length.
pub const BASE_LEN: usize = 8;
/// IANA UDP port.
pub const UDP_PORT: u16 = 2152;
/// Message type of a user-data packet.
pub const MSG_G_PDU: u8 = 0xff;

fn invalid(what: &'static str) -> DecodeError {
    DecodeError::Invalid {
        layer: Layer::Tunnel,
        what,
    }
}

/// A read-only view of a GTP-U header with its extension headers.
#[derive(Debug, Clone, Copy)]
pub struct GtpuHeader<T: AsRef<[u8]>> {
    buf: T,
    len: usize,
}

impl<T: AsRef<[u8]>> GtpuHeader<T> {
    /// Wraps `buf`, walking the extension header chain (bounded by the buffer).
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Tunnel`]; `Invalid` when the version is not 1, PT is 0 (GTP'),
    /// or an extension header has length 0.
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, BASE_LEN, Layer::Tunnel)?;
        let flags = b[field::FLAGS];
        if flags >> 5 != 1 {
            return Err(invalid("GTP version"));
        }
        if flags & 0x10 == 0 {
            return Err(invalid("GTP' (PT = 0)"));
        }
        let mut len = BASE_LEN;
        if flags & 0x07 != 0 {
            len += 4;
            check_len(b, len, Layer::Tunnel)?;
            let mut next = if flags & 0x04 != 0 {
                b[field::NEXT_EXT]
            } else {
                0
            };
            // Each extension header is at least 4 bytes, so this ends on any input.
            while next != 0 {
                check_len(b, len + 1, Layer::Tunnel)?;
                let units = usize::from(b[len]);
                if units == 0 {
                    return Err(invalid("GTP extension header length 0"));
                }
                len += units * 4;
                check_len(b, len, Layer::Tunnel)?;
                next = b[len - 1];
            }
        }
        Ok(GtpuHeader { buf, len })
    }

    /// Message type (255 = G-PDU).
    #[inline]
    pub fn msg_type(&self) -> u8 {
        self.buf.as_ref()[field::MSG_TYPE]
    }

    /// Length field: bytes after the mandatory 8.
    #[inline]
    pub fn length(&self) -> u16 {
        be16(self.buf.as_ref(), field::LENGTH)
    }

    /// Tunnel endpoint identifier.
    #[inline]
    pub fn teid(&self) -> u32 {
        be32(self.buf.as_ref(), field::TEID)
    }

    /// Header length including the optional fields and extension headers.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.len
    }
}

impl<'a> GtpuHeader<&'a [u8]> {
    /// The T-PDU (an IP packet for a G-PDU).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    // E set, one PDU-session-container extension (1 unit), then IPv4.
    const HDR: [u8; 17] = [
        0x34, 0xff, 0, 9, 0, 0, 0, 42, 0, 0, 0, 0x85, 1, 0x10, 0x09, 0, 0x45,
    ];

    #[test]
    fn plain_g_pdu() {
        let b = [0x30, 0xff, 0, 1, 0, 0, 0, 1, 0x45];
        let h = GtpuHeader::new_checked(&b[..]).expect("header");
        assert_eq!(h.msg_type(), MSG_G_PDU);
        assert_eq!(h.teid(), 1);
        assert_eq!(h.length(), 1);
        assert_eq!(h.payload(), &[0x45]);
    }

    #[test]
    fn extension_chain() {
        let h = GtpuHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.header_len(), 16);
        assert_eq!(h.teid(), 42);
        assert_eq!(h.payload(), &[0x45]);
    }

    #[test]
    fn zero_length_extension() {
        let mut b = HDR;
        b[12] = 0;
        assert!(matches!(
            GtpuHeader::new_checked(&b[..]),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn bad_version_and_gtp_prime() {
        assert!(GtpuHeader::new_checked(&[0x50, 0xff, 0, 0, 0, 0, 0, 0][..]).is_err());
        assert!(GtpuHeader::new_checked(&[0x20, 0xff, 0, 0, 0, 0, 0, 0][..]).is_err());
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR[..16], 16, |b| GtpuHeader::new_checked(b).map(|_| ()));
    }
}
