//! Organisations, users and sessions.

use kontor_core::DomainError;
use kontor_core::event::Event;
use kontor_core::ids::*;
use kontor_core::model::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::rows::{self, SESSION_COLS, USER_COLS};
use super::unit::Unit;
use crate::{NewSession, NewUser, StoreResult, UserQuery};

fn org_row(r: &PgRow) -> StoreResult<Org> {
    Ok(Org {
        id: OrgId(r.try_get(0)?),
        name: r.try_get(1)?,
        created_at: Timestamp(r.try_get(2)?),
    })
}

/// Create an organisation; its name is unique. (A concurrent create of the
/// same name hits the UNIQUE constraint, the unit runs again and then
/// reports the conflict.)
pub async fn create_org(u: &mut Unit<'_>, name: &str, now: Timestamp) -> StoreResult<Org> {
    if org_by_name(u.conn(), name).await?.is_some() {
        return Err(DomainError::Conflict(format!("an organisation named {name:?} exists")).into());
    }
    let id: i64 =
        sqlx::query_scalar("INSERT INTO orgs (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now.0)
            .fetch_one(u.conn())
            .await?;
    Ok(Org {
        id: OrgId(id),
        name: name.to_owned(),
        created_at: now,
    })
}

pub async fn org_by_name(conn: &mut PgConnection, name: &str) -> StoreResult<Option<Org>> {
    sqlx::query("SELECT id, name, created_at FROM orgs WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| org_row(&r))
        .transpose()
}

pub async fn list_orgs(conn: &mut PgConnection) -> StoreResult<Vec<Org>> {
    sqlx::query("SELECT id, name, created_at FROM orgs ORDER BY id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(org_row)
        .collect()
}

async fn exists(conn: &mut PgConnection, sql: &'static str, value: &str) -> StoreResult<bool> {
    Ok(sqlx::query_scalar::<_, bool>(sql)
        .bind(value)
        .fetch_one(&mut *conn)
        .await?)
}

/// Create a user; username and email are unique across organisations. (A
/// concurrent create of the same name resolves as in [`create_org`].)
pub async fn create_user(u: &mut Unit<'_>, new: &NewUser, now: Timestamp) -> StoreResult<User> {
    let conn = u.conn();
    let org_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM orgs WHERE id = $1)")
        .bind(new.org_id.0)
        .fetch_one(&mut *conn)
        .await?;
    if !org_exists {
        return Err(DomainError::NotFound("organisation").into());
    }
    let taken = exists(
        conn,
        "SELECT EXISTS (SELECT 1 FROM users WHERE username = $1)",
        &new.username,
    )
    .await?;
    if taken {
        return Err(DomainError::Conflict(format!("username {:?} is taken", new.username)).into());
    }
    if let Some(email) = &new.email {
        let taken = exists(
            conn,
            "SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)",
            email,
        )
        .await?;
        if taken {
            return Err(DomainError::Conflict(format!("email {email:?} is in use")).into());
        }
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (org_id, username, email, display_name, org_role, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.org_id.0)
    .bind(&new.username)
    .bind(&new.email)
    .bind(&new.display_name)
    .bind(new.org_role.as_str())
    .bind(&new.password_hash)
    .bind(now.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(User {
        id: UserId(id),
        org_id: new.org_id,
        username: new.username.clone(),
        email: new.email.clone(),
        display_name: new.display_name.clone(),
        org_role: new.org_role,
        share_presence: false,
        created_at: now,
    })
}

/// The user whose username or email is `login`, with their password hash.
pub async fn user_by_login(
    conn: &mut PgConnection,
    login: &str,
) -> StoreResult<Option<(User, String)>> {
    let sql = format!(
        "SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.username = $1 OR u.email = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(login)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some((
            rows::user(&r)?,
            r.try_get::<String, _>(rows::USER_COL_COUNT)?,
        ))),
    }
}

pub async fn get_user(conn: &mut PgConnection, org: OrgId, id: UserId) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1 AND u.org_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .bind(org.0)
        .fetch_optional(&mut *conn)
        .await?;
    rows::required(row.map(|r| rows::user(&r)).transpose()?, "user")
}

/// A page of an organisation's users, optionally filtered by a substring of
/// display name, username or email.
///
/// Matches and orders exactly as SQLite does: SQLite's `lower()` and `LIKE`
/// fold ASCII letters only and compare bytes, and `ORDER BY` uses the
/// BINARY collation. `lower(x COLLATE "C")` folds ASCII only on
/// PostgreSQL too, and the "C" collation it carries into `LIKE` and
/// `ORDER BY` compares bytes, whatever the database's locale. (The pattern
/// is already lower-cased, so SQLite's ASCII-insensitive `LIKE` on a column
/// equals a case-sensitive `LIKE` on the column's ASCII-lowered value.)
pub async fn list_users(
    conn: &mut PgConnection,
    org: OrgId,
    q: &UserQuery,
) -> StoreResult<Vec<User>> {
    let pattern = q.search.as_deref().map(crate::rules::like_pattern);
    let sql = format!(
        "SELECT {USER_COLS} FROM users u WHERE u.org_id = $1 AND ($2::TEXT IS NULL \
         OR lower(u.display_name COLLATE \"C\") LIKE $2 ESCAPE '\\' \
         OR lower(u.username COLLATE \"C\") LIKE $2 ESCAPE '\\' \
         OR lower(u.email COLLATE \"C\") LIKE $2 ESCAPE '\\') \
         ORDER BY lower(u.display_name COLLATE \"C\"), u.id LIMIT $3 OFFSET $4"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org.0)
        .bind(pattern)
        .bind(i64::try_from(q.limit).unwrap_or(i64::MAX))
        .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(rows::user)
        .collect()
}

