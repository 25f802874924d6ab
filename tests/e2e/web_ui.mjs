// SPDX-License-Identifier: MIT
// The web inbox in Debian's Chromium (playwright-core), against a running postern.
// Driven by test_web_ui.py; run by hand with
//   node web_ui.mjs '{"base": "http://127.0.0.1:8025", "remote": "http://127.0.0.1:PORT", ...}'
// The one argument is JSON: base (postern's HTTP address), remote (the test's counting HTTP
// server: GET /count answers {path: hits}), seeds (subjects already in the inbox, oldest
// first), live {subject, word, text, attachment: {name, content}}, auth {failing (a seed's
// subject), failingBadges, plainBadges, liveBadges (badge texts), liveDomain}, optional screenshot
// (a PNG path for the README) and artifacts (a folder for a screenshot when a step fails).
//
// Protocol on stdio: once the page shows the seeds, this prints "READY" and waits for a line
// "SENT" on stdin (the test has then sent the live message over SMTP). Each passed step prints
// "ok <step>"; the last line is "DONE". Any failure prints "FAIL <step>: <why>" on stderr and
// exits 1.
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const cfg = JSON.parse(process.argv[2] || '{}');
const base = cfg.base.replace(/\/$/, '');
const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
let browser;
let current = 'start';
const pageProblems = [];

function assert(cond, why) {
  if (!cond) throw new Error(why);
}

async function step(name, fn) {
  current = name;
  await fn();
  console.log(`ok ${name}`);
}

async function waitFor(what, fn, timeout = 10000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function remoteHits(path) {
  const res = await fetch(`${cfg.remote}/count`);
  const counts = await res.json();
  return counts[path] || 0;
}

async function apiStatus(path) {
  return (await fetch(base + path)).status;
}

async function apiJson(path) {
  const res = await fetch(base + path);
  assert(res.ok, `GET ${path}: ${res.status}`);
  return res.json();
}

/** Watches a page for uncaught errors and for CSP violations of the page itself (not the
    message frame, whose blocked script and images are the point of the test). */
function watch(page) {
  page.on('pageerror', (err) => pageProblems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    const url = msg.location().url || '';
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()) && !url.includes('/view/')) {
      pageProblems.push(`CSP: ${msg.text()}`);
    }
  });
}

/** The badge texts ("SPF pass", ...) and their tone classes under `root`. */
const badgesOf = (root) => root.locator('.badge').evaluateAll(
  (els) => els.map((e) => ({ text: e.textContent, tone: ['good', 'bad', 'neutral'].find((t) => e.classList.contains(t)) })));
const toneOf = (text) => (/ pass$/.test(text) ? 'good' : / (fail|softfail|permerror)$/.test(text) ? 'bad' : 'neutral');

async function expectBadges(root, want, what) {
  const got = await badgesOf(root);
  assert(JSON.stringify(got.map((b) => b.text)) === JSON.stringify(want), `${what}: badges ${JSON.stringify(got)}`);
  for (const b of got) assert(b.tone === toneOf(b.text), `${what}: ${b.text} is ${b.tone}`);
}

const rowSubjects = (page) => page.$$eval('#list .row .subj', (els) => els.map((e) => e.textContent));
const rowCount = (page) => page.locator('#list .row').count();
const activeId = (page) => page.evaluate(() => document.activeElement?.dataset?.id || document.activeElement?.id || '');
const noHorizontalScroll = (page) => page.evaluate(
  () => document.documentElement.scrollWidth <= window.innerWidth && document.body.scrollWidth <= window.innerWidth);

/** Waits until the message view shows a loaded message (the view is aria-busy while loading). */
async function messageShown(page, subject) {
  await page.locator('#view-pane:not([aria-busy])').waitFor({ state: 'visible' });
  if (subject !== undefined) assert(await page.textContent('#v-subject') === subject, 'subject');
}

