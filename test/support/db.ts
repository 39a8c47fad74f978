import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type Db } from '../../src/ledger/database.ts';
import { dropDatabase, ensureDatabase, migrateTo } from '../../src/ledger/migrate.ts';

export const PG_BASE = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function adminUrl(database: string): string {
  const url = new URL(PG_BASE);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface TestDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

/**
 * Test databases are named after the test run's process (`croupier_t_<pid>_<random>`, and the
 * template `croupier_tpl_<pid>`), so that a run can drop what an interrupted run left behind: the
 * databases of a process that no longer exists (global-setup.ts).
 */
export const testDatabaseName = () => `croupier_t_${runPid()}_${randomBytes(6).toString('hex')}`;

/** The pid of the test run (vitest's main process: the one that named the template). */
function runPid(): string {
  return /^croupier_tpl_(\d+)$/.exec(inject('templateDatabase'))?.[1] ?? String(process.pid);
}

/** A fresh database for one test file, cloned from the run's migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = testDatabaseName();
  const url = adminUrl(name);
  await ensureDatabase(url, inject('templateDatabase'));
  return handle(url, createDatabase({ url, poolSize: 4, lockTimeoutMs: 5000, statementTimeoutMs: 30000 }));
}

/** A test database's handle: its URL, a pool on it, and how to drop it once the pool is done. */
function handle(url: string, db: Db): TestDatabase {
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      await waitForNoBackends(url);
      await dropDatabase(url);
    },
  };
}

/** A fresh empty database migrated up to `migration` (not the template): for a migration's own tests. */
export async function migratedTo(migration: string): Promise<TestDatabase> {
  const url = adminUrl(testDatabaseName());
  await ensureDatabase(url);
  const db = createDatabase({ url, poolSize: 2, lockTimeoutMs: 5000, statementTimeoutMs: 30000 });
  await migrateTo(db, migration);
  return handle(url, db);
}

/**
 * pg's Pool.end() resolves once every client has been asked to end, not once their sockets are closed;
 * a `drop database ... with (force)` right after it can kill a still-closing connection, whose FATAL
 * 57P01 then surfaces as an unhandled error of the test run. So: wait until the server has no backend
 * left on the database (callers close their pools first), then drop it.
 */
export async function waitForNoBackends(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new pg.Client({ connectionString: adminUrl('postgres') });
  await admin.connect();
  try {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const { rows } = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
      if (rows[0]!.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await admin.end();
  }
}

/** Waits until `n` sessions of `db`'s database wait for a lock (within 5 s, or fails). */
export async function waitForLockWaiters(db: Db, n = 1): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
    if (rows[0]!.n >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`fewer than ${n} sessions ever waited for a lock`);
}
