import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlayerCode } from '../../src/wallet/types.ts';
import { bet, transId, win } from '../command/helpers.ts';
import { TOKENS, type TestGateway } from '../support/gateway.ts';
import { holdWallet, startFaultyGateway, vendorRowOf } from '../webhooks/helpers.ts';
import { launchBrowser, screenshot, signedIn } from './browser.ts';

/**
 * An operator's day in the console, in a real browser, against failures made by a real fault: a
 * player's wallet row held by another connection makes the wallet hit its lock timeout, so the
 * vendor's wins are answered 99 and parked (no queue worker runs here, so only the console replays
 * them). Replay one and see the balance move, replay a window after a dry run, import a vendor's
 * export from a file, block a player and see the vendor's next bet refused, the cashier with its
 * confirmation step; a viewer sees none of the buttons and the server refuses them; and every action
 * is in the audit trail.
 */

let gw: TestGateway;
let browser: Browser;
const PASSWORD = (name: string) => `${name}-password-long-enough`;
const SCORPIO = 'scorpio-play';
const headers = { 'callback-token': TOKENS[SCORPIO] };

const send = async (body: unknown) => (await gw.callback(SCORPIO, body, headers)).json as { result: number };
async function usd(player: string): Promise<bigint | undefined> {
  const view = await gw.backOffice.player(PlayerCode(player));
  return view.ok ? view.value.wallets.find((w) => w.currency === 'USD')?.balance : undefined;
}

/** A win the wallet could not apply: answered 99 and parked, its round staked first. */
async function parkedWin(player: string, stake: number, amount: number): Promise<number> {
  const round = `ops-round-${transId()}`;
  expect((await send(bet(player, transId(), stake, { round }))).result).toBe(0);
  const id = transId();
  const release = await holdWallet(gw, player, 'USD');
  try {
    expect((await send(win(player, id, amount, { round }))).result).toBe(99);
  } finally {
    await release();
  }
  return id;
}

