import { z } from 'zod';
import { isStorable } from '../ledger/storable.ts';

/**
 * Schema pieces every dialect's wire format needs. An identifier a vendor sends (a transaction, a
 * player, a round, a bet line) is kept as text and compared for idempotency, so it must be text
 * Postgres can store exactly: one with a NUL or an unpaired surrogate is refused at the door (a free
 * text field with one is kept, made storable, in the history).
 */
export const storableId = (max: number) =>
  z
    .string()
    .max(max)
    // Kept as sent: trimmed, " 7" and "7" would be one transaction, and the second a "repeat" of the first.
    .refine((id) => id.trim() !== '', 'must not be blank')
    .refine(isStorable, 'contains a character that cannot be stored (NUL or an unpaired surrogate)');
