import { test, expect } from '@playwright/test';
import { axeViolations } from './helpers';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { adminToken, databasePath, directURL, hostPort, port } from '../playwright.config';

// The tracker audit (`server scan`, docs/tracker-audit.md) against the test site's pages in
// end2end/host-site/scan/ and against the service's own pages: exactly the violations each page
// has, the exit status, the draft that parses as policy TOML, and the scan's own failures.

const root = path.resolve(__dirname, '..', '..');
const binary = path.join(root, 'target', 'release', 'server');
const site = `http://www.zeccloud.test:${hostPort}`;
const service = `http://consent.zeccloud.test:${port}`;
// Chromium resolves the test hostnames as the other browser tests do (playwright.config.ts).
const hostRules = '--browser-arg=--host-resolver-rules=MAP *.zeccloud.test 127.0.0.1, MAP evil.test 127.0.0.1';
const scratch = mkdtempSync(path.join(tmpdir(), 'zc-scan-'));

type Finding = { kind: string; subject: { type: string; kind?: string; name?: string; host?: string }; profiles: string[]; detail: string; set_by?: string };
type Report = { violations: number; pages: { url: string; findings: Finding[] }[]; registry_source: string };

// `--record` keeps the report in the service's database: the settings the service runs with.
const tmp = path.dirname(databasePath);
const serviceEnv = {
  ...process.env,
  ZC_CONFIG: path.join(__dirname, '..', 'e2e.toml'),
  DATABASE_URL: `sqlite://${databasePath}`,
  ZC_SIGNING_KEY_FILE: path.join(tmp, 'signing.key'),
  ZC_LOG__KEY_FILE: path.join(tmp, 'log.key'),
};

function scan(args: string[], timeout = 110_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(binary, ['scan', ...args], { timeout, env: serviceEnv }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as any).code ?? -1) : 0, stdout, stderr });
    });
  });
}

/** One page scanned alone (no links followed), against the service's registry; its report. */
async function scanOne(page: string, code: number): Promise<{ report: Report; stdout: string; draft: string }> {
  const json = path.join(scratch, `${page}.json`);
  const draft = path.join(scratch, `${page}.toml`);
  const run = await scan([`${site}/scan/${page}.html`, '--max-pages', '1', '--service', directURL,
    hostRules, '--settle-ms', '800', '--json', json, '--draft', draft]);
  expect(run.code, run.stdout + run.stderr).toBe(code);
  return { report: JSON.parse(readFileSync(json, 'utf8')), stdout: run.stdout, draft: readFileSync(draft, 'utf8') };
}

const summary = (report: Report) =>
  report.pages.map((page) => page.findings.map((f) => [f.kind, f.subject.name ?? f.subject.host, f.profiles]));

test.describe.configure({ timeout: 180_000 });
// axe is injected into the console page, whose CSP allows no such script.
test.use({ bypassCSP: true });

test('an undeclared cookie and a tracker before consent: exactly those violations, and a draft that parses', async () => {
  const { report, stdout, draft } = await scanOne('undeclared', 1);
  expect(summary(report)).toEqual([[
    ['not_declared', 'ab_bucket', ['no_choice', 'rejected', 'accepted']],
    ['third_party_before_choice', 'evil.test', ['no_choice']],
    ['third_party_after_rejection', 'evil.test', ['rejected']],
    ['undeclared_recipient', 'evil.test', ['no_choice', 'rejected', 'accepted']],
  ]]);
  const cookie = report.pages[0].findings[0];
  expect(cookie.set_by).toBe(`script ${site}/scan/ab-test.js`);
  expect(cookie.detail).toMatch(/^cookie on www\.zeccloud\.test\/, expires in 29 d 23 h$/);
  expect(report.violations).toBe(4);
  expect(stdout).toContain('not declared in the registry');
  expect(stdout).toContain('Result: 4 violation(s) on 1 of 1 page(s).');

  // The draft declares the cookie as seen, and pasted into the policy file it checks.
  expect(draft).toContain('name = "ab_bucket"\nkind = "cookie"');
  expect(draft).toContain('duration = "30d"\ndomain = "host"');
  const policy = readFileSync(path.join(root, 'app', 'policy', 'default-policy.toml'), 'utf8');
  const file = path.join(scratch, 'policy-with-draft.toml');
  writeFileSync(file, `${policy}\n${draft}`);
  const check = await new Promise<{ code: number; out: string }>((resolve) =>
    execFile(binary, ['policy', 'check', file], (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as any).code) : 0, out: stdout + stderr })));
  expect(check.code, check.out).toBe(0);
});

