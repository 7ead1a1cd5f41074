//! Bad input for every endpoint family: each answer is a 4xx with the JSON
//! error envelope, a stable code and a message a person can act on; and
//! nothing half-written is left behind.

use crate::common;

use common::{TestServer, channel, text};
use reqwest::Method;
use serde_json::{Value, json};

enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

struct Case {
    method: Method,
    path: String,
    body: Body,
    status: u16,
    code: &'static str,
}

fn case(
    method: Method,
    path: impl Into<String>,
    body: Body,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        method,
        path: path.into(),
        body,
        status,
        code,
    }
}

/// Check the envelope: `{"error": {"code", "message"}}` and nothing else
/// at the top level.
fn assert_envelope(body: &Value, code: &str, what: &str) {
    let obj = body
        .as_object()
        .unwrap_or_else(|| panic!("{what}: body is not an object: {body}"));
    assert_eq!(obj.len(), 1, "{what}: {body}");
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.len() >= 8, "{what}: message too terse: {body}");
}

#[tokio::test]
async fn every_endpoint_family_rejects_bad_input_with_a_clear_4xx() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (_, bernd) = srv.client("bernd").await;
    let conv = channel(&anna, "Werkstatt").await;
    let (msg, _) = anna.send(conv.id, &text("Hallo")).await.expect("send");
    let c = conv.id;
    let m = msg.id;
    let b = bernd.id.0;
    let long_name = "N".repeat(kontor_core::limits::MAX_NAME_CHARS + 1);
    let long_text = "T".repeat(kontor_core::limits::MAX_MESSAGE_BYTES + 1);
    let huge = "H".repeat(kontor_core::limits::MAX_REQUEST_BODY_BYTES + 1);
    use Method as M;
    let j = Body::Json;

    let cases = vec![
        // auth
        case(
            M::POST,
            "/api/v1/auth/login",
            Body::Raw("application/json", b"{\"login\":".to_vec()),
            400,
            "malformed_json",
        ),
        case(
            M::POST,
            "/api/v1/auth/login",
            j(json!({"login": 5, "password": "x"})),
            422,
            "invalid_body",
        ),
        case(
            M::POST,
            "/api/v1/auth/login",
            j(json!({"login": "anna"})),
            422,
            "invalid_body",
        ),
        case(
            M::POST,
            "/api/v1/auth/login",
            Body::Raw("text/plain", b"anna:pw".to_vec()),
            415,
            "unsupported_media_type",
        ),
        // An array is no object, even where serde could fill fields from it
        // by position.
        case(
            M::POST,
            "/api/v1/auth/login",
            j(json!(["anna", "correct horse battery"])),
            422,
            "invalid_body",
        ),
        case(
            M::PATCH,
            "/api/v1/me",
            j(json!([true])),
            422,
            "invalid_body",
        ),
        case(
            M::PATCH,
            "/api/v1/me",
            Body::Raw("application/json", b" \n [] ".to_vec()),
            422,
            "invalid_body",
        ),
        case(
            M::PATCH,
            "/api/v1/me",
            Body::Raw(
                "application/merge-patch+json",
                b"{\"share_presence\": 1}".to_vec(),
            ),
            422,
            "invalid_body",
        ),
        case(
            M::POST,
            "/api/v1/auth/login",
            Body::Raw("application/json", vec![b'"', 0xff, 0xfe, b'"']),
            400,
            "malformed_json",
        ),
        // sessions
        case(
            M::DELETE,
            "/api/v1/sessions/abc",
            Body::None,
            400,
            "invalid_path",
        ),
        case(
            M::DELETE,
            "/api/v1/sessions/987654321",
            Body::None,
            404,
            "not_found",
        ),
        // users
        case(
            M::GET,
            "/api/v1/users?limit=abc",
            Body::None,
            400,
            "invalid_query",
        ),
        case(
            M::GET,
            "/api/v1/users?limit=0",
            Body::None,
            422,
            "invalid_input",
        ),
        case(
            M::GET,
            "/api/v1/users?bogus=1",
            Body::None,
            400,
            "invalid_query",
        ),
        case(M::GET, "/api/v1/users/-1", Body::None, 404, "not_found"),
        case(
            M::GET,
            "/api/v1/users/99999999999999999999999",
            Body::None,
            400,
            "invalid_path",
        ),
        // conversations
        case(
            M::POST,
            "/api/v1/conversations",
            j(json!({"kind": "bogus"})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            "/api/v1/conversations",
            j(json!({"kind": "channel", "name": long_name})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            "/api/v1/conversations",
            j(json!({"kind": "channel", "name": "  "})),
            422,
            "invalid_input",
        ),
        // A right-to-left embedding (U+202B) or isolate (U+2067) in a
        // name or topic: what others see would not be what was typed.
        case(
            M::POST,
            "/api/v1/conversations",
            j(json!({"kind": "channel", "name": "Kasse\u{202B}lairam"})),
            422,
            "invalid_input",
        ),
        case(
            M::PATCH,
            format!("/api/v1/conversations/{c}"),
            j(json!({"topic": "Pläne \u{2067}2027"})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            "/api/v1/conversations",
            j(json!({"kind": "direct", "user_ids": []})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            "/api/v1/conversations",
            j(json!({"kind": "group", "user_ids": [987654321]})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            "/api/v1/conversations",
            j(json!([1, 2])),
            422,
            "invalid_body",
        ),
        case(
            M::GET,
            "/api/v1/conversations/abc",
            Body::None,
            400,
            "invalid_path",
        ),
        case(
            M::GET,
            "/api/v1/conversations/987654321",
            Body::None,
            404,
            "not_found",
        ),
        case(
            M::PATCH,
            format!("/api/v1/conversations/{c}"),
            j(json!({"name": ""})),
            422,
            "invalid_input",
        ),
        case(
            M::PATCH,
            format!("/api/v1/conversations/{c}"),
            j(json!({"name": 7})),
            422,
            "invalid_body",
        ),
        // members
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/members"),
            j(json!({"user_ids": "x"})),
            422,
            "invalid_body",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/members"),
            j(json!({"user_ids": [987654321]})),
            422,
            "invalid_input",
        ),
        case(
            M::PUT,
            format!("/api/v1/conversations/{c}/members/{b}/role"),
            j(json!({"role": "king"})),
            422,
            "invalid_input",
        ),
        case(
            M::PUT,
            format!("/api/v1/conversations/{c}/members/{b}/role"),
            j(json!({"role": "owner"})),
            404,
            "not_found",
        ),
        case(
            M::DELETE,
            format!("/api/v1/conversations/{c}/members/x"),
            Body::None,
            400,
            "invalid_path",
        ),
        case(
            M::POST,
            "/api/v1/conversations/987654321/join",
            Body::None,
            404,
            "not_found",
        ),
        // messages
        case(
            M::GET,
            format!("/api/v1/conversations/{c}/messages?before=x"),
            Body::None,
            400,
            "invalid_query",
        ),
        case(
            M::GET,
            format!("/api/v1/conversations/{c}/messages?limit=500"),
            Body::None,
            422,
            "invalid_input",
        ),
        case(
            M::GET,
            format!("/api/v1/conversations/{c}/messages?before=5&after=1"),
            Body::None,
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "t1", "text": ""})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "t2", "text": "   \n "})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "t3", "text": long_text})),
            422,
            "limit_exceeded",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "t4", "text": huge})),
            413,
            "payload_too_large",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "mit leerzeichen", "text": "x"})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "x".repeat(65), "text": "x"})),
            422,
            "invalid_input",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"text": "ohne txn"})),
            422,
            "invalid_body",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "t5", "text": "x", "color": "red"})),
            422,
            "invalid_body",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "t6", "text": "x", "thread_root_id": 987654321})),
            404,
            "not_found",
        ),
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            Body::Raw(
                "application/json",
                b"{\"txn_id\":\"t8\",\"text\":\"\xc3\x28\"}".to_vec(),
            ),
            400,
            "malformed_json",
        ),
        // A right-to-left isolate reorders the rest of a message.
        case(
            M::POST,
            format!("/api/v1/conversations/{c}/messages"),
            j(json!({"txn_id": "t9", "text": "Preis: \u{2067}001\u{2069} EUR"})),
            422,
            "invalid_input",
        ),
        case(
            M::GET,
            "/api/v1/messages/987654321",
            Body::None,
            404,
            "not_found",
        ),
        case(
            M::PATCH,
            format!("/api/v1/messages/{m}"),
            j(json!({})),
            422,
            "invalid_body",
        ),
        case(
            M::PATCH,
            format!("/api/v1/messages/{m}"),
            j(json!({"text": ""})),
            422,
            "invalid_input",
        ),
        case(
            M::DELETE,
            "/api/v1/messages/1.5",
            Body::None,
            400,
            "invalid_path",
        ),
        // reactions
        case(
            M::PUT,
            format!("/api/v1/messages/{m}/reactions/{}", "a".repeat(80)),
            Body::None,
            422,
            "invalid_input",
        ),
        case(
            M::PUT,
            format!("/api/v1/messages/{m}/reactions/%20"),
            Body::None,
            422,
            "invalid_input",
        ),
        // A zero-width space (U+200B) alone, or after an emoji.
        case(
            M::PUT,
            format!("/api/v1/messages/{m}/reactions/%E2%80%8B"),
            Body::None,
            422,
            "invalid_input",
        ),
        case(
            M::PUT,
            format!("/api/v1/messages/{m}/reactions/%F0%9F%91%8D%E2%80%8B"),
            Body::None,
            422,
            "invalid_input",
        ),
        case(
            M::PUT,
            "/api/v1/messages/987654321/reactions/%F0%9F%91%8D",
            Body::None,
            404,
            "not_found",
        ),
        // read position
        case(
            M::PUT,
            format!("/api/v1/conversations/{c}/read"),
            j(json!({"message_id": "eins"})),
            422,
            "invalid_body",
        ),
        case(
            M::PUT,
            format!("/api/v1/conversations/{c}/read"),
            j(json!({"message_id": 987654321})),
            404,
            "not_found",
        ),
        // events and routing
        case(
            M::GET,
            "/api/v1/events?after=abc",
            Body::None,
            400,
            "invalid_query",
        ),
        case(
            M::GET,
            "/api/v1/events",
            Body::None,
            426,
            "upgrade_required",
        ),
        case(M::GET, "/api/v1/nope", Body::None, 404, "route_not_found"),
        case(
            M::GET,
            "/api/v2/conversations",
            Body::None,
            404,
            "route_not_found",
        ),
        case(
            M::DELETE,
            "/api/v1/limits",
            Body::None,
            405,
            "method_not_allowed",
        ),
    ];

    let token = anna.token().expect("token").to_owned();
    check(&srv, &token, cases).await;

    // Nothing half-written: the channel still holds exactly one message,
    // and no stray conversations were created.
    let history = anna.history(c, &Default::default()).await.expect("history");
    assert_eq!(
        history.messages.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![m]
    );
    assert_eq!(anna.conversations().await.expect("list").len(), 1);
}

