//! Organisations, users and sessions.

use kontor_core::DomainError;
use kontor_core::event::Event;
use kontor_core::ids::*;
use kontor_core::model::*;
use rusqlite::{Connection, OptionalExtension, params};

use super::rows::{self, SESSION_COLS, USER_COLS};
use super::writer::Unit;
use crate::{NewSession, NewUser, StoreResult, UserQuery};

fn org_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Org> {
    Ok(Org {
        id: OrgId(r.get(0)?),
        name: r.get(1)?,
        created_at: Timestamp(r.get(2)?),
    })
}

pub fn create_org(unit: &mut Unit<'_>, name: &str, now: Timestamp) -> StoreResult<Org> {
    if org_by_name(unit.conn, name)?.is_some() {
        return Err(DomainError::Conflict(format!("an organisation named {name:?} exists")).into());
    }
    unit.conn
        .prepare_cached("INSERT INTO orgs (name, created_at) VALUES (?1, ?2)")?
        .execute(params![name, now.0])?;
    Ok(Org {
        id: OrgId(unit.conn.last_insert_rowid()),
        name: name.to_owned(),
        created_at: now,
    })
}

pub fn org_by_name(conn: &Connection, name: &str) -> StoreResult<Option<Org>> {
    Ok(conn
        .prepare_cached("SELECT id, name, created_at FROM orgs WHERE name = ?1")?
        .query_row(params![name], org_row)
        .optional()?)
}

pub fn list_orgs(conn: &Connection) -> StoreResult<Vec<Org>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, created_at FROM orgs ORDER BY id")?;
    let orgs = stmt.query_map([], org_row)?.collect::<Result<_, _>>()?;
    Ok(orgs)
}

pub fn create_user(unit: &mut Unit<'_>, new: &NewUser, now: Timestamp) -> StoreResult<User> {
    let conn = unit.conn;
    let org_exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM orgs WHERE id = ?1)")?
        .query_row(params![new.org_id.0], |r| r.get(0))?;
    if !org_exists {
        return Err(DomainError::NotFound("organisation").into());
    }
    let taken: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE username = ?1)")?
        .query_row(params![new.username], |r| r.get(0))?;
    if taken {
        return Err(DomainError::Conflict(format!("username {:?} is taken", new.username)).into());
    }
    if let Some(email) = &new.email {
        let taken: bool = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE email = ?1)")?
            .query_row(params![email], |r| r.get(0))?;
        if taken {
            return Err(DomainError::Conflict(format!("email {email:?} is in use")).into());
        }
    }
    conn.prepare_cached(
        "INSERT INTO users (org_id, username, email, display_name, org_role, password_hash, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        new.org_id.0,
        new.username,
        new.email,
        new.display_name,
        new.org_role.as_str(),
        new.password_hash,
        now.0
    ])?;
    Ok(User {
        id: UserId(conn.last_insert_rowid()),
        org_id: new.org_id,
        username: new.username.clone(),
        email: new.email.clone(),
        display_name: new.display_name.clone(),
        org_role: new.org_role,
        share_presence: false,
        created_at: now,
    })
}

pub fn user_by_login(conn: &Connection, login: &str) -> StoreResult<Option<(User, String)>> {
    let sql = format!(
        "SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.username = ?1 OR u.email = ?1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![login], |r| {
            Ok((rows::user(r)?, r.get::<_, String>(rows::USER_COL_COUNT)?))
        })
        .optional()?)
}

pub fn get_user(conn: &Connection, org: OrgId, id: UserId) -> StoreResult<User> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1 AND u.org_id = ?2");
    let user = conn
        .prepare_cached(&sql)?
        .query_row(params![id.0, org.0], rows::user)
        .optional()?;
    rows::required(user, "user")
}

pub fn list_users(conn: &Connection, org: OrgId, q: &UserQuery) -> StoreResult<Vec<User>> {
    let pattern = q.search.as_deref().map(crate::rules::like_pattern);
    let sql = format!(
        "SELECT {USER_COLS} FROM users u WHERE u.org_id = ?1 AND (?2 IS NULL \
         OR lower(u.display_name) LIKE ?2 ESCAPE '\\' OR u.username LIKE ?2 ESCAPE '\\' \
         OR u.email LIKE ?2 ESCAPE '\\') ORDER BY lower(u.display_name), u.id LIMIT ?3 OFFSET ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let users = stmt
        .query_map(
            params![org.0, pattern, q.limit as i64, q.offset as i64],
            rows::user,
        )?
        .collect::<Result<_, _>>()?;
    Ok(users)
}

/// Users of `org` among `ids`, to check that members exist and belong there.
pub fn count_users_in_org(conn: &Connection, org: OrgId, ids: &[UserId]) -> StoreResult<usize> {
    let mut stmt =
        conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM users WHERE id = ?1 AND org_id = ?2)")?;
    let mut n = 0;
    for id in ids {
        if stmt.query_row(params![id.0, org.0], |r| r.get::<_, bool>(0))? {
            n += 1;
        }
    }
    Ok(n)
}

