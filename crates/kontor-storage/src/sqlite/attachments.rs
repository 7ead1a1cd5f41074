//! Attachment records: upload, attach to a message, read with the
//! conversation's permission, remove with the message.

use kontor_core::DomainError;
use kontor_core::ids::*;
use kontor_core::limits::MAX_ATTACHMENTS_PER_MESSAGE;
use kontor_core::model::*;
use kontor_core::policy::Action;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::conversations::authorized;
use super::writer::Unit;
use crate::rules::{QuotaOf, check_quota};
use crate::{NewAttachment, StoreResult};

const COLS: &str = "a.id, a.conversation_id, a.message_id, a.uploader_id, a.name, a.content_type, \
                    a.size, a.width, a.height, a.object_key, a.thumbnail_key, a.created_at";

fn row(r: &Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: AttachmentId(r.get(0)?),
        conversation_id: ConversationId(r.get(1)?),
        message_id: r.get::<_, Option<i64>>(2)?.map(MessageId),
        uploader_id: UserId(r.get(3)?),
        name: r.get(4)?,
        content_type: r.get(5)?,
        size: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
        width: r.get(7)?,
        height: r.get(8)?,
        object_key: r.get(9)?,
        thumbnail_key: r.get(10)?,
        created_at: Timestamp(r.get(11)?),
    })
}

fn load(conn: &Connection, id: AttachmentId) -> StoreResult<Option<Attachment>> {
    let sql = format!("SELECT {COLS} FROM attachments a WHERE a.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![id.0], row)
        .optional()?)
}

fn stored_bytes(conn: &Connection, column: &str, id: i64) -> StoreResult<u64> {
    let sql = format!("SELECT COALESCE(SUM(size), 0) FROM attachments WHERE {column} = ?1");
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params![id], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Whether the actor may upload into the conversation (checked before the
/// upload is streamed, and again when it is recorded).
pub fn check_upload(conn: &Connection, actor: &Actor, conv: ConversationId) -> StoreResult<()> {
    authorized(conn, actor, conv, Action::Read)
        .map_err(|_| DomainError::NotFound("conversation"))?;
    authorized(conn, actor, conv, Action::Post)?;
    Ok(())
}

/// Record a stored upload, within the quotas.
pub fn insert(
    unit: &Unit<'_>,
    actor: &Actor,
    new: &NewAttachment,
    now: Timestamp,
) -> StoreResult<Attachment> {
    check_upload(unit.conn, actor, new.conversation_id)?;
    if let Some(quota) = new.user_quota {
        let used = stored_bytes(unit.conn, "uploader_id", actor.user_id.0)?;
        check_quota(QuotaOf::Person, used, new.size, quota)?;
    }
    if let Some(quota) = new.org_quota {
        let used = stored_bytes(unit.conn, "org_id", actor.org_id.0)?;
        check_quota(QuotaOf::Organisation, used, new.size, quota)?;
    }
    unit.conn
        .prepare_cached(
            "INSERT INTO attachments (org_id, conversation_id, uploader_id, name, content_type, size, \
             width, height, object_key, thumbnail_key, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            actor.org_id.0,
            new.conversation_id.0,
            actor.user_id.0,
            new.name,
            new.content_type,
            i64::try_from(new.size).unwrap_or(i64::MAX),
            new.width,
            new.height,
            new.object_key,
            new.thumbnail_key,
            now.0
        ])?;
    let id = AttachmentId(unit.conn.last_insert_rowid());
    crate::sqlite::rows::required(load(unit.conn, id)?, "attachment")
}

/// An attachment the actor may read: a member's once attached, only the
/// uploader's before. Anything else is "not found".
pub fn readable(conn: &Connection, actor: &Actor, id: AttachmentId) -> StoreResult<Attachment> {
    let not_found = || DomainError::NotFound("attachment");
    let a = load(conn, id)?.ok_or_else(not_found)?;
    if a.message_id.is_none() && a.uploader_id != actor.user_id {
        return Err(not_found().into());
    }
    authorized(conn, actor, a.conversation_id, Action::Read).map_err(|_| not_found())?;
    Ok(a)
}

/// Attach the sender's pending uploads to a new message.
pub fn attach(
    unit: &Unit<'_>,
    actor: &Actor,
    conv: ConversationId,
    message: MessageId,
    ids: &[AttachmentId],
) -> StoreResult<Vec<Attachment>> {
    if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(DomainError::LimitExceeded(format!(
            "a message may carry at most {MAX_ATTACHMENTS_PER_MESSAGE} files"
        ))
        .into());
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let a = load(unit.conn, *id)?
            .filter(|a| {
                a.uploader_id == actor.user_id
                    && a.conversation_id == conv
                    && a.message_id.is_none()
            })
            .ok_or(DomainError::NotFound("attachment"))?;
        unit.conn
            .prepare_cached("UPDATE attachments SET message_id = ?1 WHERE id = ?2")?
            .execute(params![message.0, id.0])?;
        out.push(Attachment {
            message_id: Some(message),
            ..a
        });
    }
    // In upload order, as every later read returns them.
    out.sort_by_key(|a| a.id);
    Ok(out)
}

