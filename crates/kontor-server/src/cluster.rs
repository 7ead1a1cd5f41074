//! Several nodes: what they tell each other over NATS.
//!
//! NATS carries notifications only, never data a client depends on:
//! - `<prefix>.commits`: "I committed events". Every node then reads the
//!   shared event log after the position it has delivered (the storage
//!   tail), so a lost notification costs at most the tail's poll interval,
//!   never an event. Notifications are coalesced: while one is waiting to
//!   go out, further commits add nothing.
//! - `<prefix>.typing`: a member is typing. Ephemeral by nature, never
//!   stored; a lost one is a lost typing indicator.
//! - `<prefix>.presence`: who is online on a node, for those who show it
//!   (only when `presence.enabled`): a delta per change and the full list
//!   every few seconds, which also says the node is alive. A lost delta is
//!   mended by the next full list; a silent node's people go offline (see
//!   `hub::presence`).
//!
//! The client reconnects by itself (forever, with backoff); while it is not
//! connected the node reports not ready.

use std::sync::Arc;
use std::time::Duration;

use async_nats::connection::State;
use bytes::Bytes;
use futures_util::StreamExt;
use kontor_core::ids::{ConversationId, UserId};
use kontor_storage::Storage;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::config::{EventsConfig, redact_url};
use crate::hub::Hub;
use crate::hub::presence::{ANNOUNCE_INTERVAL, NOTICE_QUEUE, PresenceNotice};

/// How often the client pings the server: bounds how long a silently
/// dead connection goes unnoticed.
pub const PING_INTERVAL: Duration = Duration::from_secs(5);
/// Longest wait for the first connection at start-up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A typing notice between nodes.
#[derive(Serialize, Deserialize)]
struct TypingNotice {
    node: u64,
    conversation_id: i64,
    user_id: i64,
}

/// This node's link to the others.
pub struct Cluster {
    client: async_nats::Client,
    node: u64,
    typing_subject: String,
    commits: mpsc::Sender<()>,
    /// Dropping it ends the presence relay.
    _presence_stop: Option<watch::Sender<()>>,
}

/// Why the cluster link could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot use NATS at {url}: {reason}")]
pub struct ClusterError {
    url: String,
    reason: String,
}

/// Relay presence: this node's notices out (numbered by the hub, stamped
/// with `node` here), the others' into `hub`, and every
/// [`ANNOUNCE_INTERVAL`] a full list out and silent nodes expired. Runs
/// until the returned sender is dropped.
async fn relay_presence(
    client: &async_nats::Client,
    subject: String,
    node: u64,
    hub: Hub,
) -> Result<watch::Sender<()>, String> {
    let mut incoming = client
        .subscribe(subject.clone())
        .await
        .map_err(|e| e.to_string())?;
    let (out, mut outgoing) = mpsc::channel::<PresenceNotice>(NOTICE_QUEUE);
    hub.announce_presence_to(out);
    let receiver = hub.clone();
    tokio::spawn(async move {
        while let Some(msg) = incoming.next().await {
            match serde_json::from_slice::<PresenceNotice>(&msg.payload) {
                Ok(n) if n.node != node => receiver.remote_presence(n),
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "ignoring a malformed presence notice"),
            }
        }
    });
    let (stop, stopped) = watch::channel(());
    let publisher = client.clone();
    let mut publisher_stopped = stopped.clone();
    tokio::spawn(async move {
        loop {
            let mut notice = tokio::select! {
                n = outgoing.recv() => match n {
                    Some(n) => n,
                    None => return,
                },
                _ = publisher_stopped.changed() => return,
            };
            notice.node = node;
            let Ok(payload) = serde_json::to_vec(&notice) else {
                continue;
            };
            let size = payload.len();
            if let Err(e) = publisher.publish(subject.clone(), payload.into()).await {
                // A full list larger than the server's max_payload fails
                // every time: the operator must hear of it.
                tracing::warn!(error = %e, bytes = size, full = notice.full, "presence notice not sent");
            }
        }
    });
    let mut ticker_stopped = stopped;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(ANNOUNCE_INTERVAL);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = ticker_stopped.changed() => return,
            }
            hub.announce_presence();
            hub.expire_presence(std::time::Instant::now());
        }
    });
    Ok(stop)
}

