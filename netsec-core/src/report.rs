//! The dashboard's bundle and the self-contained HTML report.
//!
//! [`DASHBOARD`] is the built front end (`dashboard/`, TypeScript; the bundle is committed
//! and checked against its sources in CI), compiled in so the server serves it and `netsec
//! analyze --report` inlines it with no file to install and nothing fetched.
//!
//! [`ReportBuilder`] gathers what one analysis found (alerts, a sample of flows, devices,
//! captures) and writes one HTML file with the data and the dashboard inline: it opens from
//! disk with no server and no network and shows the same views, frozen. Flows are sampled
//! deterministically (the [`MAX_FLOWS`] with the smallest hash of capture and flow id, so
//! the same captures give the same report whatever the thread order) and the page says so.
//!
//! ```
//! use netsec_core::report::ReportBuilder;
//! let mut report = ReportBuilder::new("demo");
//! report.add_capture("empty.pcap");
//! let mut html = Vec::new();
//! report.write_html(&mut html)?;
//! let html = String::from_utf8(html)?;
//! assert!(html.contains("id=\"netsec-report\"") && html.contains("<script>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, Write};

use serde_json::{json, Map, Value};

use crate::detect::Alert;
use crate::features::Feature;
use crate::flow::FlowRecord;
use crate::inventory::Host;
use crate::rules::RuleSet;

/// The dashboard's built files.
#[derive(Debug, Clone, Copy)]
pub struct Bundle {
    /// The page (`index.html`), referring to `/assets/app.js` and `/assets/app.css`.
    pub index_html: &'static str,
    /// The script.
    pub app_js: &'static str,
    /// The style sheet.
    pub app_css: &'static str,
}

/// The dashboard, built from `dashboard/` by `npm run build`.
pub const DASHBOARD: Bundle = Bundle {
    index_html: include_str!("../assets/dashboard/index.html"),
    app_js: include_str!("../assets/dashboard/app.js"),
    app_css: include_str!("../assets/dashboard/app.css"),
};

/// Most flows a report holds (a sample when there are more).
pub const MAX_FLOWS: usize = 5_000;
/// Most alerts a report holds (the first by time when there are more).
pub const MAX_ALERTS: usize = 50_000;
/// Most devices a report holds (those with the most traffic when there are more).
pub const MAX_DEVICES: usize = 2_000;

/// A flow kept for the report, ordered by its sampling hash.
#[derive(Debug)]
struct Sampled {
    hash: u64,
    flow: Value,
}

impl PartialEq for Sampled {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
    }
}
impl Eq for Sampled {}
impl PartialOrd for Sampled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sampled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.hash.cmp(&other.hash)
    }
}

/// SplitMix64: a fixed, well-mixed hash of (capture, flow id) for sampling.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A flow in the shape the API's `GET /api/v1/flows` gives.
pub fn flow_json(sensor: &str, f: &FlowRecord) -> Value {
    let features = f.features();
    let mut named = Map::new();
    for (feature, v) in Feature::ALL.iter().zip(features.as_array().iter()) {
        named.insert(
            feature.name().to_string(),
            json!(if v.is_finite() { *v } else { 0.0 }),
        );
    }
    let app = f.app.as_ref().map(|app| Value::Object(app.to_json()));
    json!({
        "sensor": sensor,
        "flow_id": f.id,
        "first_seen": f.first_ts.to_string(),
        "last_seen": f.last_ts.to_string(),
        "src_ip": f.src_addr,
        "src_port": f.src_port,
        "dst_ip": f.dst_addr,
        "dst_port": f.dst_port,
        "protocol": f.protocol.0,
        "end_reason": f.end_reason.as_str(),
        "app_proto": f.app_proto.as_str(),
        "features": named,
        "app": app,
    })
}

