//! Health, limits, the OpenAPI document and the method fallback.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use kontor_core::limits as l;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::extract::Json;
use crate::state::AppState;

/// The limits this server enforces.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Limits {
    /// Largest message text in bytes.
    pub max_message_bytes: usize,
    /// Longest name in characters.
    pub max_name_chars: usize,
    /// Longest topic in characters.
    pub max_topic_chars: usize,
    /// Most members in a group.
    pub max_group_members: usize,
    /// Most different reactions on one message.
    pub max_distinct_reactions: usize,
    /// Most mentions in one message.
    pub max_mentions: usize,
    /// Default page size.
    pub default_page_size: usize,
    /// Largest page size.
    pub max_page_size: usize,
    /// Most events replayed on resume before `resync_required`.
    pub max_resume_events: usize,
    /// Largest request body in bytes (JSON; uploads have their own limit).
    pub max_request_body_bytes: usize,
    /// Largest upload in bytes.
    pub max_upload_bytes: u64,
    /// Most files on one message.
    pub max_attachments_per_message: usize,
    /// Failed logins on one login name per window answered at once; later
    /// attempts on it are spaced (`login_throttle_interval_seconds`), never
    /// refused for the right password.
    pub login_failures_per_account: u32,
    /// Different login names that may fail from one client address per
    /// window before the address is refused for the rest of it.
    pub login_failures_per_address: u32,
    /// Seconds between password checks on one login name after its free
    /// failures.
    pub login_throttle_interval_seconds: u64,
    /// The failure window in seconds.
    pub login_failure_window_seconds: u64,
}

/// The limits this server enforces, for clients to check input early.
#[utoipa::path(get, path = "/api/v1/limits", tag = "system", responses((status = 200, body = Limits)))]
pub async fn limits(State(state): State<AppState>) -> Json<Limits> {
    Json(Limits {
        max_message_bytes: l::MAX_MESSAGE_BYTES,
        max_name_chars: l::MAX_NAME_CHARS,
        max_topic_chars: l::MAX_TOPIC_CHARS,
        max_group_members: l::MAX_GROUP_MEMBERS,
        max_distinct_reactions: l::MAX_DISTINCT_REACTIONS,
        max_mentions: l::MAX_MENTIONS,
        default_page_size: l::DEFAULT_PAGE_SIZE,
        max_page_size: l::MAX_PAGE_SIZE,
        max_resume_events: l::MAX_RESUME_EVENTS,
        max_request_body_bytes: l::MAX_REQUEST_BODY_BYTES,
        max_upload_bytes: state.config.files.max_upload_bytes(),
        max_attachments_per_message: l::MAX_ATTACHMENTS_PER_MESSAGE,
        login_failures_per_account: crate::auth::LOGIN_FREE_FAILURES,
        login_failures_per_address: crate::auth::LOGIN_DISTINCT_LOGINS_PER_ADDRESS as u32,
        login_throttle_interval_seconds: crate::auth::LOGIN_THROTTLE_INTERVAL.as_secs(),
        login_failure_window_seconds: crate::auth::LOGIN_FAILURE_WINDOW.as_secs(),
    })
}

/// Health status.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers and the file store accepts us.
#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    crate::service::health::readiness(&state).await?;
    Ok(Json(Health {
        status: "ok".into(),
    }))
}

/// Serve the OpenAPI document.
pub async fn openapi_json(doc: String) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        doc,
    )
}

/// Known routes, wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
