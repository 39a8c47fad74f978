import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway;
let token: string;

beforeAll(async () => {
  gw = await startTestGateway();
  token = await gw.adminToken();
});
afterAll(() => gw.close());

interface Reply {
  status: number;
  text: string;
  json: any;
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const demoKey = () => new TextEncoder().encode(gw.config.adminJwtSecret.reveal());

async function create(code: string, currencies: string[] = ['USD']) {
  const res = await api('POST', '/v1/players', { code, currencies });
  expect(res.status).toBe(201);
  return res;
}

const deposit = (code: string, amount: string, reference: string, currency = 'USD') =>
  api('POST', `/v1/players/${code}/deposits`, { currency, amount, reference });
const withdraw = (code: string, amount: string, reference: string, currency = 'USD') =>
  api('POST', `/v1/players/${code}/withdrawals`, { currency, amount, reference });

describe('/v1 authentication', () => {
  const unauthorized = { error: { code: 'unauthorized', message: 'invalid or expired token' } };

  it('refuses a request without a token', async () => {
    const res = await fetch(`${gw.url}/v1/players/anyone`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'a Bearer token or a console session is required' } });
  });

  it('refuses a token signed with another secret', async () => {
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('intruder')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-characters!'));
    const res = await api('GET', '/v1/players/anyone', undefined, { authorization: `Bearer ${forged}` });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(unauthorized);
  });

