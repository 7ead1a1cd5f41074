//! The OpenAPI document: the server serves it, it matches the committed
//! copy in `docs/openapi.json`, and every path it documents is routed.
//! Regenerate the copy with `KONTOR_UPDATE_OPENAPI=1 cargo test -p kontor --test it -- openapi::`.

use crate::common;

use common::TestServer;
use serde_json::Value;

fn committed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[tokio::test]
async fn served_document_matches_the_committed_copy() {
    let srv = TestServer::start().await;
    let resp = reqwest::get(format!("{}/api/v1/openapi.json", srv.url))
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    let served: Value = resp.json().await.expect("json");
    assert_eq!(
        served["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let in_code = serde_json::to_value(kontor_server::api::openapi()).expect("doc");
    assert_eq!(served, in_code);
    let path = committed_path();
    let pretty = serde_json::to_string_pretty(&served).expect("pretty") + "\n";
    if std::env::var_os("KONTOR_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &pretty).expect("write docs/openapi.json");
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("docs/openapi.json exists"))
            .expect("valid json");
    assert!(
        committed == served,
        "docs/openapi.json is stale; run KONTOR_UPDATE_OPENAPI=1 cargo test -p kontor --test it -- openapi::"
    );
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_documents_its_errors() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let doc = serde_json::to_value(kontor_server::api::openapi()).expect("doc");
    let http = reqwest::Client::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            operations += 1;
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} lists no responses"
            );
            assert!(
                op["operationId"].is_string(),
                "{method} {path} has no operationId"
            );
            // These two would end the session the rest of the loop uses;
            // tests/sessions.rs covers them.
            if path == "/api/v1/auth/logout" || path == "/api/v1/sessions/{id}" {
                continue;
            }
            let concrete = path
                .replace("{emoji}", "%F0%9F%91%8D")
                .replace("{user_id}", "1")
                .replace("{id}", "1");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let resp = http
                .request(m, format!("{}{concrete}", srv.url))
                .bearer_auth(anna.token().expect("token"))
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            let status = resp.status();
            assert_ne!(status, 401, "{method} {path}: the test session ended");
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert!(
                body["error"]["code"] != "route_not_found"
                    && body["error"]["code"] != "method_not_allowed",
                "{method} {path} is documented but not routed"
            );
            assert!(
                status.as_u16() < 500,
                "{method} {path} answered {status} to an empty body: {body}"
            );
            if status.is_client_error() {
                let code = status.as_str();
                assert!(
                    op["responses"].get(code).is_some(),
                    "{method} {path} answered {status} ({}) but documents only {:?}",
                    body["error"]["code"],
                    op["responses"]
                        .as_object()
                        .map(|r| r.keys().collect::<Vec<_>>())
                );
            }
        }
    }
    assert!(operations >= 29, "only {operations} operations documented");
}
