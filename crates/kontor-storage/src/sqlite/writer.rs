//! The group-commit writer: one thread owns the only write connection and
//! commits whatever jobs have queued up in a single transaction.
//!
//! Why: with `synchronous=FULL` every commit costs an fsync (a few hundred
//! microseconds to milliseconds). Batching all waiting jobs into one
//! transaction pays that cost once per batch, so throughput grows with load
//! while each job still only hears "done" after its data is on disk.
//!
//! Each job runs inside its own savepoint: a job that fails (a broken rule,
//! say) is rolled back alone and the rest of the batch commits. Events the
//! job emitted are discarded with it.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use kontor_core::event::Event;
use kontor_core::ids::EventSeq;
use kontor_core::model::Timestamp;
use rusqlite::{Connection, TransactionBehavior, params};
use tokio::sync::{mpsc, oneshot};

use crate::{CommittedEvent, EventEncoder, EventSink, StoreError, StoreResult};

/// Most jobs committed together. Bounds the latency one commit adds to the
/// first job in it and the memory a batch holds.
pub const MAX_BATCH_JOBS: usize = 512;
/// Most jobs waiting for the writer; senders wait when it is full, which
/// pushes back on clients instead of growing memory without bound.
pub const MAX_QUEUED_JOBS: usize = 16_384;

type Finish = Box<dyn FnOnce(Option<StoreError>) + Send>;
type Job = Box<dyn FnOnce(&mut Unit<'_>) -> (bool, Finish) + Send>;

/// The context a write job runs in: the open transaction and the events it
/// emits.
pub(crate) struct Unit<'c> {
    /// The connection, inside the batch transaction and the job's savepoint.
    pub conn: &'c Connection,
    encoder: &'c dyn EventEncoder,
    committed: Vec<CommittedEvent>,
    /// The next stream position, read once per batch: the batch holds the
    /// database's write lock, so no other writer (not even another
    /// process) can take a position before it commits.
    next_seq: Option<i64>,
}

impl Unit<'_> {
    /// Append an event to the log and queue it for live delivery once the
    /// batch commits. Returns its stream position.
    pub fn emit(&mut self, event: Event, now: Timestamp) -> StoreResult<EventSeq> {
        let seq = match self.next_seq {
            Some(seq) => seq,
            None => self
                .conn
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM events")?
                .query_row([], |r| r.get(0))?,
        };
        self.next_seq = Some(seq + 1);
        let seq = EventSeq(seq);
        let frame = self.encoder.encode(seq, &event);
        let audience = event.audience();
        self.conn
            .prepare_cached(
                "INSERT INTO events (seq, kind, audience_conversation_id, audience_user_id, \
                 content_message_id, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                seq.0,
                event.kind(),
                audience.conversation.map(|c| c.0),
                audience.user.map(|u| u.0),
                event.content_of().map(|m| m.0),
                &frame[..],
                now.0
            ])?;
        self.committed.push(CommittedEvent {
            seq,
            audience,
            membership: event.membership_effect(),
            revoked_session: event.revoked_session(),
            presence_sharing: event.presence_choice(),
            frame,
        });
        Ok(seq)
    }

    /// Re-encode stored events at their original positions, e.g. to scrub
    /// old text from the log after an edit or delete.
    pub fn rewrite_event(&self, seq: EventSeq, event: &Event) -> StoreResult<()> {
        let frame: Bytes = self.encoder.encode(seq, event);
        self.conn
            .prepare_cached("UPDATE events SET payload = ?1, kind = ?2 WHERE seq = ?3")?
            .execute(params![&frame[..], event.kind(), seq.0])?;
        Ok(())
    }
}

