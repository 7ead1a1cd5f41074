// One message as a list item: sender, time, rendered Markdown, "edited"
// flag or deletion tombstone, attachments (attachments.js), reactions,
// thread summary and the actions (react, reply in thread, edit, delete).
//
// A MessageScope renders messages for one place (the main timeline or the
// thread panel) and keeps that place's UI state: which message is being
// edited, the edit draft, which reaction picker is open, and the object
// URLs of the attachments it shows.

import * as api from '../api.js';
import { h, confirmDialog } from '../dom.js';
import { icon } from '../icons.js';
import { t, tn, formatTime, formatDateTime } from '../i18n.js';
import { renderMarkdown } from '../markdown.js';
import { state, userName, resolveMentions } from '../state.js';
import { AttachmentMedia } from './attachments.js';

/** The quick reactions offered by the "add reaction" button. */
export const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉', '👀', '✅'];

/** Add or remove one user's reaction on a message object (idempotent). */
export function applyReaction(msg, userId, emoji, added) {
  const reactions = msg.reactions || (msg.reactions = []);
  let r = reactions.find((x) => x.emoji === emoji);
  if (added) {
    if (!r) {
      r = { emoji, user_ids: [] };
      reactions.push(r);
    }
    if (!r.user_ids.includes(userId)) r.user_ids.push(userId);
  } else if (r) {
    r.user_ids = r.user_ids.filter((id) => id !== userId);
    if (!r.user_ids.length) reactions.splice(reactions.indexOf(r), 1);
  }
}

/** Turn a message object into its tombstone (as the server stores it). */
export function applyDeleted(msg) {
  msg.deleted = true;
  msg.text = null;
  msg.mentions = [];
  msg.mentions_channel = false;
  msg.reactions = [];
  msg.attachments = [];
  if (!msg.deleted_at) msg.deleted_at = new Date().toISOString();
}

export class MessageScope {
  /**
   * @param {object} view  the owning ConversationView, which provides
   *   role(), kind(), canPost(), messageChanged(msg), refresh(scope, msg),
   *   openThread(msg), showError(err)
   * @param {{inThread: boolean, prefix: string}} opts
   */
  constructor(view, { inThread, prefix }) {
    this.view = view;
    this.inThread = inThread;
    this.prefix = prefix;
    this.editingId = null;
    this.editDraft = '';
    this.pickerId = null;
    this.nodes = new Map(); // message id → last rendered <li>
    this.media = new AttachmentMedia((err) => this.view.showError(err));
  }

  /** Render a message as an <li>. */
  render(msg) {
    const meId = state.me ? state.me.id : null;
    const mine = msg.sender_id === meId;
    const editing = this.editingId === msg.id && !msg.deleted;
    const li = h(
      'li',
      {
        class: ['msg', mine && 'msg-mine', msg.deleted && 'msg-deleted', this.isMentioned(msg) && 'msg-mention'],
        id: `${this.prefix}-msg-${msg.id}`,
        dataset: { id: msg.id },
      },
      h(
        'div',
        { class: 'msg-head' },
        h('span', { class: 'msg-sender' }, userName(msg.sender_id)),
        h('time', { class: 'msg-time muted', datetime: msg.created_at, title: formatDateTime(msg.created_at) }, formatTime(msg.created_at)),
        msg.edited && !msg.deleted
          ? h('span', { class: 'msg-edited muted', title: msg.edited_at ? formatDateTime(msg.edited_at) : null }, t('message.edited'))
          : null,
      ),
      msg.deleted
        ? h('p', { class: 'msg-body tombstone' }, t('message.deleted'))
        : editing
          ? this.editForm(msg)
          : msg.text || !(msg.attachments && msg.attachments.length)
            ? h('div', { class: 'msg-body' }, renderMarkdown(msg.text || '', { me: state.me && state.me.username }))
            : null,
      this.media.render(msg),
      msg.deleted ? null : this.reactionRow(msg),
      !this.inThread && msg.reply_count > 0 ? this.threadSummary(msg) : null,
      msg.deleted || editing ? null : this.actions(msg, mine),
    );
    this.nodes.set(msg.id, li);
    return li;
  }

