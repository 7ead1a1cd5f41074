// Test 8 for run.mjs: a group with 10,000 messages. The timeline keeps a
// bounded window (web/js/views/timeline.js): it must open, jump to the
// first unread message, scroll back to the very first message with a few
// hundred nodes at most, keep the view steady while older pages are
// prepended, apply live edits/reactions/deletes/replies to what it shows,
// and come back to live messages at the bottom. Long tasks are printed,
// not asserted.

import assert from 'node:assert/strict';

const COUNT = 10_000;
/** Requests in flight while filling the group. */
const CONCURRENCY = 24;
/** Rendered message elements allowed at any time. */
const MAX_RENDERED = 500;

/** Runs in the page before its scripts: records long tasks (if supported). */
function longTaskRecorder() {
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push(e.duration);
    }).observe({ type: 'longtask', buffered: true });
    window.__longTasksSupported = true;
  } catch {
    window.__longTasksSupported = false;
  }
}

function longTaskReport(page, label) {
  return page.evaluate((what) => {
    if (!window.__longTasksSupported) return `  info: ${what}: PerformanceObserver('longtask') not supported`;
    const d = window.__longTasks;
    const total = d.reduce((a, b) => a + b, 0);
    const max = d.length ? Math.max(...d) : 0;
    window.__longTasks = [];
    return `  info: ${what}: ${d.length} long tasks, ${Math.round(total)} ms in total, longest ${Math.round(max)} ms`;
  }, label);
}

/** How the main timeline looks right now. */
function timelineState(page) {
  return page.evaluate(() => {
    const sc = document.querySelector('.pane-conv .scroller');
    const msgs = sc.querySelectorAll('ol.messages > li.msg');
    const days = new Set([...msgs].map((li) => li.querySelector('time').getAttribute('datetime').slice(0, 10)));
    return {
      rendered: msgs.length,
      nodes: sc.getElementsByTagName('*').length,
      firstId: msgs.length ? Number(msgs[0].dataset.id) : 0,
      lastId: msgs.length ? Number(msgs[msgs.length - 1].dataset.id) : 0,
      daySeps: sc.querySelectorAll('ol.messages > li.day-sep').length,
      // Local days can differ from UTC days; either way at most this many.
      maxDays: days.size + 1,
      firstIsSep: !!sc.querySelector('ol.messages > li:first-child.day-sep, ol.messages > li:first-child.new-sep'),
      olderHidden: sc.querySelector('.older-row').hidden,
    };
  });
}

