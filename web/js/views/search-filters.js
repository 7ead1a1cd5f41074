// The filters of the message search (search.js), behind a "Filter" button
// that opens and closes them (a disclosure: the list pane is narrow at every
// screen size). Conversation (all, or one of mine; the open one is offered
// first), sender (a directory pick, person-combo.js), a date range (two
// date fields in the browser's time zone: from the start of the first day
// to the end of the last), only messages with files, and the sort order.
// While the filters are closed, a line beside the button names the active
// ones. The state lives here and outlives the DOM, which is rebuilt on
// every render (opening the search, a language change).

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t, getLanguage, formatDate } from '../i18n.js';
import { state, conversationTitle } from '../state.js';
import { PersonCombo } from './person-combo.js';

/** 'YYYY-MM-DD' (a date field's value) → local midnight of that day plus `add` days, or null. */
export function localDay(value, add = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || '');
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + add);
  return Number.isNaN(d.getTime()) ? null : d;
}

export class SearchFilters {
  /**
   * @param {object} ctx
   * @param {() => void} ctx.onChange  a filter or the sort order changed
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.expanded = false;
    this.openId = null; // the conversation open beside the search
    this.conversationId = null; // null: all conversations
    this.byScope = false; // conversationId was set by "search in this conversation"
    this.from = null; // {id, display_name}
    this.sinceDay = ''; // 'YYYY-MM-DD'
    this.untilDay = '';
    this.hasFile = false;
    this.sort = 'relevance'; // relevance | date
    this.optionsKey = '';
  }

  /**
   * The search opens beside conversation `id` (or none). `scoped`: search
   * only in it. A conversation filter that came from an earlier "search in
   * this conversation" is dropped when another one is open now.
   */
  setOpenConversation(id, scoped) {
    const changed = id !== this.openId;
    this.openId = id;
    if (scoped && id !== null) {
      this.conversationId = id;
      this.byScope = true;
    } else if (changed && this.byScope) {
      this.conversationId = null;
      this.byScope = false;
    }
  }

  /** The request's filter parameters (api.search). */
  params() {
    const since = localDay(this.sinceDay);
    const until = localDay(this.untilDay, 1);
    return {
      conversationId: this.conversationId !== null ? this.conversationId : undefined,
      from: this.from ? this.from.id : undefined,
      since: since ? since.toISOString() : undefined,
      until: until ? until.toISOString() : undefined,
      hasFile: this.hasFile || undefined,
      sort: this.sort === 'date' ? 'date' : undefined,
    };
  }

  /** The end date lies before the start date: nothing to ask the server. */
  badRange() {
    return !!(this.sinceDay && this.untilDay && this.untilDay < this.sinceDay);
  }

  /** Active filters as short phrases (the sort order is not a filter). */
  phrases() {
    const out = [];
    if (this.conversationId !== null) out.push(t('search.sumConversation', { name: this.conversationName(this.conversationId) }));
    if (this.from) out.push(t('search.sumFrom', { name: this.from.display_name }));
    const since = localDay(this.sinceDay);
    const until = localDay(this.untilDay);
    const day = formatDate;
    if (since && until) out.push(t('search.sumRange', { since: day(since), until: day(until) }));
    else if (since) out.push(t('search.sumSince', { date: day(since) }));
    else if (until) out.push(t('search.sumUntil', { date: day(until) }));
    if (this.hasFile) out.push(t('search.sumFiles'));
    return out;
  }

  conversationName(id) {
    const s = state.summaries.get(id);
    if (!s) return t('search.someConversation');
    const title = conversationTitle(s.conversation, s);
    return s.conversation.kind === 'channel' ? `# ${title}` : title;
  }

  // --- rendering -------------------------------------------------------------

