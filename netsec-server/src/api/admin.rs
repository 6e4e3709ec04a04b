//! Users and API tokens (admin): `GET/POST /api/v1/users`, `DELETE /api/v1/users/{id}`,
//! `GET/POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use netsec_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ApiResult};
use super::filters::path_id;
use super::guard::{Principal, Via};
use super::params::JsonBody;
use super::state::AppState;
use crate::auth::{hash_password, new_api_token};
use crate::engine::now_us;
use crate::role::Role;
use crate::storage::{ApiToken, User};

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// A user to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name: 1–64 of letters, digits, `.`, `_`, `-`.
    pub username: String,
    /// At least 12 characters.
    pub password: String,
    /// `admin`, `analyst` or `viewer`.
    pub role: String,
}

/// Checks a user name.
///
/// # Errors
/// A 400 naming `username`.
pub fn check_username(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::field(
            "username",
            "1 to 64 letters, digits, '.', '_' or '-'",
        ))
    }
}

fn role_of(text: &str) -> ApiResult<Role> {
    text.parse::<Role>().map_err(|e| ApiError::field("role", e))
}

/// The users.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    /// Oldest first.
    pub users: Vec<User>,
}

/// List users.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = UserList)))]
pub async fn users(State(state): State<AppState>) -> ApiResult<Json<UserList>> {
    Ok(Json(UserList {
        users: state.db.read(|s| s.users()).await?,
    }))
}

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    request_body = NewUser, responses((status = 201, body = User), (status = 400), (status = 409)))]
pub async fn create_user(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    check_username(&body.username)?;
    let role = role_of(&body.role)?;
    let len = body.password.chars().count();
    if !(MIN_PASSWORD..=1024).contains(&len) {
        return Err(ApiError::field(
            "password",
            format!("{MIN_PASSWORD} to 1024 characters"),
        ));
    }
    let password = body.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let name = body.username;
    let user = state
        .db
        .change(move |s| s.create_user(&name, role, &hash, Timestamp::from_micros(now_us())))
        .await?;
    tracing::info!(user = %user.username, role = %user.role, "user created");
    Ok((StatusCode::CREATED, Json(user)))
}

/// Delete a user (not yourself, not the last admin).
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_user(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id)?;
    if who.via == Via::User(id) {
        return Err(ApiError::conflict("you cannot delete yourself"));
    }
    let users = state.db.read(|s| s.users()).await?;
    let target = users
        .iter()
        .find(|u| u.id == id)
        .ok_or_else(|| ApiError::not_found(format!("user {id}")))?;
    let admins = users.iter().filter(|u| u.role == Role::Admin).count();
    if target.role == Role::Admin && admins <= 1 {
        return Err(ApiError::conflict("the last admin cannot be deleted"));
    }
    state.db.change(move |s| s.delete_user(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A token to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What it is for (1–64 characters).
    pub name: String,
    /// `admin`, `analyst` or `viewer`.
    pub role: String,
}

/// A created token: the secret appears here once and never again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// The secret: `Authorization: Bearer <token>`.
    pub token: String,
    /// The stored record.
    pub info: ApiToken,
}

/// The tokens (never their secrets).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenList {
    /// Oldest first, with last use.
    pub tokens: Vec<ApiToken>,
}

/// List API tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = TokenList)))]
pub async fn tokens(State(state): State<AppState>) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList {
        tokens: state.db.read(|s| s.tokens()).await?,
    }))
}

/// Create an API token; the secret is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", security(("bearer" = [])),
    request_body = NewToken, responses((status = 201, body = CreatedToken), (status = 400)))]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    JsonBody(body): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let name = body.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(ApiError::field("name", "1 to 64 characters"));
    }
    let role = role_of(&body.role)?;
    let (secret, hash, prefix) = new_api_token();
    let info = state
        .db
        .change(move |s| {
            s.add_token(
                &name,
                role,
                &hash,
                &prefix,
                &who.name,
                Timestamp::from_micros(now_us()),
            )
        })
        .await?;
    tracing::info!(token = %info.name, role = %info.role, "API token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: secret,
            info,
        }),
    ))
}

/// Revoke an API token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404)))]
pub async fn delete_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = path_id(&id)?;
    if state.db.change(move |s| s.delete_token(id)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("token {id}")))
    }
}