async function inbox(page) {
  const live = cfg.live;
  const seeds = cfg.seeds;

  await step('list shows the stored messages, newest first, unread', async () => {
    await page.goto(`${base}/`);
    await waitFor('the seeded rows', async () => (await rowCount(page)) === seeds.length);
    const subjects = await rowSubjects(page);
    assert(JSON.stringify(subjects) === JSON.stringify([...seeds].reverse()), `order: ${subjects}`);
    assert(await page.locator('#list .row.unread').count() === seeds.length, 'every row unread');
    assert(await page.title() === `(${seeds.length}) postern`, `title ${await page.title()}`);
    await page.evaluate(() => { window.sameDocument = true; });
  });

  await step('list rows show the SPF, DKIM and DMARC results as words, coloured by result', async () => {
    const auth = cfg.auth;
    const failing = page.locator('#list .row', { has: page.locator('.subj', { hasText: auth.failing }) });
    await expectBadges(failing, auth.failingBadges, 'failing row');
    assert((await failing.getAttribute('aria-label')).includes('DMARC fail'), 'row label names the DMARC result');
    const other = page.locator('#list .row', { has: page.locator('.subj', { hasText: seeds[0] }) });
    await expectBadges(other, auth.plainBadges, 'row without records');
    const colours = await page.$$eval('#list .badge', (els) => [...new Set(
      els.filter((e) => e.classList.contains('bad') || e.classList.contains('neutral')).map((e) => getComputedStyle(e).color))]);
    assert(colours.length === 2, `fail and none badges differ in colour: ${colours}`);
  });

  console.log('READY');
  const line = await stdinLines.next();
  assert(!line.done && line.value.trim() === 'SENT', `expected SENT on stdin, got ${line.value}`);

  const liveRow = page.locator('#list .row').first();
  let id;
  await step('a message sent over SMTP appears live, without a reload', async () => {
    await waitFor('the live row', async () => (await rowSubjects(page))[0] === live.subject, 15000);
    assert(await page.evaluate(() => window.sameDocument === true), 'the page was reloaded');
    assert(await rowCount(page) === seeds.length + 1, 'one more row');
    assert(await liveRow.evaluate((r) => r.classList.contains('unread')), 'new row is unread');
    assert(await liveRow.locator('.size .clip').count() === 1, 'attachment mark');
    await waitFor('the title count', async () => (await page.title()) === `(${seeds.length + 1}) postern`);
    id = await liveRow.getAttribute('data-id');
  });

  await step('keyboard: a focused row opens with Enter and loses its unread mark', async () => {
    await liveRow.focus();
    await page.keyboard.press('Enter');
    await messageShown(page, live.subject);
    assert(await page.getAttribute('#tab-html', 'aria-selected') === 'true', 'HTML tab selected');
    await waitFor('the row read', async () => !(await liveRow.evaluate((r) => r.classList.contains('unread'))));
    await waitFor('the title count', async () => (await page.title()) === `(${seeds.length}) postern`);
    assert((await page.textContent('#v-from')).includes(live.from), 'From shown');
  });

  await step('the view shows the badges, the summary sentence and the domains table', async () => {
    const auth = cfg.auth;
    await expectBadges(liveRow, auth.liveBadges, 'live row');
    await expectBadges(page.locator('#v-auth'), auth.liveBadges, 'view');
    const details = page.locator('#v-auth-details');
    assert(await details.isVisible(), 'details shown');
    const summary = await details.locator('.auth-summary').textContent();
    assert(summary.includes(auth.liveDomain), `summary: ${summary}`);
    const rows = await details.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.textContent));
    assert(rows.length === 3, `table rows: ${rows}`);
    assert(rows[0].includes('Envelope sender') && rows[0].includes(auth.liveDomain) && rows[0].includes('pass'), rows[0]);
    assert(rows[1].includes('From') && rows[1].includes(auth.liveDomain) && rows[1].includes('pass'), rows[1]);
    assert(rows[2].includes('DKIM') && rows[2].includes('none'), rows[2]);
  });

  const frame = page.frameLocator('#html-frame');
  await step('the HTML body renders in a sandboxed iframe', async () => {
    const iframe = page.locator('#html-frame');
    const tokens = (await iframe.getAttribute('sandbox') ?? 'missing').split(/\s+/);
    for (const bad of ['missing', 'allow-scripts', 'allow-same-origin', 'allow-forms', 'allow-top-navigation']) {
      assert(!tokens.includes(bad), `iframe sandbox: ${bad}`);
    }
    assert((await iframe.getAttribute('src')) === `/view/${encodeURIComponent(id)}.html`, 'iframe src');
    await frame.locator('#greeting').waitFor();
    assert(await frame.locator('#greeting').textContent() === 'Hello from the HTML body', 'frame text');
  });

  if (cfg.screenshot) {
    await page.evaluate(() => document.activeElement.blur());   // no focus ring in the picture
    await page.screenshot({ path: cfg.screenshot });
    console.log(`screenshot ${cfg.screenshot}`);
  }

  await step('scripts and event handlers in the HTML body do not run', async () => {
    await page.waitForTimeout(1000);
    assert(await frame.locator('#marker').textContent() === 'Scripts stay off.', 'marker changed');
    assert(await remoteHits('/script-ran') === 0, 'the <script> fetched');
    assert(await remoteHits('/onerror-ran') === 0, 'the onerror handler fetched');
    assert(await page.title() === `(${seeds.length}) postern`, `title changed: ${await page.title()}`);
    assert(await page.evaluate(() => window.sameDocument === true), 'the page navigated');
  });

  await step('a link in the message opens a new tab; the page stays', async () => {
    const [popup] = await Promise.all([page.context().waitForEvent('page'), frame.locator('#link').click()]);
    await waitFor('the link request', async () => (await remoteHits('/link-clicked')) >= 1);
    await popup.close();
    assert(await page.evaluate(() => window.sameDocument === true), 'the page navigated');
    assert(await frame.locator('#greeting').count() === 1, 'the frame navigated');
  });

  await step('remote images load only after "Load remote images"', async () => {
    assert(await remoteHits('/remote.png') === 0, 'remote image fetched before the button');
    await page.click('#remote-images');
    await waitFor('the remote image request', async () => (await remoteHits('/remote.png')) >= 1);
    assert((await page.getAttribute('#html-frame', 'src')).endsWith('.html?remote=1'), 'remote src');
    await frame.locator('#greeting').waitFor();
    assert(await frame.locator('#marker').textContent() === 'Scripts stay off.', 'marker changed');
  });

  await step('Text tab shows the text part as text', async () => {
    await page.click('#tab-text');
    await waitFor('text', async () => (await page.textContent('#v-text')).includes(live.text));
    assert(await page.locator('#v-text b').count() === 0, 'markup in the text was parsed');
    assert(await page.locator('#panel-html').isHidden(), 'HTML panel hidden');
    assert(await page.getAttribute('#tab-text', 'aria-selected') === 'true', 'aria-selected');
  });

  await step('tabs are a tablist moved with the arrow keys; Headers lists the fields', async () => {
    assert(await page.locator('[role="tablist"] [role="tab"]').count() === 5, 'five tabs');
    await page.focus('#tab-text');
    await page.keyboard.press('ArrowRight');
    assert(await page.getAttribute('#tab-headers', 'aria-selected') === 'true', 'ArrowRight selects Headers');
    assert(await activeId(page) === 'tab-headers', 'focus follows');
    const subjectRow = page.locator('#v-headers tr', { has: page.locator('th', { hasText: /^Subject$/ }) });
    await subjectRow.first().waitFor();
    assert(await subjectRow.first().locator('td').textContent() === live.subject, 'Subject value');
  });

  await step('Raw tab shows the source and links the .eml download', async () => {
    await page.click('#tab-raw');
    await waitFor('raw', async () => (await page.textContent('#v-raw')).includes(`Subject: ${live.subject}`));
    const href = await page.getAttribute('#raw-download', 'href');
    assert(href === `/api/v1/message/${encodeURIComponent(id)}/raw?dl=1`, `download href ${href}`);
    const res = await page.request.get(base + href);
    assert(res.ok() && /attachment/i.test(res.headers()['content-disposition'] || ''), 'raw?dl=1 is an attachment');
  });

  await step('Attachments tab links each part', async () => {
    await page.click('#tab-attachments');
    const link = page.locator('#v-attachments a', { hasText: cfg.live.attachment.name });
    await link.waitFor();
    const href = await link.getAttribute('href');
    assert(href.startsWith(`/api/v1/message/${encodeURIComponent(id)}/part/`), `part href ${href}`);
    const res = await page.request.get(base + href);
    assert(res.ok() && (await res.text()) === cfg.live.attachment.content, 'part content');
  });

  await step('Escape closes the view and returns focus to the row', async () => {
    await page.focus('#tab-attachments');
    await page.keyboard.press('Escape');
    await page.locator('#view-pane').waitFor({ state: 'hidden' });
    assert(await activeId(page) === id, 'focus on the row');
  });

  await step('ArrowDown/ArrowUp and j/k move between rows; "/" focuses search', async () => {
    const ids = await page.$$eval('#list .row', (els) => els.map((e) => e.dataset.id));
    await page.keyboard.press('ArrowDown');
    assert(await activeId(page) === ids[1], 'ArrowDown');
    await page.keyboard.press('j');
    assert(await activeId(page) === ids[2], 'j');
    await page.keyboard.press('k');
    await page.keyboard.press('ArrowUp');
    assert(await activeId(page) === ids[0], 'k, ArrowUp');
    await page.keyboard.press('/');
    assert(await activeId(page) === 'search', '"/" focuses the search box');
    assert(await page.getAttribute('#search', 'type') === 'search', 'input type=search');
  });

  await step('search finds the message (typing); a non-matching search hides it (Enter)', async () => {
    await page.keyboard.type(live.word);
    await waitFor('one match', async () => {
      const s = await rowSubjects(page);
      return s.length === 1 && s[0] === live.subject;
    });
    await page.fill('#search', 'qqzx nothingmatchesthis');
    await page.press('#search', 'Enter');
    await waitFor('no match', async () => (await rowCount(page)) === 0);
    assert(await page.locator('#empty').isVisible(), 'empty note');
    await page.fill('#search', '');
    await page.press('#search', 'Enter');
    await waitFor('the whole list', async () => (await rowCount(page)) === seeds.length + 1);
  });

  await step('an API error is shown, not thrown', async () => {
    await page.evaluate(() => { location.hash = '#/m/no-such-message'; });
    await page.locator('#error').waitFor({ state: 'visible' });
    assert((await page.textContent('#error-text')).length > 0, 'error text');
    await page.click('#error-close');
    assert(await page.locator('#view-pane').isHidden(), 'no view for a missing message');
  });

  await step('Delete in the view removes the message, from the list and the API', async () => {
    await liveRow.click();
    await messageShown(page, live.subject);
    await page.click('#delete-one');
    await waitFor('the row gone', async () => (await page.locator(`#list .row[data-id="${id}"]`).count()) === 0);
    assert(await page.locator('#view-pane').isHidden(), 'view closed');
    assert(await apiStatus(`/api/v1/message/${encodeURIComponent(id)}`) === 404, 'still in the API');
  });

  await step('the Delete key removes the focused message', async () => {
    const first = page.locator('#list .row').first();
    const gone = await first.getAttribute('data-id');
    await first.focus();
    await page.keyboard.press('Delete');
    await waitFor('the row gone', async () => (await rowCount(page)) === seeds.length - 1);
    assert(await apiStatus(`/api/v1/message/${encodeURIComponent(gone)}`) === 404, 'still in the API');
  });

  await step('Mark all read clears every unread mark and the title count', async () => {
    await page.click('#mark-read');
    await waitFor('no unread row', async () => (await page.locator('#list .row.unread').count()) === 0);
    await waitFor('the title', async () => (await page.title()) === 'postern');
    assert((await apiJson('/api/v1/messages')).unread === 0, 'API unread');
  });
}

