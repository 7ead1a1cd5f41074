//! Full-text search against a real server: German and English word forms,
//! compounds, filters, order and paging, snippets, and — above all — that
//! no hit ever comes from a conversation the searcher is not in, nor from
//! deleted or edited-away text.

use crate::common;

use common::*;
use kontor_client::Client;
use kontor_client::kontor_wire::requests::*;

fn q(text: &str) -> SearchParams {
    SearchParams {
        q: text.into(),
        ..Default::default()
    }
}

/// Ids of the hits for `params`.
async fn hits(client: &Client, params: &SearchParams) -> Vec<i64> {
    client
        .search(params)
        .await
        .expect("search")
        .hits
        .iter()
        .map(|h| h.message.id)
        .collect()
}

#[tokio::test]
async fn german_and_english_word_forms_and_compounds_are_found() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (_, bernd_user) = srv.client("bernd").await;
    let conv = group(&anna, "Werk 2", &[bernd_user.id.0]).await;
    let mut id = std::collections::HashMap::new();
    for (key, t) in [
        ("haus", "Die Häuser am Hafen werden gestrichen"),
        ("sitzung", "Morgen ist Betriebsratssitzung um 9 Uhr"),
        ("strasse", "Die Straße vor Tor 3 ist gesperrt"),
        ("run", "The line is running again"),
        ("other", "Kaffee ist alle"),
    ] {
        let (m, _) = anna.send(conv.id, &text(t)).await.expect("send");
        id.insert(key, m.id);
    }
    for (query, expected) in [
        ("Haus", "haus"),
        ("häuser", "haus"),
        ("HAEUSER Hafen", "haus"),
        ("Sitzung", "sitzung"),
        ("Betriebsrat", "sitzung"),
        ("Sitzungen", "sitzung"),
        ("strasse", "strasse"),
        ("Straße", "strasse"),
        ("run", "run"),
        ("runs", "run"),
    ] {
        assert_eq!(
            hits(&anna, &q(query)).await,
            vec![id[expected]],
            "query {query:?}"
        );
    }
    assert!(hits(&anna, &q("Maus")).await.is_empty());
    assert!(
        hits(&anna, &q("Haus Kaffee")).await.is_empty(),
        "every word must match"
    );
    // Query syntax is not passed through: operators are just words.
    assert!(hits(&anna, &q("\"Haus\" OR * NEAR(")).await.is_empty());
    assert_eq!(hits(&anna, &q("Haus*")).await, vec![id["haus"]]);

    let found = anna.search(&q("Sitzung")).await.expect("search");
    let snippet = &found.hits[0].snippet;
    let marked: Vec<&str> = snippet
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(marked, vec!["Betriebsratssitzung"]);
    let whole: String = snippet.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(whole, "Morgen ist Betriebsratssitzung um 9 Uhr");
}

#[tokio::test]
async fn hits_only_come_from_my_conversations_and_current_text() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (claudia, claudia_user) = srv.client("claudia").await;
    let private = group(&anna, "Geheim", &[bernd_user.id.0]).await;
    let public = channel(&anna, "Alle").await;
    anna.add_members(public.id, &[claudia_user.id.0])
        .await
        .expect("claudia added");
    let (secret, _) = anna
        .send(private.id, &text("Gehaltsliste Lagerhalle"))
        .await
        .expect("secret");
    let (open, _) = anna
        .send(public.id, &text("Lagerhalle wird gereinigt"))
        .await
        .expect("open");

    assert_eq!(hits(&bernd, &q("Lagerhalle")).await, vec![secret.id]);
    assert_eq!(hits(&claudia, &q("Lagerhalle")).await, vec![open.id]);
    // Not a snippet, not a count: the private conversation does not exist
    // for Claudia, even when she names it.
    let scoped = claudia
        .search(&SearchParams {
            conversation_id: Some(private.id),
            ..q("Gehaltsliste")
        })
        .await
        .expect("search");
    assert!(scoped.hits.is_empty() && !scoped.has_more);

    // Removed from the group: its messages are no longer found.
    anna.remove_member(private.id, bernd_user.id.0)
        .await
        .expect("removed");
    assert!(hits(&bernd, &q("Gehaltsliste")).await.is_empty());

    // Edited-away words are gone; the new ones are found.
    anna.edit(
        secret.id,
        &EditMessage {
            text: "Urlaubsplanung Lagerhalle".into(),
            ..Default::default()
        },
    )
    .await
    .expect("edit");
    assert!(hits(&anna, &q("Gehaltsliste")).await.is_empty());
    assert_eq!(hits(&anna, &q("Urlaubsplanung")).await, vec![secret.id]);
    let found = anna.search(&q("Urlaub")).await.expect("search");
    let whole: String = found.hits[0]
        .snippet
        .iter()
        .map(|p| p.text.as_str())
        .collect();
    assert!(!whole.contains("Gehalt"), "{whole}");

    // Deleted: not found by anyone, not even the author.
    anna.delete(open.id).await.expect("delete");
    assert!(hits(&claudia, &q("gereinigt")).await.is_empty());
    assert!(hits(&anna, &q("gereinigt")).await.is_empty());
}

