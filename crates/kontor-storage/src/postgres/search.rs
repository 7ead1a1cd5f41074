//! The message search index (`message_search`: `simple` tsvectors with GIN
//! indexes) and its queries, the PostgreSQL counterpart of
//! `sqlite/search.rs` (FTS5).
//!
//! Terms come from [`Analyzer`], computed in Rust: the vectors are built
//! from exactly those terms (never `to_tsvector`, whose parser would split
//! and fold words on its own), and a query is the same terms quoted as
//! tsquery lexemes, so a query means the same here as on SQLite and no user
//! input ever reaches the tsquery parser unquoted.
//!
//! Permission filtering is part of the one query that finds hits: a row
//! only comes back joined to the caller's membership of its conversation
//! and to a live message in it, so no count, snippet or id leaks from
//! anywhere else.

use std::fmt::Write as _;

use kontor_core::ids::*;
use kontor_core::model::Actor;
use sqlx::postgres::PgArguments;
use sqlx::{PgConnection, Postgres};

use super::conversations::role_of;
use super::rows::{self, MESSAGE_COLS};
use super::unit::Unit;
use crate::rules;
use crate::search::{Analyzer, MIN_PART_CHARS, Terms, WordMatch};
use crate::{ReindexStep, SearchHit, SearchOrder, SearchPage, SearchQuery, StoreResult};

/// Matches of one query ranked by relevance at most (the newest ones); the
/// same value as the SQLite backend's `RANKED_CANDIDATES` (that module is
/// private to `sqlite`), see [`search`].
pub const RANKED_CANDIDATES: usize = 2000;
/// A word with at least this many matches of its own among the caller's
/// messages is not also searched as part of compounds: there are plenty
/// of hits already, and expanding such a word (and scoring its expansion)
/// is what made the most common words slow. Same as SQLite's.
pub const COMMON_WORD_MATCHES: usize = RANKED_CANDIDATES;
/// Longest lexeme PostgreSQL accepts, in bytes. The analyzer cuts words
/// at 64 characters, far below this; the check only makes sure an odd
/// term can never make a send fail.
const MAX_LEXEME_BYTES: usize = 2046;
/// Highest position a tsvector records; later terms share it.
const MAX_POSITION: usize = 16383;

/// Append `term` as a quoted tsvector/tsquery lexeme. Terms are letters
/// and digits only, but quoting is what makes that irrelevant: inside
/// quotes only `'` and `\` are special, and both are escaped.
fn push_quoted(out: &mut String, term: &str) {
    out.push('\'');
    for c in term.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// Whether a term can be a lexeme (not empty, not too long).
fn usable(term: &str) -> bool {
    !term.is_empty() && term.len() <= MAX_LEXEME_BYTES
}

/// A space-separated term list as tsvector text, each term at its own
/// position. Positions keep how often a term occurs, which the ranking
/// uses (`array_to_tsvector` would keep each term once, so a message
/// saying a word three times would rank like one saying it once).
fn tsvector_text(terms: &str) -> String {
    let mut out = String::with_capacity(terms.len() * 2);
    for (i, term) in terms.split(' ').filter(|t| usable(t)).enumerate() {
        if !out.is_empty() {
            out.push(' ');
        }
        push_quoted(&mut out, term);
        let _ = write!(out, ":{}", (i + 1).min(MAX_POSITION));
    }
    out
}

fn reverse(s: &str) -> String {
    s.chars().rev().collect()
}

/// One alternative of a query word: a term, and whether it matches as a
/// prefix (FTS5 `"term"*`, tsquery `'term':*`).
type Alt = (String, bool);

/// A query word's alternatives per column.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parts {
    fwd: Vec<Alt>,
    rev: Vec<Alt>,
}

/// The alternatives of a query word, exactly as [`WordMatch::fts5`] builds
/// them: its stems, and, when `expand`, also as the start or end of a
/// compound.
fn parts(w: &WordMatch, expand: bool) -> Parts {
    let mut p = Parts::default();
    if expand && w.de.chars().count() >= MIN_PART_CHARS {
        p.fwd.push((w.de.clone(), true));
        p.rev.push((reverse(&w.de), true));
    } else {
        p.fwd.push((w.de.clone(), false));
    }
    if let Some(en) = &w.en {
        p.fwd.push((en.clone(), false));
    }
    if expand && let Some(tail) = &w.tail {
        p.rev.push((reverse(tail), true));
    }
    p.fwd.retain(|(t, _)| usable(t));
    p.rev.retain(|(t, _)| usable(t));
    p
}

