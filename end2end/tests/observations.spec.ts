import { test, expect, type Request } from '@playwright/test';
import { adminToken, hostPort, port } from '../playwright.config';

// The passive report of undeclared identifiers (issue 31). e2e.toml samples every page view
// (`[observations] sample_rate = 1`), so the host page's report always goes.
const www = `http://www.zeccloud.test:${hostPort}`;
const service = `http://consent.zeccloud.test:${port}`;
const banner = '#zc-consent [data-testid="consent-banner"]';
const secrets = ['SECRETVALUE123', 'SECRETFLAGS456'];

test("the loader reports an undeclared cookie's name, never its value, and the console lists it", async ({ page }) => {
  // Every request the page sends, with its headers as sent and its body.
  const sent: { url: string; headers: Record<string, string>; body: string }[] = [];
  const reports: Request[] = [];
  page.on('request', async (request) => {
    if (request.url() === `${service}/api/v1/observations` && request.method() === 'POST') reports.push(request);
    sent.push({ url: request.url(), headers: await request.allHeaders(), body: request.postData() ?? '' });
  });
  await page.goto(`${www}/undeclared.html`);
  await page.locator(`${banner} [data-action="reject_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);

  // A moment after the choice applies, one report: the names no valid version declares, the
  // choice in force, no cookie.
  await expect.poll(() => reports.length, { timeout: 10_000 }).toBe(1);
  const report = reports[0];
  expect(JSON.parse(report.postData()!)).toEqual({
    names: [
      { kind: 'cookie', name: 'ab_bucket' },
      { kind: 'local_storage', name: 'feature_flags' },
    ],
    choice: 'rejected',
  });
  expect((await report.allHeaders())['cookie']).toBeUndefined();
  const answer = await report.response();
  expect(answer!.status()).toBe(202);
  expect(await answer!.json()).toEqual({ undeclared: 2 });
  // The module was fetched without the visitor's cookies too.
  const module = sent.find((request) => request.url === `${service}/embed/observe.js`)!;
  expect(module.headers['cookie']).toBeUndefined();

  // What the page sent to the service, and every body it sent anywhere, holds no value.
  await page.waitForTimeout(500);
  for (const request of sent) {
    for (const secret of secrets) {
      expect(request.body, request.url).not.toContain(secret);
      if (request.url.startsWith(service)) {
        expect(request.url).not.toContain(secret);
        expect(JSON.stringify(request.headers), request.url).not.toContain(secret);
      }
    }
  }

  // The console lists both names for this site under the choice in force, with a draft.
  await page.goto(`${service}/admin`);
  await expect(page).toHaveURL(/\/admin\/sign-in$/);
  await page.getByLabel('Admin token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await page.getByRole('link', { name: 'Undeclared identifiers' }).click();
  await expect(page).toHaveURL(/\/admin\/identifiers$/);
  const row = page.locator('#table-undeclared tbody tr', { has: page.locator('code', { hasText: /^ab_bucket$/ }) })
    .filter({ hasText: 'rejected' })
    .filter({ hasText: www });
  await expect(row).toHaveCount(1);
  await expect(row.locator('td').nth(0)).toHaveText('cookie');
  await expect(page.locator('#chart-undeclared svg')).toBeVisible();
  expect(await page.content()).not.toContain('SECRETVALUE123');

  await row.getByRole('link', { name: 'Draft' }).click();
  await expect(page).toHaveURL(/\/admin\/identifiers\/draft\?kind=cookie&name=ab_bucket$/);
  await expect(page.locator('#identifier-draft')).toContainText('[[categories.identifiers]]\nname = "ab_bucket"\nkind = "cookie"');
});
