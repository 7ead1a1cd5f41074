// Client state shared by the views: who I am, the user cache, and the
// conversation list (ConversationSummary objects from GET /conversations,
// kept current by live events).

import * as api from './api.js';
import { t } from './i18n.js';
import { parseMentions } from './markdown.js';

export const state = {
  /** @type {object|null} User */
  me: null,
  /** Session id from `hello`. */
  sessionId: null,
  /** id → User (or a placeholder {id, missing: true}) */
  users: new Map(),
  /** conversation id → ConversationSummary */
  summaries: new Map(),
  /** conversation id → member user ids (only for unnamed groups) */
  groupMembers: new Map(),
  /** The list was loaded at least once. */
  listLoaded: false,
};

// --- change notification -----------------------------------------------------

const listeners = new Set();
let pending = new Set();
let scheduled = false;

/** Subscribe to changes: fn(Set<'list'|'users'>). Returns an unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Note a change; listeners run once per animation frame. */
export function notify(what) {
  pending.add(what);
  if (scheduled) return;
  scheduled = true;
  const run = () => {
    scheduled = false;
    const kinds = pending;
    pending = new Set();
    for (const fn of listeners) fn(kinds);
  };
  if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(run);
  else setTimeout(run, 0);
}

/** Forget everything (logout). */
export function reset() {
  state.me = null;
  state.sessionId = null;
  state.users.clear();
  state.summaries.clear();
  state.groupMembers.clear();
  state.listLoaded = false;
  clearTimeout(reloadTimer);
}

// --- users -------------------------------------------------------------------

export function rememberUsers(list) {
  for (const u of list || []) state.users.set(u.id, u);
}

/** Load the first page of the directory (enough for small companies). */
export async function loadDirectory() {
  const list = await api.users({ limit: 200 });
  rememberUsers(list);
  notify('users');
}

const inflight = new Map();

/** Make sure the given user ids are cached (fetched one by one via GET /users/{id}). */
export async function ensureUsers(ids) {
  const wanted = [...new Set(ids)].filter((id) => typeof id === 'number' && !state.users.has(id));
  if (!wanted.length) return;
  const jobs = wanted.map((id) => {
    if (!inflight.has(id)) {
      const job = api
        .user(id)
        .then((u) => state.users.set(u.id, u))
        .catch((e) => {
          // Unknown or gone: remember that, so we do not ask again.
          if (e.status === 404) state.users.set(id, { id, missing: true });
        })
        .finally(() => inflight.delete(id));
      inflight.set(id, job);
    }
    return inflight.get(id);
  });
  await Promise.all(jobs);
  notify('users');
}

/** Display name of a user id (falls back to a neutral label). */
export function userName(id) {
  const u = state.users.get(id);
  if (u && u.display_name) return u.display_name;
  return t('user.unknown');
}

/** First name, for compact lines such as "Anna schreibt …". */
export function shortName(id) {
  const name = userName(id);
  return name.split(/\s+/)[0] || name;
}

// --- conversations -----------------------------------------------------------

export async function loadConversations() {
  const list = await api.conversations();
  state.summaries.clear();
  for (const s of list) state.summaries.set(s.conversation.id, s);
  state.listLoaded = true;
  const ids = [];
  for (const s of list) {
    if (s.peer_id) ids.push(s.peer_id);
    if (s.last_message) ids.push(s.last_message.sender_id);
  }
  notify('list');
  ensureUsers(ids).catch(() => {});
}

let reloadTimer = null;
/** Reload the list soon (coalesces bursts of events). */
export function scheduleListReload() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => {
    if (state.me) loadConversations().catch(() => {});
  }, 400);
}

/** Summaries sorted by last activity, newest first. */
export function sortedSummaries() {
  return [...state.summaries.values()].sort((a, b) => {
    const d = Date.parse(b.conversation.last_activity_at) - Date.parse(a.conversation.last_activity_at);
    return d || b.conversation.id - a.conversation.id;
  });
}

/** Human title of a conversation. */
export function conversationTitle(conv, summary = state.summaries.get(conv.id)) {
  if (conv.kind === 'direct') {
    const peer = summary && summary.peer_id;
    return peer ? userName(peer) : t('conv.directFallback');
  }
  if (conv.name) return conv.name;
  if (conv.kind === 'group') {
    const members = state.groupMembers.get(conv.id);
    if (members) {
      const names = members.filter((id) => !state.me || id !== state.me.id).map(shortName);
      if (names.length) return names.join(', ');
    } else {
      loadGroupMembers(conv.id);
    }
    return t('conv.groupFallback');
  }
  return t('conv.untitled');
}

