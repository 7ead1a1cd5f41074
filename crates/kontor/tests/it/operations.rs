//! Operations endpoints against a real server: `/metrics` counts requests
//! by route template, reports sockets and events, and can be kept behind
//! a token; `/healthz` and `/readyz` answer.

use crate::common;

use common::*;

async fn scrape(srv: &TestServer, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}/metrics", srv.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("scrape")
}

#[tokio::test]
async fn metrics_count_routes_sockets_and_events() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    for _ in 0..3 {
        anna.me().await.expect("me");
    }
    let conv = direct(&anna, bernd_user.id.0).await;
    let (mut stream, _) = events(&bernd).await;
    anna.send(conv.id, &text("Guten Morgen"))
        .await
        .expect("sent");
    next_matching(&mut stream, |e| {
        matches!(
            e,
            kontor_client::kontor_wire::WireEvent::MessageCreated { .. }
        )
    })
    .await;
    // A missing message: the route template is counted, not the id.
    anna.message(987_654).await.expect_err("missing");

    let res = scrape(&srv, None).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/openmetrics-text; version=1.0.0")
    );
    let text = res.text().await.expect("body");
    assert_eq!(
        sample(
            &text,
            r#"kontor_http_requests_total{method="GET",route="/api/v1/me",status="200"}"#
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"kontor_http_requests_total{method="GET",route="/api/v1/messages/{id}",status="404"}"#
        ),
        Some(1.0)
    );
    assert!(!text.contains("987654"), "raw paths must not become series");
    assert!(text.trim_end().ends_with("# EOF"), "complete OpenMetrics");
    assert_eq!(
        sample(
            &text,
            r#"kontor_http_request_duration_seconds_count{method="GET",route="/api/v1/me"}"#
        ),
        Some(3.0)
    );
    assert_eq!(sample(&text, "kontor_websocket_connections "), Some(1.0));
    assert!(sample(&text, "kontor_events_total ").is_some_and(|n| n >= 2.0));
    if common::database::on_postgres() {
        // A pool opened on demand (up to 16), and no writer queue.
        assert!(sample(&text, "kontor_storage_read_connections ").is_some_and(|n| n >= 1.0));
        assert_eq!(
            sample(&text, "kontor_storage_write_queue_capacity "),
            Some(0.0)
        );
    } else {
        assert_eq!(sample(&text, "kontor_storage_read_connections "), Some(4.0));
        assert!(sample(&text, "kontor_storage_write_queue_capacity ").is_some_and(|n| n > 0.0));
    }
    drop(stream);
}

#[tokio::test]
async fn metrics_can_require_a_token_and_health_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = TestServer::start_configured(dir, |c| c.metrics.token = "scrape-geheim".into()).await;
    let refused = scrape(&srv, None).await;
    assert_eq!(refused.status(), 401);
    let body: serde_json::Value = refused.json().await.expect("json error");
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(scrape(&srv, Some("falsch")).await.status(), 401);
    assert_eq!(scrape(&srv, Some("scrape-geheim")).await.status(), 200);

    for path in ["/healthz", "/readyz"] {
        let res = reqwest::get(format!("{}{path}", srv.url))
            .await
            .expect("get");
        assert_eq!(res.status(), 200, "{path}");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let off = TestServer::start_configured(dir, |c| c.metrics.enabled = false).await;
    let res = scrape(&off, None).await;
    assert_eq!(res.status(), 404);
}

