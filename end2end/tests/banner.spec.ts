import { test, expect } from '@playwright/test';
import { currentPolicyVersion, lateness, ssaidOf, storageDownFor, storedEvents, waitForHydration, watchErrors } from './helpers';
import { directURL } from '../playwright.config';

const banner = '[data-testid="consent-banner"]';

test('the banner is in the server HTML, before any script runs', async ({ request }) => {
  const response = await request.get(`${directURL}/`);
  expect(response.status()).toBe(200);
  const html = await response.text();
  const at = html.indexOf('data-testid="consent-banner"');
  expect(at).toBeGreaterThan(-1);
  // Not inside a <template> that only a script would reveal.
  expect(html.slice(0, at)).not.toContain('<template');
  for (const text of ['Accept all', 'Reject all', 'Customize', 'href="/notice"']) expect(html).toContain(text);
});

test('after hydration Reject all records the choice without a reload', async ({ page, context }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  await waitForHydration(page);
  await expect(page.locator(banner)).toBeVisible();
  // The settings button is in the page, hidden while the banner asks.
  const settings = page.locator('[data-testid="privacy-settings-button"]');
  await expect(settings).toBeHidden();
  // A marker on window survives only if the page is not reloaded.
  await page.evaluate(() => ((window as any).__stillSamePage = true));

  await page.locator(`${banner} button[data-action="reject_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  await expect(settings).toBeVisible();
  expect(await page.evaluate(() => (window as any).__stillSamePage)).toBe(true);

  const events = storedEvents(await ssaidOf(context));
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({
    action: 'reject_all',
    source: 'banner',
    policy_version: await currentPolicyVersion(),
    categories: { necessary: true, preferences: false, analytics: false },
  });

  await page.reload();
  await waitForHydration(page);
  await expect(page.locator(banner)).toHaveCount(0);
  await page.goto('/notice');
  await expect(page.locator(banner)).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('Customize opens the preference center, which stores exactly the ticked categories', async ({ page, context }) => {
  const errors = watchErrors(page);
  await page.goto('/notice');
  await waitForHydration(page);
  await page.locator(`${banner} [data-action="customize"]`).click();
  const dialog = page.locator('[data-testid="preference-dialog"]');
  await expect(dialog).toBeVisible();
  expect(new URL(page.url()).pathname).toBe('/notice');
  const analytics = dialog.locator('input[name="categories[analytics]"]');
  const preferences = dialog.locator('input[name="categories[preferences]"]');
  await expect(analytics).not.toBeChecked();
  await expect(preferences).not.toBeChecked();
  await expect(dialog.locator('[data-category="necessary"] input')).toHaveCount(0);
  await analytics.check();
  await dialog.locator('button[data-action="save"]').click();
  await expect(dialog).toBeHidden();
  await expect(page.locator(banner)).toHaveCount(0);

  const events = storedEvents(await ssaidOf(context));
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({
    action: 'custom',
    source: 'preference_center',
    categories: { necessary: true, preferences: false, analytics: true },
  });

  const consent = (await context.cookies()).find((c) => c.name === 'zc_consent');
  expect(consent?.httpOnly).toBe(false);
  const claims = JSON.parse(Buffer.from(consent!.value.split('.')[1], 'base64url').toString());
  expect(claims).toMatchObject({ ver: await currentPolicyVersion(), eid: events[0].id, cats: { analytics: true, preferences: false } });

  // Reopened without a reload, the center shows the choice just made, as the server would.
  await page.locator('[data-testid="privacy-settings-button"]').click();
  const current = dialog.locator('[data-testid="current-choice"]');
  await expect(current.locator('[data-category="analytics"]')).toHaveAttribute('data-state', 'allowed');
  await expect(current.locator('[data-category="analytics"]')).toContainText('Allowed');
  await expect(current.locator('[data-category="preferences"]')).toHaveAttribute('data-state', 'refused');
  await expect(current.locator('[data-category="preferences"]')).toContainText('Refused');
  const saved = 'Your choice has been saved.';
  await expect(current.getByRole('status')).toHaveText(saved);
  await expect(current).toContainText(`version ${await currentPolicyVersion()}`);
  await expect(dialog.locator('[data-testid="receipt-link"]')).toHaveAttribute('href', `/api/v1/consent/${events[0].id}/receipt`);
  const fresh = await page.context().newPage();
  await fresh.goto('/notice');
  await waitForHydration(fresh);
  await fresh.locator('[data-testid="privacy-settings-button"]').click();
  await expect(fresh.locator('[data-testid="preference-dialog"] [data-testid="current-choice"]')).toHaveText(
    (await current.textContent())!.replace(saved, ''),
  );
  await fresh.close();
  expect(errors).toEqual([]);
});

test('a refused choice shows a readable message in the banner and records nothing', async ({ page, context }) => {
  await page.goto('/');
  await waitForHydration(page);
  // As if the policy changed while the page was open: the server refuses the stale version.
  await page.evaluate(() =>
    document
      .querySelectorAll<HTMLInputElement>('input[name="policy_version"]')
      .forEach((input) => (input.value = '1999-01-01')),
  );
  await page.locator(`${banner} button[data-action="accept_all"]`).click();
  const alert = page.locator(`${banner} [role="alert"]`);
  await expect(alert).toHaveAttribute('data-error-code', 'stale_policy_version');
  await expect(alert).toContainText('reload the page');
  await expect(page.locator(banner)).toBeVisible();
  expect(storedEvents(await ssaidOf(context))).toEqual([]);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the plain form records the choice and redirects back', async ({ page, context }) => {
    await page.goto('/notice');
    await expect(page.locator(banner)).toBeVisible();
    await page.locator(`${banner} button[data-action="accept_all"]`).click();
    await page.waitForURL(/\/notice/);
    await expect(page.locator(banner)).toHaveCount(0);

    const events = storedEvents(await ssaidOf(context));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'accept_all',
      source: 'no_js_form',
      categories: { necessary: true, preferences: true, analytics: true },
    });
  });

  test('Customize leads to the preference center page, which saves without JavaScript', async ({ page, context }) => {
    await page.goto('/');
    await page.locator(`${banner} [data-action="customize"]`).click();
    await page.waitForURL((url) => url.pathname === '/preferences');
    await page.locator('input[name="categories[preferences]"]').check();
    await page.locator('button[data-action="save"]').click();
    await page.waitForURL((url) => url.pathname === '/preferences');
    await expect(page.locator('[data-testid="current-choice"] [data-category="preferences"]')).toHaveAttribute(
      'data-state',
      'allowed',
    );
    await page.goto('/');
    await expect(page.locator(banner)).toHaveCount(0);
    const events = storedEvents(await ssaidOf(context));
    expect(events.map((e) => [e.source, e.categories])).toEqual([
      ['no_js_form', { analytics: false, necessary: true, preferences: true }],
    ]);
  });
});

test('a choice the service cannot save is kept, the banner closes, and it is delivered later with its time', async ({ page, context }) => {
  await page.goto('/');
  await waitForHydration(page);
  const sent = await storageDownFor(page, '**/_sf/record_consent', 2);
  await page.locator(`${banner} button[data-action="reject_all"]`).click();
  // Closed at the first 503, while the choice waits for its retries (after 1 s, then 2 s).
  await expect(page.locator(banner)).toHaveCount(0);
  await expect(page.locator('[data-testid="privacy-settings-button"]')).toBeVisible();
  const ssaid = await ssaidOf(context);
  await expect.poll(() => storedEvents(ssaid).length, { timeout: 15_000 }).toBe(1);
  expect(storedEvents(ssaid).map((e) => [e.action, e.source])).toEqual([['reject_all', 'banner']]);

  expect(sent).toHaveLength(3);
  expect(new URLSearchParams(sent[0]).has('decided_ms_ago')).toBe(false);
  const age = Number(new URLSearchParams(sent[2]).get('decided_ms_ago'));
  expect(age).toBeGreaterThanOrEqual(3000);
  expect(age).toBeLessThan(15_000);
  // The record keeps both times: made `age` ms before it was recorded.
  const [late] = lateness(ssaid);
  expect(Math.abs(late! - age)).toBeLessThanOrEqual(1);
  await expect(page.locator(banner)).toHaveCount(0);
});

test('after about a minute of retries the banner comes back and says the choice was not saved', async ({ page, context }) => {
  // The page's timers on a clock the test moves: the minute passes at once.
  await page.clock.install();
  await page.goto('/');
  await waitForHydration(page);
  const sent = await storageDownFor(page, '**/_sf/record_consent', 100);
  await page.locator(`${banner} button[data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  // Each wait starts when the previous attempt's failure has been handled, which the request
  // count cannot show (it grows when the request is sent): move the clock a second at a time
  // until the next attempt goes out. The waits add up to about a minute.
  for (let attempts = 2; attempts <= 7; attempts++) {
    await expect
      .poll(async () => {
        await page.clock.runFor(1_000);
        return sent.length;
      }, { timeout: 15_000, intervals: [50] })
      .toBe(attempts);
  }
  await expect(page.locator(banner)).toBeVisible();
  await expect(page.locator(`${banner} [data-error-code="storage_unavailable"]`)).toBeVisible();
  // The first attempt and six retries, then the visitor is told; nothing was recorded.
  expect(sent).toHaveLength(7);
  expect(storedEvents(await ssaidOf(context))).toEqual([]);
});
