import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkGone } from '../../simulator/links.ts';
import { startWorld, type World } from './world.ts';

/**
 * /v1's registration, catalogue and launch routes against the five simulated demo vendors (three
 * command-dialect vendor accounts, one event-dialect): what is sent to each vendor, what is stored,
 * and what a launched game then does to the ledger.
 */

let w: World;

beforeAll(async () => {
  w = await startWorld({ vendors: { play: { retryDelayMs: [10, 20], rounds: 3 } } });
  await w.gw.fund('alice', { USD: '100', EUR: '100', KRW: '100000' });
  await w.gw.fund('bob', { USD: '50', EUR: '50' });
  await w.gw.fund('dora', { USD: '0' });
  await w.gw.fund('x', { USD: '10' });
  await w.gw.fund('blocky', { USD: '10' });
  await w.gw.gateway.backOffice.setStatus('blocky' as never, 'blocked');
});
afterAll(() => w?.close());

const storedUsers = async (player: string) =>
  (
    await sql<{ provider_id: string; user_code: string }>`
      select u.provider_id, u.user_code from provider_users u join players p on p.id = u.player_id
      where p.code = ${player} order by u.provider_id`.execute(w.gw.database.db)
  ).rows;

describe('providers', () => {
  it('lists every configured provider with what its vendor API offers', async () => {
    const { status, json } = await w.v1('GET', '/providers');
    expect(status).toBe(200);
    expect(json.providers).toEqual([
      { id: 'scorpio-play', dialect: 'command', api: { currency: 'USD', studios: true, userInfo: true } },
      { id: 'slotcity', dialect: 'command', api: { currency: 'EUR', studios: true, userInfo: true } },
      { id: 'meganodes', dialect: 'command', api: { currency: 'KRW', studios: true, userInfo: true } },
      { id: 'dowinn', dialect: 'event', api: { currency: 'USD', studios: false, userInfo: false } },
      { id: 'hub88', dialect: 'hub88', api: { currency: 'EUR', studios: false, userInfo: false } },
    ]);
  });

  it('needs the operator token', async () => {
    const res = await fetch(`${w.gw.url}/v1/providers`);
    expect(res.status).toBe(401);
  });
});

describe('registration', () => {
  it("registers a player with a command-dialect vendor: the vendor's user code is stored, once", async () => {
    const vendor = w.vendors['scorpio-play'];
    const first = await w.v1('POST', '/players/alice/providers/scorpio-play');
    expect(first.status).toBe(201);
    const user = vendor.users().find((u) => u.name === 'alice')!;
    expect(user.user_code).not.toBe('alice');
    expect(first.json).toMatchObject({ player: 'alice', provider: 'scorpio-play', userCode: user.user_code });

    const calls = vendor.stats.calls['/v4/user/create'];
    const again = await w.v1('POST', '/players/alice/providers/scorpio-play');
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(vendor.stats.calls['/v4/user/create']).toBe(calls);
    expect(await storedUsers('alice')).toEqual([{ provider_id: 'scorpio-play', user_code: user.user_code }]);
  });

  it('concurrent registrations of one player store one user code; exactly one answers 201', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => w.v1('POST', '/players/bob/providers/slotcity')));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.every((a) => a.status === 201 || a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.json.userCode)).size).toBe(1);
    expect(await storedUsers('bob')).toEqual([{ provider_id: 'slotcity', user_code: answers[0]!.json.userCode }]);
    expect(w.vendors.slotcity.users().filter((u) => u.name === 'bob')).toHaveLength(1);
  });

  it("the event dialect has no user API: the player code is the user id, and no vendor call is made", async () => {
    const { status, json } = await w.v1('POST', '/players/alice/providers/dowinn');
    expect(status).toBe(201);
    expect(json.userCode).toBe('alice');
    expect(w.vendors.dowinn.stats.calls['/game-lobby']).toBeUndefined();
  });

  it("shows a registration with the vendor's own record of the user", async () => {
    const { status, json } = await w.v1('GET', '/players/alice/providers/scorpio-play');
    expect(status).toBe(200);
    expect(json.vendor).toMatchObject({ name: 'alice', currency: 'USD', user_code: json.userCode });
    const list = await w.v1('GET', '/players/alice/providers');
    expect(list.json.registrations.map((r: { provider: string }) => r.provider)).toEqual(['dowinn', 'scorpio-play']);
    expect((await w.v1('GET', '/players/bob/providers/meganodes')).json.error.code).toBe('not_registered');
  });

  it('refuses, without calling the vendor: an unknown player, a player without the currency, a code the vendor cannot take, an unknown provider', async () => {
    const vendor = w.vendors.meganodes;
    const before = vendor.stats.calls['/v4/user/create'] ?? 0;
    expect(await w.v1('POST', '/players/nobody/providers/meganodes')).toMatchObject({ status: 404, json: { error: { code: 'unknown_player' } } });
    expect(await w.v1('POST', '/players/bob/providers/meganodes')).toMatchObject({ status: 422, json: { error: { code: 'currency_mismatch' } } });
    expect(await w.v1('POST', '/players/x/providers/scorpio-play')).toMatchObject({ status: 400, json: { error: { code: 'invalid_request' } } });
    expect(await w.v1('POST', '/players/alice/providers/acme')).toMatchObject({ status: 404, json: { error: { code: 'unknown_provider' } } });
    expect(vendor.stats.calls['/v4/user/create'] ?? 0).toBe(before);
    expect(await storedUsers('x')).toEqual([]);
  });
});

