import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { Dialect, ProviderInstance } from '../gateway/contract.ts';
import type { TransportFactory } from '../gateway/vendor-api.ts';
import { asCurrency, isCurrency, type Currency } from '../money/currency.ts';
import { parseAmount, type Minor } from '../money/minor.ts';
import { ProviderId, PlayerCode } from '../wallet/types.ts';
import { Secret } from './secret.ts';

/** A bad configuration: the message names the setting. The process prints it and stops. */
export class ConfigError extends Error {}

const DEMO_ADMIN_SECRET = 'croupier-demo-admin-jwt-secret-change-me';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every environment variable Croupier reads (docs/configuration.md documents each; a test holds it to that). */
export const environment = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: int(0, 65535).default(8080),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/croupier'),
  DATABASE_POOL_SIZE: int(1, 500).default(20),
  WALLET_GROUP_SIZE: int(1, 64).default(16),
  WALLET_CHAIN_SIZE: int(1, 64).default(32),
  WALLET_OPS_PER_CONNECTION: int(1, 16).default(2),
  DB_LOCK_TIMEOUT_MS: int(50, 60_000).default(700),
  DB_POOL_WAIT_MS: int(10, 60_000).default(500),
  DB_STATEMENT_TIMEOUT_MS: int(100, 600_000).default(5000),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,50}$/, 'letters, digits, _ . -').default('croupier'),
  LOCK_WAIT_MS: int(10, 10_000).default(700),
  LOCK_TTL_MS: int(500, 600_000).default(2000),
  RETRY_MAX_ATTEMPTS: int(1, 1000).default(40),
  RETRY_MAX_BACKOFF_MS: int(100, 86_400_000).default(300_000),
  WEBHOOK_RETENTION_DAYS: int(1, 3650).default(30),
  VENDOR_API_RETRIES: int(0, 5).default(2),
  WORKERS: bool.default(true),
  ADMIN_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v) => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v)),
  BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 64kb').default('64kb'),
  IMPORT_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'a size such as 10mb').default('10mb'),
  HTTP_KEEP_ALIVE_MS: int(1000, 600_000).default(65_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  CONFIG_DIR: z.string().default('config'),
  SEED_DEMO: bool.optional(),
  SHUTDOWN_TIMEOUT_MS: int(100, 120_000).default(10_000),
  CONSOLE_IDLE_MINUTES: int(1, 24 * 60).default(30),
  CONSOLE_SESSION_HOURS: int(1, 7 * 24).default(12),
  SIGN_IN_MAX_FAILURES: int(1, 1000).default(5),
  SIGN_IN_BRAKE_MINUTES: int(1, 24 * 60).default(15),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

/** An address or a CIDR block ("203.0.113.7", "10.0.0.0/8", "2001:db8::/32"). */
const addressOrBlock = z.string().refine((v) => {
  const [address = '', bits, extra] = v.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}, 'an IP address or CIDR block');

const providerInstance = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes'),
  dialect: z.string(),
  /** Only these addresses may call this provider's webhook (any dialect); absent: any address. */
  allowFrom: z.array(addressOrBlock).min(1).optional(),
  options: z.unknown(),
});

const providersFile = z.object({ providers: z.array(providerInstance) });

const demoFile = z.object({
  /** Console accounts seeded into a database that has none, outside production only. */
  operators: z
    .array(z.object({ name: z.string(), role: z.enum(['viewer', 'operator', 'admin']), password: z.string().min(12) }))
    .default([]),
  players: z.array(
    z.object({
      code: z.string().min(1).max(100),
      status: z.enum(['active', 'blocked']).default('active'),
      wallets: z.record(z.string().refine(isCurrency, 'not an ISO 4217 currency'), z.string()),
    }),
  ),
});

export interface DemoOperator {
  name: string;
  role: 'viewer' | 'operator' | 'admin';
  password: string;
}

