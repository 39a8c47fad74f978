import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEventVendor, type EventVendor } from '../../simulator/event-vendor.ts';
import { LinkGone } from '../../simulator/links.ts';
import { eventGameUrl, lobby, lobbyBody } from './helpers.ts';

/**
 * The event-dialect vendor's /game-lobby, as the casino's outbound client meets it: always HTTP 200
 * with a code, each code and control, the one-time game URLs. No gateway: a session started here
 * calls back a closed port and ends at its login.
 */

const API_ID = 'test-agent';
const API_KEY = 'test-api-key-0123456789abcdefghi';
let vendor: EventVendor;

beforeAll(async () => {
  vendor = await startEventVendor({ id: 'dowinn', apiId: API_ID, apiKey: API_KEY, callbackUrl: 'http://127.0.0.1:1/callbacks/dowinn', currencies: ['USD', 'KRW'] });
});
afterEach(async () => {
  Object.assign(vendor.controls, { delayMs: 0, failNext: 0, expired: false });
  vendor.controls.blockedUsers.clear();
  await vendor.idle();
});
afterAll(async () => {
  await vendor.close();
});

const headers = (o: Record<string, string | undefined> = {}) => {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries({ 'content-type': 'application/json', 'api-id': API_ID, 'api-key': API_KEY, ...o })) if (v !== undefined) h[k] = v;
  return h;
};