const memberJobs = new Set();
function loadGroupMembers(id) {
  if (memberJobs.has(id)) return;
  memberJobs.add(id);
  api
    .members(id)
    .then(async (members) => {
      const ids = members.map((m) => m.user_id);
      state.groupMembers.set(id, ids);
      await ensureUsers(ids);
      notify('list');
    })
    .catch(() => {})
    .finally(() => memberJobs.delete(id));
}

export function totalUnread() {
  let n = 0;
  for (const s of state.summaries.values()) n += s.unread_count || 0;
  return n;
}

/** Record that I have read up to messageId (after PUT /read succeeded). */
export function markLocallyRead(convId, messageId) {
  const s = state.summaries.get(convId);
  if (!s) return;
  if (!s.last_read_message_id || messageId > s.last_read_message_id) s.last_read_message_id = messageId;
  if (!s.conversation.last_message_id || s.last_read_message_id >= s.conversation.last_message_id) {
    s.unread_count = 0;
    s.unread_mentions = 0;
  }
  notify('list');
}

/**
 * Apply a live event to the conversation list. Handlers are idempotent
 * where it matters (replays after a reload may repeat events).
 */
export function applyEvent(frame) {
  const me = state.me && state.me.id;
  switch (frame.type) {
    case 'message_created': {
      const m = frame.message;
      const s = state.summaries.get(m.conversation_id);
      if (!s) {
        scheduleListReload();
        return;
      }
      const c = s.conversation;
      if (c.last_message_id && m.id <= c.last_message_id) return; // already known
      c.last_message_id = m.id;
      c.last_activity_at = m.created_at;
      s.last_message = m;
      if (m.sender_id === me) {
        // The server moves the sender's read position to their own message.
        s.last_read_message_id = m.id;
        s.unread_count = 0;
        s.unread_mentions = 0;
      } else if (!s.last_read_message_id || m.id > s.last_read_message_id) {
        s.unread_count += 1;
        if (m.mentions_channel || (m.mentions || []).includes(me)) s.unread_mentions += 1;
      }
      ensureUsers([m.sender_id]).catch(() => {});
      notify('list');
      return;
    }
    case 'message_edited': {
      const m = frame.message;
      const s = state.summaries.get(m.conversation_id);
      if (s && s.last_message && s.last_message.id === m.id) {
        s.last_message = m;
        notify('list');
      }
      return;
    }
    case 'message_deleted': {
      const s = state.summaries.get(frame.conversation_id);
      if (s && s.last_message && s.last_message.id === frame.message_id) {
        s.last_message = { ...s.last_message, text: null, deleted: true };
        notify('list');
      }
      return;
    }
    case 'conversation_created':
      scheduleListReload();
      return;
    case 'conversation_updated': {
      const s = state.summaries.get(frame.conversation.id);
      if (s) {
        s.conversation = { ...s.conversation, ...frame.conversation };
        notify('list');
      }
      return;
    }
    case 'member_added': {
      if (frame.user_id === me) {
        scheduleListReload();
        return;
      }
      const s = state.summaries.get(frame.conversation_id);
      if (s) {
        s.conversation.member_count += 1;
        state.groupMembers.delete(frame.conversation_id);
        notify('list');
      }
      return;
    }
    case 'member_removed': {
      if (frame.user_id === me) {
        state.summaries.delete(frame.conversation_id);
      } else {
        const s = state.summaries.get(frame.conversation_id);
        if (s) s.conversation.member_count = Math.max(0, s.conversation.member_count - 1);
        state.groupMembers.delete(frame.conversation_id);
      }
      notify('list');
      return;
    }
    case 'member_role_changed': {
      const s = state.summaries.get(frame.conversation_id);
      if (s && frame.user_id === me) {
        s.role = frame.role;
        notify('list');
      }
      return;
    }
    case 'read_position_changed': {
      const s = state.summaries.get(frame.conversation_id);
      if (!s) return;
      if (!s.last_read_message_id || frame.message_id > s.last_read_message_id) {
        s.last_read_message_id = frame.message_id;
        if (!s.conversation.last_message_id || frame.message_id >= s.conversation.last_message_id) {
          s.unread_count = 0;
          s.unread_mentions = 0;
        } else {
          scheduleListReload(); // exact counts come from the server
        }
        notify('list');
      }
      return;
    }
    default:
  }
}

/**
 * Turn @username tokens into user ids (via the cache, else a directory
 * search), as the server expects mentions as metadata next to the text.
 */
export async function resolveMentions(text) {
  const tokens = parseMentions(text);
  const mentions = [];
  for (const username of tokens.usernames.slice(0, 100)) {
    let user = [...state.users.values()].find((u) => u.username === username);
    if (!user) {
      try {
        const found = await api.users({ search: username, limit: 20 });
        rememberUsers(found);
        user = found.find((u) => u.username === username);
      } catch {
        user = null;
      }
    }
    if (user && !mentions.includes(user.id)) mentions.push(user.id);
  }
  return { mentions, mentions_channel: tokens.channel };
}
