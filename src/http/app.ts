import express from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Secret } from '../config/secret.ts';
import type { Pipeline } from '../gateway/callbacks.ts';
import type { ProviderInstance } from '../gateway/contract.ts';
import type { Db } from '../ledger/database.ts';
import type { Parking } from '../queue/parking.ts';
import type { WebhookHistory } from '../webhooks/history.ts';
import type { Replayer } from '../webhooks/replay.ts';
import type { BackOffice } from '../wallet/backoffice.ts';
import type { Vendors } from '../vendors/vendors.ts';
import { adminRouter } from './admin.ts';
import { BOARD_PATH, boardRouter } from './board.ts';
import { callbackRouter } from './callbacks.ts';
import { healthRouter } from './health.ts';
import type { Metrics } from './metrics.ts';
import { vendorsRouter } from './vendors.ts';
import { webhooksRouter } from './webhooks.ts';

export interface AppDeps {
  db: Db;
  redis: Redis;
  backOffice: BackOffice;
  vendors: Vendors;
  history: WebhookHistory;
  replayer: Replayer;
  parking: Parking;
  pipeline: Pipeline;
  metrics: Metrics;
  providers: readonly ProviderInstance[];
  adminJwtSecret: Secret;
  bodyLimit: string;
  /** The body limit of a webhook import (a vendor's export), larger than `bodyLimit`. */
  importLimit: string;
  /** express's `trust proxy`: which proxies' X-Forwarded-For to believe for the caller's address. */
  trustProxy: boolean | number | string;
  log: Logger;
  isStopping(): boolean;
}

const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

/** The board's first page load carries the operator's JWT as `?token=`: it never reaches a log line. */
const TOKEN_PARAM = /([?&]token=)[^&#]*/gi;
function withoutToken(req: { url?: string; query?: Record<string, unknown> }) {
  if (req.url) req.url = req.url.replace(TOKEN_PARAM, '$1[redacted]');
  if (req.query && 'token' in req.query) req.query = { ...req.query, token: '[redacted]' };
  return req;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Every answer is computed for its request: an ETag (a SHA-1 of each body) would never be used.
  app.disable('etag');
  app.set('trust proxy', deps.trustProxy);
  // The request log is written at info; below that level pino-http would still build a child logger
  // and redact the request for every call (about 3% of the gateway's CPU) to log nothing.
  if (deps.log.isLevelEnabled('info')) {
    app.use(
      pinoHttp({
        logger: deps.log,
        quietReqLogger: true,
        autoLogging: { ignore: (req) => QUIET.has(req.url ?? '') },
        serializers: { req: withoutToken },
      }),
    );
  }
  app.use(healthRouter(deps.db, deps.redis, deps.isStopping));
  app.use(deps.metrics.router());
  const providers = new Map(deps.providers.map((p) => [p.id as string, p]));
  app.use('/callbacks', callbackRouter(providers, deps.pipeline, deps.bodyLimit, deps.log));
  const { history, replayer, adminJwtSecret: secret, bodyLimit, importLimit } = deps;
  app.use('/v1/webhooks', webhooksRouter({ history, replayer, providers: new Set(providers.keys()), secret, bodyLimit, importLimit }));
  app.use('/v1', vendorsRouter(deps.vendors, secret, bodyLimit));
  app.use('/v1', adminRouter(deps.backOffice, secret, bodyLimit));
  app.use(BOARD_PATH, boardRouter(deps.parking.queues(), secret));
  app.use((_req: express.Request, res: express.Response) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such route' } });
  });
  app.use((error: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: { code: 'bad_request', message: (error as Error).message } });
      return;
    }
    (req.log ?? deps.log).error({ err: error }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });
  return app;
}
