import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asCurrency } from '../../src/money/currency.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  balanceOf,
  bet,
  block,
  event,
  expectEvent,
  expectReconciled,
  ledgerState,
  send,
  newRound,
  result,
  resultChange,
  transactionsOf,
  type Round,
} from './helpers.ts';

/**
 * bet_result pays total_bet_amount + total_winloss (never below 0); result_change moves the balance
 * by the difference between the new settlement and what the round has paid so far.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

/** A funded player with one bet of `stake` placed on a fresh round. */
async function playerWithBet(code: string, funds: string, stake: number, after: number): Promise<Round> {
  await gw.fund(code, { USD: funds });
  const round = newRound();
  await expectEvent(gw, bet(code, round, [[1, stake]]), 'R0', after);
  return round;
}

const credits = async (code: string) =>
  (await transactionsOf(gw, code)).filter((t) => t.kind === 'credit' || t.kind === 'adjust').map((t) => [t.kind, t.amount, t.moved, t.status]);

describe('bet_result', () => {
  it('a win pays the stake back plus the net win, decimals exactly', async () => {
    const round = await playerWithBet('ev_win', '100', 10, 90);
    const r = result('ev_win', round, 10, 9.5);
    await expectEvent(gw, r, 'R0', 109.5);
    expect(await balanceOf(gw, 'ev_win')).toBe(10950n);
    expect(await transactionsOf(gw, 'ev_win')).toContainEqual({
      external_id: r.transaction_id,
      kind: 'credit',
      amount: 1950n,
      currency: 'USD',
      status: 'applied',
      refusal: null,
      round: `${round.table_no}:${round.game_no}`,
      moved: 1950n,
      // What the vendor claimed is kept with the result: a repeat is compared with it, a late result judged by it.
      details: {
        feedback_data: 'TEST_FEEDBACK_DATA',
        game_type: 'BAC',
        // With when the vendor made it: a later result or change is ordered by it (rule 13).
        claim: { at: String(r.timestamp), lines: [{ ref: '1', stake: '1000', winloss: '950' }], totals: { stake: '1000', winloss: '950' } },
      },
    });
    await expectReconciled(gw);
  });

  it('a push (winloss 0) pays the stake back', async () => {
    const round = await playerWithBet('ev_push', '100', 25.5, 74.5);
    await expectEvent(gw, result('ev_push', round, 25.5, 0), 'R0', 100);
    expect(await balanceOf(gw, 'ev_push')).toBe(10000n);
    expect(await credits('ev_push')).toEqual([['credit', 2550n, 2550n, 'applied']]);
  });

  it('a loss (winloss = -total_bet_amount) pays 0 and is still recorded', async () => {
    const round = await playerWithBet('ev_loss', '100', 10, 90);
    const before = await ledgerState(gw);
    await expectEvent(gw, result('ev_loss', round, 10, -10), 'R0', 90);
    expect(await balanceOf(gw, 'ev_loss')).toBe(9000n);
    expect(await credits('ev_loss')).toEqual([['credit', 0n, 0n, 'applied']]);
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
    await expectReconciled(gw);
  });

  it('a repeated result event: R0 with the same balance, paid once', async () => {
    const round = await playerWithBet('ev_win_twice', '100', 10, 90);
    const r = result('ev_win_twice', round, 10, 10);
    await expectEvent(gw, r, 'R0', 110);
    const after = await ledgerState(gw);
    await expectEvent(gw, r, 'R0', 110);
    await expectEvent(gw, r, 'R0', 110);
    expect(await ledgerState(gw)).toEqual(after);
    expect(await balanceOf(gw, 'ev_win_twice')).toBe(11000n);
    expect(await credits('ev_win_twice')).toEqual([['credit', 2000n, 2000n, 'applied']]);
  });

  it('the same result transaction_id with another winloss: R3, nothing changes', async () => {
    const round = await playerWithBet('ev_win_conflict', '100', 10, 90);
    const r = result('ev_win_conflict', round, 10, 10);
    await expectEvent(gw, r, 'R0', 110);
    const after = await ledgerState(gw);
    await expectEvent(gw, result('ev_win_conflict', round, 10, 30, { id: r.transaction_id }), 'R3', 110);
    expect(await ledgerState(gw)).toEqual(after);
  });

  it('a round settles once: a second bet_result with a new transaction_id is R3 and pays nothing', async () => {
    const round = await playerWithBet('ev_win_resettle', '100', 10, 90);
    await expectEvent(gw, result('ev_win_resettle', round, 10, 10), 'R0', 110);
    const after = await ledgerState(gw);
    await expectEvent(gw, result('ev_win_resettle', round, 10, 10), 'R3', 110);
    const refused = await ledgerState(gw);
    expect(refused.accounts).toEqual(after.accounts);
    expect(refused.transfers).toEqual(after.transfers);
    // A correction is a result_change, which moves only the difference.
    await expectEvent(gw, resultChange('ev_win_resettle', round, 10, 20, 10), 'R0', 120);
    await expectReconciled(gw);
  });

  it('a win for a blocked player is paid', async () => {
    const round = await playerWithBet('ev_win_blocked', '100', 10, 90);
    await block(gw, 'ev_win_blocked');
    await expectEvent(gw, result('ev_win_blocked', round, 10, 15), 'R0', 115);
    expect(await balanceOf(gw, 'ev_win_blocked')).toBe(11500n);
    await expectReconciled(gw);
  });

  it('a winloss losing more than the stake, or malformed amounts: R3, nothing changes', async () => {
    const round = await playerWithBet('ev_result_bad', '100', 10, 90);
    const before = await ledgerState(gw);
    // Read fine, refused by the round rules (with the balance); then unreadable (without one).
    await expectEvent(gw, result('ev_result_bad', round, 10, -10.01), 'R3', 90);
    await expectEvent(gw, result('ev_result_bad', round, -10, 5), 'R3');
    await expectEvent(gw, result('ev_result_bad', round, 10, 0.001), 'R3');
    await expectEvent(gw, event('bet_result', 'ev_result_bad', { ...round, total_bet_amount: 10 }), 'R3'); // no total_winloss
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a result for a line that staked 0 pays nothing (R3): a stake is what was debited', async () => {
    const round = await playerWithBet('ev_result_zero', '100', 0, 100);
    const before = await ledgerState(gw);
    await expectEvent(gw, result('ev_result_zero', round, 0, 50), 'R3', 100);
    expect(await ledgerState(gw)).toEqual(before);
    // Beside a real stake, the line of 0 still pays nothing: the whole result is refused.
    const mixed = newRound();
    await expectEvent(gw, bet('ev_result_zero', mixed, [[1, 10], [2, 0]]), 'R0', 90);
    const r = event('bet_result', 'ev_result_zero', {
      ...mixed,
      total_bet_amount: 10,
      total_winloss: 60,
      bet_results: [
        { bet_index: 1, bet_amount: 10, winloss: 10 },
        { bet_index: 2, bet_amount: 0, winloss: 50 },
      ],
    });
    await expectEvent(gw, r, 'R3', 90);
    expect(await balanceOf(gw, 'ev_result_zero')).toBe(9000n);
  });

  it("a result the balance cannot hold (past the ledger's largest amount) is R3 and never parked", async () => {
    const round = await playerWithBet('ev_result_huge', '92233720368547700', 10, 92233720368547690);
    const before = await ledgerState(gw);
    const r = result('ev_result_huge', round, 10, 100);
    await expectEvent(gw, r, 'R3', 92233720368547690);
    expect(await ledgerState(gw)).toEqual(before);
    const row = await gw.gateway.db.selectFrom('webhooks').select(['outcome']).where('transaction_id', '=', r.transaction_id).executeTakeFirstOrThrow();
    expect(row.outcome).not.toBe('parked');
    // Parked, a retry would pay it behind the vendor's back once the player had spent enough.
    expect(await gw.gateway.db.selectFrom('webhooks').select('id').where('outcome', '=', 'parked').where('transaction_id', '=', r.transaction_id).execute()).toEqual([]);
    expect(await balanceOf(gw, 'ev_result_huge')).toBe(9223372036854769000n);
  });

  it('an unknown player: R3', async () => {
    const before = await ledgerState(gw);
    await expectEvent(gw, result('ev_result_nobody', newRound(), 10, 10), 'R3');
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a result naming another currency than its round was bet in pays nothing in that currency (R3)', async () => {
    // The bet took EUR; paying its win in USD would credit money the round never put on the table.
    await gw.fund('ev_result_cur', { USD: '100', EUR: '100' });
    const round = newRound();
    await expectEvent(gw, bet('ev_result_cur', round, [[1, 10]], { currency: 'EUR' }), 'R0', 90);
    const r = result('ev_result_cur', round, 10, 10);
    (r.data as Record<string, unknown>).currency = 'USD';
    const before = await ledgerState(gw);
    await expectEvent(gw, r, 'R3', 100);
    expect(await balanceOf(gw, 'ev_result_cur', 'USD')).toBe(10000n);
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
  });
});

