// Real-browser tests for the Kontor web client.
//
//   node run.mjs            (or ./run.sh, or npm test)
//
// Starts `kontor demo` on a fresh data directory and a free port, drives the
// system Chromium through playwright-core and prints one PASS/FAIL line per
// test. Exits non-zero if any test fails.
//
// Environment:
//   KONTOR_BIN   the kontor binary (default ../../target/debug/kontor)
//   CHROMIUM     the Chromium executable (default /usr/bin/chromium)
//   HEADED=1     show the browser windows
//   ONLY=8,9     run only the tests whose number is listed (development aid)
//
// There are no fixed sleeps: every wait is on a selector (Playwright's
// auto-waiting locators and locator.waitFor), a page condition
// (page.waitForFunction), a WebSocket frame or a process event.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { registerMentionUnreadTests } from './mention-unread.mjs';
import { registerLongTimelineTest } from './long-timeline.mjs';
import { registerMembersTest } from './members.mjs';
import { registerA11yTest } from './a11y.mjs';
import { registerSearchTest } from './search.mjs';
import { registerAttachmentsTest } from './attachments.mjs';
import { registerSearchFiltersTest } from './search-filters.mjs';
import { registerPresenceTest } from './presence.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const KONTOR_BIN = process.env.KONTOR_BIN || path.resolve(HERE, '../../target/debug/kontor');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT_DIR = path.join(REPO, 'target', 'screenshots');
const PASSWORD = 'kontor-demo';
const ANNA = { username: 'anna.schmidt', name: 'Anna Schmidt' };
const BERND = { username: 'bernd.mueller', name: 'Bernd Müller' };
const CLAUDIA = { username: 'claudia.weber', name: 'Claudia Weber' };
const RANDOM_CHANNEL = 'Kaffeeküche';
/** Default wait for one UI step. */
const STEP_TIMEOUT_MS = 15_000;
/** Upper bound for one test (a hung test must not hang the run). */
const TEST_TIMEOUT_MS = 75_000;
const RUN_ID = Date.now().toString(36);

// ---------------------------------------------------------------------------
// The kontor server
// ---------------------------------------------------------------------------

class Server {
  constructor(dataDir) {
    this.dataDir = dataDir;
    this.proc = null;
    this.url = null;
    this.log = []; // last lines of stderr, for failure reports
  }

  /** Start `kontor demo`; resolves with the URL from "kontor listening on …". */
  async start(listen = '127.0.0.1:0') {
    if (!existsSync(KONTOR_BIN)) throw new Error(`kontor binary not found at ${KONTOR_BIN} (set KONTOR_BIN)`);
    const proc = spawn(KONTOR_BIN, ['demo', '--data-dir', this.dataDir, '--listen', listen], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KONTOR_LOG: process.env.KONTOR_LOG || 'warn' },
    });
    this.proc = proc;
    proc.exited = once(proc, 'exit');
    createInterface({ input: proc.stderr }).on('line', (line) => {
      this.log.push(line);
      if (this.log.length > 200) this.log.shift();
    });
    const lines = createInterface({ input: proc.stdout });
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('kontor did not print its URL within 60 s')), 60_000);
      const fail = (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`kontor exited early (code ${code}, signal ${signal}): ${this.log.slice(-5).join(' | ')}`));
      };
      proc.once('exit', fail);
      proc.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      lines.on('line', (line) => {
        const m = /kontor listening on (http:\/\/\S+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          proc.off('exit', fail);
          resolve(m[1].replace(/\/$/, ''));
        }
      });
    });
    this.url = url;
    return url;
  }

  get port() {
    return new URL(this.url).port;
  }

  /** SIGKILL the server and wait until it is gone. */
  async kill() {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await proc.exited;
  }
}

// ---------------------------------------------------------------------------
// Browser helpers
// ---------------------------------------------------------------------------

/** Runs in every page before its scripts: counts payload executions. */
function xssTrap() {
  window.__xss = 0;
  window.__xssCalls = [];
  window.__pwn = () => {
    window.__xss += 1;
    window.__xssCalls.push('__pwn');
  };
  for (const name of ['alert', 'confirm', 'prompt']) {
    const original = window[name];
    window[name] = function trapped(message, ...rest) {
      // Only payload markers count: the app may use dialogs legitimately.
      if (String(message) === '1337') {
        window.__xss += 1;
        window.__xssCalls.push(name);
      }
      return original.call(window, message, ...rest);
    };
  }
}

