import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/service.ts';
import * as command from '../command/helpers.ts';
import * as ev from '../event/helpers.ts';
import type { TestGateway } from '../support/gateway.ts';
import { eventually, holdWallet, parkedTransactions, rowsOf, startFaultyGateway, startWorkerGateway, vendorRowOf } from './helpers.ts';

/**
 * Rule 8 by doing it: a player's wallet row held by another connection makes the wallet hit its lock
 * timeout, which is a fault. A bet that faults is answered as failed and never taken later; a win or a
 * cancel (money owed to the player) is parked and applied later, exactly once, by an operator's replay
 * or by the retry worker; a cancel that arrives while its win is parked wins.
 */

let gw: TestGateway;
const SCORPIO = 'scorpio-play';
/** A win pays only on a round that holds a stake: rp's wins land on this round, where it bet 1 before the tests (so it starts at 100). */
const RP_ROUND = 'r-rp';

beforeAll(async () => {
  gw = await startFaultyGateway();
  await gw.fund('rp', { USD: '101' });
  await command.expectAnswer(gw, SCORPIO, command.bet('rp', command.transId(), 1, { round: RP_ROUND }), command.ok('100'));
  await gw.fund('rp_ev', { USD: '100' });
});
afterAll(() => gw?.close());

const usd = (player: string) => command.wallet(gw, player, 'USD');
const transfers = async () => Number((await sql<{ n: string }>`select count(*)::text as n from transfers`.execute(gw.gateway.db)).rows[0]!.n);
/** Ledger rows of one provider transaction: whether it moved money, and how it stands. */
const ledgerOf = async (player: string, id: string | number, provider = SCORPIO) =>
  (await ev.transactionsOf(gw, player, provider)).filter((t) => t.external_id === String(id)).map((t) => [t.kind, t.status, t.moved]);
const reload = (id: bigint) => gw.gateway.history.get(id);

/** Sends a command-dialect call while the player's wallet row is held; asserts the dialect's failure answer. */
async function whileHeld<T>(player: string, send: () => Promise<T>): Promise<T> {
  const release = await holdWallet(gw, player, 'USD');
  try {
    return await send();
  } finally {
    await release();
  }
}

