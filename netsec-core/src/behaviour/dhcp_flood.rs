//! DHCP starvation: a flood of DISCOVER/REQUEST (or INFORM) messages that exhausts a server's
//! pool or its capacity, either
//! from one client identity repeated at a high rate, or from many client hardware addresses
//! (`dhcpstarv`, Yersinia: a new random MAC per message).
//!
//! DHCP messages are client-to-server UDP (source port 68, destination port 67) parsed with
//! [`crate::app::dhcp`]. Two counts, each over `window_us`:
//!
//! - DISCOVER, REQUEST and INFORM messages from one client hardware address (`chaddr`) ≥
//!   `client_messages` (a client sends a handful while it gets a lease);
//! - distinct client hardware addresses toward one destination (the server, or broadcast) ≥
//!   `distinct_clients`.
//!
//! One alert per client (or destination) and episode, `attack_type` `DHCP_Starvation`.

use serde::{Deserialize, Serialize};

use super::state::{Addr, Clock, DistinctWindow, Episodes, RateWindow, Tally};
use super::{
    intensity_score, mac_string, secs, table_stats, transport, AlertBuilder, BehaviourConfigError,
    Check,
};
use crate::app::dhcp::{DhcpMessage, MessageType};
use crate::decode::IpProtocol;
use crate::detect::{Alert, Detector, DetectorStats, PacketInterest, PacketView, Severity};
use crate::flow::FlowContext;

const NAME: &str = "dhcp_flood";

/// Settings of the [`DhcpFloodDetector`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DhcpFloodConfig {
    /// Run this detector (default true).
    pub enabled: bool,
    /// Window of both counts, µs (default 60 s).
    pub window_us: i64,
    /// DISCOVER/REQUEST/INFORM messages from one client hardware address within the window
    /// (default 50: a client getting a lease sends 2–4, retries a few more).
    pub client_messages: u64,
    /// Distinct client hardware addresses toward one destination within the window
    /// (default 64).
    pub distinct_clients: u64,
    /// A key quiet for this long ends its episode, µs (default 300 s).
    pub quiet_us: i64,
    /// Cap of each table, default 1024 (enough pairs to see `distinct_clients`).
    pub max_tracked: usize,
}

impl Default for DhcpFloodConfig {
    fn default() -> Self {
        DhcpFloodConfig {
            enabled: true,
            window_us: 60_000_000,
            client_messages: 50,
            distinct_clients: 64,
            quiet_us: 300_000_000,
            max_tracked: 1 << 10,
        }
    }
}

impl DhcpFloodConfig {
    /// Validates the settings.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] naming the first invalid field.
    pub fn check(&self) -> Result<(), BehaviourConfigError> {
        let c = Check("dhcp_flood");
        c.positive("window_us", self.window_us)?;
        c.at_least_one("client_messages", self.client_messages)?;
        c.at_least_one("distinct_clients", self.distinct_clients)?;
        c.non_negative("quiet_us", self.quiet_us)?;
        c.cap(self.max_tracked)
    }
}

/// Detects DHCP starvation; one alert per client or destination and episode.
#[derive(Debug)]
pub struct DhcpFloodDetector {
    config: DhcpFloodConfig,
    clock: Clock,
    clients: Episodes<[u8; 6], RateWindow>,
    distinct: DistinctWindow<Addr, [u8; 6]>,
    servers: Episodes<Addr, ()>,
    tally: Tally,
}

impl DhcpFloodDetector {
    /// A detector with `config`.
    ///
    /// # Errors
    /// [`BehaviourConfigError::Invalid`] when `config` does not pass its `check`.
    pub fn new(config: &DhcpFloodConfig) -> Result<Self, BehaviourConfigError> {
        config.check()?;
        Ok(DhcpFloodDetector {
            config: config.clone(),
            clock: Clock::default(),
            clients: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            distinct: DistinctWindow::new(config.max_tracked, config.window_us),
            servers: Episodes::new(config.max_tracked, config.quiet_us, config.window_us),
            tally: Tally::default(),
        })
    }
}

impl Detector for DhcpFloodDetector {
    fn name(&self) -> &str {
        NAME
    }

    fn interest(&self) -> PacketInterest {
        PacketInterest::UDP
    }