  isMentioned(msg) {
    if (!state.me || msg.deleted || msg.sender_id === state.me.id) return false;
    return msg.mentions_channel || (msg.mentions || []).includes(state.me.id);
  }

  /** Forget a node (the timeline dropped it), and revoke its attachments' URLs. */
  forget(id) {
    this.nodes.delete(id);
    this.media.release(id);
  }

  /** The place closed: revoke every attachment URL. */
  destroy() {
    this.media.destroy();
  }

  /** Focus an element of a rendered message by its data-key. */
  focus(id, key) {
    const li = this.nodes.get(id);
    const el = li && li.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (el) el.focus();
    return !!el;
  }

  actions(msg, mine) {
    const canReact = this.view.role() !== null;
    const canDelete = mine || (this.view.kind() !== 'direct' && ['owner', 'moderator'].includes(this.view.role()));
    const pickerOpen = this.pickerId === msg.id;
    return h(
      'div',
      { class: 'msg-actions', role: 'group', 'aria-label': t('message.actions') },
      canReact
        ? h('button', {
          type: 'button',
          class: 'icon-btn small',
          dataset: { key: 'react-add' },
          'aria-label': t('reaction.add'),
          title: t('reaction.add'),
          'aria-expanded': pickerOpen,
          on: { click: () => this.togglePicker(msg) },
        }, icon('smile'))
        : null,
      !this.inThread && this.view.canPost()
        ? h('button', {
          type: 'button',
          class: 'icon-btn small',
          dataset: { key: 'reply' },
          'aria-label': t('thread.reply'),
          title: t('thread.reply'),
          on: { click: () => this.view.openThread(msg) },
        }, icon('reply'))
        : null,
      mine
        ? h('button', {
          type: 'button',
          class: 'icon-btn small',
          dataset: { key: 'edit' },
          'aria-label': t('message.edit'),
          title: t('message.edit'),
          on: { click: () => this.startEdit(msg) },
        }, icon('edit'))
        : null,
      canDelete
        ? h('button', {
          type: 'button',
          class: 'icon-btn small',
          dataset: { key: 'delete' },
          'aria-label': t('message.delete'),
          title: t('message.delete'),
          on: { click: () => this.remove(msg) },
        }, icon('trash'))
        : null,
    );
  }

  reactionRow(msg) {
    const meId = state.me ? state.me.id : null;
    const reactions = msg.reactions || [];
    const pickerOpen = this.pickerId === msg.id;
    if (!reactions.length && !pickerOpen) return null;
    const canReact = this.view.role() !== null;
    return h(
      'div',
      { class: 'reactions' },
      reactions.map((r) => {
        const mineR = r.user_ids.includes(meId);
        const names = r.user_ids.slice(0, 10).map(userName).join(', ') + (r.user_ids.length > 10 ? ' …' : '');
        return h(
          'button',
          {
            type: 'button',
            class: ['reaction', mineR && 'reaction-mine'],
            dataset: { key: `r:${r.emoji}` },
            'aria-pressed': mineR,
            'aria-label': tn('reaction.label', r.user_ids.length, { emoji: r.emoji }),
            title: names,
            disabled: !canReact,
            on: { click: () => this.toggleReaction(msg, r.emoji) },
          },
          h('span', { class: 'reaction-emoji', 'aria-hidden': 'true' }, r.emoji),
          h('span', { class: 'reaction-count', 'aria-hidden': 'true' }, String(r.user_ids.length)),
        );
      }),
      pickerOpen ? this.picker(msg) : null,
    );
  }

