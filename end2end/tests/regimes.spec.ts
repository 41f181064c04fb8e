import { test, expect, type BrowserContext, type Page } from '@playwright/test';
import { directURL, hostPort, port } from '../playwright.config';
import { axeViolations, ssaidOf, storedEvents, waitForHydration, watchErrors } from './helpers';

// Each regime's first layer in its main language (issue 29): the United States (opt-out, in
// English), Korea (opt-in with the four collection details, in Korean) and Hong Kong (notice, in
// Traditional Chinese), with JavaScript and without, and axe on each (with JavaScript: axe is a
// script; the markup is the same server HTML either way). The test server believes
// the `x-test-country` header from 127.0.0.1 (playwright.config.ts); tests without it get the
// default, opt-in, as before.

const service = `http://consent.zeccloud.test:${port}`;
const www = `http://www.zeccloud.test:${hostPort}`;
const banner = '[data-testid="consent-banner"]';
const details = `${banner} [data-testid="collection-details"]`;

/** Puts the context's visitor in `country`, as the edge in front of the service would: every
 *  request to the service carries the header. Routed rather than `extraHTTPHeaders`, which would
 *  also go on the embed's cross-origin fetches and make them need a CORS preflight. */
async function visitFrom(context: BrowserContext, country: string) {
  await context.route(`${service}/**`, (route) =>
    route.continue({ headers: { ...route.request().headers(), 'x-test-country': country } }),
  );
}

/** Counts layout shifts from the first paint on; read with `shifted`. */
async function watchShifts(page: Page) {
  await page.addInitScript(() => {
    (window as any).__shift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as any[]) if (!entry.hadRecentInput) (window as any).__shift += entry.value;
    }).observe({ type: 'layout-shift', buffered: true });
  });
}

const shifted = (page: Page) => page.evaluate(() => (window as any).__shift);

/** The banner is a bar, not a modal: no dialog is open and the page's own links stay usable. */
async function expectPageUsable(page: Page) {
  await expect(page.locator('dialog[open]')).toHaveCount(0);
  await page.locator('.zc-header .zc-brand').click({ trial: true });
}

/** The same look and size: neither answer is the lesser one. */
async function expectEqualWeight(page: Page, first: string, second: string) {
  const a = page.locator(`${banner} button[data-action="${first}"]`);
  const b = page.locator(`${banner} button[data-action="${second}"]`);
  const style = (el: Element) => {
    const s = getComputedStyle(el);
    return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderWidth].join(' ');
  };
  expect(await a.evaluate(style)).toBe(await b.evaluate(style));
  const [boxA, boxB] = [await a.boundingBox(), await b.boundingBox()];
  expect(Math.round(boxA!.width)).toBe(Math.round(boxB!.width));
  expect(Math.round(boxA!.height)).toBe(Math.round(boxB!.height));
}

/** The policy's texts in `lang`, as `/api/v1/policy` shows them. */
async function policyIn(lang: string): Promise<any> {
  const response = await fetch(`${directURL}/api/v1/policy?lang=${lang}`);
  expect(response.status).toBe(200);
  return response.json();
}

