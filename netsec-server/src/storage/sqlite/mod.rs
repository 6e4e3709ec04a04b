//! [`SqliteStore`]: the embedded default store.

mod accounts;
mod analytics;
mod flows;
mod inbox;

use std::net::IpAddr;
use std::path::Path;

use netsec_core::detect::signature::EveSignature;
use netsec_core::detect::{Alert, AlertStatus, Severity};
use netsec_core::features::Feature;
use netsec_core::inventory::Host;
use netsec_core::rules::IpNet;
use netsec_core::time::Timestamp;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::{
    AlertGroup, AlertQuery, ApiToken, Batch, FlowQuery, GroupKey, NewFilter, Overview, Retention,
    RetentionReport, StatusChange, Store, StoreCounts, StoreError, StoredDevice, StoredFlow,
    SuppressionFilter, TopBy, TopEntry, TrendPoint, User, WriteReport, MAX_LIMIT,
};
use crate::role::Role;

/// The schema, one migration per step; `user_version` is the number applied.
fn migrations() -> Vec<String> {
    let features: Vec<String> = Feature::ALL
        .iter()
        .map(|f| format!("{} REAL NOT NULL", f.name()))
        .collect();
    vec![
        format!(
            "CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            sensor TEXT NOT NULL,
            run INTEGER NOT NULL,
            ts_us INTEGER NOT NULL,
            detector TEXT NOT NULL,
            signature TEXT NOT NULL,
            signature_name TEXT NOT NULL,
            attack_type TEXT NOT NULL,
            severity INTEGER NOT NULL,
            status TEXT NOT NULL,
            src_ip TEXT,
            dst_ip TEXT,
            src_port INTEGER,
            dst_port INTEGER,
            protocol TEXT,
            score REAL NOT NULL,
            flow_id INTEGER,
            description TEXT NOT NULL,
            tags TEXT NOT NULL,
            meta TEXT NOT NULL
        );
        CREATE INDEX alerts_ts ON alerts (ts_us DESC);
        CREATE INDEX alerts_severity ON alerts (severity, ts_us DESC);
        CREATE INDEX alerts_status ON alerts (status, ts_us DESC);
        CREATE INDEX alerts_type ON alerts (attack_type, ts_us DESC);
        CREATE INDEX alerts_src ON alerts (src_ip, ts_us DESC);
        CREATE INDEX alerts_dst ON alerts (dst_ip, ts_us DESC);
        CREATE INDEX alerts_group ON alerts (detector, signature, src_ip, dst_ip);
        CREATE TABLE alert_history (
            alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
            at_us INTEGER NOT NULL,
            who TEXT NOT NULL,
            from_status TEXT NOT NULL,
            to_status TEXT NOT NULL,
            note TEXT
        );
        CREATE INDEX alert_history_alert ON alert_history (alert_id, at_us);
        CREATE TABLE flows (
            sensor TEXT NOT NULL,
            run INTEGER NOT NULL,
            flow_id INTEGER NOT NULL,
            first_us INTEGER NOT NULL,
            last_us INTEGER NOT NULL,
            src_ip TEXT NOT NULL,
            src_port INTEGER NOT NULL,
            dst_ip TEXT NOT NULL,
            dst_port INTEGER NOT NULL,
            protocol INTEGER NOT NULL,
            end_reason TEXT NOT NULL,
            app_proto TEXT NOT NULL,
            {},
            app TEXT,
            PRIMARY KEY (sensor, run, flow_id)
        );
        CREATE INDEX flows_last ON flows (last_us DESC);
        CREATE INDEX flows_src ON flows (src_ip, last_us DESC);
        CREATE INDEX flows_dst ON flows (dst_ip, last_us DESC);",
            features.join(",\n            ")
        ),
        "CREATE TABLE filters (
            id INTEGER PRIMARY KEY,
            signature TEXT,
            detector TEXT,
            src TEXT,
            dst TEXT,
            expires_us INTEGER,
            reason TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            hits INTEGER NOT NULL DEFAULT 0
        );"
        .to_string(),
        "CREATE TABLE devices (
            sensor TEXT NOT NULL,
            ip TEXT NOT NULL,
            mac TEXT,
            vendor TEXT,
            first_us INTEGER NOT NULL,
            last_us INTEGER NOT NULL,
            packets_sent INTEGER NOT NULL,
            bytes_sent INTEGER NOT NULL,
            packets_received INTEGER NOT NULL,
            bytes_received INTEGER NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (sensor, ip)
        );
        CREATE INDEX devices_last ON devices (last_us DESC);
        CREATE INDEX devices_mac ON devices (mac);"
            .to_string(),
        "CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            last_login_us INTEGER
        );
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            secret_hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            last_used_us INTEGER
        );"
        .to_string(),
        inbox::MIGRATION.to_string(),
    ]
}

