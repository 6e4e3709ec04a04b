//! Bounded, packet-time state shared by the behavioural detectors.
//!
//! - [`TimedTable`]: a hash map with a hard entry cap whose idle entries expire as packet time
//!   advances. Expiry walks a FIFO of (key, time) from the front, so pruning costs amortised
//!   O(1) per operation and never scans the whole table.
//! - [`DistinctWindow`]: "how many distinct items has this key seen in the last window", exact,
//!   built from a [`TimedTable`] of (key, item) pairs plus a per-key count.
//! - [`RateWindow`]: an O(1)-memory sliding-window event count (two fixed buckets, the older
//!   one weighted by how much of it still overlaps the window).
//! - [`Episode`]: one alert per key and episode, re-armed after a quiet period.
//! - [`Counts`]: a per-key count that drops keys at zero; [`Addr`]: an address key that
//!   hashes in one step.
//!
//! Hashing uses foldhash with per-table random seeds (resisting hash flooding); no map is ever
//! iterated, so the seeds never influence what the detectors report. Every table operation
//! hashes its key once (`hashbrown::HashTable`), and the expiry queue remembers each key's
//! hash. What remains per packet is mostly cache misses on large tables: under a flood of
//! new keys each table touched costs a miss for the new key and one for the evicted one.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::time::Timestamp;

/// A bounded table of a behavioural detector, as its statistics and the sensor's memory budget
/// see it: one implementation per table type, so no detector counts its tables by hand.
pub(crate) trait Table {
    /// Entries held now.
    fn entries(&self) -> usize;
    /// Entries evicted because the table was full.
    fn evicted(&self) -> u64;
    /// Bytes allocated now.
    fn bytes(&self) -> usize;
    /// The most bytes the table can allocate, at its cap (a hash table churning at its cap may
    /// grow to twice the buckets its entries need before tombstones are cleared, so the bound
    /// counts that).
    fn bound_bytes(&self) -> usize;
}

/// Bytes of a `HashTable<T>` whose allocation holds `buckets` buckets (one control byte each).
fn hash_table_bytes<T>(buckets: usize) -> usize {
    buckets * (std::mem::size_of::<T>() + 1)
}

/// Buckets hashbrown allocates to hold `n` entries (load factor 7/8, powers of two).
fn buckets_for(n: usize) -> usize {
    if n < 8 {
        return 8;
    }
    (n.saturating_mul(8) / 7).next_power_of_two()
}

/// Pre-allocate at most this many slots per table: a full-size reservation for large caps
/// would cost megabytes up front for tables that usually stay small.
const INITIAL_CAPACITY: usize = 256;

/// An IP address as a table key: compared as the [`IpAddr`] it holds, hashed as one 128-bit
/// word (the derived `Hash` of `IpAddr` feeds a discriminant, a length and a byte slice,
/// several hasher rounds per address). An IPv4 address hashes like its IPv4-mapped IPv6 form;
/// equality still tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Addr(pub IpAddr);

impl Addr {
    /// The address as 128 bits (IPv4 mapped into IPv6).
    #[inline]
    pub(crate) fn bits(self) -> u128 {
        match self.0 {
            IpAddr::V4(v4) => u128::from(v4.to_bits()) | 0xffff_0000_0000,
            IpAddr::V6(v6) => v6.to_bits(),
        }
    }
}

impl Hash for Addr {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(self.bits());
    }
}

impl From<IpAddr> for Addr {
    #[inline]
    fn from(a: IpAddr) -> Addr {
        Addr(a)
    }
}

/// One hasher per table, seeded at random (resisting hash flooding).
#[derive(Debug, Clone, Default)]
struct Seed(RandomState);

impl Seed {
    #[inline]
    fn hash<K: Hash>(&self, key: &K) -> u64 {
        self.0.hash_one(key)
    }
}

/// A value plus its key and the packet time the key was last touched.
#[derive(Debug, Clone)]
struct Slot<K, V> {
    key: K,
    value: V,
    last: Timestamp,
}

