//! Suppression filters: `GET/POST /api/v1/filters`, `DELETE /api/v1/filters/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use netsec_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::guard::Principal;
use super::params::{parse_time, JsonBody};
use super::state::AppState;
use crate::engine::now_us;
use crate::storage::{NewFilter, SuppressionFilter};

/// A filter to add.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterBody {
    /// EVE signature `gid:sid` to match.
    #[serde(default)]
    pub signature: Option<String>,
    /// Detector to match.
    #[serde(default)]
    pub detector: Option<String>,
    /// Source address or CIDR.
    #[serde(default)]
    pub src: Option<String>,
    /// Destination address or CIDR.
    #[serde(default)]
    pub dst: Option<String>,
    /// Expiry, RFC 3339.
    #[serde(default)]
    pub expires: Option<String>,
    /// Why (required, at most 500 characters).
    pub reason: String,
}

/// The filters.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FilterList {
    /// Oldest first, with hit counts.
    #[schema(value_type = Vec<Object>)]
    pub filters: Vec<SuppressionFilter>,
}

/// List suppression filters.
#[utoipa::path(get, path = "/api/v1/filters", tag = "filters", security(("bearer" = [])),
    responses((status = 200, body = FilterList)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<FilterList>> {
    let filters = state.db.read(|s| s.filters()).await?;
    Ok(Json(FilterList { filters }))
}

/// Add a suppression filter (analyst): new matching alerts are stored `SUPPRESSED`.
#[utoipa::path(post, path = "/api/v1/filters", tag = "filters", security(("bearer" = [])),
    request_body = FilterBody, responses((status = 201, body = Object), (status = 400)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<FilterBody>,
) -> ApiResult<(StatusCode, Json<SuppressionFilter>)> {
    let reason = body.reason.trim().to_string();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::field("reason", "1 to 500 characters"));
    }
    for (field, v) in [
        ("signature", &body.signature),
        ("detector", &body.detector),
        ("src", &body.src),
        ("dst", &body.dst),
    ] {
        if v.as_ref().is_some_and(|v| v.len() > 64) {
            return Err(ApiError::field(field, "longer than 64 characters"));
        }
    }
    if let Some(sig) = &body.signature {
        let ok = sig
            .split_once(':')
            .is_some_and(|(g, s)| g.parse::<u32>().is_ok() && s.parse::<u32>().is_ok());
        if !ok {
            return Err(ApiError::field(
                "signature",
                format!("{sig:?} is not gid:sid"),
            ));
        }
    }
    let expires =
        match &body.expires {
            None => None,
            Some(t) => Some(parse_time(t).ok_or_else(|| {
                ApiError::field("expires", format!("{t:?} is not an RFC 3339 time"))
            })?),
        };
    let filter = NewFilter {
        signature: body.signature,
        detector: body.detector,
        src: body.src,
        dst: body.dst,
        expires,
        reason,
        created_by: who.name,
        created: Timestamp::from_micros(now_us()),
    };
    let stored = state.db.change(move |s| s.add_filter(&filter)).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// Parses an integer id from the path.
pub fn path_id(text: &str) -> ApiResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::field("id", format!("{text:?} is not an id")))
}

/// Remove a suppression filter (analyst).
#[utoipa::path(delete, path = "/api/v1/filters/{id}", tag = "filters", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id)?;
    if state.db.change(move |s| s.delete_filter(id)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("filter {id}")))
    }
}
