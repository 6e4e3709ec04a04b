//! Radiotap header (<https://www.radiotap.org>, link type 127 `IEEE802_11_RADIO`), prepended
//! to 802.11 frames by capture drivers.
//!
//! 8 fixed bytes: version (0), pad, header length (u16 **little-endian**, whole header),
//! first `present` bitmap (u32 LE); the fields themselves follow and are skipped via the
//! length. After [`RadiotapHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{check_len, tail};

mod field {
    pub const VERSION: usize = 0;
    pub const LENGTH: usize = 2;
    pub const PRESENT: usize = 4;
}

/// Fixed header length.
pub const FIXED_LEN: usize = 8;

/// A read-only view of a radiotap header.
#[derive(Debug, Clone, Copy)]
pub struct RadiotapHeader<T: AsRef<[u8]>> {
    buf: T,
    len: usize,
}

impl<T: AsRef<[u8]>> RadiotapHeader<T> {
    /// Wraps `buf`, checking the version and that the announced length fits.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Link`]; `Invalid` for a version other than 0 or a length
    /// below the 8-byte fixed part.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        let b = buf.as_ref();
        check_len(b, FIXED_LEN, Layer::Link)?;
        let invalid = |what| DecodeError::Invalid {
            layer: Layer::Link,
            what,
        };
        if b[field::VERSION] != 0 {
            return Err(invalid("radiotap version"));
        }
        let len = usize::from(u16::from_le_bytes([b[field::LENGTH], b[field::LENGTH + 1]]));
        if len < FIXED_LEN {
            return Err(invalid("radiotap length below 8"));
        }
        check_len(b, len, Layer::Link)?;
        Ok(RadiotapHeader { buf, len })
    }

    /// Header length (all fields included).
    #[inline]
    pub fn header_len(&self) -> usize {
        self.len
    }

    /// The first `present` bitmap word.
    #[inline]
    pub fn present(&self) -> u32 {
        let b = self.buf.as_ref();
        let at = field::PRESENT;
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }
}

impl<'a> RadiotapHeader<&'a [u8]> {
    /// The 802.11 frame.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    // Hand-written: version 0, length 12, one present word, 4 bytes of fields, then the
    // first byte of the 802.11 frame.
    const HDR: [u8; 13] = [
        0x00, 0x00, 0x0c, 0x00, 0x6b, 0x80, 0x08, 0x00, 0xa9, 0xc9, 0xcb, 0x00, 0x40,
    ];

    #[test]
    fn happy_path() {
        let h = RadiotapHeader::new_checked(&HDR[..]).expect("header");
        assert_eq!(h.header_len(), 12);
        assert_eq!(h.present(), 0x0008_806b);
        assert_eq!(h.payload(), &[0x40]);
    }

    #[test]
    fn bad_version() {
        let mut b = HDR;
        b[0] = 1;
        assert!(matches!(
            RadiotapHeader::new_checked(&b[..]),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn length_below_fixed() {
        let mut b = HDR;
        b[2] = 4;
        assert!(matches!(
            RadiotapHeader::new_checked(&b[..]),
            Err(DecodeError::Invalid { .. })
        ));
    }

    #[test]
    fn length_beyond_buffer() {
        let mut b = HDR;
        b[3] = 1;
        assert!(matches!(
            RadiotapHeader::new_checked(&b[..]),
            Err(DecodeError::Truncated { .. })
        ));
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&HDR, 12, |b| RadiotapHeader::new_checked(b).map(|_| ()));
    }
}