/// Alternatives as tsquery text (`('a':* | 'b')`), `None` when there are
/// none. Only quoted lexemes, `:*`, `|` and parentheses: it always parses.
fn tsquery(alts: &[Alt]) -> Option<String> {
    if alts.is_empty() {
        return None;
    }
    let mut out = String::from("(");
    for (i, (term, prefix)) in alts.iter().enumerate() {
        if i > 0 {
            out.push_str(" | ");
        }
        push_quoted(&mut out, term);
        if *prefix {
            out.push_str(":*");
        }
    }
    out.push(')');
    Some(out)
}

/// A bind value of a query assembled at run time.
enum Arg {
    Int(i64),
    Text(String),
}

/// The bind values of a dynamic query, numbered as they are added.
#[derive(Default)]
struct Args(Vec<Arg>);

impl Args {
    /// Add an integer; returns its placeholder.
    fn int(&mut self, v: i64) -> String {
        self.0.push(Arg::Int(v));
        format!("${}", self.0.len())
    }

    /// Add a text; returns its placeholder.
    fn text(&mut self, v: String) -> String {
        self.0.push(Arg::Text(v));
        format!("${}", self.0.len())
    }

    /// The query with every value bound. Search queries are not kept as
    /// prepared statements: their shape varies with the words and
    /// filters, and planning with the actual tsqueries lets PostgreSQL
    /// tell a rare word (GIN index first) from a common one (newest ids
    /// first, stopping early).
    fn bind(self, sql: String) -> sqlx::query::Query<'static, Postgres, PgArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
        for arg in self.0 {
            query = match arg {
                Arg::Int(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
            };
        }
        query
    }
}