describe('catalogue', () => {
  it("lists an aggregating vendor's studios and each studio's games", async () => {
    const studios = await w.v1('GET', '/providers/scorpio-play/studios?lang=en');
    expect(studios.status).toBe(200);
    expect(studios.json.studios.length).toBeGreaterThan(1);
    const studio = studios.json.studios[0].id;
    const games = await w.v1('GET', `/providers/scorpio-play/games?studio=${studio}`);
    expect(games.status).toBe(200);
    expect(games.json.games.length).toBeGreaterThan(0);
    expect(games.json.games.every((g: { studio: string }) => g.studio === studio)).toBe(true);
    const all = await w.v1('GET', '/providers/scorpio-play/games');
    expect(all.json.games.length).toBeGreaterThan(games.json.games.length);
  });

  it('lists the configured tables of the event dialect, with bet limits; it has no studios', async () => {
    const games = await w.v1('GET', '/providers/dowinn/games');
    expect(games.json).toEqual({
      provider: 'dowinn',
      currency: 'USD',
      games: [
        { id: 'BAC01', name: 'Baccarat 1', type: 'BAC', limits: { min: '1', max: '500' } },
        { id: 'BAC02', name: 'Baccarat 2 (high limit)', type: 'BAC', limits: { min: '10', max: '5000' } },
      ],
    });
    expect(await w.v1('GET', '/providers/dowinn/studios')).toMatchObject({ status: 501, json: { error: { code: 'not_supported' } } });
  });

  it('refuses a bad language code and an unknown studio', async () => {
    expect((await w.v1('GET', '/providers/scorpio-play/games?lang=english!')).status).toBe(400);
    expect(await w.v1('GET', '/providers/scorpio-play/games?studio=nope')).toMatchObject({ status: 400, json: { error: { code: 'invalid_request' } } });
  });
});

