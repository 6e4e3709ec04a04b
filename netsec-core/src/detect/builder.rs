//! [`AlertBuilder`]: the one way rules, behavioural detectors and models build an [`Alert`].

use std::net::IpAddr;

use serde_json::Value;

use super::alert::{Alert, AlertStatus, Severity};
use crate::app::AppProto;
use crate::decode::{IpProtocol, PacketMeta};
use crate::flow::{FlowContext, FlowRecord};
use crate::time::Timestamp;

/// Builds an [`Alert`]; start with [`Alert::builder`].
///
/// The alert starts `NEW`, with score 0.5, no endpoints, no tags, and `detector` set both as
/// the field and as `meta.detector` (for older readers). Its `id` is left empty: the
/// [`Sensor`](crate::pipeline::Sensor) running the detector assigns it, unique per run.
///
/// ```
/// use netsec_core::detect::{Alert, Severity};
/// use netsec_core::time::Timestamp;
///
/// let alert = Alert::builder("port_scan", Timestamp::from_micros(5), "Port_Scan", Severity::Medium)
///     .addrs(Some("10.0.0.1".parse()?), None)
///     .score(0.8)
///     .tag("behaviour")
///     .meta("ports", 120)
///     .description("10.0.0.1 probed 120 ports")
///     .build();
/// assert_eq!(alert.detector, "port_scan");
/// assert_eq!(alert.meta["detector"], "port_scan");
/// assert_eq!(alert.meta_u64("ports"), Some(120));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct AlertBuilder {
    alert: Alert,
}

impl Alert {
    /// Starts an alert raised by `detector` at packet time `ts`.
    pub fn builder(
        detector: &str,
        ts: Timestamp,
        attack_type: impl Into<String>,
        severity: Severity,
    ) -> AlertBuilder {
        let mut meta = serde_json::Map::new();
        meta.insert("detector".into(), detector.into());
        AlertBuilder {
            alert: Alert {
                id: String::new(),
                detector: detector.to_string(),
                timestamp: ts,
                attack_type: attack_type.into(),
                severity,
                status: AlertStatus::New,
                src_ip: None,
                dst_ip: None,
                src_port: None,
                dst_port: None,
                protocol: None,
                score: 0.5,
                description: String::new(),
                tags: Vec::new(),
                flow_id: None,
                meta,
            },
        }
    }
}

impl AlertBuilder {
    /// Source and destination addresses.
    pub fn addrs(mut self, src: Option<IpAddr>, dst: Option<IpAddr>) -> Self {
        self.alert.src_ip = src;
        self.alert.dst_ip = dst;
        self
    }

    /// Source and destination ports.
    pub fn ports(mut self, src: Option<u16>, dst: Option<u16>) -> Self {
        self.alert.src_port = src;
        self.alert.dst_port = dst;
        self
    }

    /// The IP protocol (its upper-case name).
    pub fn protocol(mut self, p: IpProtocol) -> Self {
        self.alert.protocol = Some(p.name().into_owned());
        self
    }

    /// A protocol name that is not an IP protocol (`ARP`).
    pub fn protocol_name(mut self, p: &str) -> Self {
        self.alert.protocol = Some(p.into());
        self
    }

    /// Addresses, ports (when the protocol has them) and protocol of a packet.
    pub fn packet(self, m: &PacketMeta) -> Self {
        let ports = m.protocol.has_ports();
        self.addrs(Some(m.src_addr), Some(m.dst_addr))
            .ports(ports.then_some(m.src_port), ports.then_some(m.dst_port))
            .protocol(m.protocol)
    }

    /// Addresses, ports (when the protocol has them), protocol and id of a finished flow.
    pub fn flow_record(self, f: &FlowRecord) -> Self {
        let ports = f.protocol.has_ports();
        self.addrs(Some(f.src_addr), Some(f.dst_addr))
            .ports(ports.then_some(f.src_port), ports.then_some(f.dst_port))
            .protocol(f.protocol)
            .flow(Some(f.id))
    }

