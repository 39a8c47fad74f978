import { sql } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { poolOf, prepared, transact, type Db } from '../../src/ledger/database.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

/**
 * The ledger's connection saves round trips (src/ledger/client.ts): a BEGIN goes out with the read
 * that follows it, statements of one turn share a write, marked statements are prepared. None of it
 * may change what a transaction is: all of its statements or none.
 */
let t: TestDatabase;
let db: Db;
beforeAll(async () => {
  t = await createTestDatabase();
  db = t.db;
  await sql`create table client_probe (id int primary key, note text not null)`.execute(db);
});
afterAll(() => t.drop());

const notes = async () => (await sql<{ id: number; note: string }>`select id, note from client_probe order by id`.execute(db)).rows;
const insert = (id: number, note: string) => sql`insert into client_probe (id, note) values (${id}, ${note})`;
const read = (id: number) => prepared(sql<{ note: string }>`select note from client_probe where id = ${id}`, db);
const NONE = new Set<string>();

describe('the ledger connection', () => {
  it('a transaction that opens with a prepared read is still one transaction: rolled back as a whole', async () => {
    await expect(
      transact(db, NONE, async (trx) => {
        await trx.executeQuery(read(1));
        await insert(1, 'rolled back').execute(trx);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await notes()).toEqual([]);
  });

  it('a transaction that opens with a write is one transaction too', async () => {
    await expect(
      transact(db, NONE, async (trx) => {
        await insert(2, 'rolled back').execute(trx);
        await insert(2, 'a duplicate key').execute(trx);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await notes()).toEqual([]);
  });

  it('a write sent without waiting, right before the COMMIT, commits with the transaction or rolls it back', async () => {
    await transact(db, NONE, async (trx) => {
      await trx.executeQuery(read(3));
      await insert(3, 'first').execute(trx);
      void insert(4, 'sent with the commit').execute(trx);
    });
    expect(await notes()).toEqual([
      { id: 3, note: 'first' },
      { id: 4, note: 'sent with the commit' },
    ]);
    let late: Promise<unknown> | undefined;
    await expect(
      transact(db, NONE, async (trx) => {
        await trx.executeQuery(read(5));
        await insert(5, 'rolled back').execute(trx);
        late = insert(3, 'a duplicate key').execute(trx);
        late.catch(() => {});
      }),
    ).rejects.toThrow();
    await expect(late).rejects.toMatchObject({ code: '23505' });
    expect((await notes()).map((n) => n.id)).toEqual([3, 4]);
  });

  it('a failed first read fails its transaction, and the connection goes on', async () => {
    await expect(
      transact(db, NONE, async (trx) => {
        await trx.executeQuery(prepared(sql`select 1 / ${0}::int as boom`, trx));
      }),
    ).rejects.toMatchObject({ code: '22012' });
    for (let i = 0; i < 8; i++) {
      // More runs than the pool has connections, and past the five a generic plan waits for.
      const note = await transact(db, NONE, async (trx) => (await trx.executeQuery(read(3))).rows[0]?.note);
      expect(note).toBe('first');
    }
  });
});

describe('the pool', () => {
  const backendsOf = (clients: readonly pg.PoolClient[]) =>
    Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid));

  it('keeps a connection open however long it stays idle: a burst of calls never waits for Postgres to start backends again', async () => {
    const pool = poolOf(db)!;
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    const open = pool.totalCount;
    const pids = await backendsOf(clients);
    vi.useFakeTimers();
    try {
      for (const c of clients) c.release();
      // node-postgres's default would close each after 10 s idle.
      vi.advanceTimersByTime(10 * 60_000);
    } finally {
      vi.useRealTimers();
    }
    expect(pool.totalCount).toBe(open);
    expect(pool.idleCount).toBeGreaterThanOrEqual(3);
    const again = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    const pidsAgain = await backendsOf(again);
    for (const c of again) c.release();
    expect(new Set(pidsAgain)).toEqual(new Set(pids));
  });
});
