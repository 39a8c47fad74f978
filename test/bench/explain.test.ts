import { afterAll, beforeAll, expect, it } from 'vitest';
import { explainHotQueries } from '../../bench/explain.ts';
import { measureRevenue } from '../../bench/revenue.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { ExternalTxId, PlayerCode, ProviderId } from '../../src/wallet/types.ts';
import { type TestGateway, startTestGateway } from '../support/gateway.ts';

/**
 * The scale bench's EXPLAIN runs the statements the gateway's own code sends (no copies to drift):
 * every kind of money call yields plans, the history row among them, and the ledger keeps only the
 * explain's two set-up bets and stays reconciled.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  await gw.fund('explained', { USD: '100' });
  const bet = await gw.gateway.wallet.execute({
    op: 'debit',
    player: PlayerCode('explained'),
    currency: asCurrency('USD'),
    provider: ProviderId('dowinn'),
    txId: ExternalTxId('explain-sample'),
    roundId: 'explain-sample-round',
    amount: 100n,
    lines: [{ ref: '1', amount: 100n }],
  });
  expect(bet.type).toBe('ok');
});
afterAll(() => gw?.close());

it('explains every statement of every kind of money call, from the wallet itself, and leaves the ledger reconciled', async () => {
  const database = new URL(gw.database.url).pathname.slice(1);
  const before = await gw.gateway.db.selectFrom('provider_transactions').select('external_id').execute();
  const plans = await explainHotQueries(database);
  const calls = new Set(plans.map((p) => p.query.replace(/ #\d+:.*$/, '')));
  expect([...calls]).toEqual(['balance', 'bet (command dialect)', 'bet with lines (event dialect)', 'win of a staked round', 'rollback of a bet', 'result of a round', 'cancel of a line']);
  for (const call of [...calls].filter((c) => c !== 'balance')) {
    expect(plans.some((p) => p.query.startsWith(`${call} #`) && /insert .*webhooks/.test(p.query)), `${call} writes its history row`).toBe(true);
  }
  // A plan of its own for each statement: its scans, with the tables they read.
  expect(plans.filter((p) => /^(select|with)/.test(p.query.replace(/^.*#\d+: /, '')) && p.scans.length === 0)).toEqual([]);
  const after = await gw.gateway.db.selectFrom('provider_transactions').select('external_id').execute();
  expect(after.length - before.length).toBe(2);
  expect(await gw.reconcile()).toEqual([]);
});

it("times a month's revenue report the way the scale bench does, the roll-up agreeing with the ledger", async () => {
  const database = new URL(gw.database.url).pathname.slice(1);
  const timing = await measureRevenue(database);
  expect(timing.monthRows).toBeGreaterThan(0);
  expect(timing.daysRolledUp).toBe(0); // everything here moved today: no day is closed yet
});
