//! Where alerts go: the [`AlertSink`] trait and the sinks the CLI and embedders use; the
//! [`SinkError`] is shared with the flow sinks ([`FlowSink`](crate::output::FlowSink)).

use std::io::{self, Write};
use std::sync::mpsc::Sender;

use super::alert::Alert;
use super::signature::EveSignature;

/// Why a sink could not take an alert. Sink errors end a run (unlike malformed packets).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// Writing failed.
    #[error("output failed: {0}")]
    Io(#[from] io::Error),
    /// Serializing the alert failed.
    #[error("serialization failed: {0}")]
    Json(#[from] serde_json::Error),
    /// The receiving end of a channel sink was dropped.
    #[error("channel receiver was dropped")]
    Disconnected,
    /// A callback sink reported a failure.
    #[error("callback failed: {0}")]
    Callback(String),
}

/// Receives alerts, one at a time, in the order detectors raised them.
///
/// Only [`emit`](AlertSink::emit) is required; [`flush`](AlertSink::flush) defaults to a
/// no-op, so simple sinks stay one-liners. Behaviour such as rate limiting or fan-out is added
/// by wrapping a sink, not by widening this trait.
///
/// # Errors
///
/// A sink error is an I/O-class failure that ends the run: the pipeline stops and reports it.
///
/// # Example
///
/// ```
/// use netsec_core::detect::{Alert, AlertSink, SinkError};
///
/// /// Counts alerts by severity; nothing to flush.
/// #[derive(Default)]
/// struct Tally([u64; 4]);
///
/// impl AlertSink for Tally {
///     fn emit(&mut self, alert: &Alert) -> Result<(), SinkError> {
///         self.0[alert.severity as usize] += 1;
///         Ok(())
///     }
/// }
///
/// let mut sink: Box<dyn AlertSink> = Box::new(Tally::default());
/// sink.flush()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait AlertSink {
    /// Takes one alert.
    ///
    /// # Errors
    /// [`SinkError`] when the alert cannot be written or delivered.
    fn emit(&mut self, alert: &Alert) -> Result<(), SinkError>;

    /// Pushes buffered alerts out; called at the end of a run. Default: nothing to do.
    ///
    /// # Errors
    /// [`SinkError`] when buffered output cannot be written.
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

impl<S: AlertSink + ?Sized> AlertSink for &mut S {
    fn emit(&mut self, alert: &Alert) -> Result<(), SinkError> {
        (**self).emit(alert)
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        (**self).flush()
    }
}

impl<S: AlertSink + ?Sized> AlertSink for Box<S> {
    fn emit(&mut self, alert: &Alert) -> Result<(), SinkError> {
        (**self).emit(alert)
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        (**self).flush()
    }
}

/// One [`Alert`] JSON object per line, in the `ALERTS.md` shape.
#[derive(Debug)]
pub struct JsonlAlertSink<W: Write> {
    out: W,
}

impl<W: Write> JsonlAlertSink<W> {
    /// Writes to `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        JsonlAlertSink { out }
    }
    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> AlertSink for JsonlAlertSink<W> {
    fn emit(&mut self, alert: &Alert) -> Result<(), SinkError> {
        serde_json::to_writer(&mut self.out, alert)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(self.out.flush()?)
    }
}

/// Suricata EVE JSON `event_type: "alert"` lines (`ALERTS.md`, "EVE-compatible output").
///
/// Rule alerts carry their `gid`/`sid`/`rev` and `msg`. Alerts from other detectors get the
/// stable signature of their (detector, attack type) from
/// [`signature`](crate::detect::signature) (gid 9000+), never a per-alert sentence; the
/// sentence, score, detector and `meta` go in a top-level `netsec` object, which EVE readers
/// ignore.
#[derive(Debug)]
pub struct EveAlertSink<W: Write> {
    out: W,
}

impl<W: Write> EveAlertSink<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        EveAlertSink { out }
    }
    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The EVE object for one alert.
    pub fn to_eve(alert: &Alert) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        let sig = EveSignature::of(alert);
        let mut obj = Map::new();
        obj.insert("timestamp".into(), alert.timestamp.to_string().into());
        if let Some(f) = alert.flow_id {
            obj.insert("flow_id".into(), f.into());
        }
        obj.insert("event_type".into(), "alert".into());
        if let Some(ip) = alert.src_ip {
            obj.insert("src_ip".into(), eve_ip(ip).into());
        }
        if let Some(p) = alert.src_port {
            obj.insert("src_port".into(), p.into());
        }
        if let Some(ip) = alert.dst_ip {
            obj.insert("dest_ip".into(), eve_ip(ip).into());
        }
        if let Some(p) = alert.dst_port {
            obj.insert("dest_port".into(), p.into());
        }
        if let Some(p) = &alert.protocol {
            obj.insert("proto".into(), p.clone().into());
        }
        // ICMP type and code where the detector recorded them, and the number of the frame
        // that raised a packet alert, as Suricata writes them.
        for key in ["icmp_type", "icmp_code", super::PACKET_NUMBER_META] {
            if let Some(v) = alert.meta_u64(key) {
                obj.insert(key.into(), v.into());
            }
        }
        // The frame's MAC addresses, where the detector recorded them (EVE's `ether`).
        if let (Some(src), Some(dst)) = (alert.meta.get("src_mac"), alert.meta.get("dest_mac")) {
            obj.insert("ether".into(), json!({"src_mac": src, "dest_mac": dst}));
        }
        obj.insert(
            "alert".into(),
            json!({
                "action": "allowed",
                "gid": sig.gid,
                "signature_id": sig.sid,
                "rev": sig.rev,
                "signature": sig.name,
                "category": alert
                    .meta
                    .get("category")
                    .and_then(Value::as_str)
                    .unwrap_or(&alert.attack_type),
                "severity": alert.severity.eve_severity(),
            }),
        );
        // The packet's direction in its flow, the flow's counters and endpoints, and its
        // application protocol, where the detector recorded them (`flow_context`).
        if let Some(d) = alert.meta.get("direction") {
            obj.insert("direction".into(), d.clone());
        }
        if let Some(Value::Object(flow)) = alert.meta.get("flow") {
            let mut flow = flow.clone();
            for key in ["src_ip", "dest_ip"] {
                let ip = flow
                    .get(key)
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse().ok());
                if let Some(ip) = ip {
                    flow.insert(key.into(), eve_ip(ip).into());
                }
            }
            obj.insert("flow".into(), Value::Object(flow));
        }
        for key in ["app_proto", "traffic"] {
            if let Some(v) = alert.meta.get(key) {
                obj.insert(key.into(), v.clone());
            }
        }
        if let Some(action) = alert.meta.get("action").and_then(Value::as_str) {
            obj.insert(
                "verdict".into(),
                eve_verdict(action, alert.protocol.as_deref()),
            );
        }
        obj.insert(
            "netsec".into(),
            json!({
                "id": alert.id,
                "description": alert.description,
                "score": alert.score,
                "detector": alert.detector().unwrap_or("unknown"),
                "meta": alert.meta,
            }),
        );
        Value::Object(obj)
    }
}

