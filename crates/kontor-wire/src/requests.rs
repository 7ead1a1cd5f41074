//! Request bodies and query parameters.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Login request.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    pub login: String,
    /// Password.
    pub password: String,
    /// A name for this device, shown in the session list: at most 100
    /// characters, none of them control or invisible characters.
    #[schema(max_length = 100)]
    pub device_name: Option<String>,
}

/// Login response.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct LoginResponse {
    /// Session token: send as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    /// The new session.
    pub session: crate::Session,
    /// Who logged in, with their own settings (as `GET /me`).
    pub user: crate::Me,
}

/// Directory query.
#[derive(Serialize, Deserialize, IntoParams, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// Part of a name, username or email.
    pub search: Option<String>,
    /// Rows to skip (at most 1,000,000).
    #[serde(default, deserialize_with = "crate::number::optional")]
    #[param(minimum = 0, maximum = 1_000_000)]
    pub offset: Option<u32>,
    /// Page size (1–200, default 50).
    #[serde(default, deserialize_with = "crate::number::optional")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// The kinds of conversation, as the API spells them (the document's
/// `enum` for `kind`; the field stays a string so an unknown kind is a
/// `422 invalid_input` naming the field, like every other bad value).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum KindName {
    /// Two people.
    Direct,
    /// A closed group.
    Group,
    /// A named channel, public or private.
    Channel,
}

/// The member roles, as the API spells them (the document's `enum` for
/// `role`).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum RoleName {
    /// Manages the conversation and its members.
    Owner,
    /// May moderate (delete others' messages, post in announcement mode).
    Moderator,
    /// An ordinary member.
    Member,
}

/// Create-conversation request.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateConversation {
    /// `direct`, `group` or `channel`.
    #[schema(value_type = KindName)]
    pub kind: String,
    /// Name (channels: required; groups: optional; direct: none).
    pub name: Option<String>,
    /// Topic line.
    pub topic: Option<String>,
    /// Channel open to the whole organisation.
    #[serde(default)]
    pub is_public: bool,
    /// Only owners and moderators may post.
    #[serde(default)]
    pub announcement: bool,
    /// The other members (direct: exactly one).
    #[serde(default)]
    pub user_ids: Vec<i64>,
}

/// Settings change; absent fields stay as they are.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateConversation {
    /// New name.
    pub name: Option<String>,
    /// New topic.
    pub topic: Option<String>,
    /// New announcement mode (channels, owners only).
    pub announcement: Option<bool>,
}

/// Users to add.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct AddMembers {
    /// User ids (1 to 1,000 per request).
    #[schema(min_items = 1, max_items = 1000)]
    pub user_ids: Vec<i64>,
}

/// Whose groups and channels to leave.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct LeaveConversations {
    /// Leave every group and channel this person created.
    pub created_by: i64,
}

/// A role.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// `owner`, `moderator` or `member`.
    #[schema(value_type = RoleName)]
    pub role: String,
}

/// History query. Give `before` or `after` (message ids) to page; neither
/// returns the newest page.
#[derive(Serialize, Deserialize, IntoParams, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Messages older than this id.
    #[serde(default, deserialize_with = "crate::number::optional")]
    pub before: Option<i64>,
    /// Messages newer than this id.
    #[serde(default, deserialize_with = "crate::number::optional")]
    pub after: Option<i64>,
    /// Page size (1–200, default 50).
    #[serde(default, deserialize_with = "crate::number::optional")]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// A thread's replies instead of the main timeline.
    #[serde(default, deserialize_with = "crate::number::optional")]
    pub thread: Option<i64>,
}

/// A page of messages, oldest first.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct HistoryResponse {
    /// Messages in ascending id order.
    pub messages: Vec<crate::Message>,
    /// More messages exist beyond this page in the direction asked.
    pub has_more: bool,
}

/// A message to post.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Client-chosen id (1–64 printable ASCII, e.g. a UUID). Retrying with
    /// the same id never posts twice.
    #[schema(min_length = 1, max_length = 64, pattern = "^[!-~]+$")]
    pub txn_id: String,
    /// Markdown-subset source, at most 16 KiB.
    pub text: String,
    /// Reply in this message's thread.
    pub thread_root_id: Option<i64>,
    /// Mentioned user ids (non-members are dropped).
    #[serde(default)]
    pub mentions: Vec<i64>,
    /// `@channel`: notify everyone.
    #[serde(default)]
    pub mentions_channel: bool,
    /// Your uploads to attach (at most 10; see `POST
    /// /conversations/{id}/attachments`). With attachments the text may
    /// be empty.
    #[serde(default)]
    pub attachment_ids: Vec<i64>,
}

