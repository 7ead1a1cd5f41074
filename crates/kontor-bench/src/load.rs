//! The load itself: one WebSocket per person that counts message frames and
//! records their delivery latency, and senders that post over HTTP (or as
//! `send` frames over their own socket, `--send-via ws`), either
//! open-loop at a fixed rate (so latency under load is honest: it counts
//! from when a message was due, not when a backed-up sender got to it) or
//! closed-loop as fast as the server absorbs without building a backlog.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::stats::{Counters, Recorder, Simple};

/// Connection attempts at once; more would overflow the listen backlog.
const CONNECT_CONCURRENCY: usize = 200;
/// Open-loop sends in flight at most; beyond this a due send is counted as
/// dropped instead of piling up without bound.
pub const MAX_IN_FLIGHT: usize = 4096;

/// Marker that precedes the send timestamp inside a message text.
const STAMP: &[u8] = b"\"text\":\"b";

/// Extract the send timestamp (ns) from a `message_created` frame.
pub fn stamp_of(frame: &[u8]) -> Option<u64> {
    let at = memchr::memmem::find(frame, STAMP)? + STAMP.len();
    let digits = &frame[at..];
    let end = digits.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// Message text of `size` bytes carrying the timestamp.
pub fn message_text(sent_ns: u64, size: usize) -> String {
    let mut t = format!("b{sent_ns}:");
    while t.len() < size {
        t.push('x');
    }
    t
}

/// WebSocket URL of a server's event stream.
pub fn events_url(base: &str, path: &str) -> String {
    format!("{}{path}", base.replacen("http://", "ws://", 1))
}

fn ws_config() -> WebSocketConfig {
    // Small buffers: ten thousand sockets with the 128 KiB default read
    // buffer would cost the generator over a gigabyte.
    WebSocketConfig::default()
        .read_buffer_size(8 * 1024)
        .write_buffer_size(0)
}

/// Open a socket for each token (all of them, or fail), then count frames
/// until `stop` is set. Returns once every socket is connected and has
/// seen its `hello`.
pub async fn connect_receivers(
    url: &str,
    tokens: Vec<String>,
    counters: Arc<Counters>,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<JoinSet<()>> {
    let (readers, _) = connect(url, tokens, counters, recorder, stop, false).await?;
    Ok(readers)
}

/// Like [`connect_receivers`], and each socket can also post messages
/// (`send` frames): the returned senders are in token order.
pub async fn connect_senders(
    url: &str,
    tokens: Vec<String>,
    counters: Arc<Counters>,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<(JoinSet<()>, Vec<SocketSender>)> {
    connect(url, tokens, counters, recorder, stop, true).await
}

async fn connect(
    url: &str,
    tokens: Vec<String>,
    counters: Arc<Counters>,
    recorder: Arc<Recorder>,
    stop: Arc<AtomicBool>,
    with_senders: bool,
) -> anyhow::Result<(JoinSet<()>, Vec<SocketSender>)> {
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut connecting = JoinSet::new();
    let count = tokens.len();
    for (i, token) in tokens.into_iter().enumerate() {
        let gate = gate.clone();
        let url = url.to_owned();
        connecting.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let mut req = url.into_client_request()?;
            req.headers_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
            let (mut ws, _) =
                tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), true).await?;
            match ws.next().await {
                Some(Ok(WsMessage::Text(t))) if t.contains("\"hello\"") => {}
                other => anyhow::bail!("expected hello, got {other:?}"),
            }
            anyhow::Ok((i, ws))
        });
    }
    let mut readers = JoinSet::new();
    let mut senders: Vec<Option<SocketSender>> = (0..count).map(|_| None).collect();
    while let Some(done) = connecting.join_next().await {
        let (i, ws) = done.context("connect task")??;
        let counters = counters.clone();
        let recorder = recorder.clone();
        let stop = stop.clone();
        let (mut sink, mut stream) = ws.split();
        let (out_tx, mut out_rx) = mpsc::channel::<WsMessage>(SOCKET_OUTBOX);
        let pending = Arc::new(Pending::default());
        if with_senders {
            senders[i] = Some(SocketSender {
                outbox: out_tx.clone(),
                pending: pending.clone(),
            });
        }
        readers.spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
        });
        readers.spawn(async move {
            while let Some(msg) = stream.next().await {
                match msg {
                    Ok(WsMessage::Text(t)) => {
                        if let Some(sent) = stamp_of(t.as_bytes()) {
                            Counters::add(&counters.delivered, 1);
                            recorder.record(i, sent);
                        } else if let Some((txn, ok)) = answer_of(t.as_str()) {
                            pending.finish(&txn, ok);
                        }
                    }
                    Ok(WsMessage::Ping(p)) => {
                        let _ = out_tx.try_send(WsMessage::Pong(p));
                    }
                    Ok(WsMessage::Close(_)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            if !stop.load(Ordering::Relaxed) {
                Counters::add(&counters.disconnects, 1);
            }
            // Whoever still waits for an answer on this socket gets a failure.
            pending.fail_all();
        });
    }
    let senders = if with_senders {
        senders.into_iter().flatten().collect()
    } else {
        Vec::new()
    };
    Ok((readers, senders))
}

/// Frames a socket's writer task may have queued.
const SOCKET_OUTBOX: usize = 256;

/// Sends on one socket that wait for their `sent` / `send_failed` answer,
/// by `txn_id`.
#[derive(Default)]
struct Pending(Mutex<HashMap<String, oneshot::Sender<bool>>>);

impl Pending {
    fn wait(&self, txn: String) -> oneshot::Receiver<bool> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut map) = self.0.lock() {
            map.insert(txn, tx);
        }
        rx
    }

    fn finish(&self, txn: &str, ok: bool) {
        let waiter = self.0.lock().ok().and_then(|mut map| map.remove(txn));
        if let Some(tx) = waiter {
            let _ = tx.send(ok);
        }
    }

    fn fail_all(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}

