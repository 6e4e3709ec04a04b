//! The inbox, kept up to date by triggers: one row per (detector, signature, source,
//! destination) with its alert count per status, first and last seen and highest severity.
//! The default inbox and its key filters read this table instead of grouping every stored
//! alert, so the inbox costs the same with a million alerts as with a hundred.
//!
//! Kept exact on every path that touches alerts: a write adds each batch's alerts with one
//! upsert per group ([`GroupDeltas`]: per alert, a trigger halved the ingest rate), and
//! triggers on `alerts` follow status changes (one alert or a whole group) and deletions
//! (retention). Addresses are
//! stored as `''` when absent (a primary key column cannot be NULL-distinct). After
//! retention removes a group's oldest alerts, its `first_seen` stays the earliest ever seen.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{params, Transaction};

use netsec_core::detect::Alert;

use super::super::{AlertQuery, StoreError};
use super::{group_key_filters, limit_of, severity_code};

/// What one batch adds to one group.
#[derive(Debug)]
struct Delta {
    signature_name: String,
    attack_type: String,
    first_us: i64,
    last_us: i64,
    max_severity: i64,
    counts: [i64; 4],
}

/// The inbox changes of one write, applied with one upsert per group.
#[derive(Debug, Default)]
pub(super) struct GroupDeltas(HashMap<(String, String, String, String), Delta>);

impl GroupDeltas {
    /// Counts `a`, just stored under `signature`.
    pub(super) fn add(&mut self, a: &Alert, signature: &str, signature_name: &str) {
        let key = (
            a.detector().unwrap_or("unknown").to_string(),
            signature.to_string(),
            a.src_ip.map(|i| i.to_string()).unwrap_or_default(),
            a.dst_ip.map(|i| i.to_string()).unwrap_or_default(),
        );
        let ts = a.timestamp.as_micros();
        let sev = severity_code(a.severity);
        let d = self.0.entry(key).or_insert_with(|| Delta {
            signature_name: signature_name.to_string(),
            attack_type: a.attack_type.clone(),
            first_us: ts,
            last_us: ts,
            max_severity: sev,
            counts: [0; 4],
        });
        d.first_us = d.first_us.min(ts);
        d.last_us = d.last_us.max(ts);
        d.max_severity = d.max_severity.max(sev);
        if a.attack_type > d.attack_type {
            d.attack_type.clone_from(&a.attack_type);
        }
        d.counts[a.status.index()] += 1;
    }

    /// Applies the deltas in `tx`.
    pub(super) fn apply(self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO alert_groups VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT DO UPDATE SET
                signature_name = max(signature_name, excluded.signature_name),
                attack_type = max(attack_type, excluded.attack_type),
                first_us = min(first_us, excluded.first_us),
                last_us = max(last_us, excluded.last_us),
                max_severity = max(max_severity, excluded.max_severity),
                n_new = n_new + excluded.n_new,
                n_ack = n_ack + excluded.n_ack,
                n_supp = n_supp + excluded.n_supp,
                n_resolved = n_resolved + excluded.n_resolved",
        )?;
        for ((detector, signature, src, dst), d) in self.0 {
            upsert.execute(params![
                detector,
                signature,
                src,
                dst,
                d.signature_name,
                d.attack_type,
                d.first_us,
                d.last_us,
                d.max_severity,
                d.counts[0],
                d.counts[1],
                d.counts[2],
                d.counts[3],
            ])?;
        }
        Ok(())
    }
}

/// Migration 5: the table, its contents from the alerts already stored, and the triggers.
pub(super) const MIGRATION: &str = "
CREATE TABLE alert_groups (
    detector TEXT NOT NULL,
    signature TEXT NOT NULL,
    src_ip TEXT NOT NULL,
    dst_ip TEXT NOT NULL,
    signature_name TEXT NOT NULL,
    attack_type TEXT NOT NULL,
    first_us INTEGER NOT NULL,
    last_us INTEGER NOT NULL,
    max_severity INTEGER NOT NULL,
    n_new INTEGER NOT NULL,
    n_ack INTEGER NOT NULL,
    n_supp INTEGER NOT NULL,
    n_resolved INTEGER NOT NULL,
    PRIMARY KEY (detector, signature, src_ip, dst_ip)
) WITHOUT ROWID;
CREATE INDEX alert_groups_last ON alert_groups (last_us DESC);
INSERT INTO alert_groups
    SELECT detector, signature, coalesce(src_ip, ''), coalesce(dst_ip, ''), max(signature_name),
        max(attack_type), min(ts_us), max(ts_us), max(severity),
        sum(status = 'NEW'), sum(status = 'ACKNOWLEDGED'), sum(status = 'SUPPRESSED'),
        sum(status = 'RESOLVED')
    FROM alerts GROUP BY 1, 2, 3, 4;
