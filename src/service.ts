import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config, DemoPlayer } from './config/config.ts';
import { Pipeline } from './gateway/callbacks.ts';
import type { ProviderInstance } from './gateway/contract.ts';
import { createApp } from './http/app.ts';
import { Metrics } from './http/metrics.ts';
import { HouseAccounts } from './ledger/accounts.ts';
import { createDatabase, type Db } from './ledger/database.ts';
import { ensureDatabase, isEmpty, migrateToLatest } from './ledger/migrate.ts';
import { LockedWallet } from './locks/player-lock.ts';
import { Parking } from './queue/parking.ts';
import { WebhookHistory, type WebhookRecord } from './webhooks/history.ts';
import { Replayer } from './webhooks/replay.ts';
import { BackOffice } from './wallet/backoffice.ts';
import { Wallet } from './wallet/wallet.ts';
import { VendorHttp } from './vendors/transport.ts';
import { Vendors } from './vendors/vendors.ts';

export interface PrepareSummary {
  /** The database did not exist and was created. */
  created: boolean;
  /** Names of the migrations applied now (empty when the schema was already current). */
  migrations: string[];
  /** Demo players seeded now (empty unless the database was empty and seeding is on). */
  seeded: string[];
}

/** Creates the database when missing, brings its schema up to date, and seeds the demo players into an empty one. */
export async function prepareDatabase(config: Config, log: Logger): Promise<PrepareSummary> {
  const created = await ensureDatabase(config.database.url);
  if (created) log.info('created database');
  const db = createDatabase({ ...config.database, poolSize: 1 });
  try {
    const migrations = await migrateToLatest(db);
    if (migrations.length) log.info({ migrations }, 'migrations applied');
    let seeded: string[] = [];
    if (config.demoPlayers.length && (await isEmpty(db))) {
      await seedDemo(new BackOffice(db), config.demoPlayers);
      seeded = config.demoPlayers.map((p) => p.code);
      log.info({ players: seeded }, 'seeded demo players');
    }
    return { created, migrations, seeded };
  } finally {
    await db.destroy();
  }
}

export async function seedDemo(backOffice: BackOffice, players: readonly DemoPlayer[]): Promise<void> {
  for (const player of players) {
    const created = await backOffice.createPlayer(player.code, player.wallets.map((w) => w.currency));
    if (!created.ok && created.reason !== 'player_exists') throw new Error(`seeding ${player.code}: ${created.reason}`);
    for (const { currency, amount } of player.wallets) {
      if (amount > 0n) await backOffice.cashier('deposit', player.code, currency, amount, `demo-seed:${player.code}:${currency}`);
    }
    if (player.status === 'blocked') await backOffice.setStatus(player.code, 'blocked');
  }
}

export interface Gateway {
  db: Db;
  redis: Redis;
  wallet: Wallet;
  backOffice: BackOffice;
  vendors: Vendors;
  history: WebhookHistory;
  parking: Parking;
  pipeline: Pipeline;
  replayer: Replayer;
  providers: ReadonlyMap<string, ProviderInstance>;
  metrics: Metrics;
  app: ReturnType<typeof createApp>;
  /** Starts the queue workers (when WORKERS is on). */
  startWorkers(): Promise<void>;
  listen(port: number, host: string): Promise<Server>;
  /**
   * Graceful stop: refuse new requests (readyz says 503), let in-flight ones finish, let active queue
   * jobs finish, then close queues, the pool and Redis; past SHUTDOWN_TIMEOUT_MS connections are cut.
   */
  close(): Promise<void>;
}

export function createGateway(config: Config, log: Logger): Gateway {
  const db = createDatabase({ ...config.database, onIdleError: (err) => log.warn({ err }, 'idle database connection lost') });
  // Fails fast while Redis is away (no offline queue): a lock or probe then says so at once.
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  const house = new HouseAccounts();
  const wallet = new Wallet(db, house);
  const backOffice = new BackOffice(db, house);
  const history = new WebhookHistory(db);
  const metrics = new Metrics();
  const parking = new Parking(
    { redisUrl: config.redis.url, prefix: config.redis.prefix, maxAttempts: config.queue.maxAttempts, maxBackoffMs: config.queue.maxBackoffMs },
    log,
  );
  const locked = new LockedWallet(wallet, redis, { ...config.locks, prefix: `${config.redis.prefix}:` }, metrics.locks, log);
  const pipeline = new Pipeline({ wallet: locked, history, parking, observe: metrics.observe, log });
  const providers = new Map(config.providers.map((p) => [p.id as string, p]));
  const replayer = new Replayer(history, pipeline, providers);
  metrics.watch({ queueDepth: () => parking.depth(), unresolvedFailures: () => history.countUnresolvedFailures() });
  const vendors = new Vendors(
    db,
    config.providers.map((p) => ({
      id: p.id,
      dialect: p.adapter.dialect,
      api: p.vendor(
        (limits) =>
          new VendorHttp({ provider: p.id, limits, retries: config.vendorRetries, redis, prefix: `${config.redis.prefix}:`, log, observe: metrics.vendorCall }),
      ),
    })),
  );

  const state = { stopping: false };
  const app = createApp({
    db,
    redis,
    backOffice,
    vendors,
    history,
    replayer,
    parking,
    pipeline,
    metrics,
    providers: config.providers,
    adminJwtSecret: config.adminJwtSecret,
    bodyLimit: config.http.bodyLimit,
    importLimit: config.http.importLimit,
    trustProxy: config.http.trustProxy,
    log,
    isStopping: () => state.stopping,
  });

  const retry = async (record: WebhookRecord) => {
    const original = await history.record(record);
    const instance = providers.get(record.provider);
    if (!instance) throw new Error(`parked webhook for unknown provider ${record.provider}`);
    await pipeline.handle(instance, { headers: record.headers, body: record.body, ip: '', receivedAt: record.receivedAt }, { source: 'retry', replayOf: original });
  };

  let server: Server | undefined;
  return {
    db,
    redis,
    wallet,
    backOffice,
    vendors,
    history,
    parking,
    pipeline,
    replayer,
    providers,
    metrics,
    app,
    async startWorkers() {
      if (!config.queue.workers) return;
      await parking.start({
        retry,
        history: async (record) => {
          await history.record(record);
        },
        maintain: async () => {
          const purged = await history.purge(new Date(Date.now() - config.webhookRetentionDays * 86_400_000));
          if (purged) log.info({ purged }, 'webhook history past retention deleted');
        },
      });
    },
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
        server = s;
      }),
    async close() {
      state.stopping = true;
      const deadline = setTimeout(() => server?.closeAllConnections(), config.shutdownTimeoutMs);
      try {
        if (server) {
          const s = server;
          const closing = new Promise<void>((resolve) => s.close(() => resolve()));
          // A keep-alive connection goes idle once its last answer is sent; close it then, not at its timeout.
          const sweep = setInterval(() => s.closeIdleConnections(), 50);
          await closing.finally(() => clearInterval(sweep));
        }
        await parking.close();
      } finally {
        clearTimeout(deadline);
        await db.destroy();
        redis.disconnect();
      }
    },
  };
}
