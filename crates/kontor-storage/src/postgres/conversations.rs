//! Conversations and their members.
//!
//! Every write on an existing conversation first takes its row lock
//! ([`lock`]), so membership, roles and settings cannot change under a
//! decision made from them; events are appended only after that lock.

use std::collections::HashMap;

use kontor_core::event::Event;
use kontor_core::ids::*;
use kontor_core::limits::{MAX_CONVERSATIONS_PER_USER, MAX_GROUP_MEMBERS};
use kontor_core::model::*;
use kontor_core::policy::{Action, authorize};
use sqlx::{PgConnection, Row};

use super::members::{check_users, group_too_large, insert_member};
use super::rows::{self, CONV_COLS, MESSAGE_COLS};
use super::unit::Unit;
use crate::rules;
use crate::{NewConversation, SettingsChange, StoreResult};

/// Take the conversation's row lock for the rest of the transaction, so
/// concurrent writes on one conversation run one after the other. Always
/// taken before any event is appended (lock order: conversation, then the
/// event head). An unknown id locks nothing; the authorization that
/// follows reports it.
pub async fn lock(conn: &mut PgConnection, id: ConversationId) -> StoreResult<()> {
    sqlx::query("SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(())
}

/// The conversation row alone, without any permission check: for callers
/// that have already authorized (or that report "not found" themselves).
pub async fn load(
    conn: &mut PgConnection,
    id: ConversationId,
) -> StoreResult<Option<Conversation>> {
    let sql = format!("SELECT {CONV_COLS} FROM conversations c WHERE c.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(rows::conversation).transpose()
}

/// The user's role in the conversation; `None` when not a member.
pub async fn role_of(
    conn: &mut PgConnection,
    id: ConversationId,
    user: UserId,
) -> StoreResult<Option<MemberRole>> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM members WHERE conversation_id = $1 AND user_id = $2")
            .bind(id.0)
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await?;
    role.map(|r| rows::role(&r)).transpose()
}

/// Load a conversation and the actor's role, and check `action` against
/// the policy. Unknown conversations and forbidden reads look alike.
/// (One query: the conversation with the actor's membership row, if any.)
pub async fn authorized(
    conn: &mut PgConnection,
    actor: &Actor,
    id: ConversationId,
    action: Action,
) -> StoreResult<(Conversation, Option<MemberRole>)> {
    let sql = format!(
        "SELECT {CONV_COLS}, mb.role FROM conversations c \
         LEFT JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = $2 WHERE c.id = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .bind(actor.user_id.0)
        .fetch_optional(&mut *conn)
        .await?;
    let row = rows::required(row, "conversation")?;
    let conv = rows::conversation(&row)?;
    let role = row
        .try_get::<Option<String>, _>(12)?
        .map(|r| rows::role(&r))
        .transpose()?;
    authorize(actor, &conv.facts(), role, action)?;
    Ok((conv, role))
}

/// Create a conversation; `false` with an existing direct conversation of
/// the same pair. Two creates of one pair may race: the loser's INSERT hits
/// the `direct_key` unique index, the unit runs again and finds the
/// winner's conversation here.
pub async fn create(
    u: &mut Unit<'_>,
    actor: &Actor,
    new: &NewConversation,
    now: Timestamp,
) -> StoreResult<(Conversation, bool)> {
    let others = rules::other_members(actor, &new.member_ids)?;
    check_users(u.conn(), actor.org_id, &others).await?;
    let direct_key = match new.kind {
        ConversationKind::Direct => {
            let key = rules::direct_pair_key(actor, &others)?;
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM conversations WHERE direct_key = $1")
                    .bind(&key)
                    .fetch_optional(u.conn())
                    .await?;
            if let Some(id) = existing {
                let conv =
                    rows::required(load(u.conn(), ConversationId(id)).await?, "conversation")?;
                return Ok((conv, false));
            }
            Some(key)
        }
        ConversationKind::Group if others.len() + 1 > MAX_GROUP_MEMBERS => {
            return Err(group_too_large());
        }
        _ => None,
    };
    let is_channel = new.kind == ConversationKind::Channel;
    let sql = format!(
        "INSERT INTO conversations AS c (org_id, kind, name, topic, is_public, announcement, \
         direct_key, created_by, created_at, last_activity_at, member_count) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING {CONV_COLS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(actor.org_id.0)
        .bind(new.kind.as_str())
        .bind(new.name.as_deref())
        .bind(new.topic.as_str())
        .bind(is_channel && new.is_public)
        .bind(is_channel && new.announcement)
        .bind(direct_key)
        .bind(actor.user_id.0)
        .bind(now.0)
        .bind(i64::try_from(others.len() + 1).unwrap_or(i64::MAX))
        .fetch_one(u.conn())
        .await?;
    let conv = rows::conversation(&row)?;
    let id = conv.id;
    let mut member_ids = vec![actor.user_id];
    member_ids.extend(&others);
    let seq = u
        .emit(
            Event::ConversationCreated {
                conversation: conv.clone(),
                member_ids,
            },
            now,
        )
        .await?;
    let creator_role = match new.kind {
        ConversationKind::Direct => MemberRole::Member,
        _ => MemberRole::Owner,
    };
    insert_member(u, id, actor.user_id, creator_role, seq, now).await?;
    for user in &others {
        insert_member(u, id, *user, MemberRole::Member, seq, now).await?;
    }
    Ok((conv, true))
}

/// Change name, topic or announcement mode, as the policy allows the
/// actor, and tell the members with one event.
pub async fn update(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    change: &SettingsChange,
    now: Timestamp,
) -> StoreResult<Conversation> {
    lock(u.conn(), id).await?;
    let (conv, role) = authorized(u.conn(), actor, id, Action::UpdateSettings).await?;
    if change.announcement.is_some() {
        authorize(actor, &conv.facts(), role, Action::ChangeAnnouncementMode)?;
    }
    let sql = format!(
        "UPDATE conversations AS c SET name = COALESCE($1, c.name), topic = COALESCE($2, c.topic), \
         announcement = COALESCE($3, c.announcement) WHERE c.id = $4 RETURNING {CONV_COLS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(change.name.as_deref())
        .bind(change.topic.as_deref())
        .bind(change.announcement)
        .bind(id.0)
        .fetch_optional(u.conn())
        .await?;
    let conv = rows::conversation(&rows::required(row, "conversation")?)?;
    u.emit(
        Event::ConversationUpdated {
            conversation: conv.clone(),
        },
        now,
    )
    .await?;
    Ok(conv)
}

/// The actor's conversations, most recently active first, with unread
/// counts, the peer of a direct conversation and the last message. Two
/// queries in all (three more only for last messages that carry files),
/// rather than three per conversation: a person may be in thousands.
pub async fn list_for_user(
    conn: &mut PgConnection,
    actor: &Actor,
) -> StoreResult<Vec<ConversationSummary>> {
    // Unread counts the main timeline only (thread replies are read in
    // their thread); mentions count wherever they are: personal ones by the
    // mentions index, `@channel` ones in the timeline. Both walk only the
    // messages after the read position.
    let sql = format!(
        "SELECT {CONV_COLS}, mb.role, mb.last_read_message_id, un.unread, \
         un.channel_mentions + (SELECT COUNT(*) FROM mentions x \
           JOIN messages r ON r.id = x.message_id WHERE x.user_id = $1 \
           AND x.message_id > COALESCE(mb.last_read_message_id, 0) \
           AND r.conversation_id = c.id AND r.sender_id <> $1 AND r.deleted_at IS NULL \
           AND NOT (r.thread_root_id IS NULL AND r.mentions_channel)), \
         CASE WHEN c.kind = 'direct' THEN (SELECT p.user_id FROM members p \
           WHERE p.conversation_id = c.id AND p.user_id <> $1 ORDER BY p.user_id LIMIT 1) END \
         FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         CROSS JOIN LATERAL (SELECT COUNT(*) AS unread, \
           COUNT(*) FILTER (WHERE um.mentions_channel) AS channel_mentions \
           FROM messages um WHERE um.conversation_id = c.id AND um.thread_root_id IS NULL \
           AND um.id > COALESCE(mb.last_read_message_id, 0) AND um.sender_id <> $1 \
           AND um.deleted_at IS NULL) un \
         WHERE mb.user_id = $1 \
         ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2"
    );
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(actor.user_id.0)
        .bind(i64::try_from(MAX_CONVERSATIONS_PER_USER).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for r in &found {
        out.push(ConversationSummary {
            conversation: rows::conversation(r)?,
            role: rows::role(&r.try_get::<String, _>(12)?)?,
            peer_id: r.try_get::<Option<i64>, _>(16)?.map(UserId),
            last_read_message_id: r.try_get::<Option<i64>, _>(13)?.map(MessageId),
            unread_count: rows::count(r, 14)?,
            unread_mentions: rows::count(r, 15)?,
            last_message: None,
        });
    }
    drop(found);

    let last_ids: Vec<i64> = out
        .iter()
        .filter_map(|s| s.conversation.last_message_id.map(|m| m.0))
        .collect();
    if last_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT {MESSAGE_COLS}, EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id) \
         FROM messages m WHERE m.id = ANY($1)"
    );
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&last_ids)
        .fetch_all(&mut *conn)
        .await?;
    let mut last: HashMap<i64, (Message, bool)> = HashMap::with_capacity(found.len());
    for r in &found {
        let m = rows::message(r)?;
        last.insert(m.id.0, (m, r.try_get::<bool, _>(12)?));
    }
    drop(found);
    for s in &mut out {
        let Some(mid) = s.conversation.last_message_id else {
            continue;
        };
        let Some((mut m, has_files)) = last.remove(&mid.0) else {
            continue;
        };
        // The preview needs the files (a message may be only files), not
        // the reactions and mentions.
        if has_files && m.deleted_at.is_none() {
            m.attachments = super::attachments::of_message(conn, m.id).await?;
        }
        s.last_message = Some(m);
    }
    Ok(out)
}

/// The organization's public channels by name. `COLLATE "C"` makes both
/// `lower` (ASCII letters only) and the comparison (bytewise) what SQLite
/// does, whatever the database's locale, so names like "Ärger" sort alike
/// on both backends.
pub async fn list_public_channels(
    conn: &mut PgConnection,
    actor: &Actor,
) -> StoreResult<Vec<Conversation>> {
    let sql = format!(
        "SELECT {CONV_COLS} FROM conversations c WHERE c.org_id = $1 AND c.kind = 'channel' \
         AND c.is_public ORDER BY lower(c.name COLLATE \"C\") NULLS FIRST, c.id"
    );
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(actor.org_id.0)
        .fetch_all(&mut *conn)
        .await?;
    found.iter().map(rows::conversation).collect()
}
