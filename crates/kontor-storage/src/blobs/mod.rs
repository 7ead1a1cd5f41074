//! File contents (attachments and thumbnails), kept apart from the
//! database.
//!
//! The database holds what a file is; a [`BlobStore`] holds its bytes
//! under a key the server chose (random hex), so no client-supplied name
//! ever reaches a file system path or an object name. Two backends:
//! - [`LocalBlobs`], the default: files under `<data_dir>/files/`, written
//!   to a staging file first, fsynced and renamed into place, so an
//!   acknowledged upload survives a crash and a half-written one is never
//!   visible.
//! - [`S3Blobs`]: objects in an S3-compatible bucket, kept apart from the
//!   server's own disk (and, once several nodes share one database, what
//!   they will share). Uploads are staged locally the same way and sent
//!   once complete, so a failed upload leaves nothing in the bucket.

mod local;
mod s3;

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::AsyncRead;

pub use local::LocalBlobs;
pub use s3::{S3Blobs, S3Settings};

/// A readable blob and its length.
pub struct BlobReader {
    /// The bytes.
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
    /// How many.
    pub len: u64,
}

/// A stored blob as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedBlob {
    /// Its key.
    pub key: String,
    /// When it was written.
    pub modified: std::time::SystemTime,
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
    /// Every stored blob and when it was written, for the sweep that
    /// removes orphans.
    async fn list(&self) -> io::Result<Vec<ListedBlob>>;
    /// Proves the store answers and accepts our credentials (readiness,
    /// and a clear error at start-up instead of at the first upload).
    async fn check(&self) -> io::Result<()>;
}

/// The key itself if the server could have made it: 32 lowercase hex
/// digits, optionally with `.thumb`. Checked before any key becomes a path
/// or an object name.
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

/// Staging files older than this are uploads a crash interrupted.
const STALE_STAGING: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove interrupted uploads from the staging directory (at open).
fn clear_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_STAGING);
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A fresh staging file under `dir`: uploads are streamed here before
/// they are committed, by both backends.
async fn stage_in(dir: &Path) -> io::Result<(PathBuf, tokio::fs::File)> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "{}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let path = dir.join(name);
    let file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await?;
    Ok((path, file))
}

#[cfg(test)]
mod tests {
    use super::valid_key;

    #[test]
    fn only_server_made_keys_are_accepted() {
        let good = "0123456789abcdef0123456789abcdef";
        assert!(valid_key(good).is_ok());
        assert!(valid_key(&format!("{good}.thumb")).is_ok());
        for bad in [
            "",
            "../../etc/passwd",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcde/",
            "0123456789abcdef0123456789abcdef.png",
        ] {
            assert!(valid_key(bad).is_err(), "{bad}");
        }
    }
}
