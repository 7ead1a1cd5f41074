//! Readiness: whether this node can serve requests right now.

use crate::error::ApiResult;
use crate::state::AppState;

/// The database answers and the file store accepts us. Load balancers
/// stop sending traffic to a node for which this fails.
pub async fn readiness(state: &AppState) -> ApiResult<()> {
    state.store.ping().await?;
    state.blobs.check().await.map_err(super::files::io_error)?;
    Ok(())
}
