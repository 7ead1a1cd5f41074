//! Identity and the event-stream handshake: sessions, revocation, the login
//! limiter, socket authentication, origin checks and slow consumers.

use crate::common;

use common::{PASSWORD, TestServer, channel, direct, events, metric, next, next_matching, text};
use futures_util::{SinkExt, StreamExt};
use kontor_client::Client;
use kontor_client::kontor_wire::WireEvent;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn ws_url(srv: &TestServer) -> String {
    format!("{}/api/v1/events", srv.url.replacen("http://", "ws://", 1))
}

async fn connect(srv: &TestServer, headers: &[(&str, &str)]) -> Result<Socket, tungstenite::Error> {
    let mut req = ws_url(srv).into_client_request()?;
    for (k, v) in headers {
        let name = tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("header name");
        req.headers_mut()
            .insert(name, v.parse().expect("header value"));
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

async fn next_json(ws: &mut Socket) -> serde_json::Value {
    loop {
        match tokio::time::timeout(common::EVENT_WAIT, ws.next())
            .await
            .expect("frame in time")
        {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).expect("json frame"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

async fn close_code(ws: &mut Socket) -> (u16, String) {
    loop {
        match tokio::time::timeout(common::EVENT_WAIT, ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(Message::Close(Some(f)))) => return (f.code.into(), f.reason.to_string()),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

/// The id of the session `client` is using.
async fn current_session(client: &Client) -> i64 {
    let sessions = client.sessions().await.expect("sessions");
    sessions.iter().find(|s| s.current).expect("current").id
}

#[tokio::test]
async fn an_ended_session_id_is_never_given_again() {
    let srv = TestServer::start().await;
    let (phone, _) = srv.client("anna").await;
    let mut laptop = srv.login("anna").await;
    let ended = current_session(&laptop).await;
    laptop.logout().await.expect("logout");
    // The ended session was the newest row; a new login must not inherit
    // its id (a stale revocation of it would otherwise end the new one).
    let tablet = srv.login("anna").await;
    let fresh = current_session(&tablet).await;
    assert!(fresh > ended, "{fresh} reused {ended}");
    let stale = phone
        .revoke_session(ended)
        .await
        .expect_err("already ended");
    assert_eq!(
        (stale.status(), stale.code()),
        (Some(404), Some("not_found"))
    );
    tablet.me().await.expect("the new session still works");
}

#[tokio::test]
async fn sessions_are_listed_and_revoking_one_closes_its_socket() {
    let srv = TestServer::start().await;
    let (phone, _) = srv.client("anna").await;
    let laptop = srv.login("anna").await;
    let sessions = laptop.sessions().await.expect("sessions");
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s.device_name == "test"));
    let phone_session = phone.me().await.expect("me");
    let (mut phone_ev, _) = events(&phone).await;
    let (mut laptop_ev, _) = events(&laptop).await;
    let hello_phone = phone.sessions().await.expect("sessions");
    let current = hello_phone
        .iter()
        .find(|s| s.current)
        .expect("current marked")
        .id;

    laptop.revoke_session(current).await.expect("revoke");
    match tokio::time::timeout(common::EVENT_WAIT, async {
        loop {
            if let Err(closed) = phone_ev.next().await {
                return closed;
            }
        }
    })
    .await
    {
        Ok(closed) => assert_eq!(
            (closed.code, closed.reason.as_str()),
            (4003, "session_revoked")
        ),
        Err(_) => panic!("revoked session's socket stayed open"),
    }
    let err = phone.me().await.expect_err("token is dead");
    assert_eq!(
        (err.status(), err.code()),
        (Some(401), Some("unauthenticated"))
    );
    assert_eq!(phone_session.user.username, "anna");
    // The other session lives on and hears nothing it should not.
    assert_eq!(laptop.sessions().await.expect("sessions").len(), 1);
    let dm = channel(&laptop, "Ich").await;
    laptop.send(dm.id, &text("noch da")).await.expect("send");
    next_matching(&mut laptop_ev, |e| {
        matches!(e, WireEvent::MessageCreated { .. })
    })
    .await;

    // Revoking someone else's session is indistinguishable from a missing one.
    let (bernd, _) = srv.client("bernd").await;
    let laptop_session = laptop.sessions().await.expect("sessions")[0].id;
    assert_eq!(
        bernd
            .revoke_session(laptop_session)
            .await
            .expect_err("not yours")
            .code(),
        Some("not_found")
    );

    let mut laptop = laptop;
    laptop.logout().await.expect("logout");
    let dead = Client::new(&srv.url)
        .expect("client")
        .with_token(laptop.token().unwrap_or("kt_gone").to_owned());
    assert_eq!(
        dead.me().await.expect_err("logged out").code(),
        Some("unauthenticated")
    );
}

#[tokio::test]
async fn failed_logins_slow_guessing_but_never_lock_out_the_owner() {
    let clock = std::sync::Arc::new(common::ManualClock::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = TestServer::start_with_clock(dir, clock.clone(), |_| {}).await;
    srv.user("anna").await;
    srv.user("bernd").await;
    let mut c = Client::new(&srv.url).expect("client");
    let answer = |r: Result<_, kontor_client::ClientError>| {
        let e = r.expect_err("wrong password");
        (e.status(), e.code().map(str::to_owned))
    };
    let wrong = (Some(401), Some("invalid_credentials".to_owned()));
    // Five wrong passwords on the username (in several spellings: one name).
    for login in ["anna", "ANNA", " anna ", "anna", "Anna"] {
        assert_eq!(answer(c.login(login, "falsch", None).await), wrong);
    }
    // The e-mail of that account and an unknown e-mail answer alike: the
    // counter is the name that was typed, so they cannot be told apart.
    assert_eq!(
        answer(c.login("anna@testfirma.example", "falsch", None).await),
        wrong
    );
    assert_eq!(
        answer(c.login("niemand@testfirma.example", "falsch", None).await),
        wrong
    );
    // The owner still gets in with the right password (the first throttled
    // attempt has its slot at once).
    c.login("anna", PASSWORD, None)
        .await
        .expect("the right password wins");
    c.login("anna@testfirma.example", PASSWORD, None)
        .await
        .expect("and by e-mail");

    // Per address, failures on one account count once: 31 of them (each a
    // throttle slot apart, so none waits) do not block a colleague behind
    // the same address.
    for _ in 0..31 {
        clock.advance(kontor_server::auth::LOGIN_THROTTLE_INTERVAL);
        assert_eq!(answer(c.login("bernd", "falsch", None).await), wrong);
    }
    let mut colleague = Client::new(&srv.url).expect("client");
    colleague
        .login("anna", PASSWORD, None)
        .await
        .expect("another account from the same address");

    // Per address: many different names failing is a spray and is limited.
    let last = fail_until_limited(&srv, "probe", None).await;
    assert!(
        matches!(last, Some(i) if i >= 20),
        "address limit hit at {last:?}"
    );
    // Without trusted proxies a client cannot escape by naming another
    // address.
    assert_eq!(
        fail_until_limited(&srv, "spoof", Some("198.51.100.1")).await,
        Some(0)
    );
}

/// Fail logins for fresh accounts `{prefix}{i}` until the server answers
/// 429 (with `Retry-After`); returns at which attempt, or `None` after 40.
async fn fail_until_limited(
    srv: &TestServer,
    prefix: &str,
    forwarded_for: Option<&str>,
) -> Option<usize> {
    let raw = reqwest::Client::new();
    for i in 0..40 {
        let mut req = raw
            .post(format!("{}/api/v1/auth/login", srv.url))
            .json(&serde_json::json!({"login": format!("{prefix}{i}"), "password": "x"}));
        if let Some(ip) = forwarded_for {
            req = req.header("x-forwarded-for", ip);
        }
        let r = req.send().await.expect("request");
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            return Some(i);
        }
        assert_eq!(r.status(), 401);
    }
    None
}

/// Behind a trusted reverse proxy the limit applies to the client named in
/// `X-Forwarded-For`, so one attacker does not lock everybody out.
#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_limited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = TestServer::start_configured(dir, |c| {
        c.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    let hit = fail_until_limited(&srv, "a", Some("203.0.113.7")).await;
    assert!(matches!(hit, Some(i) if i >= 20), "limit hit at {hit:?}");
    // Another client behind the same proxy is not affected.
    assert_eq!(
        fail_until_limited(&srv, "b", Some("203.0.113.8"))
            .await
            .map(|i| i >= 20),
        Some(true)
    );
}

#[tokio::test]
async fn socket_authenticates_by_header_or_first_frame_never_cookie_or_url() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let token = anna.token().expect("token").to_owned();

    let mut ws = connect(&srv, &[("authorization", &format!("Bearer {token}"))])
        .await
        .expect("header auth");
    assert_eq!(next_json(&mut ws).await["type"], "hello");

    // The cookie does not authenticate a socket (an explicit token must
    // decide whose it is): the first frame still has to.
    let mut ws = connect(
        &srv,
        &[("cookie", &format!("theme=dark; kontor_session={token}"))],
    )
    .await
    .expect("cookie");
    ws.send(Message::text(r#"{"type":"typing","conversation_id":1}"#))
        .await
        .expect("send");
    assert_eq!(
        close_code(&mut ws).await,
        (4001, "unauthenticated".to_owned())
    );

    let mut ws = connect(&srv, &[])
        .await
        .expect("unauthenticated upgrade allowed");
    ws.send(Message::text(
        serde_json::json!({"type": "auth", "token": token}).to_string(),
    ))
    .await
    .expect("send");
    assert_eq!(next_json(&mut ws).await["type"], "hello");

    let mut ws = connect(&srv, &[]).await.expect("upgrade");
    ws.send(Message::text(r#"{"type":"auth","token":"kt_wrong"}"#))
        .await
        .expect("send");
    assert_eq!(
        close_code(&mut ws).await,
        (4001, "unauthenticated".to_owned())
    );

    // A token in the query string is not an accepted credential.
    let url = format!("{}?access_token={token}", ws_url(&srv));
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 400),
        Ok((mut ws, _)) => {
            ws.send(Message::text("{}")).await.expect("send");
            assert_eq!(close_code(&mut ws).await.0, 4001);
        }
        Err(e) => panic!("unexpected {e}"),
    }

    let e = connect(&srv, &[("authorization", "Bearer kt_nope")])
        .await
        .expect_err("bad token");
    assert!(
        matches!(e, tungstenite::Error::Http(ref r) if r.status() == 401),
        "{e:?}"
    );

    // Plain HTTP on the socket path gets a JSON error, not a hang.
    let r = reqwest::get(format!("{}/api/v1/events", srv.url))
        .await
        .expect("get");
    assert_eq!(r.status(), 426);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "upgrade_required");
}

#[tokio::test]
async fn handshake_checks_the_origin() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let auth = format!("Bearer {}", anna.token().expect("token"));
    let own = srv.url.clone();
    let mut ws = connect(&srv, &[("authorization", &auth), ("origin", &own)])
        .await
        .expect("own origin");
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    for evil in ["https://evil.example", "http://127.0.0.1:1", "null"] {
        let e = connect(&srv, &[("authorization", &auth), ("origin", evil)])
            .await
            .expect_err("foreign origin");
        assert!(
            matches!(e, tungstenite::Error::Http(ref r) if r.status() == 403),
            "{evil}: {e:?}"
        );
    }
}

#[tokio::test]
async fn a_slow_consumer_is_disconnected_without_stalling_others() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let dm = direct(&anna, bernd_user.id.0).await;
    // bernd's "phone" connects and then never reads.
    let mut slow = connect(
        &srv,
        &[(
            "authorization",
            &format!("Bearer {}", bernd.token().expect("token")),
        )],
    )
    .await
    .expect("slow socket");
    // bernd's laptop reads everything.
    let (mut fast, _) = events(&bernd).await;

    // Large messages fill the slow socket's TCP buffers and then its queue
    // of 1,024 frames. The senders stop once the server reports the slow
    // consumer closed (they look after every 25 messages each), or at the
    // bound, whichever comes first.
    let body = "x".repeat(kontor_core::limits::MAX_MESSAGE_BYTES - 16);
    const BOUND: usize = 4_000;
    const SENDERS: usize = 4;
    let (total_tx, mut total_rx) = tokio::sync::watch::channel(None::<usize>);
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        loop {
            if total_rx.borrow().is_some_and(|total| seen >= total) {
                return seen;
            }
            tokio::select! {
                frame = next(&mut fast) => {
                    if matches!(frame.event, WireEvent::MessageCreated { .. }) {
                        seen += 1;
                    }
                }
                changed = total_rx.changed() => changed.expect("total"),
            }
        }
    });
    let anna = std::sync::Arc::new(anna);
    let srv = std::sync::Arc::new(srv);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut senders = Vec::new();
    for w in 0..SENDERS {
        let (anna, srv, stop, body) = (anna.clone(), srv.clone(), stop.clone(), body.clone());
        senders.push(tokio::spawn(async move {
            let mut sent = 0;
            for i in 0..BOUND / SENDERS {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let req = kontor_client::kontor_wire::requests::SendMessage {
                    txn_id: format!("slow-{w}-{i}"),
                    text: body.clone(),
                    ..Default::default()
                };
                anna.send(dm.id, &req).await.expect("send");
                sent += 1;
                if sent % 25 == 0
                    && metric(
                        &srv,
                        "kontor_websocket_closes_total{reason=\"slow_consumer\"}",
                    )
                    .await
                    .is_some_and(|n| n >= 1.0)
                {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
            sent
        }));
    }
    let mut total = 0;
    for s in senders {
        total += s.await.expect("sender");
    }
    assert!(
        stop.load(std::sync::atomic::Ordering::Relaxed),
        "no slow_consumer close within {total} messages"
    );
    // The close frame waits behind what the slow socket already holds,
    // for as long as the server gives one write, so read it first.
    assert_eq!(
        close_code(&mut slow).await,
        (4008, "slow_consumer".to_owned())
    );
    total_tx.send(Some(total)).expect("reader waits");
    assert_eq!(
        reader.await.expect("reader"),
        total,
        "the fast reader got every message"
    );
}