describe('a refused result, for operators (rule 14)', () => {
  it('is in the webhook history with the reason, what the vendor claimed, and in the round refusals', async () => {
    const round = await playerWithBet('ev_result_claim', '100', 10, 90);
    // Its lines win 5.00, its total claims 50.00: paid from the total, it would have credited 60.00.
    const r = result('ev_result_claim', round, 10, 5);
    (r.data as Record<string, unknown>).total_winloss = 50;
    const before = await ledgerState(gw);
    await expectEvent(gw, r, 'R3', 90);
    expect(await ledgerState(gw)).toEqual(before);
    const [row] = await gw.gateway.history.search({ transactionId: r.transaction_id, limit: 5 });
    expect(row).toMatchObject({ outcome: 'refused', detail: 'inconsistent: the lines win/loss 500, the total says 5000' });
    expect((row!.payload as { data: { total_winloss: unknown } }).data.total_winloss).toBe(50);
    const refusals = await gw.gateway.db.selectFrom('round_refusals').select(['reason', 'operation', 'round_external_id', 'claim']).where('external_id', '=', r.transaction_id).execute();
    expect(refusals).toEqual([
      {
        reason: 'inconsistent',
        operation: 'settle',
        round_external_id: `${round.table_no}:${round.game_no}`,
        claim: { at: String(r.timestamp), lines: [{ ref: '1', stake: '1000', winloss: '500' }], totals: { stake: '1000', winloss: '5000' } },
      },
    ]);
    // The same message said consistently pays what the round owes.
    await expectEvent(gw, result('ev_result_claim', round, 10, 5, { id: r.transaction_id }), 'R0', 105);
  });
});

