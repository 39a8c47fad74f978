import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDatabase, type Db } from '../../src/ledger/database.ts';
import { dropDatabase, ensureDatabase } from '../../src/ledger/migrate.ts';

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

/** A fresh database for one test file, cloned from the run's migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `croupier_t_${randomBytes(6).toString('hex')}`;
  const url = adminUrl(name);
  await ensureDatabase(url, inject('templateDatabase'));
  const db = createDatabase({ url, poolSize: 4, lockTimeoutMs: 5000, statementTimeoutMs: 30000 });
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      await dropDatabase(url);
    },
  };
}
