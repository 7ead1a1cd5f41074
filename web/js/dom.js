// Tiny DOM helpers. Everything here builds nodes with createElement,
// textContent, setAttribute, properties and addEventListener. Nothing ever
// parses a string as HTML, so user content cannot become markup.

/** Properties set as DOM properties rather than attributes. */
const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'required', 'readOnly', 'selected', 'multiple', 'open', 'indeterminate']);

/**
 * Create an element.
 *
 *   h('button', { class: 'x', 'aria-label': t('close'), on: { click: fn } }, 'text')
 *
 * attrs:
 *   class    string or array (falsy entries dropped)
 *   text     sets textContent
 *   on       { eventName: listener } → addEventListener
 *   dataset  { key: value } → data-* attributes
 *   ref      function called with the new element
 *   href     only same-origin paths ("/…") or http(s) URLs are accepted
 *   aria-*   always set as a string (so false becomes "false")
 *   value, checked, disabled, … (see PROPS) are set as properties
 *   anything else becomes an attribute; null/undefined/false skip it.
 * Inline styles and on* attribute handlers are refused on purpose.
 *
 * children: Nodes, strings/numbers (as text nodes), arrays, null/false (skipped).
 */
export function h(tag, attrs = null, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      setAttr(el, key, value);
    }
  }
  append(el, children);
  return el;
}

function setAttr(el, key, value) {
  if (key.startsWith('aria-')) {
    if (value !== null && value !== undefined) el.setAttribute(key, String(value));
    return;
  }
  if (PROPS.has(key)) {
    if (value !== null && value !== undefined) el[key] = value;
    return;
  }
  if (value === null || value === undefined || value === false) return;
  switch (key) {
    case 'class':
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value);
      return;
    case 'text':
      el.textContent = String(value);
      return;
    case 'on':
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      return;
    case 'dataset':
      for (const [k, v] of Object.entries(value)) {
        if (v !== null && v !== undefined) el.dataset[k] = String(v);
      }
      return;
    case 'ref':
      value(el);
      return;
    case 'href': {
      const safe = safeHref(value);
      if (safe) el.setAttribute('href', safe);
      return;
    }
    default:
      if (key === 'style' || key === 'srcdoc' || /^on/i.test(key)) {
        throw new Error(`h(): attribute "${key}" is not allowed`);
      }
      el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Accept same-origin absolute paths and http(s) URLs; anything else is dropped. */
export function safeHref(value) {
  const s = String(value);
  if (s.startsWith('/') && !s.startsWith('//')) return s;
  try {
    const url = new URL(s);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // not a URL
  }
  return null;
}

/** Append children (nodes, text, nested arrays) to a parent. */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === true) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.append(child);
    else parent.append(document.createTextNode(String(child)));
  }
  return parent;
}

/** Remove every child of an element. */
export function clear(el) {
  el.replaceChildren();
  return el;
}

// Icons for controls live in icons.js (inline SVG, no font needed).

let idCounter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix = 'k') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** Debounce a function. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/**
 * Show a modal <dialog> built by `build(close)`; resolves with the value
 * passed to close(). Escape (the dialog's cancel event) resolves with
 * `undefined`. Focus returns to the element that had it before.
 */
export function showDialog(build, { labelledBy = null, className = '' } = {}) {
  const opener = document.activeElement;
  return new Promise((resolve) => {
    let result;
    const dialog = h('dialog', { class: ['dialog', className], 'aria-labelledby': labelledBy });
    const close = (value) => {
      result = value;
      if (dialog.open) dialog.close();
    };
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && typeof opener.focus === 'function' && opener.isConnected) opener.focus();
      resolve(result);
    });
    append(dialog, [build(close)]);
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * A confirmation dialog. Resolves true when confirmed.
 * Labels come from the caller (already translated).
 */
export function confirmDialog({ title, message, confirmLabel, cancelLabel, danger = false }) {
  const titleId = uid('confirm');
  return showDialog(
    (close) => {
      const cancel = h('button', { type: 'button', class: 'btn', on: { click: () => close(false) } }, cancelLabel);
      const ok = h('button', { type: 'button', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], on: { click: () => close(true) } }, confirmLabel);
      queueMicrotask(() => cancel.focus());
      return h('div', { class: 'dialog-body' },
        h('h2', { id: titleId, class: 'dialog-title' }, title),
        message ? h('p', null, message) : null,
        h('div', { class: 'dialog-actions' }, cancel, ok),
      );
    },
    { labelledBy: titleId, className: 'dialog-small' },
  ).then((v) => v === true);
}
