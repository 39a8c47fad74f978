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
import { keepStatistics } from './ledger/statistics.ts';
import { Admission, AdmittedWallet } from './locks/admission.ts';
import { Audit } from './operators/audit.ts';
import { Operators } from './operators/operators.ts';
import { SharedTurns } from './operators/turns.ts';
import { Reports } from './reports/ggr.ts';
import { LockedWallet } from './locks/player-lock.ts';
import { Parking } from './queue/parking.ts';
import { WebhookHistory, type WebhookRecord } from './webhooks/history.ts';
import { OperatorActions } from './operators/actions.ts';
import { VendorReconciler, reconcileLastHour } from './reconcile/reconciler.ts';
import { Replayer } from './webhooks/replay.ts';
import { BackOffice } from './wallet/backoffice.ts';
import { Wallet } from './wallet/wallet.ts';
import type { Currency } from './money/currency.ts';
import type { Minor } from './money/minor.ts';
import type { PlayerCode, WalletOperation } from './wallet/types.ts';
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
    if (config.demoOperators.length) {
      const audit = new Audit(db);
      const operators = new Operators(db, audit, config.console);
      if ((await operators.count()) === 0) {
        for (const o of config.demoOperators) {
          const added = await operators.add({ name: 'demo-seed', via: 'cli' }, o.name, o.role, o.password);
          if (!added.ok) throw new Error(`seeding operator ${o.name}: ${added.message}`);
        }
        log.info({ operators: config.demoOperators.map((o) => `${o.name} (${o.role})`) }, 'seeded demo console accounts');
      }
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

/** Pooled connections kept out of admission, for the history written outside a wallet operation, the back office and health. */
const ADMISSION_RESERVE = 2;

/** How long a failure answer waits for the player's balance before it goes without it (the vendor's clock is running). */
const PEEK_MS = 200;

/** The balance a failure answer can carry: a plain read, no lock; undefined when the database cannot say it in time. */
function peekBalance(wallet: Wallet, player: PlayerCode, currency: Currency, op?: WalletOperation): Promise<Minor | undefined> {
  const read = wallet.peek(player, currency, op).catch(() => undefined);
  return Promise.race([read, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), PEEK_MS).unref())]);
}

