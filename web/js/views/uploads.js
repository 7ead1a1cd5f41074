// Files waiting to go out with the next message. A file starts uploading
// as soon as it is picked, dropped or pasted (POST …/attachments, with
// upload progress), shows its progress, can be removed (an upload in
// flight is aborted), and once uploaded its id goes into the message's
// `attachment_ids`. One Uploads per composer place (conversation, thread
// panel), owned by the view, so the list survives the composer being
// rebuilt (language or permission change).
//
// acceptDrops() makes an area take files dragged onto it for its composer.

import * as api from '../api.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t, formatSize, formatNumber, errorText } from '../i18n.js';

/** The server takes at most this many attachments per message. */
export const MAX_ATTACHMENTS = 10;

/** Local previews only for the image types the client shows inline (files.js). */
const PREVIEW_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Readable text for a failed upload. */
export function uploadErrorText(err) {
  switch (err && err.code) {
    case 'payload_too_large': return t('upload.tooLarge');
    case 'limit_exceeded': return t('upload.limit');
    case 'invalid_input': return t('upload.invalid');
    case 'forbidden': return t('upload.forbidden');
    case 'not_found': return t('upload.notFound');
    default:
      if (err && err.status === 413) return t('upload.tooLarge');
      return errorText(err);
  }
}

export class Uploads {
  /**
   * @param {number} conversationId
   * @param {{dropOn?: Element, composer?: () => (import('./composer.js').Composer|null)}} [opts]
   *   files dropped on `dropOn` go to the composer `composer()` returns
   */
  constructor(conversationId, { dropOn = null, composer = null } = {}) {
    this.conversationId = conversationId;
    if (dropOn && composer) acceptDrops(dropOn, composer);
    this.items = []; // {file, status: 'uploading'|'done'|'error', sent, att, error, job, abort, preview, row}
    this.list = h('ul', { class: 'uploads', hidden: true });
    this.live = h('p', { class: 'visually-hidden', role: 'status' });
    this.el = h('div', { class: 'uploads-wrap' }, this.list, this.live);
    this.destroyed = false;
    this.render();
  }

  get count() {
    return this.items.length;
  }

  /** Some file is still uploading. */
  get busy() {
    return this.items.some((i) => i.status === 'uploading');
  }

  /** Some file failed (it has to be removed before sending). */
  get failed() {
    return this.items.some((i) => i.status === 'error');
  }

  /** Ids of the uploaded files, in the order they were added. */
  ids() {
    return this.items.filter((i) => i.status === 'done').map((i) => i.att.id);
  }

  /** Resolves when no upload is in flight any more. */
  async settled() {
    while (this.busy) {
      await Promise.allSettled(this.items.filter((i) => i.status === 'uploading').map((i) => i.job));
    }
  }

  /**
   * Add files and start uploading them. Returns an error text when some
   * were left out (more than MAX_ATTACHMENTS), else null.
   */
  add(files) {
    const list = Array.from(files || []);
    const room = MAX_ATTACHMENTS - this.items.length;
    for (const file of list.slice(0, Math.max(0, room))) this.start(file);
    this.sync();
    return list.length > room ? t('upload.tooMany', { max: formatNumber(MAX_ATTACHMENTS) }) : null;
  }

  start(file) {
    const item = { file, status: 'uploading', sent: 0, att: null, error: null, job: null, abort: null, preview: null, row: null };
    if (PREVIEW_TYPES.has(file.type)) item.preview = URL.createObjectURL(file);
    const upload = api.uploadAttachment(this.conversationId, file, {
      onProgress: (sent) => {
        item.sent = sent;
        this.updateRow(item);
      },
    });
    item.abort = upload.abort;
    item.job = upload.promise.then((att) => {
      item.status = 'done';
      item.att = att;
      this.announce(t('upload.done', { name: file.name }));
    }, (err) => {
      if (err && err.code === 'aborted') return;
      item.status = 'error';
      item.error = uploadErrorText(err);
      this.announce(`${file.name}: ${item.error}`);
    }).finally(() => this.updateRow(item));
    this.items.push(item);
    this.list.append(this.row(item));
  }

