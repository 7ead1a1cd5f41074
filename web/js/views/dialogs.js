// Dialogs of the list pane: "new conversation" (direct, group, channel with
// colleagues picked from the company directory) and "browse channels"
// (public channels to join). Both are modal <dialog>s: Escape closes them.

import * as api from '../api.js';
import { h, uid, debounce, showDialog } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn, errorText } from '../i18n.js';
import { state, rememberUsers } from '../state.js';

/**
 * Ask for a new conversation and create it.
 * @param {{onCreated: (conv: object) => void}} ctx  conv is a Conversation
 */
export function newConversationDialog({ onCreated }) {
  const titleId = uid('newconv');
  return showDialog((close) => {
    let kind = 'direct';
    /** @type {Map<number, object>} */
    const selected = new Map();
    let results = [];

    const nameInput = h('input', { id: uid('name'), type: 'text', class: 'input', maxlength: '100', autocomplete: 'off' });
    const nameField = h('div', { class: 'field' }, h('label', { for: nameInput.id }, t('new.name')), nameInput);

    const publicRadio = h('input', { type: 'radio', name: 'visibility', value: 'public', checked: true });
    const privateRadio = h('input', { type: 'radio', name: 'visibility', value: 'private' });
    const announcementBox = h('input', { type: 'checkbox', name: 'announcement' });
    const channelFields = h(
      'fieldset',
      { class: 'fieldset' },
      h('legend', null, t('new.visibility')),
      h('label', { class: 'choice' }, publicRadio, ' ', t('new.public')),
      h('label', { class: 'choice' }, privateRadio, ' ', t('new.private')),
      h('label', { class: 'choice' }, announcementBox, ' ', t('new.announcement')),
    );

    const kindRadios = ['direct', 'group', 'channel'].map((k) =>
      h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'kind', value: k, checked: k === kind, on: { change: () => setKind(k) } }),
        ' ',
        t(`new.kind.${k}`)),
    );

    const searchInput = h('input', {
      id: uid('people'),
      type: 'search',
      class: 'input',
      autocomplete: 'off',
      placeholder: t('new.searchPlaceholder'),
      on: {
        input: () => search(searchInput.value),
        keydown: (e) => {
          // Enter picks the first result instead of submitting the form.
          if (e.key === 'Enter') {
            e.preventDefault();
            if (results.length) toggle(results[0]);
          }
        },
      },
    });
    const hint = h('p', { class: 'hint muted', id: uid('hint') });
    searchInput.setAttribute('aria-describedby', hint.id);
    const chips = h('ul', { class: 'chips', 'aria-label': t('new.selected') });
    const resultList = h('ul', { class: 'pick-list', 'aria-label': t('new.results') });
    const resultStatus = h('p', { class: 'muted', role: 'status' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('new.create'));

    function setKind(k) {
      kind = k;
      nameField.hidden = k === 'direct';
      channelFields.hidden = k !== 'channel';
      nameInput.required = k === 'channel';
      hint.textContent = k === 'direct' ? t('new.hintDirect') : k === 'group' ? t('new.hintGroup') : t('new.hintChannel');
      if (k === 'direct' && selected.size > 1) {
        const first = selected.values().next().value;
        selected.clear();
        selected.set(first.id, first);
      }
      renderPeople();
    }

    function toggle(user) {
      if (selected.has(user.id)) selected.delete(user.id);
      else {
        if (kind === 'direct') selected.clear();
        selected.set(user.id, user);
      }
      renderPeople();
    }

    function renderPeople() {
      chips.replaceChildren(
        ...[...selected.values()].map((u) =>
          h('li', { class: 'chip' },
            h('span', null, u.display_name),
            h('button', {
              type: 'button',
              class: 'chip-remove',
              'aria-label': t('new.remove', { name: u.display_name }),
              on: { click: () => { toggle(u); searchInput.focus(); } },
            }, icon('close'))),
        ),
      );
      const focusedId = resultList.contains(document.activeElement) ? document.activeElement.dataset.id : null;
      resultList.replaceChildren(
        ...results.map((u) =>
          h('li', null,
            h('button', {
              type: 'button',
              class: 'pick',
              dataset: { id: u.id },
              'aria-pressed': selected.has(u.id),
              on: { click: () => toggle(u) },
            },
            h('span', { class: 'pick-check', 'aria-hidden': 'true' }, selected.has(u.id) ? icon('check') : null),
            h('span', { class: 'pick-name' }, u.display_name),
            h('span', { class: 'pick-sub muted' }, u.username))),
        ),
      );
      if (focusedId) {
        const again = resultList.querySelector(`button[data-id="${CSS.escape(focusedId)}"]`);
        if (again) again.focus();
      }
    }

    let searchSeq = 0;
    const runSearch = async (text) => {
      const mySeq = ++searchSeq;
      resultStatus.textContent = t('new.searching');
      try {
        const found = await api.users({ search: text.trim().slice(0, 100) || undefined, limit: 30 });
        if (mySeq !== searchSeq) return;
        rememberUsers(found);
        results = found.filter((u) => !state.me || u.id !== state.me.id);
        resultStatus.textContent = results.length ? tn('new.found', results.length) : t('new.noneFound');
        renderPeople();
      } catch (e) {
        if (mySeq === searchSeq) resultStatus.textContent = errorText(e);
      }
    };
    const search = debounce(runSearch, 250);

    async function onSubmit(ev) {
      ev.preventDefault();
      error.textContent = '';
      const userIds = [...selected.keys()];
      const name = nameInput.value.trim();
      if (kind === 'direct' && userIds.length !== 1) {
        error.textContent = t('new.errDirect');
        searchInput.focus();
        return;
      }
      if (kind === 'group' && userIds.length < 1) {
        error.textContent = t('new.errGroup');
        searchInput.focus();
        return;
      }
      if (kind === 'channel' && !name) {
        error.textContent = t('new.errName');
        nameInput.focus();
        return;
      }
      const body = { kind, user_ids: userIds };
      if (kind !== 'direct' && name) body.name = name;
      if (kind === 'channel') {
        body.is_public = publicRadio.checked;
        body.announcement = announcementBox.checked;
      }
      submit.disabled = true;
      try {
        const conv = await api.createConversation(body);
        close(conv);
        onCreated(conv);
      } catch (e) {
        error.textContent = errorText(e);
        submit.disabled = false;
      }
    }

    setKind('direct');
    runSearch('');
    queueMicrotask(() => searchInput.focus());

    return h(
      'form',
      { class: 'dialog-body', on: { submit: onSubmit } },
      h('div', { class: 'dialog-head' },
        h('h2', { id: titleId, class: 'dialog-title' }, t('new.title')),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('dialog.close'), on: { click: () => close() } }, icon('close'))),
      h('fieldset', { class: 'fieldset fieldset-inline' }, h('legend', null, t('new.kind')), kindRadios),
      nameField,
      channelFields,
      h('div', { class: 'field' }, h('label', { for: searchInput.id }, t('new.people')), searchInput, hint),
      chips,
      resultStatus,
      resultList,
      error,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn', on: { click: () => close() } }, t('dialog.cancel')),
        submit),
    );
  }, { labelledBy: titleId, className: 'dialog-wide' });
}

