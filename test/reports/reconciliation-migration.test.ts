import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../src/ledger/migrate.ts';
import { Reports } from '../../src/reports/ggr.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { migratedTo, type TestDatabase } from '../support/db.ts';

/**
 * The release whose revenue counts reconciliation's cashier adjustments: a day an earlier release
 * rolled up without one it holds is computed again by the job (its rows and its "done" mark go);
 * every other rolled-up day stays as it was.
 */
const BEFORE = '2026-12-06T0002_iso_exponents';
const USD = asCurrency('USD');

let t: TestDatabase;
beforeAll(async () => {
  t = await migratedTo(BEFORE);
});
afterAll(() => t?.drop());

describe('days rolled up before reconciliation counted in revenue', () => {
  it('are rolled up again where a resolution paid from the cashier, and only there', async () => {
    const backOffice = new BackOffice(t.db);
    expect((await backOffice.createPlayer(PlayerCode('mig-fin'), [USD])).ok).toBe(true);
    expect((await backOffice.cashier('deposit', PlayerCode('mig-fin'), USD, 10n, 'reconcile-7')).ok).toBe(true);
    expect((await backOffice.cashier('deposit', PlayerCode('mig-fin'), USD, 10n, 'finance-own')).ok).toBe(true);
    // Made on two past days (the ledger is insert-only: its guards are set aside for this one update).
    await t.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`update cashier_operations set created_at = case reference when 'reconcile-7' then '2026-11-02T12:00:00Z'::timestamptz else '2026-11-03T12:00:00Z'::timestamptz end`.execute(trx);
    });
    // Resolved on 2 November (the day the revenue counts it), its deposit made there too.
    await sql`insert into audit_events (at, actor, via, action, target, outcome, detail)
      values ('2026-11-02T12:00:05Z', 'fin', 'token', 'finding_resolve', '7', 'ok', ${JSON.stringify({ provider: 'scorpio-play', reference: 'reconcile-7' })}::jsonb)`.execute(t.db);
    for (const day of ['2026-11-02', '2026-11-03']) {
      await sql`insert into report_days (day, provider_id, game, currency, rounds, players, bets, stakes, refunds, wins, reversals, adjustments, promo_wins)
        values (${day}, 'scorpio-play', 'g1', 'USD', 1, 1, 1, 100, 0, 0, 0, 0, 0)`.execute(t.db);
      await sql`insert into report_days_done (day) values (${day})`.execute(t.db);
    }
    await migrateToLatest(t.db);
    const done = await sql<{ day: string }>`select to_char(day, 'YYYY-MM-DD') as day from report_days_done order by day`.execute(t.db);
    expect(done.rows.map((r) => r.day)).toEqual(['2026-11-03']);
    const kept = await sql<{ day: string; reconciliation: string }>`select to_char(day, 'YYYY-MM-DD') as day, reconciliation::text from report_days order by day`.execute(t.db);
    expect(kept.rows).toEqual([{ day: '2026-11-03', reconciliation: '0' }]);
    // Computed again, 2 November counts the adjustment in its provider's row with no game.
    const day = await new Reports(t.db).ggr({ from: '2026-11-02', to: '2026-11-02', by: 'day' }, Date.parse('2026-11-05T00:00:00Z'));
    expect(day).toMatchObject([{ provider: 'scorpio-play', game: '', currency: 'USD', reconciliation: 10n }]);
  });
});
