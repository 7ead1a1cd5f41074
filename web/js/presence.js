// Presence: which of the people on screen are online, for those who chose
// to show it (docs/presence.md). The server decides everything: it answers
// only if the installation offers presence, only about colleagues who
// show theirs, and only while I show mine. This module collects whom the
// screen shows (direct-message partners, an open member list), tells the
// socket (`watch_presence`, at most 500 ids) and keeps the answers.
// Nothing is stored: a reload starts from nothing and asks again.

import { state, notify } from './state.js';

/** The server's limit per socket (kontor_core::limits::MAX_PRESENCE_WATCH). */
const MAX_WATCHED = 500;

/** source name → Set of user ids it shows */
const sources = new Map();
/** user ids online now */
const online = new Set();
let stream = null;
let lastSent = null;
let queued = false;

/** Use this event stream (it has `watchPresence(ids) → bool`). */
export function attach(eventStream) {
  stream = eventStream;
}

/** Whether presence means anything for me now: offered and mine shown. */
export function active() {
  return !!(state.me && state.me.presence_available && state.me.share_presence);
}

/** Whether `userId` is online (false whenever presence is not active). */
export function isOnline(userId) {
  return active() && online.has(userId);
}

/** Watch the people a part of the screen shows, replacing its earlier list. */
export function show(source, ids) {
  const next = new Set((ids || []).filter((id) => typeof id === 'number'));
  const before = sources.get(source);
  if (before && before.size === next.size && [...next].every((id) => before.has(id))) return;
  sources.set(source, next);
  queueFlush();
}

/** That part of the screen is gone. */
export function hide(source) {
  if (sources.delete(source)) queueFlush();
}

/** A new socket watches nobody yet: ask again. */
export function onConnected() {
  lastSent = null;
  if (online.size) {
    online.clear();
    notify('presence');
  }
  queueFlush();
}

/** A `presence` frame. */
export function onFrame(frame) {
  for (const id of frame.online || []) online.add(id);
  for (const id of frame.offline || []) online.delete(id);
  notify('presence');
}

/** My own choice changed (here or on another device). */
export function onSharingChanged(share) {
  if (state.me) state.me.share_presence = share;
  if (!share) online.clear();
  notify('presence');
}

/** Logout: forget everything. */
export function reset() {
  sources.clear();
  online.clear();
  lastSent = null;
}

function queueFlush() {
  if (queued) return;
  queued = true;
  queueMicrotask(() => {
    queued = false;
    flush();
  });
}

function flush() {
  if (!stream || !state.me || !state.me.presence_available) return;
  const me = state.me.id;
  // Over the limit, what is open (a member list) goes before the list's
  // direct messages, and those in the list's order (most recent first).
  const ordered = [...sources.entries()].sort(([a], [b]) => (a === 'list') - (b === 'list'));
  const all = new Set();
  for (const [, ids] of ordered) {
    for (const id of ids) {
      if (all.size >= MAX_WATCHED) break;
      if (id !== me) all.add(id);
    }
  }
  const ids = [...all].sort((a, b) => a - b);
  const key = ids.join(',');
  if (key === lastSent) return;
  // Whom we stop watching we hear no more of: forget rather than go stale.
  let dropped = false;
  for (const id of online) {
    if (!all.has(id)) {
      online.delete(id);
      dropped = true;
    }
  }
  if (dropped) notify('presence');
  if (stream.watchPresence(ids)) lastSent = key;
}
