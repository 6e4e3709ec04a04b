//! Sustained ingest into the SQLite store through the writer thread (a measurement, not a test).
//!
//! Writes `NETSEC_INGEST_ALERTS` alerts (default 500,000) and as many flows (the bundled
//! sample's, replayed with fresh keys) in batches of 1,000 to a database file, and prints
//! alerts/s, flows/s and the file size. `NETSEC_INGEST_KIND=alerts|flows|both` (default both)
//! measures one kind alone.
//!
//! `cargo run --release -p netsec-server --example ingest -- /tmp/ingest.db`

use std::path::PathBuf;
use std::time::Instant;

use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::detect::{AlertIds, RunId};
use netsec_core::flow::{FlowRecord, FlowTableConfig};
use netsec_core::pipeline::FlowPipeline;
use netsec_server::storage::{Batch, SqliteStore, StoreWriter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path: PathBuf = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/netsec-ingest.db".into())
        .into();
    let _ = std::fs::remove_file(&path);
    let n: usize = std::env::var("NETSEC_INGEST_ALERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    // Real flows and a real alert shape from the bundled sample.
    let mut flows: Vec<FlowRecord> = Vec::new();
    let mut p = FlowPipeline::new(
        PcapReader::open("samples/synthetic.pcap")?,
        FlowTableConfig::default(),
    )?;
    p.run(|f| {
        flows.push(f.clone());
        Ok::<(), std::io::Error>(())
    })?;
    let mut sensor = netsec_core::config::SensorConfig::default()
        .check()?
        .build()?;
    let mut reader = PcapReader::open("samples/synthetic.pcap")?;
    while let Some(frame) = reader.next_packet()? {
        sensor.push(&frame);
    }
    sensor.finish();
    let template = sensor
        .drain_alerts()
        .next()
        .ok_or("the sample raises alerts")?;

    // `alerts`, `flows` or `both` (default).
    let kind = std::env::var("NETSEC_INGEST_KIND").unwrap_or_else(|_| "both".into());
    let (with_alerts, with_flows) = (kind != "flows", kind != "alerts");
    let writer = StoreWriter::spawn(Box::new(SqliteStore::open(&path)?), 64);
    let run = RunId::from_tag(42);
    let mut ids = AlertIds::new(run);
    let started = Instant::now();
    let mut sent = 0usize;
    let mut next_flow = 0u64;
    while sent < n {
        let mut batch = Batch {
            sensor: "ingest".into(),
            run,
            alerts: Vec::with_capacity(1000),
            flows: Vec::with_capacity(1000),
        };
        for i in 0..1000.min(n - sent) {
            if with_alerts {
                let mut a = template.clone();
                a.timestamp = a.timestamp.add_micros((sent + i) as i64);
                a.id = ids.next_id(a.timestamp);
                batch.alerts.push(a);
            }
            if with_flows {
                let mut f = flows[(sent + i) % flows.len()].clone();
                next_flow += 1;
                f.id = next_flow;
                batch.flows.push(f);
            }
        }
        sent += 1000.min(n - sent);
        writer.send(batch).map_err(|_| "writer stopped")?;
    }
    writer.flush();
    let secs = started.elapsed().as_secs_f64();
    let store = writer.close()?;
    let counts = store.counts()?;
    println!(
        "ingest ({kind}): {} alerts and {} flows in {secs:.2} s: {:.0} alerts/s, {:.0} flows/s; database {} MiB",
        counts.alerts,
        counts.flows,
        counts.alerts as f64 / secs,
        counts.flows as f64 / secs,
        std::fs::metadata(&path)?.len() >> 20
    );
    Ok(())
}
