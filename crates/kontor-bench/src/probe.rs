//! The bare fan-out probe: a minimal WebSocket server that forwards each
//! frame its publisher sends to every subscriber, nothing else: no
//! authentication, no storage, no JSON, one shared buffer per frame and a
//! bounded queue per subscriber like Kontor's hub. What it reaches on a
//! machine is the machine's own limit for fan-out; the `channel` scenario
//! runs it beside Kontor and reports the ratio.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::load::{Pace, events_url, message_text};
use crate::stats::{Counters, Recorder};

/// Frames a subscriber may have queued, as in Kontor's hub.
const QUEUE: usize = 1024;

type Subscribers = Arc<Mutex<Vec<mpsc::Sender<Utf8Bytes>>>>;

/// Serve until the process is killed; prints `probe listening on URL`.
pub async fn serve() -> anyhow::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("probe listening on http://{}", listener.local_addr()?);
    serve_on(listener).await
}

/// Serve on a bound listener until the task is dropped.
pub async fn serve_on(listener: TcpListener) -> anyhow::Result<()> {
    let subscribers: Subscribers = Arc::default();
    loop {
        let (tcp, _) = listener.accept().await?;
        let subscribers = subscribers.clone();
        tokio::spawn(async move {
            let mut path = String::new();
            // The handshake callback's signature is tungstenite's.
            #[allow(clippy::result_large_err)]
            let callback = |req: &Request, resp: Response| {
                path = req.uri().path().to_owned();
                Ok(resp)
            };
            let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
                return;
            };
            let (mut sink, mut stream) = ws.split();
            if path == "/publish" {
                while let Some(Ok(Message::Text(frame))) = stream.next().await {
                    let mut subs = subscribers.lock().unwrap_or_else(|p| p.into_inner());
                    subs.retain(|s| s.try_send(frame.clone()).is_ok());
                }
                return;
            }
            let (tx, mut rx) = mpsc::channel(QUEUE);
            if sink
                .send(Message::text("{\"type\":\"hello\"}"))
                .await
                .is_err()
            {
                return;
            }
            subscribers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(tx);
            while let Some(frame) = rx.recv().await {
                if sink.send(Message::Text(frame)).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Publish frames shaped like Kontor's `message_created` for `duration`.
pub async fn publish_for(
    base: &str,
    subscribers: u64,
    size: usize,
    pace: Pace,
    duration: Duration,
    counters: &Counters,
    recorder: &Recorder,
) -> anyhow::Result<()> {
    let (mut ws, _) = tokio_tungstenite::connect_async(events_url(base, "/publish")).await?;
    let until = Instant::now() + duration;
    let start = Instant::now();
    let start_ns = recorder.now_ns();
    let mut k: u64 = 0;
    while Instant::now() < until {
        let due_ns = match pace {
            Pace::Open { rate } => {
                let due = start + Duration::from_secs_f64(k as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                start_ns + (k as f64 / rate * 1e9) as u64
            }
            Pace::Closed { max_backlog, .. } => {
                while Counters::get(&counters.expected)
                    .saturating_sub(Counters::get(&counters.delivered))
                    > max_backlog
                    && Instant::now() < until
                {
                    tokio::time::sleep(Duration::from_micros(500)).await;
                }
                recorder.now_ns()
            }
        };
        let frame = format!(
            "{{\"seq\":{k},\"type\":\"message_created\",\"message\":{{\"id\":{k},\"conversation_id\":1,\"text\":\"{}\"}}}}",
            message_text(due_ns, size)
        );
        ws.send(Message::text(frame)).await?;
        Counters::add(&counters.accepted, 1);
        Counters::add(&counters.expected, subscribers);
        k += 1;
    }
    let _ = ws.close(None).await;
    Ok(())
}