/// [`SqliteStore`]: the embedded default store.
///
/// - One file, WAL journal (readers never wait for the writer), `synchronous=NORMAL` (a crash
///   can lose the last transactions, never corrupt the file), incremental auto-vacuum so
///   retention gives space back.
/// - Schema by numbered migrations recorded in `PRAGMA user_version`; a database from a newer
///   netsec is refused rather than misread.
/// - Typed columns (severity as 0–3, times as µs, the 25 features each in its own column
///   named as in `FEATURES.md`), JSON only for detector-specific `meta`, tags and the
///   application facts; indexes for the API's filters, newest first.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    /// The suppression filters with their networks parsed, applied to every write.
    filters: Vec<ActiveFilter>,
    /// `PRAGMA data_version` when the filters were last loaded.
    data_version: i64,
}

/// A suppression filter ready to match.
#[derive(Debug, Clone)]
struct ActiveFilter {
    id: i64,
    signature: Option<String>,
    detector: Option<String>,
    src: Option<IpNet>,
    dst: Option<IpNet>,
    expires_us: Option<i64>,
}

impl ActiveFilter {
    fn matches(&self, a: &Alert, signature: &str) -> bool {
        let net = |n: &Option<IpNet>, ip: Option<IpAddr>| match n {
            None => true,
            Some(n) => ip.is_some_and(|ip| n.contains(ip)),
        };
        self.signature.as_deref().is_none_or(|s| s == signature)
            && self
                .detector
                .as_deref()
                .is_none_or(|d| a.detector() == Some(d))
            && net(&self.src, a.src_ip)
            && net(&self.dst, a.dst_ip)
            && self.expires_us.is_none_or(|e| a.timestamp.as_micros() <= e)
    }
}