/// An address as Suricata writes it in EVE: IPv4 dotted, IPv6 as eight groups of four hex
/// digits (`fe80:0000:0000:0000:020c:29ff:fef3:cf38`), never compressed, so the same address
/// is always the same string for tools that group by it.
pub(crate) fn eve_ip(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let g = v6.segments();
            format!(
                "{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}",
                g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]
            )
        }
    }
}

/// EVE's `verdict` of a rule alert, as Suricata writes it in IDS mode: `alert` (nothing is
/// dropped here), and for a `reject*` rule whom the reject would go to and what it would
/// be (a TCP reset, or ICMP administratively prohibited for UDP and ICMP).
fn eve_verdict(action: &str, protocol: Option<&str>) -> serde_json::Value {
    let target = match action {
        "reject" | "rejectsrc" => "to_client",
        "rejectdst" => "to_server",
        "rejectboth" => "both",
        _ => return serde_json::json!({ "action": "alert" }),
    };
    let reject: &[&str] = match protocol {
        Some("TCP") => &["tcp-reset"],
        Some("UDP" | "ICMP" | "ICMPv6") => &["icmp-prohib"],
        _ => &[],
    };
    serde_json::json!({ "action": "alert", "reject-target": target, "reject": reject })
}

impl<W: Write> AlertSink for EveAlertSink<W> {
    fn emit(&mut self, alert: &Alert) -> Result<(), SinkError> {
        serde_json::to_writer(&mut self.out, &Self::to_eve(alert))?;
        self.out.write_all(b"\n")?;
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(self.out.flush()?)
    }
}

/// The CSV columns, in order.
pub const ALERT_CSV_COLUMNS: [&str; 16] = [
    "id",
    "detector",
    "timestamp",
    "attack_type",
    "severity",
    "status",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "protocol",
    "score",
    "flow_id",
    "description",
    "tags",
    "meta",
];

/// CSV with a header row ([`ALERT_CSV_COLUMNS`]); tags joined with `;`, `meta` as JSON text,
/// absent optional fields empty, fields quoted per RFC 4180 when needed.
#[derive(Debug)]
pub struct CsvAlertSink<W: Write> {
    out: W,
    wrote_header: bool,
}