/// Handle to the writer thread.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Start the writer thread on `conn` and the checkpoint thread on
    /// `checkpoint_conn`. The threads end when every `Writer` handle is
    /// dropped; the returned join handle lets shutdown wait for the last
    /// batch and the final checkpoint.
    pub fn start(
        conn: Connection,
        checkpoint_conn: Connection,
        encoder: Arc<dyn EventEncoder>,
        sink: Arc<dyn EventSink>,
    ) -> std::io::Result<(Writer, std::thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel::<Job>(MAX_QUEUED_JOBS);
        let (checkpoint_stop, stop_rx) = std::sync::mpsc::channel::<()>();
        let checkpoint_handle = std::thread::Builder::new()
            .name("kontor-checkpoint".into())
            .spawn(move || super::checkpoint::run(checkpoint_conn, stop_rx))?;
        let handle = std::thread::Builder::new()
            .name("kontor-writer".into())
            .spawn(move || {
                run(conn, rx, encoder.as_ref(), sink.as_ref());
                drop(checkpoint_stop);
                let _ = checkpoint_handle.join();
            })?;
        Ok((Writer { jobs: tx }, handle))
    }

    /// Jobs waiting for the writer right now.
    pub fn queued(&self) -> usize {
        MAX_QUEUED_JOBS.saturating_sub(self.jobs.capacity())
    }

    /// Run `f` in the next batch; resolves after the batch is durable.
    pub async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Unit<'_>) -> StoreResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        let (reply_tx, reply_rx) = oneshot::channel::<StoreResult<R>>();
        let job: Job = Box::new(move |unit| {
            let result = f(unit);
            let ok = result.is_ok();
            let finish: Finish = Box::new(move |commit_error| {
                let outcome = match commit_error {
                    None => result,
                    Some(e) => Err(e),
                };
                let _ = reply_tx.send(outcome);
            });
            (ok, finish)
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        reply_rx.await.unwrap_or_else(|_| {
            Err(StoreError::Internal(
                "write job aborted (panicked or writer stopped)".into(),
            ))
        })
    }
}

fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Job>,
    encoder: &dyn EventEncoder,
    sink: &dyn EventSink,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH_JOBS);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH_JOBS {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, &mut batch, encoder, sink);
    }
}

/// Run a parameterless statement from the statement cache: the savepoint
/// statements run once per job, and parsing them each time showed up in
/// profiles.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn commit_batch(
    conn: &mut Connection,
    batch: &mut Vec<Job>,
    encoder: &dyn EventEncoder,
    sink: &dyn EventSink,
) {
    let started = std::time::Instant::now();
    let jobs = batch.len();
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::error!(error = %e, "cannot begin write transaction");
            // Dropping the jobs drops their reply senders: callers see an error.
            batch.clear();
            return;
        }
    };
    let mut unit = Unit {
        conn: &tx,
        encoder,
        committed: Vec::new(),
        next_seq: None,
    };
    let mut finishers: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut broken: Option<String> = None;
    for job in batch.drain(..) {
        if broken.is_some() {
            continue;
        }
        let mark = (unit.committed.len(), unit.next_seq);
        if let Err(e) = run_cached(unit.conn, "SAVEPOINT job") {
            broken = Some(e.to_string());
            continue;
        }
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut unit)));
        let (keep, finish) = match outcome {
            Ok((ok, finish)) => (ok, Some(finish)),
            Err(_) => {
                tracing::error!("write job panicked; rolled back");
                (false, None)
            }
        };
        let end = if keep {
            run_cached(unit.conn, "RELEASE job")
        } else {
            // Positions of rolled-back events are handed out again, so
            // the log stays dense.
            unit.committed.truncate(mark.0);
            unit.next_seq = mark.1;
            run_cached(unit.conn, "ROLLBACK TO job")
                .and_then(|()| run_cached(unit.conn, "RELEASE job"))
        };
        if let Err(e) = end {
            broken = Some(e.to_string());
        }
        finishers.extend(finish);
    }
    let committed = std::mem::take(&mut unit.committed);
    let result = match broken {
        Some(e) => Err(e),
        None => {
            let applied = started.elapsed();
            let r = tx.commit().map_err(|e| e.to_string());
            tracing::trace!(jobs, ?applied, total = ?started.elapsed(), "write batch");
            r
        }
    };
    match result {
        Ok(()) => {
            if !committed.is_empty() {
                sink.committed(committed);
            }
            for finish in finishers {
                finish(None);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "write batch failed; nothing in it was committed");
            for finish in finishers {
                finish(Some(StoreError::Unavailable(
                    "the write could not be committed".into(),
                )));
            }
        }
    }
}
