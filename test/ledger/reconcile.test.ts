import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/ledger/schema.ts';
import { reconcile, type Break } from '../../src/ledger/reconcile.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { ordinaryActivity, type Activity } from './fixture.ts';

/**
 * reconcile trusts neither code nor triggers. Each test corrupts a clean ledger the way only someone
 * bypassing the guards could (session_replication_role = replica disables the triggers, and the
 * foreign keys with them, for that one connection), checks that reconcile names the right invariant,
 * then repairs the corruption the same way so the next test starts clean again.
 */
let t: TestDatabase;
let a: Activity;

beforeAll(async () => {
  t = await createTestDatabase();
  a = await ordinaryActivity(t.db, 'rec-alice');
  await ordinaryActivity(t.db, 'rec-bob');
});
afterEach(async () => {
  // Every repair must leave the ledger exactly clean again.
  expect(await reconcile(t.db)).toEqual([]);
});
afterAll(() => t.drop());

type Conn = Kysely<Database>;

/** Runs `work` on one connection with the triggers off, and always turns them back on before the connection goes back to the pool. */
async function withTriggersOff(work: (conn: Conn) => Promise<void>): Promise<void> {
  await t.db.connection().execute(async (conn) => {
    await sql`set session_replication_role = replica`.execute(conn);
    try {
      await work(conn);
    } finally {
      await sql`set session_replication_role = origin`.execute(conn);
    }
  });
}

/** Corrupts, reconciles from another connection, repairs; returns the breaks found. */
async function breaksAfter(corrupt: (conn: Conn) => Promise<void>, repair: (conn: Conn) => Promise<void>): Promise<Break[]> {
  await withTriggersOff(corrupt);
  try {
    return await reconcile(t.db);
  } finally {
    await withTriggersOff(repair);
  }
}

const checks = (breaks: Break[]) => [...new Set(breaks.map((b) => b.check))].sort();

