import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCommandVendor, type CommandVendor } from '../../simulator/command-vendor.ts';
import { LinkGone } from '../../simulator/links.ts';
import { api, commandGameUrl } from './helpers.ts';

/**
 * The command-dialect vendor's own API, as the casino's outbound client meets it: the bearer check,
 * every answer code and test control, the one-time game URLs, the concurrency limit. No gateway: the
 * sessions a game URL starts call back a closed port and end at once.
 */

const NOWHERE = 'http://127.0.0.1:1/callbacks/scorpio-play';
const TOKEN = 'test-api-token-0123456789';
let vendor: CommandVendor;

beforeAll(async () => {
  vendor = await startCommandVendor({ id: 'scorpio-play', currency: 'USD', apiToken: TOKEN, callbackUrl: NOWHERE, callbackToken: 'unused-callback-token' });
});
afterEach(async () => {
  Object.assign(vendor.controls, { maintenance: false, ipBlocked: false, delayMs: 0, failNext: 0, refusedCurrency: undefined, concurrencyLimit: 50 });
  await vendor.idle();
});
afterAll(async () => {
  await vendor.close();
});

describe('the bearer token', () => {
  it('missing or wrong: HTTP 401 UNAUTHORIZED; right: HTTP 200', async () => {
    for (const token of [null, 'wrong-token', `${TOKEN}x`]) {
      const reply = await api(vendor, '/v4/game/providers', { lang: 'en' }, token);
      expect(reply).toEqual({ status: 401, json: { code: 401, message: 'UNAUTHORIZED' } });
    }
    const res = await fetch(`${vendor.url}/v4/game/providers`, { method: 'POST', headers: { authorization: `Basic ${TOKEN}` }, body: '{"lang":"en"}' });
    expect(res.status).toBe(401);
    expect((await api(vendor, '/v4/game/providers', { lang: 'en' })).status).toBe(200);
  });
});

describe('users', () => {
  it('create answers a user_code unlike the name, the same one every time for the same name', async () => {
    const first = await api(vendor, '/v4/user/create', { name: 'Alice_01' });
    expect(first).toEqual({ status: 200, json: { code: 0, message: 'OK', data: { user_code: expect.any(String) } } });
    const code = first.json.data.user_code as string;
    expect(code).not.toBe('Alice_01');
    for (let i = 0; i < 3; i++) expect((await api(vendor, '/v4/user/create', { name: 'Alice_01' })).json.data.user_code).toBe(code);
    const other = await api(vendor, '/v4/user/create', { name: 'bob' });
    expect(other.json.data.user_code).not.toBe(code);

    const info = await api(vendor, '/v4/user/info', { user_code: code });
    expect(info.json).toEqual({ code: 0, message: 'OK', data: { user_code: code, name: 'Alice_01', currency: 'USD', created_at: expect.any(String) } });
    expect(Number.isNaN(Date.parse(info.json.data.created_at))).toBe(false);
  });

  it('a name outside [A-Za-z0-9_]{2,50}, a missing or mistyped field, a body that is not a JSON object: 1002', async () => {
    const bad = [{ name: 'a' }, { name: 'has space' }, { name: 'x'.repeat(51) }, { name: 'caf\u00e9' }, { name: 'semi;colon' }, {}, { name: 42 }, { name: null }, [], 'not json'];
    for (const body of bad) {
      expect((await api(vendor, '/v4/user/create', body)).json, JSON.stringify(body)).toEqual({ code: 1002, message: 'VALIDATION_ERROR', data: null });
    }
    expect((await api(vendor, '/v4/user/create', { name: 'x'.repeat(50) })).json.code).toBe(0);
    expect((await api(vendor, '/v4/user/create', { name: 'ab' })).json.code).toBe(0);
  });

  it('info of an unknown user: 2002; without user_code: 1002', async () => {
    expect((await api(vendor, '/v4/user/info', { user_code: 'u999999' })).json).toEqual({ code: 2002, message: 'USER_NOT_FOUND', data: null });
    expect((await api(vendor, '/v4/user/info', { user_code: 7 })).json.code).toBe(1002);
    expect((await api(vendor, '/v4/user/info', {})).json.code).toBe(1002);
  });
});

