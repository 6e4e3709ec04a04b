//! The `analyze` summary: what was in the captures and what fired, in a fixed, readable layout.
//!
//! Everything here is accumulated per capture by its worker and merged in input order, so the
//! summary does not depend on `--jobs` (apart from the timing line).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::net::IpAddr;

use foldhash::fast::RandomState;
use netsec_core::detect::{Alert, Severity};
use netsec_core::flow::{FlowRecord, FlowTableStats};
use netsec_core::pipeline::PipelineStats;
use netsec_core::time::Timestamp;

/// Most hosts counted exactly for the top-talkers list; beyond it the table is pruned.
pub const TALKER_TABLE_CAP: usize = 65_536;

/// How many top talkers and top signatures are printed.
pub const TOP_N: usize = 10;

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

    fn add(&mut self, host: IpAddr, bytes: u64, flows: u64) {
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

/// One capture's results, as its worker reports them.
#[derive(Debug, Default)]
pub struct FileReport {
    /// Name for messages.
    pub name: String,
    /// Pipeline counters (`None` when the capture could not be opened).
    pub stats: Option<PipelineStats>,
    /// Flow-table counters.
    pub table: FlowTableStats,
    /// Hosts by bytes.
    pub talkers: Talkers,
    /// Alerts raised.
    pub alerts: AlertTally,
    /// Why the capture was not read to its end, if it was not.
    pub error: Option<String>,
}

/// Totals over every capture, in input order.
#[derive(Debug, Default)]
pub struct Totals {
    files: Vec<(String, u64, u64, u64, Option<String>)>,
    packets: u64,
    wire_bytes: u64,
    ip: u64,
    tcp: u64,
    udp: u64,
    icmp: u64,
    other_ip: u64,
    arp: u64,
    flows: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    skipped: BTreeMap<String, u64>,
    peak_flows: u64,
    evicted: u64,
    detectors: Vec<(String, u64)>,
    talkers: Talkers,
    alerts: AlertTally,
}

impl Totals {
    /// Adds one capture's report.
    pub fn add(&mut self, r: FileReport) {
        let s = r.stats.unwrap_or_default();
        self.files
            .push((r.name, s.packets, s.flows, s.alerts, r.error));
        self.packets += s.packets;
        self.wire_bytes += s.wire_bytes;
        self.ip += s.ip_packets;
        self.tcp += s.tcp_packets;
        self.udp += s.udp_packets;
        self.icmp += s.icmp_packets;
        self.other_ip += s.other_ip_packets;
        self.arp += s.arp_packets;
        self.flows += s.flows;
        if let Some(f) = s.first_ts {
            self.first = Some(self.first.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = s.last_ts {
            self.last = Some(self.last.map_or(l, |x| x.max(l)));
        }
        for (k, v) in s.skipped() {
            if k != "arp" {
                *self.skipped.entry(k).or_default() += v;
            }
        }
        self.peak_flows = self.peak_flows.max(r.table.peak_flows as u64);
        self.evicted += r.table.evicted;
        for (name, n) in s.alerts_by_detector {
            match self.detectors.iter_mut().find(|(d, _)| *d == name) {
                Some(slot) => slot.1 += n,
                None => self.detectors.push((name, n)),
            }
        }
        self.talkers.merge(r.talkers);
        self.alerts.merge(r.alerts);
    }

    /// `name: reason` of every capture not read to its end, in input order.
    pub fn damaged(&self) -> impl Iterator<Item = String> + '_ {
        self.files
            .iter()
            .filter_map(|(name, .., err)| err.as_ref().map(|e| format!("{name}: {e}")))
    }

    /// Writes the summary. `rules` is the rule-load line, `behaviour` the behavioural line.
    pub fn write(
        &self,
        o: &mut dyn Write,
        rules: &str,
        behaviour: &str,
        secs: f64,
    ) -> io::Result<()> {
        let pps = if secs > 0.0 {
            self.packets as f64 / secs
        } else {
            0.0
        };
        writeln!(o, "== netsec analyze summary ==")?;
        writeln!(
            o,
            "captures: {} read in {secs:.3} s ({pps:.0} packets/s)",
            self.files.len()
        )?;
        for (name, packets, flows, alerts, err) in &self.files {
            let status = match err {
                Some(e) => format!("  DAMAGED: {e}"),
                None => String::new(),
            };
            writeln!(
                o,
                "  {name}: {packets} packets, {flows} flows, {alerts} alerts{status}"
            )?;
        }
        match (self.first, self.last) {
            (Some(f), Some(l)) => writeln!(
                o,
                "span: {f} .. {l} ({:.3} s)",
                (l.as_micros() - f.as_micros()) as f64 / 1e6
            )?,
            _ => writeln!(o, "span: no packets")?,
        }
        writeln!(
            o,
            "packets: {} ({} bytes on the wire)",
            self.packets, self.wire_bytes
        )?;
        writeln!(
            o,
            "protocols: TCP {}, UDP {}, ICMP {}, other IP {}, ARP {}",
            self.tcp, self.udp, self.icmp, self.other_ip, self.arp
        )?;
        let skipped_total: u64 = self.skipped.values().sum();
        if skipped_total == 0 {
            writeln!(o, "skipped: none")?;
        } else {
            let parts: Vec<String> = self
                .skipped
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            writeln!(o, "skipped: {skipped_total} ({})", parts.join(", "))?;
        }
        writeln!(
            o,
            "flows: {} (flow table peak {}, {} evicted because full)",
            self.flows, self.peak_flows, self.evicted
        )?;
        let approx = if self.talkers.pruned_hosts > 0 {
            format!(
                ", approximate: {} low-volume hosts dropped from a {TALKER_TABLE_CAP}-host table",
                self.talkers.pruned_hosts
            )
        } else {
            String::new()
        };
        writeln!(
            o,
            "top talkers of {} hosts (transport payload bytes sent + received{approx}):",
            self.talkers.hosts()
        )?;
        let top = self.talkers.top(TOP_N);
        if top.is_empty() {
            writeln!(o, "  none")?;
        }
        for (i, (ip, bytes, flows)) in top.iter().enumerate() {
            writeln!(
                o,
                "  {:>2}. {ip:<16} {bytes:>12} bytes {flows:>7} flows",
                i + 1
            )?;
        }
        writeln!(o, "rules: {rules}")?;
        writeln!(o, "behaviour: {behaviour}")?;
        let a = &self.alerts;
        let sev = |s: Severity| a.by_severity[s as usize];
        writeln!(
            o,
            "alerts: {} (CRITICAL {}, HIGH {}, MEDIUM {}, LOW {})",
            a.total,
            sev(Severity::Critical),
            sev(Severity::High),
            sev(Severity::Medium),
            sev(Severity::Low)
        )?;
        if !self.detectors.is_empty() {
            let parts: Vec<String> = self
                .detectors
                .iter()
                .map(|(d, n)| format!("{d} {n}"))
                .collect();
            writeln!(o, "  by detector: {}", parts.join(", "))?;
        }
        if a.total > 0 {
            let mut types: Vec<(&String, &u64)> = a.by_type.iter().collect();
            types.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
            let parts: Vec<String> = types.iter().map(|(t, n)| format!("{t} {n}")).collect();
            writeln!(o, "  by type: {}", parts.join(", "))?;
            let mut sigs: Vec<(&String, &u64)> = a.by_signature.iter().collect();
            sigs.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
            writeln!(o, "  top signatures:")?;
            for (sig, n) in sigs.iter().take(TOP_N) {
                writeln!(o, "    {n:>8}  {sig}")?;
            }
        }
        Ok(())
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