  /** Build the button, the summary line and the panel; returns [bar, panel]. */
  render() {
    this.toggle = h('button', {
      type: 'button',
      id: 'search-filter-toggle',
      class: 'btn btn-small search-filter-toggle',
      'aria-expanded': String(this.expanded),
      'aria-controls': 'search-filter-panel',
      on: { click: () => this.setExpanded(!this.expanded) },
    });
    this.summary = h('p', { id: 'search-filter-summary', class: 'search-filter-summary muted small' });
    this.resetBtn = h('button', {
      type: 'button',
      id: 'search-filter-reset',
      class: 'btn btn-small',
      on: { click: () => this.reset() },
    }, t('search.reset'));

    this.convSelect = h('select', {
      id: 'search-conv',
      class: 'input',
      on: {
        change: (e) => {
          this.conversationId = e.target.value ? Number(e.target.value) : null;
          this.byScope = false;
          this.changed();
        },
      },
    });
    this.fillConversations(true);
    this.person = new PersonCombo({
      id: 'search-from',
      label: t('search.from'),
      value: this.from,
      onChange: (user) => {
        this.from = user;
        this.changed();
      },
    });
    const dateInput = (id, key) => h('input', {
      id,
      type: 'date',
      class: 'input search-date',
      value: this[key],
      on: {
        change: (e) => {
          this[key] = e.target.value || '';
          this.syncDateBounds();
          this.changed();
        },
      },
    });
    this.sinceInput = dateInput('search-since', 'sinceDay');
    this.untilInput = dateInput('search-until', 'untilDay');
    this.syncDateBounds();
    this.fileBox = h('input', {
      id: 'search-has-file',
      type: 'checkbox',
      checked: this.hasFile,
      on: { change: (e) => { this.hasFile = e.target.checked; this.changed(); } },
    });
    this.sortSelect = h('select', {
      id: 'search-sort',
      class: 'input search-sort',
      on: { change: (e) => { this.sort = e.target.value; this.changed(); } },
    },
    h('option', { value: 'relevance', selected: this.sort === 'relevance' }, t('search.sortRelevance')),
    h('option', { value: 'date', selected: this.sort === 'date' }, t('search.sortDate')));

    this.panel = h('div', {
      id: 'search-filter-panel',
      class: 'search-filter-panel',
      role: 'group',
      'aria-label': t('search.filters'),
      hidden: !this.expanded,
    },
    h('div', { class: 'search-field' }, h('label', { for: 'search-conv' }, t('search.conversation')), this.convSelect),
    this.person.el,
    h('fieldset', { class: 'search-dates' },
      h('legend', null, t('search.dateRange')),
      h('span', { class: 'search-field' }, h('label', { for: 'search-since' }, t('search.since')), this.sinceInput),
      h('span', { class: 'search-field' }, h('label', { for: 'search-until' }, t('search.until')), this.untilInput)),
    h('label', { class: 'choice' }, this.fileBox, ' ', h('span', null, t('search.hasFile'))),
    h('div', { class: 'search-panel-row' },
      h('span', { class: 'search-sort-field' }, h('label', { for: 'search-sort' }, t('search.sort')), this.sortSelect)));
    const bar = h('div', { class: 'search-filter-bar' }, this.toggle, this.summary, this.resetBtn);
    this.update();
    return [bar, this.panel];
  }

  /** Button text, summary and the reset button after a change. */
  update() {
    const phrases = this.phrases();
    const n = phrases.length;
    this.toggle.replaceChildren(
      icon('filter'),
      h('span', null, t('search.filter')),
      n ? h('span', { class: 'search-filter-count' }, h('span', { 'aria-hidden': 'true' }, String(n)), h('span', { class: 'visually-hidden' }, `, ${t('search.activeFilters', { count: n })}`)) : null,
      icon(this.expanded ? 'chevron-up' : 'chevron-down'));
    this.toggle.setAttribute('aria-expanded', String(this.expanded));
    this.summary.textContent = this.expanded ? '' : phrases.join(' · ');
    this.summary.hidden = this.expanded || !n;
    this.resetBtn.hidden = !n;
  }

  setExpanded(open) {
    this.expanded = open;
    this.panel.hidden = !open;
    this.update();
  }

  /** Remove every filter (the sort order stays). */
  reset() {
    const focusToggle = this.resetBtn.contains(document.activeElement);
    this.conversationId = null;
    this.byScope = false;
    this.from = null;
    this.sinceDay = '';
    this.untilDay = '';
    this.hasFile = false;
    this.convSelect.value = '';
    this.person.pick(null); // reports the change once
    this.sinceInput.value = '';
    this.untilInput.value = '';
    this.fileBox.checked = false;
    this.syncDateBounds();
    if (focusToggle) this.toggle.focus();
  }

  changed() {
    this.update();
    this.ctx.onChange();
  }

  /** The end date cannot be picked before the start date, and the other way round. */
  syncDateBounds() {
    if (this.sinceDay) this.untilInput.min = this.sinceDay;
    else this.untilInput.removeAttribute('min');
    if (this.untilDay) this.sinceInput.max = this.untilDay;
    else this.sinceInput.removeAttribute('max');
  }

  /**
   * The conversation options: all, the open one, then the rest by name.
   * Rebuilt only when names or the list changed (`force`: always).
   */
  fillConversations(force = false) {
    if (!this.convSelect) return;
    const rest = [...state.summaries.keys()]
      .filter((id) => id !== this.openId)
      .map((id) => [id, this.conversationName(id)])
      .sort((a, b) => a[1].localeCompare(b[1], getLanguage()));
    const entries = [];
    if (this.openId !== null) entries.push([this.openId, t('search.convOpen', { name: this.conversationName(this.openId) })]);
    entries.push(...rest);
    // A chosen conversation that is no longer in the list stays choosable.
    if (this.conversationId !== null && !entries.some(([id]) => id === this.conversationId)) {
      entries.push([this.conversationId, this.conversationName(this.conversationId)]);
    }
    const key = `${getLanguage()}\u0000${entries.map(([id, name]) => `${id}\u0001${name}`).join('\u0000')}`;
    if (!force && key === this.optionsKey) return;
    this.optionsKey = key;
    this.convSelect.replaceChildren(
      h('option', { value: '' }, t('search.convAll')),
      ...entries.map(([id, name]) => h('option', { value: String(id) }, name)));
    this.convSelect.value = this.conversationId !== null ? String(this.conversationId) : '';
  }

  /** The conversation list or names changed. */
  onListChange() {
    this.fillConversations();
    if (this.toggle) this.update();
  }
}
