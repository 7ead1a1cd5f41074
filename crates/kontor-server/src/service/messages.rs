//! Messages, reactions and read positions.

use kontor_core::DomainError;
use kontor_core::ids::{AttachmentId, ConversationId, MessageId, UserId};
use kontor_core::limits::MAX_MENTIONS;
use kontor_core::model::{Actor, Message};
use kontor_core::validate;
use kontor_storage::{
    HistoryCursor, HistoryPage, HistoryQuery, MessageEdit, NewMessage, SendOutcome,
};

use crate::error::ApiResult;
use crate::state::AppState;

/// What it takes to post a message.
pub struct MessageSpec<'a> {
    /// Client transaction id.
    pub txn_id: &'a str,
    /// Source text.
    pub text: &'a str,
    /// Thread root for replies.
    pub thread_root_id: Option<MessageId>,
    /// Mentioned users.
    pub mentions: Vec<UserId>,
    /// `@channel`.
    pub mentions_channel: bool,
    /// Uploads to attach.
    pub attachment_ids: Vec<AttachmentId>,
}

fn check_mentions(mentions: &[UserId]) -> ApiResult<()> {
    if mentions.len() > MAX_MENTIONS {
        return Err(DomainError::LimitExceeded(format!(
            "a message may mention at most {MAX_MENTIONS} people"
        ))
        .into());
    }
    Ok(())
}

/// Post a message. Retrying with the same transaction id returns the first
/// message instead of posting again.
pub async fn send(
    state: &AppState,
    actor: Actor,
    conv: ConversationId,
    spec: MessageSpec<'_>,
) -> ApiResult<SendOutcome> {
    check_mentions(&spec.mentions)?;
    let new = NewMessage {
        conversation_id: conv,
        txn_id: validate::txn_id(spec.txn_id)?.to_owned(),
        // A file may go without words.
        text: if spec.attachment_ids.is_empty() || !spec.text.trim().is_empty() {
            validate::message_text(spec.text)?.to_owned()
        } else {
            String::new()
        },
        thread_root_id: spec.thread_root_id,
        mentions: spec.mentions,
        mentions_channel: spec.mentions_channel,
        attachment_ids: spec.attachment_ids,
    };
    Ok(state.store.send_message(actor, new, state.now()).await?)
}

/// Edit one's own message.
pub async fn edit(
    state: &AppState,
    actor: Actor,
    id: MessageId,
    text: &str,
    mentions: Vec<UserId>,
    mentions_channel: bool,
) -> ApiResult<Message> {
    check_mentions(&mentions)?;
    let edit = MessageEdit {
        text: validate::message_text(text)?.to_owned(),
        mentions,
        mentions_channel,
    };
    Ok(state
        .store
        .edit_message(actor, id, edit, state.now())
        .await?)
}

/// Delete a message (own, or any as moderator).
pub async fn delete(state: &AppState, actor: Actor, id: MessageId) -> ApiResult<()> {
    let blobs = state.store.delete_message(actor, id, state.now()).await?;
    super::files::delete_blobs(state, &blobs).await;
    Ok(())
}

/// Add or remove the caller's reaction.
pub async fn react(
    state: &AppState,
    actor: Actor,
    id: MessageId,
    emoji: &str,
    add: bool,
) -> ApiResult<()> {
    let emoji = validate::reaction(emoji)?.to_owned();
    Ok(state
        .store
        .set_reaction(actor, id, emoji, add, state.now())
        .await?)
}

/// One message.
pub async fn get(state: &AppState, actor: Actor, id: MessageId) -> ApiResult<Message> {
    Ok(state.store.get_message(actor, id).await?)
}

/// A page of history: newest by default, or before/after a message id.
pub async fn history(
    state: &AppState,
    actor: Actor,
    conv: ConversationId,
    before: Option<MessageId>,
    after: Option<MessageId>,
    limit: Option<u32>,
    thread_root: Option<MessageId>,
) -> ApiResult<HistoryPage> {
    let cursor = match (before, after) {
        (Some(_), Some(_)) => {
            return Err(
                DomainError::invalid("before", "give either before or after, not both").into(),
            );
        }
        (Some(b), None) => HistoryCursor::Before(b),
        (None, Some(a)) => HistoryCursor::After(a),
        (None, None) => HistoryCursor::Latest,
    };
    let query = HistoryQuery {
        cursor,
        limit: validate::page_size(limit)?,
        thread_root,
    };
    Ok(state.store.history(actor, conv, query).await?)
}

/// Move the caller's read position.
pub async fn mark_read(
    state: &AppState,
    actor: Actor,
    conv: ConversationId,
    message: MessageId,
) -> ApiResult<()> {
    Ok(state
        .store
        .mark_read(actor, conv, message, state.now())
        .await?)
}
