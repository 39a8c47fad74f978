import { z } from 'zod';
import { storableId } from '../../src/gateway/wire.ts';
import { JsonNumber } from '../../src/money/json.ts';
import { RESULT_CHANGE_EVENT } from './inferred.ts';

/**
 * The event dialect's decrypted wire format (docs/specs/event-dialect.md). Bodies are parsed with
 * parseJsonExact: every JSON number arrives as a JsonNumber carrying its source text.
 */

const text = storableId;
/** Identifiers the vendor may send as numbers or strings; kept as text. */
const key = z.union([text(100), z.instanceof(JsonNumber).refine((n) => /^\d{1,30}$/.test(n.source), 'must be a non-negative integer')]).transform((v) =>
  typeof v === 'string' ? v : v.source,
);
/** A decimal amount as text (sign allowed; each use says whether a sign is meaningful). */
const amount = z.union([z.instanceof(JsonNumber), z.string().max(64)]).transform((v) => (typeof v === 'string' ? v : v.source));

export const envelope = z.object({
  transaction_id: text(200),
  event_type: z.string().max(50),
  timestamp: z.instanceof(JsonNumber).refine((n) => /^\d{1,12}$/.test(n.source), 'unix seconds').transform((n) => Number(n.source)),
  feedback_data: z.string().max(2000).optional(),
  user_id: text(100),
  data: z.unknown().optional(),
});

const round = {
  currency: z.string().length(3).optional(),
  game_type: z.string().max(50).optional(),
  table_no: key,
  game_no: key,
};

const betItem = z.object({ bet_index: key, bet_type: z.string().max(50).optional(), bet_amount: amount });

export const eventData = {
  login: z.unknown(),
  logout: z.unknown(),
  bet: z.object({ ...round, total_bet_amount: amount, bets: z.array(betItem).min(1).max(100) }),
  bet_cancel: z.object({ ...round, total_bet_cancel_amount: amount, bet_cancels: z.array(betItem).min(1).max(100) }),
  bet_result: z.object({
    ...round,
    total_bet_amount: amount,
    total_winloss: amount,
    result: z.string().max(200).optional(),
    result_detail: z.string().max(20_000).optional(),
    bet_results: z.array(betItem.extend({ winloss: amount })).min(1).max(100),
  }),
  [RESULT_CHANGE_EVENT]: z.object({
    ...round,
    total_bet_amount: amount,
    total_winloss: amount,
    total_winloss_before: amount,
    result: z.string().max(200).optional(),
    result_before: z.string().max(200).optional(),
    result_detail: z.string().max(20_000).optional(),
    result_detail_before: z.string().max(20_000).optional(),
    bet_results: z.array(betItem.extend({ winloss: amount, winloss_before: amount.optional() })).min(1).max(100),
  }),
} as const;

export type EventType = keyof typeof eventData;

export function isEventType(name: string): name is EventType {
  return Object.hasOwn(eventData, name);
}
