//! Login, sessions and the directory.

use axum::extract::State;
use axum::http::StatusCode;
use kontor_core::ids::{SessionId, UserId};

use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ClientIp, Json, Path, Query};
use crate::service::accounts;
use crate::state::AppState;
use kontor_wire as wire;
use kontor_wire::number::Id;
use kontor_wire::requests::*;

/// Log in with username or email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong login or password (`invalid_credentials`)", body = ErrorBody),
        (status = 422, description = "A device name that is too long or has control or invisible characters (`invalid_input`)", body = ErrorBody),
        (status = 429, description = "Too many failures for this account or address (`rate_limited`)", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(address): ClientIp,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let out = accounts::login(
        &state,
        &req.login,
        &req.password,
        req.device_name.as_deref(),
        address,
    )
    .await?;
    Ok(Json(LoginResponse {
        token: out.token,
        session: wire::Session::new(&out.session, out.session.id),
        user: wire::Me::new(&out.user, state.hub.presence_enabled()),
    }))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, auth: Authenticated) -> ApiResult<StatusCode> {
    accounts::logout(&state, &auth).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in user, with their own settings.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = wire::Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, auth: Authenticated) -> Json<wire::Me> {
    Json(wire::Me::new(&auth.user, state.hub.presence_enabled()))
}

/// Change my own settings (showing my presence). The change reaches my
/// other devices as `presence_sharing_changed`.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    request_body = UpdateMe,
    responses((status = 200, body = wire::Me), (status = 401, body = ErrorBody)))]
pub async fn update_me(
    State(state): State<AppState>,
    auth: Authenticated,
    Json(req): Json<UpdateMe>,
) -> ApiResult<Json<wire::Me>> {
    let user = accounts::update_me(&state, &auth, req.share_presence).await?;
    Ok(Json(wire::Me::new(&user, state.hub.presence_enabled())))
}

/// My sessions, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Vec<wire::Session>), (status = 401, body = ErrorBody)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<wire::Session>>> {
    let sessions = accounts::list_sessions(&state, &auth).await?;
    Ok(Json(
        sessions
            .iter()
            .map(|s| wire::Session::new(s, auth.session.id))
            .collect(),
    ))
}

/// Revoke one of my sessions; its live connections close at once.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Session id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<StatusCode> {
    accounts::revoke_session(&state, &auth, SessionId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The company directory, sorted by name. Colleagues are found here, never
/// in a phone's address book.
#[utoipa::path(get, path = "/api/v1/users", tag = "directory", security(("bearer" = [])),
    params(UserListQuery),
    responses((status = 200, body = Vec<wire::User>), (status = 400, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    auth: Authenticated,
    Query(q): Query<UserListQuery>,
) -> ApiResult<Json<Vec<wire::User>>> {
    let users = accounts::list_users(
        &state,
        auth.user.org_id,
        q.search.as_deref(),
        q.offset,
        q.limit,
    )
    .await?;
    Ok(Json(users.iter().map(wire::User::from).collect()))
}

/// One colleague.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = wire::User), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<Json<wire::User>> {
    let user = accounts::get_user(&state, auth.user.org_id, UserId(id)).await?;
    Ok(Json((&user).into()))
}
