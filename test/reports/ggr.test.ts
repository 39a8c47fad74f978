import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derived } from '../../src/reports/ggr.ts';
import * as command from '../command/helpers.ts';
import * as ev from '../event/helpers.ts';
import { runCli } from '../support/cli.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * Revenue (issue 14, reports): GGR per day, provider, game and currency, computed from the ledger and
 * checked against an independent sum (the providers' game accounts move by exactly what the players
 * lost); closed days rolled up give the same figures; money lands in the day it moved.
 */

let gw: TestGateway;
const today = new Date().toISOString().slice(0, 10);
const FORMULA_GAME = '=HYPERLINK("http://evil.example")';

beforeAll(async () => {
  gw = await startTestGateway();
  await gw.fund('rev-a', { USD: '100' });
  await gw.fund('rev-b', { USD: '100' });
  const sp = 'scorpio-play';
  const [b1, w1, b2, b3, bonus, b4] = [command.transId(), command.transId(), command.transId(), command.transId(), command.transId(), command.transId()];
  await command.expectAnswer(gw, sp, command.bet('rev-a', b1, 10, { round: 'rev-r1' }), command.ok('90'));
  await command.expectAnswer(gw, sp, command.win('rev-a', w1, 25, { round: 'rev-r1' }), command.ok('115'));
  await command.expectAnswer(gw, sp, command.bet('rev-a', b2, 5, { round: 'rev-r2' }), command.ok('110'));
  await command.expectAnswer(gw, sp, command.bet('rev-b', b3, 4, { round: 'rev-r3' }), command.ok('96'));
  await command.expectAnswer(gw, sp, command.cancel('rev-b', b3, { round: 'rev-r3' }), command.ok('100'));
  // A bonus call's win: no stake, paid, kept apart as a promotional win.
  await command.expectAnswer(gw, sp, command.win('rev-b', bonus, 3, { round: 'rev-bonus', callId: 7, type: 32 }), command.ok('103'));
  const odd = command.bet('rev-b', b4, 2, { round: 'rev-r4' });
  (odd.data as Record<string, unknown>).game_code = FORMULA_GAME;
  await command.expectAnswer(gw, sp, odd, command.ok('101'));
  const round = ev.newRound();
  await ev.expectEvent(gw, ev.bet('rev-a', round, [[1, 10]]), 'R0', 100);
  await ev.expectEvent(gw, ev.result('rev-a', round, 10, 5), 'R0', 115);
  await ev.expectEvent(gw, ev.resultChange('rev-a', round, 10, 8, 5), 'R0', 118);
});
afterAll(() => gw?.close());

