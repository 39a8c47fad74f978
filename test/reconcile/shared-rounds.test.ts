import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ev from '../event/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { csvOf, importExport as importCsv, roundOf } from './helpers.ts';
import { VendorReconciler } from '../../src/reconcile/reconciler.ts';
import { parseExport } from '../../src/reconcile/export.ts';
import { asCurrency } from '../../src/money/currency.ts';

/**
 * Reconciling an event-dialect provider (dowinn) with an imported export. A live table's round
 * (table_no:game_no) is every seated player's, so a round id names no one's money by itself: cancels
 * are matched, and findings keyed, by user too.
 */

let gw: TestGateway;
const started = new Date(Date.now() - 60_000);

const importExport = (currency: string, csv: string) => importCsv(gw, started, currency, csv);

beforeAll(async () => {
  gw = await startTestGateway();
  for (const p of ['af-ann', 'af-bob', 'af-cat', 'af-dan', 'af-eve', 'af-fay']) await gw.fund(p, { USD: '100' });
});
afterAll(() => gw?.close());

describe('vendor cancels at a shared table round', () => {
  it("a vendor cancel for player A is not matched with player B's refund (same table round, same amount)", async () => {
    const round = ev.newRound();
    const [betA, betB, cancelB, vendorCancelA] = [ev.txId(), ev.txId(), ev.txId(), ev.txId()];
    await ev.expectEvent(gw, ev.bet('af-ann', round, [[1, 10]], { id: betA }), 'R0', 90);
    await ev.expectEvent(gw, ev.bet('af-bob', round, [[1, 10]], { id: betB }), 'R0', 90);
    // The wallet refunded B (B's cancel reached the casino) ...
    await ev.expectEvent(gw, ev.cancel('af-bob', round, [[1, 10]], { id: cancelB }), 'R0', 100);
    // ... but the vendor's own record says it cancelled A's bet, and B's bet stands.
    const run = await importExport('USD', csvOf([
      [betA, 'bet', 'af-ann', roundOf(round), '10.00'],
      [betB, 'bet', 'af-bob', roundOf(round), '10.00'],
      [vendorCancelA, 'cancel', 'af-ann', roundOf(round), '10.00'],
    ]));
    // Expected: A is owed 10 (vendor cancel the wallet did not apply) and B's refund is unknown to the vendor.
    const found = run.findings.map((f) => `${f.kind} ${f.player}`).sort();
    expect(found).toEqual(['missing_at_vendor af-bob', 'status_mismatch af-ann']);
  });

  it('two players whose cancels the wallet never applied give two findings, not one', async () => {
    const round = ev.newRound();
    const [betC, betD] = [ev.txId(), ev.txId()];
    await ev.expectEvent(gw, ev.bet('af-cat', round, [[1, 10]], { id: betC }), 'R0', 90);
    await ev.expectEvent(gw, ev.bet('af-dan', round, [[1, 10]], { id: betD }), 'R0', 90);
    const run = await importExport('USD', csvOf([
      [betC, 'bet', 'af-cat', roundOf(round), '10.00'],
      [betD, 'bet', 'af-dan', roundOf(round), '10.00'],
      [ev.txId(), 'cancel', 'af-cat', roundOf(round), '10.00'],
      [ev.txId(), 'cancel', 'af-dan', roundOf(round), '10.00'],
    ]));
    // Each player is owed 10: two status_mismatch findings, one per player.
    const mism = run.findings.filter((f) => f.kind === 'status_mismatch');
    expect(mism.map((f) => f.player).sort()).toEqual(['af-cat', 'af-dan']);
    const stored = await gw.database.db.selectFrom('vendor_findings').select(['key', 'player_code']).where('kind', '=', 'status_mismatch').where('key', 'like', `cancel:%:${roundOf(round)}:%`).execute();
    expect(stored.map((r) => r.player_code).sort()).toEqual(['af-cat', 'af-dan']);
  });
});