  picker(msg) {
    return h(
      'div',
      {
        class: 'picker',
        role: 'group',
        'aria-label': t('reaction.pick'),
        on: {
          keydown: (e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              this.togglePicker(msg);
            }
          },
        },
      },
      QUICK_REACTIONS.map((emoji) =>
        h('button', {
          type: 'button',
          class: 'picker-btn',
          dataset: { key: `p:${emoji}` },
          'aria-label': t('reaction.react', { emoji }),
          on: {
            click: () => {
              this.pickerId = null;
              this.toggleReaction(msg, emoji, true);
            },
          },
        }, emoji),
      ),
    );
  }

  threadSummary(msg) {
    const last = msg.last_reply_at ? t('thread.lastReply', { time: formatDateTime(msg.last_reply_at) }) : '';
    return h(
      'button',
      { type: 'button', class: 'thread-link', dataset: { key: 'thread' }, on: { click: () => this.view.openThread(msg) } },
      icon('thread'),
      ' ',
      tn('thread.replies', msg.reply_count),
      last ? h('span', { class: 'muted' }, ` · ${last}`) : null,
    );
  }

  editForm(msg) {
    const id = `${this.prefix}-edit-${msg.id}`;
    const area = h('textarea', {
      id,
      class: 'input edit-area',
      rows: '3',
      value: this.editDraft,
      dataset: { key: 'edit-area' },
      on: {
        input: (e) => {
          this.editDraft = e.target.value;
        },
        keydown: (e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            this.cancelEdit(msg);
          } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            this.saveEdit(msg);
          }
        },
      },
    });
    return h(
      'form',
      { class: 'edit-form', on: { submit: (e) => { e.preventDefault(); this.saveEdit(msg); } } },
      h('label', { for: id, class: 'visually-hidden' }, t('message.editLabel')),
      area,
      h('div', { class: 'edit-actions' },
        h('button', { type: 'button', class: 'btn', on: { click: () => this.cancelEdit(msg) } }, t('dialog.cancel')),
        h('button', { type: 'submit', class: 'btn btn-primary' }, t('message.save'))),
    );
  }

  // --- actions -------------------------------------------------------------

  togglePicker(msg) {
    const opening = this.pickerId !== msg.id;
    this.pickerId = opening ? msg.id : null;
    this.view.refresh(this, msg);
    if (opening) this.focus(msg.id, `p:${QUICK_REACTIONS[0]}`);
    else this.focus(msg.id, 'react-add');
  }

  async toggleReaction(msg, emoji, onlyAdd = false) {
    const meId = state.me.id;
    const r = (msg.reactions || []).find((x) => x.emoji === emoji);
    const has = !!r && r.user_ids.includes(meId);
    if (onlyAdd && has) {
      this.view.refresh(this, msg);
      this.focus(msg.id, `r:${emoji}`);
      return;
    }
    try {
      if (has) await api.removeReaction(msg.id, emoji);
      else await api.addReaction(msg.id, emoji);
      applyReaction(msg, meId, emoji, !has);
      this.view.messageChanged(msg);
      if (!this.focus(msg.id, `r:${emoji}`)) this.focus(msg.id, 'react-add');
    } catch (e) {
      this.view.refresh(this, msg);
      this.view.showError(e);
    }
  }

  startEdit(msg) {
    this.editingId = msg.id;
    this.editDraft = msg.text || '';
    this.view.refresh(this, msg);
    const li = this.nodes.get(msg.id);
    const area = li && li.querySelector('textarea');
    if (area) {
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    }
  }

  cancelEdit(msg) {
    this.editingId = null;
    this.editDraft = '';
    this.view.refresh(this, msg);
    this.focus(msg.id, 'edit');
  }

  async saveEdit(msg) {
    const text = this.editDraft;
    if (!text.trim()) {
      this.view.showError(null, t('message.empty'));
      return;
    }
    if (text === msg.text) {
      this.cancelEdit(msg);
      return;
    }
    try {
      const meta = await resolveMentions(text);
      const updated = await api.editMessage(msg.id, { text, ...meta });
      Object.assign(msg, updated);
      this.editingId = null;
      this.editDraft = '';
      this.view.messageChanged(msg);
      this.focus(msg.id, 'edit');
    } catch (e) {
      this.view.showError(e);
    }
  }

  async remove(msg) {
    const ok = await confirmDialog({
      title: t('message.deleteTitle'),
      message: t('message.deleteConfirm'),
      confirmLabel: t('message.delete'),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteMessage(msg.id);
      applyDeleted(msg);
      this.view.messageChanged(msg);
    } catch (e) {
      this.view.showError(e);
    }
  }
}
