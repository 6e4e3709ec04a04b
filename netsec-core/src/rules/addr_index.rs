//! Address-gated candidate selection: the IP-only engine.
//!
//! Reputation lists (CINS, Spamhaus DROP, TOR, compromised hosts, Threatview) are rules with
//! no payload check whose source or destination is a list of thousands of networks. Walking
//! each such rule's list on every packet cost ET Open 82% of its CPU. Instead, every
//! content-less rule with a side that is a plain list of networks (no negation, no `any`) is
//! indexed by that side: the networks become address ranges, flattened into disjoint
//! segments, each holding the sorted rules that cover it. A packet then finds its candidates
//! with one binary search per address and family, whatever the number of listed networks.
//!
//! Rules are split in two indexes, as Suricata splits its IP-only signatures from the rest:
//!
//! - **IP-only** rules (nothing but addresses: any protocol-free header with `any` ports, no
//!   `flow`, `flags`, `dsize`, `ttl`, ICMP or protocol checks, only metadata, thresholds and
//!   `flowbits` commands that set state) are looked up once per flow direction: on a flow's
//!   first packet each way, and on every packet without a flow.
//! - **Address-gated** rules (the rest, such as the TOR lists with `flags:S`) are looked up on
//!   every packet.
//!
//! The index only picks candidates; each candidate still runs through the full rule check,
//! so indexing never changes what a rule matches, only how often it is asked.

use std::net::IpAddr;

use super::ast::IpNet;
use super::compile::{AddrMatch, CompiledRule, PortMatch};

/// Sorted disjoint segments of one address family, each with the rules covering it.
#[derive(Debug, Clone, Default)]
struct Segments<K> {
    /// Segment starts, ascending; the first is the family's smallest address.
    starts: Vec<K>,
    /// `rules[offsets[i]..offsets[i + 1]]` are the rules of segment `i` (one more entry
    /// than `starts`).
    offsets: Vec<u32>,
    rules: Vec<u32>,
}

/// An address type the segments are keyed by.
trait Key: Copy + Ord + Default {
    const MAX: Self;
    fn next(self) -> Self;
}

impl Key for u32 {
    const MAX: u32 = u32::MAX;
    fn next(self) -> u32 {
        self + 1
    }
}

impl Key for u128 {
    const MAX: u128 = u128::MAX;
    fn next(self) -> u128 {
        self + 1
    }
}

impl<K: Key> Segments<K> {
    /// Flattens inclusive ranges `(first, last, rule)` into segments.
    fn build(ranges: &[(K, K, u32)]) -> Segments<K> {
        if ranges.is_empty() {
            return Segments::default();
        }
        let mut starts: Vec<K> = Vec::with_capacity(ranges.len() * 2 + 1);
        starts.push(K::default());
        for &(first, last, _) in ranges {
            starts.push(first);
            if last != K::MAX {
                starts.push(last.next());
            }
        }
        starts.sort_unstable();
        starts.dedup();
        let mut lists: Vec<Vec<u32>> = vec![Vec::new(); starts.len()];
        for &(first, last, rule) in ranges {
            let from = starts.partition_point(|s| *s < first);
            let to = if last == K::MAX {
                starts.len()
            } else {
                starts.partition_point(|s| *s <= last)
            };
            for list in &mut lists[from..to] {
                list.push(rule);
            }
        }
        let mut offsets = Vec::with_capacity(starts.len() + 1);
        let mut rules = Vec::new();
        offsets.push(0);
        for mut list in lists {
            list.sort_unstable();
            list.dedup();
            rules.extend_from_slice(&list);
            offsets.push(rules.len() as u32);
        }
        Segments {
            starts,
            offsets,
            rules,
        }
    }

