//! Conversations, membership and typing.

use kontor_core::DomainError;
use kontor_core::ids::{ConversationId, UserId};
use kontor_core::model::{
    Actor, Conversation, ConversationKind, ConversationSummary, Member, MemberRole,
};
use kontor_core::validate;
use kontor_storage::{NewConversation, SettingsChange};

use futures_util::StreamExt;

use crate::error::{ApiError, ApiResult};
use crate::hub::Typing;
use crate::state::AppState;

/// What it takes to create a conversation.
pub struct ConversationSpec<'a> {
    /// Kind.
    pub kind: ConversationKind,
    /// Name (required for channels, optional for groups, none for direct).
    pub name: Option<&'a str>,
    /// Topic.
    pub topic: Option<&'a str>,
    /// Public channel.
    pub is_public: bool,
    /// Announcement channel.
    pub announcement: bool,
    /// The other members.
    pub member_ids: Vec<UserId>,
}

/// Create a conversation; for a direct one, return the existing one if the
/// pair already has it (the flag says whether it is new).
pub async fn create(
    state: &AppState,
    actor: Actor,
    spec: ConversationSpec<'_>,
) -> ApiResult<(Conversation, bool)> {
    let name = match (spec.kind, spec.name) {
        (ConversationKind::Direct, Some(_)) => {
            return Err(DomainError::invalid("name", "direct conversations have no name").into());
        }
        (ConversationKind::Channel, None) => {
            return Err(DomainError::invalid("name", "a channel needs a name").into());
        }
        (_, Some(n)) => Some(validate::name("name", n)?),
        (_, None) => None,
    };
    if spec.kind != ConversationKind::Channel && (spec.is_public || spec.announcement) {
        return Err(DomainError::invalid(
            "is_public",
            "only channels can be public or announcement channels",
        )
        .into());
    }
    if spec.kind != ConversationKind::Direct {
        let others = spec
            .member_ids
            .iter()
            .filter(|u| **u != actor.user_id)
            .count();
        state.pacing.admit_conversation(actor, others)?;
    }
    let new = NewConversation {
        kind: spec.kind,
        name,
        topic: validate::topic(spec.topic.unwrap_or(""))?,
        is_public: spec.is_public,
        announcement: spec.announcement,
        member_ids: spec.member_ids,
    };
    Ok(state
        .store
        .create_conversation(actor, new, state.now())
        .await?)
}

/// A conversation and the caller's role.
pub async fn get(
    state: &AppState,
    actor: Actor,
    id: ConversationId,
) -> ApiResult<(Conversation, Option<MemberRole>)> {
    Ok(state.store.get_conversation(actor, id).await?)
}

/// The caller's conversation list.
pub async fn list(state: &AppState, actor: Actor) -> ApiResult<Vec<ConversationSummary>> {
    Ok(state.store.list_conversations(actor).await?)
}

/// Public channels to browse and join.
pub async fn public_channels(state: &AppState, actor: Actor) -> ApiResult<Vec<Conversation>> {
    Ok(state.store.list_public_channels(actor).await?)
}

/// Members of a conversation.
pub async fn members(state: &AppState, actor: Actor, id: ConversationId) -> ApiResult<Vec<Member>> {
    Ok(state.store.list_members(actor, id).await?)
}

/// Add members.
pub async fn add_members(
    state: &AppState,
    actor: Actor,
    id: ConversationId,
    users: Vec<UserId>,
) -> ApiResult<Vec<Member>> {
    if users.is_empty() {
        return Err(DomainError::invalid("user_ids", "must name at least one user").into());
    }
    let others = users.iter().filter(|u| **u != actor.user_id).count();
    state.pacing.admit_additions(actor, others)?;
    Ok(state
        .store
        .add_members(actor, id, users, state.now())
        .await?)
}

/// Leaves taken at once by [`leave_all_created_by`]; each is its own
/// write, and the writer commits those in flight together.
const LEAVES_IN_FLIGHT: usize = 16;

/// What [`leave_all_created_by`] did.
pub struct LeftConversations {
    /// The conversations left.
    pub left: Vec<ConversationId>,
    /// Those the caller could not leave (they are their last owner).
    pub kept: Vec<ConversationId>,
}

