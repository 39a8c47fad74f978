import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Db } from '../../src/ledger/database.ts';
import { keepStatistics } from '../../src/ledger/statistics.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { ExternalTxId, PlayerCode, ProviderId } from '../../src/wallet/types.ts';
import { Wallet } from '../../src/wallet/wallet.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { USD } from './fixture.ts';

/**
 * A prepared statement keeps the plan Postgres made for it on its connection until an ANALYZE of one
 * of its tables. Made while the rounds table held a few rows, the wallet snapshot's plan read the
 * whole rounds index on every call (found by the bench, where autovacuum is off): the statistics
 * upkeep analyzes the ledger where autovacuum does not.
 */
const PROVIDER = ProviderId('dowinn');
const ALICE = PlayerCode('stats-alice');
let t: TestDatabase;
/** As the gateway connects: prepared statements, one connection so that every call shares its plans. */
let gatewayDb: Db;
let wallet: Wallet;
let bets = 0;

/** Index entries of rounds' primary key read so far, the gateway connection's included (flushed first: its counts are kept back until it is idle). */
async function roundsIndexRead(): Promise<bigint> {
  await sql`select pg_stat_force_next_flush()`.execute(gatewayDb);
  const { rows } = await sql<{ read: bigint }>`select idx_tup_read as read from pg_stat_user_indexes where indexrelname = 'rounds_pkey'`.execute(t.db);
  return rows[0]!.read;
}

/** Index entries of rounds' primary key that one bet of Alice's read. */
async function roundsIndexReadByABet(): Promise<bigint> {
  bets++;
  const before = await roundsIndexRead();
  const outcome = await wallet.execute({
    op: 'debit',
    player: ALICE,
    currency: USD,
    provider: PROVIDER,
    txId: ExternalTxId(`stats-bet-${bets}`),
    roundId: `stats-round-${bets}`,
    amount: 1n,
  });
  expect(outcome.type).toBe('ok');
  return (await roundsIndexRead()) - before;
}

/** Whether this server runs autovacuum (the machines these tests run on do not): the upkeep then leaves the statistics to it. */
async function autovacuumOn(): Promise<boolean> {
  const { rows } = await sql<{ on: boolean }>`select current_setting('autovacuum')::boolean as on`.execute(t.db);
  return rows[0]!.on;
}

beforeAll(async () => {
  t = await createTestDatabase();
  gatewayDb = createDatabase({ url: t.url, poolSize: 1, lockTimeoutMs: 5000, statementTimeoutMs: 30_000, preferIndexes: true });
  // Postgres settles on a generic plan where it judges it no dearer than planning each call anew (on
  // the bench's 10,000 players it did); here it always does.
  await sql`set plan_cache_mode = force_generic_plan`.execute(gatewayDb);
  wallet = new Wallet(gatewayDb);
  const backOffice = new BackOffice(t.db);
  await backOffice.createPlayer(ALICE, [USD]);
  await backOffice.createPlayer(PlayerCode('stats-bob'), [USD]);
  await backOffice.cashier('deposit', ALICE, USD, 1_000n, 'stats-alice-in');
  // A fresh ledger, analyzed while nearly empty (as autovacuum does at its first 50 rows, or a setup script).
  await sql`analyze`.execute(t.db);
});
afterAll(async () => {
  await gatewayDb?.destroy();
  await t?.drop();
});

describe('the planner statistics upkeep', () => {
  it('renews the statistics where autovacuum is off, and the wallet snapshot then reads one round instead of every round', async () => {
    // Past the fifth call Postgres settles on the statement's plan for the connection, made now.
    for (let i = 0; i < 8; i++) await roundsIndexReadByABet();
    // The ledger grows: other players' rounds.
    await sql`insert into rounds (provider_id, external_id, player_id, currency)
      select ${PROVIDER}, 'stats-bulk-' || g, (select id from players where code = 'stats-bob'), 'USD' from generate_series(1, 3000) g`.execute(t.db);
    expect(await roundsIndexReadByABet()).toBeGreaterThan(3000n);

    const kept = await keepStatistics(t.db);
    expect(kept).toBe((await autovacuumOn()) ? 'autovacuum' : 'analyzed');
    // Where autovacuum is on, its own ANALYZE does this (here, at once).
    if (kept === 'autovacuum') await sql`analyze`.execute(t.db);

    const after = await roundsIndexReadByABet();
    expect(after).toBeGreaterThan(0n);
    expect(after).toBeLessThanOrEqual(5n);
  });

  it('waits for a table being vacuumed by hand rather than fail on the lock timeout of money calls', async () => {
    const autovacuum = await autovacuumOn();
    // The upkeep runs on the gateway's pool, whose lock timeout is a money call's (700 ms by default; 100 here).
    const impatient = createDatabase({ url: t.url, poolSize: 1, lockTimeoutMs: 100, statementTimeoutMs: 30_000 });
    const tuples = async () => (await sql<{ n: number }>`select reltuples::int as n from pg_class where relname = 'rollbacks'`.execute(t.db)).rows[0]!.n;
    try {
      await sql`insert into rollbacks (provider_id, target_external_id, player_id)
        select ${PROVIDER}, 'stats-never-seen-' || g, (select id from players where code = 'stats-bob') from generate_series(1, 20) g`.execute(t.db);
      expect(await tuples()).toBeLessThan(20);
      // What VACUUM or ANALYZE takes on the table, held for 400 ms by another session.
      let kept: Promise<'autovacuum' | 'analyzed'> | undefined;
      await t.db.transaction().execute(async (trx) => {
        await sql`lock table rollbacks in share update exclusive mode`.execute(trx);
        kept = keepStatistics(impatient);
        kept.catch(() => {}); // awaited below
        await new Promise((resolve) => setTimeout(resolve, 400));
      });
      expect(await kept).toBe(autovacuum ? 'autovacuum' : 'analyzed');
      if (!autovacuum) expect(await tuples()).toBe(20);
    } finally {
      await impatient.destroy();
    }
  });
});
