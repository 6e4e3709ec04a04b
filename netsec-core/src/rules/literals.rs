//! [`LiteralSet`]: finds which of many fast patterns (literals, each case-sensitive or ASCII
//! case-insensitive) occur anywhere in a payload. It reports exactly the literals an overlapping
//! Aho-Corasick search would report (case-sensitive ones checked byte for byte), each once per
//! payload.
//!
//! # Why not (only) an automaton
//!
//! Aho-Corasick over 1,000 random 8–16 byte patterns costs ~2 ns/byte as a DFA (megabytes of
//! transition tables: a cache miss per byte or two) and ~4–5 ns/byte as an NFA. A 170-byte
//! payload then costs 350–800 ns, about a third of `netsec analyze`. Almost every payload byte
//! starts no pattern, so the common case should be a few instructions against a table that
//! stays in L1/L2. The design follows Wu-Manber and Hyperscan's FDR:
//!
//! 1. **Anchors.** Each literal of length ≥ 4 contributes 4-byte anchors, case-folded (bit 5
//!    of each byte cleared, also for case-sensitive literals, so one fold of the payload
//!    serves both). A 4-byte window of the payload is loaded as a `u32`, folded with one
//!    `and`, hashed by one multiply-shift and tested against a bitset of 2^12–2^20 bits sized
//!    to 64–256 bits per anchor (a 0.5–1.5 % false hit rate; at most 128 KiB, for ~10,000
//!    literals, and 8–64 KiB for hundreds to a thousand).
//! 2. **Sampling (stride).** If every long literal has length ≥ `s + 3`, any occurrence
//!    covers a window starting at a multiple of `s`; so only every `s`-th window is tested
//!    and each literal inserts the anchors of `s` consecutive windows (verifying at
//!    `window - offset`): not its first `s` but the block common payload text and other
//!    literals hit least (see [`rarest_block`]), so `|0d 0a|User-Agent|3a 20|…` is not
//!    verified at every request's `User-Agent` header. The filter's work per byte drops by `s` while its false-hit rate per
//!    byte stays the same. `s = min(8, shortest long literal − 3)`: one 4-byte literal makes
//!    the scan dense (`s = 1`), which is the plain FDR filter; to soften that, when the
//!    shortest is 4 or 5 bytes, literals of 4–7 bytes get a separate table of 3-byte anchors
//!    (stride `shortest − 2`) and the longer ones keep a stride of at least 5.
//! 3. **Verification.** A set bit's rank (a popcount against a per-word prefix count) indexes a
//!    compact list of `(anchor, literal, offset)` entries; entries whose full anchor equals
//!    the window are verified at their position, exactly or ASCII case-insensitively. A
//!    literal found once is marked (generation counter) and never verified again for this
//!    payload.
//! 4. **Short literals** (1–3 bytes, a handful in real rule sets) cannot carry a 4-byte
//!    anchor. Each is anchored at its least common byte and found with SIMD `memchr3`
//!    (see [`RareBytes`]) while at most six distinct bytes suffice; beyond that they get
//!    dense tables keyed directly (no hash) by the folded byte (length 1) or byte pair
//!    (lengths 2–3). Neither runs when there are no short literals.
//!
//! Soundness: an occurrence of literal `L` at position `p`, anchored on the block starting at
//! offset `f`, makes the window at the sampled position `q ∈ [p + f, p + f + s)` equal
//! (folded) to `L[q - p .. q - p + 4]`, which was inserted; so every occurrence is verified and none is missed. Verification is exact, so no
//! literal is reported that does not occur. The property test in this module checks the
//! result against `aho_corasick`'s overlapping search.

/// Multiplier of the anchor hash (Knuth's 2^32 / φ): the product's top bits depend on all
/// four anchor bytes.
const HASH_MUL: u32 = 0x9E37_79B1;
/// Largest sampling stride.
const MAX_STRIDE: usize = 8;
/// Bits of an entry's anchor offset within its literal (the rest hold the literal id).
const OFFSET_BITS: u32 = 8;
/// Largest anchor offset an entry can hold.
const MAX_OFFSET: usize = (1 << OFFSET_BITS) - 1;
/// Bitset bits per anchor and window tested per byte: a false hit costs a mispredicted
/// branch plus verification (~100 instructions), so a dense scan (stride 1) gets ~256 bits
/// per anchor (< 0.5 % of windows hit) and a sampled one `256 / stride`, at least 64
/// (< 1.5 % of the fewer windows): about one false hit per 200–300 payload bytes either way.
/// Halving these (a bitset half the size) measured 4–6 % slower on 1,000 and 10,000 rules
/// (criterion `rules/small`) and ran ~3 % more instructions in `netsec analyze`.
const BITS_PER_ANCHOR_BYTE: usize = 256;
const MIN_BITS_PER_ANCHOR: usize = 64;
const MIN_HASH_BITS: u32 = 12;
/// 2^20 bits = 128 KiB: beyond that the bitset would leave L2 and cost more than false hits.
const MAX_HASH_BITS: u32 = 20;