/// Leave every group and channel that `creator` made and the caller is
/// in: the way out of unwanted conversations a colleague put one in, in
/// one step. Direct conversations stay. Each leave is the ordinary one
/// (other members and the caller's devices see it), so a failure part way
/// leaves every conversation either left or kept, never half.
pub async fn leave_all_created_by(
    state: &AppState,
    actor: Actor,
    creator: UserId,
) -> ApiResult<LeftConversations> {
    if creator == actor.user_id {
        return Err(DomainError::invalid(
            "created_by",
            "names yourself; leave your own conversations one by one",
        )
        .into());
    }
    let targets: Vec<ConversationId> = state
        .store
        .list_conversations(actor)
        .await?
        .into_iter()
        .filter(|c| {
            c.conversation.kind != ConversationKind::Direct && c.conversation.created_by == creator
        })
        .map(|c| c.conversation.id)
        .collect();
    let outcomes: Vec<(ConversationId, ApiResult<()>)> = futures_util::stream::iter(targets)
        .map(|id| async move { (id, remove_member(state, actor, id, actor.user_id).await) })
        .buffer_unordered(LEAVES_IN_FLIGHT)
        .collect()
        .await;
    let mut done = LeftConversations {
        left: Vec::new(),
        kept: Vec::new(),
    };
    for (id, outcome) in outcomes {
        match outcome {
            Ok(()) => done.left.push(id),
            // Gone or left meanwhile: nothing to leave.
            Err(ApiError::Domain(DomainError::NotFound(_))) => {}
            Err(ApiError::Domain(DomainError::Conflict(_))) => done.kept.push(id),
            Err(e) => return Err(e),
        }
    }
    done.left.sort_unstable();
    done.kept.sort_unstable();
    Ok(done)
}

/// Remove a member, or leave when `user` is the caller.
pub async fn remove_member(
    state: &AppState,
    actor: Actor,
    id: ConversationId,
    user: UserId,
) -> ApiResult<()> {
    Ok(state
        .store
        .remove_member(actor, id, user, state.now())
        .await?)
}

/// Join a public channel.
pub async fn join(state: &AppState, actor: Actor, id: ConversationId) -> ApiResult<Member> {
    Ok(state.store.join(actor, id, state.now()).await?)
}

/// Change a member's role.
pub async fn set_role(
    state: &AppState,
    actor: Actor,
    id: ConversationId,
    user: UserId,
    role: &str,
) -> ApiResult<()> {
    let role = MemberRole::parse(role)
        .ok_or_else(|| DomainError::invalid("role", "must be owner, moderator or member"))?;
    Ok(state
        .store
        .set_role(actor, id, user, role, state.now())
        .await?)
}

/// Change name, topic or announcement mode.
pub async fn update(
    state: &AppState,
    actor: Actor,
    id: ConversationId,
    name: Option<&str>,
    topic: Option<&str>,
    announcement: Option<bool>,
) -> ApiResult<Conversation> {
    let change = SettingsChange {
        name: name.map(|n| validate::name("name", n)).transpose()?,
        topic: topic.map(validate::topic).transpose()?,
        announcement,
    };
    if change.name.is_none() && change.topic.is_none() && change.announcement.is_none() {
        return Err(DomainError::invalid(
            "body",
            "change at least one of name, topic, announcement",
        )
        .into());
    }
    Ok(state
        .store
        .update_conversation(actor, id, change, state.now())
        .await?)
}

/// Tell the other members the caller is typing. Ephemeral: nothing is
/// stored. Non-members get the same not-found as for any other access.
/// A flood of notices is coalesced by the hub (one per person and
/// conversation every two seconds); only what it passes on goes to the
/// other nodes.
pub fn typing(state: &AppState, actor: Actor, id: ConversationId) -> ApiResult<()> {
    match state.hub.typing(id, actor.user_id) {
        Typing::Sent => {
            if let Some(cluster) = &state.cluster {
                cluster.typing(id, actor.user_id);
            }
            Ok(())
        }
        Typing::Coalesced => Ok(()),
        Typing::NotMember => Err(DomainError::NotFound("conversation").into()),
    }
}
