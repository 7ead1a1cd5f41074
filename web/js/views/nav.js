// Navigation controls shared by the screens that sit on top of the list.

import { h } from '../dom.js';
import { icon } from '../icons.js';
import { t } from '../i18n.js';

/** The "back to the list" link in a pane header (shown on narrow screens). */
export function backLink(navigate) {
  return h('a', {
    href: '/',
    class: 'icon-btn back-btn',
    'aria-label': t('nav.back'),
    title: t('nav.back'),
    on: { click: (e) => { e.preventDefault(); navigate('/'); } },
  }, icon('back'));
}
