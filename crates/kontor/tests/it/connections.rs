//! What one client can hold: connections that send their request slowly or
//! not at all are closed, connections per address and sockets per person
//! are capped.

use crate::common;

use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longer than any timeout configured below: a connection still open then
/// was not closed by the server.
const CLOSED_WITHIN: Duration = Duration::from_secs(8);

async fn connect(srv: &TestServer) -> TcpStream {
    let addr = srv.url.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// Everything the server sends until it closes the connection; fails if it
/// does not close within [`CLOSED_WITHIN`].
async fn until_closed(conn: &mut TcpStream) -> String {
    let mut got = Vec::new();
    match tokio::time::timeout(CLOSED_WITHIN, conn.read_to_end(&mut got)).await {
        Ok(_) => String::from_utf8_lossy(&got).into_owned(),
        Err(_) => panic!(
            "the server kept the connection open; it sent {:?}",
            String::from_utf8_lossy(&got)
        ),
    }
}

#[tokio::test]
async fn slow_and_silent_connections_are_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = TestServer::start_configured(dir, |c| {
        c.server.header_timeout_seconds = 1;
        c.server.body_timeout_seconds = 1;
    })
    .await;
    // Nothing at all.
    let mut silent = connect(&srv).await;
    until_closed(&mut silent).await;
    // Half a request head.
    let mut partial = connect(&srv).await;
    partial
        .write_all(b"GET /api/v1/limits HTTP/1.1\r\nHost: kontor\r\n")
        .await
        .expect("write");
    until_closed(&mut partial).await;
    // A whole head, one byte of a promised 1,000-byte body.
    let mut body = connect(&srv).await;
    body.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: kontor\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    )
    .await
    .expect("write");
    let answer = until_closed(&mut body).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    // A prompt client is served as before.
    let prompt = reqwest::get(format!("{}/api/v1/limits", srv.url))
        .await
        .expect("limits");
    assert_eq!(prompt.status(), 200);
}

#[tokio::test]
async fn connections_per_address_are_capped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = TestServer::start_configured(dir, |c| {
        c.server.max_connections_per_address = 3;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect(&srv).await);
    }
    let mut fourth = connect(&srv).await;
    assert_eq!(until_closed(&mut fourth).await, "", "closed without a word");
    // The held ones still work.
    held[0]
        .write_all(b"GET /api/v1/limits HTTP/1.1\r\nHost: kontor\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let answer = until_closed(&mut held[0]).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A closed one gives its place back (the server notices the close a
    // moment later, so try until it has).
    held.remove(0);
    let deadline = tokio::time::Instant::now() + CLOSED_WITHIN;
    loop {
        let mut again = connect(&srv).await;
        again
            .write_all(b"GET /api/v1/limits HTTP/1.1\r\nHost: kontor\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        if until_closed(&mut again).await.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn sockets_per_person_are_capped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = TestServer::start_configured(dir, |c| {
        c.server.max_sockets_per_user = 2;
    })
    .await;
    let (anna, _) = srv.client("anna").await;
    let (_one, _) = events(&anna).await;
    let (_two, _) = events(&anna).await;
    let mut third = anna.events(None).await.expect("handshake");
    let closed = tokio::time::timeout(CLOSED_WITHIN, third.next())
        .await
        .expect("an answer")
        .expect_err("refused");
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (4029, "too_many_sockets")
    );
    // Someone else is not affected.
    let (bernd, _) = srv.client("bernd").await;
    events(&bernd).await;
}