impl Cluster {
    /// Connect to NATS and start relaying: our commits out, other nodes'
    /// commits into `store.wake()`, their typing into `hub`.
    pub async fn connect(
        config: &EventsConfig,
        store: Arc<dyn Storage>,
        hub: Hub,
    ) -> Result<Arc<Cluster>, ClusterError> {
        let url = redact_url(&config.nats_url);
        let err = |reason: String| ClusterError {
            url: url.clone(),
            reason,
        };
        let wake_store = Arc::clone(&store);
        let client = async_nats::ConnectOptions::new()
            .name("kontor")
            .ping_interval(PING_INTERVAL)
            .connection_timeout(CONNECT_TIMEOUT)
            .max_reconnects(None)
            .event_callback(move |event| {
                let store = Arc::clone(&wake_store);
                async move {
                    tracing::info!(%event, "NATS connection event");
                    // Notifications sent while we were away are lost: look
                    // at the log now instead of at the next poll.
                    if matches!(event, async_nats::Event::Connected) {
                        store.wake();
                    }
                }
            })
            .connect(config.nats_url.as_str())
            .await
            .map_err(|e| err(e.to_string()))?;
        let prefix = config.prefix();
        let commit_subject = format!("{prefix}.commits");
        let typing_subject = format!("{prefix}.typing");
        let mut commits_in = client
            .subscribe(commit_subject.clone())
            .await
            .map_err(|e| err(e.to_string()))?;
        let mut typing_in = client
            .subscribe(typing_subject.clone())
            .await
            .map_err(|e| err(e.to_string()))?;
        let node = rand::random::<u64>();
        let presence_stop = if hub.presence_enabled() {
            Some(
                relay_presence(&client, format!("{prefix}.presence"), node, hub.clone())
                    .await
                    .map_err(err)?,
            )
        } else {
            None
        };
        tokio::spawn(async move {
            while commits_in.next().await.is_some() {
                store.wake();
            }
        });
        tokio::spawn(async move {
            while let Some(msg) = typing_in.next().await {
                match serde_json::from_slice::<TypingNotice>(&msg.payload) {
                    Ok(t) if t.node != node => {
                        hub.typing(ConversationId(t.conversation_id), UserId(t.user_id));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "ignoring a malformed typing notice"),
                }
            }
        });
        let (commits, mut pending) = mpsc::channel::<()>(1);
        let publisher = client.clone();
        tokio::spawn(async move {
            while pending.recv().await.is_some() {
                if let Err(e) = publisher
                    .publish(commit_subject.clone(), Bytes::new())
                    .await
                {
                    tracing::debug!(error = %e, "commit notice not sent; other nodes poll");
                }
            }
        });
        Ok(Arc::new(Cluster {
            client,
            node,
            typing_subject,
            commits,
            _presence_stop: presence_stop,
        }))
    }

    /// Tell the other nodes that this one committed events. Never waits: a
    /// notice already queued covers this commit too.
    pub fn committed(&self) {
        let _ = self.commits.try_send(());
    }

    /// Tell the other nodes that `user` is typing in `conversation`.
    pub fn typing(&self, conversation: ConversationId, user: UserId) {
        let notice = TypingNotice {
            node: self.node,
            conversation_id: conversation.0,
            user_id: user.0,
        };
        let Ok(payload) = serde_json::to_vec(&notice) else {
            return;
        };
        let client = self.client.clone();
        let subject = self.typing_subject.clone();
        tokio::spawn(async move {
            let _ = client.publish(subject, payload.into()).await;
        });
    }

    /// Whether the link to NATS is up right now.
    pub fn is_connected(&self) -> bool {
        self.client.connection_state() == State::Connected
    }
}
