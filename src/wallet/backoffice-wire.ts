import { z } from 'zod';
import { asCurrency, currencyCode, type Currency } from '../money/currency.ts';
import { formatAmount, parseAmount, type Minor, type ParseResult } from '../money/minor.ts';
import type { BackOfficeRefusal, HistoryEntry, PlayerView } from './backoffice.ts';

/**
 * The back office as its two edges speak it, the /v1 API and the CLI: one set of input schemas and one
 * JSON shape for answers, so an operator sees the same fields and decimal strings from either.
 */

const currency = currencyCode;
const playerCode = z.string().trim().min(1).max(100);

export const newPlayer = z.object({ code: playerCode, currencies: z.array(currency).min(1).max(20) });

export const cashierRequest = z.object({
  currency,
  amount: z.string().max(64),
  reference: z.string().trim().min(1).max(200),
});

export const historyRequest = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.string().regex(/^\d{1,19}$/).optional(),
});

/** A cashier amount: exact decimal text in currency units, and more than nothing. */
export function cashierAmount(text: string, currency: Currency): ParseResult {
  const amount = parseAmount(text, currency);
  if (amount.ok && amount.value === 0n) return { ok: false, reason: 'amount must be positive' };
  return amount;
}

export const refusalJson = <R extends string = BackOfficeRefusal>(reason: R) => ({ error: { code: reason, message: reason.replaceAll('_', ' ') } });

export const walletsJson = (p: PlayerView) =>
  p.wallets.map((w) => ({ currency: w.currency, balance: formatAmount(w.balance, asCurrency(w.currency)) }));

export const playerJson = (p: PlayerView) => ({ code: p.code, status: p.status, wallets: walletsJson(p) });

export const cashierJson = (reference: string, currency: Currency, balance: Minor, repeat: boolean) => ({
  reference,
  currency,
  balance: formatAmount(balance, currency),
  repeat,
});

/** One page of history, newest first; `next` is the `before` of the following page, null on the last. */
export function historyJson(entries: readonly HistoryEntry[], limit: number) {
  const items = entries.map((e) => ({
    id: e.transferId.toString(),
    kind: e.kind,
    currency: e.currency,
    amount: formatAmount(e.delta, asCurrency(e.currency)),
    provider: e.provider,
    transactionId: e.externalId,
    reference: e.reference,
    createdAt: e.createdAt.toISOString(),
  }));
  return { items, next: items.length === limit ? (items.at(-1)?.id ?? null) : null };
}
