//! The flow table: see the `flow` module docs for its semantics.

use std::collections::VecDeque;
use std::net::IpAddr;

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::{HashMap, HashTable};

use crate::app::{AppInspector, AppProto, AppRecord};
use crate::decode::{IpPacket, IpProtocol, PacketMeta, TcpFlags};
use crate::features::FeatureVector;
use crate::flow::key::{forward_endpoint, Direction, Endpoint, FlowKey};
use crate::flow::stats::FlowStats;
use crate::time::Timestamp;

/// Settings for a [`FlowTable`]; validate with [`FlowTableConfig::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowTableConfig {
    /// A flow with no packet for more than this many µs ends as `idle` (default 120 s).
    pub idle_timeout_us: i64,
    /// A flow older than this many µs ends as `active` (default 1800 s).
    pub active_timeout_us: i64,
    /// How long an ended TCP flow (RST, FIN teardown) keeps absorbing late teardown packets,
    /// in µs of packet time after its last packet (default 2 s).
    pub teardown_linger_us: i64,
    /// Most flows held at once; more evict the longest-idle flow (default 2^20).
    pub max_flows: usize,
    /// Most remembered first fragments (default 16384; 0 makes every non-first fragment an
    /// orphan).
    pub max_fragments: usize,
    /// How long a first fragment is remembered, in µs (default 30 s, as Linux `ipfrag_time`).
    pub fragment_timeout_us: i64,
    /// Recognise application protocols and gather their facts (SNI, HTTP host, …) from the
    /// payloads given to [`FlowTable::process_ip`] (default on).
    pub app_layer: bool,
    /// Byte budget of the table: flow entries, their index and application-layer state
    /// (default 128 MiB, about 400,000 flows; with the detectors' tables a sensor stays within
    /// 256 MiB). When a new flow would exceed it, the table enters emergency mode.
    pub memcap_bytes: usize,
    /// Idle timeout in emergency mode, in µs (default 10 s): flows idle longer end (as `idle`,
    /// counted in [`FlowTableStats::emergency_expired`]) before any is evicted.
    pub emergency_idle_timeout_us: i64,
    /// Emergency mode ends when the table's bytes fall below this percentage of the memcap
    /// (default 70, as Suricata's `emergency-recovery: 30`).
    pub emergency_recovery_percent: u8,
}

impl Default for FlowTableConfig {
    fn default() -> Self {
        FlowTableConfig {
            idle_timeout_us: 120_000_000,
            active_timeout_us: 1_800_000_000,
            teardown_linger_us: 2_000_000,
            max_flows: 1 << 20,
            max_fragments: 1 << 14,
            fragment_timeout_us: 30_000_000,
            app_layer: true,
            memcap_bytes: 128 << 20,
            emergency_idle_timeout_us: 10_000_000,
            emergency_recovery_percent: 70,
        }
    }
}

/// Bytes one flow costs the table besides its application-layer facts: its entry, its list
/// links, its application-layer inspector and its index slot (a `u32` plus a control byte,
/// at the index's load factor).
pub const FLOW_ENTRY_BYTES: usize = std::mem::size_of::<Entry>()
    + std::mem::size_of::<[u32; 2]>()
    + std::mem::size_of::<AppInspector>()
    + 8;

/// Largest accepted [`FlowTableConfig::max_flows`] (slab indices are `u32`).
pub const MAX_FLOWS_LIMIT: usize = (u32::MAX - 1) as usize;

/// Why a [`FlowTableConfig`] was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowConfigError {
    /// A timeout that must be positive was zero or negative.
    #[error("{field} must be > 0, got {value}")]
    NonPositive {
        /// Config field name.
        field: &'static str,
        /// The rejected value.
        value: i64,
    },
    /// A duration that must not be negative was.
    #[error("{field} must be >= 0, got {value}")]
    Negative {
        /// Config field name.
        field: &'static str,
        /// The rejected value.
        value: i64,
    },
    /// `max_flows` was 0 or above [`MAX_FLOWS_LIMIT`].
    #[error("max_flows must be in 1..={MAX_FLOWS_LIMIT}, got {0}")]
    MaxFlows(usize),
    /// `memcap_bytes` cannot hold even a thousand flows.
    #[error("memcap_bytes must be at least {min} (a thousand flows), got {value}")]
    Memcap {
        /// The smallest accepted value.
        min: usize,
        /// The rejected value.
        value: usize,
    },
    /// `emergency_recovery_percent` outside 1..=99.
    #[error("emergency_recovery_percent must be in 1..=99, got {0}")]
    Recovery(u8),
}

/// A [`FlowTableConfig`] that passed [`FlowTableConfig::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedFlowTableConfig(FlowTableConfig);

impl CheckedFlowTableConfig {
    /// The validated settings.
    pub fn get(&self) -> &FlowTableConfig {
        &self.0
    }
}

impl FlowTableConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`FlowConfigError`] naming the first invalid field.
    pub fn check(self) -> Result<CheckedFlowTableConfig, FlowConfigError> {
        for (field, value) in [
            ("idle_timeout_us", self.idle_timeout_us),
            ("active_timeout_us", self.active_timeout_us),
            ("emergency_idle_timeout_us", self.emergency_idle_timeout_us),
        ] {
            if value <= 0 {
                return Err(FlowConfigError::NonPositive { field, value });
            }
        }
        for (field, value) in [
            ("teardown_linger_us", self.teardown_linger_us),
            ("fragment_timeout_us", self.fragment_timeout_us),
        ] {
            if value < 0 {
                return Err(FlowConfigError::Negative { field, value });
            }
        }
        if self.max_flows == 0 || self.max_flows > MAX_FLOWS_LIMIT {
            return Err(FlowConfigError::MaxFlows(self.max_flows));
        }
        let min = 1000 * FLOW_ENTRY_BYTES;
        if self.memcap_bytes < min {
            return Err(FlowConfigError::Memcap {
                min,
                value: self.memcap_bytes,
            });
        }
        if !(1..=99).contains(&self.emergency_recovery_percent) {
            return Err(FlowConfigError::Recovery(self.emergency_recovery_percent));
        }
        Ok(CheckedFlowTableConfig(self))
    }
}

/// Why a flow was exported (the `end_reason` output column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndReason {
    /// A TCP RST was seen.
    Rst,
    /// TCP FIN in both directions, then the final ACK.
    Fin,
    /// No packet for longer than the idle timeout.
    Idle,
    /// Older than the active timeout.
    Active,
    /// Exported early because the table was full.
    Evicted,
    /// Still open at the end of input.
    End,
}

impl EndReason {
    /// All reasons, in [`EndReason::index`] order.
    pub const ALL: [EndReason; 6] = [
        EndReason::Rst,
        EndReason::Fin,
        EndReason::Idle,
        EndReason::Active,
        EndReason::Evicted,
        EndReason::End,
    ];

    /// `"rst"`, `"fin"`, `"idle"`, `"active"`, `"evicted"` or `"end"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Rst => "rst",
            EndReason::Fin => "fin",
            EndReason::Idle => "idle",
            EndReason::Active => "active",
            EndReason::Evicted => "evicted",
            EndReason::End => "end",
        }
    }

    /// Position in [`EndReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What detectors learn about the flow of the packet just processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowContext {
    /// The flow's id (sequential from 1 in creation order).
    pub flow_id: u64,
    /// This packet's direction.
    pub direction: Direction,
    /// Packets in the flow so far, this one included.
    pub packets: u64,
    /// A TCP handshake was seen: SYN+ACK from the server, then an ACK from the client.
    pub established: bool,
    /// This packet started the flow.
    pub new_flow: bool,
    /// This packet is the flow's first in its direction (the opening packet, or the first
    /// answer).
    pub first_in_direction: bool,
    /// A TCP segment whose payload was all seen before in its direction (a
    /// retransmission): it carries no new application data.
    pub retransmission: bool,
    /// The flow has ended (RST or FIN teardown) and is lingering for late teardown packets.
    pub closed: bool,
    /// Microseconds since the flow's previous packet in this direction (0 for the first).
    pub gap_us: i64,
    /// This packet's sender reset the flow (sent a TCP RST) before this packet.
    pub sender_reset: bool,
    /// A TCP RST whose sequence number lies more than 16 MiB from where its direction's
    /// data reached: not the sender's own reset but a guess (blind injection). Such a reset
    /// does not move the direction's sequence bookkeeping.
    pub rst_out_of_window: bool,
    /// A TCP pure ACK (no payload, no SYN/FIN/RST/PSH) out of step with what this table saw:
    /// its sequence number behind where its direction's data reached, or its
    /// acknowledgement beyond the other direction's. Endpoints desynchronised by injected
    /// data send these (the ACK storm of a hijacked session), as do keepalives and hosts
    /// whose segments the capture missed, which seldom repeat one exactly.
    pub ack_out_of_sync: bool,
    /// The application protocol recognised so far (this packet included).
    pub app_proto: AppProto,
    /// A TCP flow taken up midstream: its first packet was not a SYN (without ACK). Such a
    /// flow has its statistics and application layer like any other; whether rules treat
    /// it as established is theirs to say (Suricata's `stream.midstream`).
    pub midstream: bool,
    /// Microseconds from the flow's first packet to its latest (this one included).
    pub age_us: u64,
    /// Transport payload bytes sent so far by the forward side (index 0) and the backward
    /// side (index 1), this packet included.
    pub sent_bytes: [u64; 2],
    /// Packets sent so far by the forward side (index 0) and the backward side (index 1),
    /// this packet included (Suricata's `flow.pkts_toserver` / `pkts_toclient`).
    pub side_packets: [u64; 2],
    /// Captured frame bytes sent so far by each side, this packet included (Suricata's
    /// `flow.bytes_toserver` / `bytes_toclient`; see [`L2Info::frame_len`]).
    ///
    /// [`L2Info::frame_len`]: crate::decode::L2Info::frame_len
    pub frame_bytes: [u64; 2],
}