  it('refuses an expired token signed with the right secret', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('operator')
      .setIssuedAt(now - 3600)
      .setExpirationTime(now - 60)
      .sign(demoKey());
    const res = await api('GET', '/v1/players/anyone', undefined, { authorization: `Bearer ${expired}` });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(unauthorized);
  });

  it('refuses a token signed with the right secret that lives longer than 366 days', async () => {
    const forever = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('ops').setExpirationTime('300000y').sign(demoKey());
    const res = await api('GET', '/v1/me', undefined, { authorization: `Bearer ${forever}` });
    expect(res.status).toBe(401);
    expect(res.json.error.message).toMatch(/longer than 366 days/);
    const year = await new SignJWT({ role: 'viewer' }).setProtectedHeader({ alg: 'HS256' }).setSubject('ops').setExpirationTime('365d').sign(demoKey());
    expect((await api('GET', '/v1/me', undefined, { authorization: `Bearer ${year}` })).status).toBe(200);
  });

  it('refuses an unsigned (alg none) token', async () => {
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'intruder', exp: Math.floor(Date.now() / 1000) + 600 })}.`;
    const res = await api('GET', '/v1/players/anyone', undefined, { authorization: `Bearer ${unsigned}` });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(unauthorized);
  });

  it('refuses RS256 tokens, whether signed by a private key or HMAC-signed with the secret under an RS256 header', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const rs256 = await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject('intruder').setExpirationTime('10m').sign(privateKey);
    const header = b64url({ alg: 'RS256', typ: 'JWT' });
    const payload = b64url({ sub: 'intruder', exp: Math.floor(Date.now() / 1000) + 600 });
    const { createHmac } = await import('node:crypto');
    const confused = `${header}.${payload}.${createHmac('sha256', gw.config.adminJwtSecret.reveal()).update(`${header}.${payload}`).digest('base64url')}`;
    for (const forged of [rs256, confused]) {
      const res = await api('GET', '/v1/players/anyone', undefined, { authorization: `Bearer ${forged}` });
      expect(res.status).toBe(401);
      expect(res.json).toEqual(unauthorized);
    }
  });

  it('refuses a token that is not a JWT at all, and a non-Bearer scheme', async () => {
    for (const authorization of ['Bearer not.a.jwt', 'Bearer x', `Basic ${Buffer.from('admin:admin').toString('base64')}`]) {
      const res = await api('GET', '/v1/players/anyone', undefined, { authorization });
      expect(res.status).toBe(401);
    }
  });

  it('refuses a write without a token before reading its body, and changes nothing', async () => {
    const res = await api('POST', '/v1/players', { code: 'sneaky', currencies: ['USD'] }, { authorization: '' });
    expect(res.status).toBe(401);
    expect((await api('GET', '/v1/players/sneaky')).status).toBe(404);
  });
});

describe('/v1 players', () => {
  it('creates a player with an empty wallet per currency, sorted by currency', async () => {
    const res = await create('p-create', ['USD', 'KRW', 'EUR']);
    expect(res.json).toEqual({
      code: 'p-create',
      status: 'active',
      wallets: [
        { currency: 'EUR', balance: '0' },
        { currency: 'KRW', balance: '0' },
        { currency: 'USD', balance: '0' },
      ],
    });
  });

  it('refuses a duplicate player with 409', async () => {
    await create('p-dup');
    const res = await api('POST', '/v1/players', { code: 'p-dup', currencies: ['EUR'] });
    expect(res.status).toBe(409);
    expect(res.json).toEqual({ error: { code: 'player_exists', message: 'player exists' } });
    expect((await api('GET', '/v1/players/p-dup')).json.wallets).toEqual([{ currency: 'USD', balance: '0' }]);
  });

  it('refuses an invalid body with 400 and a message naming the field', async () => {
    for (const [body, field] of [
      [{ code: 'p-bad', currencies: ['XYZ'] }, 'currencies'],
      [{ code: 'p-bad', currencies: [] }, 'currencies'],
      [{ code: '', currencies: ['USD'] }, 'code'],
      [{ currencies: ['USD'] }, 'code'],
      [{ code: 'x'.repeat(101), currencies: ['USD'] }, 'code'],
    ] as const) {
      const res = await api('POST', '/v1/players', body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('invalid_request');
      expect(res.json.error.message).toContain(field);
    }
    expect((await api('GET', '/v1/players/p-bad')).status).toBe(404);
  });

  it('shows a player', async () => {
    await create('p-show', ['EUR']);
    await deposit('p-show', '7.5', 'p-show-1', 'EUR');
    const res = await api('GET', '/v1/players/p-show');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ code: 'p-show', status: 'active', wallets: [{ currency: 'EUR', balance: '7.5' }] });
  });

  it('blocks and unblocks a player', async () => {
    await create('p-block');
    const blocked = await api('POST', '/v1/players/p-block/block');
    expect(blocked.status).toBe(200);
    expect(blocked.json.status).toBe('blocked');
    expect((await api('GET', '/v1/players/p-block')).json.status).toBe('blocked');
    const unblocked = await api('POST', '/v1/players/p-block/unblock');
    expect(unblocked.status).toBe(200);
    expect(unblocked.json.status).toBe('active');
    expect((await api('GET', '/v1/players/p-block')).json.status).toBe('active');
  });

  it('answers 404 for an unknown player on every route', async () => {
    const notFound = { error: { code: 'unknown_player', message: 'unknown player' } };
    for (const [method, path, body] of [
      ['GET', '/v1/players/ghost', undefined],
      ['POST', '/v1/players/ghost/block', undefined],
      ['POST', '/v1/players/ghost/unblock', undefined],
      ['POST', '/v1/players/ghost/deposits', { currency: 'USD', amount: '1', reference: 'ghost-1' }],
      ['POST', '/v1/players/ghost/withdrawals', { currency: 'USD', amount: '1', reference: 'ghost-2' }],
      ['GET', '/v1/players/ghost/balance', undefined],
      ['GET', '/v1/players/ghost/transactions', undefined],
    ] as const) {
      const res = await api(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json).toEqual(notFound);
    }
  });
});

describe('/v1 cashier', () => {
  it('deposits: 201 with the new balance as a decimal string', async () => {
    await create('c-dep');
    const res = await deposit('c-dep', '100.50', 'c-dep-1');
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ reference: 'c-dep-1', currency: 'USD', balance: '100.5', repeat: false });
    expect((await api('GET', '/v1/players/c-dep/balance')).json).toEqual([{ currency: 'USD', balance: '100.5' }]);
  });

  it('answers a repeated deposit with the same reference with 200, repeat true, and moves no money', async () => {
    await create('c-rep');
    expect((await deposit('c-rep', '10', 'c-rep-1')).status).toBe(201);
    const again = await deposit('c-rep', '10', 'c-rep-1');
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ reference: 'c-rep-1', currency: 'USD', balance: '10', repeat: true });
    expect((await api('GET', '/v1/players/c-rep/balance')).json).toEqual([{ currency: 'USD', balance: '10' }]);
    expect((await api('GET', '/v1/players/c-rep/transactions')).json.items).toHaveLength(1);
  });

  it('refuses the same reference with another amount, player or kind with 409, and moves no money', async () => {
    await create('c-conf');
    await create('c-conf-other');
    expect((await deposit('c-conf', '10', 'c-conf-1')).status).toBe(201);
    const conflict = { error: { code: 'conflict', message: 'conflict' } };
    for (const res of [
      await deposit('c-conf', '11', 'c-conf-1'),
      await deposit('c-conf-other', '10', 'c-conf-1'),
      await withdraw('c-conf', '10', 'c-conf-1'),
    ]) {
      expect(res.status).toBe(409);
      expect(res.json).toEqual(conflict);
    }
    expect((await api('GET', '/v1/players/c-conf/balance')).json).toEqual([{ currency: 'USD', balance: '10' }]);
    expect((await api('GET', '/v1/players/c-conf-other/balance')).json).toEqual([{ currency: 'USD', balance: '0' }]);
  });

  it('refuses a withdrawal above the balance with 422 and leaves the balance', async () => {
    await create('c-over');
    await deposit('c-over', '5.00', 'c-over-1');
    const res = await withdraw('c-over', '5.01', 'c-over-2');
    expect(res.status).toBe(422);
    expect(res.json).toEqual({ error: { code: 'insufficient_funds', message: 'insufficient funds' } });
    expect((await api('GET', '/v1/players/c-over/balance')).json).toEqual([{ currency: 'USD', balance: '5' }]);
  });

  it('withdraws down to exactly zero', async () => {
    await create('c-wd');
    await deposit('c-wd', '20', 'c-wd-1');
    const first = await withdraw('c-wd', '12.34', 'c-wd-2');
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ reference: 'c-wd-2', currency: 'USD', balance: '7.66', repeat: false });
    const rest = await withdraw('c-wd', '7.66', 'c-wd-3');
    expect(rest.json.balance).toBe('0');
  });

  it('refuses amounts that are over-precise, zero, negative or not decimals with 400, and moves no money', async () => {
    await create('c-amt', ['USD', 'KRW']);
    for (const [amount, currency] of [['1.001', 'USD'], ['0', 'USD'], ['0.00', 'USD'], ['-1', 'USD'], ['abc', 'USD'], ['0.5', 'KRW'], ['1e-3', 'USD']]) {
      const res = await deposit('c-amt', amount!, `c-amt-${amount}-${currency}`, currency);
      expect(res.status, `${amount} ${currency}`).toBe(400);
      expect(res.json.error.code).toBe('invalid_amount');
    }
    expect((await api('GET', '/v1/players/c-amt/transactions')).json.items).toEqual([]);
  });

  it('refuses a number where a decimal string is expected, and a missing reference', async () => {
    await create('c-shape');
    for (const body of [{ currency: 'USD', amount: 10, reference: 'c-shape-1' }, { currency: 'USD', amount: '10' }, { currency: 'US', amount: '1', reference: 'c-shape-2' }]) {
      const res = await api('POST', '/v1/players/c-shape/deposits', body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('invalid_request');
    }
    // A code in lower case is that currency, as in every other place a currency is asked for.
    const lower = await api('POST', '/v1/players/c-shape/deposits', { currency: 'usd', amount: '1', reference: 'c-shape-3' });
    expect(lower.status).toBe(201);
    expect(lower.json).toMatchObject({ currency: 'USD' });
  });

  it('refuses a currency the player has no wallet in with 422', async () => {
    await create('c-cur', ['USD']);
    const res = await deposit('c-cur', '1', 'c-cur-1', 'EUR');
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('currency_mismatch');
  });

  it('keeps currencies apart and exact to their minor units', async () => {
    await create('c-multi', ['USD', 'KRW', 'KWD']);
    await deposit('c-multi', '0.01', 'c-multi-1', 'USD');
    await deposit('c-multi', '1000000', 'c-multi-2', 'KRW');
    await deposit('c-multi', '1.234', 'c-multi-3', 'KWD');
    expect((await api('GET', '/v1/players/c-multi/balance')).json).toEqual([
      { currency: 'KRW', balance: '1000000' },
      { currency: 'KWD', balance: '1.234' },
      { currency: 'USD', balance: '0.01' },
    ]);
  });
});

describe('/v1 transaction history', () => {
  it('lists movements newest first with signed decimal amounts, and pages with next/before', async () => {
    await create('h-page', ['USD', 'EUR']);
    await deposit('h-page', '10.00', 'h-1');
    await deposit('h-page', '5.50', 'h-2', 'EUR');
    await withdraw('h-page', '3.25', 'h-3');
    await deposit('h-page', '10.00', 'h-1'); // a repeat: no new movement

    const all = await api('GET', '/v1/players/h-page/transactions');
    expect(all.status).toBe(200);
    expect(all.json.next).toBeNull();
    expect(all.json.items.map((i: any) => [i.kind, i.amount, i.currency, i.reference])).toEqual([
      ['withdrawal', '-3.25', 'USD', 'h-3'],
      ['deposit', '5.5', 'EUR', 'h-2'],
      ['deposit', '10', 'USD', 'h-1'],
    ]);
    const ids = all.json.items.map((i: any) => BigInt(i.id));
    expect(ids[0] > ids[1] && ids[1] > ids[2]).toBe(true);
    for (const item of all.json.items) {
      expect(item).toMatchObject({ provider: null, transactionId: null });
      expect(new Date(item.createdAt).toISOString()).toBe(item.createdAt);
    }

    const first = await api('GET', '/v1/players/h-page/transactions?limit=2');
    expect(first.json.items.map((i: any) => i.reference)).toEqual(['h-3', 'h-2']);
    expect(first.json.next).toBe(first.json.items[1].id);
    const second = await api('GET', `/v1/players/h-page/transactions?limit=2&before=${first.json.next}`);
    expect(second.json.items.map((i: any) => i.reference)).toEqual(['h-1']);
    expect(second.json.next).toBeNull();
  });

  it('answers an empty page for a player without movements', async () => {
    await create('h-empty');
    expect((await api('GET', '/v1/players/h-empty/transactions')).json).toEqual({ items: [], next: null });
  });

  it('refuses a bad limit or before with 400', async () => {
    await create('h-bad');
    for (const query of ['limit=0', 'limit=501', 'limit=abc', 'before=-1', 'before=abc']) {
      const res = await api('GET', `/v1/players/h-bad/transactions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error.code).toBe('invalid_request');
    }
  });
});

