//! Listings beyond alerts: cursors, flows, analytics.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use netsec_core::detect::Alert;
use netsec_core::time::Timestamp;

/// Where a newest-first alert listing continues: strictly older than this (time, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCursor {
    /// The last alert's packet time (µs).
    pub ts_us: i64,
    /// The last alert's id.
    pub id: String,
}

impl AlertCursor {
    /// The cursor after `alert`.
    pub fn after(alert: &Alert) -> AlertCursor {
        AlertCursor {
            ts_us: alert.timestamp.as_micros(),
            id: alert.id.clone(),
        }
    }

    /// The opaque text form (`<µs>.<id>`).
    pub fn encode(&self) -> String {
        format!("{}.{}", self.ts_us, self.id)
    }

    /// Parses [`encode`](Self::encode)'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<AlertCursor> {
        let (ts, id) = text.split_once('.')?;
        let ok_id = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok_id.then_some(())?;
        Some(AlertCursor {
            ts_us: ts.parse().ok()?,
            id: id.to_string(),
        })
    }
}

/// Where a newest-first flow listing continues: strictly older than this (last packet, row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowCursor {
    /// The last flow's last-packet time (µs).
    pub last_us: i64,
    /// The last flow's row number.
    pub row: i64,
}

impl FlowCursor {
    /// The opaque text form (`<µs>.<row>`).
    pub fn encode(&self) -> String {
        format!("{}.{}", self.last_us, self.row)
    }

    /// Parses [`encode`](Self::encode)'s form; `None` for anything else.
    pub fn decode(text: &str) -> Option<FlowCursor> {
        let (a, b) = text.split_once('.')?;
        Some(FlowCursor {
            last_us: a.parse().ok()?,
            row: b.parse().ok()?,
        })
    }
}

/// Filters of a flow listing, newest first (`GET /api/v1/flows`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowQuery {
    /// Either endpoint has this address.
    pub ip: Option<IpAddr>,
    /// Either endpoint has this port.
    pub port: Option<u16>,
    /// This IP protocol number.
    pub protocol: Option<u8>,
    /// Last packet at or after this time.
    pub since: Option<Timestamp>,
    /// Last packet before this time.
    pub until: Option<Timestamp>,
    /// At most this many (default and maximum 1,000).
    pub limit: Option<usize>,
    /// Continue after this flow.
    pub cursor: Option<FlowCursor>,
}

/// A stored flow: its key, times, end, application, the 25 features and application fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredFlow {
    /// The sensor that saw it.
    pub sensor: String,
    /// The run (hexadecimal tag).
    pub run: String,
    /// The flow id within the run.
    pub flow_id: u64,
    /// First packet time.
    pub first_seen: Timestamp,
    /// Last packet time.
    pub last_seen: Timestamp,
    /// Source (initiator) address.
    pub src_ip: IpAddr,
    /// Source port.
    pub src_port: u16,
    /// Destination (responder) address.
    pub dst_ip: IpAddr,
    /// Destination port.
    pub dst_port: u16,
    /// IP protocol number.
    pub protocol: u8,
    /// Why the flow ended.
    pub end_reason: String,
    /// The application protocol recognised.
    pub app_proto: String,
    /// The 25 features by `FEATURES.md` name, in order.
    pub features: serde_json::Map<String, serde_json::Value>,
    /// Application fields (host names, SNI, JA3 …), when any.
    pub app: Option<serde_json::Value>,
    /// Pass as `cursor` to continue after this flow.
    pub cursor: String,
}

/// Totals for `GET /api/v1/analytics/overview`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overview {
    /// Alerts stored.
    pub alerts: u64,
    /// Flows stored.
    pub flows: u64,
    /// Packets of the stored flows.
    pub packets: u64,
    /// Bytes of the stored flows (IP payload lengths as the features count them).
    pub bytes: u64,
    /// Alerts by severity name.
    pub alerts_by_severity: BTreeMap<String, u64>,
    /// Alerts by status.
    pub alerts_by_status: BTreeMap<String, u64>,
    /// Alerts by attack type (the 20 most frequent).
    pub alerts_by_type: BTreeMap<String, u64>,
    /// Earliest flow packet time stored.
    pub first_seen: Option<Timestamp>,
    /// Latest flow packet time stored.
    pub last_seen: Option<Timestamp>,
    /// Packets per second over the stored span.
    pub packets_per_s: f64,
    /// Bytes per second over the stored span.
    pub bytes_per_s: f64,
    /// Flows per second over the stored span.
    pub flows_per_s: f64,
}

/// One bucket of `GET /api/v1/analytics/trends`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrendPoint {
    /// Start of the bucket.
    pub start: Timestamp,
    /// Alerts in it.
    pub alerts: u64,
    /// Alerts by severity: low, medium, high, critical.
    pub alerts_by_severity: [u64; 4],
    /// Flows that ended in it.
    pub flows: u64,
    /// Their packets.
    pub packets: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// What `GET /api/v1/analytics/top` ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopBy {
    /// Source addresses by bytes sent in flows.
    Talkers,
    /// Destination (protocol, port) by flows.
    Ports,
    /// Attack types by alerts.
    AttackTypes,
}

/// One line of a top-N list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopEntry {
    /// What (an address, `tcp/443`, an attack type).
    pub key: String,
    /// Flows or alerts.
    pub count: u64,
    /// Bytes (talkers and ports).
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = AlertCursor {
            ts_us: 17,
            id: "01ABC".into(),
        };
        assert_eq!(AlertCursor::decode(&c.encode()), Some(c));
        for bad in [
            "",
            "x",
            "1.",
            ".a",
            "1.a'b",
            "1.a b",
            "9999999999999999999999.a",
        ] {
            assert_eq!(AlertCursor::decode(bad), None, "{bad:?}");
        }
        let f = FlowCursor { last_us: 5, row: 9 };
        assert_eq!(FlowCursor::decode(&f.encode()), Some(f));
        assert_eq!(FlowCursor::decode("5.x"), None);
    }
}