    /// What the flow of a packet alert looked like when the packet `m` was seen, as EVE
    /// writes it for Suricata's alerts: the flow id; `meta.direction` (`to_server` for a
    /// packet of the side that opened the flow, else `to_client`); `meta.flow` with the
    /// packets and captured bytes each side sent so far (`pkts_toserver`, `pkts_toclient`,
    /// `bytes_toserver`, `bytes_toclient`) and the flow's own endpoints (`src_ip`,
    /// `dest_ip`, and ports when the protocol has them); and `meta.app_proto` once the
    /// application protocol is known.
    pub fn flow_context(self, m: &PacketMeta, f: &FlowContext) -> Self {
        let forward = f.direction.is_forward();
        let ((src, sport), (dst, dport)) = {
            let (a, b) = ((m.src_addr, m.src_port), (m.dst_addr, m.dst_port));
            if forward {
                (a, b)
            } else {
                (b, a)
            }
        };
        let mut flow = serde_json::Map::new();
        flow.insert("pkts_toserver".into(), f.side_packets[0].into());
        flow.insert("pkts_toclient".into(), f.side_packets[1].into());
        flow.insert("bytes_toserver".into(), f.frame_bytes[0].into());
        flow.insert("bytes_toclient".into(), f.frame_bytes[1].into());
        flow.insert("src_ip".into(), src.to_string().into());
        flow.insert("dest_ip".into(), dst.to_string().into());
        if m.protocol.has_ports() {
            flow.insert("src_port".into(), sport.into());
            flow.insert("dest_port".into(), dport.into());
        }
        let mut b = self
            .flow(Some(f.flow_id))
            .meta("direction", if forward { "to_server" } else { "to_client" })
            .meta("flow", Value::Object(flow));
        if f.app_proto != AppProto::Unknown {
            b = b.meta("app_proto", f.app_proto.as_str());
        }
        b
    }

    /// The flow the alert belongs to.
    pub fn flow(mut self, flow_id: Option<u64>) -> Self {
        self.alert.flow_id = flow_id;
        self
    }

    /// The confidence, clamped to 0..=1 (a non-finite value becomes 0).
    pub fn score(mut self, s: f64) -> Self {
        self.alert.score = if s.is_finite() {
            s.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// Adds a tag (`rule`, `behaviour`, `ml`, …).
    pub fn tag(mut self, tag: &str) -> Self {
        self.alert.tags.push(tag.into());
        self
    }

    /// Sets one `meta` entry.
    pub fn meta(mut self, key: &str, v: impl Into<Value>) -> Self {
        self.alert.meta.insert(key.into(), v.into());
        self
    }

    /// The one-sentence description with the numbers that triggered it.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.alert.description = d.into();
        self
    }

    /// The alert.
    pub fn build(self) -> Alert {
        self.alert
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::EveAlertSink;
    use crate::flow::Direction;

    #[test]
    fn flow_context_records_direction_counters_and_the_flows_own_endpoints() {
        // A server's answer (backward) in a flow the client 10.0.0.1:40000 opened.
        let m = crate::synth::tcp(
            7,
            std::net::Ipv4Addr::new(10, 0, 0, 2),
            443,
            std::net::Ipv4Addr::new(10, 0, 0, 1),
            40000,
            crate::decode::TcpFlags::ACK,
            10,
            512,
        );
        let mut f = crate::behaviour::tests_util::new_flow(3);
        f.direction = Direction::Backward;
        f.side_packets = [3, 2];
        f.frame_bytes = [200, 1500];
        f.app_proto = AppProto::Tls;
        let a = Alert::builder("rules", m.ts, "x", Severity::Low)
            .packet(&m)
            .flow_context(&m, &f)
            .build();
        assert_eq!(a.flow_id, Some(3));
        let eve = EveAlertSink::<Vec<u8>>::to_eve(&a);
        assert_eq!(eve["direction"], "to_client");
        assert_eq!(eve["app_proto"], "tls");
        let flow = &eve["flow"];
        assert_eq!(
            (flow["src_ip"].as_str(), flow["src_port"].as_u64()),
            (Some("10.0.0.1"), Some(40000))
        );
        assert_eq!(
            (flow["dest_ip"].as_str(), flow["dest_port"].as_u64()),
            (Some("10.0.0.2"), Some(443))
        );
        assert_eq!(
            (
                flow["pkts_toserver"].as_u64(),
                flow["pkts_toclient"].as_u64()
            ),
            (Some(3), Some(2))
        );
        assert_eq!(
            (
                flow["bytes_toserver"].as_u64(),
                flow["bytes_toclient"].as_u64()
            ),
            (Some(200), Some(1500))
        );
        // The alert's own endpoints stay the packet's.
        assert_eq!(eve["src_ip"], "10.0.0.2");
    }
}
