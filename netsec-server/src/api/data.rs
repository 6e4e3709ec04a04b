//! Flows, devices and analytics.

use axum::extract::{RawQuery, State};
use axum::Json;
use netsec_core::time::Timestamp;
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::state::AppState;
use crate::engine::now_us;
use crate::storage::{
    FlowCursor, FlowQuery, Overview, StoredDevice, StoredFlow, TopBy, TopEntry, TrendPoint,
};

/// A page of flows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlowPage {
    /// Flows, the most recently ended first, each with the 25 features.
    #[schema(value_type = Vec<Object>)]
    pub flows: Vec<StoredFlow>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
    /// The query ran out of its time budget.
    pub partial: bool,
}

fn protocol(t: &str) -> Option<u8> {
    match t.to_ascii_lowercase().as_str() {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "icmpv6" => Some(58),
        n => n.parse().ok(),
    }
}

/// List flows.
#[utoipa::path(get, path = "/api/v1/flows", tag = "flows", security(("bearer" = [])),
    params(("ip" = Option<String>, Query), ("port" = Option<u16>, Query),
        ("protocol" = Option<String>, Query, description = "tcp, udp, icmp or a number"),
        ("since" = Option<String>, Query), ("until" = Option<String>, Query),
        ("limit" = Option<usize>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = FlowPage), (status = 400)))]
pub async fn flows(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<FlowPage>> {
    let p = Params::parse(
        raw.as_deref(),
        &[
            "ip", "port", "protocol", "since", "until", "limit", "cursor",
        ],
    )?;
    let limit = p.limit(100)?;
    let q = FlowQuery {
        ip: p.ip("ip")?,
        port: p.get("port", "a port 0..=65535", |t| t.parse().ok())?,
        protocol: p.get("protocol", "tcp, udp, icmp, icmpv6 or 0..=255", protocol)?,
        since: p.time("since")?,
        until: p.time("until")?,
        limit: Some(limit),
        cursor: p.get(
            "cursor",
            "a cursor from a previous page",
            FlowCursor::decode,
        )?,
    };
    let budget = state.config.query_budget();
    let (flows, partial) = state.db.read(move |s| s.flows_within(&q, budget)).await?;
    let next_cursor = (flows.len() == limit)
        .then(|| flows.last().map(|f| f.cursor.clone()))
        .flatten();
    Ok(Json(FlowPage {
        flows,
        next_cursor,
        partial,
    }))
}

/// Devices.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceList {
    /// The most recently seen first.
    #[schema(value_type = Vec<Object>)]
    pub devices: Vec<StoredDevice>,
}

/// Discovered hosts.
#[utoipa::path(get, path = "/api/v1/devices", tag = "flows", security(("bearer" = [])),
    params(("limit" = Option<usize>, Query)), responses((status = 200, body = DeviceList)))]
pub async fn devices(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<DeviceList>> {
    let p = Params::parse(raw.as_deref(), &["limit"])?;
    let limit = p.limit(1000)?;
    Ok(Json(DeviceList {
        devices: state.db.read(move |s| s.devices(limit)).await?,
    }))
}

/// Totals and rates.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OverviewBody {
    /// What is stored.
    #[schema(value_type = Object)]
    pub stored: Overview,
    /// The running capture: packets, bytes and alerts per second since it started.
    #[schema(value_type = Object)]
    pub live: serde_json::Value,
}

/// Totals, alerts by severity/type/status, traffic rates.
#[utoipa::path(get, path = "/api/v1/analytics/overview", tag = "analytics", security(("bearer" = [])),
    responses((status = 200, body = OverviewBody)))]
pub async fn overview(State(state): State<AppState>) -> ApiResult<Json<OverviewBody>> {
    let stored = state.db.read(|s| s.overview()).await?;
    Ok(Json(OverviewBody {
        stored,
        live: super::capture::live_rates(&state),
    }))
}

/// The trend series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Trends {
    /// Bucket width.
    pub bucket: String,
    /// Buckets with data, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub points: Vec<TrendPoint>,
}

/// Alerts and traffic per bucket (packet time). Without `since`/`until`, the 120 buckets up
/// to the latest data stored.
#[utoipa::path(get, path = "/api/v1/analytics/trends", tag = "analytics", security(("bearer" = [])),
    params(("bucket" = Option<String>, Query, description = "1m, 1h or 1d"),
        ("since" = Option<String>, Query), ("until" = Option<String>, Query)),
    responses((status = 200, body = Trends), (status = 400)))]
pub async fn trends(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Trends>> {
    let p = Params::parse(raw.as_deref(), &["bucket", "since", "until"])?;
    let bucket = p.text("bucket").unwrap_or("1m").to_string();
    let width: i64 = match bucket.as_str() {
        "1m" => 60_000_000,
        "1h" => 3_600_000_000,
        "1d" => 86_400_000_000,
        other => {
            return Err(ApiError::field(
                "bucket",
                format!("{other:?} is not 1m, 1h or 1d"),
            ))
        }
    };
    let since = p.time("since")?;
    let until = p.time("until")?;
    let points = state
        .db
        .read(move |s| {
            let until = match until {
                Some(u) => u,
                None => {
                    let last = s.overview()?.last_seen.map_or(now_us(), |t| t.as_micros());
                    Timestamp::from_micros((last / width + 1) * width)
                }
            };
            let since = since.unwrap_or(Timestamp::from_micros(until.as_micros() - 120 * width));
            s.trends(width, since, until)
        })
        .await?;
    Ok(Json(Trends { bucket, points }))
}

/// A top-N list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Top {
    /// What was ranked.
    pub by: String,
    /// Largest first.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<TopEntry>,
}

/// Top talkers, ports or attack types.
#[utoipa::path(get, path = "/api/v1/analytics/top", tag = "analytics", security(("bearer" = [])),
    params(("by" = String, Query, description = "talkers, ports or attack_types"),
        ("limit" = Option<usize>, Query), ("since" = Option<String>, Query)),
    responses((status = 200, body = Top), (status = 400)))]
pub async fn top(State(state): State<AppState>, RawQuery(raw): RawQuery) -> ApiResult<Json<Top>> {
    let p = Params::parse(raw.as_deref(), &["by", "limit", "since"])?;
    let by_text = p.text("by").unwrap_or("talkers").to_string();
    let by = match by_text.as_str() {
        "talkers" => TopBy::Talkers,
        "ports" => TopBy::Ports,
        "attack_types" => TopBy::AttackTypes,
        other => {
            return Err(ApiError::field(
                "by",
                format!("{other:?} is not talkers, ports or attack_types"),
            ))
        }
    };
    let limit = p.limit(10)?;
    let since = p.time("since")?;
    let items = state.db.read(move |s| s.top(by, limit, since)).await?;
    Ok(Json(Top { by: by_text, items }))
}
