//! Kontor's storage: one narrow interface, [`Storage`], and its embedded
//! SQLite implementation.
//!
//! Layout:
//! - [`Storage`] (this file): every operation the server needs, as units of
//!   work. Each write loads the facts it needs, asks
//!   [`kontor_core::policy::authorize`], and changes data in one
//!   transaction, so no decision is made on stale state.
//! - [`commands`]: the inputs and outputs of those operations.
//! - [`sqlite`]: the embedded implementation: a group-commit writer thread,
//!   a pool of read connections, embedded migrations and the queries.
//! - [`postgres`]: the shared-database implementation for several nodes:
//!   one transaction per write, commit-ordered event positions, and a tail
//!   that hands every node's committed events to the sink.
//!
//! Events: every write that changes what a client sees appends an
//! [`kontor_core::event::Event`] to the event log in the same transaction.
//! The event is turned into its wire bytes once, by the [`EventEncoder`] the
//! server supplies, and after the commit is durable the batch is handed, in
//! stream order, to the server's [`EventSink`].
//!
//! Architecture invariant: this crate knows nothing about HTTP, WebSockets or
//! JSON; payloads are opaque bytes to it.

pub mod blobs;
pub mod commands;
pub mod migrate;
pub mod postgres;
pub mod registry;
pub mod rules;
pub mod search;
pub mod sqlite;

use async_trait::async_trait;
use bytes::Bytes;
use kontor_core::DomainError;
use kontor_core::event::{Audience, Event, MembershipEffect};
use kontor_core::ids::*;
use kontor_core::model::*;

pub use commands::*;

/// Storage failures, kept apart from rule violations so the server can tell
/// "your request was wrong" from "we failed".
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule was broken or something was not found; the caller's fault.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database cannot be reached or is shutting down; try again later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Two concurrent transactions collided (PostgreSQL: a serialization
    /// failure, a deadlock, or a check-then-insert race). The store runs
    /// the write again; this only escapes as "try again".
    #[error("write collided with another: {0}")]
    Contended(String),
    /// Anything else: a bug or a damaged database. Logged, never shown.
    #[error("storage failure: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

/// Result alias for storage operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Turns an event into the bytes clients receive. Supplied by the server so
/// the wire format lives at the edge; called once per event, inside the
/// writing transaction, and again when an edit or delete rewrites the log.
pub trait EventEncoder: Send + Sync + 'static {
    /// Encode `event` at stream position `seq`.
    fn encode(&self, seq: EventSeq, event: &Event) -> Bytes;
}

/// An event whose transaction is durable, ready for live delivery.
#[derive(Clone, Debug)]
pub struct CommittedEvent {
    /// Position in the stream.
    pub seq: EventSeq,
    /// Who may see it.
    pub audience: Audience,
    /// How it changes membership.
    pub membership: Option<MembershipEffect>,
    /// For session revocations: the session whose sockets must close.
    pub revoked_session: Option<SessionId>,
    /// For presence settings: the audience user now shows (true) or hides
    /// (false) their presence.
    pub presence_sharing: Option<bool>,
    /// The encoded frame, shared by every recipient.
    pub frame: Bytes,
}

/// Receives committed events in stream order, right after each commit.
/// Implementations must not block: the writer waits for this call.
pub trait EventSink: Send + Sync + 'static {
    /// Deliver one commit's events, in order.
    fn committed(&self, events: Vec<CommittedEvent>);
    /// A transaction of this node committed events (called by stores that
    /// several nodes share, before those events reach [`Self::committed`]):
    /// the place to tell the other nodes to look.
    fn local_commit(&self) {}
}

/// The state the real-time hub starts from; events after `at` keep it
/// current.
#[derive(Clone, Debug, Default)]
pub struct HubSnapshot {
    /// The event position the rest reflects.
    pub at: EventSeq,
    /// Every membership.
    pub memberships: Vec<(ConversationId, UserId)>,
    /// The users who show colleagues when they are online.
    pub sharing_presence: Vec<UserId>,
}

/// A stored event as replayed to a reconnecting client.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    /// Position in the stream.
    pub seq: EventSeq,
    /// The encoded frame.
    pub frame: Bytes,
}

/// The answer to "what did I miss since position N".
#[derive(Clone, Debug)]
pub enum Resume {
    /// Exactly the missed events the user may see, in order.
    Events(Vec<StoredEvent>),
    /// Too many, or the position is unknown: reload state instead.
    ResyncRequired,
}

