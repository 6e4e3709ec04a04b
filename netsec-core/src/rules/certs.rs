//! The server certificate chains of the TLS flows rules look at: one
//! [`CertificateCollector`] per flow, fed the server's segments in order, until the chain is
//! whole (the packet that completes it carries the certificate buffers) or the handshake
//! went past it.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::app::tls_certs::{CertChain, CertificateCollector};
use crate::app::AppProto;
use crate::decode::{IpPacket, IpProtocol};
use crate::flow::FlowContext;

/// Bytes all collectors together may hold: beyond it, the collection that would grow is
/// abandoned (and counted), so hostile handshakes cannot make the table large.
pub(crate) const MAX_HELD_BYTES: usize = 8 << 20;

/// Per-flow certificate collection, bounded in flows and in bytes held.
#[derive(Debug)]
pub(crate) struct FlowCertificates {
    flows: HashMap<u64, CertificateCollector, RandomState>,
    max_flows: usize,
    /// Bytes the collectors hold now.
    held: usize,
    /// Flows not followed because the table was full, or abandoned for the byte budget.
    pub(crate) dropped: u64,
}

impl FlowCertificates {
    /// A table following at most `max_flows` flows at once.
    pub(crate) fn new(max_flows: usize) -> Self {
        FlowCertificates {
            flows: HashMap::default(),
            max_flows,
            held: 0,
            dropped: 0,
        }
    }

    /// Gives a segment the server of a TLS flow sent to its collector (which puts segments
    /// in order by sequence number). Returns the chain when this packet completed it.
    pub(crate) fn feed(&mut self, ip: &IpPacket<'_>, flow: &FlowContext) -> Option<CertChain> {
        if ip.payload.is_empty()
            || ip.meta.protocol != IpProtocol::TCP
            || flow.app_proto != AppProto::Tls
            || flow.direction.is_forward()
        {
            return None;
        }
        let full = self.flows.len() >= self.max_flows;
        let collector = match self.flows.get_mut(&flow.flow_id) {
            Some(c) => c,
            None if full => {
                self.dropped += 1;
                return None;
            }
            None => self.flows.entry(flow.flow_id).or_default(),
        };
        let before = collector.held_bytes();
        let chain = collector.feed_segment(ip.meta.tcp_seq, ip.payload);
        let after = collector.held_bytes();
        self.held = self.held.saturating_sub(before) + after;
        if self.held > MAX_HELD_BYTES {
            collector.abandon();
            self.held = self.held.saturating_sub(after);
            self.dropped += 1;
        }
        chain
    }

    /// Forgets a flow that ended.
    pub(crate) fn end_flow(&mut self, flow_id: u64) {
        if let Some(c) = self.flows.remove(&flow_id) {
            self.held = self.held.saturating_sub(c.held_bytes());
        }
    }

    /// Flows followed now.
    pub(crate) fn len(&self) -> usize {
        self.flows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{L2Info, TcpFlags};
    use crate::flow::Direction;

    #[test]
    fn collectors_together_hold_at_most_the_byte_budget() {
        // A handshake record claiming 16 KB of which a segment brings 10 KB: held, waiting.
        let mut data = vec![22, 3, 3, 0x40, 0];
        data.resize(10_000, 0);
        let mut meta = crate::synth::tcp(
            0,
            std::net::Ipv4Addr::new(10, 0, 0, 2),
            443,
            std::net::Ipv4Addr::new(10, 0, 0, 1),
            40000,
            TcpFlags::ACK,
            data.len() as u32,
            512,
        );
        meta.tcp_seq = 1;
        let ip = IpPacket {
            meta,
            payload: &data,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        let mut t = FlowCertificates::new(10_000);
        for id in 0..1000 {
            let mut f = crate::behaviour::tests_util::new_flow(id);
            f.app_proto = AppProto::Tls;
            f.direction = Direction::Backward;
            assert!(t.feed(&ip, &f).is_none());
            assert!(t.held <= MAX_HELD_BYTES, "{} after flow {id}", t.held);
        }
        assert!(t.dropped > 0);
        // Ending the flows gives their bytes back.
        for id in 0..1000 {
            t.end_flow(id);
        }
        assert_eq!((t.held, t.len()), (0, 0));
    }
}
