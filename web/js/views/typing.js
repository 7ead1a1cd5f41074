// The "Anna is typing …" line under a conversation's timeline. Each typing
// event shows the name for TYPING_SHOW_MS; a message from that person, or
// the time running out, removes it.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { state, ensureUsers, shortName } from '../state.js';

const TYPING_SHOW_MS = 6000;

export class TypingLine {
  constructor() {
    this.timers = new Map(); // user id → timer
    this.el = h('div', { class: 'typing muted', 'aria-live': 'polite' });
  }

  /** A fresh element (after the view re-rendered); keeps who is typing. */
  renew() {
    this.el = h('div', { class: 'typing muted', 'aria-live': 'polite' });
    this.render();
    return this.el;
  }

  start(userId) {
    clearTimeout(this.timers.get(userId));
    this.timers.set(userId, setTimeout(() => this.stop(userId), TYPING_SHOW_MS));
    if (!state.users.has(userId)) ensureUsers([userId]).then(() => this.render()).catch(() => {});
    this.render();
  }

  stop(userId) {
    if (!this.timers.has(userId)) return;
    clearTimeout(this.timers.get(userId));
    this.timers.delete(userId);
    this.render();
  }

  render() {
    const names = [...this.timers.keys()].map(shortName);
    let text = '';
    if (names.length === 1) text = t('typing.one', { name: names[0] });
    else if (names.length === 2) text = t('typing.two', { a: names[0], b: names[1] });
    else if (names.length > 2) text = t('typing.many');
    if (this.el.textContent !== text) this.el.textContent = text;
  }

  destroy() {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
