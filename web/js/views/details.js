// The details panel of a conversation: name and topic (editable by those
// the policy allows, PATCH /conversations/{id}), the members (members.js)
// and "leave" with a confirmation; in a group or channel someone else
// made, also "leave all of that person's groups and channels" (the way out
// when a colleague keeps putting you into conversations you do not want). A side panel on wide screens and a
// full-width sheet on phones, like the thread panel (see style.css). It
// follows conversation_updated and member_* events while it is open.

import * as api from '../api.js';
import { h, uid, confirmDialog } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';
import { state, applyEvent, conversationTitle, ensureUsers, userName } from '../state.js';
import { MemberSection, permissions, errorFor } from './members.js';

export class DetailsPanel {
  /**
   * @param {import('./conversation.js').ConversationView} view
   * @param {Element|null} opener  focus returns here on close
   */
  constructor(view, opener) {
    this.view = view;
    this.opener = opener;
    this.titleId = `details-title-${view.id}`;
    this.members = new MemberSection(view);
    this.base = null; // {name, topic} the form was filled with
    this.el = h('aside', {
      id: `details-${view.id}`,
      class: 'side-panel details-panel',
      'aria-labelledby': this.titleId,
      on: {
        keydown: (e) => {
          if (e.key !== 'Escape' || e.defaultPrevented) return;
          // Escape in a search field with text clears it first.
          if (e.target instanceof HTMLInputElement && e.target.type === 'search' && e.target.value) return;
          e.stopPropagation();
          view.closePanel(true);
        },
      },
    });
    this.render();
  }

  load() {
    return this.members.load();
  }

  conv() {
    return this.view.detail.conversation;
  }

  render() {
    const close = h('button', {
      type: 'button',
      class: 'icon-btn',
      dataset: { key: 'close' },
      'aria-label': t('details.close'),
      title: t('details.close'),
      on: { click: () => this.view.closePanel(true) },
    }, icon('close'));
    this.settings = h('section', { class: 'details-section', 'aria-labelledby': `${this.titleId}-about` });
    this.renderSettings();
    this.members.render();
    const perms = permissions(this.view);
    const creator = this.conv().created_by;
    const byOther = perms.leave && creator !== state.me.id;
    const leave = perms.leave
      ? h('section', { class: 'details-section' },
        h('button', { type: 'button', class: 'btn btn-danger', dataset: { key: 'leave' }, on: { click: () => this.leave() } }, t('members.leave')),
        byOther ? h('button', { type: 'button', class: 'btn btn-danger', dataset: { key: 'leave-all' }, on: { click: () => this.leaveAllBy(creator) } }, t('members.leaveAllBy', { name: userName(creator) })) : null,
        this.leaveError = h('p', { class: 'form-error', role: 'alert' }))
      : null;
    if (byOther && !state.users.has(creator)) ensureUsers([creator]).then(() => { if (this.el.isConnected) this.render(); });
    const hadFocus = this.el.contains(document.activeElement);
    const key = hadFocus && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    this.el.replaceChildren(
      h('header', { class: 'pane-header' }, h('h2', { id: this.titleId, class: 'pane-title', tabindex: '-1' }, t('details.title')), close),
      h('div', { class: 'details-body' }, this.settings, this.members.el, leave),
    );
    if (hadFocus) {
      const again = key && this.el.querySelector(`[data-key="${CSS.escape(key)}"]`);
      (again || this.el.querySelector('h2')).focus();
    }
  }

