//! Host inventory: who talks on the network, as a Zeek user would list them from
//! `known_hosts`, `known_services`, `software` and `dhcp` logs.
//!
//! An [`Inventory`] is fed packet by packet ([`Inventory::observe`], or as a
//! [`Detector`] that never alerts) and reports one [`Host`] per unicast
//! IP address seen in traffic or claimed in ARP:
//!
//! - **MAC and vendor**: the ARP sender or DHCP-assigned binding when there is one, else the
//!   source MAC of the host's packets. A MAC that fronts more than
//!   [`InventoryConfig::router_ips`] addresses is a router's: it is given only to the (at most
//!   two) addresses whose packets arrive with an unchanged initial TTL (exactly 32, 64, 128 or
//!   255; a routed packet has lost at least one), so remote hosts get no MAC and the router
//!   keeps its own; behind a NAT that rewrites every TTL nobody gets it from packets.
//!   The vendor comes from the bundled IEEE registry ([`oui`]).
//! - **Host names** with their source: the DHCP host name (option 12) of its MAC, the names of
//!   DNS A/AAAA answers for its address, PTR answers for its reverse name, mDNS answers, and
//!   the workstation name of its NetBIOS name registrations.
//! - **Services it answered on**: TCP ports it sent a SYN-ACK from, UDP ports it replied from
//!   (a packet against its flow's direction, from a port below the client's and below 49152,
//!   which keeps peer-to-peer and RTP port pairs out), and udp/67 for DHCP servers.
//! - **OS hints**: the initial TTL (the highest TTL it sent, rounded up to 32, 64, 128 or 255)
//!   and the window of its first TCP SYN, with the usual reading of the TTL (64 Unix-like,
//!   128 Windows, 255 network equipment).
//! - First and last seen, packets and IP bytes sent and received, DHCP vendor class.
//!
//! Memory is bounded: at most [`InventoryConfig::max_hosts`] hosts (and as many MACs and
//! DNS-named addresses); what does not fit is counted in [`InventoryStats`], never stored. Per
//! host at most [`MAX_NAMES`] names, [`MAX_SERVICES`] services and [`MAX_MACS`] MACs are kept.
//! Per packet the cost is two hash lookups of the addresses; DNS and DHCP payloads are parsed
//! only on their ports, and names are allocated only when new.
//!
//! DNS and DHCP come from single datagrams (see [`crate::app::dns`] and [`crate::app::dhcp`]
//! for what is not reassembled).
//!
//! ```
//! use netsec_core::capture::{LinkType, PcapReader, PcapWriter};
//! use netsec_core::inventory::{Inventory, InventoryConfig};
//! use netsec_core::time::Timestamp;
//!
//! // 10.0.0.1 opens TCP port 22 on 10.0.0.2, which answers SYN-ACK with TTL 64.
//! let syn = [0x45,0,0,40, 0,0,0,0, 128,6,0,0, 10,0,0,1, 10,0,0,2,
//!            0xc0,0,0,22, 0,0,0,0, 0,0,0,0, 0x50,0x02,0xfa,0xf0, 0,0,0,0];
//! let synack = [0x45,0,0,40, 0,0,0,0, 64,6,0,0, 10,0,0,2, 10,0,0,1,
//!               0,22,0xc0,0, 0,0,0,0, 0,0,0,1, 0x50,0x12,0x72,0x10, 0,0,0,0];
//! let mut w = PcapWriter::new(Vec::new(), LinkType::RAW, 65535)?;
//! w.write_packet(Timestamp::from_micros(1_000_000), &syn, 40)?;
//! w.write_packet(Timestamp::from_micros(1_000_500), &synack, 40)?;
//! let capture = w.into_inner()?;
//!
//! let mut inventory = Inventory::new(InventoryConfig::default());
//! assert_eq!(inventory.read_capture(PcapReader::new(capture.as_slice())?)?, 2);
//! let hosts = inventory.hosts();
//! assert_eq!(hosts.len(), 2);
//! assert_eq!(hosts[0].os.initial_ttl, Some(128));
//! assert_eq!(hosts[0].os.syn_window, Some(64240));
//! assert_eq!(hosts[1].services, ["tcp/22"]);
//! assert_eq!(hosts[1].os.guess, Some("Linux/Unix (TTL 64)"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod oui;

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use foldhash::fast::RandomState;
use hashbrown::HashMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::app::dhcp::{DhcpMessage, MessageType};
use crate::app::dns::{DnsMessage, Name, RData, MAX_NAME_WIRE_LEN};
use crate::capture::{CaptureError, PacketSource};
use crate::decode::{is_unicast, mac_string, IpPacket, IpProtocol};
use crate::detect::{Alert, Detector, PacketView};
use crate::flow::{Direction, FlowConfigError, FlowContext, FlowTableConfig};
use crate::pipeline::Tracker;
use crate::time::Timestamp;

