import { sql, type Kysely } from 'kysely';

/**
 * "Was this transaction rolled back?" is asked by its id (a round's settled credit, a bet line's
 * parent, a round's payout so far); without this index each ask scanned every rollback, a cost that
 * grew with the ledger (22 ms at 10M transfers, found by `npm run bench:scale`'s EXPLAIN check).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index rollbacks_target on rollbacks (target_id) where target_id is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists rollbacks_target`.execute(db);
}
