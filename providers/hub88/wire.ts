import { z } from 'zod';
import { storableId } from '../../src/gateway/wire.ts';
import { JsonNumber } from '../../src/money/json.ts';

/**
 * Hub88's wallet calls (Operator API > Wallet API), one schema per endpoint. Every call is a POST of
 * a JSON object, signed; fields Hub88 adds later are accepted and ignored. Bodies are parsed with
 * parseJsonExact: numbers arrive as JsonNumber with their source text, and amounts are converted from
 * that text (units.ts), never from a float.
 */

/** Identifiers the wallet keys on (user, transactions, round): text Postgres stores exactly. */
const id = storableId(100);
const round = storableId(200);
const text = (max: number) => z.string().max(max);
const optionalText = (max: number) => text(max).nullable().optional();
const flag = z.boolean().nullable().optional();
/** An amount: an integer JSON number in 1/100000 of the currency unit (checked and converted in units.ts). */
const amount = z.instanceof(JsonNumber);

/** Fields every call may carry. */
const common = {
  user: id,
  request_uuid: z.string().min(1).max(100),
  /** Where a call carries it, the instance's operator id (inferred.ts: optional). */
  operator_id: z.union([z.instanceof(JsonNumber), text(50)]).optional(),
  game_code: optionalText(200),
};

const transaction = {
  ...common,
  transaction_uuid: id,
  supplier_transaction_id: z
    .union([text(200), z.instanceof(JsonNumber)])
    .nullable()
    .optional(),
  round,
  round_closed: flag,
  reward_uuid: optionalText(100),
  is_free: flag,
  is_aggregated: flag,
  currency: text(10),
  /** The bet's description in the game (a selection, odds): kept, never read. */
  bet: optionalText(500),
  amount,
  meta: z.record(z.string(), z.unknown()).nullable().optional(),
};

export const calls = {
  '/user/info': z.object(common),
  '/user/balance': z.object({ ...common, token: text(4096).min(1) }),
  '/transaction/bet': z.object({ ...transaction, token: text(4096).min(1) }),
  // A win names the bet it pays; its token is not checked (it may come after the session ended).
  '/transaction/win': z.object({ ...transaction, token: optionalText(4096), reference_transaction_uuid: id }),
  '/transaction/rollback': z.object({
    ...common,
    transaction_uuid: id,
    reference_transaction_uuid: id,
    round: round.nullable().optional(),
    round_closed: flag,
    token: optionalText(4096),
    meta: z.record(z.string(), z.unknown()).nullable().optional(),
  }),
} as const;

export type Endpoint = keyof typeof calls;

/**
 * Fields that make a body another endpoint's call. Hub88 signs the body, not the path it is sent to,
 * and the schemas above accept fields they do not name: without this, a signed win (an amount and the
 * bet it pays) sent to /transaction/rollback would refund that bet, and sent to /transaction/bet would
 * take its amount from the player. Every bet and win states an amount and no rollback does; every win
 * and rollback names the transaction it follows and no bet does.
 */
export const FIELDS_OF_OTHER_CALLS: Readonly<Partial<Record<Endpoint, readonly string[]>>> = {
  '/transaction/bet': ['reference_transaction_uuid'],
  '/transaction/rollback': ['amount'],
};

/** The first field of `payload` that belongs to another endpoint's call (a null one counts as absent). */
export function otherCallsField(endpoint: Endpoint, payload: Readonly<Record<string, unknown>>): string | undefined {
  return FIELDS_OF_OTHER_CALLS[endpoint]?.find((field) => Object.hasOwn(payload, field) && payload[field] !== null);
}

export type Call<E extends Endpoint> = z.infer<(typeof calls)[E]>;

/** The endpoint a request's path names ('/transaction/bet'), or undefined. A trailing slash is allowed. */
export function endpointOf(path: string): Endpoint | undefined {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return Object.hasOwn(calls, p) ? (p as Endpoint) : undefined;
}
