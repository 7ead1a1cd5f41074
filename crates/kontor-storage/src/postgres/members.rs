//! Membership: who belongs to a conversation, joining, adding, removing,
//! roles. Every write here first takes the conversation's row lock
//! (`conversations::lock`), as all writes on a conversation do.

use std::collections::HashSet;

use kontor_core::DomainError;
use kontor_core::event::Event;
use kontor_core::ids::*;
use kontor_core::limits::MAX_GROUP_MEMBERS;
use kontor_core::model::*;
use kontor_core::policy::{Action, authorize};
use sqlx::{PgConnection, Row};

use super::accounts::count_users_in_org;
use super::conversations::{authorized, load, lock, role_of};
use super::rows;
use super::unit::Unit;
use crate::StoreResult;
use crate::rules;

/// Add one membership row, unless the user already belongs to as many
/// conversations as one person may. Callers append the membership event
/// first, so the event head's lock serializes this check with every other
/// membership write and the limit holds exactly.
pub(super) async fn insert_member(
    u: &mut Unit<'_>,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
    seq: EventSeq,
    now: Timestamp,
) -> StoreResult<()> {
    let memberships: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE user_id = $1")
        .bind(user.0)
        .fetch_one(u.conn())
        .await?;
    rules::check_conversation_limit(user, u64::try_from(memberships).unwrap_or(0))?;
    sqlx::query(
        "INSERT INTO members (conversation_id, user_id, role, joined_at, joined_seq) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.0)
    .bind(user.0)
    .bind(role.as_str())
    .bind(now.0)
    .bind(seq.0)
    .execute(u.conn())
    .await?;
    Ok(())
}

pub(super) async fn set_member_count(u: &mut Unit<'_>, id: ConversationId) -> StoreResult<()> {
    sqlx::query(
        "UPDATE conversations SET member_count = \
         (SELECT COUNT(*) FROM members WHERE conversation_id = $1) WHERE id = $1",
    )
    .bind(id.0)
    .execute(u.conn())
    .await?;
    Ok(())
}

pub(super) async fn check_users(
    conn: &mut PgConnection,
    org: OrgId,
    ids: &[UserId],
) -> StoreResult<()> {
    if count_users_in_org(conn, org, ids).await? != ids.len() {
        return Err(DomainError::invalid("user_ids", "contains an unknown user").into());
    }
    Ok(())
}

pub(super) fn group_too_large() -> crate::StoreError {
    DomainError::LimitExceeded(format!(
        "a group may have at most {MAX_GROUP_MEMBERS} members; use a channel for larger audiences"
    ))
    .into()
}

/// Members in the order they joined (ties by id), so every listing and
/// every backend shows the same order.
pub async fn list_members(conn: &mut PgConnection, id: ConversationId) -> StoreResult<Vec<Member>> {
    let found = sqlx::query(
        "SELECT user_id, role, joined_at FROM members WHERE conversation_id = $1 \
         ORDER BY joined_at, user_id",
    )
    .bind(id.0)
    .fetch_all(&mut *conn)
    .await?;
    found
        .iter()
        .map(|r| {
            Ok(Member {
                user_id: UserId(r.try_get(0)?),
                role: rows::role(&r.try_get::<String, _>(1)?)?,
                joined_at: Timestamp(r.try_get(2)?),
            })
        })
        .collect()
}

/// Add people who are not yet members; ones already in are skipped, so a
/// repeated request adds nothing twice. Returns the members added.
pub async fn add_members(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    users: &[UserId],
    now: Timestamp,
) -> StoreResult<Vec<Member>> {
    lock(u.conn(), id).await?;
    let (conv, _) = authorized(
        u.conn(),
        actor,
        id,
        Action::ManageMembers { target_role: None },
    )
    .await?;
    rules::check_members_per_request(users.len())?;
    // Who of them already belongs, in one query.
    let wanted: Vec<i64> = users.iter().map(|u| u.0).collect();
    let present: HashSet<i64> = sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM members WHERE conversation_id = $1 AND user_id = ANY($2)",
    )
    .bind(id.0)
    .bind(&wanted)
    .fetch_all(u.conn())
    .await?
    .into_iter()
    .collect();
    let mut new_users = Vec::new();
    for user in users {
        if !new_users.contains(user) && !present.contains(&user.0) {
            new_users.push(*user);
        }
    }
    check_users(u.conn(), actor.org_id, &new_users).await?;
    if conv.kind == ConversationKind::Group
        && conv.member_count as usize + new_users.len() > MAX_GROUP_MEMBERS
    {
        return Err(group_too_large());
    }
    let mut added = Vec::with_capacity(new_users.len());
    for user in new_users {
        let seq = u
            .emit(
                Event::MemberAdded {
                    conversation_id: id,
                    user_id: user,
                    role: MemberRole::Member,
                    by: actor.user_id,
                },
                now,
            )
            .await?;
        insert_member(u, id, user, MemberRole::Member, seq, now).await?;
        added.push(Member {
            user_id: user,
            role: MemberRole::Member,
            joined_at: now,
        });
    }
    set_member_count(u, id).await?;
    Ok(added)
}

