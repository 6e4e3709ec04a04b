//! `POST /api/v1/auth/login`, `POST /api/v1/auth/refresh`, `GET /api/v1/auth/me`.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use netsec_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::guard::{client_ip, Principal};
use super::params::JsonBody;
use super::state::AppState;
use crate::auth::{hash_password, now_s, random_password, verify_password, Claims, TokenKind};
use crate::engine::now_us;
use crate::storage::User;

/// Login credentials.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A refresh request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refresh {
    /// The refresh token from the login.
    pub refresh_token: String,
}

/// Tokens issued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Tokens {
    /// Calls the API (`Authorization: Bearer …`).
    pub access_token: String,
    /// Gets a new access token.
    pub refresh_token: String,
    /// Seconds the access token lasts.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: &'static str,
}

/// Signs a fresh access and refresh pair for `user`.
pub fn issue(state: &AppState, user: &User) -> ApiResult<Tokens> {
    let now = now_s();
    let s = &state.config.server;
    let claims = |kind, ttl| Claims {
        sub: user.id.to_string(),
        name: user.username.clone(),
        role: user.role,
        kind,
        iat: now,
        exp: now + ttl,
    };
    let access = state
        .keys
        .sign(&claims(TokenKind::Access, s.access_token_ttl_s))
        .map_err(ApiError::internal)?;
    let refresh = state
        .keys
        .sign(&claims(TokenKind::Refresh, s.refresh_token_ttl_s))
        .map_err(ApiError::internal)?;
    Ok(Tokens {
        access_token: access,
        refresh_token: refresh,
        expires_in: s.access_token_ttl_s,
        token_type: "Bearer",
    })
}

/// Log in with a user name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, body = Tokens), (status = 401, description = "wrong credentials"),
        (status = 429, description = "too many attempts from this address")))]
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let ip = client_ip(&req);
    if state.login_limiter.check_key(&ip).is_err() {
        return ApiError::too_many("too many login attempts; wait a minute").into_response();
    }
    let body =
        match <JsonBody<Login> as axum::extract::FromRequest<AppState>>::from_request(req, &state)
            .await
        {
            Ok(JsonBody(b)) => b,
            Err(e) => return e.into_response(),
        };
    login_checked(state, body).await.into_response()
}

async fn login_checked(state: AppState, body: Login) -> ApiResult<Json<Tokens>> {
    let refused = || ApiError::unauthorized("wrong user name or password");
    if body.username.len() > 64 || body.password.len() > 1024 {
        return Err(refused());
    }
    let name = body.username.clone();
    let found = state.db.read(move |s| s.user_credentials(&name)).await?;
    // Argon2 runs on the blocking pool; an unknown user is verified against a fixed hash
    // so both paths take the same time.
    let password = body.password;
    let (user, ok) = tokio::task::spawn_blocking(move || match found {
        Some((u, hash)) => {
            let ok = verify_password(&password, &hash);
            (Some(u), ok)
        }
        None => (None, verify_password(&password, &dummy_hash())),
    })
    .await
    .map_err(ApiError::internal)?;
    let user = user.filter(|_| ok).ok_or_else(refused)?;
    let id = user.id;
    state
        .db
        .change(move |s| s.record_login(id, Timestamp::from_micros(now_us())))
        .await?;
    tracing::info!(user = %user.username, "login");
    Ok(Json(issue(&state, &user)?))
}

/// An argon2id hash of a random password, checked when the user does not exist.
fn dummy_hash() -> String {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&random_password()).unwrap_or_default())
        .clone()
}

/// Exchange a refresh token for a new pair.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = Refresh,
    responses((status = 200, body = Tokens), (status = 401, description = "invalid refresh token")))]
pub async fn refresh(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Refresh>,
) -> ApiResult<Json<Tokens>> {
    let claims = state
        .keys
        .verify(&body.refresh_token, TokenKind::Refresh)
        .ok_or_else(|| ApiError::unauthorized("invalid or expired refresh token"))?;
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| ApiError::unauthorized("invalid refresh token"))?;
    let user = state
        .db
        .read(move |s| s.user(id))
        .await?
        .ok_or_else(|| ApiError::unauthorized("the token's user no longer exists"))?;
    Ok(Json(issue(&state, &user)?))
}

/// Who am I.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// User name, or `token:<name>`.
    pub name: String,
    /// Role.
    pub role: String,
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, description = "no valid token")))]
pub async fn me(Extension(p): Extension<Principal>) -> Json<Me> {
    Json(Me {
        name: p.name,
        role: p.role.to_string(),
    })
}