/// Parses `10.0.0.5`, `10.0.0.0/8` or `fd00::/8`.
fn parse_net(field: &'static str, text: &str) -> Result<IpNet, StoreError> {
    let invalid = |reason: String| StoreError::Invalid { field, reason };
    let (addr, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let addr: IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| invalid(format!("{text:?} is not an address or network")))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => p
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| invalid(format!("{text:?}: prefix must be 0..={max}")))?,
    };
    Ok(IpNet { addr, prefix })
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be opened, is not a database, or comes from a newer
    /// netsec.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::setup(Connection::open(path)?)
    }

    /// A store in memory (tests, examples).
    ///
    /// # Errors
    /// [`StoreError`] from SQLite.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(conn: Connection) -> Result<SqliteStore, StoreError> {
        // auto_vacuum only takes on an empty database, so it comes before any table.
        conn.execute_batch(
            "PRAGMA auto_vacuum = INCREMENTAL;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;
             PRAGMA cache_size = -65536;",
        )?;
        let mut store = SqliteStore {
            conn,
            filters: Vec::new(),
            data_version: 0,
        };
        store.migrate()?;
        store.load_filters()?;
        Ok(store)
    }

    /// Applies the migrations not yet applied, each in its own transaction.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let all = migrations();
        let known = all.len() as i64;
        for (i, sql) in all.iter().enumerate() {
            // Each step reads the version inside a write transaction, so two processes
            // opening one new database at once never apply a step twice.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if found > known {
                return Err(StoreError::SchemaTooNew { found, known });
            }
            if found > i as i64 {
                continue;
            }
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Gives free pages back to the file system: `incremental_vacuum` frees one page per
    /// step, so it is stepped to the end (a single `execute` frees one page only).
    fn free_pages(&self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA incremental_vacuum")?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {}
        Ok(())
    }

    /// Reloads the filter cache from the table.
    fn load_filters(&mut self) -> Result<(), StoreError> {
        let mut active = Vec::new();
        for f in self.filters()? {
            active.push(ActiveFilter {
                id: f.id,
                signature: f.signature,
                detector: f.detector,
                src: f.src.as_deref().map(|t| parse_net("src", t)).transpose()?,
                dst: f.dst.as_deref().map(|t| parse_net("dst", t)).transpose()?,
                expires_us: f.expires.map(Timestamp::as_micros),
            });
        }
        self.filters = active;
        Ok(())
    }

    /// The schema version applied.
    ///
    /// # Errors
    /// [`StoreError`] from SQLite.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// `PRAGMA integrity_check`: `true` when the database is sound.
    ///
    /// # Errors
    /// [`StoreError`] from SQLite.
    pub fn integrity_ok(&self) -> Result<bool, StoreError> {
        let s: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(s == "ok")
    }

    /// Runs `sql` and converts its rows until they end or `budget` runs out; `true` when cut
    /// short. SQLite asks every 1,000 virtual-machine steps whether to stop, so a long scan
    /// is cut inside the search for the next row as well as between rows.
    fn rows_within<T>(
        &self,
        budget: std::time::Duration,
        sql: &str,
        values: Vec<rusqlite::types::Value>,
        mut convert: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<(Vec<T>, bool), StoreError> {
        let deadline = std::time::Instant::now() + budget;
        self.conn
            .progress_handler(1000, Some(move || std::time::Instant::now() >= deadline));
        let result = (|| {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let mut rows = stmt.query(params_from_iter(values))?;
            let mut out = Vec::new();
            loop {
                if std::time::Instant::now() >= deadline {
                    return Ok((out, true));
                }
                match rows.next() {
                    Ok(Some(row)) => out.push(convert(row)?),
                    Ok(None) => return Ok((out, false)),
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::OperationInterrupted =>
                    {
                        return Ok((out, true));
                    }
                    Err(e) => return Err(StoreError::from(e)),
                }
            }
        })();
        self.conn.progress_handler(0, None::<fn() -> bool>);
        result
    }

    /// Reloads the filter cache when another connection has committed since the last look
    /// (`PRAGMA data_version`), so filters added through the API apply to the writer's next
    /// batch.
    fn refresh_filters(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if version != self.data_version {
            self.data_version = version;
            self.load_filters()?;
        }
        Ok(())
    }

    /// Deletes up to `n` of the oldest alerts and flows; returns (alerts, flows) removed.
    fn delete_oldest(&mut self, n: u64) -> Result<(u64, u64), StoreError> {
        let tx = self.conn.transaction()?;
        let a = tx.execute(
            "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts ORDER BY ts_us LIMIT ?1)",
            [n as i64],
        )?;
        let f = tx.execute(
            "DELETE FROM flows WHERE rowid IN (SELECT rowid FROM flows ORDER BY last_us LIMIT ?1)",
            [n as i64],
        )?;
        tx.commit()?;
        Ok((a as u64, f as u64))
    }
}

/// A severity's column value: its rank, 0 (low) to 3 (critical).
fn severity_code(s: Severity) -> i64 {
    s.rank() as i64
}

fn severity_of(code: i64) -> Result<Severity, StoreError> {
    usize::try_from(code)
        .ok()
        .and_then(|i| Severity::ALL.get(i).copied())
        .ok_or_else(|| StoreError::Damaged(format!("severity {code}")))
}

fn status_of(s: &str) -> Result<AlertStatus, StoreError> {
    AlertStatus::from_name(s).ok_or_else(|| StoreError::Damaged(format!("status {s:?}")))
}

fn ip_of(s: Option<String>) -> Result<Option<IpAddr>, StoreError> {
    s.map(|t| {
        t.parse()
            .map_err(|_| StoreError::Damaged(format!("address {t:?}")))
    })
    .transpose()
}

const ALERT_COLUMNS: &str = "id, ts_us, detector, attack_type, severity, status, src_ip, dst_ip, \
    src_port, dst_port, protocol, score, flow_id, description, tags, meta";

/// The raw columns of an alert row (converted outside the row callback, where errors are
/// rusqlite's).
type AlertRow = (
    String,
    i64,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<u16>,
    Option<u16>,
    Option<String>,
    f64,
    Option<i64>,
    String,
    String,
    String,
);

fn alert_row(r: &Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
        r.get(13)?,
        r.get(14)?,
        r.get(15)?,
    ))
}

fn alert_of(row: AlertRow) -> Result<Alert, StoreError> {
    let (
        id,
        ts,
        detector,
        attack_type,
        sev,
        status,
        src,
        dst,
        sp,
        dp,
        proto,
        score,
        flow,
        desc,
        tags,
        meta,
    ) = row;
    Ok(Alert {
        id,
        detector,
        timestamp: Timestamp::from_micros(ts),
        attack_type,
        severity: severity_of(sev)?,
        status: status_of(&status)?,
        src_ip: ip_of(src)?,
        dst_ip: ip_of(dst)?,
        src_port: sp,
        dst_port: dp,
        protocol: proto,
        score,
        description: desc,
        tags: serde_json::from_str(&tags)?,
        flow_id: flow.map(|f| f as u64),
        meta: serde_json::from_str(&meta)?,
    })
}

