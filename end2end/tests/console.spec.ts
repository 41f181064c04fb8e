import { test, expect, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { adminToken, databasePath, directURL } from '../playwright.config';
import { currentPolicyVersion, freshVersion, watchErrors } from './helpers';
import { execFileSync } from 'node:child_process';

// The operator console: sign in, charts that count a known set of decisions, proof at a
// click with its receipt, a diff before publishing, the export, the consent log and its check;
// no axe violations.

/** Runs axe-core against WCAG 2.x A/AA rules on the whole page. */
async function axeViolations(page: Page) {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  return page.evaluate(async () => {
    const axe = (window as any).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return result.violations.map((v: any) => ({ id: v.id, nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 5) }));
  });
}

async function signIn(page: Page) {
  await page.goto('/admin');
  await expect(page).toHaveURL(/\/admin\/sign-in$/);
  await page.getByLabel('Admin token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin$/);
}

/** A decision made through the JSON API by a new visitor; its consent id. */
async function decide(action: string): Promise<string> {
  const first = await fetch(`${directURL}/api/v1/consent`);
  const ssaid = /zc_ssaid=([^;]+)/.exec(first.headers.get('set-cookie') ?? '')![1];
  const answer = await fetch(`${directURL}/api/v1/consent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: `zc_ssaid=${ssaid}` },
    body: JSON.stringify({ policy_version: await currentPolicyVersion(), action, language: 'ko' }),
  });
  expect(answer.status).toBe(201);
  return (await answer.json()).consent.event_id;
}

/** Decisions stored today (UTC), counted straight from the database. */
function storedToday(action?: string): number {
  const today = new Date().toISOString().slice(0, 10);
  const where = action ? ` AND action = '${action}'` : '';
  return Number(
    execFileSync('sqlite3', [databasePath, `SELECT COUNT(*) FROM consent_events WHERE substr(created_at, 1, 10) = '${today}'${where}`])
      .toString()
      .trim(),
  );
}

/** The cells of today's row in the table of decisions per day. */
async function todaysRow(page: Page): Promise<string[]> {
  const today = new Date().toISOString().slice(0, 10);
  const row = page.locator('#table-actions tbody tr', { has: page.locator(`th:text-is("${today}")`) });
  return row.locator('td').allTextContents();
}

test.describe('with JavaScript', () => {
  // axe-core is injected as a script tag, which the console's CSP rightly refuses.
  test.use({ bypassCSP: true });

  test('the overview counts a known set of decisions, in charts and tables', async ({ page }) => {
    const errors = watchErrors(page);
    await signIn(page);
    const before = await todaysRow(page);
    for (const action of ['accept_all', 'accept_all', 'accept_all', 'reject_all', 'reject_all']) {
      await decide(action);
    }
    await page.reload();
    const after = await todaysRow(page);
    // Accept all, Reject all, Custom, Withdraw, GPC, Acknowledged, All.
    const delta = after.map((cell, index) => Number(cell) - Number(before[index]));
    expect(delta).toEqual([3, 2, 0, 0, 0, 0, 5]);
    // The numbers are the database's: every decision stored today, none more.
    expect(Number(after[6])).toBe(storedToday());
    expect(Number(after[0])).toBe(storedToday('accept_all'));
    // Each chart is drawn, titled for assistive technology, with its table beneath.
    for (const chart of ['chart-actions', 'chart-grants', 'chart-dimension-2']) {
      await expect(page.locator(`#${chart} svg`)).toBeVisible();
      await expect(page.locator(`#${chart}`)).toHaveAttribute('role', 'img');
    }
    await expect(page.locator('table[data-dimension="Language"] th', { hasText: 'ko' })).toBeVisible();
    await page.getByRole('link', { name: 'Last 90 days' }).click();
    await expect(page.locator('#table-actions tbody tr')).toHaveCount(90);
    expect(await axeViolations(page)).toEqual([]);
    expect(errors).toEqual([]);
  });

  test('a decision is found by its consent id and its receipt downloads', async ({ page }) => {
    const consentId = await decide('reject_all');
    await signIn(page);
    await page.getByRole('link', { name: 'Proof of consent' }).click();
    await page.getByLabel('Consent id or SSAID').fill(consentId);
    await page.getByRole('button', { name: 'Find' }).click();
    const event = page.locator(`[data-event-id="${consentId}"]`);
    await expect(event).toHaveAttribute('data-match', 'true');
    await expect(event.locator('dd').first()).toHaveText(consentId);
    await event.locator('summary').click();
    await expect(event.locator('details h3')).toHaveText('개인정보 선택');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      event.getByRole('link', { name: 'Download signed receipt' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`consent-receipt-${consentId}.json`);
    const signed = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(signed.receipt).toMatchObject({ record_id: consentId, event: { action: 'reject_all', source: 'api' } });
    expect(await axeViolations(page)).toEqual([]);
  });

  test('a new version is compared with the current one before it is published', async ({ page }) => {
    const current = await currentPolicyVersion();
    const next = freshVersion('console');
    const source = readFileSync(path.join(__dirname, '..', '..', 'app', 'policy', 'default-policy.toml'), 'utf8').replace(
      /^version = ".*"$/m,
      `version = "${next}"`,
    );
    await signIn(page);
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.getByLabel('Policy file (TOML)').setInputFiles({ name: 'policy.toml', mimeType: 'text/plain', buffer: Buffer.from(source) });
    await page.getByRole('button', { name: 'Check and compare' }).click();
    const versionRow = page.locator('#table-diff tr', { has: page.locator('code:text-is("version")') });
    await expect(versionRow.locator('td')).toHaveText(['changed', current, next]);
    expect(await currentPolicyVersion()).toBe(current);
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(`Version ${next} is published.`);
    expect(await currentPolicyVersion()).toBe(next);
    // The two published versions compare the same way.
    await page.getByLabel('From', { exact: true }).selectOption(current);
    await page.getByLabel('To', { exact: true }).selectOption(next);
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await expect(page.locator('#table-diff tr', { has: page.locator('code:text-is("version")') }).locator('td')).toHaveText([
      'changed',
      current,
      next,
    ]);
    expect(await axeViolations(page)).toEqual([]);
  });

  test('the export downloads the decisions of a range', async ({ page }) => {
    await decide('accept_all');
    await signIn(page);
    await page.getByRole('link', { name: 'Export' }).click();
    expect(await axeViolations(page)).toEqual([]);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^consent-decisions-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(lines[0]).toBe(
      'consent_id,decided_at,ssaid,policy_version,policy_hash,banner_text_hash,language,action,source,categories,network_prefix,terminal_type,origin,made_at,jurisdiction,regime,country,country_source',
    );
    const thirtyDaysAgo = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    const stored = Number(
      execFileSync('sqlite3', [databasePath, `SELECT COUNT(*) FROM consent_events WHERE substr(created_at, 1, 10) >= '${thirtyDaysAgo}'`])
        .toString()
        .trim(),
    );
    expect(lines.length - 1).toBe(stored);
  });

  test('the consent log shows its latest signed head, and Verify now checks the whole log', async ({ page }) => {
    await decide('accept_all');
    await signIn(page);
    await page.getByRole('link', { name: 'Consent log' }).click();
    await expect(page).toHaveURL(/\/admin\/log$/);
    // A head is signed every few seconds while the log grows: wait for the one with every leaf.
    const leaves = () => Number(execFileSync('sqlite3', [databasePath, 'SELECT COUNT(*) FROM log_leaves']).toString().trim());
    const latestSize = page.locator('#zc-log-latest-head [data-field="tree-size"]');
    await expect
      .poll(
        async () => {
          await page.reload();
          return Number(await latestSize.textContent());
        },
        { timeout: 20_000 },
      )
      .toBe(leaves());
    // The same head the public API serves, checkpoint and all.
    const head = await (await fetch(`${directURL}/api/v1/log/head`)).json();
    expect(head.tree_size).toBe(leaves());
    await expect(page.locator('#zc-log-latest-head [data-field="root-hash"]')).toHaveText(head.root_hash);
    expect(await page.locator('#zc-log-checkpoint').textContent()).toBe(head.checkpoint);
    await expect(page.locator('#table-log-heads tbody tr').first()).toHaveAttribute('data-tree-size', String(head.tree_size));
    const keys = await (await fetch(`${directURL}/api/v1/log/key`)).json();
    await expect(page.locator('#table-log-keys')).toContainText(keys.keys[0].verifier_key);
    expect(await axeViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Verify now' }).click();
    await expect(page).toHaveURL(/\/admin\/log$/);
    const result = page.locator('#zc-log-verification-result');
    await expect(result).toHaveAttribute('data-outcome', 'clean');
    await expect(result.locator('[data-field="leaves"]')).toHaveText(String(leaves()));
    expect(await axeViolations(page)).toEqual([]);
  });

  test('sign-in, operations and the sign-in page have no axe violations; sign-out ends the session', async ({ page }) => {
    await page.goto('/admin/sign-in');
    expect(await axeViolations(page)).toEqual([]);
    await signIn(page);
    await page.getByRole('link', { name: 'Operations' }).click();
    await expect(page.locator('#table-risk')).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/admin\/sign-in$/);
    await page.goto('/admin');
    await expect(page).toHaveURL(/\/admin\/sign-in$/);
  });
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('sign-in, overview and proof work with plain forms and links', async ({ page }) => {
    const consentId = await decide('accept_all');
    await page.goto('/admin/sign-in');
    await page.getByLabel('Admin token').fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('That is not the admin token.');
    await signIn(page);
    // The console sends no script at all: the same pages with JavaScript on or off.
    await expect(page.locator('script')).toHaveCount(0);
    await expect(page.locator('#chart-actions svg')).toBeVisible();
    await page.goto(`/admin/proof?q=${consentId}`);
    await expect(page.locator(`[data-event-id="${consentId}"]`)).toHaveAttribute('data-match', 'true');
  });
});
