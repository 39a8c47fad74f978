import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { currencyCode } from '../money/currency.ts';
import { allows } from '../operators/operators.ts';
import { parseExport } from '../reconcile/export.ts';
import { ReconcileError, type Resolution, type VendorReconciler } from '../reconcile/reconciler.ts';
import { actorOf, allow, forbidden, principalOf } from './auth.ts';

const invalid = (res: Response, message: string) => res.status(400).json({ error: { code: 'invalid_request', message } });
const moment = z.iso.datetime({ offset: true }).transform((v) => new Date(v));

export const runRequest = z
  .object({ provider: z.string().trim().min(1).max(200), from: moment, to: moment })
  .refine((r) => r.to > r.from, { message: 'to must be after from', path: ['to'] })
  .refine((r) => r.to.getTime() - r.from.getTime() <= 31 * 86_400_000, { message: 'at most 31 days per run', path: ['to'] });

export const importRequest = z
  .object({ provider: z.string().trim().min(1).max(200), currency: currencyCode, from: moment, to: moment })
  .refine((r) => r.to > r.from, { message: 'to must be after from', path: ['to'] });

export const findingsRequest = z.object({
  provider: z.string().max(200).optional(),
  state: z.enum(['open', 'resolved', 'explained']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.string().regex(/^\d{1,18}$/).transform(BigInt).optional(),
});

export const runsRequest = z.object({ provider: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) });

const note = z.string().trim().min(3, 'say why, in a few words').max(500);
export const resolveRequest = z.discriminatedUnion('action', [
  z.object({ action: z.literal('explain'), note }),
  z.object({ action: z.literal('replay'), webhookId: z.string().regex(/^\d{1,18}$/).transform(BigInt), note: note.optional() }),
  z.object({ action: z.literal('adjust'), direction: z.enum(['deposit', 'withdrawal']), amount: z.string().max(40), note }),
]);

const findingId = z.string().regex(/^\d{1,18}$/).transform(BigInt);

const failed = (res: Response, error: unknown) => {
  if (error instanceof ReconcileError) return res.status(error.reason === 'vendor' ? 502 : error.reason === 'no_records' ? 409 : 400).json({ error: { code: error.reason, message: error.message } });
  throw error;
};

/**
 * /v1/reconciliation: runs of the comparison with a vendor's records (from its API, or an export
 * imported as a body), and the findings, which operators resolve (an adjustment, which moves money,
 * is an admin's). Reading is a viewer's.
 */
export function reconciliationRouter(reconciler: VendorReconciler, bodyLimit: string, importLimit: string) {
  const router = express.Router();

  router.get('/reconciliation/runs', allow('viewer'), async (req, res) => {
    const q = runsRequest.safeParse(req.query);
    if (!q.success) return invalid(res, z.prettifyError(q.error));
    res.json({ runs: await reconciler.runs(q.data.provider, q.data.limit) });
  });

  router.post('/reconciliation/runs', allow('operator'), express.json({ limit: bodyLimit }), async (req, res) => {
    const body = runRequest.safeParse(req.body);
    if (!body.success) return invalid(res, z.prettifyError(body.error));
    try {
      res.status(201).json(await reconciler.run(actorOf(req, res), body.data.provider, body.data.from, body.data.to));
    } catch (error) {
      failed(res, error);
    }
  });

  router.post('/reconciliation/import', allow('operator'), express.text({ type: () => true, limit: importLimit }), async (req, res) => {
    const q = importRequest.safeParse(req.query);
    if (!q.success) return invalid(res, z.prettifyError(q.error));
    const records = parseExport(typeof req.body === 'string' ? req.body : '', q.data.currency);
    if (!records.ok) return invalid(res, records.message);
    try {
      res.status(201).json(await reconciler.import(actorOf(req, res), q.data.provider, q.data.from, q.data.to, records.value));
    } catch (error) {
      failed(res, error);
    }
  });

  router.get('/reconciliation/findings', allow('viewer'), async (req, res) => {
    const q = findingsRequest.safeParse(req.query);
    if (!q.success) return invalid(res, z.prettifyError(q.error));
    const findings = await reconciler.findings(q.data);
    res.json({ findings, next: findings.length === q.data.limit ? findings.at(-1)!.id : null });
  });

  router.post('/reconciliation/findings/:id/resolve', allow('operator'), express.json({ limit: bodyLimit }), async (req: Request<{ id: string }>, res) => {
    const id = findingId.safeParse(req.params.id);
    const body = resolveRequest.safeParse(req.body);
    if (!id.success) return invalid(res, 'not a finding id');
    if (!body.success) return invalid(res, z.prettifyError(body.error));
    if (body.data.action === 'adjust' && !allows(principalOf(res).role, 'admin')) return forbidden(res, 'an adjustment moves money: it is an admin’s');
    const result = await reconciler.resolve(actorOf(req, res), id.data, body.data as Resolution);
    if (!result.ok) return res.status(result.reason === 'not_found' ? 404 : result.reason === 'not_open' ? 409 : 422).json({ error: { code: result.reason, message: result.message } });
    res.json(result.finding);
  });

  return router;
}
