//! The real-time hub: who is connected, which conversations they are in,
//! and fan-out of committed events to their sockets.
//!
//! Recipients are computed, never stored: the hub keeps every
//! conversation's member set in memory (loaded once at start, then kept
//! current by the membership effects of the events it processes, in stream
//! order) and sends each event's pre-encoded bytes to the connections of
//! the members. A 10,000-member channel costs one stored row and 10,000
//! cheap reference-counted clones.
//!
//! It also keeps presence, in memory only ([`presence`]).
//!
//! Every connection has a bounded queue. A client that cannot keep up is
//! disconnected with the reason `slow_consumer` instead of slowing down
//! delivery to anyone else; it resumes from its last position.

pub mod presence;
pub mod typing;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Utf8Bytes;
use kontor_core::event::MembershipEffect;
use kontor_core::ids::{ConversationId, EventSeq, OrgId, SessionId, UserId};
use kontor_storage::{CommittedEvent, EventSink, HubSnapshot};
use tokio::sync::{Notify, mpsc};

use kontor_wire::{EventFrame, WireEvent, encode_frame};

/// Frames a connection may have queued before it counts as too slow.
pub const CONNECTION_QUEUE_FRAMES: usize = 1024;
/// Free room a connection's queue must have for an ephemeral frame
/// (typing): such frames are dropped rather than queued beyond a quarter
/// of the queue, so they never push a socket into the slow-consumer close.
const EPHEMERAL_ROOM: usize = CONNECTION_QUEUE_FRAMES * 3 / 4;

/// What became of a typing notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typing {
    /// Passed on to the other members (and, by the caller, to other nodes).
    Sent,
    /// Dropped: the same person's notice in the same conversation was
    /// passed on less than [`typing::TYPING_INTERVAL`] ago.
    Coalesced,
    /// The person is not a member (the caller answers not-found).
    NotMember,
}

/// Why the server closes a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CloseReason {
    /// Still open.
    Open = 0,
    /// The client did not read fast enough.
    SlowConsumer = 1,
    /// The session was logged out or revoked.
    SessionRevoked = 2,
    /// The server is shutting down; reconnect (to another node).
    Shutdown = 3,
}

impl CloseReason {
    fn from_u8(v: u8) -> CloseReason {
        match v {
            1 => CloseReason::SlowConsumer,
            2 => CloseReason::SessionRevoked,
            3 => CloseReason::Shutdown,
            _ => CloseReason::Open,
        }
    }

    /// WebSocket close code and reason text.
    pub fn close_frame(self) -> (u16, &'static str) {
        match self {
            CloseReason::Open => (1000, "normal"),
            CloseReason::SlowConsumer => (4008, "slow_consumer"),
            CloseReason::SessionRevoked => (4003, "session_revoked"),
            CloseReason::Shutdown => (1012, "server_restart"),
        }
    }
}

/// Shared between the hub and one socket task: the order to close.
pub struct Closer {
    reason: AtomicU8,
    notify: Notify,
}

impl Closer {
    fn close(&self, reason: CloseReason) {
        if self
            .reason
            .compare_exchange(0, reason as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            self.notify.notify_one();
        }
    }

    /// Resolves when the hub wants the socket closed, with the reason.
    pub async fn closed(&self) -> CloseReason {
        loop {
            let r = CloseReason::from_u8(self.reason.load(Ordering::Acquire));
            if r != CloseReason::Open {
                return r;
            }
            self.notify.notified().await;
        }
    }
}

struct Conn {
    id: u64,
    session: SessionId,
    org: OrgId,
    /// Whose presence this socket watches, sorted.
    watching: Vec<UserId>,
    tx: mpsc::Sender<Utf8Bytes>,
    closer: Arc<Closer>,
}

impl Conn {
    /// Queue `frame`, or order the socket closed if its queue is full.
    fn send(&self, frame: &Utf8Bytes) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.tx.try_send(frame.clone()) {
            self.closer.close(CloseReason::SlowConsumer);
        }
    }

    /// Queue an ephemeral `frame` if the queue has room to spare; drop it
    /// otherwise. Never closes the socket.
    fn send_ephemeral(&self, frame: &Utf8Bytes) {
        if self.tx.capacity() > EPHEMERAL_ROOM {
            let _ = self.tx.try_send(frame.clone());
        }
    }
}

#[derive(Default)]
struct HubState {
    processed: EventSeq,
    members: HashMap<ConversationId, HashSet<UserId>>,
    conns: HashMap<UserId, Vec<Conn>>,
    next_conn: u64,
    connections: usize,
    shutting_down: bool,
    presence: presence::Presence,
    typing: typing::TypingThrottle,
}

impl HubState {
    fn send_to_user(&self, user: UserId, frame: &Utf8Bytes) {
        if let Some(conns) = self.conns.get(&user) {
            for c in conns {
                c.send(frame);
            }
        }
    }