describe('stuck rounds at a shared table round', () => {
  it('two players stuck on the same table round are two findings', async () => {
    const round = ev.newRound();
    await ev.expectEvent(gw, ev.bet('af-eve', round, [[1, 7]], { id: ev.txId() }), 'R0', 93);
    await ev.expectEvent(gw, ev.bet('af-fay', round, [[1, 9]], { id: ev.txId() }), 'R0', 91);
    // The same reconciler as the gateway's, with "stuck after" at 0 ms so the test need not wait an hour.
    const reconciler = new VendorReconciler(gw.database.db, () => undefined, {} as never, { record: async () => {} } as never, { stuckAfterMs: 0 });
    await new Promise((r) => setTimeout(r, 20));
    const exported = parseExport('[]'.replace('[]', '[{"id":"x-none","kind":"bet","user":"nobody","amount":"0.00","at":"2020-01-01T00:00:00Z"}]'), asCurrency('USD'));
    if (!exported.ok) throw new Error(exported.message);
    const run = await reconciler.import({ name: 'audit', via: 'cli' } as never, 'dowinn', started, new Date(Date.now() + 60_000), exported.value);
    const stuck = run.findings.filter((f) => f.kind === 'stuck_round' && f.key.endsWith(`:${roundOf(round)}`));
    // Expected: one stuck_round per player (af-eve 7.00, af-fay 9.00).
    expect(stuck.map((f) => f.player).sort()).toEqual(['af-eve', 'af-fay']);
  });
});

describe('resolved findings and recurrence', () => {
  it('a new discrepancy with the key of a resolved finding is reported open', async () => {
    // Period 1: vendor cancels player A's 10 on round R; the wallet has no refund: status_mismatch, resolved (explained).
    const round = ev.newRound();
    const betA = ev.txId();
    await gw.fund('af-gus', { USD: '100' });
    await gw.fund('af-hal', { USD: '100' });
    await ev.expectEvent(gw, ev.bet('af-gus', round, [[1, 10]], { id: betA }), 'R0', 90);
    const first = await importExport('USD', csvOf([[betA, 'bet', 'af-gus', roundOf(round), '10.00'], [ev.txId(), 'cancel', 'af-gus', roundOf(round), '10.00']]));
    const f1 = first.findings.find((f) => f.kind === 'status_mismatch')!;
    expect(f1).toBeDefined();
    const res = await fetch(`${gw.url}/v1/reconciliation/findings/${(f1 as unknown as { id: string }).id}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.adminToken('operator')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'explain', note: 'vendor confirmed A was refunded by hand' }),
    });
    expect(res.status).toBe(200);
    // Another player at the same table round: the vendor cancels H's 10, the wallet never refunded it.
    const betH = ev.txId();
    await ev.expectEvent(gw, ev.bet('af-hal', round, [[1, 10]], { id: betH }), 'R0', 90);
    const second = await importExport('USD', csvOf([[betH, 'bet', 'af-hal', roundOf(round), '10.00'], [ev.txId(), 'cancel', 'af-hal', roundOf(round), '10.00']]));
    const open = second.findings.filter((f) => f.kind === 'status_mismatch' && (f as unknown as { state: string }).state === 'open');
    expect(open.map((f) => f.player)).toEqual(['af-hal']);

    // The same player, round and amount again, another cancel: a new discrepancy under the explained one's key is open again.
    await ev.expectEvent(gw, ev.bet('af-gus', round, [[2, 10]], { id: ev.txId() }), 'R0', 80);
    const third = await importExport('USD', csvOf([[betA, 'bet', 'af-gus', roundOf(round), '10.00'], [ev.txId(), 'cancel', 'af-gus', roundOf(round), '10.00']]));
    const again = third.findings.find((f) => f.kind === 'status_mismatch' && f.player === 'af-gus') as unknown as { id: string; state: string };
    expect(again.id).toBe((f1 as unknown as { id: string }).id);
    expect(again.state).toBe('open');
  });

  it('the same discrepancy found again, its rows restamped, stays explained', async () => {
    const round = ev.newRound();
    const bet = ev.txId();
    const cancel = ev.txId();
    await gw.fund('af-ida', { USD: '100' });
    await ev.expectEvent(gw, ev.bet('af-ida', round, [[1, 10]], { id: bet }), 'R0', 90);
    const rows = () => csvOf([[bet, 'bet', 'af-ida', roundOf(round), '10.00'], [cancel, 'cancel', 'af-ida', roundOf(round), '10.00']]);
    const first = (await importExport('USD', rows())).findings.find((f) => f.kind === 'status_mismatch') as unknown as { id: string };
    const res = await fetch(`${gw.url}/v1/reconciliation/findings/${first.id}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await gw.adminToken('operator')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'explain', note: 'refunded by the vendor' }),
    });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_100)); // the export's times move on by a second
    const again = (await importExport('USD', rows())).findings.find((f) => (f as unknown as { id: string }).id === first.id) as unknown as { state: string } | undefined;
    expect(again?.state).toBe('explained');
  });
});
