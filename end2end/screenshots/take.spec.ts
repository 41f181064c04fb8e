import { test } from '@playwright/test';
import path from 'node:path';

const out = (name: string) => path.join(__dirname, '..', '..', 'docs', 'screenshots', `${name}.png`);
const waitForHydration = (page: import('@playwright/test').Page) =>
  page.locator('#zc-app[data-hydrated="true"]').waitFor();

test.describe('light, English', () => {
  test.use({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  test('banner', async ({ page }) => {
    await page.goto('/');
    await waitForHydration(page);
    await page.screenshot({ path: out('banner-light-en') });
  });
});

test.describe('dark, English', () => {
  test.use({ locale: 'en-US', colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
  test('preference center', async ({ page }) => {
    await page.goto('/');
    await waitForHydration(page);
    await page.locator('[data-action="customize"]').click();
    await page.locator('[data-testid="preference-dialog"] .zc-identifiers summary').last().click();
    await page.screenshot({ path: out('preferences-dark-en') });
  });
});

test.describe('Japanese', () => {
  test.use({ locale: 'ja-JP', colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  test('banner', async ({ page }) => {
    await page.goto('/notice');
    await waitForHydration(page);
    await page.screenshot({ path: out('banner-light-ja') });
  });
});

test.describe('mobile, Traditional Chinese', () => {
  test.use({ locale: 'zh-TW', colorScheme: 'light', viewport: { width: 375, height: 740 }, deviceScaleFactor: 2 });
  test('banner', async ({ page }) => {
    await page.goto('/');
    await waitForHydration(page);
    await page.screenshot({ path: out('banner-mobile-zh-hant') });
  });
});
