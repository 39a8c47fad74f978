import { DISTURBED_CORES, otherWork } from './cpu.ts';
import { preloadPlayers, recreateDatabase } from './database.ts';
import type { LoadConfig } from './load.ts';
import { measure, type Measurement } from './measure.ts';
import { cli, productionEnv, runOrThrow, startGateway, type Gateway } from './processes.ts';
import { clearBenchKeys } from './redis.ts';
import { describeWaits } from './waits.ts';

/** The steps both the default run and the scale run are made of. */

export interface Timing {
  warmupS: number;
  durationS: number;
}

const started = performance.now();
export const elapsed = () => `${Math.round((performance.now() - started) / 1000)}s`;
export const say = (message: string) => process.stderr.write(`[bench ${elapsed().padStart(4)}] ${message}\n`);

/** `npm run build`: the gateway under test is the production build (dist/), not the TypeScript sources. */
export async function build(): Promise<void> {
  say('building dist/ (npm run build)');
  await runOrThrow('npm', ['run', '-s', 'build']);
}

/** A fresh, migrated database with no players (production mode seeds no demo players), and no bench keys in Redis. */
export async function freshDatabase(database: string): Promise<void> {
  await recreateDatabase(database);
  await clearBenchKeys();
  const migrated = await cli(['migrate'], database);
  if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrated.stdout}${migrated.stderr}`);
}

export async function freshDatabaseWithPlayers(database: string, players: number): Promise<void> {
  say(`fresh database ${database}, ${players} players with USD, EUR and KRW wallets`);
  await freshDatabase(database);
  await preloadPlayers(database, players);
}

/**
 * Gateway processes on the given ports, as production runs them. Only the first runs the queue
 * workers (README: WORKERS=false on processes that should only answer callbacks).
 */
export async function startGateways(database: string, ports: readonly number[], first = 0): Promise<Gateway[]> {
  return Promise.all(ports.map((port, i) => startGateway(`gateway-${first + i + 1}`, port, productionEnv(database, { WORKERS: first + i === 0 ? 'true' : 'false' }))));
}

export async function stopGateways(gateways: readonly Gateway[]): Promise<void> {
  await Promise.all(gateways.map((g) => g.stop()));
}

/** How long a run waits for other work on the machine to end before it starts anyway. */
const QUIET_WAIT_S = 30;

/**
 * On a 2-core machine shared with other work (a test suite), a run measures that work as much as
 * the gateway: wait a little for the machine to be idle, then go anyway (the table marks the run).
 */
async function quiet(gateways: readonly Gateway[]): Promise<void> {
  const deadline = performance.now() + QUIET_WAIT_S * 1000;
  const busy = () => otherWork({ gateway: gateways.map((g) => g.pid), driver: [] }, 1000);
  let other = await busy();
  if (other <= DISTURBED_CORES) return;
  say(`  waiting up to ${QUIET_WAIT_S}s for other work to end (${other} cores busy)`);
  while (other > DISTURBED_CORES && performance.now() < deadline) other = await busy();
  if (other > DISTURBED_CORES) say(`  starting anyway: ${other} cores busy with other work`);
}

export async function load(label: string, config: LoadConfig, gateways: readonly Gateway[], database: string): Promise<Measurement> {
  await quiet(gateways);
  say(`${label}: ${config.warmupS}s warm-up + ${config.durationS}s measured`);
  const m = await measure(label, config, gateways, database);
  const l = m.load;
  say(`  ${l.callsPerSecond} calls/s, p50 ${l.latency.p50} ms, p99 ${l.latency.p99} ms, max ${l.latency.max} ms, ${l.errors} errors${l.errors ? ` ${JSON.stringify(l.errorExamples)}` : ''}`);
  // An open loop does not slow down when answers do: second by second shows a run that fell over, and whether it got up.
  if (config.mode === 'open' || l.errors > 0) say(`  good answers per second: ${l.timeline.join(' ')}`);
  say(`  Postgres sessions (average): ${describeWaits(m.waits)}`);
  if (m.cpu.other > DISTURBED_CORES) say(`  disturbed: other work used ${m.cpu.other} cores during the run`);
  return m;
}

export interface Reconciled {
  clean: boolean;
  seconds: number;
  output: string;
}

/** `croupier reconcile` on the bench database: every ledger invariant, from the rows. */
export async function reconcile(database: string): Promise<Reconciled> {
  say('reconcile');
  const t = performance.now();
  const ran = await cli(['reconcile'], database);
  const output = `${ran.stdout}${ran.stderr}`.trim();
  say(`  ${output.split('\n').slice(-1)[0]} (exit ${ran.code})`);
  return { clean: ran.code === 0, seconds: Math.round((performance.now() - t) / 100) / 10, output: output.split('\n').slice(-20).join('\n') };
}
