import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { balanceOf, bet, cancel, expectEvent, expectReconciled, ledgerState, newRound, result, resultChange, type Round } from './helpers.ts';

/**
 * Only a `bet` is shown naming its currency. The `dowinn` instance is in USD; a round bet in another
 * currency is settled, cancelled and corrected in that currency by events that name none: the
 * wallet applies them in the round's currency (wallet-semantics.md, rule 7: money owed is not refused
 * for the gateway's guess), and the answer's latest_balance is that wallet's.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

/** A player holding USD and `currency`, with one bet of `stake` (in `currency`) on a fresh round. */
async function betIn(code: string, currency: string, funds: string, stake: number, after: number): Promise<Round> {
  await gw.fund(code, { USD: '500', [currency]: funds });
  const round = newRound();
  await expectEvent(gw, bet(code, round, [[1, stake]], { currency }), 'R0', after);
  return round;
}

describe('events that name no currency, on a round bet in another currency than the instance', () => {
  it('a bet_result pays in the round currency, answers that balance, and a repeat is a repeat', async () => {
    const round = await betIn('ev_cur_win', 'EUR', '100', 10, 90);
    const r = result('ev_cur_win', round, 10, 5);
    await expectEvent(gw, r, 'R0', 105);
    expect(await balanceOf(gw, 'ev_cur_win', 'EUR')).toBe(10500n);
    expect(await balanceOf(gw, 'ev_cur_win', 'USD')).toBe(50000n);
    const before = await ledgerState(gw);
    await expectEvent(gw, r, 'R0', 105);
    expect(await ledgerState(gw)).toEqual(before);
    await expectReconciled(gw);
  });

  it('a bet_cancel refunds in the round currency', async () => {
    const round = await betIn('ev_cur_cancel', 'EUR', '100', 10, 90);
    await expectEvent(gw, cancel('ev_cur_cancel', round, [[1, 10]]), 'R0', 100);
    expect(await balanceOf(gw, 'ev_cur_cancel', 'EUR')).toBe(10000n);
    expect(await balanceOf(gw, 'ev_cur_cancel', 'USD')).toBe(50000n);
    // The cancelled line takes no result.
    await expectEvent(gw, result('ev_cur_cancel', round, 10, 5), 'R3', 100);
  });

  it('a result_change moves the difference in the round currency', async () => {
    const round = await betIn('ev_cur_change', 'EUR', '100', 10, 90);
    await expectEvent(gw, result('ev_cur_change', round, 10, 10), 'R0', 110);
    await expectEvent(gw, resultChange('ev_cur_change', round, 10, -10, 10), 'R0', 90);
    expect(await balanceOf(gw, 'ev_cur_change', 'EUR')).toBe(9000n);
    expect(await balanceOf(gw, 'ev_cur_change', 'USD')).toBe(50000n);
    await expectReconciled(gw);
  });

  it("amounts are re-expressed in a currency with fewer decimals (JPY): 50 is 50 yen, not 5,000", async () => {
    const round = await betIn('ev_cur_jpy', 'JPY', '1000', 100, 900);
    await expectEvent(gw, result('ev_cur_jpy', round, 100, 50), 'R0', 1050);
    expect(await balanceOf(gw, 'ev_cur_jpy', 'JPY')).toBe(1050n);
  });

  it('an amount finer than the round currency holds (10.5 yen) is R3 and moves nothing', async () => {
    const round = await betIn('ev_cur_jpy_frac', 'JPY', '1000', 100, 900);
    const before = await ledgerState(gw);
    await expectEvent(gw, result('ev_cur_jpy_frac', round, 100, 10.5), 'R3');
    expect(await ledgerState(gw)).toEqual(before);
    expect(await balanceOf(gw, 'ev_cur_jpy_frac', 'JPY')).toBe(900n);
    // The whole-yen result still settles it.
    await expectEvent(gw, result('ev_cur_jpy_frac', round, 100, 10), 'R0', 1010);
  });

  it('amounts are re-expressed in a currency with more decimals (KWD: 1.5 is 1,500 fils)', async () => {
    const round = await betIn('ev_cur_kwd', 'KWD', '10', 1.5, 8.5);
    await expectEvent(gw, result('ev_cur_kwd', round, 1.5, 0.25), 'R0', 10.25);
    expect(await balanceOf(gw, 'ev_cur_kwd', 'KWD')).toBe(10250n);
  });

  it('a fault answers R1 without a balance: the instance currency wallet is not the round one', async () => {
    const round = await betIn('ev_cur_fault', 'EUR', '100', 10, 90);
    const { db } = gw.gateway;
    await sql`create function refuse_cur_history() returns trigger language plpgsql as $$ begin raise exception 'history refused'; end $$`.execute(db);
    await sql`create trigger refuse_cur_history before insert on webhooks for each row
      when (new.player_code = 'ev_cur_fault' and new.outcome <> 'fault' and new.outcome <> 'parked') execute function refuse_cur_history()`.execute(db);
    try {
      await expectEvent(gw, result('ev_cur_fault', round, 10, 5), 'R1');
      expect(await balanceOf(gw, 'ev_cur_fault', 'EUR')).toBe(9000n);
    } finally {
      await sql`drop trigger refuse_cur_history on webhooks`.execute(db);
      await sql`drop function refuse_cur_history()`.execute(db);
    }
  });

  it('a result for a round never bet is still refused (R3): the instance currency is only a guess', async () => {
    await gw.fund('ev_cur_none', { USD: '20' });
    const before = await ledgerState(gw);
    await expectEvent(gw, result('ev_cur_none', newRound(), 10, 5), 'R3', 20);
    expect(await ledgerState(gw)).toEqual(before);
  });

  it("another player's round of the same table and game does not lend its currency", async () => {
    // ev_cur_a bets EUR on a round; ev_cur_b bets USD on the same table and game number.
    await gw.fund('ev_cur_a', { EUR: '50' });
    await gw.fund('ev_cur_b', { USD: '50', EUR: '50' });
    const round = newRound();
    await expectEvent(gw, bet('ev_cur_a', round, [[1, 10]], { currency: 'EUR' }), 'R0', 40);
    await expectEvent(gw, bet('ev_cur_b', round, [[1, 10]]), 'R0', 40);
    await expectEvent(gw, result('ev_cur_b', round, 10, 10), 'R0', 60);
    expect(await balanceOf(gw, 'ev_cur_b', 'USD')).toBe(6000n);
    expect(await balanceOf(gw, 'ev_cur_b', 'EUR')).toBe(5000n);
  });
});
