//! Mapping PostgreSQL rows to domain types. The column lists are the
//! SQLite backend's (`sqlite/rows.rs`), so a query and its mapper read the
//! same on both; only the types differ (BOOLEAN, BIGINT).

use kontor_core::ids::*;
use kontor_core::model::*;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::{StoreError, StoreResult};

pub use crate::sqlite::rows::{
    CONV_COLS, MESSAGE_COLS, SESSION_COLS, USER_COL_COUNT, USER_COLS, required,
};

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::Internal(format!("unknown {what} {v:?} in the database"))
}

/// An `i64` column that holds a count or size, as the unsigned type the
/// domain uses (a negative value cannot be written by Kontor; read as 0).
pub fn count<T: TryFrom<i64> + Default>(r: &PgRow, col: usize) -> StoreResult<T> {
    Ok(T::try_from(r.try_get::<i64, _>(col)?).unwrap_or_default())
}

/// An optional `i64` column as a smaller unsigned type.
pub fn opt_count<T: TryFrom<i64>>(r: &PgRow, col: usize) -> StoreResult<Option<T>> {
    Ok(r.try_get::<Option<i64>, _>(col)?
        .and_then(|v| T::try_from(v).ok()))
}

/// Map the user columns starting at column `o` (after a join).
pub fn user_at(r: &PgRow, o: usize) -> StoreResult<User> {
    let role: String = r.try_get(o + 5)?;
    Ok(User {
        id: UserId(r.try_get(o)?),
        org_id: OrgId(r.try_get(o + 1)?),
        username: r.try_get(o + 2)?,
        email: r.try_get(o + 3)?,
        display_name: r.try_get(o + 4)?,
        org_role: OrgRole::parse(&role).ok_or_else(|| bad("org role", &role))?,
        created_at: Timestamp(r.try_get(o + 6)?),
        share_presence: r.try_get(o + 7)?,
    })
}

/// Map [`USER_COLS`].
pub fn user(r: &PgRow) -> StoreResult<User> {
    user_at(r, 0)
}

/// Map [`SESSION_COLS`].
pub fn session(r: &PgRow) -> StoreResult<Session> {
    Ok(Session {
        id: SessionId(r.try_get(0)?),
        user_id: UserId(r.try_get(1)?),
        device_name: r.try_get(2)?,
        created_at: Timestamp(r.try_get(3)?),
        last_seen_at: Timestamp(r.try_get(4)?),
    })
}

/// Map [`CONV_COLS`].
pub fn conversation(r: &PgRow) -> StoreResult<Conversation> {
    let kind: String = r.try_get(2)?;
    Ok(Conversation {
        id: ConversationId(r.try_get(0)?),
        org_id: OrgId(r.try_get(1)?),
        kind: ConversationKind::parse(&kind).ok_or_else(|| bad("conversation kind", &kind))?,
        name: r.try_get(3)?,
        topic: r.try_get(4)?,
        is_public: r.try_get(5)?,
        announcement: r.try_get(6)?,
        created_by: UserId(r.try_get(7)?),
        created_at: Timestamp(r.try_get(8)?),
        last_message_id: r.try_get::<Option<i64>, _>(9)?.map(MessageId),
        last_activity_at: Timestamp(r.try_get(10)?),
        member_count: count(r, 11)?,
    })
}

/// A stored member role.
pub fn role(s: &str) -> StoreResult<MemberRole> {
    MemberRole::parse(s).ok_or_else(|| bad("member role", s))
}

/// Map [`MESSAGE_COLS`]; mentions, reactions and attachments are filled by
/// [`load_message_extras`].
pub fn message(r: &PgRow) -> StoreResult<Message> {
    Ok(Message {
        id: MessageId(r.try_get(0)?),
        conversation_id: ConversationId(r.try_get(1)?),
        sender_id: UserId(r.try_get(2)?),
        txn_id: r.try_get(3)?,
        thread_root_id: r.try_get::<Option<i64>, _>(4)?.map(MessageId),
        text: r.try_get(5)?,
        mentions: Vec::new(),
        mentions_channel: r.try_get(6)?,
        reactions: Vec::new(),
        reply_count: count(r, 7)?,
        last_reply_at: r.try_get::<Option<i64>, _>(8)?.map(Timestamp),
        created_at: Timestamp(r.try_get(9)?),
        edited_at: r.try_get::<Option<i64>, _>(10)?.map(Timestamp),
        deleted_at: r.try_get::<Option<i64>, _>(11)?.map(Timestamp),
        attachments: Vec::new(),
    })
}

/// Fill in a message's mentions, reactions and attachments.
pub async fn load_message_extras(conn: &mut PgConnection, m: &mut Message) -> StoreResult<()> {
    if m.deleted_at.is_some() {
        return Ok(());
    }
    m.mentions = sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM mentions WHERE message_id = $1 ORDER BY user_id",
    )
    .bind(m.id.0)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(UserId)
    .collect();
    let rows = sqlx::query(
        "SELECT emoji, user_id FROM reactions WHERE message_id = $1 ORDER BY created_at, emoji",
    )
    .bind(m.id.0)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let emoji: String = row.try_get(0)?;
        let user = UserId(row.try_get(1)?);
        match m.reactions.iter_mut().find(|x| x.emoji == emoji) {
            Some(x) => x.user_ids.push(user),
            None => m.reactions.push(Reaction {
                emoji,
                user_ids: vec![user],
            }),
        }
    }
    m.attachments = super::attachments::of_message(conn, m.id).await?;
    Ok(())
}

/// Load one message with its extras.
pub async fn load_message(conn: &mut PgConnection, id: MessageId) -> StoreResult<Option<Message>> {
    let sql = format!("SELECT {MESSAGE_COLS} FROM messages m WHERE m.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => {
            let mut m = message(&r)?;
            load_message_extras(conn, &mut m).await?;
            Ok(Some(m))
        }
    }
}
