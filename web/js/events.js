// The live event stream (GET /api/v1/events, WebSocket).
//
// Protocol (README "Event stream", crates/kontor-wire WireEvent):
//   1. open ws(s)://host/api/v1/events[?after=<seq>] — never with the token
//   2. send {"type":"auth","token":…} as the first frame
//   3. receive `hello` {user_id, session_id, position, heartbeat_seconds}
//   4. when resuming: replayed events, then `resumed` {replayed},
//      or `resync_required` {position} (reload state over REST)
//   5. live events; persisted ones carry `seq`
// The highest `seq` seen is kept in memory and in sessionStorage and used
// for ?after= on reconnect. Reconnects run by themselves with backoff
// 1 s, 2 s, 4 s … up to 15 s. Close codes 4001 (unauthenticated) and 4003
// (session_revoked) mean the session is gone.

const SEQ_KEY = 'kontor.seq';
const MAX_BACKOFF_MS = 15000;
const TYPING_INTERVAL_MS = 3000;

export class EventStream {
  /**
   * @param {object} opts
   * @param {() => string|null} opts.getToken
   * @param {(frame: object) => void} opts.onFrame   every server frame
   * @param {(status: 'connecting'|'online'|'offline') => void} opts.onStatus
   * @param {() => void} opts.onLoggedOut            close 4001 / 4003
   */
  constructor({ getToken, onFrame, onStatus, onLoggedOut }) {
    this.getToken = getToken;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onLoggedOut = onLoggedOut;
    this.ws = null;
    this.stopped = true;
    this.attempt = 0;
    this.timer = null;
    this.status = 'idle'; // idle | connecting | online | offline
    this.lastTyping = new Map(); // conversation id → ms timestamp
    this.lastSeq = readStoredSeq();
    this.handleOnline = () => {
      if (this.stopped) return;
      this.attempt = 0;
      if (!this.ws) this.connect();
    };
    this.handleOffline = () => {
      if (this.stopped) return;
      // The socket may take a long time to notice; drop it now and wait
      // for `online` (or the backoff timer) to come back.
      this.dropSocket();
      this.setStatus('offline');
      this.scheduleReconnect();
    };
  }

  /** Start connecting (idempotent). */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.handleOnline);
    window.addEventListener('offline', this.handleOffline);
    this.connect();
  }

  /** Stop for good (logout). Forgets the stream position. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener('online', this.handleOnline);
    window.removeEventListener('offline', this.handleOffline);
    this.dropSocket();
    this.status = 'idle';
    this.lastSeq = null;
    this.lastTyping.clear();
    try {
      sessionStorage.removeItem(SEQ_KEY);
    } catch {
      // storage unavailable
    }
  }

  /** Forget the position, e.g. after a resync the server tells us where to go on. */
  setPosition(seq) {
    this.lastSeq = seq;
    storeSeq(seq);
  }

  /** Send a typing notification, at most once every 3 s per conversation. */
  typing(conversationId) {
    const now = Date.now();
    const last = this.lastTyping.get(conversationId) || 0;
    if (now - last < TYPING_INTERVAL_MS) return;
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.status !== 'online') return;
    this.lastTyping.set(conversationId, now);
    this.ws.send(JSON.stringify({ type: 'typing', conversation_id: conversationId }));
  }

  /**
   * Watch these people's presence on this socket (replacing the last list).
   * Returns false when not connected; the caller asks again on `hello`.
   */
  watchPresence(userIds) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.status !== 'online') return false;
    this.ws.send(JSON.stringify({ type: 'watch_presence', user_ids: userIds }));
    return true;
  }

  // --- internals -----------------------------------------------------------

  connect() {
    clearTimeout(this.timer);
    const token = this.getToken();
    if (!token) {
      this.onLoggedOut();
      return;
    }
    if (this.status !== 'offline') this.setStatus('connecting');
    const resumeFrom = this.lastSeq ? this.lastSeq : null;
    const url = `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/api/v1/events${
      resumeFrom !== null ? `?after=${resumeFrom}` : ''
    }`;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch {
      this.setStatus('offline');
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token }));
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws) return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      this.handleFrame(frame, resumeFrom);
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (ev.code === 4001 || ev.code === 4003) {
        this.onLoggedOut();
        return;
      }
      this.setStatus('offline');
      this.scheduleReconnect();
    });
    // `error` is always followed by `close`; nothing to do here.
    // (While offline we stay "offline" through the retries, so the banner
    // does not flicker; the first attempt after start shows "connecting".)
  }

  handleFrame(frame, resumeFrom) {
    if (!frame || typeof frame.type !== 'string') return;
    switch (frame.type) {
      case 'hello':
        this.attempt = 0;
        this.setStatus('online');
        // A fresh stream starts at the server's position. When resuming,
        // the position moves only as replayed events arrive.
        if (resumeFrom === null) this.setPosition(frame.position);
        this.onFrame({ ...frame, resuming: resumeFrom !== null });
        return;
      case 'resync_required':
        this.setPosition(frame.position);
        this.onFrame(frame);
        return;
      default:
        break;
    }
    if (typeof frame.seq === 'number') {
      // Skip anything we already processed (it cannot change state twice).
      if (this.lastSeq !== null && frame.seq <= this.lastSeq) return;
      this.setPosition(frame.seq);
    }
    this.onFrame(frame);
  }

  dropSocket() {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        ws.close(1000, 'bye');
      } catch {
        // already closed
      }
    }
  }

  scheduleReconnect() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const delay = Math.min(1000 * 2 ** this.attempt, MAX_BACKOFF_MS);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      if (!this.stopped && !this.ws) this.connect();
    }, delay);
  }

  setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.onStatus(status);
  }
}

function readStoredSeq() {
  try {
    const v = sessionStorage.getItem(SEQ_KEY);
    const n = v === null ? NaN : Number(v);
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  } catch {
    return null;
  }
}

function storeSeq(seq) {
  try {
    if (seq === null) sessionStorage.removeItem(SEQ_KEY);
    else sessionStorage.setItem(SEQ_KEY, String(seq));
  } catch {
    // storage unavailable: memory only
  }
}
