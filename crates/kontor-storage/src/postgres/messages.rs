//! Messages, threads and reactions (the reads of a timeline and read
//! positions are in `history.rs`).
//!
//! Every write on an existing message first finds the message's
//! conversation, locks that conversation row, and only then loads the
//! facts it decides from: two writes on one conversation (an edit and a
//! delete, two reactions, a reply and its root's deletion) run one after
//! the other, as they do behind SQLite's single writer.

use kontor_core::DomainError;
use kontor_core::event::Event;
use kontor_core::ids::*;
use kontor_core::model::*;
use kontor_core::policy::Action;
use sqlx::{PgConnection, Row};

use super::conversations::{self, authorized};
use super::rows;
use super::unit::Unit;
use super::{attachments, search};
use crate::rules;
use crate::search::Terms;
use crate::{MessageEdit, NewMessage, SendOutcome, StoreResult};

/// A message the actor may read, with the facts needed to act on it.
async fn readable(
    conn: &mut PgConnection,
    actor: &Actor,
    id: MessageId,
    action: impl FnOnce(&Message) -> Action,
) -> StoreResult<Message> {
    let Some(message) = rows::load_message(conn, id).await? else {
        return Err(DomainError::NotFound("message").into());
    };
    let action = action(&message);
    authorized(conn, actor, message.conversation_id, Action::Read)
        .await
        .map_err(|_| DomainError::NotFound("message"))?;
    authorized(conn, actor, message.conversation_id, action).await?;
    Ok(message)
}

/// [`readable`] for a write unit: locks the message's conversation first,
/// so the facts checked stay true until the unit commits.
async fn lock_readable(
    conn: &mut PgConnection,
    actor: &Actor,
    id: MessageId,
    action: impl FnOnce(&Message) -> Action,
) -> StoreResult<Message> {
    let conv: Option<i64> =
        sqlx::query_scalar("SELECT conversation_id FROM messages WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(conv) = conv else {
        return Err(DomainError::NotFound("message").into());
    };
    conversations::lock(conn, ConversationId(conv)).await?;
    readable(conn, actor, id, action).await
}

/// The members among `users`, in the order given, without repeats.
async fn keep_members(
    conn: &mut PgConnection,
    conv: ConversationId,
    users: &[UserId],
) -> StoreResult<Vec<UserId>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
    let members: Vec<i64> = sqlx::query_scalar(
        "SELECT user_id FROM members WHERE conversation_id = $1 AND user_id = ANY($2)",
    )
    .bind(conv.0)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for u in users {
        if !out.contains(u) && members.contains(&u.0) {
            out.push(*u);
        }
    }
    Ok(out)
}

/// Replace a message's mentions. A new message has none to delete, so it
/// skips that statement (`replace = false`): the send path is the hot one.
/// `users` holds no repeats (see [`keep_members`]).
async fn write_mentions(
    conn: &mut PgConnection,
    id: MessageId,
    users: &[UserId],
    replace: bool,
) -> StoreResult<()> {
    if replace {
        sqlx::query("DELETE FROM mentions WHERE message_id = $1")
            .bind(id.0)
            .execute(&mut *conn)
            .await?;
    }
    if users.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = users.iter().map(|u| u.0).collect();
    sqlx::query("INSERT INTO mentions (message_id, user_id) SELECT $1, UNNEST($2::BIGINT[])")
        .bind(id.0)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn by_txn(
    conn: &mut PgConnection,
    sender: UserId,
    txn: &str,
) -> StoreResult<Option<MessageId>> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM messages WHERE sender_id = $1 AND txn_id = $2")
            .bind(sender.0)
            .bind(txn)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(id.map(MessageId))
}

