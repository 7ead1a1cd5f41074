//! The embedded SQLite implementation of [`Storage`].
//!
//! Layout: [`writer`] (group commit), [`readers`] (read pool), [`schema`]
//! (pragmas, the durability check and migrations), then one module of queries per area:
//! `accounts`, `conversations`, `messages`, `events`.
//!
//! SQLite specifics live in this folder only: pragmas, `INTEGER PRIMARY
//! KEY` row ids and `BEGIN IMMEDIATE`. The SQL itself stays close to what
//! PostgreSQL accepts.

mod accounts;
mod attachments;
mod checkpoint;
mod conversations;
mod events;
mod messages;
mod readers;
pub(crate) mod rows;
mod schema;
mod search;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use kontor_core::ids::*;
use kontor_core::model::*;
use rusqlite::{Connection, OpenFlags};

use self::readers::ReadPool;
use self::writer::Writer;
use crate::search::Analyzer;
use crate::*;

pub use self::schema::REINDEX_BATCH;
use self::schema::{SEARCH_INDEX_VERSION, build_search_index, configure, migrate, tune};
pub use self::writer::{MAX_BATCH_JOBS, MAX_QUEUED_JOBS};

/// Read connections in the pool; more than the cores we expect to have
/// buys nothing for an embedded database.
const READ_CONNECTIONS: usize = 4;

/// The SQLite store.
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<ReadPool>,
    /// Search text analysis; runs before a write is queued, so stemming
    /// never holds up the writer thread.
    analyzer: Arc<Analyzer>,
}

/// The writer thread; join it after dropping the store to be sure the last
/// batch finished.
pub type WriterThread = std::thread::JoinHandle<()>;

impl SqliteStore {
    /// Open (creating if needed) the database at `path`, migrate it, and
    /// start the writer thread.
    pub fn open(
        path: &Path,
        encoder: Arc<dyn EventEncoder>,
        sink: Arc<dyn EventSink>,
    ) -> StoreResult<(SqliteStore, WriterThread)> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        let had = migrate(&mut conn)?;
        let analyzer = Arc::new(Analyzer::default());
        if had > 0 && had < SEARCH_INDEX_VERSION {
            build_search_index(&mut conn, &analyzer)?;
        }
        let mut readers = Vec::with_capacity(READ_CONNECTIONS);
        for _ in 0..READ_CONNECTIONS {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            tune(&r)?;
            r.execute_batch("PRAGMA query_only = ON;")?;
            readers.push(r);
        }
        // The writer never checkpoints; a thread of its own does (see
        // `checkpoint`). A larger page cache keeps the hot index pages of
        // a busy writer in memory.
        conn.execute_batch("PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -32768;")?;
        let checkpoint_conn = Connection::open(path)?;
        tune(&checkpoint_conn)?;
        let (writer, thread) = Writer::start(conn, checkpoint_conn, encoder, sink)
            .map_err(|e| StoreError::Internal(format!("cannot start writer thread: {e}")))?;
        Ok((
            SqliteStore {
                writer,
                readers: ReadPool::new(readers),
                analyzer,
            },
            thread,
        ))
    }
}

