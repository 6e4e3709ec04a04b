//! `netsec devices`: the host inventory of a capture, as an aligned table or JSON.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use netsec_core::inventory::{Host, Inventory, InventoryConfig, InventoryStats};

use crate::Failure;

/// Arguments of `netsec devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Capture file (pcap or pcapng), or `-` for stdin.
    pub capture: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DevicesFormat::Table)]
    pub format: DevicesFormat,
    /// Write the inventory to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Most hosts tracked; more are counted as dropped.
    #[arg(long, value_name = "N", default_value_t = InventoryConfig::default().max_hosts)]
    pub max_hosts: usize,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DevicesFormat {
    /// An aligned table for people.
    Table,
    /// One JSON document: `{"capture", "hosts": [...], "stats"}`.
    Json,
}

/// Runs `netsec devices`.
pub fn run(args: &DevicesArgs) -> Result<(), Failure> {
    if args.max_hosts == 0 {
        return Err(Failure::BadInput(anyhow::anyhow!(
            "--max-hosts must be at least 1"
        )));
    }
    let input = crate::input::open(&args.capture)?;
    let mut inventory = Inventory::new(InventoryConfig {
        max_hosts: args.max_hosts,
        ..InventoryConfig::default()
    });
    let outcome = inventory.read_capture(input.reader);
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout().lock()),
    };
    let mut out = BufWriter::new(out);
    let hosts = inventory.hosts();
    let stats = inventory.stats();
    match args.format {
        DevicesFormat::Table => write_table(&mut out, &hosts),
        DevicesFormat::Json => write_json(&mut out, &input.name, &hosts, &stats),
    }
    .and_then(|()| out.flush())
    .context("cannot write the inventory")?;
    eprintln!(
        "{}: {} hosts, {} MACs; dropped: {} hosts, {} MACs, {} names, {} services (caps)",
        input.name,
        stats.hosts,
        stats.macs,
        stats.dropped_hosts,
        stats.dropped_macs,
        stats.dropped_names,
        stats.dropped_services
    );
    outcome.map(|_| ()).map_err(|e| {
        Failure::BadInput(
            anyhow::Error::new(e).context(format!("capture {} is damaged", input.name)),
        )
    })
}

/// The JSON document.
fn write_json(
    out: &mut dyn Write,
    name: &str,
    hosts: &[Host],
    stats: &InventoryStats,
) -> io::Result<()> {
    let doc = serde_json::json!({ "capture": name, "hosts": hosts, "stats": stats });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// Cuts `s` to `max` characters, marking the cut with `…`.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// One table row per host.
fn row(h: &Host) -> [String; 10] {
    let names: Vec<&str> = h.hostnames.iter().map(|n| n.name.as_str()).collect();
    let os = match (h.os.initial_ttl, h.os.syn_window) {
        (Some(t), Some(w)) => format!("ttl {t} win {w}"),
        (Some(t), None) => format!("ttl {t}"),
        (None, Some(w)) => format!("win {w}"),
        (None, None) => String::new(),
    };
    let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
    [
        h.ip.to_string(),
        dash(h.mac.clone().unwrap_or_default()),
        dash(clip(h.vendor.as_deref().unwrap_or(""), 24)),
        dash(clip(&names.join(","), 40)),
        dash(clip(&h.services.join(","), 30)),
        dash(os),
        h.first_seen.to_string(),
        h.last_seen.to_string(),
        format!("{}/{}", h.packets_sent, h.bytes_sent),
        format!("{}/{}", h.packets_received, h.bytes_received),
    ]
}

/// The aligned table: a header, then one row per host.
fn write_table(out: &mut dyn Write, hosts: &[Host]) -> io::Result<()> {
    const HEADER: [&str; 10] = [
        "IP",
        "MAC",
        "VENDOR",
        "HOSTNAMES",
        "SERVICES",
        "OS HINT",
        "FIRST SEEN",
        "LAST SEEN",
        "SENT PKTS/B",
        "RECV PKTS/B",
    ];
    let rows: Vec<[String; 10]> = hosts.iter().map(row).collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: [&str; 10]| -> io::Result<()> {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, HEADER)?;
    for r in &rows {
        line(out, r.each_ref().map(String::as_str))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