describe('result_change', () => {
  it('from a win to a loss takes the difference back', async () => {
    const round = await playerWithBet('ev_change_down', '100', 10, 90);
    await expectEvent(gw, result('ev_change_down', round, 10, 10), 'R0', 110);
    await expectEvent(gw, resultChange('ev_change_down', round, 10, -10, 10), 'R0', 90);
    expect(await balanceOf(gw, 'ev_change_down')).toBe(9000n);
    expect(await credits('ev_change_down')).toEqual([
      ['credit', 2000n, 2000n, 'applied'],
      ['adjust', 0n, 2000n, 'applied'],
    ]);
    await expectReconciled(gw);
  });

  it('from a loss to a win pays the difference', async () => {
    const round = await playerWithBet('ev_change_up', '100', 10, 90);
    await expectEvent(gw, result('ev_change_up', round, 10, -10), 'R0', 90);
    await expectEvent(gw, resultChange('ev_change_up', round, 10, 12.5, -10), 'R0', 112.5);
    expect(await balanceOf(gw, 'ev_change_up')).toBe(11250n);
    await expectReconciled(gw);
  });

  it('a push changed to a smaller win, then changed again: each change moves only the difference', async () => {
    const round = await playerWithBet('ev_change_chain', '100', 10, 90);
    await expectEvent(gw, result('ev_change_chain', round, 10, 0), 'R0', 100);
    await expectEvent(gw, resultChange('ev_change_chain', round, 10, 5, 0), 'R0', 105);
    await expectEvent(gw, resultChange('ev_change_chain', round, 10, -10, 5), 'R0', 90);
    expect(await balanceOf(gw, 'ev_change_chain')).toBe(9000n);
    await expectReconciled(gw);
  });

  it('the same result_change repeated is applied once', async () => {
    const round = await playerWithBet('ev_change_twice', '100', 10, 90);
    await expectEvent(gw, result('ev_change_twice', round, 10, -10), 'R0', 90);
    const change = resultChange('ev_change_twice', round, 10, 10, -10);
    await expectEvent(gw, change, 'R0', 110);
    const after = await ledgerState(gw);
    await expectEvent(gw, change, 'R0', 110);
    await expectEvent(gw, change, 'R0', 110);
    expect(await ledgerState(gw)).toEqual(after);
    expect(await balanceOf(gw, 'ev_change_twice')).toBe(11000n);
    expect((await credits('ev_change_twice')).filter(([kind]) => kind === 'adjust')).toHaveLength(1);
  });

  it('a result_change for an unknown round: R3, nothing changes', async () => {
    await gw.fund('ev_change_unknown', { USD: '100' });
    const before = await ledgerState(gw);
    await expectEvent(gw, resultChange('ev_change_unknown', newRound(), 10, 10, -10), 'R3', 100);
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a change that would take back more than the wallet holds: R4 with the balance, nothing moves; a retry after a deposit applies', async () => {
    const round = await playerWithBet('ev_change_poor', '100', 10, 90);
    await expectEvent(gw, result('ev_change_poor', round, 10, 10), 'R0', 110);
    const withdrawn = await gw.gateway.backOffice.cashier('withdrawal', PlayerCode('ev_change_poor'), asCurrency('USD'), 10500n, 'ev-change-poor-out');
    expect(withdrawn).toEqual({ ok: true, value: { balance: 500n } });

    const before = await ledgerState(gw);
    const change = resultChange('ev_change_poor', round, 10, -10, 10);
    await expectEvent(gw, change, 'R4', 5);
    expect(await ledgerState(gw)).toEqual(before);
    expect(await balanceOf(gw, 'ev_change_poor')).toBe(500n);

    const deposited = await gw.gateway.backOffice.cashier('deposit', PlayerCode('ev_change_poor'), asCurrency('USD'), 2000n, 'ev-change-poor-in');
    expect(deposited.ok).toBe(true);
    await expectEvent(gw, change, 'R0', 5);
    expect(await balanceOf(gw, 'ev_change_poor')).toBe(500n);
    await expectReconciled(gw);
  });

  it('a result_change for a blocked player still pays', async () => {
    const round = await playerWithBet('ev_change_blocked', '100', 10, 90);
    await expectEvent(gw, result('ev_change_blocked', round, 10, -10), 'R0', 90);
    await block(gw, 'ev_change_blocked');
    await expectEvent(gw, resultChange('ev_change_blocked', round, 10, 10, -10), 'R0', 110);
  });

  it("a result_change naming another player's round: R3, nothing moves", async () => {
    const round = await playerWithBet('ev_change_owner', '100', 10, 90);
    await expectEvent(gw, result('ev_change_owner', round, 10, -10), 'R0', 90);
    await gw.fund('ev_change_other', { USD: '100' });
    const before = await ledgerState(gw);
    await expectEvent(gw, resultChange('ev_change_other', round, 10, 10, -10), 'R3', 100);
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a result_change naming another currency than its round was bet and paid in moves nothing in that currency (R3)', async () => {
    // A EUR round paid 20 EUR; its change to a loss, worded in USD, must neither pay nor take USD.
    await gw.fund('ev_change_cur', { USD: '100', EUR: '100' });
    const round = newRound();
    await expectEvent(gw, bet('ev_change_cur', round, [[1, 10]], { currency: 'EUR' }), 'R0', 90);
    const paid = result('ev_change_cur', round, 10, 10);
    (paid.data as Record<string, unknown>).currency = 'EUR';
    await expectEvent(gw, paid, 'R0', 110);
    const change = resultChange('ev_change_cur', round, 10, -10, 10);
    (change.data as Record<string, unknown>).currency = 'USD';
    const before = await ledgerState(gw);
    await expectEvent(gw, change, 'R3', 100);
    expect(await balanceOf(gw, 'ev_change_cur', 'USD')).toBe(10000n);
    expect(await balanceOf(gw, 'ev_change_cur', 'EUR')).toBe(11000n);
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
  });

  it('a result_change missing total_winloss_before: R3', async () => {
    const round = await playerWithBet('ev_change_bad', '100', 10, 90);
    const change = resultChange('ev_change_bad', round, 10, 10, -10);
    delete (change.data as Record<string, unknown>).total_winloss_before;
    await expectEvent(gw, change, 'R3');
  });
});