describe('a wallet fault (the wallet row is locked elsewhere)', () => {
  const bet0 = command.transId();
  const bet1 = command.transId();
  const win1 = command.transId();

  it('answers a bet 99 and records it as a fault, not parked: a bet is never taken later', async () => {
    await command.expectAnswer(gw, SCORPIO, command.bet('rp', bet0, 10), command.ok('90'));
    // The 99 carries the balance, read without the lock: the 5 was not taken.
    await whileHeld('rp', () => command.expectAnswer(gw, SCORPIO, command.bet('rp', bet1, 5), command.withBalance(99, '90')));
    const row = await vendorRowOf(gw, bet1);
    // Kept as the fault it was, and settled as written: nothing is owed, so it waits in no inbox.
    expect(row).toMatchObject({ outcome: 'fault', player_code: 'rp', answer: command.withBalance(99, '90'), resolved_by: null });
    expect(row.resolved_at).toEqual(row.received_at);
    expect((await gw.gateway.history.search({ unresolved: true, limit: 50 })).map((w) => w.id)).not.toContain(row.id);
    expect(row.detail).toMatch(/lock/i);
    expect((row.operation as { op: string }).op).toBe('debit');
    expect(await parkedTransactions(gw)).toEqual([]);
    expect(await usd('rp')).toBe(9000n);
    expect(await ledgerOf('rp', bet1)).toEqual([]);
  });

  it('answers a win and a cancel 99 and parks both in the retries queue', async () => {
    await whileHeld('rp', async () => {
      // Parked, not yet paid: the balance in the 99 is the one before them.
      await command.expectAnswer(gw, SCORPIO, command.win('rp', win1, 7, { round: RP_ROUND }), command.withBalance(99, '90'));
      await command.expectAnswer(gw, SCORPIO, command.cancel('rp', bet0), command.withBalance(99, '90'));
    });
    expect(await vendorRowOf(gw, win1)).toMatchObject({ outcome: 'parked', answer: command.withBalance(99, '90'), resolved_at: null });
    expect(await vendorRowOf(gw, bet0, 'rollback')).toMatchObject({ outcome: 'parked', answer: command.withBalance(99, '90'), resolved_at: null });
    expect((await parkedTransactions(gw)).sort()).toEqual([String(bet0), String(win1)].sort());
    expect(await usd('rp')).toBe(9000n);
    expect(await ledgerOf('rp', win1)).toEqual([]);
  });

  it('answers an event-dialect bet and result R1 with the balance; the result is parked, the bet is not', async () => {
    const round0 = ev.newRound();
    await ev.expectEvent(gw, ev.bet('rp_ev', round0, [[1, 10]]), 'R0', 90);
    const betE = ev.bet('rp_ev', ev.newRound(), [[1, 5]]);
    const resultE = ev.result('rp_ev', round0, 10, 5);
    const release = await holdWallet(gw, 'rp_ev', 'USD');
    try {
      // R1 carries latest_balance, read without the lock: neither call moved anything.
      await ev.expectEvent(gw, betE, 'R1', 90);
      await ev.expectEvent(gw, resultE, 'R1', 90);
    } finally {
      await release();
    }
    const rows = await gw.gateway.db.selectFrom('webhooks').selectAll().where('player_code', '=', 'rp_ev').orderBy('id').execute();
    expect(rows.map((r) => [(r.operation as { op: string }).op, r.outcome])).toEqual([
      ['debit', 'ok'],
      ['debit', 'fault'],
      ['settle', 'parked'],
    ]);
    expect(await ev.balanceOf(gw, 'rp_ev')).toBe(9000n);
  });

  describe('operator replay', () => {
    let winRow: Awaited<ReturnType<typeof vendorRowOf>>;

    it('of the parked win applies it once and marks the original settled', async () => {
      winRow = await vendorRowOf(gw, win1);
      const result = await gw.gateway.replayer.replay(winRow.id);
      expect(result).toMatchObject({ webhookId: winRow.id.toString(), provider: SCORPIO, outcome: 'ok', answer: command.ok('97') });
      expect(await usd('rp')).toBe(9700n);
      const settled = await reload(winRow.id);
      expect(settled!.resolved_at).toBeInstanceOf(Date);
      expect(settled!.resolved_by).toBe(BigInt(result.replayId!));
      const replay = await reload(BigInt(result.replayId!));
      expect(replay).toMatchObject({ source: 'replay', replay_of: winRow.id, outcome: 'ok', answer: command.ok('97'), transaction_id: String(win1) });
    });

    it('of the same win again, and again, answers a duplicate and moves nothing', async () => {
      const before = await transfers();
      for (let i = 0; i < 2; i++) {
        const again = await gw.gateway.replayer.replay(winRow.id);
        expect(again).toMatchObject({ outcome: 'duplicate', answer: command.withBalance(41, '97') });
      }
      expect(await transfers()).toBe(before);
      expect(await usd('rp')).toBe(9700n);
      expect(await ledgerOf('rp', win1)).toEqual([['credit', 'applied', 700n]]);
    });

    it('is followed by a vendor retry of the win, answered 41 with nothing moved', async () => {
      const before = await transfers();
      await command.expectAnswer(gw, SCORPIO, command.win('rp', win1, 7, { round: RP_ROUND }), command.withBalance(41, '97'));
      expect(await transfers()).toBe(before);
    });

    it('of the faulted bet never takes it: the vendor was told it failed', async () => {
      const betRow = await vendorRowOf(gw, bet1);
      const result = await gw.gateway.replayer.replay(betRow.id);
      expect(result.outcome).toBe('not_replayable');
      expect(await usd('rp')).toBe(9700n);
      expect(await ledgerOf('rp', bet1)).toEqual([]);
    });

    it('of a call refused at the door (a forged token) never trusts it', async () => {
      const forged = command.transId();
      const sent = new Date();
      await command.expectAnswer(gw, SCORPIO, command.win('rp', forged, 500), command.bare(100), { 'callback-token': 'forged-token-forged-token' });
      const rows = await gw.gateway.history.search({ provider: SCORPIO, outcomes: ['rejected'], since: sent, limit: 10 });
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row.detail).toMatch(/^unauthorized: /);
      expect((await gw.gateway.replayer.replay(row.id)).outcome).toBe('not_replayable');
      expect(await gw.gateway.replayer.replayMatching({ provider: SCORPIO, since: row.received_at, until: new Date(Date.now() + 1000), outcomes: ['rejected'] })).toEqual([
        expect.objectContaining({ webhookId: row.id.toString(), outcome: 'not_replayable' }),
      ]);
      expect(await usd('rp')).toBe(9700n);
      expect(await ledgerOf('rp', forged)).toEqual([]);
    });

    it('in bulk, by provider and time window, settles only that provider\'s failures in the window', async () => {
      const cancelRow = await vendorRowOf(gw, bet0, 'rollback');
      const empty = await gw.gateway.replayer.replayMatching({ provider: SCORPIO, since: new Date(Date.now() - 3_600_000), until: cancelRow.received_at });
      expect(empty.filter((r) => r.outcome !== 'not_replayable')).toEqual([]);
      expect(await usd('rp')).toBe(9700n);

      const window = { provider: SCORPIO, since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 1000) };
      const results = await gw.gateway.replayer.replayMatching(window);
      const byId = Object.fromEntries(results.map((r) => [r.webhookId, r.outcome]));
      expect(byId[cancelRow.id.toString()]).toBe('ok');
      expect(byId[winRow.id.toString()]).toBeUndefined(); // settled already
      expect(await usd('rp')).toBe(10700n); // the cancelled bet's 10 refunded
      expect((await reload(cancelRow.id))!.resolved_by).not.toBeNull();
      // The event-dialect instance's failures are not this provider's: still waiting.
      expect(await ev.balanceOf(gw, 'rp_ev')).toBe(9000n);

      const again = await gw.gateway.replayer.replayMatching(window);
      expect(again.filter((r) => r.outcome !== 'not_replayable')).toEqual([]);
      expect(await usd('rp')).toBe(10700n);

      const events = await gw.gateway.replayer.replayMatching({ ...window, provider: ev.DOWINN.id });
      // Its faulted bet owes nothing (never taken later) and is not among the failures to replay.
      expect(events.map((r) => r.outcome)).toEqual(['ok']);
      expect(await ev.balanceOf(gw, 'rp_ev')).toBe(10500n); // stake 10 + net win 5
    });

    it('that fails again is kept as a failure, settled together with its original', async () => {
      const win2 = command.transId();
      await whileHeld('rp', () => command.expectAnswer(gw, SCORPIO, command.win('rp', win2, 3, { round: RP_ROUND }), command.withBalance(99, '107')));
      const original = await vendorRowOf(gw, win2);
      const failed = await whileHeld('rp', () => gw.gateway.replayer.replay(original.id));
      expect(failed.outcome).toBe('fault');
      expect(await reload(BigInt(failed.replayId!))).toMatchObject({ source: 'replay', replay_of: original.id, outcome: 'fault', resolved_at: null });
      const unsettled = await gw.gateway.history.search({ transactionId: String(win2), unresolved: true, limit: 10 });
      expect(unsettled.map((r) => r.id).sort()).toEqual([original.id, BigInt(failed.replayId!)].sort());

      const applied = await gw.gateway.replayer.replay(BigInt(failed.replayId!));
      expect(applied.outcome).toBe('ok');
      expect(await usd('rp')).toBe(11000n);
      expect(await gw.gateway.history.search({ transactionId: String(win2), unresolved: true, limit: 10 })).toEqual([]);
      expect(await gw.reconcile()).toEqual([]);
    });
  });
});

