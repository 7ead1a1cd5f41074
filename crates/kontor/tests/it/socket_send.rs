//! Posting messages as `send` frames on the event socket: answered by
//! `sent` / `send_failed`, delivered like REST posts, idempotent by
//! `txn_id`, refused with the REST API's codes, and bounded in flight
//! without losing anything.

use crate::common;

use std::collections::HashSet;

use common::*;
use kontor_client::EventStream;
use kontor_client::kontor_wire::WireEvent;
use kontor_client::kontor_wire::requests::*;

/// The answer to the `send` frame with this `txn_id`: Ok((message id,
/// created)) or Err(code).
async fn answer(s: &mut EventStream, txn: &str) -> Result<(i64, bool), String> {
    loop {
        match next(s).await.event {
            WireEvent::Sent {
                txn_id,
                message_id,
                created,
                ..
            } if txn_id == txn => return Ok((message_id, created)),
            WireEvent::SendFailed { txn_id, code, .. } if txn_id == txn => return Err(code),
            _ => {}
        }
    }
}

fn created_id(e: &WireEvent) -> Option<i64> {
    match e {
        WireEvent::MessageCreated { message } => Some(message.id),
        _ => None,
    }
}

#[tokio::test]
async fn socket_sends_are_stored_delivered_and_idempotent() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let dm = direct(&anna, bernd_user.id.0).await;
    let (mut anna_ev, _) = events(&anna).await;
    let (mut bernd_ev, _) = events(&bernd).await;

    let req = text("Über den Socket: Schicht läuft");
    anna_ev
        .send_message(dm.id, &req)
        .await
        .expect("frame written");
    let (id, created) = answer(&mut anna_ev, &req.txn_id).await.expect("sent");
    assert!(created);
    let f = next_matching(&mut bernd_ev, |e| created_id(e).is_some()).await;
    let WireEvent::MessageCreated { message } = f.event else {
        unreachable!()
    };
    assert_eq!(message.id, id);
    assert_eq!(
        message.text.as_deref(),
        Some("Über den Socket: Schicht läuft")
    );
    assert_eq!(message.sender_id, anna.me().await.expect("me").user.id);

    // The same txn_id again, over the socket and over REST: the first
    // message, never a second one.
    anna_ev
        .send_message(dm.id, &req)
        .await
        .expect("frame written");
    assert_eq!(answer(&mut anna_ev, &req.txn_id).await, Ok((id, false)));
    let (rest, rest_created) = anna.send(dm.id, &req).await.expect("rest retry");
    assert_eq!((rest.id, rest_created), (id, false));

    // A thread reply over the socket.
    let mut reply = text("Antwort im Thread");
    reply.thread_root_id = Some(id);
    anna_ev.send_message(dm.id, &reply).await.expect("frame");
    let (reply_id, _) = answer(&mut anna_ev, &reply.txn_id).await.expect("reply");
    let stored = bernd.message(reply_id).await.expect("reply readable");
    assert_eq!(stored.thread_root_id, Some(id));

    // Bernd saw exactly one message_created for the first message: the
    // reply is the marker that everything before it has arrived.
    assert_none_before_marker(
        &mut bernd_ev,
        |e| created_id(e) == Some(id),
        |e| created_id(e) == Some(reply_id),
    )
    .await;
    let page = bernd
        .history(dm.id, &HistoryParams::default())
        .await
        .expect("history");
    assert_eq!(page.messages.len(), 1, "one message in the main timeline");
    assert_eq!(page.messages[0].reply_count, 1);
}

