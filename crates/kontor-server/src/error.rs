//! The API error: every failure a client sees, mapped to HTTP exactly once.
//!
//! The body is always `{"error": {"code": "...", "message": "..."}}`, plus
//! `field` for validation failures. Codes are stable, snake_case and pinned
//! by a test; internal details go to the log, never to the client.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kontor_core::DomainError;
use kontor_storage::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Everything that can go wrong in a request.
#[derive(Debug)]
pub enum ApiError {
    /// A domain rule was broken.
    Domain(DomainError),
    /// The body was not valid JSON (syntax, encoding).
    MalformedJson(String),
    /// The body was JSON of the wrong shape (types, missing fields).
    InvalidBody(String),
    /// The body had no JSON content type.
    UnsupportedMediaType,
    /// The body exceeded the request size limit.
    PayloadTooLarge(usize),
    /// The body could not be read (broken chunked encoding, a body that
    /// ended early): malformed HTTP, not too much of it.
    UnreadableBody,
    /// A path parameter was malformed.
    InvalidPath(String),
    /// A query parameter was malformed.
    InvalidQuery(String),
    /// No or unknown session token.
    Unauthenticated,
    /// Wrong login or password.
    InvalidCredentials,
    /// Too many attempts (failed logins, new conversations, queued images); retry after the given seconds.
    RateLimited(u64),
    /// The request body stopped arriving for longer than the body timeout.
    RequestTimeout,
    /// A plain request reached the WebSocket endpoint.
    UpgradeRequired,
    /// A browser page from another origin tried to open a WebSocket, or to
    /// change something with the session cookie (see `origin`).
    OriginNotAllowed,
    /// No such route.
    RouteNotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The service cannot serve right now (storage down, shutting down).
    Unavailable(String),
    /// A bug or a damaged database: logged, answered generically.
    Internal(String),
}

/// The error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Machine-readable code and human-readable message.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code, e.g. `not_found`, `invalid_input`, `rate_limited`.
    pub code: &'static str,
    /// A sentence for a person.
    pub message: String,
    /// The offending input field, for `invalid_input`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

impl ApiError {
    /// Status, stable code, message and field.
    pub fn parts(&self) -> (StatusCode, &'static str, String, Option<&'static str>) {
        use StatusCode as S;
        match self {
            ApiError::Domain(d) => match d {
                DomainError::Invalid { field, message } => (
                    S::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    format!("{field} {message}"),
                    Some(*field),
                ),
                DomainError::NotFound(what) => {
                    (S::NOT_FOUND, "not_found", format!("{what} not found"), None)
                }
                DomainError::Forbidden(m) => (S::FORBIDDEN, "forbidden", m.clone(), None),
                DomainError::Conflict(m) => (S::CONFLICT, "conflict", m.clone(), None),
                DomainError::LimitExceeded(m) => {
                    (S::UNPROCESSABLE_ENTITY, "limit_exceeded", m.clone(), None)
                }
            },
            ApiError::MalformedJson(m) => (S::BAD_REQUEST, "malformed_json", m.clone(), None),
            ApiError::InvalidBody(m) => (S::UNPROCESSABLE_ENTITY, "invalid_body", m.clone(), None),
            ApiError::UnsupportedMediaType => (
                S::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json".into(),
                None,
            ),
            ApiError::PayloadTooLarge(max) => (
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is larger than {max} bytes"),
                None,
            ),
            ApiError::UnreadableBody => (
                S::BAD_REQUEST,
                "unreadable_body",
                "the request body could not be read (broken chunked encoding, or it ended early)"
                    .into(),
                None,
            ),
            ApiError::InvalidPath(m) => (S::BAD_REQUEST, "invalid_path", m.clone(), None),
            ApiError::InvalidQuery(m) => (S::BAD_REQUEST, "invalid_query", m.clone(), None),
            ApiError::Unauthenticated => (
                S::UNAUTHORIZED,
                "unauthenticated",
                "log in first: send a valid session token".into(),
                None,
            ),
            ApiError::InvalidCredentials => (
                S::UNAUTHORIZED,
                "invalid_credentials",
                "wrong login or password".into(),
                None,
            ),
            ApiError::RateLimited(secs) => (
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many attempts in a short time; try again in {secs} seconds"),
                None,
            ),
            ApiError::RequestTimeout => (
                S::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body stopped arriving; send it again".into(),
                None,
            ),
            ApiError::UpgradeRequired => (
                S::UPGRADE_REQUIRED,
                "upgrade_required",
                "this endpoint speaks WebSocket only".into(),
                None,
            ),
            ApiError::OriginNotAllowed => (
                S::FORBIDDEN,
                "origin_not_allowed",
                "requests from another site are not accepted; use the server's own pages or a bearer token".into(),
                None,
            ),
            ApiError::RouteNotFound => (
                S::NOT_FOUND,
                "route_not_found",
                "no such API route".into(),
                None,
            ),
            ApiError::MethodNotAllowed => (
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not support that method".into(),
                None,
            ),
            ApiError::Unavailable(_) => (
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service is temporarily unavailable; try again".into(),
                None,
            ),
            ApiError::Internal(_) => (
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "an internal error occurred; it has been logged".into(),
                None,
            ),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Domain(d) => ApiError::Domain(d),
            StoreError::Unavailable(m) | StoreError::Contended(m) => ApiError::Unavailable(m),
            StoreError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => ApiError::InvalidBody(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::MalformedJson(e.body_text()),
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            JsonRejection::BytesRejection(e) => ApiError::from(e),
            other => ApiError::MalformedJson(other.body_text()),
        }
    }
}

/// Over the body limit is 413; a body that stopped arriving is 408; any
/// other failure to read the body is malformed HTTP (400), not a body too
/// large.
impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(kontor_core::limits::MAX_REQUEST_BODY_BYTES)
        } else if is_body_timeout(&r) {
            ApiError::RequestTimeout
        } else {
            ApiError::UnreadableBody
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::InvalidPath(r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::InvalidQuery(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = self.parts();
        match &self {
            ApiError::Internal(detail) => tracing::error!(%detail, "internal error"),
            ApiError::Unavailable(detail) => tracing::warn!(%detail, "unavailable"),
            _ => {}
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                field,
            },
        };
        let mut resp = (status, Json(body)).into_response();
        if let ApiError::RateLimited(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Result alias for handlers and services.
pub type ApiResult<T> = Result<T, ApiError>;

/// Whether reading a request body failed because it stopped arriving
/// (the body timeout of `api::router`), looking through the error's causes.
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = c.source();
    }
    false
}
