//! What the TCP-anomaly detector remembers of each connection: per direction its latest
//! out-of-step pure ACK and latest data segment (sequence range, time, and its first and last
//! [`SAMPLE`] bytes), and per connection the far resets and repeated ACKs counted in the
//! current window.
//!
//! The memory is **direct-mapped** by flow id: fixed arrays allocated once, a slot per
//! `flow_id % slots`, no hashing and no allocation per packet. Data segments touch one
//! cache line (the segment slot); out-of-step ACKs and far resets, which are rare, touch a
//! separate count slot. A flow whose slot another flow takes loses its memory (counted as
//! an eviction), which can only hide a finding, never invent one.

use crate::flow::Direction;

use super::state::Table;

/// Bytes kept from each end of a connection's latest data segment.
pub(crate) const SAMPLE: usize = 8;

/// One direction's latest data segment.
#[derive(Debug, Clone, Copy, Default)]
struct Segment {
    /// First sequence number.
    seq: u32,
    /// Captured length (0: none yet; a packet's payload is below 64 KiB).
    len: u16,
    /// Capture time, the low 32 bits of µs (gaps are taken modulo 2^32 µs, 71 minutes).
    ts: u32,
    /// Its first and last `SAMPLE` bytes (the same bytes when it is shorter).
    head: [u8; SAMPLE],
    tail: [u8; SAMPLE],
}

/// One connection's data segments: one cache line, touched by every data segment.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct SegmentSlot {
    /// The low 32 bits of the flow id (0: empty; flow ids start at 1).
    flow: u32,
    /// An overlap was reported for this connection.
    reported: bool,
    sides: [Segment; 2],
}

/// One connection's out-of-step ACKs and far resets (touched only by those).
#[derive(Debug, Clone, Copy, Default)]
struct CountSlot {
    /// The flow id (0: empty).
    flow_id: u64,
    /// Start of the counting window, µs.
    window_start: i64,
    /// Per direction: (seq, ack) of the latest out-of-step pure ACK.
    ack: [Option<(u32, u32)>; 2],
    /// Per direction: out-of-step pure ACKs in the window identical to the one before.
    ack_repeats: [u32; 2],
    /// Far resets in the window.
    far_resets: u32,
    /// Findings already reported (bit per [`Finding`] kind).
    reported: u8,
}

/// What a packet showed about its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Finding {
    /// One side repeated one out-of-step pure ACK this often within the window.
    AckStorm { repeats: u32 },
    /// This many far resets within the window.
    RstInjection { resets: u32 },
    /// A segment overlapping the direction's previous one carried different bytes.
    Overlap {
        /// Sampled bytes of the earlier segment that the new one covers.
        compared: u32,
        /// How many of them differ.
        differing: u32,
        /// Time since the earlier segment, µs.
        gap_us: i64,
    },
}

impl Finding {
    fn bit(self) -> u8 {
        match self {
            Finding::AckStorm { .. } => 1,
            Finding::RstInjection { .. } => 2,
            Finding::Overlap { .. } => 4,
        }
    }
}

/// The thresholds the memory judges with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Repeated pure ACKs needed from each side for a storm.
    pub ack_storm_repeats: u32,
    /// Far resets needed for an injection.
    pub injected_rsts: u32,
    /// Window of both counts, µs.
    pub window_us: i64,
    /// Longest time between a segment and a conflicting copy that counts, µs.
    pub overlap_max_gap_us: i64,
}

/// The direct-mapped memory of connections.
#[derive(Debug)]
pub(crate) struct ConnectionMemory {
    segments: Vec<SegmentSlot>,
    counts: Vec<CountSlot>,
    limits: Limits,
    held: usize,
    evicted: u64,
}

impl ConnectionMemory {
    /// A memory of `slots` connections (rounded up to a power of two, at least 1).
    pub(crate) fn new(slots: usize, limits: Limits) -> ConnectionMemory {
        let n = slots.max(1).next_power_of_two();
        ConnectionMemory {
            segments: vec![SegmentSlot::default(); n],
            counts: vec![CountSlot::default(); n],
            limits,
            held: 0,
            evicted: 0,
        }
    }

    fn index(&self, flow_id: u64) -> usize {
        (flow_id as usize) & (self.segments.len() - 1)
    }

    /// Notes that a slot of another flow (or none) was claimed.
    fn claimed(held: &mut usize, evicted: &mut u64, was_empty: bool) {
        if was_empty {
            *held += 1;
        } else {
            *evicted += 1;
        }
    }

    /// The count slot of `flow_id`, claimed when another flow held it, with its window
    /// restarted when it lapsed at `now`.
    fn counts(&mut self, flow_id: u64, now: i64) -> &mut CountSlot {
        let i = self.index(flow_id);
        let s = &mut self.counts[i];
        if s.flow_id != flow_id {
            Self::claimed(&mut self.held, &mut self.evicted, s.flow_id == 0);
            *s = CountSlot {
                flow_id,
                window_start: now,
                ..CountSlot::default()
            };
        } else if now - s.window_start > self.limits.window_us {
            s.window_start = now;
            s.far_resets = 0;
            s.ack_repeats = [0; 2];
        }
        s
    }