/// Clears bit 5 of every byte: folds ASCII case (`a` and `A` differ only in that bit).
///
/// Cheaper than lower-casing (one `and` instead of a SWAR range check) at the price of also
/// folding a few non-letters together (`@`/`` ` ``, digits/control bytes, space/NUL); that
/// only adds false hits, which verification rejects, and never loses an occurrence: two
/// bytes that are equal, or equal ignoring ASCII case, have equal folds.
const FOLD: u32 = 0xDFDF_DFDF;
/// [`FOLD`] for eight bytes.
const FOLD64: u64 = 0xDFDF_DFDF_DFDF_DFDF;

/// The folded key of the `width`-byte window / anchor at the start of `b`.
#[inline(always)]
fn key(width: usize, b: &[u8]) -> u32 {
    let mut x = [0u8; 4];
    x[..width].copy_from_slice(&b[..width]);
    u32::from_le_bytes(x) & FOLD
}

/// Up to four bytes, zero-padded, for a `u32` load.
#[inline(always)]
fn key_bytes<const N: usize>(b: &[u8; N]) -> [u8; 4] {
    let mut x = [0u8; 4];
    x[..N].copy_from_slice(b);
    x
}

/// Words of a bitset of [`MAX_HASH_BITS`] bits. Every table's bitset has this fixed size so
/// that indexing with a masked slot needs no bounds check in the scan loop; a small table
/// only ever touches (and keeps in cache) its first `2^bits / 64` words.
const BITSET_WORDS: usize = (1 << MAX_HASH_BITS) / 64;

/// One anchor table: a bitset over anchor keys (hashed for width 4, direct for widths 1 and
/// 2) and, per set bit, the entries to verify.
#[derive(Debug, Clone)]
struct AnchorTable {
    /// Anchor width in bytes: 1 or 2 (direct), 3 or 4 (hashed).
    width: usize,
    /// Only windows at multiples of `stride` are tested.
    stride: usize,
    /// `32 - bits` for the hashed table; unused for direct tables.
    shift: u32,
    words: Box<[u64; BITSET_WORDS]>,
    /// Set bits in `words[..i]`.
    rank: Box<[u32]>,
    /// Start of each set bit's entries in `entries` (by rank); one extra final element.
    starts: Box<[u32]>,
    /// `(anchor key, literal id << OFFSET_BITS | offset of the anchor in the literal)`.
    entries: Box<[(u32, u32)]>,
}

impl AnchorTable {
    /// Builds a table over `(anchor key, literal id, offset)` triples.
    fn build(width: usize, stride: usize, anchors: Vec<(u32, u32, usize)>) -> AnchorTable {
        let bits = if width >= 3 {
            let per = (BITS_PER_ANCHOR_BYTE / stride).max(MIN_BITS_PER_ANCHOR);
            let want = (anchors.len() * per).next_power_of_two();
            want.trailing_zeros().clamp(MIN_HASH_BITS, MAX_HASH_BITS)
        } else {
            8 * width as u32
        };
        let shift = 32 - bits;
        let mut keyed: Vec<(u32, u32, u32)> = anchors
            .into_iter()
            .map(|(k, lit, off)| {
                debug_assert!(off <= MAX_OFFSET);
                (
                    Self::slot(width, shift, k),
                    k,
                    lit << OFFSET_BITS | off as u32,
                )
            })
            .collect();
        keyed.sort_unstable();
        keyed.dedup();
        let mut words: Box<[u64; BITSET_WORDS]> = vec![0u64; BITSET_WORDS]
            .into_boxed_slice()
            .try_into()
            .expect("length is BITSET_WORDS");
        let mut starts = Vec::new();
        let mut last = None;
        for (i, &(slot, _, _)) in keyed.iter().enumerate() {
            if last != Some(slot) {
                words[slot as usize >> 6] |= 1 << (slot & 63);
                starts.push(i as u32);
                last = Some(slot);
            }
        }
        starts.push(keyed.len() as u32);
        let used = (1usize << bits).div_ceil(64);
        let mut rank = Vec::with_capacity(used);
        let mut total = 0u32;
        for w in &words[..used] {
            rank.push(total);
            total += w.count_ones();
        }
        AnchorTable {
            width,
            stride,
            shift,
            words,
            rank: rank.into(),
            starts: starts.into(),
            entries: keyed.into_iter().map(|(_, k, e)| (k, e)).collect(),
        }
    }

