//! Zero-copy wire views for the headers smoltcp does not cover (VLAN, MPLS, Linux SLL, CAPWAP,
//! IEEE 802.11 …).
//!
//! IPv4, IPv6, TCP, UDP, ICMP, ARP and Ethernet use [`smoltcp::wire`]; this module holds our own
//! views for everything else, one file per protocol, following smoltcp's pattern
//! (`smoltcp-rs/smoltcp:src/wire/udp.rs`):
//!
//! - a private `mod field` with the byte offsets,
//! - a view type wrapping any `T: AsRef<[u8]>` whose `new_checked` checks every length once,
//! - infallible accessors: **after `new_checked` succeeds, no accessor panics**, and
//!   `payload()` on a `&'a [u8]` view borrows from the capture buffer, never copies.
//!
//! `new_checked` errors are the decoder's cheap, `Copy` [`DecodeError`]: `Truncated` when the
//! buffer is shorter than the header claims, `Invalid` when a field holds an impossible value.
//! Views check structure only; policy (snap-length handling, tunnel depth) lives in
//! [`crate::decode`].

// The views are complete (every field of each header has its accessor, tested here), while
// the decoder reads only the fields it needs; the module is private, so unused accessors are
// expected rather than a sign of dead code.
#![allow(dead_code)]

mod error;
mod link_type;

pub use error::{DecodeError, Layer};
pub use link_type::LinkType;

pub mod capwap;
pub mod checksum;
pub mod geneve;
pub mod gre;
pub mod gtpu;
pub mod ieee80211;
pub mod ipv6_ext;
pub mod llc;
pub mod mpls;
pub mod nsh;
pub mod null;
pub mod pppoe;
pub mod radiotap;
pub mod sctp;
pub mod sll;
pub mod sll2;
pub mod vlan;
pub mod vxlan;

/// `Truncated { layer, needed, actual }`, saturating the lengths into `u32`.
#[inline]
pub(crate) fn truncated(layer: Layer, needed: usize, actual: usize) -> DecodeError {
    DecodeError::Truncated {
        layer,
        needed: u32::try_from(needed).unwrap_or(u32::MAX),
        actual: u32::try_from(actual).unwrap_or(u32::MAX),
    }
}

/// `Ok` when `buf` holds at least `needed` bytes, else [`truncated`].
#[inline]
pub(crate) fn check_len(buf: &[u8], needed: usize, layer: Layer) -> Result<(), DecodeError> {
    if buf.len() < needed {
        Err(truncated(layer, needed, buf.len()))
    } else {
        Ok(())
    }
}

/// Big-endian `u16` at `at`.
///
/// # Panics
/// When `buf` is shorter than `at + 2`; callers only use offsets their `new_checked` verified.
#[inline]
pub(crate) fn be16(buf: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([buf[at], buf[at + 1]])
}

/// Big-endian `u32` at `at`.
///
/// # Panics
/// When `buf` is shorter than `at + 4`; callers only use offsets their `new_checked` verified.
#[inline]
pub(crate) fn be32(buf: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

/// The bytes of `buf` from `at` on, or an empty slice when `at` is past the end.
#[inline]
pub(crate) fn tail(buf: &[u8], at: usize) -> &[u8] {
    buf.get(at..).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers shared by the views' unit tests.

    /// Asserts that every strict prefix of `frame` shorter than `min_ok` fails `check`
    /// and none of them panics.
    pub fn every_prefix_errors<E>(
        frame: &[u8],
        min_ok: usize,
        check: impl Fn(&[u8]) -> Result<(), E>,
    ) {
        for n in 0..frame.len() {
            let r = check(&frame[..n]);
            if n < min_ok {
                assert!(r.is_err(), "prefix of {n} bytes should fail");
            }
        }
        assert!(check(frame).is_ok(), "full frame should pass");
    }
}
