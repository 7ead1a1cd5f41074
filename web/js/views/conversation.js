// The conversation view: header, message timeline, typing line, composer,
// and (when open) the thread panel. It owns one canonical object per
// message id, so the main timeline and the thread panel always agree.

import * as api from '../api.js';
import { h } from '../dom.js';
import { backLink } from './nav.js';
import { t, tn, errorText } from '../i18n.js';
import { state, conversationTitle, ensureUsers, markLocallyRead, shortName, applyEvent, scheduleListReload } from '../state.js';
import { MessageScope, applyDeleted, applyReaction } from './message.js';
import { Timeline } from './timeline.js';
import { Composer } from './composer.js';
import { ThreadPanel } from './thread.js';
import { UnreadJump } from './unread.js';

const PAGE = 50;
const TYPING_SHOW_MS = 6000;

export class ConversationView {
  /**
   * @param {number} id
   * @param {object} ctx
   * @param {(path: string) => void} ctx.navigate
   * @param {import('../events.js').EventStream} ctx.events
   */
  constructor(id, ctx) {
    this.id = id;
    this.ctx = ctx;
    this.detail = null; // ConversationDetail {conversation, role}
    this.status = 'loading'; // loading | ready | missing | error
    this.loadError = null;
    this.store = new Map(); // message id → canonical Message
    this.draft = '';
    this.typing = new Map(); // user id → timer
    this.lastMarked = 0;
    this.thread = null;
    this.destroyed = false;
    this.scope = new MessageScope(this, { inThread: false, prefix: 'm' });
    this.timeline = new Timeline({
      scope: this.scope,
      label: t('conv.messages'),
      loadOlder: async (before) => {
        const page = await api.history(this.id, { before, limit: PAGE });
        await ensureUsers(page.messages.map((m) => m.sender_id));
        return { messages: page.messages.map((m) => this.upsert(m)), has_more: page.has_more };
      },
      onScroll: () => { this.checkRead(); this.unread.onScroll(); },
      onRender: () => this.unread && this.unread.decorate(),
      onDrop: (ids) => ids.forEach((mid) => {
        if (!this.thread || this.thread.root.id !== mid) this.store.delete(mid);
      }),
    });
    this.unread = new UnreadJump(this.timeline, this.scope);
    this.el = h('div', { class: 'conv-wrap' });
    this.main = h('section', { class: 'pane pane-conv', 'aria-labelledby': `conv-title-${id}` });
    this.el.append(this.main);
    this.onVisibility = () => this.checkRead();
    document.addEventListener('visibilitychange', this.onVisibility);
    this.render();
  }

  // --- data ----------------------------------------------------------------

  async load() {
    try {
      const [detail, page] = await Promise.all([api.conversation(this.id), api.history(this.id, { limit: PAGE })]);
      if (this.destroyed) return;
      this.detail = detail;
      await ensureUsers(page.messages.map((m) => m.sender_id));
      if (this.destroyed) return;
      this.store.clear();
      this.status = 'ready';
      this.render();
      this.timeline.setMessages(page.messages.map((m) => this.upsert(m)), page.has_more);
      this.unread.start(state.summaries.get(this.id));
      this.checkRead();
      if (this.needsCatchUp) {
        this.needsCatchUp = false;
        this.catchUp();
      }
      if (this.thread) {
        this.thread.root = this.store.get(this.thread.root.id) || this.upsert(this.thread.root);
        this.thread.load();
      }
    } catch (e) {
      if (this.destroyed) return;
      this.status = e.status === 404 ? 'missing' : 'error';
      this.loadError = e;
      this.render();
    }
  }

  /** After a reconnect without replay: fetch what is newer than we have. */
  async catchUp() {
    if (this.status === 'loading') {
      this.needsCatchUp = true; // a load is in flight; catch up after it
      return undefined;
    }
    if (this.status !== 'ready') return this.load();
    try {
      const page = await api.history(this.id, { after: this.timeline.newestId() || undefined, limit: 200 });
      if (page.has_more) return this.load();
      await ensureUsers(page.messages.map((m) => m.sender_id));
      for (const m of page.messages) this.timeline.add(this.upsert(m));
      this.checkRead();
    } catch {
      // The next event or reconnect tries again.
    }
    return undefined;
  }

