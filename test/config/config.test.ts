import { generateKeyPairSync } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { format, inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { dialects } from '../../providers/index.ts';
import { ConfigError, loadConfig, type Config } from '../../src/config/config.ts';
import { Secret } from '../../src/config/secret.ts';
import type { ProviderAdapter } from '../../src/gateway/contract.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
function rsa() {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}
const DEMO_ADMIN_SECRET = 'croupier-demo-admin-jwt-secret-change-me';
const PRODUCTION_SECRETS = {
  ADMIN_JWT_SECRET: 'prod-admin-secret-0123456789abcdef0123',
  SCORPIO_PLAY_CALLBACK_TOKEN: 'prod-scorpio-token-0123456789',
  SLOTCITY_CALLBACK_TOKEN: 'prod-slotcity-token-0123456789',
  MEGANODES_CALLBACK_TOKEN: 'prod-meganodes-token-0123456789',
  DOWINN_API_KEY: 'prod-dowinn-api-key-0123456789ab',
  SCORPIO_PLAY_API_URL: 'https://api.scorpio.example',
  SCORPIO_PLAY_API_TOKEN: 'prod-scorpio-api-token-0123',
  SLOTCITY_API_URL: 'https://api.slotcity.example',
  SLOTCITY_API_TOKEN: 'prod-slotcity-api-token-0123',
  MEGANODES_API_URL: 'https://api.meganodes.example',
  MEGANODES_API_TOKEN: 'prod-meganodes-api-token-0123',
  DOWINN_API_URL: 'https://api.dowinn.example',
  // Hub88's public key and the casino's private key: PEMs, as an operator's secret store holds them.
  HUB88_PUBLIC_KEY: rsa().publicKey,
  HUB88_CASINO_PRIVATE_KEY: rsa().privateKey,
  HUB88_TOKEN_SECRET: 'prod-hub88-token-secret-0123456789abcdef',
  HUB88_API_URL: 'https://api.hub88.example',
};

/** The provider instances config/providers.json configures. */
const CONFIGURED = (JSON.parse(readFileSync(path.join(ROOT, 'config', 'providers.json'), 'utf8')) as { providers: { id: string }[] }).providers;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A CONFIG_DIR of our own: providers.json as given (written raw when a string), and no demo.json. */
function configDir(providers: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'croupier-config-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'providers.json'), typeof providers === 'string' ? providers : JSON.stringify(providers));
  return dir;
}

const provider = (options: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'p1',
  dialect: 'command',
  options: { currency: 'USD', callbackToken: 'a-callback-token-of-some-length', ...options },
  ...extra,
});

const load = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', SEED_DEMO: 'false', ...env }, dialects);

function failure(env: Record<string, string>): string {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

/** Whether an adapter lets in a request bearing `token`. */
async function accepts(adapter: ProviderAdapter, token: string): Promise<boolean> {
  const decoded = await adapter.read({
    path: '',
    headers: { 'callback-token': token },
    body: Buffer.from(JSON.stringify({ command: 'authenticate', data: { account: 'alice' }, timestamp: '1600000001', check: '21' })),
    ip: '127.0.0.1',
    receivedAt: new Date(),
  });
  return decoded.kind === 'operation';
}

const byId = (config: Config, id: string) => config.providers.find((p) => p.id === id)!.adapter;

describe('a bad environment variable is named', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'notaurl'],
    ['DATABASE_URL', 'mysql://root@localhost/croupier'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['DATABASE_POOL_SIZE', '0'],
    ['LOG_LEVEL', 'loud'],
    ['NODE_ENV', 'staging'],
    ['SEED_DEMO', 'yes'],
    ['BODY_LIMIT', 'lots'],
    ['IMPORT_BODY_LIMIT', '10 megabytes'],
    ['ADMIN_JWT_SECRET', 'too-short'],
  ])('%s=%s', (name, value) => {
    expect(failure({ [name]: value })).toMatch(new RegExp(`^${name}: `));
  });
});

