//! The `kontor` binary end to end: the demo company (and that seeding twice
//! duplicates nothing), the offline admin commands, and the command-line
//! client against a running server.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use common::process::{ServerProcess, kontor, run, run_ok, seed_org};
use kontor_client::Client;
use kontor_client::kontor_wire::requests::HistoryParams;

fn number_before(haystack: &str, suffix: &str) -> usize {
    let at = haystack
        .find(suffix)
        .unwrap_or_else(|| panic!("no {suffix:?} in {haystack}"));
    let digits: String = haystack[..at]
        .trim_end()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .chars()
        .rev()
        .collect::<String>()
        .parse()
        .expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_company_is_populated_and_seeding_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8").to_owned();
    let first = run_ok(&["demo", "--seed-only", "--data-dir", &data], "");
    assert!(number_before(&first, "people;") >= 25, "{first}");
    let added = number_before(&first, "messages added");
    assert!(added >= 300, "{first}");
    assert!(
        first.contains("kontor-demo") && first.contains("anna.schmidt"),
        "{first}"
    );
    let second = run_ok(&["demo", "--seed-only", "--data-dir", &data], "");
    assert_eq!(
        number_before(&second, "messages added"),
        0,
        "second run added messages: {second}"
    );
    let users = run_ok(&["admin", "--data-dir", &data, "list-users"], "");
    let listed = users.lines().filter(|l| l.starts_with("  ")).count();
    assert_eq!(listed, number_before(&first, "people;"), "{users}");

    // Serving the demo prints the URL and logins; the company is usable.
    let server = ServerProcess::start("demo", dir.path());
    assert!(server.banner.contains(&server.url), "{}", server.banner);
    assert!(
        server.banner.contains("0 messages added"),
        "third seeding added messages: {}",
        server.banner
    );
    let mut bernd = Client::new(&server.url).expect("client");
    bernd
        .login("bernd.mueller", "kontor-demo", Some("cli-test"))
        .await
        .expect("demo login");
    let list = bernd.conversations().await.expect("conversations");
    let kinds = |k: &str| list.iter().filter(|c| c.conversation.kind == k).count();
    assert!(
        kinds("direct") >= 1 && kinds("group") >= 1 && kinds("channel") >= 3,
        "{list:?}"
    );
    let channels = bernd.public_channels().await.expect("channels");
    assert!(channels.len() >= 2);
    let mut total = 0;
    for c in &list {
        total += bernd
            .history(
                c.conversation.id,
                &HistoryParams {
                    limit: Some(200),
                    ..Default::default()
                },
            )
            .await
            .expect("history")
            .messages
            .len();
    }
    assert!(total >= 100, "bernd sees only {total} messages");
    let texts: Vec<String> = list
        .iter()
        .filter_map(|c| c.last_message.as_ref()?.text.clone())
        .collect();
    assert!(!texts.is_empty());
    let users = bernd.users(&Default::default()).await.expect("directory");
    assert!(users.len() >= 25);
}

