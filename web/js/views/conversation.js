// The conversation view: header, message timeline, typing line, composer
// (its files: uploads.js) and, when open, one side panel: a thread or the
// details and members. It owns one canonical object per message id, so the
// main timeline and the thread panel agree. Live events: live.js.

import * as api from '../api.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { backLink } from './nav.js';
import { t, tn, errorText } from '../i18n.js';
import { state, conversationTitle, ensureUsers, markLocallyRead, applyEvent, scheduleListReload, notify } from '../state.js';
import { MessageScope } from './message.js';
import { Timeline } from './timeline.js';
import { Composer } from './composer.js';
import { ThreadPanel } from './thread.js';
import { DetailsPanel } from './details.js';
import { UnreadJump } from './unread.js';
import { TypingLine } from './typing.js';
import { applyLiveEvent } from './live.js';
import { revealMessage } from './reveal.js';
import { Uploads } from './uploads.js';

const PAGE = 50;

export class ConversationView {
  /**
   * @param {number} id
   * @param {object} ctx
   * @param {(path: string) => void} ctx.navigate
   * @param {import('../events.js').EventStream} ctx.events
   * @param {(opts: {scoped: boolean}) => void} ctx.openSearch  the message search, for this conversation
   */
  constructor(id, ctx) {
    this.id = id;
    this.ctx = ctx;
    this.detail = null; // ConversationDetail {conversation, role}
    this.status = 'loading'; // loading | ready | missing | error
    this.loadError = null;
    this.store = new Map(); // message id → canonical Message
    this.draft = '';
    this.typing = new TypingLine();
    this.lastMarked = 0;
    this.panel = null; // ThreadPanel | DetailsPanel
    this.destroyed = false;
    this.revealAfterLoad = null; // message id to show once loaded (reveal.js)
    this.scope = new MessageScope(this, { inThread: false, prefix: 'm' });
    this.timeline = new Timeline({
      scope: this.scope,
      label: t('conv.messages'),
      loadPage: async (query) => {
        const page = await api.history(this.id, { limit: PAGE, ...query });
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
    this.uploads = new Uploads(id, { dropOn: this.main, composer: () => this.composer }); // kept across composer rebuilds
    this.onVisibility = () => this.checkRead();
    document.addEventListener('visibilitychange', this.onVisibility);
    this.render();
  }

  /** The open thread panel, if any. */
  get thread() {
    return this.panel instanceof ThreadPanel ? this.panel : null;
  }

  /** The open details panel, if any. */
  get details() {
    return this.panel instanceof DetailsPanel ? this.panel : null;
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
      if (this.revealAfterLoad) {
        this.reveal(this.revealAfterLoad);
        this.revealAfterLoad = null;
      }
      if (this.needsCatchUp) {
        this.needsCatchUp = false;
        this.catchUp();
      }
      if (this.thread) {
        this.thread.root = this.store.get(this.thread.root.id) || this.upsert(this.thread.root);
        this.thread.load();
      } else if (this.details) {
        this.details.load();
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
    if (this.details) this.details.load();
    // A detached window (scrolled far back) has nothing to append; "Jump to
    // latest" loads what is new.
    if (this.timeline.hasNewer) return undefined;
    try {
      const page = await api.history(this.id, { after: this.timeline.newestId() || undefined, limit: 200 });
      if (page.has_more) return this.load();
      await ensureUsers(page.messages.map((m) => m.sender_id));
      this.timeline.addAll(page.messages.filter((m) => !this.store.has(m.id)).map((m) => this.upsert(m)));
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

  /** Show a message in context (search hits, ?m= links); waits for the load. */
  reveal(id) {
    if (this.status !== 'ready') {
      this.revealAfterLoad = id;
      return Promise.resolve(false);
    }
    return revealMessage(this, id);
  }

  /** Open (or focus) the thread of a root message; resolves once its replies loaded. */
  openThread(msg) {
    if (this.thread && this.thread.root.id === msg.id) {
      this.thread.focus();
      return this.thread.job;
    }
    return this.openPanel(new ThreadPanel(this, msg, document.activeElement));
  }

  /** Open the details and members panel, or close it when it is open. */
  toggleDetails() {
    if (this.details) this.closePanel(true);
    else this.openPanel(new DetailsPanel(this, document.activeElement));
  }

  openPanel(panel) {
    this.closePanel(false);
    this.panel = panel;
    this.el.append(panel.el);
    this.el.classList.add('has-panel');
    this.updateDetailsButton();
    const job = panel.load();
    panel.focus();
    return job;
  }

  closePanel(restoreFocus = true) {
    const panel = this.panel;
    if (!panel) return false;
    panel.destroy();
    panel.el.remove();
    this.panel = null;
    this.el.classList.remove('has-panel');
    this.updateDetailsButton();
    if (restoreFocus) {
      if (panel.opener && panel.opener.isConnected) panel.opener.focus();
      else if (this.composer) this.composer.focus();
    }
    return true;
  }

  /** Used by the thread panel's close button. */
  closeThread(restoreFocus = true) {
    return this.thread ? this.closePanel(restoreFocus) : false;
  }

  /** A message was created (live event or our own send). */
  ingestCreated(m) {
    if (this.store.has(m.id)) return;
    const msg = this.upsert(m);
    this.typing.stop(m.sender_id);
    const mine = state.me && m.sender_id === state.me.id;
    if (m.thread_root_id === null || m.thread_root_id === undefined) {
      // Not kept when the reader is far back in history (a detached window).
      if (!this.timeline.add(msg, { stick: mine })) {
        this.store.delete(msg.id);
        return;
      }
    } else {
      const root = this.store.get(m.thread_root_id);
      if (root && (!root.last_reply_at || Date.parse(m.created_at) > Date.parse(root.last_reply_at))) {
        root.reply_count += 1;
        root.last_reply_at = m.created_at;
        this.messageChanged(root);
      }
      if (this.thread && this.thread.root.id === m.thread_root_id) this.thread.add(msg, mine);
      else this.store.delete(msg.id); // replies are kept only while their thread is open
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
    applyLiveEvent(this, frame);
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

  // --- read position -----------------------------------------------------------

  /** Mark read when the newest message is visible. */
  checkRead() {
    if (this.status !== 'ready' || !this.role() || !this.el.isConnected) return;
    if (document.visibilityState !== 'visible' || !this.timeline.atLiveEnd()) return;
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
    this.detailsBtn = h('button', {
      type: 'button',
      class: 'icon-btn',
      'aria-label': t('details.open'),
      title: t('details.open'),
      'aria-expanded': 'false',
      hidden: this.status !== 'ready',
      on: { click: () => this.toggleDetails() },
    }, icon('info'));
    const searchBtn = h('button', {
      type: 'button',
      class: 'icon-btn',
      'aria-label': t('search.inConversation'),
      title: t('search.inConversation'),
      hidden: this.status !== 'ready',
      on: { click: () => this.ctx.openSearch({ scoped: true }) },
    }, icon('search'));
    this.header = h('header', { class: 'pane-header conv-header' }, back, h('div', { class: 'conv-titles' }), searchBtn, this.detailsBtn);
    this.updateDetailsButton();
    this.errorLine = h('p', { class: 'view-error', role: 'alert' });
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
    this.main.replaceChildren(this.header, this.errorLine, this.unread.el, this.timeline.el, this.typing.renew(), this.bottom);
    this.renderHeader();
    if (this.panel) this.panel.render();
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
    const hadFocus = titles.contains(document.activeElement);
    titles.replaceChildren(
      h('h2', { id: `conv-title-${this.id}`, class: 'pane-title', tabindex: '-1' }, c.kind === 'channel' ? `# ${this.title()}` : this.title(),
        c.announcement ? h('span', { class: 'tag' }, t('channels.announcement')) : null,
        c.is_public ? null : c.kind === 'channel' ? h('span', { class: 'tag' }, t('conv.private')) : null),
      sub ? h('p', { class: 'conv-sub muted' }, sub) : null,
    );
    if (hadFocus) titles.querySelector('h2').focus();
    if (this.composer) this.composer.setLabel(this.composerLabel());
  }

  updateDetailsButton() {
    if (!this.detailsBtn) return;
    this.detailsBtn.setAttribute('aria-expanded', String(!!this.details));
    if (this.details) this.detailsBtn.setAttribute('aria-controls', this.details.el.id);
    else this.detailsBtn.removeAttribute('aria-controls');
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
    if (this.panel) this.panel.render();
    if (hadFocus) this.focusStart();
  }

  composerLabel() {
    const name = this.title();
    return this.kind() === 'direct' ? t('composer.labelDirect', { name }) : t('composer.label', { name });
  }

  /** Composer, read-only note or join bar. */
  bottomBar() {
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
    this.composer = new Composer({
      conversationId: this.id,
      label: this.composerLabel(),
      draft: this.draft,
      disabledReason: reason,
      uploads: this.uploads,
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

  /** Escape pressed: close the side panel if open. */
  handleEscape() {
    return this.closePanel(true);
  }

  /** I left the conversation (details panel): back to the list. */
  left() {
    state.summaries.delete(this.id);
    notify('list');
    scheduleListReload();
    this.ctx.navigate('/');
  }

  destroy() {
    this.destroyed = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.typing.destroy();
    clearTimeout(this.errorTimer);
    if (this.panel) this.panel.destroy();
    this.uploads.destroy();
    this.scope.destroy(); // revokes the attachments' object URLs
  }
}
