import { sql, type Kysely } from 'kysely';

/**
 * The double-entry ledger. Everything that protects money is enforced here, by the database, so that
 * no code path (a bug, a manual fix, a second service) can break it:
 * - a player wallet can never go negative (CHECK);
 * - a balance only ever moves through a transfer (the transfer's insert trigger moves both sides, and a
 *   direct UPDATE of a balance is refused), so balance = credits - debits holds by construction;
 * - transfers, provider transactions, rollback markers and cashier operations are insert-only;
 * - a provider transaction id is unique per provider, and so is a rollback marker's target.
 *
 * House accounts (a provider's game account, the cashier) are split into slots: a player's operations
 * always touch the slot chosen by the player's id, so concurrent bets of different players update
 * different rows instead of queueing on one hot row. A house account's balance is the sum of its slots.
 */
const statements = [
  sql`create table players (
    id bigint generated always as identity primary key,
    code text not null unique check (length(code) between 1 and 100),
    status text not null default 'active' check (status in ('active', 'blocked')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,

  sql`create table accounts (
    id bigint generated always as identity primary key,
    kind text not null check (kind in ('player', 'game', 'cashier')),
    player_id bigint references players (id),
    provider_id text,
    currency char(3) not null,
    slot smallint not null default 0 check (slot >= 0),
    balance bigint not null default 0,
    created_at timestamptz not null default now(),
    constraint account_owner check ((kind = 'player') = (player_id is not null) and (kind = 'game') = (provider_id is not null)),
    constraint player_wallet_not_negative check (kind <> 'player' or balance >= 0)
  )`,
  sql`create unique index accounts_player_wallet on accounts (player_id, currency) where kind = 'player'`,
  sql`create unique index accounts_game_slot on accounts (provider_id, currency, slot) where kind = 'game'`,
  sql`create unique index accounts_cashier_slot on accounts (currency, slot) where kind = 'cashier'`,

  sql`create table transfers (
    id bigint generated always as identity primary key,
    debit_account_id bigint not null references accounts (id),
    credit_account_id bigint not null references accounts (id),
    amount bigint not null check (amount >= 0),
    currency char(3) not null,
    kind text not null check (kind in ('bet', 'win', 'bet_refund', 'win_reversal', 'deposit', 'withdrawal')),
    created_at timestamptz not null default now(),
    check (debit_account_id <> credit_account_id)
  )`,
  sql`create index transfers_debit_account on transfers (debit_account_id, id)`,
  sql`create index transfers_credit_account on transfers (credit_account_id, id)`,

  sql`create table rounds (
    id bigint generated always as identity primary key,
    provider_id text not null,
    external_id text not null,
    player_id bigint not null references players (id),
    created_at timestamptz not null default now(),
    unique (provider_id, external_id)
  )`,

  sql`create table provider_transactions (
    id bigint generated always as identity primary key,
    provider_id text not null,
    external_id text not null,
    player_id bigint not null references players (id),
    kind text not null check (kind in ('debit', 'credit')),
    currency char(3) not null,
    amount bigint not null check (amount >= 0),
    round_id bigint references rounds (id),
    status text not null check (status in ('applied', 'refused')),
    refusal text,
    transfer_id bigint unique references transfers (id),
    details jsonb,
    created_at timestamptz not null default now(),
    constraint provider_transaction_unique unique (provider_id, external_id),
    check ((status = 'applied') = (transfer_id is not null)),
    check ((status = 'refused') = (refusal is not null))
  )`,
  sql`create index provider_transactions_player on provider_transactions (player_id, id)`,

  sql`create table rollbacks (
    id bigint generated always as identity primary key,
    provider_id text not null,
    target_external_id text not null,
    player_id bigint not null references players (id),
    target_id bigint references provider_transactions (id),
    transfer_id bigint unique references transfers (id),
    created_at timestamptz not null default now(),
    constraint rollback_unique unique (provider_id, target_external_id),
    check (transfer_id is null or target_id is not null)
  )`,

  sql`create table cashier_operations (
    id bigint generated always as identity primary key,
    reference text not null unique,
    player_id bigint not null references players (id),
    kind text not null check (kind in ('deposit', 'withdrawal')),
    currency char(3) not null,
    amount bigint not null check (amount > 0),
    transfer_id bigint not null unique references transfers (id),
    created_at timestamptz not null default now()
  )`,

  sql`create function ledger_apply_transfer() returns trigger language plpgsql as $$
  begin
    update accounts set balance = balance - new.amount where id = new.debit_account_id and currency = new.currency;
    if not found then
      raise exception 'transfer debits account % which is missing or not in %', new.debit_account_id, new.currency;
    end if;
    update accounts set balance = balance + new.amount where id = new.credit_account_id and currency = new.currency;
    if not found then
      raise exception 'transfer credits account % which is missing or not in %', new.credit_account_id, new.currency;
    end if;
    return null;
  end $$`,
  sql`create trigger transfers_apply after insert on transfers for each row execute function ledger_apply_transfer()`,

  // A balance moves only from inside ledger_apply_transfer (trigger depth 2), never by a direct UPDATE,
  // and an account is born empty: money only ever arrives by a transfer.
  sql`create function ledger_guard_balance() returns trigger language plpgsql as $$
  begin
    if tg_op = 'INSERT' then
      if new.balance <> 0 then
        raise exception 'an account is opened with balance 0, not %', new.balance using errcode = 'integrity_constraint_violation';
      end if;
      return new;
    end if;
    if new.balance is distinct from old.balance and pg_trigger_depth() < 2 then
      raise exception 'account % balance can only change through a transfer', old.id using errcode = 'integrity_constraint_violation';
    end if;
    if new.kind <> old.kind or new.currency <> old.currency or new.player_id is distinct from old.player_id
       or new.provider_id is distinct from old.provider_id or new.slot <> old.slot then
      raise exception 'account % identity is immutable', old.id using errcode = 'integrity_constraint_violation';
    end if;
    return new;
  end $$`,
  sql`create trigger accounts_guard_balance before insert or update on accounts for each row execute function ledger_guard_balance()`,

  sql`create function ledger_refuse_change() returns trigger language plpgsql as $$
  begin
    raise exception '% is insert-only: % refused', tg_table_name, tg_op using errcode = 'integrity_constraint_violation';
  end $$`,
  ...['transfers', 'provider_transactions', 'rollbacks', 'cashier_operations'].flatMap((table) => [
    sql`create trigger ${sql.raw(`${table}_insert_only`)} before update or delete on ${sql.table(table)} for each row execute function ledger_refuse_change()`,
    sql`create trigger ${sql.raw(`${table}_no_truncate`)} before truncate on ${sql.table(table)} for each statement execute function ledger_refuse_change()`,
  ]),
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['cashier_operations', 'rollbacks', 'provider_transactions', 'rounds', 'transfers', 'accounts', 'players']) {
    await sql`drop table if exists ${sql.table(table)} cascade`.execute(db);
  }
  for (const fn of ['ledger_apply_transfer', 'ledger_guard_balance', 'ledger_refuse_change']) {
    await sql`drop function if exists ${sql.raw(fn)}()`.execute(db);
  }
}
