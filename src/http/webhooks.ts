import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { OperatorActions } from '../operators/actions.ts';
import type { WebhookHistory } from '../webhooks/history.ts';
import { dryRunJson, parseExport, replayRequest, searchRequest, webhookId, webhookJson, webhookPageJson, webhookRefusalJson } from '../webhooks/wire.ts';
import { actorOf, allow } from './auth.ts';

export interface WebhooksRouterDeps {
  history: WebhookHistory;
  actions: OperatorActions;
  /** The configured provider ids: a replay or an import needs the provider's adapter. */
  providers: ReadonlySet<string>;
  bodyLimit: string;
  /** Larger than `bodyLimit`: a vendor's export of a day of failures. */
  importLimit: string;
}

/** The import's query: which provider's export the body is. */
export const importQuery = z.object({ provider: z.string().trim().min(1).max(200) });

const invalid = (res: Response, message: string) => res.status(400).json({ error: { code: 'invalid_request', message } });
const zodInvalid = (res: Response, error: z.ZodError) => invalid(res, z.prettifyError(error));
const unknownProvider = (res: Response, provider: string) =>
  res.status(404).json(webhookRefusalJson('unknown_provider', `no provider ${JSON.stringify(provider)} is configured`));

/**
 * /v1/webhooks: the webhook history for operators (authenticated with the rest of /v1): search it
 * and see one webhook (viewer); replay one or every failure of a provider in a time window, with a
 * dry run first (operator, audited), and import a vendor's export of failed notifications (admin,
 * audited: its calls are taken on the file's word). Mounted ahead of the back-office router so
 * the import can take a body larger than BODY_LIMIT.
 */
export function webhooksRouter(deps: WebhooksRouterDeps) {
  const { history, actions, providers } = deps;
  const router = express.Router();

  router.get('/', allow('viewer'), async (req, res) => {
    const query = searchRequest.safeParse(req.query);
    if (!query.success) return zodInvalid(res, query.error);
    res.json(webhookPageJson(await history.search(query.data), query.data.limit));
  });

  router.post('/replay', allow('operator'), express.json({ limit: deps.bodyLimit }), async (req, res) => {
    const body = replayRequest.safeParse(req.body);
    if (!body.success) return zodInvalid(res, body.error);
    if (!providers.has(body.data.provider)) return unknownProvider(res, body.data.provider);
    const { dryRun, ...filter } = body.data;
    if (dryRun) {
      const dry = await actions.dryRun(filter);
      return res.json(dryRunJson(dry));
    }
    res.json(await actions.replayMatching(actorOf(req, res), filter));
  });

  // An import is taken on the file's word (an export carries no vendor credential): it can pay any
  // player anything the file says, so it takes the role that moves money, as the cashier does.
  router.post('/import', allow('admin'), express.raw({ type: () => true, limit: deps.importLimit }), async (req, res) => {
    const provider = importQuery.safeParse(req.query);
    if (!provider.success) return zodInvalid(res, provider.error);
    if (!providers.has(provider.data.provider)) return unknownProvider(res, provider.data.provider);
    const content = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const notifications = parseExport(content);
    if (!notifications.ok) return invalid(res, notifications.message);
    res.json(await actions.import(actorOf(req, res), provider.data.provider, notifications.value));
  });

  router.get('/:id', allow('viewer'), async (req: Request<{ id: string }>, res) => {
    const id = webhookId.safeParse(req.params.id);
    if (!id.success) return zodInvalid(res, id.error);
    const row = await history.get(id.data);
    if (!row) return res.status(404).json(webhookRefusalJson('not_found', `no webhook ${id.data}`));
    res.json(webhookJson(row));
  });

  router.post('/:id/replay', allow('operator'), async (req: Request<{ id: string }>, res) => {
    const id = webhookId.safeParse(req.params.id);
    if (!id.success) return zodInvalid(res, id.error);
    const result = await actions.replay(actorOf(req, res), id.data);
    if (result.outcome === 'not_found') return res.status(404).json(webhookRefusalJson('not_found', `no webhook ${id.data}`));
    if (result.outcome === 'unknown_provider') return unknownProvider(res, result.provider);
    if (result.outcome === 'not_replayable') return res.status(409).json(webhookRefusalJson('not_replayable', result.detail ?? 'not replayable'));
    res.json(result);
  });

  return router;
}
