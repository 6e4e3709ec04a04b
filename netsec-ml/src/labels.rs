//! Label files: which flows of a capture are attacks.
//!
//! A label file is a list of rules, each naming a class and the flows it covers. A flow gets
//! the class of the **first** rule (in file order) that matches it; a flow no rule matches is
//! [`BENIGN`](crate::dataset::BENIGN). A rule matches when every condition it gives holds
//! (conditions left out match anything):
//!
//! | key | matches when |
//! |---|---|
//! | `start`, `end` | the flow's first packet time is within [`start`, `end`] (inclusive); UTC, as RFC 3339 with `Z` or no suffix (`2017-07-07T13:55:00Z`, `2017-07-07 13:55:00.25`; numeric offsets are refused) or Unix seconds (`1499435700.5`) |
//! | `src`, `dst` | the flow's forward (client, first-packet sender) / backward address is in the network (`10.0.0.5`, `10.0.0.0/8`, `2001:db8::/32`) |
//! | `ip` | either address is in the network |
//! | `src_port`, `dst_port` | the forward / backward port is in the range (`80`, `1024-65535`) |
//! | `port` | either port is in the range |
//! | `protocol` | the IP protocol is this one (`tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, `gre` or a number) |
//! | `capture` | the flow comes from the capture with this file name (`scan.pcap`, no directory), so one label file can describe many captures whose addresses overlap |
//!
//! Two formats, chosen by the file extension:
//!
//! TOML (`.toml`), one `[[label]]` table per rule; unknown keys are errors:
//! ```toml
//! [[label]]
//! label = "Portscan"
//! src = "192.168.10.50"
//! start = 2017-07-07T13:55:00Z   # a TOML date-time or a string
//! end = "2017-07-07T14:00:00Z"
//!
//! [[label]]
//! label = "FTP-Patator"
//! dst_port = 21
//! protocol = "tcp"
//! ```
//!
//! CSV (`.csv`, any other extension), a header naming some of the keys above (`label` is
//! required) and one rule per row; an empty cell matches anything:
//! ```csv
//! label,src,dst_port,protocol,start,end
//! Portscan,192.168.10.50,,,2017-07-07T13:55:00Z,2017-07-07T14:00:00Z
//! FTP-Patator,,21,tcp,,
//! ```
//!
//! Errors name the file and the line of the offending rule.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use netsec_core::decode::IpProtocol;
use netsec_core::flow::FlowRecord;
use netsec_core::rules::IpNet;
use netsec_core::time::Timestamp;
use serde::Deserialize;

use crate::dataset::{DataError, Location};

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// Lowest port.
    pub lo: u16,
    /// Highest port.
    pub hi: u16,
}

impl PortRange {
    fn contains(self, port: u16) -> bool {
        (self.lo..=self.hi).contains(&port)
    }
}

/// One rule of a label file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRule {
    /// Class given to matching flows.
    pub label: String,
    /// Earliest first-packet time.
    pub start: Option<Timestamp>,
    /// Latest first-packet time.
    pub end: Option<Timestamp>,
    /// Network of the forward (client) address.
    pub src: Option<IpNet>,
    /// Network of the backward (server) address.
    pub dst: Option<IpNet>,
    /// Network of either address.
    pub ip: Option<IpNet>,
    /// Forward port range.
    pub src_port: Option<PortRange>,
    /// Backward port range.
    pub dst_port: Option<PortRange>,
    /// Either port's range.
    pub port: Option<PortRange>,
    /// IP protocol.
    pub protocol: Option<IpProtocol>,
    /// File name of the capture the flow must come from.
    pub capture: Option<String>,
    /// Line of the rule in its file (1-based).
    pub line: u64,
}

impl LabelRule {
    /// Whether `flow` satisfies every condition of this rule, not knowing its capture (a
    /// rule with a `capture` condition never matches).
    pub fn matches(&self, flow: &FlowRecord) -> bool {
        self.matches_in(None, flow)
    }