describe('errors and health', () => {
  it('answers a malformed JSON body on /v1 with a 400 JSON error, never a stack trace', async () => {
    await create('e-json');
    for (const body of ['{"code": ', '{not json}', '[1,2', '\u0000']) {
      const res = await api('POST', '/v1/players/e-json/deposits', body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe('bad_request');
      expect(res.text).not.toMatch(/\bat .+:\d+:\d+|SyntaxError|node_modules/);
    }
    expect((await api('GET', '/v1/players/e-json/balance')).json).toEqual([{ currency: 'USD', balance: '0' }]);
  });

  it('answers text holding a NUL character with a 400 JSON error, and keeps nothing', async () => {
    await create('e-nul');
    const refusals = [
      await api('GET', '/v1/players/%00'),
      await api('GET', '/v1/players/%00/balance'),
      await api('GET', '/v1/webhooks?player=%00'),
      await api('GET', '/v1/audit?actor=a%00b'),
      await api('POST', '/v1/players', { code: 'e\u0000nul', currencies: ['USD'] }),
      await api('POST', '/v1/players/%00/block'),
      await deposit('e-nul', '1.00', 'ref\u0000'),
    ];
    for (const res of refusals) expect([res.status, res.json.error.code]).toEqual([400, 'invalid_request']);
    expect((await api('GET', '/v1/players/e-nul/balance')).json).toEqual([{ currency: 'USD', balance: '0' }]);
  });

  it('answers a deposit past the largest balance the ledger holds with a 400, and moves nothing', async () => {
    // A currency of its own: the cashier's house account takes the other side of a deposit this large.
    await create('e-max', ['GBP']);
    expect((await deposit('e-max', '92233720368547750.00', 'e-max-1', 'GBP')).status).toBe(201);
    const past = await deposit('e-max', '10.00', 'e-max-2', 'GBP');
    expect([past.status, past.json.error.code]).toEqual([400, 'invalid_request']);
    expect((await api('GET', '/v1/players/e-max/balance')).json).toEqual([{ currency: 'GBP', balance: '92233720368547750' }]);
  });

  it('answers a body over the limit with a JSON error, not a crash', async () => {
    const res = await api('POST', '/v1/players', { code: 'e-big', currencies: ['USD'], pad: 'x'.repeat(200_000) });
    expect(res.status).toBe(413);
    expect(res.json.error).toBeDefined();
  });

  it('answers an unknown /v1 route with a 404 JSON error', async () => {
    const res = await api('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: { code: 'not_found', message: 'no such route' } });
  });

  it('reports /healthz ok when Postgres and Redis answer, without a token', async () => {
    const res = await fetch(`${gw.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"ok","postgres":"ok","redis":"ok"}');
  });

  it('leaves a reconciled ledger after everything above', async () => {
    expect(await gw.reconcile()).toEqual([]);
  });
});
