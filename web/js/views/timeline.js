// A scrolling, oldest-first list of messages with day separators, used by
// the main conversation and by the thread panel.
//
// The DOM stays bounded by simple windowing: while the reader is at the
// bottom, only the newest MAX_WINDOW messages are kept (older ones are
// dropped from memory and the DOM and can be loaded again by scrolling up).
// Scrolling up loads older pages (50 at a time) and keeps them while the
// reader is up there, so the window grows only by what they scrolled back
// to. What remains for later: real virtualisation (recycling nodes while
// scrolled far back, and dropping the newest end of a very long scroll-back).

import { h } from '../dom.js';
import { t, formatDay, dayKey } from '../i18n.js';

export const MAX_WINDOW = 300;
const NEAR_TOP_PX = 200;
const AT_BOTTOM_PX = 48;

export class Timeline {
  /**
   * @param {object} opts
   * @param {import('./message.js').MessageScope} opts.scope   renders <li>s
   * @param {(beforeId: number) => Promise<{messages: object[], has_more: boolean}>} opts.loadOlder
   * @param {() => void} opts.onScroll        called (throttled) after scrolling
   * @param {string} opts.label               accessible name of the list
   * @param {(ids: number[]) => void} [opts.onDrop] messages left the window
   * @param {boolean} [opts.daySeparators]
   */
  constructor({ scope, loadOlder, onScroll, onDrop, onRender, label, daySeparators = true }) {
    this.onDrop = onDrop;
    this.onRender = onRender;
    this.scope = scope;
    this.loadOlder = loadOlder;
    this.onScrollCb = onScroll;
    this.label = label;
    this.daySeparators = daySeparators;
    this.messages = [];
    this.hasOlder = false;
    this.loading = false;
    this.list = h('ol', { class: 'messages', 'aria-label': label, tabindex: '-1' });
    this.olderRow = h('div', { class: 'older-row' });
    this.el = h('div', { class: 'scroller', on: { scroll: () => this.handleScroll() } }, this.olderRow, this.list);
    this.scrollPending = false;
    this.renderOlderRow();
  }

  /** Replace all messages (a fresh page) and show the newest. */
  setMessages(messages, hasOlder) {
    this.messages = [...messages].sort((a, b) => a.id - b.id);
    this.hasOlder = hasOlder;
    this.renderAll();
    this.scrollToBottom();
  }

  /** Rebuild every node (language change, names arrived). */
  renderAll() {
    const top = this.el.scrollTop;
    const atBottom = this.isAtBottom();
    const frag = document.createDocumentFragment();
    let prevDay = null;
    for (const m of this.messages) {
      const day = dayKey(m.created_at);
      if (this.daySeparators && day !== prevDay) frag.append(this.separator(m.created_at, day));
      prevDay = day;
      frag.append(this.scope.render(m));
    }
    this.list.replaceChildren(frag);
    if (this.onRender) this.onRender();
    this.renderOlderRow();
    if (atBottom) this.scrollToBottom();
    else this.el.scrollTop = top;
  }

  separator(iso, day) {
    return h('li', { class: 'day-sep', dataset: { day } }, h('span', null, formatDay(iso)));
  }

  renderOlderRow() {
    if (!this.hasOlder) {
      this.olderRow.replaceChildren();
      this.olderRow.hidden = true;
      return;
    }
    this.olderRow.hidden = false;
    this.olderRow.replaceChildren(
      this.loading
        ? h('p', { class: 'muted', role: 'status' }, t('timeline.loadingOlder'))
        : h('button', { type: 'button', class: 'btn btn-link', on: { click: () => this.fetchOlder() } }, t('timeline.loadOlder')),
    );
  }

  get(id) {
    return this.messages.find((m) => m.id === id) || null;
  }

  newestId() {
    return this.messages.length ? this.messages[this.messages.length - 1].id : 0;
  }

  oldestId() {
    return this.messages.length ? this.messages[0].id : 0;
  }

  isAtBottom() {
    const el = this.el;
    return el.scrollHeight - el.scrollTop - el.clientHeight <= AT_BOTTOM_PX;
  }

  scrollToBottom() {
    this.el.scrollTop = this.el.scrollHeight;
  }

