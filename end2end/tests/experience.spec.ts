import { test, expect } from '@playwright/test';
import { axeViolations, ssaidOf, storedEvents, waitForHydration, watchErrors } from './helpers';

const banner = '[data-testid="consent-banner"]';
const dialog = '[data-testid="preference-dialog"]';

/** Each language with words only its own banner uses. */
const languages = [
  { lang: 'en', locale: 'en-US', acceptAll: 'Accept all', rejectAll: 'Reject all', settings: 'Privacy settings' },
  { lang: 'zh-Hans', locale: 'zh-CN', acceptAll: '全部接受', rejectAll: '全部拒绝', settings: '隐私设置' },
  { lang: 'zh-Hant', locale: 'zh-TW', acceptAll: '全部接受', rejectAll: '全部拒絕', settings: '隱私設定' },
  { lang: 'ja', locale: 'ja-JP', acceptAll: 'すべて同意', rejectAll: 'すべて拒否', settings: 'プライバシー設定' },
  { lang: 'ko', locale: 'ko-KR', acceptAll: '모두 수락', rejectAll: '모두 거부', settings: '개인정보 설정' },
];

for (const { lang, locale, acceptAll, rejectAll, settings } of languages) {
  test.describe(`in ${lang}`, () => {
    // axe-core is injected as a script tag, which the pages' CSP rightly refuses; the CSP
    // itself is tested in forgery.spec.ts.
    test.use({ locale, bypassCSP: true });

    test('the banner and the preference center speak the language, with zero axe violations', async ({ page }) => {
      const errors = watchErrors(page);
      await page.goto('/');
      await waitForHydration(page);
      await expect(page.locator('html')).toHaveAttribute('lang', lang);
      await expect(page.locator(`${banner} [data-action="accept_all"]`)).toHaveText(acceptAll);
      await expect(page.locator(`${banner} [data-action="reject_all"]`)).toHaveText(rejectAll);
      for (const other of languages.filter((l) => l.rejectAll !== rejectAll)) {
        await expect(page.locator(banner)).not.toContainText(other.rejectAll);
      }
      expect(await axeViolations(page)).toEqual([]);

      await page.locator(`${banner} [data-action="customize"]`).click();
      await expect(page.locator(dialog)).toBeVisible();
      await expect(page.locator(`${dialog} h2#zc-pc-title`)).toHaveText(settings);
      await page.locator(`${dialog} .zc-identifiers summary`).first().click();
      expect(await axeViolations(page)).toEqual([]);

      await page.goto('/preferences');
      await waitForHydration(page);
      await expect(page.locator('h1')).toHaveText(settings);
      expect(await axeViolations(page)).toEqual([]);
      expect(errors).toEqual([]);
    });
  });
}

test('the language switcher changes the language, without JavaScript too', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US', javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/notice');
  await page.locator(`${banner} select[name="lang"]`).selectOption('ja');
  await page.locator(`${banner} [data-testid="language-switcher"] button`).click();
  await page.waitForURL(/\/notice\?lang=ja/);
  await expect(page.locator('html')).toHaveAttribute('lang', 'ja');
  await expect(page.locator(`${banner} [data-action="accept_all"]`)).toHaveText('すべて同意');
  await expect(page.locator('#identifiers th').first()).toHaveText('名前');
  // The choice travels with the banner into the record: the Japanese text is what was shown.
  await page.locator(`${banner} [data-action="reject_all"]`).click();
  await page.waitForURL(/\/notice/);
  const events = storedEvents(await ssaidOf(context));
  expect(events.map((e) => [e.action, e.source])).toEqual([['reject_all', 'no_js_form']]);
  await context.close();
});

test('keyboard only: tab to Customize, choose in the dialog, save', async ({ page, context }) => {
  await page.goto('/');
  await waitForHydration(page);
  // Tab until Customize has focus; the banner comes first in the tab order.
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-action') ?? document.activeElement?.tagName);
  const tabTo = async (want: string, limit = 40) => {
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab');
      if ((await focused()) === want) return;
    }
    throw new Error(`never reached ${want} by Tab`);
  };
  await tabTo('accept_all', 10);
  await tabTo('customize', 5);
  await page.keyboard.press('Enter');
  await expect(page.locator(dialog)).toBeVisible();
  expect(await page.evaluate((sel) => document.querySelector(sel)!.contains(document.activeElement), dialog)).toBe(true);

  // Focus stays in the dialog: walk to the analytics box and tick it with Space.
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const name = await page.evaluate(() => document.activeElement?.getAttribute('name'));
    expect(await page.evaluate((sel) => document.querySelector(sel)!.contains(document.activeElement), dialog)).toBe(true);
    if (name === 'categories[analytics]') break;
  }
  await page.keyboard.press('Space');
  await expect(page.locator(`${dialog} input[name="categories[analytics]"]`)).toBeChecked();
  await tabTo('save');
  await page.keyboard.press('Enter');
  await expect(page.locator(dialog)).toBeHidden();
  await expect(page.locator(banner)).toHaveCount(0);
  const events = storedEvents(await ssaidOf(context));
  expect(events.map((e) => [e.action, e.categories])).toEqual([
    ['custom', { necessary: true, preferences: false, analytics: true }],
  ]);
});

