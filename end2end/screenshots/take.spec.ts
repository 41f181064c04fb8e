import { test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { waitForHydration } from '../tests/helpers';

const out = (name: string) => path.join(__dirname, '..', '..', 'docs', 'screenshots', `${name}.png`);

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

test.describe('operator console', () => {
  test.use({ locale: 'en-US', colorScheme: 'light', viewport: { width: 1280, height: 1400 } });
  test('overview', async ({ page }) => {
    // A month of sample counts straight into the statistics table (the picture needs days the
    // fresh test database has not lived through), and the overview's tallies from them by
    // migration 8's own statement; the page reads only these.
    const { execFileSync } = await import('node:child_process');
    const { databasePath, adminToken } = await import('../playwright.config');
    const rows: string[] = [];
    const shapes = [
      ['accept_all', 'necessary,preferences,analytics', 52],
      ['reject_all', 'necessary', 31],
      ['custom', 'necessary,preferences', 9],
      ['withdraw', 'necessary', 2],
      ['gpc', 'necessary,preferences', 4],
    ] as const;
    const places = [['en', 'desktop', ''], ['ja', 'mobile', 'https://www.zeccloud.test'], ['ko', 'desktop', ''], ['zh-Hant', 'mobile', '']];
    for (let back = 29; back >= 0; back--) {
      const day = new Date(Date.now() - back * 86_400_000).toISOString().slice(0, 10);
      for (const [action, granted, base] of shapes) {
        places.forEach(([language, terminal, origin], index) => {
          const count = Math.max(0, Math.round(base / (index + 1) + 6 * Math.sin((back + index) / 3)));
          rows.push(`('${day}','2026-11-27','${origin}','${language}','${terminal}','${action}','banner','${granted}',${count})`);
        });
      }
    }
    const migration = readFileSync(
      path.join(__dirname, '..', '..', 'server', 'migrations', 'sqlite', '20261127000008_decision_tallies.sql'),
      'utf8',
    );
    const talliesFromCounts = migration.slice(migration.indexOf('-- The days counted so far'));
    execFileSync('sqlite3', [
      databasePath,
      `INSERT OR REPLACE INTO decision_counts VALUES ${rows.join(',')}; DELETE FROM decision_tallies; ${talliesFromCounts}`,
    ]);
    await page.goto('/admin/sign-in');
    await page.getByLabel('Admin token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The console is server-rendered only: no WASM to wait for.
    await page.locator('#zc-console').waitFor();
    await page.screenshot({ path: out('console-overview') });
  });
});