    /// Whether `flow`, read from the capture whose file name is `capture`, satisfies every
    /// condition of this rule.
    pub fn matches_in(&self, capture: Option<&str>, flow: &FlowRecord) -> bool {
        if let Some(want) = &self.capture {
            if capture != Some(want.as_str()) {
                return false;
            }
        }
        let net = |n: Option<IpNet>, a: IpAddr| n.is_none_or(|n| n.contains(a));
        let port = |r: Option<PortRange>, p: u16| r.is_none_or(|r| r.contains(p));
        self.start.is_none_or(|s| flow.first_ts >= s)
            && self.end.is_none_or(|e| flow.first_ts <= e)
            && net(self.src, flow.src_addr)
            && net(self.dst, flow.dst_addr)
            && self
                .ip
                .is_none_or(|n| n.contains(flow.src_addr) || n.contains(flow.dst_addr))
            && port(self.src_port, flow.src_port)
            && port(self.dst_port, flow.dst_port)
            && self
                .port
                .is_none_or(|r| r.contains(flow.src_port) || r.contains(flow.dst_port))
            && self.protocol.is_none_or(|p| p == flow.protocol)
    }
}

/// The rules of one label file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRules {
    /// The file the rules came from.
    pub path: PathBuf,
    /// The rules.
    pub rules: Vec<LabelRule>,
}

impl LabelRules {
    /// Reads a label file: TOML when its extension is `.toml`, CSV otherwise.
    ///
    /// # Errors
    /// [`DataError::Io`] when it cannot be read, [`DataError::Invalid`] naming the line of a bad
    /// rule.
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            at: Location::file(path),
            cause: source,
        })?;
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        if is_toml {
            Self::from_toml(&text, path)
        } else {
            Self::from_csv(&text, path)
        }
    }

    /// Parses TOML label rules (`path` names the source in errors).
    ///
    /// # Errors
    /// [`DataError::Invalid`] naming the line of a syntax error or a bad rule.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, DataError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            label: Vec<toml::Spanned<RawRule>>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawRule {
            label: String,
            start: Option<toml::Value>,
            end: Option<toml::Value>,
            src: Option<String>,
            dst: Option<String>,
            ip: Option<String>,
            src_port: Option<toml::Value>,
            dst_port: Option<toml::Value>,
            port: Option<toml::Value>,
            protocol: Option<toml::Value>,
            capture: Option<String>,
        }
        let line_of = |offset: usize| 1 + text[..offset.min(text.len())].matches('\n').count();
        let file: File = toml::from_str(text).map_err(|e| DataError::Invalid {
            at: Location {
                line: e.span().map(|s| line_of(s.start) as u64),
                ..Location::file(path)
            },
            reason: e.message().trim().to_string(),
        })?;
        let mut rules = Vec::with_capacity(file.label.len());
        for spanned in file.label {
            let line = line_of(spanned.span().start) as u64;
            let raw = spanned.into_inner();
            let at = Location::line(path, line);
            let text_of = |v: Option<toml::Value>| {
                v.map(|v| match v {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                })
            };
            let fields = RawFields {
                label: Some(raw.label),
                start: text_of(raw.start),
                end: text_of(raw.end),
                src: raw.src,
                dst: raw.dst,
                ip: raw.ip,
                src_port: text_of(raw.src_port),
                dst_port: text_of(raw.dst_port),
                port: text_of(raw.port),
                protocol: text_of(raw.protocol),
                capture: raw.capture,
            };
            rules.push(
                fields
                    .into_rule(line)
                    .map_err(|reason| DataError::Invalid {
                        at: at.clone(),
                        reason,
                    })?,
            );
        }
        Ok(LabelRules {
            path: path.to_path_buf(),
            rules,
        })
    }

    /// Parses CSV label rules (`path` names the source in errors).
    ///
    /// # Errors
    /// [`DataError::Invalid`] naming the line of a bad header or rule.
    pub fn from_csv(text: &str, path: &Path) -> Result<Self, DataError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let invalid = |line: Option<u64>, reason: String| DataError::Invalid {
            at: Location {
                line,
                ..Location::file(path)
            },
            reason,
        };
        let headers = reader
            .headers()
            .map_err(|e| invalid(Some(1), format!("malformed CSV: {e}")))?
            .clone();
        for h in &headers {
            if !KEYS.contains(&h.to_ascii_lowercase().as_str()) {
                return Err(invalid(
                    Some(1),
                    format!("unknown column {h:?} (known: {})", KEYS.join(", ")),
                ));
            }
        }
        if !headers.iter().any(|h| h.eq_ignore_ascii_case("label")) {
            return Err(invalid(Some(1), "no \"label\" column".to_string()));
        }
        let mut rules = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                invalid(
                    e.position().map(|p| p.line()),
                    format!("malformed CSV: {e}"),
                )
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let get = |key: &str| {
                headers
                    .iter()
                    .position(|h| h.eq_ignore_ascii_case(key))
                    .and_then(|i| record.get(i))
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            let fields = RawFields {
                label: get("label"),
                start: get("start"),
                end: get("end"),
                src: get("src"),
                dst: get("dst"),
                ip: get("ip"),
                src_port: get("src_port"),
                dst_port: get("dst_port"),
                port: get("port"),
                protocol: get("protocol"),
                capture: get("capture"),
            };
            rules.push(
                fields
                    .into_rule(line)
                    .map_err(|reason| invalid(Some(line), reason))?,
            );
        }
        Ok(LabelRules {
            path: path.to_path_buf(),
            rules,
        })
    }

    /// The first rule matching `flow`, if any (no rule = benign).
    pub fn rule_for(&self, flow: &FlowRecord) -> Option<&LabelRule> {
        self.rule_for_in(None, flow)
    }

    /// The index of the first rule matching `flow` read from the capture named `capture`.
    pub fn position_in(&self, capture: Option<&str>, flow: &FlowRecord) -> Option<usize> {
        self.rules.iter().position(|r| r.matches_in(capture, flow))
    }

    /// The first rule matching `flow` read from the capture named `capture`, if any.
    pub fn rule_for_in(&self, capture: Option<&str>, flow: &FlowRecord) -> Option<&LabelRule> {
        self.position_in(capture, flow).map(|i| &self.rules[i])
    }
}

