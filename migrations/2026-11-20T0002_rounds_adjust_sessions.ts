import { sql, type Kysely } from 'kysely';

/**
 * Table games: one transaction may carry several bets of a round, each with the vendor's own index,
 * and a later cancel may name some of them; a settled round's result may be changed. And player
 * sessions (login / logout) are kept for audit.
 *
 * - bet_lines: the bets inside a debit, unique per round and index.
 * - line_cancels: one per cancelled (round, index), durable even when the bet has not arrived yet, so
 *   a late bet naming it is refused (the line-level twin of `rollbacks`).
 * - provider_transactions gains the kinds `refund` (a cancel that has its own transaction id and
 *   refunds bet lines) and `adjust` (a result change; its amount is the round's new settlement).
 */
const statements = [
  sql`alter table provider_transactions drop constraint provider_transactions_kind_check`,
  sql`alter table provider_transactions add constraint provider_transactions_kind_check
      check (kind in ('debit', 'credit', 'refund', 'adjust'))`,
  sql`alter table transfers drop constraint transfers_kind_check`,
  sql`alter table transfers add constraint transfers_kind_check
      check (kind in ('bet', 'win', 'bet_refund', 'win_reversal', 'adjustment', 'deposit', 'withdrawal'))`,
  sql`create index provider_transactions_round on provider_transactions (round_id) where round_id is not null`,

  sql`create table bet_lines (
    id bigint generated always as identity primary key,
    provider_transaction_id bigint not null references provider_transactions (id),
    round_id bigint not null references rounds (id),
    ref text not null,
    amount bigint not null check (amount >= 0),
    constraint bet_line_unique unique (round_id, ref)
  )`,
  sql`create index bet_lines_transaction on bet_lines (provider_transaction_id)`,

  sql`create table line_cancels (
    id bigint generated always as identity primary key,
    provider_id text not null,
    round_external_id text not null,
    ref text not null,
    player_id bigint not null references players (id),
    line_id bigint unique references bet_lines (id),
    cancel_id bigint not null references provider_transactions (id),
    created_at timestamptz not null default now(),
    constraint line_cancel_unique unique (provider_id, round_external_id, ref)
  )`,
  sql`create index line_cancels_cancel on line_cancels (cancel_id)`,

  sql`create table player_sessions (
    id bigint generated always as identity primary key,
    provider_id text not null,
    external_id text not null,
    player_id bigint not null references players (id),
    kind text not null check (kind in ('login', 'logout')),
    details jsonb,
    created_at timestamptz not null default now(),
    constraint player_session_unique unique (provider_id, external_id)
  )`,
  sql`create index player_sessions_player on player_sessions (player_id, id)`,

  ...['bet_lines', 'line_cancels', 'player_sessions'].flatMap((table) => [
    sql`create trigger ${sql.raw(`${table}_insert_only`)} before update or delete on ${sql.table(table)} for each row execute function ledger_refuse_change()`,
    sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)} for each statement execute function ledger_refuse_change()`,
  ]),
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['player_sessions', 'line_cancels', 'bet_lines']) await sql`drop table if exists ${sql.table(table)}`.execute(db);
  await sql`drop index if exists provider_transactions_round`.execute(db);
  await sql`alter table transfers drop constraint transfers_kind_check`.execute(db);
  await sql`alter table transfers add constraint transfers_kind_check
      check (kind in ('bet', 'win', 'bet_refund', 'win_reversal', 'deposit', 'withdrawal'))`.execute(db);
  await sql`alter table provider_transactions drop constraint provider_transactions_kind_check`.execute(db);
  await sql`alter table provider_transactions add constraint provider_transactions_kind_check check (kind in ('debit', 'credit'))`.execute(db);
}
