import { sql, type Kysely } from 'kysely';

/**
 * Faults that owe nothing (a bet answered as failed, never taken later; a read) are settled as they
 * are written from now on (src/webhooks/history.ts). Those already kept are settled the same way, so
 * they leave the inbox and the failure count too. Nothing else changes: they stay faults.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update webhooks set resolved_at = received_at
    where outcome = 'fault' and resolved_at is null
      and operation ->> 'op' in ('authenticate', 'balance', 'session', 'status', 'debit')`.execute(db);
}

export async function down(): Promise<void> {
  // Which rows this settled is not kept apart from those settled as written: nothing to undo.
}