/// What one analysis found, for one HTML report.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    title: String,
    captures: Vec<String>,
    alerts: Vec<Alert>,
    alerts_total: u64,
    flows: BinaryHeap<Sampled>,
    flows_total: u64,
    packets: u64,
    bytes: u64,
    protocols: BTreeMap<String, u64>,
    talkers: BTreeMap<std::net::IpAddr, (u64, u64)>,
    ports: BTreeMap<String, (u64, u64)>,
    devices: Vec<Value>,
    devices_total: u64,
    rules: BTreeMap<String, String>,
}

/// Most distinct talkers and ports counted (a flood from spoofed sources stays bounded;
/// later keys beyond it are not ranked).
const MAX_KEYS: usize = 100_000;

/// Adds (1 flow, `bytes`) to `key` of `map` while the map has room or holds `key`.
fn tally<K: Ord>(map: &mut BTreeMap<K, (u64, u64)>, key: K, bytes: u64) {
    if map.len() < MAX_KEYS || map.contains_key(&key) {
        let e = map.entry(key).or_insert((0, 0));
        e.0 += 1;
        e.1 += bytes;
    }
}

/// The `n` largest of `map` by `rank`, as the API's top-N entries.
fn top<K: ToString>(map: &BTreeMap<K, (u64, u64)>, n: usize, by_bytes: bool) -> Vec<Value> {
    let mut v: Vec<(&K, &(u64, u64))> = map.iter().collect();
    v.sort_by(|a, b| {
        let key = |x: &(u64, u64)| if by_bytes { (x.1, x.0) } else { (x.0, x.1) };
        key(b.1).cmp(&key(a.1))
    });
    v.into_iter()
        .take(n)
        .map(|(k, (count, bytes))| json!({"key": k.to_string(), "count": count, "bytes": bytes}))
        .collect()
}

impl ReportBuilder {
    /// An empty report titled `title`.
    pub fn new(title: &str) -> ReportBuilder {
        ReportBuilder {
            title: title.to_string(),
            ..ReportBuilder::default()
        }
    }

    /// Names a capture the report covers; returns its index (for [`add_flow`](Self::add_flow)).
    pub fn add_capture(&mut self, name: &str) -> usize {
        self.captures.push(name.to_string());
        self.captures.len() - 1
    }

    /// Adds an alert (kept up to [`MAX_ALERTS`], counted always).
    pub fn add_alert(&mut self, alert: &Alert) {
        self.alerts_total += 1;
        if self.alerts.len() < MAX_ALERTS {
            self.alerts.push(alert.clone());
        }
    }

    /// Adds a finished flow of capture `capture`: counted, and kept when it is among the
    /// [`MAX_FLOWS`] with the smallest sampling hash.
    pub fn add_flow(&mut self, capture: usize, flow: &FlowRecord) {
        self.flows_total += 1;
        let packets = flow.packets();
        self.packets += packets;
        let features = flow.features();
        let v = features.as_array();
        let fwd = v[Feature::TotlenFwd as usize].max(0.0) as u64;
        let bytes = fwd + v[Feature::TotlenBwd as usize].max(0.0) as u64;
        self.bytes += bytes;
        tally(&mut self.talkers, flow.src_addr, fwd);
        let proto = match flow.protocol.0 {
            6 => "TCP".to_string(),
            17 => "UDP".to_string(),
            1 => "ICMP".to_string(),
            58 => "ICMPv6".to_string(),
            n => format!("IP {n}"),
        };
        let app = flow.app_proto.as_str();
        *self.protocols.entry(format!("{proto}/{app}")).or_insert(0) += 1;
        tally(
            &mut self.ports,
            format!("{}/{}", proto.to_ascii_lowercase(), flow.dst_port),
            bytes,
        );
        let hash = mix((capture as u64) << 48 ^ flow.id);
        if self.flows.len() < MAX_FLOWS {
            self.flows.push(Sampled {
                hash,
                flow: flow_json(&self.capture_name(capture), flow),
            });
        } else if self.flows.peek().is_some_and(|top| hash < top.hash) {
            self.flows.pop();
            self.flows.push(Sampled {
                hash,
                flow: flow_json(&self.capture_name(capture), flow),
            });
        }
    }