/// Post a message, idempotently per (sender, txn_id). Two concurrent sends
/// with one txn_id both miss the lookup; the second insert then hits the
/// unique key, the unit runs again, and the lookup returns the first
/// message with `created = false`, once the same permission check as for a
/// fresh send passed ([`rules::replay_send`]).
pub async fn send(
    u: &mut Unit<'_>,
    actor: &Actor,
    new: &NewMessage,
    terms: &Terms,
    now: Timestamp,
) -> StoreResult<SendOutcome> {
    let conv_id = new.conversation_id;
    conversations::lock(u.conn(), conv_id).await?;
    let may_post = authorized(u.conn(), actor, conv_id, Action::Post).await;
    let earlier = match by_txn(u.conn(), actor.user_id, &new.txn_id).await? {
        Some(id) => Some(rows::required(
            rows::load_message(u.conn(), id).await?,
            "message",
        )?),
        None => None,
    };
    if let Some(retry) = rules::replay_send(may_post, earlier, conv_id)? {
        return Ok(retry);
    }
    let thread_root_id = match new.thread_root_id {
        None => None,
        Some(root) => {
            let root_msg = rows::load_message(u.conn(), root)
                .await?
                .filter(|m| m.conversation_id == conv_id)
                .ok_or(DomainError::NotFound("thread root message"))?;
            // Replies to replies join the root's thread: threads are one level deep.
            Some(root_msg.thread_root_id.unwrap_or(root_msg.id))
        }
    };
    let mentions = keep_members(u.conn(), conv_id, &new.mentions).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, sender_id, txn_id, thread_root_id, body, \
         mentions_channel, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(conv_id.0)
    .bind(actor.user_id.0)
    .bind(&new.txn_id)
    .bind(thread_root_id.map(|r| r.0))
    .bind(&new.text)
    .bind(new.mentions_channel)
    .bind(now.0)
    .fetch_one(u.conn())
    .await?;
    let id = MessageId(id);
    write_mentions(u.conn(), id, &mentions, false).await?;
    search::index(u.conn(), id, conv_id, terms).await?;
    let attachments = if new.attachment_ids.is_empty() {
        Vec::new()
    } else {
        attachments::attach(u, actor, conv_id, id, &new.attachment_ids).await?
    };
    if let Some(root) = thread_root_id {
        sqlx::query(
            "UPDATE messages SET reply_count = reply_count + 1, last_reply_at = $1 WHERE id = $2",
        )
        .bind(now.0)
        .bind(root.0)
        .execute(u.conn())
        .await?;
    }
    sqlx::query(
        "UPDATE conversations SET last_message_id = $1, last_activity_at = $2 WHERE id = $3",
    )
    .bind(id.0)
    .bind(now.0)
    .bind(conv_id.0)
    .execute(u.conn())
    .await?;
    // The sender has read what they wrote.
    sqlx::query(
        "UPDATE members SET last_read_message_id = $1 WHERE conversation_id = $2 AND user_id = $3",
    )
    .bind(id.0)
    .bind(conv_id.0)
    .bind(actor.user_id.0)
    .execute(u.conn())
    .await?;
    let message = Message {
        id,
        conversation_id: conv_id,
        sender_id: actor.user_id,
        txn_id: new.txn_id.clone(),
        thread_root_id,
        text: Some(new.text.clone()),
        mentions,
        mentions_channel: new.mentions_channel,
        reactions: Vec::new(),
        reply_count: 0,
        last_reply_at: None,
        created_at: now,
        edited_at: None,
        deleted_at: None,
        attachments,
    };
    u.emit(
        Event::MessageCreated {
            message: message.clone(),
        },
        now,
    )
    .await?;
    Ok(SendOutcome {
        message,
        created: true,
    })
}

/// Rewrite the logged events that carry this message's content so the log
/// holds only what the message says now (or nothing, once deleted).
async fn scrub_log(u: &mut Unit<'_>, current: &Message) -> StoreResult<()> {
    let logged = sqlx::query(
        "SELECT seq, kind FROM events WHERE content_message_id = $1 \
         AND kind IN ('message_created', 'message_edited') ORDER BY seq",
    )
    .bind(current.id.0)
    .fetch_all(u.conn())
    .await?;
    for row in logged {
        let seq: i64 = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let event = if kind == "message_created" {
            Event::MessageCreated {
                message: current.clone(),
            }
        } else {
            Event::MessageEdited {
                message: current.clone(),
            }
        };
        u.rewrite_event(EventSeq(seq), &event).await?;
    }
    Ok(())
}

