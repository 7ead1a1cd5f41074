//! Messages, threads, reactions and read positions.

use kontor_core::DomainError;
use kontor_core::event::Event;
use kontor_core::ids::*;
use kontor_core::model::*;
use kontor_core::policy::Action;
use rusqlite::{Connection, OptionalExtension, params};

use super::conversations::{authorized, role_of};
use super::rows::{self, MESSAGE_COLS};
use super::writer::Unit;
use super::{attachments, search};
use crate::rules;
use crate::search::Terms;
use crate::{
    HistoryCursor, HistoryPage, HistoryQuery, MessageEdit, NewMessage, SendOutcome, StoreResult,
};

/// A message the actor may read, with the facts needed to act on it.
fn readable(
    conn: &Connection,
    actor: &Actor,
    id: MessageId,
    action: impl FnOnce(&Message) -> Action,
) -> StoreResult<Message> {
    let Some(message) = rows::load_message(conn, id)? else {
        return Err(DomainError::NotFound("message").into());
    };
    let action = action(&message);
    authorized(conn, actor, message.conversation_id, Action::Read)
        .map_err(|_| DomainError::NotFound("message"))?;
    authorized(conn, actor, message.conversation_id, action)?;
    Ok(message)
}

fn keep_members(
    conn: &Connection,
    conv: ConversationId,
    users: &[UserId],
) -> StoreResult<Vec<UserId>> {
    let mut out = Vec::new();
    for u in users {
        if !out.contains(u) && role_of(conn, conv, *u)?.is_some() {
            out.push(*u);
        }
    }
    Ok(out)
}

/// Replace a message's mentions. A new message has none to delete, so it
/// skips that lookup (`replace = false`): the send path is the hot one.
fn write_mentions(
    unit: &Unit<'_>,
    id: MessageId,
    users: &[UserId],
    replace: bool,
) -> StoreResult<()> {
    if replace {
        unit.conn
            .prepare_cached("DELETE FROM mentions WHERE message_id = ?1")?
            .execute(params![id.0])?;
    }
    if users.is_empty() {
        return Ok(());
    }
    let mut stmt = unit
        .conn
        .prepare_cached("INSERT INTO mentions (message_id, user_id) VALUES (?1, ?2)")?;
    for u in users {
        stmt.execute(params![id.0, u.0])?;
    }
    Ok(())
}

fn by_txn(conn: &Connection, sender: UserId, txn: &str) -> StoreResult<Option<MessageId>> {
    Ok(conn
        .prepare_cached("SELECT id FROM messages WHERE sender_id = ?1 AND txn_id = ?2")?
        .query_row(params![sender.0, txn], |r| Ok(MessageId(r.get(0)?)))
        .optional()?)
}

/// Post a message, idempotently per (sender, txn_id): a retry gets the
/// first message with `created = false`, once the same permission check as
/// for a fresh send passed ([`rules::replay_send`]).
pub fn send(
    unit: &mut Unit<'_>,
    actor: &Actor,
    new: &NewMessage,
    terms: &Terms,
    now: Timestamp,
) -> StoreResult<SendOutcome> {
    let conv_id = new.conversation_id;
    let may_post = authorized(unit.conn, actor, conv_id, Action::Post);
    let earlier = match by_txn(unit.conn, actor.user_id, &new.txn_id)? {
        Some(id) => Some(rows::required(
            rows::load_message(unit.conn, id)?,
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
            let root_msg = rows::load_message(unit.conn, root)?
                .filter(|m| m.conversation_id == conv_id)
                .ok_or(DomainError::NotFound("thread root message"))?;
            // Replies to replies join the root's thread: threads are one level deep.
            Some(root_msg.thread_root_id.unwrap_or(root_msg.id))
        }
    };
    let mentions = keep_members(unit.conn, conv_id, &new.mentions)?;
    unit.conn
        .prepare_cached(
            "INSERT INTO messages (conversation_id, sender_id, txn_id, thread_root_id, body, \
             mentions_channel, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            conv_id.0,
            actor.user_id.0,
            new.txn_id,
            thread_root_id.map(|r| r.0),
            new.text,
            new.mentions_channel,
            now.0
        ])?;
    let id = MessageId(unit.conn.last_insert_rowid());
    write_mentions(unit, id, &mentions, false)?;
    search::index(unit.conn, id, conv_id, terms)?;
    let attachments = if new.attachment_ids.is_empty() {
        Vec::new()
    } else {
        attachments::attach(unit, actor, conv_id, id, &new.attachment_ids)?
    };
    if let Some(root) = thread_root_id {
        unit.conn
            .prepare_cached(
                "UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ?1 WHERE id = ?2",
            )?
            .execute(params![now.0, root.0])?;
    }
    unit.conn
        .prepare_cached(
            "UPDATE conversations SET last_message_id = ?1, last_activity_at = ?2 WHERE id = ?3",
        )?
        .execute(params![id.0, now.0, conv_id.0])?;
    // The sender has read what they wrote.
    unit.conn
        .prepare_cached(
            "UPDATE members SET last_read_message_id = ?1 WHERE conversation_id = ?2 AND user_id = ?3",
        )?
        .execute(params![id.0, conv_id.0, actor.user_id.0])?;
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
    unit.emit(
        Event::MessageCreated {
            message: message.clone(),
        },
        now,
    )?;
    Ok(SendOutcome {
        message,
        created: true,
    })
}