    /// Reports `finding` once per connection.
    fn once(reported: &mut u8, finding: Finding) -> Option<Finding> {
        let bit = finding.bit();
        (*reported & bit == 0).then(|| {
            *reported |= bit;
            finding
        })
    }

    /// An out-of-step pure ACK with `seq` and `ack` from `dir`.
    pub(crate) fn pure_ack(
        &mut self,
        flow_id: u64,
        dir: Direction,
        seq: u32,
        ack: u32,
        now: i64,
    ) -> Option<Finding> {
        let need = self.limits.ack_storm_repeats;
        let slot = self.counts(flow_id, now);
        let d = usize::from(!dir.is_forward());
        if slot.ack[d] == Some((seq, ack)) {
            slot.ack_repeats[d] = slot.ack_repeats[d].saturating_add(1);
        } else {
            slot.ack[d] = Some((seq, ack));
        }
        let repeats = slot.ack_repeats[d];
        if repeats >= need {
            Self::once(&mut slot.reported, Finding::AckStorm { repeats })
        } else {
            None
        }
    }

    /// A RST the flow table found far outside its direction's sequence space.
    pub(crate) fn far_reset(&mut self, flow_id: u64, now: i64) -> Option<Finding> {
        let need = self.limits.injected_rsts;
        let slot = self.counts(flow_id, now);
        slot.far_resets = slot.far_resets.saturating_add(1);
        let resets = slot.far_resets;
        if resets >= need {
            Self::once(&mut slot.reported, Finding::RstInjection { resets })
        } else {
            None
        }
    }

    /// A data segment from `dir` starting at `seq` with the captured `payload`: compared
    /// with the direction's previous segment where they overlap, then remembered. One-byte
    /// segments (keepalives and window probes carry an arbitrary byte) are neither compared
    /// nor remembered.
    pub(crate) fn data(
        &mut self,
        flow_id: u64,
        dir: Direction,
        seq: u32,
        payload: &[u8],
        now: i64,
    ) -> Option<Finding> {
        if payload.len() < 2 {
            return None;
        }
        // A segment's remembered length is a u16: keep the samples where it says they are.
        let payload = &payload[..payload.len().min(usize::from(u16::MAX))];
        let max_gap = self.limits.overlap_max_gap_us;
        let i = self.index(flow_id);
        let slot = &mut self.segments[i];
        let flow = flow_id as u32;
        if slot.flow != flow {
            Self::claimed(&mut self.held, &mut self.evicted, slot.flow == 0);
            *slot = SegmentSlot {
                flow,
                ..SegmentSlot::default()
            };
        }
        let side = &mut slot.sides[usize::from(!dir.is_forward())];
        let gap_us = i64::from((now as u32).wrapping_sub(side.ts));
        let finding = if side.len > 0 && gap_us <= max_gap && overlaps(side, seq, payload) {
            let (compared, differing) = compare(side, seq, payload);
            (differing > 0 && !slot.reported).then_some(Finding::Overlap {
                compared,
                differing,
                gap_us,
            })
        } else {
            None
        };
        remember(side, seq, payload, now);
        slot.reported |= finding.is_some();
        finding
    }
}

/// Whether `payload` from `seq` overlaps `side`'s remembered segment (sequence numbers
/// compared modulo 2^32): the common in-order segment starts where the last one ended and
/// is not compared byte by byte.
#[inline]
fn overlaps(side: &Segment, seq: u32, payload: &[u8]) -> bool {
    let old_end = side.seq.wrapping_add(u32::from(side.len));
    let new_end = seq.wrapping_add(payload.len() as u32);
    (seq.wrapping_sub(old_end) as i32) < 0 && (new_end.wrapping_sub(side.seq) as i32) > 0
}

/// Compares the sampled bytes of `side`'s remembered segment with `payload` (starting at
/// `seq`) where they overlap: (bytes compared, bytes differing).
fn compare(side: &Segment, seq: u32, payload: &[u8]) -> (u32, u32) {
    let (mut compared, mut differing) = (0, 0);
    let n = usize::from(side.len).min(SAMPLE);
    let tail_start = side.seq.wrapping_add(u32::from(side.len) - n as u32);
    // A segment of at most `SAMPLE` bytes is all in its head.
    let samples = if usize::from(side.len) > SAMPLE { 2 } else { 1 };
    for (start, bytes) in [(side.seq, &side.head), (tail_start, &side.tail)]
        .into_iter()
        .take(samples)
    {
        for (k, &b) in bytes[..n].iter().enumerate() {
            let off = start.wrapping_add(k as u32).wrapping_sub(seq) as usize;
            if let Some(&now) = payload.get(off) {
                compared += 1;
                differing += u32::from(now != b);
            }
        }
    }
    (compared, differing)
}

