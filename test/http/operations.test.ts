import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../providers/index.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/logging.ts';
import { createGateway } from '../../src/service.ts';
import * as command from '../command/helpers.ts';
import { createTestDatabase } from '../support/db.ts';
import { deleteRedisKeys, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { eventually, holdWallet, startFaultyGateway } from '../webhooks/helpers.ts';

/** Operations: Prometheus metrics, readiness, graceful shutdown, and no board token in the logs. */

const SCORPIO = 'scorpio-play';

/** One sample of a metric with exactly these labels (in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describe('/metrics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startFaultyGateway();
    await gw.fund('m1', { USD: '10' });
  });
  afterAll(() => gw?.close());

  it('counts callbacks by provider, operation and outcome, times them, and shows lock waits, queues and failures', async () => {
    // A win pays only on a round that holds a stake: the wins land on a round m1 bet on.
    const round = 'r-m1';
    await command.expectAnswer(gw, SCORPIO, command.bet('m1', command.transId(), 1, { round }), command.ok('9'));
    await command.expectAnswer(gw, SCORPIO, command.win('m1', command.transId(), 1, { round }), command.ok('10'));
    await command.expectAnswer(gw, SCORPIO, command.win('m1', command.transId(), 1, { round }), command.ok('11'));
    await command.expectAnswer(gw, SCORPIO, command.bet('m1', command.transId(), 100), command.withBalance(31, '11'));
    await command.expectAnswer(gw, SCORPIO, '{', command.bare(99));
    const release = await holdWallet(gw, 'm1', 'USD');
    // Wallet faults: the 99 carries the balance, read without the lock.
    await command.expectAnswer(gw, SCORPIO, command.win('m1', command.transId(), 1, { round }), command.withBalance(99, '11'));
    await command.expectAnswer(gw, SCORPIO, command.bet('m1', command.transId(), 1), command.withBalance(99, '11'));
    await release();

    const res = await fetch(`${gw.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    const calls = (operation: string, outcome: string) => sample(text, 'croupier_callbacks_total', { provider: SCORPIO, operation, outcome });
    expect(calls('credit', 'ok')).toBe(2);
    expect(calls('debit', 'ok')).toBe(1);
    expect(calls('debit', 'refused')).toBe(1);
    expect(calls('none', 'rejected')).toBe(1);
    expect(calls('credit', 'fault')).toBe(1);
    expect(calls('debit', 'fault')).toBe(1);

    const credit = { provider: SCORPIO, operation: 'credit' };
    expect(sample(text, 'croupier_callback_duration_seconds_count', credit)).toBe(3);
    expect(sample(text, 'croupier_callback_duration_seconds_bucket', { ...credit, le: '+Inf' })).toBe(3);
    // The faulted win waited 300 ms for the row lock: over 0.25 s, under 2 s.
    expect(sample(text, 'croupier_callback_duration_seconds_bucket', { ...credit, le: '0.25' })).toBeLessThanOrEqual(2);
    expect(sample(text, 'croupier_callback_duration_seconds_bucket', { ...credit, le: '2' })).toBe(3);
    const seconds = sample(text, 'croupier_callback_duration_seconds_sum', credit)!;
    expect(seconds).toBeGreaterThan(0.3);
    expect(seconds).toBeLessThan(3);

    // The calls of m1 alone needed no Redis lock; the two that found its row held elsewhere queued in Redis for it.
    expect(sample(text, 'croupier_player_lock_wait_seconds_count', { result: 'uncontended' })).toBe(4);
    expect(sample(text, 'croupier_player_lock_wait_seconds_count', { result: 'acquired' })).toBe(2);
    expect(sample(text, 'croupier_player_lock_wait_seconds_sum', { result: 'acquired' })).toBeLessThan(1);
    expect(sample(text, 'croupier_queue_jobs', { queue: 'retries', state: 'waiting' })).toBe(1);
    expect(sample(text, 'croupier_queue_jobs', { queue: 'history', state: 'waiting' })).toBe(0);
    // The parked win waits for a retry; the faulted bet owes nothing (never taken later) and waits for nothing.
    expect(sample(text, 'croupier_failed_webhooks')).toBe(1);
    expect(sample(text, 'croupier_process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});

describe('/readyz and graceful shutdown', () => {
  it('is ready normally; once close() starts it says 503, finishes the request in flight, refuses new connections and resolves', async () => {
    const gw = await startTestGateway({ DB_LOCK_TIMEOUT_MS: '5000', LOCK_WAIT_MS: '5000', SHUTDOWN_TIMEOUT_MS: '8000' });
    let probe: Server | undefined;
    try {
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', postgres: 'ok', redis: 'ok' });
      await gw.fund('sd', { USD: '10' });

      // A bet that is waiting on the wallet row when the shutdown begins.
      const release = await holdWallet(gw, 'sd', 'USD');
      const inFlight = gw.callback(SCORPIO, command.bet('sd', command.transId(), 4));
      const admin = new pg.Client({ connectionString: gw.database.url });
      await admin.connect();
      await eventually(async () => {
        const { rows } = await admin.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        expect(rows[0].n).toBe(1);
      });
      await admin.end();

      const started = Date.now();
      const closing = gw.gateway.close();
      // The same app behind another listener: what a load balancer's probe sees while this one drains.
      probe = createServer(gw.gateway.app);
      await new Promise<void>((resolve) => probe!.listen(0, '127.0.0.1', resolve));
      const stopping = await fetch(`http://127.0.0.1:${(probe.address() as AddressInfo).port}/readyz`);
      expect(stopping.status).toBe(503);
      expect(await stopping.json()).toEqual({ status: 'stopping' });
      await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();

      await release();
      const answered = await inFlight;
      expect(answered.text).toBe(command.ok('6'));
      await closing;
      // Not held up by the idle keep-alive connection the answer left behind (5 s), nor by the deadline.
      expect(Date.now() - started).toBeLessThan(3000);
      await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
    } finally {
      probe?.close();
      await gw.database.drop();
      await deleteRedisKeys(gw.config.redis.url, `${gw.config.redis.prefix}:*`);
    }
  });
});

describe('logs', () => {
  it('never carry the board token given as ?token=', async () => {
    const database = await createTestDatabase();
    const lines: string[] = [];
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', SEED_DEMO: 'false', DATABASE_URL: database.url, REDIS_PREFIX: `croupier_t_logs_${process.pid}` }, dialects);
    const gateway = createGateway(config, createLogger('info', { write: (line: string) => void lines.push(line) }));
    try {
      const server = await gateway.listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { SignJWT } = await import('jose');
      const token = await new SignJWT({ role: 'operator' }).setProtectedHeader({ alg: 'HS256' }).setSubject('ops').setExpirationTime('5m').sign(new TextEncoder().encode(config.adminJwtSecret.reveal()));
      expect((await fetch(`${url}/admin/queues?token=${token}`, { redirect: 'manual' })).status).toBe(303);
      expect((await fetch(`${url}/admin/queues?page=2&token=${token.slice(0, -2)}xx`, { redirect: 'manual' })).status).toBe(401);
      const logged = lines.join('');
      expect(logged).toContain('/admin/queues?token=[redacted]');
      expect(logged).toContain('page=2&token=[redacted]');
      expect(logged).not.toContain(token.split('.')[2]!.slice(0, 20));
    } finally {
      await gateway.close();
      await database.drop();
      await deleteRedisKeys(config.redis.url, `${config.redis.prefix}:*`);
    }
  });
});
