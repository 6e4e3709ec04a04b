//! MPLS label stack entries (RFC 3032 §2.1).
//!
//! Each entry is 4 bytes: label (20 bits), traffic class (3), bottom-of-stack (1), TTL (8). MPLS
//! does not say what follows the stack; [`skip_stack`] returns the bytes after the bottom entry
//! and the decoder guesses IPv4/IPv6 from the first nibble, as routers do (RFC 4928 §2). After
//! [`MplsLabel::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be32, check_len, tail};

mod field {
    use core::ops::Range;
    pub const ENTRY: Range<usize> = 0..4;
}

/// Length of one label stack entry.
pub const HEADER_LEN: usize = field::ENTRY.end;

/// A read-only view of one label stack entry.
#[derive(Debug, Clone, Copy)]
pub struct MplsLabel<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> MplsLabel<T> {
    /// Wraps `buf`, checking it holds a whole entry.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Mpls`] when `buf` is shorter than 4 bytes.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        check_len(buf.as_ref(), HEADER_LEN, Layer::Mpls)?;
        Ok(MplsLabel { buf })
    }

    #[inline]
    fn entry(&self) -> u32 {
        be32(self.buf.as_ref(), field::ENTRY.start)
    }

    /// Label value (20 bits).
    #[inline]
    pub fn label(&self) -> u32 {
        self.entry() >> 12
    }

    /// Traffic class (3 bits, formerly EXP).
    #[inline]
    pub fn tc(&self) -> u8 {
        ((self.entry() >> 9) & 0x7) as u8
    }

    /// Bottom-of-stack bit.
    #[inline]
    pub fn bottom_of_stack(&self) -> bool {
        self.entry() & 0x100 != 0
    }

    /// Time to live.
    #[inline]
    pub fn ttl(&self) -> u8 {
        (self.entry() & 0xff) as u8
    }
}

impl<'a> MplsLabel<&'a [u8]> {
    /// The bytes after this entry.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, HEADER_LEN)
    }
}

/// Walks the label stack to its bottom entry and returns the bytes after it.
///
/// The loop consumes 4 bytes per entry, so it ends on any input.
///
/// # Errors
/// `Truncated` at [`Layer::Mpls`] when the buffer ends before a bottom-of-stack entry.
pub fn skip_stack(mut buf: &[u8]) -> Result<&[u8], DecodeError> {
    loop {
        let l = MplsLabel::new_checked(buf)?;
        buf = l.payload();
        if l.bottom_of_stack() {
            return Ok(buf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    // label 16, tc 0, not bottom, ttl 64; label 17, tc 5, bottom, ttl 63; then IPv4 nibble.
    const STACK: [u8; 9] = [0x00, 0x01, 0x00, 0x40, 0x00, 0x01, 0x1b, 0x3f, 0x45];

    #[test]
    fn happy_path() {
        let l = MplsLabel::new_checked(&STACK[..]).expect("entry");
        assert_eq!(l.label(), 16);
        assert!(!l.bottom_of_stack());
        assert_eq!(l.ttl(), 64);
        let l2 = MplsLabel::new_checked(l.payload()).expect("entry");
        assert_eq!(l2.label(), 17);
        assert_eq!(l2.tc(), 5);
        assert!(l2.bottom_of_stack());
        assert_eq!(l2.ttl(), 63);
        assert_eq!(skip_stack(&STACK).expect("stack"), &[0x45]);
    }

    #[test]
    fn missing_bottom_of_stack() {
        assert!(matches!(
            skip_stack(&STACK[..4]),
            Err(DecodeError::Truncated {
                layer: Layer::Mpls,
                ..
            })
        ));
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&STACK[..8], 8, |b| skip_stack(b).map(|_| ()));
    }
}
