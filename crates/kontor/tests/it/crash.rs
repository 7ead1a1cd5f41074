//! Acknowledged means durable: the real binary is killed with SIGKILL in the
//! middle of concurrent sends, restarted on the same data directory, and
//! every acknowledged message must be there exactly once. Sends whose
//! outcome the client never learned are retried with the same transaction
//! id and must not duplicate either.

use crate::common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::process::{ServerProcess, seed_org};
use kontor_client::Client;
use kontor_client::kontor_wire::requests::{CreateConversation, HistoryParams, SendMessage};

const WRITERS: usize = 4;
/// Acknowledgements to wait for before pulling the plug.
const ACKS_BEFORE_KILL: usize = 150;
/// Upper bound per writer so a server that never dies cannot loop forever.
const MAX_SENDS_PER_WRITER: usize = 5_000;
const PASSWORD: &str = "absturz-sicher-2026";

#[derive(Default)]
struct Ledger {
    /// txn id → message id, for every acknowledged send.
    acked: HashMap<String, i64>,
    /// Sends in flight when the connection broke: outcome unknown.
    unknown: Vec<String>,
}

async fn all_messages(
    client: &Client,
    conversation: i64,
) -> Vec<kontor_client::kontor_wire::Message> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = client
            .history(
                conversation,
                &HistoryParams {
                    after: Some(after.unwrap_or(0)),
                    limit: Some(200),
                    ..Default::default()
                },
            )
            .await
            .expect("history");
        after = page.messages.last().map(|m| m.id).or(after);
        let more = page.has_more;
        out.extend(page.messages);
        if !more {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_messages_survive_kill_9_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let names: Vec<String> = (0..WRITERS).map(|w| format!("schreiber{w}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    seed_org(dir.path(), "Absturz GmbH", &names, PASSWORD);

    let server = ServerProcess::start("serve", dir.path());
    let mut clients = Vec::new();
    for w in 0..WRITERS {
        let mut c = Client::new(&server.url).expect("client");
        c.login(&format!("schreiber{w}"), PASSWORD, Some("crash-test"))
            .await
            .expect("login");
        clients.push(c);
    }
    let (channel, _) = clients[0]
        .create_conversation(&CreateConversation {
            kind: "channel".into(),
            name: Some("Last".into()),
            is_public: true,
            ..Default::default()
        })
        .await
        .expect("channel");
    for c in &clients[1..] {
        c.join(channel.id).await.expect("join");
    }

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let (acks_tx, mut acks_rx) = tokio::sync::watch::channel(0usize);
    let acks_tx = Arc::new(acks_tx);
    let mut writers = Vec::new();
    for (w, client) in clients.into_iter().enumerate() {
        let ledger = ledger.clone();
        let acks_tx = acks_tx.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..MAX_SENDS_PER_WRITER {
                let txn = format!("w{w}-{i}");
                let req = SendMessage {
                    txn_id: txn.clone(),
                    text: format!("Nachricht {txn}"),
                    ..Default::default()
                };
                match client.send(channel.id, &req).await {
                    Ok((m, created)) => {
                        assert!(created, "fresh txn {txn} reported as a retry");
                        ledger.lock().expect("ledger").acked.insert(txn, m.id);
                        acks_tx.send_modify(|n| *n += 1);
                    }
                    Err(_) => {
                        ledger.lock().expect("ledger").unknown.push(txn);
                        break;
                    }
                }
            }
            client.token().map(str::to_owned)
        }));
    }
    acks_rx
        .wait_for(|n| *n >= ACKS_BEFORE_KILL)
        .await
        .expect("writers acknowledged");
    server.kill9();
    let mut tokens = Vec::new();
    for w in writers {
        tokens.push(w.await.expect("writer task").expect("token"));
    }

    let (acked, unknown) = {
        let l = ledger.lock().expect("ledger");
        (l.acked.clone(), l.unknown.clone())
    };
    assert!(acked.len() >= ACKS_BEFORE_KILL);
    assert_eq!(unknown.len(), WRITERS, "every writer was cut off mid-send");

    // Same data directory, new process. Sessions survive too.
    let server = ServerProcess::start("serve", dir.path());
    let clients: Vec<Client> = tokens
        .into_iter()
        .map(|t| Client::new(&server.url).expect("client").with_token(t))
        .collect();
    let messages = all_messages(&clients[0], channel.id).await;
    let mut by_txn: HashMap<&str, Vec<i64>> = HashMap::new();
    for m in &messages {
        by_txn.entry(m.txn_id.as_str()).or_default().push(m.id);
    }
    for (txn, id) in &acked {
        assert_eq!(
            by_txn.get(txn.as_str()),
            Some(&vec![*id]),
            "acknowledged {txn} lost or duplicated"
        );
    }
    assert!(
        by_txn.values().all(|ids| ids.len() == 1),
        "duplicates after restart"
    );
    assert!(
        messages.len() <= acked.len() + unknown.len(),
        "messages from nowhere"
    );

    // Retrying the sends whose answer was lost posts each at most once:
    // a send that committed before the kill is answered with the original.
    for txn in &unknown {
        let w: usize = txn[1..txn.find('-').expect("dash")]
            .parse()
            .expect("writer index");
        let before = by_txn.get(txn.as_str()).map(|v| v[0]);
        let req = SendMessage {
            txn_id: txn.clone(),
            text: format!("Nachricht {txn}"),
            ..Default::default()
        };
        let (m, created) = clients[w].send(channel.id, &req).await.expect("retry");
        match before {
            Some(id) => assert!(!created && m.id == id, "committed {txn} posted again"),
            None => assert!(created),
        }
    }
    let after = all_messages(&clients[0], channel.id).await;
    assert_eq!(after.len(), acked.len() + unknown.len());
    let mut txns: Vec<&str> = after.iter().map(|m| m.txn_id.as_str()).collect();
    txns.sort_unstable();
    txns.dedup();
    assert_eq!(txns.len(), after.len());
    println!(
        "crash test: {} acknowledged before kill -9, {} in flight, {} committed-but-unacknowledged recovered",
        acked.len(),
        unknown.len(),
        unknown
            .iter()
            .filter(|t| by_txn.contains_key(t.as_str()))
            .count()
    );
}
