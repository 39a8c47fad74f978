import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgError } from '../../src/ledger/database.ts';
import { reconcile } from '../../src/ledger/reconcile.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { ordinaryActivity, type Activity } from './fixture.ts';

/**
 * The database itself protects the money, whatever code runs against it: these statements are what a
 * buggy service, a second service or a hurried manual fix could send.
 */
let t: TestDatabase;
let a: Activity;

beforeAll(async () => {
  t = await createTestDatabase();
  a = await ordinaryActivity(t.db, 'guard-alice');
  await ordinaryActivity(t.db, 'guard-bob');
});
afterAll(async () => {
  try {
    expect(await reconcile(t.db)).toEqual([]);
  } finally {
    await t.drop();
  }
});

/** The error a raw statement fails with (or null when it succeeds). */
async function failure(statement: { execute(db: TestDatabase['db']): Promise<unknown> }): Promise<{ code?: string; constraint?: string; message: string } | null> {
  return statement.execute(t.db).then(
    () => null,
    (error: { code?: string; constraint?: string; message: string }) => error,
  );
}

/** Counts and balances of everything: to prove a refused statement changed nothing. */
async function snapshot() {
  const { rows } = await sql<Record<string, unknown>>`
    select (select count(*) from transfers) as transfers, (select sum(amount) from transfers) as transferred,
           (select count(*) from provider_transactions) as ptx, (select count(*) from rollbacks) as rollbacks,
           (select count(*) from cashier_operations) as cashier, (select count(*) from accounts) as accounts,
           (select string_agg(id || ':' || balance || ':' || currency, ',' order by id) from accounts) as balances,
           (select string_agg(id || ':' || amount || ':' || kind, ',' order by id) from transfers) as transfer_rows,
           (select string_agg(id || ':' || status || ':' || coalesce(transfer_id::text, '-'), ',' order by id) from provider_transactions) as ptx_rows,
           (select string_agg(id || ':' || coalesce(transfer_id::text, '-'), ',' order by id) from rollbacks) as rollback_rows`.execute(t.db);
  return rows[0]!;
}

async function balanceOf(accountId: bigint): Promise<bigint> {
  const { balance } = await t.db.selectFrom('accounts').select('balance').where('id', '=', accountId).executeTakeFirstOrThrow();
  return balance;
}

/** The game account (slot) the bet of the fixture went to. */
async function gameAccountOf(transferId: bigint): Promise<bigint> {
  const row = await t.db.selectFrom('transfers').select('credit_account_id').where('id', '=', transferId).executeTakeFirstOrThrow();
  return row.credit_account_id;
}