/**
 * Public channels of the organisation, with join/open buttons.
 * @param {{onOpen: (id: number) => void, onJoined: (id: number) => Promise<void>}} ctx
 */
export function browseChannelsDialog({ onOpen, onJoined }) {
  const titleId = uid('channels');
  return showDialog((close) => {
    const list = h('ul', { class: 'channel-list', 'aria-labelledby': titleId });
    const status = h('p', { class: 'muted', role: 'status' }, t('channels.loading'));
    const error = h('p', { class: 'form-error', role: 'alert' });

    function row(c) {
      const member = state.summaries.has(c.id);
      const button = member
        ? h('button', { type: 'button', class: 'btn', 'aria-label': t('channels.openNamed', { name: c.name || '' }), on: { click: () => { close(); onOpen(c.id); } } }, t('channels.open'))
        : h('button', {
          type: 'button',
          class: 'btn btn-primary',
          'aria-label': t('channels.joinNamed', { name: c.name || '' }),
          on: {
            click: async () => {
              button.disabled = true;
              error.textContent = '';
              try {
                await api.joinConversation(c.id);
                close();
                await onJoined(c.id);
              } catch (e) {
                error.textContent = errorText(e);
                button.disabled = false;
              }
            },
          },
        }, t('channels.join'));
      return h('li', { class: 'channel-row' },
        h('div', { class: 'channel-info' },
          h('span', { class: 'channel-name' }, `# ${c.name || ''}`, c.announcement ? h('span', { class: 'tag' }, t('channels.announcement')) : null),
          c.topic ? h('span', { class: 'muted channel-topic' }, c.topic) : null,
          h('span', { class: 'muted small' }, tn('channels.members', c.member_count))),
        button);
    }

    api.channels()
      .then((channels) => {
        channels.sort((a, b) => (a.name || '').localeCompare(b.name || ''));
        list.replaceChildren(...channels.map(row));
        status.textContent = channels.length ? '' : t('channels.none');
      })
      .catch((e) => {
        status.textContent = '';
        error.textContent = errorText(e);
      });

    const closeBtn = h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('dialog.close'), on: { click: () => close() } }, icon('close'));
    queueMicrotask(() => closeBtn.focus());
    return h('div', { class: 'dialog-body' },
      h('div', { class: 'dialog-head' }, h('h2', { id: titleId, class: 'dialog-title' }, t('channels.title')), closeBtn),
      status,
      error,
      list);
  }, { labelledBy: titleId, className: 'dialog-wide' });
}