/// Send every case with `token` and fail with a list of the wrong answers.
async fn check(srv: &TestServer, token: &str, cases: Vec<Case>) {
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    for case in cases {
        let what = format!(
            "{} {}",
            case.method,
            case.path.chars().take(120).collect::<String>()
        );
        let mut req = http
            .request(case.method, format!("{}{}", srv.url, case.path))
            .bearer_auth(token);
        req = match case.body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Raw(ct, bytes) => req.header("content-type", ct).body(bytes),
        };
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status != case.status
            || body["error"]["code"] != case.code
            || !ct.starts_with("application/json")
        {
            failures.push(format!(
                "{what}: expected {} {}, got {status} {body}",
                case.status, case.code
            ));
            continue;
        }
        assert_envelope(&body, case.code, &what);
    }
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A number in a URL has one spelling: `+1` and `01` are not id 1 (one
/// resource, one URL, for caches, logs and filters that compare them).
/// And what a URL cannot say (bad percent-encoding, unknown methods) is
/// answered in the same JSON envelope.
#[tokio::test]
async fn numbers_in_urls_have_one_spelling_and_odd_requests_get_json() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (_, bernd) = srv.client("bernd").await;
    let conv = channel(&anna, "Werkstatt").await;
    let (msg, _) = anna.send(conv.id, &text("Hallo")).await.expect("send");
    let (c, m, b) = (conv.id, msg.id, bernd.id.0);
    use Method as M;
    let path = |p: String| case(M::GET, p, Body::None, 400, "invalid_path");
    let query = |p: String| case(M::GET, p, Body::None, 400, "invalid_query");
    let cases = vec![
        path(format!("/api/v1/conversations/+{c}")),
        path(format!("/api/v1/conversations/0{c}")),
        path(format!("/api/v1/conversations/%2B{c}")),
        path(format!("/api/v1/messages/+{m}")),
        path(format!("/api/v1/users/+{b}")),
        path("/api/v1/conversations/-0".into()),
        case(
            M::DELETE,
            format!("/api/v1/conversations/{c}/members/+{b}"),
            Body::None,
            400,
            "invalid_path",
        ),
        case(
            M::PUT,
            format!("/api/v1/messages/+{m}/reactions/%F0%9F%91%8D"),
            Body::None,
            400,
            "invalid_path",
        ),
        query(format!("/api/v1/conversations/{c}/messages?before=%2B{m}")),
        query(format!("/api/v1/conversations/{c}/messages?limit=+5")),
        query(format!("/api/v1/conversations/{c}/messages?thread=0{m}")),
        query("/api/v1/users?offset=+1".into()),
        query("/api/v1/users?limit=050".into()),
        query(format!("/api/v1/search?q=Hallo&conversation_id=%2B{c}")),
        query(format!("/api/v1/search?q=Hallo&from=0{b}")),
        query("/api/v1/events?after=%2B1".into()),
        // What a URL cannot say.
        path("/api/v1/conversations/%ZZ".into()),
        case(
            M::PUT,
            format!("/api/v1/messages/{m}/reactions/%FF"),
            Body::None,
            400,
            "invalid_path",
        ),
        query("/api/v1/users?limit=%FF".into()),
        case(
            M::OPTIONS,
            "/api/v1/conversations",
            Body::None,
            405,
            "method_not_allowed",
        ),
        case(
            M::from_bytes(b"BREW").expect("method"),
            "/api/v1/conversations",
            Body::None,
            405,
            "method_not_allowed",
        ),
        case(M::POST, "/metrics", Body::None, 405, "method_not_allowed"),
    ];
    let token = anna.token().expect("token").to_owned();
    check(&srv, &token, cases).await;
    // The canonical spellings still work, and a search for "+1" is text.
    anna.conversation(c).await.expect("plain id");
    let hits = reqwest::Client::new()
        .get(format!("{}/api/v1/search?q=%2B1", srv.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("search");
    assert_eq!(hits.status(), 200);
}

/// A body that cannot be read (broken chunked encoding) is malformed HTTP:
/// 400 `unreadable_body` in the JSON envelope, not 413 "too large".
#[tokio::test]
async fn a_broken_body_is_a_400_not_a_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let token = anna.token().expect("token").to_owned();
    let addr = srv.url.trim_start_matches("http://").to_owned();
    for path in ["/api/v1/conversations", "/api/v1/auth/login"] {
        let mut tcp = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n\
             ZZ\r\n{{}}\r\n0\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        // Read until the JSON body is complete (or the server closes).
        while !answer.ends_with(b"}}") {
            let n = tokio::time::timeout(common::EVENT_WAIT, tcp.read(&mut chunk))
                .await
                .expect("an answer in time")
                .expect("read");
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..n]);
        }
        let answer = String::from_utf8_lossy(&answer);
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with("HTTP/1.1 400"), "{path}: {head}");
        assert!(
            head.contains("content-type: application/json"),
            "{path}: {head}"
        );
        let body: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        assert_envelope(&body, "unreadable_body", path);
    }
}

