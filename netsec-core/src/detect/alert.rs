//! The [`Alert`] record of `ALERTS.md` and its enums.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// The alert meta key holding the number (from 1) of the input frame that raised a packet
/// alert, which the sensor records: Suricata's EVE `pcap_cnt`.
pub const PACKET_NUMBER_META: &str = "pcap_cnt";

/// How bad an alert is; serialized upper-case (`LOW` … `CRITICAL`). Ordered least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    /// Informational or policy.
    Low,
    /// Suspicious.
    Medium,
    /// Likely an attack.
    High,
    /// An attack that needs attention now.
    Critical,
}

impl Severity {
    /// Every severity, least first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Its place in [`ALL`](Self::ALL): 0 (low) to 3 (critical).
    pub fn rank(self) -> usize {
        self as usize
    }

    /// The upper-case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    /// Suricata EVE `alert.severity`: 1 (highest) to 3.
    pub fn eve_severity(self) -> u8 {
        match self {
            Severity::Critical | Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an alert is in its analyst lifecycle; new alerts are [`AlertStatus::New`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AlertStatus {
    /// Just raised.
    #[default]
    New,
    /// Seen by an analyst.
    Acknowledged,
    /// Muted.
    Suppressed,
    /// Dealt with.
    Resolved,
}

impl AlertStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [AlertStatus; 4] = [
        AlertStatus::New,
        AlertStatus::Acknowledged,
        AlertStatus::Suppressed,
        AlertStatus::Resolved,
    ];

    /// Its place in [`ALL`](Self::ALL).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The status of an upper-case wire name; `None` for anything else.
    pub fn from_name(name: &str) -> Option<AlertStatus> {
        AlertStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The upper-case wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::New => "NEW",
            AlertStatus::Acknowledged => "ACKNOWLEDGED",
            AlertStatus::Suppressed => "SUPPRESSED",
            AlertStatus::Resolved => "RESOLVED",
        }
    }
}

/// The one record every detector produces (field names are the `ALERTS.md` wire contract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique id, sortable by time (26-character Crockford base32, ULID layout); assigned by
    /// the sensor from its run's [`AlertIds`](super::AlertIds).
    pub id: String,
    /// The detector that raised it (`rules`, `port_scan`, …, `random_forest`); also in
    /// `meta.detector` for older readers.
    #[serde(default)]
    pub detector: String,
    /// The packet time that triggered the alert (RFC 3339 UTC, microseconds).
    pub timestamp: Timestamp,
    /// Stable identifier of what was seen (`Port_Scan`, …, or the rule's classtype).
    pub attack_type: String,
    /// How bad it is.
    pub severity: Severity,
    /// Lifecycle state.
    pub status: AlertStatus,
    /// Source address (absent for non-IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<IpAddr>,
    /// Destination address (absent for non-IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ip: Option<IpAddr>,
    /// Source port, when the protocol has ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    /// Destination port, when the protocol has ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    /// `TCP`, `UDP`, `ICMP`, `ICMPv6`, `ARP`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Detector confidence, 0.0–1.0.
    pub score: f64,
    /// One human sentence with the numbers that triggered it.
    pub description: String,
    /// Free labels (`rule`, `ml`, …).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The flow's id, when the alert belongs to a flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u64>,
    /// Detector-specific details; always holds `detector`.
    #[serde(default)]
    pub meta: serde_json::Map<String, serde_json::Value>,
}

impl Alert {
    /// The detector that raised it: the `detector` field, or `meta.detector` in alerts from
    /// older writers.
    pub fn detector(&self) -> Option<&str> {
        if self.detector.is_empty() {
            self.meta.get("detector").and_then(|v| v.as_str())
        } else {
            Some(&self.detector)
        }
    }

    /// A numeric `meta` field (`sid`, `gid`, `rev`, …), if present.
    pub fn meta_u64(&self, key: &str) -> Option<u64> {
        self.meta.get(key).and_then(|v| v.as_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Alert {
        let mut meta = serde_json::Map::new();
        meta.insert("detector".into(), "rules".into());
        meta.insert("sid".into(), 1.into());
        Alert {
            id: "01ARZ3NDEKTSV4RRFFQ69G5FAV".into(),
            detector: "rules".into(),
            timestamp: Timestamp::from_micros(1_234_567_890_123_456),
            attack_type: "bad-unknown".into(),
            severity: Severity::Medium,
            status: AlertStatus::New,
            src_ip: Some("10.0.0.1".parse().expect("literal")),
            dst_ip: None,
            src_port: Some(80),
            dst_port: None,
            protocol: Some("TCP".into()),
            score: 1.0,
            description: "x".into(),
            tags: vec!["rule".into()],
            flow_id: None,
            meta,
        }
    }

    #[test]
    fn json_shape_and_round_trip() {
        let a = sample();
        let text = serde_json::to_string(&a).expect("serializes");
        assert!(text.contains(r#""timestamp":"2009-02-13T23:31:30.123456Z""#));
        assert!(text.contains(r#""severity":"MEDIUM""#));
        assert!(text.contains(r#""status":"NEW""#));
        assert!(text.contains(r#""src_ip":"10.0.0.1""#));
        assert!(!text.contains("dst_ip"));
        assert!(!text.contains("flow_id"));
        let back: Alert = serde_json::from_str(&text).expect("parses");
        assert_eq!(back, a);
        assert_eq!(back.detector(), Some("rules"));
        assert_eq!(back.meta_u64("sid"), Some(1));
    }

    #[test]
    fn rfc3339_parse_inverts_display() {
        for us in [
            0i64,
            -1,
            1_234_567_890_123_456,
            951_782_400_000_000,
            4_102_444_800_000_001,
        ] {
            let t = Timestamp::from_micros(us);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_string()), Some(t));
        }
        assert_eq!(
            Timestamp::parse_rfc3339("2009-02-13T23:31:30Z"),
            Some(Timestamp::from_micros(1_234_567_890_000_000))
        );
        for bad in [
            "",
            "2009-02-13 23:31:30Z",
            "2009-13-13T23:31:30Z",
            "2009-02-13T23:31:30.Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }
}