#[tokio::test]
async fn filters_order_and_paging() {
    let srv = TestServer::start().await;
    let (anna, anna_user) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let one = group(&anna, "Schicht A", &[bernd_user.id.0]).await;
    let two = group(&anna, "Schicht B", &[bernd_user.id.0]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (m, _) = anna
            .send(one.id, &text(&format!("Wartung Presse {i}")))
            .await
            .expect("send");
        ids.push(m.id);
    }
    let (by_bernd, _) = bernd
        .send(two.id, &text("Wartung Presse erledigt, Wartung Wartung"))
        .await
        .expect("send");
    let (root, _) = anna
        .send(two.id, &text("Frage zur Schicht"))
        .await
        .expect("root");
    let (reply, _) = bernd
        .send(
            two.id,
            &SendMessage {
                thread_root_id: Some(root.id),
                ..text("Wartung im Thread")
            },
        )
        .await
        .expect("reply");

    let all = hits(&anna, &q("Wartung")).await;
    assert_eq!(all.len(), 7, "thread replies are found too");
    assert_eq!(all[0], by_bernd.id, "three matches rank first");
    let newest = hits(
        &anna,
        &SearchParams {
            sort: Some("date".into()),
            ..q("Wartung")
        },
    )
    .await;
    let mut expected: Vec<i64> = ids.iter().copied().chain([by_bernd.id, reply.id]).collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(newest, expected);

    let in_one = hits(
        &anna,
        &SearchParams {
            conversation_id: Some(one.id),
            ..q("Wartung")
        },
    )
    .await;
    assert_eq!(in_one.len(), 5);
    let from_bernd = hits(
        &anna,
        &SearchParams {
            from: Some(bernd_user.id.0),
            ..q("Wartung")
        },
    )
    .await;
    assert_eq!(from_bernd.len(), 2);
    let from_anna = hits(
        &anna,
        &SearchParams {
            from: Some(anna_user.id.0),
            conversation_id: Some(two.id),
            ..q("Wartung")
        },
    )
    .await;
    assert!(from_anna.is_empty());
    let future = hits(
        &anna,
        &SearchParams {
            since: Some("2999-01-01T00:00:00Z".into()),
            ..q("Wartung")
        },
    )
    .await;
    assert!(future.is_empty());
    let past = hits(
        &anna,
        &SearchParams {
            until: Some("2999-01-01T00:00:00Z".into()),
            since: Some("2000-01-01T00:00:00+01:00".into()),
            ..q("Wartung")
        },
    )
    .await;
    assert_eq!(past.len(), 7);

    // Pages of 3 cover everything exactly once.
    let mut paged = Vec::new();
    let mut offset = 0;
    loop {
        let page = anna
            .search(&SearchParams {
                sort: Some("date".into()),
                limit: Some(3),
                offset: Some(offset),
                ..q("Wartung")
            })
            .await
            .expect("page");
        paged.extend(page.hits.iter().map(|h| h.message.id));
        if !page.has_more {
            break;
        }
        offset += 3;
    }
    assert_eq!(paged, newest);
}

#[tokio::test]
async fn bad_search_input_is_a_clear_422() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    for (params, field) in [
        (q("   "), "q"),
        (q(&"x".repeat(201)), "q"),
        (
            SearchParams {
                limit: Some(51),
                ..q("Haus")
            },
            "limit",
        ),
        (
            SearchParams {
                offset: Some(1001),
                ..q("Haus")
            },
            "offset",
        ),
        (
            SearchParams {
                sort: Some("best".into()),
                ..q("Haus")
            },
            "sort",
        ),
        (
            SearchParams {
                since: Some("gestern".into()),
                ..q("Haus")
            },
            "since",
        ),
    ] {
        let err = anna.search(&params).await.expect_err("refused");
        assert_eq!(err.status(), Some(422), "{field}: {err}");
        assert_eq!(err.code(), Some("invalid_input"), "{field}: {err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    // Punctuation only is no error: it just finds nothing.
    let none = anna.search(&q("?!")).await.expect("search");
    assert!(none.hits.is_empty());
}

/// Run `sql` on the test server's database directly, past the server.
fn run_sql(srv: &TestServer, sql: &'static str) {
    if let Some(url) = common::database::database_url_for(srv.dir.path()) {
        common::database::with_connection(&url, move |conn| {
            Box::pin(async move {
                sqlx::raw_sql(sql).execute(&mut *conn).await.expect(sql);
            })
        });
        return;
    }
    let conn = rusqlite::Connection::open(srv.dir.path().join("kontor.db")).expect("open db");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .expect("busy timeout");
    conn.execute_batch(sql).expect(sql);
}

/// A search in a conversation the searcher is not in answers an empty page,
/// as for one that does not exist, without reading the index: its time
/// must not tell how often a word occurs there. The index is renamed away
/// to show it: a search that still read it would fail.
#[tokio::test]
async fn searching_a_foreign_conversation_never_reads_the_index() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (eve, _) = srv.client("eve").await;
    let secret = group(&anna, "Vorstand", &[]).await;
    for i in 0..3 {
        anna.send(secret.id, &text(&format!("Übernahme Angebot {i}")))
            .await
            .expect("send");
    }
    let within = |c: i64| SearchParams {
        q: "Übernahme".into(),
        conversation_id: Some(c),
        ..Default::default()
    };
    let shape = |r: &SearchResponse| serde_json::to_value(r).expect("json");
    let absent = eve.search(&within(9_999_999)).await.expect("absent");
    assert_eq!(
        shape(&absent),
        serde_json::json!({"hits": [], "has_more": false})
    );

    run_sql(
        &srv,
        "ALTER TABLE message_search RENAME TO message_search_away",
    );
    let foreign = eve.search(&within(secret.id)).await;
    let member = anna.search(&within(secret.id)).await;
    run_sql(
        &srv,
        "ALTER TABLE message_search_away RENAME TO message_search",
    );
    let foreign = foreign.expect("a non-member's search must not read the index");
    assert_eq!(shape(&foreign), shape(&absent));
    // The member's search did read it, so the index really was gone.
    assert_eq!(member.expect_err("index gone").status(), Some(500));
    assert_eq!(hits(&anna, &within(secret.id)).await.len(), 3);
}
