//! The kinds and roles the rules talk about.

use crate::ids::{OrgId, UserId};

/// What sort of conversation this is; it decides membership rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConversationKind {
    /// Exactly two people, unique per pair, members fixed.
    Direct,
    /// A small private circle whose owners manage the members.
    Group,
    /// A named room, public to the organisation or private, any size.
    Channel,
}

impl ConversationKind {
    /// Stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Group => "group",
            ConversationKind::Channel => "channel",
        }
    }

    /// Inverse of [`ConversationKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(ConversationKind::Direct),
            "group" => Some(ConversationKind::Group),
            "channel" => Some(ConversationKind::Channel),
            _ => None,
        }
    }
}

/// A member's standing inside one conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberRole {
    /// Plain participant.
    Member,
    /// May moderate (delete others' messages, manage channel members) and
    /// post in announcement channels.
    Moderator,
    /// Full control, including roles and settings.
    Owner,
}

impl MemberRole {
    /// Stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Member => "member",
            MemberRole::Moderator => "moderator",
            MemberRole::Owner => "owner",
        }
    }

    /// Inverse of [`MemberRole::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(MemberRole::Member),
            "moderator" => Some(MemberRole::Moderator),
            "owner" => Some(MemberRole::Owner),
            _ => None,
        }
    }

    /// Owners and moderators.
    pub fn is_moderator(self) -> bool {
        self >= MemberRole::Moderator
    }
}

/// A user's standing in the organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrgRole {
    /// Everyone.
    Member,
    /// May administer users. Deliberately grants no access to conversation
    /// content: administration is not surveillance.
    Admin,
}

impl OrgRole {
    /// Stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Member => "member",
            OrgRole::Admin => "admin",
        }
    }

    /// Inverse of [`OrgRole::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(OrgRole::Member),
            "admin" => Some(OrgRole::Admin),
            _ => None,
        }
    }
}

/// Who is acting: the authenticated user behind a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The user.
    pub user_id: UserId,
    /// Their organisation; nothing crosses organisation borders.
    pub org_id: OrgId,
    /// Their organisation role.
    pub org_role: OrgRole,
}

/// The facts about a conversation the rules need, and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConversationFacts {
    /// Owning organisation.
    pub org_id: OrgId,
    /// Direct, group or channel.
    pub kind: ConversationKind,
    /// Channels only: readable and joinable by the whole organisation.
    pub is_public: bool,
    /// Channels only: only owners and moderators post.
    pub announcement: bool,
}

/// Milliseconds since the Unix epoch, UTC. Storage and the rules work in
/// this one unit; formatting for people happens at the edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// An organisation (the company).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    /// Its id.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
}

/// A user as others may see them. Contains no phone number by design:
/// colleagues are found through the directory, never an address book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Their id.
    pub id: UserId,
    /// Their organisation.
    pub org_id: OrgId,
    /// Login and mention handle, lower-case.
    pub username: String,
    /// Optional company email, lower-case.
    pub email: Option<String>,
    /// What people see.
    pub display_name: String,
    /// Organisation role.
    pub org_role: OrgRole,
    /// Whether colleagues may see when this user is online. Off until the
    /// user turns it on (GDPR Art. 25(2): not visible to others by default).
    pub share_presence: bool,
    /// When the account was created.
    pub created_at: Timestamp,
}

impl User {
    /// The actor this user acts as.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            org_id: self.org_id,
            org_role: self.org_role,
        }
    }
}

/// A login session on one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Its id (not the token; the token is never stored).
    pub id: crate::ids::SessionId,
    /// Whose session.
    pub user_id: UserId,
    /// What the client called itself.
    pub device_name: String,
    /// When the user logged in.
    pub created_at: Timestamp,
    /// Last authenticated request (updated at most once a minute).
    pub last_seen_at: Timestamp,
}