    /// The rules covering `k`, sorted.
    #[inline]
    fn lookup(&self, k: K) -> &[u32] {
        if self.starts.is_empty() {
            return &[];
        }
        // starts[0] is the smallest key, so the point is at least 1.
        let i = self.starts.partition_point(|s| *s <= k) - 1;
        &self.rules[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    fn segments(&self) -> usize {
        self.starts.len()
    }
}

/// Rules indexed by the addresses one side of their header lists.
#[derive(Debug, Clone, Default)]
struct SideIndex {
    v4: Segments<u32>,
    v6: Segments<u128>,
}

impl SideIndex {
    fn build(entries: &[(u32, &[IpNet])]) -> SideIndex {
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        for &(rule, nets) in entries {
            for n in nets {
                match n.addr {
                    IpAddr::V4(a) => {
                        let p = u32::from(n.prefix.min(32));
                        let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                        let first = u32::from(a) & mask;
                        v4.push((first, first | !mask, rule));
                    }
                    IpAddr::V6(a) => {
                        let p = u32::from(n.prefix.min(128));
                        let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                        let first = u128::from(a) & mask;
                        v6.push((first, first | !mask, rule));
                    }
                }
            }
        }
        SideIndex {
            v4: Segments::build(&v4),
            v6: Segments::build(&v6),
        }
    }

    #[inline]
    fn lookup(&self, ip: IpAddr) -> &[u32] {
        match ip {
            IpAddr::V4(a) => self.v4.lookup(u32::from(a)),
            IpAddr::V6(a) => self.v6.lookup(u128::from(a)),
        }
    }
}

/// One index: rules to look up by a packet's source, and by its destination.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddrIndex {
    by_src: SideIndex,
    by_dst: SideIndex,
    rules: usize,
}

impl AddrIndex {
    /// Indexes `rules` (index into the set, rule) by their listed side.
    fn build(rules: &[(u32, &CompiledRule)]) -> AddrIndex {
        let mut src_side: Vec<(u32, Vec<IpNet>)> = Vec::new();
        let mut dst_side: Vec<(u32, Vec<IpNet>)> = Vec::new();
        for &(i, r) in rules {
            // The side the packet's source must match (either side for `<>`).
            if let Some(nets) = listed_nets(&r.src) {
                src_side.push((i, nets.clone()));
                if r.bidirectional {
                    dst_side.push((i, nets));
                }
            } else if let Some(nets) = listed_nets(&r.dst) {
                dst_side.push((i, nets.clone()));
                if r.bidirectional {
                    src_side.push((i, nets));
                }
            }
        }
        let side = |v: &[(u32, Vec<IpNet>)]| {
            SideIndex::build(
                &v.iter()
                    .map(|(i, n)| (*i, n.as_slice()))
                    .collect::<Vec<_>>(),
            )
        };
        AddrIndex {
            by_src: side(&src_side),
            by_dst: side(&dst_side),
            rules: rules.len(),
        }
    }

    /// Appends the candidate rules for a packet from `src` to `dst` (unsorted, may repeat).
    #[inline]
    pub(crate) fn candidates(&self, src: IpAddr, dst: IpAddr, out: &mut Vec<u32>) {
        if self.rules == 0 {
            return;
        }
        out.extend_from_slice(self.by_src.lookup(src));
        out.extend_from_slice(self.by_dst.lookup(dst));
    }

    /// Rules indexed.
    pub(crate) fn len(&self) -> usize {
        self.rules
    }