impl<W: Write> CsvAlertSink<W> {
    /// Writes to `out`; the header goes out before the first alert (or on flush).
    pub fn new(out: W) -> Self {
        CsvAlertSink {
            out,
            wrote_header: false,
        }
    }
    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.wrote_header {
            self.wrote_header = true;
            writeln!(self.out, "{}", ALERT_CSV_COLUMNS.join(","))?;
        }
        Ok(())
    }
}

fn csv_field(out: &mut impl Write, s: &str) -> io::Result<()> {
    if s.contains([',', '"', '\n', '\r']) {
        out.write_all(b"\"")?;
        out.write_all(s.replace('"', "\"\"").as_bytes())?;
        out.write_all(b"\"")
    } else {
        out.write_all(s.as_bytes())
    }
}

impl<W: Write> AlertSink for CsvAlertSink<W> {
    fn emit(&mut self, a: &Alert) -> Result<(), SinkError> {
        self.header()?;
        let opt = |v: Option<String>| v.unwrap_or_default();
        let fields = [
            a.id.clone(),
            a.detector().unwrap_or_default().to_string(),
            a.timestamp.to_string(),
            a.attack_type.clone(),
            a.severity.as_str().to_string(),
            a.status.as_str().to_string(),
            opt(a.src_ip.map(|i| i.to_string())),
            opt(a.src_port.map(|p| p.to_string())),
            opt(a.dst_ip.map(|i| i.to_string())),
            opt(a.dst_port.map(|p| p.to_string())),
            opt(a.protocol.clone()),
            a.score.to_string(),
            opt(a.flow_id.map(|f| f.to_string())),
            a.description.clone(),
            a.tags.join(";"),
            serde_json::to_string(&a.meta)?,
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            csv_field(&mut self.out, f)?;
        }
        self.out.write_all(b"\n")?;
        Ok(())
    }
    fn flush(&mut self) -> Result<(), SinkError> {
        self.header()?;
        Ok(self.out.flush()?)
    }
}

/// Calls a closure for every alert: the simplest way for an embedder to receive alerts.
///
/// ```
/// use netsec_core::detect::{AlertSink, FnSink};
/// let mut seen = 0;
/// let mut sink = FnSink::new(|_alert| { seen += 1; Ok(()) });
/// sink.flush()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FnSink<F> {
    f: F,
}

impl<F> FnSink<F>
where
    F: FnMut(&super::Alert) -> Result<(), SinkError>,
{
    /// Wraps `f`.
    pub fn new(f: F) -> Self {
        FnSink { f }
    }
}

impl<F> std::fmt::Debug for FnSink<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnSink")
    }
}

impl<F> AlertSink for FnSink<F>
where
    F: FnMut(&Alert) -> Result<(), SinkError>,
{
    fn emit(&mut self, alert: &Alert) -> Result<(), SinkError> {
        (self.f)(alert)
    }
}

/// Sends a clone of every alert over a `std::sync::mpsc` channel (e.g. to another thread).
/// A dropped receiver is [`SinkError::Disconnected`].
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: Sender<Alert>,
}

impl ChannelSink {
    /// Sends into `tx`.
    pub fn new(tx: Sender<Alert>) -> Self {
        ChannelSink { tx }
    }
}