/// A queued key: its hash (so expiry never hashes again), the key, the time it was (re)queued.
type Queued<K> = (u64, K, Timestamp);

/// A hash map with at most `cap` entries, whose entries expire `ttl_us` of packet time after
/// they were last touched.
///
/// Guarantees: `len() <= cap` at all times; an entry idle for more than `ttl_us` is removed
/// within another `ttl_us` at the latest (entries touched after insertion are re-queued lazily
/// when they reach the front of the expiry queue, so queue order is approximate); when a new
/// key arrives at a full table, expired entries go first, then the entry at the front of the
/// expiry queue (roughly the least recently touched) is evicted and counted.
///
/// Cost: every operation hashes its key once; expiry and eviction reuse the hash stored in
/// the queue.
#[derive(Debug, Clone)]
pub(crate) struct TimedTable<K, V> {
    map: HashTable<Slot<K, V>>,
    seed: Seed,
    /// Every key in `map` appears here exactly once.
    queue: VecDeque<Queued<K>>,
    cap: usize,
    ttl_us: i64,
    evicted: u64,
}

/// Pops expired keys from the front of `queue` (re-queueing those touched since), handing
/// each removed entry to `gone`. A free function over the fields so callers holding a borrow
/// of another field can use it.
fn expire_front<K: Copy + Eq, V>(
    map: &mut HashTable<Slot<K, V>>,
    queue: &mut VecDeque<Queued<K>>,
    ttl_us: i64,
    now: Timestamp,
    gone: &mut impl FnMut(K, V),
) {
    while let Some(&(hash, key, queued)) = queue.front() {
        if now.micros_since(queued) <= ttl_us {
            break;
        }
        queue.pop_front();
        let Ok(entry) = map.find_entry(hash, |s| s.key == key) else {
            continue;
        };
        let last = entry.get().last;
        if now.micros_since(last) > ttl_us {
            let (slot, _) = entry.remove();
            gone(key, slot.value);
        } else {
            // Touched since it was queued: queue it again with its real last time.
            queue.push_back((hash, key, last));
        }
    }
}

impl<K: Copy + Eq + Hash, V> TimedTable<K, V> {
    /// An empty table (`cap` is at least 1).
    pub(crate) fn new(cap: usize, ttl_us: i64) -> Self {
        let cap = cap.max(1);
        let initial = cap.min(INITIAL_CAPACITY);
        TimedTable {
            map: HashTable::with_capacity(initial),
            seed: Seed::default(),
            queue: VecDeque::with_capacity(initial),
            cap,
            ttl_us,
            evicted: 0,
        }
    }

    /// Entries evicted because the table was full.
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    /// Removes entries idle for more than `ttl_us` at `now`, handing each to `gone`.
    #[inline]
    pub(crate) fn expire(&mut self, now: Timestamp, mut gone: impl FnMut(K, V)) {
        // The common case, nothing due, without a call.
        match self.queue.front() {
            Some(&(_, _, queued)) if now.micros_since(queued) > self.ttl_us => {}
            _ => return,
        }
        expire_front(&mut self.map, &mut self.queue, self.ttl_us, now, &mut gone);
    }

    /// The entry for `key`, touched at `now` when `touch` (else its time is left alone),
    /// inserting `init()` when absent; `true` with it when it was inserted. When the table is
    /// full, expired entries and then the oldest are removed first and handed to `gone`.
    #[inline]
    fn find_or_insert(
        &mut self,
        key: K,
        now: Timestamp,
        touch: bool,
        init: impl FnOnce() -> V,
        mut gone: impl FnMut(K, V),
    ) -> (&mut V, bool) {
        let hash = self.seed.hash(&key);
        let map = match self.map.find_entry(hash, |s| s.key == key) {
            Ok(entry) => {
                let slot = entry.into_mut();
                if touch && now > slot.last {
                    slot.last = now;
                }
                return (&mut slot.value, false);
            }
            Err(absent) => absent.into_table(),
        };
        if map.len() >= self.cap {
            expire_front(map, &mut self.queue, self.ttl_us, now, &mut gone);
        }
        while map.len() >= self.cap {
            let Some((h, old, _)) = self.queue.pop_front() else {
                break;
            };
            if let Ok(entry) = map.find_entry(h, |s| s.key == old) {
                let (slot, _) = entry.remove();
                self.evicted += 1;
                gone(old, slot.value);
            }
        }
        self.queue.push_back((hash, key, now));
        let seed = &self.seed;
        let slot = map
            .insert_unique(
                hash,
                Slot {
                    key,
                    value: init(),
                    last: now,
                },
                |s| seed.hash(&s.key),
            )
            .into_mut();
        (&mut slot.value, true)
    }

