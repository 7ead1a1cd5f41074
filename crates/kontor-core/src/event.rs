//! Events: the changes clients learn about live and on resume.
//!
//! Each persisted event is stored once with its [`Audience`]; who receives
//! it is computed from current membership when it is delivered, never
//! stored per recipient, so a message to a 10,000-member channel is one row.

use crate::ids::{ConversationId, MessageId, SessionId, UserId};
use crate::model::{Conversation, MemberRole, Message};

/// Who may see an event: the members of a conversation, one user, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Audience {
    /// Every current member of this conversation (who joined before the
    /// event) sees it.
    pub conversation: Option<ConversationId>,
    /// This user sees it regardless of membership.
    pub user: Option<UserId>,
}

/// How an event changes conversation membership; the real-time hub applies
/// it before (for additions) or after (for removals) delivering the event,
/// so a removed member still learns of the removal and nothing after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipEffect {
    /// These users became members.
    Added(ConversationId, Vec<UserId>),
    /// This user stopped being a member.
    Removed(ConversationId, UserId),
}

/// A persisted change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A conversation was created with these members.
    ConversationCreated {
        /// The new conversation.
        conversation: Conversation,
        /// Its initial members.
        member_ids: Vec<UserId>,
    },
    /// Name, topic or modes changed.
    ConversationUpdated {
        /// The conversation after the change.
        conversation: Conversation,
    },
    /// Someone joined or was added.
    MemberAdded {
        /// Where.
        conversation_id: ConversationId,
        /// Who joined.
        user_id: UserId,
        /// Their role.
        role: MemberRole,
        /// Who added them (themselves when joining).
        by: UserId,
    },
    /// Someone left or was removed.
    MemberRemoved {
        /// Where.
        conversation_id: ConversationId,
        /// Who left.
        user_id: UserId,
        /// Who removed them (themselves when leaving).
        by: UserId,
    },
    /// A member's role changed.
    MemberRoleChanged {
        /// Where.
        conversation_id: ConversationId,
        /// Whose role.
        user_id: UserId,
        /// The new role.
        role: MemberRole,
    },
    /// A message or thread reply was posted.
    MessageCreated {
        /// The message as stored.
        message: Message,
    },
    /// A message's text was edited.
    MessageEdited {
        /// The message after the edit.
        message: Message,
    },
    /// A message was deleted; its content is gone.
    MessageDeleted {
        /// Where.
        conversation_id: ConversationId,
        /// Which message.
        message_id: MessageId,
        /// The thread it belonged to, if it was a reply.
        thread_root_id: Option<MessageId>,
    },
    /// A reaction was added or removed.
    ReactionChanged {
        /// Where.
        conversation_id: ConversationId,
        /// On which message.
        message_id: MessageId,
        /// Who reacted.
        user_id: UserId,
        /// The emoji.
        emoji: String,
        /// Added (true) or removed (false).
        added: bool,
    },
    /// The user's read position moved (seen only by that user's devices:
    /// read receipts for others are a works-council decision, off here).
    ReadPositionChanged {
        /// Where.
        conversation_id: ConversationId,
        /// Whose position.
        user_id: UserId,
        /// The last message read.
        message_id: MessageId,
    },
    /// A session ended (logout or revocation); its sockets close.
    SessionRevoked {
        /// Whose session.
        user_id: UserId,
        /// Which session.
        session_id: SessionId,
    },
    /// The user started or stopped showing colleagues when they are
    /// online. Logged like any change, so every node's hub, and the user's
    /// other devices, learn of it in stream order.
    PresenceSharingChanged {
        /// Whose setting.
        user_id: UserId,
        /// Shown (true) or hidden (false) from now on.
        share: bool,
    },
}

impl Event {
    /// Stable name of the event kind on the wire and in storage.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ConversationCreated { .. } => "conversation_created",
            Event::ConversationUpdated { .. } => "conversation_updated",
            Event::MemberAdded { .. } => "member_added",
            Event::MemberRemoved { .. } => "member_removed",
            Event::MemberRoleChanged { .. } => "member_role_changed",
            Event::MessageCreated { .. } => "message_created",
            Event::MessageEdited { .. } => "message_edited",
            Event::MessageDeleted { .. } => "message_deleted",
            Event::ReactionChanged { .. } => "reaction_changed",
            Event::ReadPositionChanged { .. } => "read_position_changed",
            Event::SessionRevoked { .. } => "session_revoked",
            Event::PresenceSharingChanged { .. } => "presence_sharing_changed",
        }
    }

    /// Who may see this event.
    pub fn audience(&self) -> Audience {
        let conv = |c: &ConversationId| Audience {
            conversation: Some(*c),
            user: None,
        };
        match self {
            Event::ConversationCreated { conversation, .. }
            | Event::ConversationUpdated { conversation } => conv(&conversation.id),
            Event::MemberAdded {
                conversation_id, ..
            }
            | Event::MemberRoleChanged {
                conversation_id, ..
            }
            | Event::MessageDeleted {
                conversation_id, ..
            }
            | Event::ReactionChanged {
                conversation_id, ..
            } => conv(conversation_id),
            Event::MemberRemoved {
                conversation_id,
                user_id,
                ..
            } => Audience {
                conversation: Some(*conversation_id),
                user: Some(*user_id),
            },
            Event::MessageCreated { message } | Event::MessageEdited { message } => {
                conv(&message.conversation_id)
            }
            Event::ReadPositionChanged { user_id, .. }
            | Event::SessionRevoked { user_id, .. }
            | Event::PresenceSharingChanged { user_id, .. } => Audience {
                conversation: None,
                user: Some(*user_id),
            },
        }
    }

    /// The session whose sockets must close, for a revocation: the hub
    /// needs it live, and a store shared by several nodes keeps it beside
    /// the event for the other nodes' hubs.
    pub fn revoked_session(&self) -> Option<SessionId> {
        match self {
            Event::SessionRevoked { session_id, .. } => Some(*session_id),
            _ => None,
        }
    }

    /// The audience user's new choice to show their presence, for a
    /// presence setting change (kept like [`Event::revoked_session`]).
    pub fn presence_choice(&self) -> Option<bool> {
        match self {
            Event::PresenceSharingChanged { share, .. } => Some(*share),
            _ => None,
        }
    }

    /// How this event changes membership, if it does.
    pub fn membership_effect(&self) -> Option<MembershipEffect> {
        match self {
            Event::ConversationCreated {
                conversation,
                member_ids,
            } => Some(MembershipEffect::Added(conversation.id, member_ids.clone())),
            Event::MemberAdded {
                conversation_id,
                user_id,
                ..
            } => Some(MembershipEffect::Added(*conversation_id, vec![*user_id])),
            Event::MemberRemoved {
                conversation_id,
                user_id,
                ..
            } => Some(MembershipEffect::Removed(*conversation_id, *user_id)),
            _ => None,
        }
    }

    /// The message whose content this event reveals (its text, or who
    /// reacted how), so that editing or deleting the message can also scrub
    /// the event log.
    pub fn content_of(&self) -> Option<MessageId> {
        match self {
            Event::MessageCreated { message } | Event::MessageEdited { message } => {
                Some(message.id)
            }
            Event::ReactionChanged { message_id, .. } => Some(*message_id),
            _ => None,
        }
    }
}