describe('a bad providers.json is named down to the field', () => {
  it('names an unknown dialect and lists the known ones', () => {
    const message = failure({ CONFIG_DIR: configDir({ providers: [provider({}, { dialect: 'soap' })] }) });
    expect(message).toBe(`providers.json: providers[0] (p1).dialect: unknown dialect "soap" (known: ${dialects.map((d) => d.name).join(', ')})`);
  });

  it('names a bad currency in a provider option', () => {
    const message = failure({ CONFIG_DIR: configDir({ providers: [provider({ currency: 'DOLLARS' })] }) });
    expect(message).toMatch(/^providers\.json: providers\[0\] \(p1\)\.options\.currency: /);
  });

  it('names a callback token that is too short', () => {
    const message = failure({ CONFIG_DIR: configDir({ providers: [provider({ callbackToken: 'short' })] }) });
    expect(message).toMatch(/providers\[0\] \(p1\)\.options\.callbackToken: /);
  });

  it('names the second of two instances with one id', () => {
    const message = failure({ CONFIG_DIR: configDir({ providers: [provider({}), provider({ currency: 'EUR' })] }) });
    expect(message).toBe('providers.json: providers[1] (p1): duplicate provider id');
  });

  it('names a provider id that cannot be a path segment', () => {
    const message = failure({ CONFIG_DIR: configDir({ providers: [provider({}, { id: 'Bad/Id' })] }) });
    expect(message).toMatch(/^providers\.json.*providers\.0\.id: /);
  });

  it('names a secret reference whose variable is unset and has no demo value', () => {
    const dir = configDir({ providers: [provider({ callbackToken: { $env: 'P1_CALLBACK_TOKEN' } })] });
    expect(failure({ CONFIG_DIR: dir })).toBe('providers.json: providers[0] (p1).options.callbackToken: environment variable P1_CALLBACK_TOKEN is not set');
    expect(load({ CONFIG_DIR: dir, P1_CALLBACK_TOKEN: 'a-callback-token-from-env' }).providers).toHaveLength(1);
  });

  it('names the file when it is missing or not JSON', () => {
    const notJson = configDir('{"providers": [');
    expect(failure({ CONFIG_DIR: notJson })).toContain(path.join(notJson, 'providers.json'));
    const empty = mkdtempSync(path.join(tmpdir(), 'croupier-config-'));
    dirs.push(empty);
    expect(failure({ CONFIG_DIR: empty })).toContain(path.join(empty, 'providers.json'));
  });

  it('names a bad amount in demo.json', () => {
    const dir = configDir({ providers: [] });
    writeFileSync(path.join(dir, 'demo.json'), JSON.stringify({ players: [{ code: 'x', wallets: { USD: '1.001' } }] }));
    expect(failure({ CONFIG_DIR: dir, SEED_DEMO: 'true' })).toMatch(/^demo\.json: players\[0\]\.wallets\.USD: /);
  });
});

