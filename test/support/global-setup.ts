import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/ledger/database.ts';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../src/ledger/migrate.ts';
import { adminUrl } from './db.ts';

/**
 * One migrated template database per test run (named by pid, so runs on one machine do not collide);
 * every test file clones its own database from it.
 */
export default async function setup(project: TestProject) {
  const template = `croupier_tpl_${process.pid}`;
  const url = adminUrl(template);
  await dropDatabase(url);
  await ensureDatabase(url);
  const db = createDatabase({ url, poolSize: 1, lockTimeoutMs: 5000, statementTimeoutMs: 30000 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  project.provide('templateDatabase', template);
  return async () => {
    await dropDatabase(url);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}