/// A frame a client sends on the event socket (`/api/v1/events`).
///
/// `send` posts a message without an HTTP request per message: the socket
/// is already authenticated, so it skips request parsing and the session
/// lookup. The answer is a `sent` or `send_failed` frame naming the same
/// `txn_id`; the message itself arrives as `message_created` like any other
/// (possibly before `sent`). Retrying with the same `txn_id`, over either
/// transport, never posts twice.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// First-frame authentication, for browsers (they cannot set headers).
    Auth {
        /// A `kt_` session token.
        token: String,
    },
    /// I am typing in this conversation.
    Typing {
        /// Conversation.
        conversation_id: i64,
    },
    /// Tell me who of these people is online, now and as it changes, in
    /// `presence` frames; replaces what this socket watched before (an
    /// empty list stops watching). At most 500 ids.
    WatchPresence {
        /// The people to watch.
        user_ids: Vec<i64>,
    },
    /// Post a message or thread reply.
    Send {
        /// Conversation.
        conversation_id: i64,
        /// Client-chosen id (1–64 printable ASCII); also names the answer.
        txn_id: String,
        /// Markdown-subset source, at most 16 KiB.
        text: String,
        /// Reply in this message's thread.
        #[serde(default)]
        thread_root_id: Option<i64>,
        /// Mentioned user ids (non-members are dropped).
        #[serde(default)]
        mentions: Vec<i64>,
        /// `@channel`: notify everyone.
        #[serde(default)]
        mentions_channel: bool,
        /// Your uploads to attach.
        #[serde(default)]
        attachment_ids: Vec<i64>,
    },
}

/// Changes to my own settings; fields left out stay as they are.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    /// Show colleagues when I am online.
    #[serde(default)]
    pub share_presence: Option<bool>,
}

/// An edit.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    /// New source text.
    pub text: String,
    /// New mentions.
    #[serde(default)]
    pub mentions: Vec<i64>,
    /// New `@channel` flag.
    #[serde(default)]
    pub mentions_channel: bool,
}

/// A read position.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct ReadPosition {
    /// The last message read; positions only move forward.
    pub message_id: i64,
}

/// A full-text search. Every word must match, in any German or English
/// word form ("Häuser" finds "Haus", "running" finds "run") or as part of
/// a German compound ("Sitzung" finds "Betriebsratssitzung"). Only
/// messages in your conversations are searched.
#[derive(Serialize, Deserialize, IntoParams, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The words to find (1–200 characters, not blank).
    #[param(min_length = 1, max_length = 200, pattern = "\\S")]
    pub q: String,
    /// Only in this conversation.
    #[serde(default, deserialize_with = "crate::number::optional")]
    pub conversation_id: Option<i64>,
    /// Only messages from this user id.
    #[serde(default, deserialize_with = "crate::number::optional")]
    pub from: Option<i64>,
    /// Only messages posted at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Only messages posted before this time (RFC 3339).
    pub until: Option<String>,
    /// Only messages with an attached file.
    #[serde(default)]
    pub has_file: bool,
    /// `relevance` (default) or `date` (newest first).
    pub sort: Option<String>,
    /// Page size (1–50, default 20).
    #[serde(default, deserialize_with = "crate::number::optional")]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
    /// Hits to skip (at most 1,000).
    #[serde(default, deserialize_with = "crate::number::optional")]
    #[param(minimum = 0, maximum = 1000)]
    pub offset: Option<u32>,
}

/// A page of search hits.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct SearchResponse {
    /// Hits in the order asked for.
    pub hits: Vec<SearchHit>,
    /// More hits follow (ask again with `offset` + `limit`).
    pub has_more: bool,
}

/// One search hit.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct SearchHit {
    /// The message as it is now (open it in context with its
    /// `conversation_id`, `thread_root_id` and `id`).
    pub message: crate::Message,
    /// An excerpt around the first match, as parts to render as text; the
    /// parts with `hit` are the matching words.
    pub snippet: Vec<SnippetPart>,
}

/// A piece of a snippet.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq, Eq)]
pub struct SnippetPart {
    /// Text exactly as written in the message.
    pub text: String,
    /// Whether it matched.
    #[serde(default)]
    pub hit: bool,
}

/// Upload query: the file's name (the body is the file itself, any type;
/// the server decides the type from the content).
#[derive(Serialize, Deserialize, IntoParams, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// The file's name as the uploader's device knows it; it is
    /// sanitised, and never used as a path.
    pub name: Option<String>,
}

/// Download query.
#[derive(Serialize, Deserialize, IntoParams, Clone, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct DownloadParams {
    /// The preview instead of the file (images only).
    #[serde(default)]
    pub thumbnail: bool,
    /// Ask the browser to save the file instead of showing it.
    #[serde(default)]
    pub download: bool,
}