/// Rewrite the logged events that carry this message's content so the log
/// holds only what the message says now (or nothing, once deleted).
fn scrub_log(unit: &Unit<'_>, current: &Message) -> StoreResult<()> {
    let logged: Vec<(i64, String)> = {
        let mut stmt = unit.conn.prepare_cached(
            "SELECT seq, kind FROM events WHERE content_message_id = ?1 \
                 AND kind IN ('message_created', 'message_edited')",
        )?;
        stmt.query_map(params![current.id.0], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    for (seq, kind) in logged {
        let event = if kind == "message_created" {
            Event::MessageCreated {
                message: current.clone(),
            }
        } else {
            Event::MessageEdited {
                message: current.clone(),
            }
        };
        unit.rewrite_event(EventSeq(seq), &event)?;
    }
    Ok(())
}

pub fn edit(
    unit: &mut Unit<'_>,
    actor: &Actor,
    id: MessageId,
    edit: &MessageEdit,
    terms: &Terms,
    now: Timestamp,
) -> StoreResult<Message> {
    let mut message = readable(unit.conn, actor, id, |m| Action::EditMessage {
        author: m.sender_id,
    })?;
    if message.deleted_at.is_some() {
        return Err(DomainError::Conflict("the message was deleted".into()).into());
    }
    let mentions = keep_members(unit.conn, message.conversation_id, &edit.mentions)?;
    unit.conn
        .prepare_cached(
            "UPDATE messages SET body = ?1, mentions_channel = ?2, edited_at = ?3 WHERE id = ?4",
        )?
        .execute(params![edit.text, edit.mentions_channel, now.0, id.0])?;
    write_mentions(unit, id, &mentions, true)?;
    search::unindex(unit.conn, id)?;
    search::index(unit.conn, id, message.conversation_id, terms)?;
    message.text = Some(edit.text.clone());
    message.mentions = mentions;
    message.mentions_channel = edit.mentions_channel;
    message.edited_at = Some(now);
    scrub_log(unit, &message)?;
    unit.emit(
        Event::MessageEdited {
            message: message.clone(),
        },
        now,
    )?;
    Ok(message)
}

pub fn delete(
    unit: &mut Unit<'_>,
    actor: &Actor,
    id: MessageId,
    now: Timestamp,
) -> StoreResult<Vec<String>> {
    let mut message = readable(unit.conn, actor, id, |m| Action::DeleteMessage {
        author: m.sender_id,
    })?;
    if message.deleted_at.is_some() {
        return Ok(Vec::new());
    }
    search::unindex(unit.conn, id)?;
    let blob_keys = attachments::remove_for_message(unit, id)?;
    unit.conn
        .prepare_cached(
            "UPDATE messages SET body = NULL, mentions_channel = 0, deleted_at = ?1 WHERE id = ?2",
        )?
        .execute(params![now.0, id.0])?;
    unit.conn
        .prepare_cached("DELETE FROM mentions WHERE message_id = ?1")?
        .execute(params![id.0])?;
    unit.conn
        .prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?
        .execute(params![id.0])?;
    if let Some(root) = message.thread_root_id {
        unit.conn
            .prepare_cached(
                "UPDATE messages SET reply_count = MAX(reply_count - 1, 0) WHERE id = ?1",
            )?
            .execute(params![root.0])?;
    }
    message.text = None;
    message.mentions.clear();
    message.mentions_channel = false;
    message.reactions.clear();
    message.attachments.clear();
    message.deleted_at = Some(now);
    scrub_log(unit, &message)?;
    let deleted = Event::MessageDeleted {
        conversation_id: message.conversation_id,
        message_id: id,
        thread_root_id: message.thread_root_id,
    };
    // Who reacted how to a deleted message is gone too: its logged reaction
    // events become repeats of the deletion, which clients apply as no-ops.
    // Rewritten, not removed, so no position is ever reused.
    let reaction_events: Vec<i64> = {
        let mut stmt = unit.conn.prepare_cached(
            "SELECT seq FROM events WHERE content_message_id = ?1 AND kind = 'reaction_changed'",
        )?;
        stmt.query_map(params![id.0], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for seq in reaction_events {
        unit.rewrite_event(EventSeq(seq), &deleted)?;
    }
    unit.emit(deleted, now)?;
    Ok(blob_keys)
}

pub fn set_reaction(
    unit: &mut Unit<'_>,
    actor: &Actor,
    id: MessageId,
    emoji: &str,
    add: bool,
    now: Timestamp,
) -> StoreResult<()> {
    let message = readable(unit.conn, actor, id, |_| Action::React)?;
    if !crate::rules::reaction_changes(&message, actor.user_id, emoji, add)? {
        return Ok(());
    }
    if add {
        unit.conn
            .prepare_cached("INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![id.0, actor.user_id.0, emoji, now.0])?;
    } else {
        unit.conn
            .prepare_cached(
                "DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3",
            )?
            .execute(params![id.0, actor.user_id.0, emoji])?;
    }
    unit.emit(
        Event::ReactionChanged {
            conversation_id: message.conversation_id,
            message_id: id,
            user_id: actor.user_id,
            emoji: emoji.to_owned(),
            added: add,
        },
        now,
    )?;
    Ok(())
}

pub fn get(conn: &Connection, actor: &Actor, id: MessageId) -> StoreResult<Message> {
    readable(conn, actor, id, |_| Action::Read)
}

pub fn history(
    conn: &Connection,
    actor: &Actor,
    conv: ConversationId,
    q: &HistoryQuery,
) -> StoreResult<HistoryPage> {
    authorized(conn, actor, conv, Action::Read)?;
    if let Some(root) = q.thread_root {
        let in_conv = rows::load_message(conn, root)?
            .is_some_and(|m| m.conversation_id == conv && m.thread_root_id.is_none());
        if !in_conv {
            return Err(DomainError::NotFound("thread root message").into());
        }
    }
    let scope = if q.thread_root.is_some() {
        "m.thread_root_id = ?2"
    } else {
        "(m.thread_root_id IS NULL AND ?2 IS NULL)"
    };
    let (bound, order) = match q.cursor {
        HistoryCursor::Latest => ("", "DESC"),
        HistoryCursor::Before(_) => ("AND m.id < ?3", "DESC"),
        HistoryCursor::After(_) => ("AND m.id > ?3", "ASC"),
    };
    let cursor = match q.cursor {
        HistoryCursor::Latest => 0,
        HistoryCursor::Before(m) | HistoryCursor::After(m) => m.0,
    };
    let sql = format!(
        "SELECT {MESSAGE_COLS} FROM messages m WHERE m.conversation_id = ?1 AND {scope} {bound} \
         AND ?3 IS NOT NULL ORDER BY m.id {order} LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut messages: Vec<Message> = stmt
        .query_map(
            params![
                conv.0,
                q.thread_root.map(|r| r.0),
                cursor,
                (q.limit + 1) as i64
            ],
            rows::message,
        )?
        .collect::<Result<_, _>>()?;
    let has_more = messages.len() > q.limit;
    messages.truncate(q.limit);
    if order == "DESC" {
        messages.reverse();
    }
    for m in &mut messages {
        rows::load_message_extras(conn, m)?;
    }
    Ok(HistoryPage { messages, has_more })
}

pub fn mark_read(
    unit: &mut Unit<'_>,
    actor: &Actor,
    conv: ConversationId,
    message: MessageId,
    now: Timestamp,
) -> StoreResult<()> {
    authorized(unit.conn, actor, conv, Action::Participate)?;
    let in_conv =
        rows::load_message(unit.conn, message)?.is_some_and(|m| m.conversation_id == conv);
    if !in_conv {
        return Err(DomainError::NotFound("message").into());
    }
    let moved = unit
        .conn
        .prepare_cached(
            "UPDATE members SET last_read_message_id = ?1 WHERE conversation_id = ?2 AND user_id = ?3 \
             AND (last_read_message_id IS NULL OR last_read_message_id < ?1)",
        )?
        .execute(params![message.0, conv.0, actor.user_id.0])?;
    if moved > 0 {
        unit.emit(
            Event::ReadPositionChanged {
                conversation_id: conv,
                user_id: actor.user_id,
                message_id: message,
            },
            now,
        )?;
    }
    Ok(())
}