/// A finished flow: identity columns plus the statistics behind the 25 features.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowRecord {
    /// Sequential flow id.
    pub id: u64,
    /// Time of the first packet.
    pub first_ts: Timestamp,
    /// Time of the last packet (the latest timestamp seen in the flow).
    pub last_ts: Timestamp,
    /// Forward-side (client) address.
    pub src_addr: IpAddr,
    /// Forward-side port (ICMP: identifier or type).
    pub src_port: u16,
    /// Backward-side (server) address.
    pub dst_addr: IpAddr,
    /// Backward-side port (ICMP: identifier or code).
    pub dst_port: u16,
    /// IP protocol.
    pub protocol: IpProtocol,
    /// Why the flow was exported.
    pub end_reason: EndReason,
    /// Running statistics.
    pub stats: FlowStats,
    /// The application protocol recognised from the payload (`Unknown` when application
    /// inspection is off or nothing matched).
    pub app_proto: AppProto,
    /// Application facts (SNI, HTTP host, SSH banners …), when the flow yielded any.
    pub app: Option<Box<AppRecord>>,
}

impl FlowRecord {
    /// The 25 features (all finite).
    pub fn features(&self) -> FeatureVector {
        self.stats.features()
    }

    /// Packets in both directions.
    pub fn packets(&self) -> u64 {
        self.stats.packets()
    }
}

/// One JSON object per flow, the shape of the JSON Lines flow output (`FEATURES.md`): the
/// identity (`flow_id`, `first_ts`, `last_ts`, `src_ip`, `src_port`, `dst_ip`, `dst_port`,
/// `protocol` as its number, `end_reason`), the 25 features by name, `app_proto`, then the
/// application facts present.
impl serde::Serialize for FlowRecord {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("flow_id", &self.id)?;
        m.serialize_entry("first_ts", &self.first_ts)?;
        m.serialize_entry("last_ts", &self.last_ts)?;
        m.serialize_entry("src_ip", &self.src_addr)?;
        m.serialize_entry("src_port", &self.src_port)?;
        m.serialize_entry("dst_ip", &self.dst_addr)?;
        m.serialize_entry("dst_port", &self.dst_port)?;
        m.serialize_entry("protocol", &self.protocol.0)?;
        m.serialize_entry("end_reason", self.end_reason.as_str())?;
        let features = self.features();
        for f in crate::features::Feature::ALL {
            // As the flow writers: integral values as integers, non-finite ones as 0.
            let v = features.get(f);
            let int = v as i64;
            if !v.is_finite() {
                m.serialize_entry(f.name(), &0)?;
            } else if int as f64 == v && v.abs() < 9_007_199_254_740_992.0 {
                m.serialize_entry(f.name(), &int)?;
            } else {
                m.serialize_entry(f.name(), &v)?;
            }
        }
        m.serialize_entry("app_proto", self.app_proto.as_str())?;
        for (field, value) in self.app.iter().flat_map(|app| app.iter()) {
            m.serialize_entry(field.name(), value)?;
        }
        m.end()
    }
}

/// Counters kept by a [`FlowTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct FlowTableStats {
    /// Packets given to [`FlowTable::process`].
    pub packets: u64,
    /// Flows started.
    pub flows_created: u64,
    /// Flows exported (equals `flows_created` after a flush).
    pub flows_exported: u64,
    /// Exported flows by reason, indexed by [`EndReason::index`].
    pub exported_by_reason: [u64; 6],
    /// Open flows exported early because the table was full.
    pub evicted: u64,
    /// Non-first fragments that joined a flow.
    pub fragments_joined: u64,
    /// Non-first fragments with no known flow (not attributed to any flow).
    pub orphan_fragments: u64,
    /// Remembered first fragments dropped because the fragment map was full.
    pub fragment_entries_dropped: u64,
    /// Most flows held at once.
    pub peak_flows: usize,
    /// Bytes the table holds now (entries, index, application-layer state).
    pub memory_bytes: usize,
    /// Highest `memory_bytes` seen.
    pub peak_memory_bytes: usize,
    /// Times the table entered emergency mode (a new flow would have exceeded the memcap).
    pub emergency_entered: u64,
    /// Flows ended early by the emergency idle timeout.
    pub emergency_expired: u64,
    /// Whether the table is in emergency mode now.
    pub emergency: bool,
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, Default)]
struct TcpState {
    fin_fwd: bool,
    fin_bwd: bool,
    /// Per direction (forward, backward): it sent a RST.
    reset_by: [bool; 2],
    syn_ack: bool,
    established: bool,
    /// The client's SYN was seen, with this sequence number.
    syn_seen: bool,
    client_isn: u32,
    /// The server's sequence number in its SYN+ACK.
    server_isn: u32,
    /// Per direction (forward, backward): the sequence number after the highest byte seen,
    /// once a segment was seen.
    next_seq: [Option<u32>; 2],
    /// The flow's first packet was not a SYN without ACK.
    midstream: bool,
}

/// How far from where its direction's data reached a RST may land and still be taken for
/// the sender's own (16 MiB: beyond any receive window in practice).
const RST_SEQ_SLACK: u32 = 1 << 24;

impl TcpState {
    /// Whether a RST with sequence number `seq` from `dir` lies far outside the sequence
    /// space that direction has used (asked of resets only, so it costs nothing per packet).
    fn rst_far(&self, dir: Direction, seq: u32) -> bool {
        self.next_seq[usize::from(!dir.is_forward())]
            .is_some_and(|next| (seq.wrapping_sub(next) as i32).unsigned_abs() > RST_SEQ_SLACK)
    }

    /// Whether a segment with `len` payload bytes from `seq` only repeats bytes already
    /// seen in its direction (a retransmission); records how far the direction got.
    fn retransmits(&mut self, dir: Direction, flags: TcpFlags, seq: u32, len: u32) -> bool {
        let slot = &mut self.next_seq[usize::from(!dir.is_forward())];
        let end = seq
            .wrapping_add(len)
            .wrapping_add(u32::from(flags.syn()) + u32::from(flags.fin()));
        let repeat = len > 0
            && slot.is_some_and(|next| (end.wrapping_sub(next) as i32) <= 0 && !flags.syn());
        match slot {
            Some(next) if (end.wrapping_sub(*next) as i32) <= 0 => {}
            _ => *slot = Some(end),
        }
        repeat
    }

    /// Whether a pure ACK with `seq` and `ack` from `dir` is out of step: `seq` behind where
    /// its direction's data reached, or `ack` beyond the other direction's.
    fn ack_out_of_sync(&self, dir: Direction, seq: u32, ack: u32) -> bool {
        let own = usize::from(!dir.is_forward());
        let behind = self.next_seq[own].is_some_and(|next| (seq.wrapping_sub(next) as i32) < 0);
        let ahead = self.next_seq[1 - own].is_some_and(|peer| (ack.wrapping_sub(peer) as i32) > 0);
        behind || ahead
    }

