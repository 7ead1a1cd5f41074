//! Attachments: upload into a conversation, download with the
//! conversation's permission checked on every request.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kontor_core::ids::{AttachmentId, ConversationId};
use tokio_util::io::ReaderStream;

use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::media;
use crate::service::files;
use crate::state::AppState;
use kontor_wire as wire;
use kontor_wire::number::Id;
use kontor_wire::requests::{DownloadParams, UploadParams};

/// Policy for files that could run script if a browser rendered them
/// (SVG, HTML, XML, anything unknown): no script, no plugins, no origin.
const SANDBOX_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'";
/// Policy for the inline-safe types (images, video, PDF, plain text).
/// `sandbox` too: a PDF can carry script and forms, and a browser that
/// renders one opened straight from this URL must not give it our origin.
/// The web client is not affected: it shows files from `blob:` URLs of
/// fetched bytes, which do not carry this header.
const INLINE_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; \
                          style-src 'unsafe-inline'; frame-ancestors 'self'";

/// A file's bytes, for the document: any type, sent and served as is
/// (`type: string, format: binary`, not an array of numbers).
pub struct FileBytes;

impl utoipa::PartialSchema for FileBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for FileBytes {}

/// Upload a file (the raw body, streamed; at most the configured size,
/// 100 MiB by default). Its type is decided from the content; images lose
/// their metadata (EXIF, GPS) and get a thumbnail. Attach it by naming its
/// id in a message's `attachment_ids`.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/attachments", tag = "files", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), UploadParams),
    request_body(description = "The file itself, with any content type: the server decides the type from the content",
        content = inline(FileBytes), content_type = "*/*"),
    responses(
        (status = 201, body = wire::Attachment),
        (status = 404, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, description = "Larger than the upload limit (`payload_too_large`)", body = ErrorBody),
        (status = 422, description = "Empty, unreadable image, too many pixels, or quota used up", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
    Query(p): Query<UploadParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<wire::Attachment>)> {
    let a = files::upload(
        &state,
        auth.user.actor(),
        ConversationId(id),
        p.name.as_deref(),
        body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json((&a).into())))
}

/// Delete your own upload that was never sent (sent files go with their
/// message).
#[utoipa::path(delete, path = "/api/v1/attachments/{id}", tag = "files", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already sent with a message (`conflict`)", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<StatusCode> {
    files::delete_pending(&state, auth.user.actor(), AttachmentId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `filename="…"` with a plain-ASCII fallback and the exact name in
/// RFC 5987 form.
fn disposition(kind: &str, name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Download a file (or an image's thumbnail). Membership of its
/// conversation is checked on every request; there are no public links.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "files", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id"), DownloadParams),
    responses(
        (status = 200, description = "The file, typed by its sniffed content (`application/octet-stream` when unknown; `image/jpeg` for a thumbnail)",
            content_type = "*/*", body = inline(FileBytes)),
        (status = 404, body = ErrorBody),
    ))]
pub async fn download(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
    Query(p): Query<DownloadParams>,
) -> ApiResult<Response> {
    let (a, blob) = files::open(&state, auth.user.actor(), AttachmentId(id), p.thumbnail).await?;
    let content_type = if p.thumbnail {
        "image/jpeg".to_owned()
    } else {
        a.content_type.clone()
    };
    let safe = media::inline_safe(&content_type);
    let kind = if safe && !p.download {
        "inline"
    } else {
        "attachment"
    };
    let mut response = Body::from_stream(ReaderStream::new(blob.reader)).into_response();
    let h = response.headers_mut();
    let ct = if p.thumbnail {
        HeaderValue::from_static("image/jpeg")
    } else {
        HeaderValue::from_str(&content_type)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
    };
    h.insert(header::CONTENT_TYPE, ct);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.len));
    h.insert(header::CONTENT_DISPOSITION, disposition(kind, &a.name));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if safe { INLINE_CSP } else { SANDBOX_CSP }),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
