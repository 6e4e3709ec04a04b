//! [`Frames`]: a batch of captured frames in one reused buffer, passed from the capture
//! thread to the detection thread. Batches go back for reuse, so capture allocates nothing
//! per packet once warm.

use netsec_core::capture::{LinkType, RawPacket};
use netsec_core::time::Timestamp;

/// Frames per batch.
pub const BATCH_FRAMES: usize = 256;

#[derive(Debug, Clone, Copy)]
struct FrameMeta {
    ts: Timestamp,
    link_type: LinkType,
    orig_len: u32,
    start: usize,
    end: usize,
}

/// Captured frames, their bytes back to back in one buffer.
#[derive(Debug, Default)]
pub struct Frames {
    data: Vec<u8>,
    meta: Vec<FrameMeta>,
}

impl Frames {
    /// An empty batch with room for [`BATCH_FRAMES`] frames.
    pub fn new() -> Frames {
        Frames {
            data: Vec::with_capacity(BATCH_FRAMES * 512),
            meta: Vec::with_capacity(BATCH_FRAMES),
        }
    }

    /// Copies `frame` in.
    pub fn push(&mut self, frame: &RawPacket<'_>) {
        let start = self.data.len();
        self.data.extend_from_slice(frame.data);
        self.meta.push(FrameMeta {
            ts: frame.ts,
            link_type: frame.link_type,
            orig_len: frame.orig_len,
            start,
            end: self.data.len(),
        });
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.meta.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Whether the batch should go.
    pub fn is_full(&self) -> bool {
        self.meta.len() >= BATCH_FRAMES
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.data.clear();
        self.meta.clear();
    }

    /// The frames, in order.
    pub fn iter(&self) -> impl Iterator<Item = RawPacket<'_>> {
        self.meta.iter().map(|m| RawPacket {
            ts: m.ts,
            link_type: m.link_type,
            data: self.data.get(m.start..m.end).unwrap_or_default(),
            orig_len: m.orig_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_reuse_their_buffers() {
        let mut f = Frames::new();
        for i in 0..3u8 {
            let data = vec![i; usize::from(i) + 1];
            f.push(&RawPacket {
                ts: Timestamp::from_micros(i64::from(i)),
                link_type: LinkType::RAW,
                data: &data,
                orig_len: 100,
            });
        }
        let got: Vec<(i64, Vec<u8>)> = f
            .iter()
            .map(|p| (p.ts.as_micros(), p.data.to_vec()))
            .collect();
        assert_eq!(got, vec![(0, vec![0]), (1, vec![1, 1]), (2, vec![2, 2, 2])]);
        let cap = f.data.capacity();
        f.clear();
        assert!(f.is_empty());
        assert_eq!(f.data.capacity(), cap);
    }
}