async function transferRow(id: bigint) {
  return t.db.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function balanceOf(id: bigint): Promise<bigint> {
  return (await t.db.selectFrom('accounts').select('balance').where('id', '=', id).executeTakeFirstOrThrow()).balance;
}

describe('reconcile', () => {
  it('finds nothing wrong after ordinary activity', async () => {
    expect(await reconcile(t.db)).toEqual([]);
  });

  it('detects a player balance changed directly', async () => {
    const original = await balanceOf(a.walletId);
    const breaks = await breaksAfter(
      (conn) => sql`update accounts set balance = balance + 500 where id = ${a.walletId}`.execute(conn).then(() => undefined),
      (conn) => sql`update accounts set balance = ${original} where id = ${a.walletId}`.execute(conn).then(() => undefined),
    );
    expect(checks(breaks)).toEqual(['balance = credits - debits', 'balances sum to zero per currency']);
    expect(breaks).toContainEqual({ check: 'balance = credits - debits', detail: `account ${a.walletId}: balance ${original + 500n}, transfers say ${original}` });
    expect(breaks).toContainEqual({ check: 'balances sum to zero per currency', detail: 'USD: sum 500' });
    expect(await balanceOf(a.walletId)).toBe(original);
  });

  it('detects a deleted transfer', async () => {
    const row = await transferRow(a.betTransferId);
    const breaks = await breaksAfter(
      (conn) => sql`delete from transfers where id = ${row.id}`.execute(conn).then(() => undefined),
      (conn) =>
        sql`insert into transfers (id, debit_account_id, credit_account_id, amount, currency, kind, created_at) overriding system value
            values (${row.id}, ${row.debit_account_id}, ${row.credit_account_id}, ${row.amount}, ${row.currency}, ${row.kind}, ${row.created_at})`
          .execute(conn)
          .then(() => undefined),
    );
    expect(checks(breaks)).toEqual(['applied provider transaction has its transfer', 'balance = credits - debits']);
    expect(breaks).toContainEqual({ check: 'applied provider transaction has its transfer', detail: `provider transaction ${a.betTxId}` });
    // Both sides of the lost transfer no longer add up.
    const accounts = breaks.filter((b) => b.check === 'balance = credits - debits').map((b) => b.detail.split(':')[0]);
    expect(accounts.sort()).toEqual([`account ${row.credit_account_id}`, `account ${row.debit_account_id}`].sort());
  });

  it('detects a transfer no provider transaction, rollback or cashier operation accounts for', async () => {
    const bet = await transferRow(a.betTransferId);
    let orphan = 0n;
    const breaks = await breaksAfter(
      async (conn) => {
        const { rows } = await sql<{ id: bigint }>`
          insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
          values (${bet.credit_account_id}, ${bet.debit_account_id}, 4200, 'USD', 'win') returning id`.execute(conn);
        orphan = rows[0]!.id;
      },
      (conn) => sql`delete from transfers where id = ${orphan}`.execute(conn).then(() => undefined),
    );
    expect(breaks).toContainEqual({ check: 'every transfer has exactly one cause', detail: `transfer ${orphan} (win)` });
    // With the triggers off it moved no balance either.
    expect(checks(breaks)).toEqual(['balance = credits - debits', 'every transfer has exactly one cause']);
  });

  it('detects an orphan transfer even when it moved both balances consistently', async () => {
    const bet = await transferRow(a.betTransferId);
    // Inserted with the triggers on (a transfer insert is allowed), so the balances follow it and only the missing cause is left.
    const { rows } = await sql<{ id: bigint }>`
      insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
      values (${bet.credit_account_id}, ${bet.debit_account_id}, 4200, 'USD', 'win') returning id`.execute(t.db);
    const orphan = rows[0]!.id;
    try {
      expect(await reconcile(t.db)).toEqual([{ check: 'every transfer has exactly one cause', detail: `transfer ${orphan} (win)` }]);
    } finally {
      await withTriggersOff(async (conn) => {
        await sql`delete from transfers where id = ${orphan}`.execute(conn);
        await sql`update accounts set balance = balance + 4200 where id = ${bet.credit_account_id}`.execute(conn);
        await sql`update accounts set balance = balance - 4200 where id = ${bet.debit_account_id}`.execute(conn);
      });
    }
  });

  it('detects a transfer whose amount was changed', async () => {
    const win = await transferRow(a.winTransferId);
    const breaks = await breaksAfter(
      (conn) => sql`update transfers set amount = amount + 1 where id = ${win.id}`.execute(conn).then(() => undefined),
      (conn) => sql`update transfers set amount = ${win.amount} where id = ${win.id}`.execute(conn).then(() => undefined),
    );
    expect(checks(breaks)).toEqual(['applied provider transaction has its transfer', 'balance = credits - debits']);
    expect(breaks.filter((b) => b.check === 'balance = credits - debits')).toHaveLength(2);
  });

  it('detects a refund that does not reverse its bet', async () => {
    const refund = await transferRow(a.refundTransferId);
    const breaks = await breaksAfter(
      (conn) => sql`update transfers set amount = amount * 2 where id = ${refund.id}`.execute(conn).then(() => undefined),
      (conn) => sql`update transfers set amount = ${refund.amount} where id = ${refund.id}`.execute(conn).then(() => undefined),
    );
    expect(checks(breaks)).toEqual(['balance = credits - debits', 'rollback reverses exactly its target']);
    expect(breaks).toContainEqual({ check: 'rollback reverses exactly its target', detail: `rollback ${a.refundRollbackId}` });
  });

  it('detects a rollback marker that lost its refund', async () => {
    const breaks = await breaksAfter(
      (conn) => sql`update rollbacks set transfer_id = null where id = ${a.refundRollbackId}`.execute(conn).then(() => undefined),
      (conn) => sql`update rollbacks set transfer_id = ${a.refundTransferId} where id = ${a.refundRollbackId}`.execute(conn).then(() => undefined),
    );
    // The bet's line stays cancelled while no refund of its stake is left.
    expect(checks(breaks)).toEqual([
      'a line is cancelled exactly when its stake was refunded (never settled and cancelled)',
      'every transfer has exactly one cause',
      'rollback reverses exactly its target',
    ]);
  });

  it('detects a transfer whose currency does not match its accounts', async () => {
    const bet = await transferRow(a.betTransferId);
    const breaks = await breaksAfter(
      (conn) => sql`update transfers set currency = 'EUR' where id = ${bet.id}`.execute(conn).then(() => undefined),
      (conn) => sql`update transfers set currency = ${bet.currency} where id = ${bet.id}`.execute(conn).then(() => undefined),
    );
    expect(breaks).toContainEqual({ check: 'transfer currency matches its accounts', detail: `transfer ${bet.id}` });
    expect(checks(breaks)).toEqual(['applied provider transaction has its transfer', 'transfer currency matches its accounts']);
  });

  it('detects a deleted cashier operation (its deposit has no cause left)', async () => {
    const op = await t.db.selectFrom('cashier_operations').selectAll().where('reference', '=', a.depositReference).executeTakeFirstOrThrow();
    const breaks = await breaksAfter(
      (conn) => sql`delete from cashier_operations where id = ${op.id}`.execute(conn).then(() => undefined),
      (conn) =>
        sql`insert into cashier_operations (id, reference, player_id, kind, currency, amount, transfer_id, created_at) overriding system value
            values (${op.id}, ${op.reference}, ${op.player_id}, ${op.kind}, ${op.currency}, ${op.amount}, ${op.transfer_id}, ${op.created_at})`
          .execute(conn)
          .then(() => undefined),
    );
    expect(breaks).toEqual([{ check: 'every transfer has exactly one cause', detail: `transfer ${a.depositTransferId} (deposit)` }]);
  });

  it('detects a negative player wallet (with its constraint dropped, in a transaction that is rolled back)', async () => {
    let breaks: Break[] = [];
    await t.db
      .transaction()
      .execute(async (trx) => {
        await sql`alter table accounts drop constraint player_wallet_not_negative`.execute(trx);
        await sql`set local session_replication_role = replica`.execute(trx);
        await sql`update accounts set balance = -1 where id = ${a.walletId}`.execute(trx);
        await sql`set local session_replication_role = origin`.execute(trx);
        breaks = await reconcile(trx);
        throw new Error('roll back');
      })
      .catch((error: Error) => {
        if (error.message !== 'roll back') throw error;
      });
    expect(breaks).toContainEqual({ check: 'no negative player wallet', detail: `account ${a.walletId}: -1` });
    expect(checks(breaks)).toEqual(['balance = credits - debits', 'balances sum to zero per currency', 'no negative player wallet']);
    // The constraint is back (the transaction was rolled back).
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_constraint where conname = 'player_wallet_not_negative'`.execute(t.db);
    expect(rows[0]!.n).toBe(1);
  });

  const guards: [table: string, trigger: string][] = [
    ['transfers', 'transfers_insert_only'],
    ['transfers', 'transfers_apply'],
    ['accounts', 'accounts_guard_balance'],
    ['provider_transactions', 'provider_transactions_insert_only'],
    ['rollbacks', 'rollbacks_insert_only'],
    ['cashier_operations', 'cashier_operations_insert_only'],
  ];

  it.each(guards)('detects a disabled guard trigger (%s.%s)', async (table, trigger) => {
    await sql`alter table ${sql.table(table)} disable trigger ${sql.raw(trigger)}`.execute(t.db);
    try {
      expect(await reconcile(t.db)).toEqual([{ check: 'ledger guards are installed and enabled', detail: `trigger ${trigger} missing or disabled` }]);
    } finally {
      await sql`alter table ${sql.table(table)} enable trigger ${sql.raw(trigger)}`.execute(t.db);
    }
  });

  it('detects a dropped guard trigger', async () => {
    let breaks: Break[] = [];
    await t.db
      .transaction()
      .execute(async (trx) => {
        await sql`drop trigger transfers_insert_only on transfers`.execute(trx);
        breaks = await reconcile(trx);
        throw new Error('roll back');
      })
      .catch((error: Error) => {
        if (error.message !== 'roll back') throw error;
      });
    expect(breaks).toEqual([{ check: 'ledger guards are installed and enabled', detail: 'trigger transfers_insert_only missing or disabled' }]);
  });

  it('leaves the connection it corrupted from with the triggers back on', async () => {
    // The pool is small: whichever connection the next statement gets must refuse a direct balance update.
    const attempts = await Promise.all(
      Array.from({ length: 4 }, () => sql`update accounts set balance = balance + 1 where id = ${a.walletId}`.execute(t.db).then(() => 'accepted', (e: { code?: string }) => e.code)),
    );
    expect(attempts).toEqual(['23000', '23000', '23000', '23000']);
  });
});