  /**
   * Take one file off the list (aborting its upload). A file the user
   * removes after it was uploaded is deleted on the server too, so it does
   * not count against their quota; one that went out with a message stays.
   */
  remove(item, { focus = true, discard = true } = {}) {
    const at = this.items.indexOf(item);
    if (at < 0) return;
    this.items.splice(at, 1);
    if (item.status === 'uploading' && item.abort) item.abort();
    if (discard && item.att) api.deleteAttachment(item.att.id).catch(() => {});
    if (item.preview) URL.revokeObjectURL(item.preview);
    item.preview = null;
    const next = this.items[at] || this.items[at - 1];
    item.row.remove();
    this.sync();
    if (!focus) return;
    if (next) next.row.querySelector('button').focus();
    else this.announce(t('upload.removed', { name: item.file.name }));
    if (!next && this.onEmpty) this.onEmpty();
  }

  /** The message went out: drop the files it carried. */
  clear(sentIds) {
    for (const item of [...this.items]) {
      if (item.att && sentIds.includes(item.att.id)) this.remove(item, { focus: false, discard: false });
    }
  }

  announce(text) {
    if (!this.destroyed) this.live.textContent = text;
  }

  sync() {
    this.list.hidden = this.items.length === 0;
  }

  // --- rendering -----------------------------------------------------------------

  /** Rebuild every row (first time and after a language change). */
  render() {
    this.list.setAttribute('aria-label', t('upload.listLabel'));
    this.list.replaceChildren(...this.items.map((i) => this.row(i)));
    this.sync();
  }

  row(item) {
    const name = item.file.name || 'file';
    item.meta = h('span', { class: 'upload-meta' });
    item.progress = h('progress', { class: 'upload-progress', max: String(item.file.size || 1), 'aria-label': t('upload.progress', { name }) });
    item.row = h('li', { class: 'upload' },
      item.preview ? h('img', { class: 'upload-preview', src: item.preview, alt: '', width: '40', height: '40' }) : h('span', { class: 'upload-icon' }, icon('file')),
      h('div', { class: 'upload-info' }, h('span', { class: 'upload-name' }, name), item.meta, item.progress),
      h('button', {
        type: 'button',
        class: 'icon-btn small upload-remove',
        'aria-label': t('upload.remove', { name }),
        title: t('upload.remove', { name }),
        on: { click: () => this.remove(item) },
      }, icon('close')));
    this.updateRow(item);
    return item.row;
  }

  updateRow(item) {
    if (!item.row) return;
    const size = formatSize(item.file.size);
    item.row.classList.toggle('upload-done', item.status === 'done');
    item.row.classList.toggle('upload-error', item.status === 'error');
    item.progress.hidden = item.status !== 'uploading';
    if (item.status === 'uploading') {
      item.progress.value = item.sent;
      const pct = item.file.size ? Math.min(100, Math.floor((item.sent / item.file.size) * 100)) : 0;
      item.meta.textContent = t('upload.uploading', { size, percent: formatNumber(pct) });
    } else if (item.status === 'done') {
      item.meta.textContent = t('upload.uploaded', { size });
    } else {
      item.meta.textContent = item.error;
    }
  }

  /** The view closed: abort what is in flight, let go of the previews. */
  destroy() {
    this.destroyed = true;
    for (const item of this.items) {
      if (item.status === 'uploading' && item.abort) item.abort();
      if (item.preview) URL.revokeObjectURL(item.preview);
    }
    this.items = [];
  }
}

let guarded = false;

/**
 * Let `el` take files dragged onto it, for the composer `getComposer()`
 * returns (when that one may attach). Files dropped anywhere else are
 * refused, so a missed drop does not navigate away from the app.
 */
export function acceptDrops(el, getComposer) {
  if (!guarded) {
    guarded = true;
    for (const type of ['dragover', 'drop']) {
      document.addEventListener(type, (e) => {
        if (!e.defaultPrevented && hasFiles(e)) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'none';
        }
      });
    }
  }
  const target = (e) => {
    const composer = getComposer();
    return composer && composer.canAttach() && hasFiles(e) ? composer : null;
  };
  const off = () => el.classList.remove('drop-active');
  el.addEventListener('dragover', (e) => {
    if (!target(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    if (!el.classList.contains('drop-active')) {
      el.dataset.drop = t('upload.dropHere');
      el.classList.add('drop-active');
    }
  });
  el.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget || !el.contains(e.relatedTarget)) off();
  });
  el.addEventListener('drop', (e) => {
    const composer = target(e);
    off();
    if (!composer) return;
    e.preventDefault();
    composer.addFiles(e.dataTransfer.files);
  });
}

function hasFiles(e) {
  return !!e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
}
