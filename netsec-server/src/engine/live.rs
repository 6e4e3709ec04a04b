//! Live capture through libpcap (feature `live`): promiscuous, immediate delivery, an
//! optional BPF filter compiled by libpcap, and the kernel's received and dropped counters.

use netsec_core::capture::{LinkType, RawPacket};
use netsec_core::time::Timestamp;

use super::read::{KernelStats, Read, SourceError};

/// An open interface.
pub struct LiveSource {
    cap: pcap::Capture<pcap::Active>,
    link_type: LinkType,
}

impl LiveSource {
    /// Opens `interface` with `bpf`.
    ///
    /// # Errors
    /// [`SourceError::Live`] with libpcap's message.
    pub fn open(interface: &str, bpf: Option<&str>) -> Result<LiveSource, SourceError> {
        let fail = |e: pcap::Error| SourceError::Live {
            interface: interface.to_string(),
            reason: e.to_string(),
        };
        let mut cap = pcap::Capture::from_device(interface)
            .map_err(fail)?
            .promisc(true)
            .immediate_mode(true)
            .snaplen(65_535)
            .timeout(100)
            .open()
            .map_err(fail)?;
        if let Some(filter) = bpf {
            cap.filter(filter, true).map_err(fail)?;
        }
        let raw = cap.get_datalink().0;
        let link_type = LinkType(u16::try_from(raw).unwrap_or(u16::MAX));
        Ok(LiveSource { cap, link_type })
    }

    /// The next frame, or [`Read::Idle`] when none came within 100 ms.
    ///
    /// # Errors
    /// libpcap's message when the interface fails.
    pub fn next(&mut self) -> Result<Read<'_>, String> {
        match self.cap.next_packet() {
            Ok(p) => {
                // time_t and suseconds_t are i32 on 32-bit targets (a Pi with a 32-bit OS).
                #[allow(clippy::useless_conversion)]
                let ts = Timestamp::from_micros(
                    i64::from(p.header.ts.tv_sec) * 1_000_000 + i64::from(p.header.ts.tv_usec),
                );
                Ok(Read::Frame(RawPacket {
                    ts,
                    link_type: self.link_type,
                    data: p.data,
                    orig_len: p.header.len,
                }))
            }
            Err(pcap::Error::TimeoutExpired) => Ok(Read::Idle),
            Err(e) => Err(e.to_string()),
        }
    }

    /// `pcap_stats`: received, and dropped by the buffer or the interface.
    pub fn stats(&mut self) -> Option<KernelStats> {
        self.cap.stats().ok().map(|s| KernelStats {
            packets: u64::from(s.received),
            drops: u64::from(s.dropped) + u64::from(s.if_dropped),
        })
    }
}