describe('games', () => {
  it('lists 2-3 studios and the games of each; an unknown studio or a missing lang: 1002', async () => {
    const providers = await api(vendor, '/v4/game/providers', { lang: 'en' });
    expect(providers.json.code).toBe(0);
    const studios = providers.json.data as { provider_id: string; name: string }[];
    expect(studios.length).toBeGreaterThanOrEqual(2);
    expect(studios.length).toBeLessThanOrEqual(3);
    for (const studio of studios) {
      expect(studio).toEqual({ provider_id: expect.any(String), name: expect.any(String) });
      const games = await api(vendor, '/v4/game/games', { provider_id: studio.provider_id, lang: 'en' });
      expect(games.json.code).toBe(0);
      expect(games.json.data.length).toBeGreaterThan(0);
      for (const game of games.json.data) expect(game).toEqual({ game_symbol: expect.any(String), game_name: expect.any(String), game_type: expect.any(String), provider_id: studio.provider_id });
    }
    expect((await api(vendor, '/v4/game/games', { provider_id: 'no-such-studio', lang: 'en' })).json.code).toBe(1002);
    expect((await api(vendor, '/v4/game/games', { provider_id: studios[0]!.provider_id })).json.code).toBe(1002);
    expect((await api(vendor, '/v4/game/providers', {})).json.code).toBe(1002);
  });

  it('game-url: a game URL on the vendor; unknown user 2002, unknown game 2003, bad fields 1002', async () => {
    const user = (await api(vendor, '/v4/user/create', { name: 'gamer' })).json.data.user_code as string;
    const games = await api(vendor, '/v4/game/games', { provider_id: 'aurora', lang: 'en' });
    const game_symbol = games.json.data[0].game_symbol as string;
    const body = { user_code: user, provider_id: 'aurora', game_symbol, lang: 'en', return_url: 'https://casino.example/', win_ratio: 0 };

    const url = await api(vendor, '/v4/game/game-url', body);
    expect(url.json).toEqual({ code: 0, message: 'OK', data: { game_url: expect.stringMatching(new RegExp(`^${vendor.url}/play/[A-Za-z0-9_-]{16,}$`)) } });
    expect((await api(vendor, '/v4/game/game-url', body)).json.data.game_url).not.toBe(url.json.data.game_url);
    expect((await api(vendor, '/v4/game/game-url', { ...body, win_ratio: 94.5 })).json.code).toBe(0);

    expect((await api(vendor, '/v4/game/game-url', { ...body, user_code: 'u424242' })).json).toEqual({ code: 2002, message: 'USER_NOT_FOUND', data: null });
    expect((await api(vendor, '/v4/game/game-url', { ...body, game_symbol: 'no-such-game' })).json).toEqual({ code: 2003, message: 'GAME_NOT_FOUND', data: null });
    expect((await api(vendor, '/v4/game/game-url', { ...body, provider_id: 'no-such-studio' })).json.code).toBe(2003);
    for (const wrong of [{ win_ratio: '0' }, { win_ratio: -1 }, { win_ratio: 99 }, { user_code: 5 }, { return_url: undefined }, { lang: undefined }, { game_symbol: null }]) {
      expect((await api(vendor, '/v4/game/game-url', { ...body, ...wrong })).json.code, JSON.stringify(wrong)).toBe(1002);
    }
  });
});

