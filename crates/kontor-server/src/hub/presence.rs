//! Presence: who is online right now, among those who chose to show it.
//!
//! What this module promises the works council and the data protection
//! officer (docs/presence.md says it to them):
//! - Off unless the operator turns it on (`presence.enabled`), and then
//!   shown only for people who turned it on themselves; a person who hides
//!   their own presence sees nobody else's either.
//! - Online means "has Kontor open": at least one event socket. There is no
//!   idle, away or "last seen", nothing that measures activity.
//! - It lives in memory only. No table, log line or metric records who was
//!   online when; the stored choice to show it is the only trace.
//! - Only colleagues of the same organisation see it, and only for people
//!   they ask about (`watch_presence`, at most
//!   [`MAX_PRESENCE_WATCH`] per socket), so a change costs work in
//!   proportion to who watches, not to the size of the company.
//!
//! Several nodes: each node announces the people online on it (deltas as
//! they happen, a full list every [`ANNOUNCE_INTERVAL`]) and forgets a node
//! it has not heard from for [`NODE_TIMEOUT`], so the people of a node
//! killed with `kill -9` go offline elsewhere within that time.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use kontor_core::ids::{OrgId, UserId};
use kontor_core::limits::MAX_PRESENCE_WATCH;
use kontor_wire::{EventFrame, WireEvent, encode_frame};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::{Conn, Hub, HubState};

/// How often a node announces everyone online on it.
pub const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(5);
/// Silence after which a node's people count as offline: three missed
/// announcements, so one lost message does not flap anyone. Checked at
/// each announcement, so they go offline 15 to 20 s after its last word.
pub const NODE_TIMEOUT: Duration = Duration::from_secs(15);
/// Notices that may wait for NATS. While NATS is away, further ones are
/// dropped: receivers see the gap in the numbers and wait for the next
/// full list, so nothing stale piles up for the outage.
pub const NOTICE_QUEUE: usize = 256;

/// What one node tells the others about the people online on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceNotice {
    /// The sending node (the cluster link fills it in).
    #[serde(default)]
    pub node: u64,
    /// Numbers the node's notices: a delta is `seq + 1` of the one before;
    /// a full list carries the number of the last delta it includes.
    pub seq: u64,
    /// Everyone online on the node (true), or only what changed.
    pub full: bool,
    /// Came online (or, in a full list, is online): user and organisation.
    pub online: Vec<(i64, i64)>,
    /// Went offline.
    pub offline: Vec<i64>,
}

/// The watch list is longer than [`MAX_PRESENCE_WATCH`].
#[derive(Debug)]
pub struct TooManyWatched;

/// What another node last told us.
struct RemoteNode {
    users: HashMap<UserId, OrgId>,
    seq: u64,
    /// A delta went missing since the last full list: ignore deltas until
    /// the next one.
    in_sync: bool,
    heard: Instant,
}

/// The hub's presence book.
#[derive(Default)]
pub(super) struct Presence {
    enabled: bool,
    /// Who shows their presence (loaded at start, then kept current by
    /// `presence_sharing_changed` events in stream order).
    sharing: HashSet<UserId>,
    remote: HashMap<u64, RemoteNode>,
    /// Watched user → the connections (user, connection id) watching.
    watchers: HashMap<UserId, HashSet<(UserId, u64)>>,
    /// Number of the last notice this node made.
    seq: u64,
    /// To the cluster link (several nodes only).
    out: Option<mpsc::Sender<PresenceNotice>>,
}

impl Presence {
    pub(super) fn new(enabled: bool, sharing: Vec<UserId>) -> Presence {
        Presence {
            enabled,
            sharing: sharing.into_iter().collect(),
            ..Presence::default()
        }
    }

    fn shares(&self, user: UserId) -> bool {
        self.enabled && self.sharing.contains(&user)
    }
}

fn presence_frame(online: Vec<i64>, offline: Vec<i64>) -> Option<Utf8Bytes> {
    Utf8Bytes::try_from(encode_frame(&EventFrame {
        seq: None,
        event: WireEvent::Presence { online, offline },
    }))
    .ok()
}

impl HubState {
    /// The organisation of `user` if they are online and shown, anywhere.
    fn online_in(&self, user: UserId) -> Option<OrgId> {
        self.shown_here(user).or_else(|| {
            if !self.presence.shares(user) {
                return None;
            }
            self.presence
                .remote
                .values()
                .find_map(|n| n.users.get(&user).copied())
        })
    }

