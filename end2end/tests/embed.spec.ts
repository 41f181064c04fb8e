import { test, expect, type Page, type Request } from '@playwright/test';
import { hostPort, port } from '../playwright.config';
import { lateness, ssaidOf, storageDownFor, storedEvents } from './helpers';

const www = `http://www.zeccloud.test:${hostPort}`;
const docs = `http://docs.zeccloud.test:${hostPort}`;
const service = `http://consent.zeccloud.test:${port}`;
const banner = '#zc-consent [data-testid="consent-banner"]';
const dialog = '#zc-consent [data-testid="preference-dialog"]';

/** The report of undeclared identifiers: e2e.toml samples every page view, the loader's own
 *  requests are counted without it (tests/observations.spec.ts checks it). */
const isReport = (url: string) => /\/embed\/observe\.js$|\/api\/v1\/observations$/.test(url);

/** Every request the page makes to the consent service, but the report. */
function serviceRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request: Request) => {
    if (request.url().startsWith(service) && !isReport(request.url())) seen.push(new URL(request.url()).pathname);
  });
  return seen;
}

test('the banner appears on another site, in its language, and one choice counts everywhere', async ({ page, context }) => {
  await page.goto(`${www}/index.html`);
  await expect(page.locator(banner)).toBeVisible();
  await expect(page.locator(`${banner} [data-action="accept_all"]`)).toHaveText('すべて同意');
  await page.locator(`${banner} [data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);

  const events = storedEvents(await ssaidOf(context));
  expect(events.map((e) => [e.action, e.source])).toEqual([['accept_all', 'embed']]);

  // A second site on another subdomain: not asked again; the loader alone is fetched.
  const second = await context.newPage();
  const requests = serviceRequests(second);
  await second.goto(`${docs}/second.html`);
  await expect.poll(() => second.evaluate(() => (window as any).__ran)).toEqual(['analytics']);
  await expect(second.locator('#zc-consent')).toHaveCount(0);
  expect(requests).toEqual(['/embed.js']);
  expect(requests.some((path) => path.endsWith('.wasm'))).toBe(false);

  // The service's own pages honour it too.
  await second.goto(`${service}/`);
  await expect(second.locator('[data-testid="consent-banner"]')).toHaveCount(0);
});

test('blocked scripts run only after acceptance, once, in document order; later ones too', async ({ page }) => {
  await page.goto(`${www}/index.html`);
  await expect(page.locator(banner)).toBeVisible();
  expect(await page.evaluate(() => (window as any).__ran)).toEqual([]);

  // Only analytics, through the preference center inside the embed.
  await page.locator(`${banner} [data-action="customize"]`).click();
  await expect(page.locator(dialog)).toBeVisible();
  await page.locator(`${dialog} input[name="categories[analytics]"]`).check();
  await page.locator(`${dialog} button[data-action="save"]`).click();
  await expect(page.locator(dialog)).toHaveCount(0);
  await expect.poll(() => page.evaluate(() => (window as any).__ran)).toEqual(['inline-1', 'external', 'inline-2']);

  // A script a single-page app adds later runs as soon as it appears.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.dataset.category = 'analytics';
    s.text = "__ran.push('added-later')";
    document.body.append(s);
  });
  await expect.poll(() => page.evaluate(() => (window as any).__ran)).toEqual(['inline-1', 'external', 'inline-2', 'added-later']);
});

test('the JS API, its events, Matomo consent and Google Consent Mode', async ({ page, context }) => {
  await page.goto(`${www}/index.html`);
  await expect(page.locator(banner)).toBeVisible();
  // Google Consent Mode default: denied before anything is known.
  const defaults = await page.evaluate(() => (window as any).dataLayer.map((a: any) => Array.from(a)));
  expect(defaults[0]).toEqual(['consent', 'default', expect.objectContaining({ analytics_storage: 'denied', ad_storage: 'denied' })]);

  const accepted = await page.evaluate(() => (window as any).zcConsent.accept(['analytics']));
  expect(accepted.categories).toMatchObject({ analytics: true, preferences: false });
  await expect(page.locator(banner)).toHaveCount(0);
  expect(await page.evaluate(() => [(window as any).zcConsent.isAccepted('analytics'), (window as any).zcConsent.isAccepted('preferences')])).toEqual([true, false]);
  // The queued onChange and the document event both heard it.
  expect(await page.evaluate(() => (window as any).__log)).toEqual([
    ['change', true],
    ['event', true],
  ]);
  expect(await page.evaluate(() => (window as any)._paq.map((c: any) => c[0]))).toEqual(['requireConsent', 'rememberConsentGiven']);
  const update = await page.evaluate(() => Array.from((window as any).dataLayer.at(-1)));
  expect(update).toEqual(['consent', 'update', expect.objectContaining({ analytics_storage: 'granted', functionality_storage: 'denied' })]);

  await page.evaluate(() => (window as any).zcConsent.reject());
  expect(await page.evaluate(() => (window as any)._paq.map((c: any) => c[0]))).toEqual([
    'requireConsent',
    'rememberConsentGiven',
    'forgetConsentGiven',
  ]);
  expect(await page.evaluate(() => (window as any).__log.at(-1))).toEqual(['event', false]);

  const events = storedEvents(await ssaidOf(context));
  expect(events.map((e) => [e.action, e.source])).toEqual([
    ['custom', 'api'],
    ['reject_all', 'api'],
  ]);
});

test('a returning visitor pays for the loader alone: no banner, no CSS, no WASM', async ({ page }) => {
  await page.goto(`${www}/index.html`);
  await page.locator(`${banner} [data-action="reject_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);

  const requests = serviceRequests(page);
  await page.reload();
  await expect.poll(() => page.evaluate(() => (window as any).__log)).toEqual([['change', false], ['event', true]]);
  expect(requests).toEqual(['/embed.js']);
});

test('a first visit is one request after the loader; the styles come along and outlive the banner', async ({ page }) => {
  const seen: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(service) && !isReport(r.url())) seen.push(new URL(r.url()).pathname + new URL(r.url()).search);
  });
  await page.goto(`${www}/index.html`);
  await expect(page.locator(banner)).toBeVisible();
  // The banner's answer brings the stylesheet: nothing else is fetched before it shows.
  expect(seen).toEqual(['/embed.js', '/embed/banner?lang=ja&style=1']);
  // Adopted by the shadow root rather than linked from the markup.
  const styling = () =>
    page.evaluate(() => {
      const root = document.querySelector('#zc-consent')!.shadowRoot!;
      return { adopted: root.adoptedStyleSheets.length, links: root.querySelectorAll('link, style').length };
    });
  expect(await styling()).toEqual({ adopted: 1, links: 0 });
  const font = (selector: string) => page.locator(selector).evaluate((el) => getComputedStyle(el).fontFamily);
  const ours = await font(`${banner} [data-action="accept_all"]`);
  expect(ours).not.toContain('Comic Sans');

  // After a choice the banner is gone; the preference center opened later is still styled,
  // without asking for the stylesheet again.
  await page.evaluate(() => (window as any).zcConsent.reject());
  await expect(page.locator(banner)).toHaveCount(0);
  await page.evaluate(() => (window as any).zcConsent.openPreferences());
  await expect(page.locator(dialog)).toBeVisible();
  expect(await font(`${dialog} button[data-action="save"]`)).toBe(ours);
  expect(await styling()).toEqual({ adopted: 1, links: 0 });
  expect(seen.slice(2)).toEqual(['/embed/consent', '/embed/preferences?lang=ja']);
});

