//! Housekeeping, run every `storage.housekeeping_minutes` while the
//! server runs: the file sweep, and pruning the event log to
//! `storage.event_retention_days`. Event payloads carry copies of what
//! was said; keeping them only as long as a reconnecting client could need
//! them is data minimisation, not only saving disk.

use std::time::Duration;

use kontor_core::model::Timestamp;

use super::sweep::{ORPHAN_GRACE, SweepReport, sweep};
use crate::error::ApiResult;
use crate::state::AppState;

/// Events deleted per write job, so pruning a long log never holds the
/// writer for long.
const PRUNE_BATCH: usize = 10_000;

const HOUR_MS: i64 = 3_600_000;

/// Delete events older than `before`, in batches; returns how many.
pub async fn prune_events(state: &AppState, before: Timestamp) -> ApiResult<usize> {
    let mut total = 0;
    loop {
        let n = state.store.prune_events(before, PRUNE_BATCH).await?;
        total += n;
        if n < PRUNE_BATCH {
            return Ok(total);
        }
    }
}

/// `now` minus `hours`, saturating.
fn hours_before(now: Timestamp, hours: u64) -> Timestamp {
    let ms = i64::try_from(hours)
        .unwrap_or(i64::MAX)
        .saturating_mul(HOUR_MS);
    Timestamp(now.0.saturating_sub(ms))
}

/// Run housekeeping every `interval` until the task is aborted.
pub async fn run(state: AppState, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = state.now();
        // 0 keeps unsent uploads for ever, like every other 0 here.
        let keep_unsent = state.config.files.keep_unsent_hours;
        let unsent_before = (keep_unsent > 0).then(|| hours_before(now, keep_unsent));
        let orphans_before = std::time::SystemTime::now()
            .checked_sub(ORPHAN_GRACE)
            .unwrap_or(std::time::UNIX_EPOCH);
        match sweep(&state, unsent_before, orphans_before).await {
            Ok(r) if r == SweepReport::default() => {}
            Ok(r) => tracing::info!(
                unsent_uploads = r.unsent_uploads,
                orphans = r.orphans,
                "file sweep removed leftovers"
            ),
            Err(e) => tracing::warn!(error = ?e, "file sweep failed; trying again later"),
        }
        let days = state.config.storage.event_retention_days;
        if days > 0 {
            match prune_events(&state, hours_before(now, days.saturating_mul(24))).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "pruned the event log"),
                Err(e) => tracing::warn!(error = ?e, "pruning the event log failed"),
            }
        }
    }
}