    /// The entry for `key`, touched at `now`, inserting `init()` when absent. When the table is
    /// full, the oldest entry is evicted first and handed to `gone`.
    #[inline]
    pub(crate) fn touch(
        &mut self,
        key: K,
        now: Timestamp,
        init: impl FnOnce() -> V,
        gone: impl FnMut(K, V),
    ) -> &mut V {
        self.find_or_insert(key, now, true, init, gone).0
    }

    /// Inserts `key` at `now` with `init()` unless present (a present key is not touched);
    /// `true` when it was inserted. When the table is full, the oldest entry is evicted first
    /// and handed to `gone`.
    #[inline]
    pub(crate) fn insert_new(
        &mut self,
        key: K,
        now: Timestamp,
        init: impl FnOnce() -> V,
        gone: impl FnMut(K, V),
    ) -> bool {
        self.find_or_insert(key, now, false, init, gone).1
    }

    /// The value for `key`, if held (not touched).
    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        if self.map.is_empty() {
            return None;
        }
        let hash = self.seed.hash(key);
        self.map.find(hash, |s| s.key == *key).map(|s| &s.value)
    }

    /// The value for `key`, if held, mutable (not touched).
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        if self.map.is_empty() {
            return None;
        }
        let hash = self.seed.hash(key);
        self.map
            .find_mut(hash, |s| s.key == *key)
            .map(|s| &mut s.value)
    }
}

/// A count per key, the key removed when its count drops to 0.
#[derive(Debug, Clone)]
pub(crate) struct Counts<K> {
    map: HashTable<(K, u32)>,
    seed: Seed,
    /// The owner's cap, which the keys never outnumber (for the memory bound).
    cap: usize,
}

impl<K: Copy + Eq + Hash> Counts<K> {
    /// An empty map sized for a table of `cap` entries.
    pub(crate) fn new(cap: usize) -> Self {
        Counts {
            map: HashTable::with_capacity(cap.min(INITIAL_CAPACITY)),
            seed: Seed::default(),
            cap: cap.max(1),
        }
    }

    /// Adds one to `key`'s count and returns the new count.
    #[inline]
    pub(crate) fn increment(&mut self, key: K) -> u32 {
        let hash = self.seed.hash(&key);
        let seed = &self.seed;
        let (_, n) = self
            .map
            .entry(hash, |e| e.0 == key, |e| seed.hash(&e.0))
            .or_insert((key, 0))
            .into_mut();
        *n += 1;
        *n
    }

    /// Subtracts one from `key`'s count, removing the key at 0.
    #[inline]
    pub(crate) fn decrement(&mut self, key: K) {
        let hash = self.seed.hash(&key);
        if let Ok(mut e) = self.map.find_entry(hash, |e| e.0 == key) {
            let n = &mut e.get_mut().1;
            *n = n.saturating_sub(1);
            if *n == 0 {
                e.remove();
            }
        }
    }

    /// `key`'s count (0 when absent).
    #[inline]
    pub(crate) fn get(&self, key: K) -> u32 {
        let hash = self.seed.hash(&key);
        self.map.find(hash, |e| e.0 == key).map_or(0, |e| e.1)
    }
}

