//! The decoder's cheap, `Copy` error ([`DecodeError`]) and the [`Layer`] it names: defined
//! with the wire views, which return them, and used by the decoder above.

use super::LinkType;

/// The protocol layer where decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Layer {
    /// Link-layer header (Ethernet, SLL, null …).
    Link,
    /// 802.1Q / QinQ tag.
    Vlan,
    /// MPLS label stack.
    Mpls,
    /// IPv4 header.
    Ipv4,
    /// IPv6 header.
    Ipv6,
    /// IPv6 extension header chain.
    Ipv6Ext,
    /// TCP header.
    Tcp,
    /// UDP header.
    Udp,
    /// ICMP / ICMPv6 header.
    Icmp,
    /// ARP.
    Arp,
    /// A tunnel header (VXLAN …).
    Tunnel,
}

impl Layer {
    /// Lower-case name for statistics output.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Vlan => "vlan",
            Layer::Mpls => "mpls",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Ipv6Ext => "ipv6_ext",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Arp => "arp",
            Layer::Tunnel => "tunnel",
        }
    }
}

/// Why decoding failed: cheap and `Copy`, no allocation on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The link type is not one we decode.
    #[error("unsupported link type {0}")]
    UnsupportedLinkType(LinkType),
    /// A header is cut short.
    #[error("{} header truncated: needed {needed} bytes, had {actual}", layer.name())]
    Truncated {
        /// Where.
        layer: Layer,
        /// Bytes the header needs.
        needed: u32,
        /// Bytes available.
        actual: u32,
    },
    /// A header field holds an impossible value.
    #[error("invalid {} header: {what}", layer.name())]
    Invalid {
        /// Where.
        layer: Layer,
        /// Which field.
        what: &'static str,
    },
}

impl DecodeError {
    /// The layer that failed (`Link` for an unsupported link type).
    pub fn layer(&self) -> Layer {
        match self {
            DecodeError::UnsupportedLinkType(_) => Layer::Link,
            DecodeError::Truncated { layer, .. } | DecodeError::Invalid { layer, .. } => *layer,
        }
    }
}