    fn apply(&mut self, ev: CommittedEvent) {
        if ev.seq <= self.processed {
            return;
        }
        self.processed = ev.seq;
        if let Some(MembershipEffect::Added(conv, users)) = &ev.membership {
            self.members
                .entry(*conv)
                .or_default()
                .extend(users.iter().copied());
        }
        let frame = match Utf8Bytes::try_from(ev.frame) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, seq = ev.seq.0, "event frame is not UTF-8");
                return;
            }
        };
        let mut user_covered = false;
        if let Some(conv) = ev.audience.conversation
            && let Some(members) = self.members.get(&conv)
        {
            for user in members {
                user_covered |= Some(*user) == ev.audience.user;
                self.send_to_user(*user, &frame);
            }
        }
        if let Some(user) = ev.audience.user
            && !user_covered
        {
            self.send_to_user(user, &frame);
        }
        if let Some(MembershipEffect::Removed(conv, user)) = &ev.membership
            && let Some(members) = self.members.get_mut(conv)
        {
            members.remove(user);
        }
        if let (Some(session), Some(user)) = (ev.revoked_session, ev.audience.user)
            && let Some(conns) = self.conns.get(&user)
        {
            for c in conns.iter().filter(|c| c.session == session) {
                c.closer.close(CloseReason::SessionRevoked);
            }
        }
        if let (Some(share), Some(user)) = (ev.presence_sharing, ev.audience.user) {
            self.set_sharing(user, share);
        }
    }
}

/// Handle to the hub; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    state: Arc<Mutex<HubState>>,
    /// The last position processed, for those waiting for the hub to
    /// catch up with the shared log (a client resuming on this node from a
    /// position another node delivered).
    position: Arc<tokio::sync::watch::Sender<EventSeq>>,
    /// `presence.enabled`, fixed at start: read without the lock.
    presence_enabled: bool,
    /// `server.max_sockets_per_user`.
    max_sockets_per_user: usize,
}

/// Why a socket was not registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The server is shutting down.
    ShuttingDown,
    /// The person has `server.max_sockets_per_user` sockets open already.
    TooManySockets,
}

/// A registered connection. Dropping it unregisters.
pub struct Subscription {
    hub: Hub,
    user: UserId,
    id: u64,
    /// Frames to send, in stream order.
    pub frames: mpsc::Receiver<Utf8Bytes>,
    /// Close orders from the hub.
    pub closer: Arc<Closer>,
    /// Live delivery covers events after this position.
    pub position: EventSeq,
}

impl Subscription {
    /// Watch these people's presence from now on, instead of whoever this
    /// connection watched before; the answer arrives as a `presence` frame.
    pub fn watch_presence(&self, user_ids: &[i64]) -> Result<(), presence::TooManyWatched> {
        self.hub.watch(self.user, self.id, user_ids)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut st = self.hub.lock();
        let (user, id) = (self.user, self.id);
        st.presence_changing(&[user], |st| {
            let mut watched = Vec::new();
            if let Some(conns) = st.conns.get_mut(&user) {
                if let Some(i) = conns.iter().position(|c| c.id == id) {
                    watched = conns.swap_remove(i).watching;
                }
                if conns.is_empty() {
                    st.conns.remove(&user);
                }
            }
            st.unwatch(user, id, &watched);
        });
        st.connections = st.connections.saturating_sub(1);
    }
}

/// Forwards committed batches from the writer thread to the hub task,
/// counting them for the metrics.
pub struct HubSink {
    /// To the hub task.
    pub tx: mpsc::UnboundedSender<Vec<CommittedEvent>>,
    /// `kontor_events_total`.
    pub events: prometheus_client::metrics::counter::Counter,
    /// The other nodes, once the link to them is up (several nodes only).
    pub peers: Arc<std::sync::OnceLock<Arc<crate::cluster::Cluster>>>,
}

impl EventSink for HubSink {
    fn committed(&self, events: Vec<CommittedEvent>) {
        self.events.inc_by(events.len() as u64);
        // The hub task only stops at shutdown, when nobody listens anymore.
        let _ = self.tx.send(events);
    }

    fn local_commit(&self) {
        if let Some(peers) = self.peers.get() {
            peers.committed();
        }
    }
}

