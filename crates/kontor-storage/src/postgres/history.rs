//! Reading a conversation: pages of its timeline or of a thread, and the
//! reader's read position. Split from `messages.rs` (the writes on
//! messages) to keep modules short; SQLite keeps both in its `messages.rs`.

use kontor_core::DomainError;
use kontor_core::event::Event;
use kontor_core::ids::*;
use kontor_core::model::*;
use kontor_core::policy::Action;
use sqlx::PgConnection;

use super::conversations::{self, authorized};
use super::rows::{self, MESSAGE_COLS};
use super::unit::Unit;
use crate::{HistoryCursor, HistoryPage, HistoryQuery, StoreResult};

/// A page of a conversation's timeline (top-level messages) or of one
/// thread's replies, oldest first.
pub async fn history(
    conn: &mut PgConnection,
    actor: &Actor,
    conv: ConversationId,
    q: &HistoryQuery,
) -> StoreResult<HistoryPage> {
    authorized(conn, actor, conv, Action::Read).await?;
    if let Some(root) = q.thread_root {
        let in_conv = rows::load_message(conn, root)
            .await?
            .is_some_and(|m| m.conversation_id == conv && m.thread_root_id.is_none());
        if !in_conv {
            return Err(DomainError::NotFound("thread root message").into());
        }
    }
    // Placeholders are numbered as they are added, so only the parameters
    // a query uses are bound: $1 the conversation, then the thread root,
    // the cursor and the limit where present.
    let mut sql = format!("SELECT {MESSAGE_COLS} FROM messages m WHERE m.conversation_id = $1");
    let mut n = 1;
    if q.thread_root.is_some() {
        n += 1;
        sql.push_str(&format!(" AND m.thread_root_id = ${n}"));
    } else {
        sql.push_str(" AND m.thread_root_id IS NULL");
    }
    let (cursor, order) = match q.cursor {
        HistoryCursor::Latest => (None, "DESC"),
        HistoryCursor::Before(m) => (Some(("<", m)), "DESC"),
        HistoryCursor::After(m) => (Some((">", m)), "ASC"),
    };
    if let Some((op, _)) = cursor {
        n += 1;
        sql.push_str(&format!(" AND m.id {op} ${n}"));
    }
    n += 1;
    sql.push_str(&format!(" ORDER BY m.id {order} LIMIT ${n}"));
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(conv.0);
    if let Some(root) = q.thread_root {
        query = query.bind(root.0);
    }
    if let Some((_, m)) = cursor {
        query = query.bind(m.0);
    }
    let limit = i64::try_from(q.limit.saturating_add(1)).unwrap_or(i64::MAX);
    let found = query.bind(limit).fetch_all(&mut *conn).await?;
    let mut messages = found
        .iter()
        .map(rows::message)
        .collect::<StoreResult<Vec<Message>>>()?;
    let has_more = messages.len() > q.limit;
    messages.truncate(q.limit);
    if order == "DESC" {
        messages.reverse();
    }
    for m in &mut messages {
        rows::load_message_extras(conn, m).await?;
    }
    Ok(HistoryPage { messages, has_more })
}

/// Move the actor's read position forward to `message` (never back).
pub async fn mark_read(
    u: &mut Unit<'_>,
    actor: &Actor,
    conv: ConversationId,
    message: MessageId,
    now: Timestamp,
) -> StoreResult<()> {
    conversations::lock(u.conn(), conv).await?;
    authorized(u.conn(), actor, conv, Action::Participate).await?;
    // Only the conversation is needed, not the mentions and reactions.
    let in_conv: Option<i64> =
        sqlx::query_scalar("SELECT conversation_id FROM messages WHERE id = $1")
            .bind(message.0)
            .fetch_optional(u.conn())
            .await?;
    if in_conv != Some(conv.0) {
        return Err(DomainError::NotFound("message").into());
    }
    let moved = sqlx::query(
        "UPDATE members SET last_read_message_id = $1 WHERE conversation_id = $2 AND user_id = $3 \
         AND (last_read_message_id IS NULL OR last_read_message_id < $1)",
    )
    .bind(message.0)
    .bind(conv.0)
    .bind(actor.user_id.0)
    .execute(u.conn())
    .await?
    .rows_affected();
    if moved > 0 {
        u.emit(
            Event::ReadPositionChanged {
                conversation_id: conv,
                user_id: actor.user_id,
                message_id: message,
            },
            now,
        )
        .await?;
    }
    Ok(())
}
