//! Which database a test runs against. With `KONTOR_TEST_DATABASE_URL` set
//! (a PostgreSQL server URL whose user may create databases; `.ci/run`
//! sets it for its second pass over the suite), every test data directory
//! gets a fresh database of its own, named in `<dir>/test-database-url`, so
//! a test that restarts a server on the same directory finds its data
//! again and tests never see each other's. Without it, SQLite in the data
//! directory, as in production by default.

use std::path::Path;

/// The file in a test data directory that names its database.
const MARKER: &str = "test-database-url";

/// Whether this run's tests use PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("KONTOR_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// The database URL for the test data directory `dir`, creating the
/// database on first use; `None` on SQLite.
pub fn database_url_for(dir: &Path) -> Option<String> {
    // A directory a test pointed at a database itself (the cluster tests)
    // keeps it on either pass.
    let marker = dir.join(MARKER);
    if let Ok(url) = std::fs::read_to_string(&marker) {
        return Some(url.trim().to_owned());
    }
    let admin = std::env::var("KONTOR_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let name = format!("kontor_{}", super::txn().replace('-', "_"));
    let url = fresh_database(&admin, &name);
    std::fs::create_dir_all(dir).expect("test data dir");
    std::fs::write(&marker, &url).expect("write database marker");
    Some(url)
}

/// Create database `name` on the server of `admin` and return its URL.
pub fn fresh_database(admin: &str, name: &str) -> String {
    let create = format!("CREATE DATABASE {name}");
    with_connection(admin, move |conn| {
        Box::pin(async move {
            sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                .execute(&mut *conn)
                .await
                .expect("create test database");
        })
    });
    match admin.rsplit_once('/') {
        Some((server, _)) if server.contains("://") && !server.ends_with('/') => {
            format!("{server}/{name}")
        }
        _ => format!("{}/{name}", admin.trim_end_matches('/')),
    }
}

/// Run `f` with a connection to `url` on a runtime of its own (callable
/// from sync and async tests alike).
pub fn with_connection<T: Send + 'static>(
    url: &str,
    f: impl for<'c> FnOnce(
        &'c mut sqlx::PgConnection,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>
    + Send
    + 'static,
) -> T {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            f(&mut conn).await
        })
    })
    .join()
    .expect("database thread")
}

/// Rows of any table in the database at `url` whose text form contains
/// `needle` (as text, or as hex inside a BYTEA): proof that deleted or
/// edited-away text left no trace.
pub fn rows_containing(url: &str, needle: &str) -> i64 {
    let needle = needle.to_owned();
    with_connection(url, move |conn| {
        Box::pin(async move {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&mut *conn)
            .await
            .expect("tables");
            let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
            let mut found = 0i64;
            for t in tables {
                let sql = format!(
                    "SELECT COUNT(*) FROM \"{t}\" r WHERE strpos(r::text, $1) > 0 \
                     OR strpos(r::text, $2) > 0"
                );
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(&needle)
                    .bind(&hex)
                    .fetch_one(&mut *conn)
                    .await
                    .expect("count");
                found += n;
            }
            found
        })
    })
}

/// A single number from the test database of `url`.
pub fn scalar(url: &str, sql: &'static str) -> i64 {
    with_connection(url, move |conn| {
        Box::pin(async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&mut *conn)
                .await
                .expect("query")
        })
    })
}