async function phone(context) {
  const page = await context.newPage();
  watch(page);
  const left = cfg.seeds.length - 1;
  await step('phone (375x667): one column, list then message with a back button, no horizontal scroll', async () => {
    await page.goto(`${base}/`);
    await waitFor('rows', async () => (await rowCount(page)) === left);
    assert(await noHorizontalScroll(page), 'horizontal scroll on the list');
    await page.locator('#list .row').first().click();
    await messageShown(page);
    assert(await page.locator('#list-pane').isHidden(), 'list hidden while reading');
    assert(await noHorizontalScroll(page), 'horizontal scroll on the message');
    await page.click('#back');
    await page.locator('#list-pane').waitFor({ state: 'visible' });
    assert(await page.locator('#view-pane').isHidden(), 'view hidden after back');
  });
  return page;
}

async function deleteAll(page, other) {
  await step('Delete all asks first, then empties the list (here and, live, in another tab)', async () => {
    let asked = '';
    page.once('dialog', (d) => { asked = d.type(); d.accept(); });
    await page.click('#delete-all');
    await waitFor('an empty list', async () => (await rowCount(page)) === 0);
    assert(asked === 'confirm', `dialog ${asked}`);
    assert(await page.locator('#empty').isVisible(), 'empty note');
    assert((await apiJson('/api/v1/messages')).total === 0, 'API total');
    await waitFor('the other tab empty', async () => (await rowCount(other)) === 0);
  });
}

async function main() {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  desktop.setDefaultTimeout(10000);
  const page = await desktop.newPage();
  watch(page);
  await inbox(page);
  const mobile = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
  mobile.setDefaultTimeout(10000);
  const phonePage = await phone(mobile);
  await deleteAll(page, phonePage);
  current = 'no page errors';
  assert(pageProblems.length === 0, pageProblems.join('\n'));
  console.log('DONE');
}

try {
  await main();
} catch (err) {
  console.error(`FAIL ${current}: ${err.stack || err}`);
  if (cfg.artifacts && browser) {
    for (const [i, ctx] of browser.contexts().entries()) {
      for (const [j, p] of ctx.pages().entries()) {
        await p.screenshot({ path: `${cfg.artifacts}/fail-${i}-${j}.png` }).catch(() => {});
      }
    }
  }
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  process.stdin.destroy();
}
