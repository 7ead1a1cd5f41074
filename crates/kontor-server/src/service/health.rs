//! Readiness: whether this node can serve requests right now.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The database answers, the link to the other nodes is up (when there
/// are several) and the file store accepts us. Load balancers stop sending
/// traffic to a node for which this fails.
pub async fn readiness(state: &AppState) -> ApiResult<()> {
    state.store.ping().await?;
    if let Some(cluster) = &state.cluster
        && !cluster.is_connected()
    {
        return Err(ApiError::Unavailable("not connected to NATS".into()));
    }
    state.blobs.check().await.map_err(super::files::io_error)?;
    Ok(())
}
