//! Shared state handed to every handler: no process-global state, so tests
//! can run several servers in one process.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use kontor_core::model::Timestamp;
use kontor_storage::Storage;
use kontor_storage::blobs::BlobStore;
use tokio::sync::Semaphore;

use crate::auth::{DistinctFailures, LoginThrottle};
use crate::config::Config;
use crate::hub::Hub;
use crate::metrics::Metrics;

/// Password hashes computed at once; argon2id uses 19 MiB and a core for
/// tens of milliseconds each, so this bounds memory and CPU under a login
/// storm.
pub const CONCURRENT_PASSWORD_HASHES: usize = 2;

/// Where the time comes from; tests may substitute their own.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(ms)
    }
}

/// Everything a request may need.
pub struct Inner {
    /// Persistent state.
    pub store: Arc<dyn Storage>,
    /// File contents (attachments, thumbnails).
    pub blobs: Arc<dyn BlobStore>,
    /// Live delivery.
    pub hub: Hub,
    /// The configuration the server started with.
    pub config: Config,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Login attempts per login name (see `auth::limiter`).
    pub login_by_name: LoginThrottle,
    /// Login names that failed per client address.
    pub login_by_address: DistinctFailures,
    /// Bounds concurrent password hashing.
    pub hashing: Semaphore,
    /// Admission for image decoding (memory budget, per-person turns).
    pub images: crate::service::image_work::ImageWork,
    /// How fast people may create conversations and add others.
    pub pacing: crate::service::pacing::Pacing,
    /// What `/metrics` reports.
    pub metrics: Arc<Metrics>,
    /// The other nodes (several nodes on PostgreSQL and NATS only).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
}

/// Cheap-to-clone handle on [`Inner`].
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Assemble the state.
    pub fn new(
        store: Arc<dyn Storage>,
        blobs: Arc<dyn BlobStore>,
        hub: Hub,
        config: Config,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        cluster: Option<Arc<crate::cluster::Cluster>>,
    ) -> Self {
        let images = crate::service::image_work::ImageWork::new(config.files.image_memory_mib);
        AppState(Arc::new(Inner {
            store,
            blobs,
            hub,
            config,
            clock,
            login_by_name: LoginThrottle::default(),
            login_by_address: DistinctFailures::default(),
            hashing: Semaphore::new(CONCURRENT_PASSWORD_HASHES),
            images,
            pacing: Default::default(),
            metrics,
            cluster,
        }))
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
