import { dropDatabase, recreateDatabase } from './database.ts';
import type { LoadConfig } from './load.ts';
import type { Measurement } from './measure.ts';
import { initPgbench, runPgbench } from './pgbench.ts';
import { OPEN_LOOP_SHARE, options, REFERENCE_CALLERS } from './options.ts';
import { freePorts, type Gateway } from './processes.ts';
import { loadTable, machine, ratio, targetTable, waitLines, writeResults, yardstickTable, type Target, type Yardstick } from './report.ts';
import { ceilingRun } from './ceiling.ts';
import { scaleRun } from './scale.ts';
import { build, elapsed, freshDatabaseWithPlayers, load, reconcile, say, startGateways, stopGateways } from './stages.ts';
import { DATABASE, PGBENCH_DATABASE } from './world.ts';

/**
 * `npm run bench`: the gateway's production build against a fresh database, driven by a vendor-like
 * load from a separate process, next to pgbench on the same Postgres (see bench/README.md).
 */

async function defaultRun(): Promise<void> {
  const o = options;
  const timing = { warmupS: o.warmupS, durationS: o.durationS };
  if (o.build) await build();
  await freshDatabaseWithPlayers(DATABASE, o.players);
  say(`pgbench -i -s ${o.pgbenchScale} into ${PGBENCH_DATABASE}`);
  await recreateDatabase(PGBENCH_DATABASE);
  await initPgbench(o.pgbenchScale);

  const ports = await freePorts(Math.max(...o.processes));
  let gateways: Gateway[] = await startGateways(DATABASE, ports.slice(0, 1));
  const closed = (callers: number, extra: Partial<LoadConfig> = {}): LoadConfig => ({
    mode: 'closed',
    callers,
    ports: ports.slice(0, 1),
    players: o.players,
    ...timing,
    ...extra,
  });
  const runs: Measurement[] = [];
  const yardsticks: Yardstick[] = [];
  try {
    for (const callers of o.callers) {
      const gateway = await load(`closed ${callers}`, closed(callers), gateways, DATABASE);
      runs.push(gateway);
      say(`pgbench simple-update and tpcb-like, ${callers} clients, ${o.durationS}s each`);
      const simpleUpdate = await runPgbench('simple-update', callers, o.durationS);
      const tpcbLike = await runPgbench('tpcb-like', callers, o.durationS);
      say(`  simple-update ${simpleUpdate.tps} tps, tpcb-like ${tpcbLike.tps} tps (${tpcbLike.ran} clients)`);
      yardsticks.push({ callers, gateway, simpleUpdate, tpcbLike });
    }

    const best = Math.max(...runs.map((r) => r.load.callsPerSecond));
    const rate = o.rate ?? Math.max(10, Math.round((best * OPEN_LOOP_SHARE) / 10) * 10);
    runs.push(await load(`open ${rate}/s`, { mode: 'open', callers: 0, rate, ports: ports.slice(0, 1), players: o.players, ...timing }, gateways, DATABASE));
    runs.push(await load(`hot player, ${o.hotCallers} callers`, closed(o.hotCallers, { hot: true }), gateways, DATABASE));
    // Far more calls on one player than it can serve at once: they must queue, not thrash.
    runs.push(await load(`hot player, ${HOT_CROWD} callers`, closed(HOT_CROWD, { hot: true }), gateways, DATABASE));

    const reference = runs.find((r) => r.label === `closed ${REFERENCE_CALLERS}`);
    const processes: Measurement[] = [];
    for (const count of o.processes) {
      if (count === 1 && reference) {
        processes.push({ ...reference, label: `1 process, ${REFERENCE_CALLERS} callers (= closed ${REFERENCE_CALLERS})` });
        continue;
      }
      if (gateways.length < count) gateways = [...gateways, ...(await startGateways(DATABASE, ports.slice(gateways.length, count), gateways.length))];
      processes.push(await load(`${count} processes, ${REFERENCE_CALLERS} callers`, closed(REFERENCE_CALLERS, { ports: ports.slice(0, count) }), gateways.slice(0, count), DATABASE));
    }
    await stopGateways(gateways);
    const reconciled = await reconcile(DATABASE);
    await dropDatabase(PGBENCH_DATABASE);

    const targets = defaultTargets([...runs, ...processes], yardsticks, reconciled.clean);
    const printed = [
      '',
      `Croupier bench: ${machine().cpus} cores, ${o.players} players, ${o.warmupS}s warm-up + ${o.durationS}s per run, total ${elapsed()}`,
      '',
      loadTable(runs),
      '',
      "The gateway's Postgres sessions during each run (average count per state; pg_stat_activity every 100 ms), and the wallet's groups (from /metrics):",
      waitLines([...runs, ...processes.filter((p) => !p.label.startsWith('1 process'))]),
      '',
      'Postgres yardstick (pgbench on the same server; * = clients capped by max_connections):',
      yardstickTable(yardsticks),
      '',
      'Gateway processes (throughput as processes are added, same callers):',
      loadTable(processes),
      '',
      targetTable(targets),
      '',
      `reconcile: ${reconciled.output.split('\n').slice(-1)[0]}`,
    ].join('\n');
    process.stdout.write(`${printed}\n`);
    const file = writeResults(o.quick ? 'bench-quick' : 'bench', { machine: machine(), options: o, runs, yardsticks, processes, targets, reconcile: reconciled, elapsed: elapsed() });
    say(`results written to ${file}`);
    if (!reconciled.clean) process.exitCode = 1;
  } finally {
    await stopGateways(gateways);
  }
}

