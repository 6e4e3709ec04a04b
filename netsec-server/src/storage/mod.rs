//! Where alerts and flows are kept: the [`Store`] trait the server codes against, and
//! [`SqliteStore`], its embedded default. A PostgreSQL store can implement the same trait.
//!
//! Every write is a [`Batch`] from one sensor run, applied in one transaction and idempotent:
//! an alert's key is its id (unique across sensors and runs, `ALERTS.md`), a flow's is
//! (sensor, run, flow id), so a retried batch never duplicates a row.

mod accounts;
mod query;
mod sqlite;
mod writer;

use std::net::IpAddr;

use netsec_core::detect::{Alert, AlertStatus, RunId, Severity};
use netsec_core::flow::FlowRecord;
use netsec_core::inventory::Host;
use netsec_core::time::Timestamp;
use serde::Serialize;

use crate::role::Role;

pub use accounts::{ApiToken, User};
pub use query::{
    AlertCursor, FlowCursor, FlowQuery, Overview, StoredFlow, TopBy, TopEntry, TrendPoint,
};
pub use sqlite::SqliteStore;
pub use writer::{StoreJob, StoreWriter, WriterStats};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON column did not parse (a damaged row).
    #[error("stored JSON is damaged: {0}")]
    Json(#[from] serde_json::Error),
    /// The database was written by a newer netsec.
    #[error("database schema version {found} is newer than this netsec knows ({known})")]
    SchemaTooNew {
        /// The database's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// A stored value is not what its column should hold.
    #[error("stored row is damaged: {0}")]
    Damaged(String),
    /// The row would duplicate a unique one (a user name taken).
    #[error("{0}")]
    Conflict(String),
    /// A value given to the store is not valid.
    #[error("{field}: {reason}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Alerts and flows of one sensor run, written in one transaction.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The sensor's name.
    pub sensor: String,
    /// The run they came from.
    pub run: RunId,
    /// Alerts (their ids are their keys).
    pub alerts: Vec<Alert>,
    /// Finished flows (keyed by sensor, run and flow id).
    pub flows: Vec<FlowRecord>,
}

/// What a write added (rows already stored are not counted again).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WriteReport {
    /// Alerts newly stored.
    pub alerts: usize,
    /// Flows newly stored.
    pub flows: usize,
}

/// Filters of an alert listing, newest first (the API's `GET /api/v1/alerts`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertQuery {
    /// At least this severity.
    pub min_severity: Option<Severity>,
    /// In this status.
    pub status: Option<AlertStatus>,
    /// Of this attack type.
    pub attack_type: Option<String>,
    /// From this detector.
    pub detector: Option<String>,
    /// With this source address.
    pub src_ip: Option<IpAddr>,
    /// With this destination address.
    pub dst_ip: Option<IpAddr>,
    /// At or after this packet time.
    pub since: Option<Timestamp>,
    /// Before this packet time.
    pub until: Option<Timestamp>,
    /// At most this many (default and maximum 1,000).
    pub limit: Option<usize>,
    /// Text in the description, signature name, attack type or an address.
    pub text: Option<String>,
    /// Continue after this alert (keyset paging; preferred).
    pub cursor: Option<AlertCursor>,
    /// Skip this many first (offset paging).
    pub offset: Option<usize>,
    /// Only open alerts (`NEW` or `ACKNOWLEDGED`): the inbox's default.
    pub open_only: bool,
}

/// Most alerts one listing returns.
pub const MAX_LIMIT: usize = 1000;

/// One status change of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// When (wall clock of the change).
    pub at: Timestamp,
    /// Who made it.
    pub who: String,
    /// Status before.
    pub from: AlertStatus,
    /// Status after.
    pub to: AlertStatus,
    /// The analyst's note.
    pub note: Option<String>,
}

/// What an inbox group is: the alerts of one (detector, signature, source, destination).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GroupKey {
    /// The detector.
    pub detector: String,
    /// The EVE signature, `gid:sid` (the rule's, or the stable one of a non-rule detector).
    pub signature: String,
    /// Source address, when the alerts have one.
    pub src_ip: Option<IpAddr>,
    /// Destination address, when the alerts have one.
    pub dst_ip: Option<IpAddr>,
}

/// One inbox line (`GET /api/v1/alerts/groups`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertGroup {
    /// Which alerts.
    pub key: GroupKey,
    /// The signature's name (a rule's `msg`, or the stable name).
    pub signature_name: String,
    /// An attack type of the group (the greatest, by name).
    pub attack_type: String,
    /// Alerts in the group (within the query's filters).
    pub count: u64,
    /// Earliest packet time.
    pub first_seen: Timestamp,
    /// Latest packet time.
    pub last_seen: Timestamp,
    /// The highest severity.
    pub max_severity: Severity,
    /// Alerts per status: new, acknowledged, suppressed, resolved.
    pub statuses: [u64; 4],
}

