import { generateKeyPairSync } from 'node:crypto';

/**
 * The bench's fixed world, shared by the orchestrator (which configures the gateway and preloads the
 * database) and the load driver (which plays the vendors): provider instances, their secrets, the
 * currencies, the player codes. Both sides must agree on every value here.
 */

/** The Hub88 instance's keys: the bench drives no Hub88 traffic, but production insists on real keys. */
const hub88 = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

/** Bench-only secrets: production mode insists that each one is set; none of them guards real money. */
export const SECRETS = {
  ADMIN_JWT_SECRET: 'croupier-bench-admin-jwt-secret-0123456789',
  SCORPIO_PLAY_CALLBACK_TOKEN: 'bench-scorpio-play-callback-token',
  SLOTCITY_CALLBACK_TOKEN: 'bench-slotcity-callback-token',
  MEGANODES_CALLBACK_TOKEN: 'bench-meganodes-callback-token',
  // 32 bytes: the event dialect's credential and its AES-256 key.
  DOWINN_API_KEY: 'bench-dowinn-api-key-0123456789a',
  // The vendors' own APIs are not called by the bench; production still insists they are configured.
  SCORPIO_PLAY_API_URL: 'http://127.0.0.1:9',
  SCORPIO_PLAY_API_TOKEN: 'bench-scorpio-play-api-token',
  SLOTCITY_API_URL: 'http://127.0.0.1:9',
  SLOTCITY_API_TOKEN: 'bench-slotcity-api-token',
  MEGANODES_API_URL: 'http://127.0.0.1:9',
  MEGANODES_API_TOKEN: 'bench-meganodes-api-token',
  DOWINN_API_URL: 'http://127.0.0.1:9',
  HUB88_PUBLIC_KEY: hub88.publicKey,
  HUB88_CASINO_PRIVATE_KEY: hub88.privateKey,
  HUB88_TOKEN_SECRET: 'bench-hub88-session-token-secret-0123456789',
  HUB88_API_URL: 'http://127.0.0.1:9',
  // The bench reads each run's grouping from /metrics (bench/groups.ts), as a scraper would.
  METRICS_TOKEN: 'bench-metrics-token-0123456789',
} as const;

export type Currency = 'USD' | 'EUR' | 'KRW';
export const CURRENCIES: readonly Currency[] = ['USD', 'EUR', 'KRW'];
/** Minor units per currency unit (README: KRW has no decimals). */
export const EXPONENT: Readonly<Record<Currency, number>> = { USD: 2, EUR: 2, KRW: 0 };

export interface CommandProvider {
  dialect: 'command';
  id: string;
  currency: Currency;
  token: string;
}
export interface EventProvider {
  dialect: 'event';
  id: string;
  currency: Currency;
  apiId: string;
  apiKey: string;
}
export type Provider = CommandProvider | EventProvider;

/** The instances of config/providers.json, with the secrets above. */
export const PROVIDERS: readonly Provider[] = [
  { dialect: 'command', id: 'scorpio-play', currency: 'USD', token: SECRETS.SCORPIO_PLAY_CALLBACK_TOKEN },
  { dialect: 'command', id: 'slotcity', currency: 'EUR', token: SECRETS.SLOTCITY_CALLBACK_TOKEN },
  { dialect: 'command', id: 'meganodes', currency: 'KRW', token: SECRETS.MEGANODES_CALLBACK_TOKEN },
  { dialect: 'event', id: 'dowinn', currency: 'USD', apiId: 'demo-dowinn-agent', apiKey: SECRETS.DOWINN_API_KEY },
];

/**
 * Every preloaded wallet starts with this many minor units (USD and EUR 100 million, KRW 10 billion
 * won), whatever its currency: no bench run can spend it. A deposit of so many currency units was
 * 10 million won, and on a fast host the hot player's two runs (1,300 calls/s, about 7 million won
 * lost each) emptied its KRW wallet: its bets were refused for funds, counted as failed calls.
 */
export const DEPOSIT_MINOR = 10_000_000_000n;

/** Player number k (0-based) is known to the vendors as this code. */
export const playerCode = (k: number) => `p${k}`;

/**
 * The bench's database and Redis prefix. Postgres and Redis may be shared by several people's
 * benches at once, and a run drops and recreates its database: BENCH_NAME gives each its own
 * (croupier_bench followed by letters, digits or _).
 */
const NAME = process.env.BENCH_NAME ?? 'croupier_bench';
if (!/^croupier_bench\w*$/.test(NAME)) throw new Error(`BENCH_NAME must start with croupier_bench (letters, digits, _ after it), not ${NAME}`);
export const REDIS_PREFIX = NAME;
export const DATABASE = NAME;
export const PGBENCH_DATABASE = `${NAME}_pgbench`;
export const SERVER_URL = 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = 'redis://127.0.0.1:6379';