test.describe('the United States: opt-out, in English', () => {
  test.use({ locale: 'en-US', bypassCSP: true });
  test.beforeEach(async ({ context }) => visitFrom(context, 'US'));

  test('the optional categories are on, with OK and Opt out of equal weight', async ({ page, context }) => {
    const errors = watchErrors(page);
    await watchShifts(page);
    const policy = await policyIn('en');
    await page.goto('/');
    await waitForHydration(page);
    await expect(page.locator(banner)).toHaveAttribute('data-regime', 'opt_out');
    await expect(page.locator(banner)).toHaveAttribute('lang', 'en');
    await expect(page.locator(banner)).toContainText(policy.banner.opt_out_body);
    await expect(page.locator(`${banner} button[data-action="acknowledge"]`)).toHaveText('OK');
    await expect(page.locator(`${banner} button[data-action="reject_all"]`)).toHaveText('Opt out');
    await expect(page.locator(`${banner} [data-action="accept_all"]`)).toHaveCount(0);
    await expect(page.locator(`${banner} [data-action="customize"]`)).toBeVisible();
    await expectEqualWeight(page, 'acknowledge', 'reject_all');
    await expectPageUsable(page);
    expect(await shifted(page)).toBe(0);
    expect(await axeViolations(page)).toEqual([]);

    await page.locator(`${banner} button[data-action="reject_all"]`).click();
    await expect(page.locator(banner)).toHaveCount(0);
    const events = storedEvents(await ssaidOf(context));
    expect(events.map((e) => [e.action, e.source, e.categories])).toEqual([
      ['reject_all', 'banner', { necessary: true, preferences: false, analytics: false }],
    ]);
    expect(errors).toEqual([]);
  });

  test('on another site the loader runs what the regime grants before any click', async ({ page, context }) => {
    await page.goto(`${www}/index.html`);
    await expect(page.locator(`#zc-consent ${banner}`)).toHaveAttribute('data-regime', 'opt_out');
    await expect
      .poll(() => page.evaluate(() => (window as any).__ran))
      .toEqual(['inline-1', 'external', 'inline-2', 'preferences']);
    const api = await page.evaluate(() => {
      const zc = (window as any).zcConsent;
      return { jurisdiction: zc.jurisdiction, analytics: zc.isAccepted('analytics'), decision: zc.get() };
    });
    expect(api).toEqual({
      jurisdiction: expect.objectContaining({ name: 'united_states', country: 'US', regime: 'opt_out' }),
      analytics: true,
      decision: null,
    });
    expect(await page.evaluate(() => (window as any)._paq.map((c: any[]) => c[0]))).toContain('rememberConsentGiven');
    expect(storedEvents(await ssaidOf(context))).toEqual([]);

    // Opting out there is recorded and takes analytics away.
    await page.locator(`#zc-consent ${banner} button[data-action="reject_all"]`).click();
    await expect(page.locator(`#zc-consent ${banner}`)).toHaveCount(0);
    expect(await page.evaluate(() => (window as any).zcConsent.isAccepted('analytics'))).toBe(false);
    const events = storedEvents(await ssaidOf(context));
    expect(events.map((e) => [e.action, e.source])).toEqual([['reject_all', 'embed']]);
  });

  test.describe('with JavaScript disabled', () => {
    test.use({ javaScriptEnabled: false });

    test('OK is a plain form that records the acknowledgement', async ({ page, context }) => {
      await page.goto('/notice');
      await expect(page.locator(banner)).toHaveAttribute('data-regime', 'opt_out');
      await page.locator(`${banner} button[data-action="acknowledge"]`).click();
      await page.waitForURL(/\/notice/);
      await expect(page.locator(banner)).toHaveCount(0);
      const events = storedEvents(await ssaidOf(context));
      expect(events.map((e) => [e.action, e.source, e.categories])).toEqual([
        ['acknowledge', 'no_js_form', { necessary: true, preferences: true, analytics: true }],
      ]);
    });
  });
});

