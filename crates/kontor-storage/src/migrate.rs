//! Moving an installation from SQLite to PostgreSQL: copy every table in
//! dependency order, keep every id and event position, and prove the copy
//! with a row count and a SHA-256 per table computed the same way on both
//! sides.
//!
//! The search index is not copied (its SQLite form is FTS5); the caller
//! rebuilds it on the target with [`crate::Storage::reindex_step`]. Files
//! are the caller's business too (they live in a blob store, not here).

use rusqlite::OpenFlags;
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, QueryBuilder, Row};

use crate::{StoreError, StoreResult};

/// Rows per INSERT statement (PostgreSQL allows 65,535 parameters; the
/// widest table has 13 columns).
pub const COPY_BATCH: usize = 1000;

/// How a column is stored: the one place that knows SQLite's 0/1 booleans
/// are PostgreSQL BOOLEANs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
}

/// A table to copy: its columns (those both schemas share) and its order.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    /// ORDER BY, the same on both sides (text ordered bytewise).
    order: &'static str,
    /// The identity column to move past the copied ids, if any.
    identity: Option<&'static str>,
}

use Kind::*;

/// Every table, parents before children.
const TABLES: &[Table] = &[
    Table {
        name: "orgs",
        columns: &[("id", Int), ("name", Text), ("created_at", Int)],
        order: "id",
        identity: Some("id"),
    },
    Table {
        name: "users",
        columns: &[
            ("id", Int),
            ("org_id", Int),
            ("username", Text),
            ("email", Text),
            ("display_name", Text),
            ("org_role", Text),
            ("password_hash", Text),
            ("created_at", Int),
            ("share_presence", Bool),
        ],
        order: "id",
        identity: Some("id"),
    },
    Table {
        name: "sessions",
        columns: &[
            ("id", Int),
            ("user_id", Int),
            ("token_hash", Bytes),
            ("device_name", Text),
            ("created_at", Int),
            ("last_seen_at", Int),
        ],
        order: "id",
        identity: Some("id"),
    },
    Table {
        name: "conversations",
        columns: &[
            ("id", Int),
            ("org_id", Int),
            ("kind", Text),
            ("name", Text),
            ("topic", Text),
            ("is_public", Bool),
            ("announcement", Bool),
            ("direct_key", Text),
            ("created_by", Int),
            ("created_at", Int),
            ("last_message_id", Int),
            ("last_activity_at", Int),
            ("member_count", Int),
        ],
        order: "id",
        identity: Some("id"),
    },
    Table {
        name: "members",
        columns: &[
            ("conversation_id", Int),
            ("user_id", Int),
            ("role", Text),
            ("joined_at", Int),
            ("joined_seq", Int),
            ("last_read_message_id", Int),
        ],
        order: "conversation_id, user_id",
        identity: None,
    },
    Table {
        name: "messages",
        columns: &[
            ("id", Int),
            ("conversation_id", Int),
            ("sender_id", Int),
            ("txn_id", Text),
            ("thread_root_id", Int),
            ("body", Text),
            ("mentions_channel", Bool),
            ("reply_count", Int),
            ("last_reply_at", Int),
            ("created_at", Int),
            ("edited_at", Int),
            ("deleted_at", Int),
        ],
        order: "id",
        identity: Some("id"),
    },
    Table {
        name: "mentions",
        columns: &[("message_id", Int), ("user_id", Int)],
        order: "message_id, user_id",
        identity: None,
    },
    Table {
        name: "reactions",
        columns: &[
            ("message_id", Int),
            ("user_id", Int),
            ("emoji", Text),
            ("created_at", Int),
        ],
        order: "message_id, emoji, user_id",
        identity: None,
    },
    Table {
        name: "events",
        columns: &[
            ("seq", Int),
            ("kind", Text),
            ("audience_conversation_id", Int),
            ("audience_user_id", Int),
            ("content_message_id", Int),
            ("payload", Bytes),
            ("created_at", Int),
        ],
        order: "seq",
        identity: None,
    },
    Table {
        name: "attachments",
        columns: &[
            ("id", Int),
            ("org_id", Int),
            ("conversation_id", Int),
            ("message_id", Int),
            ("uploader_id", Int),
            ("name", Text),
            ("content_type", Text),
            ("size", Int),
            ("width", Int),
            ("height", Int),
            ("object_key", Text),
            ("thumbnail_key", Text),
            ("created_at", Int),
        ],
        order: "id",
        identity: Some("id"),
    },
];

/// One value, as both sides hash it.
#[derive(Debug, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    fn hash_into(&self, h: &mut Sha256) {
        match self {
            Value::Null => h.update([0u8]),
            Value::Int(i) => {
                h.update([1u8]);
                h.update(i.to_le_bytes());
            }
            Value::Text(t) => {
                h.update([2u8]);
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
            Value::Bytes(b) => {
                h.update([3u8]);
                h.update((b.len() as u64).to_le_bytes());
                h.update(b);
            }
        }
    }
}

/// What the copy of one table did, verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableReport {
    /// The table.
    pub table: &'static str,
    /// Rows in the source, and (verified equal) in the target.
    pub rows: u64,
    /// SHA-256 over the rows in order, hex; equal on both sides.
    pub checksum: String,
}

/// Progress of a copy, for a progress bar.
pub enum Progress<'a> {
    /// Starting table `name` with `rows` rows.
    Table { name: &'a str, rows: u64 },
    /// `rows` more rows copied.
    Copied { rows: u64 },
}

