// Picking colleagues from the company directory (GET /users?search=): a
// labelled search field, the picked people as removable chips and the
// results as toggle buttons (aria-pressed). Used by the new-conversation
// dialog and by the members panel.

import * as api from '../api.js';
import { h, uid, debounce } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn, errorText } from '../i18n.js';
import { state, rememberUsers } from '../state.js';

const RESULTS = 30;

export class PeoplePicker {
  /**
   * @param {object} opts
   * @param {string} opts.label                visible label of the search field
   * @param {() => Set<number>} [opts.exclude] user ids not to offer (besides me)
   * @param {boolean} [opts.single]            at most one person
   * @param {() => void} [opts.onChange]       the selection changed
   */
  constructor({ label, exclude = () => new Set(), single = false, onChange = () => {} }) {
    this.exclude = exclude;
    this.single = single;
    this.onChange = onChange;
    /** @type {Map<number, object>} */
    this.selected = new Map();
    this.results = [];
    this.searchSeq = 0;
    this.input = h('input', {
      id: uid('people'),
      type: 'search',
      class: 'input',
      autocomplete: 'off',
      placeholder: t('new.searchPlaceholder'),
      on: {
        input: () => this.search(this.input.value),
        keydown: (e) => {
          // Enter picks the first result instead of submitting the form.
          if (e.key === 'Enter') {
            e.preventDefault();
            if (this.results.length) this.toggle(this.results[0]);
          }
        },
      },
    });
    this.hint = h('p', { class: 'hint muted', id: uid('hint') });
    this.input.setAttribute('aria-describedby', this.hint.id);
    this.chips = h('ul', { class: 'chips', 'aria-label': t('new.selected') });
    this.resultList = h('ul', { class: 'pick-list', 'aria-label': t('new.results') });
    this.status = h('p', { class: 'muted', role: 'status' });
    this.search = debounce((text) => this.runSearch(text), 250);
    this.el = h('div', { class: 'people-picker' },
      h('div', { class: 'field' }, h('label', { for: this.input.id }, label), this.input, this.hint),
      this.chips,
      this.status,
      this.resultList);
  }

  /** User ids picked so far. */
  ids() {
    return [...this.selected.keys()];
  }

  setHint(text) {
    this.hint.textContent = text;
  }

  /** Allow one person only (keeps the first picked). */
  setSingle(single) {
    this.single = single;
    if (single && this.selected.size > 1) {
      const first = this.selected.values().next().value;
      this.selected.clear();
      this.selected.set(first.id, first);
      this.onChange();
    }
    this.render();
  }

  clear() {
    this.selected.clear();
    this.input.value = '';
    this.onChange();
    this.runSearch('');
  }

  focus() {
    this.input.focus();
  }

  toggle(user) {
    if (this.selected.has(user.id)) this.selected.delete(user.id);
    else {
      if (this.single) this.selected.clear();
      this.selected.set(user.id, user);
    }
    this.onChange();
    this.render();
  }

  /** Apply the exclusion again (e.g. members changed) and re-render. */
  refresh() {
    const excluded = this.exclude();
    for (const id of [...this.selected.keys()]) if (excluded.has(id)) this.selected.delete(id);
    this.results = this.results.filter((u) => !excluded.has(u.id));
    this.render();
  }

  render() {
    this.chips.replaceChildren(
      ...[...this.selected.values()].map((u) =>
        h('li', { class: 'chip' },
          h('span', null, u.display_name),
          h('button', {
            type: 'button',
            class: 'chip-remove',
            'aria-label': t('new.remove', { name: u.display_name }),
            on: { click: () => { this.toggle(u); this.input.focus(); } },
          }, icon('close'))),
      ),
    );
    const focusedId = this.resultList.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    this.resultList.replaceChildren(
      ...this.results.map((u) =>
        h('li', null,
          h('button', {
            type: 'button',
            class: 'pick',
            dataset: { id: u.id },
            'aria-pressed': this.selected.has(u.id),
            on: { click: () => this.toggle(u) },
          },
          h('span', { class: 'pick-check', 'aria-hidden': 'true' }, this.selected.has(u.id) ? icon('check') : null),
          h('span', { class: 'pick-name' }, u.display_name),
          h('span', { class: 'pick-sub muted' }, u.username))),
      ),
    );
    if (focusedId) {
      const again = this.resultList.querySelector(`button[data-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
  }

  async runSearch(text) {
    const mySeq = ++this.searchSeq;
    this.status.textContent = t('new.searching');
    try {
      const found = await api.users({ search: text.trim().slice(0, 100) || undefined, limit: RESULTS });
      if (mySeq !== this.searchSeq) return;
      rememberUsers(found);
      const excluded = this.exclude();
      this.results = found.filter((u) => !(state.me && u.id === state.me.id) && !excluded.has(u.id));
      this.status.textContent = this.results.length ? tn('new.found', this.results.length) : t('new.noneFound');
      this.render();
    } catch (e) {
      if (mySeq === this.searchSeq) this.status.textContent = errorText(e);
    }
  }
}