/// Column names of the CSV format (and keys of the TOML one).
const KEYS: [&str; 11] = [
    "label", "start", "end", "src", "dst", "ip", "src_port", "dst_port", "port", "protocol",
    "capture",
];

/// A rule's fields as text, before validation (shared by both formats).
struct RawFields {
    label: Option<String>,
    start: Option<String>,
    end: Option<String>,
    src: Option<String>,
    dst: Option<String>,
    ip: Option<String>,
    src_port: Option<String>,
    dst_port: Option<String>,
    port: Option<String>,
    protocol: Option<String>,
    capture: Option<String>,
}

impl RawFields {
    fn into_rule(self, line: u64) -> Result<LabelRule, String> {
        let label = self
            .label
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .ok_or_else(|| "rule without a label".to_string())?;
        let keyed = |key: &str, e: String| format!("{key}: {e}");
        let time = |key: &str, v: Option<String>| {
            v.map(|v| parse_time(&v).map_err(|e| keyed(key, e)))
                .transpose()
        };
        let net = |key: &str, v: Option<String>| {
            v.map(|v| parse_net(&v).map_err(|e| keyed(key, e)))
                .transpose()
        };
        let ports = |key: &str, v: Option<String>| {
            v.map(|v| parse_ports(&v).map_err(|e| keyed(key, e)))
                .transpose()
        };
        let rule = LabelRule {
            label,
            start: time("start", self.start)?,
            end: time("end", self.end)?,
            src: net("src", self.src)?,
            dst: net("dst", self.dst)?,
            ip: net("ip", self.ip)?,
            src_port: ports("src_port", self.src_port)?,
            dst_port: ports("dst_port", self.dst_port)?,
            port: ports("port", self.port)?,
            protocol: self
                .protocol
                .map(|p| parse_protocol(&p).map_err(|e| keyed("protocol", e)))
                .transpose()?,
            capture: self
                .capture
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty()),
            line,
        };
        if let (Some(s), Some(e)) = (rule.start, rule.end) {
            if e < s {
                return Err(format!("end {e} is before start {s}"));
            }
        }
        Ok(rule)
    }
}