    fn capture_name(&self, capture: usize) -> String {
        self.captures.get(capture).cloned().unwrap_or_default()
    }

    /// Adds the hosts of an inventory, in the shape of the API's `GET /api/v1/devices`: the
    /// [`MAX_DEVICES`] with the most traffic are kept, all are counted.
    pub fn add_devices(&mut self, capture: usize, hosts: &[Host]) {
        let sensor = self.capture_name(capture);
        self.devices_total += hosts.len() as u64;
        let mut ranked: Vec<&Host> = hosts.iter().collect();
        let traffic = |h: &Host| h.bytes_sent + h.bytes_received;
        ranked.sort_by(|a, b| traffic(b).cmp(&traffic(a)).then(a.ip.cmp(&b.ip)));
        ranked.truncate(MAX_DEVICES.saturating_sub(self.devices.len()));
        for h in ranked {
            self.devices.push(json!({
                "sensor": sensor,
                "ip": h.ip,
                "mac": h.mac,
                "vendor": h.vendor,
                "first_seen": h.first_seen.to_string(),
                "last_seen": h.last_seen.to_string(),
                "packets_sent": h.packets_sent,
                "bytes_sent": h.bytes_sent,
                "packets_received": h.packets_received,
                "bytes_received": h.bytes_received,
                "detail": {
                    "hostnames": h.hostnames,
                    "services": h.services,
                    "os": h.os,
                    "dhcp_vendor_class": h.dhcp_vendor_class,
                },
            }));
        }
    }

    /// Adds everything of `other` (a report of other captures).
    pub fn merge(&mut self, other: ReportBuilder) {
        self.captures.extend(other.captures);
        for a in &other.alerts {
            self.add_alert(a);
        }
        self.alerts_total += other.alerts_total - other.alerts.len() as u64;
        self.flows_total += other.flows_total;
        self.packets += other.packets;
        self.bytes += other.bytes;
        for (k, n) in other.protocols {
            *self.protocols.entry(k).or_insert(0) += n;
        }
        for (k, (n, b)) in other.talkers {
            if self.talkers.len() < MAX_KEYS || self.talkers.contains_key(&k) {
                let e = self.talkers.entry(k).or_insert((0, 0));
                e.0 += n;
                e.1 += b;
            }
        }
        for (k, (n, b)) in other.ports {
            if self.ports.len() < MAX_KEYS || self.ports.contains_key(&k) {
                let e = self.ports.entry(k).or_insert((0, 0));
                e.0 += n;
                e.1 += b;
            }
        }
        for s in other.flows {
            if self.flows.len() < MAX_FLOWS {
                self.flows.push(s);
            } else if self.flows.peek().is_some_and(|top| s.hash < top.hash) {
                self.flows.pop();
                self.flows.push(s);
            }
        }
        let room = MAX_DEVICES.saturating_sub(self.devices.len());
        self.devices.extend(other.devices.into_iter().take(room));
        self.devices_total += other.devices_total;
        self.rules.extend(other.rules);
    }

    /// Keeps the text of every rule that raised a kept alert, from the set that ran, keyed
    /// `gid:sid` (the alert detail shows it). Call it once the alerts are added.
    pub fn add_rule_texts(&mut self, rules: &RuleSet) {
        for a in self.alerts.iter().filter(|a| a.detector == "rules") {
            let (Some(gid), Some(sid)) = (a.meta_u64("gid"), a.meta_u64("sid")) else {
                continue;
            };
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.rules.entry(format!("{gid}:{sid}"))
            {
                if let Some(rule) = rules.find(gid, sid) {
                    slot.insert(rule.to_string());
                }
            }
        }
    }

