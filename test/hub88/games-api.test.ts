import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlayerCode } from '../../src/wallet/types.ts';
import { startWorld, type World } from '../vendors/world.ts';

/**
 * Hub88's Games API from the casino's side, against the simulated Hub88: the game list and a game
 * URL through /v1, each request signed with the casino's key; the launch's session token is what
 * Hub88 then plays the wallet with. A Hub88 that does not hold the casino's public key refuses every
 * call, and the casino says so without launching anything.
 */

let w: World;
let stranger: World;
beforeAll(async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  [w, stranger] = await Promise.all([
    startWorld({ vendors: { play: { rounds: 4, retryDelayMs: [5, 15], promoRate: 1 } } }),
    // This Hub88 checks signatures with another casino's key.
    startWorld({ vendors: { secrets: { hub88CasinoKey: other.publicKey } } }),
  ]);
  await w.gw.fund('hub_ann', { EUR: '100' });
  await stranger.gw.fund('hub_bob', { EUR: '100' });
}, 60_000);
afterAll(async () => {
  await w?.close();
  await stranger?.close();
});

describe("Hub88's Games API", () => {
  it('lists the games and launches one; Hub88 plays it on the session token the launch issued', async () => {
    const games = await w.v1('GET', '/providers/hub88/games');
    expect(games.status).toBe(200);
    expect(games.json.games.map((g: { id: string }) => g.id)).toEqual(['clt_dragonrising', 'evo_lightningroulette', 'pgp_aviator']);
    expect(games.json.games[0]).toMatchObject({ name: 'Dragon Rising', type: 'Video Slots', studio: 'Crazy Tooth Studio' });

    const launch = await w.v1('POST', '/players/hub_ann/launch', { provider: 'hub88', game: 'pgp_aviator' });
    expect(launch.status).toBe(200);
    expect(w.vendors.hub88.stats.answers['200']).toBeGreaterThanOrEqual(2);
    const report = await w.vendors.hub88.open(launch.json.url);
    expect(report).toMatchObject({ ended: 'completed', rounds: 4, currency: 'EUR' });
    await w.vendors.idle();

    // The promotional win at the end is paid without a stake, and kept apart as a promo_win.
    const promo = w.vendors.journal.operations.find((op) => op.call === 'promo_win')!;
    expect(promo.final).toBe('ok');
    const kinds = await w.gw.gateway.db.selectFrom('transfers').select('kind').distinct().execute();
    expect(kinds.map((k) => k.kind)).toContain('promo_win');
    const view = await w.gw.backOffice.player(PlayerCode('hub_ann'));
    expect(view.ok && view.value.wallets.find((x) => x.currency === 'EUR')!.balance).toBe(10_000n + w.vendors.journal.expectedChange('hub_ann', 'EUR'));
    expect(await w.gw.reconcile()).toEqual([]);
  });

  it('names a game Hub88 does not have', async () => {
    const launch = await w.v1('POST', '/players/hub_ann/launch', { provider: 'hub88', game: 'no_such_game' });
    expect(launch.status).toBe(404);
    expect(launch.json.error.code).toBe('game_not_found');
  });

  it('is refused by a Hub88 that does not hold the casino’s key, and launches nothing', async () => {
    const games = await stranger.v1('GET', '/providers/hub88/games');
    expect(games.status).toBe(502);
    expect(games.json.error.code).toBe('unauthorized');
    const launch = await stranger.v1('POST', '/players/hub_bob/launch', { provider: 'hub88', game: 'pgp_aviator' });
    expect(launch.json.error.code).toBe('unauthorized');
    expect(stranger.vendors.hub88.stats.answers['401']).toBeGreaterThanOrEqual(2);
    expect(stranger.vendors.hub88.stats.answers['200']).toBeUndefined();
  });
});