/// Keeps `payload` (from `seq`, at `now`) as `side`'s latest segment.
fn remember(side: &mut Segment, seq: u32, payload: &[u8], now: i64) {
    side.seq = seq;
    // `data` cut the payload to 64 KiB - 1 (longer ones fit no IPv4 packet).
    side.len = u16::try_from(payload.len()).unwrap_or(u16::MAX);
    side.ts = now as u32;
    let head = payload.first_chunk::<SAMPLE>();
    let tail = payload.last_chunk::<SAMPLE>();
    if let (Some(head), Some(tail)) = (head, tail) {
        side.head = *head;
        side.tail = *tail;
    } else {
        let n = payload.len().min(SAMPLE);
        side.head[..n].copy_from_slice(&payload[..n]);
        side.tail[..n].copy_from_slice(&payload[payload.len() - n..]);
    }
}

impl Table for ConnectionMemory {
    fn entries(&self) -> usize {
        self.held
    }

    fn evicted(&self) -> u64 {
        self.evicted
    }

    fn bytes(&self) -> usize {
        self.segments.len()
            * (std::mem::size_of::<SegmentSlot>() + std::mem::size_of::<CountSlot>())
    }

    fn bound_bytes(&self) -> usize {
        self.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> ConnectionMemory {
        ConnectionMemory::new(
            16,
            Limits {
                ack_storm_repeats: 3,
                injected_rsts: 2,
                window_us: 10_000_000,
                overlap_max_gap_us: 200_000,
            },
        )
    }

    #[test]
    fn a_segment_slot_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<SegmentSlot>(), 64);
        assert_eq!(std::mem::align_of::<SegmentSlot>(), 64);
    }

    #[test]
    fn exact_and_partial_overlaps_with_other_bytes() {
        let mut m = memory();
        assert_eq!(m.data(1, Direction::Forward, 2, b"GOOD", 0), None);
        let f = m.data(1, Direction::Forward, 2, b"EVIL", 400);
        assert_eq!(
            f,
            Some(Finding::Overlap {
                compared: 4,
                differing: 4,
                gap_us: 400
            })
        );
        // A later segment overlapping the tail of a long one.
        let long: Vec<u8> = (0..100u8).collect();
        assert_eq!(m.data(2, Direction::Backward, 1000, &long, 0), None);
        let mut forged = long[90..].to_vec();
        forged[9] = 0xff;
        forged.extend_from_slice(b"more");
        let f = m.data(2, Direction::Backward, 1090, &forged, 10);
        assert!(
            matches!(f, Some(Finding::Overlap { differing: 1, .. })),
            "{f:?}"
        );
    }

    #[test]
    fn true_retransmissions_and_new_data_are_quiet() {
        let mut m = memory();
        let seg: Vec<u8> = (0..50u8).collect();
        assert_eq!(m.data(1, Direction::Forward, u32::MAX - 10, &seg, 0), None);
        // The same bytes again (across the sequence wrap), then the next segment, then a
        // keepalive's arbitrary byte, then other bytes after the gap limit.
        assert_eq!(m.data(1, Direction::Forward, u32::MAX - 10, &seg, 5), None);
        assert_eq!(m.data(1, Direction::Forward, 39, b"next", 6), None);
        assert_eq!(m.data(1, Direction::Forward, 42, b"x", 7), None);
        assert_eq!(m.data(1, Direction::Forward, 39, b"NEXT", 300_000), None);
        // Other direction, other flow: separate memories.
        assert_eq!(m.data(1, Direction::Backward, 39, b"NEXT", 300_001), None);
        assert_eq!(m.data(17, Direction::Forward, 39, b"nExT", 300_002), None);
    }

    #[test]
    fn storms_repeat_one_ack_and_report_once() {
        let mut m = memory();
        let mut found = Vec::new();
        for i in 0..10 {
            found.extend(m.pure_ack(5, Direction::Backward, 9, 7 + (i as u32 % 2), i));
        }
        assert!(found.is_empty(), "alternating ACKs are not one repeated");
        for i in 0..10 {
            found.extend(m.pure_ack(5, Direction::Forward, 7, 9, 10 + i));
        }
        assert_eq!(found, [Finding::AckStorm { repeats: 3 }]);
    }

    #[test]
    fn resets_count_within_the_window() {
        let mut m = memory();
        assert_eq!(m.far_reset(3, 0), None);
        assert_eq!(m.far_reset(3, 20_000_000), None, "window lapsed");
        assert_eq!(
            m.far_reset(3, 20_000_001),
            Some(Finding::RstInjection { resets: 2 })
        );
        assert_eq!(m.far_reset(3, 20_000_002), None, "reported once");
        assert_eq!((m.entries(), m.evicted()), (1, 0));
        assert_eq!(m.far_reset(19, 0), None, "takes slot 3");
        assert_eq!((m.entries(), m.evicted()), (1, 1));
    }
}
