//! Opening a capture given on the command line (`-` = stdin).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use anyhow::Context;
use netsec_core::capture::PcapReader;

/// An opened capture and what the progress bar needs to know about it.
pub struct Input {
    /// The streaming reader.
    pub reader: PcapReader<Box<dyn Read>>,
    /// File size, when the input is a regular file.
    pub len: Option<u64>,
    /// Name for messages (`-` → `<stdin>`).
    pub name: String,
}

/// Opens `path` (or stdin for `-`) as a pcap/pcapng capture.
pub fn open(path: &Path) -> Result<Input, crate::Failure> {
    let (read, len, name): (Box<dyn Read>, Option<u64>, String) = if path == Path::new("-") {
        (Box::new(io::stdin().lock()), None, "<stdin>".to_string())
    } else {
        let file = File::open(path)
            .with_context(|| format!("cannot open capture {}", path.display()))
            .map_err(crate::Failure::BadInput)?;
        let len = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        (Box::new(file), len, path.display().to_string())
    };
    let reader = PcapReader::new(read)
        .with_context(|| format!("cannot read capture {name}"))
        .map_err(crate::Failure::BadInput)?;
    Ok(Input { reader, len, name })
}
