// The conversation list pane: header with actions, a quick filter and one
// link per conversation (name, unread badge, preview), newest activity first.
// The message search (search.js) takes the pane's place while it is open.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn, formatTime, formatDay, isToday } from '../i18n.js';
import { plainPreview } from '../markdown.js';
import { state, sortedSummaries, conversationTitle, shortName } from '../state.js';
import * as presence from '../presence.js';
import { SearchPanel } from './search.js';

export class ListPane {
  /**
   * @param {object} ctx
   * @param {(path: string) => void} ctx.navigate
   * @param {() => void} ctx.newConversation
   * @param {() => void} ctx.browseChannels
   * @param {() => void} ctx.openSearch
   * @param {() => void} ctx.onSearchClosed  (before focus moves back)
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.filter = '';
    this.activeId = null;
    this.el = h('section', { class: 'pane pane-list', 'aria-labelledby': 'list-title' });
    this.listEl = null;
    this.opener = null; // focus returns here when the search closes
    this.search = new SearchPanel({ navigate: ctx.navigate, onClose: () => this.searchClosed() });
    this.render();
  }

  get searching() {
    return this.search.isOpen;
  }

  /** Show the message search in place of the list (see SearchPanel.open). */
  openSearch(opts) {
    if (!this.searching) this.opener = document.activeElement;
    this.listMain.hidden = true;
    this.el.setAttribute('aria-labelledby', 'search-title');
    this.search.open(opts);
  }

  searchClosed() {
    this.listMain.hidden = false;
    this.el.setAttribute('aria-labelledby', 'list-title');
    this.ctx.onSearchClosed();
    const back = this.opener;
    this.opener = null;
    if (back && back !== document.body && back.isConnected && back.getClientRects().length) back.focus();
    else this.searchBtn.focus();
  }

  /** Back from a conversation (narrow screens): focus its entry, or the hit opened. */
  focusReturn(convId) {
    if (this.searching) {
      this.search.focusChosen();
      return;
    }
    const item = this.listEl.querySelector(`a.conv-item[data-id="${convId}"]`);
    if (item) item.focus();
  }

