//! The PostgreSQL implementation of [`Storage`], for installations that
//! outgrow one machine: several stateless `kontor` nodes share one
//! database.
//!
//! Layout: [`unit`] (a write's transaction, event positions, error
//! mapping), `schema` (migrations), [`tail`] (hands committed events, from
//! this node or any other, to the hub in stream order), then one module of
//! queries per area, mirroring `sqlite/`: `accounts`, `conversations`,
//! `messages`, `attachments`, `events`, `search`.
//!
//! Every write is one transaction on a pooled connection, committed with
//! `synchronous_commit = on` before the caller hears "done". Concurrent
//! writes (there is no single writer here) that collide, such as two sends
//! with one transaction id, are run again from the start, up to
//! [`unit::MAX_ATTEMPTS`] times.

mod accounts;
mod attachments;
mod conversations;
mod events;
mod history;
mod members;
mod messages;
mod rows;
mod schema;
mod search;
mod tail;
mod unit;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kontor_core::ids::*;
use kontor_core::model::*;
use kontor_core::policy::Action;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, pool::PoolConnection};

use self::tail::Tail;
use self::unit::{MAX_ATTEMPTS, Unit};
use crate::search::Analyzer;
use crate::*;

pub use self::schema::{MIGRATIONS, is_empty};

/// Connections per node. PostgreSQL's default limit is 100; ten nodes
/// of 16 stay under it.
pub const POOL_CONNECTIONS: u32 = 16;
/// How long a request waits for a free connection (or a new one to open)
/// before it is told the database is unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Messages indexed per transaction when rebuilding the search index.
pub const REINDEX_BATCH: usize = 1000;

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
    encoder: Arc<dyn EventEncoder>,
    analyzer: Arc<Analyzer>,
    tail: Arc<Tail>,
    sink: Arc<dyn EventSink>,
}

/// Run one write unit, retrying it when it collided with another
/// transaction. `$body` is an expression using `$u: &mut Unit` that
/// evaluates to a `StoreResult`.
macro_rules! write {
    ($store:expr, |$u:ident| $body:expr) => {{
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut unit = $store.begin().await?;
            let $u = &mut unit;
            let result = $body;
            let outcome = match result {
                Ok(value) => $store.commit(unit).await.map(|()| value),
                Err(e) => Err(e),
            };
            match outcome {
                Err(StoreError::Contended(m)) if attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, error = %m, "write collided; running it again");
                    continue;
                }
                Err(StoreError::Contended(m)) => break Err(StoreError::Unavailable(m)),
                other => break other,
            }
        }
    }};
}

/// Connect to `url` with Kontor's settings.
async fn connect(url: &str) -> StoreResult<PgPool> {
    let options: PgConnectOptions = url
        .parse()
        .map_err(|e| StoreError::Unavailable(format!("invalid database.url: {e}")))?;
    // Durability is not left to the server's configuration.
    let options = options
        .options([("synchronous_commit", "on")])
        .application_name("kontor");
    PgPoolOptions::new()
        .max_connections(POOL_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to PostgreSQL: {e}")))
}

/// A pool on `url` with the schema up to date: the migrate command's
/// target, before any server runs on it.
pub async fn connect_migrated(url: &str) -> StoreResult<PgPool> {
    let pool = connect(url).await?;
    schema::migrate(&pool).await?;
    Ok(pool)
}

impl PgStore {
    /// Connect to `url`, apply the migrations this database lacks (one
    /// node at a time, under an advisory lock), and start following the
    /// event stream for `sink`.
    pub async fn open(
        url: &str,
        encoder: Arc<dyn EventEncoder>,
        sink: Arc<dyn EventSink>,
    ) -> StoreResult<PgStore> {
        let pool = connect_migrated(url).await?;
        let head = events::head(&mut *pool.acquire().await?).await?;
        let tail = Tail::start(pool.clone(), Arc::clone(&sink), head);
        Ok(PgStore {
            pool,
            encoder,
            analyzer: Arc::new(Analyzer::default()),
            tail,
            sink,
        })
    }

    /// Stop following the event stream and close the connections.
    pub async fn close(&self) {
        self.tail.stop();
        self.pool.close().await;
    }

    async fn begin(&self) -> StoreResult<Unit<'_>> {
        Ok(Unit::new(self.pool.begin().await?, self.encoder.as_ref()))
    }

    async fn commit(&self, unit: Unit<'_>) -> StoreResult<()> {
        if unit.commit().await? {
            self.tail.wake();
            self.sink.local_commit();
        }
        Ok(())
    }

    /// The pool, for the migrate command's bulk copy.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn read(&self) -> StoreResult<PoolConnection<sqlx::Postgres>> {
        Ok(self.pool.acquire().await?)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.tail.stop();
    }
}