describe('game URLs', () => {
  it('first use starts a session (HTTP 200); a reused URL answers 410; an unknown one 404', async () => {
    const url = await commandGameUrl(vendor, 'player_one');
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/text\/html/);
    await first.text();
    const again = await fetch(url);
    expect(again.status).toBe(410);
    await again.text();
    await expect(vendor.open(url)).rejects.toThrow(LinkGone);
    const unknown = await fetch(`${vendor.url}/play/AAAAAAAAAAAAAAAAAAAAAAAA`);
    expect(unknown.status).toBe(404);
    await unknown.text();

    // The session it started could not reach the casino, so it ended at its first call.
    await vendor.idle();
    const report = vendor.reports.at(-1)!;
    expect(report).toMatchObject({ provider: 'scorpio-play', player: 'player_one', currency: 'USD', ended: 'failed', rounds: 0, change: 0n });
    expect(vendor.journal.attempts.filter((a) => a.session === report.id).map((a) => [a.call, a.reply])).toEqual([['authenticate', 'network']]);
  });

  it('open() redeems the URL and resolves with the report when the session ends; the URL is then spent', async () => {
    const url = await commandGameUrl(vendor, 'player_two');
    const report = await vendor.open(url, { rounds: 3 });
    expect(report).toMatchObject({ player: 'player_two', ended: 'failed', calls: 1 });
    await expect(vendor.open(url)).rejects.toMatchObject({ reason: 'used' });
    const res = await fetch(url);
    expect(res.status).toBe(410);
    await res.text();
  });

  it('a URL older than its validity answers 410 and cannot be opened', async () => {
    const shortLived = await startCommandVendor({ id: 'slotcity', currency: 'EUR', apiToken: TOKEN, callbackUrl: NOWHERE, callbackToken: 'unused-callback-token', linkTtlMs: 100 });
    try {
      const [a, b] = [await commandGameUrl(shortLived, 'late_one'), await commandGameUrl(shortLived, 'late_two')];
      await new Promise((resolve) => setTimeout(resolve, 150));
      const res = await fetch(a);
      expect(res.status).toBe(410);
      await res.text();
      await expect(shortLived.open(b)).rejects.toMatchObject({ reason: 'expired' });
      expect(shortLived.reports).toEqual([]);
    } finally {
      await shortLived.close();
    }
  });
});