describe('launch', () => {
  it('registers when needed, returns a one-time URL, and the game it opens moves the wallet as the vendor says', async () => {
    const games = (await w.v1('GET', '/providers/meganodes/games')).json.games;
    const launch = await w.v1('POST', '/players/alice/launch', { provider: 'meganodes', game: games[0].id });
    expect(launch.status).toBe(200);
    expect(launch.json.url).toMatch(new RegExp(`^${w.vendors.meganodes.url}/play/`));
    expect(await storedUsers('alice')).toContainEqual({ provider_id: 'meganodes', user_code: launch.json.userCode });

    const before = (await w.gw.gateway.backOffice.player('alice' as never)) as { ok: true; value: { wallets: { currency: string; balance: bigint }[] } };
    const krw = () => before.value.wallets.find((x) => x.currency === 'KRW')!.balance;
    const report = await w.vendors.meganodes.open(launch.json.url);
    expect(report).toMatchObject({ player: 'alice', currency: 'KRW', ended: 'completed', rounds: 3 });
    const after = await w.gw.gateway.backOffice.player('alice' as never);
    expect(after.ok && after.value.wallets.find((x) => x.currency === 'KRW')!.balance).toBe(krw() + report.change);
    expect(await w.gw.reconcile()).toEqual([]);
    await expect(w.vendors.meganodes.open(launch.json.url)).rejects.toBeInstanceOf(LinkGone);
  });

  it("opens the event dialect's lobby with the player's balance and the table's limits", async () => {
    const launch = await w.v1('POST', '/players/alice/launch', { provider: 'dowinn', game: 'BAC01', lang: 'ko', limits: { min: '2', max: '20' } });
    expect(launch.status).toBe(200);
    const report = await w.vendors.dowinn.open(launch.json.url);
    expect(report).toMatchObject({ player: 'alice', currency: 'USD', game: 'BAC01', ended: 'completed' });
    const stakes = w.vendors.dowinn.journal.operations.filter((o) => o.session === report.id && o.call === 'bet').map((o) => o.amount!);
    expect(stakes.length).toBeGreaterThan(0);
    expect(stakes.every((s) => s >= 200n)).toBe(true);
    expect(await w.gw.reconcile()).toEqual([]);
  });

  it('finds the studio of a command-dialect game when the launch does not name it', async () => {
    const games = (await w.v1('GET', '/providers/slotcity/games')).json.games;
    const game = games.at(-1);
    const launch = await w.v1('POST', '/players/bob/launch', { provider: 'slotcity', game: game.id, returnUrl: 'https://casino.example/lobby' });
    expect(launch.status).toBe(200);
    const direct = await w.v1('POST', '/players/bob/launch', { provider: 'slotcity', game: game.id, studio: game.studio });
    expect(direct.status).toBe(200);
    expect(direct.json.url).not.toBe(launch.json.url);
  });

  it('refuses a blocked player without calling the vendor, and says which game or input is wrong', async () => {
    const lobby = w.vendors.dowinn.stats.calls['/game-lobby'] ?? 0;
    expect(await w.v1('POST', '/players/blocky/launch', { provider: 'dowinn', game: 'BAC01' })).toMatchObject({ status: 403, json: { error: { code: 'player_blocked' } } });
    expect(w.vendors.dowinn.stats.calls['/game-lobby'] ?? 0).toBe(lobby);
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'scorpio-play', game: 'no-such-game' })).toMatchObject({ status: 404, json: { error: { code: 'game_not_found' } } });
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'dowinn', game: 'BAC09' })).toMatchObject({ status: 404, json: { error: { code: 'game_not_found' } } });
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'dowinn', game: 'BAC01', limits: { min: '0.5', max: '20' } })).toMatchObject({ status: 400, json: { error: { code: 'invalid_request' } } });
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'dowinn', game: 'BAC01', limits: { min: '1.001', max: '20' } })).toMatchObject({ status: 400, json: { error: { code: 'invalid_request' } } });
    expect(await w.v1('POST', '/players/alice/launch', { game: 'BAC01' })).toMatchObject({ status: 400, json: { error: { code: 'invalid_request' } } });
    expect(await w.v1('POST', '/players/alice/launch', { provider: 'dowinn', game: 'BAC01', returnUrl: 'javascript:alert(1)' })).toMatchObject({ status: 400 });
  });

  it("passes on the vendor's refusal: a balance below the table minimum", async () => {
    expect(await w.v1('POST', '/players/dora/launch', { provider: 'dowinn', game: 'BAC01' })).toMatchObject({ status: 422, json: { error: { code: 'insufficient_balance' } } });
  });
});
