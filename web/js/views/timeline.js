// A scrolling, oldest-first list of messages with day separators, used by
// the main conversation and by the thread panel.
//
// Windowing: the timeline holds one contiguous slice (the "window") of at
// most MAX_WINDOW messages, in memory and in the DOM; the server has the
// rest. Scrolling near the top fetches the next older page (REST `before`),
// scrolling near the bottom of a window that does not reach the newest
// message fetches the next newer page (`after`). Whatever pushes the window
// over its bound is dropped at the end farther from the reader, so a
// conversation with 10,000 messages scrolls with a few hundred nodes.
//
// Every change keeps the message under the reader's eyes where it was (the
// anchor: the first visible message and its offset from the top), except
// when the reader was at the newest message: then the newest stays in view.
//
// A window that does not reach the newest message is "detached": live
// messages do not go into it (they would leave a gap). "Jump to latest"
// loads the newest page instead, and sending a message jumps there too.
// Live messages that arrive while a newer page is loading are kept in a
// small buffer and merged when that page turns out to be the newest.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t, formatDay, dayKey } from '../i18n.js';

/** Most messages kept in memory and in the DOM per timeline. */
export const MAX_WINDOW = 300;
/** Fetch the next page when the reader is this close to an end. */
const EDGE_PX = 800;
const AT_BOTTOM_PX = 48;

const byId = (a, b) => a.id - b.id;

export class Timeline {
  /**
   * @param {object} opts
   * @param {import('./message.js').MessageScope} opts.scope   renders <li>s
   * @param {(q: {before?: number, after?: number, limit?: number}) => Promise<{messages: object[], has_more: boolean}>} opts.loadPage
   *   one REST history page, ascending ids; `has_more` in the direction asked
   * @param {() => void} opts.onScroll        called (throttled) after scrolling
   * @param {string} opts.label               accessible name of the list
   * @param {(ids: number[]) => void} [opts.onDrop] messages left the window
   * @param {() => void} [opts.onRender]      after the rendered range changed
   * @param {boolean} [opts.daySeparators]
   * @param {number} [opts.maxWindow]
   */
  constructor({ scope, loadPage, onScroll, onDrop, onRender, label, daySeparators = true, maxWindow = MAX_WINDOW }) {
    this.scope = scope;
    this.loadPage = loadPage;
    this.onScrollCb = onScroll;
    this.onDrop = onDrop;
    this.onRender = onRender;
    this.daySeparators = daySeparators;
    this.maxWindow = maxWindow;
    this.messages = []; // the window, ascending ids
    this.hasOlder = false; // the server has messages before the window
    this.hasNewer = false; // … and after it (the window is detached)
    this.loading = null; // null | 'older' | 'newer' | 'jump'
    this.gen = 0; // bumped when the window is replaced; stale pages are dropped
    this.buffer = []; // live messages that arrived while a newer page loaded
    this.scrollPending = false;
    this.list = h('ol', { class: 'messages', 'aria-label': label, tabindex: '-1' });
    this.olderBtn = h('button', { type: 'button', class: 'btn btn-link', on: { click: () => this.fetchOlder() } });
    this.newerBtn = h('button', { type: 'button', class: 'btn btn-link', on: { click: () => this.fetchNewer() } });
    this.olderRow = h('div', { class: 'older-row', hidden: true }, this.olderBtn);
    this.newerRow = h('div', { class: 'older-row newer-row', hidden: true }, this.newerBtn);
    this.scroller = h('div', { class: 'scroller', on: { scroll: () => this.handleScroll() } }, this.olderRow, this.list, this.newerRow);
    this.latestBtn = h('button', { type: 'button', class: 'btn latest-btn', hidden: true, on: { click: () => this.jumpToLatest() } });
    this.el = h('div', { class: 'timeline' }, this.scroller, this.latestBtn);
    this.renderRows();
  }

  // --- queries ---------------------------------------------------------------

  get(id) {
    return this.messages.find((m) => m.id === id) || null;
  }

  has(id) {
    return this.messages.some((m) => m.id === id);
  }

  newestId() {
    return this.messages.length ? this.messages[this.messages.length - 1].id : 0;
  }

  oldestId() {
    return this.messages.length ? this.messages[0].id : 0;
  }

  /** Scrolled to the bottom of what is rendered. */
  isAtBottom() {
    const el = this.scroller;
    return el.scrollHeight - el.scrollTop - el.clientHeight <= AT_BOTTOM_PX;
  }

