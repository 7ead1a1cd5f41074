//! The S3-compatible blob store, for installations whose nodes share one
//! bucket (AWS S3, MinIO, Ceph RGW, Garage, s3s-fs …).
//!
//! Requests are signed (SigV4) with the configured key; a store that
//! refuses them fails [`BlobStore::check`], which the server calls before
//! it starts, so a wrong secret is found at start-up.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig};
use tokio::io::AsyncWriteExt;

use super::{BlobReader, BlobStore, ListedBlob, clear_stale_staging, stage_in, valid_key};

/// Where the bucket is and how to sign requests to it: the `[s3]` section
/// of the configuration. The secret is never logged.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Settings {
    /// Endpoint URL, e.g. `http://127.0.0.1:9000`; empty for AWS itself.
    pub endpoint: String,
    /// Region name (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// The bucket; it must exist.
    pub bucket: String,
    /// Key prefix inside the bucket, so several installations (or test
    /// runs) can share one bucket.
    pub prefix: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (better set as `KONTOR_S3__SECRET_ACCESS_KEY`).
    /// Never serialised or printed.
    #[serde(skip_serializing)]
    pub secret_access_key: String,
    /// Whether a plain-HTTP endpoint is acceptable (loopback and private
    /// networks only).
    pub allow_http: bool,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            prefix: String::new(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            allow_http: false,
        }
    }
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Blobs as objects `<prefix>/<first two hex digits>/<key>` in a bucket,
/// with uploads staged in a local directory first.
pub struct S3Blobs {
    store: Arc<dyn ObjectStore>,
    /// The same bucket without retries, for [`BlobStore::check`]: a
    /// readiness probe must answer quickly, not after a retry schedule.
    probe: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    staging: PathBuf,
}

/// Errors from the object store as I/O errors, keeping "not found" and
/// "refused" apart so callers can tell a missing blob from bad credentials.
fn io_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            io::Error::new(io::ErrorKind::PermissionDenied, e)
        }
        other => io::Error::other(other),
    }
}

impl S3Blobs {
    /// A store for `settings`, staging uploads under `staging` (created
    /// if missing). Makes no request yet; call [`BlobStore::check`].
    pub fn open(settings: &S3Settings, staging: &Path) -> io::Result<S3Blobs> {
        std::fs::create_dir_all(staging)?;
        clear_stale_staging(staging);
        let build = |retry: RetryConfig, options: ClientOptions| {
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(&settings.bucket)
                .with_region(&settings.region)
                .with_access_key_id(&settings.access_key_id)
                .with_secret_access_key(&settings.secret_access_key)
                .with_client_options(
                    options
                        .with_allow_http(settings.allow_http)
                        .with_connect_timeout(Duration::from_secs(5)),
                )
                .with_retry(retry);
            if !settings.endpoint.is_empty() {
                builder = builder.with_endpoint(&settings.endpoint);
            }
            builder
                .build()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
        };
        let store = build(
            RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
                ..RetryConfig::default()
            },
            // Downloads stream at the client's pace: no limit on the whole
            // request, only on silence.
            ClientOptions::new()
                .with_timeout_disabled()
                .with_read_timeout(Duration::from_secs(30)),
        )?;
        let probe = build(
            RetryConfig {
                max_retries: 0,
                ..RetryConfig::default()
            },
            ClientOptions::new().with_timeout(Duration::from_secs(5)),
        )?;
        let prefix = ObjectPath::parse(settings.prefix.trim_matches('/'))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(S3Blobs {
            store: Arc::new(store),
            probe: Arc::new(probe),
            prefix,
            staging: staging.to_owned(),
        })
    }

    fn path(&self, key: &str) -> io::Result<ObjectPath> {
        let key = valid_key(key)?;
        Ok(self.prefix.clone().join(&key[..2]).join(key))
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn stage(&self) -> io::Result<(PathBuf, tokio::fs::File)> {
        stage_in(&self.staging).await
    }

    async fn commit(&self, staged: &Path, key: &str) -> io::Result<()> {
        let target = self.path(key)?;
        let mut file = tokio::fs::File::open(staged).await?;
        // Two parts of 10 MiB in flight at most: bounded memory per upload.
        let mut writer = BufWriter::new(Arc::clone(&self.store), target).with_max_concurrency(2);
        if let Err(e) = tokio::io::copy(&mut file, &mut writer).await {
            // A failed multipart upload must not leave parts behind.
            let _ = writer.abort().await;
            return Err(e);
        }
        // A failing final put or completion cleans up after itself; the
        // writer must not be aborted once shut down.
        writer.shutdown().await?;
        if let Err(e) = tokio::fs::remove_file(staged).await {
            tracing::warn!(error = %e, "could not remove a staged upload");
        }
        Ok(())
    }

    async fn open(&self, key: &str) -> io::Result<BlobReader> {
        let got = self.store.get(&self.path(key)?).await.map_err(io_error)?;
        let len = got.meta.size;
        let stream = got.into_stream().map_err(io_error);
        Ok(BlobReader {
            reader: Box::pin(tokio_util::io::StreamReader::new(stream)),
            len,
        })
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match self.store.delete(&self.path(key)?).await {
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            other => other.map_err(io_error),
        }
    }

    async fn exists(&self, key: &str) -> io::Result<bool> {
        match self.store.head(&self.path(key)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io_error(e)),
        }
    }

    async fn list(&self) -> io::Result<Vec<ListedBlob>> {
        let mut blobs = Vec::new();
        let mut listing = self.store.list(Some(&self.prefix));
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(io_error)?;
            // Only objects exactly where this store puts them: anything
            // deeper belongs to someone else (another prefix below ours).
            let Some(name) = meta.location.filename() else {
                continue;
            };
            if valid_key(name).is_err() || self.path(name).ok().as_ref() != Some(&meta.location) {
                continue;
            }
            let ms = u64::try_from(meta.last_modified.timestamp_millis()).unwrap_or(0);
            blobs.push(ListedBlob {
                key: name.to_owned(),
                modified: SystemTime::UNIX_EPOCH + Duration::from_millis(ms),
            });
        }
        blobs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(blobs)
    }

    async fn check(&self) -> io::Result<()> {
        // A signed HEAD tells "refused" (403) apart from "missing" (404);
        // the listing then proves the bucket exists.
        match self
            .probe
            .head(&self.prefix.clone().join("kontor-check"))
            .await
        {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(io_error(e)),
        }
        self.probe
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map(|_| ())
            .map_err(io_error)
    }
}