test.describe('Korea: opt-in with the four items, in Korean', () => {
  test.use({ locale: 'ko-KR', bypassCSP: true });
  test.beforeEach(async ({ context }) => visitFrom(context, 'KR'));

  /** Every optional category's purpose, items, retention and right to refuse are on screen
   *  before any click, each category with its own unticked box. */
  async function expectFourItems(page: Page) {
    const policy = await policyIn('ko');
    await expect(page.locator(banner)).toHaveAttribute('data-regime', 'opt_in');
    await expect(page.locator(banner)).toHaveAttribute('lang', 'ko');
    const optional = policy.categories.filter((c: any) => !c.required);
    expect(optional.map((c: any) => c.id)).toEqual(['preferences', 'analytics']);
    for (const category of optional) {
      const item = page.locator(`${details} [data-category="${category.id}"]`);
      await expect(item).toBeVisible();
      for (const text of [category.title, category.description, category.items, category.retention, category.refusal]) {
        await expect(item).toContainText(text);
      }
      for (const label of ['수집·이용 목적', '수집 항목', '보유 및 이용 기간', '동의 거부 권리 및 불이익']) {
        await expect(item.locator('dt', { hasText: label })).toBeVisible();
      }
      await expect(item.locator(`input[name="categories[${category.id}]"]`)).not.toBeChecked();
    }
    await expect(page.locator(`${banner} button[data-action="accept_all"]`)).toHaveText('모두 수락');
    await expect(page.locator(`${banner} button[data-action="reject_all"]`)).toHaveText('모두 거부');
  }

  test('the first layer shows the four items and saves a choice per category', async ({ page, context }) => {
    const errors = watchErrors(page);
    await watchShifts(page);
    await page.goto('/');
    await waitForHydration(page);
    await expectFourItems(page);
    await expectEqualWeight(page, 'accept_all', 'reject_all');
    await expectPageUsable(page);
    expect(await shifted(page)).toBe(0);
    expect(await axeViolations(page)).toEqual([]);

    await page.locator(`${details} input[name="categories[analytics]"]`).check();
    await page.locator(`${banner} button[data-action="save"]`).click();
    await expect(page.locator(banner)).toHaveCount(0);
    const events = storedEvents(await ssaidOf(context));
    expect(events.map((e) => [e.action, e.source, e.categories])).toEqual([
      ['custom', 'banner', { necessary: true, preferences: false, analytics: true }],
    ]);
    expect(errors).toEqual([]);
  });

  test.describe('with JavaScript disabled', () => {
    test.use({ javaScriptEnabled: false });

    test('the same four items, and the per-category choice is a plain form', async ({ page, context }) => {
      await page.goto('/notice');
      await expectFourItems(page);
      await page.locator(`${details} input[name="categories[preferences]"]`).check();
      await page.locator(`${banner} button[data-action="save"]`).click();
      await page.waitForURL(/\/notice/);
      await expect(page.locator(banner)).toHaveCount(0);
      const events = storedEvents(await ssaidOf(context));
      expect(events.map((e) => [e.action, e.source, e.categories])).toEqual([
        ['custom', 'no_js_form', { necessary: true, preferences: true, analytics: false }],
      ]);
    });
  });
});

test.describe('Hong Kong: a notice, in Traditional Chinese', () => {
  test.use({ locale: 'zh-HK', bypassCSP: true });
  test.beforeEach(async ({ context }) => visitFrom(context, 'HK'));

  test('an informational notice with OK and Customize; nothing waits for it', async ({ page, context }) => {
    const errors = watchErrors(page);
    await watchShifts(page);
    const policy = await policyIn('zh-Hant');
    await page.goto('/');
    await waitForHydration(page);
    await expect(page.locator(banner)).toHaveAttribute('data-regime', 'notice');
    await expect(page.locator(banner)).toHaveAttribute('lang', 'zh-Hant');
    await expect(page.locator(banner)).toContainText(policy.banner.notice_body);
    await expect(page.locator(`${banner} button[data-action="acknowledge"]`)).toHaveText('知道了');
    await expect(page.locator(`${banner} [data-action="customize"]`)).toHaveText('自訂');
    await expect(page.locator(`${banner} [data-action="accept_all"], ${banner} [data-action="reject_all"]`)).toHaveCount(0);
    await expectPageUsable(page);
    expect(await shifted(page)).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    // What is on before any click: everything optional (the service's answer for this page).
    const status = await page.evaluate(async () => (await fetch('/api/v1/consent', { headers: { accept: 'application/json' } })).json());
    expect(status.granted).toEqual({ necessary: true, preferences: true, analytics: true });

    await page.locator(`${banner} button[data-action="acknowledge"]`).click();
    await expect(page.locator(banner)).toHaveCount(0);
    const events = storedEvents(await ssaidOf(context));
    expect(events.map((e) => [e.action, e.source])).toEqual([['acknowledge', 'banner']]);
    expect(errors).toEqual([]);
  });

  test.describe('with JavaScript disabled', () => {
    test.use({ javaScriptEnabled: false });

    test('OK is a plain form, and Customize leads to the preference center page', async ({ page, context }) => {
      await page.goto('/notice');
      await expect(page.locator(banner)).toHaveAttribute('data-regime', 'notice');
      await expect(page.locator(`${banner} [data-action="customize"]`)).toHaveAttribute('href', '/preferences?lang=zh-Hant');
      await page.locator(`${banner} button[data-action="acknowledge"]`).click();
      await page.waitForURL(/\/notice/);
      await expect(page.locator(banner)).toHaveCount(0);
      const events = storedEvents(await ssaidOf(context));
      expect(events.map((e) => [e.action, e.source])).toEqual([['acknowledge', 'no_js_form']]);
    });
  });
});