export function registerLongTimelineTest(test, x) {
  const { shared, newContext, newPage, loginThroughForm, listItem, timelineMessage, sendFromComposer, nodeApi, ANNA, BERND, RUN_ID } = x;

  test('8 very long conversation: 10,000 messages in a bounded window', async () => {
    const login = (user) => nodeApi(null, 'POST', '/auth/login', { login: user.username, password: 'kontor-demo', device_name: 'Test 8' });
    const annaLogin = await login(ANNA);
    const berndLogin = await login(BERND);
    const annaToken = annaLogin.token;
    const berndToken = berndLogin.token;
    const name = `Langer Verlauf ${RUN_ID}`;
    const conv = await nodeApi(annaToken, 'POST', '/conversations', { kind: 'group', name, user_ids: [berndLogin.user.id] });
    const post = (token, text, extra = {}) => nodeApi(token, 'POST', `/conversations/${conv.id}/messages`, { txn_id: `long-${RUN_ID}-${text.length}-${Math.random()}`, text, ...extra });

    // --- fill the group: the first message alone, then the rest in parallel
    const firstText = `Allererste Nachricht im langen Verlauf ${RUN_ID}`;
    const t0 = Date.now();
    const first = await post(annaToken, firstText);
    const second = await post(annaToken, `Zweite Nachricht ${RUN_ID}`);
    let next = 2;
    async function worker() {
      while (next < COUNT) {
        const i = next;
        next += 1;
        const text = i % 97 === 0 ? `Nachricht ${i}\nmit **zwei** Zeilen ${RUN_ID}` : `Nachricht ${i} ${RUN_ID}`;
        await nodeApi(annaToken, 'POST', `/conversations/${conv.id}/messages`, { txn_id: `long-${RUN_ID}-${i}`, text });
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    console.log(`  info: posted ${COUNT} messages in ${((Date.now() - t0) / 1000).toFixed(1)} s (${CONCURRENCY} in flight)`);

    // --- bernd (phone size) has 10,000 unread: jump to the first one --------
    const berndCtx = await newContext({ viewport: { width: 390, height: 740 } });
    await berndCtx.addInitScript(longTaskRecorder);
    const bernd = await newPage(berndCtx);
    await bernd.goto(`${shared.base}/`);
    await loginThroughForm(bernd, BERND);
    await listItem(bernd, name).click();
    const jump = bernd.locator('.pane-conv .unread-bar button');
    await jump.waitFor();
    await jump.click();
    const firstInBernd = bernd.locator(`.pane-conv li.msg[data-id="${first.id}"]`);
    await firstInBernd.waitFor();
    await bernd.waitForFunction((id) => document.activeElement && document.activeElement.dataset.id === String(id), first.id);
    assert.ok(await firstInBernd.evaluate((el) => el.previousElementSibling && el.previousElementSibling.classList.contains('new-sep')), 'the "New" line precedes the first message');
    const bState = await timelineState(bernd);
    assert.ok(bState.rendered < MAX_RENDERED, `bernd renders ${bState.rendered} messages after the jump`);
    assert.ok(await bernd.locator('.pane-conv .latest-btn').isVisible(), '"Jump to latest" is offered far back in history');
    console.log(await longTaskReport(bernd, 'bernd, open + jump to first unread (390×740)'));
    await berndCtx.close();

    // --- anna opens it and scrolls all the way back ------------------------------
    const annaCtx = await newContext();
    await annaCtx.addInitScript(longTaskRecorder);
    const anna = await newPage(annaCtx);
    await anna.goto(`${shared.base}/`);
    await loginThroughForm(anna, ANNA);
    const opened = Date.now();
    await listItem(anna, name).click();
    await anna.locator('.pane-conv ol.messages > li.msg').last().waitFor();
    await anna.locator('.pane-conv form.composer textarea:enabled').waitFor();
    console.log(`  info: open with ${COUNT} messages: newest page shown after ${Date.now() - opened} ms`);
    console.log(await longTaskReport(anna, 'anna, open (1280×800)'));

    const scrollStarted = Date.now();
    let rounds = 0;
    let maxRendered = 0;
    let maxNodes = 0;
    let maxShift = 0;
    let prevFirst = Infinity;
    for (;;) {
      const before = await anna.evaluate(() => {
        const sc = document.querySelector('.pane-conv .scroller');
        sc.scrollTop = 0;
        const li = sc.querySelector('ol.messages > li.msg');
        return { id: Number(li.dataset.id), offset: li.getBoundingClientRect().top - sc.getBoundingClientRect().top, olderHidden: sc.querySelector('.older-row').hidden };
      });
      if (before.olderHidden) break;
      assert.ok(rounds < 400, `still not at the first message after ${rounds} pages`);
      await anna.waitForFunction((id) => {
        const li = document.querySelector('.pane-conv .scroller ol.messages > li.msg');
        return li && Number(li.dataset.id) < id;
      }, before.id);
      rounds += 1;
      const after = await anna.evaluate((id) => {
        const sc = document.querySelector('.pane-conv .scroller');
        const li = sc.querySelector(`li.msg[data-id="${id}"]`);
        return li ? li.getBoundingClientRect().top - sc.getBoundingClientRect().top : null;
      }, before.id);
      assert.notEqual(after, null, 'the message that was on top is still there after the prepend');
      maxShift = Math.max(maxShift, Math.abs(after - before.offset));
      assert.ok(Math.abs(after - before.offset) <= 2, `the view moved by ${after - before.offset} px when older messages were prepended (round ${rounds})`);
      const st = await timelineState(anna);
      assert.ok(st.firstId < prevFirst, 'the window moved back');
      prevFirst = st.firstId;
      maxRendered = Math.max(maxRendered, st.rendered);
      maxNodes = Math.max(maxNodes, st.nodes);
      assert.ok(st.rendered < MAX_RENDERED, `${st.rendered} messages rendered in round ${rounds}`);
      assert.ok(st.firstIsSep, 'a separator opens the window');
      assert.ok(st.daySeps <= st.maxDays, `${st.daySeps} day separators for ${st.maxDays - 1} days`);
    }
    const pages = Math.ceil(COUNT / 50);
    assert.ok(rounds >= pages - 10, `${rounds} older pages were loaded while scrolling back (about ${pages} expected)`);
    console.log(`  info: scrolled back through ${COUNT} messages in ${rounds} pages, ${((Date.now() - scrollStarted) / 1000).toFixed(1)} s; at most ${maxRendered} messages / ${maxNodes} elements rendered; largest shift ${maxShift.toFixed(1)} px`);
    console.log(await longTaskReport(anna, 'anna, scrolling back (1280×800)'));

    // The very first message is there and visible.
    const firstMsg = anna.locator(`.pane-conv li.msg[data-id="${first.id}"]`);
    await firstMsg.getByText(firstText).waitFor();
    const visible = await firstMsg.evaluate((el) => {
      const box = el.closest('.scroller').getBoundingClientRect();
      const r = el.getBoundingClientRect();
      return r.top >= box.top && r.bottom <= box.bottom;
    });
    assert.ok(visible, 'the first message is in view');
    const st = await timelineState(anna);
    assert.ok(st.rendered < MAX_RENDERED);
    assert.equal(await anna.locator('.pane-conv .scroller ol.messages > li:first-child.day-sep').count(), 1, 'the first day separator is at the top');

    // --- live changes to messages in the window, far back in history --------
    await nodeApi(annaToken, 'PATCH', `/messages/${first.id}`, { text: `${firstText} (korrigiert)`, mentions: [], mentions_channel: false });
    await firstMsg.locator('.msg-edited').waitFor();
    await firstMsg.getByText(`${firstText} (korrigiert)`).waitFor();
    await nodeApi(berndToken, 'PUT', `/messages/${first.id}/reactions/${encodeURIComponent('👍')}`);
    await firstMsg.locator('.reaction').filter({ hasText: '👍' }).waitFor();
    await post(berndToken, `Antwort im Thread ${RUN_ID}`, { thread_root_id: first.id });
    await firstMsg.locator('.thread-link').filter({ hasText: '1 reply' }).waitFor();
    await nodeApi(annaToken, 'DELETE', `/messages/${second.id}`);
    await anna.locator(`.pane-conv li.msg[data-id="${second.id}"] .tombstone`).waitFor();

    // --- scrolling down again loads newer pages (and drops the oldest) -------
    let down = 0;
    for (; down < 8; down += 1) {
      const before = await anna.evaluate(() => {
        const sc = document.querySelector('.pane-conv .scroller');
        sc.scrollTop = sc.scrollHeight;
        const top = sc.getBoundingClientRect().top;
        const li = [...sc.querySelectorAll('ol.messages > li.msg')].find((el) => el.getBoundingClientRect().bottom > top);
        const msgs = sc.querySelectorAll('ol.messages > li.msg');
        return { id: Number(li.dataset.id), offset: li.getBoundingClientRect().top - top, lastId: Number(msgs[msgs.length - 1].dataset.id) };
      });
      await anna.waitForFunction((id) => {
        const msgs = document.querySelectorAll('.pane-conv .scroller ol.messages > li.msg');
        return msgs.length && Number(msgs[msgs.length - 1].dataset.id) > id;
      }, before.lastId);
      const after = await anna.evaluate((id) => {
        const sc = document.querySelector('.pane-conv .scroller');
        const li = sc.querySelector(`li.msg[data-id="${id}"]`);
        return li ? li.getBoundingClientRect().top - sc.getBoundingClientRect().top : null;
      }, before.id);
      assert.notEqual(after, null, 'the message in view is still there after newer messages were appended');
      assert.ok(Math.abs(after - before.offset) <= 2, `the view moved by ${after - before.offset} px when newer messages were appended`);
      const s = await timelineState(anna);
      assert.ok(s.rendered < MAX_RENDERED, `${s.rendered} messages rendered while scrolling down`);
      assert.ok(s.firstIsSep && s.daySeps <= s.maxDays, 'day separators stay right while scrolling down');
    }
    assert.equal(await firstMsg.count(), 0, 'scrolling down dropped the oldest messages');

    // A live message does not go into a window far back in history …
    const live = `Live während du liest ${RUN_ID}`;
    await post(berndToken, live);
    // (the list preview shows it once the event was handled by the view too)
    await listItem(anna, name).locator('.conv-preview').filter({ hasText: live }).waitFor();
    assert.equal(await timelineMessage(anna, live).count(), 0, 'no gap: the live message is not appended to an old window');
    // … "Jump to latest" shows it at the bottom.
    const latest = anna.locator('.pane-conv .latest-btn');
    await latest.waitFor();
    await latest.click();
    await timelineMessage(anna, live).waitFor();
    await latest.waitFor({ state: 'hidden' });
    assert.equal(await firstMsg.count(), 0, 'the first message left the window');
    const st2 = await timelineState(anna);
    assert.ok(st2.rendered < MAX_RENDERED);
    assert.equal(st2.lastId, Number(await timelineMessage(anna, live).getAttribute('data-id')), 'the live message is the newest shown');

    // Live again: own and others' messages arrive at the bottom.
    await sendFromComposer(anna, `Bin wieder unten ${RUN_ID}`);
    const live2 = `Und noch eine live ${RUN_ID}`;
    await post(berndToken, live2);
    await timelineMessage(anna, live2).waitFor();
    const atBottom = await anna.evaluate(() => {
      const sc = document.querySelector('.pane-conv .scroller');
      return sc.scrollHeight - sc.scrollTop - sc.clientHeight <= 48;
    });
    assert.ok(atBottom, 'the timeline follows live messages at the bottom');
    console.log(await longTaskReport(anna, 'anna, live updates and jump to latest'));
    await annaCtx.close();
  }, { timeout: 420_000 });
}
