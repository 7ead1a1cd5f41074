//! Wire types: the JSON shapes of the REST API and the event stream.
//!
//! Shared by the server (which documents them in its OpenAPI description)
//! and the client library, so both sides agree by construction. Domain
//! types stay free of serialization; these DTOs are built from them at the
//! edge. Times are RFC 3339 strings in UTC; ids are integers.
//!
//! Layout: responses and events (this file), request bodies in [`requests`].

mod events;
pub mod number;
pub mod requests;

pub use events::*;

use kontor_core::model::{self, Timestamp};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// Format a timestamp as RFC 3339.
pub fn time_string(t: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.0) * 1_000_000)
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Parse an RFC 3339 time (as this API writes them) into a timestamp.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .ok()
        .map(Timestamp)
}

fn opt_time(t: Option<Timestamp>) -> Option<String> {
    t.map(time_string)
}

/// A user as shown in the directory.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct User {
    /// User id.
    pub id: i64,
    /// Organisation id.
    pub org_id: i64,
    /// Login and mention handle.
    pub username: String,
    /// Company email, if any.
    pub email: Option<String>,
    /// Display name.
    pub display_name: String,
    /// `member` or `admin`.
    pub org_role: String,
    /// Account creation time.
    pub created_at: String,
}

impl From<&model::User> for User {
    fn from(u: &model::User) -> Self {
        User {
            id: u.id.0,
            org_id: u.org_id.0,
            username: u.username.clone(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            org_role: u.org_role.as_str().into(),
            created_at: time_string(u.created_at),
        }
    }
}

/// The logged-in user: what everyone sees of them, plus their own
/// settings, which nobody else sees.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct Me {
    /// The public part.
    #[serde(flatten)]
    pub user: User,
    /// Whether colleagues see when I am online (off until I turn it on).
    pub share_presence: bool,
    /// Whether this installation shows presence at all (the operator's
    /// `presence.enabled`, a works-council decision).
    pub presence_available: bool,
}

impl Me {
    /// `user` as they see themselves, on an installation where presence is
    /// `presence_available` or not.
    pub fn new(user: &model::User, presence_available: bool) -> Me {
        Me {
            user: user.into(),
            share_presence: user.share_presence,
            presence_available,
        }
    }
}

/// A login session.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct Session {
    /// Session id.
    pub id: i64,
    /// Device name given at login.
    pub device_name: String,
    /// Login time.
    pub created_at: String,
    /// Last activity (updated at most once a minute).
    pub last_seen_at: String,
    /// This is the session making the request.
    pub current: bool,
}

impl Session {
    /// Build from the domain session, marking the caller's own.
    pub fn new(s: &model::Session, current: kontor_core::ids::SessionId) -> Self {
        Session {
            id: s.id.0,
            device_name: s.device_name.clone(),
            created_at: time_string(s.created_at),
            last_seen_at: time_string(s.last_seen_at),
            current: s.id == current,
        }
    }
}

/// A conversation.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct Conversation {
    /// Conversation id.
    pub id: i64,
    /// `direct`, `group` or `channel`.
    pub kind: String,
    /// Name (none for direct conversations).
    pub name: Option<String>,
    /// Topic line.
    pub topic: String,
    /// Channel open to the whole organisation.
    pub is_public: bool,
    /// Only owners and moderators post.
    pub announcement: bool,
    /// Creator.
    pub created_by: i64,
    /// Creation time.
    pub created_at: String,
    /// Latest message id.
    pub last_message_id: Option<i64>,
    /// Latest activity time.
    pub last_activity_at: String,
    /// Number of members.
    pub member_count: u32,
}

impl From<&model::Conversation> for Conversation {
    fn from(c: &model::Conversation) -> Self {
        Conversation {
            id: c.id.0,
            kind: c.kind.as_str().into(),
            name: c.name.clone(),
            topic: c.topic.clone(),
            is_public: c.is_public,
            announcement: c.announcement,
            created_by: c.created_by.0,
            created_at: time_string(c.created_at),
            last_message_id: c.last_message_id.map(|m| m.0),
            last_activity_at: time_string(c.last_activity_at),
            member_count: c.member_count,
        }
    }
}

/// A conversation with the caller's view of it.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct ConversationDetail {
    /// The conversation.
    pub conversation: Conversation,
    /// The caller's role, or none when browsing a public channel.
    pub role: Option<String>,
    /// What the caller may do here, decided by the server's policy: show
    /// controls by these instead of deriving them from the role.
    pub capabilities: Capabilities,
}

/// What the caller may do in a conversation (`GET /conversations/{id}`).
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Post messages and thread replies.
    pub post: bool,
    /// Add and remove reactions.
    pub react: bool,
    /// Join without an invitation.
    pub join: bool,
    /// Leave.
    pub leave: bool,
    /// Rename and change the topic.
    pub update_settings: bool,
    /// Switch the announcement mode.
    pub change_announcement_mode: bool,
    /// Add members and remove members who are not owners.
    pub manage_members: bool,
    /// Remove owners.
    pub remove_owners: bool,
    /// Change members' roles.
    pub change_roles: bool,
    /// Delete other people's messages.
    pub delete_any_message: bool,
}

impl From<kontor_core::policy::ConversationCapabilities> for Capabilities {
    fn from(c: kontor_core::policy::ConversationCapabilities) -> Self {
        Capabilities {
            post: c.post,
            react: c.react,
            join: c.join,
            leave: c.leave,
            update_settings: c.update_settings,
            change_announcement_mode: c.change_announcement_mode,
            manage_members: c.manage_members,
            remove_owners: c.remove_owners,
            change_roles: c.change_roles,
            delete_any_message: c.delete_any_message,
        }
    }
}

