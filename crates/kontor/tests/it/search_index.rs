//! The search index outside the request path: `kontor admin reindex`
//! rebuilds it from the stored messages, and a database from before the
//! search migration gets its existing messages indexed when it is opened.

use crate::common;

use common::process::{ServerProcess, run_ok};
use kontor_client::Client;
use kontor_client::kontor_wire::requests::SearchParams;

fn q(text: &str) -> SearchParams {
    SearchParams {
        q: text.into(),
        ..Default::default()
    }
}

/// Live (not deleted) messages in the data directory's database.
fn live_messages(db: &std::path::Path) -> u64 {
    let conn = rusqlite::Connection::open(db).expect("open db");
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE deleted_at IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    u64::try_from(n).expect("a count")
}

async fn bernd_finds(url: &str, words: &str) -> usize {
    let mut bernd = Client::new(url).expect("client");
    bernd
        .login("bernd.mueller", "kontor-demo", Some("search-test"))
        .await
        .expect("demo login");
    bernd.search(&q(words)).await.expect("search").hits.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_rebuilds_and_old_databases_are_indexed_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8").to_owned();
    let db = dir.path().join("kontor.db");
    run_ok(&["demo", "--seed-only", "--data-dir", &data], "");
    let pg = common::database::database_url_for(dir.path());
    let live = match &pg {
        Some(url) => {
            let n = common::database::scalar(
                url,
                "SELECT COUNT(*) FROM messages WHERE deleted_at IS NULL",
            );
            u64::try_from(n).expect("a count")
        }
        None => live_messages(&db),
    };
    assert!(live >= 300, "{live}");

    let out = run_ok(&["admin", "--data-dir", &data, "reindex"], "");
    assert!(
        out.contains(&format!("search index rebuilt: {live} messages indexed")),
        "{out}"
    );
    if let Some(url) = &pg {
        let server = ServerProcess::start("serve", dir.path());
        assert!(bernd_finds(&server.url, "Schichtübergaben").await >= 1);
        drop(server);
        let indexed = common::database::scalar(url, "SELECT COUNT(*) FROM message_search");
        assert_eq!(u64::try_from(indexed).ok(), Some(live));
        // Opening a database from before search existed is SQLite's
        // history only: PostgreSQL starts at the current schema.
        return;
    }

    // Turn the database into one from before search (and files, and the
    // presence setting) existed: no index or attachment table, no
    // `users.share_presence`, schema version 2.
    {
        let conn = rusqlite::Connection::open(&db).expect("open db");
        conn.execute_batch(
            "DROP TABLE attachments; DROP TABLE message_search; \
             ALTER TABLE users DROP COLUMN share_presence; PRAGMA user_version = 2;",
        )
        .expect("downgrade");
    }
    let server = ServerProcess::start("serve", dir.path());
    // Demo text (see demo.rs): "Schichtübergabe: Linie 2 läuft stabil, …".
    assert!(bernd_finds(&server.url, "Schichtübergaben").await >= 1);
    assert!(
        bernd_finds(&server.url, "Übergabe").await >= 1,
        "compound part"
    );
    drop(server);

    let conn = rusqlite::Connection::open(&db).expect("open db");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert!(version >= 3, "{version}");
    let indexed: i64 = conn
        .query_row("SELECT COUNT(*) FROM message_search", [], |r| r.get(0))
        .expect("indexed");
    assert_eq!(u64::try_from(indexed).ok(), Some(live));
}
