import { withClient } from './database.ts';
import { explainHotQueries, scanDeltas, tableStats, type Plan, type ScanDelta } from './explain.ts';
import type { LoadConfig } from './load.ts';
import type { Measurement } from './measure.ts';
import { OPEN_LOOP_SHARE, REFERENCE_CALLERS, type Options } from './options.ts';
import { freePorts, sleep } from './processes.ts';
import { loadTable, machine, ratio, table, targetTable, waitLines, writeResults, type Target } from './report.ts';
import { scaleShape, seededShape, seedScale } from './seed-scale.ts';
import { build, elapsed, freshDatabase, freshDatabaseWithPlayers, load, reconcile, say, startGateways, stopGateways } from './stages.ts';
import { DATABASE } from './world.ts';

/**
 * `npm run bench:scale` (issue #5, item 4): the same measurements on an empty ledger and on one of
 * 1M players and 10M transfers, side by side, with the hot queries' plans and the scans the real
 * traffic made. The big database is kept afterwards (`--reuse` measures it again without the
 * several minutes of preloading).
 */

export const SCALE_DATABASE = 'croupier_bench_scale';
/** Latency may grow this much with the ledger before it counts as growth (two runs of the same thing differ by about as much). */
const GROWTH_ALLOWED = 1.25;

export async function scaleRun(o: Options): Promise<void> {
  if (o.build) await build();
  const shape = scaleShape(o.scalePlayers, o.scaleTransfers);
  const timing = { warmupS: o.warmupS, durationS: o.durationS };
  const [port] = await freePorts(1);
  const closed = (callers: number, players: number, extra: Partial<LoadConfig> = {}): LoadConfig => ({ mode: 'closed', callers, ports: [port!], players, ...timing, ...extra });

  // The empty ledger: the players of the default run, their deposits, nothing else.
  await freshDatabaseWithPlayers(DATABASE, o.players);
  let gateways = await startGateways(DATABASE, [port!]);
  const empty: Measurement[] = [];
  let rate = o.rate ?? 0;
  try {
    for (const callers of [1, REFERENCE_CALLERS]) empty.push(await load(`empty ledger: closed ${callers}`, closed(callers, o.players), gateways, DATABASE));
    rate ||= Math.max(10, Math.round((empty[1]!.load.callsPerSecond * OPEN_LOOP_SHARE) / 10) * 10);
    empty.push(await load(`empty ledger: open ${rate}/s`, { mode: 'open', callers: 0, rate, ports: [port!], players: o.players, ...timing }, gateways, DATABASE));
  } finally {
    await stopGateways(gateways);
  }

  const seeded = performance.now();
  const existing = o.reuse ? await seededShape(SCALE_DATABASE) : undefined;
  if (existing && existing.players === shape.players && existing.transfers === shape.transfers) {
    say(`reusing ${SCALE_DATABASE} (${existing.players} players, ${existing.transfers} transfers preloaded)`);
  } else {
    say(`preloading ${SCALE_DATABASE}: ${shape.players} players, ${shape.transfers} transfers (${shape.rounds} rounds)`);
    await freshDatabase(SCALE_DATABASE);
    await seedScale(SCALE_DATABASE, shape);
  }
  const preloadSeconds = Math.round((performance.now() - seeded) / 1000);
  const sizes = await withClient(SCALE_DATABASE, async (c) => {
    const { rows } = await c.query<{ name: string; rows: string; size: string }>(
      `select relname as name, n_live_tup as rows, pg_size_pretty(pg_total_relation_size(relid)) as size
       from pg_stat_user_tables where n_live_tup > 0 order by pg_total_relation_size(relid) desc`,
    );
    return rows;
  });

  gateways = await startGateways(SCALE_DATABASE, [port!]);
  const big: Measurement[] = [];
  let scans: ScanDelta[] = [];
  let plans: Plan[] = [];
  try {
    const before = await tableStats(SCALE_DATABASE);
    for (const callers of o.callers) big.push(await load(`10M ledger: closed ${callers}`, closed(callers, shape.players), gateways, SCALE_DATABASE));
    big.push(await load(`10M ledger: open ${rate}/s`, { mode: 'open', callers: 0, rate, ports: [port!], players: shape.players, ...timing }, gateways, SCALE_DATABASE));
    big.push(await load(`10M ledger: hot player, ${o.hotCallers} callers`, closed(o.hotCallers, shape.players, { hot: true }), gateways, SCALE_DATABASE));
    await sleep(1500); // backends flush their table statistics about once a second
    scans = scanDeltas(before, await tableStats(SCALE_DATABASE));
    say('EXPLAIN (ANALYZE, BUFFERS) of the hot queries');
    plans = await explainHotQueries(SCALE_DATABASE);
  } finally {
    await stopGateways(gateways);
  }
  const reconciled = await reconcile(SCALE_DATABASE);

  // Latency is compared where it is latency: one caller (nothing queued) and the open loop at one
  // fixed rate. A saturated closed loop's latency is only callers / throughput: shown, not judged.
  const growth = empty.flatMap((e) => {
    const b = big.find((m) => m.label === e.label.replace('empty ledger', '10M ledger'));
    if (!b) return [];
    const run = e.label.replace('empty ledger: ', '');
    return [{ run, judged: run !== `closed ${REFERENCE_CALLERS}`, p50: ratio(b.load.latency.p50, e.load.latency.p50), p99: ratio(b.load.latency.p99, e.load.latency.p99), throughput: ratio(b.load.callsPerSecond, e.load.callsPerSecond) }];
  });
  // A table that grows with the ledger: a sequential scan of it grows with it.
  const bigTables = new Set(sizes.filter((s) => Number(s.rows) > 10_000).map((s) => s.name));
  const scannedBig = scans.filter((s) => s.seqScans > 0 && bigTables.has(s.table));
  const targets: Target[] = [
    ...growth.filter((g) => g.judged).map((g) => ({
      target: `no latency growth, empty -> 10M transfers (${g.run})`,
      measured: `p50 x${g.p50}, p99 x${g.p99}`,
      pass: g.p50 <= GROWTH_ALLOWED && g.p99 <= GROWTH_ALLOWED,
    })),
    { target: 'hot queries plan index scans (EXPLAIN)', measured: plans.flatMap((p) => p.seqScans).join('; ') || 'no sequential scan', pass: plans.every((p) => p.seqScans.length === 0) },
    {
      target: 'the traffic made no sequential scan of a big table',
      measured: scannedBig.map((s) => `${s.table}: ${s.seqScans} scans, ${s.seqRowsRead} rows`).join('; ') || 'none',
      pass: scannedBig.length === 0,
    },
    { target: 'reconcile finds no break', measured: `${reconciled.clean ? 'clean' : 'breaks'} (${reconciled.seconds}s)`, pass: reconciled.clean },
  ];

  const printed = [
    '',
    `Croupier bench, scale: ${shape.players} players, ${shape.transfers} transfers (preload ${preloadSeconds}s), ${o.warmupS}s warm-up + ${o.durationS}s per run, total ${elapsed()}`,
    '',
    table(['table', 'rows', 'size'], sizes.map((s) => [s.name, s.rows, s.size])),
    '',
    loadTable([...empty, ...big]),
    '',
    "The gateway's Postgres sessions during each run (average count per state):",
    waitLines([...empty, ...big]),
    '',
    'Growth from the empty ledger to the 10M one (ratio 10M / empty):',
    table(['run', 'p50', 'p99', 'calls/s'], growth.map((g) => [g.judged ? g.run : `${g.run} (saturated: not judged)`, g.p50, g.p99, g.throughput])),
    '',
    'Hot queries on the 10M ledger (EXPLAIN ANALYZE, BUFFERS):',
    ...plans.map((p) => `  ${p.query}\n    ${p.ms} ms (planning ${p.planningMs} ms), buffers hit ${p.sharedHit} read ${p.sharedRead}: ${[...p.scans, ...p.triggers.map((t) => `trigger ${t}`)].join('; ')}`),
    '',
    'Scans made by the traffic (pg_stat_user_tables, during the 10M runs):',
    table(['table', 'rows', 'seq scans', 'rows read by seq scans', 'index scans'], scans.map((s) => [s.table, s.rows, s.seqScans, s.seqRowsRead, s.indexScans])),
    '',
    targetTable(targets),
  ].join('\n');
  process.stdout.write(`${printed}\n`);
  const file = writeResults('bench-scale', { machine: machine(), options: o, shape, preloadSeconds, sizes, runs: [...empty, ...big], growth, plans, scans, targets, reconcile: reconciled, elapsed: elapsed() });
  say(`results written to ${file}`);
  if (!reconciled.clean) process.exitCode = 1;
}
