//! The event tail: follows the shared event log and hands every committed
//! event, whichever node wrote it, to this node's sink in stream order.
//!
//! Why a tail instead of handing events over after each commit, as the
//! SQLite writer does: with several nodes (and concurrent transactions on
//! one) the order of commits is only known to the database. Positions are
//! commit-ordered (see `unit::Unit::emit`), so reading "everything after
//! the last position delivered" never skips an event. A local commit wakes
//! the tail at once; another node's commit wakes it through
//! [`crate::Storage::wake`] (the server's NATS subscription); a poll every
//! [`POLL_INTERVAL`] covers a lost notification, so a lost one costs
//! latency, never an event.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kontor_core::ids::EventSeq;
use sqlx::PgPool;
use tokio::sync::Notify;

use super::events;
use crate::EventSink;

/// Longest time between looks at the log when no notification comes.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Events read per query; a larger backlog is read in several.
pub const TAIL_BATCH: usize = 1000;
/// Pause after a failed read (the database is down, say) before the next.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Handle to the tail task.
pub struct Tail {
    notify: Notify,
    stopped: AtomicBool,
}

impl Tail {
    /// Start following the log after position `from`.
    pub fn start(pool: PgPool, sink: Arc<dyn EventSink>, from: EventSeq) -> Arc<Tail> {
        let tail = Arc::new(Tail {
            notify: Notify::new(),
            stopped: AtomicBool::new(false),
        });
        tokio::spawn(run(Arc::clone(&tail), pool, sink, from));
        tail
    }

    /// Read the log now. A wake while a read runs is remembered, so a
    /// commit that lands just after a read is not left for the poll.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// End the task (at its next wake-up).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.notify.notify_one();
    }
}

async fn run(tail: Arc<Tail>, pool: PgPool, sink: Arc<dyn EventSink>, mut delivered: EventSeq) {
    loop {
        if tail.stopped.load(Ordering::Acquire) {
            return;
        }
        loop {
            let batch = match pool.acquire().await {
                Ok(mut conn) => events::committed_after(&mut conn, delivered, TAIL_BATCH).await,
                Err(e) => Err(e.into()),
            };
            match batch {
                Ok(batch) if batch.is_empty() => break,
                Ok(batch) => {
                    let full = batch.len() == TAIL_BATCH;
                    if let Some(last) = batch.last() {
                        if batch[0].seq.0 != delivered.0 + 1 {
                            // Only pruning makes holes, and only in events
                            // older than anything a node still delivers.
                            tracing::warn!(
                                from = delivered.0,
                                next = batch[0].seq.0,
                                "event log continues after a gap"
                            );
                        }
                        delivered = last.seq;
                    }
                    sink.committed(batch);
                    if !full {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the event log; retrying");
                    tokio::time::sleep(RETRY_PAUSE).await;
                    break;
                }
            }
        }
        let _ = tokio::time::timeout(POLL_INTERVAL, tail.notify.notified()).await;
    }
}
