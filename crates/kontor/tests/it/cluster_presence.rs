//! Presence across nodes: three `kontor serve` processes share PostgreSQL
//! and NATS, with presence on.
//!
//! - someone coming and going on node A is seen on node B as it happens;
//! - their choice to hide, made through node B, hides them at once on B
//!   although their socket is on A (the choice is a logged event);
//! - a node started later learns who is online elsewhere from the full
//!   lists the others announce;
//! - after `kill -9` of node A its people go offline on the other nodes.
//!
//! Needs what `cluster.rs` needs; `.ci/run` provides it.

use crate::common;

use std::time::{Duration, Instant};

use common::Backend;
use common::cluster::{Nats, login, node_with, shared_database, wait_for};
use common::process::{ServerProcess, seed_org};
use kontor_client::kontor_wire::WireEvent;
use kontor_client::{Client, EventStream};

const PASSWORD: &str = "praesenz-2026";
const PRESENCE_ON: &[(&str, &str)] = &[("KONTOR_PRESENCE__ENABLED", "true")];
/// Longest wait for a killed node's people to go offline elsewhere: its
/// silence must exceed `hub::presence::NODE_TIMEOUT` (15 s), noticed at the
/// next 5 s tick, plus slack for a loaded machine.
const EXPIRY_WAIT: Duration = Duration::from_secs(45);

fn presence_node(dir: &std::path::Path, nats: &Nats) -> ServerProcess {
    node_with(dir, nats, &Backend::s3(), PRESENCE_ON)
}

async fn share(client: &Client, share: bool) {
    assert!(
        common::share_presence(client, share)
            .await
            .presence_available
    );
}

fn is_presence(e: &WireEvent, online_now: bool, user: i64) -> bool {
    match e {
        WireEvent::Presence { online, offline } => {
            if online_now {
                online.contains(&user)
            } else {
                offline.contains(&user)
            }
        }
        _ => false,
    }
}

/// Events of `client`, `hello` consumed, watching `user`; returns whether
/// the answer said `user` is online.
async fn watching(client: &Client, user: i64) -> (EventStream, bool) {
    let mut s = client.events(None).await.expect("stream");
    wait_for(&mut s, |e| matches!(e, WireEvent::Hello { .. })).await;
    s.watch_presence(&[user]).await.expect("watch");
    let f = wait_for(&mut s, |e| matches!(e, WireEvent::Presence { .. })).await;
    let online = is_presence(&f.event, true, user);
    (s, online)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL, nats-server and the S3 test server"]
async fn presence_crosses_nodes_and_a_killed_nodes_people_go_offline() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().expect("dir")).collect();
    let paths: Vec<_> = dirs.iter().map(|d| d.path()).collect();
    shared_database(&paths);
    seed_org(
        paths[0],
        "Präsenz GmbH",
        &["alice", "bob", "carl"],
        PASSWORD,
    );
    let nats = Nats::start();
    let node_a = presence_node(paths[0], &nats);
    let node_b = presence_node(paths[1], &nats);

    let alice = login(&node_a.url, "alice", PASSWORD).await;
    let alice_on_b = login(&node_b.url, "alice", PASSWORD).await;
    let bob = login(&node_b.url, "bob", PASSWORD).await;
    share(&alice, true).await;
    share(&bob, true).await;
    let alice_id = alice.me().await.expect("me").user.id;

    // Alice comes and goes on A; Bob on B sees it live.
    let (mut bob_ev, online) = watching(&bob, alice_id).await;
    assert!(!online, "Alice has no socket yet");
    let alice_ev = alice.events(None).await.expect("alice stream");
    wait_for(&mut bob_ev, |e| is_presence(e, true, alice_id)).await;
    alice_ev.close().await;
    wait_for(&mut bob_ev, |e| is_presence(e, false, alice_id)).await;
    let mut alice_ev = alice.events(None).await.expect("alice stream");
    wait_for(&mut alice_ev, |e| matches!(e, WireEvent::Hello { .. })).await;
    wait_for(&mut bob_ev, |e| is_presence(e, true, alice_id)).await;

    // Hiding through node B takes effect on B though her socket is on A.
    share(&alice_on_b, false).await;
    wait_for(&mut bob_ev, |e| is_presence(e, false, alice_id)).await;
    wait_for(&mut alice_ev, |e| {
        matches!(
            e,
            WireEvent::PresenceSharingChanged {
                share_presence: false
            }
        )
    })
    .await;
    share(&alice_on_b, true).await;
    wait_for(&mut bob_ev, |e| is_presence(e, true, alice_id)).await;

    // A node started now learns from A's full list that Alice is online.
    let node_c = presence_node(paths[2], &nats);
    let carl = login(&node_c.url, "carl", PASSWORD).await;
    share(&carl, true).await;
    let (mut carl_ev, online) = watching(&carl, alice_id).await;
    if !online {
        wait_for(&mut carl_ev, |e| is_presence(e, true, alice_id)).await;
    }

    // kill -9 of A: no goodbye; B and C forget A's people once it is silent.
    let killed = Instant::now();
    node_a.kill9();
    for (who, events) in [("bob on B", &mut bob_ev), ("carl on C", &mut carl_ev)] {
        tokio::time::timeout(
            EXPIRY_WAIT,
            wait_for_long(events, |e| is_presence(e, false, alice_id)),
        )
        .await
        .unwrap_or_else(|_| panic!("{who}: Alice still online {EXPIRY_WAIT:?} after kill -9"));
        println!(
            "{who}: Alice offline {:.1} s after kill -9 of her node",
            killed.elapsed().as_secs_f64()
        );
    }
    drop(node_b);
    drop(node_c);
}

/// [`wait_for`] without its per-frame limit (the caller bounds the whole
/// wait): nothing else arrives while a node's silence is timing out.
async fn wait_for_long(s: &mut EventStream, mut pred: impl FnMut(&WireEvent) -> bool) {
    loop {
        let f = s.next().await.expect("stream open");
        if pred(&f.event) {
            return;
        }
    }
}
