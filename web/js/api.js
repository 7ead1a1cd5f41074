// REST client for /api/v1 on this origin. One function per call the web
// client makes; JSON shapes follow crates/kontor-wire (see docs/openapi.json).

const BASE = '/api/v1';
const TOKEN_KEY = 'kontor.token';

/** An API failure. `code` is the server's stable error code, or `network`. */
export class ApiError extends Error {
  constructor(status, code, message, { field = null, retryAfter = null } = {}) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

let unauthorizedHandler = null;

/** Called when a request with our token answers 401 `unauthenticated`. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token) {
  localStorage.setItem(TOKEN_KEY, token);
}

/** Perform one request. Resolves with the parsed JSON body (null for 204). */
async function request(method, path, { body, query, auth = true } = {}) {
  let url = BASE + path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== null && v !== undefined && v !== '') params.set(k, String(v));
    }
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  const headers = { Accept: 'application/json' };
  const token = auth ? getToken() : null;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  let res;
  let text;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
    text = res.status === 204 ? '' : await res.text();
  } catch (e) {
    throw new ApiError(0, 'network', e && e.message ? e.message : 'network error');
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw failure(res.status, res.statusText, data, res.headers.get('Retry-After'), token);
  return data;
}

/** The ApiError for a failed response (and the 401 handler, if it applies). */
function failure(status, statusText, data, retryAfter, token) {
  const err = (data && data.error) || {};
  const retry = Number.parseInt(retryAfter || '', 10);
  const error = new ApiError(status, err.code || `http_${status}`, err.message || statusText, {
    field: err.field || null,
    retryAfter: Number.isFinite(retry) ? retry : null,
  });
  if (status === 401 && token && error.code === 'unauthenticated' && unauthorizedHandler) {
    unauthorizedHandler(error);
  }
  return error;
}

const enc = encodeURIComponent;

// --- Accounts and sessions -------------------------------------------------

/** POST /auth/login → LoginResponse {token, session, user}. */
export function login(loginName, password, deviceName = 'Web') {
  return request('POST', '/auth/login', {
    auth: false,
    body: { login: loginName, password, device_name: deviceName },
  });
}

/** POST /auth/logout → 204. */
export function logout() {
  return request('POST', '/auth/logout');
}

/** GET /me → Me (User plus share_presence, presence_available). */
export function me() {
  return request('GET', '/me');
}

/** PATCH /me {share_presence?} → Me. */
export function updateMe(changes) {
  return request('PATCH', '/me', { body: changes });
}

/** GET /sessions → Session[] (newest first). */
export function sessions() {
  return request('GET', '/sessions');
}

/** DELETE /sessions/{id} → 204. */
export function revokeSession(id) {
  return request('DELETE', `/sessions/${enc(id)}`);
}

/** GET /users?search=&offset=&limit= → User[] sorted by name. */
export function users({ search, offset, limit } = {}) {
  return request('GET', '/users', { query: { search, offset, limit } });
}

/** GET /users/{id} → User. */
export function user(id) {
  return request('GET', `/users/${enc(id)}`);
}

/** GET /limits → Limits. */
export function limits() {
  return request('GET', '/limits');
}

// --- Conversations ---------------------------------------------------------

/** GET /conversations → ConversationSummary[]. */
export function conversations() {
  return request('GET', '/conversations');
}

/** GET /channels → Conversation[] (public channels to browse). */
export function channels() {
  return request('GET', '/channels');
}

/** GET /conversations/{id} → ConversationDetail {conversation, role}. */
export function conversation(id) {
  return request('GET', `/conversations/${enc(id)}`);
}

/**
 * POST /conversations → Conversation.
 * body: {kind, name?, topic?, is_public?, announcement?, user_ids}
 */
export function createConversation(body) {
  return request('POST', '/conversations', { body });
}

/** POST /conversations/{id}/join → Member. */
export function joinConversation(id) {
  return request('POST', `/conversations/${enc(id)}/join`);
}

/** GET /conversations/{id}/members → Member[]. */
export function members(id) {
  return request('GET', `/conversations/${enc(id)}/members`);
}

/** PUT /conversations/{id}/read {message_id} → 204. */
export function markRead(id, messageId) {
  return request('PUT', `/conversations/${enc(id)}/read`, { body: { message_id: messageId } });
}

// --- Messages --------------------------------------------------------------

/**
 * GET /conversations/{id}/messages → HistoryResponse {messages, has_more}.
 * opts: {before, after, limit, thread}
 */
export function history(id, { before, after, limit, thread } = {}) {
  return request('GET', `/conversations/${enc(id)}/messages`, { query: { before, after, limit, thread } });
}

/**
 * POST /conversations/{id}/messages → Message.
 * body: {txn_id, text, thread_root_id?, mentions, mentions_channel, attachment_ids?}
 * (with attachment_ids, at most 10 uploads of this conversation, text may be empty)
 * A network failure is retried once with the same txn_id; the server
 * answers a repeat with the original message, so nothing posts twice.
 */
