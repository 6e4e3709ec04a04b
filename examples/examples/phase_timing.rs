//! Times each stage of the flow path over one capture file (reader, +decode, +flow table,
//! +CSV formatting), to see where a `netsec flows` run spends its time.
//!
//! `cargo run --release -p netsec-examples --example phase_timing -- big.pcap`
use std::time::Instant;

use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::decode::{decode, Decoded};
use netsec_core::flow::{FlowTable, FlowTableConfig};
use netsec_core::output::{CsvFlowWriter, FlowSink};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: phase_timing FILE")?;
    // `STAGE=n` runs only stage n (for `perf stat`); default: all four.
    let only: Option<usize> = std::env::var("STAGE").ok().and_then(|s| s.parse().ok());
    for stage in (0..4).filter(|s| only.is_none_or(|o| o == *s)) {
        let started = Instant::now();
        let mut reader = PcapReader::open(&path)?;
        let mut table = FlowTable::new(FlowTableConfig::default())?;
        let mut out = Vec::new();
        let mut csv = CsvFlowWriter::new(std::io::sink());
        let mut n = 0u64;
        while let Some(raw) = reader.next_packet()? {
            n += 1;
            if stage == 0 {
                continue;
            }
            let Ok(Decoded::Ip(ip)) = decode(&raw) else {
                continue;
            };
            if stage == 1 {
                continue;
            }
            table.process(&ip.meta, &mut out);
            if stage == 3 {
                for f in &out {
                    csv.emit(f)?;
                }
            }
            out.clear();
        }
        table.flush(&mut out);
        if stage == 3 {
            for f in &out {
                csv.emit(f)?;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        let name = ["read", "+decode", "+flow table", "+csv"][stage];
        println!(
            "{name:<12} {n} packets in {secs:.3} s = {:.2} Mpps",
            n as f64 / secs / 1e6
        );
    }
    if only.is_none_or(|o| o == 4) {
        // The flow table alone, over packets decoded beforehand into memory.
        let mut reader = PcapReader::open(&path)?;
        let mut metas = Vec::new();
        while let Some(raw) = reader.next_packet()? {
            if let Ok(Decoded::Ip(ip)) = decode(&raw) {
                metas.push(ip.meta);
            }
        }
        let started = Instant::now();
        let mut table = FlowTable::new(FlowTableConfig::default())?;
        let mut out = Vec::new();
        for m in &metas {
            table.process(m, &mut out);
            out.clear();
        }
        table.flush(&mut out);
        let secs = started.elapsed().as_secs_f64();
        let n = metas.len();
        println!(
            "table alone  {n} packets in {secs:.3} s = {:.2} Mpps",
            n as f64 / secs / 1e6
        );
    }
    Ok(())
}
