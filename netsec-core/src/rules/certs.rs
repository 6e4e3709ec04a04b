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

/// Per-flow certificate collection, bounded in flows.
#[derive(Debug)]
pub(crate) struct FlowCertificates {
    flows: HashMap<u64, CertificateCollector, RandomState>,
    max_flows: usize,
    /// Flows not followed because the table was full.
    pub(crate) dropped: u64,
}

impl FlowCertificates {
    /// A table following at most `max_flows` flows at once.
    pub(crate) fn new(max_flows: usize) -> Self {
        FlowCertificates {
            flows: HashMap::default(),
            max_flows,
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
        collector.feed_segment(ip.meta.tcp_seq, ip.payload)
    }

    /// Forgets a flow that ended.
    pub(crate) fn end_flow(&mut self, flow_id: u64) {
        if !self.flows.is_empty() {
            self.flows.remove(&flow_id);
        }
    }

    /// Flows followed now.
    pub(crate) fn len(&self) -> usize {
        self.flows.len()
    }
}