    /// The bit of an anchor key.
    #[inline(always)]
    fn slot(width: usize, shift: u32, key: u32) -> u32 {
        if width >= 3 {
            key.wrapping_mul(HASH_MUL) >> shift
        } else {
            key
        }
    }

    /// Tests every sampled window of `hay`; verifies the windows whose bit is set.
    #[inline(always)]
    fn scan(&self, lits: &LiteralSet, hay: &[u8], scratch: &mut LiteralScratch) {
        // Locals, so the loops keep them in registers instead of reloading through `self`.
        let (words, stride, shift) = (&*self.words, self.stride, self.shift);
        let mut q = 0;
        // One window: bit test, then the cold verification on a hit.
        macro_rules! test {
            ($width:literal, $k:expr, $at:expr) => {
                let k = $k;
                let slot = Self::slot($width, shift, k);
                let word = words[(slot as usize >> 6) & (BITSET_WORDS - 1)];
                if word & (1 << (slot & 63)) != 0 {
                    self.verify(lits, hay, $at, k, slot, word, scratch);
                }
            };
        }
        // Specialised per width so the key computation is straight-line code.
        macro_rules! run {
            ($width:literal) => {{
                if stride == 1 {
                    // Dense scan: one 8-byte load and one fold serve the `9 - width` windows
                    // inside it (unrolled), about half the instructions of a load per window.
                    const PER: usize = 9 - $width;
                    const MASK: u64 = u64::MAX >> (64 - 8 * $width);
                    while let Some(c) = hay.get(q..).and_then(<[u8]>::first_chunk::<8>) {
                        let x = u64::from_le_bytes(*c) & FOLD64;
                        for j in 0..PER {
                            test!($width, ((x >> (8 * j)) & MASK) as u32, q + j);
                        }
                        q += PER;
                    }
                }
                // Sampled scan (or the dense scan's last few windows): ~17 instructions per
                // window (vs ~10 in the unrolled dense loop), but only every `stride`-th one.
                // Sharing 8-byte loads here measured slower (a runtime-length inner loop).
                // A 3-byte window is read as 4 bytes and masked (one load), except the last.
                const LOAD: usize = if $width == 3 { 4 } else { $width };
                const KEY_MASK: u32 = FOLD & (u32::MAX >> (32 - 8 * $width));
                // Four windows per iteration while all four fit: one bounds check and one
                // (rarely taken) branch on the OR of the four bits.
                let span = 3 * stride + LOAD;
                while let Some(c) = hay.get(q..q + span) {
                    let k = |j: usize| {
                        let w = c[j * stride..][..LOAD].try_into().unwrap_or([0; LOAD]);
                        u32::from_le_bytes(key_bytes::<LOAD>(&w)) & KEY_MASK
                    };
                    let ks = [k(0), k(1), k(2), k(3)];
                    let slots = ks.map(|k| Self::slot($width, shift, k));
                    let any = slots.iter().fold(0, |acc, &slot| {
                        acc | words[(slot as usize >> 6) & (BITSET_WORDS - 1)] >> (slot & 63)
                    });
                    if any & 1 != 0 {
                        for (j, k) in ks.into_iter().enumerate() {
                            test!($width, k, q + j * stride);
                        }
                    }
                    q += 4 * stride;
                }
                while let Some(w) = hay.get(q..).and_then(<[u8]>::first_chunk::<LOAD>) {
                    let k =
                        u32::from_le_bytes(key_bytes(w)) & FOLD & (u32::MAX >> (32 - 8 * $width));
                    test!($width, k, q);
                    q += stride;
                }
                if LOAD != $width {
                    if let Some(w) = hay.get(q..).and_then(<[u8]>::first_chunk::<$width>) {
                        test!($width, key($width, w), q);
                    }
                }
            }};
        }
        match self.width {
            1 => run!(1),
            2 => run!(2),
            3 => run!(3),
            _ => run!(4),
        }
    }