#[async_trait]
impl Storage for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.readers.read(|c| events::head(c).map(|_| ())).await
    }

    fn stats(&self) -> StorageStats {
        let (reads_busy, read_connections) = self.readers.usage();
        StorageStats {
            write_queue: self.writer.queued(),
            write_queue_capacity: writer::MAX_QUEUED_JOBS,
            reads_busy,
            read_connections,
        }
    }

    async fn create_org(&self, name: String, now: Timestamp) -> StoreResult<Org> {
        self.writer
            .write(move |u| accounts::create_org(u, &name, now))
            .await
    }

    async fn org_by_name(&self, name: String) -> StoreResult<Option<Org>> {
        self.readers
            .read(move |c| accounts::org_by_name(c, &name))
            .await
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        self.readers.read(|c| accounts::list_orgs(c)).await
    }

    async fn create_user(&self, new: NewUser, now: Timestamp) -> StoreResult<User> {
        self.writer
            .write(move |u| accounts::create_user(u, &new, now))
            .await
    }

    async fn user_by_login(&self, login: String) -> StoreResult<Option<(User, String)>> {
        self.readers
            .read(move |c| accounts::user_by_login(c, &login))
            .await
    }

    async fn get_user(&self, org: OrgId, id: UserId) -> StoreResult<User> {
        self.readers
            .read(move |c| accounts::get_user(c, org, id))
            .await
    }

    async fn list_users(&self, org: OrgId, query: UserQuery) -> StoreResult<Vec<User>> {
        self.readers
            .read(move |c| accounts::list_users(c, org, &query))
            .await
    }

    async fn set_share_presence(
        &self,
        user: UserId,
        share: bool,
        now: Timestamp,
    ) -> StoreResult<User> {
        self.writer
            .write(move |u| accounts::set_share_presence(u, user, share, now))
            .await
    }

    async fn set_password(&self, user: UserId, hash: String, now: Timestamp) -> StoreResult<()> {
        self.writer
            .write(move |u| accounts::set_password(u, user, &hash, now))
            .await
    }

    async fn create_session(&self, new: NewSession, now: Timestamp) -> StoreResult<Session> {
        self.writer
            .write(move |u| accounts::create_session(u, &new, now))
            .await
    }

    async fn authenticate(&self, token_hash: [u8; 32]) -> StoreResult<Option<(Session, User)>> {
        self.readers
            .read(move |c| accounts::authenticate(c, &token_hash))
            .await
    }

    async fn touch_session(&self, id: SessionId, now: Timestamp) -> StoreResult<()> {
        self.writer
            .write(move |u| accounts::touch_session(u, id, now))
            .await
    }

    async fn list_sessions(&self, user: UserId) -> StoreResult<Vec<Session>> {
        self.readers
            .read(move |c| accounts::list_sessions(c, user))
            .await
    }

    async fn revoke_session(&self, user: UserId, id: SessionId, now: Timestamp) -> StoreResult<()> {
        self.writer
            .write(move |u| accounts::revoke_session(u, user, id, now))
            .await
    }

    async fn create_conversation(
        &self,
        actor: Actor,
        new: NewConversation,
        now: Timestamp,
    ) -> StoreResult<(Conversation, bool)> {
        self.writer
            .write(move |u| conversations::create(u, &actor, &new, now))
            .await
    }

    async fn get_conversation(
        &self,
        actor: Actor,
        id: ConversationId,
    ) -> StoreResult<(Conversation, Option<MemberRole>)> {
        self.readers
            .read(move |c| {
                conversations::authorized(c, &actor, id, kontor_core::policy::Action::Read)
            })
            .await
    }

    async fn list_conversations(&self, actor: Actor) -> StoreResult<Vec<ConversationSummary>> {
        self.readers
            .read(move |c| conversations::list_for_user(c, &actor))
            .await
    }

    async fn list_public_channels(&self, actor: Actor) -> StoreResult<Vec<Conversation>> {
        self.readers
            .read(move |c| conversations::list_public_channels(c, &actor))
            .await
    }

    async fn list_members(&self, actor: Actor, id: ConversationId) -> StoreResult<Vec<Member>> {
        self.readers
            .read(move |c| {
                conversations::authorized(c, &actor, id, kontor_core::policy::Action::Read)?;
                conversations::list_members(c, id)
            })
            .await
    }

    async fn add_members(
        &self,
        actor: Actor,
        id: ConversationId,
        users: Vec<UserId>,
        now: Timestamp,
    ) -> StoreResult<Vec<Member>> {
        self.writer
            .write(move |u| conversations::add_members(u, &actor, id, &users, now))
            .await
    }

    async fn remove_member(
        &self,
        actor: Actor,
        id: ConversationId,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.writer
            .write(move |u| conversations::remove_member(u, &actor, id, user, now))
            .await
    }

    async fn join(&self, actor: Actor, id: ConversationId, now: Timestamp) -> StoreResult<Member> {
        self.writer
            .write(move |u| conversations::join(u, &actor, id, now))
            .await
    }

    async fn set_role(
        &self,
        actor: Actor,
        id: ConversationId,
        user: UserId,
        role: MemberRole,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.writer
            .write(move |u| conversations::set_role(u, &actor, id, user, role, now))
            .await
    }

    async fn update_conversation(
        &self,
        actor: Actor,
        id: ConversationId,
        change: SettingsChange,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        self.writer
            .write(move |u| conversations::update(u, &actor, id, &change, now))
            .await
    }

    async fn send_message(
        &self,
        actor: Actor,
        new: NewMessage,
        now: Timestamp,
    ) -> StoreResult<SendOutcome> {
        let terms = self.analyzer.terms(&new.text);
        self.writer
            .write(move |u| messages::send(u, &actor, &new, &terms, now))
            .await
    }

    async fn edit_message(
        &self,
        actor: Actor,
        id: MessageId,
        edit: MessageEdit,
        now: Timestamp,
    ) -> StoreResult<Message> {
        let terms = self.analyzer.terms(&edit.text);
        self.writer
            .write(move |u| messages::edit(u, &actor, id, &edit, &terms, now))
            .await
    }

    async fn delete_message(
        &self,
        actor: Actor,
        id: MessageId,
        now: Timestamp,
    ) -> StoreResult<Vec<String>> {
        self.writer
            .write(move |u| messages::delete(u, &actor, id, now))
            .await
    }

    async fn set_reaction(
        &self,
        actor: Actor,
        id: MessageId,
        emoji: String,
        add: bool,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.writer
            .write(move |u| messages::set_reaction(u, &actor, id, &emoji, add, now))
            .await
    }

    async fn get_message(&self, actor: Actor, id: MessageId) -> StoreResult<Message> {
        self.readers
            .read(move |c| messages::get(c, &actor, id))
            .await
    }

    async fn history(
        &self,
        actor: Actor,
        id: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<HistoryPage> {
        self.readers
            .read(move |c| messages::history(c, &actor, id, &query))
            .await
    }

    async fn search(&self, actor: Actor, query: SearchQuery) -> StoreResult<SearchPage> {
        let analyzer = self.analyzer.clone();
        self.readers
            .read(move |c| search::search(c, &analyzer, &actor, &query))
            .await
    }

    async fn reindex_step(
        &self,
        after: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<ReindexStep> {
        let analyzer = self.analyzer.clone();
        self.writer
            .write(move |u| {
                if after.is_none() {
                    search::clear(u.conn)?;
                }
                let total = search::total_messages(u.conn)?;
                let step =
                    search::reindex_batch(u.conn, &analyzer, after.unwrap_or(MessageId(0)), limit)?;
                Ok(ReindexStep {
                    last: step.map(|s| s.0),
                    indexed: step.map_or(0, |s| s.1),
                    total,
                })
            })
            .await
    }

    async fn check_upload(&self, actor: Actor, conv: ConversationId) -> StoreResult<()> {
        self.readers
            .read(move |c| attachments::check_upload(c, &actor, conv))
            .await
    }

    async fn create_attachment(
        &self,
        actor: Actor,
        new: NewAttachment,
        now: Timestamp,
    ) -> StoreResult<Attachment> {
        self.writer
            .write(move |u| attachments::insert(u, &actor, &new, now))
            .await
    }

    async fn delete_pending_attachment(
        &self,
        actor: Actor,
        id: AttachmentId,
    ) -> StoreResult<Vec<String>> {
        self.writer
            .write(move |u| attachments::remove_pending(u, &actor, id))
            .await
    }

    async fn sweep_pending_attachments(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        self.writer
            .write(move |u| attachments::sweep_pending(u, before, limit))
            .await
    }

    async fn unreferenced_blobs(&self, keys: Vec<String>) -> StoreResult<Vec<String>> {
        self.readers
            .read(move |c| attachments::unreferenced(c, &keys))
            .await
    }

    async fn get_attachment(&self, actor: Actor, id: AttachmentId) -> StoreResult<Attachment> {
        self.readers
            .read(move |c| attachments::readable(c, &actor, id))
            .await
    }

    async fn mark_read(
        &self,
        actor: Actor,
        id: ConversationId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.writer
            .write(move |u| messages::mark_read(u, &actor, id, message, now))
            .await
    }

    async fn head(&self) -> StoreResult<EventSeq> {
        self.readers.read(|c| events::head(c)).await
    }

    async fn events_after(&self, user: UserId, after: EventSeq) -> StoreResult<Resume> {
        self.readers
            .read(move |c| events::after(c, user, after))
            .await
    }

    async fn prune_events(&self, before: Timestamp, limit: usize) -> StoreResult<usize> {
        self.writer
            .write(move |u| events::prune(u, before, limit))
            .await
    }

    async fn hub_snapshot(&self) -> StoreResult<HubSnapshot> {
        self.readers.read(events::hub_snapshot).await
    }
}
