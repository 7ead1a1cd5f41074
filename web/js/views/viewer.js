// The image viewer: a modal <dialog> with the full image (fetched with the
// token when it opens, shown through an object URL that is revoked when it
// closes), its name, type, size and a download button. Escape or the close
// button close it; focus returns to the thumbnail that opened it.

import * as api from '../api.js';
import { h, uid, showDialog } from '../dom.js';
import { icon } from '../icons.js';
import { t, formatSize, formatNumber, errorText } from '../i18n.js';
import { saveBlob, typeLabel } from '../files.js';

/** Show one image attachment. Resolves when the viewer is closed. */
export function openImageViewer(att) {
  const titleId = uid('viewer');
  let url = null;
  let blob = null;
  let closed = false;
  const done = showDialog((close) => {
    const status = h('p', { class: 'viewer-status muted', role: 'status' }, t('att.loadingImage'));
    const stage = h('div', { class: 'viewer-stage' }, status);
    const error = h('p', { class: 'form-error', role: 'alert' });
    const download = h('button', {
      type: 'button',
      class: 'btn',
      'aria-label': t('att.downloadNamed', { name: att.name }),
      on: {
        click: async () => {
          error.textContent = '';
          try {
            saveBlob(blob || (await api.attachmentBlob(att.id)), att.name);
          } catch (e) {
            error.textContent = errorText(e);
          }
        },
      },
    }, icon('download'), t('att.download'));
    const facts = [typeLabel(att)];
    if (att.width && att.height) facts.push(`${formatNumber(att.width)} × ${formatNumber(att.height)}`);
    facts.push(formatSize(att.size));

    api.attachmentBlob(att.id).then((b) => {
      if (closed) return;
      blob = b;
      url = URL.createObjectURL(b);
      const img = h('img', { class: 'viewer-img', alt: att.name });
      img.addEventListener('load', () => status.remove(), { once: true });
      img.addEventListener('error', () => {
        status.textContent = t('att.unreadable');
      }, { once: true });
      img.src = url;
      stage.append(img);
    }).catch((e) => {
      if (closed) return;
      status.remove();
      error.textContent = errorText(e);
    });

    return h('div', { class: 'dialog-body viewer-body' },
      h('div', { class: 'dialog-head' },
        h('h2', { id: titleId, class: 'dialog-title viewer-title' }, att.name),
        h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('dialog.close'), title: t('dialog.close'), on: { click: () => close() } }, icon('close'))),
      stage,
      h('p', { class: 'muted small viewer-facts' }, facts.join(' · ')),
      error,
      h('div', { class: 'dialog-actions' }, download),
    );
  }, { labelledBy: titleId, className: 'dialog-viewer' });
  return done.then(() => {
    closed = true;
    if (url) URL.revokeObjectURL(url);
    url = null;
    blob = null;
  });
}
