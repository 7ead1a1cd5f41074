// Message search (GET /api/v1/search), shown in the list pane in place of
// the conversation list; on phones the list pane, and with it the search,
// fills the screen (style.css). A labelled search field (Enter, or a pause
// in typing from two characters on, searches), the filters behind a
// "Filter" button (search-filters.js: conversation, sender, date range,
// with files, sort by relevance or date; a change searches again) and the
// hits: conversation, sender, date and time, and the server's snippet with
// the matching words in <mark>s. Snippets are built as text nodes: nothing
// the server sends is parsed as HTML. "More results" fetches the next page
// (offset) of the same search, filters included. Choosing a hit opens
// /c/<conversation>?m=<message>, where the conversation view shows the
// message in context (reveal.js).
//
// The query, the filters and the hits stay while the search is closed, so
// it reopens where the reader left it; a logout drops the whole list pane.

import * as api from '../api.js';
import { h, debounce } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn, errorText, formatDateTime } from '../i18n.js';
import { plainPreview } from '../markdown.js';
import { ensureUsers, userName } from '../state.js';
import { SearchFilters } from './search-filters.js';

/** Hits per request. */
const PAGE = 20;
/** The server's bounds: q has at most 200 characters, offset is at most 1,000. */
const MAX_QUERY = 200;
const MAX_OFFSET = 1000;
/** Typing searches after this pause, from this many characters on. */
const TYPING_PAUSE_MS = 300;
const MIN_CHARS = 2;

export class SearchPanel {
  /**
   * @param {object} ctx
   * @param {(path: string) => void} ctx.navigate
   * @param {() => void} ctx.onClose   the reader closed the search
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.isOpen = false;
    this.query = ''; // the text in the field
    this.filters = new SearchFilters({ onChange: () => this.rerun() });
    this.searched = null; // the parameters the hits are for
    this.hits = [];
    this.hasMore = false;
    this.phase = 'idle'; // idle | loading | more | done | error | invalid (date range)
    this.error = null;
    this.seq = 0; // bumped per request: late answers are dropped
    this.chosen = null; // message id of the hit opened last
    this.namesKey = '';
    this.typed = debounce(() => this.run(), TYPING_PAUSE_MS);
    this.el = h('div', { class: 'search-view', hidden: true, on: { keydown: (e) => this.onKeyDown(e) } });
    this.render();
  }

  /**
   * Show the search. `conversationId`: the open conversation (offered first
   * as a filter); `scoped`: search only in it.
   */
  open({ conversationId = null, scoped = false } = {}) {
    this.filters.setOpenConversation(conversationId, scoped);
    this.isOpen = true;
    this.el.hidden = false;
    this.render();
    if (this.searched && !sameParams(this.params(), this.searched)) this.run();
    this.input.focus();
    this.input.select();
  }

  close() {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.typed.cancel();
    this.el.hidden = true;
    this.ctx.onClose();
  }

  /** Focus the hit opened last (coming back from it on a phone), else the field. */
  focusChosen() {
    const link = this.chosen !== null && this.list.querySelector(`a.search-hit[data-id="${this.chosen}"]`);
    (link || this.input).focus();
  }

  /** The request for what the form says now. */
  params() {
    return { q: this.query.trim(), ...this.filters.params() };
  }

  // --- rendering -------------------------------------------------------------