/// Names kept per host.
pub const MAX_NAMES: usize = 8;
/// Services kept per host.
pub const MAX_SERVICES: usize = 64;
/// Source MACs kept per host.
pub const MAX_MACS: usize = 4;

/// Settings of an [`Inventory`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InventoryConfig {
    /// Most hosts (and MACs, and DNS-named addresses) tracked (default 65536).
    pub max_hosts: usize,
    /// A MAC seen as the source of more addresses than this is a router's: the addresses
    /// behind it get no MAC from their packets (default 4: a host has an IPv4 address and a
    /// few IPv6 ones).
    pub router_ips: u32,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig {
            max_hosts: 1 << 16,
            router_ips: 4,
        }
    }
}

/// Why an inventory run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InventoryError {
    /// The capture could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The flow-table settings are invalid.
    #[error(transparent)]
    FlowConfig(#[from] FlowConfigError),
}

/// Where a host name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    /// DHCP host-name option of the host's MAC.
    Dhcp,
    /// A DNS A or AAAA answer for the host's address.
    DnsA,
    /// A DNS PTR answer for the host's reverse name.
    DnsPtr,
    /// An mDNS answer (UDP 5353).
    Mdns,
    /// A NetBIOS name registration or refresh (UDP 137) of a unique workstation name.
    Netbios,
}

impl NameSource {
    /// Short lower-case name (`dhcp`, `dns_a`, `dns_ptr`, `mdns`, `netbios`).
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::Dhcp => "dhcp",
            NameSource::DnsA => "dns_a",
            NameSource::DnsPtr => "dns_ptr",
            NameSource::Mdns => "mdns",
            NameSource::Netbios => "netbios",
        }
    }
}

/// A host name and where it was learnt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hostname {
    /// The name (DNS names dotted, bytes outside printable ASCII escaped as `\DDD`).
    pub name: String,
    /// Where it came from.
    pub source: NameSource,
}

/// Operating-system hints from the host's own packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OsHint {
    /// Highest TTL the host sent, rounded up to 32, 64, 128 or 255.
    pub initial_ttl: Option<u8>,
    /// TCP window of the first SYN (without ACK) it sent.
    pub syn_window: Option<u16>,
    /// The usual reading of the initial TTL.
    pub guess: Option<&'static str>,
}

/// One host of the inventory report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    /// The address.
    pub ip: IpAddr,
    /// Its MAC (`aa:bb:cc:dd:ee:ff`), when attributable.
    pub mac: Option<String>,
    /// The MAC's vendor from the IEEE registry; `"(locally administered)"` for randomised MACs.
    pub vendor: Option<String>,
    /// Host names, DHCP first, then by source and name.
    pub hostnames: Vec<Hostname>,
    /// Services it answered on, as `tcp/22`, `udp/53`, sorted by protocol and port.
    pub services: Vec<String>,
    /// OS hints.
    pub os: OsHint,
    /// DHCP vendor class (option 60) of its MAC.
    pub dhcp_vendor_class: Option<String>,
    /// First packet time.
    #[serde(serialize_with = "display")]
    pub first_seen: Timestamp,
    /// Last packet time.
    #[serde(serialize_with = "display")]
    pub last_seen: Timestamp,
    /// Packets it sent (IP and ARP).
    pub packets_sent: u64,
    /// IP bytes it sent.
    pub bytes_sent: u64,
    /// Packets it received (IP).
    pub packets_received: u64,
    /// IP bytes it received.
    pub bytes_received: u64,
}

