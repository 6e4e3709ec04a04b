//! Totals, time series and top-N lists for the analytics endpoints.

use std::collections::BTreeMap;

use netsec_core::time::Timestamp;
use rusqlite::{params, Connection};

use super::super::{Overview, StoreError, TopBy, TopEntry, TrendPoint};
use super::severity_of;

/// Packets and bytes of a flow row, as SQL.
const PACKETS: &str = "(tot_fwd_pkts + tot_bwd_pkts)";
const BYTES: &str = "(totlen_fwd + totlen_bwd)";

/// Most buckets one trend query returns.
pub const MAX_BUCKETS: i64 = 10_000;

/// `(key, count)` rows of `sql` into a map.
fn counted(
    conn: &Connection,
    sql: &str,
    key: impl Fn(rusqlite::types::Value) -> Result<String, StoreError>,
) -> Result<BTreeMap<String, u64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([])?;
    let mut out = BTreeMap::new();
    while let Some(r) = rows.next()? {
        out.insert(key(r.get(0)?)?, r.get::<_, i64>(1)?.max(0) as u64);
    }
    Ok(out)
}

fn text(v: rusqlite::types::Value) -> Result<String, StoreError> {
    match v {
        rusqlite::types::Value::Text(t) => Ok(t),
        other => Err(StoreError::Damaged(format!(
            "expected text, found {other:?}"
        ))),
    }
}

fn severity_name(v: rusqlite::types::Value) -> Result<String, StoreError> {
    match v {
        rusqlite::types::Value::Integer(i) => Ok(severity_of(i)?.as_str().to_string()),
        other => Err(StoreError::Damaged(format!("severity {other:?}"))),
    }
}

pub(super) fn overview(conn: &Connection) -> Result<Overview, StoreError> {
    let alerts: i64 = conn.query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))?;
    let (flows, packets, bytes, first, last): (i64, f64, f64, Option<i64>, Option<i64>) = conn
        .query_row(
            &format!(
                "SELECT count(*), coalesce(sum({PACKETS}), 0), coalesce(sum({BYTES}), 0),
                    min(first_us), max(last_us) FROM flows"
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
    let span_s = match (first, last) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e6,
        _ => 0.0,
    };
    let rate = |n: f64| if span_s > 0.0 { n / span_s } else { 0.0 };
    Ok(Overview {
        alerts: alerts.max(0) as u64,
        flows: flows.max(0) as u64,
        packets: packets.max(0.0) as u64,
        bytes: bytes.max(0.0) as u64,
        alerts_by_severity: counted(
            conn,
            "SELECT severity, count(*) FROM alerts GROUP BY severity",
            severity_name,
        )?,
        alerts_by_status: counted(
            conn,
            "SELECT status, count(*) FROM alerts GROUP BY status",
            text,
        )?,
        alerts_by_type: counted(
            conn,
            "SELECT attack_type, count(*) AS n FROM alerts GROUP BY attack_type
             ORDER BY n DESC LIMIT 20",
            text,
        )?,
        first_seen: first.map(Timestamp::from_micros),
        last_seen: last.map(Timestamp::from_micros),
        packets_per_s: rate(packets),
        bytes_per_s: rate(bytes),
        flows_per_s: rate(flows as f64),
    })
}

pub(super) fn trends(
    conn: &Connection,
    bucket_us: i64,
    since: Timestamp,
    until: Timestamp,
) -> Result<Vec<TrendPoint>, StoreError> {
    let (since, until) = (since.as_micros(), until.as_micros());
    if bucket_us <= 0 || until <= since {
        return Ok(Vec::new());
    }
    if (until - since) / bucket_us > MAX_BUCKETS {
        return Err(StoreError::Invalid {
            field: "bucket",
            reason: format!("more than {MAX_BUCKETS} buckets in the range; widen the bucket"),
        });
    }
    let mut points: BTreeMap<i64, TrendPoint> = BTreeMap::new();
    let point = |points: &mut BTreeMap<i64, TrendPoint>, b: i64| {
        points.entry(b).or_insert_with(|| TrendPoint {
            start: Timestamp::from_micros(since + b * bucket_us),
            ..TrendPoint::default()
        });
    };
    {
        let mut stmt = conn.prepare_cached(
            "SELECT (ts_us - ?1) / ?3, severity, count(*) FROM alerts
             WHERE ts_us >= ?1 AND ts_us < ?2 GROUP BY 1, 2",
        )?;
        let mut rows = stmt.query(params![since, until, bucket_us])?;
        while let Some(r) = rows.next()? {
            let b: i64 = r.get(0)?;
            let sev = severity_of(r.get(1)?)?;
            let n = r.get::<_, i64>(2)?.max(0) as u64;
            point(&mut points, b);
            if let Some(p) = points.get_mut(&b) {
                p.alerts += n;
                p.alerts_by_severity[sev.rank()] += n;
            }
        }
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT (last_us - ?1) / ?3, count(*), sum({PACKETS}), sum({BYTES}) FROM flows
         WHERE last_us >= ?1 AND last_us < ?2 GROUP BY 1"
    ))?;
    let mut rows = stmt.query(params![since, until, bucket_us])?;
    while let Some(r) = rows.next()? {
        let b: i64 = r.get(0)?;
        point(&mut points, b);
        if let Some(p) = points.get_mut(&b) {
            p.flows = r.get::<_, i64>(1)?.max(0) as u64;
            p.packets = r.get::<_, f64>(2)?.max(0.0) as u64;
            p.bytes = r.get::<_, f64>(3)?.max(0.0) as u64;
        }
    }
    Ok(points.into_values().collect())
}

pub(super) fn top(
    conn: &Connection,
    by: TopBy,
    limit: usize,
    since: Option<Timestamp>,
) -> Result<Vec<TopEntry>, StoreError> {
    let since = since.map_or(i64::MIN, Timestamp::as_micros);
    let limit = limit.min(super::MAX_LIMIT) as i64;
    let sql = match by {
        TopBy::Talkers => "SELECT src_ip, count(*), sum(totlen_fwd) AS b FROM flows
             WHERE last_us >= ?1 GROUP BY src_ip ORDER BY b DESC LIMIT ?2"
            .to_string(),
        TopBy::Ports => format!(
            "SELECT (CASE protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' ELSE protocol END)
                || '/' || dst_port, count(*) AS n, sum({BYTES}) FROM flows WHERE last_us >= ?1
             GROUP BY protocol, dst_port ORDER BY n DESC LIMIT ?2"
        ),
        TopBy::AttackTypes => "SELECT attack_type, count(*) AS n, 0 FROM alerts
             WHERE ts_us >= ?1 GROUP BY attack_type ORDER BY n DESC LIMIT ?2"
            .to_string(),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![since, limit])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(TopEntry {
            key: r.get(0)?,
            count: r.get::<_, i64>(1)?.max(0) as u64,
            bytes: r.get::<_, f64>(2)?.max(0.0) as u64,
        });
    }
    Ok(out)
}
