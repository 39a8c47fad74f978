import express from 'express';
import { sql } from 'kysely';
import type { Redis } from 'ioredis';
import type { Db } from '../ledger/database.ts';

const PROBE_TIMEOUT_MS = 1000;

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), PROBE_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** GET /healthz: whether this process can reach Postgres and Redis (503 when either is down). */
export function healthRouter(db: Db, redis: Redis) {
  const router = express.Router();
  router.get('/healthz', async (_req, res) => {
    const [postgres, redisState] = await Promise.all([probe(() => sql`select 1`.execute(db)), probe(() => redis.ping())]);
    const ok = postgres === 'ok' && redisState === 'ok';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', postgres, redis: redisState });
  });
  return router;
}