const report = async (query: string) => {
  const res = await fetch(`${gw.url}/v1/reports/ggr?${query}`, { headers: { authorization: `Bearer ${await gw.adminToken('viewer')}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};
const rows = async (query: string) => JSON.parse((await report(query)).text).rows as Record<string, string>[];

describe('GGR', () => {
  it('per provider, game and currency: stakes, refunds, wins, result changes and promotional wins apart', async () => {
    const got = await rows(`from=${today}&to=${today}`);
    expect(got).toEqual([
      {
        period: today, provider: 'dowinn', game: 'BAC', currency: 'USD', rounds: '1', players: '1', bets: '1',
        stakes: '10.00', refunds: '0.00', wins: '15.00', reversals: '0.00', adjustments: '3.00', promoWins: '0.00', reconciliation: '0.00', ggr: '-8.00', ggrAfterPromotions: '-8.00', rtp: '180.00',
      },
      {
        period: today, provider: 'scorpio-play', game: FORMULA_GAME, currency: 'USD', rounds: '1', players: '1', bets: '1',
        stakes: '2.00', refunds: '0.00', wins: '0.00', reversals: '0.00', adjustments: '0.00', promoWins: '0.00', reconciliation: '0.00', ggr: '2.00', ggrAfterPromotions: '2.00', rtp: '0.00',
      },
      {
        period: today, provider: 'scorpio-play', game: 'vs20doghouse', currency: 'USD', rounds: '3', players: '2', bets: '3',
        stakes: '19.00', refunds: '4.00', wins: '25.00', reversals: '0.00', adjustments: '0.00', promoWins: '3.00', reconciliation: '0.00', ggr: '-10.00', ggrAfterPromotions: '-13.00', rtp: '166.67',
      },
    ]);
  });

  it('adds up to what the providers’ game accounts took, an independent sum of the transfers', async () => {
    const { rows: accounts } = await sql<{ provider_id: string; currency: string; balance: bigint }>`
      select provider_id, currency, sum(balance)::bigint as balance from accounts where kind = 'game' group by 1, 2`.execute(gw.gateway.db);
    const reported = new Map<string, bigint>();
    for (const r of await gw.gateway.reports.ggr({ from: today, to: today, by: 'day' })) {
      const key = `${r.provider}/${r.currency}`;
      const net = r.stakes - r.refunds - (r.wins - r.reversals + r.adjustments) - r.promoWins;
      reported.set(key, (reported.get(key) ?? 0n) + net);
    }
    const taken = new Map(accounts.filter((a) => a.balance !== 0n).map((a) => [`${a.provider_id}/${a.currency}`, a.balance]));
    expect(reported).toEqual(taken);
  });

  it('by month sums the days; a closed day rolled up gives the same figures, once', async () => {
    const byDay = await gw.gateway.reports.ggr({ from: today, to: today, by: 'day' });
    const byMonth = await gw.gateway.reports.ggr({ from: `${today.slice(0, 7)}-01`, to: today, by: 'month' });
    expect(byMonth.map((r) => ({ ...r, period: today }))).toEqual(byDay);
    const tomorrowNoon = Date.parse(`${today}T12:00:00Z`) + 86_400_000;
    expect(await gw.gateway.reports.rollUp(tomorrowNoon)).toContain(today);
    expect(await gw.gateway.reports.rollUp(tomorrowNoon)).toEqual([]);
    const { rows: stored } = await sql<{ n: number }>`select count(*)::int as n from report_days where day = ${today}`.execute(gw.gateway.db);
    expect(stored[0]!.n).toBe(3);
    expect(await gw.gateway.reports.ggr({ from: today, to: today, by: 'day' }, tomorrowNoon)).toEqual(byDay);
  });

  it('as CSV: one line per row, a cell a spreadsheet would run as a formula kept as text', async () => {
    const csv = await report(`from=${today}&to=${today}&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.type).toMatch(/^text\/csv/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('period,provider,game,currency,rounds,players,bets,stakes,refunds,wins,reversals,adjustments,promoWins,reconciliation,ggr,ggrAfterPromotions,rtp');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe(`${today},scorpio-play,"'=HYPERLINK(""http://evil.example"")",USD,1,1,1,2.00,0.00,0.00,0.00,0.00,0.00,0.00,2.00,2.00,0.00`);
    expect(lines[3]).toContain(',-10.00,-13.00,166.67');
  });

  it('reads a currency filter in either case, and refuses one that is not a currency', async () => {
    const upper = await rows(`from=${today}&to=${today}&currency=USD`);
    expect(upper.length).toBeGreaterThan(0);
    expect(await rows(`from=${today}&to=${today}&currency=usd`)).toEqual(upper);
    expect((await report(`from=${today}&to=${today}&currency=US`)).status).toBe(400);
    expect((await report(`from=${today}&to=${today}&currency=ZZZ`)).status).toBe(400);
  });

  it('from the command line, both days of --from and --to are in the report, as in the API', async () => {
    const run = await runCli(['report', 'ggr', '--from', today, '--to', today, '--currency', 'usd', '--json'], { DATABASE_URL: gw.database.url, REDIS_PREFIX: gw.config.redis.prefix });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ from: today, to: today, rows: await rows(`from=${today}&to=${today}&currency=USD`) });
    // As text, every figure GGR is made of, so a row can be checked by hand.
    const text = await runCli(['report', 'ggr', '--from', today, '--to', today, '--provider', 'dowinn'], { DATABASE_URL: gw.database.url, REDIS_PREFIX: gw.config.redis.prefix });
    expect(text.stdout).toContain(`${today}  dowinn         BAC              USD  stakes 10.00  refunds 0.00  wins 15.00  reversals 0.00  changes 3.00  reconciliation 0.00  promo 0.00  GGR -8.00  RTP 180.00%`);
    // --until is the webhook history's and the audit's exclusive end: not this report's.
    expect((await runCli(['report', 'ggr', '--since', today, '--until', today], { DATABASE_URL: gw.database.url })).code).toBe(2);
  });

  it('refuses a period that is not one, and needs a signed-in caller', async () => {
    expect((await report(`from=${today}&to=2020-01-01`)).status).toBe(400);
    expect((await report('from=2026-02-30&to=2026-03-01')).status).toBe(400);
    expect((await fetch(`${gw.url}/v1/reports/ggr?from=${today}&to=${today}`)).status).toBe(401);
  });
});

