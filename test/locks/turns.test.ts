import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Audit } from '../../src/operators/audit.ts';
import { Operators, type SessionPolicy } from '../../src/operators/operators.ts';
import { SharedTurns } from '../../src/operators/turns.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/**
 * The sign-in brake across gateway processes: two Operators on one database, each with its own Redis
 * client, stand for two processes. Sign-ins of one name or address take turns in Redis, so the brake
 * counts every failure before an attempt, whichever process made it.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const POLICY: SessionPolicy = { idleMs: 60_000, absoluteMs: 3_600_000, maxFailuresPerName: 3, maxFailuresPerAddress: 100, brakeWindowMs: 900_000 };
const PASSWORD = 'turns-password-long-enough';

let t: TestDatabase;
const clients: Redis[] = [];
const prefix = `croupier-turns-test-${randomBytes(4).toString('hex')}:`;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await t.drop();
});

/** A gateway process's Operators: its own Redis client, connected (or one that reaches no Redis). */
async function gatewayProcess(redisUrl = REDIS_URL, waitMs?: number): Promise<Operators> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', () => {});
  clients.push(redis);
  if (redisUrl === REDIS_URL) await redis.connect();
  return new Operators(t.db, new Audit(t.db), POLICY, new SharedTurns(redis, { prefix, ...(waitMs === undefined ? {} : { waitMs }) }));
}

async function addOperator(name: string): Promise<void> {
  const added = await (await gatewayProcess()).add({ name: 'test', via: 'cli' }, name, 'viewer', PASSWORD);
  expect(added.ok).toBe(true);
}

async function reasons(name: string): Promise<string[]> {
  const rows = await t.db.selectFrom('audit_events').select('detail').where('action', '=', 'sign_in').where('actor', '=', name).orderBy('id').execute();
  return rows.map((r) => (r.detail as { reason?: string } | null)?.reason ?? 'ok');
}

describe('sign-in turns shared by gateway processes', () => {
  it('a burst of guesses split across two processes gets no more tries than guesses sent in turn', async () => {
    await addOperator('burst-two');
    const [a, b] = [await gatewayProcess(), await gatewayProcess()];
    const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).signIn('burst-two', `burst-guess-${i}-long`, { ip: '203.0.113.7' })));
    expect(guesses.filter((g) => !g.ok && g.reason === 'bad_credentials')).toHaveLength(POLICY.maxFailuresPerName);
    expect(guesses.filter((g) => !g.ok && g.reason === 'braked')).toHaveLength(12 - POLICY.maxFailuresPerName);
    expect((await reasons('burst-two')).filter((r) => r === 'wrong_password')).toHaveLength(POLICY.maxFailuresPerName);
    // The right password is braked too, in either process, until the window passes.
    expect(await b.signIn('burst-two', PASSWORD, { ip: '198.51.100.1' })).toEqual({ ok: false, reason: 'braked' });
  });

  it('a sign-in that cannot have its turn in time is refused as braked, and audited as busy', async () => {
    await addOperator('held-name');
    const holder = new Redis(REDIS_URL);
    clients.push(holder);
    // Another process holds the name's turn (redis-semaphore keeps a mutex at mutex:<key>) past the wait.
    await holder.set(`mutex:${prefix}turn:name:held-name`, 'another-process', 'PX', 10_000);
    const slow = await gatewayProcess(REDIS_URL, 200);
    expect(await slow.signIn('held-name', PASSWORD, { ip: '203.0.113.8' })).toEqual({ ok: false, reason: 'braked' });
    expect(await reasons('held-name')).toEqual(['busy']);
    await holder.del(`mutex:${prefix}turn:name:held-name`);
    expect((await slow.signIn('held-name', PASSWORD, { ip: '203.0.113.8' })).ok).toBe(true);
  });

  it('with Redis away, sign-in still works and a burst is still braked within the process', async () => {
    await addOperator('no-redis');
    const alone = await gatewayProcess('redis://127.0.0.1:1');
    expect((await alone.signIn('no-redis', PASSWORD, { ip: '203.0.113.9' })).ok).toBe(true);
    const guesses = await Promise.all(Array.from({ length: 8 }, (_, i) => alone.signIn('no-redis', `no-redis-guess-${i}-long`, { ip: '203.0.113.9' })));
    expect(guesses.filter((g) => !g.ok && g.reason === 'bad_credentials')).toHaveLength(POLICY.maxFailuresPerName);
  });
});