    /// The slow path: the window at `q` (key `k`) hit a set bit.
    #[cold]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn verify(
        &self,
        lits: &LiteralSet,
        hay: &[u8],
        q: usize,
        k: u32,
        slot: u32,
        word: u64,
        scratch: &mut LiteralScratch,
    ) {
        let below = word & ((1u64 << (slot & 63)) - 1);
        let r = (self.rank[slot as usize >> 6] + below.count_ones()) as usize;
        let (from, to) = (self.starts[r] as usize, self.starts[r + 1] as usize);
        for &(anchor, packed) in &self.entries[from..to] {
            if anchor != k {
                continue;
            }
            let id = packed >> OFFSET_BITS;
            if scratch.marks[id as usize] == scratch.generation {
                continue;
            }
            let Some(start) = q.checked_sub((packed & MAX_OFFSET as u32) as usize) else {
                continue;
            };
            if lits.occurs_at(id, hay, start) {
                scratch.marks[id as usize] = scratch.generation;
                scratch.found.push(id);
            }
        }
    }
}

/// Per-search state of a [`LiteralSet`]: generation marks (one per literal) and the ids
/// found. Allocated once; a search allocates nothing unless `found` must grow.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiteralScratch {
    marks: Vec<u32>,
    generation: u32,
    /// Literal ids found by the last [`LiteralSet::find_all`], in discovery order.
    pub(crate) found: Vec<u32>,
}

impl LiteralScratch {
    /// Scratch space for `set`.
    #[cfg(test)]
    pub(crate) fn new(set: &LiteralSet) -> LiteralScratch {
        LiteralScratch::with_capacity(set.len())
    }

    /// Scratch space for sets of at most `literals` literals.
    pub(crate) fn with_capacity(literals: usize) -> LiteralScratch {
        LiteralScratch {
            marks: vec![0; literals],
            generation: 0,
            found: Vec::with_capacity(literals.min(64)),
        }
    }

    fn start(&mut self) {
        self.found.clear();
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.generation = 1;
        }
    }
}

/// A set of literals, each case-sensitive or ASCII case-insensitive, searched all at once.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiteralSet {
    /// All literal bytes, concatenated (case-insensitive ones lower-cased).
    bytes: Vec<u8>,
    /// Per literal: start in `bytes`, length, case-insensitive.
    spans: Vec<(u32, u32, bool)>,
    /// Tables in scan order: literals of >= 4 bytes (one table of 4-byte anchors, or 3-byte
    /// anchors for 4–7 bytes and 4-byte ones for the rest), then, unless `rare` covers the
    /// short literals, pairs (lengths 2–3) and single bytes.
    tables: Vec<AnchorTable>,
    /// The short literals (lengths 1–3), when few enough bytes find them all.
    rare: Option<RareBytes>,
}