/// One entry of the conversation list.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct ConversationSummary {
    /// The conversation.
    pub conversation: Conversation,
    /// The caller's role.
    pub role: String,
    /// For direct conversations: the other person's user id.
    pub peer_id: Option<i64>,
    /// Last message the caller has read.
    pub last_read_message_id: Option<i64>,
    /// Messages from others after that in the main timeline (thread
    /// replies are read in their thread and not counted here).
    pub unread_count: u32,
    /// Messages from others after that which mention the caller (in the
    /// timeline or a thread) or everyone (in the timeline).
    pub unread_mentions: u32,
    /// The latest message, for a preview.
    pub last_message: Option<Message>,
}

impl From<&model::ConversationSummary> for ConversationSummary {
    fn from(s: &model::ConversationSummary) -> Self {
        ConversationSummary {
            conversation: (&s.conversation).into(),
            role: s.role.as_str().into(),
            peer_id: s.peer_id.map(|u| u.0),
            last_read_message_id: s.last_read_message_id.map(|m| m.0),
            unread_count: s.unread_count,
            unread_mentions: s.unread_mentions,
            last_message: s.last_message.as_ref().map(Message::from),
        }
    }
}

/// A conversation member.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct Member {
    /// User id.
    pub user_id: i64,
    /// `owner`, `moderator` or `member`.
    pub role: String,
    /// When they joined.
    pub joined_at: String,
}

impl From<&model::Member> for Member {
    fn from(m: &model::Member) -> Self {
        Member {
            user_id: m.user_id.0,
            role: m.role.as_str().into(),
            joined_at: time_string(m.joined_at),
        }
    }
}

/// A reaction and who gave it.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct Reaction {
    /// Emoji or `:shortcode:`.
    pub emoji: String,
    /// Who reacted.
    pub user_ids: Vec<i64>,
}

/// A message. Deleted messages keep only their place: `text` is null.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct Message {
    /// Message id.
    pub id: i64,
    /// Conversation id.
    pub conversation_id: i64,
    /// Author.
    pub sender_id: i64,
    /// The author's transaction id.
    pub txn_id: String,
    /// Thread root, for replies.
    pub thread_root_id: Option<i64>,
    /// Markdown-subset source; null once deleted.
    pub text: Option<String>,
    /// Mentioned user ids.
    pub mentions: Vec<i64>,
    /// `@channel` was used.
    pub mentions_channel: bool,
    /// Reactions.
    pub reactions: Vec<Reaction>,
    /// Replies (thread roots only).
    pub reply_count: u32,
    /// Latest reply time (thread roots only).
    pub last_reply_at: Option<String>,
    /// Post time.
    pub created_at: String,
    /// Has been edited.
    pub edited: bool,
    /// Last edit time.
    pub edited_at: Option<String>,
    /// Has been deleted.
    pub deleted: bool,
    /// Deletion time.
    pub deleted_at: Option<String>,
    /// Attached files.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// An attached file. Fetch it (with your session) from `url`, and an
/// image's preview from `thumbnail_url`.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Attachment id.
    pub id: i64,
    /// Conversation it belongs to.
    pub conversation_id: i64,
    /// Message it is attached to (null until sent).
    pub message_id: Option<i64>,
    /// Who uploaded it.
    pub uploader_id: i64,
    /// File name (sanitised).
    pub name: String,
    /// Type, decided by the server from the content.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Image width in pixels.
    pub width: Option<u32>,
    /// Image height in pixels.
    pub height: Option<u32>,
    /// Upload time.
    pub created_at: String,
    /// Where to download it.
    pub url: String,
    /// Where to get a preview (images only).
    pub thumbnail_url: Option<String>,
}

impl From<&model::Attachment> for Attachment {
    fn from(a: &model::Attachment) -> Self {
        let url = format!("/api/v1/attachments/{}", a.id.0);
        Attachment {
            id: a.id.0,
            conversation_id: a.conversation_id.0,
            message_id: a.message_id.map(|m| m.0),
            uploader_id: a.uploader_id.0,
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            width: a.width,
            height: a.height,
            created_at: time_string(a.created_at),
            thumbnail_url: a
                .thumbnail_key
                .as_ref()
                .map(|_| format!("{url}?thumbnail=true")),
            url,
        }
    }
}

impl From<&model::Message> for Message {
    fn from(m: &model::Message) -> Self {
        Message {
            id: m.id.0,
            conversation_id: m.conversation_id.0,
            sender_id: m.sender_id.0,
            txn_id: m.txn_id.clone(),
            thread_root_id: m.thread_root_id.map(|r| r.0),
            text: m.text.clone(),
            mentions: m.mentions.iter().map(|u| u.0).collect(),
            mentions_channel: m.mentions_channel,
            reactions: m
                .reactions
                .iter()
                .map(|r| Reaction {
                    emoji: r.emoji.clone(),
                    user_ids: r.user_ids.iter().map(|u| u.0).collect(),
                })
                .collect(),
            reply_count: m.reply_count,
            last_reply_at: opt_time(m.last_reply_at),
            created_at: time_string(m.created_at),
            edited: m.edited_at.is_some(),
            edited_at: opt_time(m.edited_at),
            deleted: m.deleted_at.is_some(),
            deleted_at: opt_time(m.deleted_at),
            attachments: m.attachments.iter().map(Attachment::from).collect(),
        }
    }
}

/// What leaving in bulk did.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct LeftConversations {
    /// The conversations left, by id.
    pub left: Vec<i64>,
    /// Those the caller could not leave because they are their last owner.
    pub kept: Vec<i64>,
}
