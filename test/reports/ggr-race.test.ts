import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GgrRow } from '../../src/reports/ggr.ts';
import * as command from '../command/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * A report reads which days are rolled up and the rolled-up rows; the scheduled roll-up may commit
 * a day between those reads. The report must count that day once: from the ledger or from its
 * roll-up, never both. The test holds the roll-up's commit at the exact point between the reads.
 */

let gw: TestGateway;
const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  gw = await startTestGateway();
  await gw.fund('race-a', { USD: '100' });
  const [bet, win] = [command.transId(), command.transId()];
  await command.expectAnswer(gw, 'scorpio-play', command.bet('race-a', bet, 10, { round: 'race-r1' }), command.ok('90'));
  await command.expectAnswer(gw, 'scorpio-play', command.win('race-a', win, 4, { round: 'race-r1' }), command.ok('94'));
});
afterAll(() => gw?.close());

const asRolledUp = (r: GgrRow) => ({
  day: r.period,
  provider_id: r.provider,
  game: r.game,
  currency: r.currency,
  rounds: r.rounds,
  players: r.players,
  bets: r.bets,
  stakes: String(r.stakes),
  refunds: String(r.refunds),
  wins: String(r.wins),
  reversals: String(r.reversals),
  adjustments: String(r.adjustments),
  reconciliation: String(r.reconciliation),
  promo_wins: String(r.promoWins),
});

describe('GGR while the day is rolled up', () => {
  it('counts a day rolled up between its reads once', async () => {
    const query = { from: today, to: today, by: 'day' as const };
    const before = await gw.gateway.reports.ggr(query);
    expect(before.map((r) => [r.provider, r.stakes, r.wins])).toEqual([['scorpio-play', 1000n, 400n]]);

    let report: Promise<GgrRow[]> | undefined;
    // The "roll-up": a transaction on the test's own connection that holds report_days until it commits.
    await gw.database.db.transaction().execute(async (trx) => {
      await sql`lock table report_days in access exclusive mode`.execute(trx);
      report = gw.gateway.reports.ggr(query);
      // The report has read which days are done (none) and waits to read report_days.
      for (let i = 0; ; i++) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks where relation = 'report_days'::regclass and not granted`.execute(trx);
        if (rows[0]!.n > 0) break;
        if (i > 500) throw new Error('the report never waited for report_days');
        await new Promise((r) => setTimeout(r, 10));
      }
      // Today rolled up, as the job writes it, and committed while the report is between its reads.
      await trx.insertInto('report_days').values(before.map(asRolledUp)).execute();
      await trx.insertInto('report_days_done').values({ day: today }).execute();
    });
    expect(await report).toEqual(before);
    // And afterwards, read from the roll-up alone: the same figures.
    expect(await gw.gateway.reports.ggr(query)).toEqual(before);
  });
});