#[tokio::test]
async fn unauthenticated_requests_are_refused_everywhere_but_login_and_probes() {
    let srv = TestServer::start().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", srv.url))
        .await
        .expect("doc")
        .json()
        .await
        .expect("json");
    let http = reqwest::Client::new();
    let public = [
        "/api/v1/auth/login",
        "/api/v1/limits",
        "/healthz",
        "/readyz",
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            if public.contains(&path.as_str()) {
                continue;
            }
            let concrete = path
                .replace("{emoji}", "%F0%9F%91%8D")
                .replace(['{', '}'], "")
                .replace("user_id", "1")
                .replace("id", "1");
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            for token in [None, Some("kt_not-a-real-token"), Some("garbage")] {
                let mut req = http.request(m.clone(), format!("{}{concrete}", srv.url));
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                if path == "/api/v1/events" {
                    req = req
                        .header("connection", "upgrade")
                        .header("upgrade", "websocket")
                        .header("sec-websocket-version", "13")
                        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
                    if token.is_none() {
                        // Unauthenticated upgrades are allowed: the first frame may authenticate.
                        continue;
                    }
                }
                let resp = req.send().await.expect("request");
                assert_eq!(resp.status(), 401, "{method} {path} with {token:?}");
                let body: Value = resp.json().await.expect("json");
                assert_envelope(&body, "unauthenticated", path);
                checked += 1;
            }
        }
    }
    assert!(checked >= 60, "only {checked} checks");
}
