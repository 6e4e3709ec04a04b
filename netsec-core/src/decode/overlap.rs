//! [`FragmentOverlaps`]: which IP fragments overlap a fragment received before for the same
//! datagram (Suricata's `ipv4.frag_overlap` / `ipv6.frag_overlap` decoder events). The
//! decoder sees one packet at a time; this remembers the byte ranges of datagrams still being
//! fragmented, in a fixed direct-mapped table, so its memory is constant and a packet that is
//! not a fragment costs nothing.

use std::net::IpAddr;

use super::{DecodeEvents, PacketMeta};
use crate::time::Timestamp;

/// Datagrams remembered at once (a newer one in the same slot replaces an older one).
const SLOTS: usize = 1024;
/// Fragment ranges remembered per datagram (later ones are checked, not remembered).
const RANGES: usize = 16;
/// How long a datagram's fragments are remembered after its latest one, µs (Suricata's
/// default defrag timeout).
const TIMEOUT_US: i64 = 60_000_000;

/// One datagram being fragmented.
#[derive(Debug, Clone, Copy)]
struct Datagram {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    last: Timestamp,
    /// Byte ranges `[start, end)` received.
    ranges: [(u32, u32); RANGES],
    n: usize,
    /// End of the datagram, once its last fragment (M clear) came.
    total: Option<u32>,
}

impl Datagram {
    /// Whether the ranges cover `[0, total)`.
    fn complete(&self) -> bool {
        let Some(total) = self.total else {
            return false;
        };
        // A copy on the stack: nothing is allocated per fragment.
        let mut r = self.ranges;
        r[..self.n].sort_unstable();
        let mut reached = 0;
        for &(s, e) in &r[..self.n] {
            if s > reached {
                return false;
            }
            reached = reached.max(e);
        }
        reached >= total
    }
}

/// Remembers fragment ranges per datagram and reports overlaps; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct FragmentOverlaps {
    /// Empty until the first fragment (most traffic has none), then [`SLOTS`] long.
    slots: Vec<Option<Datagram>>,
}

impl FragmentOverlaps {
    /// Records the fragment `meta` describes (nothing for a whole datagram) and returns the
    /// overlap event when its bytes overlap a fragment of the same datagram received before.
    /// A datagram is forgotten once its fragments cover it, or 60 s after its latest one.
    pub fn observe(&mut self, meta: &PacketMeta) -> DecodeEvents {
        let Some(f) = meta.fragment else {
            return DecodeEvents::NONE;
        };
        if self.slots.is_empty() {
            self.slots = vec![None; SLOTS];
        }
        let (src, dst) = (meta.src_addr, meta.dst_addr);
        let slot = &mut self.slots[slot_of(src, dst, f.id)];
        let fresh = |d: &Datagram| {
            d.src == src
                && d.dst == dst
                && d.id == f.id
                && meta.ts.micros_since(d.last) <= TIMEOUT_US
        };
        let d = match slot {
            Some(d) if fresh(d) => d,
            _ => slot.insert(Datagram {
                src,
                dst,
                id: f.id,
                last: meta.ts,
                ranges: [(0, 0); RANGES],
                n: 0,
                total: None,
            }),
        };
        let start = u32::from(f.offset) * 8;
        let end = start.saturating_add(f.len);
        let overlaps = d.ranges[..d.n].iter().any(|&(s, e)| start < e && s < end);
        if d.n < RANGES {
            d.ranges[d.n] = (start, end);
            d.n += 1;
        }
        if !f.more {
            d.total = Some(end);
        }
        if meta.ts > d.last {
            d.last = meta.ts;
        }
        if d.complete() {
            *slot = None;
        }
        match (overlaps, src) {
            (false, _) => DecodeEvents::NONE,
            (true, IpAddr::V4(_)) => DecodeEvents::IPV4_FRAG_OVERLAP,
            (true, IpAddr::V6(_)) => DecodeEvents::IPV6_FRAG_OVERLAP,
        }
    }
}

/// The slot of a datagram (multiply-shift over its identity; a collision only forgets).
fn slot_of(src: IpAddr, dst: IpAddr, id: u32) -> usize {
    let bits = |a: IpAddr| match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    };
    let x = bits(src) ^ bits(dst).rotate_left(64) ^ u128::from(id);
    let h = ((x >> 64) as u64 ^ x as u64 ^ u64::from(id)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 54) as usize % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    fn frag(ts_ms: i64, id: u32, offset: u16, more: bool, len: u32) -> PacketMeta {
        let m = synth::udp(ts_ms * 1000, [10, 0, 0, 1], 5000, [10, 0, 0, 2], 53, 0);
        let mut m = synth::fragment(m, id, offset, more);
        if let Some(f) = m.fragment.as_mut() {
            f.len = len;
        }
        m
    }

    #[test]
    fn overlapping_fragments_raise_the_event_once_each() {
        let mut o = FragmentOverlaps::default();
        assert!(o.observe(&frag(0, 7, 0, true, 64)).is_empty());
        assert!(
            o.observe(&frag(1, 7, 8, true, 64)).is_empty(),
            "adjacent, not overlapping"
        );
        // Bytes 96..160 again: overlaps the second fragment.
        assert_eq!(
            o.observe(&frag(2, 7, 12, true, 64)),
            DecodeEvents::IPV4_FRAG_OVERLAP
        );
        // Another datagram (id) is separate.
        assert!(o.observe(&frag(3, 8, 12, true, 64)).is_empty());
        // A whole datagram is never a fragment.
        let whole = synth::udp(0, [10, 0, 0, 1], 5000, [10, 0, 0, 2], 53, 10);
        assert!(o.observe(&whole).is_empty());
    }

    #[test]
    fn completed_or_stale_datagrams_are_forgotten() {
        let mut o = FragmentOverlaps::default();
        assert!(o.observe(&frag(0, 7, 0, true, 64)).is_empty());
        assert!(o.observe(&frag(1, 7, 8, false, 10)).is_empty());
        // Complete (0..74): the same id starts a new datagram.
        assert!(o.observe(&frag(2, 7, 0, true, 64)).is_empty());
        // 61 s later the first fragment is forgotten.
        assert!(o.observe(&frag(63_000, 7, 0, true, 64)).is_empty());
    }
}