impl<K: Copy + Eq + Hash, V> Table for TimedTable<K, V> {
    fn entries(&self) -> usize {
        self.map.len()
    }
    fn evicted(&self) -> u64 {
        self.evicted
    }
    fn bytes(&self) -> usize {
        hash_table_bytes::<Slot<K, V>>(buckets_for(self.map.capacity()))
            + self.queue.capacity() * std::mem::size_of::<Queued<K>>()
    }
    fn bound_bytes(&self) -> usize {
        hash_table_bytes::<Slot<K, V>>(2 * buckets_for(self.cap))
            + self.cap.next_power_of_two() * std::mem::size_of::<Queued<K>>()
    }
}

impl<K: Copy + Eq + Hash> Table for Counts<K> {
    fn entries(&self) -> usize {
        self.map.len()
    }
    fn evicted(&self) -> u64 {
        0
    }
    fn bytes(&self) -> usize {
        hash_table_bytes::<(K, u32)>(buckets_for(self.map.capacity()))
    }
    fn bound_bytes(&self) -> usize {
        hash_table_bytes::<(K, u32)>(2 * buckets_for(self.cap))
    }
}

/// Exact count of distinct items per key among the (key, item) pairs first seen within the
/// last `window_us` (a pair seen again inside the window does not extend it; seen again after
/// it expired, it counts anew). Memory: at most `cap` pairs; the per-key counts never outnumber
/// the pairs. A pair evicted from a full table stops counting (and is counted as evicted).
#[derive(Debug, Clone)]
pub(crate) struct DistinctWindow<K, I> {
    pairs: TimedTable<(K, I), ()>,
    counts: Counts<K>,
}

impl<K: Copy + Eq + Hash, I: Copy + Eq + Hash> DistinctWindow<K, I> {
    /// An empty window of `window_us` holding at most `cap` pairs.
    pub(crate) fn new(cap: usize, window_us: i64) -> Self {
        DistinctWindow {
            pairs: TimedTable::new(cap, window_us),
            counts: Counts::new(cap),
        }
    }

    /// Records `item` for `key` at `now` (time never runs backwards: pass the detector's
    /// monotonic clock) and returns `(distinct items of key in the window, item was new)`.
    /// Two hashes when nothing expires: the pair's and the key's.
    #[inline]
    pub(crate) fn observe(&mut self, key: K, item: I, now: Timestamp) -> (u32, bool) {
        let counts = &mut self.counts;
        self.pairs.expire(now, |(k, _), ()| counts.decrement(k));
        let fresh =
            self.pairs
                .insert_new((key, item), now, || (), |(k, _), ()| counts.decrement(k));
        if fresh {
            (self.counts.increment(key), true)
        } else {
            (self.counts.get(key), false)
        }
    }
}

impl<K: Copy + Eq + Hash, I: Copy + Eq + Hash> Table for DistinctWindow<K, I> {
    fn entries(&self) -> usize {
        self.pairs.entries() + self.counts.entries()
    }
    fn evicted(&self) -> u64 {
        self.pairs.evicted()
    }
    fn bytes(&self) -> usize {
        self.pairs.bytes() + self.counts.bytes()
    }
    fn bound_bytes(&self) -> usize {
        self.pairs.bound_bytes() + self.counts.bound_bytes()
    }
}

/// Sliding-window event count in O(1) memory: the current fixed bucket plus the previous one,
/// weighted by the share of it still inside the window (the usual approximation used by rate
/// limiters). Exact when events are evenly spread; at most one bucket's worth off otherwise.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RateWindow {
    start: i64,
    cur: u64,
    prev: u64,
}

impl RateWindow {
    /// Adds `n` events at `now` and returns the estimated count in the last `window_us`.
    pub(crate) fn add(&mut self, now: Timestamp, n: u64, window_us: i64) -> u64 {
        let t = now.as_micros();
        let w = window_us.max(1);
        let bucket = t.div_euclid(w) * w;
        if self.cur == 0 && self.prev == 0 {
            self.start = bucket;
        }
        if bucket > self.start {
            self.prev = if bucket - self.start == w {
                self.cur
            } else {
                0
            };
            self.cur = 0;
            self.start = bucket;
        }
        self.cur = self.cur.saturating_add(n);
        let into = (t - self.start) as f64 / w as f64;
        self.cur + (self.prev as f64 * (1.0 - into)).round() as u64
    }

