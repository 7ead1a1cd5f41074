//! Operations endpoints against a real server: `/metrics` counts requests
//! by route template, reports sockets and events, and can be kept behind
//! a token; `/healthz` and `/readyz` answer.

mod common;

use common::*;

async fn scrape(srv: &TestServer, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(format!("{}/metrics", srv.url));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("scrape")
}

/// The value of the first sample line that starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
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
            .starts_with("text/plain; version=0.0.4")
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
    assert_eq!(
        sample(
            &text,
            r#"kontor_http_request_duration_seconds_count{method="GET",route="/api/v1/me"}"#
        ),
        Some(3.0)
    );
    assert_eq!(sample(&text, "kontor_websocket_connections "), Some(1.0));
    assert!(sample(&text, "kontor_events_total ").is_some_and(|n| n >= 2.0));
    assert_eq!(sample(&text, "kontor_storage_read_connections "), Some(4.0));
    assert!(sample(&text, "kontor_storage_write_queue_capacity ").is_some_and(|n| n > 0.0));
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
