import { preloadPlayers, recreateDatabase } from './database.ts';
import type { LoadConfig } from './load.ts';
import { measure, type Measurement } from './measure.ts';
import { cli, productionEnv, runOrThrow, startGateway, type Gateway } from './processes.ts';
import { clearBenchKeys } from './redis.ts';

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

export async function load(label: string, config: LoadConfig, gateways: readonly Gateway[], database: string): Promise<Measurement> {
  say(`${label}: ${config.warmupS}s warm-up + ${config.durationS}s measured`);
  const m = await measure(label, config, gateways, database);
  const l = m.load;
  say(`  ${l.callsPerSecond} calls/s, p50 ${l.latency.p50} ms, p99 ${l.latency.p99} ms, max ${l.latency.max} ms, ${l.errors} errors${l.errors ? ` ${JSON.stringify(l.errorExamples)}` : ''}`);
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