    fn stats(&self) -> DetectorStats {
        table_stats(
            NAME,
            &self.tally,
            &[&self.clients, &self.distinct, &self.servers],
        )
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        _flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        let Some(ip) = transport(pkt) else {
            return;
        };
        let m = &ip.meta;
        if m.protocol != IpProtocol::UDP || m.dst_port != 67 || m.src_port != 68 {
            return;
        }
        let Ok(msg) = DhcpMessage::parse(ip.payload) else {
            return;
        };
        let kind = msg.message_type();
        if !matches!(
            kind,
            Some(MessageType::DISCOVER | MessageType::REQUEST | MessageType::INFORM)
        ) {
            return;
        }
        let Some(client) = msg.client_mac() else {
            return;
        };
        let now = self.clock.advance(m.ts);
        let c = self.config.clone();
        let (ep, rate) = self.clients.event(client, now);
        let sent = rate.add(now, 1, c.window_us);
        if sent >= c.client_messages && self.tally.fire(ep) {
            let ep = *ep;
            let mac = mac_string(client);
            let description = format!(
                "DHCP client {mac} sent {sent} DISCOVER/REQUEST/INFORM messages within {}: a DHCP flood exhausting the server.",
                secs(c.window_us)
            );
            out.push(
                AlertBuilder::new(NAME, now, "DHCP_Starvation", Severity::Medium, &ep)
                    .addrs(Some(m.src_addr), Some(m.dst_addr))
                    .ports(Some(m.src_port), Some(m.dst_port))
                    .protocol(m.protocol)
                    .score(intensity_score(
                        sent,
                        c.client_messages,
                        now.micros_since(ep.first),
                        c.window_us,
                    ))
                    .meta("mac", mac)
                    .meta("dhcp_kind", "one_client")
                    .observed("client_messages", sent)
                    .threshold("window_us", c.window_us)
                    .threshold("client_messages", c.client_messages)
                    .build(description),
            );
        }
        let (clients, _) = self.distinct.observe(Addr(m.dst_addr), client, now);
        let (ep, ()) = self.servers.event(Addr(m.dst_addr), now);
        if u64::from(clients) >= c.distinct_clients && self.tally.fire(ep) {
            let ep = *ep;
            let description = format!(
                "{clients} distinct DHCP client addresses asked {} for a lease within {}: DHCP starvation.",
                m.dst_addr,
                secs(c.window_us)
            );
            out.push(
                AlertBuilder::new(NAME, now, "DHCP_Starvation", Severity::Medium, &ep)
                    .addrs(None, Some(m.dst_addr))
                    .protocol(m.protocol)
                    .score(intensity_score(
                        u64::from(clients),
                        c.distinct_clients,
                        now.micros_since(ep.first),
                        c.window_us,
                    ))
                    .meta("dhcp_kind", "many_clients")
                    .observed("distinct_clients", u64::from(clients))
                    .threshold("window_us", c.window_us)
                    .threshold("distinct_clients", c.distinct_clients)
                    .build(description),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{IpPacket, L2Info};
    use crate::synth;

    /// A DHCPDISCOVER from `mac`.
    fn discover(mac: [u8; 6]) -> Vec<u8> {
        let mut p = vec![0u8; 240];
        p[0] = 1; // BOOTREQUEST
        p[1] = 1; // Ethernet
        p[2] = 6;
        p[28..34].copy_from_slice(&mac);
        p[236..240].copy_from_slice(&[99, 130, 83, 99]);
        p.extend_from_slice(&[53, 1, 1, 255]);
        p
    }

    fn feed(d: &mut DhcpFloodDetector, macs: impl Iterator<Item = [u8; 6]>) -> Vec<Alert> {
        let mut out = Vec::new();
        for (i, mac) in macs.enumerate() {
            let payload = discover(mac);
            let meta = synth::udp(
                i as i64 * 10_000,
                [0, 0, 0, 0],
                68,
                [255, 255, 255, 255],
                67,
                payload.len() as u32,
            );
            let ip = IpPacket {
                meta,
                payload: &payload,
                l2: L2Info::default(),
                transport_error: None,
                ip_header: &[],
                transport_header: &[],
            };
            d.on_packet(&PacketView::Ip(&ip), None, &mut out);
        }
        out
    }

    #[test]
    fn many_client_addresses_or_one_client_repeating() {
        let config = DhcpFloodConfig::default();
        let mut d = DhcpFloodDetector::new(&config).expect("defaults");
        let random = (0..100u8).map(|i| [2, 0, 0, 0, 1, i]);
        let alerts = feed(&mut d, random);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].meta["dhcp_kind"], "many_clients");
        assert_eq!(alerts[0].meta["observed"]["distinct_clients"], 64);

        let mut d = DhcpFloodDetector::new(&config).expect("defaults");
        let alerts = feed(&mut d, std::iter::repeat_n([2, 0, 0, 0, 0, 9], 60));
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].meta["dhcp_kind"], "one_client");

        // A client getting a lease: quiet.
        let mut d = DhcpFloodDetector::new(&config).expect("defaults");
        assert!(feed(&mut d, std::iter::repeat_n([2, 0, 0, 0, 0, 9], 4)).is_empty());
    }
}