/// Delete an upload that was never sent (the uploader changed their
/// mind); returns the blob keys to delete.
pub fn remove_pending(
    unit: &Unit<'_>,
    actor: &Actor,
    id: AttachmentId,
) -> StoreResult<Vec<String>> {
    let a = load(unit.conn, id)?
        .filter(|a| a.uploader_id == actor.user_id)
        .ok_or(DomainError::NotFound("attachment"))?;
    if a.message_id.is_some() {
        return Err(DomainError::Conflict(
            "the file belongs to a sent message; delete the message instead".into(),
        )
        .into());
    }
    unit.conn
        .prepare_cached("DELETE FROM attachments WHERE id = ?1")?
        .execute(params![id.0])?;
    Ok(std::iter::once(a.object_key)
        .chain(a.thumbnail_key)
        .collect())
}

/// A message's attachments, oldest first.
pub fn of_message(conn: &Connection, message: MessageId) -> StoreResult<Vec<Attachment>> {
    let sql = format!("SELECT {COLS} FROM attachments a WHERE a.message_id = ?1 ORDER BY a.id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![message.0], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Remove a message's attachments; returns the blob keys to delete once
/// the removal is committed.
pub fn remove_for_message(unit: &Unit<'_>, message: MessageId) -> StoreResult<Vec<String>> {
    let mut keys = Vec::new();
    for a in of_message(unit.conn, message)? {
        keys.push(a.object_key);
        keys.extend(a.thumbnail_key);
    }
    unit.conn
        .prepare_cached("DELETE FROM attachments WHERE message_id = ?1")?
        .execute(params![message.0])?;
    Ok(keys)
}

/// Delete up to `limit` uploads that no message took and that are older
/// than `before`; returns their blob keys.
pub fn sweep_pending(unit: &Unit<'_>, before: Timestamp, limit: usize) -> StoreResult<Vec<String>> {
    let mut stmt = unit.conn.prepare_cached(
        "DELETE FROM attachments WHERE id IN (
             SELECT id FROM attachments
             WHERE message_id IS NULL AND created_at < ?1
             ORDER BY created_at LIMIT ?2)
         RETURNING object_key, thumbnail_key",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![before.0, limit], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut keys = Vec::new();
    for row in rows {
        let (object, thumb) = row?;
        keys.push(object);
        keys.extend(thumb);
    }
    Ok(keys)
}

/// Those of `keys` that no attachment record names: blobs a crash left
/// behind between storing the content and recording it.
pub fn unreferenced(conn: &Connection, keys: &[String]) -> StoreResult<Vec<String>> {
    let mut by_object = conn.prepare_cached("SELECT 1 FROM attachments WHERE object_key = ?1")?;
    let mut out = Vec::new();
    for key in keys {
        let object = key.strip_suffix(".thumb").unwrap_or(key);
        if !by_object.exists(params![object])? {
            out.push(key.clone());
        }
    }
    Ok(out)
}