/// The alert listing of `q`, newest first, and its values.
fn listing_sql(q: &AlertQuery) -> (String, Vec<rusqlite::types::Value>) {
    let (mut filter, mut values) = where_clause(q);
    if let Some(c) = &q.cursor {
        filter.push_str(if filter.is_empty() { "WHERE " } else { " AND " });
        filter.push_str("(ts_us < ? OR (ts_us = ? AND id < ?))");
        values.push(c.ts_us.into());
        values.push(c.ts_us.into());
        values.push(c.id.clone().into());
    }
    values.push(limit_of(q));
    values.push((q.offset.unwrap_or(0).min(i64::MAX as usize) as i64).into());
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts {filter} ORDER BY ts_us DESC, id DESC LIMIT ? OFFSET ?"
    );
    (sql, values)
}

/// `q`'s limit, at most [`MAX_LIMIT`], as the value of a trailing `LIMIT ?`.
fn limit_of(q: &AlertQuery) -> rusqlite::types::Value {
    (q.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT) as i64).into()
}

/// The filters of `q` on what names an inbox group (attack type, detector, addresses): the
/// columns have the same names in `alerts` and in the kept inbox.
fn group_key_filters(
    q: &AlertQuery,
    clauses: &mut Vec<&'static str>,
    values: &mut Vec<rusqlite::types::Value>,
) {
    if let Some(t) = &q.attack_type {
        clauses.push("attack_type = ?");
        values.push(t.clone().into());
    }
    if let Some(d) = &q.detector {
        clauses.push("detector = ?");
        values.push(d.clone().into());
    }
    if let Some(ip) = q.src_ip {
        clauses.push("src_ip = ?");
        values.push(ip.to_string().into());
    }
    if let Some(ip) = q.dst_ip {
        clauses.push("dst_ip = ?");
        values.push(ip.to_string().into());
    }
}