export async function sendMessage(id, body) {
  const path = `/conversations/${enc(id)}/messages`;
  try {
    return await request('POST', path, { body });
  } catch (e) {
    if (e instanceof ApiError && e.code === 'network') {
      await new Promise((r) => setTimeout(r, 800));
      return request('POST', path, { body });
    }
    throw e;
  }
}

// --- Attachments -------------------------------------------------------------

/**
 * POST /conversations/{id}/attachments?name= with the raw file as the body
 * → Attachment. An XMLHttpRequest, because fetch() reports no upload
 * progress. Returns {promise, abort}; `onProgress(sent, total)` follows the
 * upload. An aborted upload rejects with code `aborted`.
 */
export function uploadAttachment(conversationId, file, { onProgress } = {}) {
  const xhr = new XMLHttpRequest();
  const token = getToken();
  const promise = new Promise((resolve, reject) => {
    const name = file.name || 'file';
    xhr.open('POST', `${BASE}/conversations/${enc(conversationId)}/attachments?name=${enc(name)}`);
    xhr.setRequestHeader('Accept', 'application/json');
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.responseType = 'text';
    if (onProgress) {
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) onProgress(e.loaded, e.total);
      });
    }
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data) resolve(data);
      else reject(failure(xhr.status, xhr.statusText, data, xhr.getResponseHeader('Retry-After'), token));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', 'network error')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'aborted')));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

/** DELETE /attachments/{id}: one's own upload that was never sent. */
export function deleteAttachment(id) {
  return request('DELETE', `/attachments/${enc(id)}`);
}

/**
 * GET /attachments/{id} (`thumbnail`: the JPEG preview) → Blob. The file
 * needs the bearer token, so it cannot be an <img src>: callers show it
 * through URL.createObjectURL. The membership is checked on every request.
 */
export async function attachmentBlob(id, { thumbnail = false } = {}) {
  const token = getToken();
  let res;
  let blob;
  try {
    res = await fetch(`${BASE}/attachments/${enc(id)}${thumbnail ? '?thumbnail=true' : ''}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
    if (res.ok) blob = await res.blob();
  } catch (e) {
    throw new ApiError(0, 'network', e && e.message ? e.message : 'network error');
  }
  if (!res.ok) {
    let data = null;
    try {
      data = await res.json();
    } catch {
      data = null;
    }
    throw failure(res.status, res.statusText, data, res.headers.get('Retry-After'), token);
  }
  return blob;
}

/**
 * GET /search → SearchResponse {hits: [{message, snippet: [{text, hit}]}], has_more}.
 * opts: {q, conversationId, from (sender's user id), since, until (RFC 3339),
 * hasFile (only messages with files), sort ('relevance'|'date'), limit, offset}
 */
export function search({ q, conversationId, from, since, until, hasFile, sort, limit, offset } = {}) {
  return request('GET', '/search', {
    query: { q, conversation_id: conversationId, from, since, until, has_file: hasFile ? 'true' : undefined, sort, limit, offset },
  });
}

/** GET /messages/{id} → Message. */
export function message(id) {
  return request('GET', `/messages/${enc(id)}`);
}

/** PATCH /messages/{id} {text, mentions, mentions_channel} → Message. */
export function editMessage(id, body) {
  return request('PATCH', `/messages/${enc(id)}`, { body });
}

/** DELETE /messages/{id} → 204. */
export function deleteMessage(id) {
  return request('DELETE', `/messages/${enc(id)}`);
}

/** PUT /messages/{id}/reactions/{emoji} → 204 (idempotent). */
export function addReaction(id, emoji) {
  return request('PUT', `/messages/${enc(id)}/reactions/${enc(emoji)}`);
}

/** DELETE /messages/{id}/reactions/{emoji} → 204 (idempotent). */
export function removeReaction(id, emoji) {
  return request('DELETE', `/messages/${enc(id)}/reactions/${enc(emoji)}`);
}

// --- Conversation management -----------------------------------------------

/** PATCH /conversations/{id} {name?, topic?, announcement?} → Conversation. */
export function updateConversation(id, body) {
  return request('PATCH', `/conversations/${enc(id)}`, { body });
}

/** POST /conversations/{id}/members {user_ids} → Member[] (the ones newly added). */
export function addMembers(id, userIds) {
  return request('POST', `/conversations/${enc(id)}/members`, { body: { user_ids: userIds } });
}

/** DELETE /conversations/{id}/members/{user_id} → 204 (yourself: leave). */
export function removeMember(id, userId) {
  return request('DELETE', `/conversations/${enc(id)}/members/${enc(userId)}`);
}

/** POST /conversations/leave {created_by} → {left, kept}: leave every group and channel that person made. */
export function leaveAllCreatedBy(userId) {
  return request('POST', '/conversations/leave', { body: { created_by: userId } });
}

/** PUT /conversations/{id}/members/{user_id}/role {role} → 204. */
export function setMemberRole(id, userId, role) {
  return request('PUT', `/conversations/${enc(id)}/members/${enc(userId)}/role`, { body: { role } });
}
