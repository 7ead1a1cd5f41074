//! Opening an SQLite database: the pragmas every connection gets, the
//! check that acknowledged writes are durable, the migrations, and the
//! search index rebuild for databases from before search.

use std::time::Duration;

use kontor_core::ids::MessageId;
use rusqlite::Connection;
use rusqlite::config::DbConfig;

use super::search;
use crate::search::Analyzer;
use crate::{StoreError, StoreResult};

/// Embedded migrations, applied in order; `PRAGMA user_version` records how
/// many have run. Never edit a released migration: append a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_core.sql"),
    include_str!("../../migrations/sqlite/0002_leaner_indexes.sql"),
    include_str!("../../migrations/sqlite/0003_search.sql"),
    include_str!("../../migrations/sqlite/0004_attachments.sql"),
    include_str!("../../migrations/sqlite/0005_search_by_conversation.sql"),
    include_str!("../../migrations/sqlite/0006_unsent_uploads.sql"),
    include_str!("../../migrations/sqlite/0007_ids_never_reused.sql"),
    include_str!("../../migrations/sqlite/0008_presence_sharing.sql"),
];
/// The schema version that last (re)created the search index: a database
/// migrated past it at start-up gets its existing messages indexed.
pub(super) const SEARCH_INDEX_VERSION: usize = 5;
/// Messages indexed per transaction when rebuilding the search index.
pub const REINDEX_BATCH: usize = 1000;

/// How long a connection waits for another process (the offline admin
/// commands) holding the write lock before giving up.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings every connection gets. The query planner stability guarantee
/// keeps a cached statement's plan fixed: without it SQLite 3.54 marks
/// joins and some index choices as depending on bound values and
/// re-prepares the statement on every execution, which profiles showed as
/// the largest single cost of authenticating a request.
pub(super) fn tune(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

pub(super) fn configure(conn: &Connection) -> StoreResult<()> {
    tune(conn)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA secure_delete = ON;",
    )?;
    verify_durability(conn)
}

/// Refuse to run unless the settings that make an acknowledged write
/// durable are really in effect (a file system without WAL support, say,
/// silently keeps another journal mode).
fn verify_durability(conn: &Connection) -> StoreResult<()> {
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") || sync < 2 || fk != 1 {
        return Err(StoreError::Unavailable(format!(
            "unsafe SQLite settings (journal_mode={journal}, synchronous={sync}, foreign_keys={fk}); \
             refusing to start"
        )));
    }
    Ok(())
}

/// Apply the migrations this database lacks; returns the version it had.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<usize> {
    let done: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let done = usize::try_from(done).unwrap_or(usize::MAX);
    crate::rules::check_schema_version(done, MIGRATIONS.len())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied database migration");
    }
    Ok(done)
}

/// Index every existing message (after the search migration ran on a
/// database that already had messages), batch by batch.
pub(super) fn build_search_index(conn: &mut Connection, analyzer: &Analyzer) -> StoreResult<()> {
    let mut after = MessageId(0);
    let mut indexed = 0u64;
    loop {
        let tx = conn.transaction()?;
        let step = search::reindex_batch(&tx, analyzer, after, REINDEX_BATCH)?;
        tx.commit()?;
        match step {
            Some((last, n)) => {
                after = last;
                indexed += n;
            }
            None => break,
        }
    }
    tracing::info!(indexed, "indexed existing messages for search");
    Ok(())
}
