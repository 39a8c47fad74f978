import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { SteadyMutex, SteadySemaphore } from '../../src/locks/steady.ts';

/**
 * A held lock whose Redis goes away: redis-semaphore's refresh timer then fails. With the library's
 * own classes that failure is an unhandled rejection (the process ends; vitest fails the run); the
 * steady ones report the lock lost and carry on.
 */
describe('a held lock when Redis goes away', () => {
  for (const [kind, make] of [
    ['mutex', (r: Redis, key: string, onLockLost: () => void) => new SteadyMutex(r, key, { lockTimeout: 200, onLockLost })],
    ['semaphore', (r: Redis, key: string, onLockLost: () => void) => new SteadySemaphore(r, key, 2, { lockTimeout: 200, onLockLost })],
  ] as const) {
    it(`${kind}: is reported lost, and nothing is left unhandled`, async () => {
      const redis = new Redis('redis://127.0.0.1:6379', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
      await redis.connect();
      const key = `croupier_t_steady_${randomBytes(4).toString('hex')}`;
      let lost = 0;
      const lock = make(redis, key, () => void lost++);
      await lock.acquire();
      redis.disconnect();
      // Refreshes run every 160 ms (0.8 of the TTL): several fail while we wait.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(lost).toBe(1);
      expect(lock.isAcquired).toBe(false);
    });
  }
});
