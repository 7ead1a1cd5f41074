//! Reading the event stream back: the head, resume, the hub's membership
//! snapshot, the tail's batches, and pruning.

use bytes::Bytes;
use kontor_core::event::{Audience, MembershipEffect};
use kontor_core::ids::*;
use kontor_core::limits::MAX_RESUME_EVENTS;
use kontor_core::model::Timestamp;
use sqlx::{Connection, PgConnection, Row};

use super::unit::Unit;
use crate::{CommittedEvent, HubSnapshot, Resume, StoreResult, StoredEvent};

/// The newest position handed out (and committed: the counter row is
/// updated in the same transaction as the event it numbers).
pub async fn head(conn: &mut PgConnection) -> StoreResult<EventSeq> {
    Ok(EventSeq(
        sqlx::query_scalar("SELECT seq FROM event_head")
            .fetch_one(&mut *conn)
            .await?,
    ))
}

/// Open a read-only transaction that sees one snapshot for all its
/// statements, so a head and the rows read with it agree.
async fn snapshot(conn: &mut PgConnection) -> StoreResult<sqlx::Transaction<'_, sqlx::Postgres>> {
    let mut tx = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Events after `after` visible to `user`: those addressed to them, and
/// those of conversations they are a member of and joined before the event.
pub async fn after(conn: &mut PgConnection, user: UserId, after: EventSeq) -> StoreResult<Resume> {
    let mut tx = snapshot(conn).await?;
    let head = head(&mut tx).await?;
    if after > head || after.0 < 0 {
        return Ok(Resume::ResyncRequired);
    }
    // Events before the oldest kept one were pruned: a client that last
    // saw one of them cannot be told what it missed.
    let oldest: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    if oldest.is_some_and(|oldest| after.0 + 1 < oldest) {
        return Ok(Resume::ResyncRequired);
    }
    let rows = sqlx::query(
        "SELECT e.seq, e.payload FROM events e WHERE e.seq > $1 AND (e.audience_user_id = $2 OR \
         (e.audience_conversation_id IS NOT NULL AND EXISTS (SELECT 1 FROM members mb \
         WHERE mb.conversation_id = e.audience_conversation_id AND mb.user_id = $2 \
         AND mb.joined_seq <= e.seq))) ORDER BY e.seq LIMIT $3",
    )
    .bind(after.0)
    .bind(user.0)
    .bind((MAX_RESUME_EVENTS + 1) as i64)
    .fetch_all(&mut *tx)
    .await?;
    if rows.len() > MAX_RESUME_EVENTS {
        return Ok(Resume::ResyncRequired);
    }
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        events.push(StoredEvent {
            seq: EventSeq(r.try_get(0)?),
            frame: Bytes::from(r.try_get::<Vec<u8>, _>(1)?),
        });
    }
    Ok(Resume::Events(events))
}

/// Every membership and the position it reflects, read in one snapshot.
pub async fn hub_snapshot(conn: &mut PgConnection) -> StoreResult<HubSnapshot> {
    let mut tx = snapshot(conn).await?;
    let at = head(&mut tx).await?;
    let rows = sqlx::query("SELECT conversation_id, user_id FROM members")
        .fetch_all(&mut *tx)
        .await?;
    let mut memberships = Vec::with_capacity(rows.len());
    for r in rows {
        memberships.push((ConversationId(r.try_get(0)?), UserId(r.try_get(1)?)));
    }
    let sharing_presence =
        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE share_presence")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(UserId)
            .collect();
    Ok(HubSnapshot {
        at,
        memberships,
        sharing_presence,
    })
}

/// Up to `limit` committed events after `after`, whoever wrote them, as
/// the hub needs them. Positions are commit-ordered, so what this returns
/// is always a gapless continuation.
pub async fn committed_after(
    conn: &mut PgConnection,
    after: EventSeq,
    limit: usize,
) -> StoreResult<Vec<CommittedEvent>> {
    let rows = sqlx::query(
        "SELECT seq, audience_conversation_id, audience_user_id, payload, \
         membership_conversation_id, membership_added, membership_removed, revoked_session_id, \
         presence_sharing FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after.0)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for r in rows {
        let membership = match (
            r.try_get::<Option<i64>, _>(4)?,
            r.try_get::<Option<Vec<i64>>, _>(5)?,
            r.try_get::<Option<i64>, _>(6)?,
        ) {
            (Some(c), Some(added), _) => Some(MembershipEffect::Added(
                ConversationId(c),
                added.into_iter().map(UserId).collect(),
            )),
            (Some(c), None, Some(removed)) => Some(MembershipEffect::Removed(
                ConversationId(c),
                UserId(removed),
            )),
            _ => None,
        };
        events.push(CommittedEvent {
            seq: EventSeq(r.try_get(0)?),
            audience: Audience {
                conversation: r.try_get::<Option<i64>, _>(1)?.map(ConversationId),
                user: r.try_get::<Option<i64>, _>(2)?.map(UserId),
            },
            membership,
            revoked_session: r.try_get::<Option<i64>, _>(7)?.map(SessionId),
            presence_sharing: r.try_get::<Option<bool>, _>(8)?,
            frame: Bytes::from(r.try_get::<Vec<u8>, _>(3)?),
        });
    }
    Ok(events)
}

/// Delete up to `limit` of the oldest events created before `before`,
/// never the newest one. Only a prefix of the stream goes (see the SQLite
/// version for why the walk stops at the first recent event).
pub async fn prune(u: &mut Unit<'_>, before: Timestamp, limit: usize) -> StoreResult<usize> {
    let newest: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
        .fetch_one(u.conn())
        .await?;
    let rows = sqlx::query("SELECT seq, created_at FROM events ORDER BY seq LIMIT $1")
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(u.conn())
        .await?;
    let mut last_old = None;
    for r in rows {
        let (seq, created_at): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
        if seq >= newest || created_at >= before.0 {
            break;
        }
        last_old = Some(seq);
    }
    let Some(last_old) = last_old else {
        return Ok(0);
    };
    let done = sqlx::query("DELETE FROM events WHERE seq <= $1")
        .bind(last_old)
        .execute(u.conn())
        .await?;
    Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
}
