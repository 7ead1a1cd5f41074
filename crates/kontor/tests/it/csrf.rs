//! Cross-site requests: the session cookie changes nothing unless the
//! request comes from the server's own origin; bearer tokens are not
//! subject to the check; on the socket an explicit token decides.

use crate::common;

use common::TestServer;
use futures_util::{SinkExt, StreamExt};
use kontor_client::kontor_wire::requests::CreateConversation;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const EVIL: &str = "http://evil.example";

/// Send one of the four probed state-changing requests with `headers`,
/// answering its status.
async fn probe(srv: &TestServer, what: &str, conv: i64, headers: &[(&str, String)]) -> u16 {
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}/api/v1{p}", srv.url);
    let mut req = match what {
        "join" => http.post(url(&format!("/conversations/{conv}/join"))),
        "typing" => http.post(url(&format!("/conversations/{conv}/typing"))),
        "upload" => http
            .post(url(&format!("/conversations/{conv}/attachments")))
            .query(&[("name", "notiz.txt")])
            .header("content-type", "application/octet-stream")
            .body("hallo"),
        "logout" => http.post(url("/auth/logout")),
        other => panic!("unknown probe {other}"),
    };
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn cookie_requests_from_another_origin_are_refused() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    srv.user("bernd").await;
    srv.user("carol").await;
    let req = CreateConversation {
        kind: "channel".into(),
        name: Some("Kantine".into()),
        is_public: true,
        ..Default::default()
    };
    let conv = anna.create_conversation(&req).await.expect("channel").0.id;
    let own = srv.url.clone();
    for what in ["join", "typing", "upload", "logout"] {
        // Bernd's browser, lured to another site, carries his cookie.
        let bernd = srv.login("bernd").await;
        let cookie = format!("kontor_session={}", bernd.token().expect("token"));
        let evil = [("cookie", cookie.clone()), ("origin", EVIL.to_owned())];
        assert_eq!(
            probe(&srv, what, conv, &evil).await,
            403,
            "{what} cross-site"
        );
        let fetch_cross = [
            ("cookie", cookie.clone()),
            ("sec-fetch-site", "cross-site".to_owned()),
        ];
        assert_eq!(
            probe(&srv, what, conv, &fetch_cross).await,
            403,
            "{what} sec-fetch-site"
        );
        // From our own pages it works (join first, so typing and upload
        // are a member's).
        let mine = [("cookie", cookie.clone()), ("origin", own.clone())];
        let ok = probe(&srv, what, conv, &mine).await;
        assert!((200..300).contains(&ok), "{what} same-origin: {ok}");
        // A bearer token is not sent by a browser on its own: no check.
        let carol = srv.login("carol").await;
        let bearer = [
            (
                "authorization",
                format!("Bearer {}", carol.token().expect("token")),
            ),
            ("origin", EVIL.to_owned()),
        ];
        if what != "join" {
            // Already a member from the first round; joining again is fine.
            let _ = carol.join(conv).await;
        }
        let ok = probe(&srv, what, conv, &bearer).await;
        assert!((200..300).contains(&ok), "{what} bearer: {ok}");
    }
}

#[tokio::test]
async fn on_the_socket_the_first_frame_token_wins_over_a_cookie() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let url = format!("{}/api/v1/events", srv.url.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().expect("request");
    let cookie = format!("kontor_session={}", anna.token().expect("token"));
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    let token = bernd.token().expect("token");
    ws.send(Message::text(
        serde_json::json!({"type": "auth", "token": token}).to_string(),
    ))
    .await
    .expect("send");
    let hello = loop {
        match tokio::time::timeout(common::EVENT_WAIT, ws.next())
            .await
            .expect("frame in time")
        {
            Some(Ok(Message::Text(t))) => {
                break serde_json::from_str::<serde_json::Value>(&t).expect("json");
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected hello, got {other:?}"),
        }
    };
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["user_id"], bernd_user.id.0);
}
