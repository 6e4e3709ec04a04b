//! The library in ten lines: read a capture, print each finished flow and its features.
//!
//! `cargo run -p netsec-examples --example flows -- samples/synthetic.pcap`
use netsec_core::capture::PcapReader;
use netsec_core::flow::FlowTableConfig;
use netsec_core::pipeline::FlowPipeline;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "samples/synthetic.pcap".into());
    let source = PcapReader::open(&path)?;
    let mut pipeline = FlowPipeline::new(source, FlowTableConfig::default())?;
    pipeline.run(|flow| {
        println!(
            "{} {}:{} -> {}:{} {:?}",
            flow.id,
            flow.src_addr,
            flow.src_port,
            flow.dst_addr,
            flow.dst_port,
            flow.features().as_array()
        );
        Ok::<(), std::io::Error>(())
    })?;
    eprintln!("{:?}", pipeline.stats());
    Ok(())
}