  /** Store (or refresh) the canonical object for a message and return it. */
  upsert(m) {
    const known = this.store.get(m.id);
    if (known) {
      Object.assign(known, m);
      return known;
    }
    this.store.set(m.id, m);
    return m;
  }

  // --- used by MessageScope / ThreadPanel -----------------------------------

  role() {
    return this.detail ? this.detail.role : null;
  }

  kind() {
    return this.detail ? this.detail.conversation.kind : null;
  }

  canPost() {
    const role = this.role();
    if (!role) return false;
    const c = this.detail.conversation;
    return !(c.kind === 'channel' && c.announcement && role === 'member');
  }

  /** A message object changed: update every place that shows it. */
  messageChanged(msg) {
    this.timeline.update(msg);
    if (this.thread) this.thread.messageChanged(msg);
  }

  /** Re-render a message in one scope only (edit/picker state changed). */
  refresh(scope, msg) {
    if (scope === this.scope) this.timeline.update(msg);
    else if (this.thread) this.thread.messageChanged(msg);
  }

  showError(err, text = null) {
    if (!this.errorLine) return;
    this.errorLine.textContent = text || errorText(err);
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      if (this.errorLine) this.errorLine.textContent = '';
    }, 8000);
  }

  openThread(msg) {
    const opener = document.activeElement;
    if (this.thread && this.thread.root.id === msg.id) {
      this.thread.focus();
      return;
    }
    this.closeThread(false);
    this.thread = new ThreadPanel(this, msg, opener);
    this.el.append(this.thread.el);
    this.el.classList.add('has-thread');
    this.thread.load();
    this.thread.focus();
  }

  closeThread(restoreFocus = true) {
    if (!this.thread) return false;
    const { opener } = this.thread;
    this.thread.destroy();
    this.thread.el.remove();
    this.thread = null;
    this.el.classList.remove('has-thread');
    if (restoreFocus) {
      if (opener && opener.isConnected) opener.focus();
      else if (this.composer) this.composer.focus();
    }
    return true;
  }

  /** A message was created (live event or our own send). */
  ingestCreated(m) {
    if (this.store.has(m.id)) return;
    const msg = this.upsert(m);
    this.stopTyping(m.sender_id);
    const mine = state.me && m.sender_id === state.me.id;
    if (m.thread_root_id === null || m.thread_root_id === undefined) {
      this.timeline.add(msg, { stick: mine });
    } else {
      const root = this.store.get(m.thread_root_id);
      if (root && (!root.last_reply_at || Date.parse(m.created_at) > Date.parse(root.last_reply_at))) {
        root.reply_count += 1;
        root.last_reply_at = m.created_at;
        this.messageChanged(root);
      }
      if (this.thread && this.thread.root.id === m.thread_root_id) this.thread.add(msg, mine);
    }
    if (!state.users.has(m.sender_id)) ensureUsers([m.sender_id]).then(() => this.messageChanged(msg)).catch(() => {});
    this.checkRead();
  }

  /** Own message posted through a composer. */
  onSent(m) {
    applyEvent({ type: 'message_created', message: m });
    this.ingestCreated(m);
  }

  // --- live events -----------------------------------------------------------

  onEvent(frame) {
    const cid = frame.conversation_id ?? (frame.message && frame.message.conversation_id) ?? (frame.conversation && frame.conversation.id);
    if (cid !== this.id || this.status !== 'ready') return;
    const me = state.me ? state.me.id : null;
    switch (frame.type) {
      case 'message_created':
        this.ingestCreated(frame.message);
        break;
      case 'message_edited': {
        const known = this.store.get(frame.message.id);
        if (known) this.messageChanged(this.upsert(frame.message));
        break;
      }
      case 'message_deleted': {
        const known = this.store.get(frame.message_id);
        if (known) {
          applyDeleted(known);
          this.messageChanged(known);
        }
        const root = frame.thread_root_id && this.store.get(frame.thread_root_id);
        if (root) {
          // The server lowers the root's reply count; fetch its new state.
          api.message(root.id).then((fresh) => this.messageChanged(this.upsert(fresh))).catch(() => {});
        }
        break;
      }
      case 'reaction_changed': {
        const known = this.store.get(frame.message_id);
        if (known && !known.deleted) {
          applyReaction(known, frame.user_id, frame.emoji, frame.added);
          this.messageChanged(known);
        }
        break;
      }
      case 'typing':
        if (frame.user_id !== me) this.startTyping(frame.user_id);
        break;
      case 'conversation_updated':
        this.detail.conversation = { ...this.detail.conversation, ...frame.conversation };
        this.renderHeader();
        this.updatePermissions();
        break;
      case 'member_added':
        if (frame.user_id === me) this.reloadDetail();
        else {
          this.detail.conversation.member_count += 1;
          this.renderHeader();
        }
        break;
      case 'member_removed':
        if (frame.user_id === me) {
          if (this.detail.conversation.is_public) this.reloadDetail();
          else {
            this.status = 'missing';
            this.loadError = null;
            this.closeThread(false);
            this.render();
          }
        } else {
          this.detail.conversation.member_count = Math.max(0, this.detail.conversation.member_count - 1);
          this.renderHeader();
        }
        break;
      case 'member_role_changed':
        if (frame.user_id === me) {
          this.detail.role = frame.role;
          this.updatePermissions();
        }
        break;
      default:
    }
  }

  async reloadDetail() {
    try {
      this.detail = await api.conversation(this.id);
      this.renderHeader();
      this.updatePermissions();
    } catch (e) {
      this.status = e.status === 404 ? 'missing' : 'error';
      this.render();
    }
  }

  // --- typing ----------------------------------------------------------------

  startTyping(userId) {
    clearTimeout(this.typing.get(userId));
    this.typing.set(userId, setTimeout(() => this.stopTyping(userId), TYPING_SHOW_MS));
    if (!state.users.has(userId)) ensureUsers([userId]).then(() => this.renderTyping()).catch(() => {});
    this.renderTyping();
  }

  stopTyping(userId) {
    if (!this.typing.has(userId)) return;
    clearTimeout(this.typing.get(userId));
    this.typing.delete(userId);
    this.renderTyping();
  }

  renderTyping() {
    if (!this.typingLine) return;
    const names = [...this.typing.keys()].map(shortName);
    let text = '';
    if (names.length === 1) text = t('typing.one', { name: names[0] });
    else if (names.length === 2) text = t('typing.two', { a: names[0], b: names[1] });
    else if (names.length > 2) text = t('typing.many');
    if (this.typingLine.textContent !== text) this.typingLine.textContent = text;
  }

  // --- read position -----------------------------------------------------------

  /** Mark read when the newest message is visible. */
  checkRead() {
    if (this.status !== 'ready' || !this.role() || !this.el.isConnected) return;
    if (document.visibilityState !== 'visible' || !this.timeline.isAtBottom()) return;
    const s = state.summaries.get(this.id);
    const newest = Math.max(this.timeline.newestId(), (s && s.conversation.last_message_id) || 0);
    const read = Math.max((s && s.last_read_message_id) || 0, this.lastMarked);
    if (!newest || newest <= read) return;
    const before = this.lastMarked;
    this.lastMarked = newest;
    api
      .markRead(this.id, newest)
      .then(() => markLocallyRead(this.id, newest))
      .catch(() => {
        this.lastMarked = before;
      });
  }

  // --- rendering -------------------------------------------------------------

  title() {
    return this.detail ? conversationTitle(this.detail.conversation) : '';
  }

  /** Build the whole view (first time, after loading, after a language change). */
  render() {
    const back = backLink((path) => this.ctx.navigate(path));
    this.header = h('header', { class: 'pane-header conv-header' }, back, h('div', { class: 'conv-titles' }));
    this.errorLine = h('p', { class: 'view-error', role: 'alert' });
    this.typingLine = h('div', { class: 'typing muted', 'aria-live': 'polite' });
    this.composer = null;

    if (this.status === 'loading' || this.status === 'missing' || this.status === 'error') {
      const text = this.status === 'loading' ? t('conv.loading') : this.status === 'missing' ? t('conv.missing') : errorText(this.loadError);
      this.main.replaceChildren(
        this.header,
        h('div', { class: 'placeholder' }, h('p', { role: this.status === 'loading' ? 'status' : 'alert' }, text),
          this.status === 'error' ? h('button', { type: 'button', class: 'btn', on: { click: () => { this.status = 'loading'; this.render(); this.load(); } } }, t('conv.retry')) : null),
      );
      this.renderHeader();
      return;
    }

    this.timeline.list.setAttribute('aria-label', t('conv.messages'));
    this.timeline.renderAll();
    this.bottom = this.bottomBar();
    this.permKey = this.permissionKey();
    this.unread.render();
    this.main.replaceChildren(this.header, this.errorLine, this.unread.el, this.timeline.el, this.typingLine, this.bottom);
    this.renderHeader();
    this.renderTyping();
    if (this.thread) this.thread.render();
  }

  renderHeader() {
    if (!this.header) return;
    const titles = this.header.querySelector('.conv-titles');
    if (!this.detail) {
      titles.replaceChildren(h('h2', { id: `conv-title-${this.id}`, class: 'pane-title', tabindex: '-1' }, this.status === 'loading' ? '…' : t('conv.unavailable')));
      return;
    }
    const c = this.detail.conversation;
    const s = state.summaries.get(this.id);
    let sub = c.topic || '';
    if (c.kind === 'direct') {
      const peer = s && s.peer_id && state.users.get(s.peer_id);
      sub = peer && peer.username ? `@${peer.username}` : sub;
    } else {
      sub = [sub, tn('conv.members', c.member_count)].filter(Boolean).join(' · ');
    }
    titles.replaceChildren(
      h('h2', { id: `conv-title-${this.id}`, class: 'pane-title', tabindex: '-1' }, c.kind === 'channel' ? `# ${this.title()}` : this.title(),
        c.announcement ? h('span', { class: 'tag' }, t('channels.announcement')) : null,
        c.is_public ? null : c.kind === 'channel' ? h('span', { class: 'tag' }, t('conv.private')) : null),
      sub ? h('p', { class: 'conv-sub muted' }, sub) : null,
    );
  }

  permissionKey() {
    return `${this.role()}|${this.canPost()}`;
  }

  /**
   * Role or announcement mode changed: rebuild the bottom bar and the
   * message actions only when what I may do changed (keeps focus and draft).
   */
  updatePermissions() {
    if (this.status !== 'ready' || !this.bottom) return;
    const key = this.permissionKey();
    if (key === this.permKey) return;
    this.permKey = key;
    const hadFocus = this.bottom.contains(document.activeElement);
    const fresh = this.bottomBar();
    this.bottom.replaceWith(fresh);
    this.bottom = fresh;
    this.timeline.renderAll();
    if (hadFocus) this.focusStart();
  }

  /** Composer, read-only note or join bar. */
  bottomBar() {
    const c = this.detail.conversation;
    if (!this.role()) {
      const join = h('button', {
        type: 'button',
        class: 'btn btn-primary',
        on: {
          click: async () => {
            join.disabled = true;
            try {
              await api.joinConversation(this.id);
              scheduleListReload();
              await this.reloadDetail();
              if (this.composer) this.composer.focus();
            } catch (e) {
              join.disabled = false;
              this.showError(e);
            }
          },
        },
      }, t('channels.join'));
      return h('div', { class: 'join-bar' }, h('p', null, t('conv.notMember')), join);
    }
    const reason = this.canPost() ? null : t('conv.announcementOnly');
    const label = c.kind === 'direct' ? t('composer.labelDirect', { name: this.title() }) : t('composer.label', { name: this.title() });
    this.composer = new Composer({
      conversationId: this.id,
      label,
      draft: this.draft,
      disabledReason: reason,
      onDraft: (text) => {
        this.draft = text;
      },
      onTyping: () => this.ctx.events.typing(this.id),
      onSent: (m) => this.onSent(m),
    });
    return this.composer.el;
  }

  /** Put focus somewhere useful after opening the view. */
  focusStart() {
    // On phones the heading gets focus, so the keyboard does not pop up.
    const narrow = window.matchMedia('(max-width: 767px)').matches;
    if (this.composer && this.canPost() && !narrow) this.composer.focus();
    else {
      const title = this.header && this.header.querySelector('h2');
      if (title) title.focus();
    }
  }

  /** Escape pressed: close the thread panel if open. */
  handleEscape() {
    return this.closeThread(true);
  }

  destroy() {
    this.destroyed = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    for (const timer of this.typing.values()) clearTimeout(timer);
    this.typing.clear();
    clearTimeout(this.errorTimer);
    if (this.thread) this.thread.destroy();
  }
}
