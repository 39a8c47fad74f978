import { sql } from 'kysely';
import type { Db } from './database.ts';

/**
 * Planner statistics on a server that does not keep them itself.
 *
 * The wallet's statements are prepared, and each pooled connection keeps the plan Postgres made for
 * a statement until an ANALYZE of one of its tables invalidates it. Autovacuum analyzes a table
 * every time it has grown by a tenth, so on an ordinary server the plans follow the ledger. With
 * autovacuum off, a plan made while a table was nearly empty stays: the wallet snapshot then read
 * the whole rounds index on every call, 3,262 entries after a minute of load, more every minute
 * (docs/performance.md). There, this analyzes the database itself. Plain ANALYZE: it takes no lock
 * that money calls wait for. Dead rows are not its business: vacuuming stays the operator's
 * (docs/operations.md).
 */
export async function keepStatistics(db: Db): Promise<'autovacuum' | 'analyzed'> {
  const { rows } = await sql<{ on: boolean }>`select current_setting('autovacuum')::boolean as on`.execute(db);
  if (rows[0]?.on) return 'autovacuum';
  await db.transaction().execute(async (trx) => {
    // One process at a time: the others' workers, started together, leave it to the first.
    const { rows: mine } = await sql<{ taken: boolean }>`select pg_try_advisory_xact_lock(hashtext('croupier.statistics')) as taken`.execute(trx);
    if (!mine[0]?.taken) return;
    // A big ledger takes longer than a money call's statement limit (the sample it reads is bounded),
    // and a table being vacuumed by hand is waited for rather than failed on.
    await sql`set local statement_timeout = 0`.execute(trx);
    await sql`set local lock_timeout = 0`.execute(trx);
    await sql`analyze`.execute(trx);
  });
  return 'analyzed';
}
