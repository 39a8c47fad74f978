import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { VendorCall } from '../../src/gateway/vendor-api.ts';
import { createLogger } from '../../src/logging.ts';
import { ProviderId } from '../../src/wallet/types.ts';
import { VendorHttp, type VendorCallObservation } from '../../src/vendors/transport.ts';
import { deleteRedisKeys } from '../support/gateway.ts';

/**
 * The transport every vendor client sends through, against a real HTTP peer whose behaviour each test
 * sets: timeouts, which failures are sent again (only where repeating is safe), and the cap on calls
 * in flight per vendor account, shared by every process through Redis.
 */

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `croupier_t_${randomBytes(4).toString('hex')}:`;
const SECRET_TOKEN = 'Bearer transport-test-secret-token';

type Behaviour = (n: number, req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

let server: Server;
let url: string;
let behaviour: Behaviour;
let received = 0;
let inFlight = 0;
let maxInFlight = 0;
const redisClients: Redis[] = [];
const logLines: string[] = [];

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = createServer(async (req, res) => {
    for await (const _ of req);
    const n = ++received;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await behaviour(n, req, res);
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  received = 0;
  maxInFlight = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  for (const r of redisClients) r.disconnect();
  await deleteRedisKeys(REDIS_URL, `${prefix}*`);
});

async function redis(target = REDIS_URL): Promise<Redis> {
  const client = new Redis(target, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  client.on('error', () => {});
  redisClients.push(client);
  await client.connect().catch(() => {});
  return client;
}

async function transport(options: { timeoutMs?: number; maxConcurrent?: number; retries?: number; redisClient?: Redis; provider?: string } = {}) {
  const observed: VendorCallObservation[] = [];
  const http = new VendorHttp({
    provider: ProviderId(options.provider ?? 'acme'),
    limits: { timeoutMs: options.timeoutMs ?? 1000, maxConcurrent: options.maxConcurrent ?? 50 },
    retries: options.retries ?? 2,
    redis: options.redisClient ?? (await redis()),
    prefix,
    log: createLogger('debug', { write: (line: string) => void logLines.push(line) }),
    observe: (o) => observed.push(o),
  });
  return { http, observed };
}

const call = (over: Partial<VendorCall> = {}): VendorCall => ({
  route: '/v4/test',
  url: `${url}/v4/test`,
  headers: { authorization: SECRET_TOKEN },
  body: '{"name":"alice"}',
  idempotent: true,
  ...over,
});

describe('answers', () => {
  it('hands back the status and the parsed body, 4xx included (the dialect maps them)', async () => {
    behaviour = (_n, req, res) => json(res, req.headers.authorization === SECRET_TOKEN ? 401 : 200, { code: 401, seen: req.headers['content-type'] });
    const { http, observed } = await transport();
    expect(await http.send(call())).toEqual({ ok: true, status: 401, body: { code: 401, seen: 'application/json' }, text: '{"code":401,"seen":"application/json"}' });
    expect(received).toBe(1);
    expect(observed).toMatchObject([{ provider: 'acme', route: '/v4/test', result: 'ok', attempts: 1 }]);
  });
});

describe('retries only where repeating is safe', () => {
  it('an idempotent call is sent again after a 5xx, and succeeds', async () => {
    behaviour = (n, _req, res) => (n < 3 ? json(res, 502, {}) : json(res, 200, { code: 0 }));
    const { http, observed } = await transport();
    expect(await http.send(call())).toEqual({ ok: true, status: 200, body: { code: 0 }, text: '{"code":0}' });
    expect(received).toBe(3);
    expect(observed[0]!.attempts).toBe(3);
  });

  it('gives up after the retries, as vendor_error', async () => {
    behaviour = (_n, _req, res) => json(res, 500, {});
    const { http } = await transport({ retries: 2 });
    expect(await http.send(call())).toMatchObject({ ok: false, error: 'vendor_error' });
    expect(received).toBe(3);
  });

  it('a call that is not idempotent is not sent again after a 5xx: the vendor may have acted on it', async () => {
    behaviour = (_n, _req, res) => json(res, 500, {});
    const { http } = await transport();
    expect(await http.send(call({ idempotent: false }))).toMatchObject({ ok: false, error: 'vendor_error' });
    expect(received).toBe(1);
  });

  it('no answer in time: an idempotent call is tried again, each attempt bounded by the timeout', async () => {
    behaviour = async (_n, _req, res) => {
      await pause(400);
      if (!res.destroyed) json(res, 200, { code: 0 });
    };
    const { http } = await transport({ timeoutMs: 150, retries: 1 });
    const started = performance.now();
    expect(await http.send(call())).toMatchObject({ ok: false, error: 'timeout' });
    expect(received).toBe(2);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('no answer in time: a call that is not idempotent is not repeated', async () => {
    behaviour = async (_n, _req, res) => {
      await pause(400);
      if (!res.destroyed) json(res, 200, { code: 0 });
    };
    const { http } = await transport({ timeoutMs: 150 });
    expect(await http.send(call({ idempotent: false }))).toMatchObject({ ok: false, error: 'timeout' });
    expect(received).toBe(1);
  });

  it('a dropped connection counts as ambiguous: not repeated for a call that is not idempotent', async () => {
    behaviour = (_n, req) => void req.socket.destroy();
    const { http } = await transport();
    expect(await http.send(call({ idempotent: false }))).toMatchObject({ ok: false, error: 'unreachable' });
    expect(received).toBe(1);
  });

  it('the vendor\'s "busy, not processed" answer is sent again even when the call is not idempotent', async () => {
    behaviour = (n, _req, res) => json(res, 200, { code: n < 3 ? 1018 : 0 });
    const { http } = await transport();
    const answer = await http.send(call({ idempotent: false, notProcessed: (_s, body) => (body as { code: number }).code === 1018 }));
    expect(answer).toEqual({ ok: true, status: 200, body: { code: 0 }, text: '{"code":0}' });
    expect(received).toBe(3);
  });

  it('a refused connection never reached the vendor: any call is tried again, then unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { http, observed } = await transport({ retries: 2 });
    expect(await http.send(call({ url: `http://127.0.0.1:${port}/v4/test`, idempotent: false }))).toMatchObject({ ok: false, error: 'unreachable' });
    expect(observed[0]).toMatchObject({ result: 'unreachable', attempts: 3 });
  });
});

describe('calls in flight per vendor account', () => {
  it('two processes (two Redis connections) together never have more than maxConcurrent calls at the vendor', async () => {
    behaviour = async (_n, _req, res) => {
      await pause(30);
      json(res, 200, { code: 0 });
    };
    // Each call may wait 5 s for its place: 40 calls through 5 places take a quarter of a second
    // alone, but a loaded CI machine polling Redis once failed one at the 1 s default.
    const a = await transport({ maxConcurrent: 5, provider: 'capped', timeoutMs: 5000 });
    const b = await transport({ maxConcurrent: 5, provider: 'capped', timeoutMs: 5000 });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).http.send(call())));
    expect(answers.every((x) => x.ok)).toBe(true);
    expect(received).toBe(40);
    expect(maxInFlight).toBe(5);
  });

  it('a call that cannot get a place in time is not sent: busy', async () => {
    behaviour = async (_n, _req, res) => {
      await pause(500);
      json(res, 200, { code: 0 });
    };
    const patient = await transport({ maxConcurrent: 1, timeoutMs: 2000, provider: 'narrow' });
    const hasty = await transport({ maxConcurrent: 1, timeoutMs: 150, provider: 'narrow' });
    const [first, second] = await Promise.all([
      patient.http.send(call({ idempotent: false })),
      pause(50).then(() => hasty.http.send(call({ idempotent: false }))),
    ]);
    expect(first).toMatchObject({ ok: true, status: 200 });
    expect(second).toMatchObject({ ok: false, error: 'busy' });
    expect(received).toBe(1);
  });

  it('with Redis unreachable the calls still go out (ungated)', async () => {
    behaviour = (_n, _req, res) => json(res, 200, { code: 0 });
    const down = await redis('redis://127.0.0.1:1');
    const { http } = await transport({ redisClient: down, maxConcurrent: 1 });
    const answers = await Promise.all([http.send(call()), http.send(call())]);
    expect(answers.every((x) => x.ok)).toBe(true);
    expect(received).toBe(2);
  });
});

describe('logs', () => {
  it('never carry the credentials a call sends', async () => {
    behaviour = (_n, _req, res) => json(res, 500, {});
    const { http } = await transport({ retries: 0 });
    await http.send(call());
    expect(logLines.some((l) => l.includes('vendor call failed'))).toBe(true);
    expect(logLines.join('\n')).not.toContain('transport-test-secret-token');
  });
});
