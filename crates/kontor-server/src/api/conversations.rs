//! Conversations and members.

use axum::extract::State;
use axum::http::StatusCode;
use kontor_core::DomainError;
use kontor_core::ids::{ConversationId, UserId};
use kontor_core::model::ConversationKind;

use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::service::conversations::{self, ConversationSpec};
use crate::state::AppState;
use kontor_wire as wire;
use kontor_wire::number::Id;
use kontor_wire::requests::*;

/// List my conversations, most recently active first, with unread counts
/// and a preview of the last message.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = Vec<wire::ConversationSummary>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<wire::ConversationSummary>>> {
    let list = conversations::list(&state, auth.user.actor()).await?;
    Ok(Json(
        list.iter().map(wire::ConversationSummary::from).collect(),
    ))
}

/// Create a direct conversation, group or channel. A direct conversation
/// is unique per pair: asking again returns the existing one with 200.
#[utoipa::path(post, path = "/api/v1/conversations", tag = "conversations", security(("bearer" = [])),
    request_body = CreateConversation,
    responses(
        (status = 201, description = "Created", body = wire::Conversation),
        (status = 200, description = "The existing direct conversation", body = wire::Conversation),
        (status = 422, body = ErrorBody),
        (status = 429, description = "Too many groups or channels created, or people added, in a short time (`rate_limited`, with `Retry-After`)", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    auth: Authenticated,
    Json(req): Json<CreateConversation>,
) -> ApiResult<(StatusCode, Json<wire::Conversation>)> {
    let kind = ConversationKind::parse(&req.kind)
        .ok_or_else(|| DomainError::invalid("kind", "must be direct, group or channel"))?;
    let spec = ConversationSpec {
        kind,
        name: req.name.as_deref(),
        topic: req.topic.as_deref(),
        is_public: req.is_public,
        announcement: req.announcement,
        member_ids: req.user_ids.into_iter().map(UserId).collect(),
    };
    let (conv, created) = conversations::create(&state, auth.user.actor(), spec).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json((&conv).into())))
}

/// Public channels of my organisation, to browse and join.
#[utoipa::path(get, path = "/api/v1/channels", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = Vec<wire::Conversation>)))]
pub async fn public_channels(
    State(state): State<AppState>,
    auth: Authenticated,
) -> ApiResult<Json<Vec<wire::Conversation>>> {
    let list = conversations::public_channels(&state, auth.user.actor()).await?;
    Ok(Json(list.iter().map(wire::Conversation::from).collect()))
}

/// One conversation. Private conversations answer 404 to non-members.
#[utoipa::path(get, path = "/api/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, body = wire::ConversationDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<Json<wire::ConversationDetail>> {
    let actor = auth.user.actor();
    let (conv, role) = conversations::get(&state, actor, ConversationId(id)).await?;
    Ok(Json(wire::ConversationDetail {
        conversation: (&conv).into(),
        role: role.map(|r| r.as_str().to_owned()),
        capabilities: kontor_core::policy::capabilities(&actor, &conv.facts(), role).into(),
    }))
}

/// Rename, change the topic or the announcement mode.
#[utoipa::path(patch, path = "/api/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")), request_body = UpdateConversation,
    responses((status = 200, body = wire::Conversation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
    Json(req): Json<UpdateConversation>,
) -> ApiResult<Json<wire::Conversation>> {
    let conv = conversations::update(
        &state,
        auth.user.actor(),
        ConversationId(id),
        req.name.as_deref(),
        req.topic.as_deref(),
        req.announcement,
    )
    .await?;
    Ok(Json((&conv).into()))
}

/// Members of a conversation.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/members", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, body = Vec<wire::Member>), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<Json<Vec<wire::Member>>> {
    let members = conversations::members(&state, auth.user.actor(), ConversationId(id)).await?;
    Ok(Json(members.iter().map(wire::Member::from).collect()))
}

/// Add members (group owners; channel owners and moderators).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/members", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")), request_body = AddMembers,
    responses((status = 200, description = "The members newly added", body = Vec<wire::Member>),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 429, description = "Too many people added in a short time (`rate_limited`, with `Retry-After`)", body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
    Json(req): Json<AddMembers>,
) -> ApiResult<Json<Vec<wire::Member>>> {
    let users = req.user_ids.into_iter().map(UserId).collect();
    let added =
        conversations::add_members(&state, auth.user.actor(), ConversationId(id), users).await?;
    Ok(Json(added.iter().map(wire::Member::from).collect()))
}

/// Leave every group and channel one colleague created: the way out when
/// someone put you into conversations you do not want. Direct
/// conversations stay; conversations you are the last owner of are kept.
#[utoipa::path(post, path = "/api/v1/conversations/leave", tag = "conversations", security(("bearer" = [])),
    request_body = LeaveConversations,
    responses((status = 200, description = "What was left and kept", body = wire::LeftConversations),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn leave_all(
    State(state): State<AppState>,
    auth: Authenticated,
    Json(req): Json<LeaveConversations>,
) -> ApiResult<Json<wire::LeftConversations>> {
    let done =
        conversations::leave_all_created_by(&state, auth.user.actor(), UserId(req.created_by))
            .await?;
    Ok(Json(wire::LeftConversations {
        left: done.left.iter().map(|c| c.0).collect(),
        kept: done.kept.iter().map(|c| c.0).collect(),
    }))
}

/// Remove a member, or leave by removing yourself. The removed member
/// stops receiving the conversation's events at once.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/members/{user_id}", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), ("user_id" = i64, Path, description = "Member")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, user)): Path<(Id, Id)>,
) -> ApiResult<StatusCode> {
    conversations::remove_member(
        &state,
        auth.user.actor(),
        ConversationId(id.0),
        UserId(user.0),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a member's role (owners only).
#[utoipa::path(put, path = "/api/v1/conversations/{id}/members/{user_id}/role", tag = "conversations",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), ("user_id" = i64, Path, description = "Member")),
    request_body = RoleChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "That would leave the conversation without an owner (`conflict`)", body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, user)): Path<(Id, Id)>,
    Json(req): Json<RoleChange>,
) -> ApiResult<StatusCode> {
    conversations::set_role(
        &state,
        auth.user.actor(),
        ConversationId(id.0),
        UserId(user.0),
        &req.role,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Join a public channel.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/join", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, body = wire::Member), (status = 404, body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<Json<wire::Member>> {
    let member = conversations::join(&state, auth.user.actor(), ConversationId(id)).await?;
    Ok(Json((&member).into()))
}

/// Say that I am typing (ephemeral; other members see a `typing` event).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/typing", tag = "conversations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn typing(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<StatusCode> {
    conversations::typing(&state, auth.user.actor(), ConversationId(id))?;
    Ok(StatusCode::NO_CONTENT)
}