/// Replace a message's text and mentions (its author only, by policy).
pub async fn edit(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: MessageId,
    edit: &MessageEdit,
    terms: &Terms,
    now: Timestamp,
) -> StoreResult<Message> {
    let mut message = lock_readable(u.conn(), actor, id, |m| Action::EditMessage {
        author: m.sender_id,
    })
    .await?;
    if message.deleted_at.is_some() {
        return Err(DomainError::Conflict("the message was deleted".into()).into());
    }
    let mentions = keep_members(u.conn(), message.conversation_id, &edit.mentions).await?;
    sqlx::query(
        "UPDATE messages SET body = $1, mentions_channel = $2, edited_at = $3 WHERE id = $4",
    )
    .bind(&edit.text)
    .bind(edit.mentions_channel)
    .bind(now.0)
    .bind(id.0)
    .execute(u.conn())
    .await?;
    write_mentions(u.conn(), id, &mentions, true).await?;
    search::unindex(u.conn(), id).await?;
    search::index(u.conn(), id, message.conversation_id, terms).await?;
    message.text = Some(edit.text.clone());
    message.mentions = mentions;
    message.mentions_channel = edit.mentions_channel;
    message.edited_at = Some(now);
    scrub_log(u, &message).await?;
    u.emit(
        Event::MessageEdited {
            message: message.clone(),
        },
        now,
    )
    .await?;
    Ok(message)
}

/// Turn a message into a tombstone; returns the blob keys of its
/// attachments, to delete once this is committed. Deleting twice is a no-op.
pub async fn delete(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: MessageId,
    now: Timestamp,
) -> StoreResult<Vec<String>> {
    let mut message = lock_readable(u.conn(), actor, id, |m| Action::DeleteMessage {
        author: m.sender_id,
    })
    .await?;
    if message.deleted_at.is_some() {
        return Ok(Vec::new());
    }
    search::unindex(u.conn(), id).await?;
    let blob_keys = attachments::remove_for_message(u, id).await?;
    sqlx::query(
        "UPDATE messages SET body = NULL, mentions_channel = FALSE, deleted_at = $1 WHERE id = $2",
    )
    .bind(now.0)
    .bind(id.0)
    .execute(u.conn())
    .await?;
    sqlx::query("DELETE FROM mentions WHERE message_id = $1")
        .bind(id.0)
        .execute(u.conn())
        .await?;
    sqlx::query("DELETE FROM reactions WHERE message_id = $1")
        .bind(id.0)
        .execute(u.conn())
        .await?;
    if let Some(root) = message.thread_root_id {
        sqlx::query("UPDATE messages SET reply_count = GREATEST(reply_count - 1, 0) WHERE id = $1")
            .bind(root.0)
            .execute(u.conn())
            .await?;
    }
    message.text = None;
    message.mentions.clear();
    message.mentions_channel = false;
    message.reactions.clear();
    message.attachments.clear();
    message.deleted_at = Some(now);
    scrub_log(u, &message).await?;
    let deleted = Event::MessageDeleted {
        conversation_id: message.conversation_id,
        message_id: id,
        thread_root_id: message.thread_root_id,
    };
    // Who reacted how to a deleted message is gone too: its logged reaction
    // events become repeats of the deletion, which clients apply as no-ops.
    // Rewritten, not removed, so no position is ever reused.
    let reaction_events: Vec<i64> = sqlx::query_scalar(
        "SELECT seq FROM events WHERE content_message_id = $1 AND kind = 'reaction_changed' \
         ORDER BY seq",
    )
    .bind(id.0)
    .fetch_all(u.conn())
    .await?;
    for seq in reaction_events {
        u.rewrite_event(EventSeq(seq), &deleted).await?;
    }
    u.emit(deleted, now).await?;
    Ok(blob_keys)
}

/// Add or remove the actor's `emoji` reaction; a no-op when it is already
/// as asked.
pub async fn set_reaction(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: MessageId,
    emoji: &str,
    add: bool,
    now: Timestamp,
) -> StoreResult<()> {
    let message = lock_readable(u.conn(), actor, id, |_| Action::React).await?;
    if !crate::rules::reaction_changes(&message, actor.user_id, emoji, add)? {
        return Ok(());
    }
    if add {
        sqlx::query(
            "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.0)
        .bind(actor.user_id.0)
        .bind(emoji)
        .bind(now.0)
        .execute(u.conn())
        .await?;
    } else {
        sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
            .bind(id.0)
            .bind(actor.user_id.0)
            .bind(emoji)
            .execute(u.conn())
            .await?;
    }
    u.emit(
        Event::ReactionChanged {
            conversation_id: message.conversation_id,
            message_id: id,
            user_id: actor.user_id,
            emoji: emoji.to_owned(),
            added: add,
        },
        now,
    )
    .await?;
    Ok(())
}

/// One message the actor may read.
pub async fn get(conn: &mut PgConnection, actor: &Actor, id: MessageId) -> StoreResult<Message> {
    readable(conn, actor, id, |_| Action::Read).await
}