describe('the retry worker (workers on)', () => {
  let worker: Gateway | undefined;
  afterAll(() => worker?.close());

  it('applies a parked win by itself, exactly once, and settles the original', async () => {
    await gw.fund('rw', { USD: '51' });
    // Both wins land on a round that holds a stake (a win on a round without one is refused).
    const round = 'r-rw';
    await command.expectAnswer(gw, SCORPIO, command.bet('rw', command.transId(), 1, { round }), command.ok('50'));
    const win = command.transId();
    await whileHeld('rw', () => command.expectAnswer(gw, SCORPIO, command.win('rw', win, 12.5, { round }), command.withBalance(99, '50')));
    const cancelledWin = command.transId();
    await whileHeld('rw', () => command.expectAnswer(gw, SCORPIO, command.win('rw', cancelledWin, 20, { round }), command.withBalance(99, '50')));
    // The vendor gives up on the second win and cancels it while it is parked: the cancel is remembered.
    await command.expectAnswer(gw, SCORPIO, command.cancel('rw', cancelledWin, { round }), command.withBalance(42, '50'));
    const original = await vendorRowOf(gw, win);
    const cancelledOriginal = await vendorRowOf(gw, cancelledWin, 'credit');
    expect(await usd('rw')).toBe(5000n);

    worker = await startWorkerGateway(gw);
    await eventually(async () => {
      expect((await reload(original.id))!.resolved_by).not.toBeNull();
      expect((await reload(cancelledOriginal.id))!.resolved_by).not.toBeNull();
    });
    expect(await usd('rw')).toBe(6250n);
    const retried = (await rowsOf(gw, win)).filter((r) => r.source === 'retry');
    expect(retried).toEqual([expect.objectContaining({ outcome: 'ok', replay_of: original.id })]);
    expect(await ledgerOf('rw', win)).toEqual([['credit', 'applied', 1250n]]);

    // The cancel came first: the parked win is refused, never paid.
    const refused = (await rowsOf(gw, cancelledWin)).filter((r) => r.source === 'retry');
    expect(refused).toEqual([expect.objectContaining({ outcome: 'refused', detail: 'rolled_back', replay_of: cancelledOriginal.id })]);
    expect(await ledgerOf('rw', cancelledWin)).toEqual([['credit', 'refused', null]]);
    expect(await usd('rw')).toBe(6250n);
    expect(await gw.reconcile()).toEqual([]);
  });
});
