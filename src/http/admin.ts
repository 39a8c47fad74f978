import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { OperatorActions } from '../operators/actions.ts';
import type { BackOffice, BackOfficeRefusal } from '../wallet/backoffice.ts';
import {
  cashierJson,
  cashierRequest,
  historyJson,
  historyRequest,
  newPlayer,
  playerJson,
  refusalJson,
  walletsJson,
} from '../wallet/backoffice-wire.ts';
import { PlayerCode } from '../wallet/types.ts';
import { actorOf, allow } from './auth.ts';

const STATUS: Record<BackOfficeRefusal, number> = {
  unknown_player: 404,
  player_exists: 409,
  not_owed: 422,
  currency_mismatch: 422,
  insufficient_funds: 422,
  conflict: 409,
};

const refusal = (res: Response, reason: BackOfficeRefusal) => res.status(STATUS[reason]).json(refusalJson(reason));

const invalid = (res: Response, error: z.ZodError) =>
  res.status(400).json({ error: { code: 'invalid_request', message: z.prettifyError(error) } });

/**
 * The casino's back office: /v1 (authenticated there). Amounts are decimal strings in currency units.
 * Reading is a viewer's; creating, blocking and unblocking players an operator's; the cashier an
 * admin's. Every change is audited, refused ones too.
 */
export function adminRouter(backOffice: BackOffice, actions: OperatorActions, bodyLimit: string) {
  const router = express.Router();
  router.use(express.json({ limit: bodyLimit }));

  router.post('/players', allow('operator'), async (req, res) => {
    const body = newPlayer.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    const result = await actions.createPlayer(actorOf(req, res), body.data.code, body.data.currencies);
    if (!result.ok) return refusal(res, result.reason);
    res.status(201).json(playerJson(result.value));
  });

  router.get('/players/:code', allow('viewer'), async (req: Request<{ code: string }>, res) => {
    const result = await backOffice.player(PlayerCode(req.params.code));
    if (!result.ok) return refusal(res, result.reason);
    res.json(playerJson(result.value));
  });

  for (const [action, status] of [['block', 'blocked'], ['unblock', 'active']] as const) {
    router.post(`/players/:code/${action}`, allow('operator'), async (req: Request<{ code: string }>, res) => {
      const result = await actions.setStatus(actorOf(req, res), req.params.code, status);
      if (!result.ok) return refusal(res, result.reason);
      res.json(playerJson(result.value));
    });
  }

  for (const [path, kind] of [['deposits', 'deposit'], ['withdrawals', 'withdrawal']] as const) {
    router.post(`/players/:code/${path}`, allow('admin'), async (req: Request<{ code: string }>, res) => {
      const body = cashierRequest.safeParse(req.body);
      if (!body.success) return invalid(res, body.error);
      const result = await actions.cashier(actorOf(req, res), kind, req.params.code, body.data.currency, body.data.amount, body.data.reference);
      if (!result.ok) return result.reason === 'invalid_amount' ? res.status(400).json({ error: { code: 'invalid_amount', message: result.message } }) : refusal(res, result.reason);
      res.status(result.repeat ? 200 : 201).json(cashierJson(body.data.reference, body.data.currency, result.balance, result.repeat));
    });
  }

  router.get('/players/:code/balance', allow('viewer'), async (req: Request<{ code: string }>, res) => {
    const result = await backOffice.player(PlayerCode(req.params.code));
    if (!result.ok) return refusal(res, result.reason);
    res.json(walletsJson(result.value));
  });

  router.get('/players/:code/transactions', allow('viewer'), async (req: Request<{ code: string }>, res) => {
    const query = historyRequest.safeParse(req.query);
    if (!query.success) return invalid(res, query.error);
    const { limit, before } = query.data;
    const result = await backOffice.history(PlayerCode(req.params.code), { limit, ...(before === undefined ? {} : { before: BigInt(before) }) });
    if (!result.ok) return refusal(res, result.reason);
    res.json(historyJson(result.value, limit));
  });

  return router;
}