function defaultTargets(runs: readonly Measurement[], yardsticks: readonly Yardstick[], reconciled: boolean): Target[] {
  const targets: Target[] = [];
  for (const y of yardsticks) {
    targets.push({
      target: `bet/win throughput >= 0.5 x tpcb-like at ${y.callers} callers`,
      measured: `${y.gateway.load.moneyCallsPerSecond} / ${y.tpcbLike.tps} = ${ratio(y.gateway.load.moneyCallsPerSecond, y.tpcbLike.tps)}`,
      pass: y.gateway.load.moneyCallsPerSecond >= 0.5 * y.tpcbLike.tps,
    });
  }
  const reference = runs.find((r) => r.label === `closed ${REFERENCE_CALLERS}`);
  if (reference) {
    targets.push({ target: `p99 <= 25 ms at ${REFERENCE_CALLERS} callers`, measured: `${reference.load.latency.p99} ms`, pass: reference.load.latency.p99 <= 25 });
  }
  const byCallers = (n: number) => runs.find((r) => r.label === `closed ${n}`);
  const peak = Math.max(...runs.filter((r) => r.label.startsWith('closed ')).map((r) => r.load.callsPerSecond));
  const crowd = byCallers(256);
  if (crowd) {
    targets.push({
      target: 'overload: good answers/s at 256 callers >= 0.9 x the peak',
      measured: `${crowd.load.callsPerSecond} / ${peak} = ${ratio(crowd.load.callsPerSecond, peak)} (${crowd.load.errors} refused)`,
      pass: crowd.load.callsPerSecond >= 0.9 * peak,
    });
  }
  const one = byCallers(1);
  const sixteen = byCallers(16);
  if (one && sixteen) {
    // Postgres's own transaction on the same machine, for scale: how its p99 grows from 1 client to 16.
    const pgbench = (n: number) => yardsticks.find((y) => y.callers === n)?.tpcbLike.latency.p99;
    const own = pgbench(1) !== undefined && pgbench(16) !== undefined ? ` (tpcb-like: ${pgbench(16)} ms vs ${pgbench(1)} ms)` : '';
    targets.push({
      target: 'p99 at 16 callers <= 2 x p99 at 1 caller',
      measured: `${sixteen.load.latency.p99} ms vs ${one.load.latency.p99} ms${own}`,
      pass: sixteen.load.latency.p99 <= 2 * one.load.latency.p99,
    });
  }
  const hotPeak = runs.find((r) => r.label === `hot player, ${options.hotCallers} callers`);
  const hotCrowd = runs.find((r) => r.label === `hot player, ${HOT_CROWD} callers`);
  if (hotPeak && hotCrowd) {
    targets.push({
      target: `hot player, ${HOT_CROWD} callers: good answers >= 0.8 x its peak, none past 2 s`,
      measured: `${hotCrowd.load.callsPerSecond} / ${hotPeak.load.callsPerSecond} = ${ratio(hotCrowd.load.callsPerSecond, hotPeak.load.callsPerSecond)}, ${hotCrowd.load.past2s} past 2 s`,
      pass: hotCrowd.load.callsPerSecond >= 0.8 * hotPeak.load.callsPerSecond && hotCrowd.load.past2s === 0,
    });
  }
  const late = runs.reduce((n, r) => n + r.load.past2s, 0);
  const slowest = Math.max(...runs.map((r) => r.load.latency.max));
  targets.push({ target: 'every answer inside 2 s, saturation included', measured: `${late} past 2 s (slowest ${slowest} ms)`, pass: late === 0 });
  const hot = runs.find((r) => r.label.startsWith('hot player'));
  if (hot) targets.push({ target: 'hot player >= 500 calls/s', measured: `${hot.load.callsPerSecond} calls/s, p99 ${hot.load.latency.p99} ms`, pass: hot.load.callsPerSecond >= 500 });
  targets.push({ target: 'reconcile finds no break', measured: reconciled ? 'clean' : 'breaks', pass: reconciled });
  return targets;
}

/** Connections on one player in the crowd run (issue #12: 500 on one player must queue, not thrash). */
const HOT_CROWD = 500;

process.once('SIGINT', () => process.exit(130));
process.once('SIGTERM', () => process.exit(143));
try {
  await (options.scale ? scaleRun(options) : options.ceiling ? ceilingRun(options) : defaultRun());
} catch (error) {
  say(`failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
}
process.exit();