fn display<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t)
}

/// What an inventory holds and what it had to drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct InventoryStats {
    /// Hosts tracked.
    pub hosts: usize,
    /// Packets whose new host did not fit under `max_hosts`.
    pub dropped_hosts: u64,
    /// MACs tracked.
    pub macs: usize,
    /// New MACs that did not fit.
    pub dropped_macs: u64,
    /// Names not kept (per-host cap, or the DNS-name table full).
    pub dropped_names: u64,
    /// Services not kept (per-host cap).
    pub dropped_services: u64,
}

/// Per-host state.
#[derive(Debug, Clone)]
struct HostState {
    first: Timestamp,
    last: Timestamp,
    packets_sent: u64,
    bytes_sent: u64,
    packets_received: u64,
    bytes_received: u64,
    /// Source MACs of its packets (at most `MAX_MACS`).
    l2_macs: Vec<[u8; 6]>,
    /// From ARP (sender) or a DHCP ACK: authoritative.
    bound_mac: Option<[u8; 6]>,
    /// (protocol, port), at most `MAX_SERVICES`.
    services: Vec<(IpProtocol, u16)>,
    max_ttl: u8,
    syn_window: Option<u16>,
}

impl HostState {
    fn new(now: Timestamp) -> Self {
        HostState {
            first: now,
            last: now,
            packets_sent: 0,
            bytes_sent: 0,
            packets_received: 0,
            bytes_received: 0,
            l2_macs: Vec::new(),
            bound_mac: None,
            services: Vec::new(),
            max_ttl: 0,
            syn_window: None,
        }
    }

    fn touch(&mut self, now: Timestamp) {
        self.first = self.first.min(now);
        self.last = self.last.max(now);
    }
}

/// Per-MAC state.
#[derive(Debug, Clone, Default)]
struct MacState {
    /// Addresses whose packets carried this source MAC.
    ips: u32,
    dhcp_hostname: Option<String>,
    vendor_class: Option<String>,
}

/// The inventory under construction; see the module docs.
#[derive(Debug)]
pub struct Inventory {
    config: InventoryConfig,
    hosts: HashMap<IpAddr, HostState, RandomState>,
    macs: HashMap<[u8; 6], MacState, RandomState>,
    /// Names learnt from DNS for addresses (joined to hosts in the report).
    dns_names: HashMap<IpAddr, Vec<Hostname>, RandomState>,
    stats: InventoryStats,
}

/// Whether `mac` can be a station's own address (unicast, not all-zero).
fn is_station_mac(mac: [u8; 6]) -> bool {
    mac[0] & 1 == 0 && mac != [0; 6]
}

/// The initial TTL a sender most likely used: `ttl` rounded up to 32, 64, 128 or 255.
pub fn initial_ttl(ttl: u8) -> u8 {
    match ttl {
        0..=32 => 32,
        33..=64 => 64,
        65..=128 => 128,
        _ => 255,
    }
}

/// Whether `ttl` is one of the usual initial TTLs, i.e. the packet crossed no router.
fn has_initial_ttl(ttl: u8) -> bool {
    matches!(ttl, 32 | 64 | 128 | 255)
}

/// The usual reading of an initial TTL.
fn os_guess(initial: u8) -> &'static str {
    match initial {
        32 => "old Windows (TTL 32)",
        64 => "Linux/Unix (TTL 64)",
        128 => "Windows (TTL 128)",
        _ => "network device or Solaris (TTL 255)",
    }
}

