import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Secret } from '../config/secret.ts';
import { asCurrency, isCurrency } from '../money/currency.ts';
import { formatAmount, parseAmount } from '../money/minor.ts';
import type { BackOffice, BackOfficeRefusal, PlayerView } from '../wallet/backoffice.ts';
import { PlayerCode } from '../wallet/types.ts';
import { requireAdmin } from './auth.ts';

const currency = z.string().refine(isCurrency, 'not an ISO 4217 currency').transform(asCurrency);
const playerCode = z.string().trim().min(1).max(100);
const newPlayer = z.object({ code: playerCode, currencies: z.array(currency).min(1).max(20) });
const cashierBody = z.object({
  currency,
  amount: z.string().max(64),
  reference: z.string().trim().min(1).max(200),
});
const historyQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().regex(/^\d{1,19}$/).optional(),
});

const STATUS: Record<BackOfficeRefusal, number> = {
  unknown_player: 404,
  player_exists: 409,
  currency_mismatch: 422,
  insufficient_funds: 422,
  conflict: 409,
};

const refusal = (res: Response, reason: BackOfficeRefusal) =>
  res.status(STATUS[reason]).json({ error: { code: reason, message: reason.replaceAll('_', ' ') } });

const invalid = (res: Response, error: z.ZodError) =>
  res.status(400).json({ error: { code: 'invalid_request', message: z.prettifyError(error) } });

export const playerJson = (p: PlayerView) => ({
  code: p.code,
  status: p.status,
  wallets: p.wallets.map((w) => ({ currency: w.currency, balance: formatAmount(w.balance, asCurrency(w.currency)) })),
});

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
      const body = cashierBody.safeParse(req.body);
      if (!body.success) return invalid(res, body.error);
      const amount = parseAmount(body.data.amount, body.data.currency);
      if (!amount.ok || amount.value === 0n) {
        return res.status(400).json({ error: { code: 'invalid_amount', message: amount.ok ? 'amount must be positive' : amount.reason } });
      }
      const result = await backOffice.cashier(kind, PlayerCode(req.params.code), body.data.currency, amount.value, body.data.reference);
      if (!result.ok) return refusal(res, result.reason);
      res.status(result.repeat ? 200 : 201).json({
        reference: body.data.reference,
        currency: body.data.currency,
        balance: formatAmount(result.value.balance, body.data.currency),
        repeat: result.repeat === true,
      });
    });
  }

  router.get('/players/:code/balance', async (req: Request<{ code: string }>, res) => {
    const result = await backOffice.player(PlayerCode(req.params.code));
    if (!result.ok) return refusal(res, result.reason);
    res.json(playerJson(result.value).wallets);
  });

  router.get('/players/:code/transactions', async (req: Request<{ code: string }>, res) => {
    const query = historyQuery.safeParse(req.query);
    if (!query.success) return invalid(res, query.error);
    const before = query.data.before === undefined ? undefined : BigInt(query.data.before);
    const result = await backOffice.history(PlayerCode(req.params.code), { limit: query.data.limit, ...(before ? { before } : {}) });
    if (!result.ok) return refusal(res, result.reason);
    const items = result.value.map((e) => ({
      id: e.transferId.toString(),
      kind: e.kind,
      currency: e.currency,
      amount: formatAmount(e.delta, asCurrency(e.currency)),
      provider: e.provider,
      transactionId: e.externalId,
      reference: e.reference,
      createdAt: e.createdAt.toISOString(),
    }));
    res.json({ items, next: items.length === query.data.limit ? items.at(-1)?.id : null });
  });

  return router;
}
