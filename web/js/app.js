// Kontor web client: start-up, routing, live events, login and logout.
//
// Routes (the server answers every extension-less path with index.html):
//   /            conversation list (on wide screens with an empty main pane)
//   /c/<id>      a conversation (?m=<message id>: shown in context, e.g. a search hit)
//   /settings    settings
// Views live in js/views/; shared state in js/state.js.
// The message search is not a route: it replaces the list pane (and on
// phones covers the main view: layout data-view="search") until closed.

import * as api from './api.js';
import { EventStream } from './events.js';
import * as presence from './presence.js';
import { h } from './dom.js';
import { t, onLanguageChange, applyDocumentLanguage, LANG_KEY } from './i18n.js';
import { state, reset, subscribe, loadConversations, loadDirectory, applyEvent, totalUnread, rememberUsers, conversationTitle } from './state.js';
import { renderLogin } from './views/login.js';
import { ListPane } from './views/list.js';
import { ConversationView } from './views/conversation.js';
import { SettingsView } from './views/settings.js';
import { newConversationDialog, browseChannelsDialog } from './views/dialogs.js';

const root = document.getElementById('app');
// The offline banner stays in the document for the whole session, so
// screen readers announce its changes (aria-live="polite").
const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
const screen = h('div', { class: 'screen' });
root.replaceChildren(banner, screen);

/** The signed-in UI: list pane, main slot, current main view. */
const ui = {
  layout: null,
  list: null,
  mainSlot: null,
  current: null, // { kind: 'conv'|'settings'|'empty', view }
  unsubscribe: null,
};
let online = true;
let loggingOut = false;
let bootTimer = null;
let booting = false;

const events = new EventStream({
  getToken: api.getToken,
  onFrame: handleFrame,
  onStatus: (status) => {
    online = status !== 'offline';
    renderBanner();
  },
  onLoggedOut: () => forcedLogout(),
});

presence.attach(events);
api.onUnauthorized(() => forcedLogout());

// --- start-up ------------------------------------------------------------------

applyDocumentLanguage();
registerServiceWorker();
onLanguageChange(rerenderAll);
window.addEventListener('popstate', () => applyRoute({ focus: true }));
// Started without a network: try again as soon as it is back.
window.addEventListener('online', () => {
  if (!state.me && api.getToken()) boot();
});
document.addEventListener('keydown', onGlobalKeyDown);
boot();

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/sw.js').catch(() => {
    // Without a service worker the client still works, just not offline.
  });
}

async function boot() {
  clearTimeout(bootTimer);
  if (booting || state.me) return;
  if (!api.getToken()) {
    showLogin();
    return;
  }
  booting = true;
  try {
    const me = await api.me();
    state.me = me;
    rememberUsers([me]);
    startApp();
  } catch (e) {
    if (e.code === 'unauthenticated') return; // forcedLogout() already ran
    showStartError();
    bootTimer = setTimeout(boot, 3000);
  } finally {
    booting = false;
  }
}

function showStartError() {
  screen.replaceChildren(
    h('div', { class: 'placeholder full' },
      h('p', { role: 'status' }, t('app.connecting')),
      h('button', { type: 'button', class: 'btn', on: { click: boot } }, t('conv.retry'))),
  );
}

function showLogin(notice = '') {
  document.title = 'Kontor';
  screen.replaceChildren(
    renderLogin({
      notice,
      onLoggedIn: (resp) => {
        api.setToken(resp.token);
        state.me = resp.user;
        state.sessionId = resp.session.id;
        rememberUsers([resp.user]);
        if (location.pathname !== '/' && !/^\/(c\/\d+|settings)\/?$/.test(location.pathname)) history.replaceState(null, '', '/');
        startApp();
      },
    }),
  );
}

function startApp() {
  loggingOut = false;
  ui.list = new ListPane({
    navigate,
    openSearch: () => openSearch(),
    onSearchClosed: () => {
      if (ui.layout) ui.layout.dataset.view = ui.current && ui.current.kind !== 'empty' ? 'main' : 'list';
    },
    newConversation: () =>
      newConversationDialog({
        onCreated: async (conv) => {
          await loadConversations().catch(() => {});
          navigate(`/c/${conv.id}`);
        },
      }),
    browseChannels: () =>
      browseChannelsDialog({
        onOpen: (id) => navigate(`/c/${id}`),
        onJoined: async (id) => {
          await loadConversations().catch(() => {});
          navigate(`/c/${id}`);
        },
      }),
  });
  ui.mainSlot = h('div', { class: 'main-slot' });
  // One level-one heading for every screen size (on phones only one pane shows).
  const appTitle = h('h1', { class: 'visually-hidden' }, 'Kontor');
  ui.layout = h('div', { class: 'layout', dataset: { view: 'list' } }, appTitle, ui.list.el, ui.mainSlot);
  screen.replaceChildren(ui.layout);
  ui.current = null;
  if (ui.unsubscribe) ui.unsubscribe();
  ui.unsubscribe = subscribe(onStateChange);
  loadDirectory().catch(() => {});
  loadConversations().catch(() => {});
  events.start();
  postToWorker({ type: 'cache_shell' }); // after a logout emptied the caches
  applyRoute({ focus: false });
}