    /// Subtracts `n` events from the current bucket (a completed handshake cancelling a SYN).
    pub(crate) fn sub(&mut self, n: u64) {
        self.cur = self.cur.saturating_sub(n);
    }
}

/// One alert per key and episode: an episode starts with the key's first event after at least
/// `quiet_us` without events and lasts while events keep coming; it alerts at most once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Episode {
    /// First event of the episode.
    pub first: Timestamp,
    /// Latest event.
    pub last: Timestamp,
    /// Events in the episode so far.
    pub events: u64,
    /// The episode already raised its alert.
    pub alerted: bool,
}

impl Episode {
    /// A new episode starting at `now` (with no events yet).
    pub(crate) fn new(now: Timestamp) -> Episode {
        Episode {
            first: now,
            last: now,
            events: 0,
            alerted: false,
        }
    }

    /// Records one event at `now`; returns `true` when it starts a new episode (the previous
    /// one, if any, was quiet for more than `quiet_us`), which re-arms the alert.
    pub(crate) fn event(&mut self, now: Timestamp, quiet_us: i64) -> bool {
        let restarted = self.events > 0 && now.micros_since(self.last) > quiet_us;
        if restarted {
            *self = Episode::new(now);
        }
        self.events += 1;
        if now > self.last {
            self.last = now;
        }
        restarted
    }

    /// Marks the episode alerted; `true` when this is its first alert (so the caller raises it).
    pub(crate) fn arm(&mut self) -> bool {
        !std::mem::replace(&mut self.alerted, true)
    }
}

/// Per-key episodes plus detector state `X`, in a [`TimedTable`] whose entries live
/// `max(quiet_us, window_us)` after their last event; `X` is reset to its default when an
/// episode restarts.
#[derive(Debug, Clone)]
pub(crate) struct Episodes<K, X> {
    table: TimedTable<K, (Episode, X)>,
    quiet_us: i64,
}

impl<K: Copy + Eq + Hash, X: Default> Episodes<K, X> {
    /// At most `cap` keys; state kept for `max(quiet_us, window_us)` after the last event.
    pub(crate) fn new(cap: usize, quiet_us: i64, window_us: i64) -> Self {
        Episodes {
            table: TimedTable::new(cap, quiet_us.max(window_us)),
            quiet_us,
        }
    }

    /// Records one event of `key` at `now` and returns its episode and state.
    pub(crate) fn event(&mut self, key: K, now: Timestamp) -> &mut (Episode, X) {
        self.table.expire(now, |_, _| {});
        let entry = self
            .table
            .touch(key, now, || (Episode::new(now), X::default()), |_, _| {});
        if entry.0.event(now, self.quiet_us) {
            entry.1 = X::default();
        }
        entry
    }

    /// The state of `key`, if tracked (not touched: no event is recorded).
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut (Episode, X)> {
        self.table.get_mut(key)
    }

    /// Keys evicted because the table was full.
    pub(crate) fn evicted(&self) -> u64 {
        self.table.evicted()
    }
}

impl<K: Copy + Eq + Hash, X> Table for Episodes<K, X> {
    fn entries(&self) -> usize {
        self.table.entries()
    }
    fn evicted(&self) -> u64 {
        self.table.evicted()
    }
    fn bytes(&self) -> usize {
        self.table.bytes()
    }
    fn bound_bytes(&self) -> usize {
        self.table.bound_bytes()
    }
}

/// Alert bookkeeping: alerts raised and crossings suppressed inside already-alerted episodes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tally {
    pub alerts: u64,
    pub suppressed: u64,
}