/// Users of `org` among `ids`, to check that members exist and belong there.
/// Like the SQLite version, an id listed twice counts twice.
pub async fn count_users_in_org(
    conn: &mut PgConnection,
    org: OrgId,
    ids: &[UserId],
) -> StoreResult<usize> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM unnest($1::BIGINT[]) AS l(id) \
         JOIN users u ON u.id = l.id AND u.org_id = $2",
    )
    .bind(ids)
    .bind(org.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// End a user's sessions (or just `only`), announcing each revocation, in
/// id order. The DELETE takes the rows' locks before any event is emitted,
/// so two units revoking the same session cannot both announce it: the
/// second deletes nothing.
async fn end_sessions(
    u: &mut Unit<'_>,
    user: UserId,
    only: Option<SessionId>,
    now: Timestamp,
) -> StoreResult<usize> {
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM sessions WHERE user_id = $1 AND ($2::BIGINT IS NULL OR id = $2) RETURNING id",
    )
    .bind(user.0)
    .bind(only.map(|s| s.0))
    .fetch_all(u.conn())
    .await?;
    ids.sort_unstable();
    for id in &ids {
        u.emit(
            Event::SessionRevoked {
                user_id: user,
                session_id: SessionId(*id),
            },
            now,
        )
        .await?;
    }
    Ok(ids.len())
}

/// Show or hide the user's presence; logs the change only when it is one.
/// The UPDATE locks the row first, so two units cannot both log a change.
pub async fn set_share_presence(
    u: &mut Unit<'_>,
    user: UserId,
    share: bool,
    now: Timestamp,
) -> StoreResult<User> {
    let changed =
        sqlx::query("UPDATE users SET share_presence = $1 WHERE id = $2 AND share_presence <> $1")
            .bind(share)
            .bind(user.0)
            .execute(u.conn())
            .await?
            .rows_affected();
    if changed > 0 {
        u.emit(
            Event::PresenceSharingChanged {
                user_id: user,
                share,
            },
            now,
        )
        .await?;
    }
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
    match sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user.0)
        .fetch_optional(u.conn())
        .await?
    {
        Some(r) => rows::user(&r),
        None => Err(DomainError::NotFound("user").into()),
    }
}

/// Change a user's password and end all their sessions.
pub async fn set_password(
    u: &mut Unit<'_>,
    user: UserId,
    hash: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user.0)
        .execute(u.conn())
        .await?
        .rows_affected();
    if n == 0 {
        return Err(DomainError::NotFound("user").into());
    }
    end_sessions(u, user, None, now).await?;
    Ok(())
}

pub async fn create_session(
    u: &mut Unit<'_>,
    new: &NewSession,
    now: Timestamp,
) -> StoreResult<Session> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sessions (user_id, token_hash, device_name, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(new.user_id.0)
    .bind(&new.token_hash[..])
    .bind(&new.device_name)
    .bind(now.0)
    .fetch_one(u.conn())
    .await?;
    Ok(Session {
        id: SessionId(id),
        user_id: new.user_id,
        device_name: new.device_name.clone(),
        created_at: now,
        last_seen_at: now,
    })
}

/// The session whose token hashes to `token_hash`, with its user.
pub async fn authenticate(
    conn: &mut PgConnection,
    token_hash: &[u8; 32],
) -> StoreResult<Option<(Session, User)>> {
    let sql = format!(
        "SELECT {SESSION_COLS}, {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&token_hash[..])
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some((rows::session(&r)?, rows::user_at(&r, 5)?))),
    }
}

/// Record that a session was used; never moves `last_seen_at` back.
pub async fn touch_session(u: &mut Unit<'_>, id: SessionId, now: Timestamp) -> StoreResult<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1")
        .bind(now.0)
        .bind(id.0)
        .execute(u.conn())
        .await?;
    Ok(())
}

/// A user's sessions, newest first.
pub async fn list_sessions(conn: &mut PgConnection, user: UserId) -> StoreResult<Vec<Session>> {
    let sql = format!(
        "SELECT {SESSION_COLS} FROM sessions s WHERE s.user_id = $1 ORDER BY s.created_at DESC, s.id DESC"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(rows::session)
        .collect()
}

/// End one of the user's sessions; another user's session is "not found".
pub async fn revoke_session(
    u: &mut Unit<'_>,
    user: UserId,
    id: SessionId,
    now: Timestamp,
) -> StoreResult<()> {
    if end_sessions(u, user, Some(id), now).await? == 0 {
        return Err(DomainError::NotFound("session").into());
    }
    Ok(())
}
