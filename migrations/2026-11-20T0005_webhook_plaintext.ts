import { sql, type Kysely } from 'kysely';

/**
 * A webhook imported from a vendor's export as its decoded payload keeps that payload as its body,
 * not the wire form (ciphertext, for the event dialect); a replay must read it the same way.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhooks add column plaintext boolean not null default false`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhooks drop column plaintext`.execute(db);
}
