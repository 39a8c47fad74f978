import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { withClient } from './database.ts';

/**
 * CPU time of the processes under test, from /proc (utime + stime, in clock ticks of 1/100 s on
 * Linux), sampled at the start and the end of a measured window. Postgres is every process named
 * `postgres` (the postmaster, its background workers and the backends of the bench's databases):
 * backends born during the window count from zero, those that ended during it are lost, so keep
 * connections pooled. Backends serving other databases (a test suite sharing the server) count as
 * other work, like everything else the groups do not name.
 */

const TICKS_PER_SECOND = 100;

/** Above this many cores of other work, a run shared the machine: its numbers are low. */
export const DISTURBED_CORES = 0.25;

function ticksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  } catch {
    return undefined; // gone
  }
}

/** A thread's time on a core and time ready to run but waiting for one, in nanoseconds since it started. */
interface Schedstat {
  running: number;
  waiting: number;
}

/** /proc/<pid>/task/<pid>/schedstat: nanoseconds on a core, nanoseconds runnable but waiting, time slices. */
function schedstatOf(pid: number): Schedstat | undefined {
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    return running === undefined || waiting === undefined || Number.isNaN(running + waiting) ? undefined : { running, waiting };
  } catch {
    return undefined; // gone, or no scheduler statistics
  }
}

function pidsNamed(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Busy and stolen ticks of the whole machine (/proc/stat's first line: user nice system idle iowait irq softirq steal ...). */
function machine(): { busy: number; steal: number } {
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { busy: user + nice + system + irq + softirq, steal };
}

export interface CpuGroups {
  gateway: number[];
  driver: number[];
}

export type Snapshot = {
  at: number;
  groups: Record<string, Map<number, number>>;
  machine: { busy: number; steal: number };
  /** Each gateway's main thread (its event loop): nanoseconds on a core and waiting for one. */
  loops: Map<number, Schedstat>;
};

export interface CpuUse {
  /** CPU seconds per wall second (1.0 = one core busy), per group. */
  gateway: number;
  postgres: number;
  redis: number;
  driver: number;
  /** Everything else on the machine (other work running at the same time makes the numbers low). */
  other: number;
  /** Time the hypervisor gave to other guests while this one wanted it (a virtual machine's noise). */
  steal: number;
  /**
   * The gateways' event loops (each one's main thread), as shares of the window, averaged over the
   * gateways: on a core, and ready to run but waiting for one (the rest it had nothing to do). A loop
   * that waits for a core is slowed by the machine, not by its own work; absent where the kernel
   * keeps no scheduler statistics.
   */
  gatewayLoop?: { running: number; waiting: number } | undefined;
}

/** Postgres backends serving databases other than the bench's. */
async function foreignBackends(): Promise<Set<number>> {
  return withClient('postgres', async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      `select pid from pg_stat_activity where backend_type = 'client backend' and datname not like 'croupier\\_bench%'`,
    );
    return new Set(rows.map((r) => r.pid));
  });
}

export async function snapshot(groups: CpuGroups): Promise<Snapshot> {
  const foreign = await foreignBackends();
  const postgres = pidsNamed('postgres').filter((pid) => !foreign.has(pid));
  const named = { gateway: groups.gateway, driver: groups.driver, postgres, redis: pidsNamed('redis-server') };
  const taken: Record<string, Map<number, number>> = {};
  for (const [group, pids] of Object.entries(named)) {
    taken[group] = new Map(
      pids.flatMap((pid) => {
        const ticks = ticksOf(pid);
        return ticks === undefined ? [] : [[pid, ticks] as const];
      }),
    );
  }
  const loops = new Map(
    groups.gateway.flatMap((pid) => {
      const stat = schedstatOf(pid);
      return stat ? [[pid, stat] as const] : [];
    }),
  );
  return { at: performance.now(), groups: taken, machine: machine(), loops };
}

function loopsBetween(before: Snapshot, after: Snapshot): CpuUse['gatewayLoop'] {
  const wallNs = (after.at - before.at) * 1e6;
  const spans = [...after.loops].flatMap(([pid, end]) => {
    const start = before.loops.get(pid);
    return start ? [{ running: end.running - start.running, waiting: end.waiting - start.waiting }] : [];
  });
  if (spans.length === 0 || wallNs <= 0) return undefined;
  const share = (ns: number) => Math.round((ns / spans.length / wallNs) * 100) / 100;
  return { running: share(spans.reduce((n, s) => n + s.running, 0)), waiting: share(spans.reduce((n, s) => n + s.waiting, 0)) };
}

export function cpuBetween(before: Snapshot, after: Snapshot): CpuUse {
  const seconds = (after.at - before.at) / 1000;
  const cores = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 100) / 100;
  const use = (group: string) => {
    let ticks = 0;
    for (const [pid, end] of after.groups[group]!) ticks += end - (before.groups[group]!.get(pid) ?? 0);
    return cores(ticks);
  };
  const groups = { gateway: use('gateway'), postgres: use('postgres'), redis: use('redis'), driver: use('driver') };
  const busy = cores(after.machine.busy - before.machine.busy);
  const known = groups.gateway + groups.postgres + groups.redis + groups.driver;
  return {
    ...groups,
    other: Math.max(0, Math.round((busy - known) * 100) / 100),
    steal: cores(after.machine.steal - before.machine.steal),
    gatewayLoop: loopsBetween(before, after),
  };
}

/** Cores other work kept busy over `ms`, besides the bench's own processes. */
export async function otherWork(groups: CpuGroups, ms: number): Promise<number> {
  const before = await snapshot(groups);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return cpuBetween(before, await snapshot(groups)).other;
}