/// A conversation's settings and counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    /// Its id.
    pub id: crate::ids::ConversationId,
    /// Owning organisation.
    pub org_id: OrgId,
    /// Direct, group or channel.
    pub kind: ConversationKind,
    /// Name; direct conversations have none (clients show the other person).
    pub name: Option<String>,
    /// Topic line, may be empty.
    pub topic: String,
    /// Channel open to the whole organisation.
    pub is_public: bool,
    /// Channel where only owners and moderators post.
    pub announcement: bool,
    /// Who created it.
    pub created_by: UserId,
    /// When.
    pub created_at: Timestamp,
    /// Last message posted (thread replies included).
    pub last_message_id: Option<crate::ids::MessageId>,
    /// Last message time, or creation time; the list sorts by this.
    pub last_activity_at: Timestamp,
    /// Current number of members.
    pub member_count: u32,
}

impl Conversation {
    /// The facts the policy needs.
    pub fn facts(&self) -> ConversationFacts {
        ConversationFacts {
            org_id: self.org_id,
            kind: self.kind,
            is_public: self.is_public,
            announcement: self.announcement,
        }
    }
}

/// A reaction emoji and who used it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reaction {
    /// The emoji or `:shortcode:`.
    pub emoji: String,
    /// Who reacted, in order of reacting.
    pub user_ids: Vec<UserId>,
}

/// A message as stored. After deletion `text` is `None` and the mentions
/// and reactions are gone: a tombstone keeps only the thread structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Its id.
    pub id: crate::ids::MessageId,
    /// Where it was posted.
    pub conversation_id: crate::ids::ConversationId,
    /// Who wrote it.
    pub sender_id: UserId,
    /// The sender's transaction id, so their clients can match the echo.
    pub txn_id: String,
    /// Thread root if this is a reply.
    pub thread_root_id: Option<crate::ids::MessageId>,
    /// Markdown-subset source; `None` once deleted.
    pub text: Option<String>,
    /// Users mentioned explicitly.
    pub mentions: Vec<UserId>,
    /// `@channel` was used.
    pub mentions_channel: bool,
    /// Reactions, by emoji.
    pub reactions: Vec<Reaction>,
    /// Number of live replies (roots only).
    pub reply_count: u32,
    /// Time of the latest reply (roots only).
    pub last_reply_at: Option<Timestamp>,
    /// When posted.
    pub created_at: Timestamp,
    /// When last edited.
    pub edited_at: Option<Timestamp>,
    /// When deleted.
    pub deleted_at: Option<Timestamp>,
    /// Files attached to it (none once deleted).
    pub attachments: Vec<Attachment>,
}

/// An uploaded file. Its content lives in the blob store under
/// `object_key`, a name the server chose: nothing a client sends ever
/// becomes a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// Its id.
    pub id: crate::ids::AttachmentId,
    /// The conversation it was uploaded into; only its members may read it.
    pub conversation_id: crate::ids::ConversationId,
    /// The message it belongs to; `None` until a send attaches it (until
    /// then only the uploader may read it).
    pub message_id: Option<crate::ids::MessageId>,
    /// Who uploaded it.
    pub uploader_id: UserId,
    /// Sanitised display name.
    pub name: String,
    /// The type decided by sniffing the content, never the client's claim.
    pub content_type: String,
    /// Size of the stored content in bytes (after metadata was stripped).
    pub size: u64,
    /// Image dimensions, for images.
    pub width: Option<u32>,
    /// Image dimensions, for images.
    pub height: Option<u32>,
    /// Blob store key of the content.
    pub object_key: String,
    /// Blob store key of the thumbnail, for images.
    pub thumbnail_key: Option<String>,
    /// When uploaded.
    pub created_at: Timestamp,
}

/// A conversation member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Who.
    pub user_id: UserId,
    /// Their role here.
    pub role: MemberRole,
    /// Since when.
    pub joined_at: Timestamp,
}

/// One row of a user's conversation list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationSummary {
    /// The conversation.
    pub conversation: Conversation,
    /// The user's role in it.
    pub role: MemberRole,
    /// For direct conversations: the other person.
    pub peer_id: Option<UserId>,
    /// Last message read by the user.
    pub last_read_message_id: Option<crate::ids::MessageId>,
    /// Messages from others after the read position.
    pub unread_count: u32,
    /// Of those, how many mention the user or the channel.
    pub unread_mentions: u32,
    /// The latest message, for the preview.
    pub last_message: Option<Message>,
}
