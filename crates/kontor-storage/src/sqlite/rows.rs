//! Mapping rows to domain types. Column lists live next to their mappers so
//! a query and its mapper cannot drift apart.

use kontor_core::ids::*;
use kontor_core::model::*;
use rusqlite::{Connection, Row, params};

use crate::{StoreError, StoreResult};

fn bad(what: &str, v: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {what} {v:?}").into(),
    )
}

/// How many columns [`USER_COLS`] names: where a query's next column starts.
pub const USER_COL_COUNT: usize = 8;

pub const USER_COLS: &str = "u.id, u.org_id, u.username, u.email, u.display_name, u.org_role, u.created_at, u.share_presence";

pub fn user(r: &Row<'_>) -> rusqlite::Result<User> {
    user_at(r, 0)
}

/// Map the user columns starting at column `o` (after a join).
pub fn user_at(r: &Row<'_>, o: usize) -> rusqlite::Result<User> {
    let role: String = r.get(o + 5)?;
    Ok(User {
        id: UserId(r.get(o)?),
        org_id: OrgId(r.get(o + 1)?),
        username: r.get(o + 2)?,
        email: r.get(o + 3)?,
        display_name: r.get(o + 4)?,
        org_role: OrgRole::parse(&role).ok_or_else(|| bad("org role", &role))?,
        created_at: Timestamp(r.get(o + 6)?),
        share_presence: r.get(o + 7)?,
    })
}

pub const SESSION_COLS: &str = "s.id, s.user_id, s.device_name, s.created_at, s.last_seen_at";

pub fn session(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId(r.get(0)?),
        user_id: UserId(r.get(1)?),
        device_name: r.get(2)?,
        created_at: Timestamp(r.get(3)?),
        last_seen_at: Timestamp(r.get(4)?),
    })
}

pub const CONV_COLS: &str = "c.id, c.org_id, c.kind, c.name, c.topic, c.is_public, c.announcement, \
    c.created_by, c.created_at, c.last_message_id, c.last_activity_at, c.member_count";

pub fn conversation(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    let kind: String = r.get(2)?;
    Ok(Conversation {
        id: ConversationId(r.get(0)?),
        org_id: OrgId(r.get(1)?),
        kind: ConversationKind::parse(&kind).ok_or_else(|| bad("conversation kind", &kind))?,
        name: r.get(3)?,
        topic: r.get(4)?,
        is_public: r.get(5)?,
        announcement: r.get(6)?,
        created_by: UserId(r.get(7)?),
        created_at: Timestamp(r.get(8)?),
        last_message_id: r.get::<_, Option<i64>>(9)?.map(MessageId),
        last_activity_at: Timestamp(r.get(10)?),
        member_count: r.get(11)?,
    })
}

pub fn role(s: &str) -> rusqlite::Result<MemberRole> {
    MemberRole::parse(s).ok_or_else(|| bad("member role", s))
}

pub const MESSAGE_COLS: &str = "m.id, m.conversation_id, m.sender_id, m.txn_id, m.thread_root_id, \
    m.body, m.mentions_channel, m.reply_count, m.last_reply_at, m.created_at, m.edited_at, m.deleted_at";

/// Map the message columns; mentions and reactions are filled by
/// [`load_message_extras`].
pub fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: MessageId(r.get(0)?),
        conversation_id: ConversationId(r.get(1)?),
        sender_id: UserId(r.get(2)?),
        txn_id: r.get(3)?,
        thread_root_id: r.get::<_, Option<i64>>(4)?.map(MessageId),
        text: r.get(5)?,
        mentions: Vec::new(),
        mentions_channel: r.get(6)?,
        reactions: Vec::new(),
        reply_count: r.get(7)?,
        last_reply_at: r.get::<_, Option<i64>>(8)?.map(Timestamp),
        created_at: Timestamp(r.get(9)?),
        edited_at: r.get::<_, Option<i64>>(10)?.map(Timestamp),
        deleted_at: r.get::<_, Option<i64>>(11)?.map(Timestamp),
        attachments: Vec::new(),
    })
}

/// Fill in a message's mentions and reactions.
pub fn load_message_extras(conn: &Connection, m: &mut Message) -> StoreResult<()> {
    if m.deleted_at.is_some() {
        return Ok(());
    }
    let mut stmt =
        conn.prepare_cached("SELECT user_id FROM mentions WHERE message_id = ?1 ORDER BY user_id")?;
    m.mentions = stmt
        .query_map(params![m.id.0], |r| Ok(UserId(r.get(0)?)))?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT emoji, user_id FROM reactions WHERE message_id = ?1 ORDER BY created_at, emoji",
    )?;
    let rows = stmt.query_map(params![m.id.0], |r| {
        Ok((r.get::<_, String>(0)?, UserId(r.get(1)?)))
    })?;
    for row in rows {
        let (emoji, user) = row?;
        match m.reactions.iter_mut().find(|x| x.emoji == emoji) {
            Some(x) => x.user_ids.push(user),
            None => m.reactions.push(Reaction {
                emoji,
                user_ids: vec![user],
            }),
        }
    }
    m.attachments = super::attachments::of_message(conn, m.id)?;
    Ok(())
}

/// Load one message with its extras.
pub fn load_message(conn: &Connection, id: MessageId) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLS} FROM messages m WHERE m.id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![id.0])?;
    match rows.next()? {
        None => Ok(None),
        Some(r) => {
            let mut m = message(r)?;
            load_message_extras(conn, &mut m)?;
            Ok(Some(m))
        }
    }
}

/// Turn "no rows" into a domain not-found.
pub fn required<T>(v: Option<T>, what: &'static str) -> StoreResult<T> {
    v.ok_or(StoreError::Domain(kontor_core::DomainError::NotFound(what)))
}
