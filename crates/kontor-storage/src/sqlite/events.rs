//! Reading the event stream back: resume and the hub's membership snapshot.

use bytes::Bytes;
use kontor_core::ids::*;
use kontor_core::limits::MAX_RESUME_EVENTS;
use kontor_core::model::Timestamp;
use rusqlite::{Connection, params};

use super::writer::Unit;
use crate::{HubSnapshot, Resume, StoreResult, StoredEvent};

pub fn head(conn: &Connection) -> StoreResult<EventSeq> {
    Ok(EventSeq(
        conn.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")?
            .query_row([], |r| r.get(0))?,
    ))
}

/// Events after `after` visible to `user`: those addressed to them, and
/// those of conversations they are a member of and joined before the event.
pub fn after(conn: &mut Connection, user: UserId, after: EventSeq) -> StoreResult<Resume> {
    let tx = conn.transaction()?;
    let head = head(&tx)?;
    if after > head || after.0 < 0 {
        return Ok(Resume::ResyncRequired);
    }
    // Events before the oldest kept one were pruned: a client that last
    // saw one of them cannot be told what it missed.
    let oldest: Option<i64> = tx
        .prepare_cached("SELECT MIN(seq) FROM events")?
        .query_row([], |r| r.get(0))?;
    if oldest.is_some_and(|oldest| after.0 + 1 < oldest) {
        return Ok(Resume::ResyncRequired);
    }
    let events: Vec<StoredEvent> = {
        let mut stmt = tx.prepare_cached(
            "SELECT e.seq, e.payload FROM events e WHERE e.seq > ?1 AND (e.audience_user_id = ?2 OR \
             (e.audience_conversation_id IS NOT NULL AND EXISTS (SELECT 1 FROM members mb \
             WHERE mb.conversation_id = e.audience_conversation_id AND mb.user_id = ?2 \
             AND mb.joined_seq <= e.seq))) ORDER BY e.seq LIMIT ?3",
        )?;
        stmt.query_map(
            params![after.0, user.0, (MAX_RESUME_EVENTS + 1) as i64],
            |r| {
                Ok(StoredEvent {
                    seq: EventSeq(r.get(0)?),
                    frame: Bytes::from(r.get::<_, Vec<u8>>(1)?),
                })
            },
        )?
        .collect::<Result<_, _>>()?
    };
    if events.len() > MAX_RESUME_EVENTS {
        return Ok(Resume::ResyncRequired);
    }
    Ok(Resume::Events(events))
}

pub fn hub_snapshot(conn: &mut Connection) -> StoreResult<HubSnapshot> {
    let tx = conn.transaction()?;
    let at = head(&tx)?;
    let memberships = {
        let mut stmt = tx.prepare_cached("SELECT conversation_id, user_id FROM members")?;
        stmt.query_map([], |r| Ok((ConversationId(r.get(0)?), UserId(r.get(1)?))))?
            .collect::<Result<_, _>>()?
    };
    let sharing_presence = {
        let mut stmt = tx.prepare_cached("SELECT id FROM users WHERE share_presence")?;
        stmt.query_map([], |r| Ok(UserId(r.get(0)?)))?
            .collect::<Result<_, _>>()?
    };
    Ok(HubSnapshot {
        at,
        memberships,
        sharing_presence,
    })
}

/// Delete up to `limit` of the oldest events created before `before`,
/// never the newest one: numbering continues from it. Returns how many.
///
/// Only a prefix of the stream goes: the walk in stream order stops at the
/// first event that is recent enough, even if older ones follow it (clocks
/// and queued jobs make `created_at` not quite monotonic), so the kept
/// events never have a hole that resume could not see.
pub fn prune(unit: &Unit<'_>, before: Timestamp, limit: usize) -> StoreResult<usize> {
    let newest: i64 = unit
        .conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")?
        .query_row([], |r| r.get(0))?;
    let mut stmt = unit
        .conn
        .prepare_cached("SELECT seq, created_at FROM events ORDER BY seq LIMIT ?1")?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![limit])?;
    let mut last_old = None;
    while let Some(row) = rows.next()? {
        let (seq, created_at): (i64, i64) = (row.get(0)?, row.get(1)?);
        if seq >= newest || created_at >= before.0 {
            break;
        }
        last_old = Some(seq);
    }
    drop(rows);
    let Some(last_old) = last_old else {
        return Ok(0);
    };
    Ok(unit
        .conn
        .prepare_cached("DELETE FROM events WHERE seq <= ?1")?
        .execute(params![last_old])?)
}
