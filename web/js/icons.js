// Small inline SVG icons for UI controls. Built with createElementNS only
// (no markup parsing), drawn with strokes in currentColor so they follow the
// text colour and theme, and hidden from assistive technology: every control
// that shows one carries its own aria-label or visible text.
//
// Using SVG instead of emoji/unicode glyphs means the controls render the same
// on machines without an emoji or symbol font.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** name → list of [tag, attributes] drawn in a 24×24 box. */
const ICONS = {
  settings: [
    ['circle', { cx: 12, cy: 12, r: 5.5 }],
    ['circle', { cx: 12, cy: 12, r: 2 }],
    ['path', { d: 'M12 2.5v4 M12 17.5v4 M2.5 12h4 M17.5 12h4 M5.3 5.3l2.8 2.8 M15.9 15.9l2.8 2.8 M5.3 18.7l2.8-2.8 M15.9 8.1l2.8-2.8' }],
  ],
  plus: [['path', { d: 'M12 5v14 M5 12h14' }]],
  search: [
    ['circle', { cx: 10.5, cy: 10.5, r: 6.5 }],
    ['path', { d: 'M15.5 15.5L20.5 20.5' }],
  ],
  hash: [['path', { d: 'M4 9h16 M4 15h16 M10 4L8 20 M16 4l-2 16' }]],
  back: [['path', { d: 'M19 12H5 M11 6l-6 6 6 6' }]],
  'arrow-up': [['path', { d: 'M12 19V5 M6 11l6-6 6 6' }]],
  'arrow-down': [['path', { d: 'M12 5v14 M6 13l6 6 6-6' }]],
  'chevron-down': [['path', { d: 'M6 9l6 6 6-6' }]],
  'chevron-up': [['path', { d: 'M6 15l6-6 6 6' }]],
  filter: [['path', { d: 'M4 5h16l-6.5 7.5V19l-3 1.5v-8z' }]],
  close: [['path', { d: 'M6 6l12 12 M18 6L6 18' }]],
  check: [['path', { d: 'M5 12.5l4.5 4.5L19 7.5' }]],
  smile: [
    ['circle', { cx: 12, cy: 12, r: 9 }],
    ['path', { d: 'M8.5 14.5c.9 1.3 2.1 2 3.5 2s2.6-.7 3.5-2 M9 9.5h.01 M15 9.5h.01' }],
  ],
  reply: [['path', { d: 'M5 4.5h14a1 1 0 0 1 1 1v9.5a1 1 0 0 1-1 1H10l-5 4v-4.5a1 1 0 0 1-1-1V5.5a1 1 0 0 1 1-1z' }]],
  edit: [['path', { d: 'M4 20h4L19 9l-4-4L4 16z M13 7l4 4' }]],
  trash: [['path', { d: 'M4 7h16 M9.5 7V4h5v3 M6 7l1 13h10l1-13 M10 11v5.5 M14 11v5.5' }]],
  send: [['path', { d: 'M21 3L3 10.5l7 3 3 7.5z M10 13.5L21 3' }]],
  thread: [['path', { d: 'M6 4v7a3 3 0 0 0 3 3h10 M15 10l4 4-4 4' }]],
  info: [
    ['circle', { cx: 12, cy: 12, r: 9 }],
    ['path', { d: 'M12 11v5.5 M12 7.5h.01' }],
  ],
  megaphone: [['path', { d: 'M4 10v4h3l8 5V5l-8 5z M18.5 9a4 4 0 0 1 0 6' }]],
  user: [
    ['circle', { cx: 12, cy: 8, r: 4 }],
    ['path', { d: 'M4.5 20a7.5 7.5 0 0 1 15 0' }],
  ],
  paperclip: [['path', { d: 'M20.5 11.5l-8.3 8.3a5 5 0 0 1-7.1-7.1l8.7-8.7a3.3 3.3 0 0 1 4.7 4.7l-8.7 8.7a1.7 1.7 0 0 1-2.4-2.4l8-8' }]],
  file: [['path', { d: 'M6 3h8l4 4v14H6z M14 3v4h4 M9 12h6 M9 16h6' }]],
  download: [['path', { d: 'M12 4v11 M7 10l5 5 5-5 M5 20h14' }]],
  external: [['path', { d: 'M14 4h6v6 M20 4l-9 9 M18 14v6H4V6h6' }]],
  play: [['path', { d: 'M8 5v14l11-7z' }]],
  users: [
    ['circle', { cx: 9, cy: 8, r: 3.5 }],
    ['path', { d: 'M2.5 20a6.5 6.5 0 0 1 13 0 M15.5 4.8a3.5 3.5 0 0 1 0 6.4 M18 14.5a6.5 6.5 0 0 1 3.5 5.5' }],
  ],
};

function svgEl(tag, attrs) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * An inline SVG icon by name (see ICONS). Decorative: aria-hidden and not
 * focusable. Unknown names throw, so typos show up in development.
 */
export function icon(name) {
  const parts = ICONS[name];
  if (!parts) throw new Error(`icon(): unknown icon "${name}"`);
  const svg = svgEl('svg', {
    class: `icon icon-${name}`,
    viewBox: '0 0 24 24',
    width: 24,
    height: 24,
    fill: 'none',
    stroke: 'currentColor',
    'stroke-width': 2,
    'stroke-linecap': 'round',
    'stroke-linejoin': 'round',
    'aria-hidden': 'true',
    focusable: 'false',
  });
  for (const [tag, attrs] of parts) svg.append(svgEl(tag, attrs));
  return svg;
}

/** Names of all available icons (for tests and documentation). */
export const ICON_NAMES = Object.freeze(Object.keys(ICONS));