/// RFC 3339 in UTC (`Z` or no suffix) or Unix seconds.
fn parse_time(text: &str) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>() {
        if secs.is_finite() && secs.abs() < 1e11 {
            return Ok(Timestamp::from_micros((secs * 1e6).round() as i64));
        }
        return Err(format!("{t:?} is out of range"));
    }
    let parsed = humantime::parse_rfc3339_weak(t.trim_end_matches(['Z', 'z']))
        .map_err(|e| format!("{t:?} is not an RFC 3339 time or Unix seconds ({e})"))?;
    let since = parsed
        .duration_since(UNIX_EPOCH)
        .map_err(|_| format!("{t:?} is before 1970"))?;
    i64::try_from(since.as_micros())
        .map(Timestamp::from_micros)
        .map_err(|_| format!("{t:?} is out of range"))
}

/// An address or CIDR network.
fn parse_net(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    let bad = || format!("{t:?} is not an IP address or network");
    let (addr, prefix) = match t.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (t, None),
    };
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let full = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => full,
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|&n| n <= full)
            .ok_or_else(bad)?,
    };
    Ok(IpNet { addr, prefix })
}

/// `80` or `1024-65535`.
fn parse_ports(text: &str) -> Result<PortRange, String> {
    let t = text.trim();
    let bad = || format!("{t:?} is not a port or port range");
    let port = |s: &str| s.trim().parse::<u16>().map_err(|_| bad());
    let range = match t.split_once('-') {
        Some((lo, hi)) => PortRange {
            lo: port(lo)?,
            hi: port(hi)?,
        },
        None => {
            let p = port(t)?;
            PortRange { lo: p, hi: p }
        }
    };
    if range.lo > range.hi {
        return Err(bad());
    }
    Ok(range)
}

