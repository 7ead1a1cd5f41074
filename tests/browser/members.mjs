// Test 9 for run.mjs: conversation management in the details panel, with
// three people in three browsers. anna (owner) renames a group and adds
// claudia, who sees it appear live; anna makes her a moderator, the server
// refuses two things (shown as text), anna removes claudia, whose view
// updates live; bernd leaves and the group disappears from his list.
// Then claudia puts bernd into two groups, and he leaves both in one step
// ("Leave all groups and channels by …"). claudia's browser speaks German.

import assert from 'node:assert/strict';

export function registerMembersTest(test, x) {
  const { shared, newContext, newPage, loginThroughForm, listItem, openConversation, nodeApi, ANNA, BERND, CLAUDIA, RUN_ID } = x;

  test('9 conversation management: rename, add, role, remove, leave (live, 3 users)', async () => {
    const start = async (user, options = {}) => {
      const context = await newContext(options);
      const page = await newPage(context);
      await page.goto(`${shared.base}/`);
      await loginThroughForm(page, user);
      return page;
    };
    const a = await start(ANNA);
    const b = await start(BERND);
    const c = await start(CLAUDIA, { locale: 'de-DE' });

    // Every UI string exists in both languages.
    const missing = await a.evaluate(async () => {
      const { dictionaries } = await import('/js/i18n.js');
      const de = Object.keys(dictionaries.de);
      const en = Object.keys(dictionaries.en);
      return {
        notInEn: de.filter((k) => !(k in dictionaries.en)),
        notInDe: en.filter((k) => !(k in dictionaries.de)),
        empty: de.concat(en).filter((k) => !(dictionaries.de[k] || '').trim() || !(dictionaries.en[k] || '').trim()),
      };
    });
    assert.deepEqual(missing, { notInEn: [], notInDe: [], empty: [] }, 'German and English have the same keys');

    const aToken = await a.evaluate(() => localStorage.getItem('kontor.token'));
    const found = await nodeApi(aToken, 'GET', '/users?search=bernd');
    const berndId = found.find((u) => u.username === BERND.username).id;
    const oldName = `Projekt ${RUN_ID}`;
    const newName = `Projekt Phönix ${RUN_ID}`;
    const topic = `Alles rund um Phönix ${RUN_ID}`;
    await nodeApi(aToken, 'POST', '/conversations', { kind: 'group', name: oldName, user_ids: [berndId] });
    await listItem(a, oldName).waitFor();
    await listItem(b, oldName).waitFor();
    assert.equal(await listItem(c, oldName).count(), 0, 'claudia is not in the group yet');

    await openConversation(a, oldName);
    await openConversation(b, oldName);
    const detailsBtn = a.getByRole('button', { name: 'Details and members' });
    assert.equal(await detailsBtn.getAttribute('aria-expanded'), 'false');
    await detailsBtn.click();
    assert.equal(await detailsBtn.getAttribute('aria-expanded'), 'true');
    const panelA = a.locator('aside.details-panel');
    assert.equal(await detailsBtn.getAttribute('aria-controls'), await panelA.getAttribute('id'));
    const rowsA = panelA.locator('ul.member-list > li.member');
    const rowA = (name) => rowsA.filter({ hasText: name });
    await rowA(BERND.name).waitFor();
    assert.equal(await rowsA.count(), 2);
    assert.equal(await rowA(ANNA.name).getByRole('combobox', { name: `Role of ${ANNA.name}` }).inputValue(), 'owner');
    assert.equal(await rowA(BERND.name).getByRole('combobox', { name: `Role of ${BERND.name}` }).inputValue(), 'member');

    // --- rename: anna's header, bernd's list and header follow ---------------
    await panelA.getByLabel('Name', { exact: true }).fill(newName);
    await panelA.getByLabel('Topic', { exact: true }).fill(topic);
    await panelA.getByRole('button', { name: 'Save' }).click();
    await panelA.getByText('Saved.', { exact: true }).waitFor();
    await a.locator('.pane-conv h2.pane-title').filter({ hasText: newName }).waitFor();
    await listItem(a, newName).waitFor();
    await listItem(b, newName).waitFor();
    await b.locator('.pane-conv h2.pane-title').filter({ hasText: newName }).waitFor();
    await b.locator('.pane-conv .conv-sub').filter({ hasText: topic }).waitFor();

    // --- add claudia from the directory: the group appears in her list ---------
    await panelA.getByLabel('Add people').fill('Claudia');
    await panelA.locator('button.pick').filter({ hasText: CLAUDIA.name }).click();
    await panelA.locator('.chips').getByText(CLAUDIA.name).waitFor();
    await panelA.getByRole('button', { name: 'Add', exact: true }).click();
    await panelA.getByText('1 person added.').waitFor();
    await rowA(CLAUDIA.name).waitFor();
    await a.locator('.pane-conv .conv-sub').filter({ hasText: '3 members' }).waitFor();
    await listItem(c, newName).waitFor();

    // claudia (German) sees name, topic and members, and no controls.
    await listItem(c, newName).click();
    await c.locator('.pane-conv h2.pane-title').filter({ hasText: newName }).waitFor();
    await c.getByRole('button', { name: 'Details und Mitglieder' }).click();
    const panelC = c.locator('aside.details-panel');
    const rowC = (name) => panelC.locator('ul.member-list > li.member').filter({ hasText: name });
    await rowC(CLAUDIA.name).filter({ hasText: '(du)' }).locator('.tag').filter({ hasText: 'Mitglied' }).waitFor();
    await rowC(ANNA.name).locator('.tag').filter({ hasText: 'Eigentümer' }).waitFor();
    await panelC.locator('dd').filter({ hasText: topic }).waitFor();
    assert.equal(await panelC.locator('form').count(), 0, 'a member gets no forms');
    assert.equal(await panelC.locator('select, li.member button').count(), 0, 'a member gets no member controls');
    assert.equal(await panelC.getByRole('button', { name: 'Unterhaltung verlassen' }).count(), 1);

    // --- a role change shows up live in claudia's panel -----------------------
    await rowA(CLAUDIA.name).getByRole('combobox').selectOption('moderator');
    await panelA.getByText(`${CLAUDIA.name} is now: Moderator.`).waitFor();
    await rowC(CLAUDIA.name).locator('.tag').filter({ hasText: 'Moderator' }).waitFor();

    // --- refusals from the server are explained ---------------------------------
    await rowA(ANNA.name).getByRole('combobox').selectOption('member');
    await panelA.getByRole('alert').filter({ hasText: 'A conversation needs at least one owner.' }).waitFor();
    assert.equal(await rowA(ANNA.name).getByRole('combobox').inputValue(), 'owner', 'the role went back');
    await panelA.getByRole('button', { name: 'Leave conversation' }).click();
    await a.locator('dialog[open]').getByRole('button', { name: 'Leave conversation' }).click();
    await panelA.getByRole('alert').filter({ hasText: 'The last owner cannot leave.' }).waitFor();
    assert.match(a.url(), /\/c\/\d+$/, 'anna is still in the conversation');

    // --- remove claudia: her view and her list update live ---------------------
    await panelA.getByRole('button', { name: `Remove ${CLAUDIA.name}` }).click();
    const confirm = a.locator('dialog[open]');
    await confirm.getByText(`${CLAUDIA.name} will be removed from “${newName}”`).waitFor();
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await panelA.getByText(`${CLAUDIA.name} was removed.`).waitFor();
    await rowA(CLAUDIA.name).waitFor({ state: 'detached' });
    await c.locator('.pane-conv').getByText('Diese Unterhaltung gibt es nicht oder du bist kein Mitglied (mehr).').waitFor();
    await listItem(c, newName).waitFor({ state: 'detached' });
    assert.equal(await c.locator('aside.details-panel').count(), 0, "claudia's panel closed");

    // --- bernd leaves (with a confirmation); the group leaves his list ---------
    await b.getByRole('button', { name: 'Details and members' }).click();
    const panelB = b.locator('aside.details-panel');
    assert.equal(await panelB.locator('form').count(), 0, 'bernd (member) cannot edit');
    await panelB.getByRole('button', { name: 'Leave conversation' }).click();
    const leave = b.locator('dialog[open]');
    await leave.getByText(`You will leave “${newName}”`).waitFor();
    await leave.getByRole('button', { name: 'Leave conversation' }).click();
    await b.waitForURL(`${shared.base}/`);
    await listItem(b, newName).waitFor({ state: 'detached' });
    await rowA(BERND.name).waitFor({ state: 'detached' });
    await a.locator('.pane-conv .conv-sub').filter({ hasText: '1 member' }).waitFor();

    // --- claudia puts bernd into two groups; he leaves both in one step -----
    const cToken = await c.evaluate(() => localStorage.getItem('kontor.token'));
    const spam = [`Umfrage ${RUN_ID}`, `Noch eine Umfrage ${RUN_ID}`];
    for (const name of spam) {
      await nodeApi(cToken, 'POST', '/conversations', { kind: 'group', name, user_ids: [berndId] });
      await listItem(b, name).waitFor();
    }
    await openConversation(b, spam[0]);
    await b.getByRole('button', { name: 'Details and members' }).click();
    const leaveAll = b.locator('aside.details-panel').getByRole('button', { name: `Leave all groups and channels by ${CLAUDIA.name}` });
    await leaveAll.click();
    const leaveAllDialog = b.locator('dialog[open]');
    await leaveAllDialog.getByText(`You will leave every group and channel ${CLAUDIA.name} created.`).waitFor();
    await leaveAllDialog.getByRole('button', { name: `Leave all groups and channels by ${CLAUDIA.name}` }).click();
    await b.waitForURL(`${shared.base}/`);
    for (const name of spam) await listItem(b, name).waitFor({ state: 'detached' });

    // Escape closes anna's panel and focus returns to the details button.
    await panelA.locator('h2').focus();
    await a.keyboard.press('Escape');
    await panelA.waitFor({ state: 'detached' });
    assert.equal(await a.evaluate(() => document.activeElement && document.activeElement.getAttribute('aria-label')), 'Details and members');
    assert.equal(await detailsBtn.getAttribute('aria-expanded'), 'false');
  }, { timeout: 120_000 });
}
