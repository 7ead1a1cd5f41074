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

use crate::registry::{self, Kind, Table};

/// The tables the copy moves, parents before children, with how.
fn copied_tables() -> impl Iterator<Item = (&'static Table, registry::Copy)> {
    registry::TABLES
        .iter()
        .filter_map(|t| t.copy.map(|c| (t, c)))
}

/// The copied columns of `t`: those both engines have.
fn columns(t: &Table) -> Vec<(&'static str, Kind)> {
    t.shared_columns().map(|c| (c.name, c.kind)).collect()
}

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
        (ValueRef::Integer(i), Kind::Int | Kind::Bool) => Value::Int(i),
        (ValueRef::Text(t), Kind::Text) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        (ValueRef::Blob(b), Kind::Bytes) => Value::Bytes(b.to_vec()),
        (other, _) => {
            return Err(StoreError::Internal(format!(
                "unexpected SQLite value {other:?} in the source database"
            )));
        }
    })
}

fn pg_value(r: &PgRow, i: usize, kind: Kind) -> StoreResult<Value> {
    Ok(match kind {
        Kind::Int => r
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::Int),
        Kind::Bool => r
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, |b| Value::Int(i64::from(b))),
        Kind::Text => r
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::Text),
        Kind::Bytes => r
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Value::Null, Value::Bytes),
        Kind::IntList | Kind::Words => return Err(not_copyable(kind)),
    })
}

/// Only columns both engines store alike are copied; the registry test
/// keeps the others out of copied tables' shared columns.
fn not_copyable(kind: Kind) -> StoreError {
    StoreError::Internal(format!("a {kind:?} column cannot be copied"))
}

/// Rows of a table that the source holds, in order.
fn read_sqlite(
    conn: &rusqlite::Connection,
    t: &Table,
    copy: registry::Copy,
) -> StoreResult<Vec<Vec<Value>>> {
    let columns = columns(t);
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        names.join(", "),
        t.name,
        copy.order
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let mut row = Vec::with_capacity(columns.len());
        for (i, (_, kind)) in columns.iter().enumerate() {
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
    let columns = columns(t);
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let mut q: QueryBuilder<sqlx::Postgres> =
        QueryBuilder::new(format!("INSERT INTO {} ({}) ", t.name, names.join(", ")));
    q.push_values(rows, |mut b, row| {
        for (v, (_, kind)) in row.iter().zip(&columns) {
            match (v, kind) {
                (Value::Null, Kind::Bool) => b.push_bind(None::<bool>),
                (Value::Null, Kind::Text) => b.push_bind(None::<String>),
                (Value::Null, Kind::Bytes) => b.push_bind(None::<Vec<u8>>),
                (Value::Null, _) => b.push_bind(None::<i64>),
                (Value::Int(i), Kind::Bool) => b.push_bind(*i != 0),
                (Value::Int(i), _) => b.push_bind(*i),
                (Value::Text(s), _) => b.push_bind(s.clone()),
                (Value::Bytes(x), _) => b.push_bind(x.clone()),
            };
        }
    });
    q.build().execute(pool).await?;
    Ok(())
}

async fn read_postgres(
    pool: &PgPool,
    t: &Table,
    copy: registry::Copy,
) -> StoreResult<Vec<Vec<Value>>> {
    let columns = columns(t);
    let names: Vec<&str> = columns.iter().map(|c| c.0).collect();
    // Bytewise text order, as SQLite's BINARY collation.
    let order = copy
        .order
        .split(", ")
        .map(|key| match columns.iter().find(|c| c.0 == key) {
            Some((_, Kind::Text)) => format!("{key} COLLATE \"C\""),
            _ => key.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {order}",
        names.join(", "),
        t.name
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut row = Vec::with_capacity(columns.len());
        for (i, (_, kind)) in columns.iter().enumerate() {
            row.push(pg_value(&r, i, *kind)?);
        }
        out.push(row);
    }
    Ok(out)
}

/// Empty every Kontor table of the target (the migrate command's
/// `--force`), positions included.
pub async fn clear_target(pool: &PgPool) -> StoreResult<()> {
    let names: Vec<&str> = registry::TABLES
        .iter()
        .filter(|t| t.engines.postgres() && t.retention != registry::Retention::Singleton)
        .map(|t| t.name)
        .collect();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "TRUNCATE {} RESTART IDENTITY CASCADE; UPDATE event_head SET seq = 0;",
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
    let mut reports = Vec::new();
    for (t, copy) in copied_tables() {
        let rows = read_sqlite(&snapshot, t, copy)?;
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
        if let Some(col) = copy.identity {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{0}', '{col}'), \
                 GREATEST((SELECT COALESCE(MAX({col}), 0) FROM {0}), 1), \
                 (SELECT COUNT(*) > 0 FROM {0}))",
                t.name
            )))
            .execute(target)
            .await?;
        }
        let copied = read_postgres(target, t, copy).await?;
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
