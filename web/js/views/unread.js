// "Jump to first unread": when a conversation opens with unread messages,
// a button scrolls to the first message newer than the read position and
// focuses it; a "New" line marks that message while it is in the window.
// When it is not loaded, the timeline replaces its window with the page
// after the read position (two requests, however far back it is). The
// button hides after it was used, or when the reader scrolled away and
// back to the bottom, or when the first unread message came into view.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';

export class UnreadJump {
  /** @param {import('./timeline.js').Timeline} timeline */
  constructor(timeline, scope) {
    this.timeline = timeline;
    this.scope = scope;
    this.lastRead = null; // read position when the view opened (null: nothing unread)
    this.started = false;
    this.visible = false;
    this.away = false;
    this.busy = false;
    this.el = h('div', { class: 'unread-bar', hidden: true });
  }

  /** Remember the read position from the list summary (first load only). */
  start(summary) {
    if (this.started) return;
    this.started = true;
    if (!summary || !summary.unread_count) return;
    this.lastRead = summary.last_read_message_id || 0;
    this.decorate();
    const first = this.firstUnread();
    this.visible = !(first && this.inView(first));
    this.render();
  }

  /** The first loaded unread message, if the loaded range surely contains it. */
  firstUnread() {
    if (this.lastRead === null) return null;
    const tl = this.timeline;
    if (tl.hasOlder && tl.oldestId() > this.lastRead) return null;
    return tl.messages.find((m) => m.id > this.lastRead) || null;
  }

  inView(msg) {
    const node = this.scope.nodes.get(msg.id);
    if (!node || !node.isConnected) return false;
    const box = this.timeline.scroller.getBoundingClientRect();
    const r = node.getBoundingClientRect();
    return r.top >= box.top - 1 && r.top < box.bottom - 8;
  }

  /** Put the "New" line before the first unread message (after any re-render). */
  decorate() {
    for (const old of this.timeline.list.querySelectorAll('.new-sep')) old.remove();
    const first = this.firstUnread();
    const node = first && this.scope.nodes.get(first.id);
    if (!node || !node.isConnected) return;
    // A plain list item (a list may hold only those): it reads "New".
    node.before(h('li', { class: 'new-sep' }, h('span', null, t('unread.new'))));
  }

  render() {
    this.el.hidden = !this.visible;
    this.el.replaceChildren(this.visible
      ? h('button', { type: 'button', class: 'btn unread-btn', disabled: this.busy, on: { click: () => this.jump() } }, icon('arrow-up'), ' ', t('unread.jump'))
      : null);
  }

  hide() {
    if (!this.visible) return;
    const hadFocus = this.el.contains(document.activeElement);
    this.visible = false;
    this.render();
    if (hadFocus) this.timeline.list.focus();
  }

  /** Called after scrolling. */
  onScroll() {
    if (!this.visible || this.busy) return;
    if (!this.timeline.isAtBottom()) this.away = true;
    else if (this.away) this.hide();
    const first = this.firstUnread();
    if (first && this.inView(first)) this.hide();
  }

  async jump() {
    if (this.busy || this.lastRead === null) return;
    this.busy = true;
    this.render();
    const tl = this.timeline;
    try {
      // Offline, showAfter keeps the window; the reader lands on what is loaded.
      if (!this.firstUnread()) await tl.showAfter(this.lastRead);
    } finally {
      this.busy = false;
    }
    this.decorate();
    const target = this.firstUnread() || tl.messages.find((m) => m.id > this.lastRead);
    this.visible = false;
    this.render();
    const node = target && this.scope.nodes.get(target.id);
    if (!node) return;
    const sep = node.previousElementSibling;
    (sep && sep.classList.contains('new-sep') ? sep : node).scrollIntoView({ block: 'start' });
    node.tabIndex = -1;
    node.focus({ preventScroll: true });
  }
}
