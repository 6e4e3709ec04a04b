//! Which packets a detector looks at, so a sensor does not call the ones a packet cannot
//! matter to.

use std::ops::BitOr;

use super::PacketView;
use crate::decode::IpProtocol;

/// A set of packet classes ([`Detector::interest`](super::Detector::interest)): ARP frames,
/// TCP segments without payload (control segments and bare ACKs, apart) and with payload,
/// UDP datagrams, ICMP messages, the rest (other IP protocols, non-first fragments of TCP and
/// UDP), and invalid packets (an IP header whose next header is missing or cut, see
/// [`DecodeEvents::INVALID`](crate::decode::DecodeEvents::INVALID)). Every packet is in
/// exactly one class ([`PacketInterest::of`]).
///
/// ```
/// use netsec_core::detect::PacketInterest;
///
/// let tcp = PacketInterest::TCP | PacketInterest::TCP_DATA;
/// assert!(tcp.intersects(PacketInterest::TCP_DATA));
/// assert!(!tcp.intersects(PacketInterest::ARP));
/// assert!(PacketInterest::ALL.intersects(PacketInterest::OTHER));
/// assert!(!PacketInterest::NONE.intersects(PacketInterest::ALL));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketInterest(u8);

impl PacketInterest {
    /// No packet: a detector that works on finished flows only.
    pub const NONE: PacketInterest = PacketInterest(0);
    /// ARP frames.
    pub const ARP: PacketInterest = PacketInterest(1);
    /// TCP segments without payload: [`TCP_CONTROL`](Self::TCP_CONTROL) and
    /// [`TCP_ACK`](Self::TCP_ACK).
    pub const TCP: PacketInterest = PacketInterest(1 << 1 | 1 << 6);
    /// TCP segments without payload other than bare ACKs (handshakes, FINs, RSTs, probes).
    pub const TCP_CONTROL: PacketInterest = PacketInterest(1 << 1);
    /// Bare ACKs: TCP segments without payload whose only flag is ACK (ECE and CWR aside),
    /// half the segments of a bulk transfer.
    pub const TCP_ACK: PacketInterest = PacketInterest(1 << 6);
    /// TCP segments with payload.
    pub const TCP_DATA: PacketInterest = PacketInterest(1 << 2);
    /// UDP datagrams (first fragments included).
    pub const UDP: PacketInterest = PacketInterest(1 << 3);
    /// ICMP and ICMPv6 messages (all fragments).
    pub const ICMP: PacketInterest = PacketInterest(1 << 4);
    /// Other IP protocols, and non-first fragments of TCP and UDP.
    pub const OTHER: PacketInterest = PacketInterest(1 << 5);
    /// Every valid packet (the default).
    pub const ALL: PacketInterest = PacketInterest((1 << 7) - 1);
    /// Invalid IP packets: the IP layer decoded but the header after it is missing or cut.
    /// They belong to no flow and carry no payload; the rule engine asks for them (decoder
    /// event rules), the default [`ALL`](Self::ALL) does not.
    pub const INVALID: PacketInterest = PacketInterest(1 << 7);

    /// The class of `pkt`.
    #[inline]
    pub fn of(pkt: &PacketView<'_>) -> PacketInterest {
        let PacketView::Ip(ip) = pkt else {
            return PacketInterest::ARP;
        };
        let m = &ip.meta;
        if m.events.is_invalid() {
            return PacketInterest::INVALID;
        }
        let whole = m.fragment.is_none_or(|f| f.is_first());
        match m.protocol {
            IpProtocol::TCP if whole && ip.payload.is_empty() && m.tcp_flags.only_ack() => {
                PacketInterest::TCP_ACK
            }
            IpProtocol::TCP if whole && ip.payload.is_empty() => PacketInterest::TCP_CONTROL,
            IpProtocol::TCP if whole => PacketInterest::TCP_DATA,
            IpProtocol::UDP if whole => PacketInterest::UDP,
            IpProtocol::ICMP | IpProtocol::ICMPV6 => PacketInterest::ICMP,
            _ => PacketInterest::OTHER,
        }
    }

    /// How many packet classes there are (the bits of [`PacketInterest::ALL`] and
    /// [`PacketInterest::INVALID`]).
    pub const CLASSES: usize = 8;

    /// The set with these class bits.
    pub const fn from_bits(bits: u8) -> PacketInterest {
        PacketInterest(bits)
    }

    /// The index (0..[`CLASSES`](Self::CLASSES)) of a single class as [`PacketInterest::of`]
    /// returns it: its lowest set bit (0 for an empty set).
    #[inline]
    pub const fn bit_index(self) -> usize {
        if self.0 == 0 {
            0
        } else {
            self.0.trailing_zeros() as usize
        }
    }

    /// Whether the two sets share a class.
    #[inline]
    pub const fn intersects(self, other: PacketInterest) -> bool {
        self.0 & other.0 != 0
    }
}

impl BitOr for PacketInterest {
    type Output = PacketInterest;

    fn bitor(self, rhs: PacketInterest) -> PacketInterest {
        PacketInterest(self.0 | rhs.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{IpPacket, L2Info, TcpFlags};
    use crate::synth;

    fn class(meta: crate::decode::PacketMeta, payload: &[u8]) -> PacketInterest {
        let ip = IpPacket {
            meta,
            payload,
            l2: L2Info::default(),
            transport_error: None,
            ip_header: &[],
            transport_header: &[],
        };
        PacketInterest::of(&PacketView::Ip(&ip))
    }

    #[test]
    fn one_class_per_packet() {
        let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let syn = synth::tcp(0, c, 40000, s, 80, TcpFlags::SYN, 0, 64240);
        assert_eq!(class(syn, b""), PacketInterest::TCP_CONTROL);
        let ack = synth::tcp(0, c, 40000, s, 80, TcpFlags::ACK | 0x40, 0, 64240);
        assert_eq!(class(ack, b""), PacketInterest::TCP_ACK);
        assert!(PacketInterest::TCP.intersects(PacketInterest::TCP_ACK));
        let data = synth::tcp(1, c, 40000, s, 80, TcpFlags::ACK, 3, 64240);
        assert_eq!(class(data, b"GET"), PacketInterest::TCP_DATA);
        assert_eq!(
            class(synth::udp(2, c, 5000, s, 53, 3), b"abc"),
            PacketInterest::UDP
        );
        let later = synth::fragment(synth::udp(3, c, 5000, s, 53, 3), 7, 185, false);
        assert_eq!(class(later, b"abc"), PacketInterest::OTHER);
        for p in [
            PacketInterest::TCP_CONTROL,
            PacketInterest::TCP_ACK,
            PacketInterest::UDP,
            PacketInterest::OTHER,
        ] {
            assert_eq!(p.0.count_ones(), 1);
            assert!(PacketInterest::ALL.intersects(p));
        }
    }

    #[test]
    fn each_class_has_its_own_index() {
        let mut seen = [false; PacketInterest::CLASSES];
        for i in 0..PacketInterest::CLASSES {
            let c = PacketInterest::from_bits(1 << i);
            assert_eq!(c.bit_index(), i);
            assert!(!std::mem::replace(&mut seen[c.bit_index()], true));
        }
        assert_eq!(
            PacketInterest::from_bits(0xff),
            PacketInterest::ALL | PacketInterest::INVALID
        );
        assert_eq!(PacketInterest::ARP.bit_index(), 0);
        assert_eq!(
            PacketInterest::INVALID.bit_index(),
            PacketInterest::CLASSES - 1
        );
        assert!(!PacketInterest::ALL.intersects(PacketInterest::INVALID));
    }
}