export interface DemoPlayer {
  code: PlayerCode;
  status: 'active' | 'blocked';
  wallets: { currency: Currency; amount: Minor }[];
}

export type Environment = z.infer<typeof environment>;

export interface Config {
  env: Environment['NODE_ENV'];
  http: { host: string; port: number; bodyLimit: string; importLimit: string; trustProxy: boolean | number | string; keepAliveMs: number };
  /**
   * groupSize: how many players' wallet operations that start together may share one transaction;
   * opsPerConnection: how many wallet operations are admitted per connection the wallet may use.
   */
  database: { url: string; poolSize: number; groupSize: number; opsPerConnection: number; lockTimeoutMs: number; statementTimeoutMs: number; poolWaitMs: number };
  redis: { url: string; prefix: string };
  /** chain: how many of a busy player's queued money calls may run one after the other in one transaction. */
  locks: { waitMs: number; ttlMs: number; chain: number };
  queue: { maxAttempts: number; maxBackoffMs: number; workers: boolean };
  webhookRetentionDays: number;
  /** Extra attempts of a vendor API call that failed in a way that may be repeated. */
  vendorRetries: number;
  adminJwtSecret: Secret;
  logLevel: Environment['LOG_LEVEL'];
  /** auto: readable lines on a terminal outside production, JSON otherwise. */
  logFormat: Environment['LOG_FORMAT'];
  seedDemo: boolean;
  shutdownTimeoutMs: number;
  /** Console sessions and the sign-in brake. */
  console: { idleMs: number; absoluteMs: number; maxFailuresPerName: number; maxFailuresPerAddress: number; brakeWindowMs: number };
  /** When set, /metrics answers only a request bearing it. */
  metricsToken: Secret | undefined;
  providers: ProviderInstance[];
  demoPlayers: DemoPlayer[];
  demoOperators: DemoOperator[];
}

/**
 * Parses the environment and the files in CONFIG_DIR once, at start. Secrets in the files are
 * references (`{"$env": "NAME", "$demo": "value"}`): the value comes from the environment; the demo
 * value is used only outside production, so a production start without every secret set fails.
 */
