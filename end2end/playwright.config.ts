import { defineConfig } from '@playwright/test';
import path from 'node:path';

// The service under test: the release build from `cargo leptos build --release`, on a fresh
// SQLite database in .tmp/ (the tests read its rows to check what was recorded).
const root = path.resolve(__dirname, '..');
const tmp = path.join(__dirname, '.tmp');
export const port = Number(process.env.E2E_PORT ?? 3100);
/** The static "other ZecCloud site" (end2end/host-site) that embeds the banner. */
export const hostPort = Number(process.env.E2E_HOST_PORT ?? 3101);
/** The recording stand-in for Matomo's tracking endpoint (see e2e.toml). */
export const matomoUpstreamURL = 'http://127.0.0.1:3102';
export const databasePath = path.join(tmp, 'e2e.db');
export const adminToken = 'e2e-admin-token-0123456789';
export const parentDomain = 'zeccloud.test';
/** For requests made from Node (the `request` fixture), which does not use Chromium's host map. */
export const directURL = `http://127.0.0.1:${port}`;
/** The operations listener: readiness and the counters. */
export const opsURL = `http://127.0.0.1:${port + 10}`;

export default defineConfig({
  testDir: './tests',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 30_000,
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  use: {
    baseURL: `http://consent.${parentDomain}:${port}`,
    trace: 'off',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Sibling hostnames on one machine: consent.zeccloud.test, www.zeccloud.test, ...
        // evil.test: a site that is not on the embed allowlist.
        '--host-resolver-rules=MAP *.zeccloud.test 127.0.0.1, MAP evil.test 127.0.0.1',
      ],
    },
  },
  webServer: [
    {
      command: `rm -rf '${tmp}' && mkdir -p '${tmp}' && exec '${root}/target/release/server'`,
      url: `${opsURL}/healthz/ready`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        ZC_CONFIG: path.join(__dirname, 'e2e.toml'),
        ZC_LISTEN: `127.0.0.1:${port}`,
        ZC_OPS_LISTEN: opsURL.replace('http://', ''),
        DATABASE_URL: `sqlite://${databasePath}`,
        ZC_SIGNING_KEY_FILE: path.join(tmp, 'signing.key'),
        ZC_LOG__KEY_FILE: path.join(tmp, 'log.key'),
        LEPTOS_SITE_ROOT: path.join(root, 'target', 'site'),
        // The visitor's country, as a trusted edge reports it: tests/regimes.spec.ts sends it
        // (only to the service) to place a visitor; without it the regime is the default, opt-in.
        // Trusting the loopback peer changes nothing else: no test sends X-Forwarded-For.
        ZC_COUNTRY_HEADER: 'x-test-country',
        ZC_TRUSTED_PROXIES: '["127.0.0.1"]',
        RUST_LOG: 'info',
      },
    },
    {
      command: 'node host-site/server.mjs',
      url: `http://127.0.0.1:${hostPort}/index.html`,
      reuseExistingServer: false,
      timeout: 10_000,
      env: { HOST_PORT: String(hostPort), UPSTREAM_PORT: '3102' },
    },
  ],
});
