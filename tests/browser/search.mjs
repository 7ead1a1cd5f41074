// Test 12 for run.mjs: message search in the web client (web/js/views/
// search.js and reveal.js) against GET /api/v1/search. anna (German UI)
// finds word forms ("Haus" → "Häuser"), compound parts ("Sitzung" →
// "Betriebsratssitzung") and thread replies; snippets show the matching
// words in <mark>s and an HTML payload as text; choosing a hit opens the
// conversation with that message in view and focused, a thread reply in
// its thread panel, even when neither is on the first page loaded; the
// conversation filter (set by "search in this conversation"), date order
// and "More results" work; the strings follow a switch to English. claudia,
// not a member, finds nothing. bernd, on a phone, gets the search full
// screen. The other filters are test 14 (search-filters.mjs).

import assert from 'node:assert/strict';

/** Main-timeline messages after the targets, so they are not on the first page (50). */
const FILLERS = 60;
/** Thread replies after the target reply, for the same reason in the thread panel. */
const LATER_REPLIES = 60;

/** Whether the element lies inside its scroller's visible box. */
function inScroller(locator) {
  return locator.evaluate((el) => {
    const box = el.closest('.scroller').getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  });
}

export function registerSearchTest(test, x) {
  const { shared, newContext, newPage, loginThroughForm, listItem, nodeApi, ANNA, BERND, CLAUDIA, RUN_ID } = x;

  test('12 message search: word forms, compounds, threads, paging, XSS as text, privacy, jump to the hit', async () => {
    const login = (user) => nodeApi(null, 'POST', '/auth/login', { login: user.username, password: 'kontor-demo', device_name: 'Test 12' });
    const anna = await login(ANNA);
    const bernd = await login(BERND);
    const claudia = await login(CLAUDIA);
    const groupName = `Hafenprojekt ${RUN_ID}`;
    const group = await nodeApi(anna.token, 'POST', '/conversations', { kind: 'group', name: groupName, user_ids: [bernd.user.id] });
    const other = await nodeApi(anna.token, 'POST', '/conversations', { kind: 'group', name: `Nebenprojekt ${RUN_ID}`, user_ids: [bernd.user.id] });
    let txn = 0;
    const post = (token, text, extra = {}, conv = group) => {
      txn += 1;
      return nodeApi(token, 'POST', `/conversations/${conv.id}/messages`, { txn_id: `search-${RUN_ID}-${txn}`, text, ...extra });
    };
    const inParallel = async (n, fn) => {
      let next = 0;
      const worker = async () => {
        while (next < n) {
          const i = next;
          next += 1;
          await fn(i);
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
    };

    const haus = await post(anna.token, 'Die Häuser am Hafen werden gestrichen');
    const sitzung = await post(bernd.token, 'Morgen Betriebsratssitzung um 9 Uhr');
    const root = await post(anna.token, 'Wer übernimmt nächste Woche den Dienst am Tor?');
    const reply = await post(bernd.token, 'Ich trage mich in den Schichtplan ein', { thread_root_id: root.id });
    await inParallel(LATER_REPLIES, (i) => post(i % 2 ? anna.token : bernd.token, `Nachtrag ${i} zum Dienst`, { thread_root_id: root.id }));
    const xssText = '<img src=x onerror=alert(1337)> Hausordnung';
    const xss = await post(anna.token, xssText);
    const fillers = [];
    await inParallel(FILLERS, async (i) => fillers.push(await post(anna.token, `Pegelstand ${i} am Kai`)));
    const newest = fillers.reduce((a, m) => (m.id > a.id ? m : a));
    const elsewhere = await post(anna.token, 'Hausbesuch am Freitag', {}, other);

    // The server side of privacy: claudia is in neither group.
    const claudiaHits = await nodeApi(claudia.token, 'GET', `/search?q=${encodeURIComponent('Häuser')}`);
    assert.deepEqual(claudiaHits.hits.map((h) => h.message.text), [], 'claudia finds nothing for "Häuser"');

    // --- anna, German UI, 1280×800 ------------------------------------------------
    const context = await newContext({ locale: 'de-DE' });
    const page = await newPage(context);
    await page.goto(`${shared.base}/`);
    await loginThroughForm(page, ANNA);
    const input = page.locator('#search-input');
    const view = page.locator('.search-view');
    const hit = (id) => page.locator(`.search-results a.search-hit[data-id="${id}"]`);
    const status = page.locator('#search-status');

    // Ctrl+K opens the search with the field focused and labelled.
    await page.keyboard.press('Control+k');
    await view.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'search-input', 'Ctrl+K focuses the search field');
    assert.equal(await page.getByLabel('Suchbegriffe', { exact: true }).getAttribute('id'), 'search-input');
    assert.equal(await page.locator('#search-title').textContent(), 'Suche');
    assert.equal(await page.locator('.pane-list').getAttribute('aria-labelledby'), 'search-title');
    assert.equal(await page.locator('#list-title').isVisible(), false, 'the search replaces the conversation list');
    const toggle = page.locator('#search-filter-toggle');
    const convSelect = page.getByLabel('Unterhaltung', { exact: true });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false', 'the filters start closed');
    assert.equal(await convSelect.isVisible(), false);
    assert.equal(await convSelect.inputValue(), '', 'all conversations');
    assert.equal(await page.locator('#search-conv option', { hasText: '(geöffnet)' }).count(), 0, 'no open conversation to offer');

    // Typing (debounced) searches: "Haus" finds "Häuser", marked.
    await input.fill('Haus');
    await hit(haus.id).waitFor();
    const hausHit = hit(haus.id);
    assert.equal(await hausHit.locator('.hit-snippet').textContent(), haus.text);
    assert.deepEqual(await hausHit.locator('.hit-snippet mark').allTextContents(), ['Häuser']);
    assert.equal(await hausHit.locator('.hit-conv').textContent(), groupName);
    assert.equal(await hausHit.locator('.hit-sender').textContent(), ANNA.name);
    const time = hausHit.locator('time.hit-time');
    assert.equal(await time.getAttribute('datetime'), haus.created_at);
    assert.match(await time.textContent(), /^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}$/, 'German date and time');
    // Both groups are searched.
    await hit(elsewhere.id).waitFor();

    // The HTML payload is shown as text: no element but <mark> in any snippet.
    const xssHit = hit(xss.id);
    await xssHit.waitFor();
    assert.equal(await xssHit.locator('.hit-snippet').textContent(), xssText);
    assert.deepEqual(await xssHit.locator('.hit-snippet mark').allTextContents(), ['Hausordnung']);
    const tags = await page.evaluate(() => [...new Set([...document.querySelectorAll('.search-results .hit-snippet *')].map((e) => e.tagName))]);
    assert.deepEqual(tags, ['MARK'], 'snippets hold text and <mark> only');
    assert.equal(await page.locator('.search-results img').count(), 0, 'no <img> in the results');
    assert.equal(await page.evaluate(() => window.__xss), 0, 'no payload ran');
    assert.equal(shared.dialogs.filter((d) => d.test === shared.currentTest).length, 0, 'no dialog opened');
    assert.equal(await status.textContent(), '3 Treffer');

    // Enter searches at once. "Sitzung" finds the compound; choosing it opens
    // the conversation around that message (it is not on the newest page).
    await input.fill('Sitzung');
    await input.press('Enter');
    const sitzungHit = hit(sitzung.id);
    await sitzungHit.waitFor();
    assert.deepEqual(await sitzungHit.locator('mark').allTextContents(), ['Betriebsratssitzung']);
    assert.equal(await sitzungHit.locator('.hit-sender').textContent(), BERND.name);
    await sitzungHit.click();
    await page.waitForURL(`${shared.base}/c/${group.id}?m=${sitzung.id}`);
    const target = page.locator(`.pane-conv li.msg[data-id="${sitzung.id}"]`);
    await target.waitFor();
    await page.waitForFunction((id) => document.activeElement && document.activeElement.dataset.id === String(id), sitzung.id);
    assert.ok(await inScroller(target), 'the message is in the viewport');
    assert.ok(await target.evaluate((el) => el.classList.contains('msg-target')), 'the message is marked');
    assert.equal(await page.locator(`.pane-conv li.msg[data-id="${haus.id}"]`).count(), 1, 'the messages around it are loaded too');
    assert.equal(await sitzungHit.getAttribute('aria-current'), 'true', 'the results stay beside it, the chosen one marked');
    // Focus leaves: the mark goes.
    await input.focus();
    await page.waitForFunction((id) => !document.querySelector(`.pane-conv li.msg[data-id="${id}"]`).classList.contains('msg-target'), sitzung.id);

    // A thread reply opens in the thread panel, in view and focused.
    await input.fill('Schichtplan');
    const replyHit = hit(reply.id);
    await replyHit.waitFor();
    assert.equal(await replyHit.locator('.tag').textContent(), 'Antwort im Thread');
    await replyHit.click();
    const panel = page.locator('aside.thread-panel');
    const inThread = panel.locator(`.scroller li.msg[data-id="${reply.id}"]`);
    await inThread.waitFor();
    await page.waitForFunction((id) => {
      const a = document.activeElement;
      return a && a.dataset.id === String(id) && a.closest('aside.thread-panel');
    }, reply.id);
    assert.ok(await inScroller(inThread), 'the reply is in view in the thread panel');
    await panel.locator('ol.thread-root').getByText(root.text).waitFor();
    assert.equal(await page.locator(`.pane-conv ol.messages > li.msg[data-id="${root.id}"]`).count(), 1, 'the root is in the timeline');

    // Escape closes the search and focus goes back to where it was opened.
    await input.focus();
    await page.keyboard.press('Escape');
    await view.waitFor({ state: 'hidden' });
    await page.locator('#list-title').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('aria-label')), 'Nachrichten durchsuchen');
    // "/" opens it again (outside text fields), with the query and hits kept.
    await page.locator('#list-title').click();
    await page.keyboard.press('/');
    await view.waitFor();
    assert.equal(await input.inputValue(), 'Schichtplan');
    await replyHit.waitFor();
    await page.keyboard.press('Escape');
    await view.waitFor({ state: 'hidden' });

    // --- in this conversation: the filter, date order and "More results" -----------
    await page.locator('aside.thread-panel').getByRole('button', { name: 'Thread schließen' }).click();
    await page.getByRole('button', { name: 'In dieser Unterhaltung suchen' }).click();
    await view.waitFor();
    // Started from the conversation: only in it, as the line beside "Filter" says.
    assert.equal(await page.locator('#search-filter-summary').textContent(), `in ${groupName}`);
    assert.equal(await toggle.textContent(), 'Filter1, 1 aktiv');
    await input.fill('Haus');
    await hit(haus.id).waitFor();
    await status.filter({ hasText: /^2 Treffer$/ }).waitFor();
    assert.equal(await hit(elsewhere.id).count(), 0, 'the other group is left out');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.equal(await convSelect.inputValue(), String(group.id));
    assert.equal(await page.locator('#search-conv option:checked').textContent(), `${groupName} (geöffnet)`, 'the open conversation is offered first');
    assert.equal(await page.locator('#search-filter-summary').isVisible(), false, 'no summary while the filters are shown');
    await convSelect.selectOption('');
    await hit(elsewhere.id).waitFor();
    await convSelect.selectOption(String(group.id));
    await hit(elsewhere.id).waitFor({ state: 'detached' });

    await page.getByLabel('Sortierung').selectOption('date');
    await input.fill('Pegelstand');
    const hits = page.locator('.search-results a.search-hit');
    await status.filter({ hasText: /^Mehr als 20 Treffer$/ }).waitFor();
    assert.equal(await hits.count(), 20);
    const more = page.getByRole('button', { name: 'Weitere Ergebnisse' });
    await more.click();
    await status.filter({ hasText: /^Mehr als 40 Treffer$/ }).waitFor();
    // Keyboard users continue at the first new hit.
    assert.equal(await page.evaluate(() => [...document.querySelectorAll('.search-results a.search-hit')].indexOf(document.activeElement)), 20);
    await more.click();
    await status.filter({ hasText: new RegExp(`^${FILLERS} Treffer$`) }).waitFor();
    assert.equal(await more.isVisible(), false, 'no "More results" after the last page');
    const ids = await hits.evaluateAll((els) => els.map((a) => Number(a.dataset.id)));
    assert.equal(new Set(ids).size, FILLERS, 'each hit once');
    // Newest first, as the server and the timeline order messages: by id
    // (timestamps of messages posted at the same moment can be a little out of that order).
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'date order: newest first');
    assert.deepEqual([...new Set(await hits.evaluateAll((els) => els.map((a) => Number(a.dataset.conversation))))], [group.id]);

    // --- the same view in English --------------------------------------------------
    await page.keyboard.press('Escape');
    await view.waitFor({ state: 'hidden' });
    await page.getByRole('link', { name: 'Einstellungen' }).click();
    await page.getByRole('radio', { name: 'English' }).check();
    await page.locator('#settings-title').filter({ hasText: /^Settings$/ }).waitFor();
    await page.getByRole('button', { name: 'Search messages' }).click();
    await view.waitFor();
    assert.equal(await page.locator('#search-title').textContent(), 'Search');
    assert.equal(await page.getByLabel('Search terms', { exact: true }).getAttribute('id'), 'search-input');
    assert.equal(await input.getAttribute('placeholder'), 'Search for words …');
    assert.equal(await page.getByLabel('Sort by').inputValue(), 'date');
    assert.equal(await page.getByRole('option', { name: 'Relevance' }).count(), 1);
    assert.equal(await page.getByRole('button', { name: 'Close search' }).count(), 1);
    // The conversation was chosen in the list this time: it stays a filter
    // although no conversation is open now, and so do the hits.
    assert.equal(await page.getByLabel('Conversation', { exact: true }).inputValue(), String(group.id));
    assert.equal(await page.locator('#search-conv option:checked').textContent(), groupName);
    await status.filter({ hasText: new RegExp(`^${FILLERS} results$`) }).waitFor();
    // "Reset filters": all conversations, the first page is fetched again.
    await page.getByRole('button', { name: 'Reset filters' }).click();
    await status.filter({ hasText: /^More than 20 results$/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'More results' }).count(), 1);
    assert.equal(await page.getByLabel('Conversation', { exact: true }).inputValue(), '');
    assert.equal(await page.getByLabel('Sort by').inputValue(), 'date', 'the sort order is not a filter: it stays');
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'search-filter-toggle', 'focus moves to "Filter" when "Reset" goes');
    await input.fill('Sitzung');
    await input.press('Enter');
    await status.filter({ hasText: /^1 result$/ }).waitFor();
    assert.match(await hit(sitzung.id).locator('time').textContent(), /^\d{1,2} \w{3,4} \d{4}, \d{1,2}:\d{2}$/, 'English date and time');
    await input.fill('Kein Treffer hier');
    await input.press('Enter');
    await status.filter({ hasText: 'No messages found. Try other words.' }).waitFor();
    assert.equal(await hits.count(), 0);
    await context.close();

    // --- claudia (German) is not a member: nothing, the empty state ---------------
    const cContext = await newContext({ locale: 'de-DE' });
    const c = await newPage(cContext);
    await c.goto(`${shared.base}/`);
    await loginThroughForm(c, CLAUDIA);
    await c.getByRole('button', { name: 'Nachrichten durchsuchen' }).click();
    await c.locator('#search-input').fill('Häuser');
    await c.locator('#search-input').press('Enter');
    await c.locator('#search-status.search-empty').filter({ hasText: 'Keine Nachrichten gefunden. Versuche es mit anderen Wörtern.' }).waitFor();
    assert.equal(await c.locator('.search-results a.search-hit').count(), 0);
    await cContext.close();

    // --- bernd on a phone: the search covers the conversation ---------------------
    const bContext = await newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    const b = await newPage(bContext);
    await b.goto(`${shared.base}/`);
    await loginThroughForm(b, BERND);
    await listItem(b, groupName).click();
    await b.locator('.pane-conv form.composer textarea:enabled').waitFor();
    await b.getByRole('button', { name: 'Search in this conversation' }).click();
    const bView = b.locator('.search-view');
    await bView.waitFor();
    assert.equal(await b.locator('.pane-conv').isVisible(), false, 'full screen: the conversation is covered');
    assert.equal(Math.round(await bView.evaluate((el) => el.getBoundingClientRect().width)), 360);
    await b.locator('#search-input').fill('Schichtplan');
    const bHit = b.locator(`.search-results a.search-hit[data-id="${reply.id}"]`);
    await bHit.waitFor();
    await bHit.click();
    const bReply = b.locator(`aside.thread-panel .scroller li.msg[data-id="${reply.id}"]`);
    await bReply.waitFor();
    await b.waitForFunction((id) => document.activeElement && document.activeElement.dataset.id === String(id), reply.id);
    assert.ok(await inScroller(bReply), 'the reply is in view on the phone');
    assert.equal(await bView.isVisible(), false, 'the conversation is in front now');
    // Escape closes the thread; "back" returns to the hits, the chosen one focused.
    await b.keyboard.press('Escape');
    await b.locator('aside.thread-panel').waitFor({ state: 'detached' });
    await b.getByRole('link', { name: 'Back to the list' }).click();
    await bView.waitFor();
    await b.waitForFunction((id) => document.activeElement && document.activeElement.dataset.id === String(id) && document.activeElement.matches('a.search-hit'), reply.id);
    // A hit that is loaded already (the newest message) is shown and focused too.
    await b.getByRole('button', { name: /^Filter/ }).click();
    await b.getByLabel('Sort by').selectOption('date');
    await b.locator('#search-input').fill('Pegelstand');
    const newestHit = b.locator(`.search-results a.search-hit[data-id="${newest.id}"]`);
    await newestHit.waitFor();
    await newestHit.click();
    await b.waitForFunction((id) => document.activeElement && document.activeElement.dataset.id === String(id) && document.activeElement.matches('.pane-conv li.msg'), newest.id);
    assert.ok(await inScroller(b.locator(`.pane-conv li.msg[data-id="${newest.id}"]`)), 'the newest message is in view');
    await b.getByRole('link', { name: 'Back to the list' }).click();
    await bView.waitFor();
    // Escape closes the search: the conversation list is back.
    await b.keyboard.press('Escape');
    await b.locator('#list-title').waitFor();
    assert.equal(await bView.isVisible(), false);
    assert.equal(await b.evaluate(() => document.activeElement && document.activeElement.getAttribute('aria-label')), 'Search messages');
    await bContext.close();
  }, { timeout: 120_000 });
}
