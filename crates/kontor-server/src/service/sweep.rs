//! The file sweep: removes uploads nobody sent and content a crash left
//! without a record, so neither costs storage (nor quota) forever.
//!
//! Orphaned content is found by listing the blob store and asking the
//! database which keys it does not know. An upload stores its content a
//! moment before it records it, so only content written more than
//! [`ORPHAN_GRACE`] ago counts: the blob's own modification time decides,
//! which holds across restarts and however the sweeps are spaced.
//!
//! The sweep assumes the blob store (directory, or bucket and prefix)
//! belongs to this database alone: content another installation stored
//! there has no record here and would be removed.

use std::time::{Duration, SystemTime};

use kontor_core::model::Timestamp;

use super::files::{delete_blobs, io_error};
use crate::error::ApiResult;
use crate::state::AppState;

/// Records and keys handled per storage call.
const SWEEP_BATCH: usize = 500;

/// How old unrecorded content must be before it counts as orphaned.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Unsent uploads removed (their records and content).
    pub unsent_uploads: usize,
    /// Blobs removed because no record named them.
    pub orphans: usize,
}

/// One sweep: unsent uploads created before `unsent_before` (none when
/// `None`), then unrecorded content written before `orphans_before`.
pub async fn sweep(
    state: &AppState,
    unsent_before: Option<Timestamp>,
    orphans_before: SystemTime,
) -> ApiResult<SweepReport> {
    let mut report = SweepReport::default();
    while let Some(before) = unsent_before {
        let keys = state
            .store
            .sweep_pending_attachments(before, SWEEP_BATCH)
            .await?;
        if keys.is_empty() {
            break;
        }
        report.unsent_uploads += keys.iter().filter(|k| !k.ends_with(".thumb")).count();
        delete_blobs(state, &keys).await;
    }
    let old: Vec<String> = state
        .blobs
        .list()
        .await
        .map_err(io_error)?
        .into_iter()
        .filter(|b| b.modified < orphans_before)
        .map(|b| b.key)
        .collect();
    let mut orphans = Vec::new();
    for chunk in old.chunks(SWEEP_BATCH) {
        orphans.extend(state.store.unreferenced_blobs(chunk.to_vec()).await?);
    }
    delete_blobs(state, &orphans).await;
    report.orphans = orphans.len();
    Ok(report)
}
