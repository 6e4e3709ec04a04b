//! Users and API tokens as the store keeps them (hashes only, never a secret).

use serde::Serialize;

use netsec_core::time::Timestamp;

use crate::role::Role;

/// A user of the API (`GET /api/v1/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    /// Its id.
    pub id: i64,
    /// Its login name.
    pub username: String,
    /// What it may do.
    #[schema(value_type = String, example = "analyst")]
    pub role: Role,
    /// When it was created (µs since the epoch).
    #[schema(value_type = i64)]
    pub created: Timestamp,
    /// Its last successful login.
    #[schema(value_type = Option<i64>)]
    pub last_login: Option<Timestamp>,
}

/// A long-lived API token for a machine (`GET /api/v1/tokens`). The secret is shown once at
/// creation; the store keeps its SHA-256 only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    /// Its id.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// What it may do.
    #[schema(value_type = String, example = "viewer")]
    pub role: Role,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    #[schema(value_type = i64)]
    pub created: Timestamp,
    /// Its last use.
    #[schema(value_type = Option<i64>)]
    pub last_used: Option<Timestamp>,
}
