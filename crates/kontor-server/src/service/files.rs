//! Attachments: streaming an upload into the blob store, checking what it
//! is, cleaning images, recording it; finding one to download; removing
//! the contents of a deleted message's files.

use std::path::{Path, PathBuf};

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use kontor_core::DomainError;
use kontor_core::ids::{AttachmentId, ConversationId};
use kontor_core::model::{Actor, Attachment};
use kontor_core::validate;
use kontor_storage::NewAttachment;
use kontor_storage::blobs::BlobReader;
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult};
use crate::media;
use crate::service::image_work;
use crate::state::AppState;

/// Bytes kept from the start of an upload to sniff its type.
const SNIFF_BYTES: usize = 8192;

/// Seconds a person whose image queue is full is asked to wait.
const IMAGE_RETRY_SECS: u64 = 5;

/// A staged file that is removed unless it was committed.
struct Staged(Option<PathBuf>);

impl Staged {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    fn done(mut self) {
        self.0 = None;
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A blob store failure: a missing blob or a refused key is damage (500);
/// anything else means the store cannot be reached right now (503).
pub(crate) fn io_error(e: std::io::Error) -> ApiError {
    match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidInput => {
            ApiError::Internal(format!("blob store: {e}"))
        }
        _ => {
            tracing::warn!(error = %e, "file store failed");
            ApiError::Unavailable("the file store cannot be reached; try again shortly".into())
        }
    }
}

fn new_key() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stream `body` into a staging file, at most `max` bytes; returns the
/// file, its first bytes and its length.
async fn stage_body(state: &AppState, body: Body, max: u64) -> ApiResult<(Staged, Vec<u8>, u64)> {
    let (path, mut file) = state.blobs.stage().await.map_err(io_error)?;
    let staged = Staged(Some(path));
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut len: u64 = 0;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if crate::error::is_body_timeout(&e) {
                ApiError::RequestTimeout
            } else {
                DomainError::invalid("file", "upload was interrupted; send the file again").into()
            }
        })?;
        len += chunk.len() as u64;
        if len > max {
            return Err(ApiError::PayloadTooLarge(
                usize::try_from(max).unwrap_or(usize::MAX),
            ));
        }
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        file.write_all(&chunk).await.map_err(io_error)?;
    }
    file.flush().await.map_err(io_error)?;
    if len == 0 {
        return Err(DomainError::invalid("file", "is empty").into());
    }
    Ok((staged, head, len))
}

/// Store `bytes` as a new blob under `key`.
async fn put_bytes(state: &AppState, key: &str, bytes: &[u8]) -> ApiResult<()> {
    let (path, mut file) = state.blobs.stage().await.map_err(io_error)?;
    let staged = Staged(Some(path));
    file.write_all(bytes).await.map_err(io_error)?;
    file.flush().await.map_err(io_error)?;
    state
        .blobs
        .commit(staged.path(), key)
        .await
        .map_err(io_error)?;
    staged.done();
    Ok(())
}