fn as_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Add a message's terms (replacing any it had).
pub async fn index(
    conn: &mut PgConnection,
    id: MessageId,
    conv: ConversationId,
    terms: &Terms,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO message_search (message_id, conversation_id, fwd, rev) \
         VALUES ($1, $2, $3::tsvector, $4::tsvector) \
         ON CONFLICT (message_id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id, \
         fwd = EXCLUDED.fwd, rev = EXCLUDED.rev",
    )
    .bind(id.0)
    .bind(conv.0)
    .bind(tsvector_text(&terms.forward))
    .bind(tsvector_text(&terms.reversed))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Remove a message's terms (before an edit re-adds them, or on delete).
pub async fn unindex(conn: &mut PgConnection, id: MessageId) -> StoreResult<()> {
    sqlx::query("DELETE FROM message_search WHERE message_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether a word's exact forms have at least [`COMMON_WORD_MATCHES`]
/// matches among the caller's messages (in the conversation asked for, if
/// any). Counting stops there.
async fn is_common(
    conn: &mut PgConnection,
    actor: &Actor,
    only: Option<ConversationId>,
    exact: &Parts,
) -> StoreResult<bool> {
    let Some(fwd) = tsquery(&exact.fwd) else {
        return Ok(false);
    };
    let mut args = Args::default();
    let user = args.int(actor.user_id.0);
    let fwd = args.text(fwd);
    let mut sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM message_search s \
         JOIN members mb ON mb.conversation_id = s.conversation_id AND mb.user_id = {user} \
         WHERE s.fwd @@ {fwd}::tsquery"
    );
    if let Some(c) = only {
        let _ = write!(sql, " AND s.conversation_id = {}", args.int(c.0));
    }
    let _ = write!(sql, " LIMIT {}) x", args.int(as_i64(COMMON_WORD_MATCHES)));
    let row = args.bind(sql).fetch_one(&mut *conn).await?;
    Ok(rows::count::<usize>(&row, 0)? >= COMMON_WORD_MATCHES)
}

/// Messages the actor may read that match the query. A search within a
/// conversation the actor is not a member of answers before any index is
/// read ([`rules::search_elsewhere`]).
pub async fn search(
    conn: &mut PgConnection,
    analyzer: &Analyzer,
    actor: &Actor,
    q: &SearchQuery,
) -> StoreResult<SearchPage> {
    if let Some(c) = q.conversation
        && let Some(empty) = rules::search_elsewhere(role_of(conn, c, actor.user_id).await?)
    {
        return Ok(empty);
    }
    let none = SearchPage {
        hits: Vec::new(),
        has_more: false,
    };
    let Some(parsed) = analyzer.query(&q.text) else {
        return Ok(none);
    };
    // Each word, expanded to compounds unless that changes nothing (short
    // words without a compound tail) or it is common already.
    let mut words = Vec::with_capacity(parsed.words.len());
    for word in &parsed.words {
        let exact = parts(word, false);
        let expanded = parts(word, true);
        let expand = expanded != exact && !is_common(conn, actor, q.conversation, &exact).await?;
        let chosen = if expand { expanded } else { exact };
        let (fwd, rev) = (tsquery(&chosen.fwd), tsquery(&chosen.rev));
        if fwd.is_none() && rev.is_none() {
            // A word that can match nothing: every word must match.
            return Ok(none);
        }
        words.push((fwd, rev));
    }

    let mut args = Args::default();
    let user = args.int(actor.user_id.0);
    // Every word must match (AND); a word matches by any of its forward
    // alternatives or, when expanded, its reversed ones. Each `@@` can use
    // its column's GIN index (a BitmapAnd of BitmapOrs).
    let mut conditions = Vec::with_capacity(words.len());
    for (fwd, rev) in &words {
        let mut alts = Vec::with_capacity(2);
        if let Some(f) = fwd {
            alts.push(format!("s.fwd @@ {}::tsquery", args.text(f.clone())));
        }
        if let Some(r) = rev {
            alts.push(format!("s.rev @@ {}::tsquery", args.text(r.clone())));
        }
        conditions.push(format!("({})", alts.join(" OR ")));
    }
    // The matches in the caller's conversations: the membership join is
    // on the index row's conversation, so it narrows the matches before
    // anything is ranked or sorted.
    let mut source = format!(
        "SELECT s.message_id, s.conversation_id, s.fwd, s.rev FROM message_search s \
         JOIN members mb ON mb.conversation_id = s.conversation_id AND mb.user_id = {user} \
         WHERE {}",
        conditions.join(" AND ")
    );
    if let Some(c) = q.conversation {
        let _ = write!(source, " AND s.conversation_id = {}", args.int(c.0));
    }
    // Ranked by relevance, a word that matches very many messages is
    // ranked over its newest `RANKED_CANDIDATES` matches, unless other
    // filters might leave too few of them: scoring every match of a common
    // word is what made such queries slow.
    let filtered = q.from.is_some() || q.since.is_some() || q.until.is_some() || q.has_file;
    let order = match q.order {
        SearchOrder::Relevance => {
            if !filtered {
                let _ = write!(
                    source,
                    " ORDER BY s.message_id DESC LIMIT {RANKED_CANDIDATES}"
                );
            }
            // Both columns count, like SQLite's bm25 weights (1, 1): a
            // word found whole outranks one found only inside a compound.
            // The rank is computed outside the candidates, so only they
            // are scored.
            let mut ranks = Vec::with_capacity(2);
            let fwd: Vec<&str> = words.iter().filter_map(|w| w.0.as_deref()).collect();
            if !fwd.is_empty() {
                let f = args.text(fwd.join(" & "));
                ranks.push(format!("ts_rank(s.fwd, {f}::tsquery)"));
            }
            let rev: Vec<&str> = words.iter().filter_map(|w| w.1.as_deref()).collect();
            if !rev.is_empty() {
                let r = args.text(rev.join(" & "));
                ranks.push(format!("ts_rank(s.rev, {r}::tsquery)"));
            }
            format!("({}) DESC, m.id DESC", ranks.join(" + "))
        }
        SearchOrder::Newest => "m.id DESC".to_owned(),
    };
    // The message must still be live and in the conversation it was
    // indexed under (the membership checked above).
    let mut sql = format!(
        "SELECT {MESSAGE_COLS} FROM ({source}) s \
         JOIN messages m ON m.id = s.message_id AND m.conversation_id = s.conversation_id \
         WHERE m.deleted_at IS NULL"
    );
    if let Some(from) = q.from {
        let _ = write!(sql, " AND m.sender_id = {}", args.int(from.0));
    }
    if let Some(since) = q.since {
        let _ = write!(sql, " AND m.created_at >= {}", args.int(since.0));
    }
    if let Some(until) = q.until {
        let _ = write!(sql, " AND m.created_at < {}", args.int(until.0));
    }
    if q.has_file {
        sql.push_str(" AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id)");
    }
    let limit = args.int(as_i64(q.limit.saturating_add(1)));
    let offset = args.int(as_i64(q.offset));
    let _ = write!(sql, " ORDER BY {order} LIMIT {limit} OFFSET {offset}");

    let found = args.bind(sql).fetch_all(&mut *conn).await?;
    let has_more = found.len() > q.limit;
    let mut hits = Vec::with_capacity(found.len().min(q.limit));
    for row in found.iter().take(q.limit) {
        let mut message = rows::message(row)?;
        rows::load_message_extras(conn, &mut message).await?;
        let snippet = analyzer.snippet(message.text.as_deref().unwrap_or(""), &parsed);
        hits.push(SearchHit { message, snippet });
    }
    Ok(SearchPage { hits, has_more })
}

/// Live messages in total, for a rebuild's progress.
pub async fn total_messages(conn: &mut PgConnection) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE deleted_at IS NULL")
        .fetch_one(&mut *conn)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Empty the index (the first step of a rebuild). TRUNCATE rather than
/// DELETE: instant however large the index, at the price of holding off
/// other users of the table until this step commits (one batch).
pub async fn clear(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("TRUNCATE message_search")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Index the next `limit` live messages after `after`; returns the last
/// id indexed and how many were, or `None` when none were left.
///
/// The batch's messages are locked (`FOR SHARE`) while their terms are
/// written: an edit or delete committed meanwhile would otherwise have its
/// new terms overwritten by ones computed from the old text. One that
/// comes first is waited for and its result read; one that comes after
/// waits for this step.
pub async fn reindex_batch(
    conn: &mut PgConnection,
    analyzer: &Analyzer,
    after: MessageId,
    limit: usize,
) -> StoreResult<Option<(MessageId, u64)>> {
    let batch: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT id, conversation_id, body FROM messages WHERE id > $1 AND deleted_at IS NULL \
         AND body IS NOT NULL ORDER BY id LIMIT $2 FOR SHARE",
    )
    .bind(after.0)
    .bind(as_i64(limit))
    .fetch_all(&mut *conn)
    .await?;
    // Locked rows may come back out of id order (READ COMMITTED rechecks).
    let Some(last) = batch.iter().map(|b| b.0).max() else {
        return Ok(None);
    };
    let mut ids = Vec::with_capacity(batch.len());
    let mut convs = Vec::with_capacity(batch.len());
    let mut fwds = Vec::with_capacity(batch.len());
    let mut revs = Vec::with_capacity(batch.len());
    for (id, conv, body) in &batch {
        let terms = analyzer.terms(body);
        ids.push(*id);
        convs.push(*conv);
        fwds.push(tsvector_text(&terms.forward));
        revs.push(tsvector_text(&terms.reversed));
    }
    // One statement for the whole batch; a message indexed meanwhile (a
    // send, an edit) gets these same terms from its current text.
    sqlx::query(
        "INSERT INTO message_search (message_id, conversation_id, fwd, rev) \
         SELECT b.id, b.conv, b.fwd::tsvector, b.rev::tsvector \
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS b(id, conv, fwd, rev) \
         ON CONFLICT (message_id) DO UPDATE SET conversation_id = EXCLUDED.conversation_id, \
         fwd = EXCLUDED.fwd, rev = EXCLUDED.rev",
    )
    .bind(ids)
    .bind(convs)
    .bind(fwds)
    .bind(revs)
    .execute(&mut *conn)
    .await?;
    Ok(Some((MessageId(last), batch.len() as u64)))
}

/// One step of an index rebuild: `after = None` starts over (empties the
/// index), then the next `limit` live messages after `after` are indexed.
pub async fn reindex_step(
    u: &mut Unit<'_>,
    analyzer: &Analyzer,
    after: Option<MessageId>,
    limit: usize,
) -> StoreResult<ReindexStep> {
    if after.is_none() {
        clear(u.conn()).await?;
    }
    let total = total_messages(u.conn()).await?;
    let step = reindex_batch(u.conn(), analyzer, after.unwrap_or(MessageId(0)), limit).await?;
    Ok(ReindexStep {
        last: step.map(|s| s.0),
        indexed: step.map_or(0, |s| s.1),
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexemes_are_quoted_and_positioned() {
        assert_eq!(tsvector_text("haus  run haus"), "'haus':1 'run':2 'haus':3");
        assert_eq!(tsvector_text(""), "");
        assert_eq!(tsvector_text("a'b c\\d"), "'a''b':1 'c\\\\d':2");
        let alts = [("sitzung".to_owned(), true), ("it's".to_owned(), false)];
        assert_eq!(tsquery(&alts).as_deref(), Some("('sitzung':* | 'it''s')"));
        assert_eq!(tsquery(&[]), None);
    }

    #[test]
    fn parts_mirror_fts5() {
        let a = Analyzer::default();
        for text in [
            "Sitzung",
            "Häuser",
            "run",
            "Betriebsrat",
            "ab",
            "Wartungsplan",
        ] {
            let q = a.query(text).expect("a word");
            let w = &q.words[0];
            for expand in [false, true] {
                let p = parts(w, expand);
                let mut alts: Vec<String> = Vec::new();
                let col = |c: &str, (t, pre): &Alt| {
                    format!("{c} : \"{t}\"{}", if *pre { "*" } else { "" })
                };
                // FTS5 lists de (fwd, maybe rev), en, tail in that order.
                alts.extend(p.fwd.iter().take(1).map(|x| col("fwd", x)));
                if expand && w.de.chars().count() >= MIN_PART_CHARS {
                    alts.push(col("rev", &p.rev[0]));
                }
                alts.extend(p.fwd.iter().skip(1).map(|x| col("fwd", x)));
                let skip = usize::from(expand && w.de.chars().count() >= MIN_PART_CHARS);
                alts.extend(p.rev.iter().skip(skip).map(|x| col("rev", x)));
                assert_eq!(format!("({})", alts.join(" OR ")), w.fts5(expand), "{text}");
            }
        }
    }
}