  /** Build the whole view (first time, on opening, after a language change). */
  render() {
    const hadFocus = this.el.contains(document.activeElement) ? document.activeElement : null;
    const focusKey = hadFocus && (hadFocus.id || (hadFocus.dataset && hadFocus.dataset.id));
    this.input = h('input', {
      id: 'search-input',
      type: 'search',
      class: 'input',
      value: this.query,
      maxlength: String(MAX_QUERY),
      autocomplete: 'off',
      spellcheck: 'false',
      enterkeyhint: 'search',
      placeholder: t('search.placeholder'),
      'aria-describedby': 'search-hint',
      on: { input: () => this.onInput() },
    });
    const [filterBar, filterPanel] = this.filters.render();

    this.status = h('p', { id: 'search-status', class: 'search-status', role: 'status' });
    this.errorLine = h('p', { class: 'form-error search-error', role: 'alert' });
    this.hint = h('p', { id: 'search-hint', class: 'search-hint muted small' }, t('search.hint'));
    this.list = h('ul', { class: 'search-results', 'aria-label': t('search.results'), on: { keydown: (e) => this.onListKey(e) } });
    this.moreBtn = h('button', { type: 'button', class: 'btn search-more', on: { click: () => this.more() } });
    this.moreRow = h('div', { class: 'search-more-row' }, this.moreBtn);
    this.scroller = h('div', { class: 'search-scroll' }, this.hint, this.status, this.errorLine, this.list, this.moreRow);

    this.el.replaceChildren(
      h('header', { class: 'pane-header' },
        h('button', {
          type: 'button',
          class: 'icon-btn',
          id: 'search-close',
          'aria-label': t('search.close'),
          title: t('search.close'),
          on: { click: () => this.close() },
        }, icon('back')),
        h('h2', { id: 'search-title', class: 'pane-title' }, t('search.title'))),
      h('form', {
        class: 'search-form',
        role: 'search',
        'aria-labelledby': 'search-title',
        on: { submit: (e) => { e.preventDefault(); this.submit(); } },
      },
      h('label', { for: 'search-input', class: 'visually-hidden' }, t('search.label')),
      h('div', { class: 'search-row' },
        this.input,
        h('button', { type: 'submit', class: 'icon-btn', 'aria-label': t('search.submit'), title: t('search.submit') }, icon('search'))),
      filterBar,
      filterPanel),
      this.scroller,
    );
    this.renderResults();
    if (focusKey) {
      const again = this.el.querySelector(`[id="${CSS.escape(focusKey)}"], a.search-hit[data-id="${CSS.escape(focusKey)}"]`);
      if (again) again.focus();
    }
  }

