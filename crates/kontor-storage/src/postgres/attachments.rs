//! Attachment records: upload, attach to a message, read with the
//! conversation's permission, remove with the message.

use std::collections::HashSet;

use kontor_core::DomainError;
use kontor_core::ids::*;
use kontor_core::limits::MAX_ATTACHMENTS_PER_MESSAGE;
use kontor_core::model::*;
use kontor_core::policy::Action;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::conversations::{self, authorized};
use super::rows::{count, opt_count};
use super::unit::Unit;
use crate::rules::{QuotaOf, check_quota};
use crate::{NewAttachment, StoreResult};

const COLS: &str = "a.id, a.conversation_id, a.message_id, a.uploader_id, a.name, a.content_type, \
                    a.size, a.width, a.height, a.object_key, a.thumbnail_key, a.created_at";

fn row(r: &PgRow) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: AttachmentId(r.try_get(0)?),
        conversation_id: ConversationId(r.try_get(1)?),
        message_id: r.try_get::<Option<i64>, _>(2)?.map(MessageId),
        uploader_id: UserId(r.try_get(3)?),
        name: r.try_get(4)?,
        content_type: r.try_get(5)?,
        size: count(r, 6)?,
        width: opt_count(r, 7)?,
        height: opt_count(r, 8)?,
        object_key: r.try_get(9)?,
        thumbnail_key: r.try_get(10)?,
        created_at: Timestamp(r.try_get(11)?),
    })
}

