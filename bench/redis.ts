import { Redis } from 'ioredis';
import { REDIS_PREFIX, REDIS_URL } from './world.ts';

/**
 * Deletes the bench's own Redis keys (player locks, queues: prefix `croupier_bench`, or
 * `croupier_bench_scale` for the scale run's second gateway) left by an earlier run, so a run starts
 * with empty queues; keys of any other prefix are never touched.
 */
export async function clearBenchKeys(): Promise<number> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${REDIS_PREFIX}*:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
