import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Secret } from '../config/secret.ts';
import type { BackOffice, BackOfficeRefusal } from '../wallet/backoffice.ts';
import {
  cashierAmount,
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
import { requireAdmin } from './auth.ts';

const STATUS: Record<BackOfficeRefusal, number> = {
  unknown_player: 404,
  player_exists: 409,
  currency_mismatch: 422,
  insufficient_funds: 422,
  conflict: 409,
};

const refusal = (res: Response, reason: BackOfficeRefusal) => res.status(STATUS[reason]).json(refusalJson(reason));

const invalid = (res: Response, error: z.ZodError) =>
  res.status(400).json({ error: { code: 'invalid_request', message: z.prettifyError(error) } });

/** The casino's back office: /v1, bearer JWT. Amounts are decimal strings in currency units. */
export function adminRouter(backOffice: BackOffice, secret: Secret, bodyLimit: string) {
  const router = express.Router();
  router.use(requireAdmin(secret));
  router.use(express.json({ limit: bodyLimit }));

  router.post('/players', async (req, res) => {
    const body = newPlayer.safeParse(req.body);
    if (!body.success) return invalid(res, body.error);
    const result = await backOffice.createPlayer(PlayerCode(body.data.code), body.data.currencies);
    if (!result.ok) return refusal(res, result.reason);
    res.status(201).json(playerJson(result.value));
  });

  router.get('/players/:code', async (req: Request<{ code: string }>, res) => {
    const result = await backOffice.player(PlayerCode(req.params.code));
    if (!result.ok) return refusal(res, result.reason);
    res.json(playerJson(result.value));
  });

  for (const [action, status] of [['block', 'blocked'], ['unblock', 'active']] as const) {
    router.post(`/players/:code/${action}`, async (req: Request<{ code: string }>, res) => {
      const result = await backOffice.setStatus(PlayerCode(req.params.code), status);
      if (!result.ok) return refusal(res, result.reason);
      res.json(playerJson(result.value));
    });
  }

  for (const [path, kind] of [['deposits', 'deposit'], ['withdrawals', 'withdrawal']] as const) {
    router.post(`/players/:code/${path}`, async (req: Request<{ code: string }>, res) => {
      const body = cashierRequest.safeParse(req.body);
      if (!body.success) return invalid(res, body.error);
      const amount = cashierAmount(body.data.amount, body.data.currency);
      if (!amount.ok) return res.status(400).json({ error: { code: 'invalid_amount', message: amount.reason } });
      const result = await backOffice.cashier(kind, PlayerCode(req.params.code), body.data.currency, amount.value, body.data.reference);
      if (!result.ok) return refusal(res, result.reason);
      res.status(result.repeat ? 200 : 201).json(cashierJson(body.data.reference, body.data.currency, result.value.balance, result.repeat === true));
    });
  }

  router.get('/players/:code/balance', async (req: Request<{ code: string }>, res) => {
    const result = await backOffice.player(PlayerCode(req.params.code));
    if (!result.ok) return refusal(res, result.reason);
    res.json(walletsJson(result.value));
  });

  router.get('/players/:code/transactions', async (req: Request<{ code: string }>, res) => {
    const query = historyRequest.safeParse(req.query);
    if (!query.success) return invalid(res, query.error);
    const { limit, before } = query.data;
    const result = await backOffice.history(PlayerCode(req.params.code), { limit, ...(before === undefined ? {} : { before: BigInt(before) }) });
    if (!result.ok) return refusal(res, result.reason);
    res.json(historyJson(result.value, limit));
  });

  return router;
}