const shared = {
  server: null,
  browser: null,
  base: null,
  recording: true, // requests are recorded while tests 1–3 run
  requests: [], // {url, test, kind}
  dialogs: [], // {message, test}
  pageErrors: [], // {message, test}
  consoleErrors: [], // {text, test}
  currentTest: '',
  contexts: [],
  anna: null, // {context, page, token}
  bernd: null,
  dmId: null,
  hello: new WeakMap(), // page → list of resolvers waiting for a `hello` frame
};

/** A new browser context with request recording and the XSS trap. */
async function newContext(options = {}) {
  const context = await shared.browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    timezoneId: 'Europe/Berlin',
    ...options,
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  await context.addInitScript(xssTrap);
  context.on('request', (req) => {
    if (shared.recording) shared.requests.push({ url: req.url(), test: shared.currentTest, kind: req.resourceType() });
  });
  shared.contexts.push(context);
  return context;
}

/** A new page with dialog, error and WebSocket listeners. */
async function newPage(context) {
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    shared.dialogs.push({ message: dialog.message(), test: shared.currentTest });
    dialog.dismiss().catch(() => {});
  });
  page.on('pageerror', (err) => shared.pageErrors.push({ message: String(err && err.message), test: shared.currentTest }));
  page.on('console', (msg) => {
    if (msg.type() === 'error') shared.consoleErrors.push({ text: msg.text(), test: shared.currentTest });
  });
  page.on('websocket', (ws) => {
    if (shared.recording) shared.requests.push({ url: ws.url(), test: shared.currentTest, kind: 'websocket' });
    ws.on('framereceived', ({ payload }) => {
      if (page.__frames && typeof payload === 'string') {
        const m = /"type"\s*:\s*"(\w+)"/.exec(payload);
        if (m) page.__frames.push(m[1]);
      }
      if (typeof payload !== 'string' || !payload.includes('"hello"')) return;
      let frame;
      try {
        frame = JSON.parse(payload);
      } catch {
        return;
      }
      if (frame.type !== 'hello') return;
      const waiters = shared.hello.get(page) || [];
      shared.hello.set(page, []);
      for (const resolve of waiters) resolve(frame);
      page.__helloCount = (page.__helloCount || 0) + 1;
    });
  });
  return page;
}

/** Resolves at the next `hello` frame on this page's event stream. */
function nextHello(page, timeout = 45_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no "hello" frame on the event stream')), timeout);
    const list = shared.hello.get(page) || [];
    list.push((frame) => {
      clearTimeout(timer);
      resolve(frame);
    });
    shared.hello.set(page, list);
  });
}

/** Log in through the login form and wait for the conversation list. */
async function loginThroughForm(page, user) {
  const connected = nextHello(page);
  if (page.url() === 'about:blank') await page.goto(`${shared.base}/`);
  await page.locator('#login-name').fill(user.username);
  await page.locator('#login-password').fill(PASSWORD);
  await page.locator('form.login-form button[type="submit"]').click();
  await page.locator('#list-title').waitFor();
  await page.locator('a.conv-item').first().waitFor();
  await connected; // the live event stream is up
}

/** A conversation entry in the list, by its exact title. */
function listItem(page, title) {
  return page.locator('a.conv-item').filter({ has: page.locator('.conv-name').getByText(title, { exact: true }) });
}

/** Open a conversation from the list and wait until it is ready to post. */
async function openConversation(page, title) {
  await listItem(page, title).click();
  await page.locator('.pane-conv h2.pane-title').filter({ hasText: title }).waitFor();
  await page.locator('.pane-conv form.composer textarea:enabled').waitFor();
  return Number(/\/c\/(\d+)/.exec(page.url())[1]);
}

/** The main-timeline message (not the thread panel copy) containing `text`. */
function timelineMessage(page, text) {
  return page.locator('.pane-conv ol.messages > li.msg').filter({ hasText: text });
}

/** The main-timeline message with this id. */
function messageById(page, id) {
  return page.locator(`.pane-conv li.msg[data-id="${id}"]`);
}

/** Post through the conversation's composer; returns the new message id. */
async function sendFromComposer(page, text) {
  const area = page.locator('.pane-conv form.composer textarea');
  await area.fill(text);
  await area.press('Enter');
  const msg = timelineMessage(page, text);
  await msg.waitFor();
  await page.locator('.pane-conv form.composer textarea:enabled').waitFor();
  return Number(await msg.getAttribute('data-id'));
}

