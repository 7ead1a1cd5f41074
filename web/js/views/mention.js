// @mention autocomplete for a composer textarea: typing "@" followed by
// letters shows a listbox of matching conversation members (and @channel
// in groups and channels). ArrowUp/ArrowDown move, Enter or Tab inserts
// "@username ", Escape closes, clicking an option inserts. The textarea
// stays focused throughout (combobox pattern with aria-activedescendant).

import * as api from '../api.js';
import { h, uid } from '../dom.js';
import { t } from '../i18n.js';
import { state, ensureUsers } from '../state.js';

const MAX_OPTIONS = 8;
/** "@" at the start or after whitespace/punctuation, then the word typed so far. */
const TRIGGER = /(^|[\s([{,;:!?"'])@([\p{L}\p{N}._-]*)$/u;

export class MentionPicker {
  /**
   * @param {HTMLTextAreaElement} area
   * @param {number} conversationId
   * @param {() => void} onInsert  called after text was inserted
   */
  constructor(area, conversationId, onInsert) {
    this.area = area;
    this.conversationId = conversationId;
    this.onInsert = onInsert;
    this.memberIds = null;
    this.loading = null;
    this.items = [];
    this.active = -1;
    this.start = -1;
    this.listId = uid('mentions');
    this.list = h('ul', { id: this.listId, class: 'mention-list', role: 'listbox', 'aria-label': t('mention.label'), hidden: true });
    area.setAttribute('role', 'combobox');
    area.setAttribute('aria-autocomplete', 'list');
    area.setAttribute('aria-expanded', 'false');
    area.setAttribute('aria-controls', this.listId);
    area.addEventListener('blur', () => setTimeout(() => {
      if (document.activeElement !== this.area) this.close();
    }, 150));
    area.addEventListener('click', () => this.update());
  }

  get open() {
    return !this.list.hidden;
  }

  kind() {
    const s = state.summaries.get(this.conversationId);
    return s ? s.conversation.kind : null;
  }

  /** Load the member ids once (names come from the user cache). */
  loadMembers() {
    if (this.memberIds || this.loading) return this.loading;
    this.loading = api
      .members(this.conversationId)
      .then(async (members) => {
        this.memberIds = members.map((m) => m.user_id);
        await ensureUsers(this.memberIds);
      })
      .catch(() => {
        this.memberIds = null;
      })
      .finally(() => {
        this.loading = null;
        this.update();
      });
    return this.loading;
  }

  /** The "@word" being typed before the caret, or null. */
  query() {
    const { selectionStart, selectionEnd, value } = this.area;
    if (selectionStart !== selectionEnd) return null;
    const m = TRIGGER.exec(value.slice(0, selectionStart));
    if (!m) return null;
    return { start: selectionStart - m[2].length - 1, word: m[2].toLowerCase() };
  }

  /** Recompute the options after input or caret movement. */
  update() {
    const q = this.query();
    if (!q) {
      this.close();
      return;
    }
    if (!this.memberIds) this.loadMembers();
    this.start = q.start;
    const items = [];
    const kind = this.kind();
    if ((kind === 'group' || kind === 'channel') && 'channel'.startsWith(q.word)) {
      items.push({ username: 'channel', name: t('mention.channel') });
    }
    const me = state.me ? state.me.id : null;
    for (const id of this.memberIds || []) {
      if (items.length >= MAX_OPTIONS) break;
      const u = state.users.get(id);
      if (!u || u.missing || !u.username || id === me) continue;
      const name = (u.display_name || '').toLowerCase();
      const match = u.username.toLowerCase().startsWith(q.word)
        || name.startsWith(q.word)
        || name.split(/\s+/).some((part) => part.startsWith(q.word));
      if (match) items.push({ username: u.username, name: u.display_name || u.username });
    }
    items.sort((a, b) => (a.username === 'channel') - (b.username === 'channel') || a.name.localeCompare(b.name));
    this.items = items.slice(0, MAX_OPTIONS);
    if (!this.items.length) {
      this.close();
      return;
    }
    const keep = this.active >= 0 && this.active < this.items.length ? this.active : 0;
    this.render(keep);
  }

  render(active) {
    this.active = active;
    this.list.replaceChildren(...this.items.map((item, i) => h('li', {
      id: `${this.listId}-${i}`,
      class: ['mention-option', i === active && 'is-active'],
      role: 'option',
      'aria-selected': i === active ? 'true' : 'false',
      on: {
        mousedown: (e) => e.preventDefault(), // keep focus in the textarea
        click: () => this.choose(i),
      },
    }, h('span', { class: 'mention-name' }, item.name), ' ', h('span', { class: 'mention-user muted' }, `@${item.username}`))));
    this.list.hidden = false;
    this.area.setAttribute('aria-expanded', 'true');
    this.area.setAttribute('aria-activedescendant', `${this.listId}-${active}`);
    const node = this.list.children[active];
    if (node && typeof node.scrollIntoView === 'function') node.scrollIntoView({ block: 'nearest' });
  }

  close() {
    if (this.list.hidden && !this.items.length) return;
    this.items = [];
    this.active = -1;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.area.setAttribute('aria-expanded', 'false');
    this.area.removeAttribute('aria-activedescendant');
  }

  /** Insert "@username " in place of the typed "@word". */
  choose(i) {
    const item = this.items[i];
    if (!item) return;
    const { value, selectionStart } = this.area;
    const before = value.slice(0, this.start);
    const after = value.slice(selectionStart).replace(/^[\p{L}\p{N}._-]*/u, '');
    const insert = `@${item.username} `;
    this.area.value = before + insert + after.replace(/^ /, '');
    const caret = before.length + insert.length;
    this.area.setSelectionRange(caret, caret);
    this.close();
    this.area.focus();
    if (this.onInsert) this.onInsert();
  }

  /** Handle a keydown; returns true when it was consumed. */
  onKeyDown(e) {
    if (!this.open || e.isComposing) return false;
    const n = this.items.length;
    switch (e.key) {
      case 'ArrowDown':
        this.render((this.active + 1) % n);
        break;
      case 'ArrowUp':
        this.render((this.active - 1 + n) % n);
        break;
      case 'Enter':
      case 'Tab':
        if (e.shiftKey && e.key === 'Tab') return false;
        this.choose(this.active < 0 ? 0 : this.active);
        break;
      case 'Escape':
        this.close();
        break;
      default:
        return false;
    }
    e.preventDefault();
    e.stopPropagation();
    return true;
  }
}
