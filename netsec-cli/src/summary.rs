//! The `analyze` summary: what was in the captures and what fired, in a fixed, readable layout.
//!
//! Everything here is accumulated per capture by its worker and merged in input order, so the
//! summary does not depend on `--jobs` (apart from the timing line).

use std::collections::BTreeMap;
use std::io::{self, Write};

use netsec_core::detect::Severity;
use netsec_core::flow::FlowTableStats;
use netsec_core::pipeline::PipelineStats;
use netsec_core::summary::{AlertTally, Talkers, TALKER_TABLE_CAP};
use netsec_core::time::Timestamp;

/// How many top talkers and top signatures are printed.
pub const TOP_N: usize = 10;

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
    /// What goes in the HTML report (`--report`), when asked for.
    pub report: Option<netsec_core::report::ReportBuilder>,
    /// Detectors' warnings (`DetectorStats::notes`, e.g. a model's drift).
    pub notes: Vec<String>,
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
    emergency_entered: u64,
    emergency_expired: u64,
    detectors: Vec<(String, u64)>,
    /// `capture: note` of every detector warning, in input order.
    notes: Vec<String>,
    /// Alerts held back by the threshold.config filter.
    filtered: u64,
    talkers: Talkers,
    alerts: AlertTally,
}

impl Totals {
    /// Adds one capture's report.
    pub fn add(&mut self, r: FileReport) {
        let s = r.stats.unwrap_or_default();
        for n in &r.notes {
            self.notes.push(format!("{}: {n}", r.name));
        }
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
        self.emergency_entered += r.table.emergency_entered;
        self.emergency_expired += r.table.emergency_expired;
        self.filtered += s.alerts_filtered;
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
        if self.emergency_entered > 0 {
            writeln!(
                o,
                "  flow memcap reached: emergency mode entered {} times, {} flows ended by the emergency idle timeout",
                self.emergency_entered, self.emergency_expired
            )?;
        }
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
        if self.filtered > 0 {
            writeln!(o, "  held back by threshold.config: {}", self.filtered)?;
        }
        if !self.detectors.is_empty() {
            let parts: Vec<String> = self
                .detectors
                .iter()
                .map(|(d, n)| format!("{d} {n}"))
                .collect();
            writeln!(o, "  by detector: {}", parts.join(", "))?;
        }
        for n in &self.notes {
            writeln!(o, "  warning: {n}")?;
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
