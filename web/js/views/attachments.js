// Attachments of messages: images as thumbnails (the full image opens in
// viewer.js), video and audio players, and file cards with open (PDF, plain
// text) and download buttons. See files.js for which types show inline.
//
// Files need the bearer token, so nothing here is an <img src="/api/…">:
// each file is fetched and shown through an object URL. One
// AttachmentMedia per MessageScope owns those URLs, per message id:
//  - thumbnails load when they scroll into view (IntersectionObserver);
//    their box is sized from the image's width and height before that, so
//    the timeline does not jump;
//  - video and audio load only when the reader presses play; at most
//    MAX_PLAYERS of them are kept, the oldest paused one goes back to its
//    play button;
//  - release(id) revokes a message's URLs: the timeline dropped it from its
//    window, or it was deleted; destroy() revokes all (panel or
//    conversation closed).
// A re-rendered message (reaction, edit) reuses its URLs and its player
// element, so a playing video keeps playing.

import * as api from '../api.js';
import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t, formatSize } from '../i18n.js';
import { attachmentKind, saveBlob, openBlob, typeLabel } from '../files.js';
import { openImageViewer } from './viewer.js';

/** The box a thumbnail fits in (CSS px); the server's previews are at most 320 px. */
const THUMB_W = 240;
const THUMB_H = 180;
/** Most loaded video/audio players per scope (their files can be large). */
const MAX_PLAYERS = 3;

/** Display size of a thumbnail: the image scaled down into the box, never up. */
function fit(w, hgt) {
  if (!w || !hgt) return [THUMB_W, THUMB_H];
  const scale = Math.min(1, THUMB_W / w, THUMB_H / hgt);
  return [Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(hgt * scale))];
}

export class AttachmentMedia {
  /** @param {(err: Error) => void} onError  shows a failed download or open */
  constructor(onError) {
    this.onError = onError;
    this.entries = new Map(); // message id → Map(key → {url, job, el, released})
    this.lazy = new Map(); // message id → Set of <img> waiting to be seen
    this.players = []; // [{id, key}] of loaded players, oldest first
    this.observer = null;
  }

  /** The attachment list of a message, or null. */
  render(msg) {
    this.unwatch(msg.id);
    const list = msg.deleted ? [] : msg.attachments || [];
    if (!list.length) {
      if (msg.deleted) this.release(msg.id);
      return null;
    }
    // Images first, side by side; then one card per line for the other files.
    const images = list.filter((att) => attachmentKind(att) === 'image');
    const others = list.filter((att) => attachmentKind(att) !== 'image');
    return h('ul', { class: 'atts', 'aria-label': t('att.listLabel') },
      images.map((att) => h('li', { class: 'att-item' }, this.thumb(msg.id, att))),
      others.map((att) => h('li', { class: 'att-item att-item-card' }, this.item(msg.id, att))));
  }

  /** A file that is not an image: a player card or a file card. */
  item(id, att) {
    const kind = attachmentKind(att);
    if (kind === 'video' || kind === 'audio') return this.player(id, att, kind);
    return this.card(att, kind);
  }

  // --- images ------------------------------------------------------------

  thumb(id, att) {
    const [w, hgt] = fit(att.width, att.height);
    const img = h('img', { class: 'att-img', alt: att.name, width: String(w), height: String(hgt), decoding: 'async' });
    const key = `thumb:${att.id}`;
    const known = this.peek(id, key);
    if (known) img.src = known;
    else this.watch(id, img, () => this.load(id, key, () => api.attachmentBlob(att.id, { thumbnail: !!att.thumbnail_url })));
    return h('button', {
      type: 'button',
      class: 'att-thumb',
      'aria-label': t('att.openImage', { name: att.name }),
      title: att.name,
      on: { click: () => openImageViewer(att) },
    }, img);
  }

  /** Load an image's file once it is in view. */
  watch(id, img, load) {
    if (!this.observer) {
      this.observer = new IntersectionObserver((seen) => {
        for (const e of seen) {
          if (!e.isIntersecting) continue;
          this.observer.unobserve(e.target);
          const job = e.target.kontorLoad;
          e.target.kontorLoad = null;
          if (job) job();
        }
      });
    }
    img.kontorLoad = () => {
      const waiting = this.lazy.get(id);
      if (waiting) waiting.delete(img);
      load().then((url) => {
        if (url && !img.src) img.src = url;
      }, () => {
        const box = img.closest('.att-thumb');
        if (box && !box.classList.contains('att-failed')) {
          box.classList.add('att-failed');
          box.append(h('span', { class: 'att-failed-text' }, t('att.unavailable')));
        }
      });
    };
    if (!this.lazy.has(id)) this.lazy.set(id, new Set());
    this.lazy.get(id).add(img);
    this.observer.observe(img);
  }

  /** Stop waiting for a message's old images (it is re-rendered or gone). */
  unwatch(id) {
    const waiting = this.lazy.get(id);
    if (!waiting) return;
    for (const img of waiting) {
      img.kontorLoad = null;
      if (this.observer) this.observer.unobserve(img);
    }
    this.lazy.delete(id);
  }

  // --- video and audio ------------------------------------------------------

  player(id, att, kind) {
    const entry = this.entry(id, `${kind}:${att.id}`);
    const slot = h('div', { class: ['att-player', `att-${kind}`] });
    slot.append(entry && entry.el ? entry.el : this.playButton(id, att, kind));
    return h('div', { class: 'att-card att-card-media' },
      h('div', { class: 'att-card-row' }, icon('file'), this.fileInfo(att), h('div', { class: 'att-actions' }, this.downloadButton(att))),
      slot);
  }