    /// Follows the handshake as Suricata's stream engine does: a SYN+ACK counts only if it
    /// acknowledges the client's SYN (when one was seen), and the client's ACK only if it
    /// acknowledges the SYN+ACK, so a forged or fuzzed handshake never makes the flow
    /// established.
    /// Teardown: a RST (unless `rst_far`) or FINs both ways close the flow.
    fn update(
        &mut self,
        dir: Direction,
        flags: TcpFlags,
        seq: u32,
        ack: u32,
        closed: &mut Option<EndReason>,
        rst_far: bool,
    ) {
        // A far reset is a guess by someone else, not the sender's own.
        if flags.rst() && !rst_far {
            self.reset_by[usize::from(!dir.is_forward())] = true;
        }
        if closed.is_none() {
            if flags.rst() {
                *closed = Some(EndReason::Rst);
            } else if flags.fin() {
                match dir {
                    Direction::Forward => self.fin_fwd = true,
                    Direction::Backward => self.fin_bwd = true,
                }
            } else if self.fin_fwd && self.fin_bwd && flags.ack() {
                *closed = Some(EndReason::Fin);
            }
        }
        if flags.syn() && !flags.ack() && dir == Direction::Forward {
            self.syn_seen = true;
            self.client_isn = seq;
        } else if flags.syn() && flags.ack() && dir == Direction::Backward {
            if !self.syn_seen || ack == self.client_isn.wrapping_add(1) {
                self.syn_ack = true;
                self.server_isn = seq;
            }
        } else if self.syn_ack
            && !flags.syn()
            && flags.ack()
            && dir == Direction::Forward
            && ack == self.server_isn.wrapping_add(1)
        {
            self.established = true;
        }
    }
}

/// One slab slot: a flow plus its links in the open or closed list.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: FlowKey,
    /// `hasher.hash_one(key)`, kept so the index can grow without rehashing keys.
    hash: u64,
    id: u64,
    forward: Endpoint,
    first_ts: Timestamp,
    last_ts: Timestamp,
    stats: FlowStats,
    tcp: TcpState,
    closed: Option<EndReason>,
    app_proto: AppProto,
    /// The flow's [`AppInspector`] still wants payload packets.
    app_active: bool,
    /// Captured frame bytes per side (forward, backward).
    frame_bytes: [u64; 2],
}

#[derive(Debug, Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

const EMPTY: List = List {
    head: NIL,
    tail: NIL,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: IpProtocol,
    id: u32,
}

impl FragKey {
    fn new(meta: &PacketMeta, id: u32) -> Self {
        FragKey {
            src: meta.src_addr,
            dst: meta.dst_addr,
            protocol: meta.protocol,
            id,
        }
    }
}

/// First fragments seen recently: FIFO-bounded and time-bounded. `map` and `order` hold the
/// same keys, one entry each, so both stay within `cap`.
#[derive(Debug)]
struct FragMap {
    map: HashMap<FragKey, (FlowKey, Endpoint), RandomState>,
    order: VecDeque<(FragKey, Timestamp)>,
    cap: usize,
    timeout_us: i64,
}

impl FragMap {
    fn expire(&mut self, now: Timestamp) {
        while let Some(&(k, t)) = self.order.front() {
            if now.micros_since(t) <= self.timeout_us {
                break;
            }
            self.order.pop_front();
            self.map.remove(&k);
        }
    }

    /// Remembers a first fragment; returns whether an older entry was dropped for room.
    fn insert(&mut self, k: FragKey, v: (FlowKey, Endpoint), now: Timestamp) -> bool {
        if self.cap == 0 {
            return true;
        }
        if let Some(slot) = self.map.get_mut(&k) {
            *slot = v;
            return false;
        }
        let mut dropped = false;
        if self.map.len() >= self.cap {
            if let Some((old, _)) = self.order.pop_front() {
                self.map.remove(&old);
                dropped = true;
            }
        }
        self.map.insert(k, v);
        self.order.push_back((k, now));
        dropped
    }
}

/// Bidirectional flow table (see the module docs for semantics and guarantees).
#[derive(Debug)]
pub struct FlowTable {
    config: FlowTableConfig,
    /// Slab indices of live flows, hashed by their key. Keys live only in the slab, so a lookup
    /// touches the index's 4-byte slot and then the entry it needs anyway (one cache miss fewer
    /// than a map holding keys).
    index: HashTable<u32>,
    hasher: RandomState,
    slots: Vec<Entry>,
    /// `[prev, next]` list links per slot, kept apart from the entries: moving a flow to the
    /// back of its list on every packet then touches 8-byte neighbours in one dense array
    /// instead of two ~300-byte entries elsewhere in memory.
    links: Vec<[u32; 2]>,
    /// Application state per slot, apart from the entries (see the module docs).
    app: Vec<AppInspector>,
    free: Vec<u32>,
    /// Open flows, least recently seen first.
    open: List,
    /// Ended flows lingering for late teardown packets, least recently seen first.
    closed: List,
    frags: FragMap,
    /// Highest packet (or tick) time seen: timeouts never run backwards.
    now: Timestamp,
    /// A lower bound on the earliest deadline among the two list heads (µs), so that `expire`
    /// is one comparison per packet until something is due. Lowered whenever a list gets a
    /// new head; made exact again after every expiry pass.
    next_expiry: i64,
    next_id: u64,
    stats: FlowTableStats,
    /// Flows still to export, by id descending (popped from the back), while a chunked
    /// [`FlowTable::flush_some`] is under way; cleared when a packet arrives.
    flushing: Vec<(u64, u32)>,
}

impl FlowTable {
    /// Builds an empty table.
    ///
    /// # Errors
    /// [`FlowConfigError`] when `config` does not pass [`FlowTableConfig::check`].
    pub fn new(config: FlowTableConfig) -> Result<FlowTable, FlowConfigError> {
        Ok(Self::from_checked(config.check()?))
    }