    /// Segments over both sides and families (a size measure).
    pub(crate) fn segments(&self) -> usize {
        self.by_src.v4.segments()
            + self.by_src.v6.segments()
            + self.by_dst.v4.segments()
            + self.by_dst.v6.segments()
    }
}

/// The networks of a plain positive list (`[a, b/16, …]` or one network), or `None` for
/// `any`, negations and lists with exclusions, which stay with the unindexed rules.
fn listed_nets(m: &AddrMatch) -> Option<Vec<IpNet>> {
    fn collect(m: &AddrMatch, out: &mut Vec<IpNet>) -> bool {
        match m {
            AddrMatch::Net(n) => {
                out.push(*n);
                true
            }
            AddrMatch::List { pos, neg } => {
                neg.is_empty() && !pos.is_empty() && pos.iter().all(|p| collect(p, out))
            }
            AddrMatch::Any | AddrMatch::Not(_) => false,
        }
    }
    let mut out = Vec::new();
    // A single network as wide as a whole family would gate nothing.
    (collect(m, &mut out) && out.iter().all(|n| n.prefix > 0)).then_some(out)
}

/// Whether rule `r` can be indexed by address (content-less, one side a plain list).
pub(crate) fn indexable(r: &CompiledRule) -> bool {
    r.steps.is_empty() && (listed_nets(&r.src).is_some() || listed_nets(&r.dst).is_some())
}

/// Whether an indexable rule is IP-only: nothing but its addresses decides a match, so it
/// needs asking only once per flow direction.
pub(crate) fn ip_only(r: &CompiledRule) -> bool {
    matches!(r.src_ports, PortMatch::Any)
        && matches!(r.dst_ports, PortMatch::Any)
        && r.app.is_none()
        && r.flow == Default::default()
        && r.dsize.is_empty()
        && r.ttl.is_empty()
        && r.itype.is_empty()
        && r.icode.is_empty()
        && r.ip_proto.is_empty()
        && r.flags.is_empty()
        && r.fields.is_empty()
        && r.datasets.is_empty()
        && r.decode_events == crate::decode::DecodeEvents::NONE
        && r.only_writes_bits()
}

/// The two address indexes of a rule set.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddrIndexes {
    /// Asked once per flow direction.
    pub(crate) ip_only: AddrIndex,
    /// Asked on every packet.
    pub(crate) gated: AddrIndex,
}

impl AddrIndexes {
    /// Segments over both indexes (a size measure).
    pub(crate) fn segments(&self) -> usize {
        self.ip_only.segments() + self.gated.segments()
    }

    /// Indexes the indexable rules of `rules` (`members`: their indexes in the set).
    pub(crate) fn build(rules: &[CompiledRule], members: &[u32]) -> AddrIndexes {
        let (mut ip, mut gated) = (Vec::new(), Vec::new());
        for &i in members {
            let r = &rules[i as usize];
            if ip_only(r) {
                ip.push((i, r));
            } else {
                gated.push((i, r));
            }
        }
        AddrIndexes {
            ip_only: AddrIndex::build(&ip),
            gated: AddrIndex::build(&gated),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_overlapping_and_edge_ranges() {
        let s = Segments::<u32>::build(&[
            (10, 20, 0),
            (15, 30, 1),
            (20, 20, 2),
            (u32::MAX - 1, u32::MAX, 3),
        ]);
        assert_eq!(s.lookup(0), &[] as &[u32]);
        assert_eq!(s.lookup(9), &[] as &[u32]);
        assert_eq!(s.lookup(10), &[0]);
        assert_eq!(s.lookup(15), &[0, 1]);
        assert_eq!(s.lookup(20), &[0, 1, 2]);
        assert_eq!(s.lookup(21), &[1]);
        assert_eq!(s.lookup(30), &[1]);
        assert_eq!(s.lookup(31), &[] as &[u32]);
        assert_eq!(s.lookup(u32::MAX), &[3]);
        assert_eq!(Segments::<u32>::build(&[]).lookup(5), &[] as &[u32]);
    }

    #[test]
    fn listed_nets_takes_only_plain_positive_lists() {
        let net = |s: &str| {
            let (a, p) = s.split_once('/').expect("cidr");
            AddrMatch::Net(IpNet {
                addr: a.parse().expect("ip"),
                prefix: p.parse().expect("prefix"),
            })
        };
        let list = AddrMatch::List {
            pos: vec![net("1.2.3.4/32"), net("10.0.0.0/8")],
            neg: vec![],
        };
        assert_eq!(listed_nets(&list).map(|v| v.len()), Some(2));
        assert!(listed_nets(&AddrMatch::Any).is_none());
        assert!(listed_nets(&AddrMatch::Not(Box::new(net("1.2.3.4/32")))).is_none());
        assert!(listed_nets(&net("0.0.0.0/0")).is_none());
        let with_neg = AddrMatch::List {
            pos: vec![net("10.0.0.0/8")],
            neg: vec![net("10.1.0.0/16")],
        };
        assert!(listed_nets(&with_neg).is_none());
    }
}
