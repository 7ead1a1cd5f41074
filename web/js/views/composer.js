// The message composer: a labelled <textarea>; Enter sends, Shift+Enter
// inserts a newline. Sending resolves @mentions and posts with a fresh
// txn_id (api.sendMessage retries the same txn_id once on network errors).

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
      },
    });
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
      h('div', { class: 'composer-row' }, this.area, this.button),
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
    const text = this.area.value;
    if (!text.trim()) return;
    if (new TextEncoder().encode(text).length > 16384) {
      this.error.textContent = t('composer.tooLong');
      return;
    }
    this.sending = true;
    this.button.disabled = true;
    this.error.textContent = '';
    try {
      const meta = await resolveMentions(text);
      const body = { txn_id: newTxnId(), text, ...meta };
      if (this.opts.threadRootId) body.thread_root_id = this.opts.threadRootId;
      const msg = await api.sendMessage(this.opts.conversationId, body);
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