/// The address a reverse-lookup name stands for (`4.3.2.1.in-addr.arpa`, nibble `ip6.arpa`).
pub fn reverse_name_addr(name: &Name<'_>) -> Option<IpAddr> {
    let mut labels: [&[u8]; 40] = [&[]; 40];
    let mut n = 0;
    for l in name.labels() {
        *labels.get_mut(n)? = l;
        n += 1;
    }
    let labels = &labels[..n];
    match labels {
        [d, c, b, a, in_addr, arpa]
            if in_addr.eq_ignore_ascii_case(b"in-addr") && arpa.eq_ignore_ascii_case(b"arpa") =>
        {
            let octet = |l: &[u8]| std::str::from_utf8(l).ok()?.parse::<u8>().ok();
            Some(IpAddr::V4(Ipv4Addr::new(
                octet(a)?,
                octet(b)?,
                octet(c)?,
                octet(d)?,
            )))
        }
        [nibbles @ .., ip6, arpa]
            if nibbles.len() == 32
                && ip6.eq_ignore_ascii_case(b"ip6")
                && arpa.eq_ignore_ascii_case(b"arpa") =>
        {
            let mut bits = 0u128;
            for l in nibbles.iter().rev() {
                let [c] = l else { return None };
                let v = (*c as char).to_digit(16)?;
                bits = bits << 4 | u128::from(v);
            }
            Some(IpAddr::V6(Ipv6Addr::from(bits)))
        }
        _ => None,
    }
}

impl Inventory {
    /// An empty inventory.
    pub fn new(config: InventoryConfig) -> Self {
        Inventory {
            config,
            hosts: HashMap::default(),
            macs: HashMap::default(),
            dns_names: HashMap::default(),
            stats: InventoryStats::default(),
        }
    }

    /// Reads `source` to its end through the decoder and a flow table (for reply directions),
    /// observing every packet; returns the number of frames read.
    ///
    /// # Errors
    /// [`InventoryError::Capture`] when the source fails; everything read before stays in the
    /// inventory.
    pub fn read_capture<S: PacketSource>(&mut self, mut source: S) -> Result<u64, InventoryError> {
        // The pipeline's one packet step (decode, count, flow table), observing each packet.
        let mut tracker = Tracker::new(FlowTableConfig::default())?;
        let mut exported = Vec::new();
        while let Some(raw) = source.next_packet()? {
            tracker.track(&raw, &mut exported, |_, _, view, ctx| {
                self.observe(view, ctx)
            });
            exported.clear();
        }
        Ok(tracker.stats.packets)
    }

    /// Counters and table sizes.
    pub fn stats(&self) -> InventoryStats {
        InventoryStats {
            hosts: self.hosts.len(),
            macs: self.macs.len(),
            ..self.stats
        }
    }

    /// The host entry of `ip`, created if there is room.
    fn host(&mut self, ip: IpAddr, now: Timestamp) -> Option<&mut HostState> {
        if !is_unicast(ip) {
            return None;
        }
        let full = self.hosts.len() >= self.config.max_hosts;
        match self.hosts.entry(ip) {
            hashbrown::hash_map::Entry::Occupied(e) => {
                let h = e.into_mut();
                h.touch(now);
                Some(h)
            }
            hashbrown::hash_map::Entry::Vacant(_) if full => {
                self.stats.dropped_hosts += 1;
                None
            }
            hashbrown::hash_map::Entry::Vacant(e) => Some(e.insert(HostState::new(now))),
        }
    }

    /// The MAC entry of `mac`, created if there is room.
    fn mac(&mut self, mac: [u8; 6]) -> Option<&mut MacState> {
        if !self.macs.contains_key(&mac) && self.macs.len() >= self.config.max_hosts {
            self.stats.dropped_macs += 1;
            return None;
        }
        Some(self.macs.entry(mac).or_default())
    }

    /// Feeds one packet; `flow` is its flow context (for UDP reply directions), when known.
    pub fn observe(&mut self, pkt: &PacketView<'_>, flow: Option<&FlowContext>) {
        match pkt {
            PacketView::Ip(ip) => self.observe_ip(ip, flow),
            PacketView::Arp { ts, arp, .. } => {
                let ip = IpAddr::V4(arp.sender_ip);
                if !is_station_mac(arp.sender_mac) {
                    return;
                }
                if let Some(h) = self.host(ip, *ts) {
                    h.packets_sent += 1;
                    h.bound_mac = Some(arp.sender_mac);
                }
                self.mac(arp.sender_mac);
            }
        }
    }

