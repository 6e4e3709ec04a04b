//! The canonical bidirectional flow key and packet direction — the only place with direction
//! logic.
//!
//! A [`FlowKey`] orders its two endpoints, so both directions of a conversation give the same
//! key: `FlowKey::new(a, b) == FlowKey::new(b, a)`. Which endpoint is the *forward* side is a
//! property of the flow, not the key: the sender of the flow's first packet, except that a flow
//! whose first packet is a TCP SYN+ACK is flipped so forward is the client
//! ([`forward_endpoint`]). [`Direction`] is then relative to that side.

use std::net::IpAddr;

use crate::decode::{IpProtocol, PacketMeta};

/// One of the two endpoints of a [`FlowKey`], in the key's canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// The endpoint that sorts first (address, then port).
    Lo,
    /// The endpoint that sorts second.
    Hi,
}

impl Endpoint {
    /// The other endpoint.
    pub fn other(self) -> Endpoint {
        match self {
            Endpoint::Lo => Endpoint::Hi,
            Endpoint::Hi => Endpoint::Lo,
        }
    }
}

/// Canonical bidirectional 5-tuple: `Copy`, no heap data, cheap to hash.
///
/// ICMP echo request and reply share a key because the decoder puts the identifier in both
/// port fields; other ICMP messages use type/code as ports.
///
/// Addresses are held as integers (IPv4 in the low 32 bits, with family flags so IPv4 and
/// IPv6 never share a key): a key is 40 bytes of plain data, compared and hashed in a few word
/// operations on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    lo_addr: u128,
    hi_addr: u128,
    lo_port: u16,
    hi_port: u16,
    protocol: IpProtocol,
    /// Bit 0: the lo address is IPv6; bit 1: the hi address is IPv6.
    families: u8,
}

impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Three writes instead of one per field: the flow table hashes every packet's key.
        state.write_u128(self.lo_addr);
        state.write_u128(self.hi_addr);
        state.write_u64(
            u64::from(self.lo_port) << 32
                | u64::from(self.hi_port) << 16
                | u64::from(self.protocol.0) << 8
                | u64::from(self.families),
        );
    }
}

/// An address as (integer, is IPv6).
#[inline]
fn addr_bits(addr: IpAddr) -> (u128, bool) {
    match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)), false),
        IpAddr::V6(a) => (u128::from(a), true),
    }
}

/// The address back from its integer form.
#[inline]
fn addr_from_bits(bits: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(bits.into())
    } else {
        // Only the low 32 bits are ever set for IPv4 keys.
        IpAddr::V4(std::net::Ipv4Addr::from(bits as u32))
    }
}

impl FlowKey {
    /// The key of a conversation, the same whichever side is given as source.
    pub fn new(
        src_addr: IpAddr,
        src_port: u16,
        dst_addr: IpAddr,
        dst_port: u16,
        protocol: IpProtocol,
    ) -> FlowKey {
        Self::oriented(src_addr, src_port, dst_addr, dst_port, protocol).0
    }

    /// The key plus which of its endpoints is the given source.
    pub fn oriented(
        src_addr: IpAddr,
        src_port: u16,
        dst_addr: IpAddr,
        dst_port: u16,
        protocol: IpProtocol,
    ) -> (FlowKey, Endpoint) {
        let (src, src_v6) = addr_bits(src_addr);
        let (dst, dst_v6) = addr_bits(dst_addr);
        let (lo, hi, sender) = if (src_v6, src, src_port) <= (dst_v6, dst, dst_port) {
            (
                (src, src_port, src_v6),
                (dst, dst_port, dst_v6),
                Endpoint::Lo,
            )
        } else {
            (
                (dst, dst_port, dst_v6),
                (src, src_port, src_v6),
                Endpoint::Hi,
            )
        };
        let key = FlowKey {
            lo_addr: lo.0,
            hi_addr: hi.0,
            lo_port: lo.1,
            hi_port: hi.1,
            protocol,
            families: u8::from(lo.2) | u8::from(hi.2) << 1,
        };
        (key, sender)
    }