describe('a result after midnight', () => {
  it('lands in the day its money moved, its stake in the day before', async () => {
    // The roll-up is a cache of the ledger: the test above rolled today up as if it were over.
    await sql`delete from report_days`.execute(gw.gateway.db);
    await sql`delete from report_days_done`.execute(gw.gateway.db);
    await gw.fund('rev-late', { USD: '100' });
    const round = ev.newRound();
    await ev.expectEvent(gw, ev.bet('rev-late', round, [[1, 20]]), 'R0', 80);
    await ev.expectEvent(gw, ev.result('rev-late', round, 20, 20), 'R0', 120);
    // Move the result to tomorrow, as if it had arrived after midnight (the ledger is insert-only: the test lifts that for one update).
    const db = gw.gateway.db;
    await sql`alter table provider_transactions disable trigger provider_transactions_insert_only`.execute(db);
    try {
      await sql`update provider_transactions set created_at = created_at + interval '1 day'
        where player_id = (select id from players where code = 'rev-late') and kind = 'credit'`.execute(db);
    } finally {
      await sql`alter table provider_transactions enable trigger provider_transactions_insert_only`.execute(db);
    }
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const later = Date.parse(`${tomorrow}T12:00:00Z`);
    const [day1] = (await gw.gateway.reports.ggr({ from: today, to: today, by: 'day', provider: 'dowinn' }, later)).filter((r) => r.game === 'BAC');
    const [day2] = await gw.gateway.reports.ggr({ from: tomorrow, to: tomorrow, by: 'day', provider: 'dowinn' }, later);
    expect(day2).toMatchObject({ stakes: 0n, wins: 4000n, rounds: 0n, players: 1n });
    expect(day1!.stakes).toBe(3000n);
  });
});

describe('a round whose later messages name no game', () => {
  it('keeps its refunds and results in the game of its stake', async () => {
    // The event dialect names the game (game_type) on the bet; its bet_cancel and bet_result need not.
    await gw.fund('rev-game', { USD: '100' });
    const round = ev.newRound();
    const placed = ev.bet('rev-game', round, [[1, 6], [2, 4]]);
    (placed.data as Record<string, unknown>).game_type = 'ROU';
    await ev.expectEvent(gw, placed, 'R0', 90);
    const cancelled = ev.cancel('rev-game', round, [[2, 4]]);
    delete (cancelled.data as Record<string, unknown>).game_type;
    await ev.expectEvent(gw, cancelled, 'R0', 94);
    const settled = ev.result('rev-game', round, 6, 3);
    delete (settled.data as Record<string, unknown>).game_type;
    await ev.expectEvent(gw, settled, 'R0', 103);
    const got = (await gw.gateway.reports.ggr({ from: today, to: today, by: 'day', provider: 'dowinn' })).filter((r) => r.game === 'ROU' || r.game === '');
    expect(got).toMatchObject([{ game: 'ROU', stakes: 1000n, refunds: 400n, wins: 900n, rounds: 1n, players: 1n }]);
    expect(got).toHaveLength(1);
  });
});

describe('RTP', () => {
  it('of a day whose wins taken back exceed its wins is negative, rounded as a positive one is', () => {
    const zero = { rounds: 0n, players: 0n, bets: 0n, stakes: 0n, refunds: 0n, wins: 0n, reversals: 0n, adjustments: 0n, promoWins: 0n, reconciliation: 0n };
    expect(derived({ ...zero, stakes: 10_000n, reversals: 1n }).rtp).toBe('-0.01');
    expect(derived({ ...zero, stakes: 10_000n, reversals: 150n }).rtp).toBe('-1.50');
    expect(derived({ ...zero, stakes: 3n, wins: 1n }).rtp).toBe('33.33');
    expect(derived({ ...zero, stakes: 3n, reversals: 1n }).rtp).toBe('-33.33');
    expect(derived({ ...zero, wins: 5n }).rtp).toBeNull();
  });
});

describe('a result change that overtook its result', () => {
  it('counts as the round\'s win, not as a correction: it paid the round its result', async () => {
    await gw.fund('rev-first', { USD: '100' });
    const round = ev.newRound();
    const placed = ev.bet('rev-first', round, [[1, 10]]);
    (placed.data as Record<string, unknown>).game_type = 'DT';
    await ev.expectEvent(gw, placed, 'R0', 90);
    // Corrected from +5 to +8 before the result (+5) arrived: the change pays 18, the result nothing.
    const change = ev.resultChange('rev-first', round, 10, 8, 5);
    const result = ev.result('rev-first', round, 10, 5);
    for (const e of [change, result]) (e.data as Record<string, unknown>).game_type = 'DT';
    await ev.expectEvent(gw, change, 'R0', 108);
    await ev.expectEvent(gw, result, 'R0', 108);
    const [row] = (await gw.gateway.reports.ggr({ from: today, to: today, by: 'day', provider: 'dowinn' })).filter((r) => r.game === 'DT');
    expect(row).toMatchObject({ stakes: 1000n, wins: 1800n, adjustments: 0n });
  });
});
