// Test 7 for run.mjs: @mention autocomplete in the composer and the
// "jump to first unread" button. Registered by run.mjs with its helpers.

import assert from 'node:assert/strict';

/** How many messages anna posts so bernd's first unread is not on the first page. */
const FLOOD = 60;

export function registerMentionUnreadTests(test, x) {
  const { shared, newContext, newPage, loginThroughForm, openConversation, timelineMessage, nodeApi, ANNA, BERND, RANDOM_CHANNEL, RUN_ID } = x;

  test('7 mention autocomplete and jump to first unread', async () => {
    // anna, in a fresh context, opens the channel.
    const annaCtx = await newContext();
    const anna = await newPage(annaCtx);
    await anna.goto(`${shared.base}/`);
    await loginThroughForm(anna, ANNA);
    const annaToken = await anna.evaluate(() => localStorage.getItem('kontor.token'));
    const convId = await openConversation(anna, RANDOM_CHANNEL);

    // bernd reads up to a message of his own (the server moves his read position there).
    const berndLogin = await nodeApi(null, 'POST', '/auth/login', { login: BERND.username, password: 'kontor-demo', device_name: 'Test 7' }).catch(() => null);
    let berndToken = berndLogin && berndLogin.token;
    if (!berndToken) {
      const ctx = await newContext();
      const p = await newPage(ctx);
      await p.goto(`${shared.base}/`);
      await loginThroughForm(p, BERND);
      berndToken = await p.evaluate(() => localStorage.getItem('kontor.token'));
      await ctx.close();
    }
    await nodeApi(berndToken, 'POST', `/conversations/${convId}/messages`, { txn_id: `mark-${RUN_ID}`, text: `Gelesen bis hier ${RUN_ID}` });

    // --- mention autocomplete ---------------------------------------------
    const area = anna.locator('.pane-conv form.composer textarea');
    const listbox = anna.locator('.pane-conv form.composer [role="listbox"]');
    await area.click();
    await area.pressSequentially('@');
    await listbox.locator('[role="option"]').first().waitFor();
    assert.equal(await area.getAttribute('aria-expanded'), 'true');
    assert.equal(await area.getAttribute('aria-controls'), await listbox.getAttribute('id'));
    await listbox.getByRole('option', { name: /@channel/ }).waitFor();
    await area.press('Escape');
    await listbox.waitFor({ state: 'hidden' });
    assert.equal(await area.getAttribute('aria-expanded'), 'false');
    assert.ok(await anna.locator('.pane-conv').isVisible(), 'Escape closed only the list');
    await area.fill('');

    await area.pressSequentially('Hallo @ber');
    const option = listbox.getByRole('option').filter({ hasText: BERND.name });
    await option.waitFor();
    assert.ok((await listbox.getByRole('option').count()) <= 8);
    // ArrowDown until bernd is the active option (the list wraps around).
    for (let i = 0; i < 9; i += 1) {
      await area.press('ArrowDown');
      const active = await area.getAttribute('aria-activedescendant');
      assert.ok(active, 'aria-activedescendant is set');
      const text = await anna.locator(`[id="${active}"]`).textContent();
      if (text.includes(BERND.name)) break;
    }
    assert.equal(await anna.locator(`[id="${await area.getAttribute('aria-activedescendant')}"]`).getAttribute('aria-selected'), 'true');
    const before = await anna.locator('.pane-conv ol.messages > li.msg').count();
    await area.press('Enter');
    await listbox.waitFor({ state: 'hidden' });
    assert.equal(await area.inputValue(), `Hallo @${BERND.username} `, 'Enter inserted the username and did not send');
    assert.equal(await anna.locator('.pane-conv ol.messages > li.msg').count(), before);

    const mentionText = `Hallo @${BERND.username} erste ungelesene ${RUN_ID}`;
    await area.pressSequentially(`erste ungelesene ${RUN_ID}`);
    await area.press('Enter');
    const sent = timelineMessage(anna, `erste ungelesene ${RUN_ID}`);
    await sent.waitFor();
    await sent.locator('.mention').filter({ hasText: `@${BERND.username}` }).waitFor();
    assert.equal(await area.inputValue(), '');
    const firstUnreadId = Number(await sent.getAttribute('data-id'));
    const stored = await nodeApi(annaToken, 'GET', `/messages/${firstUnreadId}`).catch(() => null);
    if (stored) assert.equal(stored.text, mentionText);

    // --- jump to first unread -----------------------------------------------
    for (let i = 0; i < FLOOD; i += 1) {
      await nodeApi(annaToken, 'POST', `/conversations/${convId}/messages`, { txn_id: `flood-${RUN_ID}-${i}`, text: `Füllnachricht ${i} ${RUN_ID}` });
    }
    const berndCtx = await newContext({ viewport: { width: 390, height: 740 } });
    const bernd = await newPage(berndCtx);
    await bernd.goto(`${shared.base}/`);
    await loginThroughForm(bernd, BERND);
    await openConversation(bernd, RANDOM_CHANNEL);
    const jump = bernd.locator('.pane-conv .unread-bar button');
    await jump.waitFor();
    assert.match(await jump.textContent(), /Jump to first unread/);
    await jump.click();
    const target = bernd.locator(`.pane-conv li.msg[data-id="${firstUnreadId}"]`);
    await target.waitFor();
    await bernd.waitForFunction((id) => document.activeElement && document.activeElement.dataset.id === String(id), firstUnreadId);
    assert.equal(await target.getAttribute('tabindex'), '-1');
    await jump.waitFor({ state: 'detached' });
    const inView = await target.evaluate((el) => {
      const box = el.closest('.scroller').getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= box.top - 1 && r.top < box.bottom;
    });
    assert.ok(inView, 'the first unread message is in view');
    const sepBefore = await target.evaluate((el) => el.previousElementSibling && el.previousElementSibling.classList.contains('new-sep'));
    assert.ok(sepBefore, 'a "New" line precedes the first unread message');
    await berndCtx.close();
    await annaCtx.close();
  }, { timeout: 120_000 });
}
