//! BSD loopback / null (`LINKTYPE_NULL`, 0) and OpenBSD loop (`LINKTYPE_LOOP`, 108) headers.
//!
//! Both are a 4-byte address family. `NULL` stores it in the *capturing host's* byte order, so
//! a reader must guess: families are small numbers, so a value with a non-zero upper half was
//! written in the other order (libpcap and tcpdump do the same). `LOOP` is always big-endian.
//! IPv6 has different `AF_INET6` values per OS: 24 (NetBSD/OpenBSD/BSD/OS), 28 (FreeBSD,
//! DragonFly), 30 (Darwin). See <https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html>.
//! After [`NullHeader::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{check_len, tail};

mod field {
    use core::ops::Range;
    pub const FAMILY: Range<usize> = 0..4;
}

/// Header length.
pub const HEADER_LEN: usize = field::FAMILY.end;

/// `AF_INET` on every BSD and Linux.
pub const AF_INET: u32 = 2;

/// Whether `family` is one of the BSD `AF_INET6` values (24, 28, 30).
#[inline]
pub fn is_af_inet6(family: u32) -> bool {
    matches!(family, 24 | 28 | 30)
}

/// A read-only view of a null/loop header.
#[derive(Debug, Clone, Copy)]
pub struct NullHeader<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> NullHeader<T> {
    /// Wraps `buf`, checking it holds the 4-byte family.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Link`] when `buf` is shorter than 4 bytes.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        check_len(buf.as_ref(), HEADER_LEN, Layer::Link)?;
        Ok(NullHeader { buf })
    }

    #[inline]
    fn raw(&self) -> [u8; 4] {
        let b = self.buf.as_ref();
        [b[0], b[1], b[2], b[3]]
    }

    /// The family of a `LINKTYPE_NULL` header (host byte order of the capturing machine,
    /// guessed).
    #[inline]
    pub fn family_host_order(&self) -> u32 {
        let v = u32::from_le_bytes(self.raw());
        if v & 0xffff_0000 != 0 {
            v.swap_bytes()
        } else {
            v
        }
    }

    /// The family of a `LINKTYPE_LOOP` header (network byte order).
    #[inline]
    pub fn family_network_order(&self) -> u32 {
        u32::from_be_bytes(self.raw())
    }
}

impl<'a> NullHeader<&'a [u8]> {
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

    #[test]
    fn little_endian_host() {
        let b = [2, 0, 0, 0, 0x45];
        let h = NullHeader::new_checked(&b[..]).expect("header");
        assert_eq!(h.family_host_order(), AF_INET);
        assert_eq!(h.payload(), &[0x45]);
    }

    #[test]
    fn big_endian_host() {
        let b = [0, 0, 0, 30];
        let h = NullHeader::new_checked(&b[..]).expect("header");
        assert_eq!(h.family_host_order(), 30);
        assert!(is_af_inet6(h.family_host_order()));
        assert_eq!(h.family_network_order(), 30);
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&[24, 0, 0, 0], HEADER_LEN, |b| {
            NullHeader::new_checked(b).map(|_| ())
        });
    }
}