#[tokio::test]
async fn refused_socket_sends_say_why_and_post_nothing() {
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let (claudia, _) = srv.client("claudia").await;
    let dm = direct(&anna, bernd_user.id.0).await;
    let (mut claudia_ev, _) = events(&claudia).await;
    let (mut anna_ev, _) = events(&anna).await;

    // Not a member: the conversation does not exist for Claudia.
    let intrude = text("darf ich mitlesen?");
    claudia_ev
        .send_message(dm.id, &intrude)
        .await
        .expect("frame");
    assert_eq!(
        answer(&mut claudia_ev, &intrude.txn_id).await,
        Err("not_found".into())
    );

    // Broken input gets the REST API's codes.
    let empty = text("   ");
    anna_ev.send_message(dm.id, &empty).await.expect("frame");
    assert_eq!(
        answer(&mut anna_ev, &empty.txn_id).await,
        Err("invalid_input".into())
    );
    let mut long_txn = text("zu lange txn");
    long_txn.txn_id = "x".repeat(65);
    anna_ev.send_message(dm.id, &long_txn).await.expect("frame");
    assert_eq!(
        answer(&mut anna_ev, &long_txn.txn_id).await,
        Err("invalid_input".into())
    );
    let too_big = text(&"ä".repeat(kontor_core::limits::MAX_MESSAGE_BYTES / 2 + 1));
    anna_ev.send_message(dm.id, &too_big).await.expect("frame");
    assert!(answer(&mut anna_ev, &too_big.txn_id).await.is_err());

    // A frame that is not a complete `send` is an error frame, and the
    // socket stays usable.
    anna_ev
        .send_text(r#"{"type":"send","conversation_id":1}"#)
        .await
        .expect("frame");
    let f = next_matching(&mut anna_ev, |e| matches!(e, WireEvent::Error { .. })).await;
    assert!(matches!(f.event, WireEvent::Error { ref code, .. } if code == "invalid_frame"));
    let ok = text("jetzt aber richtig");
    anna_ev.send_message(dm.id, &ok).await.expect("frame");
    let (ok_id, _) = answer(&mut anna_ev, &ok.txn_id).await.expect("sent");

    let page = bernd
        .history(dm.id, &HistoryParams::default())
        .await
        .expect("history");
    let ids: Vec<i64> = page.messages.iter().map(|m| m.id).collect();
    assert_eq!(ids, vec![ok_id], "only the valid send was posted");
}

#[tokio::test]
async fn many_sends_in_flight_on_one_socket_lose_nothing() {
    // Far more than MAX_SENDS_IN_FLIGHT, written without waiting: the
    // server stops reading while the limit is reached, so every frame is
    // answered and delivered once.
    const SENDS: usize = 300;
    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let (bernd, bernd_user) = srv.client("bernd").await;
    let conv = group(&anna, "Frühschicht", &[bernd_user.id.0]).await;
    let (mut anna_ev, _) = events(&anna).await;
    let (mut bernd_ev, _) = events(&bernd).await;

    let reqs: Vec<SendMessage> = (0..SENDS)
        .map(|i| text(&format!("Nachricht {i}")))
        .collect();
    for r in &reqs {
        anna_ev.send_message(conv.id, r).await.expect("frame");
    }
    let mut pending: HashSet<String> = reqs.iter().map(|r| r.txn_id.clone()).collect();
    let mut acked = HashSet::new();
    while !pending.is_empty() {
        match next(&mut anna_ev).await.event {
            WireEvent::Sent {
                txn_id,
                message_id,
                created,
                ..
            } => {
                assert!(created, "{txn_id} posted once");
                assert!(pending.remove(&txn_id), "one answer per frame: {txn_id}");
                assert!(acked.insert(message_id));
            }
            WireEvent::SendFailed { txn_id, code, .. } => panic!("{txn_id} refused: {code}"),
            _ => {}
        }
    }
    let mut delivered = HashSet::new();
    while delivered.len() < SENDS {
        let f = next(&mut bernd_ev).await;
        if let Some(id) = created_id(&f.event) {
            assert!(delivered.insert(id), "message {id} delivered twice");
        }
    }
    assert_eq!(delivered, acked);
}

/// A frame over the 64 KiB limit is answered with close 1009
/// (`message_too_big`), before and after authentication, not with a
/// dropped connection the client cannot tell from a network failure.
#[tokio::test]
async fn an_oversized_frame_closes_the_socket_with_1009() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let srv = TestServer::start().await;
    let (anna, _) = srv.client("anna").await;
    let token = anna.token().expect("token").to_owned();
    let url = format!("{}/api/v1/events", srv.url.replacen("http://", "ws://", 1));
    // A send frame whose text alone is 70 KiB.
    let big = serde_json::json!({
        "type": "send", "conversation_id": 1, "txn_id": "t-big", "text": "x".repeat(70 * 1024),
    })
    .to_string();
    for authorization in [Some(format!("Bearer {token}")), None] {
        let mut req = url.as_str().into_client_request().expect("request");
        if let Some(value) = &authorization {
            req.headers_mut()
                .insert("authorization", value.parse().expect("header"));
        }
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("upgrade");
        ws.send(Message::text(big.clone())).await.expect("send");
        let close = loop {
            match tokio::time::timeout(EVENT_WAIT, ws.next())
                .await
                .expect("an answer in time")
            {
                Some(Ok(Message::Close(Some(f)))) => {
                    break (u16::from(f.code), f.reason.to_string());
                }
                Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!(
                    "expected a close frame (authorization {authorization:?}), got {other:?}"
                ),
            }
        };
        assert_eq!(
            close,
            (1009, "message_too_big".to_owned()),
            "authorization {authorization:?}"
        );
    }
    assert_eq!(
        metric(
            &srv,
            r#"kontor_websocket_closes_total{reason="message_too_big"}"#
        )
        .await,
        Some(2.0)
    );
}
