//! Memory under a spoofed SYN flood: the sensor's memcap, measured (not a timed test).
//!
//! Pushes `NETSEC_FLOOD_PACKETS` (default 10,000,000) TCP SYNs, each from a new source address
//! (10.0.0.0/8 and up, as a spoofing flooder sends them), to one victim at 1,000,000 packets/s
//! of packet time, through a sensor built from the default configuration: the bundled rules,
//! every behavioural detector, the application layer, the default flow memcap. Without the
//! memcap each source would hold a flow for the 120 s idle timeout: 10 million flows, about
//! 3 GB. The bench prints the flow table's memory and emergency counters, each detector's
//! table size and evictions, and the process's peak RSS (`VmHWM`).
//!
//! ```sh
//! cargo bench -p netsec-benches --bench flood_memory
//! ```

use std::time::Instant;

use netsec_core::capture::{LinkType, RawPacket};
use netsec_core::config::SensorConfig;
use netsec_core::time::Timestamp;

/// An IPv4/TCP SYN 10.0.0.1:40000 -> 192.0.2.80:80, no options.
const SYN: [u8; 40] = [
    0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 192, 0, 2, 80, // IPv4
    0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0x72, 0x10, 0, 0, 0, 0, // TCP
];

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let packets: u64 = std::env::var("NETSEC_FLOOD_PACKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let config = SensorConfig::default();
    let checked = config.check().expect("the default configuration checks");
    let mut sensor = checked.build().expect("sensor");
    let before = peak_rss_kib();
    let started = Instant::now();
    let mut frame = SYN;
    let (mut flows, mut alerts) = (0u64, 0u64);
    for i in 0..packets {
        // A new source per packet: 10.0.0.0 + i (wrapping within 10.0.0.0/8 and beyond).
        let src = 0x0a00_0000u32.wrapping_add(i as u32);
        frame[12..16].copy_from_slice(&src.to_be_bytes());
        frame[20..22].copy_from_slice(&((i % 50_000) as u16 + 1024).to_be_bytes());
        sensor.push(&RawPacket {
            ts: Timestamp::from_micros(1_700_000_000_000_000 + i as i64),
            link_type: LinkType::RAW,
            data: &frame,
            orig_len: frame.len() as u32,
        });
        if i % 4096 == 0 {
            flows += sensor.drain_flows().count() as u64;
            alerts += sensor.drain_alerts().count() as u64;
        }
    }
    let table = sensor.table_stats();
    let detectors = sensor.detector_stats();
    let memory = sensor.memory();
    loop {
        let done = sensor.finish_batch(4096);
        flows += sensor.drain_flows().count() as u64;
        alerts += sensor.drain_alerts().count() as u64;
        if done {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "flood: {packets} SYNs from {packets} sources in {secs:.2} s ({:.0} packets/s), {flows} flows, {alerts} alerts",
        packets as f64 / secs
    );
    println!(
        "flow table: memcap {} MiB, peak {} MiB ({} flows), emergency entered {} times, {} flows ended by the emergency timeout, {} evicted",
        config.flow.memcap_bytes >> 20,
        table.peak_memory_bytes >> 20,
        table.peak_flows,
        table.emergency_entered,
        table.emergency_expired,
        table.evicted
    );
    for d in &detectors {
        println!(
            "  {:<16} alerts {:>6}  tracked {:>7}  evicted {:>9}  memory {:>4} MiB of at most {:>3} MiB",
            d.detector,
            d.alerts,
            d.tracked,
            d.evicted,
            d.memory_bytes >> 20,
            d.memory_bound_bytes >> 20
        );
    }
    println!(
        "sensor state: flows {} MiB + detectors {} MiB; budget: memcap {} + detector bound {} = {} MiB (sensor memcap {} MiB)",
        memory.flow_bytes >> 20,
        memory.detector_bytes >> 20,
        memory.flow_memcap_bytes >> 20,
        memory.detector_bound_bytes >> 20,
        memory.bound_bytes() >> 20,
        config.memcap_bytes >> 20
    );
    match (before, peak_rss_kib()) {
        (Some(b), Some(p)) => println!("peak RSS: {} MiB (at start {} MiB)", p / 1024, b / 1024),
        _ => println!("peak RSS: unavailable (no /proc/self/status)"),
    }
}
