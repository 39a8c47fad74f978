import { z } from 'zod';
import { storableId } from '../../src/gateway/wire.ts';
import { JsonNumber } from '../../src/money/json.ts';

/**
 * The vendor's wire format, as zod schemas. Bodies are parsed with parseJsonExact, so every JSON
 * number arrives as a JsonNumber carrying its source text: money is converted from that text, never
 * from a float.
 * TEMPLATE: replace with the vendor's own fields. This one: POST JSON `{ "type", "player", "tx",
 * TEMPLATE: "round", "target", "amount", "promo" }` with the shared secret in an `X-Template-Key`
 * TEMPLATE: header; answers `{ "status", "balance" }`.
 */
const id = storableId(100);
const amount = z.union([z.string().max(64), z.instanceof(JsonNumber)]).transform((v) => (typeof v === 'string' ? v : v.source));

export const request = z.discriminatedUnion('type', [
  z.object({ type: z.literal('balance'), player: id }),
  // `game`: the vendor's name of the game, kept with the transaction for audit.
  z.object({ type: z.literal('bet'), player: id, tx: id, round: id, amount, game: z.string().max(200).optional() }),
  // `promo`: a win the vendor pays without a stake (a free round, a promotion).
  z.object({ type: z.literal('win'), player: id, tx: id, round: id, amount, promo: z.boolean().optional() }),
  z.object({ type: z.literal('rollback'), player: id, target: id }),
]);

export type Request = z.infer<typeof request>;
