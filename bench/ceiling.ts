import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dropDatabase, recreateDatabase, settle, withClient } from './database.ts';
import { initPgbench, runPgbench, runScripts, type PgbenchRun } from './pgbench.ts';
import type { Options } from './options.ts';
import { machine, perUnit, ratio, table, writeResults } from './report.ts';
import { replayArguments, VARIANTS, writeReplay, type ReplayProvider, type Variant } from './ceiling/replay.ts';
import { build, elapsed, freshDatabaseWithPlayers, say } from './stages.ts';
import { DATABASE, PGBENCH_DATABASE, PROVIDERS } from './world.ts';

/**
 * `npm run bench:ceiling`: what Postgres does per second with the ledger's own work and no gateway,
 * next to pgbench's tpcb-like on the same server (issue #12, goal 1 asks for money calls at half of
 * tpcb-like's rate). pgbench replays command-dialect rounds (bench/ceiling/replay.ts): the wallet's
 * own statements, and the same rounds as one SQL function per operation. The variants alternate
 * with tpcb-like, round after round, since this VM's speed drifts from one minute to the next.
 */

export const CEILING_DATABASE = `${DATABASE}_ceiling`;
const ROUNDS = 3;

interface Row {
  round: number;
  clients: number;
  tpcbLike: PgbenchRun;
  replays: Record<Variant, PgbenchRun>;
}

export async function ceilingRun(o: Options): Promise<void> {
  if (o.build) await build();
  await freshDatabaseWithPlayers(CEILING_DATABASE, o.players);
  const providers = await prepare(CEILING_DATABASE);
  say(`pgbench -i -s ${o.pgbenchScale} into ${PGBENCH_DATABASE}`);
  await recreateDatabase(PGBENCH_DATABASE);
  await initPgbench(o.pgbenchScale);

  const dir = await mkdtemp(path.join(tmpdir(), 'croupier-ceiling-'));
  const rows: Row[] = [];
  try {
    const files = new Map<Variant, string[]>();
    for (const variant of VARIANTS) files.set(variant, await writeReplay(dir, variant, providers, o.players));
    const replay = (variant: Variant, clients: number, seconds: number) =>
      runScripts({ database: CEILING_DATABASE, scripts: replayArguments(files.get(variant)!, BigInt(Date.now()) * 1_000_000n) }, clients, seconds);
    // The ledger's tables start empty: a first run would be measured on plans made for empty tables
    // (docs/performance.md, fourth session). Each variant writes a little first, unmeasured.
    say(`warm-up: each variant ${o.warmupS}s at ${Math.max(...o.callers)} clients`);
    for (const variant of VARIANTS) await replay(variant, Math.max(...o.callers), o.warmupS);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const clients of o.callers) {
        await settle(CEILING_DATABASE);
        const tpcbLike = await runPgbench('tpcb-like', clients, o.durationS);
        const replays = {} as Record<Variant, PgbenchRun>;
        for (const variant of VARIANTS) replays[variant] = await replay(variant, clients, o.durationS);
        say(`round ${round}, ${clients} clients: tpcb-like ${tpcbLike.tps} tps; ${VARIANTS.map((v) => `${v} ${calls(replays[v])} money calls/s`).join(', ')}`);
        rows.push({ round, clients, tpcbLike, replays });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await dropDatabase(PGBENCH_DATABASE);
  await dropDatabase(CEILING_DATABASE);

  const headers = ['round', 'clients', 'tpcb-like tps', ...VARIANTS.flatMap((v) => [`${v} money calls/s`, 'x tpcb-like'])];
  const printed = [
    '',
    `Croupier ceiling: ${machine().cpus} cores, ${o.players} players, ${o.durationS}s per run, total ${elapsed()}`,
    'pgbench replaying command-dialect rounds (a bet and its win: two money calls) with no gateway, next to tpcb-like:',
    table(
      headers,
      rows.map((r) => [r.round, r.clients, r.tpcbLike.tps, ...VARIANTS.flatMap((v) => [calls(r.replays[v]), ratio(calls(r.replays[v]), r.tpcbLike.tps)])]),
    ),
    '',
    "Postgres's CPU per tpcb-like transaction and per money call (ms; the gateway's own is `pg cpu ms/call` in `npm run bench`):",
    table(
      ['round', 'clients', 'tpcb-like', ...VARIANTS],
      rows.map((r) => [r.round, r.clients, perUnit(r.tpcbLike.postgresCores, r.tpcbLike.tps), ...VARIANTS.map((v) => perUnit(r.replays[v].postgresCores, calls(r.replays[v])))]),
    ),
  ].join('\n');
  process.stdout.write(`${printed}\n`);
  say(`results written to ${writeResults('ceiling', { machine: machine(), options: o, rows, elapsed: elapsed() })}`);
}

/** Money calls per second: each script run is a round of two. */
const calls = (run: PgbenchRun) => run.tps * 2;

/**
 * The ledger as the replay needs it: every provider's house accounts (the gateway creates them on
 * first use), the SQL functions of the function variants, and each currency's offset from a player's
 * id to the id of its account (the replay names accounts by it, as the wallet does from its snapshot).
 */
export async function prepare(database: string): Promise<ReplayProvider[]> {
  const functions = await readFile(path.join(import.meta.dirname, 'ceiling', 'functions.sql'), 'utf8');
  return withClient(database, async (client) => {
    await client.query(
      `insert into accounts (kind, provider_id, currency, slot)
       select 'game', p.id, p.currency, s from unnest($1::text[], $2::text[]) p(id, currency) cross join generate_series(0, 31) s
       on conflict do nothing`,
      [PROVIDERS.map((p) => p.id), PROVIDERS.map((p) => p.currency)],
    );
    await client.query(functions);
    const { rows } = await client.query<{ currency: string; lo: number; hi: number }>(
      `select currency, min(id - player_id)::int as lo, max(id - player_id)::int as hi from accounts where kind = 'player' group by currency`,
    );
    return PROVIDERS.map((p) => {
      const offset = rows.find((r) => r.currency === p.currency);
      if (!offset || offset.lo !== offset.hi) throw new Error(`the players' ${p.currency} accounts are not at one offset from their ids: the replay cannot name them`);
      return { id: p.id, currency: p.currency, accountOffset: offset.lo };
    });
  });
}