impl AlertSink for ChannelSink {
    fn emit(&mut self, alert: &Alert) -> Result<(), SinkError> {
        self.tx
            .send(alert.clone())
            .map_err(|_| SinkError::Disconnected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{AlertStatus, Severity};
    use crate::time::Timestamp;
    use serde_json::json;

    fn alert(rule: bool) -> Alert {
        let mut meta = serde_json::Map::new();
        meta.insert(
            "detector".into(),
            if rule { "rules" } else { "port_scan" }.into(),
        );
        if rule {
            meta.insert("sid".into(), 42.into());
            meta.insert("gid".into(), 1.into());
            meta.insert("rev".into(), 3.into());
            meta.insert("msg".into(), "TEST msg".into());
        }
        Alert {
            id: "00000000000000000000000000".into(),
            detector: if rule { "rules" } else { "port_scan" }.into(),
            timestamp: Timestamp::from_micros(0),
            attack_type: "Port_Scan".into(),
            severity: Severity::High,
            status: AlertStatus::New,
            src_ip: Some("10.0.0.1".parse().expect("literal")),
            dst_ip: Some("10.0.0.2".parse().expect("literal")),
            src_port: Some(1),
            dst_port: Some(2),
            protocol: Some("TCP".into()),
            score: 0.5,
            description: "a, \"quoted\" thing".into(),
            tags: vec!["rule".into(), "offline".into()],
            flow_id: Some(7),
            meta,
        }
    }

    #[test]
    fn eve_writes_ipv6_addresses_expanded_as_suricata_does() {
        let mut a = alert(true);
        a.src_ip = Some("fe80::20c:29ff:fef3:cf38".parse().expect("v6"));
        a.dst_ip = Some("::1".parse().expect("v6"));
        let v = EveAlertSink::<Vec<u8>>::to_eve(&a);
        assert_eq!(v["src_ip"], "fe80:0000:0000:0000:020c:29ff:fef3:cf38");
        assert_eq!(v["dest_ip"], "0000:0000:0000:0000:0000:0000:0000:0001");
        a.src_ip = Some("10.0.0.1".parse().expect("v4"));
        assert_eq!(EveAlertSink::<Vec<u8>>::to_eve(&a)["src_ip"], "10.0.0.1");
    }

    #[test]
    fn jsonl_one_line_per_alert() {
        let mut s = JsonlAlertSink::new(Vec::new());
        s.emit(&alert(true)).expect("emit");
        s.emit(&alert(false)).expect("emit");
        s.flush().expect("flush");
        let out = String::from_utf8(s.into_inner()).expect("utf8");
        assert_eq!(out.lines().count(), 2);
        for l in out.lines() {
            let back: Alert = serde_json::from_str(l).expect("valid alert json");
            assert_eq!(back.flow_id, Some(7));
        }
    }

    #[test]
    fn eve_shape() {
        let v = EveAlertSink::<Vec<u8>>::to_eve(&alert(true));
        assert_eq!(v["event_type"], "alert");
        assert_eq!(v["dest_ip"], "10.0.0.2");
        assert_eq!(v["alert"]["signature_id"], 42);
        assert_eq!(v["alert"]["gid"], 1);
        assert_eq!(v["alert"]["rev"], 3);
        assert_eq!(v["alert"]["signature"], "TEST msg");
        assert_eq!(v["alert"]["severity"], 1);
        assert_eq!(v["alert"]["action"], "allowed");
        let n = EveAlertSink::<Vec<u8>>::to_eve(&alert(false));
        assert_eq!(n["alert"]["gid"], 9000);
        let sid = n["alert"]["signature_id"].as_u64().expect("number");
        assert!((1..=999_999).contains(&sid));
        assert_eq!(EveAlertSink::<Vec<u8>>::to_eve(&alert(false)), n);
        let mut s = EveAlertSink::new(Vec::new());
        s.emit(&alert(false)).expect("emit");
        assert!(s.into_inner().ends_with(b"\n"));
    }

    #[test]
    fn eve_writes_packet_facts_recorded_in_meta() {
        let mut a = alert(true);
        assert!(EveAlertSink::<Vec<u8>>::to_eve(&a).get("ether").is_none());
        for (k, v) in [
            ("src_mac", json!("02:00:00:00:00:0a")),
            ("dest_mac", json!("02:00:00:00:00:0b")),
            ("icmp_type", json!(8)),
            ("icmp_code", json!(0)),
            (crate::detect::PACKET_NUMBER_META, json!(12)),
        ] {
            a.meta.insert(k.into(), v);
        }
        let v = EveAlertSink::<Vec<u8>>::to_eve(&a);
        assert_eq!(v["ether"]["src_mac"], "02:00:00:00:00:0a");
        assert_eq!(v["ether"]["dest_mac"], "02:00:00:00:00:0b");
        assert_eq!(
            (v["icmp_type"].as_u64(), v["icmp_code"].as_u64()),
            (Some(8), Some(0))
        );
        assert_eq!(v["pcap_cnt"], 12);
    }

    #[test]
    fn csv_header_and_quoting() {
        let mut s = CsvAlertSink::new(Vec::new());
        s.emit(&alert(true)).expect("emit");
        s.flush().expect("flush");
        let out = String::from_utf8(s.into_inner()).expect("utf8");
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some(ALERT_CSV_COLUMNS.join(",").as_str()));
        let row = lines.next().expect("row");
        assert!(row.contains(r#""a, ""quoted"" thing""#));
        assert!(row.contains("rule;offline"));
        let mut empty = CsvAlertSink::new(Vec::new());
        empty.flush().expect("flush");
        assert_eq!(
            empty.into_inner().len(),
            ALERT_CSV_COLUMNS.join(",").len() + 1
        );
    }

    #[test]
    fn channel_and_fn_sinks() {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut s = ChannelSink::new(tx);
        s.emit(&alert(true)).expect("send");
        assert_eq!(rx.recv().expect("alert").meta_u64("sid"), Some(42));
        drop(rx);
        assert!(matches!(s.emit(&alert(true)), Err(SinkError::Disconnected)));

        let mut n = 0;
        {
            let mut f = FnSink::new(|_a: &Alert| {
                n += 1;
                Ok(())
            });
            f.emit(&alert(true)).expect("emit");
            let mut boxed: Box<dyn AlertSink + '_> = Box::new(&mut f);
            boxed.emit(&alert(false)).expect("emit");
        }
        assert_eq!(n, 2);
    }
}
