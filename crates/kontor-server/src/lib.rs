//! Kontor's server: HTTP and WebSocket API, services and the real-time hub.
//!
//! Layout:
//! - [`Server`] (this file): opens storage, starts the hub, serves a bound
//!   listener until a shutdown future resolves.
//! - [`api`]: routes and handlers (a few lines each), the OpenAPI document.
//! - [`ws`]: the event-stream WebSocket.
//! - [`service`]: one module per area; what handlers, the admin commands
//!   and the demo seeder call.
//! - [`hub`]: who is connected and fan-out of committed events.
//! - [`listen`]: the accept loop: connection caps and read timeouts.
//! - [`cluster`]: several nodes on PostgreSQL: commit and typing notices
//!   over NATS.
//! - [`auth`]: passwords, tokens, login limiter, the auth extractor.
//!   [`origin`]: whether a browser request comes from our own origin.
//! - [`encoder`]: events to JSON frames (shapes in `kontor_wire`); [`error`]: the API error; [`extract`]:
//!   extractors answering in that error format; [`config`], [`state`].
//! - [`demo`]: the demo company. [`web`]: the embedded web client.
//!
//! Request flow: handler → service → storage (which asks the core policy
//! inside its transaction) → commit → writer hands events to the hub → hub
//! pushes pre-encoded frames to the sockets of the members.