beforeAll(async () => {
  [gw, browser] = await Promise.all([startFaultyGateway(), launchBrowser()]);
  const cli = { name: 'test-setup', via: 'cli' as const };
  for (const [name, role] of [['ada', 'admin'], ['otto', 'operator'], ['vera', 'viewer']] as const) {
    expect((await gw.gateway.operators.add(cli, name, role, PASSWORD(name))).ok).toBe(true);
  }
  for (const player of ['ops-one', 'ops-bulk', 'ops-import', 'ops-block']) await gw.fund(player, { USD: '100' });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

async function as(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const signed = await signedIn(browser, gw.url, name, PASSWORD(name), { width: 1280, height: 900 });
  await expect.poll(() => signed.page.url()).toBe(`${gw.url}/console`);
  return signed;
}

describe('failed webhooks', () => {
  it('lets an operator find a failed win in the inbox, replay it and see the balance change', async () => {
    const id = await parkedWin('ops-one', 10, 7);
    expect(await usd('ops-one')).toBe(9_000n);
    const { context, page } = await as('otto');
    try {
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByTestId('inbox-link').click();
      const row = page.getByTestId('webhook-row').filter({ hasText: String(id) });
      expect(await row.getByTestId('outcome').textContent()).toBe('parked');
      await screenshot(page, 'webhooks');
      await row.getByTestId('webhook-link').click();
      expect(await page.getByTestId('operation').textContent()).toContain('"op": "credit"');
      expect(await page.getByTestId('headers').textContent()).toContain('[redacted]');
      expect(await page.getByTestId('headers').textContent()).not.toContain(TOKENS[SCORPIO]);
      await page.getByTestId('replay').click();
      expect(await page.getByTestId('replay-outcome').textContent()).toBe('ok');
      expect(await page.getByTestId('balance-USD').textContent()).toBe('97 USD');
      expect(await usd('ops-one')).toBe(9_700n);
      // Settled: gone from the inbox; replaying again pays nothing more.
      await page.goto(`${gw.url}/console/webhooks/inbox`);
      expect(await page.getByTestId('webhook-row').filter({ hasText: String(id) }).count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('replays a window only after a dry run counts it, with a progress page', async () => {
    const since = new Date(Date.now() - 1000).toISOString().slice(0, 19);
    const ids = [await parkedWin('ops-bulk', 5, 3), await parkedWin('ops-bulk', 5, 4)];
    const until = new Date(Date.now() + 60_000).toISOString().slice(0, 19);
    expect(await usd('ops-bulk')).toBe(9_000n);
    const { context, page } = await as('otto');
    try {
      await page.goto(`${gw.url}/console/webhooks/bulk`);
      await page.getByLabel('Provider').selectOption(SCORPIO);
      await page.getByLabel('Since (UTC)').fill(since);
      await page.getByLabel('Until (UTC)').fill(until);
      await page.getByTestId('dry-run').click();
      expect(await page.getByTestId('dry-run-count').textContent()).toContain('Dry run: 2 webhooks would be replayed');
      for (const id of ids) expect(await page.getByTestId('webhook-row').filter({ hasText: String(id) }).count()).toBe(1);
      expect(await usd('ops-bulk')).toBe(9_000n); // the dry run moved nothing
      // A failure that arrives after the dry run is not among those confirmed: it waits for the next.
      const unseen = await parkedWin('ops-bulk', 5, 2);
      await page.getByTestId('bulk-confirm').click();
      await expect.poll(() => page.getByTestId('job-done').count(), { timeout: 15_000 }).toBe(1);
      expect(await page.getByTestId('job-done').textContent()).toContain('2 webhooks processed: 2 ok');
      expect(await usd('ops-bulk')).toBe(9_200n); // the third bet's 5 taken, its win of 2 still waiting
      expect((await vendorRowOf(gw, unseen)).resolved_at).toBeNull();
    } finally {
      await context.close();
    }
  });

  it("imports a vendor's export chosen as a file", async () => {
    const round = `ops-round-${transId()}`;
    expect((await send(bet('ops-import', transId(), 10, { round }))).result).toBe(0);
    const exported = `${JSON.stringify({ body: JSON.stringify(win('ops-import', transId(), 25, { round })) })}\n`;
    const { context, page } = await as('ada');
    try {
      await page.goto(`${gw.url}/console/webhooks/import`);
      await page.getByLabel('Provider').selectOption(SCORPIO);
      await page.getByLabel('Export file').setInputFiles({ name: 'failed-notifications.jsonl', mimeType: 'application/json', buffer: Buffer.from(exported) });
      await expect.poll(() => page.getByTestId('import-content').inputValue()).toBe(exported);
      await page.getByTestId('import-submit').click();
      await expect.poll(() => page.getByTestId('job-done').count(), { timeout: 15_000 }).toBe(1);
      expect(await page.getByTestId('job-done').textContent()).toContain('1 webhook processed: 1 ok');
      expect(await usd('ops-import')).toBe(11_500n);
    } finally {
      await context.close();
    }
  });
});

describe('players', () => {
  it("blocks a player, and the vendor's next bet is refused", async () => {
    const { context, page } = await as('otto');
    try {
      await page.getByRole('link', { name: 'Players' }).click();
      await page.getByLabel('Code starts with').fill('ops-bl');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('link', { name: 'ops-block' }).click();
      expect(await page.getByTestId('cashier-form').count()).toBe(0); // the cashier is an admin's
      await page.getByLabel('Why (kept in the audit trail)').fill('chargeback under review');
      await page.getByTestId('block').click();
      expect(await page.getByTestId('player-status').textContent()).toBe('blocked');
      expect((await send(bet('ops-block', transId(), 1))).result).not.toBe(0);
      expect(await usd('ops-block')).toBe(10_000n);
      await screenshot(page, 'player');
    } finally {
      await context.close();
    }
  });

  it('takes a deposit only after its confirmation, once per reference', async () => {
    const { context, page } = await as('ada');
    try {
      await page.goto(`${gw.url}/console/players/ops-one`);
      const form = page.getByTestId('cashier-form');
      await form.getByLabel('Amount').fill('12.34');
      await form.getByRole('button', { name: 'Review' }).click();
      expect(await page.getByTestId('cashier-after').textContent()).toBe('109.34 USD');
      expect(await usd('ops-one')).toBe(9_700n); // nothing yet
      const confirm = page.getByTestId('cashier-confirm').locator('form');
      const fields: Record<string, string> = {};
      for (const input of await confirm.locator('input[type="hidden"]').all()) fields[(await input.getAttribute('name'))!] = await input.inputValue();
      await page.getByTestId('cashier-do').click();
      expect(await page.getByTestId('cashier-result').textContent()).toContain('Done. ops-one now holds 109.34 USD');
      // The same confirmation sent again (a double click, a resubmitted form): the reference makes it a repeat.
      const again = await page.request.post(`${gw.url}/console/players/ops-one/cashier`, { form: fields });
      expect(again.status()).toBe(200);
      expect(await again.text()).toContain('Already done (same reference): nothing changed');
      expect(await usd('ops-one')).toBe(10_934n);
    } finally {
      await context.close();
    }
  });
});

describe('a viewer', () => {
  it('sees no replay, block or cashier button, and the server refuses them anyway', async () => {
    const id = await parkedWin('ops-bulk', 1, 1);
    const { context, page } = await as('vera');
    try {
      await page.goto(`${gw.url}/console/webhooks/inbox`);
      expect(await page.getByTestId(`replay-${await rowIdOf(id)}`).count()).toBe(0);
      await page.goto(`${gw.url}/console/players/ops-one`);
      expect(await page.getByTestId('block').count()).toBe(0);
      expect(await page.getByTestId('cashier-form').count()).toBe(0);
      const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
      expect((await page.request.post(`${gw.url}/console/webhooks/${await rowIdOf(id)}/replay`, { form: { _csrf: csrf } })).status()).toBe(403);
      expect((await page.request.post(`${gw.url}/console/players/ops-one/block`, { form: { _csrf: csrf } })).status()).toBe(403);
      expect((await page.request.post(`${gw.url}/console/players/ops-one/cashier`, { form: { _csrf: csrf, kind: 'deposit', currency: 'USD', amount: '1', reference: 'vera-1' } })).status()).toBe(403);
      expect(await usd('ops-one')).toBe(10_934n);
    } finally {
      await context.close();
    }
  });
});

describe('the audit trail', () => {
  it('holds every action above, with who did it', async () => {
    const { context, page } = await as('vera');
    try {
      await page.goto(`${gw.url}/console/audit?limit=200`);
      const rows = await page.getByTestId('audit-row').allTextContents();
      const did = (actor: string, action: string) => rows.some((r) => r.includes(actor) && r.includes(action));
      expect(did('otto', 'replay')).toBe(true);
      expect(did('otto', 'bulk_replay')).toBe(true);
      expect(did('ada', 'import')).toBe(true);
      expect(did('otto', 'block')).toBe(true);
      expect(did('ada', 'deposit')).toBe(true);
      expect(rows.some((r) => r.includes('chargeback under review'))).toBe(true);
    } finally {
      await context.close();
    }
  });
});

const rowIdOf = async (transactionId: number) =>
  (await gw.gateway.db.selectFrom('webhooks').select('id').where('transaction_id', '=', String(transactionId)).where('source', '=', 'vendor').executeTakeFirstOrThrow()).id.toString();