impl LiteralSet {
    /// Builds the set; literal `i` gets id `i`. Empty literals never match (they have no
    /// anchor); the rule compiler never produces them.
    pub(crate) fn new<'a>(literals: impl IntoIterator<Item = (&'a [u8], bool)>) -> LiteralSet {
        let mut set = LiteralSet::default();
        for (lit, nocase) in literals {
            let start = set.bytes.len() as u32;
            if nocase {
                set.bytes.extend(lit.iter().map(u8::to_ascii_lowercase));
            } else {
                set.bytes.extend_from_slice(lit);
            }
            set.spans.push((start, lit.len() as u32, nocase));
        }
        let lens = || set.spans.iter().enumerate().map(|(i, s)| (i as u32, s.1));
        // Long literals (>= 4 bytes) get 4-byte anchors at stride `shortest - 3`. If the
        // shortest is only 4 or 5 bytes (`GET `, `jndi`, `nikto` in config/default.rules),
        // that stride would be 1 or 2 for everyone; then literals of 4–7 bytes get their own
        // table of 3-byte anchors at stride `shortest - 2` and those of >= 8 bytes keep a
        // stride >= 5: windows tested per byte 1/2 + 1/5 instead of 1 (1/3 + 1/5 vs 1/2).
        // 3-byte anchors would be too common for large sets of long literals, so only the
        // medium ones use them.
        let min_long = lens().map(|e| e.1).filter(|&l| l >= 4).min();
        let groups: [(usize, u32, u32); 2] = match min_long {
            Some(4 | 5) => [(3, 4, 7), (4, 8, u32::MAX)],
            _ => [(4, 4, u32::MAX), (4, 1, 0)],
        };
        let mut tables = Vec::new();
        for (width, lo, hi) in groups {
            let members = || lens().filter(move |&(_, l)| (lo..=hi).contains(&l));
            let Some(shortest) = members().map(|e| e.1 as usize).min() else {
                continue;
            };
            let stride = (shortest + 1 - width).min(MAX_STRIDE);
            // How many literals of the group have each window: a window many literals share
            // (`User-Agent: `, `GET /`) is verified for all of them wherever it occurs.
            let mut shared: std::collections::HashMap<u32, u32, foldhash::fast::FixedState> =
                Default::default();
            for (id, _) in members() {
                let lit = set.literal(id);
                let mut keys: Vec<u32> = (0..=lit.len() - width)
                    .map(|at| key(width, &lit[at..]))
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                for k in keys {
                    *shared.entry(k).or_default() += 1;
                }
            }
            let mut anchors = Vec::new();
            for (id, _) in members() {
                let lit = set.literal(id);
                let first = rarest_block(lit, width, stride, |w| {
                    f64::from(shared[&key(width, w)]) * window_frequency(w)
                });
                for off in first..first + stride {
                    anchors.push((key(width, &lit[off..]), id, off));
                }
            }
            tables.push(AnchorTable::build(width, stride, anchors));
        }
        let short: Vec<u32> = lens().filter(|&(_, l)| l < 4).map(|e| e.0).collect();
        set.rare = RareBytes::build(&set, &short);
        if set.rare.is_none() {
            for (width, lo, hi) in [(2usize, 2u32, 3u32), (1, 1, 1)] {
                let anchors: Vec<_> = lens()
                    .filter(|&(_, l)| (lo..=hi).contains(&l))
                    .map(|(id, _)| (key(width, set.literal(id)), id, 0))
                    .collect();
                if !anchors.is_empty() {
                    tables.push(AnchorTable::build(width, 1, anchors));
                }
            }
        }
        set.tables = tables;
        set
    }

    /// Number of literals.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    fn literal(&self, id: u32) -> &[u8] {
        let (start, len, _) = self.spans[id as usize];
        &self.bytes[start as usize..(start + len) as usize]
    }

    /// Whether literal `id` occurs in `hay` at `start`.
    #[inline]
    fn occurs_at(&self, id: u32, hay: &[u8], start: usize) -> bool {
        let (from, len, nocase) = self.spans[id as usize];
        let lit = &self.bytes[from as usize..(from + len) as usize];
        match hay.get(start..start + lit.len()) {
            Some(h) if nocase => h.eq_ignore_ascii_case(lit),
            Some(h) => h == lit,
            None => false,
        }
    }

    /// Puts into `scratch.found` the id of every literal occurring in `hay`, once each.
    pub(crate) fn find_all(&self, hay: &[u8], scratch: &mut LiteralScratch) {
        scratch.start();
        for t in &self.tables {
            t.scan(self, hay, scratch);
        }
        if let Some(r) = &self.rare {
            r.scan(self, hay, scratch);
        }
    }
}

/// Where in `lit` its `stride` consecutive anchors of `width` bytes start: the block whose
/// windows cost least in verification, the earliest on a tie. `cost` of a window is how
/// often a payload window hits it (its expected frequency in payloads times the literals
/// sharing it, each verified on a hit).
///
/// Any block works: an occurrence of `lit` at `p` covers the windows starting at
/// `p + first .. p + first + stride`, and one of them is sampled. Anchoring on a literal's
/// distinctive part rather than on its start (`|0d 0a|User-Agent|3a 20|…` anchored on what
/// follows the header name, `GET /` on the path) keeps common text from hitting the anchors.
fn rarest_block(lit: &[u8], width: usize, stride: usize, cost: impl Fn(&[u8]) -> f64) -> usize {
    let windows = lit.len() - width + 1;
    let last = (windows - stride).min(MAX_OFFSET + 1 - stride);
    let cost: Vec<f64> = (0..windows).map(|at| cost(&lit[at..at + width])).collect();
    let mut best = (f64::INFINITY, 0);
    for first in 0..=last {
        let c: f64 = cost[first..first + stride].iter().sum();
        if c < best.0 {
            best = (c, first);
        }
    }
    best.1
}

/// The expected frequency of `window` at a payload position, as the product of its bytes'
/// rough frequencies in typical payloads (HTTP text and binary TLS, case folded as the scan
/// folds it); only its order between windows matters.
fn window_frequency(window: &[u8]) -> f64 {
    window
        .iter()
        .map(|&b| match b.to_ascii_lowercase() {
            0x00 | b' ' => 0.05,
            b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 0.035,
            b'a'..=b'z' => 0.012,
            b'\r' | b'\n' | b'/' | b'.' => 0.02,
            b'0'..=b'9' => 0.01,
            b'-' | b'_' | b':' | b'=' | b',' | b';' | b'"' | b'&' | b'?' => 0.006,
            0xff => 0.01,
            0x01..=0x1f | 0x7f => 0.004,
            _ => 0.002,
        })
        .product()
}

