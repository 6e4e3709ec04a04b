//! IEEE 802.1Q VLAN tag (also the 802.1ad S-tag and legacy QinQ TPIDs).
//!
//! The 4 bytes that follow a VLAN TPID: TCI (PCP 3 bits, DEI 1 bit, VID 12 bits) and the next
//! EtherType. Stacked tags (QinQ, any depth) are just repeated views. After
//! [`VlanTag::new_checked`] succeeds, no accessor panics.

use super::{DecodeError, Layer};

use super::{be16, check_len, tail};

mod field {
    use core::ops::Range;
    pub const TCI: Range<usize> = 0..2;
    pub const ETHERTYPE: Range<usize> = 2..4;
}

/// Length of one tag (after the TPID, which is the previous header's EtherType).
pub const HEADER_LEN: usize = field::ETHERTYPE.end;

/// IEEE 802.1Q customer tag.
pub const TPID_8021Q: u16 = 0x8100;
/// IEEE 802.1ad service tag.
pub const TPID_8021AD: u16 = 0x88a8;
/// Pre-standard QinQ TPIDs some switches still emit.
pub const TPID_QINQ: [u16; 3] = [0x9100, 0x9200, 0x9300];

/// Whether `ethertype` announces a VLAN tag.
#[inline]
pub fn is_vlan_tpid(ethertype: u16) -> bool {
    matches!(
        ethertype,
        TPID_8021Q | TPID_8021AD | 0x9100 | 0x9200 | 0x9300
    )
}

/// A read-only view of one VLAN tag.
#[derive(Debug, Clone, Copy)]
pub struct VlanTag<T: AsRef<[u8]>> {
    buf: T,
}

impl<T: AsRef<[u8]>> VlanTag<T> {
    /// Wraps `buf`, checking it holds a whole tag.
    ///
    /// # Errors
    /// `Truncated` at [`Layer::Vlan`] when `buf` is shorter than 4 bytes.
    #[inline]
    pub fn new_checked(buf: T) -> Result<Self, DecodeError> {
        check_len(buf.as_ref(), HEADER_LEN, Layer::Vlan)?;
        Ok(VlanTag { buf })
    }

    /// Tag control information (PCP, DEI, VID).
    #[inline]
    pub fn tci(&self) -> u16 {
        be16(self.buf.as_ref(), field::TCI.start)
    }

    /// VLAN identifier (12 bits).
    #[inline]
    pub fn vid(&self) -> u16 {
        self.tci() & 0x0fff
    }

    /// Priority code point (3 bits).
    #[inline]
    pub fn pcp(&self) -> u8 {
        (self.tci() >> 13) as u8
    }

    /// Drop eligible indicator.
    #[inline]
    pub fn dei(&self) -> bool {
        self.tci() & 0x1000 != 0
    }

    /// EtherType of what follows (possibly another TPID).
    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(self.buf.as_ref(), field::ETHERTYPE.start)
    }
}

impl<'a> VlanTag<&'a [u8]> {
    /// The bytes after the tag, borrowed from the capture buffer.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buf, HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::every_prefix_errors;

    const TAG: [u8; 6] = [0xa0, 0x64, 0x08, 0x00, 0x45, 0x00];

    #[test]
    fn happy_path() {
        let t = VlanTag::new_checked(&TAG[..]).expect("whole tag");
        assert_eq!(t.vid(), 100);
        assert_eq!(t.pcp(), 5);
        assert!(!t.dei());
        assert_eq!(t.ethertype(), 0x0800);
        assert_eq!(t.payload(), &[0x45, 0x00]);
    }

    #[test]
    fn tpids() {
        for tpid in [0x8100, 0x88a8, 0x9100, 0x9200, 0x9300] {
            assert!(is_vlan_tpid(tpid));
        }
        assert!(!is_vlan_tpid(0x0800));
    }

    #[test]
    fn truncated_prefixes() {
        every_prefix_errors(&TAG, HEADER_LEN, |b| VlanTag::new_checked(b).map(|_| ()));
    }
}