impl Hub {
    /// A hub that starts from `snapshot`, showing presence if
    /// `presence_enabled`, with at most `max_sockets_per_user` sockets per
    /// person.
    pub fn new(snapshot: HubSnapshot, presence_enabled: bool, max_sockets_per_user: usize) -> Hub {
        let mut members: HashMap<ConversationId, HashSet<UserId>> = HashMap::new();
        for (c, u) in snapshot.memberships {
            members.entry(c).or_default().insert(u);
        }
        Hub {
            state: Arc::new(Mutex::new(HubState {
                processed: snapshot.at,
                members,
                presence: presence::Presence::new(presence_enabled, snapshot.sharing_presence),
                ..HubState::default()
            })),
            position: Arc::new(tokio::sync::watch::Sender::new(snapshot.at)),
            presence_enabled,
            max_sockets_per_user,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        // A panic while holding the lock leaves consistent-enough state
        // (at worst one event half delivered); keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Process committed batches until the writer side closes.
    pub async fn run(self, mut rx: mpsc::UnboundedReceiver<Vec<CommittedEvent>>) {
        while let Some(batch) = rx.recv().await {
            let processed = {
                let mut st = self.lock();
                for ev in batch {
                    st.apply(ev);
                }
                st.processed
            };
            self.position.send_replace(processed);
        }
    }

    /// Register a connection for `user` of `org`; live events after the
    /// returned position flow into its queue. Refused while shutting down
    /// and beyond the person's socket limit.
    pub fn subscribe(
        &self,
        user: UserId,
        org: OrgId,
        session: SessionId,
    ) -> Result<Subscription, Refused> {
        let mut st = self.lock();
        if st.shutting_down {
            return Err(Refused::ShuttingDown);
        }
        if st.conns.get(&user).map_or(0, Vec::len) >= self.max_sockets_per_user {
            return Err(Refused::TooManySockets);
        }
        let (tx, rx) = mpsc::channel(CONNECTION_QUEUE_FRAMES);
        let closer = Arc::new(Closer {
            reason: AtomicU8::new(0),
            notify: Notify::new(),
        });
        st.next_conn += 1;
        let id = st.next_conn;
        let conn = Conn {
            id,
            session,
            org,
            watching: Vec::new(),
            tx,
            closer: Arc::clone(&closer),
        };
        st.presence_changing(&[user], |st| st.conns.entry(user).or_default().push(conn));
        st.connections += 1;
        Ok(Subscription {
            hub: self.clone(),
            user,
            id,
            frames: rx,
            closer,
            position: st.processed,
        })
    }

    /// Tell the other members of `conv` that `user` is typing, at most
    /// once per [`typing::TYPING_INTERVAL`]; sends nothing if `user` is not
    /// a member.
    pub fn typing(&self, conv: ConversationId, user: UserId) -> Typing {
        let frame = encode_frame(&EventFrame {
            seq: None,
            event: WireEvent::Typing {
                conversation_id: conv.0,
                user_id: user.0,
            },
        });
        let Ok(frame) = Utf8Bytes::try_from(frame) else {
            return Typing::NotMember;
        };
        let mut st = self.lock();
        if !st.members.get(&conv).is_some_and(|m| m.contains(&user)) {
            return Typing::NotMember;
        }
        if !st.typing.admit(conv, user, std::time::Instant::now()) {
            return Typing::Coalesced;
        }
        let st = &*st;
        for m in st.members.get(&conv).into_iter().flatten() {
            if *m == user {
                continue;
            }
            for c in st.conns.get(m).into_iter().flatten() {
                c.send_ephemeral(&frame);
            }
        }
        Typing::Sent
    }

    /// Close every socket (with `server_restart`) and refuse new ones.
    pub fn shutdown(&self) {
        let mut st = self.lock();
        st.shutting_down = true;
        for conns in st.conns.values() {
            for c in conns {
                c.closer.close(CloseReason::Shutdown);
            }
        }
    }

    /// Open sockets.
    pub fn connection_count(&self) -> usize {
        self.lock().connections
    }

    /// Wait until the hub has processed position `seq`, at most `limit`;
    /// returns whether it has.
    pub async fn caught_up(&self, seq: EventSeq, limit: std::time::Duration) -> bool {
        let mut rx = self.position.subscribe();
        matches!(
            tokio::time::timeout(limit, rx.wait_for(|p| *p >= seq)).await,
            Ok(Ok(_))
        )
    }

    /// The last event position the hub has delivered.
    pub fn position(&self) -> EventSeq {
        self.lock().processed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn typing_is_coalesced_and_never_closes_a_slow_reader() {
        // Anna types in twice as many conversations as Bernd's queue holds
        // frames; Bernd, a member of all of them, reads nothing.
        let n = (CONNECTION_QUEUE_FRAMES * 2) as i64;
        let (anna, bernd) = (UserId(1), UserId(2));
        let memberships = (1..=n)
            .flat_map(|c| [(ConversationId(c), anna), (ConversationId(c), bernd)])
            .collect();
        let hub = Hub::new(
            HubSnapshot {
                at: EventSeq(0),
                memberships,
                sharing_presence: Vec::new(),
            },
            false,
            4,
        );
        let reader = hub
            .subscribe(bernd, OrgId(1), SessionId(1))
            .expect("subscribed");
        for c in 1..=n {
            assert_eq!(hub.typing(ConversationId(c), anna), Typing::Sent);
        }
        assert_eq!(hub.typing(ConversationId(1), anna), Typing::Coalesced);
        assert_eq!(hub.typing(ConversationId(1), UserId(3)), Typing::NotMember);
        let reason = CloseReason::from_u8(reader.closer.reason.load(Ordering::Acquire));
        assert_eq!(reason, CloseReason::Open, "typing must not close a socket");
        let queued = reader.frames.len();
        assert!(
            queued > 0 && queued <= CONNECTION_QUEUE_FRAMES - EPHEMERAL_ROOM,
            "{queued} typing frames queued"
        );
    }
}
