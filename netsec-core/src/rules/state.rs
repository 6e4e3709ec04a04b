//! State that rules set and test: `flowbits` (per flow), `xbits` (per address or address
//! pair, with an expiry) and `flowint` (integers per flow), with Suricata's semantics.
//!
//! A rule's state commands run once the rest of the rule matched: its tests first (all
//! must hold), then its writes. Rules that test state run after the rules that only write
//! it (the rule set orders them), so a write by one rule is seen by another on the same
//! packet. All tables are bounded by [`RuleState::max_entries`]: when one is full a new
//! entry is not made and the drop is counted.

use std::collections::HashMap;
use std::net::IpAddr;

use foldhash::fast::RandomState;

use super::ast::{FlowbitsCommand, FlowintOp, XbitsTrack};
use crate::flow::FlowContext;

/// One state command of a compiled rule.
#[derive(Debug, Clone)]
pub(crate) enum StateOp {
    /// `flowbits` (not `noalert`): an OR group for tests, every name for writes.
    Flowbit {
        command: FlowbitsCommand,
        names: Vec<String>,
        ids: Vec<u32>,
    },
    /// `xbits`.
    Xbit {
        command: FlowbitsCommand,
        name: String,
        id: u32,
        track: XbitsTrack,
        /// How long a set bit lives (µs; `i64::MAX` without `expire`).
        expire_us: i64,
    },
    /// `flowint`.
    Flowint {
        name: String,
        id: u32,
        op: FlowintOp,
        value: u64,
    },
}

impl StateOp {
    /// Whether the command tests state (a match condition) rather than writing it.
    pub(crate) fn reads(&self) -> bool {
        match self {
            StateOp::Flowbit { command, .. } | StateOp::Xbit { command, .. } => command.reads(),
            StateOp::Flowint { op, .. } => op.reads(),
        }
    }

    /// The names the command uses, with their id slots, for interning.
    pub(crate) fn names_mut(&mut self) -> Vec<(&String, &mut u32)> {
        match self {
            StateOp::Flowbit { names, ids, .. } => {
                ids.resize(names.len(), 0);
                names.iter().zip(ids.iter_mut()).collect()
            }
            StateOp::Xbit { name, id, .. } | StateOp::Flowint { name, id, .. } => {
                vec![(&*name, id)]
            }
        }
    }
}

/// An xbit's key: its name and the tracked address(es).
type XKey = (u32, IpAddr, Option<IpAddr>);

/// The state tables of one rule detector.
#[derive(Debug)]
pub(crate) struct RuleState {
    /// Most entries in each table.
    pub(crate) max_entries: usize,
    /// Entries not made because a table was full.
    pub(crate) drops: u64,
    bits: HashMap<u64, Vec<u32>, RandomState>,
    xbits: HashMap<XKey, i64, RandomState>,
    ints: HashMap<u64, Vec<(u32, u64)>, RandomState>,
}

impl RuleState {
    pub(crate) fn new(max_entries: usize) -> RuleState {
        RuleState {
            max_entries,
            drops: 0,
            bits: HashMap::default(),
            xbits: HashMap::default(),
            ints: HashMap::default(),
        }
    }

    /// Entries held.
    pub(crate) fn len(&self) -> usize {
        self.bits.len() + self.xbits.len() + self.ints.len()
    }

    /// Bytes the tables hold now, and at most (every table at its cap).
    pub(crate) fn memory(&self) -> (u64, u64) {
        let bit = std::mem::size_of::<(u64, Vec<u32>)>() + 1 + 16;
        let xbit = std::mem::size_of::<(XKey, i64)>() + 1;
        let int = std::mem::size_of::<(u64, Vec<(u32, u64)>)>() + 1 + 32;
        let now = (self.bits.capacity() * bit
            + self.xbits.capacity() * xbit
            + self.ints.capacity() * int)
            * 8
            / 7;
        let cap = 2 * self.max_entries.next_power_of_two() * (bit + xbit + int);
        (now as u64, cap as u64)
    }

    /// A flow ended: its bits and integers go.
    pub(crate) fn end_flow(&mut self, flow_id: u64) {
        if !self.bits.is_empty() {
            self.bits.remove(&flow_id);
        }
        if !self.ints.is_empty() {
            self.ints.remove(&flow_id);
        }
    }

    fn xkey(id: u32, track: XbitsTrack, src: IpAddr, dst: IpAddr) -> XKey {
        match track {
            XbitsTrack::IpSrc => (id, src, None),
            XbitsTrack::IpDst => (id, dst, None),
            // Either direction of a pair is one key.
            XbitsTrack::IpPair => {
                let (a, b) = if src <= dst { (src, dst) } else { (dst, src) };
                (id, a, Some(b))
            }
        }
    }

