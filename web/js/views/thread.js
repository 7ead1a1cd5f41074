// The thread panel: the root message, its replies (GET …/messages?thread=
// <root id>) and a composer that posts with thread_root_id. A side panel on
// wide screens, a full-width sheet on narrow ones (see style.css).

import * as api from '../api.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn, errorText } from '../i18n.js';
import { ensureUsers } from '../state.js';
import { MessageScope } from './message.js';
import { Timeline } from './timeline.js';
import { Composer } from './composer.js';
import { Uploads } from './uploads.js';

const PAGE = 50;

export class ThreadPanel {
  /**
   * @param {import('./conversation.js').ConversationView} view
   * @param {object} root  the canonical root Message
   * @param {Element|null} opener  focus returns here on close
   */
  constructor(view, root, opener) {
    this.view = view;
    this.root = root;
    this.opener = opener;
    this.draft = '';
    this.status = 'loading';
    this.error = null;
    this.scope = new MessageScope(view, { inThread: true, prefix: 't' });
    this.timeline = new Timeline({
      scope: this.scope,
      label: t('thread.repliesLabel'),
      daySeparators: true,
      loadPage: async (query) => {
        const page = await api.history(view.id, { thread: this.root.id, limit: PAGE, ...query });
        await ensureUsers(page.messages.map((m) => m.sender_id));
        return { messages: page.messages.map((m) => view.upsert(m)), has_more: page.has_more };
      },
      onScroll: () => view.checkRead(),
      onDrop: (ids) => ids.forEach((id) => view.store.delete(id)),
    });
    this.titleId = `thread-title-${root.id}`;
    this.el = h('aside', {
      class: 'side-panel thread-panel',
      'aria-labelledby': this.titleId,
      on: {
        keydown: (e) => {
          if (e.key === 'Escape' && !e.defaultPrevented) {
            e.stopPropagation();
            view.closeThread(true);
          }
        },
      },
    });
    this.uploads = new Uploads(view.id, { dropOn: this.el, composer: () => this.composer });
    this.render();
  }

  /** Fetch the root and the newest replies; `job` is the promise (reveal.js waits on it). */
  load() {
    this.job = this.fetchAll();
    return this.job;
  }

  async fetchAll() {
    this.status = 'loading';
    try {
      const [page, fresh] = await Promise.all([
        api.history(this.view.id, { thread: this.root.id, limit: PAGE }),
        api.message(this.root.id),
      ]);
      this.view.upsert(fresh);
      await ensureUsers(page.messages.map((m) => m.sender_id).concat(fresh.sender_id));
      this.status = 'ready';
      this.render();
      this.timeline.setMessages(page.messages.map((m) => this.view.upsert(m)), page.has_more);
    } catch (e) {
      this.status = 'error';
      this.error = e;
      this.render();
    }
  }

  render() {
    const close = h('button', {
      type: 'button',
      class: 'icon-btn',
      dataset: { key: 'close' },
      'aria-label': t('thread.close'),
      title: t('thread.close'),
      on: { click: () => this.view.closeThread(true) },
    }, icon('close'));
    this.rootList = h('ol', { class: 'messages thread-root', 'aria-label': t('thread.rootLabel') }, this.scope.render(this.root));
    this.count = h('p', { class: 'thread-count muted' }, tn('thread.replies', this.root.reply_count));
    const parts = [
      h('header', { class: 'pane-header' }, h('h2', { id: this.titleId, class: 'pane-title' }, t('thread.title')), close),
      this.rootList,
      this.count,
    ];
    if (this.status === 'error') {
      parts.push(h('p', { class: 'form-error', role: 'alert' }, errorText(this.error)));
    } else if (this.status === 'loading') {
      parts.push(h('p', { class: 'muted', role: 'status' }, t('thread.loading')));
    } else {
      this.timeline.list.setAttribute('aria-label', t('thread.repliesLabel'));
      this.timeline.renderAll();
      parts.push(this.timeline.el);
    }
    if (this.view.canPost()) {
      this.composer = new Composer({
        conversationId: this.view.id,
        threadRootId: this.root.id,
        label: t('thread.composerLabel'),
        placeholder: t('thread.placeholder'),
        draft: this.draft,
        uploads: this.uploads,
        onDraft: (text) => {
          this.draft = text;
        },
        onTyping: () => this.view.ctx.events.typing(this.view.id),
        onSent: (m) => this.view.onSent(m),
      });
      parts.push(this.composer.el);
    } else {
      this.composer = null;
    }
    const hadFocus = this.el.contains(document.activeElement);
    const key = hadFocus && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    this.el.replaceChildren(...parts);
    if (hadFocus) {
      const again = key && this.el.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) again.focus();
      else this.focus();
    }
  }

  /** A reply arrived (live or own). */
  add(msg, mine) {
    if (this.status !== 'ready') return;
    this.timeline.add(msg, { stick: mine });
  }

  /** A message object changed; re-render it if shown here. */
  messageChanged(msg) {
    if (msg.id === this.root.id) {
      const old = this.scope.nodes.get(msg.id);
      const active = document.activeElement;
      const key = old && old.contains(active) && active.dataset ? active.dataset.key : null;
      const fresh = this.scope.render(msg);
      if (old && old.isConnected) old.replaceWith(fresh);
      else this.rootList.replaceChildren(fresh);
      if (key) this.scope.focus(msg.id, key);
      this.count.textContent = tn('thread.replies', msg.reply_count);
      return;
    }
    this.timeline.update(msg);
  }

  focus() {
    if (this.composer) this.composer.focus();
    else {
      const btn = this.el.querySelector('[data-key="close"]');
      if (btn) btn.focus();
    }
  }

  destroy() {
    // Replies live only here; drop them from the view's message store.
    for (const m of this.timeline.messages) this.view.store.delete(m.id);
    this.uploads.destroy();
    this.scope.destroy();
  }
}