    fn observe_ip(&mut self, ip: &IpPacket<'_>, flow: Option<&FlowContext>) {
        let m = &ip.meta;
        if m.events.is_invalid() {
            // No transport header: nothing a host profile can use.
            return;
        }
        let now = m.ts;
        let bytes = u64::from(m.ip_len);
        let mut new_pair = None;
        let mut dropped_services = 0;
        if let Some(h) = self.host(m.src_addr, now) {
            h.packets_sent += 1;
            h.bytes_sent += bytes;
            h.max_ttl = h.max_ttl.max(m.ttl);
            if let Some(mac) = ip.l2.src_mac.filter(|&mac| is_station_mac(mac)) {
                if !h.l2_macs.contains(&mac) && h.l2_macs.len() < MAX_MACS {
                    h.l2_macs.push(mac);
                    new_pair = Some(mac);
                }
            }
            if m.protocol == IpProtocol::TCP && m.tcp_flags.syn() {
                if m.tcp_flags.ack() {
                    dropped_services += u64::from(add_service(h, IpProtocol::TCP, m.src_port));
                } else if h.syn_window.is_none() {
                    h.syn_window = Some(m.tcp_window);
                }
            }
            let reply = flow.is_some_and(|f| f.direction == Direction::Backward);
            if m.protocol == IpProtocol::UDP
                && reply
                && m.src_port < m.dst_port
                && m.src_port < 49152
            {
                dropped_services += u64::from(add_service(h, IpProtocol::UDP, m.src_port));
            }
        }
        self.stats.dropped_services += dropped_services;
        if let Some(mac) = new_pair {
            if let Some(ms) = self.mac(mac) {
                ms.ips = ms.ips.saturating_add(1);
            }
        }
        if let Some(h) = self.host(m.dst_addr, now) {
            h.packets_received += 1;
            h.bytes_received += bytes;
        }
        if m.protocol == IpProtocol::UDP && m.fragment.is_none_or(|f| f.is_first()) {
            match (m.src_port, m.dst_port) {
                (53, _) => self.dns(ip.payload, NameSource::DnsA, now),
                (5353, _) => self.dns(ip.payload, NameSource::Mdns, now),
                (67 | 68, 67 | 68) => self.dhcp(ip.payload, m.src_addr, now),
                (137, 137) => self.netbios(ip.payload),
                _ => {}
            }
        }
    }

    /// Names from a DNS or mDNS response.
    fn dns(&mut self, payload: &[u8], source: NameSource, _now: Timestamp) {
        let Ok(msg) = DnsMessage::parse(payload) else {
            return;
        };
        if !msg.flags().is_response() {
            return;
        }
        for r in msg.records() {
            match r.data() {
                RData::A(a) => self.dns_name(IpAddr::V4(a), &r.name, source),
                RData::Aaaa(a) => self.dns_name(IpAddr::V6(a), &r.name, source),
                RData::Ptr(target) => {
                    if let Some(addr) = reverse_name_addr(&r.name) {
                        let src = if source == NameSource::Mdns {
                            NameSource::Mdns
                        } else {
                            NameSource::DnsPtr
                        };
                        self.dns_name(addr, &target, src);
                    }
                }
                _ => {}
            }
        }
    }

    /// The workstation name a NetBIOS name registration or refresh claims for its address
    /// (RFC 1002 §4.2.2: a DNS-shaped message, opcode 5 or 8, the NB record in the additional
    /// section).
    fn netbios(&mut self, payload: &[u8]) {
        let Ok(msg) = DnsMessage::parse(payload) else {
            return;
        };
        let flags = msg.flags();
        if flags.is_response() || !matches!(flags.opcode(), 5 | 8) {
            return;
        }
        for r in msg.records() {
            // NB record: 2 bytes of NB_FLAGS (bit 15: group name), then the IPv4 address.
            let (0x20, [nb_hi, _, a, b, c, d]) = (r.rtype.0, r.rdata) else {
                continue;
            };
            if nb_hi & 0x80 != 0 {
                continue;
            }
            let mut buf = [0u8; 16];
            if let Some(name) = netbios_name(&r.name, &mut buf) {
                let addr = IpAddr::V4(Ipv4Addr::new(*a, *b, *c, *d));
                self.add_name(addr, name, NameSource::Netbios);
            }
        }
    }