/// Short literals found through one "rare" byte each, with `memchr`.
///
/// A dense byte-pair table costs a table test per payload byte. Real rule sets have a handful
/// of 1–3 byte fast patterns (`config/default.rules`: `%27`, `bin`, `|00 03 01|`), so instead
/// each one is anchored at its least common byte (by a rough frequency rank for text and
/// binary payloads; both cases for a case-insensitive letter), and SIMD `memchr3` passes find
/// those bytes. Used only while at most [`RareBytes::MAX_NEEDLES`] distinct bytes suffice.
#[derive(Debug, Clone)]
struct RareBytes {
    /// Distinct bytes to search for.
    needles: Vec<u8>,
    /// `(byte, literal id, offset of the byte in the literal)`, sorted by byte.
    entries: Vec<(u8, u32, u32)>,
}

impl RareBytes {
    /// Two `memchr3` passes.
    const MAX_NEEDLES: usize = 6;

    /// How common a byte is in typical payloads (text and binary), 0 = rare.
    fn commonness(b: u8) -> u32 {
        match b {
            0x00 | b' ' | 0xff => 250,
            b'a'..=b'z' => 200,
            b'0'..=b'9' | b'\r' | b'\n' => 180,
            b'.' | b'/' | b'-' | b'_' | b':' | b'=' | b',' | b';' | b'"' | b'\'' => 160,
            b'A'..=b'Z' => 140,
            0x20..=0x7e | b'\t' => 100,
            0x01..=0x1f | 0x7f => 40,
            0x80..=0xfe => 30,
        }
    }

    fn build(set: &LiteralSet, short: &[u32]) -> Option<RareBytes> {
        if short.is_empty() {
            return None;
        }
        let mut entries = Vec::new();
        for &id in short {
            let (_, _, nocase) = set.spans[id as usize];
            let variants = |b: u8| {
                if nocase && b.is_ascii_alphabetic() {
                    vec![b.to_ascii_lowercase(), b.to_ascii_uppercase()]
                } else {
                    vec![b]
                }
            };
            let lit = set.literal(id);
            let (off, bytes) = (0..lit.len())
                .map(|i| (i, variants(lit[i])))
                .min_by_key(|(_, v)| v.iter().map(|&b| Self::commonness(b)).sum::<u32>())?;
            entries.extend(bytes.into_iter().map(|b| (b, id, off as u32)));
        }
        entries.sort_unstable();
        let mut needles: Vec<u8> = entries.iter().map(|e| e.0).collect();
        needles.dedup();
        (needles.len() <= Self::MAX_NEEDLES).then_some(RareBytes { needles, entries })
    }

    fn scan(&self, lits: &LiteralSet, hay: &[u8], scratch: &mut LiteralScratch) {
        for n in self.needles.chunks(3) {
            // The narrowest memchr for this chunk: each extra needle costs a vector compare.
            match *n {
                [a] => self.verify_all(lits, hay, memchr::memchr_iter(a, hay), scratch),
                [a, b] => self.verify_all(lits, hay, memchr::memchr2_iter(a, b, hay), scratch),
                [a, b, c, ..] => {
                    self.verify_all(lits, hay, memchr::memchr3_iter(a, b, c, hay), scratch)
                }
                [] => {}
            }
        }
    }

