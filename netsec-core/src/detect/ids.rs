//! Alert ids: unique across pipelines, processes, restarts and sensors, sortable by time, and
//! deterministic when the caller gives the run id.

use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::time::Timestamp;

/// Bits of an id taken by the run tag; the sequence gets the rest of the 80 random bits.
const RUN_BITS: u32 = 40;
const SEQ_BITS: u32 = 80 - RUN_BITS;

/// Bytes read from each end of a capture file for [`RunId::of_capture_file`].
const SAMPLE_BYTES: u64 = 1 << 20;

/// Which run of which sensor raised an alert: 40 bits inside every alert id.
///
/// A live sensor takes a [`random`](RunId::random) one at every start, so ids never repeat
/// across restarts, processes or sensors (two runs share a tag with probability 2^-40). An
/// offline run derives it from its input ([`of_capture_file`](RunId::of_capture_file),
/// [`from_digest`](RunId::from_digest)), so the same capture gives the same ids every time,
/// and different captures different ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunId(u64);

impl RunId {
    /// A fresh random run id (OS-seeded, mixed with the clock and process id).
    pub fn random() -> RunId {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_u32(std::process::id());
        RunId(h.finish() & ((1 << RUN_BITS) - 1))
    }

    /// The run id of some input bytes (a capture's digest, a name): SHA-256, first 40 bits.
    pub fn from_digest(bytes: &[u8]) -> RunId {
        let d = Sha256::digest(bytes);
        let mut v = 0u64;
        for b in &d[..8] {
            v = v << 8 | u64::from(*b);
        }
        RunId(v >> (64 - RUN_BITS))
    }

    /// The run id of a capture file, from its length and its first and last MiB (so a large
    /// capture is not read twice).
    ///
    /// # Errors
    /// The I/O error when the file cannot be read.
    pub fn of_capture_file(path: &Path) -> io::Result<RunId> {
        let mut f = std::fs::File::open(path)?;
        let len = f.metadata()?.len();
        let mut h = Sha256::new();
        h.update(len.to_le_bytes());
        let mut buf = Vec::with_capacity(SAMPLE_BYTES as usize);
        f.by_ref().take(SAMPLE_BYTES).read_to_end(&mut buf)?;
        h.update(&buf);
        if len > 2 * SAMPLE_BYTES {
            f.seek(SeekFrom::Start(len - SAMPLE_BYTES))?;
            buf.clear();
            f.take(SAMPLE_BYTES).read_to_end(&mut buf)?;
            h.update(&buf);
        }
        Ok(RunId::from_digest(&h.finalize()))
    }

    /// A run id with this tag (its low 40 bits): for tests and for callers that number their
    /// runs themselves.
    pub const fn from_tag(tag: u64) -> RunId {
        RunId(tag & ((1 << RUN_BITS) - 1))
    }

    /// The 40-bit tag.
    pub fn tag(self) -> u64 {
        self.0
    }
}

/// Gives out one run's alert ids: 26 characters of Crockford base32 in ULID layout, 48 bits of
/// packet time in milliseconds, the 40-bit [`RunId`], then a 40-bit sequence number.
///
/// Ids sort by packet time to the millisecond, then run, then emission order. Times before the
/// epoch are clamped to 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertIds {
    run: RunId,
    seq: u64,
}

impl AlertIds {
    /// Ids of run `run`, counting from 1.
    pub fn new(run: RunId) -> AlertIds {
        AlertIds { run, seq: 0 }
    }

    /// The run these ids belong to.
    pub fn run(&self) -> RunId {
        self.run
    }

    /// The next id, for an alert raised at packet time `ts`.
    pub fn next_id(&mut self, ts: Timestamp) -> String {
        self.seq = self.seq.wrapping_add(1);
        let ms = (ts.as_micros().max(0) as u64 / 1000) & ((1 << 48) - 1);
        let value: u128 = (u128::from(ms) << 80)
            | (u128::from(self.run.0) << SEQ_BITS)
            | u128::from(self.seq & ((1 << SEQ_BITS) - 1));
        encode_crockford(value)
    }
}

fn encode_crockford(mut v: u128) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut buf = [b'0'; 26];
    for slot in buf.iter_mut().rev() {
        *slot = ALPHABET[(v & 31) as usize];
        v >>= 5;
    }
    buf.iter().map(|&c| c as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_then_sequence_and_are_deterministic() {
        let run = RunId::from_digest(b"capture");
        let mut g = AlertIds::new(run);
        let a = g.next_id(Timestamp::from_micros(1_000));
        let b = g.next_id(Timestamp::from_micros(1_000));
        let c = g.next_id(Timestamp::from_micros(999_999_000_001));
        assert_eq!(a.len(), 26);
        assert!(a < b && b < c);
        assert_eq!(AlertIds::new(run).next_id(Timestamp::from_micros(1_000)), a);
        // Another run, same time and sequence: another id.
        let other = RunId::from_digest(b"other capture");
        assert_ne!(
            AlertIds::new(other).next_id(Timestamp::from_micros(1_000)),
            a
        );
        // Before the epoch: clamped, no panic.
        assert_eq!(g.next_id(Timestamp::from_micros(-5)).len(), 26);
    }

    #[test]
    fn random_runs_differ() {
        let runs: std::collections::HashSet<u64> =
            (0..1000).map(|_| RunId::random().tag()).collect();
        assert_eq!(runs.len(), 1000);
        assert!(runs.iter().all(|r| *r < 1 << RUN_BITS));
    }

    #[test]
    fn capture_file_runs_depend_on_content() {
        let dir = std::env::temp_dir().join(format!("netsec-runid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (a, b) = (dir.join("a"), dir.join("b"));
        std::fs::write(&a, vec![1u8; 3 << 20]).expect("write");
        let mut other = vec![1u8; 3 << 20];
        other[(3 << 20) - 1] = 2; // differs only in the last MiB
        std::fs::write(&b, other).expect("write");
        let ra = RunId::of_capture_file(&a).expect("read");
        assert_eq!(RunId::of_capture_file(&a).expect("read"), ra);
        assert_ne!(RunId::of_capture_file(&b).expect("read"), ra);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
