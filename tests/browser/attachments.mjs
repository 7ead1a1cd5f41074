// Test 13 for run.mjs: attachments in the web client (web/js/views/
// uploads.js, attachments.js, viewer.js) against POST …/attachments and
// GET /attachments/{id}. anna picks a PNG and two text files, removes
// one and sends the rest with text; bernd sees the message live with the
// thumbnail drawn from a blob: URL and the file card, opens the image in
// the viewer (Escape closes it, focus comes back), downloads the full
// image and the text file (same bytes as uploaded) and opens the text in a
// new tab. An SVG with scripts is only ever a download card and no script
// runs; an MP3 is fetched only when its play button is pressed, and so is
// a WebM video recorded in the page (MediaRecorder), which then plays in a
// <video controls> from an object URL (its metadata loads: 64×48). bernd
// drops a file and pastes an image and sends them without text;
// an empty file shows a readable error and blocks sending until removed.
// Object URLs are revoked when a message is deleted and when the
// conversation closes. Every request stays on the origin, no CSP
// violation occurs; screenshots at 1280×800 and 390×844.

import assert from 'node:assert/strict';
import { readFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

// --- a small valid PNG, built by hand (the server decodes images) ------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** An RGB PNG of w×h pixels with a colour gradient, no metadata chunks. */
export function makePng(w, h) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const row = w * 3 + 1;
  const raw = Buffer.alloc(row * h);
  for (let y = 0; y < h; y += 1) {
    for (let x = 0; x < w; x += 1) {
      const o = y * row + 1 + x * 3;
      raw[o] = Math.floor((x * 255) / w);
      raw[o + 1] = Math.floor((y * 255) / h);
      raw[o + 2] = 170;
    }
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A one-page PDF (the server sniffs "%PDF-"). */
export const PDF_BYTES = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/MediaBox[0 0 200 200]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

/** 1.5 s of MPEG-1 Layer III silence: 60 frames (128 kbit/s, 44.1 kHz) of zeros. */
export const MP3_BYTES = Buffer.concat(Array.from({ length: 60 }, () => Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(413)])));

