//! Alerts: the listing, one alert, its status and history, and the inbox of groups.

use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use netsec_core::detect::{Alert, AlertStatus};
use netsec_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::guard::Principal;
use super::params::{self, JsonBody, Params};
use super::state::AppState;
use crate::engine::now_us;
use crate::storage::{AlertCursor, AlertGroup, AlertQuery, GroupKey, StatusChange, StoredFlow};

/// The filters `/alerts` and `/alerts/groups` share.
const FILTERS: &[&str] = &[
    "severity",
    "status",
    "attack_type",
    "detector",
    "src_ip",
    "dst_ip",
    "since",
    "until",
    "q",
    "limit",
    "cursor",
    "offset",
];

/// The store query of `/alerts`' parameters.
fn alert_query(raw: Option<&str>) -> ApiResult<AlertQuery> {
    let p = Params::parse(raw, FILTERS)?;
    let q = AlertQuery {
        min_severity: p.get(
            "severity",
            "LOW, MEDIUM, HIGH or CRITICAL",
            params::severity,
        )?,
        status: p.get(
            "status",
            "NEW, ACKNOWLEDGED, SUPPRESSED or RESOLVED",
            params::status,
        )?,
        attack_type: p.bounded("attack_type", 128)?,
        detector: p.bounded("detector", 64)?,
        src_ip: p.ip("src_ip")?,
        dst_ip: p.ip("dst_ip")?,
        since: p.time("since")?,
        until: p.time("until")?,
        limit: Some(p.limit(100)?),
        text: p.bounded("q", 256)?,
        cursor: p.get(
            "cursor",
            "a cursor from a previous page",
            AlertCursor::decode,
        )?,
        offset: p.get("offset", "a whole number up to 1,000,000", |t| {
            t.parse::<usize>().ok().filter(|n| *n <= 1_000_000)
        })?,
        open_only: false,
    };
    if q.cursor.is_some() && q.offset.is_some() {
        return Err(ApiError::field(
            "cursor",
            "give a cursor or an offset, not both",
        ));
    }
    Ok(q)
}

/// A page of alerts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertPage {
    /// Alerts, newest first (`ALERTS.md` shape).
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<Alert>,
    /// How many in this page.
    pub count: usize,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// The query ran out of its time budget: more may match.
    pub partial: bool,
}

/// List alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("bearer" = [])),
    params(
        ("severity" = Option<String>, Query, description = "at least this severity"),
        ("status" = Option<String>, Query), ("attack_type" = Option<String>, Query),
        ("detector" = Option<String>, Query), ("src_ip" = Option<String>, Query),
        ("dst_ip" = Option<String>, Query),
        ("since" = Option<String>, Query, description = "RFC 3339 or epoch seconds"),
        ("until" = Option<String>, Query), ("q" = Option<String>, Query, description = "text"),
        ("limit" = Option<usize>, Query, description = "1..=1000, default 100"),
        ("cursor" = Option<String>, Query), ("offset" = Option<usize>, Query)),
    responses((status = 200, body = AlertPage), (status = 400, description = "a bad parameter, named")))]
pub async fn list(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<AlertPage>> {
    let q = alert_query(raw.as_deref())?;
    let limit = q.limit.unwrap_or(100);
    let budget = state.config.query_budget();
    let (alerts, partial) = state.db.read(move |s| s.alerts_within(&q, budget)).await?;
    let next_cursor = (alerts.len() == limit)
        .then(|| alerts.last().map(|a| AlertCursor::after(a).encode()))
        .flatten();
    Ok(Json(AlertPage {
        count: alerts.len(),
        alerts,
        next_cursor,
        partial,
    }))
}

fn check_id(id: &str) -> ApiResult<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::field("id", "not an alert id"))
    }
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "the alert (ALERTS.md)"), (status = 404)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Alert>> {
    check_id(&id)?;
    let key = id.clone();
    state
        .db
        .read(move |s| s.alert(&key))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("alert {id}")))
}

/// A status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    /// `NEW`, `ACKNOWLEDGED`, `SUPPRESSED` or `RESOLVED`.
    pub status: String,
    /// Why (at most 1,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

fn parse_update(u: &StatusUpdate) -> ApiResult<(AlertStatus, Option<String>)> {
    let status = params::status(&u.status)
        .ok_or_else(|| ApiError::field("status", "NEW, ACKNOWLEDGED, SUPPRESSED or RESOLVED"))?;
    if u.note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::field("note", "longer than 1,000 characters"));
    }
    Ok((status, u.note.clone()))
}

/// Change an alert's status (analyst).
#[utoipa::path(patch, path = "/api/v1/alerts/{id}", tag = "alerts", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = StatusUpdate,
    responses((status = 200, body = Object, description = "the status change"), (status = 404), (status = 400)))]
pub async fn patch(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StatusUpdate>,
) -> ApiResult<Json<StatusChange>> {
    check_id(&id)?;
    let (status, note) = parse_update(&body)?;
    let key = id.clone();
    state
        .db
        .change(move |s| {
            s.set_status(
                &key,
                status,
                &who.name,
                note.as_deref(),
                Timestamp::from_micros(now_us()),
            )
        })
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("alert {id}")))
}

