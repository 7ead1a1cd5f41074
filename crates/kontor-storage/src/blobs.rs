//! File contents (attachments and thumbnails), kept beside the database.
//!
//! The database holds what a file is; a [`BlobStore`] holds its bytes
//! under a key the server chose (random hex), so no client-supplied name
//! ever reaches a file system path. [`LocalBlobs`] is the default: files
//! under `<data_dir>/files/`, written to a staging file first, fsynced and
//! renamed into place, so an acknowledged upload survives a crash and a
//! half-written one is never visible.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::AsyncRead;

/// A readable blob and its length.
pub struct BlobReader {
    /// The bytes.
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
    /// How many.
    pub len: u64,
}

/// Where file contents live. Keys are `[0-9a-f]{32}`, optionally with a
/// `.thumb` suffix; anything else is refused.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// A new empty staging file to stream an upload into.
    async fn stage(&self) -> io::Result<(PathBuf, tokio::fs::File)>;
    /// Make the staged file durable under `key` (it is moved, not copied).
    async fn commit(&self, staged: &Path, key: &str) -> io::Result<()>;
    /// Open a blob for reading.
    async fn open(&self, key: &str) -> io::Result<BlobReader>;
    /// Remove a blob; removing a missing one is not an error.
    async fn delete(&self, key: &str) -> io::Result<()>;
    /// Whether a blob exists (for tests and consistency checks).
    async fn exists(&self, key: &str) -> io::Result<bool>;
}

/// Blobs on the local file system.
pub struct LocalBlobs {
    root: PathBuf,
}

fn valid_key(key: &str) -> io::Result<&str> {
    let hex = key.strip_suffix(".thumb").unwrap_or(key);
    if hex.len() == 32
        && hex
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(key)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a blob key",
        ))
    }
}

impl LocalBlobs {
    /// Blobs under `root` (created if missing).
    pub fn open(root: &Path) -> io::Result<LocalBlobs> {
        std::fs::create_dir_all(root.join("staging"))?;
        Ok(LocalBlobs {
            root: root.to_owned(),
        })
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        let key = valid_key(key)?;
        Ok(self.root.join(&key[..2]).join(key))
    }
}

async fn sync_dir(dir: PathBuf) -> io::Result<()> {
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn stage(&self) -> io::Result<(PathBuf, tokio::fs::File)> {
        let name = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let path = self.root.join("staging").join(name);
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok((path, file))
    }

    async fn commit(&self, staged: &Path, key: &str) -> io::Result<()> {
        let target = self.path(key)?;
        let dir = target.parent().map(Path::to_owned).unwrap_or_default();
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::File::open(staged).await?.sync_all().await?;
        tokio::fs::rename(staged, &target).await?;
        sync_dir(dir).await
    }

    async fn open(&self, key: &str) -> io::Result<BlobReader> {
        let file = tokio::fs::File::open(self.path(key)?).await?;
        let len = file.metadata().await?.len();
        Ok(BlobReader {
            reader: Box::pin(file),
            len,
        })
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    async fn exists(&self, key: &str) -> io::Result<bool> {
        tokio::fs::try_exists(self.path(key)?).await
    }
}
