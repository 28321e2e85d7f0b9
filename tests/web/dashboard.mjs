// The dashboard in a real browser: Playwright (playwright-core) driving
// Debian's chromium, headless, against a tq web on real servers with real
// tasks, which tests/integration/t_web_browser.sh sets up and describes in
// the environment (TQ_WEB_URL, TQ_WEB_TOKEN, TQ_WEB_EXPECT, ...). Prints
// one line per check and "N passed, N failed"; exits 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const env = (k) => {
  if (!process.env[k]) { console.error(`dashboard: ${k} is not set`); process.exit(2); }
  return process.env[k];
};
const URL = env('TQ_WEB_URL');
const TOKEN = env('TQ_WEB_TOKEN');
const SHOTS = env('TQ_WEB_SHOTS');
const QUEUE = env('TQ_WEB_QUEUE');
const EXPECT = JSON.parse(env('TQ_WEB_EXPECT'));	// state -> count
const HOSTILE_ID = env('TQ_WEB_HOSTILE');
const HOSTILE = env('TQ_WEB_HOSTILE_PAYLOAD');
const FAILED_ID = env('TQ_WEB_FAILED');
const PROGRESS_ID = env('TQ_WEB_PROGRESS');
const FLAG = env('TQ_WEB_FLAG');
const SCHEDULED_ID = env('TQ_WEB_SCHEDULED');
const PARENT_ID = env('TQ_WEB_PARENT');
const CHILD_ID = env('TQ_WEB_CHILD');

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log(`ok   ${what}${detail ? ' (' + detail + ')' : ''}`); }
  else { failed++; console.log(`FAIL ${what}${detail ? ': ' + detail : ''}`); }
}

// A PNG's pixels, to tell a page from a blank one: 8-bit RGB or RGBA,
// not interlaced, as Chromium writes them.
function pngPixels(buf) {
  let off = 8, w = 0, h = 0, ch = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off), type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      w = data.readUInt32BE(0); h = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('unexpected PNG depth or interlace');
      ch = { 2: 3, 6: 4 }[data[9]];
      if (!ch) throw new Error('unexpected PNG colour type ' + data[9]);
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat)), stride = w * ch;
  const out = Buffer.alloc(h * stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= ch ? out[y * stride + x - ch] : 0, b = y ? out[(y - 1) * stride + x] : 0;
      const c = x >= ch && y ? out[(y - 1) * stride + x - ch] : 0;
      let v = src[x];
      if (f === 1) v += a; else if (f === 2) v += b; else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c); v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      out[y * stride + x] = v & 255;
    }
  }
  return { w, h, ch, data: out };
}

// Non-blank: many colours, and a good share of pixels unlike the corner's.
function blankness(file) {
  const { w, h, ch, data } = pngPixels(fs.readFileSync(file));
  const colours = new Set();
  let differ = 0;
  const bg = [data[(h - 1) * w * ch], data[(h - 1) * w * ch + 1], data[(h - 1) * w * ch + 2]];
  for (let i = 0; i < w * h; i += 7) {
    const r = data[i * ch], g = data[i * ch + 1], b = data[i * ch + 2];
    colours.add((r << 16) | (g << 8) | b);
    if (Math.abs(r - bg[0]) + Math.abs(g - bg[1]) + Math.abs(b - bg[2]) > 30) differ++;
  }
  return { colours: colours.size, share: differ / Math.ceil(w * h / 7), w, h };
}

