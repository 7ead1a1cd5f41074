//! Migrations for PostgreSQL: embedded, numbered like SQLite's, applied
//! by the node that starts first while the others wait on an advisory
//! lock, and refused when the database is newer than the binary.

use sqlx::{PgConnection, PgPool};

use crate::StoreResult;

/// Embedded migrations, applied in order; `kontor_schema.version` records
/// how many have run. Never edit a released migration: append a new one.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_core.sql"),
    include_str!("../../migrations/postgres/0002_presence_sharing.sql"),
];

/// The advisory lock key that serialises migrations between nodes
/// ("kontor" in ASCII).
const MIGRATION_LOCK: i64 = 0x6b6f_6e74_6f72;

/// Apply the migrations this database lacks.
pub async fn migrate(pool: &PgPool) -> StoreResult<()> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await?;
    let result = apply(&mut conn).await;
    // Also released when the connection closes, should this fail.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *conn)
        .await;
    result
}

async fn apply(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS kontor_schema (version BIGINT NOT NULL); \
         INSERT INTO kontor_schema (version) SELECT 0 \
         WHERE NOT EXISTS (SELECT 1 FROM kontor_schema);",
    )
    .execute(&mut *conn)
    .await?;
    let done: i64 = sqlx::query_scalar("SELECT version FROM kontor_schema")
        .fetch_one(&mut *conn)
        .await?;
    let done = usize::try_from(done).unwrap_or(usize::MAX);
    crate::rules::check_schema_version(done, MIGRATIONS.len())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::raw_sql(*sql).execute(&mut *tx).await?;
        sqlx::query("UPDATE kontor_schema SET version = $1")
            .bind((i + 1) as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(version = i + 1, "applied PostgreSQL migration");
    }
    Ok(())
}

/// Whether the database holds no Kontor data (no organisation, no user):
/// the migrate command refuses to copy into anything else.
pub async fn is_empty(pool: &PgPool) -> StoreResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM orgs) AND NOT EXISTS (SELECT 1 FROM users) \
         AND NOT EXISTS (SELECT 1 FROM events)",
    )
    .fetch_one(pool)
    .await?)
}