/** REST call from inside a page, with that page's token. */
function pageApi(page, method, apiPath, body) {
  return page.evaluate(
    async ({ method, apiPath, body }) => {
      const res = await fetch(`/api/v1${apiPath}`, {
        method,
        headers: {
          Authorization: `Bearer ${localStorage.getItem('kontor.token')}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${apiPath} → ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    { method, apiPath, body },
  );
}

/** REST call from Node (no browser involved). */
async function nodeApi(token, method, apiPath, body) {
  const res = await fetch(`${shared.base}/api/v1${apiPath}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${apiPath} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** anna and bernd, logged in (test 1 does this through the form). */
async function ensureUsers() {
  for (const [key, user] of [['anna', ANNA], ['bernd', BERND]]) {
    if (shared[key] && !shared[key].page.isClosed()) continue;
    const context = await newContext();
    const page = await newPage(context);
    await loginThroughForm(page, user);
    shared[key] = { context, page, user };
  }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

const tests = [];
const test = (name, fn, { timeout = TEST_TIMEOUT_MS } = {}) => tests.push({ name, fn, timeout });

test('1 live messaging: DM, channel, thread, reaction, edit, delete', async () => {
  for (const [key, user] of [['anna', ANNA], ['bernd', BERND]]) {
    const context = await newContext();
    const page = await newPage(context);
    await page.goto(`${shared.base}/`);
    await loginThroughForm(page, user);
    shared[key] = { context, page, user };
  }
  const anna = shared.anna.page;
  const bernd = shared.bernd.page;

  // A channel message arrives live.
  await openConversation(anna, RANDOM_CHANNEL);
  await openConversation(bernd, RANDOM_CHANNEL);
  const channelText = `Kuchen um drei? ${RUN_ID}`;
  await sendFromComposer(anna, channelText);
  await timelineMessage(bernd, channelText).waitFor();
  const backText = `Bin dabei! ${RUN_ID}`;
  await sendFromComposer(bernd, backText);
  await timelineMessage(anna, backText).waitFor();

  // A direct message arrives live in bernd's open DM.
  shared.dmId = await openConversation(anna, BERND.name);
  assert.equal(await openConversation(bernd, ANNA.name), shared.dmId, 'anna and bernd see the same DM');
  const dmText = `Hallo Bernd, kurze Frage zur Wartung ${RUN_ID}`;
  const id = await sendFromComposer(anna, dmText);
  const inBernd = messageById(bernd, id);
  await inBernd.filter({ hasText: dmText }).waitFor();
  assert.equal(await inBernd.locator('.msg-sender').textContent(), ANNA.name);

  // bernd replies in the thread; anna sees the reply count and the reply.
  await inBernd.hover();
  await inBernd.getByRole('button', { name: 'Reply in thread' }).click();
  const bPanel = bernd.locator('aside.thread-panel');
  await bPanel.locator('ol.thread-root li.msg').filter({ hasText: dmText }).waitFor();
  const replyText = `Klar, ruf mich an ${RUN_ID}`;
  const bReply = bPanel.locator('form.composer textarea');
  await bReply.fill(replyText);
  await bReply.press('Enter');
  await bPanel.locator('.scroller li.msg').filter({ hasText: replyText }).waitFor();
  const inAnna = messageById(anna, id);
  await inAnna.locator('.thread-link').filter({ hasText: '1 reply' }).waitFor();
  await inAnna.locator('.thread-link').click();
  const aPanel = anna.locator('aside.thread-panel');
  await aPanel.locator('.scroller li.msg').filter({ hasText: replyText }).waitFor();
  await aPanel.getByRole('button', { name: 'Close thread' }).click();
  await aPanel.waitFor({ state: 'detached' });

  // anna reacts; bernd sees the reaction.
  await inAnna.hover();
  await inAnna.getByRole('button', { name: 'Add reaction' }).click();
  await inAnna.getByRole('button', { name: 'React with 👍' }).click();
  await inAnna.getByRole('button', { name: '👍: 1 reaction' }).waitFor();
  await inBernd.getByRole('button', { name: '👍: 1 reaction' }).waitFor();
  assert.equal(await inBernd.locator('.reaction').getAttribute('aria-pressed'), 'false', 'not bernd\'s own reaction');

  // anna edits; bernd sees the new text and the edited flag.
  const editedText = `Hallo Bernd, hat sich erledigt ${RUN_ID}`;
  await inAnna.hover();
  await inAnna.getByRole('button', { name: 'Edit message' }).click();
  const editArea = inAnna.locator('textarea.edit-area');
  await editArea.fill(editedText);
  await editArea.press('Enter');
  await inAnna.locator('.msg-body').filter({ hasText: editedText }).waitFor();
  await inBernd.locator('.msg-body').filter({ hasText: editedText }).waitFor();
  await inBernd.locator('.msg-edited').filter({ hasText: '(edited)' }).waitFor();
  assert.equal(await inBernd.filter({ hasText: dmText }).count(), 0, 'the old text is gone');

  // anna deletes; bernd sees the tombstone.
  await inAnna.hover();
  await inAnna.getByRole('button', { name: 'Delete message' }).click();
  const confirm = anna.locator('dialog[open]');
  await confirm.getByRole('heading', { name: 'Delete message?' }).waitFor();
  await confirm.getByRole('button', { name: 'Delete message' }).click();
  await confirm.waitFor({ state: 'detached' });
  await inAnna.locator('.tombstone').waitFor();
  await bernd.locator(`.pane-conv li.msg.msg-deleted[data-id="${id}"] .tombstone`).filter({ hasText: 'This message was deleted.' }).waitFor();
  assert.equal(await inBernd.filter({ hasText: editedText }).count(), 0, 'the deleted text is gone for bernd');
});

test('2 i18n: German login page, switch to English in settings', async () => {
  const context = await newContext({ locale: 'de-DE' });
  const page = await newPage(context);
  await page.goto(`${shared.base}/`);
  // German strings from web/js/i18n.js (de)
  await page.locator('#login-title').filter({ hasText: /^Anmelden$/ }).waitFor();
  assert.equal(await page.locator('label[for="login-name"]').textContent(), 'Benutzername oder E-Mail');
  assert.equal(await page.locator('label[for="login-password"]').textContent(), 'Passwort');
  assert.equal(await page.locator('form.login-form button[type="submit"]').textContent(), 'Anmelden');
  assert.equal(await page.locator('html').getAttribute('lang'), 'de');

  await loginThroughForm(page, CLAUDIA);
  assert.equal(await page.locator('#list-title').textContent(), 'Unterhaltungen');
  await page.getByRole('link', { name: 'Einstellungen' }).click();
  await page.locator('#settings-title').filter({ hasText: /^Einstellungen$/ }).waitFor();
  assert.equal(await page.locator('#lang-title').textContent(), 'Sprache');

  await page.getByRole('radio', { name: 'English' }).check();
  await page.locator('#settings-title').filter({ hasText: /^Settings$/ }).waitFor();
  assert.equal(await page.locator('#lang-title').textContent(), 'Language');
  assert.equal(await page.locator('#list-title').textContent(), 'Conversations');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');

  // Signed out, the login page speaks English too …
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#login-title').filter({ hasText: /^Sign in$/ }).waitFor();
  assert.equal(await page.locator('label[for="login-name"]').textContent(), 'Username or email');
  assert.equal(await page.locator('label[for="login-password"]').textContent(), 'Password');
  assert.equal(await page.locator('form.login-form button[type="submit"]').textContent(), 'Sign in');
  // … and still after a reload (the choice outlives the session).
  await page.reload();
  await page.locator('#login-title').filter({ hasText: /^Sign in$/ }).waitFor();
  assert.equal(await page.locator('label[for="login-name"]').textContent(), 'Username or email');
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await context.close();
});

test('3 XSS payloads render as inert text', async () => {
  await ensureUsers();
  const page = shared.anna.page;
  const all = (await readFile(path.join(HERE, 'xss-payloads.txt'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
  assert.ok(all.length >= 200, `at least 200 payloads (have ${all.length})`);
  assert.equal(new Set(all).size, all.length, 'payloads are distinct');
  // The server refuses text-direction embeddings, overrides and isolates in
  // messages (they can turn a line around): those payloads are answered 422
  // and never stored; the rest must be stored unchanged and render inert.
  const turning = /[\u202A-\u202E\u2066-\u2069]/;
  const refused = all.filter((p) => turning.test(p));
  const payloads = all.filter((p) => !turning.test(p));

  // A fresh private channel holding only the payloads, one per message.
  const channelName = `XSS Labor ${RUN_ID}`;
  const conv = await pageApi(page, 'POST', '/conversations', { kind: 'channel', name: channelName, topic: '<img src=x onerror=alert(1337)>', is_public: false, user_ids: [] });
  const sent = await page.evaluate(
    async ({ convId, payloads, runId }) => {
      const headers = {
        Authorization: `Bearer ${localStorage.getItem('kontor.token')}`,
        'Content-Type': 'application/json',
        Accept: 'application/json',
      };
      const out = new Array(payloads.length);
      let next = 0;
      async function worker() {
        while (next < payloads.length) {
          const i = next;
          next += 1;
          const res = await fetch(`/api/v1/conversations/${convId}/messages`, {
            method: 'POST',
            headers,
            body: JSON.stringify({ txn_id: `xss-${runId}-${i}`, text: payloads[i] }),
          });
          if (!res.ok) throw new Error(`payload ${i}: ${res.status} ${await res.text()}`);
          const msg = await res.json();
          out[i] = { id: msg.id, text: msg.text };
        }
      }
      await Promise.all(Array.from({ length: 6 }, worker));
      return out;
    },
    { convId: conv.id, payloads, runId: RUN_ID },
  );
  for (let i = 0; i < payloads.length; i += 1) {
    assert.equal(sent[i].text, payloads[i], `server stored payload ${i} unchanged`);
  }
  const answers = await page.evaluate(
    async ({ convId, refused, runId }) => Promise.all(refused.map(async (text, i) => {
      const res = await fetch(`/api/v1/conversations/${convId}/messages`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${localStorage.getItem('kontor.token')}`,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ txn_id: `xss-refused-${runId}-${i}`, text }),
      });
      return `${res.status} ${(await res.json()).error?.code}`;
    })),
    { convId: conv.id, refused, runId: RUN_ID },
  );
  assert.deepEqual(answers, refused.map(() => '422 invalid_input'), 'direction-turning payloads are refused');

  // Open it in the UI and page back until every payload is rendered.
  await listItem(page, channelName).click();
  await page.locator('.pane-conv form.composer textarea:enabled').waitFor();
  const rendered = page.locator('.pane-conv ol.messages > li.msg');
  await rendered.first().waitFor();
  // Scrolling to the top makes the timeline fetch the next older page; wait
  // for it to arrive (or for the "older" row to go away: nothing left).
  const scroller = page.locator('.pane-conv .scroller');
  for (let rounds = 0; ; rounds += 1) {
    const n = await rendered.count();
    if (n >= payloads.length) break;
    assert.ok(rounds < 20, `only ${n} of ${payloads.length} messages could be loaded`);
    await scroller.evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.waitForFunction((count) => {
      const now = document.querySelectorAll('.pane-conv ol.messages > li.msg').length;
      const older = document.querySelector('.pane-conv .older-row');
      return now > count || (older && older.hidden);
    }, n);
  }
  assert.equal(await rendered.count(), payloads.length, 'every payload message is rendered once');

  const report = await page.evaluate((expected) => {
    const list = document.querySelector('.pane-conv ol.messages');
    const onAttrs = [];
    for (const el of document.querySelectorAll('*')) {
      for (const attr of el.attributes) {
        if (/^on/i.test(attr.name)) onAttrs.push(`<${el.tagName.toLowerCase()} ${attr.name}="${attr.value}">`);
      }
    }
    const forbiddenInApp = [...document.querySelectorAll('#app script, #app iframe, #app object, #app embed, #app frame, #app frameset, #app base, #app meta, #app link, #app style')].map((e) => e.tagName);
    const bodies = [...list.querySelectorAll('.msg-body')];
    const badInBodies = bodies.flatMap((b) => [...b.querySelectorAll('script, iframe, object, embed, img, svg, math, video, audio, form, input, button, textarea, select, style, link, meta, base, template, details, marquee')].map((e) => e.tagName));
    const allowedTags = new Set(['A', 'BR', 'CODE', 'PRE', 'STRONG', 'EM', 'SPAN']);
    const otherTags = bodies.flatMap((b) => [...b.querySelectorAll('*')].map((e) => e.tagName).filter((t) => !allowedTags.has(t)));
    const links = bodies.flatMap((b) => [...b.querySelectorAll('a')]).map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel') || '', target: a.getAttribute('target') }));
    const textById = {};
    for (const li of list.querySelectorAll('li.msg')) {
      const body = li.querySelector('.msg-body');
      textById[li.dataset.id] = body ? body.textContent : null;
    }
    return { xss: window.__xss, calls: window.__xssCalls, onAttrs, forbiddenInApp, badInBodies, otherTags, links, textById, bodyCount: bodies.length, expected };
  }, payloads.length);

  assert.equal(report.xss, 0, `payload code ran: ${JSON.stringify(report.calls)}`);
  const payloadDialogs = shared.dialogs.filter((d) => d.message === '1337');
  assert.equal(payloadDialogs.length, 0, `dialogs with 1337: ${payloadDialogs.length}`);
  assert.deepEqual(report.onAttrs, [], 'no on* attributes anywhere in the document');
  assert.deepEqual(report.forbiddenInApp, [], 'no script/iframe/object/embed/… inside the app');
  assert.deepEqual(report.badInBodies, [], 'no active or embedded elements in message bodies');
  assert.deepEqual([...new Set(report.otherTags)], [], 'message bodies hold only the Markdown subset');
  assert.equal(report.bodyCount, payloads.length);
  assert.ok(report.links.length > 0, 'some payloads contain http(s) URLs that become links');
  for (const link of report.links) {
    assert.match(link.href || '', /^https?:\/\//, `link href ${link.href}`);
    const rel = link.rel.split(/\s+/);
    assert.ok(rel.includes('noopener') && rel.includes('noreferrer'), `link rel "${link.rel}" on ${link.href}`);
  }

  // Payloads without Markdown markers must come out as exactly their text.
  let exact = 0;
  for (let i = 0; i < payloads.length; i += 1) {
    if (/[*_`\\]/.test(payloads[i])) continue;
    assert.equal(report.textById[sent[i].id], payloads[i], `payload ${i} is shown verbatim`);
    exact += 1;
  }
  assert.ok(exact >= 150, `${exact} payloads compared verbatim`);

  // A sample payload is visible as literal text.
  const sample = '<img src=x onerror=alert(1337)>';
  assert.ok(payloads.includes(sample));
  const sampleBody = messageById(page, sent[payloads.indexOf(sample)].id).locator('.msg-body');
  await sampleBody.scrollIntoViewIfNeeded();
  await sampleBody.getByText(sample, { exact: true }).waitFor();
  assert.equal(await sampleBody.innerText(), sample, 'the sample payload is visible as text');
  assert.equal(await sampleBody.locator('*').count(), 0, 'the sample payload is one text node');
  // The topic payload in the header is plain text as well.
  await page.locator('.pane-conv .conv-sub').filter({ hasText: '<img src=x onerror=alert(1337)>' }).waitFor();
  assert.equal(await page.evaluate(() => window.__xss), 0);
});

/**
 * Split recorded requests ({url, test, kind}) into those that left the
 * server's origin (`foreign`) and data:/blob: URLs (`local`, no network).
 */
function checkOrigins(requests) {
  const origin = new URL(shared.base);
  const wsOrigin = `ws://${origin.host}`;
  const local = [];
  const foreign = [];
  for (const r of requests) {
    const u = new URL(r.url);
    if (u.protocol === 'data:' || u.protocol === 'blob:') {
      local.push(r);
      continue;
    }
    const ok = u.origin === origin.origin || (u.protocol === 'ws:' && `ws://${u.host}` === wsOrigin);
    if (!ok) foreign.push(r);
  }
  return { foreign, local };
}

test('4 every request stays on the server origin', async () => {
  shared.recording = false;
  assert.ok(shared.requests.length > 20, `requests were recorded (${shared.requests.length})`);
  assert.ok(shared.requests.some((r) => r.kind === 'websocket'), 'the event stream WebSocket was recorded');
  const { foreign, local: ignored } = checkOrigins(shared.requests);
  for (const r of ignored) console.log(`  note: ${r.kind} request to ${r.url.slice(0, 80)} during "${r.test}"`);
  assert.deepEqual(foreign.map((r) => `${r.url} (${r.test})`), [], 'requests to other origins');
  const kinds = {};
  for (const r of shared.requests) kinds[r.kind] = (kinds[r.kind] || 0) + 1;
  console.log(`  info: ${shared.requests.length} requests checked: ${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ')}`);
});

test('5 reconnect after a server crash and restart', async () => {
  await ensureUsers();
  const anna = shared.anna.page;
  const bernd = shared.bernd.page;
  if (!shared.dmId) {
    shared.dmId = await openConversation(anna, BERND.name);
    await openConversation(bernd, ANNA.name);
  } else {
    await listItem(anna, BERND.name).click();
    await anna.locator(`.pane-conv form.composer textarea:enabled`).waitFor();
    await listItem(bernd, ANNA.name).click();
    await bernd.locator(`.pane-conv form.composer textarea:enabled`).waitFor();
  }
  assert.ok(anna.url().endsWith(`/c/${shared.dmId}`));
  const bernToken = await bernd.evaluate(() => localStorage.getItem('kontor.token'));
  const banner = (page) => page.locator('.banner.banner-visible');
  assert.equal(await banner(anna).count(), 0, 'online before the crash');

  const url = shared.base;
  const port = shared.server.port;
  await shared.server.kill();
  await banner(anna).filter({ hasText: 'No connection. Reconnecting automatically …' }).waitFor({ timeout: 20_000 });
  await banner(bernd).waitFor({ timeout: 20_000 });

  const annaBack = nextHello(anna);
  const berndBack = nextHello(bernd);
  let annaIsBack = false;
  annaBack.then(() => {
    annaIsBack = true;
  }, () => {});
  anna.__frames = [];
  const again = await shared.server.start(`127.0.0.1:${port}`);
  assert.equal(again, url, 'restarted on the same address');

  // Right after the restart, most likely before anna's socket is back.
  const early = `Server wieder da? ${RUN_ID}`;
  await nodeApi(bernToken, 'POST', `/conversations/${shared.dmId}/messages`, { txn_id: `early-${RUN_ID}`, text: early });
  const earlyBeforeReconnect = !annaIsBack;

  await annaBack;
  await berndBack;
  await banner(anna).waitFor({ state: 'hidden', timeout: 20_000 });
  await banner(bernd).waitFor({ state: 'hidden', timeout: 20_000 });
  await timelineMessage(anna, early).waitFor();

  const live = `Ja, alles läuft wieder ${RUN_ID}`;
  await nodeApi(bernToken, 'POST', `/conversations/${shared.dmId}/messages`, { txn_id: `live-${RUN_ID}`, text: live });
  await timelineMessage(anna, live).waitFor();
  await timelineMessage(bernd, live).waitFor();
  // A last message as a barrier: once it is there, anything duplicated
  // before it would be there too.
  const last = `Danke! ${RUN_ID}`;
  await nodeApi(bernToken, 'POST', `/conversations/${shared.dmId}/messages`, { txn_id: `last-${RUN_ID}`, text: last });
  await timelineMessage(anna, last).waitFor();
  for (const text of [early, live, last]) {
    assert.equal(await timelineMessage(anna, text).count(), 1, `"${text}" shown once for anna`);
  }
  // And anna can post again; bernd gets it live.
  const reply = `Super ${RUN_ID}`;
  await sendFromComposer(anna, reply);
  await timelineMessage(bernd, reply).waitFor();
  assert.equal(await timelineMessage(bernd, reply).count(), 1);
  const frames = anna.__frames.filter((f) => f !== 'typing');
  anna.__frames = null;
  console.log(`  info: first message posted ${earlyBeforeReconnect ? 'before' : 'after'} anna's stream was back; anna's frames after the restart: ${frames.join(', ')}`);
}, { timeout: 100_000 });

test('6 screenshots at 1280×800 and 390×844', async () => {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const sizes = [
    { width: 1280, height: 800, options: {} },
    { width: 390, height: 844, options: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
  ];
  const shot = (page, name, w, h) => page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${w}x${h}.png`), animations: 'disabled' });
  const written = [];
  for (const { width, height, options } of sizes) {
    const context = await newContext({ viewport: { width, height }, locale: 'de-DE', ...options });
    const page = await newPage(context);
    await page.goto(`${shared.base}/`);
    await page.locator('#login-name').waitFor();
    await shot(page, 'login', width, height);
    await loginThroughForm(page, ANNA);
    await page.waitForFunction(() => document.querySelector('.list-status')?.textContent === '');
    await shot(page, 'conversations', width, height);
    await listItem(page, BERND.name).click();
    await page.locator('.pane-conv ol.messages > li.msg').last().waitFor();
    await page.locator('.pane-conv form.composer textarea:enabled').waitFor();
    await shot(page, 'conversation', width, height);
    await page.getByRole('button', { name: 'Details und Mitglieder' }).click();
    await page.locator('aside.details-panel li.member').first().waitFor();
    await shot(page, 'details', width, height);
    await page.goto(`${shared.base}/settings`);
    await page.locator('#settings-title').waitFor();
    await page.locator('.session-list li').first().waitFor();
    await shot(page, 'settings', width, height);
    written.push(...['login', 'conversations', 'conversation', 'details', 'settings'].map((n) => `${n}-${width}x${height}.png`));
    await context.close();
  }
  for (const f of written) assert.ok(existsSync(path.join(SCREENSHOT_DIR, f)), f);
  console.log(`  info: ${written.length} screenshots in ${path.relative(process.cwd(), SCREENSHOT_DIR) || SCREENSHOT_DIR}`);
});

registerMentionUnreadTests(test, { shared, newContext, newPage, loginThroughForm, openConversation, timelineMessage, nodeApi, ANNA, BERND, RANDOM_CHANNEL, RUN_ID });
const helpers = { shared, newContext, newPage, loginThroughForm, listItem, openConversation, timelineMessage, messageById, sendFromComposer, pageApi, nodeApi, ensureUsers, checkOrigins, ANNA, BERND, CLAUDIA, PASSWORD, RANDOM_CHANNEL, RUN_ID, HERE, SCREENSHOT_DIR };
registerLongTimelineTest(test, helpers);
registerMembersTest(test, helpers);
registerA11yTest(test, helpers);

test('11 the service worker caches every module the app loads', async () => {
  await ensureUsers();
  const page = shared.anna.page;
  const { loaded, shell } = await page.evaluate(async () => {
    const text = await (await fetch('/sw.js', { cache: 'no-store' })).text();
    const list = /const SHELL = \[([^\]]*)\]/.exec(text)[1];
    return {
      shell: [...list.matchAll(/'([^']+)'/g)].map((m) => m[1]),
      loaded: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.endsWith('.js') && p !== '/sw.js'),
    };
  });
  assert.ok(loaded.length >= 20, `modules loaded: ${loaded.length}`);
  assert.deepEqual([...new Set(loaded.filter((p) => !shell.includes(p)))], [], 'modules missing from the SHELL list in web/sw.js');
});

registerSearchTest(test, helpers);
registerAttachmentsTest(test, helpers);
registerSearchFiltersTest(test, helpers);
registerPresenceTest(test, helpers);

// ---------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------

function withTimeout(promise, ms, name) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name}: timed out after ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function oneLine(err) {
  const msg = err && err.message ? err.message : String(err);
  return msg.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 6).join(' | ');
}

async function main() {
  const started = Date.now();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'kontor-browser-'));
  const server = new Server(dataDir);
  shared.server = server;
  let failed = 0;
  let ran = 0;
  const cleanup = async () => {
    await Promise.allSettled(shared.contexts.map((c) => c.close()));
    if (shared.browser) await shared.browser.close().catch(() => {});
    await server.kill().catch(() => {});
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };
  process.once('SIGINT', () => {
    cleanup().finally(() => process.exit(130));
  });
  try {
    shared.base = await server.start();
    console.log(`kontor demo at ${shared.base} (data ${dataDir})`);
    shared.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox'],
      headless: !process.env.HEADED,
    });
    const only = process.env.ONLY ? new Set(process.env.ONLY.split(',').map((n) => n.trim())) : null;
    for (const t of tests) {
      if (only && !only.has(t.name.split(' ')[0])) continue;
      shared.currentTest = t.name;
      ran += 1;
      const t0 = Date.now();
      try {
        await withTimeout(t.fn(), t.timeout, t.name);
        console.log(`PASS ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (err) {
        failed += 1;
        console.log(`FAIL ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${oneLine(err)}`);
        if (process.env.VERBOSE && err && err.stack) console.log(err.stack);
      }
    }
  } catch (err) {
    failed += 1;
    console.log(`FAIL setup: ${oneLine(err)}`);
  } finally {
    const errors = shared.pageErrors;
    for (const e of errors) console.log(`  warn: page error during "${e.test}": ${e.message}`);
    const dialogs = shared.dialogs.filter((d) => d.message !== '1337');
    for (const d of dialogs) console.log(`  warn: dialog "${d.message}" during "${d.test}"`);
    // Refused connections while the server is down (test 5) are expected.
    // So are the refusals tests 9 (409) and 10 (401, wrong password) provoke,
    // and test 13's empty upload (422) and reads of revoked object URLs.
    const expected = (e) =>
      (e.test.startsWith('5 ') && /ERR_CONNECTION_REFUSED/.test(e.text)) ||
      (e.test.startsWith('9 ') && /status of 409/.test(e.text)) ||
      (e.test.startsWith('10 ') && /status of 401/.test(e.text)) ||
      (e.test.startsWith('13 ') && /status of 422|ERR_FILE_NOT_FOUND/.test(e.text));
    const consoleErrors = [...new Set(shared.consoleErrors.filter((e) => !expected(e)).map((e) => `${e.test}: ${e.text}`))];
    for (const e of consoleErrors.slice(0, 10)) console.log(`  warn: console error in ${e.slice(0, 300)}`);
    if (consoleErrors.length > 10) console.log(`  warn: … ${consoleErrors.length - 10} more console errors`);
    if (failed && server.log.length) {
      console.log('  server log (last lines):');
      for (const l of server.log.slice(-10)) console.log(`    ${l}`);
    }
    await cleanup();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${ran - Math.min(failed, ran)}/${ran} passed in ${secs} s${ran < tests.length ? ` (${tests.length - ran} not selected)` : ''}`);
  process.exit(failed ? 1 : 0);
}

main();