  /** The reader sees the newest message of the conversation. */
  atLiveEnd() {
    return !this.hasNewer && this.isAtBottom();
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // --- replacing the window --------------------------------------------------

  /**
   * Replace the window (a fresh page) and show its newest message.
   * `hasNewer`: the page does not reach the newest message.
   */
  setMessages(messages, hasOlder, { hasNewer = false } = {}) {
    this.gen += 1;
    let next = [...messages].sort(byId);
    if (!hasNewer && this.buffer.length) {
      const newest = next.length ? next[next.length - 1].id : 0;
      next = next.concat(this.buffer.filter((m) => m.id > newest).sort(byId));
    }
    const keep = new Set(next.map((m) => m.id));
    const gone = this.messages.concat(this.buffer).filter((m) => !keep.has(m.id));
    this.buffer = [];
    for (const m of gone) this.scope.forget(m.id);
    this.messages = next;
    this.hasOlder = hasOlder;
    this.hasNewer = hasNewer;
    this.loading = null;
    this.rebuild();
    if (this.onRender) this.onRender();
    this.renderRows();
    this.scrollToBottom();
    if (gone.length && this.onDrop) this.onDrop(gone.map((m) => m.id));
    this.checkEdges();
  }

  /** Rebuild every node (language change, names arrived), keeping the view. */
  renderAll() {
    this.steady(() => this.rebuild());
  }

  rebuild() {
    this.list.replaceChildren(this.run(this.messages, null));
  }

  /** Nodes for consecutive messages, with day separators; `prev` precedes them. */
  run(batch, prev) {
    const frag = document.createDocumentFragment();
    let prevDay = prev ? dayKey(prev.created_at) : null;
    for (const m of batch) {
      const day = dayKey(m.created_at);
      if (this.daySeparators && day !== prevDay) frag.append(this.separator(m.created_at));
      prevDay = day;
      frag.append(this.scope.render(m));
    }
    return frag;
  }

  separator(iso) {
    return h('li', { class: 'day-sep', dataset: { day: dayKey(iso) } }, h('span', null, formatDay(iso)));
  }

  renderRows() {
    const busy = (dir) => this.loading === dir || this.loading === 'jump';
    this.olderRow.hidden = !this.hasOlder;
    this.olderBtn.textContent = busy('older') ? t('timeline.loadingOlder') : t('timeline.loadOlder');
    this.olderBtn.setAttribute('aria-disabled', String(busy('older')));
    this.newerRow.hidden = !this.hasNewer;
    this.newerBtn.textContent = busy('newer') ? t('timeline.loadingNewer') : t('timeline.loadNewer');
    this.newerBtn.setAttribute('aria-disabled', String(busy('newer')));
    this.latestBtn.hidden = !this.hasNewer;
    this.latestBtn.replaceChildren(icon('arrow-down'), ' ', t('timeline.latest'));
    this.latestBtn.setAttribute('aria-disabled', String(this.loading === 'jump'));
  }

  // --- keeping the view steady -----------------------------------------------

  /**
   * Run a DOM change without moving what the reader sees, then keep the
   * window within its bound. `stick`: end at the newest message anyway.
   */
  steady(change, { stick = false, quiet = false } = {}) {
    const follow = stick || (!this.hasNewer && this.isAtBottom());
    const anchor = follow ? null : this.anchor();
    change();
    if (!quiet) {
      this.trim(anchor);
      if (this.onRender) this.onRender();
      this.renderRows();
    }
    if (follow) this.scrollToBottom();
    else if (anchor) this.restore(anchor);
  }

  /** The first message whose bottom is below the top edge, and its offset. */
  anchor() {
    const top = this.scroller.getBoundingClientRect().top;
    let lo = 0;
    let hi = this.messages.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const node = this.scope.nodes.get(this.messages[mid].id);
      if (!node || !node.isConnected) return null;
      if (node.getBoundingClientRect().bottom > top) {
        found = mid;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    if (found < 0) return null;
    const { id } = this.messages[found];
    return { id, offset: this.scope.nodes.get(id).getBoundingClientRect().top - top };
  }

  restore(anchor) {
    const node = this.scope.nodes.get(anchor.id);
    if (!node || !node.isConnected || !this.list.contains(node)) return;
    const delta = node.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top - anchor.offset;
    if (delta) this.scroller.scrollTop += delta;
  }

  /** Drop what exceeds the bound, at the end farther from the anchor. */
  trim(anchor) {
    const extra = this.messages.length - this.maxWindow;
    if (extra <= 0) return;
    let at = anchor ? this.messages.findIndex((m) => m.id === anchor.id) : -1;
    if (at < 0) at = this.messages.length - 1;
    if (at >= this.messages.length / 2) this.dropTop(extra);
    else this.dropBottom(extra);
  }

  dropTop(k) {
    const dropped = this.messages.splice(0, k);
    this.removeNodes(dropped);
    const first = this.messages[0];
    const node = first && this.scope.nodes.get(first.id);
    if (node) {
      // Separators of dropped messages (and the first one's) go; one comes back.
      while (node.previousElementSibling) node.previousElementSibling.remove();
      if (this.daySeparators) node.before(this.separator(first.created_at));
    }
    this.hasOlder = true;
    if (this.onDrop) this.onDrop(dropped.map((m) => m.id));
  }

  dropBottom(k) {
    const dropped = this.messages.splice(this.messages.length - k, k);
    this.removeNodes(dropped);
    const last = this.messages[this.messages.length - 1];
    const node = last && this.scope.nodes.get(last.id);
    if (node) while (node.nextElementSibling) node.nextElementSibling.remove();
    this.hasNewer = true;
    if (this.onDrop) this.onDrop(dropped.map((m) => m.id));
  }

  removeNodes(list) {
    const active = document.activeElement;
    let hadFocus = false;
    for (const m of list) {
      const node = this.scope.nodes.get(m.id);
      if (node) {
        if (node.contains(active)) hadFocus = true;
        node.remove();
      }
      this.scope.forget(m.id);
    }
    if (hadFocus) this.list.focus({ preventScroll: true });
  }

  // --- adding and changing messages -------------------------------------------

  /**
   * Add a new message (live or just sent). Returns false when the timeline
   * does not keep it (already there, or the window is detached). `stick`
   * (own messages) scrolls to it, loading the newest page if needed.
   */
  add(msg, { stick = false } = {}) {
    if (this.has(msg.id) || this.buffer.includes(msg)) return false;
    if (this.loading === 'jump' || (this.hasNewer && this.loading === 'newer')) {
      // The window is about to be replaced or extended: merge it then.
      this.buffer.push(msg);
      return true;
    }
    if (this.hasNewer) {
      if (stick) this.jumpToLatest();
      return stick;
    }
    this.addAll([msg], { stick });
    return true;
  }

  /** Append messages that are newer than the window (catch-up after a reconnect). */
  addAll(list, { stick = false } = {}) {
    const fresh = list.filter((m) => !this.has(m.id)).sort(byId);
    if (!fresh.length || this.hasNewer) return;
    this.steady(() => {
      const newest = this.newestId();
      if (fresh[0].id < newest) {
        // Out of order (rare): insert and rebuild.
        this.messages = this.messages.concat(fresh).sort(byId);
        this.rebuild();
      } else {
        this.list.append(this.run(fresh, this.messages[this.messages.length - 1] || null));
        this.messages = this.messages.concat(fresh);
      }
    }, { stick });
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
    let fresh = null;
    this.steady(() => {
      fresh = this.scope.render(msg);
      old.replaceWith(fresh);
    }, { quiet: true });
    if (hadFocus) {
      const again = key && fresh.querySelector(`[data-key="${CSS.escape(key)}"]`);
      if (again) again.focus();
      else {
        fresh.tabIndex = -1;
        fresh.focus();
      }
    }
  }

  // --- loading pages ----------------------------------------------------------

  /**
   * Fetch pages for a change of the window (`kind` shows in the rows).
   * Resolves with the pages, or null when a request failed (the window
   * stays; scrolling or the buttons try again) or the window was replaced
   * meanwhile. `replace`: this load supersedes any other.
   */
  async fetchPages(kind, queries, { replace = false } = {}) {
    const gen = replace ? ++this.gen : this.gen;
    this.loading = kind;
    this.renderRows();
    let pages = null;
    try {
      pages = await Promise.all(queries.map((q) => this.loadPage(q)));
    } catch {
      pages = null;
    }
    if (gen !== this.gen) {
      for (const page of pages || []) this.discard(page);
      return null;
    }
    this.loading = null;
    if (!pages) this.renderRows();
    return pages;
  }

  /** Fetch and prepend the next older page, keeping the view in place. */
  async fetchOlder() {
    if (this.loading || !this.hasOlder || !this.messages.length) return;
    const pages = await this.fetchPages('older', [{ before: this.oldestId() }]);
    if (!pages) return;
    const [page] = pages;
    this.steady(() => {
      const oldest = this.oldestId();
      const batch = page.messages.filter((m) => m.id < oldest).sort(byId);
      this.hasOlder = page.has_more;
      if (batch.length) this.prepend(batch);
    });
    this.checkEdges();
  }

  prepend(batch) {
    const first = this.messages[0];
    const firstNode = first && this.scope.nodes.get(first.id);
    const lastDay = dayKey(batch[batch.length - 1].created_at);
    if (firstNode && this.daySeparators && dayKey(first.created_at) === lastDay) {
      // The old first message's separator repeats the batch's last day.
      for (let el = firstNode.previousElementSibling; el; el = el.previousElementSibling) {
        if (el.classList.contains('day-sep')) {
          el.remove();
          break;
        }
      }
    }
    this.list.prepend(this.run(batch, null));
    this.messages = batch.concat(this.messages);
  }

  /** Fetch and append the next newer page (the window is detached). */
  async fetchNewer() {
    if (this.loading || !this.hasNewer || !this.messages.length) return;
    const pages = await this.fetchPages('newer', [{ after: this.newestId() }]);
    if (!pages) return;
    const [page] = pages;
    const buffered = this.buffer;
    this.buffer = [];
    this.steady(() => {
      const newest = this.newestId();
      let batch = page.messages.filter((m) => m.id > newest).sort(byId);
      this.hasNewer = page.has_more;
      if (!this.hasNewer) {
        // This page is the newest: live messages that came meanwhile follow it.
        const top = batch.length ? batch[batch.length - 1].id : newest;
        batch = batch.concat(buffered.filter((m) => m.id > top).sort(byId));
      }
      if (batch.length) {
        this.list.append(this.run(batch, this.messages[this.messages.length - 1] || null));
        this.messages = this.messages.concat(batch);
      }
    });
    const leftover = buffered.filter((m) => !this.has(m.id)).map((m) => m.id);
    if (leftover.length && this.onDrop) this.onDrop(leftover);
    this.checkEdges();
  }

  /** Load the newest page and show its end ("Jump to latest"). */
  async jumpToLatest() {
    if (this.loading === 'jump') return;
    const hadFocus = this.el.contains(document.activeElement);
    const pages = await this.fetchPages('jump', [{}], { replace: true });
    if (!pages) return;
    this.setMessages(pages[0].messages, pages[0].has_more);
    if (hadFocus && !this.el.contains(document.activeElement)) this.list.focus({ preventScroll: true });
  }

  /**
   * Replace the window with the messages after `id` (and a few before it,
   * for context), e.g. to show the first unread message. False if that failed.
   */
  async showAfter(id) {
    const pages = await this.fetchPages('jump', [{ before: id + 1, limit: 20 }, { after: id }], { replace: true });
    if (!pages) return false;
    const [older, newer] = pages;
    const seen = new Set();
    const all = older.messages.concat(newer.messages).filter((m) => !seen.has(m.id) && seen.add(m.id));
    this.setMessages(all, older.has_more, { hasNewer: newer.has_more });
    return true;
  }

  /** A page that arrived for a window that is gone: forget its messages. */
  discard(page) {
    if (!page || !this.onDrop) return;
    const ids = page.messages.filter((m) => !this.has(m.id) && !this.buffer.includes(m)).map((m) => m.id);
    if (ids.length) this.onDrop(ids);
  }

  /** Load more when the reader is near an end of the window. */
  checkEdges() {
    const el = this.scroller;
    if (this.loading || !this.messages.length || !el.isConnected || el.clientHeight === 0) return;
    if (this.hasOlder && el.scrollTop < EDGE_PX) this.fetchOlder();
    else if (this.hasNewer && el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX) this.fetchNewer();
  }

  handleScroll() {
    this.checkEdges();
    if (this.scrollPending) return;
    this.scrollPending = true;
    setTimeout(() => {
      this.scrollPending = false;
      if (this.onScrollCb) this.onScrollCb();
    }, 150);
  }
}