/// A suppression filter to add: new alerts it matches are stored `SUPPRESSED`, naming it in
/// `meta.suppressed_by`, and counted in its `hits`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewFilter {
    /// Match this EVE signature (`gid:sid`); with `detector`, both must match.
    pub signature: Option<String>,
    /// Match this detector.
    pub detector: Option<String>,
    /// Only alerts from this address or network (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`).
    pub src: Option<String>,
    /// Only alerts to this address or network.
    pub dst: Option<String>,
    /// No longer applies to alerts after this time.
    pub expires: Option<Timestamp>,
    /// Why (shown in the inbox).
    pub reason: String,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created: Timestamp,
}

/// A stored suppression filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressionFilter {
    /// Its id.
    pub id: i64,
    /// Signature matched (`gid:sid`).
    pub signature: Option<String>,
    /// Detector matched.
    pub detector: Option<String>,
    /// Source network.
    pub src: Option<String>,
    /// Destination network.
    pub dst: Option<String>,
    /// Expiry.
    pub expires: Option<Timestamp>,
    /// Why.
    pub reason: String,
    /// Who added it.
    pub created_by: String,
    /// When.
    pub created: Timestamp,
    /// Alerts it suppressed.
    pub hits: u64,
}

/// A device as stored: the inventory's host, its typed columns and the rest as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDevice {
    /// The sensor that saw it.
    pub sensor: String,
    /// Its address.
    pub ip: IpAddr,
    /// Its MAC, when attributable.
    pub mac: Option<String>,
    /// The MAC's vendor.
    pub vendor: Option<String>,
    /// First packet time (the earliest over every snapshot stored).
    pub first_seen: Timestamp,
    /// Last packet time (the latest over every snapshot stored).
    pub last_seen: Timestamp,
    /// Packets and bytes sent and received, as of the latest snapshot.
    pub packets_sent: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Packets received.
    pub packets_received: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Host names, services, OS hints and DHCP vendor class, as the inventory reports them.
    pub detail: serde_json::Value,
}

/// How long and how much the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Alerts and flows whose packet time is older than this many µs before `now` go.
    pub max_age_us: Option<i64>,
    /// Above this many bytes, the oldest alerts and flows go until the database is below it.
    pub max_bytes: Option<u64>,
}

/// What a retention pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Alerts removed.
    pub alerts: u64,
    /// Flows removed.
    pub flows: u64,
    /// Database bytes after the pass.
    pub bytes: u64,
}

/// Rows held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    /// Alerts.
    pub alerts: u64,
    /// Flows.
    pub flows: u64,
}

/// The storage the server codes against.
pub trait Store: Send {
    /// Stores a batch in one transaction; rows already stored (same key) are left alone.
    ///
    /// # Errors
    /// [`StoreError`]; nothing of the batch is stored then.
    fn write(&mut self, batch: &Batch) -> Result<WriteReport, StoreError>;

    /// One alert by id.
    ///
    /// # Errors
    /// [`StoreError`].
    fn alert(&self, id: &str) -> Result<Option<Alert>, StoreError>;

    /// Alerts matching `query`, newest first.
    ///
    /// # Errors
    /// [`StoreError`].
    fn alerts(&self, query: &AlertQuery) -> Result<Vec<Alert>, StoreError>;

    /// [`alerts`](Self::alerts) within a time budget: a listing that would take longer
    /// returns the alerts found so far and `true` (the API's `partial: true`), so a large
    /// store never hangs a page.
    ///
    /// # Errors
    /// [`StoreError`].
    fn alerts_within(
        &self,
        query: &AlertQuery,
        budget: std::time::Duration,
    ) -> Result<(Vec<Alert>, bool), StoreError>;

