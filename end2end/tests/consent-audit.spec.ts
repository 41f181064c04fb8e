import { test, expect, type Page } from '@playwright/test';
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { directURL, parentDomain } from '../playwright.config';
import {
  currentPolicyVersion,
  freshVersion,
  publishPolicy,
  ssaidOf,
  storedEvents,
  waitForHydration,
  watchErrors,
} from './helpers';

const banner = '[data-testid="consent-banner"]';

async function acceptAll(page: Page) {
  await page.goto('/');
  await waitForHydration(page);
  await page.locator(`${banner} button[data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
}

test('a material policy change shows the banner again; a non-material one does not', async ({ page }) => {
  const errors = watchErrors(page);
  await acceptAll(page);

  await publishPolicy(freshVersion('minor'), false);
  await page.reload();
  await waitForHydration(page);
  await expect(page.locator(banner)).toHaveCount(0);

  const material = freshVersion('material');
  await publishPolicy(material, true);
  await page.reload();
  await waitForHydration(page);
  await expect(page.locator(banner)).toBeVisible();
  await expect(page.locator(`${banner} [data-testid="notice-changed"]`)).toContainText('changed');
  await expect(page.locator(`${banner} [data-testid="notice-changed"] a`)).toHaveAttribute('href', '/notice');

  await page.locator(`${banner} button[data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  await page.reload();
  await expect(page.locator(banner)).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('withdrawing clears Matomo cookies on the parent domain and refused local storage', async ({ page, context }) => {
  const errors = watchErrors(page);
  await acceptAll(page);
  // What Matomo's tracker on www.zeccloud.test would have left on the shared parent domain.
  await page.evaluate((domain) => {
    for (const name of ['_pk_id.1.a4f2', '_pk_ses.1.a4f2', '_pk_ref.1.a4f2', 'mtm_consent']) {
      document.cookie = `${name}=1; domain=${domain}; path=/; max-age=3600`;
    }
    document.cookie = 'unrelated=keep; path=/; max-age=3600';
    localStorage.setItem('zc.lang', 'ja');
  }, parentDomain);
  const names = async () => (await context.cookies()).map((c) => `${c.name}@${c.domain}`);
  expect(await names()).toContain(`_pk_id.1.a4f2@.${parentDomain}`);

  await page.goto('/preferences');
  await waitForHydration(page);
  await expect(page.locator('[data-testid="current-choice"] [data-category="analytics"]')).toHaveAttribute(
    'data-state',
    'allowed',
  );
  await page.locator('button[data-action="withdraw"]').click();
  await expect(page.locator('[data-testid="current-choice"] [data-category="analytics"]')).toHaveAttribute(
    'data-state',
    'refused',
  );

  const left = await names();
  for (const gone of ['_pk_id.1.a4f2', '_pk_ses.1.a4f2', '_pk_ref.1.a4f2', 'mtm_consent']) {
    expect(left.filter((n) => n.startsWith(`${gone}@`)), `${gone} is gone`).toEqual([]);
  }
  expect(left).toContain('unrelated@consent.zeccloud.test');
  expect(left.some((n) => n.startsWith('zc_consent@'))).toBe(true);
  expect(await page.evaluate(() => localStorage.getItem('zc.lang'))).toBeNull();

  const events = storedEvents(await ssaidOf(context));
  expect(events.map((e) => [e.action, e.source])).toEqual([
    ['accept_all', 'banner'],
    ['withdraw', 'preference_center'],
  ]);
  expect(events[1].categories).toEqual({ necessary: true, preferences: false, analytics: false });
  expect(errors).toEqual([]);
});

test.describe('with the Sec-GPC header', () => {
  test.use({ extraHTTPHeaders: { 'Sec-GPC': '1' } });

  test('analytics is refused without a click, and an explicit opt-in wins', async ({ page, context }) => {
    const errors = watchErrors(page);
    await page.goto('/');
    await waitForHydration(page);
    await expect(page.locator(`${banner} [data-testid="gpc-honoured"]`)).toBeVisible();
    const ssaid = await ssaidOf(context);
    // Honoured at once, recorded when the browser comes back with its SSAID, and only once.
    expect(storedEvents(ssaid)).toHaveLength(0);
    for (let view = 0; view < 2; view++) {
      await page.reload();
      await waitForHydration(page);
      await expect(page.locator(`${banner} [data-testid="gpc-honoured"]`)).toBeVisible();
    }
    let events = storedEvents(ssaid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'gpc', source: 'gpc', categories: { necessary: true, analytics: false } });

    await page.locator(`${banner} button[data-action="accept_all"]`).click();
    await expect(page.locator(banner)).toHaveCount(0);
    events = storedEvents(ssaid);
    expect(events.map((e) => [e.action, e.categories.analytics])).toEqual([
      ['gpc', false],
      ['accept_all', true],
    ]);
    expect(errors).toEqual([]);
  });
});

test('GPC is the browser\'s signal: a page that only claims it records nothing', async ({ page, context }) => {
  await context.addInitScript(() =>
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
  );
  await page.goto('/');
  await waitForHydration(page);
  await expect(page.locator(banner)).toBeVisible();
  await expect(page.locator(`${banner} [data-testid="gpc-honoured"]`)).toHaveCount(0);
  // A script posting a GPC decision without the browser's Sec-GPC header is refused.
  const answer = await page.evaluate(async (version) => {
    const response = await fetch('/_sf/record_consent', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ policy_version: version, action: 'gpc' }),
    });
    return { status: response.status, body: await response.json() };
  }, await currentPolicyVersion());
  expect(answer).toMatchObject({ status: 422, body: { code: 'gpc_without_signal' } });
  expect(storedEvents(await ssaidOf(context))).toHaveLength(0);
});

