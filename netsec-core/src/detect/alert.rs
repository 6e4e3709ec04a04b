//! The [`Alert`] record of `ALERTS.md` and its enums.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

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
    #[serde(with = "ts_serde")]
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

/// Serde for [`Timestamp`] as RFC 3339 text.
mod ts_serde {
    use super::*;

    pub fn serialize<S: serde::Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(ts)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid RFC 3339 time {text:?}")))
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` (what [`Timestamp`]'s `Display` writes).
pub(crate) fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b.last() != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b't') || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut micros = 0i64;
    let rest = &s[19..s.len() - 1];
    if let Some(frac) = rest.strip_prefix('.') {
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut padded = frac.to_string();
        while padded.len() < 6 {
            padded.push('0');
        }
        micros = padded.get(..6)?.parse().ok()?;
    } else if !rest.is_empty() {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec;
    Some(Timestamp::from_micros(secs * 1_000_000 + micros))
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
            assert_eq!(parse_rfc3339(&t.to_string()), Some(t));
        }
        assert_eq!(
            parse_rfc3339("2009-02-13T23:31:30Z"),
            Some(Timestamp::from_micros(1_234_567_890_000_000))
        );
        for bad in [
            "",
            "2009-02-13 23:31:30Z",
            "2009-13-13T23:31:30Z",
            "2009-02-13T23:31:30.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