    /// The organisation of `user` if they are shown and online on this node.
    fn shown_here(&self, user: UserId) -> Option<OrgId> {
        if !self.presence.shares(user) {
            return None;
        }
        self.conns.get(&user).and_then(|c| c.first()).map(|c| c.org)
    }

    /// Run `change`, then tell watchers about those of `users` whose
    /// presence it turned, and the other nodes about those it turned here.
    pub(super) fn presence_changing<R>(
        &mut self,
        users: &[UserId],
        change: impl FnOnce(&mut HubState) -> R,
    ) -> R {
        if !self.presence.enabled {
            return change(self);
        }
        let before: Vec<_> = users
            .iter()
            .map(|u| (self.online_in(*u), self.shown_here(*u)))
            .collect();
        let result = change(self);
        for (user, (was, was_here)) in users.iter().zip(before) {
            match (was, self.online_in(*user)) {
                (None, Some(org)) => self.tell_watchers(*user, true, org),
                (Some(org), None) => self.tell_watchers(*user, false, org),
                _ => {}
            }
            let here = self.shown_here(*user);
            if was_here != here {
                self.announce_change(*user, here);
            }
        }
        result
    }

    /// Tell the watchers of `user` in `org` who show their own presence
    /// that `user` came `online` or went offline. Nobody else hears of
    /// either: to a watcher in another organisation, even the moment of
    /// going offline would tell that someone had been online.
    fn tell_watchers(&self, user: UserId, online: bool, org: OrgId) {
        let Some(watchers) = self.presence.watchers.get(&user) else {
            return;
        };
        let frame = if online {
            presence_frame(vec![user.0], Vec::new())
        } else {
            presence_frame(Vec::new(), vec![user.0])
        };
        let Some(frame) = frame else { return };
        for (watcher, conn) in watchers {
            if !self.presence.shares(*watcher) {
                continue;
            }
            if let Some(c) = self.conn(*watcher, *conn)
                && c.org == org
            {
                c.send(&frame);
            }
        }
    }

    fn conn(&self, user: UserId, id: u64) -> Option<&Conn> {
        self.conns.get(&user)?.iter().find(|c| c.id == id)
    }

    fn announce_change(&mut self, user: UserId, here: Option<OrgId>) {
        self.presence.seq = self.presence.seq.wrapping_add(1);
        let Some(out) = &self.presence.out else {
            return;
        };
        let (online, offline) = match here {
            Some(org) => (vec![(user.0, org.0)], Vec::new()),
            None => (Vec::new(), vec![user.0]),
        };
        let _ = out.try_send(PresenceNotice {
            node: 0,
            seq: self.presence.seq,
            full: false,
            online,
            offline,
        });
    }

    /// The full presence answer for one connection's watch list.
    fn watch_answer(&self, watcher: UserId, org: OrgId, watched: &[UserId]) -> Option<Utf8Bytes> {
        let shows = self.presence.shares(watcher);
        let (online, offline): (Vec<UserId>, Vec<UserId>) = watched
            .iter()
            .partition(|u| shows && self.online_in(**u) == Some(org));
        presence_frame(
            online.into_iter().map(|u| u.0).collect(),
            offline.into_iter().map(|u| u.0).collect(),
        )
    }

    /// Send every connection of `user` the full answer for its watch list
    /// (after their own choice to show presence changed).
    pub(super) fn refresh_watch_answers(&self, user: UserId) {
        let Some(conns) = self.conns.get(&user) else {
            return;
        };
        for c in conns.iter().filter(|c| !c.watching.is_empty()) {
            if let Some(frame) = self.watch_answer(user, c.org, &c.watching) {
                c.send(&frame);
            }
        }
    }

    /// Stop connection `id` of `user` from watching anyone.
    pub(super) fn unwatch(&mut self, user: UserId, id: u64, watched: &[UserId]) {
        for w in watched {
            if let Some(set) = self.presence.watchers.get_mut(w) {
                set.remove(&(user, id));
                if set.is_empty() {
                    self.presence.watchers.remove(w);
                }
            }
        }
    }

    /// A user's choice to show their presence, from a committed event.
    pub(super) fn set_sharing(&mut self, user: UserId, share: bool) {
        self.presence_changing(&[user], |st| {
            if share {
                st.presence.sharing.insert(user);
            } else {
                st.presence.sharing.remove(&user);
            }
        });
        if self.presence.enabled {
            self.refresh_watch_answers(user);
        }
    }

