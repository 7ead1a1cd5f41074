// A field for picking one colleague from the company directory (GET
// /users?search=), used by the search filters: the ARIA combobox pattern
// with a list box below the field. Focus stays in the field; the arrow keys
// move through the people found (aria-activedescendant), Enter or a click
// picks one, Escape closes the list (or, with the list closed, undoes
// unfinished typing). The pick is shown by name in the field; emptying the
// field or the clear button removes it. Typing alone changes nothing: the
// filter changes when someone is picked or the pick is removed.

import * as api from '../api.js';
import { h, debounce } from '../dom.js';
import { icon } from '../icons.js';
import { t, errorText } from '../i18n.js';
import { rememberUsers } from '../state.js';

/** People offered at a time. */
const RESULTS = 8;
const TYPING_PAUSE_MS = 200;
/** The directory search takes at most this many characters. */
const MAX_TEXT = 100;

export class PersonCombo {
  /**
   * @param {object} opts
   * @param {string} opts.id                        id of the text field
   * @param {string} opts.label                     visible label
   * @param {{id: number, display_name: string}|null} opts.value  the person picked
   * @param {(user: object|null) => void} opts.onChange  picked or removed
   */
  constructor({ id, label, value = null, onChange }) {
    this.id = id;
    this.value = value;
    this.onChange = onChange;
    this.results = [];
    this.active = -1;
    this.seq = 0;
    const listId = `${id}-list`;
    this.input = h('input', {
      id,
      type: 'text',
      class: 'input',
      role: 'combobox',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': listId,
      autocomplete: 'off',
      spellcheck: 'false',
      maxlength: String(MAX_TEXT),
      placeholder: t('search.fromPlaceholder'),
      value: value ? value.display_name : '',
      on: {
        input: () => this.onInput(),
        keydown: (e) => this.onKey(e),
      },
    });
    this.list = h('ul', { id: listId, class: 'combo-list', role: 'listbox', 'aria-label': label, hidden: true });
    this.status = h('p', { class: 'combo-status muted small', role: 'status' });
    this.clearBtn = h('button', {
      type: 'button',
      class: 'icon-btn small combo-clear',
      'aria-label': t('search.fromClear'),
      title: t('search.fromClear'),
      hidden: !value,
      on: { click: () => { this.pick(null); this.input.focus(); } },
    }, icon('close'));
    this.search = debounce(() => this.runSearch(), TYPING_PAUSE_MS);
    this.el = h('div', {
      class: 'combo',
      on: { focusout: (e) => { if (!this.el.contains(e.relatedTarget)) this.settle(); } },
    },
    h('label', { for: id }, label),
    h('div', { class: 'combo-row' }, this.input, this.clearBtn),
    this.list,
    this.status);
  }

  get isExpanded() {
    return !this.list.hidden;
  }

  onInput() {
    const text = this.input.value.trim();
    if (!text) {
      this.search.cancel();
      this.seq += 1;
      this.collapse();
      this.status.textContent = '';
      if (this.value) this.pick(null);
      return;
    }
    this.search();
  }

  onKey(e) {
    const open = this.isExpanded;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      e.stopPropagation();
      if (!open) {
        if (this.results.length && this.input.value.trim()) this.expand();
        else if (this.input.value.trim()) this.runSearch();
        return;
      }
      const n = this.results.length;
      if (!n) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      this.setActive(this.active < 0 ? (step > 0 ? 0 : n - 1) : (this.active + step + n) % n);
    } else if (e.key === 'Enter') {
      if (!open || !this.results.length) return; // the form's Enter: search
      e.preventDefault();
      this.pick(this.results[Math.max(0, this.active)]);
    } else if (e.key === 'Escape') {
      if (open) {
        e.preventDefault();
        e.stopPropagation();
        this.collapse();
      } else if (this.input.value !== this.shownText()) {
        e.preventDefault();
        e.stopPropagation();
        this.input.value = this.shownText();
        this.status.textContent = '';
      }
      // Otherwise Escape goes on to close the search.
    }
  }

  /** Focus left the field and its list: undo unfinished typing. */
  settle() {
    this.search.cancel();
    this.seq += 1;
    this.collapse();
    this.status.textContent = '';
    if (this.input.value !== this.shownText()) this.input.value = this.shownText();
  }

  shownText() {
    return this.value ? this.value.display_name : '';
  }

  /** Pick a person (or none) and report it. */
  pick(user) {
    this.search.cancel();
    this.seq += 1;
    this.value = user ? { id: user.id, display_name: user.display_name } : null;
    this.input.value = this.shownText();
    this.clearBtn.hidden = !this.value;
    this.status.textContent = '';
    this.collapse();
    this.onChange(this.value);
  }

  async runSearch() {
    const text = this.input.value.trim().slice(0, MAX_TEXT);
    if (!text) return;
    const seq = ++this.seq;
    try {
      const found = await api.users({ search: text, limit: RESULTS });
      if (seq !== this.seq || document.activeElement !== this.input) return;
      rememberUsers(found);
      this.results = found;
      this.renderList();
      this.status.textContent = found.length ? '' : t('search.fromNone');
      if (found.length) this.expand();
      else this.collapse();
    } catch (err) {
      if (seq !== this.seq) return;
      this.results = [];
      this.collapse();
      this.status.textContent = errorText(err);
    }
  }

  renderList() {
    this.active = -1;
    this.input.removeAttribute('aria-activedescendant');
    this.list.replaceChildren(...this.results.map((u, i) =>
      h('li', {
        id: `${this.list.id}-${u.id}`,
        class: 'combo-option',
        role: 'option',
        'aria-selected': 'false',
        on: {
          // Keep focus in the field: the click picks.
          mousedown: (e) => e.preventDefault(),
          click: () => this.pick(this.results[i]),
        },
      },
      h('span', { class: 'combo-name' }, u.display_name),
      h('span', { class: 'combo-sub muted' }, u.username))));
  }

  setActive(i) {
    const items = this.list.children;
    if (this.active >= 0 && items[this.active]) {
      items[this.active].setAttribute('aria-selected', 'false');
      items[this.active].classList.remove('combo-active');
    }
    this.active = i;
    const item = items[i];
    if (!item) return;
    item.setAttribute('aria-selected', 'true');
    item.classList.add('combo-active');
    this.input.setAttribute('aria-activedescendant', item.id);
    item.scrollIntoView({ block: 'nearest' });
  }

  expand() {
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  }

  collapse() {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
    if (this.active >= 0 && this.list.children[this.active]) {
      this.list.children[this.active].setAttribute('aria-selected', 'false');
      this.list.children[this.active].classList.remove('combo-active');
    }
    this.active = -1;
  }
}