  /** Name and topic: a form for those who may change them, else text. */
  renderSettings() {
    const c = this.conv();
    const headingId = `${this.titleId}-about`;
    const heading = h('h3', { id: headingId }, c.kind === 'direct' ? t('details.about') : t('details.settings'));
    if (!permissions(this.view).edit) {
      this.form = null;
      this.settings.replaceChildren(heading,
        h('dl', { class: 'details-facts' },
          c.kind === 'direct' ? null : [h('dt', null, t('details.name')), h('dd', null, conversationTitle(c))],
          c.kind === 'direct' ? null : [h('dt', null, t('details.topic')), h('dd', { class: c.topic ? null : 'muted' }, c.topic || t('details.noTopic'))],
          [h('dt', null, t('details.kind')), h('dd', null, t(`new.kind.${c.kind}`))]));
      return;
    }
    this.base = { name: c.name || '', topic: c.topic || '' };
    const nameId = uid('dname');
    const topicId = uid('dtopic');
    this.nameInput = h('input', {
      id: nameId,
      type: 'text',
      class: 'input',
      maxlength: '100',
      autocomplete: 'off',
      value: this.base.name,
      placeholder: c.name ? null : conversationTitle(c),
      required: c.kind === 'channel',
      dataset: { key: 'name' },
    });
    this.topicInput = h('textarea', { id: topicId, class: 'input', rows: '2', maxlength: '500', value: this.base.topic, dataset: { key: 'topic' } });
    this.saveBtn = h('button', { type: 'submit', class: 'btn btn-primary', dataset: { key: 'save' } }, t('details.save'));
    this.formStatus = h('p', { class: 'muted', role: 'status' });
    this.formError = h('p', { class: 'form-error', role: 'alert' });
    this.form = h('form', { class: 'details-form', on: { submit: (e) => { e.preventDefault(); this.save(); } } },
      h('div', { class: 'field' }, h('label', { for: nameId }, t('details.name')), this.nameInput),
      h('div', { class: 'field' }, h('label', { for: topicId }, t('details.topic')), this.topicInput),
      this.formError,
      this.formStatus,
      h('div', { class: 'dialog-actions' }, this.saveBtn));
    this.settings.replaceChildren(heading, this.form);
  }

  /** The conversation changed elsewhere: update what the reader did not edit. */
  syncSettings() {
    if (!this.form) {
      this.renderSettings();
      return;
    }
    const c = this.conv();
    const next = { name: c.name || '', topic: c.topic || '' };
    if (this.nameInput.value === this.base.name) this.nameInput.value = next.name;
    if (this.topicInput.value === this.base.topic) this.topicInput.value = next.topic;
    this.nameInput.placeholder = c.name ? '' : conversationTitle(c);
    this.base = next;
  }

  async save() {
    const c = this.conv();
    const name = this.nameInput.value.trim();
    const topic = this.topicInput.value.trim();
    const body = {};
    this.formError.textContent = '';
    this.formStatus.textContent = '';
    if (name !== (c.name || '')) {
      if (!name) {
        this.formError.textContent = t('details.errName');
        this.nameInput.focus();
        return;
      }
      body.name = name;
    }
    if (topic !== (c.topic || '')) body.topic = topic;
    if (!Object.keys(body).length) {
      this.formStatus.textContent = t('details.unchanged');
      return;
    }
    this.saveBtn.disabled = true;
    try {
      const conv = await api.updateConversation(this.view.id, body);
      this.nameInput.value = conv.name || '';
      this.topicInput.value = conv.topic || '';
      // Same path as the live event (which follows and changes nothing).
      const frame = { type: 'conversation_updated', conversation: conv };
      applyEvent(frame);
      this.view.onEvent(frame);
      this.formStatus.textContent = t('details.saved');
    } catch (e) {
      this.formError.textContent = errorFor(e, 'settings');
    } finally {
      this.saveBtn.disabled = false;
    }
  }

  async leave() {
    const ok = await confirmDialog({
      title: t('members.leaveTitle'),
      message: t('members.leaveConfirm', { name: this.view.title() }),
      confirmLabel: t('members.leave'),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    this.leaveError.textContent = '';
    try {
      await api.removeMember(this.view.id, state.me.id);
      this.view.left();
    } catch (e) {
      this.leaveError.textContent = errorFor(e, 'leave');
    }
  }

  /** Leave every group and channel `creator` made, after a confirmation. */
  async leaveAllBy(creator) {
    const name = userName(creator);
    const ok = await confirmDialog({
      title: t('members.leaveAllTitle', { name }),
      message: t('members.leaveAllConfirm', { name }),
      confirmLabel: t('members.leaveAllBy', { name }),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    this.leaveError.textContent = '';
    try {
      const done = await api.leaveAllCreatedBy(creator);
      if (done.kept.includes(this.view.id)) {
        this.leaveError.textContent = t('members.errLastOwner');
      } else {
        this.view.left();
      }
    } catch (e) {
      this.leaveError.textContent = errorFor(e, 'leave');
    }
  }

  /** Live events for this conversation (after the view applied them). */
  onEvent(frame) {
    if (frame.type === 'conversation_updated') this.syncSettings();
    else this.members.onEvent(frame);
  }

  focus() {
    const title = this.el.querySelector('h2');
    if (title) title.focus();
  }

  destroy() {
    this.members.destroy();
  }
}
