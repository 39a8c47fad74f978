import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config, DemoPlayer } from './config/config.ts';
import { createApp } from './http/app.ts';
import { HouseAccounts } from './ledger/accounts.ts';
import { createDatabase, type Db } from './ledger/database.ts';
import { ensureDatabase, isEmpty, migrateToLatest } from './ledger/migrate.ts';
import { BackOffice } from './wallet/backoffice.ts';
import type { PlayerCode } from './wallet/types.ts';
import { Wallet } from './wallet/wallet.ts';

export interface Preparation {
  created: boolean;
  migrations: string[];
  seeded: PlayerCode[];
}

/** Creates the database when missing, brings its schema up to date, and seeds the demo players into an empty one. */
export async function prepareDatabase(config: Config, log: Logger): Promise<Preparation> {
  const created = await ensureDatabase(config.database.url);
  if (created) log.info('created database');
  const db = createDatabase({ ...config.database, poolSize: 1 });
  try {
    const migrations = await migrateToLatest(db);
    if (migrations.length) log.info({ migrations }, 'migrations applied');
    let seeded: PlayerCode[] = [];
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
  app: ReturnType<typeof createApp>;
  /** Stops accepting, lets in-flight requests finish (until the deadline), then closes pool and Redis. */
  close(): Promise<void>;
  listen(port: number, host: string): Promise<Server>;
}

export function createGateway(config: Config, log: Logger): Gateway {
  const db = createDatabase({ ...config.database, onIdleError: (err) => log.warn({ err }, 'idle database connection lost') });
  const redis = new Redis(config.redis.url, { lazyConnect: false, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', (err) => log.warn({ err }, 'redis error'));
  const house = new HouseAccounts();
  const wallet = new Wallet(db, house);
  const backOffice = new BackOffice(db, house);
  const app = createApp({
    db,
    redis,
    wallet,
    backOffice,
    providers: config.providers,
    trustProxy: config.http.trustProxy,
    adminJwtSecret: config.adminJwtSecret,
    bodyLimit: config.http.bodyLimit,
    log,
  });
  let server: Server | undefined;
  return {
    db,
    redis,
    wallet,
    backOffice,
    app,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
        server = s;
      }),
    async close() {
      if (server) {
        const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = setTimeout(() => server!.closeAllConnections(), config.shutdownTimeoutMs);
        await closing;
        clearTimeout(deadline);
      }
      await db.destroy();
      redis.disconnect();
    },
  };
}
