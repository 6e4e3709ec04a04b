//! Who is calling: the bearer token (or `?token=` on the streams) checked on every protected
//! route, the caller's role compared with the route's, and the per-caller rate limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use netsec_core::time::Timestamp;

use super::error::ApiError;
use super::state::AppState;
use crate::auth::{token_hash, TokenKind, API_TOKEN_PREFIX};
use crate::engine::now_us;
use crate::role::Role;

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A signed access token of this user id.
    User(i64),
    /// An API token of this id.
    ApiToken(i64),
}

/// The authenticated caller, put in the request's extensions by the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// A user name, or `token:<name>` for an API token.
    pub name: String,
    /// The role now (a user's current role, not the one in an old token).
    pub role: Role,
    /// How.
    pub via: Via,
}

/// The client's address (the socket's; `0.0.0.0` when served without one, as in tests).
pub fn client_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// The bearer token of `req`: the `Authorization` header, or the `token` query parameter
/// (browsers cannot set headers on WebSocket and EventSource requests).
pub fn bearer(req: &Request) -> Option<String> {
    bearer_of(req.headers(), req.uri().query())
}

/// [`bearer`] from the parts: a header that is not `Bearer …` gives none, and the query is
/// not consulted then.
pub fn bearer_of(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(h) = headers.get(AUTHORIZATION) {
        let text = h.to_str().ok()?;
        let (scheme, token) = text.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    query?
        .split('&')
        .find_map(|p| p.strip_prefix("token="))
        .map(str::to_string)
}

/// Checks a bearer token: an API token by its hash (recording its use), or a signed access
/// token whose user still exists (its current role applies).
///
/// # Errors
/// 401 for a missing, malformed, expired, tampered or revoked token.
pub async fn authenticate(state: &AppState, token: Option<String>) -> Result<Principal, ApiError> {
    let token = token.ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
    if token.len() > 4096 {
        return Err(ApiError::unauthorized("invalid token"));
    }
    if token.starts_with(API_TOKEN_PREFIX) {
        let hash = token_hash(&token);
        let found = state
            .db
            .change(move |s| s.use_token(&hash, Timestamp::from_micros(now_us())))
            .await?;
        return found
            .map(|t| Principal {
                name: format!("token:{}", t.name),
                role: t.role,
                via: Via::ApiToken(t.id),
            })
            .ok_or_else(|| ApiError::unauthorized("invalid token"));
    }
    let claims = state
        .keys
        .verify(&token, TokenKind::Access)
        .ok_or_else(|| ApiError::unauthorized("invalid or expired token"))?;
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| ApiError::unauthorized("invalid token"))?;
    let user = state.db.read(move |s| s.user(id)).await?;
    user.map(|u| Principal {
        name: u.username,
        role: u.role,
        via: Via::User(u.id),
    })
    .ok_or_else(|| ApiError::unauthorized("the token's user no longer exists"))
}

async fn guard(state: AppState, mut req: Request, next: Next, needed: Role) -> Response {
    let token = bearer(&req);
    let principal = match authenticate(&state, token).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if state.request_limiter.check_key(&principal.name).is_err() {
        return ApiError::too_many("request rate limit reached; slow down").into_response();
    }
    if !principal.role.allows(needed) {
        return ApiError::forbidden(format!(
            "this needs the {needed} role; you are {}",
            principal.role
        ))
        .into_response();
    }
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// Middleware: any valid token (viewer and up).
pub async fn viewer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    guard(s, req, next, Role::Viewer).await
}

/// Middleware: analyst and up.
pub async fn analyst(State(s): State<AppState>, req: Request, next: Next) -> Response {
    guard(s, req, next, Role::Analyst).await
}

/// Middleware: admin only.
pub async fn admin(State(s): State<AppState>, req: Request, next: Next) -> Response {
    guard(s, req, next, Role::Admin).await
}
