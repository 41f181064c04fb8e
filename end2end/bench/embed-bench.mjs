// Size and time-to-banner of the embed against vanilla-cookieconsent 3.1 (from its npm
// package), both on the same kind of host page in the same headless Chromium run.
// Run through scripts/embed-bench, which builds the release and starts both servers.
import { chromium } from '@playwright/test';
import { brotliCompressSync, constants } from 'node:zlib';

const runs = Number(process.env.RUNS ?? 21);
const service = 'http://consent.zeccloud.test:3100';
const host = 'http://www.zeccloud.test:3101';
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--host-resolver-rules=MAP *.zeccloud.test 127.0.0.1'];

const br = (buffer) => brotliCompressSync(buffer, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

// The moment (ms since navigation start) the banner has a size on screen.
const watchBanner = (selector) => `(() => {
  const find = () => { ${selector} };
  const tick = () => {
    const el = find();
    if (el && el.getBoundingClientRect().height > 0) window.__bannerAt = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})()`;
const scenarios = {
  zeccloud: { page: `${host}/bench-zc.html`, find: "return document.querySelector('#zc-consent')?.shadowRoot?.querySelector('.zc-banner');" },
  'vanilla-cookieconsent 3.1': { page: `${host}/bench-vcc.html`, find: "return document.querySelector('#cc-main .cm');" },
};

async function visit(browser, url, find, cookies = []) {
  const context = await browser.newContext();
  if (cookies.length) await context.addCookies(cookies);
  const page = await context.newPage();
  await page.addInitScript(watchBanner(find));
  const bodies = [];
  page.on('response', async (response) => {
    const url = response.url();
    // What the page loads, not the decision posted afterwards.
    if (url.endsWith('.html') || url.endsWith('favicon.ico') || response.request().method() !== 'GET') return;
    try { bodies.push({ url, brotli: br(await response.body()) }); } catch { /* redirects, 304 */ }
  });
  await page.goto(url);
  let at = null;
  try {
    await page.waitForFunction(() => window.__bannerAt !== undefined, null, { timeout: 10_000 });
    at = await page.evaluate(() => window.__bannerAt);
  } catch { /* no banner: a returning visitor */ }
  await page.waitForLoadState('networkidle');
  return { context, page, at, bodies };
}

const median = (values) => { const s = [...values].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const kb = (bytes) => (bytes / 1024).toFixed(1);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
// The two libraries' first visits take turns, so that whatever else the machine is doing
// falls on both alike rather than on whichever ran during it.
const times = Object.fromEntries(Object.keys(scenarios).map((name) => [name, []]));
const last = {};
for (let i = 0; i < runs; i++) {
  for (const [name, { page, find }] of Object.entries(scenarios)) {
    const result = await visit(browser, page, find);
    times[name].push(result.at);
    if (i === runs - 1) last[name] = result; else await result.context.close();
  }
}
const rows = [];
for (const [name, { page, find }] of Object.entries(scenarios)) {
  const first = last[name];
  const firstBytes = first.bodies.reduce((sum, b) => sum + b.brotli, 0);
  // Decide, then come back in a fresh context with only the cookies: no HTTP cache.
  if (name === 'zeccloud') {
    await first.page.locator('#zc-consent [data-action="reject_all"]').click();
    await first.page.waitForFunction(() => document.cookie.includes('zc_consent'));
  } else {
    await first.page.evaluate(() => window.CookieConsent.acceptCategory([]));
    await first.page.waitForFunction(() => document.cookie.includes('cc_cookie'));
  }
  const cookies = await first.context.cookies();
  await first.context.close();
  const again = await visit(browser, page, find, cookies);
  const againBytes = again.bodies.reduce((sum, b) => sum + b.brotli, 0);
  await again.context.close();
  rows.push({ name, median: median(times[name]), min: Math.min(...times[name]), firstBytes, againBytes, files: first.bodies, againFiles: again.bodies });
}
await browser.close();

console.log(`\nEmbed benchmark: ${runs} first visits each, headless Chromium, localhost (times are relative)\n`);
console.log('library                      banner visible (median / min)   first visit (br)   returning visit (br)');
for (const r of rows) {
  console.log(`${r.name.padEnd(28)} ${`${r.median.toFixed(0)} ms / ${r.min.toFixed(0)} ms`.padEnd(31)} ${`${kb(r.firstBytes)} KB`.padEnd(18)} ${kb(r.againBytes)} KB`);
}
console.log(`\nbanner on screen, median: ${(rows[0].median / rows[1].median).toFixed(2)}× ${rows[1].name}`);
for (const r of rows) {
  console.log(`\n${r.name}, first visit:`);
  for (const f of r.files) console.log(`  ${String(f.brotli).padStart(6)} B br  ${f.url.replace(/^https?:\/\/[^/]+/, '')}`);
  console.log(`${r.name}, returning visit:`);
  for (const f of r.againFiles) console.log(`  ${String(f.brotli).padStart(6)} B br  ${f.url.replace(/^https?:\/\/[^/]+/, '')}`);
}