// --- routing -------------------------------------------------------------------

function navigate(path) {
  if (location.pathname + location.search !== path) history.pushState(null, '', path);
  applyRoute({ focus: true });
}

function applyRoute({ focus }) {
  if (!ui.layout) return;
  const path = location.pathname;
  const conv = /^\/c\/(\d+)\/?$/.exec(path);
  const previous = ui.current;
  if (conv) {
    const id = Number(conv[1]);
    const target = Number(new URLSearchParams(location.search).get('m')) || null;
    // Shown first: revealing a message focuses it, which needs it visible.
    ui.layout.dataset.view = 'main';
    ui.list.setActive(id);
    if (!(previous && previous.kind === 'conv' && previous.view.id === id)) {
      const view = new ConversationView(id, { navigate, events, openSearch });
      setMain({ kind: 'conv', view });
      view.revealAfterLoad = target;
      view.load().then(() => {
        if (focus && !target && ui.current && ui.current.view === view) view.focusStart();
      });
    } else if (target) {
      previous.view.reveal(target);
    }
  } else if (path === '/settings' || path === '/settings/') {
    if (!(previous && previous.kind === 'settings')) {
      const view = new SettingsView({ navigate, logout });
      setMain({ kind: 'settings', view });
      view.load();
      if (focus) view.focusStart();
    }
    ui.layout.dataset.view = 'main';
    ui.list.setActive(null);
  } else {
    if (path !== '/') history.replaceState(null, '', '/');
    if (!(previous && previous.kind === 'empty')) setMain({ kind: 'empty', view: emptyView() });
    ui.layout.dataset.view = 'list';
    ui.list.setActive(null);
    // Coming back from a conversation (narrow screens): focus its entry.
    if (focus && previous && previous.kind === 'conv') ui.list.focusReturn(previous.view.id);
  }
  updateTitle();
}

function setMain(next) {
  if (ui.current && ui.current.view.destroy) ui.current.view.destroy();
  ui.current = next;
  ui.mainSlot.replaceChildren(next.view.el);
}

/** Main pane when no conversation is open (visible on wide screens). */
function emptyView() {
  const el = h('section', { class: 'pane pane-empty' });
  const render = () => {
    el.replaceChildren(
      h('div', { class: 'placeholder' },
        h('img', { src: '/icon.svg', alt: '', width: '64', height: '64' }),
        h('p', null, t('app.pickConversation'))),
    );
  };
  render();
  return { el, render };
}

// --- live events -------------------------------------------------------------------

function handleFrame(frame) {
  if (!state.me) return;
  const view = ui.current && ui.current.view;
  switch (frame.type) {
    case 'hello':
      state.sessionId = frame.session_id;
      presence.onConnected();
      if (!frame.resuming) {
        // A fresh stream: reload what might have changed before it began.
        loadConversations().catch(() => {});
        if (ui.current && ui.current.kind === 'conv') view.catchUp();
      }
      return;
    case 'resumed':
      return;
    case 'presence':
      presence.onFrame(frame);
      return;
    case 'presence_sharing_changed':
      presence.onSharingChanged(frame.share_presence);
      if (view && view.onEvent) view.onEvent(frame);
      return;
    case 'resync_required':
      loadConversations().catch(() => {});
      if (ui.current && ui.current.kind === 'conv') view.load();
      return;
    case 'session_revoked':
      if (frame.session_id === state.sessionId) forcedLogout();
      else if (view && view.onEvent) view.onEvent(frame);
      return;
    case 'error':
      console.warn('event stream error', frame.code, frame.message);
      return;
    default:
      applyEvent(frame);
      if (view && view.onEvent) view.onEvent(frame);
  }
}

function onStateChange() {
  if (!ui.list) return;
  ui.list.update();
  const cur = ui.current;
  if (cur && cur.kind === 'conv') cur.view.renderHeader();
  updateTitle();
}