  /** Status line, hits and the "more" button. */
  renderResults() {
    const n = this.hits.length;
    let status = '';
    if (this.phase === 'loading') status = t('search.searching');
    else if (this.phase === 'done' || this.phase === 'more') {
      status = !n ? t(this.filters.phrases().length ? 'search.noneFiltered' : 'search.none') : this.hasMore ? tn('search.countMore', n) : tn('search.count', n);
    }
    this.status.textContent = status;
    this.status.classList.toggle('search-empty', this.phase === 'done' && !n);
    this.errorLine.textContent = this.phase === 'error' ? errorText(this.error) : this.phase === 'invalid' ? t('search.badRange') : '';
    this.hint.hidden = this.phase !== 'idle';
    const focusedId = this.list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    this.list.setAttribute('aria-busy', String(this.phase === 'loading'));
    this.list.replaceChildren(...this.hits.map((hit) => this.item(hit)));
    this.namesKey = this.currentNames();
    const more = this.phase === 'more';
    this.moreRow.hidden = !(this.hasMore && n) || this.phase === 'loading';
    this.moreBtn.textContent = more ? t('search.loadingMore') : t('search.more');
    this.moreBtn.setAttribute('aria-disabled', String(more));
    if (focusedId) {
      const again = this.list.querySelector(`a.search-hit[data-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
  }

  item(hit) {
    const m = hit.message;
    const path = `/c/${m.conversation_id}?m=${m.id}`;
    const reply = m.thread_root_id !== null && m.thread_root_id !== undefined;
    const files = (m.attachments || []).length;
    const parts = hit.snippet && hit.snippet.length ? hit.snippet : [{ text: plainPreview(m.text || '', 160), hit: false }];
    return h('li', null,
      h('a', {
        href: path,
        class: 'search-hit',
        dataset: { id: m.id, conversation: m.conversation_id },
        'aria-current': this.chosen === m.id ? 'true' : null,
        on: { click: (e) => this.choose(e, m, path) },
      },
      h('span', { class: 'hit-top' },
        h('span', { class: 'hit-conv' }, this.conversationName(m.conversation_id)),
        h('time', { class: 'hit-time muted', datetime: m.created_at }, formatDateTime(m.created_at))),
      h('span', { class: 'hit-meta' },
        h('span', { class: 'hit-sender' }, userName(m.sender_id)),
        reply ? h('span', { class: 'tag' }, t('search.inThread')) : null,
        files ? h('span', { class: 'tag hit-files' }, icon('paperclip'), tn('search.files', files)) : null),
      // Text nodes and <mark>s only.
      h('span', { class: 'hit-snippet' }, parts.map((p) => (p.hit ? h('mark', null, p.text) : p.text)))));
  }

  conversationName(id) {
    return this.filters.conversationName(id);
  }

  currentNames() {
    const convs = new Set(this.hits.map((x) => x.message.conversation_id));
    const senders = new Set(this.hits.map((x) => x.message.sender_id));
    return [...convs].map((id) => this.conversationName(id)).concat([...senders].map(userName)).join('\u0000');
  }

  /** The conversation list or the user cache changed: names may have arrived. */
  onListChange() {
    this.filters.onListChange();
    if (this.hits.length && this.currentNames() !== this.namesKey) this.renderResults();
  }

  // --- input -----------------------------------------------------------------

  onInput() {
    this.query = this.input.value;
    if (this.query.trim().length >= MIN_CHARS) {
      this.typed();
      return;
    }
    // Too short to search while typing: back to the hint (Enter still searches).
    this.typed.cancel();
    this.seq += 1;
    this.reset();
  }

  submit() {
    this.typed.cancel();
    this.query = this.input.value;
    this.run();
  }

  /** A filter changed: search again if there is something to search for. */
  rerun() {
    if (this.query.trim()) this.run();
  }

  reset() {
    this.searched = null;
    this.hits = [];
    this.hasMore = false;
    this.phase = 'idle';
    this.error = null;
    this.renderResults();
  }

  onKeyDown(e) {
    if (e.key === 'Escape' && !e.defaultPrevented) {
      // Closes the search (the query is kept); also stops the browser from
      // clearing the field.
      e.preventDefault();
      e.stopPropagation();
      this.close();
    } else if (e.key === 'ArrowDown' && e.target === this.input) {
      const first = this.list.querySelector('a.search-hit');
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  }

  /** Up and down move between hits; up from the first goes back to the field. */
  onListKey(e) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const links = [...this.list.querySelectorAll('a.search-hit')];
    const at = links.indexOf(document.activeElement);
    if (at < 0) return;
    e.preventDefault();
    const next = e.key === 'ArrowDown' ? links[at + 1] : links[at - 1];
    if (next) next.focus();
    else if (e.key === 'ArrowUp') this.input.focus();
  }

  choose(e, message, path) {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // new tab etc.
    e.preventDefault();
    this.chosen = message.id;
    for (const a of this.list.querySelectorAll('a.search-hit[aria-current]')) a.removeAttribute('aria-current');
    e.currentTarget.setAttribute('aria-current', 'true');
    this.ctx.navigate(path);
  }

  // --- requests ----------------------------------------------------------------

  /** A new search for what the form says (the first page). */
  async run() {
    const params = this.params();
    if (!params.q) {
      this.seq += 1;
      this.reset();
      return;
    }
    if (this.filters.badRange()) {
      this.seq += 1;
      this.searched = null;
      this.hits = [];
      this.hasMore = false;
      this.phase = 'invalid';
      this.renderResults();
      return;
    }
    const seq = ++this.seq;
    this.searched = params;
    this.phase = 'loading';
    this.error = null;
    this.renderResults();
    try {
      const page = await this.fetch(params, 0);
      if (seq !== this.seq) return;
      this.hits = page.hits;
      this.hasMore = page.has_more && this.hits.length < MAX_OFFSET;
      this.phase = 'done';
      this.renderResults();
      this.scroller.scrollTop = 0;
    } catch (e) {
      if (seq !== this.seq) return;
      this.hits = [];
      this.hasMore = false;
      this.phase = 'error';
      this.error = e;
      this.renderResults();
    }
  }

  /** "More results": the next page of the same search, appended. */
  async more() {
    if (this.phase !== 'done' || !this.hasMore || !this.searched) return;
    const seq = ++this.seq;
    const hadFocus = document.activeElement === this.moreBtn;
    const before = this.hits.length;
    this.phase = 'more';
    this.renderResults();
    try {
      const page = await this.fetch(this.searched, before);
      if (seq !== this.seq) return;
      // New messages can shift the pages by a few: show each hit once.
      const known = new Set(this.hits.map((x) => x.message.id));
      this.hits = this.hits.concat(page.hits.filter((x) => !known.has(x.message.id)));
      this.hasMore = page.has_more && this.hits.length < MAX_OFFSET;
      this.phase = 'done';
      this.renderResults();
      const links = this.list.querySelectorAll('a.search-hit');
      if (hadFocus && links.length > before) links[before].focus();
      else if (hadFocus && !this.moreRow.hidden) this.moreBtn.focus();
    } catch (e) {
      if (seq !== this.seq) return;
      this.phase = 'done';
      this.renderResults();
      this.errorLine.textContent = errorText(e);
      if (hadFocus) this.moreBtn.focus();
    }
  }

  async fetch(params, offset) {
    const page = await api.search({ ...params, limit: PAGE, offset });
    await ensureUsers(page.hits.map((x) => x.message.sender_id));
    return page;
  }
}

function sameParams(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
