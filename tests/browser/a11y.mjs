// Test 10 for run.mjs: axe-core (node_modules/axe-core, pinned in
// package.json) on the main screens (the message search with hits and
// with its filters open, the sender list showing, and set, a
// message with attachments, the composer with a file waiting to be sent and
// the image viewer among them), at 1280×800 and 360×740, in the light
// and the dark colour scheme. axe is added as an init script (through the
// DevTools protocol, which the page's CSP does not govern), so the page
// runs under its real CSP. Every violation is printed; the test fails on
// those with impact "serious" or "critical".

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { makePng, PDF_BYTES, nodeUpload } from './attachments.mjs';

const FAIL_ON = new Set(['serious', 'critical']);

export function registerA11yTest(test, x) {
  const { shared, newContext, newPage, loginThroughForm, listItem, nodeApi, ANNA, BERND, CLAUDIA, RUN_ID, HERE } = x;

  test('10 accessibility: axe-core on the main screens (2 sizes × light/dark)', async () => {
    const axeSource = await readFile(path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

    // A group of anna's with a bit of everything: mention, reaction, thread, edit, delete.
    const login = (user) => nodeApi(null, 'POST', '/auth/login', { login: user.username, password: 'kontor-demo', device_name: 'Test 10' });
    const anna = await login(ANNA);
    const bernd = await login(BERND);
    const claudia = await login(CLAUDIA);
    const groupName = `Barrierefrei ${RUN_ID}`;
    const group = await nodeApi(anna.token, 'POST', '/conversations', { kind: 'group', name: groupName, topic: 'Kontrast, Namen, Rollen', user_ids: [bernd.user.id, claudia.user.id] });
    const post = (token, text, extra = {}) => nodeApi(token, 'POST', `/conversations/${group.id}/messages`, { txn_id: `a11y-${RUN_ID}-${Math.random()}`, text, ...extra });
    const root = await post(anna.token, `Hallo @${BERND.username}, bitte **prüfen**: https://example.com/doku`, { mentions: [bernd.user.id] });
    await post(bernd.token, 'Mache ich, Antwort kommt im Thread.', { thread_root_id: root.id });
    await post(anna.token, 'Geprüft, der Termin passt.', { thread_root_id: root.id });
    await nodeApi(bernd.token, 'PUT', `/messages/${root.id}/reactions/${encodeURIComponent('👍')}`);
    const edited = await post(claudia.token, 'Erster Entwurf');
    await nodeApi(claudia.token, 'PATCH', `/messages/${edited.id}`, { text: 'Zweiter Entwurf mit `Code`' });
    const gone = await post(bernd.token, 'Wird gleich gelöscht');
    await nodeApi(bernd.token, 'DELETE', `/messages/${gone.id}`);
    await post(claudia.token, `@${ANNA.username} kurze Rückfrage zum Termin`, { mentions: [anna.user.id] });
    // The newest message, so it is in view: an image, a PDF and a text file.
    const files = [
      await nodeUpload(shared.base, anna.token, group.id, 'Grundriss Halle 2.png', makePng(160, 100)),
      await nodeUpload(shared.base, anna.token, group.id, 'Prüfbericht.pdf', PDF_BYTES),
      await nodeUpload(shared.base, anna.token, group.id, 'Messwerte.txt', Buffer.from('12,5 13,1 12,9\n')),
    ];
    await post(anna.token, 'Unterlagen für die Prüfung', { attachment_ids: files.map((f) => f.id) });

    const findings = [];
    let runs = 0;
    const sizes = [
      { width: 1280, height: 800, options: {} },
      { width: 360, height: 740, options: { isMobile: true, hasTouch: true } },
    ];
    for (const { width, height, options } of sizes) {
      const context = await newContext({ viewport: { width, height }, ...options });
      await context.addInitScript({ content: axeSource });
      const page = await newPage(context);
      const size = `${width}×${height}`;
      const check = async (screen) => {
        for (const colorScheme of ['light', 'dark']) {
          await page.emulateMedia({ colorScheme });
          const violations = await page.evaluate(async () => {
            const result = await window.axe.run(document, { resultTypes: ['violations'] });
            return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
          });
          runs += 1;
          for (const v of violations) findings.push({ screen, size, colorScheme, ...v });
        }
        await page.emulateMedia({ colorScheme: 'light' });
      };
      const narrow = width < 768;

      // Login, with an error shown.
      await page.goto(`${shared.base}/`);
      await page.locator('#login-name').fill('niemand.hier');
      await page.locator('#login-password').fill('falsches-passwort');
      await page.locator('form.login-form button[type="submit"]').click();
      await page.locator('#login-error').filter({ hasText: /\S/ }).waitFor();
      await check('login with error');

      await loginThroughForm(page, ANNA);
      await page.waitForFunction(() => document.querySelector('.list-status')?.textContent === '');
      await check('conversation list');

      // New conversation dialog, with search results.
      await page.getByRole('button', { name: 'New conversation' }).click();
      await page.locator('dialog[open] .pick-list li').first().waitFor();
      await check('new conversation dialog');
      await page.keyboard.press('Escape');
      await page.locator('dialog[open]').waitFor({ state: 'detached' });

      // The group, with messages.
      await listItem(page, groupName).click();
      await page.locator('.pane-conv form.composer textarea:enabled').waitFor();
      await page.locator('.pane-conv li.msg .thread-link').waitFor();
      await page.locator('.pane-conv li.msg .att-thumb img[src^="blob:"]').waitFor();
      await page.locator('.pane-conv li.msg .att-card').nth(1).waitFor();
      await check('conversation');

      // A file waiting in the composer, and the image viewer.
      const composer = page.locator('.pane-conv form.composer');
      await composer.locator('input[type="file"]').setInputFiles([{ name: 'Skizze.png', mimeType: 'image/png', buffer: makePng(64, 64) }]);
      await composer.locator('li.upload.upload-done').waitFor();
      await check('composer with a pending attachment');
      await composer.getByRole('button', { name: 'Remove Skizze.png' }).click();
      await composer.locator('li.upload').waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Open image Grundriss Halle 2.png' }).click();
      await page.locator('dialog[open] img.viewer-img').waitFor();
      await check('image viewer');
      await page.keyboard.press('Escape');
      await page.locator('dialog[open]').waitFor({ state: 'detached' });

      // Message search, from the conversation ("only in" filter), with hits
      // (one a thread reply) whose matching words are marked.
      await page.getByRole('button', { name: 'Search in this conversation' }).click();
      await page.locator('#search-input').fill('Termin');
      await page.locator('.search-results a.search-hit mark').nth(1).waitFor();
      await page.locator('.search-results .tag').first().waitFor();
      await check('search with results');
      // The filters open, the sender list open with an option active, then
      // a sender picked (the hits change, the filters are counted).
      await page.locator('#search-filter-toggle').click();
      const from = page.getByRole('combobox', { name: 'Sender' });
      await from.fill('Claud');
      await page.getByRole('listbox', { name: 'Sender' }).getByRole('option', { name: /Claudia Weber/ }).waitFor();
      await from.press('ArrowDown');
      await check('search filters with the sender list');
      await from.press('Enter');
      await page.locator('.search-results a.search-hit').filter({ hasText: 'Rückfrage' }).waitFor();
      await page.locator('.search-results a.search-hit').filter({ hasText: 'Geprüft' }).waitFor({ state: 'detached' });
      await page.locator('#search-filter-toggle').click();
      await page.locator('#search-filter-summary').filter({ hasText: 'Claudia Weber' }).waitFor();
      await check('search with filters set');
      await page.locator('#search-input').focus();
      await page.keyboard.press('Escape');
      await page.locator('.search-view').waitFor({ state: 'hidden' });

      // Thread panel.
      await page.locator('.pane-conv li.msg .thread-link').first().click();
      await page.locator('aside.thread-panel .scroller li.msg').first().waitFor();
      await check('thread panel');
      await page.getByRole('button', { name: 'Close thread' }).click();
      await page.locator('aside.thread-panel').waitFor({ state: 'detached' });

      // Details and members panel (anna owns the group: form, roles, picker).
      await page.getByRole('button', { name: 'Details and members' }).click();
      await page.locator('aside.details-panel ul.member-list li.member').nth(2).waitFor();
      await page.locator('aside.details-panel .pick-list li').first().waitFor();
      await check('members panel');
      await page.getByRole('button', { name: 'Close details' }).click();

      // Settings with sessions.
      if (narrow) await page.getByRole('link', { name: 'Back to the list' }).click();
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.locator('.session-list li').first().waitFor();
      await check('settings');
      await context.close();
    }

    for (const f of findings) {
      console.log(`  ${FAIL_ON.has(f.impact) ? 'VIOLATION' : 'note'}: [${f.impact}] ${f.id} on "${f.screen}" ${f.size} ${f.colorScheme}: ${f.help} — ${f.targets.slice(0, 4).join(' | ')}${f.targets.length > 4 ? ` (+${f.targets.length - 4})` : ''}`);
    }
    console.log(`  info: ${runs} axe runs, ${findings.length} findings`);
    const serious = findings.filter((f) => FAIL_ON.has(f.impact));
    assert.deepEqual(serious.map((f) => `${f.id} (${f.screen}, ${f.size}, ${f.colorScheme})`), [], 'serious or critical axe violations');
  }, { timeout: 240_000 });
}