test('the receipt downloads from the preference center and verifies with the published key', async ({ page, context }) => {
  await acceptAll(page);
  await page.goto('/preferences');
  await waitForHydration(page);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-testid="receipt-link"]').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^consent-receipt-.*\.json$/);
  const signed = JSON.parse(readFileSync(await download.path(), 'utf8'));

  const [header, payload, signature] = signed.jws.split('.');
  const jwks = await (await fetch(`${directURL}/.well-known/jwks.json`)).json();
  const { kid, alg } = JSON.parse(Buffer.from(header, 'base64url').toString());
  expect(alg).toBe('EdDSA');
  const jwk = jwks.keys.find((key: any) => key.kid === kid);
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  expect(verify(null, Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  expect(claims).toEqual(signed.receipt);

  const events = storedEvents(await ssaidOf(context));
  expect(signed.receipt).toMatchObject({
    record_id: events[0].id,
    pii_principal_id: await ssaidOf(context),
    notice: { version: await currentPolicyVersion(), policy_hash: events[0].policy_hash },
    event: { action: 'accept_all', source: 'banner' },
    state: 'active',
  });
  // Tampering breaks the signature.
  const forged = Buffer.from(JSON.stringify({ ...claims, state: 'withdrawn' })).toString('base64url');
  expect(verify(null, Buffer.from(`${header}.${forged}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(false);
});

test('the notice lists every identifier of the registry at #identifiers', async ({ page }) => {
  await page.goto('/notice#identifiers');
  const table = page.locator('#identifiers table');
  await expect(table).toBeVisible();
  for (const name of ['_pk_id.*', '_pk_ses.*', '_pk_ref.*', 'mtm_consent', 'mtm_consent_removed', '__Host-zc_ssaid', 'zc_consent']) {
    await expect(table.locator(`tr[data-identifier="${name}"]`)).toHaveCount(1);
  }
  await expect(table.locator('tr[data-identifier="_pk_id.*"]')).toContainText('13 months');
  await expect(table.locator('tr[data-identifier="_pk_id.*"]')).toContainText(`.${parentDomain}`);
});

test.describe('with JavaScript disabled', () => {
  test.use({ javaScriptEnabled: false });

  test('the preference center withdraws with a plain form', async ({ page, context }) => {
    await page.goto('/');
    await page.locator(`${banner} button[data-action="accept_all"]`).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.goto('/preferences');
    await page.locator('button[data-action="withdraw"]').click();
    await page.waitForURL(/\/preferences/);
    await expect(page.locator('[data-testid="current-choice"] [data-category="analytics"]')).toHaveAttribute(
      'data-state',
      'refused',
    );
    const events = storedEvents(await ssaidOf(context));
    expect(events.map((e) => [e.action, e.source])).toEqual([
      ['accept_all', 'no_js_form'],
      ['withdraw', 'no_js_form'],
    ]);
  });
});
