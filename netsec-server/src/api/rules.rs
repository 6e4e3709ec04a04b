//! The loaded rule set: one rule's text (an alert's detail shows the rule that fired), and
//! the atomic reload.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::state::AppState;

/// One loaded rule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleText {
    /// Generator id (1 unless the rule says otherwise).
    pub gid: u64,
    /// Signature id.
    pub sid: u64,
    /// The rule's `msg`.
    pub msg: Option<String>,
    /// The rule as loaded (variables as written), in Suricata syntax.
    pub text: String,
}

/// One rule of the running set, by `sid` (and `gid`, 1 by default).
#[utoipa::path(get, path = "/api/v1/rules/{sid}", tag = "capture", security(("bearer" = [])),
    params(("sid" = u64, Path), ("gid" = Option<u64>, Query)),
    responses((status = 200, body = RuleText), (status = 400), (status = 404, description = "no loaded rule has this gid and sid")))]
pub async fn get(
    State(state): State<AppState>,
    Path(sid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<RuleText>> {
    let sid: u64 = sid
        .parse()
        .map_err(|_| ApiError::field("sid", "a rule's sid, a whole number"))?;
    let p = Params::parse(raw.as_deref(), &["gid"])?;
    let gid = p
        .get("gid", "a generator id, a whole number", |t| t.parse().ok())?
        .unwrap_or(1);
    let config = state.sensor_config();
    let rule = config
        .rules()
        .find(gid, sid)
        .ok_or_else(|| ApiError::not_found(format!("loaded rule {gid}:{sid}")))?;
    Ok(Json(RuleText {
        gid,
        sid,
        msg: rule.msg().map(str::to_string),
        text: rule.to_string(),
    }))
}

/// A reload's result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reloaded {
    /// Rules loaded.
    pub rules: usize,
}

/// Reload the rule files (admin), atomically: on any error the old set stays.
#[utoipa::path(post, path = "/api/v1/rules/reload", tag = "capture", security(("bearer" = [])),
    responses((status = 200, body = Reloaded), (status = 400, description = "the new set does not load")))]
pub async fn reload(State(state): State<AppState>) -> ApiResult<Json<Reloaded>> {
    let st = state.clone();
    let rules = tokio::task::spawn_blocking(move || st.reload_rules())
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::bad_request(format!("rules not reloaded: {e}")))?;
    Ok(Json(Reloaded { rules }))
}