async function shot(page, name) {
  const file = path.join(SHOTS, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  const b = blankness(file);
  check(b.colours >= 8 && b.share >= 0.02, `screenshot ${name}.png is not blank`,
    `${b.colours} colours, ${(100 * b.share).toFixed(1)} % unlike the background`);
}

const browser = await chromium.launch({
  executablePath: process.env.TQ_CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const dialogs = [], errors = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });

  // Overview: the counts the database holds.
  await page.goto(URL + '/#/overview');
  const row = page.locator(`#queues tr[data-queue="${QUEUE}"]`);
  await row.waitFor({ timeout: 10000 });
  let seen = {};
  for (let i = 0; i < 15; i++) {
    seen = {};
    for (const s of Object.keys(EXPECT))
      seen[s] = Number((await row.locator(`td[data-count="${s}"]`).innerText()).replace(/,/g, ''));
    if (Object.keys(EXPECT).every((s) => seen[s] === EXPECT[s])) break;
    await page.waitForTimeout(1000);
  }
  check(Object.keys(EXPECT).every((s) => seen[s] === EXPECT[s]), 'overview shows the counts the database holds',
    `page ${JSON.stringify(seen)}, database ${JSON.stringify(EXPECT)}`);
  await page.locator('#chart canvas').first().waitFor({ timeout: 5000 });
  check(await page.locator('#chart .u-legend').count() === 1, 'overview draws the uPlot chart');
  await shot(page, 'overview');

  // The hostile payload is text: no dialog, no element made of it.
  // (Each task page is waited for by its id: the page before it stays
  // until the new one is drawn.)
  await page.goto(URL + '/#/task/' + HOSTILE_ID);
  await page.locator(`h1[data-task="${HOSTILE_ID}"]`).waitFor({ timeout: 10000 });
  await page.waitForTimeout(1500);
  check(await page.locator('#payload').textContent() === HOSTILE, 'a hostile payload is shown as text');
  check(await page.locator('#payload script, #payload img, #result img').count() === 0,
    'a hostile payload makes no element');
  check(dialogs.length === 0, 'no dialog fired', dialogs.join(' | '));
  await shot(page, 'task');

  // A running task's progress moves on the page while it is open.
  await page.goto(URL + '/#/task/' + PROGRESS_ID);
  await page.locator(`h1[data-task="${PROGRESS_ID}"]`).waitFor({ timeout: 10000 });
  const prog = page.locator('#progress');
  const p0 = Number(await prog.getAttribute('data-progress'));
  let p1 = p0;
  for (let i = 0; i < 40 && p1 <= p0; i++) {
    await page.waitForTimeout(250);
    p1 = Number(await prog.getAttribute('data-progress'));
  }
  check(p1 > p0, 'a running task\'s progress moves', `${p0} -> ${p1}`);

  // A child's page links its parent, and the parent's its child.
  await page.goto(URL + '/#/task/' + CHILD_ID);
  await page.locator(`h1[data-task="${CHILD_ID}"]`).waitFor({ timeout: 10000 });
  check(await page.locator(`#deps #parents a[href="#/task/${PARENT_ID}"]`).count() === 1, 'a child\'s page links its parent');
  await shot(page, 'task-deps');
  await page.locator(`#deps #parents a[href="#/task/${PARENT_ID}"]`).click();
  await page.locator(`h1[data-task="${PARENT_ID}"]`).waitFor({ timeout: 10000 });
  check(await page.locator(`#deps #children a[href="#/task/${CHILD_ID}"]`).count() === 1, 'the parent\'s page links its child');

  // Nodes, the task list, failed, periodic.
  await page.goto(URL + '/#/nodes');
  await page.locator('#nodes tbody tr').first().waitFor({ timeout: 10000 });
  check(await page.locator('#leaders tbody tr').count() >= 1, 'nodes shows the leader row');
  // Every worker of the node (pools p and progress: 3), with its RSS,
  // restarts and hang kills as its supervisor wrote them.
  const wrows = page.locator('#workers tr[data-worker^="browser/"]');
  await wrows.nth(2).waitFor({ timeout: 10000 }).catch(() => {});
  const nw = await wrows.count();
  const rss = await page.locator('#workers tr[data-worker^="browser/"] td[data-rss-kb]').evaluateAll((tds) =>
    tds.map((t) => Number(t.getAttribute('data-rss-kb'))));
  check(nw === 3 && rss.length === 3 && rss.every((k) => k > 1000), 'nodes shows each worker with its RSS',
    `${nw} workers, RSS ${JSON.stringify(rss)} kB`);
  check(await page.locator('#workers tr[data-worker^="browser/"] td[data-restarts]').count() === 3 &&
    await page.locator('#workers tr[data-worker^="browser/"] td[data-hang-kills]').count() === 3,
  'nodes shows each worker\'s restarts and hang kills');
  check(await page.locator(`#workers tr[data-worker="browser/progress/0"] a[href="#/task/${PROGRESS_ID}"]`).count() === 1,
    'nodes shows the running task of its worker');
  await shot(page, 'nodes');
  await page.goto(URL + '/#/tasks?queue=' + encodeURIComponent(QUEUE));
  await page.locator('#tasks tbody tr').first().waitFor({ timeout: 10000 });
  await shot(page, 'tasks');
  await page.goto(URL + '/#/cron');
  await page.locator('[data-cron]').first().waitFor({ timeout: 10000 });
  await shot(page, 'cron');

  // A failed task retried from the page, then it succeeds, within a
  // second of its row on the page (short polling).
  await page.goto(URL + '/#/failed');
  await page.locator(`#tasks tr[data-id="${FAILED_ID}"]`).waitFor({ timeout: 10000 });
  await shot(page, 'failed');
  check(await page.locator('[data-action="retry"]').count() === 0, 'no action without the token');
  await page.fill('#token', TOKEN);
  await page.click('#unlock');
  await page.goto(URL + '/#/task/' + FAILED_ID);
  await page.locator(`h1[data-task="${FAILED_ID}"]`).waitFor({ timeout: 10000 });
  await page.locator('[data-action="retry"]').waitFor({ timeout: 10000 });
  fs.writeFileSync(FLAG, '');
  await page.click('[data-action="retry"]');
  await page.click('[data-confirm="retry"]');
  const t0 = Date.now();
  await page.locator('dd [data-state="succeeded"]').waitFor({ timeout: 30000 }).catch(() => {});
  const ok = await page.locator('dd [data-state="succeeded"]').count() === 1;
  check(ok, 'a failed task retried from the page then succeeds', ok ? `${Date.now() - t0} ms after the click` : 'not succeeded');
  await shot(page, 'task-retried');

  // Scheduled: the delayed task with its due time, grouped by error; run
  // now from the page, then it succeeds.
  await page.goto(URL + '/#/scheduled');
  const srow = page.locator(`#tasks tr[data-id="${SCHEDULED_ID}"]`);
  await srow.waitFor({ timeout: 10000 });
  const due = await srow.locator('td[data-due]').innerText();
  check(/\(in \d+ s\)/.test(due), 'scheduled shows the due time', due);
  check(await page.locator('h2', { hasText: 'By error' }).count() === 1, 'scheduled groups by error');
  await shot(page, 'scheduled');
  await srow.locator('[data-action="run now"]').click();
  await srow.locator('[data-confirm="run now"]').click();
  let sstate = '';
  for (let i = 0; i < 40 && sstate !== 'succeeded'; i++) {
    await page.waitForTimeout(250);
    sstate = (await (await fetch(URL + '/api/tasks/' + SCHEDULED_ID)).json()).state;
  }
  check(sstate === 'succeeded', 'a scheduled task run now from the page succeeds', sstate);
  await srow.waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
  check(await srow.count() === 0, 'the task run now leaves the scheduled list');

  // Overview, with the token: the 5-minute and hourly charts, the wait
  // and run percentiles, and the queue paused and resumed from the page.
  await page.goto(URL + '/#/overview');
  await row.waitFor({ timeout: 10000 });
  await page.locator('#chart-5m canvas').first().waitFor({ timeout: 5000 }).catch(() => {});
  check(await page.locator('#chart-5m canvas').count() >= 1 && await page.locator('#chart-1h canvas').count() >= 1,
    'overview draws the 5-minute and hourly charts');
  const lrow = page.locator(`#latency tr[data-latency="${QUEUE}"]`);
  await lrow.waitFor({ timeout: 15000 }).catch(() => {});
  const lat = (await lrow.count()) ? await lrow.locator('td').allInnerTexts() : [];
  check(lat.length === 8 && Number(lat[1].replace(/,/g, '')) >= 5 && lat.slice(2).every((x) => /^\d+\.\d$/.test(x)),
    'overview shows queue wait and run percentiles', lat.join(' '));
  const pausedNow = async () => (await (await fetch(URL + '/api/overview')).json()).paused.map((p) => p.queue);
  await row.locator('[data-action="pause"]').click();
  await row.locator('[data-confirm="pause"]').click();
  await page.locator(`#queues [data-paused="${QUEUE}"]`).waitFor({ timeout: 5000 }).catch(() => {});
  const q1 = await pausedNow();
  check(q1.includes(QUEUE) && await page.locator(`#queues [data-paused="${QUEUE}"]`).count() === 1,
    'a queue paused from the page is paused and shows it', q1.join(','));
  await shot(page, 'overview-paused');
  await row.locator('[data-action="resume"]').click();
  await row.locator('[data-confirm="resume"]').click();
  await page.locator(`#queues [data-paused="${QUEUE}"]`).waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
  const q2 = await pausedNow();
  check(!q2.includes(QUEUE) && await page.locator(`#queues [data-paused="${QUEUE}"]`).count() === 0,
    'and resumed from the page', q2.join(','));

  // A narrow screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(URL + '/#/overview');
  await row.waitFor({ timeout: 10000 });
  await page.waitForTimeout(500);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 400, 'the overview fits a narrow screen', `scrollWidth ${wide}`);
  await shot(page, 'overview-narrow');

  check(dialogs.length === 0, 'no dialog fired in the whole run', dialogs.join(' | '));
  check(errors.length === 0, 'no script error or CSP violation', errors.join(' | '));
} catch (e) {
  check(false, 'the run', e.stack || String(e));
} finally {
  await browser.close();
}
console.log(`dashboard: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
