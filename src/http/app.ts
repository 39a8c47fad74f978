import express from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { ProviderInstance } from '../gateway/contract.ts';
import type { Db } from '../ledger/database.ts';
import type { BackOffice } from '../wallet/backoffice.ts';
import type { Wallet } from '../wallet/wallet.ts';
import type { Secret } from '../config/secret.ts';
import { adminRouter } from './admin.ts';
import { callbackRouter } from './callbacks.ts';
import { healthRouter } from './health.ts';

export interface AppDeps {
  db: Db;
  redis: Redis;
  wallet: Wallet;
  backOffice: BackOffice;
  providers: readonly ProviderInstance[];
  /** express's `trust proxy`: which proxies' X-Forwarded-For to believe for the caller's address. */
  trustProxy: boolean | number | string;
  adminJwtSecret: Secret;
  bodyLimit: string;
  log: Logger;
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(pinoHttp({ logger: deps.log, quietReqLogger: true, autoLogging: { ignore: (req) => req.url === '/healthz' } }));
  app.use(healthRouter(deps.db, deps.redis));
  const providers = new Map(deps.providers.map((p) => [p.id as string, p]));
  app.use('/callbacks', callbackRouter(providers, deps.wallet, deps.bodyLimit, deps.log));
  app.use('/v1', adminRouter(deps.backOffice, deps.adminJwtSecret, deps.bodyLimit));
  app.use((_req: express.Request, res: express.Response) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such route' } });
  });
  app.use((error: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = (error as { status?: number }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: { code: 'bad_request', message: (error as Error).message } });
      return;
    }
    req.log.error({ err: error }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });
  return app;
}
