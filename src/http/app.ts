import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Secret } from '../config/secret.ts';
import type { Pipeline } from '../gateway/callbacks.ts';
import type { ProviderInstance } from '../gateway/contract.ts';
import type { Db } from '../ledger/database.ts';
import type { Parking } from '../queue/parking.ts';
import { redactHeaders, type WebhookHistory } from '../webhooks/history.ts';
import type { Replayer } from '../webhooks/replay.ts';
import type { BackOffice } from '../wallet/backoffice.ts';
import type { Vendors } from '../vendors/vendors.ts';
import { adminRouter } from './admin.ts';
import { openApiRouter } from './openapi.ts';
import { reconciliationRouter } from './reconciliation.ts';
import type { VendorReconciler } from '../reconcile/reconciler.ts';
import type { OperatorActions } from '../operators/actions.ts';
import { BOARD_PATH, boardRouter } from './board.ts';
import { callbackRouter } from './callbacks.ts';
import { healthRouter } from './health.ts';
import type { Metrics } from './metrics.ts';
import type { Audit } from '../operators/audit.ts';
import type { Operators } from '../operators/operators.ts';
import { authenticate } from './auth.ts';
import { consolePages } from '../console/pages/index.ts';
import { consoleRouter } from '../console/router.ts';
import { ConsoleJobs } from '../console/jobs.ts';
import { CONSOLE_PATH } from '../console/layout.ts';
import { operatorsRouter } from './operators.ts';
import { reportsRouter } from './reports.ts';
import type { Reports } from '../reports/ggr.ts';
import { vendorsRouter } from './vendors.ts';
import { webhooksRouter } from './webhooks.ts';

export interface AppDeps {
  db: Db;
  /** A connection of its own for /healthz: a pool busy with wallet calls is saturated, not down. */
  probeDb: Db;
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
  operators: Operators;
  audit: Audit;
  reports: Reports;
  /** Operators' changes (replay, import, block, cashier), audited: shared by /v1, the console and the CLI. */
  actions: OperatorActions;
  reconciler: VendorReconciler;
  /** When set, /metrics answers only a request bearing it. */
  metricsToken?: Secret | undefined;
  bodyLimit: string;
  /** The body limit of a webhook import (a vendor's export), larger than `bodyLimit`. */
  importLimit: string;
  /** express's `trust proxy`: which proxies' X-Forwarded-For to believe for the caller's address. */
  trustProxy: boolean | number | string;
  log: Logger;
  isStopping(): boolean;
}

/** A router under /v1 and where: what the OpenAPI coverage test walks. */
export type V1Mount = [prefix: string, router: express.Router];

/** The package's version, for the API document: the nearest package.json above this file (src/ or dist/src/). */
const VERSION = ((): string => {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
})();

const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Query parameters that may carry a credential, whatever the route (the board's first page load
 * carries the operator's JWT as `?token=`): their values never reach a log line.
 */
const SECRET_PARAM = /token|key|secret|passw|signature|auth|session|csrf|jwt|sig$/i;

function redactQuery(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const params = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const [name = '', ...value] = pair.split('=');
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // a malformed name is judged as written
      }
      return value.length && SECRET_PARAM.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, at)}?${params.join('&')}`;
}

/** The request as logged: no credential in its address, no provider's credential in its headers. */
function loggedRequest(credentials: readonly string[]) {
  return (req: { url?: string; query?: Record<string, unknown>; headers?: Record<string, string | string[] | undefined> }) => {
    if (req.url) req.url = redactQuery(req.url);
    if (req.query) req.query = Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, SECRET_PARAM.test(k) ? '[redacted]' : v]));
    if (req.headers) req.headers = redactHeaders(req.headers, credentials);
    return req;
  };
}

/** SQLSTATEs of text Postgres cannot hold: 22021 (a NUL byte in text), 22P05 (\u0000 in jsonb). */
const NUL_IN_TEXT = new Set(['22021', '22P05']);
const NUMBER_OUT_OF_RANGE = '22003';

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
        serializers: { req: loggedRequest([...new Set(deps.providers.flatMap((p) => p.adapter.credentialHeaders))]) },
      }),
    );
  }
  app.use(healthRouter(deps.probeDb, deps.redis, deps.isStopping));
  app.use(deps.metrics.router(deps.metricsToken));
  const providers = new Map(deps.providers.map((p) => [p.id as string, p]));
  app.use('/callbacks', callbackRouter(providers, deps.pipeline, deps.bodyLimit, deps.log));
  const { history, replayer, adminJwtSecret: secret, bodyLimit, importLimit, operators, audit } = deps;
  // Every /v1 route: a machine's bearer token or a console session, then the route's role.
  app.use('/v1', authenticate(secret, operators));
  // Each router's routes are declared in openapi.ts (V1); a test walks these mounts to hold it to that.
  const v1: V1Mount[] = [
    ['/webhooks', webhooksRouter({ history, actions: deps.actions, providers: new Set(providers.keys()), bodyLimit, importLimit })],
    // Ahead of the routers that parse every JSON body up to BODY_LIMIT: an export sent as
    // application/json must reach its own route's reader (IMPORT_BODY_LIMIT) unread.
    ['', reconciliationRouter(deps.reconciler, bodyLimit, importLimit)],
    ['', operatorsRouter(operators, audit, bodyLimit)],
    ['', reportsRouter(deps.reports)],
    ['', vendorsRouter(deps.vendors, audit, bodyLimit)],
    ['', adminRouter(deps.backOffice, deps.actions, bodyLimit)],
    ['', openApiRouter(VERSION)],
  ];
  for (const [prefix, router] of v1) app.use(`/v1${prefix}`, router);
  app.locals.v1 = v1;
  app.use(BOARD_PATH, boardRouter(deps.parking.queues(), secret, operators));
  app.use(
    CONSOLE_PATH,
    consoleRouter({ operators, audit, backOffice: deps.backOffice, history, replayer, parking: deps.parking, providers: deps.providers, vendors: deps.vendors, reports: deps.reports, actions: deps.actions, reconciler: deps.reconciler, jobs: new ConsoleJobs(), db: deps.db, importLimit }, consolePages),
  );
  app.use((_req: express.Request, res: express.Response) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such route' } });
  });
  app.use((error: unknown, req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = (error as { status?: number }).status;
    // Postgres refuses text holding NUL (invalid byte sequence, or \u0000 in jsonb): the caller's input,
    // refused before anything was kept (the statement, and its transaction, failed).
    if (NUL_IN_TEXT.has((error as { code?: unknown }).code as string)) {
      res.status(400).json({ error: { code: 'invalid_request', message: 'text may not hold a NUL character (\\u0000)' } });
      return;
    }
    // A number past what Postgres holds (a deposit onto a balance at the ledger's limit, an id past
    // bigint): the input's doing, answered 400, and logged in case it was not.
    if ((error as { code?: unknown }).code === NUMBER_OUT_OF_RANGE) {
      (req.log ?? deps.log).warn({ err: error }, 'a number out of range, answered 400');
      res.status(400).json({ error: { code: 'invalid_request', message: 'a number out of range: past the largest the ledger holds (an amount, a balance or an id)' } });
      return;
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: { code: 'bad_request', message: (error as Error).message } });
      return;
    }
    (req.log ?? deps.log).error({ err: error }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  });
  return app;
}
