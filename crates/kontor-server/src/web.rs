//! The web client: the files under `web/` at the repository root, embedded
//! in the binary at build time (in debug builds they are read from disk, so
//! editing them needs no rebuild). Served at `/`; any other path that is not
//! a file and not under `/api/` gets `index.html`, so the client can use
//! its own paths.

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::error::ApiError;

#[derive(Embed)]
#[folder = "../../web/"]
struct Assets;

/// Files the client cannot work without; tests check they exist.
pub const SHELL: &[&str] = &[
    "index.html",
    "style.css",
    "js/app.js",
    "sw.js",
    "manifest.webmanifest",
];

/// Answer a request the API routes did not match.
pub async fn serve(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") || path == "/api" {
        return ApiError::RouteNotFound.into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::MethodNotAllowed.into_response();
    }
    let name = path.trim_start_matches('/');
    let name = if name.is_empty() { "index.html" } else { name };
    if let Some(file) = Assets::get(name) {
        return file_response(name, file);
    }
    // Client-side routes (no file extension) get the app shell.
    let last = name.rsplit('/').next().unwrap_or(name);
    if !last.contains('.')
        && let Some(index) = Assets::get("index.html")
    {
        return file_response("index.html", index);
    }
    ApiError::RouteNotFound.into_response()
}

fn file_response(name: &str, file: rust_embed::EmbeddedFile) -> Response {
    let mime = file.metadata.mimetype();
    // The manifest's type is not in every mime table.
    let mime = if name.ends_with(".webmanifest") {
        "application/manifest+json"
    } else {
        mime
    };
    let mut resp = (StatusCode::OK, file.data.into_owned()).into_response();
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    // Files are not content-hashed, so browsers revalidate each time; the
    // ETag makes that a 304-sized round trip.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    resp
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
