//! [`LinkType`]: the pcap `LINKTYPE_*` number of a capture's link layer.

/// A link-layer header type (the pcap `LINKTYPE_*` number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback / null: 4-byte address family in host byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II / 802.3.
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP (IPv4 or IPv6, from the version nibble).
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1.
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);
    /// Raw IP on some BSDs (historic DLT_RAW value 12 in pcap files).
    pub const RAW_BSD: LinkType = LinkType(12);
    /// Raw IP as written by OpenBSD (DLT_RAW 14).
    pub const RAW_OPENBSD: LinkType = LinkType(14);
    /// IEEE 802.11 frames without a radio header.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// IEEE 802.11 frames after a radiotap header (`LINKTYPE_IEEE802_11_RADIOTAP`).
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);

    /// Whether the decoder (`decode`) understands this link type.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            LinkType::NULL
                | LinkType::ETHERNET
                | LinkType::RAW
                | LinkType::RAW_BSD
                | LinkType::RAW_OPENBSD
                | LinkType::LOOP
                | LinkType::LINUX_SLL
                | LinkType::IPV4
                | LinkType::IPV6
                | LinkType::LINUX_SLL2
                | LinkType::IEEE802_11
                | LinkType::IEEE802_11_RADIOTAP
        )
    }
}

impl std::fmt::Display for LinkType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
