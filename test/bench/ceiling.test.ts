import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prepare } from '../../bench/ceiling.ts';
import { replayArguments, VARIANTS, writeReplay, type ReplayProvider } from '../../bench/ceiling/replay.ts';
import { preloadPlayers } from '../../bench/database.ts';
import { run } from '../../bench/processes.ts';
import { bet, expectAnswer, ok, win } from '../command/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * `npm run bench:ceiling` replays the ledger's work with no gateway: its scripts are worth what they
 * hold to the gateway. Each variant's round must write, table by table, the rows a command-dialect
 * bet and win through the gateway write, and leave a ledger that reconciles.
 */

const PLAYERS = 20;
let gw: TestGateway;
let database: string;
let providers: ReplayProvider[];
let dir: string;

beforeAll(async () => {
  gw = await startTestGateway();
  database = decodeURIComponent(new URL(gw.database.url).pathname.slice(1));
  await preloadPlayers(database, PLAYERS);
  providers = await prepare(database);
  dir = await mkdtemp(path.join(tmpdir(), 'croupier-ceiling-test-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await gw?.close();
});

/** Rows in every table of the ledger's schema. */
async function rowCounts(): Promise<Record<string, number>> {
  const { rows: tables } = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = 'public' order by 1`.execute(gw.database.db);
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(gw.database.db);
    counts[name] = rows[0]!.n;
  }
  return counts;
}

const delta = (before: Record<string, number>, after: Record<string, number>, per = 1) =>
  Object.fromEntries(Object.keys(after).flatMap((t) => (after[t] !== before[t] ? [[t, (after[t]! - (before[t] ?? 0)) / per]] : [])));

it("each variant's round writes what a bet and its win through the gateway write, and the ledger reconciles", async () => {
  const before = await rowCounts();
  await expectAnswer(gw, 'scorpio-play', bet('p1', 9001, 12.5, { round: 'ceiling-round' }), ok('99999987.5'));
  await expectAnswer(gw, 'scorpio-play', win('p1', 9002, 20, { round: 'ceiling-round' }), ok('100000007.5'));
  const gateway = delta(before, await rowCounts());
  expect(gateway).toMatchObject({ rounds: 1, transfers: 2, provider_transactions: 2, bet_lines: 1, webhooks: 2 });

  const ROUNDS = 8;
  for (const [v, variant] of VARIANTS.entries()) {
    const files = await writeReplay(dir, variant, providers, PLAYERS);
    const start = await rowCounts();
    const ran = await run('pgbench', ['-n', '-M', 'prepared', '-t', String(ROUNDS), '-c', '1', ...replayArguments(files, BigInt(v + 1) * 1_000_000_000_000n), gw.database.url]);
    expect(ran.code, `${variant}: ${ran.stderr}`).toBe(0);
    expect(delta(start, await rowCounts(), ROUNDS), variant).toEqual(gateway);
  }
  expect(await gw.reconcile()).toEqual([]);
});