export function loadConfig(source: Record<string, string | undefined>, dialects: readonly Dialect[]): Config {
  const env = check(environment, source, 'environment');
  const production = env.NODE_ENV === 'production';

  let adminSecret = env.ADMIN_JWT_SECRET;
  if (adminSecret === undefined) {
    if (production) throw new ConfigError('ADMIN_JWT_SECRET: must be set when NODE_ENV=production');
    adminSecret = DEMO_ADMIN_SECRET;
  } else if (production && adminSecret === DEMO_ADMIN_SECRET) {
    throw new ConfigError('ADMIN_JWT_SECRET: the demo secret cannot be used in production');
  }

  const providerFile = check(providersFile, readJson(env.CONFIG_DIR, 'providers.json'), 'providers.json');
  const seen = new Set<string>();
  const providers = providerFile.providers.map((instance, i) => {
    const where = `providers.json: providers[${i}] (${instance.id})`;
    if (seen.has(instance.id)) throw new ConfigError(`${where}: duplicate provider id`);
    seen.add(instance.id);
    const dialect = dialects.find((d) => d.name === instance.dialect);
    if (!dialect) {
      throw new ConfigError(`${where}.dialect: unknown dialect ${JSON.stringify(instance.dialect)} (known: ${dialects.map((d) => d.name).join(', ')})`);
    }
    const resolved = resolveSecrets(instance.options, source, production, `${where}.options`);
    const options = check(dialect.options, resolved, `${where}.options`);
    const id = ProviderId(instance.id);
    return {
      id,
      adapter: dialect.create(id, options),
      allowFrom: instance.allowFrom ? blockList(instance.allowFrom) : null,
      vendor: (transport: TransportFactory) => dialect.vendor?.(id, options, transport),
    };
  });

  const seedDemo = env.SEED_DEMO ?? !production;
  const loaded = seedDemo ? loadDemo(env.CONFIG_DIR) : { players: [], operators: [] };
  // demo.json's console passwords are public: in production SEED_DEMO seeds players, never operators.
  const demo = { players: loaded.players, operators: production ? [] : loaded.operators };

  return {
    env: env.NODE_ENV,
    http: { host: env.HOST, port: env.PORT, bodyLimit: env.BODY_LIMIT, importLimit: env.IMPORT_BODY_LIMIT, trustProxy: env.TRUST_PROXY, keepAliveMs: env.HTTP_KEEP_ALIVE_MS },
    database: {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      groupSize: env.WALLET_GROUP_SIZE,
      opsPerConnection: env.WALLET_OPS_PER_CONNECTION,
      lockTimeoutMs: env.DB_LOCK_TIMEOUT_MS,
      statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
      poolWaitMs: env.DB_POOL_WAIT_MS,
    },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
    locks: { waitMs: env.LOCK_WAIT_MS, ttlMs: env.LOCK_TTL_MS, chain: env.WALLET_CHAIN_SIZE },
    queue: { maxAttempts: env.RETRY_MAX_ATTEMPTS, maxBackoffMs: env.RETRY_MAX_BACKOFF_MS, workers: env.WORKERS },
    webhookRetentionDays: env.WEBHOOK_RETENTION_DAYS,
    vendorRetries: env.VENDOR_API_RETRIES,
    adminJwtSecret: new Secret(adminSecret),
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    seedDemo,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    console: {
      idleMs: env.CONSOLE_IDLE_MINUTES * 60_000,
      absoluteMs: env.CONSOLE_SESSION_HOURS * 3_600_000,
      maxFailuresPerName: env.SIGN_IN_MAX_FAILURES,
      // One address may be a whole office behind NAT: it gets four names' worth of failures.
      maxFailuresPerAddress: env.SIGN_IN_MAX_FAILURES * 4,
      brakeWindowMs: env.SIGN_IN_BRAKE_MINUTES * 60_000,
    },
    metricsToken: env.METRICS_TOKEN === undefined ? undefined : new Secret(env.METRICS_TOKEN),
    providers,
    demoPlayers: demo.players,
    demoOperators: demo.operators,
  };
}

function blockList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

function loadDemo(dir: string): { players: DemoPlayer[]; operators: DemoOperator[] } {
  const file = check(demoFile, readJson(dir, 'demo.json'), 'demo.json');
  const operators = file.operators.map((o) => Object.freeze({ ...o }));
  const players = file.players.map((p, i) =>
    Object.freeze({
      code: PlayerCode(p.code),
      status: p.status,
      wallets: Object.entries(p.wallets).map(([code, text]) => {
        const currency = asCurrency(code);
        const amount = parseAmount(text, currency);
        if (!amount.ok) throw new ConfigError(`demo.json: players[${i}].wallets.${code}: ${amount.reason}`);
        return { currency, amount: amount.value };
      }),
    }),
  );
  return { players, operators };
}

function resolveSecrets(value: unknown, source: Record<string, string | undefined>, production: boolean, where: string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveSecrets(v, source, production, `${where}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (typeof record.$env === 'string') {
    const fromEnv = source[record.$env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (production) throw new ConfigError(`${where}: environment variable ${record.$env} must be set when NODE_ENV=production`);
    if (typeof record.$demo === 'string') return record.$demo;
    throw new ConfigError(`${where}: environment variable ${record.$env} is not set`);
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolveSecrets(v, source, production, `${where}.${k}`)]));
}

function readJson(dir: string, name: string): unknown {
  const file = path.join(dir, name);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`);
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length ? `.${issue.path.join('.')}` : '';
  const name = where === 'environment' ? String(issue.path[0] ?? where) : `${where}${field}`;
  throw new ConfigError(`${name}: ${issue.message}`);
}
