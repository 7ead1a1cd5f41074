//! Conversations and their members.

use kontor_core::DomainError;
use kontor_core::event::Event;
use kontor_core::ids::*;
use kontor_core::limits::{MAX_CONVERSATIONS_PER_USER, MAX_GROUP_MEMBERS};
use kontor_core::model::*;
use kontor_core::policy::{Action, authorize};
use rusqlite::{Connection, OptionalExtension, params};

use super::accounts::count_users_in_org;
use super::rows::{self, CONV_COLS, MESSAGE_COLS};
use super::writer::Unit;
use crate::rules;
use crate::{NewConversation, SettingsChange, StoreResult};

pub fn load(conn: &Connection, id: ConversationId) -> StoreResult<Option<Conversation>> {
    let sql = format!("SELECT {CONV_COLS} FROM conversations c WHERE c.id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![id.0], rows::conversation)
        .optional()?)
}

pub fn role_of(
    conn: &Connection,
    id: ConversationId,
    user: UserId,
) -> StoreResult<Option<MemberRole>> {
    let role: Option<String> = conn
        .prepare_cached("SELECT role FROM members WHERE conversation_id = ?1 AND user_id = ?2")?
        .query_row(params![id.0, user.0], |r| r.get(0))
        .optional()?;
    Ok(role.map(|r| rows::role(&r)).transpose()?)
}

/// Load a conversation and the actor's role, and check `action` against
/// the policy. Unknown conversations and forbidden reads look alike.
pub fn authorized(
    conn: &Connection,
    actor: &Actor,
    id: ConversationId,
    action: Action,
) -> StoreResult<(Conversation, Option<MemberRole>)> {
    let conv = rows::required(load(conn, id)?, "conversation")?;
    let role = role_of(conn, id, actor.user_id)?;
    authorize(actor, &conv.facts(), role, action)?;
    Ok((conv, role))
}