fn parse_protocol(text: &str) -> Result<IpProtocol, String> {
    let t = text.trim().to_ascii_lowercase();
    Ok(match t.as_str() {
        "tcp" => IpProtocol::TCP,
        "udp" => IpProtocol::UDP,
        "icmp" => IpProtocol::ICMP,
        "icmpv6" | "ipv6-icmp" => IpProtocol::ICMPV6,
        "sctp" => IpProtocol::SCTP,
        "gre" => IpProtocol::GRE,
        n => IpProtocol(n.parse::<u8>().map_err(|_| {
            format!("{text:?} is not a protocol (tcp, udp, icmp, icmpv6, sctp, gre or a number)")
        })?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_text(r: Result<LabelRules, DataError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn toml_rules_parse_with_lines() -> Result<(), DataError> {
        let text = r#"
[[label]]
label = "Portscan"
src = "192.168.10.50"
start = 2017-07-07T13:55:00Z
end = "2017-07-07 14:00:00"

[[label]]
label = "FTP-Patator"
dst_port = 21
protocol = "tcp"
port = "1000-2000"
"#;
        let r = LabelRules::from_toml(text, Path::new("l.toml"))?;
        assert_eq!(r.rules.len(), 2);
        let scan = &r.rules[0];
        assert_eq!(scan.line, 2);
        assert_eq!(scan.label, "Portscan");
        assert_eq!(
            scan.start,
            Some(Timestamp::from_micros(1_499_435_700_000_000))
        );
        assert_eq!(
            scan.end,
            Some(Timestamp::from_micros(1_499_436_000_000_000))
        );
        assert_eq!(
            scan.src.map(|n| n.to_string()).as_deref(),
            Some("192.168.10.50")
        );
        let ftp = &r.rules[1];
        assert_eq!(ftp.line, 8);
        assert_eq!(ftp.dst_port, Some(PortRange { lo: 21, hi: 21 }));
        assert_eq!(ftp.port, Some(PortRange { lo: 1000, hi: 2000 }));
        assert_eq!(ftp.protocol, Some(IpProtocol::TCP));
        Ok(())
    }

    #[test]
    fn toml_errors_name_file_and_line() {
        let e = err_text(LabelRules::from_toml(
            "[[label]]\nlabel = \"x\"\n\n[[label]]\nlabel = \"y\"\nsrc = \"10.0.0.300\"\n",
            Path::new("l.toml"),
        ));
        assert_eq!(
            e,
            "l.toml:4: src: \"10.0.0.300\" is not an IP address or network"
        );
        let e = err_text(LabelRules::from_toml(
            "[[label]]\nlabel = \"x\"\nsrcc = \"1.2.3.4\"\n",
            Path::new("l.toml"),
        ));
        assert!(e.starts_with("l.toml:3: unknown field `srcc`"), "{e}");
        let e = err_text(LabelRules::from_toml("[[label]\n", Path::new("l.toml")));
        assert!(e.starts_with("l.toml:1: "), "{e}");
        let e = err_text(LabelRules::from_toml(
            "[[label]]\nlabel = \"x\"\nstart = 20\nend = 10\n",
            Path::new("l.toml"),
        ));
        assert!(e.starts_with("l.toml:1: end "), "{e}");
    }

    #[test]
    fn csv_rules_parse_and_fail_with_lines() -> Result<(), DataError> {
        let text = "# attack windows\nlabel,src,dst_port,protocol,start,end\nPortscan,192.168.10.0/24,,,1499435700,1499436000.5\nFTP-Patator,,21,tcp,,\n";
        let r = LabelRules::from_csv(text, Path::new("l.csv"))?;
        assert_eq!(r.rules.len(), 2);
        assert_eq!(r.rules[0].src.map(|n| n.prefix), Some(24));
        assert_eq!(
            r.rules[0].end,
            Some(Timestamp::from_micros(1_499_436_000_500_000))
        );
        assert_eq!(r.rules[1].protocol, Some(IpProtocol::TCP));
        assert_eq!(r.rules[1].line, 4);

        let e = err_text(LabelRules::from_csv(
            "label,dst_port\nx,80\ny,99999\n",
            Path::new("l.csv"),
        ));
        assert_eq!(
            e,
            "l.csv:3: dst_port: \"99999\" is not a port or port range"
        );
        let e = err_text(LabelRules::from_csv("label,bogus\n", Path::new("l.csv")));
        assert!(e.starts_with("l.csv:1: unknown column \"bogus\""), "{e}");
        let e = err_text(LabelRules::from_csv("src\n1.2.3.4\n", Path::new("l.csv")));
        assert_eq!(e, "l.csv:1: no \"label\" column");
        let e = err_text(LabelRules::from_csv(
            "label,protocol\nx,bogus\n",
            Path::new("l.csv"),
        ));
        assert!(e.starts_with("l.csv:2: protocol: "), "{e}");
        let e = err_text(LabelRules::from_csv(
            "label,src\n,1.2.3.4\n",
            Path::new("l.csv"),
        ));
        assert_eq!(e, "l.csv:2: rule without a label");
        Ok(())
    }

    #[test]
    fn a_capture_condition_limits_a_rule_to_one_capture() -> Result<(), DataError> {
        let toml = "[[label]]\nlabel = \"Scan\"\ncapture = \"scan.pcap\"\nsrc = \"10.0.0.1\"\n";
        let csv = "label,capture,src\nScan,scan.pcap,10.0.0.1\n";
        for r in [
            LabelRules::from_toml(toml, Path::new("l.toml"))?,
            LabelRules::from_csv(csv, Path::new("l.csv"))?,
        ] {
            let flow = FlowRecord {
                id: 1,
                first_ts: Timestamp::from_micros(0),
                last_ts: Timestamp::from_micros(0),
                src_addr: [10, 0, 0, 1].into(),
                src_port: 1,
                dst_addr: [10, 0, 0, 2].into(),
                dst_port: 2,
                protocol: IpProtocol::TCP,
                end_reason: netsec_core::flow::EndReason::Idle,
                stats: Default::default(),
                app_proto: Default::default(),
                app: None,
            };
            assert_eq!(r.rules[0].capture.as_deref(), Some("scan.pcap"));
            assert_eq!(r.position_in(Some("scan.pcap"), &flow), Some(0));
            assert_eq!(r.position_in(Some("other.pcap"), &flow), None);
            assert!(r.rule_for(&flow).is_none(), "no capture known: no match");
        }
        Ok(())
    }

    #[test]
    fn parsers() {
        assert!(parse_ports("90-80").is_err());
        assert_eq!(parse_ports(" 1 - 2 "), Ok(PortRange { lo: 1, hi: 2 }));
        assert!(parse_net("10.0.0.0/33").is_err());
        assert_eq!(parse_net("::1/128").map(|n| n.prefix), Ok(128));
        assert_eq!(parse_protocol("47"), Ok(IpProtocol::GRE));
        assert_eq!(
            parse_time("1970-01-01T00:00:01.5Z"),
            Ok(Timestamp::from_micros(1_500_000))
        );
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("1e300").is_err());
    }
}
