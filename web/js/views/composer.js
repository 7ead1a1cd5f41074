// The message composer: a labelled <textarea>; Enter sends, Shift+Enter
// inserts a newline. Sending resolves @mentions and posts with a fresh
// txn_id (api.sendMessage retries the same txn_id once on network errors).
// With an Uploads list (uploads.js) it also takes files: the paperclip
// button's file picker, files pasted into the text field, and files dropped
// on the view (acceptDrops); they go out as `attachment_ids`, and then the
// text may be empty.

import * as api from '../api.js';
import { h, uid } from '../dom.js';
import { icon } from '../icons.js';
import { t, errorText } from '../i18n.js';
import { resolveMentions } from '../state.js';
import { MentionPicker } from './mention.js';

/** A transaction id: a UUID where available (secure contexts), else random hex. */
export function newTxnId() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export class Composer {
  /**
   * @param {object} opts
   * @param {number} opts.conversationId
   * @param {number|null} [opts.threadRootId]
   * @param {string} opts.label             accessible label of the textarea
   * @param {string} [opts.draft]           initial text
   * @param {string} [opts.placeholder]
   * @param {(text: string) => void} [opts.onDraft]
   * @param {() => void} [opts.onTyping]    the user typed (throttled by the stream)
   * @param {(msg: object) => void} opts.onSent
   * @param {string|null} [opts.disabledReason]  shown instead of enabling input
   * @param {import('./uploads.js').Uploads} [opts.uploads]  files for the next message
   */
  constructor(opts) {
    this.opts = opts;
    this.sending = false;
    const id = uid('composer');
    const disabled = !!opts.disabledReason;
    this.area = h('textarea', {
      id,
      class: 'input composer-input',
      rows: '1',
      value: opts.draft || '',
      placeholder: disabled ? '' : opts.placeholder || t('composer.placeholder'),
      disabled,
      'aria-describedby': `${id}-help`,
      on: {
        keydown: (e) => this.onKeyDown(e),
        input: () => this.onInput(),
        paste: (e) => this.onPaste(e),
      },
    });
    this.uploads = disabled ? null : opts.uploads || null;
    if (this.uploads) {
      this.uploads.onEmpty = () => this.focus();
      this.uploads.render(); // labels in the current language
    }
    this.fileInput = this.uploads ? h('input', {
      type: 'file',
      multiple: true,
      hidden: true,
      tabindex: '-1',
      // Images and video first, so phones offer the camera; any file is fine.
      accept: 'image/*,video/*,*/*',
      'aria-label': t('composer.attach'),
      on: {
        change: () => {
          this.addFiles(this.fileInput.files);
          this.fileInput.value = '';
        },
      },
    }) : null;
    const attach = this.uploads ? h('button', {
      type: 'button',
      class: 'icon-btn attach-btn',
      'aria-label': t('composer.attach'),
      title: t('composer.attach'),
      on: { click: () => this.fileInput.click() },
    }, icon('paperclip')) : null;
    this.mentions = disabled ? null : new MentionPicker(this.area, opts.conversationId, () => this.onInput());
    this.error = h('p', { class: 'form-error composer-error', role: 'alert' });
    this.button = h('button', {
      type: 'submit',
      class: 'icon-btn send-btn',
      'aria-label': t('composer.send'),
      title: t('composer.send'),
      disabled,
    }, icon('send'));
    this.el = h(
      'form',
      { class: ['composer', disabled && 'composer-disabled'], on: { submit: (e) => { e.preventDefault(); this.send(); } } },
      disabled ? h('p', { class: 'composer-note', role: 'note' }, opts.disabledReason) : null,
      this.labelEl = h('label', { for: id, class: 'visually-hidden' }, opts.label),
      this.mentions ? this.mentions.list : null,
      this.uploads ? this.uploads.el : null,
      h('div', { class: 'composer-row' }, attach, this.fileInput, this.area, this.button),
      h('p', { id: `${id}-help`, class: 'visually-hidden' }, t('composer.help')),
      this.error,
    );
    queueMicrotask(() => this.autosize());
  }

  focus() {
    if (!this.area.disabled) this.area.focus();
  }

  /** The conversation was renamed (or a name arrived). */
  setLabel(text) {
    if (this.labelEl.textContent !== text) this.labelEl.textContent = text;
  }

  /** Files can be attached here (an Uploads list and not read-only). */
  canAttach() {
    return !!this.uploads && !this.area.disabled;
  }

  /** Picked, pasted or dropped files: upload them for the next message. */
  addFiles(files) {
    if (!this.canAttach() || !files || !files.length) return;
    this.error.textContent = this.uploads.add(files) || '';
    this.area.focus();
  }

  /** Pasted files (a screenshot, say) are attached; pasted text stays text. */
  onPaste(e) {
    const data = e.clipboardData;
    if (!this.canAttach() || !data || !data.files || !data.files.length) return;
    if (data.getData('text/plain')) return;
    e.preventDefault();
    this.addFiles(data.files);
  }

  onKeyDown(e) {
    if (this.mentions && this.mentions.onKeyDown(e)) return;
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      this.send();
    }
  }

  onInput() {
    this.error.textContent = '';
    this.autosize();
    if (this.mentions) this.mentions.update();
    if (this.opts.onDraft) this.opts.onDraft(this.area.value);
    if (this.area.value.trim() && this.opts.onTyping) this.opts.onTyping();
  }

  /** Grow with the content (CSS caps the height). */
  autosize() {
    this.area.style.height = 'auto';
    this.area.style.height = `${this.area.scrollHeight}px`;
  }

  async send() {
    if (this.sending || this.area.disabled) return;
    const uploads = this.uploads;
    const text = this.area.value;
    if (!text.trim() && !(uploads && uploads.count)) return;
    if (new TextEncoder().encode(text).length > 16384) {
      this.error.textContent = t('composer.tooLong');
      return;
    }
    if (uploads && uploads.failed) {
      this.error.textContent = t('upload.removeFailed');
      return;
    }
    this.sending = true;
    this.button.disabled = true;
    this.error.textContent = '';
    try {
      if (uploads && uploads.busy) {
        uploads.announce(t('upload.waiting'));
        await uploads.settled();
        if (uploads.failed) {
          this.error.textContent = t('upload.removeFailed');
          return;
        }
      }
      const ids = uploads ? uploads.ids() : [];
      if (!text.trim() && !ids.length) return;
      const meta = await resolveMentions(text);
      const body = { txn_id: newTxnId(), text: ids.length && !text.trim() ? '' : text, ...meta };
      if (ids.length) body.attachment_ids = ids;
      if (this.opts.threadRootId) body.thread_root_id = this.opts.threadRootId;
      const msg = await api.sendMessage(this.opts.conversationId, body);
      if (ids.length) uploads.clear(ids);
      // Only clear what was sent (the user may have typed on meanwhile).
      if (this.area.value === text) this.area.value = '';
      if (this.mentions) this.mentions.close();
      if (this.opts.onDraft) this.opts.onDraft(this.area.value);
      this.autosize();
      this.opts.onSent(msg);
    } catch (e) {
      this.error.textContent = errorText(e);
    } finally {
      this.sending = false;
      this.button.disabled = false;
      this.area.focus();
    }
  }
}