/// Every status change of an alert.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct History {
    /// The alert.
    pub id: String,
    /// Changes, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<StatusChange>,
}

/// An alert's status history.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/history", tag = "alerts", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = History), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<History>> {
    check_id(&id)?;
    let key = id.clone();
    let (exists, history) = state
        .db
        .read(move |s| Ok((s.alert(&key)?.is_some(), s.history(&key)?)))
        .await?;
    if !exists {
        return Err(ApiError::not_found(format!("alert {id}")));
    }
    Ok(Json(History { id, history }))
}

/// The flow an alert belongs to, with its 25 features and application fields.
#[utoipa::path(get, path = "/api/v1/alerts/{id}/flow", tag = "alerts", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Object, description = "the stored flow, as in /api/v1/flows"),
        (status = 404, description = "no such alert, the alert names no flow, or its flow is not stored (yet, or any more)")))]
pub async fn flow(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<StoredFlow>> {
    check_id(&id)?;
    let key = id.clone();
    let (exists, flow) = state
        .db
        .read(move |s| Ok((s.alert(&key)?.is_some(), s.alert_flow(&key)?)))
        .await?;
    if !exists {
        return Err(ApiError::not_found(format!("alert {id}")));
    }
    flow.map(Json)
        .ok_or_else(|| ApiError::not_found(format!("the flow of alert {id}")))
}

/// The inbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GroupPage {
    /// Groups, the most recent first.
    #[schema(value_type = Vec<Object>)]
    pub groups: Vec<AlertGroup>,
    /// The query ran out of its time budget.
    pub partial: bool,
}

/// The inbox: alerts grouped by (detector + signature, source, destination). Without a
/// `status` filter it holds the open alerts (`NEW` and `ACKNOWLEDGED`).
#[utoipa::path(get, path = "/api/v1/alerts/groups", tag = "alerts", security(("bearer" = [])),
    params(("severity" = Option<String>, Query), ("status" = Option<String>, Query),
        ("attack_type" = Option<String>, Query), ("detector" = Option<String>, Query),
        ("src_ip" = Option<String>, Query), ("dst_ip" = Option<String>, Query),
        ("since" = Option<String>, Query), ("until" = Option<String>, Query),
        ("q" = Option<String>, Query), ("limit" = Option<usize>, Query)),
    responses((status = 200, body = GroupPage), (status = 400)))]
pub async fn groups(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<GroupPage>> {
    let mut q = alert_query(raw.as_deref())?;
    q.open_only = q.status.is_none();
    if q.cursor.is_some() || q.offset.is_some() {
        return Err(ApiError::field(
            "cursor",
            "the inbox is not paged; narrow it with filters",
        ));
    }
    let budget = state.config.query_budget();
    let (groups, partial) = state.db.read(move |s| s.groups_within(&q, budget)).await?;
    Ok(Json(GroupPage { groups, partial }))
}

/// A group status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupUpdate {
    /// The group, as `GET /alerts/groups` gives it.
    #[schema(value_type = Object)]
    pub key: GroupKeyBody,
    /// The new status.
    pub status: String,
    /// Why.
    #[serde(default)]
    pub note: Option<String>,
}

/// A group key in a request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupKeyBody {
    /// Detector.
    pub detector: String,
    /// `gid:sid`.
    pub signature: String,
    /// Source address.
    #[serde(default)]
    pub src_ip: Option<std::net::IpAddr>,
    /// Destination address.
    #[serde(default)]
    pub dst_ip: Option<std::net::IpAddr>,
}

/// How many alerts a group change touched.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Changed {
    /// Alerts changed.
    pub changed: u64,
}

/// Change every alert of one group (analyst).
#[utoipa::path(patch, path = "/api/v1/alerts/groups", tag = "alerts", security(("bearer" = [])),
    request_body = GroupUpdate, responses((status = 200, body = Changed), (status = 400), (status = 404)))]
pub async fn patch_group(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<GroupUpdate>,
) -> ApiResult<Json<Changed>> {
    let (status, note) = parse_update(&StatusUpdate {
        status: body.status,
        note: body.note,
    })?;
    let k = body.key;
    if k.detector.len() > 64 || k.signature.len() > 64 {
        return Err(ApiError::field("key", "detector or signature too long"));
    }
    let key = GroupKey {
        detector: k.detector,
        signature: k.signature,
        src_ip: k.src_ip,
        dst_ip: k.dst_ip,
    };
    let changed = state
        .db
        .change(move |s| {
            s.set_group_status(
                &key,
                status,
                &who.name,
                note.as_deref(),
                Timestamp::from_micros(now_us()),
            )
        })
        .await?;
    if changed == 0 {
        return Err(ApiError::not_found(
            "a group with that key and another status",
        ));
    }
    Ok(Json(Changed { changed }))
}
