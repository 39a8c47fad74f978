import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { DISTURBED_CORES } from './cpu.ts';
import type { Measurement } from './measure.ts';
import type { LoadResult } from './load.ts';
import type { PgbenchResult } from './pgbench.ts';
import { ROOT } from './processes.ts';
import { describeGrouping } from './groups.ts';
import { describeWaits } from './waits.ts';

/** Plain-text tables for the terminal, and the whole run as JSON under bench-results/ (for docs). */

export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function loadTable(runs: readonly Measurement[]): string {
  const disturbed = runs.some((r) => r.cpu.other > DISTURBED_CORES);
  const rows = table(
    ['run', 'calls/s', 'money/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors', '>2s', 'cpu gw', 'cpu pg', 'cpu redis', 'cpu driver', 'cpu other', 'steal'],
    runs.map(({ label, load, cpu }) => [
      cpu.other > DISTURBED_CORES ? `! ${label}` : label,
      load.callsPerSecond,
      load.moneyCallsPerSecond,
      load.latency.p50,
      load.latency.p95,
      load.latency.p99,
      load.latency.max,
      load.errors,
      load.past2s,
      cpu.gateway,
      cpu.postgres,
      cpu.redis,
      cpu.driver,
      cpu.other,
      cpu.steal,
    ]),
  );
  return disturbed ? `${rows}\n! other work on the machine used more than ${DISTURBED_CORES} cores during the run (cpu other): its numbers are low` : rows;
}

/** "; event loop on a core 60%, waiting for one 32%": where the gateway's main thread spent the window. */
const describeLoop = (loop: Measurement['cpu']['gatewayLoop']) =>
  loop ? `; event loop on a core ${Math.round(loop.running * 100)}%, waiting for one ${Math.round(loop.waiting * 100)}%` : '';

/**
 * Where each run's Postgres sessions were, on average: running, waiting on a lock or the WAL, idle
 * in a transaction; and how large the wallet's groups were (what a call costs follows it).
 */
export function waitLines(runs: readonly Measurement[]): string {
  return runs
    .map((r) => {
      const kinds = r.load.errors > 0 || r.load.past2s > 0 ? `\n    ${describeKinds(r.load)}` : '';
      return `  ${r.label}: ${describeWaits(r.waits)}\n    ${describeGrouping(r.grouping, r.load.calls)}${describeLoop(r.cpu.gatewayLoop)}${kinds}`;
    })
    .join('\n');
}

/**
 * A run's calls by kind, with their latency and failures: printed for a run that had failures or
 * late answers, where the mix says why (the hot player's bets failing at their deadline, and the
 * vendor's cancels of them queueing behind in their place).
 */
export function describeKinds(load: Pick<LoadResult, 'byOp' | 'errorsByOp'>): string {
  const kinds = Object.entries(load.byOp)
    .sort(([, a], [, b]) => b.count - a.count)
    .map(([op, l]) => {
      const failed = load.errorsByOp[op] ?? 0;
      return `${op} ${l.count.toLocaleString('en-US')} (p50 ${l.p50} ms, p99 ${l.p99} ms${failed ? `, ${failed.toLocaleString('en-US')} failed` : ''})`;
    });
  return `by kind of call: ${kinds.join(', ')}`;
}

export interface Yardstick {
  callers: number;
  gateway: Measurement;
  simpleUpdate: PgbenchResult;
  tpcbLike: PgbenchResult;
}

export function yardstickTable(rows: readonly Yardstick[]): string {
  const clients = (p: PgbenchResult) => (p.ran === p.clients ? `${p.ran}` : `${p.ran}*`);
  return table(
    [
      'callers',
      'gateway money/s',
      'gateway calls/s',
      'pgbench clients',
      'simple-update tps',
      'tpcb-like tps',
      'money/tpcb-like',
      'calls/simple-update',
      'pg cpu ms/call',
      'pg cpu ms/tpcb tx',
      'all cpu ms/call',
      'all cpu ms/tpcb tx',
      'gateway p99 ms',
      'tpcb-like p99 ms',
    ],
    rows.map((r) => [
      r.callers,
      r.gateway.load.moneyCallsPerSecond,
      r.gateway.load.callsPerSecond,
      clients(r.tpcbLike),
      r.simpleUpdate.tps,
      r.tpcbLike.tps,
      ratio(r.gateway.load.moneyCallsPerSecond, r.tpcbLike.tps),
      ratio(r.gateway.load.callsPerSecond, r.simpleUpdate.tps),
      // Postgres CPU per unit of work: what a gateway call costs the database next to a pgbench transaction.
      perUnit(r.gateway.cpu.postgres, r.gateway.load.callsPerSecond),
      perUnit(r.tpcbLike.postgresCores, r.tpcbLike.tps),
      // The whole machine's CPU per unit of work, clients included (the driver; pgbench itself): on
      // 2 shared cores this, not Postgres's share alone, is what bounds the rate.
      perUnit(r.gateway.cpu.gateway + r.gateway.cpu.postgres + r.gateway.cpu.redis + r.gateway.cpu.driver, r.gateway.load.callsPerSecond),
      perUnit(r.tpcbLike.postgresCores + r.tpcbLike.clientCores, r.tpcbLike.tps),
      // How latency grows with clients, the gateway's next to Postgres's own (goal 4's yardstick).
      r.gateway.load.latency.p99,
      r.tpcbLike.latency.p99,
    ]),
  );
}

export const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
/** CPU milliseconds per operation, from cores and operations per second. */
export const perUnit = (cores: number, perSecond: number) => (perSecond > 0 ? Math.round((cores * 1000 * 100) / perSecond) / 100 : 0);

export interface Target {
  target: string;
  measured: string;
  pass: boolean;
}

export function targetTable(targets: readonly Target[]): string {
  return table(
    ['target', 'measured', 'result'],
    targets.map((t) => [t.target, t.measured, t.pass ? 'PASS' : 'FAIL']),
  );
}

/** Writes the run's data to bench-results/<name>-<time>.json and returns the path. */
export function writeResults(name: string, data: unknown): string {
  const dir = path.join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/** What the numbers were measured on, and which code. */
export function machine() {
  const git = (...a: string[]) => {
    try {
      return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    commit: git('rev-parse', '--short', 'HEAD'),
    // The gateway under test is built from the working tree, so uncommitted changes are part of it.
    dirty: git('status', '--porcelain', '--', 'src', 'providers', 'migrations', 'config') !== '',
  };
}