/// Without a token `/metrics` is for this host: a reverse proxy on the same
/// machine connects from loopback too, so a forwarded request is refused
/// unless `metrics.public` opens it (or a token is configured).
#[tokio::test]
async fn without_a_token_metrics_answer_this_host_only() {
    async fn forwarded(srv: &TestServer, header: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = reqwest::Client::new()
            .get(format!("{}/metrics", srv.url))
            .header(header, "203.0.113.7");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("scrape")
    }
    let srv = TestServer::start().await;
    assert_eq!(scrape(&srv, None).await.status(), 200, "a local scrape");
    for header in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        let res = forwarded(&srv, header, None).await;
        assert_eq!(res.status(), 403, "{header}");
        let body: serde_json::Value = res.json().await.expect("json error");
        assert_eq!(body["error"]["code"], "forbidden", "{header}");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let public = TestServer::start_configured(dir, |c| c.metrics.public = true).await;
    assert_eq!(
        forwarded(&public, "x-forwarded-for", None).await.status(),
        200
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let tokened =
        TestServer::start_configured(dir, |c| c.metrics.token = "scrape-geheim".into()).await;
    assert_eq!(
        forwarded(&tokened, "x-forwarded-for", Some("scrape-geheim"))
            .await
            .status(),
        200
    );
    assert_eq!(
        forwarded(&tokened, "x-forwarded-for", None).await.status(),
        401
    );
}

/// Pruning the event log keeps the newest event, and a client resuming
/// from before the oldest kept event is told to resync instead of
/// silently missing what was pruned.
#[tokio::test]
async fn pruned_events_make_older_positions_resync() {
    use kontor_client::kontor_wire::WireEvent;
    use kontor_core::model::Timestamp;
    use kontor_server::service::housekeeping;

    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let conv = direct(&anna, bernd_user.id.0).await;
    let (mut stream, _) = events(&bernd).await;
    let mut seqs = Vec::new();
    for word in ["eins", "zwei", "drei"] {
        anna.send(conv.id, &text(word)).await.expect("sent");
        let f = next_matching(&mut stream, |e| {
            matches!(e, WireEvent::MessageCreated { .. })
        })
        .await;
        seqs.push(f.seq.expect("persisted events carry seq"));
    }
    drop(stream);

    let kept_before =
        housekeeping::prune_events(&srv.state, Timestamp(srv.state.now().0 - 3_600_000))
            .await
            .expect("prune");
    assert_eq!(kept_before, 0, "nothing is older than an hour");
    let pruned = housekeeping::prune_events(&srv.state, Timestamp(srv.state.now().0 + 1_000))
        .await
        .expect("prune");
    assert!(pruned >= 2, "all but the newest event: {pruned}");

    let newest = seqs[2];
    // From just before the newest (kept) event: it is replayed.
    let mut s = resume_from(&bernd, newest - 1).await;
    let f = next(&mut s).await;
    assert_eq!(f.seq, Some(newest));
    assert!(matches!(
        next(&mut s).await.event,
        WireEvent::Resumed { replayed: 1 }
    ));
    // From before a pruned event: resync, never a silent gap.
    let mut s = resume_from(&bernd, seqs[0]).await;
    let f = next(&mut s).await;
    assert!(
        matches!(f.event, WireEvent::ResyncRequired { .. }),
        "{:?}",
        f.event
    );
    // Numbering goes on after the kept newest event.
    let (sent, _) = anna.send(conv.id, &text("vier")).await.expect("sent");
    let mut s = resume_from(&bernd, newest).await;
    let f = next(&mut s).await;
    assert_eq!(f.seq, Some(newest + 1));
    match f.event {
        WireEvent::MessageCreated { message } => assert_eq!(message.id, sent.id),
        other => panic!("expected the new message, got {other:?}"),
    }
}

/// Graceful shutdown: sockets are told to reconnect elsewhere (1012
/// `server_restart`), and every send the server acknowledged while it
/// was stopping is there after a restart, exactly once.
#[tokio::test]
async fn graceful_shutdown_sends_clients_elsewhere_and_keeps_acknowledged_writes() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let conv = direct(&anna, bernd_user.id.0).await;
    let (mut stream, _) = events(&bernd).await;

    // Four senders, each posting one message after the other until the
    // server stops taking them; the stop comes while they are busy.
    let anna = std::sync::Arc::new(anna);
    let mut senders = Vec::new();
    for worker in 0..4 {
        let anna = anna.clone();
        senders.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..500 {
                let req = kontor_client::kontor_wire::requests::SendMessage {
                    txn_id: format!("stop-{worker}-{i}"),
                    ..text(&format!("Nachricht {worker}/{i}"))
                };
                match anna.send(conv.id, &req).await {
                    Ok((m, _)) => acknowledged.push(m.id),
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    for _ in 0..8 {
        next_matching(&mut stream, |e| {
            matches!(
                e,
                kontor_client::kontor_wire::WireEvent::MessageCreated { .. }
            )
        })
        .await;
    }
    let dir = srv.stop().await;

    let closed = loop {
        match tokio::time::timeout(EVENT_WAIT, stream.next()).await {
            Ok(Ok(_frame)) => continue,
            Ok(Err(closed)) => break closed,
            Err(_) => panic!("the socket was not closed at shutdown"),
        }
    };
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (1012, "server_restart")
    );
    let mut acknowledged = Vec::new();
    for s in senders {
        acknowledged.extend(s.await.expect("sender task"));
    }
    assert!(
        acknowledged.len() >= 8,
        "{} acknowledged",
        acknowledged.len()
    );

    let srv = TestServer::start_in(dir).await;
    let anna = srv.login("anna").await;
    let mut stored: Vec<i64> = Vec::new();
    let mut before = None;
    loop {
        let page = anna
            .history(
                conv.id,
                &kontor_client::kontor_wire::requests::HistoryParams {
                    before,
                    limit: Some(200),
                    ..Default::default()
                },
            )
            .await
            .expect("history");
        stored.extend(page.messages.iter().map(|m| m.id));
        before = page.messages.first().map(|m| m.id);
        if !page.has_more {
            break;
        }
    }
    for id in &acknowledged {
        assert_eq!(
            stored.iter().filter(|s| *s == id).count(),
            1,
            "acknowledged message {id} is stored exactly once"
        );
    }
}