impl Tally {
    /// A threshold was crossed in `ep`: `true` when the episode has not alerted yet (the
    /// caller raises the alert now), else counts a suppressed crossing.
    pub(crate) fn fire(&mut self, ep: &mut Episode) -> bool {
        if ep.arm() {
            self.alerts += 1;
            true
        } else {
            self.suppressed += 1;
            false
        }
    }
}

/// The highest time seen so far: windows never run backwards.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock(Timestamp);

impl Default for Clock {
    fn default() -> Self {
        Clock(Timestamp::from_micros(i64::MIN))
    }
}

impl Clock {
    /// Moves to `ts` if later and returns the current time.
    pub(crate) fn advance(&mut self, ts: Timestamp) -> Timestamp {
        if ts > self.0 {
            self.0 = ts;
        }
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_micros(s * 1_000_000)
    }

    #[test]
    fn timed_table_caps_and_expires() {
        let mut tt: TimedTable<u32, u32> = TimedTable::new(3, 10_000_000);
        let mut gone = Vec::new();
        for k in 0..5 {
            *tt.touch(k, t(k as i64), || 0, |k, _| gone.push(k)) += 1;
        }
        assert_eq!(tt.entries(), 3);
        assert_eq!(tt.evicted(), 2);
        assert_eq!(gone, vec![0, 1]);
        // Key 2 touched at 20 s survives the expiry at 25 s; 3 and 4 (last seen 3 s, 4 s) go.
        tt.touch(2, t(20), || 0, |_, _| {});
        tt.expire(t(25), |k, _| gone.push(k));
        assert_eq!(gone, vec![0, 1, 3, 4]);
        assert_eq!(tt.get(&2), Some(&1));
        tt.expire(t(31), |k, _| gone.push(k));
        assert_eq!(tt.entries(), 0);
    }

    #[test]
    fn distinct_window_counts_and_slides() {
        let mut dw: DistinctWindow<u8, u16> = DistinctWindow::new(100, 10_000_000);
        assert_eq!(dw.observe(1, 80, t(0)), (1, true));
        assert_eq!(dw.observe(1, 80, t(1)), (1, false));
        assert_eq!(dw.observe(1, 443, t(2)), (2, true));
        assert_eq!(dw.observe(2, 443, t(2)), (1, true));
        // At 10.5 s the pair seen at 0 s is gone, 443 (2 s) stays.
        assert_eq!(dw.observe(1, 22, t(11)).0, 2);
        assert_eq!(dw.observe(1, 80, t(11)), (3, true));
        assert_eq!(dw.observe(3, 1, t(100)), (1, true));
        assert_eq!(dw.pairs.entries(), 1);
    }

    #[test]
    fn distinct_window_eviction_keeps_counts_consistent() {
        let mut dw: DistinctWindow<u8, u16> = DistinctWindow::new(4, 1_000_000_000);
        for port in 0..10u16 {
            dw.observe(1, port, t(0));
        }
        assert_eq!(dw.pairs.entries(), 4);
        assert_eq!(dw.pairs.evicted(), 6);
        assert_eq!(dw.observe(1, 100, t(1)).0, 4);
    }

    #[test]
    fn rate_window_slides() {
        let mut r = RateWindow::default();
        let w = 10_000_000;
        for s in 0..10 {
            r.add(t(s), 10, w);
        }
        // Half-way into the next bucket, half of the previous one still counts.
        assert_eq!(r.add(t(15), 0, w), 50);
        assert_eq!(r.add(t(35), 1, w), 1);
        r.sub(5);
        assert_eq!(r.add(t(35), 0, w), 0);
    }

    #[test]
    fn episode_quiet_period() {
        let mut e = Episode::new(t(0));
        assert!(!e.event(t(0), 5_000_000));
        assert!(e.arm());
        assert!(!e.arm());
        assert!(!e.event(t(4), 5_000_000));
        assert!(e.event(t(10), 5_000_000));
        assert!(e.arm());
        assert_eq!((e.first, e.events), (t(10), 1));
    }
}