    /// Attaches `name` to `addr`, allocating only when it is new.
    fn dns_name(&mut self, addr: IpAddr, name: &Name<'_>, source: NameSource) {
        if name.is_root() {
            return;
        }
        let mut buf = [0u8; MAX_NAME_WIRE_LEN];
        let dotted = name.write_dotted(&mut buf);
        let plain = dotted.iter().all(|b| b.is_ascii_graphic() && *b != b'\\')
            && name.labels().all(|l| !l.contains(&b'.'));
        if plain {
            // Plain names need no escaping: compare and store without `to_string` first.
            let text = std::str::from_utf8(dotted).unwrap_or_default();
            self.add_name(addr, text, source);
        } else {
            self.add_name(addr, &name.to_string(), source);
        }
    }

    /// Attaches `name` to `addr` unless already there (ASCII case ignored).
    fn add_name(&mut self, addr: IpAddr, name: &str, source: NameSource) {
        if !is_unicast(addr) {
            return;
        }
        let full = self.dns_names.len() >= self.config.max_hosts;
        let names = match self.dns_names.get_mut(&addr) {
            Some(n) => n,
            None if full => {
                self.stats.dropped_names += 1;
                return;
            }
            None => self.dns_names.entry(addr).or_default(),
        };
        if names
            .iter()
            .any(|h| h.source == source && h.name.eq_ignore_ascii_case(name))
        {
            return;
        }
        if names.len() >= MAX_NAMES {
            self.stats.dropped_names += 1;
            return;
        }
        names.push(Hostname {
            name: name.to_string(),
            source,
        });
    }

    /// MAC bindings, host name and vendor class from a DHCP message sent by `src`.
    fn dhcp(&mut self, payload: &[u8], src: IpAddr, now: Timestamp) {
        let Ok(msg) = DhcpMessage::parse(payload) else {
            return;
        };
        let Some(mac) = msg.client_mac().filter(|&m| is_station_mac(m)) else {
            return;
        };
        if msg.is_request() {
            let hostname = msg.hostname().map(printable);
            let vendor_class = msg.vendor_class().map(printable);
            if let Some(ms) = self.mac(mac) {
                if hostname.is_some() {
                    ms.dhcp_hostname = hostname;
                }
                if vendor_class.is_some() {
                    ms.vendor_class = vendor_class;
                }
            }
            // A client renewing its lease sends from its address: bind it.
            let ci = msg.ciaddr();
            if !ci.is_unspecified() {
                if let Some(h) = self.host(IpAddr::V4(ci), now) {
                    h.bound_mac = Some(mac);
                }
            }
            return;
        }
        // A server's reply goes to the client's new address or to broadcast, so it opens a
        // flow of its own: the reply direction does not show the service, the op does.
        if let Some(h) = self.host(src, now) {
            let dropped = add_service(h, IpProtocol::UDP, 67);
            self.stats.dropped_services += u64::from(dropped);
        }
        if msg.message_type() == Some(MessageType::ACK) {
            let yi = msg.yiaddr();
            if !yi.is_unspecified() {
                if let Some(h) = self.host(IpAddr::V4(yi), now) {
                    h.bound_mac = Some(mac);
                }
            }
            self.mac(mac);
        }
    }

    /// The report: one [`Host`] per tracked address, sorted by address.
    pub fn hosts(&self) -> Vec<Host> {
        // Per router MAC, how many of its addresses keep an unchanged initial TTL. One or two
        // (IPv4 and IPv6) are the router's own; many mean a NAT that rewrites TTLs (VirtualBox,
        // QEMU), where the TTL tells nothing.
        let mut on_link: HashMap<[u8; 6], u32, RandomState> = HashMap::default();
        for h in self.hosts.values().filter(|h| has_initial_ttl(h.max_ttl)) {
            for mac in h.l2_macs.iter().filter(|m| self.is_router(m)) {
                *on_link.entry(*mac).or_default() += 1;
            }
        }
        let mut out: Vec<Host> = self
            .hosts
            .iter()
            .map(|(&ip, h)| self.report(ip, h, &on_link))
            .collect();
        out.sort_by_key(|h| h.ip);
        out
    }