describe('the lobby', () => {
  it('answers a game URL on the vendor', async () => {
    const reply = await lobby(vendor, lobbyBody(vendor, 'walter'));
    expect(reply).toEqual({ status: 200, json: { code: 0, response_data: { game_url: expect.stringMatching(new RegExp(`^${vendor.url}/play/[A-Za-z0-9_-]{16,}$`)) } } });
    // Without the optional home_url and table_code, in a currency without decimals.
    const krw = await lobby(vendor, lobbyBody(vendor, 'walter', { home_url: undefined, table_code: undefined, currency: 'KRW', balance: 50000, bet_n_min: 1000, bet_n_max: 100000 }));
    expect(krw.json.code).toBe(0);
  });

  it('a required field absent or mistyped: 2 (missing data); a body that is not JSON: 4', async () => {
    for (const field of ['user_id', 'agent_id', 'balance', 'currency', 'language', 'bet_n_min', 'bet_n_max']) {
      expect((await lobby(vendor, lobbyBody(vendor, 'walter', { [field]: undefined }))).json, field).toEqual({ code: 2, message: 'missing data' });
    }
    for (const wrong of [{ balance: '100' }, { bet_n_min: null }, { user_id: 7 }, { user_id: '' }, { home_url: 5 }, { table_code: [] }]) {
      expect((await lobby(vendor, lobbyBody(vendor, 'walter', wrong))).json.code, JSON.stringify(wrong)).toBe(2);
    }
    const notJson = await lobby(vendor, '{"user_id":', headers());
    expect(notJson).toEqual({ status: 200, json: { code: 4, message: 'data format error' } });
  });

  it('a wrong Api-Key: 3; a wrong or missing Api-Id, or an agent_id that is not the Api-Id: 6', async () => {
    expect(await lobby(vendor, lobbyBody(vendor, 'walter'), headers({ 'api-key': 'x'.repeat(32) }))).toEqual({ status: 200, json: { code: 3, message: 'invalid key' } });
    expect((await lobby(vendor, lobbyBody(vendor, 'walter'), headers({ 'api-key': undefined }))).json.code).toBe(3);
    expect((await lobby(vendor, lobbyBody(vendor, 'walter'), headers({ 'api-id': 'other-agent' }))).json).toEqual({ code: 6, message: 'invalid agent' });
    expect((await lobby(vendor, lobbyBody(vendor, 'walter'), headers({ 'api-id': undefined }))).json.code).toBe(6);
    expect((await lobby(vendor, lobbyBody(vendor, 'walter', { agent_id: 'other-agent' }))).json.code).toBe(6);
  });

  it('a blocked user: 9; a balance under bet_n_min: 102; values that make no sense: 100', async () => {
    vendor.controls.blockedUsers.add('blocky');
    expect((await lobby(vendor, lobbyBody(vendor, 'blocky'))).json).toEqual({ code: 9, message: 'blocked user' });
    expect((await lobby(vendor, lobbyBody(vendor, 'walter'))).json.code).toBe(0);

    expect((await lobby(vendor, lobbyBody(vendor, 'walter', { balance: 0.99, bet_n_min: 1 }))).json).toEqual({ code: 102, message: 'insufficient balance' });
    expect((await lobby(vendor, lobbyBody(vendor, 'walter', { balance: 1, bet_n_min: 1 }))).json.code).toBe(0);

    for (const wrong of [{ currency: 'EUR' }, { currency: 'XYZ' }, { bet_n_min: 60, bet_n_max: 50 }, { balance: -1 }, { bet_n_min: 0.001 }, { bet_n_max: 0 }]) {
      expect((await lobby(vendor, lobbyBody(vendor, 'walter', wrong))).json, JSON.stringify(wrong)).toEqual({ code: 100, message: 'data value error' });
    }
  });

  it('expired (a control): 5; delay and HTTP 500 controls; stats', async () => {
    vendor.resetStats();
    vendor.controls.expired = true;
    expect((await lobby(vendor, lobbyBody(vendor, 'walter'))).json).toEqual({ code: 5, message: 'expired request' });
    vendor.controls.expired = false;

    vendor.controls.failNext = 1;
    const failed = await lobby(vendor, lobbyBody(vendor, 'walter'));
    expect(failed.status).toBe(500);
    expect((await lobby(vendor, lobbyBody(vendor, 'walter'))).json.code).toBe(0);

    vendor.controls.delayMs = 300;
    const started = Date.now();
    await expect(
      fetch(`${vendor.url}/game-lobby`, { method: 'POST', headers: headers(), body: JSON.stringify(lobbyBody(vendor, 'walter')), signal: AbortSignal.timeout(100) }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(300);
    vendor.controls.delayMs = 0;

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(vendor.stats.calls).toEqual({ '/game-lobby': 4 });
    expect(vendor.stats.answers).toEqual({ '5': 1, '500': 1, '0': 2 });
    expect(vendor.stats.inFlight).toBe(0);
  });
});

describe('game URLs', () => {
  it('first use starts a session (HTTP 200), a reused one answers 410, open() of it rejects', async () => {
    const url = await eventGameUrl(vendor, 'walter');
    const first = await fetch(url);
    expect(first.status).toBe(200);
    await first.text();
    const again = await fetch(url);
    expect(again.status).toBe(410);
    await again.text();
    await expect(vendor.open(url)).rejects.toThrow(LinkGone);
    await vendor.idle();
    const report = vendor.reports.at(-1)!;
    expect(report).toMatchObject({ provider: 'dowinn', player: 'walter', currency: 'USD', game: 'BAC07', ended: 'failed', change: 0n });
    expect(vendor.journal.attempts.filter((a) => a.session === report.id).map((a) => [a.call, a.reply])).toEqual([['login', 'network']]);
  });

  it('open() plays the session and resolves with its report; the table defaults when none is named', async () => {
    const url = await eventGameUrl(vendor, 'xavier', { table_code: '' });
    const report = await vendor.open(url, { rounds: 2 });
    expect(report).toMatchObject({ player: 'xavier', game: 'BAC01', ended: 'failed', calls: 1 });
    await expect(vendor.open(url)).rejects.toMatchObject({ reason: 'used' });
  });

  it('a URL older than its validity answers 410', async () => {
    const shortLived = await startEventVendor({ id: 'dowinn', apiId: API_ID, apiKey: API_KEY, callbackUrl: 'http://127.0.0.1:1/callbacks/dowinn', linkTtlMs: 100 });
    try {
      const [a, b] = [await eventGameUrl(shortLived, 'yolanda'), await eventGameUrl(shortLived, 'zed')];
      await new Promise((resolve) => setTimeout(resolve, 150));
      const res = await fetch(a);
      expect(res.status).toBe(410);
      await res.text();
      await expect(shortLived.open(b)).rejects.toMatchObject({ reason: 'expired' });
    } finally {
      await shortLived.close();
    }
  });
});