/// Join a public channel. Joining again answers with the existing
/// membership instead of an error, which keeps retries harmless.
pub async fn join(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    now: Timestamp,
) -> StoreResult<Member> {
    lock(u.conn(), id).await?;
    let (_, role) = authorized(u.conn(), actor, id, Action::Join).await?;
    if let Some(role) = role {
        let joined_at: i64 = sqlx::query_scalar(
            "SELECT joined_at FROM members WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(id.0)
        .bind(actor.user_id.0)
        .fetch_one(u.conn())
        .await?;
        return Ok(Member {
            user_id: actor.user_id,
            role,
            joined_at: Timestamp(joined_at),
        });
    }
    let seq = u
        .emit(
            Event::MemberAdded {
                conversation_id: id,
                user_id: actor.user_id,
                role: MemberRole::Member,
                by: actor.user_id,
            },
            now,
        )
        .await?;
    insert_member(u, id, actor.user_id, MemberRole::Member, seq, now).await?;
    set_member_count(u, id).await?;
    Ok(Member {
        user_id: actor.user_id,
        role: MemberRole::Member,
        joined_at: now,
    })
}

async fn owner_count(conn: &mut PgConnection, id: ConversationId) -> StoreResult<u64> {
    let owners: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM members WHERE conversation_id = $1 AND role = 'owner'",
    )
    .bind(id.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(owners).unwrap_or(0))
}

/// Leave, or remove someone (moderators). The last owner of a conversation
/// with other members cannot go, or nobody could manage it any more.
pub async fn remove_member(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    user: UserId,
    now: Timestamp,
) -> StoreResult<()> {
    lock(u.conn(), id).await?;
    let conv = rows::required(load(u.conn(), id).await?, "conversation")?;
    let my_role = role_of(u.conn(), id, actor.user_id).await?;
    let target_role = role_of(u.conn(), id, user).await?;
    let action = if user == actor.user_id {
        Action::Leave
    } else {
        Action::ManageMembers { target_role }
    };
    authorize(actor, &conv.facts(), my_role, action)?;
    let Some(target_role) = target_role else {
        return Err(DomainError::NotFound("member").into());
    };
    let owners = owner_count(u.conn(), id).await?;
    rules::check_owner_may_go(target_role, u64::from(conv.member_count), owners)?;
    u.emit(
        Event::MemberRemoved {
            conversation_id: id,
            user_id: user,
            by: actor.user_id,
        },
        now,
    )
    .await?;
    sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
        .bind(id.0)
        .bind(user.0)
        .execute(u.conn())
        .await?;
    set_member_count(u, id).await?;
    Ok(())
}

/// Change a member's role. Setting the current role is a no-op without an
/// event; demoting the only owner is refused.
pub async fn set_role(
    u: &mut Unit<'_>,
    actor: &Actor,
    id: ConversationId,
    user: UserId,
    role: MemberRole,
    now: Timestamp,
) -> StoreResult<()> {
    lock(u.conn(), id).await?;
    authorized(u.conn(), actor, id, Action::ChangeRoles).await?;
    let Some(current) = role_of(u.conn(), id, user).await? else {
        return Err(DomainError::NotFound("member").into());
    };
    let owners = owner_count(u.conn(), id).await?;
    if !rules::role_changes(current, role, owners)? {
        return Ok(());
    }
    // The event goes first (SQLite updates first; inside one transaction
    // the outcome is the same) so that member rows, like in every other
    // unit, are written only after the event head is locked.
    u.emit(
        Event::MemberRoleChanged {
            conversation_id: id,
            user_id: user,
            role,
        },
        now,
    )
    .await?;
    sqlx::query("UPDATE members SET role = $1 WHERE conversation_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(id.0)
        .bind(user.0)
        .execute(u.conn())
        .await?;
    Ok(())
}
