import { sql, type Kysely } from 'kysely';

/**
 * A dialect may call the wallet on several endpoints of its provider's webhook address (one per
 * call, as Hub88-style vendors do): the history keeps the path a call came to, which a replay and
 * an import need to read it again. And a rollback may have an id of its own (its transaction id):
 * kept, so the same rollback id naming another transaction is told apart from a repeat.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table webhooks add column path text not null default ''`.execute(db);
  await sql`alter table rollbacks add column external_id text`.execute(db);
  await sql`create unique index rollbacks_external on rollbacks (provider_id, external_id) where external_id is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists rollbacks_external`.execute(db);
  await sql`alter table rollbacks drop column external_id`.execute(db);
  await sql`alter table webhooks drop column path`.execute(db);
}