fn end_sessions(
    unit: &mut Unit<'_>,
    user: UserId,
    only: Option<SessionId>,
    now: Timestamp,
) -> StoreResult<usize> {
    let ids: Vec<SessionId> = {
        let mut stmt = unit.conn.prepare_cached(
            "SELECT id FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR id = ?2)",
        )?;
        stmt.query_map(params![user.0, only.map(|s| s.0)], |r| {
            Ok(SessionId(r.get(0)?))
        })?
        .collect::<Result<_, _>>()?
    };
    for id in &ids {
        unit.conn
            .prepare_cached("DELETE FROM sessions WHERE id = ?1")?
            .execute(params![id.0])?;
        unit.emit(
            Event::SessionRevoked {
                user_id: user,
                session_id: *id,
            },
            now,
        )?;
    }
    Ok(ids.len())
}

/// Show or hide the user's presence; logs the change only when it is one.
pub fn set_share_presence(
    unit: &mut Unit<'_>,
    user: UserId,
    share: bool,
    now: Timestamp,
) -> StoreResult<User> {
    let changed = unit
        .conn
        .prepare_cached(
            "UPDATE users SET share_presence = ?1 WHERE id = ?2 AND share_presence <> ?1",
        )?
        .execute(params![share, user.0])?;
    if changed > 0 {
        unit.emit(
            Event::PresenceSharingChanged {
                user_id: user,
                share,
            },
            now,
        )?;
    }
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = ?1");
    unit.conn
        .prepare_cached(&sql)?
        .query_row(params![user.0], rows::user)
        .optional()?
        .ok_or_else(|| DomainError::NotFound("user").into())
}

pub fn set_password(
    unit: &mut Unit<'_>,
    user: UserId,
    hash: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let n = unit
        .conn
        .prepare_cached("UPDATE users SET password_hash = ?1 WHERE id = ?2")?
        .execute(params![hash, user.0])?;
    if n == 0 {
        return Err(DomainError::NotFound("user").into());
    }
    end_sessions(unit, user, None, now)?;
    Ok(())
}

pub fn create_session(
    unit: &mut Unit<'_>,
    new: &NewSession,
    now: Timestamp,
) -> StoreResult<Session> {
    unit.conn
        .prepare_cached(
            "INSERT INTO sessions (user_id, token_hash, device_name, created_at, last_seen_at) \
             VALUES (?1, ?2, ?3, ?4, ?4)",
        )?
        .execute(params![
            new.user_id.0,
            &new.token_hash[..],
            new.device_name,
            now.0
        ])?;
    Ok(Session {
        id: SessionId(unit.conn.last_insert_rowid()),
        user_id: new.user_id,
        device_name: new.device_name.clone(),
        created_at: now,
        last_seen_at: now,
    })
}

pub fn authenticate(
    conn: &Connection,
    token_hash: &[u8; 32],
) -> StoreResult<Option<(Session, User)>> {
    let sql = format!(
        "SELECT {SESSION_COLS}, {USER_COLS} FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = ?1"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![&token_hash[..]], |r| {
            let s = rows::session(r)?;
            Ok((s, rows::user_at(r, 5)?))
        })
        .optional()?)
}

pub fn touch_session(unit: &mut Unit<'_>, id: SessionId, now: Timestamp) -> StoreResult<()> {
    unit.conn
        .prepare_cached(
            "UPDATE sessions SET last_seen_at = ?1 WHERE id = ?2 AND last_seen_at < ?1",
        )?
        .execute(params![now.0, id.0])?;
    Ok(())
}

pub fn list_sessions(conn: &Connection, user: UserId) -> StoreResult<Vec<Session>> {
    let sql = format!(
        "SELECT {SESSION_COLS} FROM sessions s WHERE s.user_id = ?1 ORDER BY s.created_at DESC, s.id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let sessions = stmt
        .query_map(params![user.0], rows::session)?
        .collect::<Result<_, _>>()?;
    Ok(sessions)
}

pub fn revoke_session(
    unit: &mut Unit<'_>,
    user: UserId,
    id: SessionId,
    now: Timestamp,
) -> StoreResult<()> {
    if end_sessions(unit, user, Some(id), now)? == 0 {
        return Err(DomainError::NotFound("session").into());
    }
    Ok(())
}
