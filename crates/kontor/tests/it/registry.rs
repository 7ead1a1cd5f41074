//! The table registry (`kontor_storage::registry`) names exactly the tables
//! and columns each engine's migrations create, with the kind each column
//! is stored as. A migration that adds a table or column without a
//! registry entry, or a registry entry no migration creates, fails here by
//! name, on SQLite and on PostgreSQL.

use std::collections::BTreeMap;

use kontor_storage::registry::{self, Kind};

use crate::common;

/// Table → column → how the schema declares it.
type Schema = BTreeMap<String, BTreeMap<String, String>>;

/// What the registry says `engine` must have, in the schema's words.
fn expected(on_sqlite: bool) -> Schema {
    let mut out = Schema::new();
    for t in registry::TABLES {
        let has = |e: registry::Engines| if on_sqlite { e.sqlite() } else { e.postgres() };
        if !has(t.engines) {
            continue;
        }
        let columns = t
            .columns
            .iter()
            .filter(|c| has(c.engines))
            .map(|c| {
                let declared = match (c.kind, on_sqlite) {
                    (Kind::Int | Kind::Bool, true) => "INTEGER",
                    (Kind::Text, true) => "TEXT",
                    (Kind::Bytes, true) => "BLOB",
                    (Kind::Words, true) => "",
                    (Kind::IntList, true) => "no list type in SQLite",
                    (Kind::Int, false) => "bigint",
                    (Kind::Bool, false) => "boolean",
                    (Kind::Text, false) => "text",
                    (Kind::Bytes, false) => "bytea",
                    (Kind::IntList, false) => "bigint[]",
                    (Kind::Words, false) => "tsvector",
                };
                (c.name.to_owned(), declared.to_owned())
            })
            .collect();
        out.insert(t.name.to_owned(), columns);
    }
    out
}

fn sqlite_schema(db: &std::path::Path) -> Schema {
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("prepare");
    let tables: Vec<(String, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            ))
        })
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("rows");
    let virtual_tables: Vec<&str> = tables
        .iter()
        .filter(|(_, sql)| sql.starts_with("CREATE VIRTUAL TABLE"))
        .map(|(name, _)| name.as_str())
        .collect();
    let mut out = Schema::new();
    for (name, _) in &tables {
        // SQLite's own bookkeeping and the shadow tables FTS5 keeps for a
        // virtual table are not Kontor's tables.
        let shadow = virtual_tables.iter().any(|v| {
            name.strip_prefix(v)
                .is_some_and(|rest| rest.starts_with('_'))
        });
        if name.starts_with("sqlite_") || shadow {
            continue;
        }
        let mut info = conn
            .prepare(&format!(
                "SELECT name, type FROM pragma_table_info('{name}')"
            ))
            .expect("table info");
        let columns = info
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("columns")
            .collect::<Result<_, _>>()
            .expect("rows");
        out.insert(name.clone(), columns);
    }
    out
}

fn postgres_schema(url: &str) -> Schema {
    let rows: Vec<(String, String, String)> = common::database::with_connection(url, |conn| {
        Box::pin(async move {
            sqlx::query_as(
                "SELECT table_name::text, column_name::text, \
                     CASE WHEN data_type = 'ARRAY' THEN substr(udt_name::text, 2) || '[]' \
                          WHEN data_type = 'USER-DEFINED' THEN udt_name::text \
                          ELSE data_type::text END \
                     FROM information_schema.columns WHERE table_schema = 'public'",
            )
            .fetch_all(&mut *conn)
            .await
            .expect("columns")
        })
    });
    let mut out = Schema::new();
    for (table, column, declared) in rows {
        let declared = declared.replace("int8", "bigint");
        out.entry(table).or_default().insert(column, declared);
    }
    out
}

/// Compares table by table so a mismatch names its table.
fn assert_same(engine: &str, schema: &Schema, registry: &Schema) {
    let in_schema: Vec<&String> = schema.keys().collect();
    let in_registry: Vec<&String> = registry.keys().collect();
    assert_eq!(
        in_schema, in_registry,
        "{engine}: the schema's tables (left) differ from the registry's (right)"
    );
    for (table, columns) in schema {
        assert_eq!(
            Some(columns),
            registry.get(table),
            "{engine}: table {table}: the schema's columns (left) differ from the registry's (right)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_names_every_sqlite_table_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = common::TestServer::start_configured(dir, |c| c.database.url.clear()).await;
    let schema = sqlite_schema(&srv.dir.path().join("kontor.db"));
    assert!(schema.contains_key("messages"), "{schema:?}");
    assert_same("SQLite", &schema, &expected(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn the_registry_names_every_postgres_table_and_column() {
    let admin = std::env::var("KONTOR_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let url = common::database::fresh_database(
        &admin,
        &format!("kontor_{}", common::txn().replace('-', "_")),
    );
    let pool = kontor_storage::postgres::connect_migrated(&url)
        .await
        .expect("migrate");
    pool.close().await;
    let schema = postgres_schema(&url);
    assert!(schema.contains_key("messages"), "{schema:?}");
    assert_same("PostgreSQL", &schema, &expected(false));
}
