import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pino from 'pino';
import { SignJWT } from 'jose';
import { dialects } from '../../providers/index.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import type { Dialect } from '../../src/gateway/contract.ts';
import { createLogger } from '../../src/logging.ts';
import type { Currency } from '../../src/money/currency.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { parseAmount } from '../../src/money/minor.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { createGateway, type Gateway } from '../../src/service.ts';
import { BackOffice } from '../../src/wallet/backoffice.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

/** The demo tokens of config/providers.json (the test environment sets no provider secret). */
export const TOKENS = {
  'scorpio-play': 'demo-scorpio-play-callback-token',
  slotcity: 'demo-slotcity-callback-token',
  meganodes: 'demo-meganodes-callback-token',
} as const;

export interface TestGateway {
  url: string;
  config: Config;
  gateway: Gateway;
  database: TestDatabase;
  /**
   * The back office on the test's own connections, for setting up and reading: a test's setup never
   * waits on the gateway's pool (whose short wait is for vendors' calls) nor takes its connections.
   */
  backOffice: BackOffice;
  /** POSTs a raw body to /callbacks/{provider}; returns status and parsed JSON body. */
  callback(provider: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; text: string; json: any }>;
  /** Creates a player with a wallet per currency and deposits the given decimal amounts. */
  fund(code: string, wallets: Record<string, string>): Promise<void>;
  /** A bearer token for /v1 with `role` (admin unless said). */
  adminToken(role?: 'viewer' | 'operator' | 'admin'): Promise<string>;
  reconcile(): ReturnType<typeof reconcile>;
  close(): Promise<void>;
}

/** A real gateway (HTTP server, Postgres, Redis) on a random port, with its own database. */
export async function startTestGateway(env: Record<string, string> = {}, withDialects: readonly Dialect[] = dialects): Promise<TestGateway> {
  const database = await createTestDatabase();
  const prefix = `croupier_t_${randomBytes(4).toString('hex')}`;
  const config = loadConfig(
    { NODE_ENV: 'test', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SEED_DEMO: 'false', DATABASE_URL: database.url, REDIS_PREFIX: prefix, ...env },
    withDialects,
  );
  // TEST_LOG_LEVEL turns the gateways' logs on; TEST_LOG_FILE sends them to a file instead of the test output.
  const file = process.env.TEST_LOG_FILE;
  const gateway = createGateway(config, createLogger(config.logLevel, file ? pino.destination({ dest: file, append: true, sync: true }) : undefined));
  const server = await gateway.listen(0, '127.0.0.1');
  await gateway.startWorkers();
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const backOffice = new BackOffice(database.db);
  return {
    url,
    config,
    gateway,
    database,
    backOffice,
    async callback(provider, body, headers) {
      const token = TOKENS[provider as keyof typeof TOKENS];
      const res = await fetch(`${url}/callbacks/${provider}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { 'callback-token': token } : {}), ...headers },
        body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, text, json };
    },
    async fund(code, wallets) {
      const currencies = Object.keys(wallets).map(asCurrency);
      const created = await backOffice.createPlayer(PlayerCode(code), currencies);
      if (!created.ok) throw new Error(`fund ${code}: ${created.reason}`);
      for (const [cur, text] of Object.entries(wallets)) {
        const currency = cur as Currency;
        const amount = parseAmount(text, currency);
        if (!amount.ok) throw new Error(amount.reason);
        if (amount.value > 0n) {
          const r = await backOffice.cashier('deposit', PlayerCode(code), currency, amount.value, `fund:${code}:${cur}`);
          if (!r.ok) throw new Error(`fund ${code}: ${r.reason}`);
        }
      }
    },
    adminToken: (role = 'admin') =>
      new SignJWT({ role })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('test-operator')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(config.adminJwtSecret.reveal())),
    // As `npm run reconcile` does: on a connection of its own, which reads whole tables (the gateway's prefers indexes).
    reconcile: () => reconcile(database.db),
    async close() {
      await gateway.close();
      await database.drop();
      await deleteRedisKeys(config.redis.url, `${config.redis.prefix}:*`);
    },
  };
}

/** Removes a test's Redis keys (locks, queues) so a run leaves nothing behind. */
export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
