import { rmSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoProviders, startWorld, type World } from './world.ts';

/**
 * When the vendor does not do what was asked: each of its refusals and failures reaches the casino as
 * one clear error, calls are repeated only where that is safe, and the vendor's limit on calls in
 * flight is kept.
 */

let w: World;
let dir: string;

beforeAll(async () => {
  // Short timeouts, and scorpio-play capped at 5 calls in flight.
  dir = demoProviders((id, api) => ({ ...api, timeoutMs: 300, ...(id === 'scorpio-play' ? { maxConcurrent: 5 } : {}) }));
  w = await startWorld({ env: { CONFIG_DIR: dir, SLOTCITY_API_TOKEN: 'not-the-slotcity-api-token' } });
  await w.gw.fund('alice', { USD: '100', EUR: '100', KRW: '100000' });
  await w.gw.fund('bob', { USD: '100', KRW: '100000' });
});
afterAll(async () => {
  await w?.close();
  rmSync(dir, { recursive: true, force: true });
});

const scorpio = () => w.vendors['scorpio-play'];
afterEach(() => {
  Object.assign(scorpio().controls, { maintenance: false, ipBlocked: false, delayMs: 0, failNext: 0, refusedCurrency: undefined, concurrencyLimit: 50 });
  Object.assign(w.vendors.dowinn.controls, { delayMs: 0, failNext: 0, expired: false });
  w.vendors.dowinn.controls.blockedUsers.clear();
  for (const v of w.vendors.list) v.resetStats();
});

const studioGame = async () => {
  const games = (await w.v1('GET', '/providers/scorpio-play/games')).json.games;
  return { game: games[0].id as string, studio: games[0].studio as string };
};

describe('command-dialect vendor codes', () => {
  it('maintenance: 503 with Retry-After', async () => {
    scorpio().controls.maintenance = true;
    const r = await w.v1('GET', '/providers/scorpio-play/studios');
    expect(r).toMatchObject({ status: 503, json: { error: { code: 'maintenance' } } });
    expect(r.headers.get('retry-after')).toBe('5');
  });

  it("our address is not on the vendor's list: 502 ip_not_allowed", async () => {
    scorpio().controls.ipBlocked = true;
    expect(await w.v1('POST', '/players/alice/providers/scorpio-play')).toMatchObject({ status: 502, json: { error: { code: 'ip_not_allowed' } } });
  });

  it('the vendor refuses the currency: 422 currency_not_supported, nothing stored', async () => {
    scorpio().controls.refusedCurrency = 'USD';
    expect(await w.v1('POST', '/players/bob/providers/scorpio-play')).toMatchObject({ status: 422, json: { error: { code: 'currency_not_supported' } } });
    expect((await w.v1('GET', '/players/bob/providers')).json.registrations).toEqual([]);
  });

  it('the vendor refuses our API token: 502 unauthorized', async () => {
    expect(await w.v1('POST', '/players/alice/providers/slotcity')).toMatchObject({ status: 502, json: { error: { code: 'unauthorized' } } });
    expect(w.vendors.slotcity.stats.answers['401']).toBe(1);
  });
});

describe('repeating only what is safe', () => {
  it('a 5xx on user creation (safe: the vendor returns the existing user) is retried and the registration succeeds', async () => {
    scorpio().controls.failNext = 1;
    expect((await w.v1('POST', '/players/alice/providers/scorpio-play')).status).toBe(201);
    expect(scorpio().stats.calls['/v4/user/create']).toBe(2);
  });

  it('a 5xx on a game URL (each call mints a new one) is not repeated: 502 vendor_error', async () => {
    const { game, studio } = await studioGame();
    scorpio().controls.failNext = 1;
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'scorpio-play', game, studio })).toMatchObject({ status: 502, json: { error: { code: 'vendor_error' } } });
    expect(scorpio().stats.calls['/v4/game/game-url']).toBe(1);
  });

  it('no answer in time: a read is tried 3 times in all, then 504; a launch only once', async () => {
    const { game, studio } = await studioGame();
    scorpio().resetStats();
    scorpio().controls.delayMs = 600;
    expect(await w.v1('GET', '/providers/scorpio-play/studios')).toMatchObject({ status: 504, json: { error: { code: 'timeout' } } });
    expect(scorpio().stats.calls['/v4/game/providers']).toBe(3);
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'scorpio-play', game, studio })).toMatchObject({ status: 504 });
    expect(scorpio().stats.calls['/v4/game/game-url']).toBe(1);
  });

  it("the vendor's busy answer (1018) is retried, then 503 busy", async () => {
    scorpio().controls.concurrencyLimit = 0;
    expect(await w.v1('GET', '/providers/scorpio-play/studios')).toMatchObject({ status: 503, json: { error: { code: 'busy' } } });
    expect(scorpio().stats.calls['/v4/game/providers']).toBe(3);
  });
});

describe('calls in flight', () => {
  it('20 launches at once never put more than the configured 5 calls in flight at the vendor, and none is refused as busy', async () => {
    const { game, studio } = await studioGame();
    await w.v1('POST', '/players/alice/providers/scorpio-play');
    scorpio().resetStats();
    scorpio().controls.concurrencyLimit = 5;
    scorpio().controls.delayMs = 20;
    const launches = await Promise.all(Array.from({ length: 20 }, () => w.v1('POST', '/players/alice/launch', { provider: 'scorpio-play', game, studio })));
    expect(launches.map((l) => l.status)).toEqual(Array(20).fill(200));
    expect(new Set(launches.map((l) => l.json.url)).size).toBe(20);
    expect(scorpio().stats.maxInFlight).toBeLessThanOrEqual(5);
    expect(scorpio().stats.answers['1018']).toBeUndefined();
  });
});

describe('event-dialect lobby codes', () => {
  it('blocked at the vendor: 403 player_blocked; an expired request: 502 expired', async () => {
    w.vendors.dowinn.controls.blockedUsers.add('bob');
    expect(await w.v1('POST', '/players/bob/launch', { provider: 'dowinn', game: 'BAC01' })).toMatchObject({ status: 403, json: { error: { code: 'player_blocked' } } });
    w.vendors.dowinn.controls.expired = true;
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'dowinn', game: 'BAC01' })).toMatchObject({ status: 502, json: { error: { code: 'expired' } } });
  });

  it('a lobby call without an answer in time is not repeated: 504', async () => {
    w.vendors.dowinn.controls.delayMs = 600;
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'dowinn', game: 'BAC01' })).toMatchObject({ status: 504, json: { error: { code: 'timeout' } } });
    expect(w.vendors.dowinn.stats.calls['/game-lobby']).toBe(1);
  });
});

describe('registration conflicts and a vendor that is gone', () => {
  it("a user code the vendor gives that is already another player's is refused: 409, nothing stored", async () => {
    // meganodes names its first user u1; pretend bob already holds u1 there.
    await sql`insert into provider_users (player_id, provider_id, user_code)
      select id, 'meganodes', 'u1' from players where code = 'bob'`.execute(w.gw.database.db);
    expect(await w.v1('POST', '/players/alice/providers/meganodes')).toMatchObject({ status: 409, json: { error: { code: 'user_code_taken' } } });
    expect((await w.v1('GET', '/players/alice/providers')).json.registrations.map((r: { provider: string }) => r.provider)).not.toContain('meganodes');
  });

  it('a vendor that is down: 502 unreachable', async () => {
    await w.vendors.meganodes.close();
    expect(await w.v1('GET', '/providers/meganodes/games')).toMatchObject({ status: 502, json: { error: { code: 'unreachable' } } });
  });
});