describe('corrections ordered by the vendor clock (rule 13)', () => {
  // The vendor's order: the result (a push), a change to a win of 5.00, a change back to the push, each
  // made a second after the one before. By their figures alone, the first change arriving last would
  // apply to the push the round holds again and end the round at 5.00.
  const arrivals = [
    ['result', 'first', 'second'],
    ['result', 'second', 'first'],
    ['first', 'result', 'second'],
    ['first', 'second', 'result'],
    ['second', 'result', 'first'],
    ['second', 'first', 'result'],
  ] as const;

  it.each(arrivals.map((order) => [order.join(', '), order] as const))('arriving %s, the round ends as the vendor left it', async (_, order) => {
    const code = `ev_clock_${order.map((m) => m[0]).join('')}`;
    const round = await playerWithBet(code, '100', 10, 90);
    const made = Math.floor(Date.now() / 1000) - 30;
    const messages = {
      result: result(code, round, 10, 0, { timestamp: made }),
      first: resultChange(code, round, 10, 5, 0, { timestamp: made + 1 }),
      second: resultChange(code, round, 10, 0, 5, { timestamp: made + 2 }),
    };
    const answers: string[] = [];
    for (const name of order) answers.push(((await send(gw, messages[name])).answer as { code: string }).code);
    // The vendor re-sends what was refused, in its own order: only a change that came before the one
    // it corrects is refused (R3), and it applies once that one has.
    for (const [i, name] of order.entries()) if (answers[i] === 'R3') await expectEvent(gw, messages[name], 'R0', 100);
    expect(await balanceOf(gw, code)).toBe(10000n);
    expect(answers.filter((a) => a !== 'R0' && a !== 'R3')).toEqual([]);
    const refusals = await gw.gateway.db
      .selectFrom('round_refusals')
      .select(['external_id', 'reason'])
      .where('round_external_id', '=', `${round.table_no}:${round.game_no}`)
      .orderBy('id')
      .execute();
    const reasons = Object.fromEntries(refusals.map((r) => [Object.entries(messages).find(([, m]) => m.transaction_id === r.external_id)![0], r.reason]));
    if (order[0] === 'second') {
      // Arriving first, the last change settles the round; the messages made before it pay nothing.
      expect(answers).toEqual(['R0', 'R0', 'R0']);
      expect(reasons).toEqual({ result: 'superseded', first: 'superseded' });
    }
    if (order.join() === 'first,second,result') expect(reasons).toEqual({ result: 'superseded' });
    await expectReconciled(gw);
  });

  it('a change made in an earlier second than the figures the round holds pays nothing, whatever its "before" says', async () => {
    const round = await playerWithBet('ev_clock_older', '100', 10, 90);
    const made = Math.floor(Date.now() / 1000) - 30;
    await expectEvent(gw, result('ev_clock_older', round, 10, 0, { timestamp: made }), 'R0', 100);
    await expectEvent(gw, resultChange('ev_clock_older', round, 10, 5, 0, { timestamp: made + 5 }), 'R0', 105);
    const before = await ledgerState(gw);
    // Its "before" (5.00) is what the round holds, but it was made before the change that set it.
    const old = resultChange('ev_clock_older', round, 10, -10, 5, { timestamp: made + 4 });
    await expectEvent(gw, old, 'R0', 105);
    expect(await ledgerState(gw)).toEqual(before);
    const [row] = await gw.gateway.history.search({ transactionId: old.transaction_id, limit: 5 });
    expect(row).toMatchObject({ detail: `superseded: line 1 holds figures the vendor made at ${made + 5}, after this message (${made + 4})` });
    // Made in the same second as the figures it corrects, the figures decide: it applies.
    await expectEvent(gw, resultChange('ev_clock_older', round, 10, -10, 5, { timestamp: made + 5 }), 'R0', 90);
  });
});