/// One attachment; `FOR UPDATE` when `lock`, so a unit that decides from
/// its state (pending or sent) sees the committed state and keeps it.
async fn load(
    conn: &mut PgConnection,
    id: AttachmentId,
    lock: bool,
) -> StoreResult<Option<Attachment>> {
    let sql = format!(
        "SELECT {COLS} FROM attachments a WHERE a.id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| row(&r))
        .transpose()
}

/// Bytes stored by one uploader or one organisation; `column` is a
/// constant of this module, never input.
async fn stored_bytes(conn: &mut PgConnection, column: &str, id: i64) -> StoreResult<u64> {
    let sql = format!("SELECT COALESCE(SUM(size), 0)::BIGINT FROM attachments WHERE {column} = $1");
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Whether the actor may upload into the conversation (checked before the
/// upload is streamed, and again when it is recorded).
pub async fn check_upload(
    conn: &mut PgConnection,
    actor: &Actor,
    conv: ConversationId,
) -> StoreResult<()> {
    authorized(conn, actor, conv, Action::Read)
        .await
        .map_err(|_| DomainError::NotFound("conversation"))?;
    authorized(conn, actor, conv, Action::Post).await?;
    Ok(())
}

/// Record a stored upload, within the quotas.
///
/// Concurrent uploads must not both pass a quota that only one fits in, so
/// the sums are taken under row locks: the uploader's user row for the
/// user quota, the organisation's row for the organisation quota (taken
/// only when that quota is set). Both quotas are therefore exact. The
/// locks are `FOR NO KEY UPDATE`: they serialize uploads against each
/// other but not against the foreign-key checks (`FOR KEY SHARE`) of
/// other writes that reference the user or the organisation, such as a
/// send or a new user. Lock order: conversation, user, organisation.
pub async fn insert(
    u: &mut Unit<'_>,
    actor: &Actor,
    new: &NewAttachment,
    now: Timestamp,
) -> StoreResult<Attachment> {
    conversations::lock(u.conn(), new.conversation_id).await?;
    check_upload(u.conn(), actor, new.conversation_id).await?;
    if let Some(quota) = new.user_quota {
        sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE")
            .bind(actor.user_id.0)
            .execute(u.conn())
            .await?;
        let used = stored_bytes(u.conn(), "uploader_id", actor.user_id.0).await?;
        check_quota(QuotaOf::Person, used, new.size, quota)?;
    }
    if let Some(quota) = new.org_quota {
        sqlx::query("SELECT 1 FROM orgs WHERE id = $1 FOR NO KEY UPDATE")
            .bind(actor.org_id.0)
            .execute(u.conn())
            .await?;
        let used = stored_bytes(u.conn(), "org_id", actor.org_id.0).await?;
        check_quota(QuotaOf::Organisation, used, new.size, quota)?;
    }
    let sql = format!(
        "INSERT INTO attachments AS a (org_id, conversation_id, uploader_id, name, content_type, \
         size, width, height, object_key, thumbnail_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLS}"
    );
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(actor.org_id.0)
        .bind(new.conversation_id.0)
        .bind(actor.user_id.0)
        .bind(&new.name)
        .bind(&new.content_type)
        .bind(i64::try_from(new.size).unwrap_or(i64::MAX))
        .bind(new.width.map(i64::from))
        .bind(new.height.map(i64::from))
        .bind(&new.object_key)
        .bind(&new.thumbnail_key)
        .bind(now.0)
        .fetch_one(u.conn())
        .await?;
    row(&r)
}

/// An attachment the actor may read: a member's once attached, only the
/// uploader's before. Anything else is "not found".
pub async fn readable(
    conn: &mut PgConnection,
    actor: &Actor,
    id: AttachmentId,
) -> StoreResult<Attachment> {
    let not_found = || DomainError::NotFound("attachment");
    let a = load(conn, id, false).await?.ok_or_else(not_found)?;
    if a.message_id.is_none() && a.uploader_id != actor.user_id {
        return Err(not_found().into());
    }
    authorized(conn, actor, a.conversation_id, Action::Read)
        .await
        .map_err(|_| not_found())?;
    Ok(a)
}

/// Attach the sender's pending uploads to a new message. Each upload is
/// loaded `FOR UPDATE`, so one that a concurrent [`remove_pending`] or
/// [`sweep_pending`] is deleting is seen as gone ("not found").
pub async fn attach(
    u: &mut Unit<'_>,
    actor: &Actor,
    conv: ConversationId,
    message: MessageId,
    ids: &[AttachmentId],
) -> StoreResult<Vec<Attachment>> {
    conversations::lock(u.conn(), conv).await?;
    if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
        return Err(DomainError::LimitExceeded(format!(
            "a message may carry at most {MAX_ATTACHMENTS_PER_MESSAGE} files"
        ))
        .into());
    }
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let a = load(u.conn(), *id, true)
            .await?
            .filter(|a| {
                a.uploader_id == actor.user_id
                    && a.conversation_id == conv
                    && a.message_id.is_none()
            })
            .ok_or(DomainError::NotFound("attachment"))?;
        sqlx::query("UPDATE attachments SET message_id = $1 WHERE id = $2")
            .bind(message.0)
            .bind(id.0)
            .execute(u.conn())
            .await?;
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
///
/// The row is loaded `FOR UPDATE`: if a send is attaching it right now,
/// this waits for the send and then sees the file as sent, instead of
/// deleting a file the message already names.
pub async fn remove_pending(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: AttachmentId,
) -> StoreResult<Vec<String>> {
    let a = load(u.conn(), id, true)
        .await?
        .filter(|a| a.uploader_id == actor.user_id)
        .ok_or(DomainError::NotFound("attachment"))?;
    if a.message_id.is_some() {
        return Err(DomainError::Conflict(
            "the file belongs to a sent message; delete the message instead".into(),
        )
        .into());
    }
    sqlx::query("DELETE FROM attachments WHERE id = $1")
        .bind(id.0)
        .execute(u.conn())
        .await?;
    Ok(std::iter::once(a.object_key)
        .chain(a.thumbnail_key)
        .collect())
}

/// A message's attachments, oldest first.
pub async fn of_message(
    conn: &mut PgConnection,
    message: MessageId,
) -> StoreResult<Vec<Attachment>> {
    let sql = format!("SELECT {COLS} FROM attachments a WHERE a.message_id = $1 ORDER BY a.id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(message.0)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(row)
        .collect()
}

/// Remove a message's attachments; returns the blob keys to delete once
/// the removal is committed.
pub async fn remove_for_message(u: &mut Unit<'_>, message: MessageId) -> StoreResult<Vec<String>> {
    let mut keys = Vec::new();
    for a in of_message(u.conn(), message).await? {
        keys.push(a.object_key);
        keys.extend(a.thumbnail_key);
    }
    sqlx::query("DELETE FROM attachments WHERE message_id = $1")
        .bind(message.0)
        .execute(u.conn())
        .await?;
    Ok(keys)
}

/// Delete up to `limit` uploads that no message took and that are older
/// than `before`; returns their blob keys, in id order.
///
/// The outer `message_id IS NULL` is rechecked on the newest row version
/// when the DELETE waits for a concurrent send that is attaching one of
/// them, so a file that was just sent is kept (the sweep then deletes
/// fewer than `limit`; the next sweep catches up).
pub async fn sweep_pending(
    u: &mut Unit<'_>,
    before: Timestamp,
    limit: usize,
) -> StoreResult<Vec<String>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = sqlx::query(
        "DELETE FROM attachments WHERE id IN (
             SELECT id FROM attachments
             WHERE message_id IS NULL AND created_at < $1
             ORDER BY created_at, id LIMIT $2)
           AND message_id IS NULL
         RETURNING id, object_key, thumbnail_key",
    )
    .bind(before.0)
    .bind(limit)
    .fetch_all(u.conn())
    .await?;
    let mut deleted = Vec::with_capacity(rows.len());
    for r in &rows {
        deleted.push((
            r.try_get::<i64, _>(0)?,
            r.try_get::<String, _>(1)?,
            r.try_get::<Option<String>, _>(2)?,
        ));
    }
    deleted.sort_unstable_by_key(|d| d.0);
    let mut keys = Vec::new();
    for (_, object, thumb) in deleted {
        keys.push(object);
        keys.extend(thumb);
    }
    Ok(keys)
}

/// Those of `keys` that no attachment record names: blobs a crash left
/// behind between storing the content and recording it.
pub async fn unreferenced(conn: &mut PgConnection, keys: &[String]) -> StoreResult<Vec<String>> {
    let objects: Vec<&str> = keys
        .iter()
        .map(|k| k.strip_suffix(".thumb").unwrap_or(k))
        .collect();
    let known: HashSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT object_key FROM attachments WHERE object_key = ANY($1)",
    )
    .bind(&objects)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    Ok(keys
        .iter()
        .zip(&objects)
        .filter(|(_, object)| !known.contains(**object))
        .map(|(key, _)| key.clone())
        .collect())
}
