//! The file sweep: removes uploads nobody sent and content a crash left
//! without a record, so neither costs storage (nor quota) forever.
//!
//! Orphaned content is found by listing the blob store and asking the
//! database which keys it does not know. Such a key is only *suspected*
//! at first: an upload stores its content a moment before it records it,
//! so a key is deleted only when two sweeps, an interval apart, both find
//! it without a record. That keeps the sweep safe with several nodes
//! sharing one bucket, each sweeping on its own.

use std::collections::HashSet;

use kontor_core::model::Timestamp;

use super::files::{delete_blobs, io_error};
use crate::error::ApiResult;
use crate::state::AppState;

/// Records and keys handled per storage call.
const SWEEP_BATCH: usize = 500;

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Unsent uploads removed (their records and content).
    pub unsent_uploads: usize,
    /// Blobs removed because no record named them in two sweeps.
    pub orphans: usize,
}

/// Carries the suspects from one sweep to the next.
#[derive(Debug, Default)]
pub struct Sweeper {
    suspects: HashSet<String>,
}

impl Sweeper {
    /// One sweep: unsent uploads created before `unsent_before`, then the
    /// orphan check.
    pub async fn sweep(
        &mut self,
        state: &AppState,
        unsent_before: Timestamp,
    ) -> ApiResult<SweepReport> {
        let mut report = SweepReport::default();
        loop {
            let keys = state
                .store
                .sweep_pending_attachments(unsent_before, SWEEP_BATCH)
                .await?;
            if keys.is_empty() {
                break;
            }
            report.unsent_uploads += keys.iter().filter(|k| !k.ends_with(".thumb")).count();
            delete_blobs(state, &keys).await;
        }
        let listed = state.blobs.list().await.map_err(io_error)?;
        let mut unknown = HashSet::new();
        for chunk in listed.chunks(SWEEP_BATCH) {
            unknown.extend(state.store.unreferenced_blobs(chunk.to_vec()).await?);
        }
        let doomed: Vec<String> = unknown.intersection(&self.suspects).cloned().collect();
        delete_blobs(state, &doomed).await;
        report.orphans = doomed.len();
        for key in &doomed {
            unknown.remove(key);
        }
        self.suspects = unknown;
        Ok(report)
    }
}
