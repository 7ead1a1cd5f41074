// Test 14 for run.mjs: the filters of the message search (web/js/views/
// search-filters.js, person-combo.js) against GET /api/v1/search. anna,
// bernd and claudia write the same word in two groups, some messages with
// a file. anna (German UI, 1280×800) narrows the hits by sender (picked
// from the directory with the keyboard and with the mouse), conversation,
// "only with files" and date range (one that holds everything, one that
// excludes everything, one that ends before it starts), sorts by date
// (newest first), and pages through a sender's hits with the filter kept
// on every page. The requests carry exactly the filters shown, the dates as
// the start of the local day (Europe/Berlin) in UTC. bernd, on a 360 px
// phone in English, opens the filters: everything fits, is labelled and
// works by keyboard.

import assert from 'node:assert/strict';
import { makePng, PDF_BYTES, nodeUpload } from './attachments.mjs';

/** The word every test message contains (not in the demo data). */
const WORD = 'Wolpertinger';
/** Messages by each of anna and bernd with a second word, for paging. */
const PAGED = 25;

/** 'YYYY-MM-DD' of a date in Berlin, the test contexts' time zone. */
function berlinDay(date) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

export function registerSearchFiltersTest(test, x) {
  const { shared, newContext, newPage, loginThroughForm, listItem, nodeApi, ANNA, BERND, CLAUDIA, RUN_ID } = x;

  test('14 search filters: sender, conversation, with files, date range, date order, paging keeps them', async () => {
    const login = (user) => nodeApi(null, 'POST', '/auth/login', { login: user.username, password: 'kontor-demo', device_name: 'Test 14' });
    const anna = await login(ANNA);
    const bernd = await login(BERND);
    const claudia = await login(CLAUDIA);
    const nameA = `Filterprobe Nord ${RUN_ID}`;
    const nameB = `Filterprobe Süd ${RUN_ID}`;
    const groupA = await nodeApi(anna.token, 'POST', '/conversations', { kind: 'group', name: nameA, user_ids: [bernd.user.id, claudia.user.id] });
    const groupB = await nodeApi(anna.token, 'POST', '/conversations', { kind: 'group', name: nameB, user_ids: [bernd.user.id] });
    let txn = 0;
    const post = (who, conv, text, extra = {}) => {
      txn += 1;
      return nodeApi(who.token, 'POST', `/conversations/${conv.id}/messages`, { txn_id: `filters-${RUN_ID}-${txn}`, text, ...extra });
    };
    const upload = async (who, conv, name, bytes) => (await nodeUpload(shared.base, who.token, conv.id, name, bytes)).id;

    // One after the other, so ids and times grow in this order.
    const m = {};
    m.a1 = await post(anna, groupA, `${WORD} gesichtet am Tor 1`);
    m.b1 = await post(bernd, groupA, `Der ${WORD} war wieder da`);
    m.b2 = await post(bernd, groupA, `Foto vom ${WORD}`, { attachment_ids: [await upload(bernd, groupA, 'Spuren.png', makePng(40, 30))] });
    m.c1 = await post(claudia, groupA, `${WORD}? Nie gesehen`);
    m.a2 = await post(anna, groupB, `${WORD}-Bericht als PDF`, { attachment_ids: [await upload(anna, groupB, 'Bericht.pdf', PDF_BYTES)] });
    m.b3 = await post(bernd, groupB, `Heute kein ${WORD}`);
    const ids = (...keys) => keys.map((k) => m[k].id).sort((p, q) => p - q);
    const everything = ids('a1', 'b1', 'b2', 'c1', 'a2', 'b3');
    // For paging: 25 by bernd and 25 by anna in group B.
    const paged = { anna: [], bernd: [] };
    await Promise.all(['anna', 'bernd'].map(async (who) => {
      for (let i = 0; i < PAGED; i += 1) paged[who].push((await post(who === 'anna' ? anna : bernd, groupB, `Laubbläser Nummer ${i}`)).id);
    }));

    // --- anna, German UI --------------------------------------------------------------
    const context = await newContext({ locale: 'de-DE' });
    const page = await newPage(context);
    const searches = [];
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (u.pathname === '/api/v1/search') searches.push(Object.fromEntries(u.searchParams));
    });
    await page.goto(`${shared.base}/`);
    await loginThroughForm(page, ANNA);
    const input = page.locator('#search-input');
    const status = page.locator('#search-status');
    const toggle = page.locator('#search-filter-toggle');
    const summary = page.locator('#search-filter-summary');
    const from = page.getByRole('combobox', { name: 'Absender' });
    const fromList = page.getByRole('listbox', { name: 'Absender' });
    const conv = page.getByLabel('Unterhaltung', { exact: true });
    const hasFile = page.getByLabel('Nur Nachrichten mit Dateien');
    const since = page.getByLabel('Vom', { exact: true });
    const until = page.getByLabel('Bis zum', { exact: true });
    const shownIds = () => page.locator('.search-results a.search-hit').evaluateAll((els) => els.map((a) => Number(a.dataset.id)));
    /** Wait until exactly these messages are listed (in any order) and the search is idle. */
    const expectHits = async (expected, what) => {
      const want = [...expected].sort((p, q) => p - q);
      try {
        await page.waitForFunction((w) => {
          const list = document.querySelector('.search-results');
          if (!list || list.getAttribute('aria-busy') !== 'false') return false;
          const got = [...list.querySelectorAll('a.search-hit')].map((a) => Number(a.dataset.id)).sort((p, q) => p - q);
          return JSON.stringify(got) === JSON.stringify(w);
        }, want, { timeout: 10_000 });
      } catch {
        assert.deepEqual((await shownIds()).sort((p, q) => p - q), want, what);
      }
    };
    const lastSearch = () => searches[searches.length - 1];

    await page.getByRole('button', { name: 'Nachrichten durchsuchen' }).click();
    await input.fill(WORD);
    await input.press('Enter');
    await expectHits(everything, 'no filter: all six');
    await status.filter({ hasText: /^6 Treffer$/ }).waitFor();
    assert.deepEqual(Object.keys(lastSearch()).sort(), ['limit', 'offset', 'q'], 'no filter parameters without filters');

    // The filters open and close; every control is labelled.
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await page.getByRole('group', { name: 'Suchfilter' }).waitFor();
    for (const control of [from, conv, hasFile, since, until, page.getByLabel('Sortierung')]) assert.ok(await control.isVisible());
    assert.equal(await page.getByRole('group', { name: 'Zeitraum' }).count(), 1, 'the two dates form a group');

    // Sender, by keyboard: type, arrow down, Enter.
    await from.fill('Bernd');
    await fromList.getByRole('option', { name: /Bernd Müller/ }).waitFor();
    assert.equal(await from.getAttribute('aria-expanded'), 'true');
    await from.press('ArrowDown');
    const active = await from.getAttribute('aria-activedescendant');
    assert.equal(await page.locator(`[id="${active}"]`).getAttribute('aria-selected'), 'true');
    assert.match(await page.locator(`[id="${active}"]`).textContent(), /^Bernd Müller/);
    await from.press('Enter');
    assert.equal(await from.getAttribute('aria-expanded'), 'false');
    assert.equal(await from.inputValue(), BERND.name);
    await expectHits(ids('b1', 'b2', 'b3'), 'from bernd');
    assert.equal(lastSearch().from, String(bernd.user.id));
    assert.deepEqual([...new Set(await page.locator('.search-results .hit-sender').allTextContents())], [BERND.name]);

    // … and a conversation: bernd in group A.
    await conv.selectOption(String(groupA.id));
    await expectHits(ids('b1', 'b2'), 'from bernd in group A');
    assert.equal(lastSearch().conversation_id, String(groupA.id));
    assert.equal(lastSearch().from, String(bernd.user.id));

    // … and only with files: the photo. Its hit says it has one.
    await hasFile.check();
    await expectHits(ids('b2'), 'from bernd in group A with a file');
    assert.equal(lastSearch().has_file, 'true');
    assert.equal(await page.locator(`.search-results a.search-hit[data-id="${m.b2.id}"] .hit-files`).textContent(), '1 Datei');

    // Closed, the filters are named beside the button, and counted on it.
    await toggle.click();
    assert.equal(await summary.textContent(), `in ${nameA} · von ${BERND.name} · mit Dateien`);
    assert.equal(await toggle.textContent(), 'Filter3, 3 aktiv');
    await toggle.click();

    // The sender goes (clear button): everyone's files in group A; then all conversations.
    await page.getByRole('button', { name: 'Absender entfernen' }).click();
    assert.equal(await from.inputValue(), '');
    await expectHits(ids('b2'), 'files in group A');
    assert.equal(lastSearch().from, undefined);
    await conv.selectOption('');
    await expectHits(ids('b2', 'a2'), 'all messages with files');
    await hasFile.uncheck();
    await expectHits(everything, 'no filter again');

    // Sender by mouse: claudia. Escape in the field closes only its list.
    await from.fill('Claud');
    const claudiaOption = fromList.getByRole('option', { name: /Claudia Weber/ });
    await claudiaOption.waitFor();
    await from.press('Escape');
    assert.equal(await from.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.locator('.search-view').isVisible(), true, 'Escape in the sender field does not close the search');
    await from.press('ArrowDown');
    await claudiaOption.click();
    await expectHits(ids('c1'), 'from claudia');
    // Unfinished typing is undone when the field is left: the filter stays claudia.
    await from.fill('Ann');
    await fromList.getByRole('option', { name: /Anna Schmidt/ }).waitFor();
    await hasFile.focus();
    assert.equal(await from.inputValue(), CLAUDIA.name);
    assert.equal(await fromList.isVisible(), false);
    // Emptying the field removes the sender.
    await from.fill('');
    await expectHits(everything, 'sender removed by emptying the field');

    // Conversation B only.
    await conv.selectOption(String(groupB.id));
    await expectHits(ids('a2', 'b3'), 'group B');
    await conv.selectOption('');
    await expectHits(everything, 'all conversations');

    // Dates: yesterday to today holds everything; the request asks from the
    // start of the first day to the start of the day after the last, Berlin time.
    const now = Date.now();
    const yesterday = berlinDay(new Date(now - 24 * 3600 * 1000));
    const today = berlinDay(new Date(now));
    await since.fill(yesterday);
    await until.fill(today);
    await expectHits(everything, 'yesterday to today');
    const expectedSince = await page.evaluate(([y, mo, d]) => new Date(y, mo - 1, d).toISOString(), yesterday.split('-').map(Number));
    const expectedUntil = await page.evaluate(([y, mo, d]) => new Date(y, mo - 1, d + 1).toISOString(), today.split('-').map(Number));
    assert.equal(lastSearch().since, expectedSince);
    assert.equal(lastSearch().until, expectedUntil);
    assert.equal(await until.getAttribute('min'), yesterday, 'the end date cannot be picked before the start');
    // January 2001 (UTC+1 in Berlin) excludes everything.
    await since.fill('2001-01-01');
    await until.fill('2001-01-31');
    await expectHits([], 'January 2001');
    await status.filter({ hasText: 'Keine Nachrichten gefunden. Versuche es mit anderen Wörtern oder weniger Filtern.' }).waitFor();
    assert.equal(lastSearch().since, '2000-12-31T23:00:00.000Z');
    assert.equal(lastSearch().until, '2001-01-31T23:00:00.000Z');
    await toggle.click();
    assert.equal(await summary.textContent(), '01.01.2001 bis 31.01.2001');
    await toggle.click();
    // An end before the start is said so, and not asked.
    const before = searches.length;
    await since.fill('2001-02-01');
    await page.getByRole('alert').filter({ hasText: 'Das Enddatum liegt vor dem Anfangsdatum.' }).waitFor();
    assert.equal(searches.length, before, 'no request for an impossible range');
    assert.equal(await page.locator('.search-results a.search-hit').count(), 0);
    await since.fill('');
    await until.fill('');
    await expectHits(everything, 'dates removed');
    assert.equal(lastSearch().since, undefined);

    // Date order: newest first, by id as the server orders them, times not increasing.
    await page.getByLabel('Sortierung').selectOption('date');
    await expectHits(everything, 'date order');
    assert.equal(lastSearch().sort, 'date');
    assert.deepEqual(await shownIds(), [...everything].reverse(), 'newest first');
    const times = await page.locator('.search-results time.hit-time').evaluateAll((els) => els.map((el) => Date.parse(el.getAttribute('datetime'))));
    assert.deepEqual(times, [...times].sort((p, q) => q - p));

    // Paging keeps the filters: bernd's 25 of 50 in group B, 20 and then 5.
    await from.fill('bernd.mu');
    await fromList.getByRole('option', { name: /Bernd Müller/ }).click();
    await input.fill('Laubbläser');
    await input.press('Enter');
    await status.filter({ hasText: /^Mehr als 20 Treffer$/ }).waitFor();
    await page.getByRole('button', { name: 'Weitere Ergebnisse' }).click();
    await status.filter({ hasText: new RegExp(`^${PAGED} Treffer$`) }).waitFor();
    await expectHits(paged.bernd, "bernd's paged hits");
    const [first, second] = searches.slice(-2);
    assert.deepEqual([first.offset, second.offset], ['0', '20']);
    for (const s of [first, second]) assert.deepEqual([s.q, s.from, s.sort], ['Laubbläser', String(bernd.user.id), 'date'], 'every page with the filters');
    assert.deepEqual(await shownIds(), [...paged.bernd].sort((p, q) => q - p));

    // "Filter zurücksetzen" drops the sender: all 50, in pages again.
    await page.getByRole('button', { name: 'Filter zurücksetzen' }).click();
    await status.filter({ hasText: /^Mehr als 20 Treffer$/ }).waitFor();
    assert.equal(lastSearch().from, undefined);
    assert.equal(await from.inputValue(), '');
    await context.close();

    // --- bernd on a 360 px phone, English: the filters fit and work by keyboard -------
    const bContext = await newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const b = await newPage(bContext);
    await b.goto(`${shared.base}/`);
    await loginThroughForm(b, BERND);
    await listItem(b, nameB).click();
    await b.locator('.pane-conv form.composer textarea:enabled').waitFor();
    await b.getByRole('button', { name: 'Search in this conversation' }).click();
    await b.locator('#search-input').fill(WORD);
    await b.locator(`.search-results a.search-hit[data-id="${m.b3.id}"]`).waitFor();
    assert.equal(await b.locator('#search-filter-summary').textContent(), `in ${nameB}`);
    // Keyboard only: Tab from the field reaches "Filter", Enter opens it.
    await b.locator('#search-input').focus();
    await b.keyboard.press('Tab');
    await b.keyboard.press('Tab');
    assert.equal(await b.evaluate(() => document.activeElement.id), 'search-filter-toggle');
    await b.keyboard.press('Enter');
    await b.getByRole('group', { name: 'Search filters' }).waitFor();
    const overflow = await b.evaluate(() => {
      const view = document.querySelector('.search-view');
      const wide = [...view.querySelectorAll('.search-form *')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5).map((el) => el.id || el.className || el.tagName);
      return { scroll: view.scrollWidth - view.clientWidth, wide };
    });
    assert.deepEqual(overflow, { scroll: 0, wide: [] }, 'nothing wider than the phone');
    for (const label of ['Conversation', 'From', 'To', 'Only messages with files', 'Sort by']) {
      assert.ok(await b.getByLabel(label, { exact: true }).isVisible(), `a control labelled "${label}"`);
    }
    assert.ok(await b.getByRole('combobox', { name: 'Sender' }).isVisible());
    await b.keyboard.press('Tab'); // "Reset filters" (a filter is set)
    await b.keyboard.press('Tab'); // the conversation
    assert.equal(await b.evaluate(() => document.activeElement.id), 'search-conv');
    await b.keyboard.press('Tab'); // the sender
    await b.keyboard.type('Anna');
    await b.getByRole('listbox', { name: 'Sender' }).getByRole('option', { name: /Anna Schmidt/ }).waitFor();
    await b.keyboard.press('ArrowDown');
    await b.keyboard.press('Enter');
    await b.locator('.search-results a.search-hit').filter({ hasText: 'Bericht' }).waitFor();
    await b.locator(`.search-results a.search-hit[data-id="${m.b3.id}"]`).waitFor({ state: 'detached' });
    await b.keyboard.press('Tab'); // the clear button
    await b.keyboard.press('Tab'); // the start date
    assert.equal(await b.evaluate(() => document.activeElement.id), 'search-since');
    await b.getByLabel('Only messages with files', { exact: true }).focus();
    await b.keyboard.press('Space');
    assert.ok(await b.getByLabel('Only messages with files', { exact: true }).isChecked());
    await b.locator('.search-results a.search-hit').filter({ hasText: 'Bericht' }).locator('.hit-files').filter({ hasText: '1 file' }).waitFor();
    await b.getByRole('button', { name: /^Filter/ }).click();
    assert.equal(await b.locator('#search-filter-summary').textContent(), `in ${nameB} · from ${ANNA.name} · with files`);
    await bContext.close();
  }, { timeout: 120_000 });
}