test('Esc closes the preference center and focus returns to the button that opened it', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  await page.locator(`${banner} [data-action="reject_all"]`).click();
  await expect(page.locator(banner)).toHaveCount(0);
  const button = page.locator('[data-testid="privacy-settings-button"]');
  await button.focus();
  await page.keyboard.press('Enter');
  await expect(page.locator(dialog)).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.locator(dialog)).toBeHidden();
  await expect(button).toBeFocused();
  // A visible focus ring.
  const outline = await button.evaluate((el) => getComputedStyle(el).outlineStyle);
  expect(outline).toBe('solid');
});

test('the privacy-settings button reopens the center on every page', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  await page.locator(`${banner} [data-action="accept_all"]`).click();
  // Wait for the answer (and its cookie) before navigating away, or the navigation may cancel it.
  await expect(page.locator(banner)).toHaveCount(0);
  for (const path of ['/', '/notice', '/no-such-page']) {
    await page.goto(path);
    await waitForHydration(page);
    const button = page.locator('[data-testid="privacy-settings-button"]');
    await expect(button).toBeVisible();
    await button.click();
    await expect(page.locator(dialog)).toBeVisible();
    await expect(page.locator(`${dialog} [data-category="analytics"][data-state="allowed"]`)).toHaveCount(1);
    await page.locator(`${dialog} [data-action="close"]`).click();
    await expect(page.locator(dialog)).toBeHidden();
    // The footer link opens it too.
    await page.locator('[data-testid="privacy-settings"]').click();
    await expect(page.locator(dialog)).toBeVisible();
    await page.keyboard.press('Escape');
  }
});

test.describe('in the dark theme', () => {
  // For the injected axe-core, as above.
  test.use({ colorScheme: 'dark', bypassCSP: true });

  test('the banner and the center are dark, with zero axe violations', async ({ page }) => {
    await page.goto('/');
    await waitForHydration(page);
    const colours = await page.locator(banner).evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
    expect(colours).toEqual(['rgb(18, 22, 28)', 'rgb(232, 236, 241)']);
    expect(await axeViolations(page)).toEqual([]);
    await page.locator(`${banner} [data-action="customize"]`).click();
    await expect(page.locator(dialog)).toBeVisible();
    expect(await axeViolations(page)).toEqual([]);
  });
});

test.describe('at 375 px wide', () => {
  test.use({ viewport: { width: 375, height: 740 } });

  for (const path of ['/', '/notice', '/preferences']) {
    test(`${path} has no horizontal scroll and the choices fit`, async ({ page }) => {
      await page.goto(path);
      await waitForHydration(page);
      const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      expect(widths[0]).toBeLessThanOrEqual(widths[1]);
      if (path !== '/preferences') {
        for (const action of ['accept_all', 'reject_all', 'customize']) {
          const box = await page.locator(`${banner} [data-action="${action}"]`).boundingBox();
          expect(box!.x).toBeGreaterThanOrEqual(0);
          expect(box!.x + box!.width).toBeLessThanOrEqual(375);
        }
      }
    });
  }
});

test.describe('at 200% zoom (1280 × 720 seen as 640 × 360 CSS px)', () => {
  test.use({ viewport: { width: 640, height: 360 } });

  test('nothing is cut off: the banner and the center scroll within themselves', async ({ page, context }) => {
    await page.goto('/');
    await waitForHydration(page);
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(widths[0]).toBeLessThanOrEqual(widths[1]);
    // Every choice can be reached and used.
    await page.locator(`${banner} [data-action="customize"]`).click();
    const save = page.locator(`${dialog} button[data-action="save"]`);
    await save.scrollIntoViewIfNeeded();
    await expect(save).toBeInViewport();
    await page.keyboard.press('Escape');
    await page.locator(`${banner} [data-action="reject_all"]`).click();
    await expect(page.locator(banner)).toHaveCount(0);
    expect(storedEvents(await ssaidOf(context)).map((e) => e.action)).toEqual(['reject_all']);
  });
});

test('Accept all and Reject all carry equal weight and the banner shifts nothing', async ({ page }) => {
  await page.addInitScript(() => {
    (window as any).__shift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as any[]) if (!entry.hadRecentInput) (window as any).__shift += entry.value;
    }).observe({ type: 'layout-shift', buffered: true });
  });
  await page.goto('/');
  await waitForHydration(page);
  const accept = page.locator(`${banner} [data-action="accept_all"]`);
  const reject = page.locator(`${banner} [data-action="reject_all"]`);
  const style = (el: Element) => {
    const s = getComputedStyle(el);
    return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderWidth].join(' ');
  };
  expect(await accept.evaluate(style)).toBe(await reject.evaluate(style));
  const [a, r] = [await accept.boundingBox(), await reject.boundingBox()];
  expect(Math.round(a!.width)).toBe(Math.round(r!.width));
  expect(Math.round(a!.height)).toBe(Math.round(r!.height));
  expect(await page.evaluate(() => (window as any).__shift)).toBe(0);
  // Scrolling is not consent.
  await page.mouse.wheel(0, 2000);
  await page.keyboard.press('End');
  await expect(page.locator(banner)).toBeVisible();
  expect(storedEvents(await ssaidOf(page.context()))).toEqual([]);
  // No optional category is pre-ticked.
  await page.locator(`${banner} [data-action="customize"]`).click();
  expect(await page.locator(`${dialog} input[type="checkbox"]:checked`).count()).toBe(0);
});
