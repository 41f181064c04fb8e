import { test, expect, type Page, type BrowserContext } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { ssaidOf, storedEvents, waitForHydration, watchErrors } from './helpers';

// Notice §07 in the preference center: a visitor downloads everything stored under their
// identifier and erases it, with JavaScript on and off, in two languages.
const banner = '[data-testid="consent-banner"]';
const yourData = '[data-testid="your-data"]';

async function downloadedData(page: Page) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator(`${yourData} [data-testid="download-data"]`).click(),
  ]);
  expect(download.suggestedFilename()).toBe('zeccloud-consent-my-data.json');
  return JSON.parse(readFileSync((await download.path())!, 'utf8'));
}

async function eraseAndExpectReference(page: Page, context: BrowserContext, notice: RegExp) {
  const ssaid = await ssaidOf(context);
  await page.locator(`${yourData} [data-testid="erase-confirm"]`).check();
  await page.locator(`${yourData} button[data-action="erase"]`).click();
  await page.waitForURL(/erased=/);
  await expect(page.locator('[data-testid="erased-notice"]')).toHaveText(notice);
  expect(storedEvents(ssaid)).toEqual([]);
  const names = (await context.cookies()).map((c) => c.name);
  expect(names).not.toContain('zc_consent');
}

test('with JavaScript, in English: download, then erase', async ({ page, context }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  await waitForHydration(page);
  await page.locator(`${banner} button[data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  await page.goto('/preferences?lang=en');
  await waitForHydration(page);
  // The section shows what is stored in short; the download has all of it.
  await expect(page.locator('[data-testid="stored-ssaid"]')).toHaveText(await ssaidOf(context));
  await expect(page.locator('[data-testid="stored-decisions"] li')).toHaveCount(1);
  await expect(page.locator('[data-testid="stored-decisions"] li')).toHaveAttribute('data-action', 'accept_all');
  const data = await downloadedData(page);
  expect(data.matomo.visitor_id).toBe(await page.locator('[data-testid="stored-matomo-id"]').textContent());
  expect(data.identifier.ssaid).toBe(await ssaidOf(context));
  expect(data.consent_events.map((e: { action: string }) => e.action)).toEqual(['accept_all']);
  expect(data.matomo.visitor_id).toMatch(/^[0-9a-f]{16}$/);
  await eraseAndExpectReference(page, context, /Your data has been erased\. Keep this reference for any question: [0-9a-f-]{36}/);
  // A new visitor: the banner asks again.
  await page.goto('/');
  await expect(page.locator(banner)).toBeVisible();
  expect(errors).toEqual([]);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('in Japanese: download, then erase with the plain form', async ({ page, context }) => {
    await page.goto('/?lang=ja');
    await page.locator(`${banner} button[data-action="reject_all"]`).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.goto('/preferences?lang=ja');
    await expect(page.locator(`${yourData} h2`)).toHaveText('あなたのデータ');
    await expect(page.locator('[data-testid="stored-decisions"] li')).toHaveAttribute('data-action', 'reject_all');
    const data = await downloadedData(page);
    expect(data.consent_events.map((e: { action: string }) => e.action)).toEqual(['reject_all']);
    await eraseAndExpectReference(page, context, /データを消去しました。お問い合わせの際はこの番号をお伝えください：[0-9a-f-]{36}/);
  });
});