/// The `WHERE` clause of `q`'s filters and its values.
fn where_clause(q: &AlertQuery) -> (String, Vec<rusqlite::types::Value>) {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(s) = q.min_severity {
        clauses.push("severity >= ?");
        values.push(severity_code(s).into());
    }
    if let Some(s) = q.status {
        clauses.push("status = ?");
        values.push(s.as_str().to_string().into());
    }
    if q.open_only {
        clauses.push("status IN ('NEW', 'ACKNOWLEDGED')");
    }
    group_key_filters(q, &mut clauses, &mut values);
    if let Some(t) = q.since {
        clauses.push("ts_us >= ?");
        values.push(t.as_micros().into());
    }
    if let Some(t) = q.until {
        clauses.push("ts_us < ?");
        values.push(t.as_micros().into());
    }
    if let Some(text) = &q.text {
        // A literal substring: LIKE's wildcards in the text are escaped.
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        clauses.push(
            "(description LIKE ? ESCAPE '\\' OR signature_name LIKE ? ESCAPE '\\' \
             OR attack_type LIKE ? ESCAPE '\\' OR src_ip LIKE ? ESCAPE '\\' \
             OR dst_ip LIKE ? ESCAPE '\\')",
        );
        for _ in 0..5 {
            values.push(pattern.clone().into());
        }
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (filter, values)
}

/// The inbox query of `q` and its values.
fn groups_sql(q: &AlertQuery) -> (String, Vec<rusqlite::types::Value>) {
    let (filter, mut values) = where_clause(q);
    values.push(limit_of(q));
    let sql = format!(
        "SELECT detector, signature, src_ip, dst_ip, max(signature_name), max(attack_type),
            count(*), min(ts_us), max(ts_us), max(severity),
            sum(status = 'NEW'), sum(status = 'ACKNOWLEDGED'),
            sum(status = 'SUPPRESSED'), sum(status = 'RESOLVED')
         FROM alerts {filter}
         GROUP BY detector, signature, src_ip, dst_ip
         ORDER BY max(ts_us) DESC LIMIT ?"
    );
    (sql, values)
}

/// One inbox line of [`groups_sql`]'s rows.
fn group_of(r: &Row<'_>) -> Result<AlertGroup, StoreError> {
    let statuses = [
        r.get::<_, i64>(10)?,
        r.get::<_, i64>(11)?,
        r.get::<_, i64>(12)?,
        r.get::<_, i64>(13)?,
    ];
    Ok(AlertGroup {
        key: GroupKey {
            detector: r.get(0)?,
            signature: r.get(1)?,
            src_ip: ip_of(r.get(2)?)?,
            dst_ip: ip_of(r.get(3)?)?,
        },
        signature_name: r.get(4)?,
        attack_type: r.get(5)?,
        count: r.get::<_, i64>(6)?.max(0) as u64,
        first_seen: Timestamp::from_micros(r.get(7)?),
        last_seen: Timestamp::from_micros(r.get(8)?),
        max_severity: severity_of(r.get(9)?)?,
        statuses: statuses.map(|n| n.max(0) as u64),
    })
}

impl Store for SqliteStore {
    fn write(&mut self, batch: &Batch) -> Result<WriteReport, StoreError> {
        let run = batch.run.tag() as i64;
        self.refresh_filters()?;
        let tx = self.conn.transaction()?;
        let mut report = WriteReport::default();
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO alerts (id, sensor, run, ts_us, detector, attack_type,
                    severity, status, src_ip, dst_ip, src_port, dst_port, protocol, score,
                    flow_id, description, tags, meta, signature, signature_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                    ?17, ?18, ?19, ?20)",
            )?;
            let mut hits: Vec<(i64, u64)> = Vec::new();
            let mut groups = inbox::GroupDeltas::default();
            for original in &batch.alerts {
                let sig = EveSignature::of(original);
                let signature = format!("{}:{}", sig.gid, sig.sid);
                let filter = self
                    .filters
                    .iter()
                    .find(|f| f.matches(original, &signature));
                let suppressed;
                let a = match filter {
                    Some(f) => {
                        let mut a = original.clone();
                        a.status = AlertStatus::Suppressed;
                        a.meta.insert("suppressed_by".into(), f.id.into());
                        suppressed = a;
                        &suppressed
                    }
                    None => original,
                };
                let added = insert.execute(params![
                    a.id,
                    batch.sensor,
                    run,
                    a.timestamp.as_micros(),
                    a.detector().unwrap_or("unknown"),
                    a.attack_type,
                    severity_code(a.severity),
                    a.status.as_str(),
                    a.src_ip.map(|i| i.to_string()),
                    a.dst_ip.map(|i| i.to_string()),
                    a.src_port,
                    a.dst_port,
                    a.protocol,
                    a.score,
                    a.flow_id.map(|f| f as i64),
                    a.description,
                    serde_json::to_string(&a.tags)?,
                    serde_json::to_string(&a.meta)?,
                    signature,
                    sig.name.as_ref(),
                ])?;
                report.alerts += added;
                if added == 1 {
                    groups.add(a, &signature, sig.name.as_ref());
                }
                if let (Some(f), 1) = (filter, added) {
                    match hits.iter_mut().find(|(id, _)| *id == f.id) {
                        Some(h) => h.1 += 1,
                        None => hits.push((f.id, 1)),
                    }
                }
            }
            groups.apply(&tx)?;
            for (id, n) in hits {
                tx.execute(
                    "UPDATE filters SET hits = hits + ?2 WHERE id = ?1",
                    params![id, n as i64],
                )?;
            }
            let names: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
            let marks: Vec<String> = (13..13 + names.len() + 1)
                .map(|i| format!("?{i}"))
                .collect();
            let sql = format!(
                "INSERT OR IGNORE INTO flows (sensor, run, flow_id, first_us, last_us, src_ip,
                    src_port, dst_ip, dst_port, protocol, end_reason, app_proto, {}, app)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, {})",
                names.join(", "),
                marks.join(", ")
            );
            let mut insert = tx.prepare_cached(&sql)?;
            for f in &batch.flows {
                let features = f.features();
                let app = match &f.app {
                    Some(app) => Some(serde_json::to_string(&app.to_json())?),
                    None => None,
                };
                let mut values: Vec<rusqlite::types::Value> = vec![
                    batch.sensor.clone().into(),
                    run.into(),
                    (f.id as i64).into(),
                    f.first_ts.as_micros().into(),
                    f.last_ts.as_micros().into(),
                    f.src_addr.to_string().into(),
                    i64::from(f.src_port).into(),
                    f.dst_addr.to_string().into(),
                    i64::from(f.dst_port).into(),
                    i64::from(f.protocol.0).into(),
                    f.end_reason.as_str().to_string().into(),
                    f.app_proto.as_str().to_string().into(),
                ];
                values.extend(
                    features.as_array().iter().map(|v| {
                        rusqlite::types::Value::Real(if v.is_finite() { *v } else { 0.0 })
                    }),
                );
                values.push(app.map_or(rusqlite::types::Value::Null, Into::into));
                report.flows += insert.execute(params_from_iter(values))?;
            }
        }
        tx.commit()?;
        Ok(report)
    }

    fn alert(&self, id: &str) -> Result<Option<Alert>, StoreError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"),
                [id],
                alert_row,
            )
            .optional()?;
        row.map(alert_of).transpose()
    }

    fn alerts(&self, q: &AlertQuery) -> Result<Vec<Alert>, StoreError> {
        let (sql, values) = listing_sql(q);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(values), alert_row)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(alert_of(row?)?);
        }
        Ok(out)
    }

    fn alerts_within(
        &self,
        q: &AlertQuery,
        budget: std::time::Duration,
    ) -> Result<(Vec<Alert>, bool), StoreError> {
        let (sql, values) = listing_sql(q);
        self.rows_within(budget, &sql, values, |row| alert_of(alert_row(row)?))
    }

    fn set_status(
        &mut self,
        id: &str,
        to: AlertStatus,
        who: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<Option<StatusChange>, StoreError> {
        let tx = self.conn.transaction()?;
        let from: Option<String> = tx
            .query_row("SELECT status FROM alerts WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(from) = from else {
            return Ok(None);
        };
        let from = status_of(&from)?;
        tx.execute(
            "UPDATE alerts SET status = ?2 WHERE id = ?1",
            params![id, to.as_str()],
        )?;
        tx.execute(
            "INSERT INTO alert_history (alert_id, at_us, who, from_status, to_status, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, at.as_micros(), who, from.as_str(), to.as_str(), note],
        )?;
        tx.commit()?;
        Ok(Some(StatusChange {
            at,
            who: who.to_string(),
            from,
            to,
            note: note.map(str::to_string),
        }))
    }

    fn groups(&self, q: &AlertQuery) -> Result<Vec<AlertGroup>, StoreError> {
        let (sql, values) = groups_sql(q);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(values))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(group_of(row)?);
        }
        Ok(out)
    }

    fn groups_within(
        &self,
        q: &AlertQuery,
        budget: std::time::Duration,
    ) -> Result<(Vec<AlertGroup>, bool), StoreError> {
        let (sql, values) = match inbox::summary_sql(q) {
            Some(fast) => fast,
            None => groups_sql(q),
        };
        self.rows_within(budget, &sql, values, group_of)
    }

    fn flows_within(
        &self,
        q: &FlowQuery,
        budget: std::time::Duration,
    ) -> Result<(Vec<StoredFlow>, bool), StoreError> {
        let (sql, values) = flows::listing_sql(q);
        self.rows_within(budget, &sql, values, flows::flow_of)
    }

    fn alert_flow(&self, id: &str) -> Result<Option<StoredFlow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&flows::of_alert_sql())?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(flows::flow_of).transpose()
    }

    fn overview(&self) -> Result<Overview, StoreError> {
        analytics::overview(&self.conn)
    }

    fn trends(
        &self,
        bucket_us: i64,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<TrendPoint>, StoreError> {
        analytics::trends(&self.conn, bucket_us, since, until)
    }

    fn top(
        &self,
        by: TopBy,
        limit: usize,
        since: Option<Timestamp>,
    ) -> Result<Vec<TopEntry>, StoreError> {
        analytics::top(&self.conn, by, limit, since)
    }

    fn create_user(
        &mut self,
        username: &str,
        role: Role,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<User, StoreError> {
        accounts::create_user(&self.conn, username, role, password_hash, at)
    }

    fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError> {
        accounts::user_credentials(&self.conn, username)
    }

    fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        accounts::user(&self.conn, id)
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        accounts::users(&self.conn)
    }

    fn delete_user(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM users WHERE id = ?1", [id])? > 0)
    }

    fn record_login(&mut self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE users SET last_login_us = ?2 WHERE id = ?1",
            params![id, at.as_micros()],
        )?;
        Ok(())
    }

    fn add_token(
        &mut self,
        name: &str,
        role: Role,
        secret_hash: &str,
        prefix: &str,
        created_by: &str,
        at: Timestamp,
    ) -> Result<ApiToken, StoreError> {
        accounts::add_token(&self.conn, name, role, secret_hash, prefix, created_by, at)
    }

    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        accounts::tokens(&self.conn)
    }

    fn delete_token(&mut self, id: i64) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .execute("DELETE FROM api_tokens WHERE id = ?1", [id])?
            > 0)
    }

    fn use_token(
        &mut self,
        secret_hash: &str,
        at: Timestamp,
    ) -> Result<Option<ApiToken>, StoreError> {
        accounts::use_token(&self.conn, secret_hash, at)
    }

    fn set_group_status(
        &mut self,
        key: &GroupKey,
        to: AlertStatus,
        who: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let src = key.src_ip.map(|i| i.to_string());
        let dst = key.dst_ip.map(|i| i.to_string());
        // `IS` matches NULL to NULL: a group without addresses is a group too.
        let matches = "detector = ?1 AND signature = ?2 AND src_ip IS ?3 AND dst_ip IS ?4";
        tx.execute(
            &format!(
                "INSERT INTO alert_history (alert_id, at_us, who, from_status, to_status, note)
                 SELECT id, ?5, ?6, status, ?7, ?8 FROM alerts WHERE {matches} AND status != ?7"
            ),
            params![
                key.detector,
                key.signature,
                src,
                dst,
                at.as_micros(),
                who,
                to.as_str(),
                note
            ],
        )?;
        let changed = tx.execute(
            &format!("UPDATE alerts SET status = ?5 WHERE {matches} AND status != ?5"),
            params![key.detector, key.signature, src, dst, to.as_str()],
        )?;
        tx.commit()?;
        Ok(changed as u64)
    }

    fn add_filter(&mut self, f: &NewFilter) -> Result<SuppressionFilter, StoreError> {
        if f.signature.is_none() && f.detector.is_none() {
            return Err(StoreError::Invalid {
                field: "signature",
                reason: "a filter names a signature or a detector (or both)".into(),
            });
        }
        if let Some(s) = &f.signature {
            let ok = s
                .split_once(':')
                .is_some_and(|(g, i)| g.parse::<u64>().is_ok() && i.parse::<u64>().is_ok());
            if !ok {
                return Err(StoreError::Invalid {
                    field: "signature",
                    reason: format!("{s:?} is not gid:sid"),
                });
            }
        }
        for (field, net) in [("src", &f.src), ("dst", &f.dst)] {
            if let Some(t) = net {
                parse_net(field, t)?;
            }
        }
        self.conn.execute(
            "INSERT INTO filters (signature, detector, src, dst, expires_us, reason, created_by,
                created_us)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                f.signature,
                f.detector,
                f.src,
                f.dst,
                f.expires.map(Timestamp::as_micros),
                f.reason,
                f.created_by,
                f.created.as_micros()
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        self.load_filters()?;
        Ok(SuppressionFilter {
            id,
            signature: f.signature.clone(),
            detector: f.detector.clone(),
            src: f.src.clone(),
            dst: f.dst.clone(),
            expires: f.expires,
            reason: f.reason.clone(),
            created_by: f.created_by.clone(),
            created: f.created,
            hits: 0,
        })
    }

    fn filters(&self) -> Result<Vec<SuppressionFilter>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, signature, detector, src, dst, expires_us, reason, created_by,
                created_us, hits FROM filters ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SuppressionFilter {
                id: r.get(0)?,
                signature: r.get(1)?,
                detector: r.get(2)?,
                src: r.get(3)?,
                dst: r.get(4)?,
                expires: r.get::<_, Option<i64>>(5)?.map(Timestamp::from_micros),
                reason: r.get(6)?,
                created_by: r.get(7)?,
                created: Timestamp::from_micros(r.get(8)?),
                hits: r.get::<_, i64>(9)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_filter(&mut self, id: i64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM filters WHERE id = ?1", [id])?;
        self.load_filters()?;
        Ok(n > 0)
    }

    fn upsert_devices(&mut self, sensor: &str, hosts: &[Host]) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO devices (sensor, ip, mac, vendor, first_us, last_us, packets_sent,
                    bytes_sent, packets_received, bytes_received, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (sensor, ip) DO UPDATE SET
                    mac = excluded.mac, vendor = excluded.vendor,
                    first_us = min(first_us, excluded.first_us),
                    last_us = max(last_us, excluded.last_us),
                    packets_sent = excluded.packets_sent, bytes_sent = excluded.bytes_sent,
                    packets_received = excluded.packets_received,
                    bytes_received = excluded.bytes_received, detail = excluded.detail",
            )?;
            for h in hosts {
                let detail = serde_json::json!({
                    "hostnames": h.hostnames,
                    "services": h.services,
                    "os": h.os,
                    "dhcp_vendor_class": h.dhcp_vendor_class,
                });
                let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
                upsert.execute(params![
                    sensor,
                    h.ip.to_string(),
                    h.mac,
                    h.vendor,
                    h.first_seen.as_micros(),
                    h.last_seen.as_micros(),
                    count(h.packets_sent),
                    count(h.bytes_sent),
                    count(h.packets_received),
                    count(h.bytes_received),
                    serde_json::to_string(&detail)?,
                ])?;
            }
        }
        tx.commit()?;
        Ok(hosts.len())
    }

    fn devices(&self, limit: usize) -> Result<Vec<StoredDevice>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sensor, ip, mac, vendor, first_us, last_us, packets_sent, bytes_sent,
                packets_received, bytes_received, detail
             FROM devices ORDER BY last_us DESC, ip LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit.min(MAX_LIMIT) as i64], |r| {
            Ok((
                (
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ),
                [
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                ],
                r.get::<_, String>(10)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let ((sensor, ip, mac, vendor), n, detail) = row?;
            let ip = ip_of(Some(ip))?.ok_or_else(|| StoreError::Damaged("device ip".into()))?;
            out.push(StoredDevice {
                sensor,
                ip,
                mac,
                vendor,
                first_seen: Timestamp::from_micros(n[0]),
                last_seen: Timestamp::from_micros(n[1]),
                packets_sent: n[2].max(0) as u64,
                bytes_sent: n[3].max(0) as u64,
                packets_received: n[4].max(0) as u64,
                bytes_received: n[5].max(0) as u64,
                detail: serde_json::from_str(&detail)?,
            });
        }
        Ok(out)
    }

    fn history(&self, id: &str) -> Result<Vec<StatusChange>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at_us, who, from_status, to_status, note FROM alert_history
             WHERE alert_id = ?1 ORDER BY at_us, rowid",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, who, from, to, note) = row?;
            out.push(StatusChange {
                at: Timestamp::from_micros(at),
                who,
                from: status_of(&from)?,
                to: status_of(&to)?,
                note,
            });
        }
        Ok(out)
    }

    fn counts(&self) -> Result<StoreCounts, StoreError> {
        let alerts: i64 = self
            .conn
            .query_row("SELECT count(*) FROM alerts", [], |r| r.get(0))?;
        let flows: i64 = self
            .conn
            .query_row("SELECT count(*) FROM flows", [], |r| r.get(0))?;
        Ok(StoreCounts {
            alerts: alerts as u64,
            flows: flows as u64,
        })
    }

    fn retain(
        &mut self,
        policy: &Retention,
        now: Timestamp,
    ) -> Result<RetentionReport, StoreError> {
        let mut report = RetentionReport::default();
        if let Some(age) = policy.max_age_us {
            let cutoff = now.as_micros().saturating_sub(age);
            let tx = self.conn.transaction()?;
            report.alerts += tx.execute("DELETE FROM alerts WHERE ts_us < ?1", [cutoff])? as u64;
            report.flows += tx.execute("DELETE FROM flows WHERE last_us < ?1", [cutoff])? as u64;
            tx.commit()?;
        }
        self.free_pages()?;
        if let Some(max) = policy.max_bytes {
            // The oldest tenth at a time, until the live pages fit.
            while self.size_bytes()? > max {
                let counts = self.counts()?;
                if counts.alerts == 0 && counts.flows == 0 {
                    break;
                }
                let n = (counts.alerts.max(counts.flows) / 10).max(100);
                let (a, f) = self.delete_oldest(n)?;
                report.alerts += a;
                report.flows += f;
                self.free_pages()?;
            }
        }
        if report.alerts + report.flows > 0 {
            // In WAL mode the file gives the freed pages back at a checkpoint.
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        report.bytes = self.size_bytes()?;
        Ok(report)
    }

    fn size_bytes(&self) -> Result<u64, StoreError> {
        let pages: i64 = self.conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = self
            .conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size: i64 = self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(((pages - free).max(0) * size) as u64)
    }
}