/// Posts messages over one person's event socket.
#[derive(Clone)]
pub struct SocketSender {
    outbox: mpsc::Sender<WsMessage>,
    pending: Arc<Pending>,
}

impl SocketSender {
    /// Send a `send` frame and wait for its answer: true when stored.
    async fn post(&self, conversation: i64, txn: String, text: &str) -> bool {
        let frame = format!(
            "{{\"type\":\"send\",\"conversation_id\":{conversation},\"txn_id\":\"{txn}\",\"text\":\"{text}\"}}"
        );
        let answer = self.pending.wait(txn);
        if self
            .outbox
            .send(WsMessage::Text(frame.into()))
            .await
            .is_err()
        {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

/// The `txn_id` of a `sent` (true) or `send_failed` (false) frame.
fn answer_of(frame: &str) -> Option<(String, bool)> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "type")]
        kind: String,
        txn_id: String,
    }
    if !frame.contains("\"sent\"") && !frame.contains("\"send_failed\"") {
        return None;
    }
    let a: Answer = serde_json::from_str(frame).ok()?;
    match a.kind.as_str() {
        "sent" => Some((a.txn_id, true)),
        "send_failed" => Some((a.txn_id, false)),
        _ => None,
    }
}

/// One message to post: where, as whom, and how many deliveries it owes.
#[derive(Clone)]
pub struct Target {
    /// Conversation id.
    pub conversation: i64,
    /// Sender's token.
    pub token: String,
    /// Sender's index among the people (their socket, for `send` frames).
    pub sender: usize,
    /// Connected members (deliveries expected per message).
    pub recipients: u64,
}

/// How the senders pace themselves.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// This many messages per second in total, regardless of answers.
    Open { rate: f64 },
    /// `senders` loops, each posting as soon as the last was acknowledged
    /// and the deliveries still owed are under `max_backlog`.
    Closed { senders: usize, max_backlog: u64 },
}

