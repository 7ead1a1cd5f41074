//! Inputs and outputs of storage operations. Inputs arrive validated: the
//! server checks shape and size with `kontor_core::validate` first.

use kontor_core::ids::*;
use kontor_core::model::*;

/// A user to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// Organisation.
    pub org_id: OrgId,
    /// Validated, lower-case username.
    pub username: String,
    /// Validated, lower-case email.
    pub email: Option<String>,
    /// Display name.
    pub display_name: String,
    /// Organisation role.
    pub org_role: OrgRole,
    /// argon2id PHC string.
    pub password_hash: String,
}

/// A directory query.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Substring of username, display name or email, case-insensitive.
    pub search: Option<String>,
    /// Rows to skip.
    pub offset: usize,
    /// Rows to return.
    pub limit: usize,
}

/// A session to create.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// Whose.
    pub user_id: UserId,
    /// SHA-256 of the token; the token itself is never stored.
    pub token_hash: [u8; 32],
    /// Client-supplied device name.
    pub device_name: String,
}

/// A conversation to create.
#[derive(Clone, Debug)]
pub struct NewConversation {
    /// Direct, group or channel.
    pub kind: ConversationKind,
    /// Name (groups and channels).
    pub name: Option<String>,
    /// Topic.
    pub topic: String,
    /// Public channel.
    pub is_public: bool,
    /// Announcement channel.
    pub announcement: bool,
    /// Other members besides the creator (who becomes owner).
    pub member_ids: Vec<UserId>,
}

/// Changes to a conversation's settings; `None` leaves a field alone.
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    /// New name.
    pub name: Option<String>,
    /// New topic.
    pub topic: Option<String>,
    /// New announcement mode.
    pub announcement: Option<bool>,
}

/// A message to post.
#[derive(Clone, Debug)]
pub struct NewMessage {
    /// Where.
    pub conversation_id: ConversationId,
    /// Client transaction id for idempotency.
    pub txn_id: String,
    /// Source text.
    pub text: String,
    /// Thread root, for replies.
    pub thread_root_id: Option<MessageId>,
    /// Mentioned users (must be members; others are dropped).
    pub mentions: Vec<UserId>,
    /// `@channel`.
    pub mentions_channel: bool,
    /// Uploads to attach: the sender's own, into this conversation, not
    /// attached to any message yet.
    pub attachment_ids: Vec<AttachmentId>,
}

/// A stored upload to record.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    /// Conversation it is uploaded into.
    pub conversation_id: ConversationId,
    /// Sanitised name.
    pub name: String,
    /// Sniffed type.
    pub content_type: String,
    /// Bytes stored.
    pub size: u64,
    /// Image size.
    pub width: Option<u32>,
    /// Image size.
    pub height: Option<u32>,
    /// Where the content is.
    pub object_key: String,
    /// Where the thumbnail is.
    pub thumbnail_key: Option<String>,
    /// Bytes the uploader may store in all (`None`: no limit).
    pub user_quota: Option<u64>,
    /// Bytes the organisation may store in all (`None`: no limit).
    pub org_quota: Option<u64>,
}

/// A message edit.
#[derive(Clone, Debug)]
pub struct MessageEdit {
    /// New source text.
    pub text: String,
    /// New mentions.
    pub mentions: Vec<UserId>,
    /// New `@channel` flag.
    pub mentions_channel: bool,
}

/// The result of a send.
#[derive(Clone, Debug)]
pub struct SendOutcome {
    /// The message.
    pub message: Message,
    /// False when the transaction id had been used before.
    pub created: bool,
}

/// Where a history page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryCursor {
    /// The newest messages.
    Latest,
    /// Messages older than this one.
    Before(MessageId),
    /// Messages newer than this one.
    After(MessageId),
}

/// A history request.
#[derive(Clone, Copy, Debug)]
pub struct HistoryQuery {
    /// Where to start.
    pub cursor: HistoryCursor,
    /// How many.
    pub limit: usize,
    /// A thread's replies instead of the main timeline.
    pub thread_root: Option<MessageId>,
}

/// A history page, oldest first.
#[derive(Clone, Debug)]
pub struct HistoryPage {
    /// Messages in ascending id order.
    pub messages: Vec<Message>,
    /// More exist beyond this page in the direction asked.
    pub has_more: bool,
}

/// How search hits are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchOrder {
    /// Best match first (BM25), newest first among equals.
    #[default]
    Relevance,
    /// Newest first.
    Newest,
}

/// A search request. Only messages in the caller's conversations are ever
/// considered.
#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    /// The words to find (all of them).
    pub text: String,
    /// Only in this conversation.
    pub conversation: Option<ConversationId>,
    /// Only from this sender.
    pub from: Option<UserId>,
    /// Only messages posted at or after this time.
    pub since: Option<Timestamp>,
    /// Only messages posted before this time.
    pub until: Option<Timestamp>,
    /// Only messages with at least one attached file.
    pub has_file: bool,
    /// Order.
    pub order: SearchOrder,
    /// Page size.
    pub limit: usize,
    /// Hits to skip.
    pub offset: usize,
}

/// One hit: the message as it is now, and an excerpt around the match.
#[derive(Clone, Debug)]
pub struct SearchHit {
    /// The message.
    pub message: Message,
    /// The excerpt, split into plain and matching parts.
    pub snippet: Vec<crate::search::SnippetPart>,
}

/// A page of hits.
#[derive(Clone, Debug)]
pub struct SearchPage {
    /// Hits in the order asked for.
    pub hits: Vec<SearchHit>,
    /// More hits exist after this page.
    pub has_more: bool,
}

/// Progress of a search index rebuild.
#[derive(Clone, Copy, Debug)]
pub struct ReindexStep {
    /// The last message indexed by this step; `None` when done.
    pub last: Option<MessageId>,
    /// Messages indexed by this step.
    pub indexed: u64,
    /// Live messages in total.
    pub total: u64,
}
