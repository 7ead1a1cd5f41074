//! WAL checkpoints on their own thread. SQLite's automatic checkpoint runs
//! inside whichever commit crosses the threshold, which put 15–20 ms spikes
//! into write latency; here the writer never checkpoints and this thread
//! copies the WAL back into the database in the background (PASSIVE: it
//! never blocks the writer or readers).

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;

/// How often the WAL is checkpointed.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// Run until `stop`'s sender is dropped (when the writer thread ends), then
/// checkpoint once more and truncate the WAL.
pub fn run(conn: Connection, stop: Receiver<()>) {
    loop {
        match stop.recv_timeout(CHECKPOINT_INTERVAL) {
            Err(RecvTimeoutError::Timeout) | Ok(()) => checkpoint(&conn, "PASSIVE"),
            Err(RecvTimeoutError::Disconnected) => {
                checkpoint(&conn, "TRUNCATE");
                return;
            }
        }
    }
}

fn checkpoint(conn: &Connection, mode: &str) {
    let result = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    });
    match result {
        Ok((_, log, done)) => tracing::trace!(log, done, mode, "checkpoint"),
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
    }
}
