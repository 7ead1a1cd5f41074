//! The message search index (`message_search`, FTS5) and its queries.
//!
//! Permission filtering is part of the one query that finds hits: a row
//! only comes back joined to a live message in a conversation the caller is
//! a member of, so no count, snippet or id leaks from anywhere else.

use kontor_core::ids::*;
use kontor_core::model::Actor;
use rusqlite::{Connection, params};

use super::rows::{self, MESSAGE_COLS};
use crate::search::{Analyzer, Terms};
use crate::{SearchHit, SearchOrder, SearchPage, SearchQuery, StoreResult};

/// Add a message's terms.
pub fn index(conn: &Connection, id: MessageId, terms: &Terms) -> StoreResult<()> {
    conn.prepare_cached("INSERT INTO message_search (rowid, fwd, rev) VALUES (?1, ?2, ?3)")?
        .execute(params![id.0, terms.forward, terms.reversed])?;
    Ok(())
}

/// Remove a message's terms (before an edit re-adds them, or on delete).
pub fn unindex(conn: &Connection, id: MessageId) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
        .execute(params![id.0])?;
    Ok(())
}

/// Messages the actor may read that match the query.
pub fn search(
    conn: &Connection,
    analyzer: &Analyzer,
    actor: &Actor,
    q: &SearchQuery,
) -> StoreResult<SearchPage> {
    let Some(parsed) = analyzer.query(&q.text) else {
        return Ok(SearchPage {
            hits: Vec::new(),
            has_more: false,
        });
    };
    let order = match q.order {
        SearchOrder::Relevance => "bm25(message_search), m.id DESC",
        SearchOrder::Newest => "m.id DESC",
    };
    let sql = format!(
        "SELECT {MESSAGE_COLS} FROM message_search s \
         JOIN messages m ON m.id = s.rowid \
         JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?2 \
         WHERE message_search MATCH ?1 AND m.deleted_at IS NULL \
         AND (?3 IS NULL OR m.conversation_id = ?3) AND (?4 IS NULL OR m.sender_id = ?4) \
         AND (?5 IS NULL OR m.created_at >= ?5) AND (?6 IS NULL OR m.created_at < ?6) \
         AND (?9 = 0 OR EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)) \
         ORDER BY {order} LIMIT ?7 OFFSET ?8"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut messages = stmt
        .query_map(
            params![
                parsed.fts5(),
                actor.user_id.0,
                q.conversation.map(|c| c.0),
                q.from.map(|u| u.0),
                q.since.map(|t| t.0),
                q.until.map(|t| t.0),
                (q.limit + 1) as i64,
                q.offset as i64,
                q.has_file,
            ],
            rows::message,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let has_more = messages.len() > q.limit;
    messages.truncate(q.limit);
    let mut hits = Vec::with_capacity(messages.len());
    for mut message in messages {
        rows::load_message_extras(conn, &mut message)?;
        let snippet = analyzer.snippet(message.text.as_deref().unwrap_or(""), &parsed);
        hits.push(SearchHit { message, snippet });
    }
    Ok(SearchPage { hits, has_more })
}

/// Messages in the index and in total, for a rebuild's progress.
pub fn total_messages(conn: &Connection) -> StoreResult<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM messages WHERE deleted_at IS NULL")?
        .query_row([], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Empty the index (the first step of a rebuild).
pub fn clear(conn: &Connection) -> StoreResult<()> {
    conn.prepare_cached("INSERT INTO message_search (message_search) VALUES ('delete-all')")?
        .execute([])?;
    Ok(())
}

/// Index the next `limit` live messages after `after`; returns the last
/// id indexed and how many were, or `None` when none were left.
pub fn reindex_batch(
    conn: &Connection,
    analyzer: &Analyzer,
    after: MessageId,
    limit: usize,
) -> StoreResult<Option<(MessageId, u64)>> {
    let batch: Vec<(i64, String)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, body FROM messages WHERE id > ?1 AND deleted_at IS NULL \
             AND body IS NOT NULL ORDER BY id LIMIT ?2",
        )?;
        stmt.query_map(params![after.0, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?
    };
    let Some(&(last, _)) = batch.last() else {
        return Ok(None);
    };
    for (id, body) in &batch {
        unindex(conn, MessageId(*id))?;
        index(conn, MessageId(*id), &analyzer.terms(body))?;
    }
    Ok(Some((MessageId(last), batch.len() as u64)))
}