  /**
   * Add a new message (live or just sent). Returns false when it is
   * already there. `stick` forces scrolling to it (own messages).
   */
  add(msg, { stick = false } = {}) {
    if (this.messages.some((m) => m.id === msg.id)) return false;
    const wasAtBottom = this.isAtBottom();
    const last = this.messages[this.messages.length - 1];
    if (last && msg.id < last.id) {
      // Out of order (rare): insert and rebuild.
      this.messages.push(msg);
      this.messages.sort((a, b) => a.id - b.id);
      this.renderAll();
    } else {
      this.messages.push(msg);
      const day = dayKey(msg.created_at);
      if (this.daySeparators && (!last || dayKey(last.created_at) !== day)) this.list.append(this.separator(msg.created_at, day));
      this.list.append(this.scope.render(msg));
    }
    if (wasAtBottom || stick) {
      this.trim();
      this.scrollToBottom();
    }
    return true;
  }

  /**
   * Re-render one message in place. If focus was inside it, focus moves to
   * the same control in the new node (matched by data-key).
   */
  update(msg) {
    const old = this.scope.nodes.get(msg.id);
    if (!old || !old.isConnected || !this.list.contains(old)) return;
    const active = document.activeElement;
    const hadFocus = old.contains(active);
    const key = hadFocus && active.dataset ? active.dataset.key : null;
    const fresh = this.scope.render(msg);
    old.replaceWith(fresh);
    if (hadFocus) {
      const again = key && fresh.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) again.focus();
      else {
        fresh.tabIndex = -1;
        fresh.focus();
      }
    }
  }

  /** Fetch and prepend an older page, keeping what is on screen in place. */
  async fetchOlder() {
    if (this.loading || !this.hasOlder || !this.messages.length) return;
    this.loading = true;
    this.renderOlderRow();
    try {
      const page = await this.loadOlder(this.oldestId());
      this.prepend(page.messages, page.has_more);
    } catch {
      // Leave hasOlder set; the reader can try again.
    } finally {
      this.loading = false;
      this.renderOlderRow();
    }
  }

  prepend(older, hasMore) {
    const known = new Set(this.messages.map((m) => m.id));
    const batch = older.filter((m) => !known.has(m.id)).sort((a, b) => a.id - b.id);
    this.hasOlder = hasMore;
    if (!batch.length) return;
    const prevHeight = this.el.scrollHeight;
    const prevTop = this.el.scrollTop;
    const frag = document.createDocumentFragment();
    let prevDay = null;
    for (const m of batch) {
      const day = dayKey(m.created_at);
      if (this.daySeparators && day !== prevDay) frag.append(this.separator(m.created_at, day));
      prevDay = day;
      frag.append(this.scope.render(m));
    }
    // The old top separator repeats the batch's last day: drop it.
    const first = this.list.firstElementChild;
    if (first && first.classList.contains('day-sep') && first.dataset.day === prevDay) first.remove();
    this.list.prepend(frag);
    this.messages = batch.concat(this.messages);
    if (this.onRender) this.onRender();
    // Keep the same messages under the reader's eyes.
    this.el.scrollTop = prevTop + (this.el.scrollHeight - prevHeight);
  }

  /** Drop the oldest messages beyond the window (only called at the bottom). */
  trim() {
    const extra = this.messages.length - MAX_WINDOW;
    if (extra <= 0) return;
    const dropped = this.messages.splice(0, extra);
    for (const m of dropped) {
      const node = this.scope.nodes.get(m.id);
      if (node) node.remove();
      this.scope.forget(m.id);
    }
    if (this.onDrop) this.onDrop(dropped.map((m) => m.id));
    // Remove separators left in front of the new first message and put
    // the right one back.
    while (this.list.firstElementChild && this.list.firstElementChild.classList.contains('day-sep')) {
      this.list.firstElementChild.remove();
    }
    const first = this.messages[0];
    if (first && this.daySeparators) this.list.prepend(this.separator(first.created_at, dayKey(first.created_at)));
    this.hasOlder = true;
    if (this.onRender) this.onRender();
    this.renderOlderRow();
  }

  handleScroll() {
    if (this.el.scrollTop < NEAR_TOP_PX && this.hasOlder && !this.loading) this.fetchOlder();
    if (this.scrollPending) return;
    this.scrollPending = true;
    setTimeout(() => {
      this.scrollPending = false;
      if (this.onScrollCb) this.onScrollCb();
    }, 150);
  }
}
