//! Tallies over what a sensor produced: hosts by traffic ([`Talkers`]) and alerts by severity,
//! type and signature ([`AlertTally`]). Both are bounded and merge in input order, so a
//! summary (the CLI's) or a dashboard (the server's) reads the same numbers.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use foldhash::fast::RandomState;

use crate::detect::Alert;
use crate::flow::FlowRecord;

/// Most hosts counted exactly for the top-talkers list; beyond it the table is pruned.
pub const TALKER_TABLE_CAP: usize = 65_536;

/// Bytes and flows per host, in a bounded table.
///
/// When the table is full, hosts at or below the median byte count are dropped (so a spoofed
/// flood of single-packet hosts cannot grow it), and the list is marked approximate. Heavy
/// hitters survive pruning, so the top of the list stays right in practice.
///
/// Hashed with foldhash (randomly seeded): two lookups per flow with std's SipHash cost more
/// than a tenth of `netsec analyze` on captures of short flows.
#[derive(Debug, Default, Clone)]
pub struct Talkers {
    map: HashMap<IpAddr, (u64, u64), RandomState>,
    /// Hosts dropped by pruning.
    pub pruned_hosts: u64,
}

impl Talkers {
    /// Credits both ends of a finished flow with its payload bytes.
    pub fn add_flow(&mut self, flow: &FlowRecord) {
        let bytes = flow.stats.payload_bytes();
        self.add(flow.src_addr, bytes, 1);
        self.add(flow.dst_addr, bytes, 1);
    }

    /// Credits `host` with `bytes` and `flows`.
    pub fn add(&mut self, host: IpAddr, bytes: u64, flows: u64) {
        if self.map.len() >= TALKER_TABLE_CAP && !self.map.contains_key(&host) {
            self.prune();
        }
        let e = self.map.entry(host).or_default();
        e.0 += bytes;
        e.1 += flows;
    }

    fn prune(&mut self) {
        // Ranked by (bytes, flows): a flood victim with no payload bytes but millions of flows
        // must outrank its single-flow spoofed sources.
        let mut values: Vec<(u64, u64)> = self.map.values().copied().collect();
        let mid = values.len() / 2;
        let (_, median, _) = values.select_nth_unstable(mid);
        let median = *median;
        let before = self.map.len();
        // Only a value threshold decides, so the surviving set does not depend on hash order.
        self.map.retain(|_, v| *v > median);
        self.pruned_hosts += (before - self.map.len()) as u64;
    }

    /// Adds another capture's table (in input order).
    pub fn merge(&mut self, other: Talkers) {
        self.pruned_hosts += other.pruned_hosts;
        if self.map.is_empty() {
            // The first capture's table: nothing to add to, so no order to fix either.
            self.map = other.map;
            return;
        }
        let mut rows: Vec<(IpAddr, (u64, u64))> = other.map.into_iter().collect();
        rows.sort_unstable_by_key(|(ip, _)| *ip);
        for (ip, (b, f)) in rows {
            self.add(ip, b, f);
        }
    }

    /// The `n` hosts with the most bytes (ties: more flows, then lower address).
    pub fn top(&self, n: usize) -> Vec<(IpAddr, u64, u64)> {
        let mut rows: Vec<(IpAddr, u64, u64)> =
            self.map.iter().map(|(ip, (b, f))| (*ip, *b, *f)).collect();
        let order = |a: &(IpAddr, u64, u64), b: &(IpAddr, u64, u64)| {
            b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0))
        };
        // Partition around the n-th first (linear), then sort only the top n: a flood of
        // spoofed sources leaves hundreds of thousands of hosts here.
        if n > 0 && rows.len() > n {
            rows.select_nth_unstable_by(n - 1, order);
        }
        rows.truncate(n);
        rows.sort_unstable_by(order);
        rows
    }

    /// Distinct hosts currently counted.
    pub fn hosts(&self) -> usize {
        self.map.len()
    }
}

/// Alerts counted by severity, type and signature.
#[derive(Debug, Default, Clone)]
pub struct AlertTally {
    /// Total alerts.
    pub total: u64,
    /// Index = `Severity as usize` (LOW … CRITICAL).
    pub by_severity: [u64; 4],
    /// By `attack_type`.
    pub by_type: BTreeMap<String, u64>,
    /// By signature: `[gid:sid:rev] msg` for rules, `detector: attack_type` otherwise.
    pub by_signature: BTreeMap<String, u64>,
}

impl AlertTally {
    /// Counts one alert.
    pub fn add(&mut self, a: &Alert) {
        self.total += 1;
        self.by_severity[a.severity as usize] += 1;
        *self.by_type.entry(a.attack_type.clone()).or_default() += 1;
        *self.by_signature.entry(signature(a)).or_default() += 1;
    }

    /// Adds another capture's tally.
    pub fn merge(&mut self, other: AlertTally) {
        self.total += other.total;
        for (a, b) in self.by_severity.iter_mut().zip(other.by_severity) {
            *a += b;
        }
        for (k, v) in other.by_type {
            *self.by_type.entry(k).or_default() += v;
        }
        for (k, v) in other.by_signature {
            *self.by_signature.entry(k).or_default() += v;
        }
    }
}

fn signature(a: &Alert) -> String {
    match a.meta_u64("sid") {
        Some(sid) => format!(
            "[{}:{}:{}] {}",
            a.meta_u64("gid").unwrap_or(1),
            sid,
            a.meta_u64("rev").unwrap_or(0),
            a.meta.get("msg").and_then(|m| m.as_str()).unwrap_or("")
        ),
        None => format!("{}: {}", a.detector().unwrap_or("unknown"), a.attack_type),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn talkers_stay_bounded_and_keep_heavy_hitters() {
        let mut t = Talkers::default();
        let big: IpAddr = "10.0.0.1".parse().expect("literal");
        t.add(big, 1_000_000, 1);
        for i in 0..(TALKER_TABLE_CAP as u32 * 3) {
            t.add(IpAddr::from(i.to_be_bytes()), u64::from(i % 7), 1);
        }
        assert!(t.hosts() <= TALKER_TABLE_CAP);
        assert!(t.pruned_hosts > 0);
        assert_eq!(t.top(1)[0].0, big);
    }

    #[test]
    fn a_flood_victim_without_payload_survives_pruning() {
        // A SYN flood: every flow has 0 payload bytes, one host is in all of them.
        let mut t = Talkers::default();
        let victim: IpAddr = "198.18.0.1".parse().expect("literal");
        for i in 0..(TALKER_TABLE_CAP as u32 * 3) {
            t.add(IpAddr::from((0x0b00_0000 + i).to_be_bytes()), 0, 1);
            t.add(victim, 0, 1);
        }
        assert!(t.hosts() <= TALKER_TABLE_CAP);
        assert_eq!(t.top(1)[0].0, victim);
        assert_eq!(t.top(1)[0].2, TALKER_TABLE_CAP as u64 * 3);
    }
}