CREATE TRIGGER alert_groups_status AFTER UPDATE OF status ON alerts
WHEN OLD.status IS NOT NEW.status BEGIN
    UPDATE alert_groups SET
        n_new = n_new - (OLD.status = 'NEW') + (NEW.status = 'NEW'),
        n_ack = n_ack - (OLD.status = 'ACKNOWLEDGED') + (NEW.status = 'ACKNOWLEDGED'),
        n_supp = n_supp - (OLD.status = 'SUPPRESSED') + (NEW.status = 'SUPPRESSED'),
        n_resolved = n_resolved - (OLD.status = 'RESOLVED') + (NEW.status = 'RESOLVED')
    WHERE detector = NEW.detector AND signature = NEW.signature
        AND src_ip = coalesce(NEW.src_ip, '') AND dst_ip = coalesce(NEW.dst_ip, '');
END;
CREATE TRIGGER alert_groups_delete AFTER DELETE ON alerts BEGIN
    UPDATE alert_groups SET
        n_new = n_new - (OLD.status = 'NEW'),
        n_ack = n_ack - (OLD.status = 'ACKNOWLEDGED'),
        n_supp = n_supp - (OLD.status = 'SUPPRESSED'),
        n_resolved = n_resolved - (OLD.status = 'RESOLVED')
    WHERE detector = OLD.detector AND signature = OLD.signature
        AND src_ip = coalesce(OLD.src_ip, '') AND dst_ip = coalesce(OLD.dst_ip, '');
    DELETE FROM alert_groups
    WHERE detector = OLD.detector AND signature = OLD.signature
        AND src_ip = coalesce(OLD.src_ip, '') AND dst_ip = coalesce(OLD.dst_ip, '')
        AND n_new + n_ack + n_supp + n_resolved <= 0;
END;
";

/// The inbox query of `q` over the kept table, when `q` filters only by what a group row
/// knows (status, open only, detector, attack type, addresses, severity as the group's
/// highest); `None` for time and text filters, which need the alerts themselves.
pub(super) fn summary_sql(q: &AlertQuery) -> Option<(String, Vec<Value>)> {
    if q.since.is_some() || q.until.is_some() || q.text.is_some() {
        return None;
    }
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let count = match (q.status, q.open_only) {
        (Some(s), _) => match s.as_str() {
            "NEW" => "n_new",
            "ACKNOWLEDGED" => "n_ack",
            "SUPPRESSED" => "n_supp",
            _ => "n_resolved",
        },
        (None, true) => "(n_new + n_ack)",
        (None, false) => "(n_new + n_ack + n_supp + n_resolved)",
    };
    if q.open_only && q.status.is_none() {
        clauses.push("(n_new + n_ack) > 0");
    } else {
        clauses.push(match count {
            "n_new" => "n_new > 0",
            "n_ack" => "n_ack > 0",
            "n_supp" => "n_supp > 0",
            "n_resolved" => "n_resolved > 0",
            _ => "1",
        });
    }
    if let Some(s) = q.min_severity {
        clauses.push("max_severity >= ?");
        values.push(severity_code(s).into());
    }
    group_key_filters(q, &mut clauses, &mut values);
    values.push(limit_of(q));
    let sql = format!(
        "SELECT detector, signature, nullif(src_ip, ''), nullif(dst_ip, ''), signature_name,
            attack_type, {count}, first_us, last_us, max_severity, n_new, n_ack, n_supp,
            n_resolved
         FROM alert_groups WHERE {} ORDER BY last_us DESC LIMIT ?",
        clauses.join(" AND ")
    );
    Some((sql, values))
}
