import { z } from 'zod';
import { storableId } from '../../src/gateway/wire.ts';
import { JsonNumber } from '../../src/money/json.ts';

/**
 * The command dialect's wire format (docs/specs/command-dialect.md). Bodies are parsed with
 * parseJsonExact, so every JSON number arrives as a JsonNumber carrying its source text.
 */

/** Ids are opaque text internally; vendors send them as integers or strings. */
const opaqueId = z.union([
  storableId(100),
  z.instanceof(JsonNumber).refine((n) => /^\d{1,30}$/.test(n.source), 'an id must be a non-negative integer'),
]);

/** A decimal amount as text: a JSON number's source, or a string. Converted to minor units later. */
const amountText = z.union([z.string().max(64), z.instanceof(JsonNumber)]).transform((v) => (typeof v === 'string' ? v : v.source));

const account = storableId(100);

/**
 * 0 for an ordinary transaction, else the id of a bonus-call promotion, whose win needs no stake: a
 * number, or its digits as text. Anything else is malformed rather than read as a promotion's id.
 */
const callId = z.union([
  z.string().regex(/^\d{1,30}$/, 'call_id must be a non-negative integer'),
  z.instanceof(JsonNumber).refine((n) => /^\d{1,30}$/.test(n.source), 'call_id must be a non-negative integer'),
]);

const gameContext = {
  call_id: callId.optional(),
  provider_id: z.union([z.string().max(100), z.instanceof(JsonNumber)]).optional(),
  game_code: z.string().max(200).optional(),
  game_name: z.string().max(200).optional(),
  game_type: z.union([z.string().max(100), z.instanceof(JsonNumber)]).optional(),
};

const money = z.object({
  account,
  trans_id: opaqueId,
  round_id: opaqueId,
  amount: amountText,
  type: z.instanceof(JsonNumber).optional(),
  ...gameContext,
});

export const commandData = {
  authenticate: z.object({ account }),
  balance: z.object({ account }),
  bet: money,
  win: money,
  cancel: z.object({ account, trans_id: opaqueId, round_id: opaqueId.optional(), ...gameContext }),
  status: z.object({ account, trans_id: opaqueId }),
} as const;

export type CommandName = keyof typeof commandData;

const SECONDS = /^\d{1,12}$/;

export const envelope = z.object({
  command: z.string().max(50),
  data: z.record(z.string(), z.unknown()),
  // Unix seconds, as a string (the spec), or as a number: anything else is a malformed call (rule 6).
  timestamp: z.union([z.string().regex(SECONDS, 'unix seconds'), z.instanceof(JsonNumber).refine((n) => SECONDS.test(n.source), 'unix seconds')]).optional(),
  check: z.string().max(100).optional(),
});

/** A call of a known command, its data checked against that command's fields. */
export const call = z.discriminatedUnion('command', [
  z.object({ command: z.literal('authenticate'), data: commandData.authenticate }),
  z.object({ command: z.literal('balance'), data: commandData.balance }),
  z.object({ command: z.literal('bet'), data: commandData.bet }),
  z.object({ command: z.literal('win'), data: commandData.win }),
  z.object({ command: z.literal('cancel'), data: commandData.cancel }),
  z.object({ command: z.literal('status'), data: commandData.status }),
]);

/** Transaction type codes the vendor puts in `type`: 1 Bet, 2 Win, 32 BonusCall win. */
export const BET_TYPES = new Set(['1']);
export const BONUS_CALL_TYPE = '32';
export const WIN_TYPES = new Set(['2', BONUS_CALL_TYPE]);

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(commandData, name);
}