/// Upload a file into a conversation. It is attached to a message by
/// naming its id in the message's `attachment_ids`.
pub async fn upload(
    state: &AppState,
    actor: Actor,
    conv: ConversationId,
    raw_name: Option<&str>,
    body: Body,
) -> ApiResult<Attachment> {
    state.store.check_upload(actor, conv).await?;
    let files = &state.config.files;
    let (staged, head, len) = stage_body(state, body, files.max_upload_bytes()).await?;
    let content_type = media::sniff(&head);
    let key = new_key();
    let mut new = NewAttachment {
        conversation_id: conv,
        name: validate::file_name(raw_name.unwrap_or("")),
        content_type: content_type.clone(),
        size: len,
        width: None,
        height: None,
        object_key: key.clone(),
        thumbnail_key: None,
        user_quota: files.user_quota_bytes(),
        org_quota: files.org_quota_bytes(),
    };
    if media::is_processed_image(&content_type) {
        if len > media::MAX_IMAGE_BYTES {
            return Err(DomainError::LimitExceeded(format!(
                "images may be at most {} MiB",
                media::MAX_IMAGE_BYTES / (1024 * 1024)
            ))
            .into());
        }
        let image_error = |e: media::ImageError| -> ApiError {
            match e {
                media::ImageError::TooLarge(m) => DomainError::LimitExceeded(m).into(),
                media::ImageError::Broken(m) => {
                    DomainError::invalid("file", format!("cannot be read as an image ({m})")).into()
                }
            }
        };
        let max_pixels = files.max_image_megapixels.saturating_mul(1_000_000);
        let max_memory = state.images.max_image_bytes();
        let (ct, path) = (content_type.clone(), staged.path().to_owned());
        let plan = tokio::task::spawn_blocking(move || {
            media::plan(&ct, &path, &head, len, max_pixels, max_memory)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("image task: {e}")))?
        .map_err(image_error)?;
        // Nothing of the image is in memory before its room is reserved.
        let _permit = state
            .images
            .admit(actor.user_id, plan.memory_bytes)
            .await
            .map_err(|refused| match refused {
                image_work::Refused::PersonBusy => ApiError::RateLimited(IMAGE_RETRY_SECS),
                image_work::Refused::ServerBusy => ApiError::Unavailable(
                    "too many images are being processed; try again shortly".into(),
                ),
            })?;
        let raw = Bytes::from(tokio::fs::read(staged.path()).await.map_err(io_error)?);
        let ct = content_type.clone();
        let clean = tokio::task::spawn_blocking(move || media::clean_image(&ct, raw, &plan))
            .await
            .map_err(|e| ApiError::Internal(format!("image task: {e}")))?
            .map_err(image_error)?;
        drop(staged);
        put_bytes(state, &key, &clean.bytes).await?;
        let thumb_key = format!("{key}.thumb");
        if let Err(e) = put_bytes(state, &thumb_key, &clean.thumbnail).await {
            delete_blobs(state, std::slice::from_ref(&key)).await;
            return Err(e);
        }
        new.size = clean.bytes.len() as u64;
        new.width = Some(clean.width);
        new.height = Some(clean.height);
        new.thumbnail_key = Some(thumb_key);
    } else {
        state
            .blobs
            .commit(staged.path(), &key)
            .await
            .map_err(io_error)?;
        staged.done();
    }
    let keys: Vec<String> = std::iter::once(key)
        .chain(new.thumbnail_key.clone())
        .collect();
    match state.store.create_attachment(actor, new, state.now()).await {
        Ok(a) => Ok(a),
        Err(e) => {
            delete_blobs(state, &keys).await;
            Err(e.into())
        }
    }
}

/// An attachment the caller may read, opened for download (or its
/// thumbnail).
pub async fn open(
    state: &AppState,
    actor: Actor,
    id: AttachmentId,
    thumbnail: bool,
) -> ApiResult<(Attachment, BlobReader)> {
    let a = state.store.get_attachment(actor, id).await?;
    let key = if thumbnail {
        a.thumbnail_key
            .clone()
            .ok_or(DomainError::NotFound("thumbnail"))?
    } else {
        a.object_key.clone()
    };
    // A record without its content is damage, not the caller's fault.
    let reader = state.blobs.open(&key).await.map_err(io_error)?;
    Ok((a, reader))
}

/// Delete one's own upload before it was sent.
pub async fn delete_pending(state: &AppState, actor: Actor, id: AttachmentId) -> ApiResult<()> {
    let keys = state.store.delete_pending_attachment(actor, id).await?;
    delete_blobs(state, &keys).await;
    Ok(())
}

/// Delete blobs whose records are gone. Failures are logged: the records
/// are what makes a file reachable, so a leftover blob is unreachable.
pub async fn delete_blobs(state: &AppState, keys: &[String]) {
    for key in keys {
        if let Err(e) = state.blobs.delete(key).await {
            tracing::warn!(key, error = %e, "could not delete a file's content");
        }
    }
}
