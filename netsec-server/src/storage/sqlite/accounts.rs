//! Users and API tokens in SQLite.

use netsec_core::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::super::{ApiToken, StoreError, User};
use crate::role::Role;

const USER_COLUMNS: &str = "id, username, role, created_us, last_login_us";
const TOKEN_COLUMNS: &str = "id, name, role, prefix, created_by, created_us, last_used_us";

fn role_of(text: &str) -> Result<Role, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Damaged(format!("role {text:?}")))
}

fn user_of(r: &Row<'_>) -> Result<User, StoreError> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        role: role_of(&r.get::<_, String>(2)?)?,
        created: Timestamp::from_micros(r.get(3)?),
        last_login: r.get::<_, Option<i64>>(4)?.map(Timestamp::from_micros),
    })
}

fn token_of(r: &Row<'_>) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        role: role_of(&r.get::<_, String>(2)?)?,
        prefix: r.get(3)?,
        created_by: r.get(4)?,
        created: Timestamp::from_micros(r.get(5)?),
        last_used: r.get::<_, Option<i64>>(6)?.map(Timestamp::from_micros),
    })
}

/// Every row of `sql` (no parameters), converted.
fn all<T>(
    conn: &Connection,
    sql: &str,
    convert: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(convert(row)?);
    }
    Ok(out)
}

pub(super) fn create_user(
    conn: &Connection,
    username: &str,
    role: Role,
    hash: &str,
    at: Timestamp,
) -> Result<User, StoreError> {
    let added = conn.execute(
        "INSERT OR IGNORE INTO users (username, role, password_hash, created_us)
         VALUES (?1, ?2, ?3, ?4)",
        params![username, role.as_str(), hash, at.as_micros()],
    )?;
    if added == 0 {
        return Err(StoreError::Conflict(format!(
            "username: {username:?} is taken"
        )));
    }
    Ok(User {
        id: conn.last_insert_rowid(),
        username: username.to_string(),
        role,
        created: at,
        last_login: None,
    })
}

pub(super) fn user_credentials(
    conn: &Connection,
    username: &str,
) -> Result<Option<(User, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?1"
    ))?;
    let mut rows = stmt.query([username])?;
    match rows.next()? {
        Some(r) => Ok(Some((user_of(r)?, r.get(5)?))),
        None => Ok(None),
    }
}

pub(super) fn user(conn: &Connection, id: i64) -> Result<Option<User>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(user_of).transpose()
}

pub(super) fn users(conn: &Connection) -> Result<Vec<User>, StoreError> {
    all(
        conn,
        &format!("SELECT {USER_COLUMNS} FROM users ORDER BY id"),
        user_of,
    )
}

pub(super) fn add_token(
    conn: &Connection,
    name: &str,
    role: Role,
    hash: &str,
    prefix: &str,
    created_by: &str,
    at: Timestamp,
) -> Result<ApiToken, StoreError> {
    conn.execute(
        "INSERT INTO api_tokens (name, role, secret_hash, prefix, created_by, created_us)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            name,
            role.as_str(),
            hash,
            prefix,
            created_by,
            at.as_micros()
        ],
    )?;
    Ok(ApiToken {
        id: conn.last_insert_rowid(),
        name: name.to_string(),
        role,
        prefix: prefix.to_string(),
        created_by: created_by.to_string(),
        created: at,
        last_used: None,
    })
}

pub(super) fn tokens(conn: &Connection) -> Result<Vec<ApiToken>, StoreError> {
    all(
        conn,
        &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id"),
        token_of,
    )
}

pub(super) fn use_token(
    conn: &Connection,
    hash: &str,
    at: Timestamp,
) -> Result<Option<ApiToken>, StoreError> {
    let id: Option<i64> = conn
        .query_row(
            "SELECT id FROM api_tokens WHERE secret_hash = ?1",
            [hash],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    conn.execute(
        "UPDATE api_tokens SET last_used_us = ?2 WHERE id = ?1",
        params![id, at.as_micros()],
    )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?1"
    ))?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(token_of).transpose()
}
