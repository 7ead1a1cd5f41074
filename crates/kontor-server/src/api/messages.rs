//! Messages, threads, reactions and read positions.

use axum::extract::State;
use axum::http::StatusCode;
use kontor_core::ids::{AttachmentId, ConversationId, MessageId, UserId};

use crate::auth::Authenticated;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::service::messages::{self, MessageSpec};
use crate::state::AppState;
use kontor_wire as wire;
use kontor_wire::number::Id;
use kontor_wire::requests::*;

/// Read history: the main timeline (thread roots and plain messages) or one
/// thread, paged by message id in either direction.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id"), HistoryParams),
    responses((status = 200, body = HistoryResponse), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
    Query(q): Query<HistoryParams>,
) -> ApiResult<Json<HistoryResponse>> {
    let page = messages::history(
        &state,
        auth.user.actor(),
        ConversationId(id),
        q.before.map(MessageId),
        q.after.map(MessageId),
        q.limit,
        q.thread.map(MessageId),
    )
    .await?;
    Ok(Json(HistoryResponse {
        messages: page.messages.iter().map(wire::Message::from).collect(),
        has_more: page.has_more,
    }))
}

/// The service's view of a send request; the socket's `send` frames use it
/// too.
pub(crate) fn spec_of(req: &SendMessage) -> MessageSpec<'_> {
    MessageSpec {
        txn_id: &req.txn_id,
        text: &req.text,
        thread_root_id: req.thread_root_id.map(MessageId),
        mentions: req.mentions.iter().copied().map(UserId).collect(),
        mentions_channel: req.mentions_channel,
        attachment_ids: req
            .attachment_ids
            .iter()
            .copied()
            .map(AttachmentId)
            .collect(),
    }
}

/// Post a message or thread reply. 201 when posted; 200 with the original
/// message when the `txn_id` was already used.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")), request_body = SendMessage,
    responses(
        (status = 201, description = "Posted", body = wire::Message),
        (status = 200, description = "Already posted with this txn_id", body = wire::Message),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 409, description = "This `txn_id` was used for a different message, or an attachment is already sent (`conflict`)", body = ErrorBody),
    ))]
pub async fn send(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
    Json(req): Json<SendMessage>,
) -> ApiResult<(StatusCode, Json<wire::Message>)> {
    let spec = spec_of(&req);
    let out = messages::send(&state, auth.user.actor(), ConversationId(id), spec).await?;
    let status = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json((&out.message).into())))
}

/// One message.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 200, body = wire::Message), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<Json<wire::Message>> {
    let m = messages::get(&state, auth.user.actor(), MessageId(id)).await?;
    Ok(Json((&m).into()))
}

/// Edit my message. The old text is gone from storage afterwards.
#[utoipa::path(patch, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")), request_body = EditMessage,
    responses((status = 200, body = wire::Message), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn edit(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
    Json(req): Json<EditMessage>,
) -> ApiResult<Json<wire::Message>> {
    let mentions = req.mentions.into_iter().map(UserId).collect();
    let m = messages::edit(
        &state,
        auth.user.actor(),
        MessageId(id),
        &req.text,
        mentions,
        req.mentions_channel,
    )
    .await?;
    Ok(Json((&m).into()))
}

/// Delete a message (mine, or any as moderator). Its content, mentions and
/// reactions are erased; a tombstone keeps the thread together.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
) -> ApiResult<StatusCode> {
    messages::delete(&state, auth.user.actor(), MessageId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add my reaction (idempotent). At most 20 different emoji per message.
#[utoipa::path(put, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id"), ("emoji" = String, Path, description = "Emoji or :shortcode:, URL-encoded")),
    responses((status = 204), (status = 403, description = "A public channel you have not joined (`forbidden`)", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The message was deleted (`conflict`)", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_reaction(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, emoji)): Path<(Id, String)>,
) -> ApiResult<StatusCode> {
    messages::react(&state, auth.user.actor(), MessageId(id.0), &emoji, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove my reaction (idempotent).
#[utoipa::path(delete, path = "/api/v1/messages/{id}/reactions/{emoji}", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Message id"), ("emoji" = String, Path, description = "Emoji or :shortcode:, URL-encoded")),
    responses((status = 204), (status = 403, description = "A public channel you have not joined (`forbidden`)", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The message was deleted (`conflict`)", body = ErrorBody)))]
pub async fn remove_reaction(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((id, emoji)): Path<(Id, String)>,
) -> ApiResult<StatusCode> {
    messages::react(&state, auth.user.actor(), MessageId(id.0), &emoji, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark messages as read up to `message_id`. Only my own devices learn of
/// it: read receipts are not shown to others.
#[utoipa::path(put, path = "/api/v1/conversations/{id}/read", tag = "messages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Conversation id")), request_body = ReadPosition,
    responses((status = 204), (status = 403, description = "A public channel you have not joined (`forbidden`)", body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn mark_read(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(Id(id)): Path<Id>,
    Json(req): Json<ReadPosition>,
) -> ApiResult<StatusCode> {
    messages::mark_read(
        &state,
        auth.user.actor(),
        ConversationId(id),
        MessageId(req.message_id),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