    /// Whether `mac` fronts more than `router_ips` addresses.
    fn is_router(&self, mac: &[u8; 6]) -> bool {
        self.macs
            .get(mac)
            .is_some_and(|m| m.ips > self.config.router_ips)
    }

    fn report(
        &self,
        ip: IpAddr,
        h: &HostState,
        on_link: &HashMap<[u8; 6], u32, RandomState>,
    ) -> Host {
        let own_router_mac = |m: &[u8; 6]| {
            has_initial_ttl(h.max_ttl)
                && on_link
                    .get(m)
                    .is_some_and(|&n| n <= self.config.router_ips.min(2))
        };
        let mac = h.bound_mac.or_else(|| {
            h.l2_macs
                .iter()
                .copied()
                .find(|m| !self.is_router(m) || own_router_mac(m))
        });
        let mac_state = mac.and_then(|m| self.macs.get(&m));
        let mut hostnames = Vec::new();
        if let Some(name) = mac_state.and_then(|m| m.dhcp_hostname.clone()) {
            hostnames.push(Hostname {
                name,
                source: NameSource::Dhcp,
            });
        }
        if let Some(names) = self.dns_names.get(&ip) {
            let mut names = names.clone();
            names.sort_by(|a, b| (a.source, &a.name).cmp(&(b.source, &b.name)));
            hostnames.extend(names);
        }
        let mut services = h.services.clone();
        services.sort_by_key(|&(p, port)| (p.0, port));
        let initial = (h.max_ttl > 0).then(|| initial_ttl(h.max_ttl));
        Host {
            ip,
            mac: mac.map(mac_string),
            vendor: mac.and_then(|m| {
                if oui::is_locally_administered(m) {
                    Some("(locally administered)".to_string())
                } else {
                    oui::vendor(m).map(str::to_string)
                }
            }),
            hostnames,
            services: services
                .iter()
                .map(|(p, port)| format!("{}/{port}", p.name().to_ascii_lowercase()))
                .collect(),
            os: OsHint {
                initial_ttl: initial,
                syn_window: h.syn_window,
                guess: initial.map(os_guess),
            },
            dhcp_vendor_class: mac_state.and_then(|m| m.vendor_class.clone()),
            first_seen: h.first,
            last_seen: h.last,
            packets_sent: h.packets_sent,
            bytes_sent: h.bytes_sent,
            packets_received: h.packets_received,
            bytes_received: h.bytes_received,
        }
    }
}

/// The NetBIOS name of a workstation (suffix 0x00) from its first-level encoding (RFC 1001
/// §14.1: one 32-letter label, each half-byte as `'A' + nibble`), trailing spaces removed;
/// `None` for other suffixes or a malformed encoding.
fn netbios_name<'b>(name: &Name<'_>, buf: &'b mut [u8; 16]) -> Option<&'b str> {
    let mut labels = name.labels();
    let encoded = labels.next()?;
    if encoded.len() != 32 {
        return None;
    }
    for (out, pair) in buf.iter_mut().zip(encoded.chunks_exact(2)) {
        let hi = pair[0].checked_sub(b'A').filter(|&v| v < 16)?;
        let lo = pair[1].checked_sub(b'A').filter(|&v| v < 16)?;
        *out = hi << 4 | lo;
    }
    let (suffix, name) = buf.split_last()?;
    if *suffix != 0 {
        return None;
    }
    let name = std::str::from_utf8(name).ok()?.trim_end_matches(' ');
    (!name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() || b == b' ')).then_some(name)
}

/// Adds a service to `h`; `true` when it was new but did not fit.
fn add_service(h: &mut HostState, proto: IpProtocol, port: u16) -> bool {
    if port == 0 || h.services.contains(&(proto, port)) {
        return false;
    }
    if h.services.len() >= MAX_SERVICES {
        return true;
    }
    h.services.push((proto, port));
    false
}

/// DHCP text options: printable ASCII kept, trailing NULs dropped, other bytes as `\xNN`.
fn printable(b: &[u8]) -> String {
    let b = b.strip_suffix(&[0]).unwrap_or(b);
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7f).contains(&c) {
            s.push(c as char);
        } else {
            // Written in place: no temporary `String` per escaped byte.
            let _ = write!(s, "\\x{c:02x}");
        }
    }
    s
}

