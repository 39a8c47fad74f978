import { sql, type Kysely } from 'kysely';

/**
 * A transfer moves both balances in one UPDATE instead of two. The rules are the same: both accounts
 * must exist and be in the transfer's currency (two rows, or the transfer fails), the balance guard
 * still runs for each row, and a player wallet still cannot go negative (its CHECK). What changes is
 * the cost: one statement inside the trigger instead of two, so its start, its CHECK expressions and
 * its plan are paid once per transfer (a pgbench of eight transfers per transaction on one
 * connection: 296-315 -> 376-397 transactions/s, docs/performance.md).
 *
 * The two rows are locked in the order of their ids (the index scan of `id in (...)`) rather than
 * debit first. Every wallet operation holds its player's wallet row already, so the house row is the
 * only one it takes here, as before; and the operations of a group write their transfers in the
 * order of their house accounts' ids (HouseOrder), which this order agrees with.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create or replace function ledger_apply_transfer() returns trigger language plpgsql as $$
  declare
    moved integer;
  begin
    update accounts set balance = balance + case when id = new.credit_account_id then new.amount else -new.amount end
    where id in (new.debit_account_id, new.credit_account_id) and currency = new.currency;
    get diagnostics moved = row_count;
    if moved <> 2 then
      raise exception 'transfer from account % to account %: one of them is missing or not in %',
        new.debit_account_id, new.credit_account_id, new.currency;
    end if;
    return null;
  end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create or replace function ledger_apply_transfer() returns trigger language plpgsql as $$
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
  end $$`.execute(db);
}
