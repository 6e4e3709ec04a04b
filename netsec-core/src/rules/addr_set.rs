//! A rule side's addresses as sorted disjoint ranges per family, so a header check is one
//! binary search however the side was written (`$EXTERNAL_NET` = `![10.0.0.0/8, …]`, nested
//! lists with exclusions).

use std::net::IpAddr;

use super::compile::AddrMatch;

/// Sorted, disjoint, non-adjacent inclusive ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ranges<K>(Vec<(K, K)>);

trait Bound: Copy + Ord {
    const MIN: Self;
    const MAX: Self;
    fn next(self) -> Self;
    fn prev(self) -> Self;
}

impl Bound for u32 {
    const MIN: u32 = 0;
    const MAX: u32 = u32::MAX;
    fn next(self) -> u32 {
        self + 1
    }
    fn prev(self) -> u32 {
        self - 1
    }
}

impl Bound for u128 {
    const MIN: u128 = 0;
    const MAX: u128 = u128::MAX;
    fn next(self) -> u128 {
        self + 1
    }
    fn prev(self) -> u128 {
        self - 1
    }
}

impl<K: Bound> Ranges<K> {
    fn all() -> Self {
        Ranges(vec![(K::MIN, K::MAX)])
    }

    /// Sorts and merges overlapping or adjacent ranges.
    fn normalised(mut v: Vec<(K, K)>) -> Self {
        v.sort_unstable();
        let mut out: Vec<(K, K)> = Vec::with_capacity(v.len());
        for (a, b) in v {
            match out.last_mut() {
                Some(last) if last.1 == K::MAX || a <= last.1.next() => {
                    if b > last.1 {
                        last.1 = b;
                    }
                }
                _ => out.push((a, b)),
            }
        }
        Ranges(out)
    }

    fn union(&self, other: &Self) -> Self {
        let mut v = self.0.clone();
        v.extend_from_slice(&other.0);
        Ranges::normalised(v)
    }

    fn complement(&self) -> Self {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut from = Some(K::MIN);
        for &(a, b) in &self.0 {
            if let Some(f) = from {
                if a > f {
                    out.push((f, a.prev()));
                }
            }
            from = (b != K::MAX).then(|| b.next());
        }
        if let Some(f) = from {
            out.push((f, K::MAX));
        }
        Ranges(out)
    }

    #[inline]
    fn contains(&self, k: K) -> bool {
        let i = self.0.partition_point(|r| r.1 < k);
        self.0.get(i).is_some_and(|r| r.0 <= k)
    }
}

/// A set of IPv4 and IPv6 addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AddrSet {
    v4: Ranges<u32>,
    v6: Ranges<u128>,
}

impl AddrSet {
    fn all() -> Self {
        AddrSet {
            v4: Ranges::all(),
            v6: Ranges::all(),
        }
    }

    fn union(&self, o: &Self) -> Self {
        AddrSet {
            v4: self.v4.union(&o.v4),
            v6: self.v6.union(&o.v6),
        }
    }

    fn complement(&self) -> Self {
        AddrSet {
            v4: self.v4.complement(),
            v6: self.v6.complement(),
        }
    }

    /// `self` without `o`.
    fn minus(&self, o: &Self) -> Self {
        // a − b = ¬(¬a ∪ b)
        self.complement().union(o).complement()
    }

    /// The addresses `m` matches.
    pub(crate) fn of(m: &AddrMatch) -> AddrSet {
        match m {
            AddrMatch::Any => AddrSet::all(),
            AddrMatch::Net(n) => match n.addr {
                IpAddr::V4(a) => {
                    let p = u32::from(n.prefix.min(32));
                    let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                    let first = u32::from(a) & mask;
                    AddrSet {
                        v4: Ranges(vec![(first, first | !mask)]),
                        v6: Ranges::default(),
                    }
                }
                IpAddr::V6(a) => {
                    let p = u32::from(n.prefix.min(128));
                    let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                    let first = u128::from(a) & mask;
                    AddrSet {
                        v4: Ranges::default(),
                        v6: Ranges(vec![(first, first | !mask)]),
                    }
                }
            },
            AddrMatch::List { pos, neg } => {
                let base = if pos.is_empty() {
                    AddrSet::all()
                } else {
                    pos.iter()
                        .map(AddrSet::of)
                        .fold(AddrSet::default(), |acc, s| acc.union(&s))
                };
                let excluded = neg
                    .iter()
                    .map(AddrSet::of)
                    .fold(AddrSet::default(), |acc, s| acc.union(&s));
                base.minus(&excluded)
            }
            AddrMatch::Not(inner) => AddrSet::of(inner).complement(),
        }
    }

    /// Whether `ip` is in the set.
    #[inline]
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => self.v4.contains(u32::from(a)),
            IpAddr::V6(a) => self.v6.contains(u128::from(a)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::ast::IpNet;
    use proptest::prelude::*;

    fn net(a: [u8; 4], prefix: u8) -> AddrMatch {
        AddrMatch::Net(IpNet {
            addr: IpAddr::from(a),
            prefix,
        })
    }

    fn matcher() -> impl Strategy<Value = AddrMatch> {
        let leaf = prop_oneof![
            Just(AddrMatch::Any),
            (0u8..4, 0u8..4, 20u8..=32).prop_map(|(a, b, p)| net([10, a, b, 0], p)),
            (0u8..4, 0u8..=8).prop_map(|(a, p)| net([10, a, 0, 0], p)),
        ];
        leaf.prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|m| AddrMatch::Not(Box::new(m))),
                (
                    proptest::collection::vec(inner.clone(), 0..3),
                    proptest::collection::vec(inner, 0..3)
                )
                    .prop_map(|(pos, neg)| AddrMatch::List { pos, neg }),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_set_agrees_with_the_matcher(m in matcher(), a in 0u8..4, b in 0u8..4, c: u8) {
            let set = AddrSet::of(&m);
            for ip in [IpAddr::from([10, a, b, c]), IpAddr::from([11, a, b, c]), "::1".parse().expect("v6")] {
                prop_assert_eq!(set.contains(ip), m.matches(ip), "{:?} {}", m, ip);
            }
        }
    }
}