pub mod api;
pub mod auth;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod encoder;
pub mod error;
pub mod extract;
pub mod hub;
pub mod listen;
pub mod media;
pub mod metrics;
pub mod origin;
pub mod service;
pub mod state;
pub mod web;
pub mod ws;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kontor_storage::StoreError;
use kontor_storage::blobs::{BlobStore, LocalBlobs, S3Blobs};
use kontor_storage::postgres::PgStore;
use kontor_storage::sqlite::{SqliteStore, WriterThread};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::{Config, FilesBackend};
use crate::encoder::JsonEventEncoder;
use crate::hub::{Hub, HubSink};
use crate::metrics::Metrics;
use crate::state::{AppState, Clock, SystemClock};

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory cannot be used.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Storage refused to open.
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// The file store cannot be used: unreachable, or it refused us.
    #[error("file store {bucket} is not usable: {source}")]
    Blobs {
        /// The bucket or directory.
        bucket: String,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration asks for something that cannot work.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// NATS cannot be reached.
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
    /// Serving failed.
    #[error("server I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// The configured blob store, checked: a bucket that cannot be reached or
/// refuses our signature stops the start instead of the first upload.
async fn open_blobs(config: &Config) -> Result<Arc<dyn BlobStore>, ServerError> {
    let files = config.files_path();
    let (blobs, name): (Arc<dyn BlobStore>, String) = match config.files.backend {
        FilesBackend::Local => {
            let local = LocalBlobs::open(&files).map_err(|source| ServerError::DataDir {
                path: files.clone(),
                source,
            })?;
            (Arc::new(local), files.display().to_string())
        }
        FilesBackend::S3 => {
            let bucket = config.s3.bucket.clone();
            let s3 = S3Blobs::open(&config.s3, &files.join("staging")).map_err(|source| {
                ServerError::Blobs {
                    bucket: bucket.clone(),
                    source,
                }
            })?;
            (Arc::new(s3), bucket)
        }
    };
    blobs.check().await.map_err(|source| ServerError::Blobs {
        bucket: name,
        source,
    })?;
    Ok(blobs)
}

/// A running Kontor instance: storage open, hub running, not yet listening.
pub struct Server {
    state: AppState,
    /// The SQLite writer thread (none on PostgreSQL).
    writer: Option<WriterThread>,
    hub_task: JoinHandle<()>,
}

/// Open the configured database; events it commits go to `sink`.
async fn open_store(
    config: &Config,
    sink: Arc<HubSink>,
) -> Result<(Arc<dyn kontor_storage::Storage>, Option<WriterThread>), ServerError> {
    if config.database.is_postgres() {
        let store = PgStore::open(&config.database.url, Arc::new(JsonEventEncoder), sink).await?;
        return Ok((Arc::new(store), None));
    }
    if !config.database.url.is_empty() {
        return Err(ServerError::Config(
            "database.url must be empty (SQLite in the data directory) or postgres://…".into(),
        ));
    }
    if !config.events.nats_url.is_empty() {
        return Err(ServerError::Config(
            "events.nats_url is for several nodes, which share a PostgreSQL database \
             (database.url = \"postgres://…\"); SQLite serves one node"
                .into(),
        ));
    }
    let path = config.database_path();
    let (store, writer) = tokio::task::spawn_blocking(move || {
        SqliteStore::open(&path, Arc::new(JsonEventEncoder), sink)
    })
    .await
    .map_err(|e| StoreError::Internal(format!("open task: {e}")))??;
    Ok((Arc::new(store), Some(writer)))
}

impl Server {
    /// Open the data directory and start the background machinery.
    pub async fn open(config: Config) -> Result<Server, ServerError> {
        Server::open_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Server::open`] with a chosen clock.
    pub async fn open_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Server, ServerError> {
        let dir = &config.storage.data_dir;
        std::fs::create_dir_all(dir).map_err(|source| ServerError::DataDir {
            path: dir.clone(),
            source,
        })?;
        // The file store first: if it refuses us, nothing else was started.
        let blobs = open_blobs(&config).await?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let metrics = Arc::new(Metrics::new());
        let peers = Arc::new(std::sync::OnceLock::new());
        let sink = Arc::new(HubSink {
            tx: events_tx,
            events: metrics.events.clone(),
            peers: Arc::clone(&peers),
        });
        let (store, writer) = open_store(&config, sink).await?;
        let hub = Hub::new(
            store.hub_snapshot().await?,
            config.presence.enabled,
            config.server.max_sockets_per_user,
        );
        let hub_task = tokio::spawn(hub.clone().run(events_rx));
        let cluster = if config.events.nats_url.is_empty() {
            None
        } else {
            let cluster =
                cluster::Cluster::connect(&config.events, Arc::clone(&store), hub.clone()).await?;
            let _ = peers.set(Arc::clone(&cluster));
            Some(cluster)
        };
        let state = AppState::new(store, blobs, hub, config, clock, metrics, cluster);
        Ok(Server {
            state,
            writer,
            hub_task,
        })
    }

    /// The shared state, for the admin commands and the demo seeder.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve on `listener` until `shutdown` resolves, then close sockets,
    /// finish in-flight requests and the last write batch.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let app = api::router(self.state.clone());
        let hub = self.state.hub.clone();
        let grace = Duration::from_secs(self.state.config.server.shutdown_grace_seconds);
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let server = &self.state.config.server;
        let connections = listen::Connections::new(listen::Caps::from_config(server));
        let serve = listen::serve(
            listener,
            app,
            connections,
            Duration::from_secs(server.header_timeout_seconds.max(1)),
            async move {
                shutdown.await;
                hub.shutdown();
                let _ = stop_tx.send(true);
            },
        );
        let mut stop_rx = stop_rx;
        let minutes = self.state.config.storage.housekeeping_minutes;
        let housekeeping = (minutes > 0).then(|| {
            tokio::spawn(service::housekeeping::run(
                self.state.clone(),
                Duration::from_secs(minutes.saturating_mul(60)),
            ))
        });
        let serving = tokio::spawn(serve);
        let result = tokio::select! {
            r = serving => r.map_err(|e| std::io::Error::other(e.to_string())),
            _ = async {
                let _ = stop_rx.wait_for(|s| *s).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!("shutdown grace period over; dropping remaining connections");
                Ok(())
            }
        };
        if let Some(task) = housekeeping {
            task.abort();
        }
        self.close().await;
        Ok(result?)
    }

    /// Stop the background machinery, waiting for the last write batch.
    pub async fn close(self) {
        let Server {
            state,
            writer,
            hub_task,
        } = self;
        let grace = Duration::from_secs(state.config.server.shutdown_grace_seconds.max(1));
        drop(state);
        // The writer thread ends when the last store handle is gone; handles
        // still held by finishing tasks release it shortly. Every batch it
        // acknowledged is already durable, so a straggler holding a handle
        // past the grace period costs nothing but the wait, which we bound.
        let Some(writer) = writer else {
            hub_task.abort();
            return;
        };
        let joined =
            tokio::time::timeout(grace, tokio::task::spawn_blocking(move || writer.join())).await;
        if joined.is_err() {
            tracing::warn!(
                "storage writer still referenced after shutdown; exiting without waiting"
            );
        }
        hub_task.abort();
    }
}