describe('production needs every secret', () => {
  const production = (env: Record<string, string | undefined>) => {
    const source = { NODE_ENV: 'production', ...PRODUCTION_SECRETS, ...env };
    return () => loadConfig(source, dialects);
  };

  it('refuses to start without ADMIN_JWT_SECRET', () => {
    expect(production({ ADMIN_JWT_SECRET: undefined })).toThrow(new ConfigError('ADMIN_JWT_SECRET: must be set when NODE_ENV=production'));
  });

  it('refuses the demo admin secret', () => {
    expect(production({ ADMIN_JWT_SECRET: DEMO_ADMIN_SECRET })).toThrow(/^ADMIN_JWT_SECRET: /);
  });

  it('refuses to start without a provider token, naming its variable', () => {
    expect(production({ SCORPIO_PLAY_CALLBACK_TOKEN: undefined })).toThrow(
      'providers.json: providers[0] (scorpio-play).options.callbackToken: environment variable SCORPIO_PLAY_CALLBACK_TOKEN must be set when NODE_ENV=production',
    );
    expect(production({ MEGANODES_CALLBACK_TOKEN: '' })).toThrow(/MEGANODES_CALLBACK_TOKEN must be set/);
  });

  it('loads with every secret set, uses them instead of the demo values, and seeds nothing', async () => {
    const config = production({})();
    expect(config.env).toBe('production');
    expect(config.adminJwtSecret.reveal()).toBe(PRODUCTION_SECRETS.ADMIN_JWT_SECRET);
    expect(config.providers.map((p) => p.id)).toEqual(CONFIGURED.map((p) => p.id));
    expect(config.seedDemo).toBe(false);
    expect(config.demoPlayers).toEqual([]);
    expect(await accepts(byId(config, 'scorpio-play'), PRODUCTION_SECRETS.SCORPIO_PLAY_CALLBACK_TOKEN)).toBe(true);
    expect(await accepts(byId(config, 'scorpio-play'), 'demo-scorpio-play-callback-token')).toBe(false);
  });

  it('seeds demo players when SEED_DEMO asks, but never the demo console accounts, whose passwords are public', () => {
    const config = production({ SEED_DEMO: 'true' })();
    expect(config.seedDemo).toBe(true);
    expect(config.demoPlayers.map((p) => p.code)).toEqual(['alice', 'bob', 'carol', 'mallory']);
    expect(config.demoOperators).toEqual([]);
    expect(loadConfig({ SEED_DEMO: 'true' }, dialects).demoOperators.map((o) => o.name)).toEqual(['admin', 'ops', 'viewer']);
  });

  it('stops `node src/main.ts` with exit 1 and a message naming ADMIN_JWT_SECRET', async () => {
    const child = spawn(path.join(ROOT, 'node_modules/.bin/node'), ['src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: '0' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(stderr).toBe('croupier: configuration error: ADMIN_JWT_SECRET: must be set when NODE_ENV=production\n');
  });
});

describe('development', () => {
  it('runs on the demo values: admin secret, provider tokens, defaults and demo players', async () => {
    const config = loadConfig({}, dialects);
    expect(config.env).toBe('development');
    expect(config.adminJwtSecret.reveal()).toBe(DEMO_ADMIN_SECRET);
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, bodyLimit: '64kb', importLimit: '10mb', trustProxy: false, keepAliveMs: 65_000 });
    expect(await accepts(byId(config, 'scorpio-play'), 'demo-scorpio-play-callback-token')).toBe(true);
    expect(await accepts(byId(config, 'slotcity'), 'demo-slotcity-callback-token')).toBe(true);
    expect(await accepts(byId(config, 'slotcity'), 'demo-scorpio-play-callback-token')).toBe(false);
    expect(config.seedDemo).toBe(true);
    expect(config.demoPlayers.map((p) => [p.code, p.status])).toEqual([
      ['alice', 'active'],
      ['bob', 'active'],
      ['carol', 'active'],
      ['mallory', 'blocked'],
    ]);
    expect(config.demoPlayers[1]!.wallets).toContainEqual({ currency: 'USD', amount: 25050n });
  });

  it('still prefers a secret from the environment', async () => {
    const config = loadConfig({ ADMIN_JWT_SECRET: PRODUCTION_SECRETS.ADMIN_JWT_SECRET, SLOTCITY_CALLBACK_TOKEN: PRODUCTION_SECRETS.SLOTCITY_CALLBACK_TOKEN }, dialects);
    expect(config.adminJwtSecret.reveal()).toBe(PRODUCTION_SECRETS.ADMIN_JWT_SECRET);
    expect(await accepts(byId(config, 'slotcity'), PRODUCTION_SECRETS.SLOTCITY_CALLBACK_TOKEN)).toBe(true);
    expect(await accepts(byId(config, 'slotcity'), 'demo-slotcity-callback-token')).toBe(false);
  });
});

describe('Secret', () => {
  const value = 'hunter2-but-a-much-longer-secret-value';

  it('never shows its value when printed, serialised or inspected', () => {
    const secret = new Secret(value);
    for (const shown of [
      JSON.stringify(secret),
      JSON.stringify({ nested: { secret } }),
      String(secret),
      `${secret}`,
      inspect(secret),
      inspect({ nested: { deeper: { secret } } }, { depth: 10 }),
      format('%s %o %O %j', secret, secret, secret, secret),
    ]) {
      expect(shown).not.toContain(value);
      expect(shown).toContain('[redacted]');
    }
    expect(secret.reveal()).toBe(value);
  });

  it('keeps a loaded configuration free of secret values however it is printed', () => {
    const config = loadConfig({ NODE_ENV: 'production', ...PRODUCTION_SECRETS }, dialects);
    const shown = [JSON.stringify(config), inspect(config, { depth: 20, showHidden: true }), format('%o', config)].join('\n');
    for (const secret of Object.values(PRODUCTION_SECRETS)) expect(shown).not.toContain(secret);
  });

  it('compares candidates in full', () => {
    const secret = new Secret(value);
    expect(secret.matches(value)).toBe(true);
    expect(secret.matches(value.slice(0, -1))).toBe(false);
    expect(secret.matches(`${value}x`)).toBe(false);
    expect(secret.matches(undefined)).toBe(false);
    expect(new Secret('').matches(undefined)).toBe(false);
  });
});