describe('balances move only through transfers', () => {
  it('a direct UPDATE of an account balance is refused', async () => {
    const before = await snapshot();
    const error = await failure(sql`update accounts set balance = balance + 1000 where id = ${a.walletId}`);
    expect(error?.code).toBe('23000');
    expect(error?.message).toMatch(/balance can only change through a transfer/);
    // Also for a house account, and for a bulk update.
    expect((await failure(sql`update accounts set balance = 0 where kind = 'game'`))?.code).toBe('23000');
    expect((await failure(sql`update accounts set balance = balance - 1 where kind = 'cashier'`))?.code).toBe('23000');
    expect(await snapshot()).toEqual(before);
  });

  it("an account's identity (kind, currency, owner, slot) cannot change", async () => {
    const before = await snapshot();
    expect((await failure(sql`update accounts set currency = 'EUR' where id = ${a.walletId}`))?.code).toBe('23000');
    expect((await failure(sql`update accounts set kind = 'cashier', player_id = null where id = ${a.walletId}`))?.code).toMatch(/^23/);
    expect((await failure(sql`update accounts set slot = slot + 1 where kind = 'game'`))?.code).toBe('23000');
    expect(await snapshot()).toEqual(before);
  });

  it("an account's identity cannot change from inside a trigger either", async () => {
    // Inside a trigger a balance may move (that is how a transfer moves it), an identity may not.
    // Tried in a transaction that is always rolled back.
    let outcome: string | undefined;
    await t.db
      .transaction()
      .execute(async (trx) => {
        await sql`create table guard_probe (account_id bigint)`.execute(trx);
        await sql`create function guard_probe_move() returns trigger language plpgsql as $$
          begin update accounts set slot = slot + 1 where id = new.account_id; return new; end $$`.execute(trx);
        await sql`create trigger guard_probe_move after insert on guard_probe for each row execute function guard_probe_move()`.execute(trx);
        outcome = await sql`insert into guard_probe values (${a.walletId})`.execute(trx).then(
          () => 'accepted',
          (e: { code?: string }) => e.code,
        );
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(outcome).toBe('23000');
  });

  it('a new account cannot be opened with money in it', async () => {
    // A balance only ever moves through a transfer, so an account is born empty: an INSERT carrying a
    // balance would create money no transfer accounts for. Tried in a transaction that is always rolled back.
    let outcome: string | undefined;
    await t.db
      .transaction()
      .execute(async (trx) => {
        outcome = await sql`insert into accounts (kind, provider_id, currency, slot, balance) values ('game', 'guard-provider', 'USD', 5, 1000000)`
          .execute(trx)
          .then(() => 'accepted', () => 'refused');
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(outcome).toBe('refused');
  });

  it('a valid transfer moves both balances at once', async () => {
    const { rows } = await sql<{ id: bigint }>`select id from accounts where kind = 'cashier' and currency = 'USD' limit 1`.execute(t.db);
    const cashier = rows[0]!.id;
    const [walletBefore, cashierBefore] = [await balanceOf(a.walletId), await balanceOf(cashier)];
    await t.db.transaction().execute(async (trx) => {
      const { id } = await trx
        .insertInto('transfers')
        .values({ debit_account_id: cashier, credit_account_id: a.walletId, amount: 123n, currency: 'USD', kind: 'deposit' })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('cashier_operations')
        .values({ reference: 'guard-manual-deposit', player_id: a.playerId, kind: 'deposit', currency: 'USD', amount: 123n, transfer_id: id })
        .execute();
    });
    expect(await balanceOf(a.walletId)).toBe(walletBefore + 123n);
    expect(await balanceOf(cashier)).toBe(cashierBefore - 123n);
    expect(await reconcile(t.db)).toEqual([]);
  });

  it('a transfer that would make a player wallet negative fails with a check violation', async () => {
    const balance = await balanceOf(a.walletId);
    const game = await gameAccountOf(a.betTransferId);
    const before = await snapshot();
    const error = await failure(sql`
      insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
      values (${a.walletId}, ${game}, ${balance + 1n}, 'USD', 'bet')`);
    expect(error?.code).toBe(PgError.checkViolation);
    expect(error?.constraint).toBe('player_wallet_not_negative');
    expect(await snapshot()).toEqual(before);
    expect(await balanceOf(a.walletId)).toBe(balance);
  });

  it('a transfer between accounts of different currencies is refused', async () => {
    const game = await gameAccountOf(a.betTransferId); // a USD account
    const before = await snapshot();
    // Named in either currency, one side does not match.
    for (const currency of ['USD', 'EUR']) {
      const error = await failure(sql`
        insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
        values (${a.eurWalletId}, ${game}, 100, ${currency}, 'bet')`);
      expect(error, currency).not.toBeNull();
      expect(error?.message).toMatch(/missing or not in/);
    }
    // Both accounts USD, transfer labelled EUR.
    expect(
      await failure(sql`insert into transfers (debit_account_id, credit_account_id, amount, currency, kind) values (${a.walletId}, ${game}, 100, 'EUR', 'bet')`),
    ).not.toBeNull();
    expect(await snapshot()).toEqual(before);
  });

  it('a negative transfer, a transfer to itself or to a missing account is refused', async () => {
    const game = await gameAccountOf(a.betTransferId);
    const before = await snapshot();
    const insert = (from: bigint, to: bigint, amount: bigint) =>
      failure(sql`insert into transfers (debit_account_id, credit_account_id, amount, currency, kind) values (${from}, ${to}, ${amount}, 'USD', 'win')`);
    expect((await insert(game, a.walletId, -100n))?.code).toBe(PgError.checkViolation);
    expect((await insert(a.walletId, a.walletId, 100n))?.code).toBe(PgError.checkViolation);
    expect((await insert(game, 987_654_321n, 100n))?.code).toMatch(/^(23503|P0001)$/);
    expect(await snapshot()).toEqual(before);
  });
});

describe('the ledger is insert-only', () => {
  const cases: [table: string, update: string][] = [
    ['transfers', 'amount = amount + 1'],
    ['provider_transactions', "status = 'refused', refusal = 'conflict', transfer_id = null"],
    ['rollbacks', 'transfer_id = null'],
    ['cashier_operations', 'amount = amount + 1'],
  ];

  it.each(cases)('UPDATE of %s is refused', async (table, assignment) => {
    const before = await snapshot();
    const error = await failure(sql`update ${sql.table(table)} set ${sql.raw(assignment)} where id = (select max(id) from ${sql.table(table)})`);
    expect(error?.code).toBe('23000');
    expect(error?.message).toMatch(/insert-only: UPDATE refused/);
    expect(await snapshot()).toEqual(before);
  });

  it.each(cases)('DELETE from %s is refused', async (table) => {
    const before = await snapshot();
    const error = await failure(sql`delete from ${sql.table(table)}`);
    expect(error?.code).toBe('23000');
    expect(error?.message).toMatch(/insert-only: DELETE refused/);
    expect(await snapshot()).toEqual(before);
  });

  it('TRUNCATE of the ledger tables is refused, cascading or not', async () => {
    const before = await snapshot();
    // Plain TRUNCATE transfers is stopped (by the foreign keys first); with CASCADE, by the triggers.
    expect(await failure(sql`truncate transfers`)).not.toBeNull();
    for (const table of ['transfers', 'provider_transactions', 'rollbacks', 'cashier_operations']) {
      const error = await failure(sql`truncate ${sql.table(table)} cascade`);
      expect(error?.code, table).toBe('23000');
      expect(error?.message).toMatch(/insert-only: TRUNCATE refused/);
    }
    // Truncating what the ledger hangs from cascades into it and is refused too.
    expect((await failure(sql`truncate accounts cascade`))?.code).toBe('23000');
    expect((await failure(sql`truncate players cascade`))?.code).toBe('23000');
    expect(await snapshot()).toEqual(before);
  });

  it('an account that has transfers cannot be deleted', async () => {
    const before = await snapshot();
    expect((await failure(sql`delete from accounts where id = ${a.walletId}`))?.code).toBe('23503');
    expect(await snapshot()).toEqual(before);
  });
});

describe('uniqueness', () => {
  it('a second provider transaction with the same (provider_id, external_id) fails with a unique violation', async () => {
    const before = await snapshot();
    const error = await failure(sql`
      insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, status, refusal)
      values ('scorpio-play', 'guard-alice-bet', ${a.playerId}, 'debit', 'USD', 1, 'refused', 'insufficient_funds')`);
    expect(error?.code).toBe(PgError.uniqueViolation);
    expect(error?.constraint).toBe('provider_transaction_unique');
    // The same id at another provider is a different transaction.
    expect(
      await failure(sql`
        insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, status, refusal)
        values ('another-provider', 'guard-alice-bet', ${a.playerId}, 'debit', 'USD', 1, 'refused', 'insufficient_funds')`),
    ).toBeNull();
    const after = await snapshot();
    expect(after.ptx).toBe((before.ptx as bigint) + 1n);
  });

  it('a second rollback of the same target fails with a unique violation', async () => {
    const error = await failure(sql`
      insert into rollbacks (provider_id, target_external_id, player_id) values ('scorpio-play', 'guard-alice-bet-2', ${a.playerId})`);
    expect(error?.code).toBe(PgError.uniqueViolation);
    expect(error?.constraint).toBe('rollback_unique');
  });

  it('one transfer cannot be claimed by two provider transactions', async () => {
    const error = await failure(sql`
      insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, status, transfer_id)
      values ('scorpio-play', 'guard-steal', ${a.playerId}, 'debit', 'USD', 1500, 'applied', ${a.betTransferId})`);
    expect(error?.code).toBe(PgError.uniqueViolation);
  });

  it("an applied provider transaction must name its transfer, a refused one its reason", async () => {
    const insert = (status: string, refusal: string | null) =>
      failure(sql`
        insert into provider_transactions (provider_id, external_id, player_id, kind, currency, amount, status, refusal)
        values ('scorpio-play', ${`guard-shape-${status}`}, ${a.playerId}, 'debit', 'USD', 1, ${status}, ${refusal})`);
    expect((await insert('applied', null))?.code).toBe(PgError.checkViolation);
    expect((await insert('refused', null))?.code).toBe(PgError.checkViolation);
  });
});
