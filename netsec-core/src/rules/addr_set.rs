//! A rule side's addresses as sorted disjoint ranges per family, so a header check is one
//! binary search however the side was written (`$EXTERNAL_NET` = `![10.0.0.0/8, …]`, nested
//! lists with exclusions).

use std::net::IpAddr;

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
    /// Every address.
    pub(crate) fn all() -> Self {
        AddrSet {
            v4: Ranges::all(),
            v6: Ranges::all(),
        }
    }

    /// Addresses in either.
    pub(crate) fn union(&self, o: &Self) -> Self {
        AddrSet {
            v4: self.v4.union(&o.v4),
            v6: self.v6.union(&o.v6),
        }
    }

    /// Addresses not in the set.
    pub(crate) fn complement(&self) -> Self {
        AddrSet {
            v4: self.v4.complement(),
            v6: self.v6.complement(),
        }
    }

    /// `self` without `o`.
    pub(crate) fn minus(&self, o: &Self) -> Self {
        // a − b = ¬(¬a ∪ b)
        self.complement().union(o).complement()
    }

    /// The addresses of one network.
    pub(crate) fn net(addr: IpAddr, prefix: u8) -> AddrSet {
        match addr {
            IpAddr::V4(a) => {
                let p = u32::from(prefix.min(32));
                let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
                let first = u32::from(a) & mask;
                AddrSet {
                    v4: Ranges(vec![(first, first | !mask)]),
                    v6: Ranges::default(),
                }
            }
            IpAddr::V6(a) => {
                let p = u32::from(prefix.min(128));
                let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
                let first = u128::from(a) & mask;
                AddrSet {
                    v4: Ranges::default(),
                    v6: Ranges(vec![(first, first | !mask)]),
                }
            }
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

    #[test]
    fn ranges_merge_complement_and_contain() {
        let a = AddrSet::net([10, 0, 0, 0].into(), 8);
        let b = AddrSet::net([10, 1, 0, 0].into(), 16);
        let set = a.minus(&b);
        assert!(set.contains([10, 2, 3, 4].into()));
        assert!(!set.contains([10, 1, 3, 4].into()));
        assert!(!set.contains([11, 0, 0, 1].into()));
        assert!(set.complement().contains([10, 1, 3, 4].into()));
        assert!(set.complement().contains("::1".parse().expect("v6")));
        assert!(AddrSet::all().contains("::1".parse().expect("v6")));
        assert_eq!(a.union(&b), a, "a subset merges away");
    }
}
