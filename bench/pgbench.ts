import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuBetween, snapshot, type CpuUse, type Snapshot } from './cpu.ts';
import { withClient } from './database.ts';
import { Samples, type LatencySummary } from './latency.ts';
import { run, runOrThrow } from './processes.ts';
import { PGBENCH_DATABASE } from './world.ts';

/**
 * Postgres's own ceiling on this machine, the yardstick of the gateway's numbers: pgbench's built-in
 * scripts against the same server, with as many clients as the gateway had callers. simple-update is
 * one small write transaction (an UPDATE, a SELECT and an INSERT); tpcb-like adds two contended rows.
 */

const PGBENCH = 'pgbench';
const CONNECT = ['-h', '127.0.0.1', '-U', 'postgres'];

/** The share of transactions pgbench logs: enough for exact percentiles, little enough not to slow it (it writes a line each). */
const LOG_SHARE = 0.1;

export type Script = 'simple-update' | 'tpcb-like';

export interface PgbenchResult extends PgbenchRun {
  script: Script;
}

/** What one pgbench run measured, whatever it ran. */
export interface PgbenchRun {
  /** The client count asked for, and the one used (capped by the server's free connections). */
  clients: number;
  ran: number;
  tps: number;
  /** Its transactions' latency, from pgbench's own per-transaction log (-l, a LOG_SHARE sample). */
  latency: LatencySummary;
  /** Cores Postgres used while pgbench ran (from 1 s in to 0.5 s before its end: its backends exit with it). */
  postgresCores: number;
  /** Cores pgbench itself (the client) used over the same window: the gateway's driver's counterpart. */
  clientCores: number;
}

/** Creates its tables at `scale` (scale x 100 000 accounts) with server-side generation (fastest). */
export async function initPgbench(scale: number): Promise<void> {
  await runOrThrow(PGBENCH, [...CONNECT, '-i', '-s', String(scale), '-I', 'dtGvp', '-q', PGBENCH_DATABASE]);
}

/** How many more connections the server takes now, less a margin for the superuser and the bench. */
export async function freeConnections(): Promise<number> {
  return withClient('postgres', async (client) => {
    const { rows } = await client.query<{ max: string; used: string; reserved: string }>(
      `select current_setting('max_connections') as max, current_setting('superuser_reserved_connections') as reserved,
              (select count(*) from pg_stat_activity where backend_type = 'client backend') as used`,
    );
    const r = rows[0]!;
    return Number(r.max) - Number(r.reserved) - Number(r.used) - 5;
  });
}

export async function runPgbench(script: Script, clients: number, seconds: number): Promise<PgbenchResult> {
  return { script, ...(await runScripts({ database: PGBENCH_DATABASE, scripts: ['-b', script] }, clients, seconds)) };
}

/** What pgbench runs: `scripts` are its arguments that choose the scripts (and define their variables), on `database`. */
export interface PgbenchJob {
  database: string;
  scripts: readonly string[];
}

export async function runScripts(job: PgbenchJob, clients: number, seconds: number): Promise<PgbenchRun> {
  const ran = Math.min(clients, await freeConnections());
  const logs = await mkdtemp(path.join(tmpdir(), 'croupier-pgbench-'));
  const args = [...CONNECT, ...job.scripts, '-c', String(ran), '-j', String(Math.min(2, ran)), '-T', String(seconds), '-M', 'prepared', '-l', `--sampling-rate=${LOG_SHARE}`, `--log-prefix=${path.join(logs, 'log')}`, job.database];
  let client: number[] = [];
  const sample = () => snapshot({ gateway: [], driver: client });
  let before: Promise<Snapshot> | undefined;
  let cpu: Promise<CpuUse> | undefined;
  const timers = [
    setTimeout(() => (before = sample()), 1000),
    setTimeout(() => {
      const first = before;
      if (first) cpu = sample().then(async (end) => cpuBetween(await first, end));
    }, seconds * 1000 - 500),
  ];
  try {
    const out = await run(PGBENCH, args, {}, (pid) => (client = [pid])).finally(() => timers.forEach(clearTimeout));
    const used = await cpu;
    const tps = /tps = ([\d.]+)/.exec(out.stdout)?.[1];
    if (out.code !== 0 || tps === undefined) throw new Error(`pgbench ${args.join(' ')} failed (${out.code}):\n${out.stdout}${out.stderr}`);
    return { clients, ran, tps: Math.round(Number(tps)), latency: await loggedLatency(logs), postgresCores: used?.postgres ?? 0, clientCores: used?.driver ?? 0 };
  } finally {
    await rm(logs, { recursive: true, force: true });
  }
}

/**
 * pgbench prints only the mean latency; its per-transaction log (one file per thread, a random
 * LOG_SHARE of the transactions) has each one's time, and the percentiles are computed as the
 * gateway's are. A line is `client transaction time_us script epoch_s epoch_us`.
 */
async function loggedLatency(dir: string): Promise<LatencySummary> {
  const samples = new Samples();
  for (const file of await readdir(dir)) {
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
      const us = Number(line.split(' ')[2]);
      if (line && Number.isFinite(us)) samples.add(us / 1000);
    }
  }
  return samples.summary();
}
