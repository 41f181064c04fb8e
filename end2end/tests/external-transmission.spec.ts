import { test, expect } from '@playwright/test';
import { directURL, hostPort, port } from '../playwright.config';
import { axeViolations, waitForHydration, watchErrors } from './helpers';

// Japan's external-transmission page (Telecommunications Business Act Art. 27-12): reached from
// the banner's first layer on the service's pages and on other sites, one table per
// transmission of the current policy's registry, accessible, usable without JavaScript.

const banner = '[data-testid="consent-banner"]';
const link = `${banner} [data-testid="external-transmission-link"]`;
const tables = 'table.zc-transmission';

/** How many transmissions the current policy's registry lists. */
async function transmissionCount(): Promise<number> {
  const response = await fetch(`${directURL}/api/v1/policy`);
  expect(response.status).toBe(200);
  const policy = await response.json();
  let count = 0;
  for (const category of policy.categories) {
    for (const identifier of category.identifiers) count += (identifier.transmissions ?? []).length;
  }
  return count;
}

test.describe('the external-transmission page', () => {
  // axe-core is injected as a script tag, which the pages' CSP rightly refuses.
  test.use({ locale: 'en-US', bypassCSP: true });

  test('the banner links to it in the banner’s language; it lists every transmission with zero axe violations', async ({ page }) => {
    const errors = watchErrors(page);
    const count = await transmissionCount();
    expect(count).toBeGreaterThan(0);
    await page.goto('/');
    await waitForHydration(page);
    await expect(page.locator(link)).toHaveText('External transmissions');
    await page.locator(link).click();
    await page.waitForURL((url) => url.pathname === '/external-transmission');
    expect(new URL(page.url()).searchParams.get('lang')).toBe('en');
    await waitForHydration(page);
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.locator('h1')).toHaveText('External transmission of user information');
    await expect(page.locator(tables)).toHaveCount(count);
    // Each table says what the law asks, a row each.
    for (const row of ['Information sent', 'Recipient', 'Destination (host)', 'Purpose of use', 'How to refuse', 'Category']) {
      await expect(page.locator(`${tables} th[scope="row"]`, { hasText: row })).toHaveCount(count);
    }
    expect(await axeViolations(page)).toEqual([]);
    // The banner still asks on this page, and the center opens from it.
    await page.locator(`${banner} [data-action="customize"]`).click();
    await expect(page.locator('[data-testid="preference-dialog"]')).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('without a choice it is in Japanese, whatever the browser prefers, with zero axe violations', async ({ page }) => {
    await page.goto('/external-transmission');
    await waitForHydration(page);
    await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
    await expect(page.locator('h1')).toHaveText('外部送信に関する公表事項');
    await expect(page.locator(`${banner} [data-action="accept_all"]`)).toHaveText('すべて同意');
    await expect(page.locator(tables)).toHaveCount(await transmissionCount());
    expect(await axeViolations(page)).toEqual([]);
  });

  test('from the embedded banner on another site, the link opens the service’s page', async ({ page }) => {
    await page.goto(`http://www.zeccloud.test:${hostPort}/index.html`);
    const embedded = page.locator(`#zc-consent ${link}`);
    await expect(embedded).toBeVisible();
    await expect(embedded).toHaveAttribute('href', `http://consent.zeccloud.test:${port}/external-transmission?lang=ja`);
    await embedded.click();
    await page.waitForURL((url) => url.host === `consent.zeccloud.test:${port}` && url.pathname === '/external-transmission');
    await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
    await expect(page.locator(tables)).toHaveCount(await transmissionCount());
  });
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false, locale: 'en-US' });

  test('the page and its language switcher work as plain HTML', async ({ page }) => {
    await page.goto('/external-transmission');
    await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
    await page.locator('#zc-transmission-lang').selectOption('ko');
    await page.locator('main [data-testid="language-switcher"] button').click();
    await page.waitForURL(/\/external-transmission\?lang=ko/);
    await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
    await expect(page.locator('h1')).toHaveText('이용자 정보의 외부 전송');
    await expect(page.locator(tables)).toHaveCount(await transmissionCount());
  });
});