/// Everything the senders share.
pub struct SendContext {
    /// Server base URL.
    pub base: String,
    /// HTTP client (keeps connections alive).
    pub http: reqwest::Client,
    /// Where messages go, chosen round-robin.
    pub targets: Vec<Target>,
    /// Message size in bytes.
    pub size: usize,
    /// Shared counters.
    pub counters: Arc<Counters>,
    /// Delivery latency recorder (for its clock).
    pub recorder: Arc<Recorder>,
    /// Send → acknowledgement latency.
    pub ack_latency: Simple,
    /// Per person, when messages go over the sockets instead of HTTP.
    pub sockets: Vec<SocketSender>,
}

impl SendContext {
    async fn post(&self, k: u64, due_ns: u64) {
        let target = &self.targets[(k as usize) % self.targets.len()];
        let text = message_text(due_ns, self.size);
        let started = Instant::now();
        if let Some(socket) = self.sockets.get(target.sender) {
            if socket
                .post(target.conversation, format!("b{k}"), &text)
                .await
            {
                self.ack_latency.record(started.elapsed());
                Counters::add(&self.counters.accepted, 1);
                Counters::add(&self.counters.expected, target.recipients);
            } else {
                Counters::add(&self.counters.send_errors, 1);
            }
            return;
        }
        let body = format!("{{\"txn_id\":\"b{k}\",\"text\":\"{text}\"}}");
        let res = self
            .http
            .post(format!(
                "{}/api/v1/conversations/{}/messages",
                self.base, target.conversation
            ))
            .bearer_auth(&target.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => {
                self.ack_latency.record(started.elapsed());
                Counters::add(&self.counters.accepted, 1);
                Counters::add(&self.counters.expected, target.recipients);
            }
            _ => Counters::add(&self.counters.send_errors, 1),
        }
    }
}

/// Post messages for `duration`, paced by `pace`.
pub async fn send_for(ctx: Arc<SendContext>, pace: Pace, duration: Duration) {
    let until = Instant::now() + duration;
    match pace {
        Pace::Open { rate } => {
            let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
            let start = Instant::now();
            let start_ns = ctx.recorder.now_ns();
            let mut k: u64 = 0;
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            let mut tasks = JoinSet::new();
            while Instant::now() < until {
                tick.tick().await;
                let due_total = (start.elapsed().as_secs_f64() * rate) as u64;
                while k < due_total {
                    let due_ns = start_ns + (k as f64 / rate * 1e9) as u64;
                    match in_flight.clone().try_acquire_owned() {
                        Ok(permit) => {
                            let ctx = ctx.clone();
                            tasks.spawn(async move {
                                ctx.post(k, due_ns).await;
                                drop(permit);
                            });
                        }
                        Err(_) => Counters::add(&ctx.counters.send_dropped, 1),
                    }
                    k += 1;
                }
                while tasks.try_join_next().is_some() {}
            }
            while tasks.join_next().await.is_some() {}
        }
        Pace::Closed {
            senders,
            max_backlog,
        } => {
            let mut tasks = JoinSet::new();
            for s in 0..senders {
                let ctx = ctx.clone();
                tasks.spawn(async move {
                    let mut k = s as u64;
                    while Instant::now() < until {
                        let c = &ctx.counters;
                        while Counters::get(&c.expected).saturating_sub(Counters::get(&c.delivered))
                            > max_backlog
                            && Instant::now() < until
                        {
                            tokio::time::sleep(Duration::from_micros(500)).await;
                        }
                        ctx.post(k, ctx.recorder.now_ns()).await;
                        k += senders as u64;
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
        }
    }
}

/// Wait until every owed delivery arrived or `limit` passed.
pub async fn drain(counters: &Counters, limit: Duration) {
    let until = Instant::now() + limit;
    while Counters::get(&counters.delivered) < Counters::get(&counters.expected)
        && Instant::now() < until
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_round_trips_through_a_frame() {
        let text = message_text(123_456_789, 40);
        assert_eq!(text.len(), 40);
        let frame = format!(
            "{{\"seq\":9,\"type\":\"message_created\",\"message\":{{\"id\":1,\"text\":\"{text}\"}}}}"
        );
        assert_eq!(stamp_of(frame.as_bytes()), Some(123_456_789));
        assert_eq!(stamp_of(b"{\"type\":\"typing\"}"), None);
    }
}
