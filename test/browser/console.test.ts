import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bet, transId, win } from '../command/helpers.ts';
import { startTestGateway, TOKENS, type TestGateway } from '../support/gateway.ts';
import { launchBrowser, screenshot, signedIn, signIn } from './browser.ts';

/**
 * The operators' console in a real browser (Debian's chromium, headless): signing in and out, what
 * each role is shown and what the server refuses whatever a page shows, and the audit trail of it all.
 */

let gw: TestGateway;
let browser: Browser;
const PASSWORD = (name: string) => `${name}-password-long-enough`;

beforeAll(async () => {
  [gw, browser] = await Promise.all([startTestGateway(), launchBrowser()]);
  const cli = { name: 'test-setup', via: 'cli' as const };
  for (const [name, role] of [['ada', 'admin'], ['otto', 'operator'], ['vera', 'viewer']] as const) {
    expect((await gw.gateway.operators.add(cli, name, role, PASSWORD(name))).ok).toBe(true);
  }
  // Some traffic, so the overview and reports have something to show.
  await gw.fund('browser-player', { USD: '100' });
  const headers = { 'callback-token': TOKENS['scorpio-play'] };
  for (let i = 0; i < 5; i++) {
    const round = `browser-round-${transId()}`;
    expect((await gw.callback('scorpio-play', bet('browser-player', transId(), 2, { round }), headers)).json.result).toBe(0);
    if (i % 2 === 0) expect((await gw.callback('scorpio-play', win('browser-player', transId(), 3, { round }), headers)).json.result).toBe(0);
  }
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const as = (name: string) => signedIn(browser, gw.url, name, PASSWORD(name));

describe('signing in', () => {
  it('signs an admin in to the overview and out again', async () => {
    const { context, page } = await as('ada');
    try {
      await expect.poll(() => page.url()).toBe(`${gw.url}/console`);
      expect(await page.getByTestId('who').textContent()).toBe('ada · admin');
      expect(await page.getByTestId('provider-scorpio-play').locator('td').nth(4).textContent()).toBe('8'); // 5 bets and 3 wins
      await screenshot(page, 'overview');
      const cookie = (await context.cookies()).find((c) => c.name === 'croupier_session')!;
      expect([cookie.httpOnly, cookie.sameSite]).toEqual([true, 'Strict']);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect.poll(() => page.url()).toContain('/console/sign-in');
      // The old session no longer opens anything.
      await page.goto(`${gw.url}/console/providers`);
      expect(page.url()).toContain('/console/sign-in');
    } finally {
      await context.close();
    }
  });

  it('refuses a wrong password with a message, and lets nobody in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await signIn(page, gw.url, 'ada', 'not-the-password-at-all');
      expect(await page.getByRole('alert').textContent()).toContain('Wrong name or password');
      await page.goto(`${gw.url}/console`);
      expect(page.url()).toContain('/console/sign-in');
    } finally {
      await context.close();
    }
  });
});

describe('roles', () => {
  it('shows a viewer no operator management, and the server refuses a viewer’s forged form', async () => {
    const { context, page } = await as('vera');
    try {
      expect(await page.getByRole('link', { name: 'Operators' }).count()).toBe(0);
      const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
      const forged = await page.request.post(`${gw.url}/console/operators`, { form: { _csrf: csrf, name: 'mallet', role: 'admin', password: PASSWORD('mallet') } });
      expect(forged.status()).toBe(403);
      expect((await gw.gateway.operators.list()).map((o) => o.name)).not.toContain('mallet');
    } finally {
      await context.close();
    }
  });

  it('lets an admin add an operator, who can then sign in; both show in the audit trail', async () => {
    const { context, page } = await as('ada');
    try {
      await page.getByRole('link', { name: 'Operators' }).click();
      const form = page.locator('form', { has: page.getByRole('button', { name: 'Add' }) });
      await form.getByLabel('Name').fill('nora');
      await form.getByLabel('Role').selectOption('operator');
      await form.getByLabel('Password').fill(PASSWORD('nora'));
      await form.getByRole('button', { name: 'Add' }).click();
      expect(await page.getByTestId('notice').textContent()).toContain('Added: nora (operator, active)');
      await screenshot(page, 'operators');
    } finally {
      await context.close();
    }
    const nora = await as('nora');
    try {
      expect(await nora.page.getByTestId('who').textContent()).toBe('nora · operator');
    } finally {
      await nora.context.close();
    }
    const audit = await as('vera');
    try {
      await audit.page.getByRole('link', { name: 'Audit' }).click();
      await audit.page.getByLabel('Target').fill('nora');
      await audit.page.getByRole('button', { name: 'Filter' }).click();
      const actions = await audit.page.getByTestId('audit-action').allTextContents();
      expect(actions).toEqual(['operator_add']);
      await audit.page.goto(`${gw.url}/console/audit?actor=nora`);
      expect(await audit.page.getByTestId('audit-action').allTextContents()).toContain('sign_in');
      await screenshot(audit.page, 'audit');
    } finally {
      await audit.context.close();
    }
  });
});

describe('pages', () => {
  it('draws the revenue report and lists the providers', async () => {
    const { context, page } = await as('vera');
    try {
      await page.getByRole('link', { name: 'Reports' }).click();
      await page.getByLabel('Provider').selectOption('scorpio-play');
      await page.getByRole('button', { name: 'Show' }).click();
      expect(await page.getByTestId('ggr-chart-USD').count()).toBe(1);
      // 5 bets of 2, 3 wins of 3: the casino kept 1.00.
      expect(await page.getByTestId('ggr-value').allTextContents()).toEqual(['1.00']);
      await screenshot(page, 'reports');
      await page.getByRole('link', { name: 'Providers' }).click();
      for (const instance of gw.config.providers) expect(await page.getByTestId(`provider-row-${instance.id}`).count()).toBe(1);
      await screenshot(page, 'providers');
    } finally {
      await context.close();
    }
  });
});
