import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's chromium, driven by playwright-core (no browser download): the console's browser tests
 * need it, and fail with what to run when it is missing (never skip). `.ci/run` installs it.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) {
    throw new Error('the console browser tests need chromium: `apt-get install -y chromium` (Debian), or set CHROMIUM_PATH to a Chromium or Chrome binary');
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * Where the tests write a screenshot of each page (not committed): test-results/console/. With
 * CONSOLE_SCREENSHOTS set, the ones the README shows go there too (`docs/images` to refresh them).
 */
const OUT = path.resolve('test-results/console');
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
  const docs = process.env.CONSOLE_SCREENSHOTS;
  if (docs && ['overview', 'webhooks'].includes(name)) {
    mkdirSync(docs, { recursive: true });
    await page.screenshot({ path: path.join(docs, `console-${name}.png`) });
  }
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, base: string, name: string, password: string): Promise<void> {
  await page.goto(`${base}/console/sign-in`);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** A browser context of its own (its own cookies) signed in as `name` through the form. */
export async function signedIn(browser: Browser, base: string, name: string, password: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await signIn(page, base, name, password);
  return { context, page };
}
