//! The frames of the event stream and their encoding.

use bytes::Bytes;
use kontor_core::event::Event;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Conversation, Message};

/// One frame of the event stream. Persisted events carry `seq`, their
/// position; ephemeral ones (typing) and control frames do not.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct EventFrame {
    /// Stream position (persisted events only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub seq: Option<i64>,
    /// The event.
    #[serde(flatten)]
    pub event: WireEvent,
}

/// The events and control frames a client receives on `/api/v1/events`.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WireEvent {
    /// First frame after authentication: who you are and the stream
    /// position live delivery starts after.
    Hello {
        /// Your user id.
        user_id: i64,
        /// Your session id.
        session_id: i64,
        /// Position after which events are delivered.
        position: i64,
        /// The server pings this often; reply to pings to stay connected.
        heartbeat_seconds: u64,
    },
    /// The position you resumed from is too old or unknown: reload state
    /// over REST; live delivery continues after `position`.
    ResyncRequired {
        /// Position after which events are delivered.
        position: i64,
    },
    /// Replay of missed events is complete; live events follow.
    Resumed {
        /// Number of events replayed.
        replayed: u64,
    },
    /// A conversation was created with you in it.
    ConversationCreated {
        /// The conversation.
        conversation: Conversation,
        /// Its members.
        member_ids: Vec<i64>,
    },
    /// A conversation's settings changed.
    ConversationUpdated {
        /// The conversation after the change.
        conversation: Conversation,
    },
    /// Someone joined or was added.
    MemberAdded {
        /// Conversation.
        conversation_id: i64,
        /// New member.
        user_id: i64,
        /// Their role.
        role: String,
        /// Who added them.
        by: i64,
    },
    /// Someone left or was removed.
    MemberRemoved {
        /// Conversation.
        conversation_id: i64,
        /// Former member.
        user_id: i64,
        /// Who removed them.
        by: i64,
    },
    /// A member's role changed.
    MemberRoleChanged {
        /// Conversation.
        conversation_id: i64,
        /// Member.
        user_id: i64,
        /// New role.
        role: String,
    },
    /// A message was posted.
    MessageCreated {
        /// The message.
        message: Message,
    },
    /// A message was edited.
    MessageEdited {
        /// The message after the edit.
        message: Message,
    },
    /// A message was deleted.
    MessageDeleted {
        /// Conversation.
        conversation_id: i64,
        /// Message.
        message_id: i64,
        /// Its thread, if a reply.
        thread_root_id: Option<i64>,
    },
    /// A reaction was added or removed.
    ReactionChanged {
        /// Conversation.
        conversation_id: i64,
        /// Message.
        message_id: i64,
        /// Who.
        user_id: i64,
        /// Which emoji.
        emoji: String,
        /// Added or removed.
        added: bool,
    },
    /// Your read position moved (on another device, say).
    ReadPositionChanged {
        /// Conversation.
        conversation_id: i64,
        /// You.
        user_id: i64,
        /// Last read message.
        message_id: i64,
    },
    /// One of your sessions ended.
    SessionRevoked {
        /// The session.
        session_id: i64,
    },
    /// A `send` frame was stored durably (the answer to it; the message
    /// itself comes as `message_created`).
    Sent {
        /// The `txn_id` of the `send` frame.
        txn_id: String,
        /// Conversation.
        conversation_id: i64,
        /// The message's id.
        message_id: i64,
        /// False when this `txn_id` had already posted the message.
        created: bool,
    },
    /// A `send` frame was refused; nothing was posted.
    SendFailed {
        /// The `txn_id` of the `send` frame.
        txn_id: String,
        /// Stable error code, as the REST API would give.
        code: String,
        /// Explanation.
        message: String,
    },
    /// A client frame was not understood.
    Error {
        /// Stable code.
        code: String,
        /// Explanation.
        message: String,
    },
    /// Someone is typing (ephemeral, never stored, no `seq`).
    Typing {
        /// Conversation.
        conversation_id: i64,
        /// Who types.
        user_id: i64,
    },
    /// You showed or hid your presence (on any of your devices).
    PresenceSharingChanged {
        /// Whether colleagues now see when you are online.
        share_presence: bool,
    },
    /// Who of those you watch (`watch_presence`) is online now (ephemeral,
    /// no `seq`). The answer to a watch lists all of them; later frames
    /// list only changes. Offline also covers anyone who does not show
    /// their presence, is in another organisation or does not exist, and
    /// everyone while you do not show your own.
    Presence {
        /// Online now.
        online: Vec<i64>,
        /// Not online (or not shown).
        offline: Vec<i64>,
    },
}

impl From<&Event> for WireEvent {
    fn from(e: &Event) -> Self {
        match e {
            Event::ConversationCreated {
                conversation,
                member_ids,
            } => WireEvent::ConversationCreated {
                conversation: conversation.into(),
                member_ids: member_ids.iter().map(|u| u.0).collect(),
            },
            Event::ConversationUpdated { conversation } => WireEvent::ConversationUpdated {
                conversation: conversation.into(),
            },
            Event::MemberAdded {
                conversation_id,
                user_id,
                role,
                by,
            } => WireEvent::MemberAdded {
                conversation_id: conversation_id.0,
                user_id: user_id.0,
                role: role.as_str().into(),
                by: by.0,
            },
            Event::MemberRemoved {
                conversation_id,
                user_id,
                by,
            } => WireEvent::MemberRemoved {
                conversation_id: conversation_id.0,
                user_id: user_id.0,
                by: by.0,
            },
            Event::MemberRoleChanged {
                conversation_id,
                user_id,
                role,
            } => WireEvent::MemberRoleChanged {
                conversation_id: conversation_id.0,
                user_id: user_id.0,
                role: role.as_str().into(),
            },
            Event::MessageCreated { message } => WireEvent::MessageCreated {
                message: message.into(),
            },
            Event::MessageEdited { message } => WireEvent::MessageEdited {
                message: message.into(),
            },
            Event::MessageDeleted {
                conversation_id,
                message_id,
                thread_root_id,
            } => WireEvent::MessageDeleted {
                conversation_id: conversation_id.0,
                message_id: message_id.0,
                thread_root_id: thread_root_id.map(|r| r.0),
            },
            Event::ReactionChanged {
                conversation_id,
                message_id,
                user_id,
                emoji,
                added,
            } => WireEvent::ReactionChanged {
                conversation_id: conversation_id.0,
                message_id: message_id.0,
                user_id: user_id.0,
                emoji: emoji.clone(),
                added: *added,
            },
            Event::ReadPositionChanged {
                conversation_id,
                user_id,
                message_id,
            } => WireEvent::ReadPositionChanged {
                conversation_id: conversation_id.0,
                user_id: user_id.0,
                message_id: message_id.0,
            },
            Event::SessionRevoked { session_id, .. } => WireEvent::SessionRevoked {
                session_id: session_id.0,
            },
            Event::PresenceSharingChanged { share, .. } => WireEvent::PresenceSharingChanged {
                share_presence: *share,
            },
        }
    }
}

/// Encode a frame as JSON bytes. Serializing these plain structs cannot
/// fail; an empty object is sent if it ever did, rather than a panic.
pub fn encode_frame(frame: &EventFrame) -> Bytes {
    match serde_json::to_vec(frame) {
        Ok(v) => Bytes::from(v),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode event frame");
            Bytes::from_static(b"{}")
        }
    }
}