    /// The key of a decoded packet plus the endpoint that sent it.
    pub fn from_meta(meta: &PacketMeta) -> (FlowKey, Endpoint) {
        Self::oriented(
            meta.src_addr,
            meta.src_port,
            meta.dst_addr,
            meta.dst_port,
            meta.protocol,
        )
    }

    /// Address and port of one endpoint.
    pub fn endpoint(&self, which: Endpoint) -> (IpAddr, u16) {
        match which {
            Endpoint::Lo => (
                addr_from_bits(self.lo_addr, self.families & 1 != 0),
                self.lo_port,
            ),
            Endpoint::Hi => (
                addr_from_bits(self.hi_addr, self.families & 2 != 0),
                self.hi_port,
            ),
        }
    }

    /// The IP protocol.
    pub fn protocol(&self) -> IpProtocol {
        self.protocol
    }
}

/// Direction of a packet relative to its flow's forward side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Sent by the forward side (normally the client: the sender of the first packet).
    Forward,
    /// Sent by the other side.
    Backward,
}

impl Direction {
    /// Direction of a packet sent by `sender` in a flow whose forward side is `forward`.
    pub fn of(sender: Endpoint, forward: Endpoint) -> Direction {
        if sender == forward {
            Direction::Forward
        } else {
            Direction::Backward
        }
    }

    /// `"forward"` or `"backward"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Forward => "forward",
            Direction::Backward => "backward",
        }
    }

    /// Whether this is [`Direction::Forward`].
    pub fn is_forward(self) -> bool {
        self == Direction::Forward
    }
}

/// The forward endpoint of a new flow whose first packet is `first`, sent by `sender`.
///
/// Forward is the first packet's sender, except a first packet that is a TCP SYN+ACK (we missed
/// the SYN): its receiver is the client, so the flow is flipped.
pub fn forward_endpoint(first: &PacketMeta, sender: Endpoint) -> Endpoint {
    let flags = first.tcp_flags;
    if first.protocol == IpProtocol::TCP && flags.syn() && flags.ack() {
        sender.other()
    } else {
        sender
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::TcpFlags;
    use crate::synth;
    use proptest::prelude::*;

    fn addr() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    proptest! {
        #[test]
        fn key_is_symmetric(a in addr(), pa: u16, b in addr(), pb: u16, proto: u8) {
            let p = IpProtocol(proto);
            prop_assert_eq!(FlowKey::new(a, pa, b, pb, p), FlowKey::new(b, pb, a, pa, p));
            let (k1, e1) = FlowKey::oriented(a, pa, b, pb, p);
            let (_, e2) = FlowKey::oriented(b, pb, a, pa, p);
            prop_assert_eq!(k1.endpoint(e1), (a, pa));
            if (a, pa) != (b, pb) {
                prop_assert_eq!(e1, e2.other());
            }
        }
    }

    #[test]
    fn syn_ack_first_is_flipped() {
        let syn_ack = synth::tcp(
            0,
            [10, 0, 0, 2],
            80,
            [10, 0, 0, 1],
            40000,
            TcpFlags::SYN | TcpFlags::ACK,
            0,
            100,
        );
        let (_, sender) = FlowKey::from_meta(&syn_ack);
        assert_eq!(forward_endpoint(&syn_ack, sender), sender.other());
        let syn = synth::tcp(
            0,
            [10, 0, 0, 1],
            40000,
            [10, 0, 0, 2],
            80,
            TcpFlags::SYN,
            0,
            1,
        );
        let (_, sender) = FlowKey::from_meta(&syn);
        assert_eq!(forward_endpoint(&syn, sender), sender);
    }

    #[test]
    fn v4_and_v6_never_share_a_key() {
        let v4 = FlowKey::new(
            [0, 0, 0, 1].into(),
            1,
            [0, 0, 0, 2].into(),
            2,
            IpProtocol::UDP,
        );
        let mapped: IpAddr = "::ffff:0.0.0.1".parse().expect("literal");
        let mapped2: IpAddr = "::ffff:0.0.0.2".parse().expect("literal");
        assert_ne!(v4, FlowKey::new(mapped, 1, mapped2, 2, IpProtocol::UDP));
    }
}