    fn test(
        &self,
        op: &StateOp,
        flow: Option<&FlowContext>,
        src: IpAddr,
        dst: IpAddr,
        now: i64,
    ) -> bool {
        match op {
            StateOp::Flowbit { command, ids, .. } => {
                // Without a flow no flowbit test holds.
                let Some(f) = flow else {
                    return false;
                };
                let held = self.bits.get(&f.flow_id).map_or(&[][..], Vec::as_slice);
                let any = ids.iter().any(|id| held.binary_search(id).is_ok());
                match command {
                    FlowbitsCommand::IsSet => any,
                    FlowbitsCommand::IsNotSet => !any,
                    _ => true,
                }
            }
            StateOp::Xbit {
                command, id, track, ..
            } => {
                let set = self
                    .xbits
                    .get(&Self::xkey(*id, *track, src, dst))
                    .is_some_and(|&until| until > now);
                match command {
                    FlowbitsCommand::IsSet => set,
                    FlowbitsCommand::IsNotSet => !set,
                    _ => true,
                }
            }
            StateOp::Flowint { id, op, value, .. } => {
                let Some(f) = flow else {
                    return false;
                };
                let current = self
                    .ints
                    .get(&f.flow_id)
                    .and_then(|v| v.iter().find(|e| e.0 == *id))
                    .map(|e| e.1);
                op.test(current, *value)
            }
        }
    }

    fn write(
        &mut self,
        op: &StateOp,
        flow: Option<&FlowContext>,
        src: IpAddr,
        dst: IpAddr,
        now: i64,
    ) {
        let full = |len: usize, max: usize, drops: &mut u64| {
            let f = len >= max;
            if f {
                *drops += 1;
            }
            f
        };
        match op {
            StateOp::Flowbit { command, ids, .. } => {
                let Some(f) = flow else {
                    return;
                };
                if !self.bits.contains_key(&f.flow_id) {
                    let creates = matches!(command, FlowbitsCommand::Set | FlowbitsCommand::Toggle);
                    if !creates || full(self.bits.len(), self.max_entries, &mut self.drops) {
                        return;
                    }
                }
                let held = self.bits.entry(f.flow_id).or_default();
                for &id in ids {
                    match (command, held.binary_search(&id)) {
                        (FlowbitsCommand::Set | FlowbitsCommand::Toggle, Err(i)) => {
                            held.insert(i, id)
                        }
                        (FlowbitsCommand::Unset | FlowbitsCommand::Toggle, Ok(i)) => {
                            held.remove(i);
                        }
                        _ => {}
                    }
                }
            }
            StateOp::Xbit {
                command,
                id,
                track,
                expire_us,
                ..
            } => {
                let key = Self::xkey(*id, *track, src, dst);
                let set = self.xbits.get(&key).is_some_and(|&until| until > now);
                let want = match command {
                    FlowbitsCommand::Set => true,
                    FlowbitsCommand::Unset => false,
                    FlowbitsCommand::Toggle => !set,
                    _ => return,
                };
                if !want {
                    self.xbits.remove(&key);
                    return;
                }
                if !self.xbits.contains_key(&key) && self.xbits.len() >= self.max_entries {
                    self.xbits.retain(|_, until| *until > now);
                    if full(self.xbits.len(), self.max_entries, &mut self.drops) {
                        return;
                    }
                }
                self.xbits.insert(key, now.saturating_add(*expire_us));
            }
            StateOp::Flowint { id, op, value, .. } => {
                let Some(f) = flow else {
                    return;
                };
                if !self.ints.contains_key(&f.flow_id)
                    && full(self.ints.len(), self.max_entries, &mut self.drops)
                {
                    return;
                }
                let vars = self.ints.entry(f.flow_id).or_default();
                match vars.iter_mut().find(|e| e.0 == *id) {
                    Some(e) => e.1 = op.apply(e.1, *value),
                    None => vars.push((*id, op.apply(0, *value))),
                }
            }
        }
    }

    /// A rule that matched otherwise: whether its state tests hold and, if so, its writes
    /// done.
    pub(crate) fn apply(
        &mut self,
        ops: &[StateOp],
        flow: Option<&FlowContext>,
        src: IpAddr,
        dst: IpAddr,
        now_us: i64,
    ) -> bool {
        if !ops
            .iter()
            .filter(|o| o.reads())
            .all(|o| self.test(o, flow, src, dst, now_us))
        {
            return false;
        }
        for op in ops.iter().filter(|o| !o.reads()) {
            self.write(op, flow, src, dst, now_us);
        }
        true
    }

    /// The ids of the flowbits set on a flow now.
    pub(crate) fn flow_bits(&self, flow_id: u64) -> &[u32] {
        self.bits.get(&flow_id).map_or(&[], Vec::as_slice)
    }

    /// Flows holding bits (tests).
    #[cfg(test)]
    pub(crate) fn flows_with_bits(&self) -> usize {
        self.bits.len()
    }
}
