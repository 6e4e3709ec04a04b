//! EVE JSON `event_type: "flow"` lines (Suricata's flow records, plus netsec's 25 features).

use std::io::{self, Write};

use super::{push_json_string, FlowSink};
use crate::detect::SinkError;
use crate::features::Feature;
use crate::flow::FlowRecord;

/// Writes one EVE `flow` object per finished flow.
///
/// `pkts_*` count packets and `bytes_*` count transport payload bytes per direction (toserver =
/// the flow's forward side); `reason` is netsec's end reason (`idle`, `fin`, `rst`, `end`, …);
/// `app_proto` is the application protocol recognised from the payload, and the flow's
/// application facts follow grouped by protocol (`"tls":{"sni":…,"ja4":…}`, `"http":{…}`), as
/// Suricata's per-protocol objects; `features` holds the 25 features by name. Keys are written in a fixed order, so the same
/// flows always give the same bytes.
#[derive(Debug)]
pub struct EveFlowWriter<W: Write> {
    out: W,
}

impl<W: Write> EveFlowWriter<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        EveFlowWriter { out }
    }

    /// The inner writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

impl<W: Write> FlowSink for EveFlowWriter<W> {
    fn emit(&mut self, flow: &FlowRecord) -> Result<(), SinkError> {
        let features = flow.features();
        let o = &mut self.out;
        let age = (flow.last_ts.as_micros() - flow.first_ts.as_micros()).max(0) / 1_000_000;
        write!(
            o,
            "{{\"timestamp\":\"{}\",\"flow_id\":{},\"event_type\":\"flow\",\"src_ip\":\"{}\",\"src_port\":{},\"dest_ip\":\"{}\",\"dest_port\":{},\"proto\":\"{}\",\"app_proto\":\"{}\",\"flow\":{{\"pkts_toserver\":{},\"pkts_toclient\":{},\"bytes_toserver\":{},\"bytes_toclient\":{},\"start\":\"{}\",\"end\":\"{}\",\"age\":{},\"reason\":\"{}\"}},",
            flow.last_ts,
            flow.id,
            flow.src_addr,
            flow.src_port,
            flow.dst_addr,
            flow.dst_port,
            flow.protocol.name(),
            flow.app_proto.as_str(),
            flow.stats.fwd_packets(),
            flow.stats.bwd_packets(),
            features.get(Feature::TotlenFwd) as u64,
            features.get(Feature::TotlenBwd) as u64,
            flow.first_ts,
            flow.last_ts,
            age,
            flow.end_reason.as_str(),
        )?;
        write_app_facts(o, flow)?;
        o.write_all(b"\"features\":{")?;
        for (i, f) in Feature::ALL.iter().enumerate() {
            if i > 0 {
                o.write_all(b",")?;
            }
            let v = features.get(*f);
            let v = if v.is_finite() { v } else { 0.0 };
            write!(o, "\"{}\":", f.name())?;
            serde_json::to_writer(&mut *o, &v)?;
        }
        Ok(o.write_all(b"}}\n")?)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        Ok(self.out.flush()?)
    }
}

/// Writes `"tls":{"sni":"…",…},` objects, one per protocol with facts (field names are
/// `<protocol>_<key>`, in protocol order).
fn write_app_facts(o: &mut impl Write, flow: &FlowRecord) -> io::Result<()> {
    let mut group: Option<&str> = None;
    let mut buf = Vec::new();
    for (field, value) in flow.app.iter().flat_map(|app| app.iter()) {
        let (proto, key) = field
            .name()
            .split_once('_')
            .unwrap_or(("app", field.name()));
        if group != Some(proto) {
            if group.is_some() {
                buf.extend_from_slice(b"},");
            }
            buf.extend_from_slice(format!("\"{proto}\":{{").as_bytes());
            group = Some(proto);
        } else {
            buf.push(b',');
        }
        buf.extend_from_slice(format!("\"{key}\":").as_bytes());
        push_json_string(&mut buf, value);
    }
    if group.is_some() {
        buf.extend_from_slice(b"},");
    }
    o.write_all(&buf)
}