describe('controls', () => {
  it('maintenance: every call answers 1 UNDER_MAINTENANCE until it is switched off', async () => {
    vendor.controls.maintenance = true;
    expect((await api(vendor, '/v4/game/providers', { lang: 'en' })).json).toEqual({ code: 1, message: 'UNDER_MAINTENANCE', data: null });
    expect((await api(vendor, '/v4/user/create', { name: 'during_maintenance' })).json.code).toBe(1);
    vendor.controls.maintenance = false;
    expect((await api(vendor, '/v4/game/providers', { lang: 'en' })).json.code).toBe(0);
  });

  it('IP block: every call answers 1020 IP_NOT_ALLOWED', async () => {
    vendor.controls.ipBlocked = true;
    expect((await api(vendor, '/v4/user/info', { user_code: 'u1' })).json).toEqual({ code: 1020, message: 'IP_NOT_ALLOWED', data: null });
    vendor.controls.ipBlocked = false;
    expect((await api(vendor, '/v4/user/info', { user_code: 'u1' })).json.code).toBe(0);
  });

  it('the next N calls answer HTTP 500, then the API answers again', async () => {
    vendor.controls.failNext = 2;
    expect((await api(vendor, '/v4/game/providers', { lang: 'en' })).status).toBe(500);
    expect((await api(vendor, '/v4/user/create', { name: 'after_500' })).status).toBe(500);
    expect(await api(vendor, '/v4/game/providers', { lang: 'en' })).toMatchObject({ status: 200, json: { code: 0 } });
    expect(vendor.controls.failNext).toBe(0);
  });

  it('an answer delay makes a client with a shorter timeout give up', async () => {
    vendor.controls.delayMs = 400;
    const started = Date.now();
    await expect(api(vendor, '/v4/game/providers', { lang: 'en' }, TOKEN, 150)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(400);
    const slow = await api(vendor, '/v4/game/providers', { lang: 'en' }, TOKEN, 2000);
    expect(slow.json.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('a currency the vendor refuses: user/create and game-url answer 2014 for an account in it', async () => {
    const user = (await api(vendor, '/v4/user/create', { name: 'before_refusal' })).json.data.user_code as string;
    vendor.controls.refusedCurrency = 'USD';
    expect((await api(vendor, '/v4/user/create', { name: 'refused_one' })).json).toEqual({ code: 2014, message: 'CURRENCY_NOT_SUPPORTED', data: null });
    const body = { user_code: user, provider_id: 'aurora', game_symbol: 'aurora-gems', lang: 'en', return_url: '', win_ratio: 0 };
    expect((await api(vendor, '/v4/game/game-url', body)).json.code).toBe(2014);
    vendor.controls.refusedCurrency = 'KRW';
    expect((await api(vendor, '/v4/game/game-url', body)).json.code).toBe(0);
  });
});

describe('concurrency', () => {
  it('past 50 calls in flight at once, the others answer 1018 SERVER_IS_BUSY; the limit is configurable', async () => {
    vendor.resetStats();
    vendor.controls.delayMs = 400;
    const burst = async (n: number) => {
      const replies = await Promise.all(Array.from({ length: n }, () => api(vendor, '/v4/game/providers', { lang: 'en' })));
      return replies.map((r) => r.json.code as number);
    };
    const codes = await burst(60);
    expect(codes.filter((c) => c === 1018)).toHaveLength(10);
    expect(codes.filter((c) => c === 0)).toHaveLength(50);
    expect(vendor.stats.maxInFlight).toBe(60);
    expect(vendor.stats.answers).toMatchObject({ '0': 50, '1018': 10 });

    vendor.controls.concurrencyLimit = 5;
    const few = await burst(8);
    expect(few.filter((c) => c === 1018)).toHaveLength(3);
    expect(few.filter((c) => c === 0)).toHaveLength(5);
    expect(vendor.stats.inFlight).toBe(0);
    expect((await api(vendor, '/v4/user/create', { name: 'busy_answer' })).json).toEqual({ code: 0, message: 'OK', data: { user_code: expect.any(String) } });
    expect((await burst(1))[0]).toBe(0);
  });

  it('stats count the calls per route', async () => {
    vendor.resetStats();
    await api(vendor, '/v4/game/providers', { lang: 'en' });
    await api(vendor, '/v4/game/providers', { lang: 'en' });
    await api(vendor, '/v4/user/info', { user_code: 'nobody' });
    await api(vendor, '/v4/user/info', {}, null);
    expect(vendor.stats.calls).toEqual({ '/v4/game/providers': 2, '/v4/user/info': 2 });
    expect(vendor.stats.answers).toEqual({ '0': 2, '2002': 1, '401': 1 });
    expect(vendor.stats.maxInFlight).toBe(1);
  });
});

describe('the transaction APIs', () => {
  it('validate their windows and limits; an unknown round is 2013', async () => {
    expect((await api(vendor, '/v4/game/transaction-id', { last_id: 0, limit: 10 })).json).toEqual({ code: 0, message: 'OK', data: [] });
    expect((await api(vendor, '/v4/game/transaction-id', { last_id: 0, limit: 2001 })).json.code).toBe(1002);
    const within = { start_time: '2026-03-01 11:00:00', end_time: '2026-03-01 12:00:00', offset: 0, limit: 100 };
    expect((await api(vendor, '/v4/game/transaction', within)).json).toEqual({ code: 0, message: 'OK', data: { total: 0, offset: 0, count: 0, list: [] } });
    expect((await api(vendor, '/v4/game/transaction', { ...within, end_time: '2026-03-01 12:00:01' })).json.code).toBe(1002);
    expect((await api(vendor, '/v4/game/transaction', { ...within, start_time: '2026-03-01' })).json.code).toBe(1002);
    const user = (await api(vendor, '/v4/user/create', { name: 'rounds_user' })).json.data.user_code as string;
    expect((await api(vendor, '/v4/game/round-details', { user_code: user, round_id: 'r1', provider_id: 'aurora', game_code: 'aurora-gems' })).json).toEqual({
      code: 2013,
      message: 'ROUND_NOT_FOUND',
      data: null,
    });
  });
});