describe("a result change that overtakes its result and names only some of the round's lines", () => {
  const line = (i: number, winloss: number, before?: number) => ({ bet_index: i, bet_type: 'Player', bet_amount: 10, winloss, ...(before === undefined ? {} : { winloss_before: before }) });
  const messages = (code: string, round: Round, resultMade: number, changeMade: number) => ({
    result: event('bet_result', code, { game_type: 'BAC', ...round, total_bet_amount: 20, total_winloss: 20, result: 'P', result_detail: '{}', bet_results: [line(1, 10), line(2, 10)] }, { timestamp: resultMade }),
    change: event(
      'result_change',
      code,
      { game_type: 'BAC', ...round, total_bet_amount: 10, total_winloss: 30, total_winloss_before: 10, result: 'P', result_before: 'P', result_detail: '{}', result_detail_before: '{}', bet_results: [line(1, 30, 10)] },
      { timestamp: changeMade },
    ),
  });

  it.each([
    ['in a later second', 5],
    ['in the same second', 0],
  ])('made %s: the late result still pays the lines the change did not name, as the vendor\'s order does', async (_, later) => {
    const code = `ev_partial_change_${later}`;
    await gw.fund(code, { USD: '100' });
    const round = newRound();
    await expectEvent(gw, bet(code, round, [[1, 10], [2, 10]]), 'R0', 80);
    const made = Math.floor(Date.now() / 1000) - 30;
    const { result: theResult, change } = messages(code, round, made, made + later);
    // The vendor's order: the result (lines +10 and +10: 120), then line 1 corrected to +30 (140).
    await expectEvent(gw, change, 'R0', 120);
    await expectEvent(gw, theResult, 'R0', 140);
    await expectEvent(gw, theResult, 'R0', 140);
    expect(await balanceOf(gw, code)).toBe(14000n);
    // Both lines are settled now: a cancel of line 2 refunds nothing.
    await expectEvent(gw, event('bet_cancel', code, { ...round, total_bet_cancel_amount: 10, bet_cancels: [{ bet_index: 2, bet_type: 'Player', bet_amount: 10 }] }), 'R3', 140);
    await expectReconciled(gw);
  });

  it('a second result with other figures for the corrected line pays nothing more', async () => {
    const code = 'ev_partial_change_other';
    await gw.fund(code, { USD: '100' });
    const round = newRound();
    await expectEvent(gw, bet(code, round, [[1, 10], [2, 10]]), 'R0', 80);
    const made = Math.floor(Date.now() / 1000) - 30;
    await expectEvent(gw, messages(code, round, made, made).change, 'R0', 120);
    // Line 1 at -10, not the +10 the change corrected: not the original result, a second one.
    const other = event('bet_result', code, { game_type: 'BAC', ...round, total_bet_amount: 20, total_winloss: 0, result: 'P', result_detail: '{}', bet_results: [line(1, -10), line(2, 10)] }, { timestamp: made });
    await expectEvent(gw, other, 'R3', 120);
    await expectReconciled(gw);
  });

  it('settles the round when it names every open line (a cancelled one needs no figures)', async () => {
    const code = 'ev_whole_change';
    await gw.fund(code, { USD: '100' });
    const round = newRound();
    await expectEvent(gw, bet(code, round, [[1, 10], [2, 10]]), 'R0', 80);
    await expectEvent(gw, event('bet_cancel', code, { ...round, total_bet_cancel_amount: 10, bet_cancels: [{ bet_index: 2, bet_type: 'Player', bet_amount: 10 }] }), 'R0', 90);
    const change = event('result_change', code, { game_type: 'BAC', ...round, total_bet_amount: 10, total_winloss: 30, total_winloss_before: 10, result: 'P', result_before: 'P', result_detail: '{}', result_detail_before: '{}', bet_results: [line(1, 30, 10)] });
    await expectEvent(gw, change, 'R0', 130);
    await expectReconciled(gw);
  });
});
