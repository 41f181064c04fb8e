import { test, expect, type Page } from '@playwright/test';
import { directURL, hostPort, matomoUpstreamURL, opsURL, parentDomain, port } from '../playwright.config';

// A host page integrated as with Matomo (requireConsent, setTrackerUrl → the gate), with a
// stand-in for matomo.js that sends the same request shapes. The recording upstream behind
// the gate shows what reached "Matomo".
const www = `http://www.zeccloud.test:${hostPort}`;
const banner = '#zc-consent [data-testid="consent-banner"]';

type Forwarded = { method: string; path: string; query: string; headers: Record<string, string>; body: string };

/** Every hit of our site that reached the upstream, as parameter maps. */
async function forwardedHits(site: string): Promise<Record<string, string>[]> {
  const received: Forwarded[] = await (await fetch(`${matomoUpstreamURL}/__received`)).json();
  const hits: Record<string, string>[] = [];
  for (const request of received) {
    expect(request.headers.cookie, 'visitor cookies never reach Matomo').toBeUndefined();
    if (request.body.startsWith('{')) {
      for (const entry of JSON.parse(request.body).requests) hits.push({ shape: 'bulk', ...Object.fromEntries(new URLSearchParams(entry.slice(1))) });
    } else {
      const params = request.method === 'GET' ? request.query : request.body;
      hits.push({ shape: request.method, ...Object.fromEntries(new URLSearchParams(params)) });
    }
  }
  return hits.filter((hit) => hit.idsite === site);
}

/** One counter of the gate, from the operations listener's /metrics. */
async function counter(series: string): Promise<number> {
  const text = await (await fetch(`${opsURL}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.split(' ')[1]) : 0;
}

const dropped = 'zeccloud_matomo_hits_total{outcome="dropped",reason="no_consent"}';
const rejected = 'zeccloud_matomo_rejected_requests_total{code="origin_not_allowed"}';

async function sendEveryShape(page: Page, label: string) {
  await page.evaluate((l) => (window as any).__tracker.sendEveryShape(l), label);
}

test('no hit reaches Matomo before consent; the page\'s hits do after', async ({ page, context }) => {
  const alreadyDropped = await counter(dropped);
  await page.goto(`${www}/matomo.html?site=7`);
  await expect(page.locator(banner)).toBeVisible();

  // Hits that bypass requireConsent: five hits in four requests, each answered as Matomo would.
  await sendEveryShape(page, 'before');
  await expect.poll(() => counter(dropped)).toBe(alreadyDropped + 5);
  await expect.poll(() => page.evaluate(() => (window as any).__xhrStatuses)).toEqual([204, 204]);
  expect(await forwardedHits('7')).toEqual([]);

  // Consent: the embed tells the tracker (rememberConsentGiven), which sends its held page view.
  await page.locator(`${banner} [data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  await sendEveryShape(page, 'after');

  const userAgent = await page.evaluate(() => navigator.userAgent);
  await expect.poll(async () => (await forwardedHits('7')).map((h) => h.action_name).sort()).toEqual(
    ['Matomo page', 'after beacon', 'after bulk 1', 'after bulk 2', 'after image', 'after xhr'].sort(),
  );
  const hits = await forwardedHits('7');
  // Every consented hit carries the visitor id the service computes from the SSAID, which the
  // visitor's own data lists (and erasure uses to find the visits in Matomo).
  const ssaid = (await context.cookies(`http://consent.${parentDomain}:${port}`)).find((c) => c.name === 'zc_ssaid');
  expect(ssaid, 'the embed gave the browser an SSAID').toBeTruthy();
  const me = await (await fetch(`${directURL}/api/v1/me`, { headers: { cookie: `zc_ssaid=${ssaid!.value}` } })).json();
  for (const hit of hits) {
    expect(hit.cid, 'the keyed visitor id').toBe(me.matomo.visitor_id);
    expect(hit._id, 'with consent the visitor id goes through').toMatch(/^[0-9a-f]{16}$/);
    expect(hit.ua).toBe(userAgent);
    expect(hit.lang).toBeTruthy();
    expect(hit.cip, 'no token_auth configured: no address').toBeUndefined();
  }
  expect(hits.map((h) => h.shape).sort()).toEqual(['GET', 'GET', 'POST', 'POST', 'bulk', 'bulk']);
  // The credentialed cross-origin XHRs were readable: CORS with the exact origin.
  expect(await page.evaluate(() => (window as any).__xhrStatuses)).toEqual([204, 204, 204, 204]);
  expect(hits.some((h) => h.action_name.startsWith('before'))).toBe(false);
});

test('a site that is not on the allowlist cannot send hits through the gate', async ({ page, context }) => {
  // A visitor who consented on a ZecCloud site…
  await page.goto(`${www}/matomo.html?site=8`);
  await page.locator(`${banner} [data-action="accept_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  await expect.poll(async () => (await forwardedHits('8')).length).toBeGreaterThan(0);
  const before = (await forwardedHits('8')).length;
  const alreadyRejected = await counter(rejected);

  // …then visits a foreign site that posts to the gate with their credentials.
  const evil = await context.newPage();
  await evil.goto(`http://evil.test:${hostPort}/matomo.html`);
  await evil.evaluate(() => {
    const request = new XMLHttpRequest();
    request.open('POST', 'http://consent.zeccloud.test:3100/matomo.php', true);
    request.withCredentials = true;
    request.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8');
    request.onloadend = () => ((window as any).__evilStatus = request.status);
    request.send('idsite=8&rec=1&action_name=evil');
  });
  await expect.poll(() => evil.evaluate(() => (window as any).__evilStatus)).toBe(0);
  await expect.poll(() => counter(rejected)).toBe(alreadyRejected + 1);
  expect((await forwardedHits('8')).length).toBe(before);
});
