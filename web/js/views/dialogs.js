// Dialogs of the list pane: "new conversation" (direct, group, channel with
// colleagues picked from the company directory, see people.js) and "browse channels"
// (public channels to join). Both are modal <dialog>s: Escape closes them.

import * as api from '../api.js';
import { h, uid, showDialog } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn, errorText } from '../i18n.js';
import { state } from '../state.js';
import { PeoplePicker } from './people.js';

/**
 * Ask for a new conversation and create it.
 * @param {{onCreated: (conv: object) => void}} ctx  conv is a Conversation
 */
export function newConversationDialog({ onCreated }) {
  const titleId = uid('newconv');
  return showDialog((close) => {
    let kind = 'direct';
    const people = new PeoplePicker({ label: t('new.people') });

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

    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('new.create'));

    function setKind(k) {
      kind = k;
      nameField.hidden = k === 'direct';
      channelFields.hidden = k !== 'channel';
      nameInput.required = k === 'channel';
      people.setHint(k === 'direct' ? t('new.hintDirect') : k === 'group' ? t('new.hintGroup') : t('new.hintChannel'));
      people.setSingle(k === 'direct');
    }

    async function onSubmit(ev) {
      ev.preventDefault();
      error.textContent = '';
      const userIds = people.ids();
      const name = nameInput.value.trim();
      if (kind === 'direct' && userIds.length !== 1) {
        error.textContent = t('new.errDirect');
        people.focus();
        return;
      }
      if (kind === 'group' && userIds.length < 1) {
        error.textContent = t('new.errGroup');
        people.focus();
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
    people.runSearch('');
    queueMicrotask(() => people.focus());

    return h(
      'form',
      { class: 'dialog-body', on: { submit: onSubmit } },
      h('div', { class: 'dialog-head' },
        h('h2', { id: titleId, class: 'dialog-title' }, t('new.title')),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('dialog.close'), on: { click: () => close() } }, icon('close'))),
      h('fieldset', { class: 'fieldset fieldset-inline' }, h('legend', null, t('new.kind')), kindRadios),
      nameField,
      channelFields,
      people.el,
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
