import { test, expect } from '@playwright/test';
import { hostPort } from '../playwright.config';
import { currentPolicyVersion, ssaidOf, storedEvents, waitForHydration, watchErrors } from './helpers';

const banner = '[data-testid="consent-banner"]';

test("a page on another site cannot turn the visitor's rejection into consent", async ({ page, context }) => {
  await page.goto('/');
  await page.locator(`${banner} button[data-action="reject_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  const ssaid = await ssaidOf(context);
  const consentCookie = async () => (await context.cookies()).find((c) => c.name === 'zc_consent')?.value;
  const rejection = await consentCookie();
  expect(rejection).toBeTruthy();

  // Another site auto-submits the banner's form: a top-level POST, so the visitor's Lax
  // cookies are not sent, but whatever the answer sets would be stored.
  const forged = await context.newPage();
  const answer = forged.waitForResponse((response) => response.url().includes('/_sf/record_consent'));
  await forged.goto(`http://evil.test:${hostPort}/forge.html?v=${await currentPolicyVersion()}`);
  expect((await answer).status()).toBe(403);

  expect(await consentCookie()).toBe(rejection);
  expect(storedEvents(ssaid).map((event) => event.action)).toEqual(['reject_all']);
  await page.goto('/preferences');
  await expect(page.locator('[data-testid="current-choice"] [data-category="analytics"]')).toHaveAttribute(
    'data-state',
    'refused',
  );
});

test('every page hydrates under its Content-Security-Policy with no violation', async ({ page, context }) => {
  await context.addInitScript(() => {
    (window as any).__violations = [];
    document.addEventListener('securitypolicyviolation', (event) =>
      (window as any).__violations.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const errors = watchErrors(page);
  for (const path of ['/', '/notice', '/preferences', '/external-transmission']) {
    const response = await page.goto(path);
    expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'self'");
    await waitForHydration(page);
    expect(await page.evaluate(() => (window as any).__violations)).toEqual([]);
  }
  // The hydrated banner still records a choice under the policy.
  await page.goto('/');
  await waitForHydration(page);
  await page.locator(`${banner} button[data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  expect(errors).toEqual([]);
});
