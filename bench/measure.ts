import { fork } from 'node:child_process';
import path from 'node:path';
import { cpuBetween, snapshot, type CpuUse, type Snapshot } from './cpu.ts';
import { settle } from './database.ts';
import type { LoadConfig, LoadResult } from './load.ts';
import { NODE, ROOT, stopOnExit, type Gateway } from './processes.ts';
import { grouping, groupingBetween, NO_GROUPING, type Grouping } from './groups.ts';
import { sampleWaits, type WaitProfile, type WaitSampler } from './waits.ts';

export interface Measurement {
  label: string;
  load: LoadResult;
  cpu: CpuUse;
  /** Average number of the gateway's Postgres sessions in each state over the window. */
  waits: WaitProfile;
  /** How the wallets grouped operations over the window (bench/groups.ts). */
  grouping: Grouping;
  /** Lines the gateways logged during the run (at LOG_LEVEL=warn: warnings and errors). */
  gatewayLogLines: number;
}

/**
 * One load run: starts the driver (bench/load.ts) as its own process, samples the CPU of the
 * gateways, Postgres, Redis and the driver over exactly the measured window (the driver says when it
 * starts and ends), and returns the driver's result with it.
 */
export async function measure(label: string, config: LoadConfig, gateways: readonly Gateway[], database: string): Promise<Measurement> {
  await settle(database);
  const linesBefore = gateways.reduce((n, g) => n + g.lines(), 0);
  const driver = fork(path.join(ROOT, 'bench/load.ts'), [JSON.stringify(config)], { execPath: NODE, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  stopOnExit(driver);
  const groups = () => ({ gateway: gateways.map((g) => g.pid), driver: [driver.pid!] });
  let start: Promise<Snapshot> | undefined;
  let cpu: Promise<CpuUse> | undefined;
  let sampler: Promise<WaitSampler> | undefined;
  let waits: Promise<WaitProfile> | undefined;
  let groupsBefore: Promise<Grouping> | undefined;
  let grouped: Promise<Grouping> | undefined;
  const load = await new Promise<LoadResult>((resolve, reject) => {
    driver.on('message', (message: { type: string; result?: LoadResult }) => {
      if (message.type === 'start') {
        start = snapshot(groups());
        sampler = sampleWaits(database);
        groupsBefore = grouping(gateways);
      } else if (message.type === 'end' && start && sampler) {
        const first = start;
        cpu = snapshot(groups()).then(async (end) => cpuBetween(await first, end));
        waits = sampler.then((s) => s.stop());
        const before = groupsBefore;
        grouped = grouping(gateways).then(async (after) => groupingBetween((await before) ?? after, after));
      } else if (message.type === 'result' && message.result) resolve(message.result);
    });
    driver.on('error', reject);
    driver.on('exit', (code) => reject(new Error(`load driver exited (${code}) without a result`)));
  });
  const dead = gateways.find((g) => g.exited());
  if (dead) throw new Error(`gateway ${dead.name} died during "${label}":\n${dead.output()}`);
  return {
    label,
    load,
    cpu: (await cpu) ?? { gateway: 0, postgres: 0, redis: 0, driver: 0, other: 0, steal: 0 },
    waits: (await waits) ?? {},
    grouping: (await grouped) ?? NO_GROUPING,
    gatewayLogLines: gateways.reduce((n, g) => n + g.lines(), 0) - linesBefore,
  };
}