/** Upload a file from Node: POST /conversations/{id}/attachments?name= → Attachment. */
export async function nodeUpload(base, token, conversationId, name, bytes) {
  const res = await fetch(`${base}/api/v1/conversations/${conversationId}/attachments?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}` },
    body: bytes,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`upload ${name} → ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Runs in every page before its scripts: records CSP violations. */
function cspRecorder() {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
}

export function registerAttachmentsTest(test, x) {
  const { shared, newContext, newPage, loginThroughForm, listItem, openConversation, nodeApi, checkOrigins, ANNA, BERND, RANDOM_CHANNEL, RUN_ID, SCREENSHOT_DIR } = x;

  test('13 attachments: upload, live thumbnail, viewer, downloads, found by a German word form, SVG only as download, audio, video, drop, paste, errors, revoked URLs', async () => {
    const login = (user) => nodeApi(null, 'POST', '/auth/login', { login: user.username, password: 'kontor-demo', device_name: 'Test 13' });
    const annaS = await login(ANNA);
    const bernd = await login(BERND);
    const groupName = `Anhänge ${RUN_ID}`;
    const group = await nodeApi(annaS.token, 'POST', '/conversations', { kind: 'group', name: groupName, user_ids: [bernd.user.id] });

    const requests = [];
    const pages = [];
    const start = async (user, options = {}) => {
      const context = await newContext(options);
      await context.addInitScript(cspRecorder);
      context.on('request', (req) => requests.push({ url: req.url(), test: shared.currentTest, kind: req.resourceType(), method: req.method(), who: user.username, worker: Boolean(req.serviceWorker()) }));
      const page = await newPage(context);
      page.on('websocket', (ws) => requests.push({ url: ws.url(), test: shared.currentTest, kind: 'websocket' }));
      pages.push(page);
      await page.goto(`${shared.base}/`);
      await loginThroughForm(page, user);
      return page;
    };
    const a = await start(ANNA);
    const b = await start(BERND);
    await openConversation(a, groupName);
    await openConversation(b, groupName);
    const messageWith = (page, text) => page.locator('.pane-conv ol.messages > li.msg').filter({ hasText: text });
    const composerOf = (page) => page.locator('.pane-conv form.composer');

    // --- anna picks three files, removes one, sends two with text ----------------
    const png = makePng(120, 80);
    const note = Buffer.from(`Zählerstand 4711, Halle 3 ${RUN_ID}\n`, 'utf8');
    const aComposer = composerOf(a);
    assert.equal(await aComposer.getByRole('button', { name: 'Attach files' }).count(), 1, 'the paperclip button');
    await aComposer.locator('input[type="file"]').setInputFiles([
      { name: 'Lageplan.png', mimeType: 'image/png', buffer: png },
      { name: 'Notiz.txt', mimeType: 'text/plain', buffer: note },
      { name: 'Entwurf.txt', mimeType: 'text/plain', buffer: Buffer.from('verworfen\n') },
    ]);
    const uploads = aComposer.locator('ul.uploads > li.upload');
    await aComposer.locator('ul.uploads > li.upload.upload-done').nth(2).waitFor();
    assert.equal(await uploads.count(), 3);
    assert.equal(await aComposer.getByRole('list', { name: 'Files for the next message' }).count(), 1);
    const noteRow = uploads.filter({ hasText: 'Notiz.txt' });
    assert.equal(await noteRow.locator('.upload-meta').textContent(), `${note.length} bytes · uploaded`);
    assert.equal(await noteRow.locator('progress').getAttribute('aria-label'), 'Uploading Notiz.txt');
    assert.equal(await noteRow.locator('progress').isHidden(), true, 'no progress bar once uploaded');
    assert.equal(await uploads.filter({ hasText: 'Lageplan.png' }).locator('img.upload-preview').count(), 1, 'a local preview of the image');
    await aComposer.getByRole('button', { name: 'Remove Entwurf.txt' }).click();
    await uploads.filter({ hasText: 'Entwurf.txt' }).waitFor({ state: 'detached' });
    assert.equal(await uploads.count(), 2);
    const text = `Lageplan der Häuser und Notiz ${RUN_ID}`;
    await aComposer.locator('textarea').fill(text);
    await aComposer.locator('textarea').press('Enter');
    await messageWith(a, text).locator('.att-thumb').waitFor();
    await aComposer.locator('ul.uploads').waitFor({ state: 'hidden' });
    assert.equal(await uploads.count(), 0, 'the sent files left the composer');

    // --- bernd sees it live: thumbnail from a blob: URL, file card ---------------------
    const bMsg = messageWith(b, text);
    const thumb = bMsg.getByRole('button', { name: 'Open image Lageplan.png' });
    const thumbImg = thumb.locator('img[alt="Lageplan.png"]');
    await bMsg.locator('img[alt="Lageplan.png"][src^="blob:"]').waitFor();
    await thumbImg.evaluate((img) => (img.complete ? null : new Promise((resolve) => img.addEventListener('load', resolve, { once: true }))));
    assert.ok(await thumbImg.evaluate((img) => img.naturalWidth > 0 && img.naturalHeight > 0), 'the thumbnail is drawn');
    assert.match(await thumbImg.getAttribute('src'), new RegExp(`^blob:${shared.base}/`), 'a same-origin object URL');
    assert.equal(await bMsg.locator('.atts li').count(), 2, 'two attachments, Entwurf.txt is not among them');
    assert.equal(await bMsg.locator('.atts').filter({ hasText: 'Entwurf.txt' }).count(), 0);
    const card = bMsg.locator('.att-card').filter({ hasText: 'Notiz.txt' });
    assert.equal(await card.locator('.att-meta').textContent(), `TXT · ${note.length} bytes`);

    // The viewer: opened by click, closed with Escape, focus back on the thumbnail.
    await thumb.click();
    const viewer = b.locator('dialog[open]');
    await viewer.getByRole('heading', { name: 'Lageplan.png' }).waitFor();
    const full = viewer.locator('img.viewer-img');
    await full.waitFor();
    await b.waitForFunction(() => document.querySelector('dialog[open] img.viewer-img')?.naturalWidth > 0);
    assert.equal(await full.evaluate((img) => img.naturalWidth), 120, 'the viewer shows the full image');
    assert.match(await full.getAttribute('src'), /^blob:/);
    assert.equal(await full.getAttribute('alt'), 'Lageplan.png');
    assert.match(await viewer.locator('.viewer-facts').textContent(), /PNG · 120 × 80 · /);
    await b.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    assert.equal(await b.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Open image Lageplan.png', 'focus is back on the thumbnail');
    // … and by keyboard; its download button saves the full image.
    await b.keyboard.press('Enter');
    await viewer.getByRole('heading', { name: 'Lageplan.png' }).waitFor();
    const [imageDownload] = await Promise.all([b.waitForEvent('download'), viewer.getByRole('button', { name: 'Download Lageplan.png' }).click()]);
    assert.equal(imageDownload.suggestedFilename(), 'Lageplan.png');
    assert.ok((await readFile(await imageDownload.path())).equals(png), 'the downloaded image is the uploaded one (it has no metadata to strip)');
    await viewer.getByRole('button', { name: 'Close', exact: true }).click();
    await viewer.waitFor({ state: 'detached' });

    // The text file: download, and open in a new tab.
    const [download] = await Promise.all([b.waitForEvent('download'), card.getByRole('button', { name: 'Download Notiz.txt' }).click()]);
    assert.equal(download.suggestedFilename(), 'Notiz.txt');
    assert.ok((await readFile(await download.path())).equals(note), 'the downloaded text is what anna uploaded');
    const [tab] = await Promise.all([b.context().waitForEvent('page'), card.getByRole('button', { name: 'Open Notiz.txt in a new tab' }).click()]);
    await tab.waitForLoadState();
    assert.match(tab.url(), new RegExp(`^blob:${shared.base}/`));
    assert.equal((await tab.evaluate(() => document.body.innerText)).trim(), note.toString('utf8').trim());
    await tab.close();

    // --- the photo's message is found by another form of a German word in it ----------
    // "Haus" finds "Häuser"; the hit says it carries files and opens the message.
    await b.keyboard.press('Control+k');
    await b.locator('.search-view').waitFor();
    await b.locator('#search-input').fill(`Haus ${RUN_ID}`);
    const photoHit = b.locator('.search-results a.search-hit').filter({ hasText: RUN_ID });
    await photoHit.first().waitFor();
    assert.equal(await photoHit.count(), 1, 'exactly the photo message');
    assert.match(await photoHit.textContent(), /Häuser/, 'the snippet shows the word as written');
    assert.match(await photoHit.textContent(), /2 files?/i, 'the hit says it has files');
    await b.keyboard.press('Escape');
    await b.locator('.search-view').waitFor({ state: 'hidden' });

    // --- an SVG with scripts is a download card, nothing else; audio plays on demand ----------
    // Only requests made after this upload count: the check is about what
    // showing the message fetches, not about anything earlier in the test.
    const beforeAudio = requests.length;
    const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" onload="window.__pwn()"><script>window.__pwn()</script><foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="window.__pwn()"/></foreignObject></svg>`);
    await aComposer.locator('input[type="file"]').setInputFiles([
      { name: 'Logo.svg', mimeType: 'image/svg+xml', buffer: svg },
      { name: 'Ton.mp3', mimeType: 'audio/mpeg', buffer: MP3_BYTES },
    ]);
    await aComposer.locator('ul.uploads > li.upload.upload-done').nth(1).waitFor();
    const svgText = `Das Logo als SVG ${RUN_ID}`;
    await aComposer.locator('textarea').fill(svgText);
    await aComposer.locator('textarea').press('Enter');
    const bSvg = messageWith(b, svgText);
    const svgCard = bSvg.locator('.att-card').filter({ hasText: 'Logo.svg' });
    await svgCard.waitFor();
    assert.equal(await svgCard.locator('.att-meta').textContent(), `SVG · ${svg.length} bytes`);
    assert.equal(await bSvg.locator('img, object, iframe, embed, video, audio, svg:not(.icon)').count(), 0, 'the SVG is never rendered');
    assert.equal(await bSvg.getByRole('button', { name: /^Open/ }).count(), 0, 'and never opened');
    const [svgDownload] = await Promise.all([b.waitForEvent('download'), svgCard.getByRole('button', { name: 'Download Logo.svg' }).click()]);
    assert.equal(svgDownload.suggestedFilename(), 'Logo.svg');
    assert.ok((await readFile(await svgDownload.path())).equals(svg), 'the SVG downloads unchanged');

    const history = await nodeApi(bernd.token, 'GET', `/conversations/${group.id}/messages?limit=10`);
    const mp3 = history.messages.flatMap((m) => m.attachments).find((f) => f.name === 'Ton.mp3');
    assert.equal(mp3.content_type, 'audio/mpeg');
    const mp3Requests = () => requests.slice(beforeAudio).filter((r) => new URL(r.url).pathname === `/api/v1/attachments/${mp3.id}`);
    const mp3Fetches = () => mp3Requests().length;
    assert.equal(await bSvg.locator('audio').count(), 0, 'no player before "Play"');
    assert.equal(mp3Fetches(), 0, `the audio file is not fetched before "Play": ${JSON.stringify(mp3Requests())}`);
    await bSvg.getByRole('button', { name: 'Play audio Ton.mp3' }).click();
    const audio = bSvg.locator('audio[controls][src^="blob:"]');
    await audio.waitFor();
    const played = await audio.evaluate((el) => new Promise((resolve) => {
      const report = () => resolve({ duration: el.duration, label: el.getAttribute('aria-label'), focused: document.activeElement === el });
      if (el.readyState >= 1) report();
      else el.addEventListener('loadedmetadata', report, { once: true });
    }));
    assert.ok(played.duration > 1, `the audio loaded (duration ${played.duration})`);
    assert.deepEqual([played.label, played.focused], ['Ton.mp3', true]);
    assert.equal(mp3Fetches(), 1, 'fetched once, on "Play"');
    await audio.evaluate((el) => el.pause());

    // --- a video plays inline: a WebM recorded here, from a canvas ---------------------------------
    // MediaRecorder in headless Chromium makes a real VP8 WebM (EBML magic
    // 1A 45 DF A3, DocType "webm"), which the server sniffs as video/webm.
    const webm = Buffer.from(await a.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 48;
      const g = canvas.getContext('2d');
      const stream = canvas.captureStream(30);
      const recorder = new MediaRecorder(stream, { mimeType: 'video/webm;codecs=vp8' });
      const chunks = [];
      recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
      const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
      recorder.start();
      // 30 animation frames, each a different colour.
      for (let i = 0; i < 30; i += 1) {
        g.fillStyle = `hsl(${i * 12} 70% 45%)`;
        g.fillRect(0, 0, 64, 48);
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
      recorder.stop();
      await stopped;
      for (const track of stream.getTracks()) track.stop();
      return [...new Uint8Array(await new Blob(chunks).arrayBuffer())];
    }));
    assert.deepEqual([...webm.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3], 'EBML magic');
    assert.ok(webm.subarray(0, 256).includes(Buffer.from([0x42, 0x82, 0x84, ...Buffer.from('webm')])), 'DocType webm');
    const beforeVideo = requests.length;
    await aComposer.locator('input[type="file"]').setInputFiles([{ name: 'Rundgang.webm', mimeType: 'video/webm', buffer: webm }]);
    await aComposer.locator('ul.uploads > li.upload.upload-done').waitFor();
    const videoText = `Rundgang durch Halle 3 ${RUN_ID}`;
    await aComposer.locator('textarea').fill(videoText);
    await aComposer.locator('textarea').press('Enter');
    const bVideo = messageWith(b, videoText);
    const videoCard = bVideo.locator('.att-card').filter({ hasText: 'Rundgang.webm' });
    await videoCard.waitFor();
    assert.match(await videoCard.locator('.att-meta').textContent(), /^WEBM · \d+(\.\d)? (bytes|KB)$/);
    const videoHistory = await nodeApi(bernd.token, 'GET', `/conversations/${group.id}/messages?limit=5`);
    const videoAtt = videoHistory.messages.flatMap((msg) => msg.attachments).find((f) => f.name === 'Rundgang.webm');
    assert.equal(videoAtt.content_type, 'video/webm', 'sniffed as WebM');
    const videoFetches = () => requests.slice(beforeVideo).filter((r) => new URL(r.url).pathname === `/api/v1/attachments/${videoAtt.id}`).length;
    assert.equal(await bVideo.locator('video').count(), 0, 'no player before "Play"');
    assert.equal(videoFetches(), 0, 'the video is not fetched before "Play"');
    await bVideo.getByRole('button', { name: 'Play video Rundgang.webm' }).click();
    const video = bVideo.locator('video[controls][src^="blob:"]');
    await video.waitFor();
    const shown = await video.evaluate((el) => new Promise((resolve) => {
      const report = () => resolve({
        readyState: el.readyState,
        width: el.videoWidth,
        height: el.videoHeight,
        error: el.error && el.error.code,
        label: el.getAttribute('aria-label'),
        focused: document.activeElement === el,
      });
      if (el.readyState >= 1) report();
      else {
        el.addEventListener('loadedmetadata', report, { once: true });
        el.addEventListener('error', report, { once: true });
      }
    }));
    assert.deepEqual(shown, { readyState: shown.readyState, width: 64, height: 48, error: null, label: 'Rundgang.webm', focused: true }, 'the video loaded from its object URL');
    assert.ok(shown.readyState >= 1, `readyState ${shown.readyState}`);
    console.log(`  info: WebM of ${webm.length} bytes recorded in the page; the player reached readyState ${shown.readyState} (${shown.width}×${shown.height})`);
    assert.match(await video.getAttribute('src'), new RegExp(`^blob:${shared.base}/`), 'a same-origin object URL');
    assert.equal(videoFetches(), 1, 'fetched once, on "Play"');
    assert.equal(await b.locator('.pane-conv .view-error').textContent(), '', 'no error shown');
    await video.evaluate((el) => el.pause());

    // --- bernd drops a file and pastes an image, sends without text -----------------------------
    const bComposer = composerOf(b);
    const schedule = `Frühschicht 6–14 Uhr ${RUN_ID}\n`;
    await b.evaluate((content) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], 'Zeitplan.txt', { type: 'text/plain' }));
      const pane = document.querySelector('.pane-conv');
      const at = pane.querySelector('.scroller');
      at.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      window.__dropShown = pane.classList.contains('drop-active') ? getComputedStyle(pane, '::after').content : null;
      at.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      window.__dropGone = !pane.classList.contains('drop-active');
    }, schedule);
    assert.deepEqual(await b.evaluate(() => [window.__dropShown, window.__dropGone]), ['"Drop files here to attach them"', true], 'the drop hint while dragging');
    const pasted = makePng(48, 32);
    await bComposer.locator('textarea').evaluate((area, bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'Bildschirmfoto.png', { type: 'image/png' }));
      area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, [...pasted]);
    const bUploads = bComposer.locator('ul.uploads > li.upload');
    await bUploads.filter({ hasText: 'Zeitplan.txt' }).and(b.locator('.upload-done')).waitFor();
    await bUploads.filter({ hasText: 'Bildschirmfoto.png' }).and(b.locator('.upload-done')).waitFor();

    // An empty file fails with a readable error and blocks sending until removed.
    await bComposer.locator('input[type="file"]').setInputFiles([{ name: 'leer.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) }]);
    const empty = bUploads.filter({ hasText: 'leer.txt' });
    await empty.locator('.upload-meta').filter({ hasText: 'The file is empty or cannot be read.' }).waitFor();
    assert.ok(await empty.evaluate((li) => li.classList.contains('upload-error')));
    await bComposer.locator('textarea').press('Enter');
    await bComposer.getByRole('alert').filter({ hasText: 'A file could not be uploaded. Remove it to send the message.' }).waitFor();
    await bComposer.getByRole('button', { name: 'Remove leer.txt' }).click();
    await empty.waitFor({ state: 'detached' });
    assert.equal(await bUploads.count(), 2);
    await bComposer.locator('textarea').press('Enter');
    await bComposer.locator('ul.uploads').waitFor({ state: 'hidden' });
    const aNoText = a.locator('.pane-conv ol.messages > li.msg').filter({ has: a.locator('.att-name', { hasText: 'Zeitplan.txt' }) });
    await aNoText.locator('img[alt="Bildschirmfoto.png"][src^="blob:"]').waitFor();
    assert.equal(await aNoText.locator('.msg-body').count(), 0, 'no empty text body');
    await listItem(a, groupName).locator('.conv-preview').filter({ hasText: 'Bernd: 2 attachments' }).waitFor();
    const [scheduleDownload] = await Promise.all([a.waitForEvent('download'), aNoText.getByRole('button', { name: 'Download Zeitplan.txt' }).click()]);
    assert.equal((await readFile(await scheduleDownload.path())).toString('utf8'), schedule, 'the dropped file arrived intact');

    // --- screenshots of a message with an image ---------------------------------------------------
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    for (const { width, height, options } of [
      { width: 1280, height: 800, options: {} },
      { width: 390, height: 844, options: { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
    ]) {
      const page = await start(ANNA, { viewport: { width, height }, locale: 'de-DE', ...options });
      await listItem(page, groupName).click();
      const shown = messageWith(page, text);
      await shown.locator('.att-thumb').scrollIntoViewIfNeeded();
      await page.waitForFunction((t) => {
        const li = [...document.querySelectorAll('.pane-conv li.msg')].find((el) => el.textContent.includes(t));
        const img = li && li.querySelector('.att-thumb img');
        return !!img && img.complete && img.naturalWidth > 0;
      }, text);
      const file = path.join(SCREENSHOT_DIR, `attachments-${width}x${height}.png`);
      await page.screenshot({ path: file, animations: 'disabled' });
      assert.ok(existsSync(file), file);
      await page.context().close();
      pages.splice(pages.indexOf(page), 1);
    }

    // --- object URLs are revoked: message deleted, conversation closed ---------------------------------
    // (As an image: the CSP keeps blob: out of connect-src, so fetch() may not read it.)
    const canRead = (page, url) => page.evaluate((u) => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(true);
      img.onerror = () => resolve(false);
      img.src = u;
    }), url);
    const thumbUrl = await thumbImg.getAttribute('src');
    assert.equal(await canRead(b, thumbUrl), true, 'the thumbnail URL is live while shown');
    const firstId = Number(await bMsg.getAttribute('data-id'));
    await nodeApi(annaS.token, 'DELETE', `/messages/${firstId}`);
    const tomb = b.locator(`.pane-conv li.msg.msg-deleted[data-id="${firstId}"]`);
    await tomb.locator('.tombstone').waitFor();
    assert.equal(await tomb.locator('.atts, img').count(), 0, 'a deleted message shows no attachments');
    assert.equal(await canRead(b, thumbUrl), false, 'its object URL was revoked');
    const pastedUrl = await b.locator('.pane-conv img[alt="Bildschirmfoto.png"][src^="blob:"]').getAttribute('src');
    assert.equal(await canRead(b, pastedUrl), true);
    await listItem(b, RANDOM_CHANNEL).click();
    await b.locator('.pane-conv h2.pane-title').filter({ hasText: RANDOM_CHANNEL }).waitFor();
    assert.equal(await canRead(b, pastedUrl), false, 'closing the conversation revoked its object URLs');

    // --- nothing ran, nothing left the origin, the CSP allowed it all -----------------------------------
    for (const page of pages) {
      assert.equal(await page.evaluate(() => window.__xss), 0, 'no payload ran');
      assert.deepEqual(await page.evaluate(() => window.__csp), [], 'no CSP violations');
    }
    const files = requests.filter((r) => /\/api\/v1\/attachments\/\d+/.test(r.url));
    assert.ok(files.length >= 5, `attachment downloads were recorded (${files.length})`);
    assert.ok(requests.some((r) => /\/api\/v1\/conversations\/\d+\/attachments\?name=/.test(r.url)), 'uploads were recorded');
    const { foreign } = checkOrigins(requests);
    assert.deepEqual(foreign.map((r) => r.url), [], 'requests to other origins');
    for (const page of pages) await page.context().close();
  }, { timeout: 150_000 });
}
