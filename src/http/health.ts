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

/**
 * GET /healthz: whether this process can reach Postgres and Redis (503 when either is down).
 * GET /readyz: whether a load balancer should send it traffic: both reachable and not shutting down.
 */
export function healthRouter(db: Db, redis: Redis, isStopping: () => boolean) {
  const router = express.Router();
  const check = async () => {
    const [postgres, redisState] = await Promise.all([probe(() => sql`select 1`.execute(db)), probe(() => redis.ping())]);
    return { postgres, redis: redisState, ok: postgres === 'ok' && redisState === 'ok' };
  };
  router.get('/healthz', async (_req, res) => {
    const { ok, postgres, redis: redisState } = await check();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', postgres, redis: redisState });
  });
  router.get('/readyz', async (_req, res) => {
    if (isStopping()) {
      res.status(503).json({ status: 'stopping' });
      return;
    }
    const { ok, postgres, redis: redisState } = await check();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not_ready', postgres, redis: redisState });
  });
  return router;
}