    /// Verifies the literals anchored at the needle found at each position of `hits`.
    fn verify_all(
        &self,
        lits: &LiteralSet,
        hay: &[u8],
        hits: impl Iterator<Item = usize>,
        scratch: &mut LiteralScratch,
    ) {
        for i in hits {
            let byte = hay[i];
            let from = self.entries.partition_point(|e| e.0 < byte);
            for &(eb, id, off) in &self.entries[from..] {
                if eb != byte {
                    break;
                }
                if scratch.marks[id as usize] == scratch.generation {
                    continue;
                }
                let Some(start) = i.checked_sub(off as usize) else {
                    continue;
                };
                if lits.occurs_at(id, hay, start) {
                    scratch.marks[id as usize] = scratch.generation;
                    scratch.found.push(id);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, MatchKind};
    use proptest::prelude::*;

    /// The reference: ASCII case-insensitive overlapping Aho-Corasick, then an exact check
    /// of the case-sensitive literals at each match position.
    fn reference(lits: &[(Vec<u8>, bool)], hay: &[u8]) -> Vec<u32> {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(lits.iter().map(|l| &l.0))
            .expect("automaton");
        let mut found: Vec<u32> = ac
            .find_overlapping_iter(hay)
            .filter(|m| {
                let (lit, nocase) = &lits[m.pattern().as_usize()];
                *nocase || &hay[m.range()] == lit.as_slice()
            })
            .map(|m| m.pattern().as_u32())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    fn ours(set: &LiteralSet, scratch: &mut LiteralScratch, hay: &[u8]) -> Vec<u32> {
        set.find_all(hay, scratch);
        let mut v = scratch.found.clone();
        let n = v.len();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), n, "a literal reported twice");
        v
    }

    #[test]
    fn fold_keeps_case_insensitive_equality() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                if a.eq_ignore_ascii_case(&b) {
                    assert_eq!(key(1, &[a]), key(1, &[b]), "{a:#x} {b:#x}");
                }
            }
        }
        assert_eq!(key(4, b"HoSt"), key(4, b"hOsT"));
        assert_eq!(key(2, b"ab\xff"), key(2, b"AB\x00"));
    }

    #[test]
    fn finds_all_widths_and_cases() {
        let lits: Vec<(Vec<u8>, bool)> = vec![
            (b"Host: www".to_vec(), false),
            (b"host: WWW".to_vec(), true),
            (b"abcd".to_vec(), false),
            (b"xy".to_vec(), true),
            (b"Q".to_vec(), false),
            (b"\x00\xff\x10".to_vec(), false),
            (b"ab".to_vec(), false),
        ];
        let set = LiteralSet::new(lits.iter().map(|(l, n)| (l.as_slice(), *n)));
        let mut s = LiteralScratch::new(&set);
        let hay = b"GET / HTTP/1.1\r\nHOST: www.x\r\nXY \x00\xff\x10 abcd";
        assert_eq!(ours(&set, &mut s, hay), vec![1, 2, 3, 5, 6]);
        assert_eq!(ours(&set, &mut s, b"Host: www Q"), vec![0, 1, 4]);
        assert_eq!(ours(&set, &mut s, b""), Vec::<u32>::new());
        assert_eq!(ours(&set, &mut s, b"q"), Vec::<u32>::new());
        // At the very end of the payload.
        assert_eq!(ours(&set, &mut s, b"..abcd"), vec![2, 6]);
        assert_eq!(ours(&set, &mut s, b"abc"), vec![6]);
    }

    #[test]
    fn medium_literals_get_three_byte_anchors() {
        let lits = [
            (&b"GET "[..], false),
            (b"nikto", true),
            (b"0123456789", false),
            (b"abcdefghij", true),
        ];
        let set = LiteralSet::new(lits.iter().copied());
        let shape: Vec<_> = set.tables.iter().map(|t| (t.width, t.stride)).collect();
        assert_eq!(shape, vec![(3, 2), (4, 7)]);
        let mut s = LiteralScratch::new(&set);
        let hay = b"xGET /NiKtO?q=0123456789&ABCDEFGHIJ";
        assert_eq!(ours(&set, &mut s, hay), vec![0, 1, 2, 3]);
        let set = LiteralSet::new(lits[1..].iter().copied());
        assert_eq!(set.tables[0].stride, 3);
        let set = LiteralSet::new(lits[2..].iter().copied());
        let shape: Vec<_> = set.tables.iter().map(|t| (t.width, t.stride)).collect();
        assert_eq!(shape, vec![(4, 7)]);
    }

    #[test]
    fn short_literals_use_rare_bytes_or_tables() {
        let few = [
            (&b"%27"[..], false),
            (b"bin", true),
            (b"\x00\x03\x01", false),
        ];
        let set = LiteralSet::new(few.iter().copied());
        let rare = set.rare.as_ref().expect("three short literals use memchr");
        assert_eq!(rare.needles, vec![0x03, b'%', b'B', b'b']);
        assert!(set.tables.is_empty());
        let mut s = LiteralScratch::new(&set);
        assert_eq!(
            ours(&set, &mut s, b"/BiN/sh?q=%27\x00\x03\x01"),
            vec![0, 1, 2]
        );
        assert_eq!(ours(&set, &mut s, b"%2 bi \x00\x03"), Vec::<u32>::new());
        let many: Vec<[u8; 2]> = (0..8u8).map(|i| [b'0' + i, b'x']).collect();
        let set = LiteralSet::new(many.iter().map(|l| (&l[..], false)));
        assert!(set.rare.is_none());
        assert_eq!(set.tables.len(), 1);
        let mut s = LiteralScratch::new(&set);
        assert_eq!(ours(&set, &mut s, b"7x 0x"), vec![0, 7]);
    }

    #[test]
    fn anchors_skip_what_many_literals_share() {
        // 14 shared bytes, then 12 of each literal's own: 23 windows, stride 8.
        let lits: Vec<Vec<u8>> = (0..50)
            .map(|i| format!("\r\nUser-Agent: Zq{i:03}|Kx#Vw%").into_bytes())
            .collect();
        let set = LiteralSet::new(lits.iter().map(|l| (l.as_slice(), false)));
        let table = &set.tables[0];
        assert_eq!(table.stride, 8);
        // No anchor lies wholly in the prefix all 50 share (windows starting at 0..=10),
        // which every HTTP request carries; the first block (0..8) would.
        for &(_, packed) in table.entries.iter() {
            let off = (packed & MAX_OFFSET as u32) as usize;
            assert!(off > 10, "anchor at {off}");
        }
        let mut s = LiteralScratch::new(&set);
        let hay = b"GET / HTTP/1.1\r\nUser-Agent: Zq007|Kx#Vw%\r\nUser-Agent: Zq049|Kx#Vw%\r\n";
        assert_eq!(ours(&set, &mut s, hay), vec![7, 49]);
    }

    fn literal() -> impl Strategy<Value = (Vec<u8>, bool)> {
        // Small alphabets (mixed case, a few binary bytes) so literals overlap and occur.
        let byte = prop_oneof![
            4 => prop::sample::select(b"abAB".to_vec()),
            1 => prop::sample::select(vec![0u8, 0x80, 0xff, b'@', b'[']),
        ];
        (prop::collection::vec(byte, 1..=20), any::<bool>())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Same literals as the overlapping automaton, on random payloads and on payloads
        /// built from the literals themselves (flipped case, with noise between).
        #[test]
        fn agrees_with_aho_corasick(
            lits in prop::collection::vec(literal(), 1..40),
            noise in prop::collection::vec(any::<u8>(), 0..300),
            picks in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>(), 0usize..4), 0..12),
        ) {
            let set = LiteralSet::new(lits.iter().map(|(l, n)| (l.as_slice(), *n)));
            let mut s = LiteralScratch::new(&set);
            prop_assert_eq!(ours(&set, &mut s, &noise), reference(&lits, &noise));
            let mut hay = Vec::new();
            for (i, (pick, flip, gap)) in picks.iter().enumerate() {
                let (lit, _) = &lits[pick.index(lits.len())];
                hay.extend(lit.iter().map(|&b| if *flip { b.to_ascii_uppercase() } else { b }));
                hay.extend(noise.iter().skip(i * 3).take(*gap));
            }
            prop_assert_eq!(ours(&set, &mut s, &hay), reference(&lits, &hay));
        }

        /// Few short literals (found with memchr) among long ones.
        #[test]
        fn rare_byte_scan_agrees(
            short in prop::collection::vec(
                (prop::collection::vec(prop::sample::select(b"%aB\x00\x03".to_vec()), 1..=3), any::<bool>()),
                1..3,
            ),
            long in prop::collection::vec(literal(), 0..10),
            noise in prop::collection::vec(prop::sample::select(b"%aAbB\x00\x03".to_vec()), 0..200),
        ) {
            let lits: Vec<_> = short.into_iter().chain(long.into_iter().filter(|l| l.0.len() >= 4)).collect();
            let set = LiteralSet::new(lits.iter().map(|(l, n)| (l.as_slice(), *n)));
            let mut s = LiteralScratch::new(&set);
            prop_assert_eq!(ours(&set, &mut s, &noise), reference(&lits, &noise));
        }

        /// Long literals only: the sampled scan (stride up to 8) must not skip occurrences
        /// at any alignment.
        #[test]
        fn sampled_scan_agrees(
            lits in prop::collection::vec(
                (prop::collection::vec(prop::sample::select(b"aAbB\x00".to_vec()), 11..=20), any::<bool>()),
                1..30,
            ),
            prefix in 0usize..16,
            pick in any::<prop::sample::Index>(),
            noise in prop::collection::vec(prop::sample::select(b"aAbBc\x00".to_vec()), 0..200),
        ) {
            let set = LiteralSet::new(lits.iter().map(|(l, n)| (l.as_slice(), *n)));
            prop_assert_eq!(set.tables[0].stride, MAX_STRIDE);
            let mut s = LiteralScratch::new(&set);
            let mut hay = noise[..prefix.min(noise.len())].to_vec();
            hay.extend_from_slice(&lits[pick.index(lits.len())].0);
            hay.extend_from_slice(&noise);
            let got = ours(&set, &mut s, &hay);
            prop_assert!(got.contains(&(pick.index(lits.len()) as u32)));
            prop_assert_eq!(got, reference(&lits, &hay));
        }
    }
}
