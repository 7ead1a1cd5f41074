// Test 15 for run.mjs: online status in two browsers. Deniz (German) turns
// it on in the settings; Elena turns hers on too and writes to him. Deniz
// sees the dot on their direct conversation and in its member list, with
// "online" in the accessible name. When he hides his own status he sees
// nobody's; when Elena closes her browser her dot goes away.
// (`kontor demo` offers presence; each person still turns it on.)

import assert from 'node:assert/strict';

export function registerPresenceTest(test, x) {
  const { shared, newContext, newPage, loginThroughForm, listItem, openConversation, pageApi, RUN_ID } = x;
  const DENIZ = { username: 'deniz.yilmaz', name: 'Deniz Yılmaz' };
  const ELENA = { username: 'elena.popescu', name: 'Elena Popescu' };

  test('15 online status: opt-in, shown to colleagues who show theirs, gone when they leave', async () => {
    const dContext = await newContext({ locale: 'de-DE' });
    const d = await newPage(dContext);
    await d.goto(`${shared.base}/`);
    await loginThroughForm(d, DENIZ);
    const eContext = await newContext();
    const e = await newPage(eContext);
    await e.goto(`${shared.base}/`);
    await loginThroughForm(e, ELENA);

    // Off until he turns it on; the settings say what "online" means.
    const me = await pageApi(d, 'GET', '/me');
    assert.equal(me.presence_available, true, 'the demo offers presence');
    assert.equal(me.share_presence, false, 'nobody shows presence until they choose to');
    await d.getByRole('link', { name: 'Einstellungen' }).click();
    const box = d.getByRole('checkbox', { name: 'Kolleginnen und Kollegen sehen, wenn ich online bin' });
    assert.equal(await box.isChecked(), false);
    assert.match(await d.locator('#presence-hint').textContent(), /nichts davon wird gespeichert/);
    await box.check();
    await d.locator('.settings-section [role="status"]').filter({ hasText: 'Gespeichert.' }).waitFor();
    assert.equal((await pageApi(d, 'GET', '/me')).share_presence, true);

    await pageApi(e, 'PATCH', '/me', { share_presence: true });
    const denizId = me.id;
    const dm = await pageApi(e, 'POST', '/conversations', { kind: 'direct', user_ids: [denizId] });
    await pageApi(e, 'POST', `/conversations/${dm.id}/messages`, { txn_id: `presence-${RUN_ID}`, text: 'Bist du da?' });

    await d.goBack();
    const item = listItem(d, ELENA.name);
    await item.locator('.presence-dot').waitFor();
    const label = await item.evaluate((a) => a.textContent);
    assert.match(label, /online/, 'the dot is not the only cue');

    // Her row in the member list carries it too.
    await openConversation(d, ELENA.name);
    await d.getByRole('button', { name: 'Details und Mitglieder' }).click();
    const row = d.locator('aside.details-panel li.member').filter({ hasText: ELENA.name });
    await row.locator('.presence-dot').waitFor();
    assert.match(await row.textContent(), /\(online\)/);

    // Reciprocity: hiding his own status hides everyone's from him.
    await pageApi(d, 'PATCH', '/me', { share_presence: false });
    await item.locator('.presence-dot').waitFor({ state: 'detached' });
    await row.locator('.presence-dot').waitFor({ state: 'detached' });
    await pageApi(d, 'PATCH', '/me', { share_presence: true });
    await item.locator('.presence-dot').waitFor();

    // Elena closes her browser: she is offline.
    await eContext.close();
    await item.locator('.presence-dot').waitFor({ state: 'detached' });
    await row.locator('.presence-dot').waitFor({ state: 'detached' });
    await dContext.close();
  });
}
