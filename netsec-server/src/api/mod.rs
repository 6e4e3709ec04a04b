//! The HTTP API of `API.md`: [`app`] builds the router over an [`AppState`], so tests drive
//! every route without a socket and the server binary serves the same router.
//!
//! Every protected route checks the caller's token and role in its own layer (one of
//! [`guard::viewer`], [`guard::analyst`], [`guard::admin`]); the table in [`app`] is the
//! single place that says which role each route needs.

pub mod admin;
pub mod alerts;
pub mod capture;
pub mod dashboard;
pub mod data;
pub mod docs;
pub mod error;
pub mod filters;
pub mod guard;
pub mod live;
pub mod metrics;
pub mod observe;
pub mod params;
pub mod rules;
pub mod session;
pub mod state;

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::{header, HeaderName, HeaderValue, Method, Request};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub use error::{ApiError, ApiResult};
pub use state::{AppState, StartupError};

/// Request ids: a per-process random prefix and a counter (unique, cheap, not guessable
/// across restarts).
#[derive(Clone)]
struct RequestIds {
    prefix: u32,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _req: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n:x}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// The router of every endpoint, with security headers, CORS, body caps, request ids,
/// request logging (path only: no query string, so no token reaches a log) and latency
/// metrics.
pub fn app(state: AppState) -> Router {
    let viewer = || from_fn_with_state(state.clone(), guard::viewer);
    let analyst = || from_fn_with_state(state.clone(), guard::analyst);
    let admin = || from_fn_with_state(state.clone(), guard::admin);
    let api = Router::new()
        // No token.
        .route("/api/v1/health", get(capture::health))
        .route("/api/v1/auth/login", post(session::login))
        .route("/api/v1/auth/refresh", post(session::refresh))
        // The WebSocket checks its own token (it may come as the first message).
        .route("/ws/alerts", get(live::ws))
        // Viewer and up.
        .route("/api/v1/auth/me", get(session::me.layer(viewer())))
        .route("/api/v1/alerts", get(alerts::list.layer(viewer())))
        .route(
            "/api/v1/alerts/groups",
            get(alerts::groups.layer(viewer())).patch(alerts::patch_group.layer(analyst())),
        )
        .route(
            "/api/v1/alerts/{id}",
            get(alerts::get.layer(viewer())).patch(alerts::patch.layer(analyst())),
        )
        .route(
            "/api/v1/alerts/{id}/history",
            get(alerts::history.layer(viewer())),
        )
        .route(
            "/api/v1/alerts/{id}/flow",
            get(alerts::flow.layer(viewer())),
        )
        .route("/api/v1/rules/{sid}", get(rules::get.layer(viewer())))
        .route(
            "/api/v1/filters",
            get(filters::list.layer(viewer())).post(filters::create.layer(analyst())),
        )
        .route(
            "/api/v1/filters/{id}",
            axum::routing::delete(filters::delete.layer(analyst())),
        )
        .route("/api/v1/flows", get(data::flows.layer(viewer())))
        .route("/api/v1/devices", get(data::devices.layer(viewer())))
        .route(
            "/api/v1/analytics/overview",
            get(data::overview.layer(viewer())),
        )
        .route(
            "/api/v1/analytics/trends",
            get(data::trends.layer(viewer())),
        )
        .route("/api/v1/analytics/top", get(data::top.layer(viewer())))
        .route(
            "/api/v1/capture/status",
            get(capture::status.layer(viewer())),
        )
        .route("/api/v1/stream", get(live::sse.layer(viewer())))
        // Admin.
        .route(
            "/api/v1/users",
            get(admin::users.layer(admin())).post(admin::create_user.layer(admin())),
        )
        .route(
            "/api/v1/users/{id}",
            axum::routing::delete(admin::delete_user.layer(admin())),
        )
        .route(
            "/api/v1/tokens",
            get(admin::tokens.layer(admin())).post(admin::create_token.layer(admin())),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(admin::delete_token.layer(admin())),
        )
        .route("/api/v1/capture/start", post(capture::start.layer(admin())))
        .route("/api/v1/capture/stop", post(capture::stop.layer(admin())))
        .route("/api/v1/rules/reload", post(rules::reload.layer(admin())))
        // Bind-controlled: keep the server on loopback or firewall it.
        .route("/metrics", get(observe::scrape))
        .route("/", get(dashboard::index))
        .route("/assets/{name}", get(dashboard::asset))
        .merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", docs::ApiDoc::openapi()))
        .fallback(|| async { ApiError::not_found("route").into_response() })
        .method_not_allowed_fallback(|| async {
            ApiError {
                status: axum::http::StatusCode::METHOD_NOT_ALLOWED,
                code: "method_not_allowed",
                message: "method not allowed on this route".into(),
            }
            .into_response()
        });
    let limit = state.config.server.body_limit_bytes;
    let ids = RequestIds {
        prefix: rand::random(),
        next: std::sync::Arc::default(),
    };
    let x_request_id = HeaderName::from_static("x-request-id");
    api.layer(from_fn_with_state(state.clone(), observe::track))
        .layer(DefaultBodyLimit::max(limit))
        // gzip for what is worth it (not SSE, not images), the dashboard's bundle first.
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(cors(&state.config.server.cors_origins))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-")
                    .to_string();
                tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, ids))
        .with_state(state)
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

/// A security header set on every response that lacks it.
fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// The Content-Security-Policy: nothing from elsewhere, no framing.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
    script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'";