fn insert_member(
    unit: &Unit<'_>,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
    seq: EventSeq,
    now: Timestamp,
) -> StoreResult<()> {
    let memberships: i64 = unit
        .conn
        .prepare_cached("SELECT COUNT(*) FROM members WHERE user_id = ?1")?
        .query_row([user.0], |r| r.get(0))?;
    rules::check_conversation_limit(user, u64::try_from(memberships).unwrap_or(0))?;
    unit.conn
        .prepare_cached(
            "INSERT INTO members (conversation_id, user_id, role, joined_at, joined_seq) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![id.0, user.0, role.as_str(), now.0, seq.0])?;
    Ok(())
}

fn set_member_count(unit: &Unit<'_>, id: ConversationId) -> StoreResult<u32> {
    unit.conn
        .prepare_cached(
            "UPDATE conversations SET member_count = \
             (SELECT COUNT(*) FROM members WHERE conversation_id = ?1) WHERE id = ?1",
        )?
        .execute(params![id.0])?;
    let n: u32 = unit
        .conn
        .prepare_cached("SELECT member_count FROM conversations WHERE id = ?1")?
        .query_row(params![id.0], |r| r.get(0))?;
    Ok(n)
}

fn check_users(conn: &Connection, org: OrgId, ids: &[UserId]) -> StoreResult<()> {
    if count_users_in_org(conn, org, ids)? != ids.len() {
        return Err(DomainError::invalid("user_ids", "contains an unknown user").into());
    }
    Ok(())
}

pub fn create(
    unit: &mut Unit<'_>,
    actor: &Actor,
    new: &NewConversation,
    now: Timestamp,
) -> StoreResult<(Conversation, bool)> {
    let others = rules::other_members(actor, &new.member_ids)?;
    check_users(unit.conn, actor.org_id, &others)?;
    let direct_key = match new.kind {
        ConversationKind::Direct => {
            let key = rules::direct_pair_key(actor, &others)?;
            let existing: Option<i64> = unit
                .conn
                .prepare_cached("SELECT id FROM conversations WHERE direct_key = ?1")?
                .query_row(params![key], |r| r.get(0))
                .optional()?;
            if let Some(id) = existing {
                let conv = rows::required(load(unit.conn, ConversationId(id))?, "conversation")?;
                return Ok((conv, false));
            }
            Some(key)
        }
        ConversationKind::Group if others.len() + 1 > MAX_GROUP_MEMBERS => {
            return Err(DomainError::LimitExceeded(format!(
                "a group may have at most {MAX_GROUP_MEMBERS} members; use a channel for larger audiences"
            ))
            .into());
        }
        _ => None,
    };
    let is_channel = new.kind == ConversationKind::Channel;
    unit.conn
        .prepare_cached(
            "INSERT INTO conversations (org_id, kind, name, topic, is_public, announcement, direct_key, \
             created_by, created_at, last_activity_at, member_count) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
        )?
        .execute(params![
            actor.org_id.0,
            new.kind.as_str(),
            new.name,
            new.topic,
            is_channel && new.is_public,
            is_channel && new.announcement,
            direct_key,
            actor.user_id.0,
            now.0,
            (others.len() + 1) as i64
        ])?;
    let id = ConversationId(unit.conn.last_insert_rowid());
    let conv = rows::required(load(unit.conn, id)?, "conversation")?;
    let mut member_ids = vec![actor.user_id];
    member_ids.extend(&others);
    let seq = unit.emit(
        Event::ConversationCreated {
            conversation: conv.clone(),
            member_ids,
        },
        now,
    )?;
    let creator_role = match new.kind {
        ConversationKind::Direct => MemberRole::Member,
        _ => MemberRole::Owner,
    };
    insert_member(unit, id, actor.user_id, creator_role, seq, now)?;
    for user in &others {
        insert_member(unit, id, *user, MemberRole::Member, seq, now)?;
    }
    Ok((conv, true))
}

pub fn list_members(conn: &Connection, id: ConversationId) -> StoreResult<Vec<Member>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, role, joined_at FROM members WHERE conversation_id = ?1 ORDER BY joined_at, user_id",
    )?;
    let members = stmt
        .query_map(params![id.0], |r| {
            Ok(Member {
                user_id: UserId(r.get(0)?),
                role: rows::role(&r.get::<_, String>(1)?)?,
                joined_at: Timestamp(r.get(2)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(members)
}

pub fn add_members(
    unit: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    users: &[UserId],
    now: Timestamp,
) -> StoreResult<Vec<Member>> {
    let (conv, _) = authorized(
        unit.conn,
        actor,
        id,
        Action::ManageMembers { target_role: None },
    )?;
    rules::check_members_per_request(users.len())?;
    let mut new_users = Vec::new();
    for u in users {
        if !new_users.contains(u) && role_of(unit.conn, id, *u)?.is_none() {
            new_users.push(*u);
        }
    }
    check_users(unit.conn, actor.org_id, &new_users)?;
    if conv.kind == ConversationKind::Group
        && conv.member_count as usize + new_users.len() > MAX_GROUP_MEMBERS
    {
        return Err(DomainError::LimitExceeded(format!(
            "a group may have at most {MAX_GROUP_MEMBERS} members; use a channel for larger audiences"
        ))
        .into());
    }
    let mut added = Vec::with_capacity(new_users.len());
    for user in new_users {
        let seq = unit.emit(
            Event::MemberAdded {
                conversation_id: id,
                user_id: user,
                role: MemberRole::Member,
                by: actor.user_id,
            },
            now,
        )?;
        insert_member(unit, id, user, MemberRole::Member, seq, now)?;
        added.push(Member {
            user_id: user,
            role: MemberRole::Member,
            joined_at: now,
        });
    }
    set_member_count(unit, id)?;
    Ok(added)
}

pub fn join(
    unit: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    now: Timestamp,
) -> StoreResult<Member> {
    let (_, role) = authorized(unit.conn, actor, id, Action::Join)?;
    if let Some(role) = role {
        let joined_at: i64 = unit
            .conn
            .prepare_cached(
                "SELECT joined_at FROM members WHERE conversation_id = ?1 AND user_id = ?2",
            )?
            .query_row(params![id.0, actor.user_id.0], |r| r.get(0))?;
        return Ok(Member {
            user_id: actor.user_id,
            role,
            joined_at: Timestamp(joined_at),
        });
    }
    let seq = unit.emit(
        Event::MemberAdded {
            conversation_id: id,
            user_id: actor.user_id,
            role: MemberRole::Member,
            by: actor.user_id,
        },
        now,
    )?;
    insert_member(unit, id, actor.user_id, MemberRole::Member, seq, now)?;
    set_member_count(unit, id)?;
    Ok(Member {
        user_id: actor.user_id,
        role: MemberRole::Member,
        joined_at: now,
    })
}

fn owner_count(conn: &Connection, id: ConversationId) -> StoreResult<u64> {
    let owners: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM members WHERE conversation_id = ?1 AND role = 'owner'",
        )?
        .query_row(params![id.0], |r| r.get(0))?;
    Ok(u64::try_from(owners).unwrap_or(0))
}

pub fn remove_member(
    unit: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    user: UserId,
    now: Timestamp,
) -> StoreResult<()> {
    let conv = rows::required(load(unit.conn, id)?, "conversation")?;
    let my_role = role_of(unit.conn, id, actor.user_id)?;
    let target_role = role_of(unit.conn, id, user)?;
    let action = if user == actor.user_id {
        Action::Leave
    } else {
        Action::ManageMembers { target_role }
    };
    authorize(actor, &conv.facts(), my_role, action)?;
    let Some(target_role) = target_role else {
        return Err(DomainError::NotFound("member").into());
    };
    rules::check_owner_may_go(
        target_role,
        u64::from(conv.member_count),
        owner_count(unit.conn, id)?,
    )?;
    unit.emit(
        Event::MemberRemoved {
            conversation_id: id,
            user_id: user,
            by: actor.user_id,
        },
        now,
    )?;
    unit.conn
        .prepare_cached("DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2")?
        .execute(params![id.0, user.0])?;
    set_member_count(unit, id)?;
    Ok(())
}

pub fn set_role(
    unit: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
    now: Timestamp,
) -> StoreResult<()> {
    authorized(unit.conn, actor, id, Action::ChangeRoles)?;
    let Some(current) = role_of(unit.conn, id, user)? else {
        return Err(DomainError::NotFound("member").into());
    };
    if !rules::role_changes(current, role, owner_count(unit.conn, id)?)? {
        return Ok(());
    }
    unit.conn
        .prepare_cached("UPDATE members SET role = ?1 WHERE conversation_id = ?2 AND user_id = ?3")?
        .execute(params![role.as_str(), id.0, user.0])?;
    unit.emit(
        Event::MemberRoleChanged {
            conversation_id: id,
            user_id: user,
            role,
        },
        now,
    )?;
    Ok(())
}

pub fn update(
    unit: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    change: &SettingsChange,
    now: Timestamp,
) -> StoreResult<Conversation> {
    let (conv, role) = authorized(unit.conn, actor, id, Action::UpdateSettings)?;
    if change.announcement.is_some() {
        authorize(actor, &conv.facts(), role, Action::ChangeAnnouncementMode)?;
    }
    unit.conn
        .prepare_cached(
            "UPDATE conversations SET name = COALESCE(?1, name), topic = COALESCE(?2, topic), \
             announcement = COALESCE(?3, announcement) WHERE id = ?4",
        )?
        .execute(params![
            change.name,
            change.topic,
            change.announcement,
            id.0
        ])?;
    let conv = rows::required(load(unit.conn, id)?, "conversation")?;
    unit.emit(
        Event::ConversationUpdated {
            conversation: conv.clone(),
        },
        now,
    )?;
    Ok(conv)
}

pub fn list_for_user(conn: &Connection, actor: &Actor) -> StoreResult<Vec<ConversationSummary>> {
    let sql = format!(
        "SELECT {CONV_COLS}, mb.role, mb.last_read_message_id FROM members mb \
         JOIN conversations c ON c.id = mb.conversation_id WHERE mb.user_id = ?1 \
         ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?2"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows: Vec<(Conversation, MemberRole, Option<MessageId>)> = stmt
        .query_map(
            params![actor.user_id.0, MAX_CONVERSATIONS_PER_USER as i64],
            |r| {
                Ok((
                    rows::conversation(r)?,
                    rows::role(&r.get::<_, String>(12)?)?,
                    r.get::<_, Option<i64>>(13)?.map(MessageId),
                ))
            },
        )?
        .collect::<Result<_, _>>()?;
    // Unread counts the main timeline only (thread replies are read in
    // their thread); mentions count wherever they are: personal ones by the
    // mentions index, `@channel` ones in the timeline. Both walk only the
    // messages after the read position.
    let mut unread_stmt = conn.prepare_cached(
        "SELECT COUNT(*), COALESCE(SUM(m.mentions_channel), 0) + (SELECT COUNT(*) FROM mentions x \
         JOIN messages r ON r.id = x.message_id WHERE x.user_id = ?3 AND x.message_id > ?2 \
         AND r.conversation_id = ?1 AND r.sender_id <> ?3 AND r.deleted_at IS NULL \
         AND NOT (r.thread_root_id IS NULL AND r.mentions_channel = 1)) \
         FROM messages m WHERE m.conversation_id = ?1 AND m.thread_root_id IS NULL AND m.id > ?2 \
         AND m.sender_id <> ?3 AND m.deleted_at IS NULL",
    )?;
    let mut peer_stmt = conn.prepare_cached(
        "SELECT user_id FROM members WHERE conversation_id = ?1 AND user_id <> ?2 LIMIT 1",
    )?;
    let last_sql = format!("SELECT {MESSAGE_COLS} FROM messages m WHERE m.id = ?1");
    let mut last_stmt = conn.prepare_cached(&last_sql)?;
    let mut out = Vec::with_capacity(rows.len());
    for (conv, role, last_read) in rows {
        let (unread_count, unread_mentions): (u32, u32) = unread_stmt.query_row(
            params![conv.id.0, last_read.map_or(0, |m| m.0), actor.user_id.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let peer_id = if conv.kind == ConversationKind::Direct {
            peer_stmt
                .query_row(params![conv.id.0, actor.user_id.0], |r| {
                    Ok(UserId(r.get(0)?))
                })
                .optional()?
        } else {
            None
        };
        let mut last_message = match conv.last_message_id {
            Some(mid) => last_stmt
                .query_row(params![mid.0], rows::message)
                .optional()?,
            None => None,
        };
        // The preview needs the files (a message may be only files), not
        // the reactions and mentions.
        if let Some(m) = last_message.as_mut().filter(|m| m.deleted_at.is_none()) {
            m.attachments = super::attachments::of_message(conn, m.id)?;
        }
        out.push(ConversationSummary {
            conversation: conv,
            role,
            peer_id,
            last_read_message_id: last_read,
            unread_count,
            unread_mentions,
            last_message,
        });
    }
    Ok(out)
}

pub fn list_public_channels(conn: &Connection, actor: &Actor) -> StoreResult<Vec<Conversation>> {
    let sql = format!(
        "SELECT {CONV_COLS} FROM conversations c WHERE c.org_id = ?1 AND c.kind = 'channel' \
         AND c.is_public = 1 ORDER BY lower(c.name), c.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let convs = stmt
        .query_map(params![actor.org_id.0], rows::conversation)?
        .collect::<Result<_, _>>()?;
    Ok(convs)
}