    fn apply_remote(&mut self, notice: PresenceNotice, now: Instant) {
        let node = self
            .presence
            .remote
            .entry(notice.node)
            .or_insert_with(|| RemoteNode {
                users: HashMap::new(),
                seq: 0,
                in_sync: false,
                heard: now,
            });
        node.heard = now;
        let mut affected: Vec<UserId> = notice.offline.iter().map(|u| UserId(*u)).collect();
        affected.extend(notice.online.iter().map(|(u, _)| UserId(*u)));
        if notice.full {
            affected.extend(node.users.keys().copied());
        } else if !node.in_sync || notice.seq != node.seq.wrapping_add(1) {
            node.in_sync = false;
            return;
        }
        affected.sort_unstable();
        affected.dedup();
        let node_id = notice.node;
        self.presence_changing(&affected, move |st| {
            let Some(node) = st.presence.remote.get_mut(&node_id) else {
                return;
            };
            if notice.full {
                node.users.clear();
                node.in_sync = true;
            }
            node.seq = notice.seq;
            for u in notice.offline {
                node.users.remove(&UserId(u));
            }
            for (u, org) in notice.online {
                node.users.insert(UserId(u), OrgId(org));
            }
        });
    }
}

impl Hub {
    /// Replace what connection `id` of `user` watches, and send it the
    /// current answer.
    pub(super) fn watch(
        &self,
        user: UserId,
        id: u64,
        user_ids: &[i64],
    ) -> Result<(), TooManyWatched> {
        let mut watched: Vec<UserId> = user_ids.iter().map(|u| UserId(*u)).collect();
        watched.sort_unstable();
        watched.dedup();
        if watched.len() > MAX_PRESENCE_WATCH {
            return Err(TooManyWatched);
        }
        let mut st = self.lock();
        let Some(conn) = st
            .conns
            .get_mut(&user)
            .and_then(|c| c.iter_mut().find(|c| c.id == id))
        else {
            return Ok(());
        };
        let old = std::mem::replace(&mut conn.watching, watched.clone());
        let org = conn.org;
        st.unwatch(user, id, &old);
        if st.presence.enabled {
            for w in &watched {
                st.presence
                    .watchers
                    .entry(*w)
                    .or_default()
                    .insert((user, id));
            }
        }
        if let (Some(frame), Some(c)) = (st.watch_answer(user, org, &watched), st.conn(user, id)) {
            c.send(&frame);
        }
        Ok(())
    }

    /// Whether this installation shows presence at all.
    pub fn presence_enabled(&self) -> bool {
        self.presence_enabled
    }

    /// Send this node's presence notices to `out` from now on (several
    /// nodes only).
    pub fn announce_presence_to(&self, out: mpsc::Sender<PresenceNotice>) {
        self.lock().presence.out = Some(out);
    }

    /// Queue the full list of people online on this node, behind the deltas
    /// already queued (so a receiver never applies a delta twice).
    pub fn announce_presence(&self) {
        let st = self.lock();
        let Some(out) = &st.presence.out else {
            return;
        };
        let online = st
            .conns
            .keys()
            .filter_map(|u| st.shown_here(*u).map(|org| (u.0, org.0)))
            .collect();
        let _ = out.try_send(PresenceNotice {
            node: 0,
            seq: st.presence.seq,
            full: true,
            online,
            offline: Vec::new(),
        });
    }

    /// Take in another node's notice.
    pub fn remote_presence(&self, notice: PresenceNotice) {
        if !self.presence_enabled() {
            return;
        }
        self.lock().apply_remote(notice, Instant::now());
    }

    /// Forget the people of nodes not heard from for [`NODE_TIMEOUT`].
    pub fn expire_presence(&self, now: Instant) {
        let mut st = self.lock();
        let silent: Vec<u64> = st
            .presence
            .remote
            .iter()
            .filter(|(_, n)| now.saturating_duration_since(n.heard) > NODE_TIMEOUT)
            .map(|(id, _)| *id)
            .collect();
        for id in silent {
            let affected: Vec<UserId> = st
                .presence
                .remote
                .get(&id)
                .map(|n| n.users.keys().copied().collect())
                .unwrap_or_default();
            st.presence_changing(&affected, |st| {
                st.presence.remote.remove(&id);
            });
        }
    }
}
