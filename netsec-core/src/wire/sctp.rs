//! SCTP common header (RFC 9260 §3.1): source port, destination port, verification tag,
//! CRC32c checksum; 12 bytes. Only the ports matter for flows. After
//! [`SctpHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, be32, check_len, tail};

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const VTAG: usize = 4;
}

/// Common header length.
pub const HEADER_LEN: usize = 12;

/// A read-only view of the SCTP common header.
#[derive(Debug, Clone, Copy)]
pub struct SctpHeader<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> SctpHeader<T> {
    /// Wraps `buf`, checking it holds the 12-byte common header.
    ///
    /// # Errors
    /// `Truncated` (reported at [`Layer::Udp`], the closest datagram layer) below 12 bytes.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        check_len(buf.as_ref(), HEADER_LEN, Layer::Udp)?;
        Ok(SctpHeader { buf })
    }

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.buf.as_ref(), field::SRC_PORT)
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buf.as_ref(), field::DST_PORT)
    }

    /// Verification tag.
    #[inline]
    pub fn verification_tag(&self) -> u32 {
        be32(self.buf.as_ref(), field::VTAG)
    }
}

impl<'a> SctpHeader<&'a [u8]> {
    /// The chunks after the common header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    const HDR: [u8; 13] = [0x0b, 0x59, 0x0b, 0x59, 0, 0, 0, 7, 0, 0, 0, 0, 1];

    #[test]
    fn happy_path() {
        let h = SctpHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.src_port(), 2905);
        assert_eq!(h.dst_port(), 2905);
        assert_eq!(h.verification_tag(), 7);
        assert_eq!(h.payload(), &[1]);
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR, HEADER_LEN, |b| SctpHeader::new_checked(b).map(|_| ()));
    }
}