/// A snapshot of the storage machinery's load, for metrics: cheap to take
/// (no database round trip), so a scrape never adds to the load it shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StorageStats {
    /// Write jobs waiting for the writer.
    pub write_queue: usize,
    /// How many write jobs may wait before senders are held back.
    pub write_queue_capacity: usize,
    /// Read connections in use.
    pub reads_busy: usize,
    /// Read connections in all.
    pub read_connections: usize,
}

/// Every operation the server performs on persistent state.
///
/// Writes return only after their transaction is committed and fsynced.
/// Operations taking an [`Actor`] enforce the policy themselves.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Queue and pool figures right now, without touching the database.
    fn stats(&self) -> StorageStats;
    /// Another node committed events: deliver them to the sink now rather
    /// than at the next poll. A single-node store has nothing to do.
    fn wake(&self) {}

    // --- organisations and accounts ---

    /// Create an organisation; names are unique.
    async fn create_org(&self, name: String, now: Timestamp) -> StoreResult<Org>;
    /// Find an organisation by exact name.
    async fn org_by_name(&self, name: String) -> StoreResult<Option<Org>>;
    /// All organisations.
    async fn list_orgs(&self) -> StoreResult<Vec<Org>>;
    /// Create a user; username and email are unique in the installation.
    async fn create_user(&self, new: NewUser, now: Timestamp) -> StoreResult<User>;
    /// A user and their password hash, by username or email.
    async fn user_by_login(&self, login: String) -> StoreResult<Option<(User, String)>>;
    /// A user of organisation `org`.
    async fn get_user(&self, org: OrgId, id: UserId) -> StoreResult<User>;
    /// Users of an organisation, sorted by display name, optionally filtered.
    async fn list_users(&self, org: OrgId, query: UserQuery) -> StoreResult<Vec<User>>;
    /// Show (or hide) the user's presence to colleagues, logging
    /// [`kontor_core::event::Event::PresenceSharingChanged`] if it changed.
    async fn set_share_presence(
        &self,
        user: UserId,
        share: bool,
        now: Timestamp,
    ) -> StoreResult<User>;
    /// Replace a password hash and end all of the user's sessions.
    async fn set_password(&self, user: UserId, hash: String, now: Timestamp) -> StoreResult<()>;

    // --- sessions ---

    /// Store a new session under the hash of its token.
    async fn create_session(&self, new: NewSession, now: Timestamp) -> StoreResult<Session>;
    /// The session and user behind a token hash.
    async fn authenticate(&self, token_hash: [u8; 32]) -> StoreResult<Option<(Session, User)>>;
    /// Record activity on a session.
    async fn touch_session(&self, id: SessionId, now: Timestamp) -> StoreResult<()>;
    /// The user's sessions, newest first.
    async fn list_sessions(&self, user: UserId) -> StoreResult<Vec<Session>>;
    /// End one of the user's sessions.
    async fn revoke_session(&self, user: UserId, id: SessionId, now: Timestamp) -> StoreResult<()>;

    // --- conversations ---

    /// Create a conversation (or return the existing direct one for a pair;
    /// the flag says whether it is new).
    async fn create_conversation(
        &self,
        actor: Actor,
        new: NewConversation,
        now: Timestamp,
    ) -> StoreResult<(Conversation, bool)>;
    /// A conversation the actor may see, and their role in it.
    async fn get_conversation(
        &self,
        actor: Actor,
        id: ConversationId,
    ) -> StoreResult<(Conversation, Option<MemberRole>)>;
    /// The actor's conversations, most recently active first.
    async fn list_conversations(&self, actor: Actor) -> StoreResult<Vec<ConversationSummary>>;
    /// Public channels of the actor's organisation, by name.
    async fn list_public_channels(&self, actor: Actor) -> StoreResult<Vec<Conversation>>;
    /// Members of a conversation the actor may see.
    async fn list_members(&self, actor: Actor, id: ConversationId) -> StoreResult<Vec<Member>>;
    /// Add members; returns those newly added.
    async fn add_members(
        &self,
        actor: Actor,
        id: ConversationId,
        users: Vec<UserId>,
        now: Timestamp,
    ) -> StoreResult<Vec<Member>>;
    /// Remove a member (or leave, when `user` is the actor).
    async fn remove_member(
        &self,
        actor: Actor,
        id: ConversationId,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Join a public channel.
    async fn join(&self, actor: Actor, id: ConversationId, now: Timestamp) -> StoreResult<Member>;
    /// Change a member's role.
    async fn set_role(
        &self,
        actor: Actor,
        id: ConversationId,
        user: UserId,
        role: MemberRole,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Change name, topic or announcement mode.
    async fn update_conversation(
        &self,
        actor: Actor,
        id: ConversationId,
        change: SettingsChange,
        now: Timestamp,
    ) -> StoreResult<Conversation>;

    // --- messages ---

    /// Post a message; a repeated transaction id returns the first message.
    async fn send_message(
        &self,
        actor: Actor,
        new: NewMessage,
        now: Timestamp,
    ) -> StoreResult<SendOutcome>;
    /// Replace a message's text and mentions.
    async fn edit_message(
        &self,
        actor: Actor,
        id: MessageId,
        edit: MessageEdit,
        now: Timestamp,
    ) -> StoreResult<Message>;
    /// Delete a message: content, mentions and reactions are erased.
    /// Delete a message (its text, mentions, reactions and attachment
    /// records); returns the blob keys of its files, for the caller to
    /// delete from the blob store now that the records are gone.
    async fn delete_message(
        &self,
        actor: Actor,
        id: MessageId,
        now: Timestamp,
    ) -> StoreResult<Vec<String>>;
    /// Whether the actor may upload into the conversation: asked before an
    /// upload is streamed, so a refused one costs nothing.
    async fn check_upload(&self, actor: Actor, conv: ConversationId) -> StoreResult<()>;
    /// Record an upload whose content is already in the blob store.
    async fn create_attachment(
        &self,
        actor: Actor,
        new: NewAttachment,
        now: Timestamp,
    ) -> StoreResult<Attachment>;
    /// Delete the actor's own upload that no message carries yet; returns
    /// its blob keys.
    async fn delete_pending_attachment(
        &self,
        actor: Actor,
        id: AttachmentId,
    ) -> StoreResult<Vec<String>>;
    /// Remove up to `limit` uploads that no message took and that are older
    /// than `before`; returns their blob keys, for the caller to delete.
    async fn sweep_pending_attachments(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<String>>;
    /// Those of `keys` that no attachment record names (content a crash
    /// left behind between storing and recording it).
    async fn unreferenced_blobs(&self, keys: Vec<String>) -> StoreResult<Vec<String>>;
    /// An attachment the actor may read.
    async fn get_attachment(&self, actor: Actor, id: AttachmentId) -> StoreResult<Attachment>;
    /// Add or remove the actor's reaction.
    async fn set_reaction(
        &self,
        actor: Actor,
        id: MessageId,
        emoji: String,
        add: bool,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// One message the actor may read.
    async fn get_message(&self, actor: Actor, id: MessageId) -> StoreResult<Message>;
    /// A page of a conversation's timeline or of one thread.
    async fn history(
        &self,
        actor: Actor,
        id: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<HistoryPage>;
    /// Messages the actor may read that match a full-text query.
    async fn search(&self, actor: Actor, query: SearchQuery) -> StoreResult<SearchPage>;
    /// One step of rebuilding the search index: `after = None` empties the
    /// index and starts from the first message; pass the returned `last`
    /// until it is `None`. Steps are separate transactions, so a running
    /// server keeps writing in between and indexes its own new messages.
    async fn reindex_step(
        &self,
        after: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<ReindexStep>;
    /// Move the actor's read position forward to `message`.
    async fn mark_read(
        &self,
        actor: Actor,
        id: ConversationId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<()>;

    // --- event stream ---

    /// The newest event position.
    async fn head(&self) -> StoreResult<EventSeq>;
    /// Events after `after` that `user` may see, or a resync order.
    async fn events_after(&self, user: UserId, after: EventSeq) -> StoreResult<Resume>;
    /// Delete up to `limit` of the oldest events created before `before`
    /// (never the newest); returns how many. A client resuming from before
    /// the oldest kept event is told to resync.
    async fn prune_events(&self, before: Timestamp, limit: usize) -> StoreResult<usize>;
    /// What the hub keeps in memory, as of one event position.
    async fn hub_snapshot(&self) -> StoreResult<HubSnapshot>;
}