test("the host page's CSS does not change the banner's look", async ({ page, browser }) => {
  const look = (p: Page, selector: string) =>
    p.locator(selector).evaluate((el) => {
      const s = getComputedStyle(el);
      return [s.backgroundColor, s.color, s.fontFamily, s.fontSize, s.paddingTop, s.borderRadius, s.letterSpacing];
    });
  const own = await browser.newContext({ locale: 'ja-JP' });
  const ownPage = await own.newPage();
  await ownPage.goto(`${service}/`);
  const expected = await look(ownPage, '[data-testid="consent-banner"] [data-action="accept_all"]');
  await own.close();

  await page.goto(`${www}/index.html`);
  await expect(page.locator(banner)).toBeVisible();
  expect(await look(page, `${banner} [data-action="accept_all"]`)).toEqual(expected);
  // And nothing of ours leaks into the host page.
  expect(await page.locator('h1').evaluate((el) => getComputedStyle(el).fontFamily)).toContain('Comic Sans');
});

test('a site not on the allowlist gets nothing', async ({ page }) => {
  // The service answers 403 without CORS headers (integration-tested); the browser refuses it.
  const refused: string[] = [];
  page.on('requestfailed', (request) => {
    if (request.url().includes('/embed/banner')) refused.push(new URL(request.url()).pathname);
  });
  await page.goto(`http://evil.test:${hostPort}/index.html`);
  await expect.poll(() => refused).toEqual(['/embed/banner']);
  await expect(page.locator(banner)).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).zcConsent.get())).toBeNull();
});

test('the host themes the banner through --zc-* properties, and the banner shifts nothing', async ({ page }) => {
  await page.addInitScript(() => {
    (window as any).__shift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as any[]) if (!entry.hadRecentInput) (window as any).__shift += entry.value;
    }).observe({ type: 'layout-shift', buffered: true });
    document.addEventListener('DOMContentLoaded', () => {
      const style = document.createElement('style');
      style.textContent = '#zc-consent { --zc-accent: #6b2fb3; }';
      document.head.append(style);
    });
  });
  await page.goto(`${www}/index.html`);
  await expect(page.locator(banner)).toBeVisible();
  const background = await page.locator(`${banner} [data-action="accept_all"]`).evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(background).toBe('rgb(107, 47, 179)');
  expect(await page.evaluate(() => (window as any).__shift)).toBe(0);
});

test('on another site too, a choice the service cannot save is kept and delivered later', async ({ page, context }) => {
  await page.goto(`${www}/index.html`);
  await expect(page.locator(banner)).toBeVisible();
  const sent = await storageDownFor(page, `${service}/embed/consent`, 2);
  await page.locator(`${banner} [data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  // Nothing runs before the choice is on record.
  expect(await page.evaluate(() => (window as any).__ran)).toEqual([]);
  await expect.poll(() => page.evaluate(() => (window as any).__ran), { timeout: 15_000 }).toContain('inline-1');

  const ssaid = await ssaidOf(context);
  expect(storedEvents(ssaid).map((e) => [e.action, e.source])).toEqual([['accept_all', 'embed']]);
  expect(sent).toHaveLength(3);
  const age = Number(new URLSearchParams(sent[2]).get('decided_ms_ago'));
  expect(age).toBeGreaterThanOrEqual(3000);
  const [late] = lateness(ssaid);
  expect(Math.abs(late! - age)).toBeLessThanOrEqual(1);
});
