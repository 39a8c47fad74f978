import { z } from 'zod';
import { JsonNumber } from '../../src/money/json.ts';

/**
 * TEMPLATE: the vendor's wire format, as zod schemas. Replace with the vendor's own fields.
 * Bodies are parsed with parseJsonExact, so every JSON number arrives as a JsonNumber carrying its
 * source text: money is converted from that text, never from a float.
 *
 * This template's dialect: POST JSON `{ "type", "player", "tx", "round", "target", "amount" }` with the
 * shared secret in an `X-Template-Key` header; answers `{ "status", "balance" }`.
 */
const id = z.string().trim().min(1).max(100);
const amount = z.union([z.string().max(64), z.instanceof(JsonNumber)]).transform((v) => (typeof v === 'string' ? v : v.source));

export const request = z.discriminatedUnion('type', [
  z.object({ type: z.literal('balance'), player: id }),
  z.object({ type: z.literal('bet'), player: id, tx: id, round: id, amount }),
  z.object({ type: z.literal('win'), player: id, tx: id, round: id, amount }),
  z.object({ type: z.literal('rollback'), player: id, target: id }),
]);

export type Request = z.infer<typeof request>;
