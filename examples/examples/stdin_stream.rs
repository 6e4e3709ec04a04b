//! Streaming from any `std::io::Read` (here stdin) with a bounded table and short timeouts,
//! as a live sensor would: `tcpdump -w - | cargo run -p netsec-examples --example stdin_stream`.
use std::io::Write;

use netsec_core::capture::PcapReader;
use netsec_core::features::Feature;
use netsec_core::flow::FlowTableConfig;
use netsec_core::pipeline::FlowPipeline;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = FlowTableConfig {
        idle_timeout_us: 30_000_000,
        max_flows: 100_000,
        ..FlowTableConfig::default()
    };
    let source = PcapReader::new(std::io::stdin().lock())?;
    let mut pipeline = FlowPipeline::new(source, config)?;
    let mut out = std::io::stdout().lock();
    pipeline.run(|flow| {
        let f = flow.features();
        writeln!(
            out,
            "{} {} pkts, {} bytes/s, ended by {}",
            flow.id,
            flow.packets(),
            f.get(Feature::FlowBytesS),
            flow.end_reason.as_str()
        )
    })?;
    Ok(())
}
