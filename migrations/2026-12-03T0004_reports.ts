import { sql, type Kysely } from 'kysely';

/**
 * Revenue reports (GGR) read from the ledger:
 * - provider_transactions.game: the vendor's game of a money call (the adapter says which field it
 *   is), so reports can be cut by game. Null where a dialect names none.
 * - BRIN indexes on when provider transactions and rollbacks were made: a day's or an hour's money
 *   is found without a scan of the whole ledger, at almost no cost to inserts (rows arrive in time
 *   order).
 * - report_days: each closed UTC day's totals per provider, game and currency, computed once the
 *   day is over by a scheduled job (src/reports/ggr.ts); report_days_done says which days are done.
 *   A report reads closed days from here and today (and a day still settling) from the ledger.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table provider_transactions add column game text`.execute(db);
  await sql`create index provider_transactions_made on provider_transactions using brin (created_at)`.execute(db);
  await sql`create index rollbacks_made on rollbacks using brin (created_at)`.execute(db);
  await sql`create table report_days (
    day date not null,
    provider_id text not null,
    game text not null,
    currency text not null,
    rounds bigint not null,
    players bigint not null,
    bets bigint not null,
    stakes bigint not null,
    refunds bigint not null,
    wins bigint not null,
    reversals bigint not null,
    adjustments bigint not null,
    promo_wins bigint not null,
    primary key (day, provider_id, game, currency)
  )`.execute(db);
  await sql`create table report_days_done (
    day date primary key,
    computed_at timestamptz not null default now()
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists report_days_done`.execute(db);
  await sql`drop table if exists report_days`.execute(db);
  await sql`drop index if exists rollbacks_made`.execute(db);
  await sql`drop index if exists provider_transactions_made`.execute(db);
  await sql`alter table provider_transactions drop column if exists game`.execute(db);
}
