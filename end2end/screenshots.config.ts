import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// `scripts/screenshots`: the README's pictures, taken from the same service the tests use.
export default defineConfig({
  ...base,
  testDir: './screenshots',
  reporter: [['list']],
});
