//! SSH KEXINIT messages that span segments, for the HASSH buffers: a side whose segment
//! starts a KEXINIT it does not hold whole has the following segments of that side (in
//! sequence order) appended until it is; the packet that completes it carries the whole
//! message.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use crate::app::AppProto;
use crate::decode::{IpPacket, IpProtocol};
use crate::flow::FlowContext;

/// SSH's message number of KEXINIT (RFC 4253 §7.1).
const MSG_KEXINIT: u8 = 20;
/// Largest SSH packet an implementation must take (RFC 4253 §6.1): a longer claimed length
/// is not followed.
const MAX_PACKET: usize = 35_000;

#[derive(Debug)]
struct Pending {
    bytes: Vec<u8>,
    need: usize,
    next_seq: u32,
}

/// Bytes all pending KEXINITs together may hold: a collection that would pass it is not
/// started.
const MAX_HELD_BYTES: usize = 4 << 20;

/// KEXINITs being collected, by (flow, side), bounded in entries and bytes.
#[derive(Debug)]
pub(crate) struct FlowKexinits {
    pending: HashMap<(u64, bool), Pending, RandomState>,
    max_entries: usize,
    /// Bytes the pending messages will hold once whole (their claimed lengths).
    held: usize,
}

impl FlowKexinits {
    /// A table collecting at most `max_entries` messages at once.
    pub(crate) fn new(max_entries: usize) -> Self {
        FlowKexinits {
            pending: HashMap::default(),
            max_entries,
            held: 0,
        }
    }

    /// Gives a segment of an SSH flow; returns the whole KEXINIT packet (length, padding
    /// length, message) when this segment completed one that spanned segments.
    pub(crate) fn feed(&mut self, ip: &IpPacket<'_>, flow: &FlowContext) -> Option<Vec<u8>> {
        let payload = ip.payload;
        if payload.is_empty()
            || ip.meta.protocol != IpProtocol::TCP
            || flow.app_proto != AppProto::Ssh
        {
            return None;
        }
        let key = (flow.flow_id, flow.direction.is_forward());
        let seq = ip.meta.tcp_seq;
        if let Some(p) = self.pending.get_mut(&key) {
            // In order only: a retransmission or a segment after a gap is not appended.
            if seq != p.next_seq {
                return None;
            }
            p.bytes.extend_from_slice(payload);
            p.next_seq = seq.wrapping_add(payload.len() as u32);
            if p.bytes.len() < p.need {
                return None;
            }
            let p = self.pending.remove(&key)?;
            self.held = self.held.saturating_sub(p.need);
            return Some(p.bytes);
        }
        // After the identification line, if the segment starts with it.
        let packet = if payload.starts_with(b"SSH-") {
            let eol = memchr::memchr(b'\n', payload)?;
            &payload[eol + 1..]
        } else {
            payload
        };
        let header = packet.get(..6)?;
        let need = 4 + u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if header[5] != MSG_KEXINIT || need <= packet.len() || need > MAX_PACKET {
            return None;
        }
        if self.pending.len() < self.max_entries && self.held + need <= MAX_HELD_BYTES {
            self.held += need;
            self.pending.insert(
                key,
                Pending {
                    bytes: packet.to_vec(),
                    need,
                    next_seq: seq.wrapping_add(payload.len() as u32),
                },
            );
        }
        None
    }

    /// Forgets a flow that ended.
    pub(crate) fn end_flow(&mut self, flow_id: u64) {
        if !self.pending.is_empty() {
            for side in [true, false] {
                if let Some(p) = self.pending.remove(&(flow_id, side)) {
                    self.held = self.held.saturating_sub(p.need);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{L2Info, TcpFlags};
    use crate::flow::Direction;

    fn segment(seq: u32, payload: &[u8]) -> IpPacket<'_> {
        let mut meta = crate::synth::tcp(
            0,
            std::net::Ipv4Addr::new(10, 0, 0, 1),
            40000,
            std::net::Ipv4Addr::new(10, 0, 0, 2),
            22,
            TcpFlags::ACK,
            payload.len() as u32,
            512,
        );
        meta.tcp_seq = seq;
        IpPacket {
            meta,
            payload,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        }
    }

    #[test]
    fn a_kexinit_cut_across_segments_is_whole_on_the_last() {
        let k = crate::app::ssh::tests::kexinit_packet([
            "diffie-hellman-group1-sha1",
            "ssh-rsa",
            "aes128-cbc",
            "aes128-cbc",
            "hmac-sha1",
            "hmac-sha1",
            "none",
            "none",
            "",
            "",
        ]);
        let mut f = crate::behaviour::tests_util::new_flow(1);
        f.app_proto = AppProto::Ssh;
        f.direction = Direction::Forward;
        let mut t = FlowKexinits::new(8);
        let (a, rest) = k.split_at(40);
        let (b, c) = rest.split_at(30);
        assert_eq!(t.feed(&segment(100, a), &f), None);
        // A retransmission of the first part, and a segment after a gap, are not appended.
        assert_eq!(t.feed(&segment(100, a), &f), None);
        assert_eq!(t.feed(&segment(170, c), &f), None);
        assert_eq!(t.feed(&segment(140, b), &f), None);
        assert_eq!(t.feed(&segment(170, c), &f), Some(k.clone()));
        // Whole in one segment: nothing to collect (the packet itself holds it).
        assert_eq!(t.feed(&segment(500, &k), &f), None);
        // Another protocol: never.
        f.app_proto = AppProto::Tls;
        assert_eq!(t.feed(&segment(900, a), &f), None);
        assert!(t.pending.is_empty());
    }
}