    /// The report's data, as the page reads it.
    pub fn data(&self) -> Value {
        let mut alerts = self.alerts.clone();
        alerts.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| b.id.cmp(&a.id)));
        let mut flows: Vec<&Sampled> = self.flows.iter().collect();
        flows.sort_by(|a, b| {
            let t = |s: &Sampled| s.flow["last_seen"].as_str().unwrap_or("").to_string();
            t(b).cmp(&t(a)).then(a.hash.cmp(&b.hash))
        });
        json!({
            "title": self.title,
            "captures": self.captures,
            "alerts": alerts,
            "alerts_total": self.alerts_total,
            "flows": flows.iter().map(|s| &s.flow).collect::<Vec<_>>(),
            "flows_total": self.flows_total,
            "packets": self.packets,
            "bytes": self.bytes,
            "protocols": self.protocols,
            "top_talkers": top(&self.talkers, 20, true),
            "top_ports": top(&self.ports, 20, false),
            "devices": self.devices,
            "devices_total": self.devices_total,
            "rules": self.rules,
        })
    }

    /// Writes the self-contained page: the dashboard's style and script inline, the data in
    /// a JSON script element.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_html(&self, out: &mut dyn Write) -> io::Result<()> {
        // `</` inside a script element would end it early: written as `<\/`, which JSON
        // strings and JavaScript both read the same.
        let data = serde_json::to_string(&self.data())
            .map_err(io::Error::other)?
            .replace("</", "<\\/");
        let js = DASHBOARD.app_js.replace("</script", "<\\/script");
        let title = html_escape(&self.title);
        write!(
            out,
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>netsec report: {title}</title>\n<link rel=\"icon\" href=\"data:,\">\n\
             <style>{}</style>\n</head>\n<body>\n<div id=\"app\"></div>\n\
             <script type=\"application/json\" id=\"netsec-report\">{data}</script>\n\
             <script>{js}</script>\n</body>\n</html>\n",
            DASHBOARD.app_css
        )
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_cannot_be_closed_early_by_data() {
        let mut r = ReportBuilder::new("<x>");
        let mut a = Alert::builder(
            "t",
            crate::time::Timestamp::from_micros(1),
            "X",
            crate::detect::Severity::Low,
        )
        .description("</script><script>alert(1)</script>")
        .build();
        a.id = "1".into();
        r.add_alert(&a);
        let mut out = Vec::new();
        r.write_html(&mut out).expect("writes");
        let html = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "only the two real ends"
        );
        assert!(html.contains("<title>netsec report: &lt;x&gt;</title>"));
    }

    #[test]
    fn the_rules_that_fired_are_kept_with_their_text() {
        let text = "alert tcp any any -> any 80 (msg:\"web\"; sid:7;)\n\
                    alert tcp any any -> any 81 (msg:\"quiet\"; sid:8;)";
        let set = RuleSet::from_text(text, &crate::rules::RuleVars::default());
        let mut r = ReportBuilder::new("t");
        for (detector, sid) in [("rules", 7), ("rules", 7), ("port_scan", 8), ("rules", 99)] {
            let mut a = Alert::builder(
                detector,
                crate::time::Timestamp::from_micros(1),
                "X",
                crate::detect::Severity::Low,
            )
            .meta("gid", 1)
            .meta("sid", sid)
            .build();
            a.id = format!("{detector}{sid}");
            r.add_alert(&a);
        }
        r.add_rule_texts(&set);
        assert_eq!(
            r.data()["rules"],
            json!({"1:7": "alert tcp any any -> any 80 (msg:\"web\"; sid:7;)"}),
            "only rules that raised a kept alert, once each"
        );
    }

    #[test]
    fn sampling_keeps_the_same_flows_in_any_order() {
        let hashes: Vec<u64> = (0..20_000u64).map(mix).collect();
        let mut a: Vec<u64> = hashes.clone();
        a.sort_unstable();
        a.truncate(MAX_FLOWS);
        let mut heap = BinaryHeap::new();
        for h in hashes.iter().rev() {
            if heap.len() < MAX_FLOWS {
                heap.push(*h);
            } else if heap.peek().is_some_and(|t| h < t) {
                heap.pop();
                heap.push(*h);
            }
        }
        let mut b = heap.into_vec();
        b.sort_unstable();
        assert_eq!(a, b);
    }
}