fn sqlite_value(v: ValueRef<'_>, kind: Kind) -> StoreResult<Value> {
    Ok(match (v, kind) {
        (ValueRef::Null, _) => Value::Null,
        (ValueRef::Integer(i), Int | Bool) => Value::Int(i),
        (ValueRef::Text(t), Text) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        (ValueRef::Blob(b), Bytes) => Value::Bytes(b.to_vec()),
        (other, _) => {
            return Err(StoreError::Internal(format!(
                "unexpected SQLite value {other:?} in the source database"
            )));
        }
    })
}

fn pg_value(r: &PgRow, i: usize, kind: Kind) -> StoreResult<Value> {
    Ok(match kind {
        Int => r
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::Int),
        Bool => r
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, |b| Value::Int(i64::from(b))),
        Text => r
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::Text),
        Bytes => r
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Value::Null, Value::Bytes),
    })
}

/// Rows of a table that the source holds, in order.
fn read_sqlite(conn: &rusqlite::Connection, t: &Table) -> StoreResult<Vec<Vec<Value>>> {
    let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        cols.join(", "),
        t.name,
        t.order
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(t.columns.len());
        for (i, (_, kind)) in t.columns.iter().enumerate() {
            row.push(sqlite_value(r.get_ref(i)?, *kind)?);
        }
        out.push(row);
    }
    Ok(out)
}

fn checksum(rows: &[Vec<Value>]) -> String {
    let mut h = Sha256::new();
    for row in rows {
        for v in row {
            v.hash_into(&mut h);
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

async fn insert_batch(pool: &PgPool, t: &Table, rows: &[Vec<Value>]) -> StoreResult<()> {
    let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    let mut q: QueryBuilder<sqlx::Postgres> =
        QueryBuilder::new(format!("INSERT INTO {} ({}) ", t.name, cols.join(", ")));
    q.push_values(rows, |mut b, row| {
        for (v, (_, kind)) in row.iter().zip(t.columns) {
            match (v, kind) {
                (Value::Null, Int) => b.push_bind(None::<i64>),
                (Value::Null, Bool) => b.push_bind(None::<bool>),
                (Value::Null, Text) => b.push_bind(None::<String>),
                (Value::Null, Bytes) => b.push_bind(None::<Vec<u8>>),
                (Value::Int(i), Bool) => b.push_bind(*i != 0),
                (Value::Int(i), _) => b.push_bind(*i),
                (Value::Text(s), _) => b.push_bind(s.clone()),
                (Value::Bytes(x), _) => b.push_bind(x.clone()),
            };
        }
    });
    q.build().execute(pool).await?;
    Ok(())
}

async fn read_postgres(pool: &PgPool, t: &Table) -> StoreResult<Vec<Vec<Value>>> {
    let cols: Vec<&str> = t.columns.iter().map(|c| c.0).collect();
    // Bytewise text order, as SQLite's BINARY collation.
    let order = t.order.replace("emoji", "emoji COLLATE \"C\"");
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {order}",
        cols.join(", "),
        t.name
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut row = Vec::with_capacity(t.columns.len());
        for (i, (_, kind)) in t.columns.iter().enumerate() {
            row.push(pg_value(&r, i, *kind)?);
        }
        out.push(row);
    }
    Ok(out)
}

/// Empty every Kontor table of the target (the migrate command's
/// `--force`), positions included.
pub async fn clear_target(pool: &PgPool) -> StoreResult<()> {
    let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "TRUNCATE {}, message_search RESTART IDENTITY CASCADE; UPDATE event_head SET seq = 0;",
        names.join(", ")
    )))
    .execute(pool)
    .await?;
    Ok(())
}

/// Copy the SQLite database at `source` (current schema, read in one
/// snapshot) into the migrated, empty PostgreSQL `target`, then verify.
pub async fn copy(
    source: &std::path::Path,
    target: &PgPool,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> StoreResult<Vec<TableReport>> {
    let mut conn = rusqlite::Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let snapshot = conn.transaction()?;
    let mut reports = Vec::with_capacity(TABLES.len());
    for t in TABLES {
        let rows = read_sqlite(&snapshot, t)?;
        progress(Progress::Table {
            name: t.name,
            rows: rows.len() as u64,
        });
        for batch in rows.chunks(COPY_BATCH) {
            insert_batch(target, t, batch).await?;
            progress(Progress::Copied {
                rows: batch.len() as u64,
            });
        }
        if let Some(col) = t.identity {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{0}', '{col}'), \
                 GREATEST((SELECT COALESCE(MAX({col}), 0) FROM {0}), 1), \
                 (SELECT COUNT(*) > 0 FROM {0}))",
                t.name
            )))
            .execute(target)
            .await?;
        }
        let copied = read_postgres(target, t).await?;
        let (expected, got) = (checksum(&rows), checksum(&copied));
        if rows.len() != copied.len() || expected != got {
            return Err(StoreError::Internal(format!(
                "verification failed for {}: {} rows (sha256 {expected}) in the source, \
                 {} rows (sha256 {got}) in the target",
                t.name,
                rows.len(),
                copied.len()
            )));
        }
        reports.push(TableReport {
            table: t.name,
            rows: rows.len() as u64,
            checksum: expected,
        });
    }
    sqlx::query("UPDATE event_head SET seq = (SELECT COALESCE(MAX(seq), 0) FROM events)")
        .execute(target)
        .await?;
    Ok(reports)
}
