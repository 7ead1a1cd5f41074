//! The message search index (`message_search`, FTS5) and its queries.
//!
//! Permission filtering is part of the one query that finds hits: a row
//! only comes back joined to a live message in a conversation the caller is
//! a member of, so no count, snippet or id leaks from anywhere else.

use kontor_core::ids::*;
use kontor_core::model::Actor;
use rusqlite::{Connection, params};

use super::conversations::role_of;
use super::rows::{self, MESSAGE_COLS};
use crate::rules;
use crate::search::{Analyzer, Terms};
use crate::{SearchHit, SearchOrder, SearchPage, SearchQuery, StoreResult};

/// Matches of one query ranked by relevance at most (the newest ones);
/// see [`search`].
pub const RANKED_CANDIDATES: usize = 2000;
/// A word with at least this many matches of its own among the caller's
/// messages is not also searched as part of compounds: there are plenty
/// of hits already, and expanding such a word (and scoring its expansion)
/// is what made the most common words slow.
pub const COMMON_WORD_MATCHES: usize = RANKED_CANDIDATES;
/// Most conversations a caller's query names as tokens; beyond this the
/// query leaves the narrowing to the permission join alone.
const MAX_CONVERSATION_TOKENS: usize = 500;

/// Add a message's terms, and its conversation as a token.
pub fn index(
    conn: &Connection,
    id: MessageId,
    conv: ConversationId,
    terms: &Terms,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO message_search (rowid, fwd, rev, conv) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        id.0,
        terms.forward,
        terms.reversed,
        format!("c{}", conv.0)
    ])?;
    Ok(())
}

/// The FTS condition restricting hits to the caller's conversations (or
/// the one asked for), or `None` when they are too many to list.
fn conversation_filter(
    conn: &Connection,
    actor: &Actor,
    only: Option<ConversationId>,
) -> StoreResult<Option<String>> {
    let ids: Vec<i64> = match only {
        Some(c) => vec![c.0],
        None => {
            let mut stmt = conn.prepare_cached(
                "SELECT conversation_id FROM members WHERE user_id = ?1 LIMIT ?2",
            )?;
            stmt.query_map(
                params![actor.user_id.0, (MAX_CONVERSATION_TOKENS + 1) as i64],
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?
        }
    };
    if ids.len() > MAX_CONVERSATION_TOKENS {
        return Ok(None);
    }
    if ids.is_empty() {
        // No conversation: a token that no message has.
        return Ok(Some("conv : \"none\"".into()));
    }
    let alts: Vec<String> = ids.iter().map(|c| format!("\"c{c}\"")).collect();
    Ok(Some(format!("conv : ({})", alts.join(" OR "))))
}

/// Whether an FTS expression has at least [`COMMON_WORD_MATCHES`] matches.
/// Counting stops there, and without ranking it reads only what it counts.
fn is_common(conn: &Connection, fts: &str) -> StoreResult<bool> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM \
             (SELECT rowid FROM message_search WHERE message_search MATCH ?1 LIMIT ?2)",
        )?
        .query_row(params![fts, COMMON_WORD_MATCHES as i64], |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0) >= COMMON_WORD_MATCHES)
}

/// Remove a message's terms (before an edit re-adds them, or on delete).
pub fn unindex(conn: &Connection, id: MessageId) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM message_search WHERE rowid = ?1")?
        .execute(params![id.0])?;
    Ok(())
}

/// Messages the actor may read that match the query. A search within a
/// conversation the actor is not a member of answers before any index is
/// read ([`rules::search_elsewhere`]).
pub fn search(
    conn: &Connection,
    analyzer: &Analyzer,
    actor: &Actor,
    q: &SearchQuery,
) -> StoreResult<SearchPage> {
    if let Some(c) = q.conversation
        && let Some(empty) = rules::search_elsewhere(role_of(conn, c, actor.user_id)?)
    {
        return Ok(empty);
    }
    let Some(parsed) = analyzer.query(&q.text) else {
        return Ok(SearchPage {
            hits: Vec::new(),
            has_more: false,
        });
    };
    // Where hits come from: the FTS matches, newest first (FTS5 walks its
    // document lists backwards and stops early). Ranked by relevance, a
    // word that matches very many messages is ranked over its newest
    // `RANKED_CANDIDATES` matches, unless other filters might leave too
    // few of them: scoring every match of a common word is what made such
    // queries slow.
    let filtered = q.from.is_some() || q.since.is_some() || q.until.is_some() || q.has_file;
    let (source, order) = match q.order {
        SearchOrder::Relevance if !filtered => (
            format!(
                "(SELECT rowid AS rid, bm25(message_search, 1.0, 1.0, 0.0) AS score \
                 FROM message_search WHERE message_search MATCH ?1 \
                 ORDER BY rowid DESC LIMIT {RANKED_CANDIDATES})"
            ),
            "s.score, m.id DESC",
        ),
        // The conversation token carries no weight in the ranking.
        SearchOrder::Relevance => (
            "(SELECT rowid AS rid, bm25(message_search, 1.0, 1.0, 0.0) AS score \
             FROM message_search WHERE message_search MATCH ?1)"
                .to_owned(),
            "s.score, m.id DESC",
        ),
        SearchOrder::Newest => (
            "(SELECT rowid AS rid FROM message_search WHERE message_search MATCH ?1 \
             ORDER BY rowid DESC)"
                .to_owned(),
            "s.rid DESC",
        ),
    };
    let sql = format!(
        // CROSS JOIN keeps this order: the FTS matches drive, each one
        // looked up by id (left to the planner, it walked every message of
        // the caller's conversations instead).
        "SELECT {MESSAGE_COLS} FROM {source} s \
         CROSS JOIN messages m ON m.id = s.rid \
         CROSS JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = ?2 \
         WHERE m.deleted_at IS NULL \
         AND (?3 IS NULL OR m.conversation_id = ?3) AND (?4 IS NULL OR m.sender_id = ?4) \
         AND (?5 IS NULL OR m.created_at >= ?5) AND (?6 IS NULL OR m.created_at < ?6) \
         AND (?9 = 0 OR EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)) \
         ORDER BY {order} LIMIT ?7 OFFSET ?8"
    );
    let convs = conversation_filter(conn, actor, q.conversation)?;
    let within = |words: String| match &convs {
        Some(c) => format!("({words}) AND {c}"),
        None => words,
    };
    let mut expand = Vec::with_capacity(parsed.words.len());
    for word in &parsed.words {
        let exact = word.fts5(false);
        // Short words without a compound tail have nothing to expand.
        let expandable = word.fts5(true) != exact;
        expand.push(expandable && !is_common(conn, &within(exact))?);
    }
    let fts = within(parsed.fts5_expanding(|i| expand[i]));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut messages = stmt
        .query_map(
            params![
                fts,
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
    let batch: Vec<(i64, i64, String)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, conversation_id, body FROM messages WHERE id > ?1 AND deleted_at IS NULL \
             AND body IS NOT NULL ORDER BY id LIMIT ?2",
        )?;
        stmt.query_map(params![after.0, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?
    };
    let Some(&(last, _, _)) = batch.last() else {
        return Ok(None);
    };
    for (id, conv, body) in &batch {
        unindex(conn, MessageId(*id))?;
        index(
            conn,
            MessageId(*id),
            ConversationId(*conv),
            &analyzer.terms(body),
        )?;
    }
    Ok(Some((MessageId(last), batch.len() as u64)))
}