impl Detector for Inventory {
    fn name(&self) -> &str {
        "inventory"
    }

    /// Feeds [`Inventory::observe`]; never alerts.
    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        flow: Option<&FlowContext>,
        _out: &mut Vec<Alert>,
    ) {
        self.observe(pkt, flow);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::dns::DnsMessage;

    #[test]
    fn initial_ttl_rounds_up() {
        assert_eq!(
            [1, 32, 33, 64, 65, 128, 129, 255].map(initial_ttl),
            [32, 32, 64, 64, 128, 128, 255, 255]
        );
    }

    #[test]
    fn reverse_names() {
        let mut m = vec![0u8; 12];
        m.extend_from_slice(b"\x014\x013\x012\x0210\x07in-addr\x04arpa\x00");
        let (n, _) = Name::parse(&m, 12).expect("name");
        assert_eq!(reverse_name_addr(&n), Some("10.2.3.4".parse().expect("ip")));
        let v6 = "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa";
        let mut w = Vec::new();
        for l in v6.split('.') {
            w.push(l.len() as u8);
            w.extend_from_slice(l.as_bytes());
        }
        w.push(0);
        let (n, _) = Name::parse(&w, 0).expect("name");
        assert_eq!(
            reverse_name_addr(&n),
            Some("4321:0:1:2:3:4:567:89ab".parse().expect("ip"))
        );
        let (n, _) = Name::parse(b"\x03www\x07example\x00", 0).expect("name");
        assert_eq!(reverse_name_addr(&n), None);
        let (n, _) = Name::parse(b"\x03999\x012\x013\x014\x07in-addr\x04arpa\x00", 0).expect("n");
        assert_eq!(reverse_name_addr(&n), None);
        let _ = DnsMessage::parse(&m);
    }

    #[test]
    fn caps_count_drops() {
        let mut inv = Inventory::new(InventoryConfig {
            max_hosts: 2,
            router_ips: 16,
        });
        let now = Timestamp::from_micros(0);
        for i in 1..=5u8 {
            let _ = inv.host(IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)), now);
        }
        assert_eq!(inv.stats().hosts, 2);
        assert_eq!(inv.stats().dropped_hosts, 3);
        let mut h = HostState::new(now);
        let dropped = (1..=70u16)
            .filter(|&p| add_service(&mut h, IpProtocol::TCP, p))
            .count();
        assert_eq!((h.services.len(), dropped), (MAX_SERVICES, 6));
        assert!(!is_unicast("255.255.255.255".parse().expect("ip")));
        assert!(!is_station_mac([0x01, 0, 0x5e, 0, 0, 1]));
    }

    #[test]
    fn netbios_first_level_decoding() {
        // "MSEDGEWIN10" padded with spaces, suffix 0x00 (RFC 1001 §14.1).
        let mut wire = vec![32u8];
        let mut raw = *b"MSEDGEWIN10     ";
        raw[15] = 0;
        for b in raw {
            wire.push(b'A' + (b >> 4));
            wire.push(b'A' + (b & 0x0f));
        }
        wire.extend_from_slice(b"\0");
        let (n, _) = Name::parse(&wire, 0).expect("name");
        let mut buf = [0u8; 16];
        assert_eq!(netbios_name(&n, &mut buf), Some("MSEDGEWIN10"));
        // Suffix 0x20 (server service) is not the workstation name.
        let last = wire.len() - 3;
        wire[last] = b'C';
        let (n, _) = Name::parse(&wire, 0).expect("name");
        assert_eq!(netbios_name(&n, &mut buf), None);
        let (n, _) = Name::parse(b"\x03abc\0", 0).expect("name");
        assert_eq!(netbios_name(&n, &mut buf), None);
    }

    #[test]
    fn printable_escapes() {
        assert_eq!(printable(b"MSFT 5.0\0"), "MSFT 5.0");
        assert_eq!(printable(b"a\x01b"), "a\\x01b");
    }

    fn assert_send<T: Send>() {}

    #[test]
    fn inventory_is_send() {
        assert_send::<Inventory>();
    }
}