#[async_trait]
impl Storage for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        events::head(&mut *self.read().await?).await.map(|_| ())
    }

    fn stats(&self) -> StorageStats {
        let size = self.pool.size() as usize;
        StorageStats {
            write_queue: 0,
            write_queue_capacity: 0,
            reads_busy: size.saturating_sub(self.pool.num_idle()),
            read_connections: size,
        }
    }

    fn wake(&self) {
        self.tail.wake();
    }

    async fn create_org(&self, name: String, now: Timestamp) -> StoreResult<Org> {
        write!(self, |u| accounts::create_org(u, &name, now).await)
    }

    async fn org_by_name(&self, name: String) -> StoreResult<Option<Org>> {
        accounts::org_by_name(&mut *self.read().await?, &name).await
    }

    async fn list_orgs(&self) -> StoreResult<Vec<Org>> {
        accounts::list_orgs(&mut *self.read().await?).await
    }

    async fn create_user(&self, new: NewUser, now: Timestamp) -> StoreResult<User> {
        write!(self, |u| accounts::create_user(u, &new, now).await)
    }

    async fn user_by_login(&self, login: String) -> StoreResult<Option<(User, String)>> {
        accounts::user_by_login(&mut *self.read().await?, &login).await
    }

    async fn get_user(&self, org: OrgId, id: UserId) -> StoreResult<User> {
        accounts::get_user(&mut *self.read().await?, org, id).await
    }

    async fn list_users(&self, org: OrgId, query: UserQuery) -> StoreResult<Vec<User>> {
        accounts::list_users(&mut *self.read().await?, org, &query).await
    }

    async fn set_share_presence(
        &self,
        user: UserId,
        share: bool,
        now: Timestamp,
    ) -> StoreResult<User> {
        write!(self, |u| accounts::set_share_presence(u, user, share, now)
            .await)
    }

    async fn set_password(&self, user: UserId, hash: String, now: Timestamp) -> StoreResult<()> {
        write!(self, |u| accounts::set_password(u, user, &hash, now).await)
    }

    async fn create_session(&self, new: NewSession, now: Timestamp) -> StoreResult<Session> {
        write!(self, |u| accounts::create_session(u, &new, now).await)
    }

    async fn authenticate(&self, token_hash: [u8; 32]) -> StoreResult<Option<(Session, User)>> {
        accounts::authenticate(&mut *self.read().await?, &token_hash).await
    }

    async fn touch_session(&self, id: SessionId, now: Timestamp) -> StoreResult<()> {
        write!(self, |u| accounts::touch_session(u, id, now).await)
    }

    async fn list_sessions(&self, user: UserId) -> StoreResult<Vec<Session>> {
        accounts::list_sessions(&mut *self.read().await?, user).await
    }

    async fn revoke_session(&self, user: UserId, id: SessionId, now: Timestamp) -> StoreResult<()> {
        write!(self, |u| accounts::revoke_session(u, user, id, now).await)
    }

    async fn create_conversation(
        &self,
        actor: Actor,
        new: NewConversation,
        now: Timestamp,
    ) -> StoreResult<(Conversation, bool)> {
        write!(self, |u| conversations::create(u, &actor, &new, now).await)
    }

    async fn get_conversation(
        &self,
        actor: Actor,
        id: ConversationId,
    ) -> StoreResult<(Conversation, Option<MemberRole>)> {
        conversations::authorized(&mut *self.read().await?, &actor, id, Action::Read).await
    }

    async fn list_conversations(&self, actor: Actor) -> StoreResult<Vec<ConversationSummary>> {
        conversations::list_for_user(&mut *self.read().await?, &actor).await
    }

    async fn list_public_channels(&self, actor: Actor) -> StoreResult<Vec<Conversation>> {
        conversations::list_public_channels(&mut *self.read().await?, &actor).await
    }

    async fn list_members(&self, actor: Actor, id: ConversationId) -> StoreResult<Vec<Member>> {
        let mut conn = self.read().await?;
        conversations::authorized(&mut conn, &actor, id, Action::Read).await?;
        members::list_members(&mut conn, id).await
    }

    async fn add_members(
        &self,
        actor: Actor,
        id: ConversationId,
        users: Vec<UserId>,
        now: Timestamp,
    ) -> StoreResult<Vec<Member>> {
        write!(self, |u| members::add_members(u, &actor, id, &users, now)
            .await)
    }

    async fn remove_member(
        &self,
        actor: Actor,
        id: ConversationId,
        user: UserId,
        now: Timestamp,
    ) -> StoreResult<()> {
        write!(self, |u| members::remove_member(u, &actor, id, user, now)
            .await)
    }

    async fn join(&self, actor: Actor, id: ConversationId, now: Timestamp) -> StoreResult<Member> {
        write!(self, |u| members::join(u, &actor, id, now).await)
    }

    async fn set_role(
        &self,
        actor: Actor,
        id: ConversationId,
        user: UserId,
        role: MemberRole,
        now: Timestamp,
    ) -> StoreResult<()> {
        write!(self, |u| members::set_role(u, &actor, id, user, role, now)
            .await)
    }

    async fn update_conversation(
        &self,
        actor: Actor,
        id: ConversationId,
        change: SettingsChange,
        now: Timestamp,
    ) -> StoreResult<Conversation> {
        write!(self, |u| conversations::update(u, &actor, id, &change, now)
            .await)
    }

    async fn send_message(
        &self,
        actor: Actor,
        new: NewMessage,
        now: Timestamp,
    ) -> StoreResult<SendOutcome> {
        let terms = self.analyzer.terms(&new.text);
        write!(self, |u| messages::send(u, &actor, &new, &terms, now).await)
    }

    async fn edit_message(
        &self,
        actor: Actor,
        id: MessageId,
        edit: MessageEdit,
        now: Timestamp,
    ) -> StoreResult<Message> {
        let terms = self.analyzer.terms(&edit.text);
        write!(self, |u| messages::edit(u, &actor, id, &edit, &terms, now)
            .await)
    }

    async fn delete_message(
        &self,
        actor: Actor,
        id: MessageId,
        now: Timestamp,
    ) -> StoreResult<Vec<String>> {
        write!(self, |u| messages::delete(u, &actor, id, now).await)
    }

    async fn check_upload(&self, actor: Actor, conv: ConversationId) -> StoreResult<()> {
        attachments::check_upload(&mut *self.read().await?, &actor, conv).await
    }

    async fn create_attachment(
        &self,
        actor: Actor,
        new: NewAttachment,
        now: Timestamp,
    ) -> StoreResult<Attachment> {
        write!(self, |u| attachments::insert(u, &actor, &new, now).await)
    }

    async fn delete_pending_attachment(
        &self,
        actor: Actor,
        id: AttachmentId,
    ) -> StoreResult<Vec<String>> {
        write!(self, |u| attachments::remove_pending(u, &actor, id).await)
    }

    async fn sweep_pending_attachments(
        &self,
        before: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        write!(self, |u| attachments::sweep_pending(u, before, limit).await)
    }

    async fn unreferenced_blobs(&self, keys: Vec<String>) -> StoreResult<Vec<String>> {
        attachments::unreferenced(&mut *self.read().await?, &keys).await
    }

    async fn get_attachment(&self, actor: Actor, id: AttachmentId) -> StoreResult<Attachment> {
        attachments::readable(&mut *self.read().await?, &actor, id).await
    }

    async fn set_reaction(
        &self,
        actor: Actor,
        id: MessageId,
        emoji: String,
        add: bool,
        now: Timestamp,
    ) -> StoreResult<()> {
        write!(self, |u| messages::set_reaction(
            u, &actor, id, &emoji, add, now
        )
        .await)
    }

    async fn get_message(&self, actor: Actor, id: MessageId) -> StoreResult<Message> {
        messages::get(&mut *self.read().await?, &actor, id).await
    }

    async fn history(
        &self,
        actor: Actor,
        id: ConversationId,
        query: HistoryQuery,
    ) -> StoreResult<HistoryPage> {
        history::history(&mut *self.read().await?, &actor, id, &query).await
    }

    async fn search(&self, actor: Actor, query: SearchQuery) -> StoreResult<SearchPage> {
        search::search(&mut *self.read().await?, &self.analyzer, &actor, &query).await
    }

    async fn reindex_step(
        &self,
        after: Option<MessageId>,
        limit: usize,
    ) -> StoreResult<ReindexStep> {
        let analyzer = self.analyzer.clone();
        write!(self, |u| {
            search::reindex_step(u, &analyzer, after, limit).await
        })
    }

    async fn mark_read(
        &self,
        actor: Actor,
        id: ConversationId,
        message: MessageId,
        now: Timestamp,
    ) -> StoreResult<()> {
        write!(self, |u| history::mark_read(u, &actor, id, message, now)
            .await)
    }

    async fn head(&self) -> StoreResult<EventSeq> {
        events::head(&mut *self.read().await?).await
    }

    async fn events_after(&self, user: UserId, after: EventSeq) -> StoreResult<Resume> {
        events::after(&mut *self.read().await?, user, after).await
    }

    async fn prune_events(&self, before: Timestamp, limit: usize) -> StoreResult<usize> {
        write!(self, |u| events::prune(u, before, limit).await)
    }

    async fn hub_snapshot(&self) -> StoreResult<HubSnapshot> {
        events::hub_snapshot(&mut *self.read().await?).await
    }
}