    /// Changes an alert's status, recording who, when, from, to and the note; `None` when
    /// there is no such alert.
    ///
    /// # Errors
    /// [`StoreError`].
    fn set_status(
        &mut self,
        id: &str,
        to: AlertStatus,
        who: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<Option<StatusChange>, StoreError>;

    /// The inbox: alerts matching `query` grouped by [`GroupKey`], the most recent group first.
    ///
    /// # Errors
    /// [`StoreError`].
    fn groups(&self, query: &AlertQuery) -> Result<Vec<AlertGroup>, StoreError>;

    /// Changes the status of every alert of one group at once (each change recorded in its
    /// history); returns how many changed.
    ///
    /// # Errors
    /// [`StoreError`]; nothing changes then.
    fn set_group_status(
        &mut self,
        key: &GroupKey,
        to: AlertStatus,
        who: &str,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Adds a suppression filter for alerts written from now on.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] naming the field (no signature and no detector, a bad
    /// network), or a database error.
    fn add_filter(&mut self, filter: &NewFilter) -> Result<SuppressionFilter, StoreError>;

    /// The suppression filters, oldest first, with their hit counts.
    ///
    /// # Errors
    /// [`StoreError`].
    fn filters(&self) -> Result<Vec<SuppressionFilter>, StoreError>;

    /// Removes a filter; `false` when there was none with that id.
    ///
    /// # Errors
    /// [`StoreError`].
    fn delete_filter(&mut self, id: i64) -> Result<bool, StoreError>;

    /// Stores a snapshot of the inventory's hosts for `sensor`: a host already stored keeps
    /// its earliest first-seen and latest last-seen, the rest comes from the snapshot. Returns
    /// the hosts written.
    ///
    /// # Errors
    /// [`StoreError`]; nothing is written then.
    fn upsert_devices(&mut self, sensor: &str, hosts: &[Host]) -> Result<usize, StoreError>;

    /// Devices, the most recently seen first, at most `limit` (≤ 1,000).
    ///
    /// # Errors
    /// [`StoreError`].
    fn devices(&self, limit: usize) -> Result<Vec<StoredDevice>, StoreError>;

    /// Every status change of an alert, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    fn history(&self, id: &str) -> Result<Vec<StatusChange>, StoreError>;

    /// Rows held.
    ///
    /// # Errors
    /// [`StoreError`].
    fn counts(&self) -> Result<StoreCounts, StoreError>;

    /// Removes what `policy` says is too old or too much, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    fn retain(&mut self, policy: &Retention, now: Timestamp)
        -> Result<RetentionReport, StoreError>;

    /// Bytes the database takes.
    ///
    /// # Errors
    /// [`StoreError`].
    fn size_bytes(&self) -> Result<u64, StoreError>;

    /// [`groups`](Self::groups) within a time budget; `true` when cut short.
    ///
    /// # Errors
    /// [`StoreError`].
    fn groups_within(
        &self,
        query: &AlertQuery,
        budget: std::time::Duration,
    ) -> Result<(Vec<AlertGroup>, bool), StoreError>;

    /// Flows matching `query`, newest first, within a time budget; `true` when cut short.
    ///
    /// # Errors
    /// [`StoreError`].
    fn flows_within(
        &self,
        query: &FlowQuery,
        budget: std::time::Duration,
    ) -> Result<(Vec<StoredFlow>, bool), StoreError>;

    /// The stored flow alert `id` belongs to, if the alert names a flow and the flow is
    /// (still) stored.
    ///
    /// # Errors
    /// [`StoreError`].
    fn alert_flow(&self, id: &str) -> Result<Option<StoredFlow>, StoreError>;

    /// Totals: alerts by severity, status and type, flows, packets and bytes.
    ///
    /// # Errors
    /// [`StoreError`].
    fn overview(&self) -> Result<Overview, StoreError>;

    /// Alerts and traffic per `bucket_us` between `since` and `until`, oldest bucket first.
    ///
    /// # Errors
    /// [`StoreError`].
    fn trends(
        &self,
        bucket_us: i64,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<TrendPoint>, StoreError>;

    /// The `limit` largest of `by`, at or after `since` when given.
    ///
    /// # Errors
    /// [`StoreError`].
    fn top(
        &self,
        by: TopBy,
        limit: usize,
        since: Option<Timestamp>,
    ) -> Result<Vec<TopEntry>, StoreError>;

    /// Creates a user with an already hashed password.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the name is taken.
    fn create_user(
        &mut self,
        username: &str,
        role: Role,
        password_hash: &str,
        at: Timestamp,
    ) -> Result<User, StoreError>;

    /// A user and its password hash, by name (login).
    ///
    /// # Errors
    /// [`StoreError`].
    fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>, StoreError>;

    /// A user by id.
    ///
    /// # Errors
    /// [`StoreError`].
    fn user(&self, id: i64) -> Result<Option<User>, StoreError>;

    /// Every user, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    fn users(&self) -> Result<Vec<User>, StoreError>;

    /// Removes a user; `false` when there was none.
    ///
    /// # Errors
    /// [`StoreError`].
    fn delete_user(&mut self, id: i64) -> Result<bool, StoreError>;

    /// Records a successful login.
    ///
    /// # Errors
    /// [`StoreError`].
    fn record_login(&mut self, id: i64, at: Timestamp) -> Result<(), StoreError>;

    /// Stores a new API token by the SHA-256 of its secret.
    ///
    /// # Errors
    /// [`StoreError`].
    fn add_token(
        &mut self,
        name: &str,
        role: Role,
        secret_hash: &str,
        prefix: &str,
        created_by: &str,
        at: Timestamp,
    ) -> Result<ApiToken, StoreError>;

    /// Every API token, oldest first.
    ///
    /// # Errors
    /// [`StoreError`].
    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes an API token; `false` when there was none.
    ///
    /// # Errors
    /// [`StoreError`].
    fn delete_token(&mut self, id: i64) -> Result<bool, StoreError>;

    /// The token with this secret hash, its last use set to `at`.
    ///
    /// # Errors
    /// [`StoreError`].
    fn use_token(
        &mut self,
        secret_hash: &str,
        at: Timestamp,
    ) -> Result<Option<ApiToken>, StoreError>;
}
