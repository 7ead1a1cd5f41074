// Kontor service worker.
//
// Caches the app shell (HTML, CSS, scripts, icon, manifest) when installed
// and serves it cache-first, so the client starts without a network. It
// never caches anything under /api/: messages, names and tokens stay out of
// the Cache Storage. On logout the page posts {"type":"logout"} and every
// cache is deleted; the page asks for the shell to be cached again
// ({"type":"cache_shell"}) after the next login.
//
// The shell files are served with `Cache-Control: no-cache` and are not
// content-hashed, so a new release must change CACHE_NAME below: the browser
// then sees a changed sw.js, installs it and the old cache is dropped.

const CACHE_NAME = 'kontor-shell-v10';

const SHELL = [
  '/',
  '/index.html',
  '/style.css',
  '/manifest.webmanifest',
  '/icon.svg',
  '/js/app.js',
  '/js/api.js',
  '/js/events.js',
  '/js/i18n.js',
  '/js/lang/de.js',
  '/js/lang/en.js',
  '/js/markdown.js',
  '/js/dom.js',
  '/js/icons.js',
  '/js/files.js',
  '/js/state.js',
  '/js/presence.js',
  '/js/views/login.js',
  '/js/views/list.js',
  '/js/views/dialogs.js',
  '/js/views/conversation.js',
  '/js/views/timeline.js',
  '/js/views/message.js',
  '/js/views/composer.js',
  '/js/views/uploads.js',
  '/js/views/attachments.js',
  '/js/views/viewer.js',
  '/js/views/mention.js',
  '/js/views/unread.js',
  '/js/views/reveal.js',
  '/js/views/search.js',
  '/js/views/search-filters.js',
  '/js/views/person-combo.js',
  '/js/views/thread.js',
  '/js/views/details.js',
  '/js/views/members.js',
  '/js/views/people.js',
  '/js/views/live.js',
  '/js/views/typing.js',
  '/js/views/settings.js',
  '/js/views/nav.js',
];

const SHELL_SET = new Set(SHELL);

self.addEventListener('install', (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE_NAME).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  // Other origins, the API and the event stream always go to the network
  // untouched and are never stored.
  if (url.origin !== self.location.origin) return;
  if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return;

  // Client-side routes (/c/12, /settings: no file extension) all load
  // the same shell, as the server does.
  const last = url.pathname.split('/').pop();
  if (request.mode === 'navigate' && !last.includes('.')) {
    event.respondWith(shellResponse('/index.html', request));
    return;
  }
  if (SHELL_SET.has(url.pathname)) {
    event.respondWith(shellResponse(url.pathname, request));
  }
  // Anything else: default network handling, nothing cached.
});

/** Cache first; a miss goes to the network (and is not stored here). */
async function shellResponse(path, request) {
  const hit = await caches.match(path, { cacheName: CACHE_NAME });
  if (hit) return hit;
  return fetch(path === '/index.html' && request.mode === 'navigate' ? path : request);
}

/** Store the app shell (at install, and again after a login). */
function cacheShell() {
  return caches
    .open(CACHE_NAME)
    // `reload` bypasses the HTTP cache so the current version is stored.
    .then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' }))));
}

self.addEventListener('message', (event) => {
  const data = event.data;
  if (data && data.type === 'cache_shell') {
    event.waitUntil(
      caches
        .has(CACHE_NAME)
        .then((present) => (present ? undefined : cacheShell()))
        .catch(() => {}),
    );
    return;
  }
  if (data && data.type === 'logout') {
    event.waitUntil(
      caches
        .keys()
        .then((keys) => Promise.all(keys.map((k) => caches.delete(k))))
        .then(() => {
          if (event.source && typeof event.source.postMessage === 'function') {
            event.source.postMessage({ type: 'caches_cleared' });
          }
        }),
    );
  }
});