    /// Builds an empty table from validated settings.
    pub fn from_checked(config: CheckedFlowTableConfig) -> FlowTable {
        let config = config.0;
        // Reserving address space is cheap (pages are touched only when used) and spares the
        // hot path the first rounds of rehashing and slab copying.
        let initial = config.max_flows.min(1 << 16);
        FlowTable {
            config,
            index: HashTable::with_capacity(initial),
            hasher: RandomState::default(),
            slots: Vec::with_capacity(initial),
            links: Vec::with_capacity(initial),
            app: Vec::new(),
            free: Vec::new(),
            open: EMPTY,
            closed: EMPTY,
            frags: FragMap {
                map: HashMap::with_hasher(RandomState::default()),
                order: VecDeque::new(),
                cap: config.max_fragments,
                timeout_us: config.fragment_timeout_us,
            },
            now: Timestamp::from_micros(i64::MIN),
            next_expiry: i64::MIN,
            next_id: 1,
            stats: FlowTableStats::default(),
            flushing: Vec::new(),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &FlowTableConfig {
        &self.config
    }

    /// Flows currently held (open or lingering).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no flow is held.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Counters so far.
    pub fn stats(&self) -> FlowTableStats {
        self.stats
    }

    /// Adds one IP packet.
    ///
    /// Pushes into `exported` every flow this packet's time expired, then the flow it ended
    /// (active timeout, port reuse after teardown) or evicted, in a deterministic order.
    /// Returns the packet's flow context, or `None` when the packet is not attributed to any
    /// flow (an orphan non-first fragment).
    ///
    /// The payload is not seen, so nothing is learnt about the application layer; use
    /// [`process_ip`](Self::process_ip) for that.
    pub fn process(
        &mut self,
        meta: &PacketMeta,
        exported: &mut Vec<FlowRecord>,
    ) -> Option<FlowContext> {
        self.process_payload(meta, &[], meta.ip_len, exported)
    }

    /// Adds one decoded IP packet with its payload: as [`process`](Self::process), and, with
    /// [`FlowTableConfig::app_layer`] on, the payload is inspected for the application layer.
    #[inline(always)]
    pub fn process_ip(
        &mut self,
        ip: &IpPacket<'_>,
        exported: &mut Vec<FlowRecord>,
    ) -> Option<FlowContext> {
        self.process_payload(&ip.meta, ip.payload, ip.l2.frame_len, exported)
    }

    // Inlined into both entry points: with a second caller in the binary (the host inventory
    // calls `process`), LLVM stopped inlining it into the pipeline's loop, +16M instructions
    // (+4.7 %) on the 200k-packet capture.
    #[inline(always)]
    fn process_payload(
        &mut self,
        meta: &PacketMeta,
        payload: &[u8],
        frame_len: u32,
        exported: &mut Vec<FlowRecord>,
    ) -> Option<FlowContext> {
        self.stats.packets += 1;
        if !self.flushing.is_empty() {
            self.flushing.clear();
        }
        if meta.ts > self.now {
            self.now = meta.ts;
        }
        self.expire(exported);

        if let Some(frag) = meta.fragment.filter(|f| !f.is_first()) {
            self.frags.expire(self.now);
            let target = self
                .frags
                .map
                .get(&FragKey::new(meta, frag.id))
                .and_then(|&(key, sender)| self.lookup(&key).map(|idx| (idx, sender)));
            return match target {
                Some((idx, sender)) => {
                    self.stats.fragments_joined += 1;
                    // The decoder cannot see TCP flags or window in later fragments.
                    Some(self.join(
                        idx,
                        meta,
                        (&[], frame_len),
                        sender,
                        TcpFlags::default(),
                        0,
                        false,
                    ))
                }
                None => {
                    self.stats.orphan_fragments += 1;
                    None
                }
            };
        }

        let (key, sender) = FlowKey::from_meta(meta);
        let (idx, new_flow) = match self.lookup(&key) {
            Some(idx) => match self.must_end_before(idx, meta) {
                Some(reason) => {
                    self.export(idx, reason, exported);
                    (self.create(key, sender, meta, exported), true)
                }
                None => (idx, false),
            },
            None => (self.create(key, sender, meta, exported), true),
        };
        let flags = meta.tcp_flags;
        let ctx = self.join(
            idx,
            meta,
            (payload, frame_len),
            sender,
            flags,
            meta.tcp_window,
            new_flow,
        );
        if let Some(frag) = meta.fragment {
            self.frags.expire(self.now);
            if self
                .frags
                .insert(FragKey::new(meta, frag.id), (key, sender), self.now)
            {
                self.stats.fragment_entries_dropped += 1;
            }
        }
        Some(ctx)
    }

    /// Live-mode clock tick: exports flows whose idle, active or linger time passed by `now`
    /// (time never moves backwards: an earlier `now` does nothing).
    pub fn advance_time(&mut self, now: Timestamp, exported: &mut Vec<FlowRecord>) {
        // A chunked flush under way ends: expiry may export flows it still lists.
        self.flushing.clear();
        if now > self.now {
            self.now = now;
        }
        self.expire(exported);
        self.frags.expire(self.now);
    }

    /// End of input: exports every remaining flow in flow-id order. Open flows end as
    /// [`EndReason::End`]; lingering flows keep their `rst`/`fin` reason.
    pub fn flush(&mut self, exported: &mut Vec<FlowRecord>) {
        while !self.flush_some(usize::MAX, exported) {}
    }

    /// [`flush`](Self::flush) in chunks: exports at most `max` flows (continuing in id order
    /// where the previous call stopped) and returns `true` once the table is empty. A caller
    /// delivering each chunk before the next holds at most `max` records at once, where a
    /// single flush of a large table would hold them all. A packet processed before the last
    /// chunk ends the chunked flush; the flows not yet exported stay in the table.
    pub fn flush_some(&mut self, max: usize, exported: &mut Vec<FlowRecord>) -> bool {
        if self.flushing.is_empty() {
            self.flushing = self.index.iter().map(|&i| (self.slot(i).id, i)).collect();
            // Descending, so the lowest id is popped first.
            self.flushing.sort_unstable_by(|a, b| b.cmp(a));
        }
        exported.reserve(self.flushing.len().min(max));
        for _ in 0..max {
            let Some((_, idx)) = self.flushing.pop() else {
                break;
            };
            let reason = self.slot(idx).closed.unwrap_or(EndReason::End);
            self.export(idx, reason, exported);
        }
        if !self.flushing.is_empty() {
            return false;
        }
        self.flushing = Vec::new();
        self.frags.map.clear();
        self.frags.order.clear();
        true
    }

    /// The slab index of the live flow with `key`.
    #[inline]
    fn lookup(&self, key: &FlowKey) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        self.index
            .find(hash, |&i| slots[i as usize].key == *key)
            .copied()
    }

    fn slot(&self, idx: u32) -> &Entry {
        &self.slots[idx as usize]
    }

    /// When `e` expires without further packets (exported once time is past it), and as what.
    fn deadline(&self, e: &Entry) -> (i64, EndReason) {
        match e.closed {
            Some(reason) => (
                e.last_ts
                    .add_micros(self.config.teardown_linger_us)
                    .as_micros(),
                reason,
            ),
            None => {
                let timeout = if self.stats.emergency {
                    self.config
                        .idle_timeout_us
                        .min(self.config.emergency_idle_timeout_us)
                } else {
                    self.config.idle_timeout_us
                };
                let idle = e.last_ts.add_micros(timeout).as_micros();
                let active = e
                    .first_ts
                    .add_micros(self.config.active_timeout_us)
                    .as_micros();
                if active < idle {
                    (active, EndReason::Active)
                } else {
                    (idle, EndReason::Idle)
                }
            }
        }
    }

    /// Whether flow `idx` must be exported before `meta` is added (and the packet start a new
    /// flow).
    fn must_end_before(&self, idx: u32, meta: &PacketMeta) -> Option<EndReason> {
        let e = self.slot(idx);
        let (deadline, reason) = self.deadline(e);
        let f = meta.tcp_flags;
        let new_syn = meta.protocol == IpProtocol::TCP && f.syn() && !f.ack();
        if (e.closed.is_some() && new_syn) || meta.ts.as_micros() > deadline {
            Some(reason)
        } else {
            None
        }
    }

    /// Exports list fronts whose deadline `self.now` has passed, earliest deadline first.
    #[inline(always)]
    fn expire(&mut self, exported: &mut Vec<FlowRecord>) {
        // The per-packet check inline; the export loop out of line.
        if self.now.as_micros() > self.next_expiry {
            self.expire_due(exported);
        }
    }

    /// [`expire`](Self::expire)'s slow path: something is due.
    #[inline(never)]
    fn expire_due(&mut self, exported: &mut Vec<FlowRecord>) {
        let now = self.now.as_micros();
        loop {
            let mut best: Option<(i64, EndReason, u32)> = None;
            for head in [self.open.head, self.closed.head] {
                if head != NIL {
                    let (d, r) = self.deadline(self.slot(head));
                    if best.is_none_or(|(bd, _, _)| d < bd) {
                        best = Some((d, r, head));
                    }
                }
            }
            match best {
                Some((d, reason, idx)) if now > d => {
                    if self.stats.emergency && reason == EndReason::Idle {
                        self.stats.emergency_expired += 1;
                    }
                    self.export(idx, reason, exported);
                }
                Some((d, _, _)) => {
                    self.next_expiry = d;
                    break;
                }
                None => {
                    self.next_expiry = i64::MAX;
                    break;
                }
            }
        }
    }

    /// `idx` just became the head of its list: its deadline may be the earliest now.
    #[inline]
    fn note_new_head(&mut self, idx: u32) {
        let (d, _) = self.deadline(self.slot(idx));
        self.next_expiry = self.next_expiry.min(d);
    }

    /// Starts a flow (not yet linked into a list), evicting one first if the table is full.
    fn create(
        &mut self,
        key: FlowKey,
        sender: Endpoint,
        meta: &PacketMeta,
        exported: &mut Vec<FlowRecord>,
    ) -> u32 {
        if self.stats.memory_bytes + FLOW_ENTRY_BYTES > self.config.memcap_bytes {
            self.make_room(exported);
        }
        if self.index.len() >= self.config.max_flows {
            self.evict_one(exported);
        }
        self.add_memory(FLOW_ENTRY_BYTES);
        let hash = self.hasher.hash_one(key);
        let midstream =
            meta.protocol == IpProtocol::TCP && (!meta.tcp_flags.syn() || meta.tcp_flags.ack());
        let entry = Entry {
            key,
            hash,
            id: self.next_id,
            forward: forward_endpoint(meta, sender),
            first_ts: meta.ts,
            last_ts: meta.ts,
            stats: FlowStats::default(),
            tcp: TcpState {
                midstream,
                ..TcpState::default()
            },
            closed: None,
            app_proto: AppProto::Unknown,
            app_active: self.config.app_layer,
            frame_bytes: [0; 2],
        };
        self.next_id += 1;
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = entry;
                i
            }
            None => {
                self.slots.push(entry);
                self.links.push([NIL, NIL]);
                if self.config.app_layer {
                    self.app.push(AppInspector::default());
                }
                u32::try_from(self.slots.len() - 1)
                    .expect("slab never exceeds max_flows <= MAX_FLOWS_LIMIT")
            }
        };
        let slots = &self.slots;
        self.index
            .insert_unique(hash, idx, |&i| slots[i as usize].hash);
        self.stats.flows_created += 1;
        self.stats.peak_flows = self.stats.peak_flows.max(self.index.len());
        idx
    }

    /// A new flow would exceed the memcap: enter emergency mode (shorter idle timeout), end
    /// the flows it makes idle, then evict longest-idle flows until one more fits.
    #[inline(never)]
    fn make_room(&mut self, exported: &mut Vec<FlowRecord>) {
        if !self.stats.emergency {
            self.stats.emergency = true;
            self.stats.emergency_entered += 1;
        }
        // Deadlines just got earlier: look again.
        self.next_expiry = i64::MIN;
        self.expire_due(exported);
        while self.stats.memory_bytes + FLOW_ENTRY_BYTES > self.config.memcap_bytes
            && !self.index.is_empty()
        {
            self.evict_one(exported);
        }
    }

    fn add_memory(&mut self, bytes: usize) {
        self.stats.memory_bytes += bytes;
        self.stats.peak_memory_bytes = self.stats.peak_memory_bytes.max(self.stats.memory_bytes);
    }

    /// Gives back `bytes`; leaves emergency mode once below the recovery level.
    fn release_memory(&mut self, bytes: usize) {
        self.stats.memory_bytes = self.stats.memory_bytes.saturating_sub(bytes);
        if self.stats.emergency {
            let recovered = self.config.memcap_bytes / 100
                * usize::from(self.config.emergency_recovery_percent);
            if self.stats.memory_bytes < recovered {
                self.stats.emergency = false;
                // Deadlines just got later: recompute the next one.
                self.next_expiry = i64::MIN;
            }
        }
    }

    fn evict_one(&mut self, exported: &mut Vec<FlowRecord>) {
        if self.closed.head != NIL {
            let idx = self.closed.head;
            let reason = self.slot(idx).closed.unwrap_or(EndReason::Evicted);
            self.export(idx, reason, exported);
        } else if self.open.head != NIL {
            self.stats.evicted += 1;
            self.export(self.open.head, EndReason::Evicted, exported);
        }
    }

    /// Adds a packet to flow `idx` and moves it to the back of its (possibly new) list.
    #[allow(clippy::too_many_arguments)]
    fn join(
        &mut self,
        idx: u32,
        meta: &PacketMeta,
        (payload, frame_len): (&[u8], u32),
        sender: Endpoint,
        flags: TcpFlags,
        window: u16,
        new_flow: bool,
    ) -> FlowContext {
        if !new_flow {
            self.unlink(idx);
        }
        let e = &mut self.slots[idx as usize];
        let direction = Direction::of(sender, e.forward);
        let gap_us = e
            .stats
            .last_in(direction)
            .map_or(0, |last| meta.ts.as_micros().saturating_sub(last).max(0));
        e.stats
            .record(meta.ts, direction, meta.payload_len, flags, window);
        let side = &mut e.frame_bytes[usize::from(!direction.is_forward())];
        *side = side.saturating_add(u64::from(frame_len));
        if meta.ts > e.last_ts {
            e.last_ts = meta.ts;
        }
        let mut retransmission = false;
        let sender_reset = e.tcp.reset_by[usize::from(!direction.is_forward())];
        let (mut rst_out_of_window, mut ack_out_of_sync) = (false, false);
        if meta.protocol == IpProtocol::TCP {
            rst_out_of_window = flags.rst() && e.tcp.rst_far(direction, meta.tcp_seq);
            ack_out_of_sync = flags.only_ack()
                && meta.payload_len == 0
                && e.tcp.ack_out_of_sync(direction, meta.tcp_seq, meta.tcp_ack);
            e.tcp.update(
                direction,
                flags,
                meta.tcp_seq,
                meta.tcp_ack,
                &mut e.closed,
                rst_out_of_window,
            );
            if !rst_out_of_window {
                retransmission =
                    e.tcp
                        .retransmits(direction, flags, meta.tcp_seq, meta.payload_len);
            }
        }
        if e.app_active && !payload.is_empty() {
            if let Some(app) = self.app.get_mut(idx as usize) {
                let before = app.heap_bytes();
                app.inspect(meta.protocol, direction == Direction::Forward, payload);
                let after = app.heap_bytes();
                // Facts only grow while a flow lives; the emergency exit is checked on export.
                let m = &mut self.stats;
                m.memory_bytes = (m.memory_bytes + after).saturating_sub(before);
                m.peak_memory_bytes = m.peak_memory_bytes.max(m.memory_bytes);
                e.app_proto = app.proto();
                e.app_active = app.wants_more();
            }
        }
        let ctx = FlowContext {
            flow_id: e.id,
            direction,
            packets: e.stats.packets(),
            established: e.tcp.established,
            new_flow,
            retransmission,
            first_in_direction: if direction.is_forward() {
                e.stats.fwd_packets() == 1
            } else {
                e.stats.bwd_packets() == 1
            },
            closed: e.closed.is_some(),
            gap_us,
            sender_reset,
            rst_out_of_window,
            ack_out_of_sync,
            app_proto: e.app_proto,
            midstream: e.tcp.midstream,
            age_us: e.stats.duration_us(),
            sent_bytes: [
                e.stats.payload_bytes_in(Direction::Forward),
                e.stats.payload_bytes_in(Direction::Backward),
            ],
            side_packets: [e.stats.fwd_packets(), e.stats.bwd_packets()],
            frame_bytes: e.frame_bytes,
        };
        self.push_back(idx);
        ctx
    }

    fn list_mut(&mut self, closed: bool) -> &mut List {
        if closed {
            &mut self.closed
        } else {
            &mut self.open
        }
    }

    fn unlink(&mut self, idx: u32) {
        let closed = self.slot(idx).closed.is_some();
        let [prev, next] = self.links[idx as usize];
        if prev == NIL {
            self.list_mut(closed).head = next;
            if next != NIL {
                self.note_new_head(next);
            }
        } else {
            self.links[prev as usize][1] = next;
        }
        if next == NIL {
            self.list_mut(closed).tail = prev;
        } else {
            self.links[next as usize][0] = prev;
        }
    }

    fn push_back(&mut self, idx: u32) {
        let closed = self.slot(idx).closed.is_some();
        let tail = self.list_mut(closed).tail;
        self.links[idx as usize] = [tail, NIL];
        if tail == NIL {
            self.list_mut(closed).head = idx;
            self.note_new_head(idx);
        } else {
            self.links[tail as usize][1] = idx;
        }
        self.list_mut(closed).tail = idx;
    }

    fn export(&mut self, idx: u32, reason: EndReason, exported: &mut Vec<FlowRecord>) {
        self.unlink(idx);
        if let Ok(found) = self.index.find_entry(self.slot(idx).hash, |&i| i == idx) {
            found.remove();
        }
        self.free.push(idx);
        self.stats.flows_exported += 1;
        self.stats.exported_by_reason[reason.index()] += 1;
        let (app, app_bytes) = match self.app.get_mut(idx as usize) {
            Some(state) => {
                let bytes = state.heap_bytes();
                (state.take().1, bytes)
            }
            None => (None, 0),
        };
        self.release_memory(FLOW_ENTRY_BYTES + app_bytes);
        // Borrow rather than copy the entry: the record is built once, in place in `exported`.
        let e = &self.slots[idx as usize];
        let (src_addr, src_port) = e.key.endpoint(e.forward);
        let (dst_addr, dst_port) = e.key.endpoint(e.forward.other());
        exported.push(FlowRecord {
            id: e.id,
            first_ts: e.first_ts,
            last_ts: e.last_ts,
            src_addr,
            src_port,
            dst_addr,
            dst_port,
            protocol: e.key.protocol(),
            end_reason: reason,
            stats: e.stats,
            app_proto: e.app_proto,
            app,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::Feature;
    use crate::synth;
    use proptest::prelude::*;

    const C: [u8; 4] = [10, 0, 0, 1];
    const S: [u8; 4] = [10, 0, 0, 2];
    const SYN: u8 = TcpFlags::SYN;
    const ACK: u8 = TcpFlags::ACK;
    const FIN: u8 = TcpFlags::FIN;
    const RST: u8 = TcpFlags::RST;
    const PSH: u8 = TcpFlags::PSH;

    /// Client → server TCP segment.
    fn cs(ts: i64, flags: u8, len: u32) -> PacketMeta {
        synth::tcp(ts, C, 40000, S, 80, flags, len, 501)
    }
    /// Server → client TCP segment.
    fn sc(ts: i64, flags: u8, len: u32) -> PacketMeta {
        synth::tcp(ts, S, 80, C, 40000, flags, len, 502)
    }

    fn run_with(config: FlowTableConfig, pkts: &[PacketMeta]) -> (Vec<FlowRecord>, FlowTable) {
        let mut t = FlowTable::new(config).expect("valid test config");
        let mut out = Vec::new();
        for p in pkts {
            t.process(p, &mut out);
        }
        t.flush(&mut out);
        (out, t)
    }

    fn run(pkts: &[PacketMeta]) -> Vec<FlowRecord> {
        run_with(FlowTableConfig::default(), pkts).0
    }

    fn handshake() -> Vec<PacketMeta> {
        vec![cs(0, SYN, 0), sc(100, SYN | ACK, 0), cs(200, ACK, 0)]
    }

    #[test]
    fn context_counts_packets_and_frame_bytes_per_side() {
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("valid test config");
        let mut out = Vec::new();
        let frame = |m: &PacketMeta, len: u32| IpPacket {
            meta: *m,
            payload: &[],
            l2: crate::decode::L2Info {
                frame_len: len,
                ..Default::default()
            },
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        let pkts = handshake();
        let lens = [74, 74, 66];
        let mut last = None;
        for (m, len) in pkts.iter().zip(lens) {
            last = t.process_ip(&frame(m, len), &mut out);
        }
        let ctx = last.expect("a flow");
        assert_eq!((ctx.side_packets, ctx.frame_bytes), ([2, 1], [140, 74]));
        // Without a frame (`process`), a packet counts its IP length.
        let ctx = t.process(&sc(300, ACK, 0), &mut out).expect("a flow");
        let ip_len = u64::from(sc(300, ACK, 0).ip_len);
        assert_eq!(
            (ctx.side_packets, ctx.frame_bytes),
            ([2, 2], [140, 74 + ip_len])
        );
    }

    // CICFlowMeter bug: the flow ended at the first FIN and the rest of the teardown became a
    // new "appendix" flow.
    #[test]
    fn teardown_stays_one_flow() {
        let mut p = handshake();
        p.extend([
            cs(300, PSH | ACK, 10),
            sc(400, ACK, 0),
            cs(500, FIN | ACK, 0),
            sc(600, ACK, 0),
            sc(700, FIN | ACK, 0),
            cs(800, ACK, 0),
            // Late duplicates of the teardown, inside the linger.
            sc(900, FIN | ACK, 0),
            cs(1000, ACK, 0),
        ]);
        let out = run(&p);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].end_reason, EndReason::Fin);
        assert_eq!(out[0].packets(), 11);
        assert_eq!(out[0].last_ts.as_micros(), 1000);
    }

    #[test]
    fn fin_flow_exported_after_linger_and_port_reuse_starts_new_flow() {
        let mut p = handshake();
        p.extend([
            cs(300, FIN | ACK, 0),
            sc(400, FIN | ACK, 0),
            cs(500, ACK, 0),
        ]);
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("default is valid");
        let mut out = Vec::new();
        for m in &p {
            assert!(t.process(m, &mut out).is_some());
        }
        assert!(out.is_empty(), "closed flow lingers");
        // New SYN on the same 5-tuple: exports the closed flow, starts a new one.
        let ctx = t.process(&cs(600, SYN, 0), &mut out).expect("attributed");
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].id, out[0].end_reason), (1, EndReason::Fin));
        assert_eq!((ctx.flow_id, ctx.new_flow), (2, true));
        // Linger passes by packet time: an RST-ended flow is exported as time advances.
        t.process(&sc(700, RST | ACK, 0), &mut out);
        t.process(&synth::udp(3_000_000, C, 1, S, 2, 0), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!((out[1].id, out[1].end_reason), (2, EndReason::Rst));
        assert_eq!(out[1].packets(), 2);
    }

    #[test]
    fn rst_ends_flow_and_late_packets_join() {
        let mut p = handshake();
        p.extend([cs(300, RST, 0), sc(400, ACK, 0)]);
        let out = run(&p);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end_reason, EndReason::Rst);
        assert_eq!(out[0].packets(), 5);
    }

    // CICFlowMeter bug: first packet's payload counted twice in length stats and not at all in
    // act_data_pkt_fwd.
    #[test]
    fn first_packet_payload_counted_once() {
        let out = run(&[
            synth::udp(0, C, 5000, S, 53, 100),
            synth::udp(10, C, 5000, S, 53, 50),
            synth::udp(20, S, 53, C, 5000, 30),
        ]);
        assert_eq!(out.len(), 1);
        let f = out[0].features();
        assert_eq!(f[Feature::TotlenFwd], 150.0);
        assert_eq!(f[Feature::FwdPktLenMean], 75.0);
        assert_eq!(f[Feature::FwdPktLenMax], 100.0);
        assert_eq!(f[Feature::PktLenMean], 60.0);
        assert_eq!(f[Feature::FwdActDataPkts], 2.0);
        // sample std of 100, 50, 30: mean 60, squares 1600+100+900 = 2600, /2 = 1300
        assert!((f[Feature::PktLenStd] - 1300f64.sqrt()).abs() < 1e-9);
    }

    // CICFlowMeter bug: Init_Win_bytes_backward held the last backward window.
    #[test]
    fn init_windows_are_the_first() {
        let out = run(&[
            synth::tcp(0, C, 1, S, 2, SYN, 0, 1111),
            synth::tcp(1, S, 2, C, 1, SYN | ACK, 0, 2222),
            synth::tcp(2, C, 1, S, 2, ACK, 0, 3333),
            synth::tcp(3, S, 2, C, 1, ACK, 5, 4444),
        ]);
        let f = out[0].features();
        assert_eq!(f[Feature::InitFwdWinBytes], 1111.0);
        assert_eq!(f[Feature::InitBwdWinBytes], 2222.0);
    }

    // CICFlowMeter bug: NaN / Infinity rates for zero-duration flows.
    #[test]
    fn zero_duration_rates_are_zero() {
        let single = run(&[synth::udp(7, C, 1, S, 2, 40)]);
        let same_ts = run(&[synth::udp(7, C, 1, S, 2, 40), synth::udp(7, S, 2, C, 1, 40)]);
        for out in [single, same_ts] {
            let f = out[0].features();
            assert!(f.is_finite());
            assert_eq!(f[Feature::FlowDuration], 0.0);
            assert_eq!(f[Feature::FlowBytesS], 0.0);
            assert_eq!(f[Feature::FlowPktsS], 0.0);
            assert_eq!(f[Feature::BwdPktsS], 0.0);
        }
        let two = run(&[
            synth::udp(0, C, 1, S, 2, 10),
            synth::udp(500_000, S, 2, C, 1, 30),
        ]);
        let f = two[0].features();
        assert_eq!(f[Feature::FlowBytesS], 80.0);
        assert_eq!(f[Feature::FlowPktsS], 4.0);
        assert_eq!(f[Feature::BwdPktsS], 2.0);
    }

    // CICFlowMeter bug: −1 defaults when a direction has no packets.
    #[test]
    fn no_backward_packets_gives_zeros() {
        let out = run(&[cs(0, SYN, 0), cs(1_000_000, SYN, 0), cs(3_000_000, SYN, 0)]);
        assert_eq!(out.len(), 1);
        let f = out[0].features();
        for feat in [
            Feature::TotBwdPkts,
            Feature::TotlenBwd,
            Feature::BwdPktLenMax,
            Feature::BwdPktLenMean,
            Feature::BwdPktLenStd,
            Feature::BwdIatMean,
            Feature::InitBwdWinBytes,
            Feature::BwdPktsS,
        ] {
            assert_eq!(f[feat], 0.0, "{feat}");
        }
        assert!(f.as_array().iter().all(|v| *v >= 0.0));
        assert_eq!(f[Feature::FwdIatMin], 1_000_000.0);
        assert_eq!(f[Feature::FlowIatMax], 2_000_000.0);
        assert_eq!(f[Feature::FlowIatMean], 1_500_000.0);
        assert_eq!(f[Feature::SynFlagCnt], 3.0);
    }

    #[test]
    fn syn_ack_first_is_flipped() {
        let out = run(&[sc(0, SYN | ACK, 0), cs(10, ACK, 0), cs(20, PSH | ACK, 5)]);
        assert_eq!(out.len(), 1);
        let r = &out[0];
        assert_eq!((r.src_addr, r.src_port), (IpAddr::from(C), 40000));
        assert_eq!((r.dst_addr, r.dst_port), (IpAddr::from(S), 80));
        let f = r.features();
        assert_eq!((f[Feature::TotFwdPkts], f[Feature::TotBwdPkts]), (2.0, 1.0));
        assert_eq!(f[Feature::InitBwdWinBytes], 502.0);
        assert_eq!(f[Feature::InitFwdWinBytes], 501.0);
    }

    #[test]
    fn context_reports_direction_and_handshake() {
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("default is valid");
        let mut out = Vec::new();
        let ctxs: Vec<_> = handshake()
            .iter()
            .map(|m| t.process(m, &mut out).expect("attributed"))
            .collect();
        assert!(ctxs[0].new_flow && !ctxs[1].new_flow);
        assert_eq!(ctxs[1].direction, Direction::Backward);
        assert!(!ctxs[1].established && ctxs[2].established);
        assert_eq!(ctxs[2].packets, 3);
        assert!(ctxs.iter().all(|c| c.flow_id == 1));
    }

    #[test]
    fn a_repeated_segment_is_flagged_as_a_retransmission() {
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("default is valid");
        let mut out = Vec::new();
        let mut pkts = handshake();
        let data = |ts: i64, seq_off: u32, len: u32| {
            let mut m = cs(ts, PSH | ACK, len);
            m.tcp_seq = pkts[0].tcp_seq.wrapping_add(1).wrapping_add(seq_off);
            m
        };
        let (first, again, next, partly_new) = (
            data(300, 0, 10),
            data(400, 0, 10),
            data(500, 10, 10),
            data(600, 15, 10),
        );
        pkts.extend([first, again, next, partly_new]);
        let flags: Vec<bool> = pkts
            .iter()
            .map(|m| t.process(m, &mut out).expect("attributed").retransmission)
            .collect();
        assert_eq!(flags, [false, false, false, false, true, false, false]);
    }

    #[test]
    fn flows_not_opened_by_a_syn_are_marked_midstream() {
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("default is valid");
        let mut out = Vec::new();
        let from_syn: Vec<bool> = handshake()
            .iter()
            .map(|m| t.process(m, &mut out).expect("attributed").midstream)
            .collect();
        assert_eq!(from_syn, [false, false, false]);
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("default is valid");
        let data = t
            .process(&cs(300, PSH | ACK, 10), &mut out)
            .expect("attributed");
        assert!(data.midstream && !data.established);
        let udp = synth::udp(0, C, 5000, S, 53, 40);
        assert!(!t.process(&udp, &mut out).expect("attributed").midstream);
    }

    #[test]
    fn a_handshake_with_wrong_acknowledgements_is_not_established() {
        for bad in [1, 2] {
            let mut t = FlowTable::new(FlowTableConfig::default()).expect("default is valid");
            let mut out = Vec::new();
            let mut pkts = handshake();
            // The SYN+ACK (1) or the final ACK (2) acknowledges the wrong number.
            pkts[bad].tcp_ack = pkts[bad].tcp_ack.wrapping_add(7);
            let ctxs: Vec<_> = pkts
                .iter()
                .map(|m| t.process(m, &mut out).expect("attributed"))
                .collect();
            assert!(!ctxs[2].established, "bad ack on packet {bad}");
        }
    }

    #[test]
    fn icmp_echo_request_and_reply_share_a_flow() {
        let out = run(&[
            synth::icmp_echo(0, C, S, 77, 56),
            synth::icmp_echo(10, S, C, 77, 56),
            synth::icmp_echo(20, C, S, 78, 56),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].packets(), 2);
    }

    #[test]
    fn idle_timeout_boundary() {
        let cfg = FlowTableConfig {
            idle_timeout_us: 1_000,
            ..FlowTableConfig::default()
        };
        // A gap of exactly the timeout still joins; one more µs starts a new flow.
        let (out, _) = run_with(
            cfg,
            &[
                synth::udp(0, C, 1, S, 2, 0),
                synth::udp(1_000, S, 2, C, 1, 0),
                synth::udp(2_001, C, 1, S, 2, 0),
            ],
        );
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].packets(), out[0].end_reason), (2, EndReason::Idle));
        assert_eq!((out[1].packets(), out[1].end_reason), (1, EndReason::End));
    }

    #[test]
    fn active_timeout_crossing_packet_starts_new_flow() {
        let cfg = FlowTableConfig {
            active_timeout_us: 25,
            ..FlowTableConfig::default()
        };
        let mut t = FlowTable::new(cfg).expect("valid");
        let mut out = Vec::new();
        for ts in [0, 10, 20, 25] {
            t.process(&synth::udp(ts, C, 1, S, 2, 1), &mut out);
        }
        assert!(out.is_empty());
        let ctx = t
            .process(&synth::udp(30, S, 2, C, 1, 1), &mut out)
            .expect("attributed");
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].end_reason, out[0].packets()),
            (EndReason::Active, 4)
        );
        assert_eq!(out[0].last_ts.as_micros(), 25);
        assert!(ctx.new_flow);
        assert_eq!(ctx.flow_id, 2);
        // The crossing packet is the new flow's first packet, so it is its forward side.
        assert_eq!(ctx.direction, Direction::Forward);
    }

    #[test]
    fn advance_time_exports_idle_flows_without_packets() {
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("valid");
        let mut out = Vec::new();
        t.process(&synth::udp(0, C, 1, S, 2, 1), &mut out);
        t.advance_time(Timestamp::from_micros(120_000_000), &mut out);
        assert!(out.is_empty());
        t.advance_time(Timestamp::from_micros(120_000_001), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end_reason, EndReason::Idle);
        assert!(t.is_empty());
    }

    #[test]
    fn chunked_flush_gives_what_one_flush_gives() {
        let fill = |t: &mut FlowTable| {
            let mut out = Vec::new();
            for i in 0..1000u16 {
                t.process(&synth::udp(i64::from(i), C, 1000 + i, S, 53, 1), &mut out);
            }
            assert!(out.is_empty());
        };
        let mut whole = FlowTable::new(FlowTableConfig::default()).expect("valid");
        fill(&mut whole);
        let mut all = Vec::new();
        whole.flush(&mut all);
        let mut chunked = FlowTable::new(FlowTableConfig::default()).expect("valid");
        fill(&mut chunked);
        let (mut parts, mut calls) = (Vec::new(), 0);
        loop {
            let mut chunk = Vec::new();
            let done = chunked.flush_some(64, &mut chunk);
            assert!(chunk.len() <= 64);
            parts.extend(chunk);
            calls += 1;
            if done {
                break;
            }
        }
        assert_eq!(calls, 16);
        assert_eq!(parts, all);
        assert!(chunked.is_empty());
        // A packet in the middle of a chunked flush ends it; nothing is exported twice.
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("valid");
        fill(&mut t);
        let mut out = Vec::new();
        assert!(!t.flush_some(10, &mut out));
        t.advance_time(Timestamp::from_micros(5_000_000), &mut out);
        t.process(&synth::udp(6_000_000, C, 9, S, 53, 1), &mut out);
        t.flush(&mut out);
        let mut ids: Vec<u64> = out.iter().map(|f| f.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), out.len(), "no flow exported twice");
        assert_eq!(out.len(), 1001);
    }

    #[test]
    fn the_memcap_holds_with_emergency_timeouts_first_then_eviction() {
        let cap = 1000 * FLOW_ENTRY_BYTES;
        let mut t = FlowTable::new(FlowTableConfig {
            memcap_bytes: cap,
            ..FlowTableConfig::default()
        })
        .expect("valid");
        let mut out = Vec::new();
        let flow = |i: u32, us: i64| {
            let port = (i % 60_000) as u16 + 1;
            let client = [10, 1, (i >> 16) as u8, (i >> 8) as u8];
            synth::udp(us, client, port, S, 53, 1)
        };
        // 1000 flows in the first second fill the budget exactly.
        for i in 0..1000 {
            t.process(&flow(i, i64::from(i) * 1000), &mut out);
            assert!(t.stats().memory_bytes <= cap);
        }
        assert!(out.is_empty());
        assert!(!t.stats().emergency);
        // 20 s later a new flow does not fit: emergency mode ends the flows idle > 10 s
        // instead of evicting them.
        for i in 1000..1500 {
            t.process(&flow(i, 20_000_000 + i64::from(i)), &mut out);
            assert!(t.stats().memory_bytes <= cap);
        }
        // Each entry expires idle flows down to the recovery level (70 %), then leaves.
        let s = t.stats();
        assert!(s.emergency_entered >= 1, "{s:?}");
        assert!(s.emergency_expired >= 500, "{s:?}");
        assert_eq!(s.emergency_expired, s.flows_exported);
        assert_eq!(s.evicted, 0);
        assert!(out.iter().all(|f| f.end_reason == EndReason::Idle));
        // A burst of fresh flows beyond the budget: now the longest idle are evicted.
        for i in 1500..3000 {
            t.process(&flow(i, 20_500_000 + i64::from(i)), &mut out);
            assert!(t.stats().memory_bytes <= cap);
        }
        let s = t.stats();
        assert!(s.evicted >= 1000, "{s:?}");
        assert!(s.peak_memory_bytes <= cap);
        // Quiet: the idle timeouts drain the table, and emergency mode ends on the way.
        t.advance_time(Timestamp::from_micros(200_000_000), &mut out);
        let s = t.stats();
        assert!(!s.emergency, "{s:?}");
        assert_eq!(s.memory_bytes, 0);
        assert_eq!(out.len(), 3000);
    }

    #[test]
    fn eviction_removes_longest_idle() {
        let cfg = FlowTableConfig {
            max_flows: 2,
            ..FlowTableConfig::default()
        };
        let mut t = FlowTable::new(cfg).expect("valid");
        let mut out = Vec::new();
        t.process(&synth::udp(0, C, 1, S, 1, 0), &mut out); // flow 1
        t.process(&synth::udp(1, C, 2, S, 2, 0), &mut out); // flow 2
        t.process(&synth::udp(2, C, 1, S, 1, 0), &mut out); // flow 1 seen again
        t.process(&synth::udp(3, C, 3, S, 3, 0), &mut out); // flow 3 evicts flow 2
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].id, out[0].end_reason), (2, EndReason::Evicted));
        assert_eq!(t.len(), 2);
        assert_eq!(t.stats().evicted, 1);
        t.flush(&mut out);
        let ids: Vec<_> = out.iter().map(|r| r.id).collect();
        assert_eq!(ids, [2, 1, 3]);
        assert_eq!(t.stats().exported_by_reason[EndReason::End.index()], 2);
    }

    #[test]
    fn fragments_join_their_flow() {
        let first = synth::fragment(synth::udp(0, C, 5000, S, 53, 1472), 42, 0, true);
        let second = synth::fragment(synth::udp(1, C, 5000, S, 53, 1480), 42, 185, true);
        let last = synth::fragment(synth::udp(2, C, 5000, S, 53, 48), 42, 370, false);
        let reply = synth::udp(3, S, 53, C, 5000, 10);
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("valid");
        let mut out = Vec::new();
        for m in [first, second, last, reply] {
            assert_eq!(t.process(&m, &mut out).expect("attributed").flow_id, 1);
        }
        t.flush(&mut out);
        assert_eq!(out.len(), 1);
        let f = out[0].features();
        assert_eq!(f[Feature::TotFwdPkts], 3.0);
        assert_eq!(f[Feature::TotlenFwd], 3000.0);
        assert_eq!(t.stats().fragments_joined, 2);
    }

    #[test]
    fn orphan_fragment_creates_no_flow() {
        let orphan = synth::fragment(synth::udp(0, C, 5000, S, 53, 100), 9, 185, false);
        let mut t = FlowTable::new(FlowTableConfig::default()).expect("valid");
        let mut out = Vec::new();
        assert!(t.process(&orphan, &mut out).is_none());
        assert!(t.is_empty());
        t.process(&synth::udp(1, C, 5000, S, 53, 100), &mut out);
        t.flush(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].packets(), 1);
        let s = t.stats();
        assert_eq!((s.packets, s.orphan_fragments, s.flows_created), (2, 1, 1));
    }

    #[test]
    fn fragment_map_is_bounded() {
        let cfg = FlowTableConfig {
            max_fragments: 1,
            ..FlowTableConfig::default()
        };
        let a0 = synth::fragment(synth::udp(0, C, 1, S, 2, 100), 1, 0, true);
        let b0 = synth::fragment(synth::udp(1, C, 3, S, 4, 100), 2, 0, true);
        let a1 = synth::fragment(synth::udp(2, C, 1, S, 2, 100), 1, 13, false);
        let b1 = synth::fragment(synth::udp(3, C, 3, S, 4, 100), 2, 13, false);
        let mut t = FlowTable::new(cfg).expect("valid");
        let mut out = Vec::new();
        assert!(t.process(&a0, &mut out).is_some());
        assert!(t.process(&b0, &mut out).is_some());
        // a0 was dropped to make room for b0, so a1 is an orphan; b1 still joins.
        assert!(t.process(&a1, &mut out).is_none());
        assert_eq!(t.process(&b1, &mut out).map(|c| c.flow_id), Some(2));
        let s = t.stats();
        assert_eq!((s.fragment_entries_dropped, s.orphan_fragments), (1, 1));
        // Entries also expire with time.
        let late = synth::fragment(synth::udp(40_000_000, C, 3, S, 4, 100), 2, 26, false);
        assert!(t.process(&late, &mut out).is_none());
    }

    #[test]
    fn autotraits() {
        fn send<T: Send>() {}
        fn send_sync<T: Send + Sync>() {}
        send::<FlowTable>();
        send_sync::<FlowRecord>();
        send_sync::<FlowContext>();
        send_sync::<FlowTableConfig>();
    }

    #[test]
    fn backwards_time_is_harmless() {
        let out = run(&[
            synth::udp(1_000, C, 1, S, 2, 1),
            synth::udp(900, S, 2, C, 1, 1),
            synth::udp(950, C, 1, S, 2, 1),
        ]);
        assert_eq!(out.len(), 1);
        let f = out[0].features();
        assert!(f.is_finite() && f.as_array().iter().all(|v| *v >= 0.0));
        assert_eq!(out[0].first_ts.as_micros(), 1_000);
        assert_eq!(out[0].last_ts.as_micros(), 1_000);
    }

    #[test]
    fn config_is_checked() {
        assert!(FlowTableConfig::default().check().is_ok());
        let bad = FlowTableConfig {
            idle_timeout_us: 0,
            ..FlowTableConfig::default()
        };
        assert!(matches!(
            FlowTable::new(bad),
            Err(FlowConfigError::NonPositive {
                field: "idle_timeout_us",
                ..
            })
        ));
        let bad = FlowTableConfig {
            max_flows: 0,
            ..FlowTableConfig::default()
        };
        assert_eq!(bad.check(), Err(FlowConfigError::MaxFlows(0)));
        let json = r#"{"idle_timeout_us": 5}"#;
        let cfg: FlowTableConfig = serde_json::from_str(json).expect("partial config");
        assert_eq!(cfg.idle_timeout_us, 5);
        assert_eq!(cfg.max_flows, FlowTableConfig::default().max_flows);
    }

    fn arb_packet() -> impl Strategy<Value = (i64, PacketMeta)> {
        let addrs = [[10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]];
        (
            -50i64..3_000,
            0usize..3,
            0usize..3,
            prop::sample::select(vec![80u16, 443, 40000]),
            prop::sample::select(vec![80u16, 443, 40000]),
            0u8..3,
            any::<u8>(),
            0u32..1500,
            any::<u16>(),
            0u8..8,
            0u32..3,
        )
            .prop_map(
                move |(dt, a, b, sp, dp, proto, flags, len, win, frag, fid)| {
                    let mut m = match proto {
                        0 => synth::tcp(0, addrs[a], sp, addrs[b], dp, flags & 0x3f, len, win),
                        1 => synth::udp(0, addrs[a], sp, addrs[b], dp, len),
                        _ => synth::icmp_echo(0, addrs[a], addrs[b], sp, len),
                    };
                    m = match frag {
                        0 => synth::fragment(m, fid, 0, true),
                        1 => synth::fragment(m, fid, 185, false),
                        _ => m,
                    };
                    (dt, m)
                },
            )
    }

    proptest! {
        #[test]
        fn table_invariants(
            pkts in prop::collection::vec(arb_packet(), 0..200),
            max_flows in 1usize..5,
            idle in 1i64..5_000,
            active in 1i64..20_000,
            linger in 0i64..2_000,
            max_fragments in 0usize..4,
        ) {
            let cfg = FlowTableConfig {
                idle_timeout_us: idle,
                active_timeout_us: active,
                teardown_linger_us: linger,
                max_flows,
                max_fragments,
                fragment_timeout_us: 1_000,
                app_layer: true,
                ..FlowTableConfig::default()
            };
            let mut t = FlowTable::new(cfg).expect("valid");
            let mut out = Vec::new();
            let mut ts = 1_000_000i64;
            let mut attributed = 0u64;
            let mut metas = Vec::with_capacity(pkts.len());
            for (dt, mut m) in pkts {
                ts += dt;
                m.ts = Timestamp::from_micros(ts);
                metas.push(m);
                let before = t.stats().orphan_fragments;
                match t.process(&m, &mut out) {
                    Some(ctx) => {
                        attributed += 1;
                        prop_assert!(ctx.packets >= 1);
                        prop_assert_eq!(t.stats().orphan_fragments, before);
                    }
                    None => prop_assert_eq!(t.stats().orphan_fragments, before + 1),
                }
                prop_assert!(t.len() <= max_flows);
            }
            t.flush(&mut out);
            prop_assert!(t.is_empty());
            let s = t.stats();
            prop_assert_eq!(attributed, s.packets - s.orphan_fragments);
            let total: u64 = out.iter().map(FlowRecord::packets).sum();
            prop_assert_eq!(total, attributed);
            let mut ids: Vec<u64> = out.iter().map(|r| r.id).collect();
            ids.sort_unstable();
            let expected: Vec<u64> = (1..=s.flows_created).collect();
            prop_assert_eq!(ids, expected);
            prop_assert_eq!(s.flows_exported, s.flows_created);
            for r in &out {
                prop_assert!(r.packets() >= 1);
                let f = r.features();
                prop_assert!(f.is_finite(), "{:?}", f);
                prop_assert!(f.as_array().iter().all(|v| *v >= 0.0), "{:?}", f);
            }
            // Same input, same output (ids, order, reasons, statistics).
            let (again, _) = run_with(cfg, &metas);
            prop_assert_eq!(again, out);
        }
    }
}