#[test]
fn admin_commands_work_offline_and_refuse_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8").to_owned();
    let out = run_ok(
        &[
            "admin",
            "--data-dir",
            &data,
            "create-org",
            "Bäckerei Korn KG",
        ],
        "",
    );
    assert!(out.contains("Bäckerei Korn KG"), "{out}");
    let create = |name: &str, password: &str| {
        run(
            &[
                "admin",
                "--data-dir",
                &data,
                "create-user",
                "--username",
                name,
                "--email",
                &format!("{name}@korn.example"),
                "--display-name",
                "Jana Korn",
                "--admin",
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
    };
    let ok = create("jana", "sauerteig-2026");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let dup = create("jana", "sauerteig-2026");
    assert!(!dup.status.success());
    let err = String::from_utf8_lossy(&dup.stderr);
    assert!(
        err.contains("jana") || err.contains("taken") || err.contains("exists"),
        "unclear error: {err}"
    );
    let weak = create("tom", "kurz");
    assert!(
        !weak.status.success(),
        "a four-character password was accepted"
    );
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password"),
        "{}",
        String::from_utf8_lossy(&weak.stderr)
    );

    let list = run_ok(&["admin", "--data-dir", &data, "list-users"], "");
    assert!(
        list.contains("jana") && list.contains("admin") && !list.contains("tom"),
        "{list}"
    );
    let reset = run_ok(
        &[
            "admin",
            "--data-dir",
            &data,
            "reset-password",
            "jana",
            "--password-stdin",
        ],
        "roggenbrot-2027\n",
    );
    assert!(reset.contains("jana"), "{reset}");
    let missing = run(
        &[
            "admin",
            "--data-dir",
            &data,
            "reset-password",
            "niemand",
            "--password-stdin",
        ],
        "egal-egal-egal\n",
    );
    assert!(!missing.status.success());
    let no_org = run(
        &[
            "admin",
            "--data-dir",
            &data,
            "list-users",
            "--org",
            "Gibt Es Nicht",
        ],
        "",
    );
    assert!(!no_org.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_ends_sessions_and_cli_client_sends_and_tails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8").to_owned();
    seed_org(dir.path(), "Korn KG", &["jana", "olaf"], "sauerteig-2026");
    let server = ServerProcess::start("serve", dir.path());
    let session_file = dir.path().join("cli-session.json");
    let sf = session_file.to_str().expect("utf-8").to_owned();
    let login = run_ok(
        &[
            "login",
            "--server",
            &server.url,
            "-u",
            "jana",
            "--password-stdin",
            "--session-file",
            &sf,
        ],
        "sauerteig-2026\n",
    );
    assert!(login.contains("jana"), "{login}");

    // olaf opens a DM with jana through the library; jana uses the CLI.
    let mut olaf = Client::new(&server.url).expect("client");
    olaf.login("olaf", "sauerteig-2026", None)
        .await
        .expect("login");
    let jana_id = olaf
        .users(&Default::default())
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.username == "jana")
        .expect("jana")
        .id;
    let (dm, _) = olaf
        .create_conversation(&kontor_client::kontor_wire::requests::CreateConversation {
            kind: "direct".into(),
            user_ids: vec![jana_id],
            ..Default::default()
        })
        .await
        .expect("dm");
    olaf.send(dm.id, &common::text("Brötchen sind fertig"))
        .await
        .expect("send");
    let conv_list = run_ok(&["conversations", "--session-file", &sf], "");
    assert!(
        conv_list.contains("Brötchen sind fertig") && conv_list.contains("olaf"),
        "{conv_list}"
    );

    let mut tail = kontor()
        .args(["tail", &dm.id.to_string(), "--session-file", &sf])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tail");
    let (tx, rx) = mpsc::channel();
    let stdout = tail.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let wait_for = |needle: &str| loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("tail never printed {needle:?}"));
        if line.contains(needle) {
            return line;
        }
    };
    wait_for("Brötchen sind fertig");
    // The history is printed before the live stream starts; a message sent
    // now must arrive live.
    let sent = run_ok(
        &[
            "send",
            &dm.id.to_string(),
            "Danke, ich hole sie",
            "--session-file",
            &sf,
        ],
        "",
    );
    assert!(sent.starts_with("sent message"), "{sent}");
    wait_for("Danke, ich hole sie");
    olaf.send(dm.id, &common::text("Bis gleich"))
        .await
        .expect("send");
    wait_for("Bis gleich");
    let _ = tail.kill();
    let _ = tail.wait();

    run_ok(&["logout", "--session-file", &sf], "");
    let after = run(&["conversations", "--session-file", &sf], "");
    assert!(!after.status.success());

    // A password reset ends every session of that person.
    run_ok(
        &[
            "admin",
            "--data-dir",
            &data,
            "reset-password",
            "olaf",
            "--password-stdin",
        ],
        "vollkorn-2027\n",
    );
    let e = olaf.me().await.expect_err("sessions ended by the reset");
    assert_eq!(e.code(), Some("unauthenticated"));
    olaf.login("olaf", "vollkorn-2027", None)
        .await
        .expect("new password works");
}
