//! The default blob store: files on the local file system.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{BlobReader, BlobStore, ListedBlob, clear_stale_staging, stage_in, valid_key};

/// Blobs under a directory: `<root>/<first two hex digits>/<key>`, with
/// uploads staged in `<root>/staging`.
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Blobs under `root` (created if missing).
    pub fn open(root: &Path) -> io::Result<LocalBlobs> {
        std::fs::create_dir_all(root.join("staging"))?;
        clear_stale_staging(&root.join("staging"));
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
        stage_in(&self.root.join("staging")).await
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

    async fn list(&self) -> io::Result<Vec<ListedBlob>> {
        let mut blobs = Vec::new();
        let mut shards = tokio::fs::read_dir(&self.root).await?;
        while let Some(shard) = shards.next_entry().await? {
            if shard.file_name() == "staging" || !shard.file_type().await?.is_dir() {
                continue;
            }
            let mut files = tokio::fs::read_dir(shard.path()).await?;
            while let Some(file) = files.next_entry().await? {
                if let Some(name) = file.file_name().to_str()
                    && valid_key(name).is_ok()
                {
                    blobs.push(ListedBlob {
                        key: name.to_owned(),
                        modified: file.metadata().await?.modified()?,
                    });
                }
            }
        }
        blobs.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(blobs)
    }

    async fn check(&self) -> io::Result<()> {
        tokio::fs::metadata(self.root.join("staging"))
            .await
            .map(|_| ())
    }
}
