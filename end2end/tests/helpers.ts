import { expect, type BrowserContext, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { adminToken, databasePath, directURL } from '../playwright.config';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type ConsentRow = {
  id: string;
  ssaid: string;
  policy_version: string;
  categories: Record<string, boolean>;
  action: string;
  source: string;
  policy_hash: string;
  banner_text_hash: string;
  ip_prefix: string | null;
  ua_class: string;
};

/** The SSAID inside the visitor's signed `zc_ssaid` cookie. */
export async function ssaidOf(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'zc_ssaid');
  expect(cookie, 'the service sets zc_ssaid').toBeTruthy();
  const payload = JSON.parse(Buffer.from(cookie!.value.split('.')[1], 'base64url').toString());
  return payload.sub;
}

/** The consent events stored for one SSAID, read straight from the database. */
export function storedEvents(ssaid: string): ConsentRow[] {
  if (!/^[A-Za-z0-9_-]{22}$/.test(ssaid)) throw new Error(`not an SSAID: ${ssaid}`);
  const out = execFileSync('sqlite3', [
    '-json',
    databasePath,
    `SELECT id, ssaid, policy_version, categories, action, source, policy_hash, banner_text_hash, ip_prefix, ua_class FROM consent_events WHERE ssaid = '${ssaid}' ORDER BY created_at`,
  ]).toString();
  const rows = out.trim() ? JSON.parse(out) : [];
  return rows.map((row: any) => ({ ...row, categories: JSON.parse(row.categories) }));
}

/** Collects console errors and uncaught exceptions; assert on them at the end of a test. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`${response.status()} ${response.url()}`);
  });
  return errors;
}

/** Waits until every island on the page (banner and dialog, preference center, the footer's
 * settings link) has hydrated: each says `data-hydrated="false"` until its WASM runs. */
export async function waitForHydration(page: Page) {
  await expect(page.locator('[data-hydrated="true"]').first()).toBeAttached();
  await expect(page.locator('[data-hydrated="false"]')).toHaveCount(0);
}

/** The policy version the service currently shows. */
export async function currentPolicyVersion(): Promise<string> {
  const response = await fetch(`${directURL}/api/v1/policy`);
  expect(response.status).toBe(200);
  return (await response.json()).version;
}

/** Publishes the default policy under a new version id through the admin API. */
export async function publishPolicy(version: string, material: boolean): Promise<void> {
  const source = readFileSync(path.join(__dirname, '..', '..', 'app', 'policy', 'default-policy.toml'), 'utf8');
  const changed = source.replace(/^version = ".*"$/m, `version = "${version}"`);
  const response = await fetch(`${directURL}/api/v1/admin/policies?material=${material}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/toml' },
    body: changed,
  });
  expect(response.status, await response.clone().text()).toBe(201);
}

/** A version id no earlier run or test has used. */
export function freshVersion(label: string): string {
  return `${label}-${Date.now()}`;
}

/** How long before it was recorded each of a visitor's decisions was made, in milliseconds
 *  (null: delivered at once), read straight from the database. */
export function lateness(ssaid: string): (number | null)[] {
  if (!/^[A-Za-z0-9_-]{22}$/.test(ssaid)) throw new Error(`not an SSAID: ${ssaid}`);
  const out = execFileSync('sqlite3', [
    '-json',
    databasePath,
    `SELECT CAST(ROUND((julianday(created_at) - julianday(made_at)) * 86400000) AS INTEGER) AS late FROM consent_events WHERE ssaid = '${ssaid}' ORDER BY created_at`,
  ]).toString();
  return (out.trim() ? JSON.parse(out) : []).map((row: { late: number | null }) => row.late);
}

/** Answers the first `times` requests to `pattern` as the service does while its storage is
 *  down (503, Retry-After, the JSON error); later ones reach the service. Returns the bodies
 *  of every request sent, in order. */
export async function storageDownFor(page: Page, pattern: string, times: number): Promise<string[]> {
  const bodies: string[] = [];
  await page.route(pattern, async (route) => {
    bodies.push(route.request().postData() ?? '');
    if (bodies.length <= times) {
      const error = { code: 'storage_unavailable', message: 'your choice could not be saved right now; please try again in a moment' };
      await route.fulfill({
        status: 503,
        headers: { 'retry-after': '5', 'access-control-allow-origin': route.request().headers()['origin'] ?? '*', 'access-control-allow-credentials': 'true' },
        contentType: 'application/json',
        body: JSON.stringify(pattern.includes('/_sf/') ? error : { error }),
      });
    } else {
      await route.continue();
    }
  });
  return bodies;
}

/** Runs axe-core (from npm, injected into the page: the test needs `bypassCSP`) against WCAG 2.x
 *  A/AA rules, inside `include` when given. */
export async function axeViolations(page: Page, include?: string) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  return page.evaluate(async (selector) => {
    const axe = (window as any).axe;
    const result = await axe.run(selector ? { include: [selector] } : document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 5),
    }));
  }, include);
}
