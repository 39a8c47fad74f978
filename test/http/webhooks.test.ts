import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as command from '../command/helpers.ts';
import * as ev from '../event/helpers.ts';
import { TOKENS, type TestGateway } from '../support/gateway.ts';
import { holdWallet, startFaultyGateway, vendorRowOf } from '../webhooks/helpers.ts';

/** /v1/webhooks (search, show, replay one or in bulk, import) and the Bull Board at /admin/queues, over HTTP with the JWT. */

let gw: TestGateway;
let token: string;
const SCORPIO = 'scorpio-play';

interface Reply {
  status: number;
  json: any;
  headers: Headers;
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    redirect: 'manual',
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

const list = async (query: string) => {
  const res = await api('GET', `/v1/webhooks?${query}`);
  expect(res.status, query).toBe(200);
  return res.json as { items: any[]; next: string | null };
};

const win = command.transId();
const dupWin = command.transId();
const parkedWin = command.transId();
/** A win pays only on a round that holds a stake: wh's wins all land on this round, which it bets on first. */
const ROUND = 'r-wh';
let started: Date;

beforeAll(async () => {
  gw = await startFaultyGateway();
  token = await gw.adminToken();
  await gw.fund('wh', { USD: '100' });
  await gw.fund('wh_other', { USD: '100' });
  started = new Date();
  await command.expectAnswer(gw, SCORPIO, command.bet('wh', command.transId(), 10, { round: ROUND }), command.ok('90'));
  await command.expectAnswer(gw, SCORPIO, command.win('wh', win, 1, { round: ROUND }), command.ok('91'));
  await command.expectAnswer(gw, SCORPIO, command.win('wh', dupWin, 2, { round: ROUND }), command.ok('93'));
  await command.expectAnswer(gw, SCORPIO, command.win('wh', dupWin, 2, { round: ROUND }), command.withBalance(41, '93'));
  await command.expectAnswer(gw, SCORPIO, command.bet('wh_other', command.transId(), 1000), command.withBalance(31, '100'));
  // Not JSON: no player known, a bare 99.
  await command.expectAnswer(gw, SCORPIO, Buffer.from([0xff, 0xfe, 0x00, 0x7b]), command.bare(99));
  // The wallet row held elsewhere: a fault, whose 99 still carries the balance (read without the lock).
  const release = await holdWallet(gw, 'wh', 'USD');
  await command.expectAnswer(gw, SCORPIO, command.win('wh', parkedWin, 5, { round: ROUND }), command.withBalance(99, '93'));
  await release();
  await ev.expectEvent(gw, ev.event('login', 'wh'), 'R0', 93);
});
afterAll(() => gw?.close());

describe('GET /v1/webhooks', () => {
  it('needs the JWT, as the rest of /v1', async () => {
    for (const [method, path] of [
      ['GET', '/v1/webhooks'],
      ['GET', '/v1/webhooks/1'],
      ['POST', '/v1/webhooks/1/replay'],
      ['POST', '/v1/webhooks/replay'],
      ['POST', `/v1/webhooks/import?provider=${SCORPIO}`],
    ] as const) {
      const res = await fetch(`${gw.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(((await res.json()) as any).error.code).toBe('unauthorized');
    }
  });

  it('lists webhooks newest first in the documented shape, secrets redacted', async () => {
    const page = await list(`provider=${SCORPIO}&player=wh&transactionId=${win}`);
    expect(page.next).toBeNull();
    expect(page.items).toHaveLength(1);
    const item = page.items[0];
    expect(item).toEqual({
      id: expect.stringMatching(/^\d+$/),
      provider: SCORPIO,
      receivedAt: expect.any(String),
      source: 'vendor',
      player: 'wh',
      transactionId: String(win),
      operation: expect.objectContaining({ op: 'credit', txId: String(win), amount: '100', player: 'wh', currency: 'USD' }),
      outcome: 'ok',
      detail: null,
      answer: command.ok('91'),
      durationMs: expect.any(Number),
      replayOf: null,
      resolvedAt: null,
      resolvedBy: null,
      headers: expect.objectContaining({ 'callback-token': '[redacted]', 'content-type': 'application/json' }),
      body: expect.stringContaining(`"trans_id":${win}`),
      bodyEncoding: 'utf8',
      path: '',
      plaintext: false,
      payload: expect.objectContaining({ command: 'win', data: expect.objectContaining({ account: 'wh', amount: 1 }) }),
    });
    expect(new Date(item.receivedAt).getTime()).toBeGreaterThanOrEqual(started.getTime());
    expect(JSON.stringify(item)).not.toContain(TOKENS[SCORPIO]);

    const all = await list(`provider=${SCORPIO}`);
    const ids = all.items.map((i) => BigInt(i.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    expect(all.items.map((i) => i.outcome)).toEqual(['parked', 'rejected', 'refused', 'duplicate', 'ok', 'ok', 'ok']);
  });

  it('shows a body that is not UTF-8 as base64', async () => {
    const [rejected] = (await list(`provider=${SCORPIO}&outcome=rejected`)).items;
    expect(rejected).toMatchObject({ bodyEncoding: 'base64', body: Buffer.from([0xff, 0xfe, 0x00, 0x7b]).toString('base64'), payload: null, operation: null });
  });

  it('filters by outcome (a comma list), failed, player and time window', async () => {
    expect((await list(`outcome=duplicate,refused`)).items.map((i) => [i.outcome, i.player])).toEqual([
      ['refused', 'wh_other'],
      ['duplicate', 'wh'],
    ]);
    expect((await list('failed=true')).items.map((i) => [i.transactionId, i.outcome])).toEqual([[String(parkedWin), 'parked']]);
    expect((await list('player=wh')).items.map((i) => i.provider)).toEqual([ev.DOWINN.id, SCORPIO, SCORPIO, SCORPIO, SCORPIO, SCORPIO]);
    expect((await list(`provider=${ev.DOWINN.id}`)).items.map((i) => (i.operation as any).op)).toEqual(['session']);
    const later = new Date(Date.now() + 60_000).toISOString();
    expect((await list(`since=${encodeURIComponent(later)}`)).items).toEqual([]);
    expect((await list(`until=${encodeURIComponent(started.toISOString())}`)).items).toEqual([]);
    const day = started.toISOString().slice(0, 10);
    expect((await list(`since=${day}&provider=${SCORPIO}`)).items).toHaveLength(7);
  });

  it('pages with limit and next/before', async () => {
    const first = await list(`provider=${SCORPIO}&limit=4`);
    expect(first.items).toHaveLength(4);
    expect(first.next).toBe(first.items[3].id);
    const second = await list(`provider=${SCORPIO}&limit=4&before=${first.next}`);
    expect(second.items.map((i) => i.outcome)).toEqual(['ok', 'ok', 'ok']);
    expect(second.next).toBeNull();
  });

  it('refuses bad filters with 400', async () => {
    for (const query of ['outcome=bogus', 'outcome=', 'failed=yes', 'since=yesterday', 'limit=0', 'limit=501', 'before=abc', `since=${encodeURIComponent(new Date().toISOString())}&until=2020-01-01`]) {
      const res = await api('GET', `/v1/webhooks?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe('invalid_request');
    }
  });
});

describe('GET /v1/webhooks/:id', () => {
  it('shows one webhook, 404 for an unknown id, 400 for a bad one', async () => {
    const row = await vendorRowOf(gw, parkedWin);
    const res = await api('GET', `/v1/webhooks/${row.id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: row.id.toString(), outcome: 'parked', answer: command.withBalance(99, '93'), detail: expect.stringMatching(/lock/) });
    expect((await api('GET', '/v1/webhooks/999999999')).json).toEqual({ error: { code: 'not_found', message: 'no webhook 999999999' } });
    expect((await api('GET', '/v1/webhooks/999999999')).status).toBe(404);
    expect((await api('GET', '/v1/webhooks/abc')).status).toBe(400);
  });
});

describe('POST /v1/webhooks/:id/replay', () => {
  it('applies a parked win once; a second replay is a duplicate', async () => {
    const row = await vendorRowOf(gw, parkedWin);
    const first = await api('POST', `/v1/webhooks/${row.id}/replay`);
    expect(first.status).toBe(200);
    expect(first.json).toEqual({
      webhookId: row.id.toString(),
      provider: SCORPIO,
      outcome: 'ok',
      replayId: expect.stringMatching(/^\d+$/),
      answer: command.ok('98'),
    });
    const second = await api('POST', `/v1/webhooks/${row.id}/replay`);
    expect(second.json).toMatchObject({ outcome: 'duplicate', answer: command.withBalance(41, '98') });
    expect(await command.wallet(gw, 'wh', 'USD')).toBe(9800n);
    const shown = await api('GET', `/v1/webhooks/${row.id}`);
    expect(shown.json).toMatchObject({ resolvedBy: first.json.replayId, resolvedAt: expect.any(String) });
    const replay = await api('GET', `/v1/webhooks/${first.json.replayId}`);
    expect(replay.json).toMatchObject({ source: 'replay', replayOf: row.id.toString(), outcome: 'ok' });
    expect((await list('failed=true')).items).toEqual([]);
  });

  it('answers 404 for an unknown webhook and 409 for one refused at the door', async () => {
    expect((await api('POST', '/v1/webhooks/999999999/replay')).status).toBe(404);
    const [rejected] = (await list('outcome=rejected')).items;
    const res = await api('POST', `/v1/webhooks/${rejected.id}/replay`);
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe('not_replayable');
  });
});

describe('POST /v1/webhooks/replay (bulk)', () => {
  it('replays a provider\'s failures in a window; the default is failures not yet settled', async () => {
    const late = command.transId();
    await command.expectAnswer(gw, SCORPIO, command.bet('wh_other', command.transId(), 1, { round: 'r-wh_other' }), command.ok('99'));
    const release = await holdWallet(gw, 'wh_other', 'USD');
    await command.expectAnswer(gw, SCORPIO, command.win('wh_other', late, 3, { round: 'r-wh_other' }), command.withBalance(99, '99'));
    await release();
    const window = { provider: SCORPIO, since: started.toISOString(), until: new Date(Date.now() + 1000).toISOString() };
    const res = await api('POST', '/v1/webhooks/replay', window);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ count: 1, outcomes: { ok: 1 }, results: [{ provider: SCORPIO, outcome: 'ok', answer: command.ok('102') }] });
    expect((await api('POST', '/v1/webhooks/replay', window)).json).toEqual({ count: 0, outcomes: {}, results: [] });
    const duplicates = await api('POST', '/v1/webhooks/replay', { ...window, outcomes: ['duplicate'] });
    // The vendor's repeat of a win, and the second replay of the parked win above.
    expect(duplicates.json).toMatchObject({ count: 2, outcomes: { duplicate: 2 } });
    expect(await command.wallet(gw, 'wh_other', 'USD')).toBe(10200n);
  });

  it('refuses an unknown provider with 404 and a bad body with 400', async () => {
    const window = { since: '2026-01-01', until: '2027-01-01' };
    const unknown = await api('POST', '/v1/webhooks/replay', { ...window, provider: 'nobody' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('unknown_provider');
    for (const body of [{ provider: SCORPIO }, { ...window }, { ...window, provider: SCORPIO, outcomes: ['nope'] }, { provider: SCORPIO, since: '2027-01-01', until: '2026-01-01' }, '{']) {
      const res = await api('POST', '/v1/webhooks/replay', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('POST /v1/webhooks/import', () => {
  it('takes a JSON array or JSON lines, applies each notification once, and a second import changes nothing', async () => {
    const a = command.transId();
    const b = command.transId();
    const entries = [{ body: JSON.stringify(command.win('wh', a, 0.5, { round: ROUND })) }, { payload: command.win('wh', b, 0.25, { round: ROUND }) }];
    const first = await api('POST', `/v1/webhooks/import?provider=${SCORPIO}`, JSON.stringify(entries));
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ count: 2, outcomes: { ok: 2 } });
    expect(await command.wallet(gw, 'wh', 'USD')).toBe(9875n);
    const lines = entries.map((e) => JSON.stringify(e)).join('\n');
    const again = await api('POST', `/v1/webhooks/import?provider=${SCORPIO}`, lines, { 'content-type': 'application/x-ndjson' });
    expect(again.json).toMatchObject({ count: 2, outcomes: { duplicate: 2 } });
    expect(await command.wallet(gw, 'wh', 'USD')).toBe(9875n);
    const imported = await list(`transactionId=${a}`);
    expect(imported.items.map((i) => [i.source, i.outcome, i.plaintext])).toEqual([
      ['import', 'duplicate', false],
      ['import', 'ok', false],
    ]);
    expect((await list(`transactionId=${b}`)).items.map((i) => [i.source, i.outcome, i.plaintext])).toEqual([
      ['import', 'duplicate', true],
      ['import', 'ok', true],
    ]);
  });

  it('takes a file larger than BODY_LIMIT', async () => {
    const entries = Array.from({ length: 3 }, () => JSON.stringify({ payload: { ...command.balance('wh'), pad: 'x'.repeat(40_000) } }));
    const body = entries.join('\n');
    expect(body.length).toBeGreaterThan(64 * 1024);
    const res = await api('POST', `/v1/webhooks/import?provider=${SCORPIO}`, body);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ count: 3, outcomes: { ok: 3 } });
    const tooLarge = await api('POST', `/v1/webhooks/import?provider=${SCORPIO}`, 'x'.repeat(11 * 1024 * 1024));
    expect(tooLarge.status).toBe(413);
  });

  it('refuses a missing or unknown provider and a file that is not an export', async () => {
    const one = JSON.stringify({ payload: command.balance('wh') });
    expect((await api('POST', '/v1/webhooks/import', one)).status).toBe(400);
    const unknown = await api('POST', '/v1/webhooks/import?provider=nobody', one);
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('unknown_provider');
    for (const body of ['', '[]', '{"body": 1}', '{"other": {}}', '{"body": "x", "payload": {}}', '[{"body": "x"}', 'not json', `${one}\n{`]) {
      const res = await api('POST', `/v1/webhooks/import?provider=${SCORPIO}`, body);
      expect(res.status, body).toBe(400);
      expect(res.json.error.code).toBe('invalid_request');
    }
  });
});

describe('Bull Board at /admin/queues', () => {
  it('answers 401 without a token, or with a bad one', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues?token=not.a.jwt']) {
      const res = await fetch(`${gw.url}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(401);
    }
    expect((await fetch(`${gw.url}/admin/queues`, { headers: { cookie: 'croupier_board=forged' } })).status).toBe(401);
  });

  it('serves the board with the bearer token', async () => {
    const res = await api('GET', '/admin/queues');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.json).toContain('<base href="/admin/queues/"');
  });

  it('takes ?token= once, keeps it in an HttpOnly SameSite=Strict cookie scoped to the board, and drops it from the URL', async () => {
    const res = await fetch(`${gw.url}/admin/queues?token=${token}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/queues');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^croupier_board=[^;]+;/);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Path=\/admin\/queues(;|$)/);
    const pair = cookie.split(';')[0]!;
    const page = await fetch(`${gw.url}/admin/queues`, { headers: { cookie: pair } });
    expect(page.status).toBe(200);
    const apiCall = await fetch(`${gw.url}/admin/queues/api/queues?activeQueue=retries&status=latest&page=1&jobsPerPage=10`, { headers: { cookie: pair } });
    expect(apiCall.status).toBe(200);
  });

  it('takes a change made with its cookie only from its own pages: another site cannot retry or remove jobs', async () => {
    const pair = (await fetch(`${gw.url}/admin/queues?token=${token}`, { redirect: 'manual' })).headers.get('set-cookie')!.split(';')[0]!;
    const clean = (headers: Record<string, string>) => fetch(`${gw.url}/admin/queues/api/queues/maintenance/clean/completed`, { method: 'PUT', headers });
    const host = new URL(gw.url).host;
    for (const [why, headers] of [
      ['another origin', { origin: 'https://evil.example' }],
      ['a cross-site fetch', { 'sec-fetch-site': 'cross-site', origin: `http://${host}` }],
      ['a same-site page of another origin', { 'sec-fetch-site': 'same-site' }],
      ['no word from a browser', {}],
    ] as const) {
      const res = await clean({ cookie: pair, ...headers });
      expect(res.status, why).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
    expect((await clean({ cookie: pair, origin: `http://${host}` })).status).toBe(200);
    expect((await clean({ cookie: pair, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    // A bearer token is not sent by a browser on its own: no origin needed.
    expect((await clean({ authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it("lists a parked job through the board's API (the query string reaches it)", async () => {
    const parked = command.transId();
    const release = await holdWallet(gw, 'wh', 'USD');
    await command.expectAnswer(gw, SCORPIO, command.win('wh', parked, 1, { round: ROUND }), command.withBalance(99, '98.75'));
    await release();
    const res = await api('GET', '/admin/queues/api/queues?activeQueue=retries&status=waiting&page=1&jobsPerPage=50');
    expect(res.status).toBe(200);
    const queues = res.json.queues as { name: string; jobs: { name: string; data: any }[] }[];
    expect(queues.map((q) => q.name).sort()).toEqual(['history', 'maintenance', 'retries']);
    const retries = queues.find((q) => q.name === 'retries')!;
    expect(retries.jobs.map((j) => j.data.transactionId)).toContain(String(parked));
    expect(retries.jobs.find((j) => j.data.transactionId === String(parked))!.data.headers['callback-token']).toBe('[redacted]');
    // Another active queue: the retries queue's jobs are not loaded (the board read activeQueue).
    const other = await api('GET', '/admin/queues/api/queues?activeQueue=history&status=waiting&page=1&jobsPerPage=50');
    expect(other.json.queues.find((q: { name: string }) => q.name === 'retries').jobs).toEqual([]);
  });
});