  /** "Play": fetch the file, then put a <video>/<audio controls> in its place and start it. */
  playButton(id, att, kind) {
    const key = `${kind}:${att.id}`;
    const label = h('span', null, t('att.play'));
    const play = h('button', {
      type: 'button',
      class: 'btn att-play',
      'aria-label': t(kind === 'video' ? 'att.playVideo' : 'att.playAudio', { name: att.name }),
      on: {
        click: async () => {
          if (play.getAttribute('aria-busy') === 'true') return;
          play.setAttribute('aria-busy', 'true');
          label.textContent = t('att.loading');
          let url = null;
          try {
            url = await this.load(id, key, () => api.attachmentBlob(att.id));
          } catch (err) {
            play.removeAttribute('aria-busy');
            label.textContent = t('att.play');
            this.onError(err);
            return;
          }
          const e = this.entry(id, key);
          if (!url || !e) return;
          if (!e.el) {
            e.el = h(kind, { class: 'att-media', controls: '', preload: 'metadata', 'aria-label': att.name });
            e.el.src = url;
            e.rebuild = () => this.playButton(id, att, kind);
            this.players.push({ id, key });
          }
          // The message may have been re-rendered meanwhile: use its current slot.
          const target = play.isConnected ? play.parentElement : null;
          if (target) {
            target.replaceChildren(e.el);
            e.el.focus();
            e.el.play().catch(() => {});
          }
          this.trimPlayers();
        },
      },
    }, icon('play'), label);
    return play;
  }

  /** Keep at most MAX_PLAYERS loaded; the oldest paused one is let go. */
  trimPlayers() {
    while (this.players.length > MAX_PLAYERS) {
      const at = this.players.findIndex(({ id, key }) => {
        const e = this.entry(id, key);
        return !e || !e.el || e.el.paused;
      });
      if (at < 0) return;
      const [{ id, key }] = this.players.splice(at, 1);
      const e = this.entry(id, key);
      if (e) this.drop(id, key, e);
    }
  }

  // --- other files -------------------------------------------------------------

  card(att, kind) {
    const open = kind === 'pdf' || kind === 'text'
      ? h('button', {
        type: 'button',
        class: 'btn btn-small',
        'aria-label': t('att.openNamed', { name: att.name }),
        on: { click: (e) => this.fetchThen(e.currentTarget, att, (blob) => openBlob(blob, kind)) },
      }, icon('external'), t('att.open'))
      : null;
    return h('div', { class: 'att-card' },
      h('div', { class: 'att-card-row' }, icon('file'), this.fileInfo(att), h('div', { class: 'att-actions' }, open, this.downloadButton(att))));
  }

  fileInfo(att) {
    return h('div', { class: 'att-info' },
      h('span', { class: 'att-name' }, att.name),
      h('span', { class: 'att-meta muted' }, [typeLabel(att), formatSize(att.size)].filter(Boolean).join(' · ')));
  }

  downloadButton(att) {
    return h('button', {
      type: 'button',
      class: 'btn btn-small',
      'aria-label': t('att.downloadNamed', { name: att.name }),
      on: { click: (e) => this.fetchThen(e.currentTarget, att, (blob) => saveBlob(blob, att.name)) },
    }, icon('download'), t('att.download'));
  }

  /** Fetch the file (not kept) and hand it on; the button is busy meanwhile. */
  async fetchThen(button, att, use) {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    try {
      use(await api.attachmentBlob(att.id));
    } catch (err) {
      this.onError(err);
    } finally {
      button.removeAttribute('aria-busy');
    }
  }

  // --- object URLs ---------------------------------------------------------------

  entry(id, key) {
    const byKey = this.entries.get(id);
    return (byKey && byKey.get(key)) || null;
  }

  peek(id, key) {
    const e = this.entry(id, key);
    return e ? e.url : null;
  }

  /** The object URL of a file of message `id`, fetched once; null if released meanwhile. */
  load(id, key, fetchBlob) {
    let byKey = this.entries.get(id);
    if (!byKey) {
      byKey = new Map();
      this.entries.set(id, byKey);
    }
    const known = byKey.get(key);
    if (known) return known.job;
    const e = { url: null, el: null, rebuild: null, released: false, job: null };
    e.job = fetchBlob().then((blob) => {
      if (e.released) return null;
      e.url = URL.createObjectURL(blob);
      return e.url;
    }, (err) => {
      if (byKey.get(key) === e) byKey.delete(key);
      throw err;
    });
    byKey.set(key, e);
    return e.job;
  }

  drop(id, key, e) {
    e.released = true;
    if (e.el) {
      const slot = e.el.closest('.att-player');
      e.el.pause();
      e.el.removeAttribute('src');
      e.el.load();
      e.el.remove();
      // Still shown (a player evicted by newer ones): back to its play button.
      if (slot && e.rebuild) slot.append(e.rebuild());
    }
    if (e.url) URL.revokeObjectURL(e.url);
    const byKey = this.entries.get(id);
    if (byKey) {
      byKey.delete(key);
      if (!byKey.size) this.entries.delete(id);
    }
  }

  /** Revoke everything of one message (it left the window, or was deleted). */
  release(id) {
    this.unwatch(id);
    const byKey = this.entries.get(id);
    if (!byKey) return;
    for (const [key, e] of [...byKey]) this.drop(id, key, e);
    this.players = this.players.filter((p) => p.id !== id);
  }

  /** Revoke everything (the panel or the conversation closed). */
  destroy() {
    for (const id of [...this.entries.keys()]) this.release(id);
    for (const id of [...this.lazy.keys()]) this.unwatch(id);
    if (this.observer) this.observer.disconnect();
    this.observer = null;
  }
}
