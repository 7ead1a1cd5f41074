// Settings: language, online status (showing my presence), my sessions
// (with revoke for the others), logout.

import * as api from '../api.js';
import { h, confirmDialog } from '../dom.js';
import { backLink } from './nav.js';
import { t, getLanguage, setLanguage, formatDateTime, errorText } from '../i18n.js';
import { state } from '../state.js';

export class SettingsView {
  /**
   * @param {object} ctx
   * @param {(path: string) => void} ctx.navigate
   * @param {() => Promise<void>} ctx.logout
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.sessions = null;
    this.error = null;
    this.el = h('section', { class: 'pane pane-settings', 'aria-labelledby': 'settings-title' });
    this.render();
  }

  async load() {
    try {
      this.sessions = await api.sessions();
      this.error = null;
    } catch (e) {
      this.error = e;
    }
    this.renderSessions();
  }

  render() {
    const back = backLink((path) => this.ctx.navigate(path));

    const lang = getLanguage();
    const langChoice = (value, label) =>
      h('label', { class: 'choice', lang: value },
        h('input', {
          type: 'radio',
          name: 'language',
          value,
          checked: lang === value,
          on: { change: () => setLanguage(value) },
        }),
        ' ',
        label);

    this.sessionList = h('ul', { class: 'session-list', 'aria-labelledby': 'sessions-title' });
    this.sessionStatus = h('p', { class: 'muted', role: 'status' });
    this.sessionError = h('p', { class: 'form-error', role: 'alert' });
    const me = state.me;

    this.el.replaceChildren(
      h('header', { class: 'pane-header' }, back, h('h2', { id: 'settings-title', class: 'pane-title', tabindex: '-1' }, t('settings.title'))),
      h('div', { class: 'settings-body' },
        h('section', { class: 'settings-section', 'aria-labelledby': 'lang-title' },
          h('h3', { id: 'lang-title' }, t('settings.language')),
          h('fieldset', { class: 'fieldset fieldset-inline' },
            h('legend', { class: 'visually-hidden' }, t('settings.language')),
            langChoice('de', 'Deutsch'),
            langChoice('en', 'English'))),
        this.presenceSection(),
        h('section', { class: 'settings-section', 'aria-labelledby': 'sessions-title' },
          h('h3', { id: 'sessions-title' }, t('settings.sessions')),
          h('p', { class: 'muted' }, t('settings.sessionsHint')),
          this.sessionStatus,
          this.sessionError,
          this.sessionList),
        h('section', { class: 'settings-section', 'aria-labelledby': 'account-title' },
          h('h3', { id: 'account-title' }, t('settings.account')),
          me ? h('p', null, t('settings.signedInAs', { name: me.display_name, username: me.username })) : null,
          h('button', { type: 'button', class: 'btn btn-danger', on: { click: () => this.ctx.logout() } }, t('settings.logout')))),
    );
    this.renderSessions();
  }

  /** Online status: the choice is mine; the server may not offer it at all. */
  presenceSection() {
    const me = state.me;
    const title = h('h3', { id: 'presence-title' }, t('settings.presence'));
    if (!me || !me.presence_available) {
      return h('section', { class: 'settings-section', 'aria-labelledby': 'presence-title' },
        title, h('p', { class: 'muted' }, t('settings.presenceUnavailable')));
    }
    this.presenceStatus = h('p', { class: 'muted', role: 'status' });
    this.presenceError = h('p', { class: 'form-error', role: 'alert' });
    this.presenceBox = h('input', {
      type: 'checkbox',
      id: 'presence-share',
      checked: !!me.share_presence,
      'aria-describedby': 'presence-hint',
      on: { change: (e) => this.setSharing(e.target) },
    });
    return h('section', { class: 'settings-section', 'aria-labelledby': 'presence-title' },
      title,
      h('label', { class: 'choice', for: 'presence-share' }, this.presenceBox, ' ', t('settings.presenceShare')),
      h('p', { class: 'muted', id: 'presence-hint' }, t('settings.presenceHint')),
      this.presenceStatus,
      this.presenceError);
  }

  async setSharing(box) {
    const share = box.checked;
    box.disabled = true;
    this.presenceError.textContent = '';
    this.presenceStatus.textContent = '';
    try {
      const me = await api.updateMe({ share_presence: share });
      Object.assign(state.me, { share_presence: me.share_presence });
      box.checked = me.share_presence;
      this.presenceStatus.textContent = t('settings.presenceSaved');
    } catch (e) {
      box.checked = !share;
      this.presenceError.textContent = errorText(e);
    } finally {
      box.disabled = false;
    }
  }

  renderSessions() {
    if (!this.sessionList) return;
    this.sessionError.textContent = this.error ? errorText(this.error) : '';
    if (!this.sessions) {
      this.sessionStatus.textContent = this.error ? '' : t('settings.loading');
      return;
    }
    this.sessionStatus.textContent = '';
    const focusedId = this.sessionList.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    this.sessionList.replaceChildren(
      ...this.sessions.map((s) =>
        h('li', { class: ['session', s.current && 'session-current'] },
          h('div', { class: 'session-info' },
            h('span', { class: 'session-name' }, s.device_name || t('settings.unnamedDevice'),
              s.current ? h('span', { class: 'tag' }, t('settings.current')) : null),
            h('span', { class: 'muted small' }, t('settings.created', { time: formatDateTime(s.created_at) })),
            h('span', { class: 'muted small' }, t('settings.lastSeen', { time: formatDateTime(s.last_seen_at) }))),
          s.current
            ? null
            : h('button', {
              type: 'button',
              class: 'btn',
              dataset: { id: s.id },
              'aria-label': t('settings.revokeNamed', { name: s.device_name || t('settings.unnamedDevice') }),
              on: { click: () => this.revoke(s) },
            }, t('settings.revoke')))),
    );
    if (focusedId) {
      const again = this.sessionList.querySelector(`button[data-id="${CSS.escape(focusedId)}"]`);
      if (again) again.focus();
    }
  }

  async revoke(session) {
    const ok = await confirmDialog({
      title: t('settings.revokeTitle'),
      message: t('settings.revokeConfirm', { name: session.device_name || t('settings.unnamedDevice') }),
      confirmLabel: t('settings.revoke'),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.revokeSession(session.id);
      this.sessions = this.sessions.filter((s) => s.id !== session.id);
      this.error = null;
      this.renderSessions();
      this.sessionStatus.textContent = t('settings.revoked');
      const title = this.el.querySelector('#sessions-title');
      if (title) {
        title.tabIndex = -1;
        title.focus();
      }
    } catch (e) {
      this.error = e;
      this.renderSessions();
    }
  }

  /** Live events: another session ended somewhere. */
  onEvent(frame) {
    if (frame.type === 'presence_sharing_changed' && this.presenceBox) {
      this.presenceBox.checked = frame.share_presence;
      return;
    }
    if (frame.type === 'session_revoked' && this.sessions) {
      this.sessions = this.sessions.filter((s) => s.id !== frame.session_id);
      this.renderSessions();
    }
  }

  focusStart() {
    const title = this.el.querySelector('#settings-title');
    if (title) title.focus();
  }

  destroy() {}
}
