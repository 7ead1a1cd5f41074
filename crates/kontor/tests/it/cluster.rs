//! Several nodes: two `kontor serve` processes on different loopback ports
//! share one PostgreSQL database, one NATS server and one S3 bucket.
//!
//! - people on different nodes exchange messages and typing live;
//! - one node gets `kill -9` under load; its writers retry on the other
//!   node with the same transaction ids and its listener resumes there from
//!   its last position: no acknowledged message is lost or duplicated, and
//!   the listener sees every message exactly once;
//! - readiness follows NATS: false while it is stopped, true once it is
//!   back, without restarting the node.
//!
//! Needs PostgreSQL (`KONTOR_TEST_DATABASE_URL`, default the local server),
//! a `nats-server` binary (`KONTOR_TEST_NATS_SERVER`, default from PATH) and
//! the S3 test server (`KONTOR_TEST_S3_*`); `.ci/run` provides all three.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::cluster::{Nats, login, node, shared_database, wait_for};
use common::process::seed_org;
use common::{Backend, EVENT_WAIT};
use kontor_client::Client;
use kontor_client::kontor_wire::WireEvent;
use kontor_client::kontor_wire::requests::{CreateConversation, HistoryParams, SendMessage};

const PASSWORD: &str = "zwei-knoten-2026";
/// Writers per node during the load phase.
const WRITERS_PER_NODE: usize = 2;
/// Acknowledgements before node A is killed.
const ACKS_BEFORE_KILL: usize = 120;
/// Messages each writer sends on node B after the kill.
const SENDS_AFTER_KILL: usize = 15;
/// Upper bound per writer so a node that never dies cannot loop forever.
const MAX_SENDS: usize = 5_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL, nats-server and the S3 test server"]
async fn two_nodes_deliver_live_and_survive_kill_9_of_one() {
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    shared_database(&[dir_a.path(), dir_b.path()]);
    let writers: Vec<String> = (0..2 * WRITERS_PER_NODE).map(|w| format!("w{w}")).collect();
    let mut names = vec!["alice", "bob"];
    names.extend(writers.iter().map(String::as_str));
    seed_org(dir_a.path(), "Verbund GmbH", &names, PASSWORD);
    let nats = Nats::start();
    let files = Backend::s3();
    let node_a = node(dir_a.path(), &nats, &files);
    let node_b = node(dir_b.path(), &nats, &files);

    // Live across nodes: alice on A, bob on B.
    let alice = login(&node_a.url, "alice", PASSWORD).await;
    let bob = login(&node_b.url, "bob", PASSWORD).await;
    let mut alice_events = alice.events(None).await.expect("alice stream");
    let mut bob_events = bob.events(None).await.expect("bob stream");
    let bob_id = bob.me().await.expect("me").user.id;
    let (dm, _) = alice
        .create_conversation(&CreateConversation {
            kind: "direct".into(),
            user_ids: vec![bob_id],
            ..Default::default()
        })
        .await
        .expect("dm");
    wait_for(&mut bob_events, |e| {
        matches!(e, WireEvent::ConversationCreated { .. })
    })
    .await;
    let send = |txn: &str, text: &str| SendMessage {
        txn_id: txn.into(),
        text: text.into(),
        ..Default::default()
    };
    let (m, _) = alice
        .send(dm.id, &send("a1", "Hallo von Knoten A"))
        .await
        .expect("send");
    let f = wait_for(&mut bob_events, |e| {
        matches!(e, WireEvent::MessageCreated { .. })
    })
    .await;
    assert!(matches!(&f.event, WireEvent::MessageCreated { message } if message.id == m.id));
    let (m, _) = bob
        .send(dm.id, &send("b1", "Antwort von Knoten B"))
        .await
        .expect("send");
    wait_for(
        &mut alice_events,
        |e| matches!(e, WireEvent::MessageCreated { message } if message.id == m.id),
    )
    .await;
    bob.typing(dm.id).await.expect("typing");
    wait_for(&mut alice_events, |e| {
        matches!(e, WireEvent::Typing { conversation_id, user_id } if *conversation_id == dm.id && *user_id == bob_id)
    })
    .await;

    // Load: writers on both nodes; a listener (alice) on node A.
    let mut clients = Vec::new();
    for (i, w) in writers.iter().enumerate() {
        let url = if i < WRITERS_PER_NODE {
            &node_a.url
        } else {
            &node_b.url
        };
        clients.push(login(url, w, PASSWORD).await);
    }
    let (channel, _) = clients[0]
        .create_conversation(&CreateConversation {
            kind: "channel".into(),
            name: Some("Last über zwei Knoten".into()),
            is_public: true,
            ..Default::default()
        })
        .await
        .expect("channel");
    for c in &clients[1..] {
        c.join(channel.id).await.expect("join");
    }
    alice.join(channel.id).await.expect("alice joins");
    wait_for(&mut alice_events, |e| {
        matches!(e, WireEvent::MemberAdded { .. })
    })
    .await;

    let seen: Arc<Mutex<HashMap<i64, usize>>> = Arc::default();
    let listener = {
        let seen = Arc::clone(&seen);
        let (url_b, token) = (node_b.url.clone(), alice.token().expect("token").to_owned());
        tokio::spawn(async move {
            let mut stream = alice_events;
            let mut last = 0i64;
            let mut moved = false;
            loop {
                match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
                    Ok(Ok(f)) => {
                        if let Some(seq) = f.seq {
                            assert!(seq > last, "position went back: {seq} after {last}");
                            last = seq;
                        }
                        if let WireEvent::MessageCreated { message } = f.event
                            && message.conversation_id == channel.id
                        {
                            *seen.lock().expect("seen").entry(message.id).or_default() += 1;
                        }
                    }
                    Ok(Err(_)) if !moved => {
                        // Node A died: resume on node B from the last position.
                        let b = Client::new(&url_b)
                            .expect("client")
                            .with_token(token.clone());
                        stream = b.events(Some(last)).await.expect("resume on B");
                        moved = true;
                    }
                    Ok(Err(closed)) => panic!("stream on B closed: {closed:?}"),
                    Err(_) => return (last, moved),
                }
            }
        })
    };

    let acked: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let (acks_tx, mut acks_rx) = tokio::sync::watch::channel(0usize);
    let acks_tx = Arc::new(acks_tx);
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (w, client) in clients.into_iter().enumerate() {
        let (acked, acks_tx, url_b) =
            (Arc::clone(&acked), Arc::clone(&acks_tx), node_b.url.clone());
        let killed = Arc::clone(&killed);
        tasks.push(tokio::spawn(async move {
            let mut client = client;
            let mut on_a = w < WRITERS_PER_NODE;
            let mut after_kill = None;
            let mut i = 0;
            while i < MAX_SENDS && after_kill.is_none_or(|n: usize| n < SENDS_AFTER_KILL) {
                if after_kill.is_none() && killed.load(std::sync::atomic::Ordering::Acquire) {
                    after_kill = Some(0);
                }
                let txn = format!("w{w}-{i}");
                let req = SendMessage {
                    txn_id: txn.clone(),
                    text: format!("Last {txn}"),
                    ..Default::default()
                };
                match client.send(channel.id, &req).await {
                    Ok((m, _)) => {
                        let first = acked.lock().expect("acked").insert(txn, m.id);
                        assert!(first.is_none(), "acknowledged twice");
                        acks_tx.send_modify(|n| *n += 1);
                        after_kill = after_kill.map(|n| n + 1);
                        i += 1;
                    }
                    // Node A is gone: the same send, same txn id, on B.
                    Err(_) if on_a => {
                        let token = client.token().expect("token").to_owned();
                        client = Client::new(&url_b).expect("client").with_token(token);
                        on_a = false;
                        after_kill.get_or_insert(0);
                    }
                    Err(e) => panic!("send on node B failed: {e}"),
                }
            }
        }));
    }
    acks_rx
        .wait_for(|n| *n >= ACKS_BEFORE_KILL)
        .await
        .expect("acks");
    node_a.kill9();
    killed.store(true, std::sync::atomic::Ordering::Release);
    for t in tasks {
        t.await.expect("writer");
    }
    let acked = acked.lock().expect("acked").clone();
    let expected = acked.len();

    // Every acknowledged message is stored exactly once…
    let reader = login(&node_b.url, "bob", PASSWORD).await;
    reader.join(channel.id).await.expect("bob joins");
    let mut stored: HashMap<String, Vec<i64>> = HashMap::new();
    let mut after = 0;
    loop {
        let page = reader
            .history(
                channel.id,
                &HistoryParams {
                    after: Some(after),
                    limit: Some(200),
                    ..Default::default()
                },
            )
            .await
            .expect("history");
        for m in &page.messages {
            stored.entry(m.txn_id.clone()).or_default().push(m.id);
        }
        after = page.messages.last().map_or(after, |m| m.id);
        if !page.has_more {
            break;
        }
    }
    for (txn, id) in &acked {
        assert_eq!(
            stored.get(txn),
            Some(&vec![*id]),
            "{txn} lost or duplicated"
        );
    }
    assert_eq!(stored.len(), expected, "messages nobody acknowledged");

    // …and the listener that moved from A to B saw each exactly once.
    let deadline = Instant::now() + EVENT_WAIT;
    while seen.lock().expect("seen").len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    {
        let seen = seen.lock().expect("seen");
        let missing: Vec<&i64> = acked.values().filter(|id| !seen.contains_key(id)).collect();
        assert!(
            missing.is_empty(),
            "listener missed {} messages",
            missing.len()
        );
        assert!(seen.values().all(|n| *n == 1), "listener got duplicates");
    }
    listener.abort();
    println!(
        "two nodes: {expected} messages acknowledged across kill -9 of node A, none lost or repeated"
    );
    drop(node_b);
}

async fn ready(client: &reqwest::Client, url: &str) -> u16 {
    client
        .get(format!("{url}/readyz"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL, nats-server and the S3 test server"]
async fn readiness_follows_nats() {
    let dir = tempfile::tempdir().expect("dir");
    shared_database(&[dir.path()]);
    seed_org(dir.path(), "Bereit GmbH", &["alice"], PASSWORD);
    let mut nats = Nats::start();
    let server = node(dir.path(), &nats, &Backend::s3());
    let http = reqwest::Client::new();
    assert_eq!(ready(&http, &server.url).await, 200);

    nats.stop();
    let deadline = Instant::now() + Duration::from_secs(20);
    while ready(&http, &server.url).await != 503 {
        assert!(Instant::now() < deadline, "still ready without NATS");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Alive all the same, and writes still work: PostgreSQL holds them.
    let alive = http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .expect("healthz");
    assert_eq!(alive.status().as_u16(), 200);
    let alice = login(&server.url, "alice", PASSWORD).await;
    assert!(alice.conversations().await.is_ok());

    nats.resume();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ready(&http, &server.url).await != 200 {
        assert!(
            Instant::now() < deadline,
            "not ready again after NATS came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