test('a declared analytics cookie left after "Reject all": exactly that violation', async () => {
  const { report, draft } = await scanOne('leaky', 1);
  expect(summary(report)).toEqual([[['after_rejection', '_pk_id.1.a4f2', ['rejected']]]]);
  // Declared: nothing to draft.
  expect(draft).toBe('');
});

test('a page that waits for consent is clean, and the crawl never leaves the site', async () => {
  const { report } = await scanOne('clean', 0);
  expect(summary(report)).toEqual([[]]);

  // From the clean page, its links: the site's other page (with its violations), never the
  // off-site one.
  const json = path.join(scratch, 'crawl.json');
  const run = await scan([`${site}/scan/clean.html`, '--max-pages', '5', '--service', directURL, hostRules,
    '--settle-ms', '800', '--json', json]);
  expect(run.code, run.stderr).toBe(1);
  const crawl: Report = JSON.parse(readFileSync(json, 'utf8'));
  expect(crawl.pages.map((page) => page.url)).toEqual([`${site}/scan/clean.html`, `${site}/scan/undeclared.html`]);
});

test("the service's own pages are clean", async () => {
  const json = path.join(scratch, 'own.json');
  const run = await scan([`${service}/`, '--max-pages', '6', '--service', directURL, hostRules,
    '--settle-ms', '800', '--json', json]);
  expect(run.code, run.stdout + run.stderr).toBe(0);
  const report: Report = JSON.parse(readFileSync(json, 'utf8'));
  const pages = report.pages.map((page) => new URL(page.url).pathname);
  expect(pages).toEqual(expect.arrayContaining(['/', '/notice', '/preferences']));
  expect(report.violations).toBe(0);
});

test('a kept scan is listed in the console beside the passive findings, with its findings and its draft', async ({ page }) => {
  const run = await scan([`${site}/scan/undeclared.html`, '--max-pages', '1', '--service', directURL, hostRules,
    '--settle-ms', '800', '--record']);
  expect(run.code, run.stdout + run.stderr).toBe(1);

  await page.goto(`${service}/admin`);
  await page.getByLabel('Admin token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  await page.getByRole('link', { name: 'Undeclared identifiers' }).click();
  const scans = page.locator('#table-scans tbody tr');
  await expect(scans.first()).toContainText(`${site}/scan/undeclared.html`);
  await expect(scans.first()).toContainText('4 violation(s)');
  await scans.first().getByRole('link').click();
  await expect(page).toHaveURL(/\/admin\/scans\/\d+$/);
  const findings = page.locator('#table-scan-findings-0 tbody tr');
  await expect(findings).toHaveCount(4);
  await expect(findings.first()).toContainText('not declared in the registry');
  await expect(findings.first()).toContainText('cookie ab_bucket');
  await findings.first().getByRole('link', { name: 'Draft' }).click();
  await expect(page.locator('#scan-draft')).toContainText('name = "ab_bucket"\nkind = "cookie"');
  expect(await axeViolations(page)).toEqual([]);
});

test('a scan that cannot run says why, with exit status 2', async () => {
  const missing = await scan([`${site}/scan/clean.html`, '--chromium', '/nonexistent/chromium']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('Chromium was not found at /nonexistent/chromium');

  const unreachable = await scan(['http://www.zeccloud.test:1/', hostRules, '--service', directURL]);
  expect(unreachable.code).toBe(2);
  expect(unreachable.stderr).toMatch(/http:\/\/www\.zeccloud\.test:1\/ is unreachable: .*ERR_/);

  const noRegistry = await scan(['http://www.zeccloud.test:' + hostPort + '/scan/ab-test.js', hostRules, '--settle-ms', '0']);
  expect(noRegistry.code).toBe(2);
  expect(noRegistry.stderr).toContain('pass --service URL');

  const notAUrl = await scan(['ftp://www.zeccloud.test/']);
  expect(notAUrl.code).toBe(2);
  expect(notAUrl.stderr).toContain('is not an http or https URL');
});
