//! A small pool of read-only connections. In WAL mode readers never block
//! the writer or each other, so reads run in parallel on blocking threads.

use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::{StoreError, StoreResult};

pub(crate) struct ReadPool {
    conns: Mutex<Vec<Connection>>,
    available: Arc<Semaphore>,
    size: usize,
}

impl ReadPool {
    pub fn new(conns: Vec<Connection>) -> Arc<Self> {
        let n = conns.len();
        Arc::new(ReadPool {
            conns: Mutex::new(conns),
            available: Arc::new(Semaphore::new(n)),
            size: n,
        })
    }

    /// Connections in use and in all.
    pub fn usage(&self) -> (usize, usize) {
        (
            self.size.saturating_sub(self.available.available_permits()),
            self.size,
        )
    }

    /// Run `f` on a pooled connection on a blocking thread. The connection
    /// goes back to the pool from that thread, so a caller that gives up
    /// waiting cannot lose it.
    pub async fn read<R: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> StoreResult<R> + Send + 'static,
    ) -> StoreResult<R> {
        let permit = Arc::clone(&self.available)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("read pool closed".into()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool
                .conns
                .lock()
                .map_err(|_| StoreError::Internal("read pool poisoned".into()))?
                .pop()
                .ok_or_else(|| StoreError::Internal("read pool empty".into()))?;
            let result = f(&mut conn);
            if let Ok(mut conns) = pool.conns.lock() {
                conns.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("read task failed: {e}")))?
    }
}
