//! `kontor admin migrate`: a demo installation on SQLite, with a file,
//! is copied into an empty PostgreSQL database; every table's count and
//! checksum is verified, the copy refuses a non-empty target unless told
//! to, and a server on the target serves the same data (search rebuilt,
//! the file readable).

use crate::common;

use common::process::{ServerProcess, kontor, run};
use kontor_client::Client;
use kontor_client::kontor_wire::requests::{SearchParams, SendMessage};

/// `kontor args…` on SQLite whatever the test pass, so the source is one.
fn sqlite_run(args: &[&str]) -> std::process::Output {
    kontor().args(args).output().expect("kontor runs")
}

fn count(db: &std::path::Path, table: &str) -> u64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    let n: i64 = conn
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .expect("count");
    u64::try_from(n).expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL"]
async fn a_demo_installation_moves_to_postgres_verified() {
    let source = tempfile::tempdir().expect("source");
    let src = source.path().to_str().expect("utf-8").to_owned();
    let out = sqlite_run(&["demo", "--seed-only", "--data-dir", &src]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A file, so there is something to copy besides rows.
    let server = ServerProcess::start_command(kontor(), "serve", source.path());
    let mut bernd = Client::new(&server.url).expect("client");
    bernd
        .login("bernd.mueller", "kontor-demo", None)
        .await
        .expect("login");
    let conv = bernd.conversations().await.expect("list")[0]
        .conversation
        .id;
    let up = bernd
        .upload(conv, "Schichtplan.txt", b"Fruehschicht: Bernd".to_vec())
        .await
        .expect("upload");
    bernd
        .send(
            conv,
            &SendMessage {
                txn_id: "m-1".into(),
                text: "Schichtplan anbei".into(),
                attachment_ids: vec![up.id],
                ..Default::default()
            },
        )
        .await
        .expect("send");
    drop(server);
    let db = source.path().join("kontor.db");
    let messages = count(&db, "messages");

    let target = tempfile::tempdir().expect("target");
    let admin = std::env::var("KONTOR_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let url = common::database::fresh_database(
        &admin,
        &format!("kontor_{}", common::txn().replace('-', "_")),
    );
    std::fs::write(target.path().join("test-database-url"), &url).expect("marker");
    let tgt = target.path().to_str().expect("utf-8").to_owned();
    let migrate = [
        "admin",
        "--data-dir",
        &tgt,
        "migrate",
        "--from",
        &src,
        "--to",
        &url,
    ];
    let out = run(&migrate, "");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for table in [
        "orgs",
        "users",
        "conversations",
        "members",
        "messages",
        "events",
        "attachments",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{table} ")))
            .unwrap_or_else(|| panic!("no report for {table}: {stdout}"));
        assert!(
            line.contains(&format!(" {} rows", count(&db, table))),
            "{line}"
        );
        assert!(line.ends_with("verified"), "{line}");
    }
    assert!(stdout.contains("files: 1 copied"), "{stdout}");
    assert!(stdout.contains("search index rebuilt: "), "{stdout}");
    assert_eq!(
        common::database::scalar(&url, "SELECT COUNT(*) FROM messages") as u64,
        messages
    );

    // Not into a non-empty target, unless told to.
    let out = run(&migrate, "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let mut forced = migrate.to_vec();
    forced.push("--force");
    assert!(run(&forced, "").status.success());
    assert_eq!(
        common::database::scalar(&url, "SELECT COUNT(*) FROM messages") as u64,
        messages
    );

    // A server on the target has it all: logins, search, the file.
    let server = ServerProcess::start("serve", target.path());
    let mut bernd = Client::new(&server.url).expect("client");
    bernd
        .login("bernd.mueller", "kontor-demo", None)
        .await
        .expect("login");
    let hits = bernd
        .search(&SearchParams {
            q: "Schichtplan".into(),
            ..Default::default()
        })
        .await
        .expect("search");
    assert!(!hits.hits.is_empty());
    let file = bernd.download(up.id, false).await.expect("download");
    assert_eq!(file.bytes, b"Fruehschicht: Bernd");
}
