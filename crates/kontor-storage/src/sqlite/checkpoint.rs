//! WAL checkpoints on their own thread. SQLite's automatic checkpoint runs
//! inside whichever commit crosses the threshold, which put 15–20 ms spikes
//! into write latency; here the writer never checkpoints and this thread
//! copies the WAL back into the database in the background (PASSIVE: it
//! never blocks the writer or readers).
//!
//! Every [`TRUNCATE_INTERVAL`] it tries a TRUNCATE checkpoint instead,
//! which empties the WAL file: page images of deleted or edited messages
//! would otherwise stay in it until overwritten. TRUNCATE holds new writes
//! back while it waits for readers, so it gives up after
//! [`TRUNCATE_PATIENCE`] and tries again next time.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How often the WAL is checkpointed.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// How often the WAL file is emptied, bounding how long old page images
/// (deleted text among them) stay in it.
pub const TRUNCATE_INTERVAL: Duration = Duration::from_secs(300);
/// Longest a TRUNCATE checkpoint waits for readers (and holds writers).
pub const TRUNCATE_PATIENCE: Duration = Duration::from_millis(100);

/// Run until `stop`'s sender is dropped (when the writer thread ends), then
/// checkpoint once more and truncate the WAL.
pub fn run(conn: Connection, stop: Receiver<()>) {
    let mut last_truncate = Instant::now();
    loop {
        match stop.recv_timeout(CHECKPOINT_INTERVAL) {
            Err(RecvTimeoutError::Timeout) | Ok(()) => {
                if last_truncate.elapsed() >= TRUNCATE_INTERVAL {
                    last_truncate = Instant::now();
                    let _ = conn.busy_timeout(TRUNCATE_PATIENCE);
                    checkpoint(&conn, "TRUNCATE");
                    let _ = conn.busy_timeout(super::schema::BUSY_TIMEOUT);
                } else {
                    checkpoint(&conn, "PASSIVE");
                }
            }
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
        Ok((busy, log, done)) => tracing::trace!(busy, log, done, mode, "checkpoint"),
        Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(path: &std::path::Path, needle: &[u8]) -> bool {
        std::fs::read(path)
            .map(|b| b.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    }

    #[test]
    fn a_truncate_checkpoint_leaves_no_deleted_text_in_the_wal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("t.db");
        let conn = Connection::open(&db).expect("open");
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON; PRAGMA wal_autocheckpoint=0;
             CREATE TABLE m (body TEXT);
             INSERT INTO m VALUES ('Gehaltsliste vertraulich');
             DELETE FROM m;",
        )
        .expect("write and delete");
        let wal = dir.path().join("t.db-wal");
        let secret = b"Gehaltsliste vertraulich";
        assert!(contains(&wal, secret), "the WAL holds the old page first");
        checkpoint(&conn, "PASSIVE");
        assert!(
            contains(&wal, secret),
            "a passive checkpoint keeps the file"
        );
        checkpoint(&conn, "TRUNCATE");
        assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0);
        assert!(!contains(&db, secret), "secure_delete zeroed the page");
    }
}
