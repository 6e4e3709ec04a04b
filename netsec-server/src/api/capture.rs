//! Capture control and status, rule reloads, and the health check.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::params::JsonBody;
use super::state::AppState;
use crate::engine::{now_us, CaptureState, SourceSpec, StartError};

/// The capture's status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptureStatus {
    /// `idle`, `running`, `stopping`, `finished` or `failed`.
    #[schema(value_type = String)]
    pub state: CaptureState,
    /// The source.
    pub source: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Seconds since the source started.
    pub uptime_s: f64,
    /// Packets processed.
    pub packets: u64,
    /// Bytes processed.
    pub bytes: u64,
    /// Packets per second since the start.
    pub packets_per_s: f64,
    /// Bytes per second since the start.
    pub bytes_per_s: f64,
    /// `capture.kernel_packets`.
    pub kernel_packets: u64,
    /// `capture.kernel_drops`.
    pub kernel_drops: u64,
    /// Flows in the table.
    pub flows_active: u64,
    /// Flows finished.
    pub flows: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Rule reloads applied to this capture.
    pub rule_reloads: u64,
    /// The capture counters in Suricata's `stats` shape:
    /// `{"capture": {"kernel_packets", "kernel_drops"}}`.
    #[schema(value_type = Object)]
    pub stats: serde_json::Value,
}

/// The status now.
pub fn status_of(state: &AppState) -> CaptureStatus {
    let s = state.capture.stats();
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let started = get(&s.started_us);
    let uptime_s = if started == 0 {
        0.0
    } else {
        (u64::try_from(now_us()).unwrap_or(0).saturating_sub(started)) as f64 / 1e6
    };
    let per_s = |n: u64| {
        if uptime_s > 0.0 {
            n as f64 / uptime_s
        } else {
            0.0
        }
    };
    let packets = get(&s.packets);
    let bytes = get(&s.bytes);
    let (kernel_packets, kernel_drops) = (get(&s.kernel_packets), get(&s.kernel_drops));
    CaptureStatus {
        state: s.state(),
        source: s.source.lock().ok().and_then(|x| x.clone()),
        error: s.error.lock().ok().and_then(|x| x.clone()),
        uptime_s,
        packets,
        bytes,
        packets_per_s: per_s(packets),
        bytes_per_s: per_s(bytes),
        kernel_packets,
        kernel_drops,
        flows_active: get(&s.flows_active),
        flows: get(&s.flows),
        alerts: s.alerts_total(),
        rule_reloads: get(&s.rule_reloads),
        stats: serde_json::json!({
            "capture": {"kernel_packets": kernel_packets, "kernel_drops": kernel_drops}
        }),
    }
}

/// The live rates for the overview.
pub fn live_rates(state: &AppState) -> serde_json::Value {
    let s = status_of(state);
    serde_json::json!({
        "state": s.state,
        "packets_per_s": s.packets_per_s,
        "bytes_per_s": s.bytes_per_s,
        "flows_active": s.flows_active,
        "alerts": s.alerts,
    })
}

/// Source, rates, drops, flows, uptime.
#[utoipa::path(get, path = "/api/v1/capture/status", tag = "capture", security(("bearer" = [])),
    responses((status = 200, body = CaptureStatus)))]
pub async fn status(State(state): State<AppState>) -> Json<CaptureStatus> {
    Json(status_of(&state))
}

/// Start capturing (admin): `{interface, bpf?}` or `{pcap, speed: "realtime"|"max"}`.
#[utoipa::path(post, path = "/api/v1/capture/start", tag = "capture", security(("bearer" = [])),
    request_body = SourceSpec,
    responses((status = 202, body = CaptureStatus), (status = 400), (status = 409, description = "already running")))]
pub async fn start(
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<SourceSpec>,
) -> ApiResult<(StatusCode, Json<CaptureStatus>)> {
    let sensor = state.sensor_config();
    let st = state.clone();
    let result = tokio::task::spawn_blocking(move || st.capture.start(&spec, &sensor))
        .await
        .map_err(ApiError::internal)?;
    match result {
        Ok(()) => Ok((StatusCode::ACCEPTED, Json(status_of(&state)))),
        Err(StartError::Busy(s)) => Err(ApiError::conflict(format!(
            "a capture is running ({s}); stop it first"
        ))),
        Err(e) => Err(ApiError::bad_request(e.to_string())),
    }
}

/// Stop the running source (admin): flows flushed, alerts stored.
#[utoipa::path(post, path = "/api/v1/capture/stop", tag = "capture", security(("bearer" = [])),
    responses((status = 200, body = CaptureStatus), (status = 409, description = "nothing running")))]
pub async fn stop(State(state): State<AppState>) -> ApiResult<Json<CaptureStatus>> {
    let st = state.clone();
    let stopped = tokio::task::spawn_blocking(move || st.capture.stop())
        .await
        .map_err(ApiError::internal)?;
    if stopped {
        Ok(Json(status_of(&state)))
    } else {
        Err(ApiError::conflict("no capture is running"))
    }
}

/// Liveness.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// The capture state.
    #[schema(value_type = String)]
    pub capture: CaptureState,
    /// Seconds since the server started.
    pub uptime_s: u64,
}

/// Liveness, capture state and version (no token needed).
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses((status = 200, body = Health)))]
pub async fn health(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        capture: state.capture.stats().state(),
        uptime_s: state.started.elapsed().as_secs(),
    })
}