export interface Gateway {
  db: Db;
  redis: Redis;
  wallet: Wallet;
  backOffice: BackOffice;
  vendors: Vendors;
  history: WebhookHistory;
  operators: Operators;
  audit: Audit;
  reports: Reports;
  parking: Parking;
  pipeline: Pipeline;
  replayer: Replayer;
  /** Operators' audited changes, shared by /v1, the console and the CLI. */
  actions: OperatorActions;
  /** Reconciliation with the vendors' own records. */
  reconciler: VendorReconciler;
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
  const db = createDatabase({ ...config.database, preferIndexes: true, onIdleError: (err) => log.warn({ err }, 'idle database connection lost') });
  // The health probe's own connection: whether Postgres answers, not whether the pool has a free slot.
  const probeDb = createDatabase({ ...config.database, poolSize: 1, poolWaitMs: 1000, onIdleError: () => {} });
  // Fails fast while Redis is away (no offline queue): a lock or probe then says so at once.
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  const house = new HouseAccounts();
  const metrics = new Metrics();
  // The wallet's operations use at most the pool's connections less a reserve (the history written
  // outside a transaction, the back office, /v1); beyond that they wait for one in the wallet, in line.
  const connections = Math.max(1, config.database.poolSize - ADMISSION_RESERVE);
  const wallet = new Wallet(db, house, { group: config.database.groupSize, connections, observer: metrics.groups });
  const backOffice = new BackOffice(db, house);
  const history = new WebhookHistory(db);
  const audit = new Audit(db);
  // Sign-ins of one name or address take turns across the gateway's processes (the brake counts
  // the failures before each).
  const operators = new Operators(db, audit, config.console, new SharedTurns(redis, { prefix: `${config.redis.prefix}:` }, log));
  const reports = new Reports(db);
  const parking = new Parking(
    { redisUrl: config.redis.url, prefix: config.redis.prefix, maxAttempts: config.queue.maxAttempts, maxBackoffMs: config.queue.maxBackoffMs },
    log,
  );
  // Admitted, an operation waits at most for a connection of the wallet's, in its line (see
  // WALLET_OPS_PER_CONNECTION in docs/configuration.md for what two per connection buy).
  const admission = new Admission(config.database.opsPerConnection * connections, metrics.admission);
  const admitted = new AdmittedWallet(wallet, admission);
  const locked = new LockedWallet(admitted, redis, { ...config.locks, prefix: `${config.redis.prefix}:` }, metrics.locks, log);
  const pipeline = new Pipeline({ wallet: locked, peek: (player, currency, op) => peekBalance(wallet, player, currency, op), history, parking, observe: metrics.observe, log });
  const providers = new Map(config.providers.map((p) => [p.id as string, p]));
  const replayer = new Replayer(history, pipeline, providers);
  const actions = new OperatorActions(backOffice, replayer, audit);
  const reconciler = new VendorReconciler(db, (provider) => vendors.apiOf(provider), actions, audit, {
    wallet: locked,
    resultSettlesRound: (provider) => providers.get(provider)?.adapter.resultSettlesRound === true,
  });
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
    probeDb,
    redis,
    backOffice,
    vendors,
    history,
    replayer,
    actions,
    reconciler,
    parking,
    pipeline,
    metrics,
    providers: config.providers,
    adminJwtSecret: config.adminJwtSecret,
    operators,
    audit,
    reports,
    metricsToken: config.metricsToken,
    bodyLimit: config.http.bodyLimit,
    importLimit: config.http.importLimit,
    trustProxy: config.http.trustProxy,
    log,
    isStopping: () => state.stopping,
  });

  const retry = async (record: WebhookRecord, last: boolean) => {
    let original: bigint;
    try {
      original = await history.record(record);
    } catch (error) {
      // Its job is all that holds the record while Postgres is away: before the last attempt fails,
      // the record goes to the history queue, which keeps it until Postgres takes it, for operators to replay.
      if (last) await parking.keepHistory(record);
      throw error;
    }
    const instance = providers.get(record.provider);
    if (!instance) throw new Error(`parked webhook for unknown provider ${record.provider}`);
    await pipeline.handle(
      instance,
      { path: record.path ?? '', headers: record.headers, body: record.body, ip: '', receivedAt: record.receivedAt },
      { source: 'retry', replayOf: original },
    );
  };

  // Where autovacuum is off, the workers analyze the ledger at start and every ten minutes (statistics.ts).
  let warnedAutovacuum = false;
  const statistics = async () => {
    if ((await keepStatistics(db)) === 'analyzed' && !warnedAutovacuum) {
      warnedAutovacuum = true;
      log.warn("autovacuum is off on the ledger's server: Croupier analyzes the ledger every ten minutes itself; vacuum it on a schedule (docs/operations.md)");
    }
  };

  let server: Server | undefined;
  return {
    db,
    redis,
    wallet,
    backOffice,
    vendors,
    history,
    operators,
    audit,
    reports,
    parking,
    pipeline,
    replayer,
    actions,
    reconciler,
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
        maintain: async (job) => {
          if (job === 'rollup') {
            const days = await reports.rollUp();
            if (days.length) log.info({ days }, 'revenue of closed days rolled up');
            return;
          }
          if (job === 'statistics') return statistics();
          if (job === 'vendor-reconcile') {
            await reconcileLastHour(reconciler, config.providers.map((p) => p.id), log);
            return;
          }
          const purged = await history.purge(new Date(Date.now() - config.webhookRetentionDays * 86_400_000));
          if (purged) log.info({ purged }, 'webhook history past retention deleted');
        },
      });
      statistics().catch((err: unknown) => log.warn({ err }, 'could not analyze the ledger'));
    },
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
        // An idle keep-alive connection is closed by the vendor (or the load balancer) first: closed
        // here while the client reuses it, the call it sends fails on the way (a bet then cancelled).
        s.keepAliveTimeout = config.http.keepAliveMs;
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
        await Promise.all([db.destroy(), probeDb.destroy()]);
        redis.disconnect();
      }
    },
  };
}
