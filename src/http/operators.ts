import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Audit } from '../operators/audit.ts';
import { moment, ordered, unordered } from '../webhooks/wire.ts';
import { ROLES, type OperatorRefusal, type OperatorView, type Operators, type Result } from '../operators/operators.ts';
import { PASSWORD_MAX } from '../operators/passwords.ts';
import { actorOf, allow, forbidden, principalOf } from './auth.ts';

const STATUS: Record<OperatorRefusal, number> = { invalid_name: 400, weak_password: 400, exists: 409, unknown_operator: 404, last_admin: 409 };

const invalid = (res: Response, error: z.ZodError) => res.status(400).json({ error: { code: 'invalid_request', message: z.prettifyError(error) } });

export const operatorJson = (o: OperatorView) => ({ name: o.name, role: o.role, status: o.status, createdAt: o.createdAt.toISOString(), updatedAt: o.updatedAt.toISOString() });

const answer = (res: Response, result: Result<OperatorView>, created = false) =>
  result.ok ? res.status(created ? 201 : 200).json(operatorJson(result.value)) : res.status(STATUS[result.reason]).json({ error: { code: result.reason, message: result.message } });

const role = z.enum(ROLES as [string, ...string[]]).transform((r) => r as (typeof ROLES)[number]);
const password = z.string().max(PASSWORD_MAX);
export const newOperator = z.object({ name: z.string().max(64), role, password });
export const roleChange = z.object({ role });
export const passwordChange = z.object({ password });

/** The audit trail's filter: the window is `since` (inclusive) to `until` (exclusive), as the webhook history's. An unknown parameter is refused, not ignored. */
export const auditRequest = z
  .strictObject({
    actor: z.string().max(200).optional(),
    action: z.string().max(50).optional(),
    target: z.string().max(500).optional(),
    outcome: z.enum(['ok', 'refused', 'failed']).optional(),
    since: moment.optional(),
    until: moment.optional(),
    before: z.string().regex(/^\d{1,18}$/).transform(BigInt).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .refine(ordered, unordered);

export type AuditRow = Awaited<ReturnType<Audit['list']>>[number];
export const auditJson = (e: AuditRow) => ({
  id: e.id.toString(),
  at: e.at.toISOString(),
  actor: e.actor,
  via: e.via,
  ip: e.ip,
  action: e.action,
  target: e.target,
  outcome: e.outcome,
  detail: e.detail,
});

/**
 * /v1/me (who am I), /v1/operators (accounts: admins only) and /v1/audit (the trail: anyone signed
 * in). Every account change is audited by Operators itself.
 */
export function operatorsRouter(operators: Operators, audit: Audit, bodyLimit: string) {
  const router = express.Router();
  router.use(express.json({ limit: bodyLimit }));

  router.get('/me', allow('viewer'), (_req, res) => {
    const p = principalOf(res);
    res.json({ name: p.name, role: p.role, via: p.via, expiresAt: p.expiresAt === undefined ? null : new Date(p.expiresAt * 1000).toISOString() });
  });

  router.get('/operators', allow('admin'), async (_req, res) => {
    res.json({ operators: (await operators.list()).map(operatorJson) });
  });

  router.post('/operators', allow('admin'), async (req, res) => {
    const body = newOperator.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    answer(res, await operators.add(actorOf(req, res), body.data.name, body.data.role, body.data.password), true);
  });

  for (const [action, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    router.post(`/operators/:name/${action}`, allow('admin'), async (req: Request<{ name: string }>, res) => {
      answer(res, await operators.setStatus(actorOf(req, res), req.params.name, status));
    });
  }

  router.post('/operators/:name/role', allow('admin'), async (req: Request<{ name: string }>, res) => {
    const body = roleChange.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    answer(res, await operators.setRole(actorOf(req, res), req.params.name, body.data.role));
  });

  // An admin sets anyone's password; a person signed in to the console, their own.
  router.post('/operators/:name/password', allow('viewer'), async (req: Request<{ name: string }>, res) => {
    const p = principalOf(res);
    if (p.role !== 'admin' && !(p.via === 'console' && p.name === req.params.name)) return forbidden(res, 'only an admin sets another operator’s password');
    const body = passwordChange.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    answer(res, await operators.passwd(actorOf(req, res), req.params.name, body.data.password));
  });

  router.get('/audit', allow('viewer'), async (req, res) => {
    const query = auditRequest.safeParse(req.query);
    if (!query.success) return invalid(res, query.error);
    const rows = await audit.list(query.data);
    const next = rows.length === query.data.limit ? rows.at(-1)!.id.toString() : null;
    res.json({ events: rows.map(auditJson), next });
  });

  return router;
}
