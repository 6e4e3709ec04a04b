//! The flow listing.

use netsec_core::features::Feature;
use netsec_core::time::Timestamp;
use rusqlite::types::Value;
use rusqlite::Row;

use super::super::{FlowCursor, FlowQuery, StoreError, StoredFlow, MAX_LIMIT};

/// The listing query of `q` and its values, newest first.
pub(super) fn listing_sql(q: &FlowQuery) -> (String, Vec<Value>) {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(ip) = q.ip {
        clauses.push("(src_ip = ? OR dst_ip = ?)");
        values.push(ip.to_string().into());
        values.push(ip.to_string().into());
    }
    if let Some(p) = q.port {
        clauses.push("(src_port = ? OR dst_port = ?)");
        values.push(i64::from(p).into());
        values.push(i64::from(p).into());
    }
    if let Some(p) = q.protocol {
        clauses.push("protocol = ?");
        values.push(i64::from(p).into());
    }
    if let Some(t) = q.since {
        clauses.push("last_us >= ?");
        values.push(t.as_micros().into());
    }
    if let Some(t) = q.until {
        clauses.push("last_us < ?");
        values.push(t.as_micros().into());
    }
    if let Some(c) = q.cursor {
        clauses.push("(last_us < ? OR (last_us = ? AND rowid < ?))");
        values.push(c.last_us.into());
        values.push(c.last_us.into());
        values.push(c.row.into());
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    values.push((q.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT) as i64).into());
    let sql = format!(
        "SELECT {} FROM flows {filter} ORDER BY last_us DESC, rowid DESC LIMIT ?",
        columns()
    );
    (sql, values)
}

/// The columns [`flow_of`] reads, in its order.
fn columns() -> String {
    let names: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
    format!(
        "rowid, sensor, run, flow_id, first_us, last_us, src_ip, src_port, dst_ip,
            dst_port, protocol, end_reason, app_proto, app, {}",
        names.join(", ")
    )
}

/// The query of the flow an alert belongs to (same sensor, run and flow id), by alert id.
pub(super) fn of_alert_sql() -> String {
    format!(
        "SELECT {} FROM flows WHERE (sensor, run, flow_id) =
            (SELECT sensor, run, flow_id FROM alerts WHERE id = ?1)",
        columns()
    )
}

fn addr_of(text: String) -> Result<std::net::IpAddr, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Damaged(format!("address {text:?}")))
}

/// One flow of [`listing_sql`]'s rows.
pub(super) fn flow_of(r: &Row<'_>) -> Result<StoredFlow, StoreError> {
    let row: i64 = r.get(0)?;
    let last_us: i64 = r.get(5)?;
    let mut features = serde_json::Map::new();
    for (i, f) in Feature::ALL.iter().enumerate() {
        let v: f64 = r.get(14 + i)?;
        features.insert(f.name().to_string(), v.into());
    }
    let app: Option<String> = r.get(13)?;
    Ok(StoredFlow {
        sensor: r.get(1)?,
        run: format!("{:010x}", r.get::<_, i64>(2)?),
        flow_id: r.get::<_, i64>(3)? as u64,
        first_seen: Timestamp::from_micros(r.get(4)?),
        last_seen: Timestamp::from_micros(last_us),
        src_ip: addr_of(r.get(6)?)?,
        src_port: r.get(7)?,
        dst_ip: addr_of(r.get(8)?)?,
        dst_port: r.get(9)?,
        protocol: r.get(10)?,
        end_reason: r.get(11)?,
        app_proto: r.get(12)?,
        features,
        app: app.as_deref().map(serde_json::from_str).transpose()?,
        cursor: FlowCursor { last_us, row }.encode(),
    })
}