  /** Build the whole pane (also after a language change). */
  render() {
    const filterInput = h('input', {
      id: 'list-filter',
      type: 'search',
      class: 'input',
      value: this.filter,
      autocomplete: 'off',
      placeholder: t('list.filterPlaceholder'),
      on: {
        input: (e) => {
          this.filter = e.target.value;
          this.update();
        },
        keydown: (e) => {
          if (e.key === 'Escape' && this.filter) {
            e.stopPropagation();
            e.target.value = '';
            this.filter = '';
            this.update();
          }
        },
      },
    });
    this.listEl = h('ul', { class: 'conv-list', 'aria-labelledby': 'list-title' });
    this.status = h('p', { class: 'list-status muted', role: 'status' });
    this.searchBtn = h('button', {
      type: 'button',
      class: 'icon-btn',
      'aria-label': t('search.open'),
      title: t('search.openTitle'),
      'aria-keyshortcuts': 'Control+K Meta+K /',
      on: { click: () => this.ctx.openSearch() },
    }, icon('search'));
    this.listMain = h('div', { class: 'list-main', hidden: this.searching },
      h(
        'header',
        { class: 'pane-header' },
        h('h2', { id: 'list-title', class: 'pane-title' }, t('list.title')),
        h(
          'div',
          { class: 'header-actions' },
          this.searchBtn,
          h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('list.browseChannels'), title: t('list.browseChannels'), on: { click: () => this.ctx.browseChannels() } }, icon('hash')),
          h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('list.newConversation'), title: t('list.newConversation'), on: { click: () => this.ctx.newConversation() } }, icon('plus')),
          h('a', { href: '/settings', class: 'icon-btn', 'aria-label': t('list.settings'), title: t('list.settings'), on: { click: (e) => this.follow(e, '/settings') } }, icon('settings')),
        ),
      ),
      h('div', { class: 'list-filter' }, h('label', { for: 'list-filter', class: 'visually-hidden' }, t('list.filterLabel')), filterInput),
      h('nav', { class: 'list-scroll', 'aria-label': t('list.navLabel') }, this.listEl, this.status),
    );
    this.el.replaceChildren(this.listMain, this.search.el);
    this.search.render();
    this.update();
  }

  /** Mark which conversation is open. */
  setActive(id) {
    if (this.activeId === id) return;
    this.activeId = id;
    for (const a of this.listEl.querySelectorAll('a.conv-item')) {
      if (Number(a.dataset.id) === id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  /** Re-render the items (filter text and header are kept, so focus stays). */
  update() {
    const focusedId = document.activeElement && document.activeElement.closest && this.listEl.contains(document.activeElement)
      ? document.activeElement.dataset.id
      : null;
    const needle = this.filter.trim().toLowerCase();
    const items = [];
    const sorted = sortedSummaries();
    presence.show('list', sorted.filter((s) => s.conversation.kind === 'direct' && s.peer_id).map((s) => s.peer_id));
    for (const s of sorted) {
      const title = conversationTitle(s.conversation, s);
      if (needle && !title.toLowerCase().includes(needle)) continue;
      items.push(this.item(s, title));
    }
    this.listEl.replaceChildren(...items);
    if (!state.listLoaded) this.status.textContent = t('list.loading');
    else if (!items.length) this.status.textContent = needle ? t('list.noMatch') : t('list.empty');
    else this.status.textContent = '';
    if (focusedId) {
      const again = this.listEl.querySelector(`a.conv-item[data-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
    this.search.onListChange();
  }

  item(s, title) {
    const c = s.conversation;
    const m = s.last_message;
    let preview = '';
    if (m) {
      const text = m.deleted || m.text === null ? t('message.deleted') : m.text ? plainPreview(m.text, 90) : attachmentsPreview(m.attachments || []);
      const who = state.me && m.sender_id === state.me.id ? t('list.you') : c.kind === 'direct' ? '' : shortName(m.sender_id);
      preview = who ? t('list.previewFrom', { name: who, text }) : text;
    } else {
      preview = c.topic || t('list.noMessages');
    }
    const when = c.last_activity_at ? (isToday(c.last_activity_at) ? formatTime(c.last_activity_at) : formatDay(c.last_activity_at, true)) : '';
    const unread = s.unread_count > 0;
    const kindIcon = c.kind === 'channel' ? (c.announcement ? 'megaphone' : 'hash') : c.kind === 'group' ? 'users' : 'user';
    const badge = unread
      ? h('span', { class: ['badge', s.unread_mentions > 0 && 'badge-mention'], 'aria-hidden': 'true' }, s.unread_count > 999 ? '999+' : String(s.unread_count))
      : null;
    // The accessible name reads: title, unread count, preview.
    const srUnread = unread ? tn('list.unread', s.unread_count) + (s.unread_mentions ? `, ${tn('list.mentions', s.unread_mentions)}` : '') : '';
    const path = `/c/${c.id}`;
    const online = c.kind === 'direct' && s.peer_id && presence.isOnline(s.peer_id);
    return h(
      'li',
      null,
      h(
        'a',
        {
          href: path,
          class: ['conv-item', unread && 'unread'],
          dataset: { id: c.id },
          'aria-current': c.id === this.activeId ? 'page' : null,
          on: { click: (e) => this.follow(e, path) },
        },
        h('span', { class: 'conv-kind', 'aria-hidden': 'true' }, icon(kindIcon), online ? h('span', { class: 'presence-dot', dataset: { presence: 'online' } }) : null),
        h(
          'span',
          { class: 'conv-main' },
          h('span', { class: 'conv-top' }, h('span', { class: 'conv-name' }, title), when ? h('span', { class: 'conv-time muted' }, when) : null),
          h('span', { class: 'conv-bottom' }, h('span', { class: 'conv-preview muted' }, preview), badge),
          online ? h('span', { class: 'visually-hidden' }, `, ${t('presence.online')}`) : null,
          srUnread ? h('span', { class: 'visually-hidden' }, `, ${srUnread}`) : null,
        ),
      ),
    );
  }

  /** In-app navigation for plain left clicks; modified clicks behave as links. */
  follow(e, path) {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    this.ctx.navigate(path);
  }
}

/** Preview of a message without text: its attachments. */
function attachmentsPreview(list) {
  if (list.length === 1) return t('list.attachment', { name: list[0].name });
  return list.length ? tn('list.attachments', list.length) : t('list.attachmentsUnknown');
}
