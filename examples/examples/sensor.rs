//! The sensor in a few lines: push every frame of a capture into a sensor assembled from the
//! default configuration (bundled rules, behavioural detectors), print its alerts as JSON, and
//! its counters at the end. A live capture thread would push its frames the same way, and call
//! `sensor.tick(now)` once a second so idle flows end while the network is quiet.
//!
//! `cargo run -p netsec-examples --example sensor -- samples/synthetic.pcap`
use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::config::SensorConfig;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "samples/synthetic.pcap".into());
    let mut sensor = SensorConfig::default().check()?.build()?;
    let mut source = PcapReader::open(&path)?;
    while let Some(frame) = source.next_packet()? {
        sensor.push(&frame);
        for alert in sensor.drain_alerts() {
            println!("{}", serde_json::to_string(&alert)?);
        }
        sensor.drain_flows().for_each(drop);
    }
    sensor.finish();
    for alert in sensor.drain_alerts() {
        println!("{}", serde_json::to_string(&alert)?);
    }
    eprintln!("{}", serde_json::to_string(sensor.stats())?);
    Ok(())
}
