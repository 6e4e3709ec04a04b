//! The HTTP side of the metrics: the latency middleware and `GET /metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::metrics::HttpLabels;
use super::state::AppState;

/// Middleware: times every request by its route template (never the raw path, so ids do not
/// explode the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // Only the standard methods name a series: any other token a client sends is "other",
    // so clients cannot grow the label set without bound.
    let method = match *req.method() {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS => req.method().as_str(),
        _ => "other",
    }
    .to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    let labels = HttpLabels {
        method,
        route,
        status: res.status().as_u16(),
    };
    state
        .metrics
        .observe_http(&labels, start.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`.
pub async fn scrape(State(state): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