function updateTitle() {
  if (!state.me) {
    document.title = 'Kontor';
    return;
  }
  const unread = totalUnread();
  const cur = ui.current;
  let name = '';
  if (cur && cur.kind === 'conv' && cur.view.detail) name = conversationTitle(cur.view.detail.conversation);
  else if (cur && cur.kind === 'settings') name = t('settings.title');
  document.title = `${unread ? `(${unread}) ` : ''}${name ? `${name} – ` : ''}Kontor`;
}

function renderBanner() {
  const show = !online && !!state.me;
  banner.classList.toggle('banner-visible', show);
  banner.textContent = show ? t('app.offline') : '';
}

// --- search ----------------------------------------------------------------------------

/**
 * Open the message search. `scoped`: only in the open conversation (its
 * header button); Ctrl+K and "/" offer that filter unticked.
 */
function openSearch({ scoped = false } = {}) {
  if (!ui.list) return;
  const cur = ui.current;
  const conversationId = cur && cur.kind === 'conv' && cur.view.status === 'ready' ? cur.view.id : null;
  ui.list.openSearch({ conversationId, scoped });
  ui.layout.dataset.view = 'search';
}

// --- keyboard ------------------------------------------------------------------------

function onGlobalKeyDown(e) {
  if (e.defaultPrevented || document.querySelector('dialog[open]')) return; // a dialog handles its keys
  const mod = e.ctrlKey || e.metaKey;
  const typing = e.target instanceof Element && e.target.closest('input, textarea, select, [contenteditable]:not([contenteditable="false"])');
  // Ctrl+K (Cmd+K) anywhere, "/" outside text fields: the message search.
  if (ui.list && ((mod && !e.altKey && !e.shiftKey && (e.key || '').toLowerCase() === 'k') || (e.key === '/' && !mod && !e.altKey && !typing))) {
    e.preventDefault();
    openSearch();
    return;
  }
  if (e.key !== 'Escape') return;
  const view = ui.current && ui.current.view;
  if (view && view.handleEscape && view.handleEscape()) e.preventDefault();
}

// --- language ------------------------------------------------------------------------

function rerenderAll() {
  applyDocumentLanguage();
  renderBanner();
  if (!state.me) {
    if (api.getToken()) showStartError();
    else showLogin();
    return;
  }
  if (!ui.layout) return;
  ui.list.render();
  if (ui.current) ui.current.view.render();
  updateTitle();
}

// --- logout --------------------------------------------------------------------------

/** Log out on request: end the session on the server, then clean up. */
async function logout() {
  if (loggingOut) return;
  loggingOut = true;
  try {
    await api.logout();
  } catch {
    // The session may already be gone; clean up anyway.
  }
  clearLocal();
  showLogin(t('login.loggedOut'));
}

/** The server ended the session (revoked, expired, 4001/4003). */
function forcedLogout() {
  if (loggingOut) return;
  loggingOut = true;
  clearLocal();
  showLogin(t('login.sessionEnded'));
}

/** Forget everything this browser holds for the user. */
function clearLocal() {
  events.stop();
  clearTimeout(bootTimer);
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
  if (ui.current && ui.current.view.destroy) ui.current.view.destroy();
  if (ui.unsubscribe) ui.unsubscribe();
  Object.assign(ui, { layout: null, list: null, mainSlot: null, current: null, unsubscribe: null });
  reset();
  presence.reset();
  online = true;
  renderBanner();
  try {
    // The language is a choice for this browser, not the user's data: keep it,
    // so the login page does not switch back after the next reload.
    const lang = localStorage.getItem(LANG_KEY);
    localStorage.clear();
    sessionStorage.clear();
    if (lang) localStorage.setItem(LANG_KEY, lang);
  } catch {
    // storage unavailable
  }
  clearCaches();
  if (location.pathname !== '/') history.replaceState(null, '', '/');
}

/** Post a message to the active service worker, if there is one. */
function postToWorker(msg) {
  if (!('serviceWorker' in navigator)) return;
  const { controller } = navigator.serviceWorker;
  if (controller) {
    controller.postMessage(msg);
    return;
  }
  navigator.serviceWorker
    .getRegistration()
    .then((reg) => {
      if (reg && reg.active) reg.active.postMessage(msg);
    })
    .catch(() => {});
}

/** Ask the service worker to drop its caches (and drop them from here too). */
function clearCaches() {
  postToWorker({ type: 'logout' });
  if (window.caches) {
    caches
      .keys()
      .then((keys) => Promise.all(keys.map((k) => caches.delete(k))))
      .catch(() => {});
  }
}
