import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDatabase } from '../../src/ledger/database.ts';
import { dropDatabase, ensureDatabase, migrateToLatest } from '../../src/ledger/migrate.ts';
import { adminUrl } from './db.ts';

/**
 * One migrated template database per test run (named by pid, so runs on one machine do not collide);
 * every test file clones its own database from it.
 */
export default async function setup(project: TestProject) {
  await dropLeftovers();
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

/** Linux's largest pid: a longer number in a name is not a pid. */
const PID_MAX = 4_194_304;

/** Whether a process of this machine is running (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Drops the test databases an interrupted run left behind: those named after a test run's process
 * (croupier_tpl_<pid>, croupier_t_<pid>_<random>) whose process is gone. A run in progress on this
 * machine keeps its own. (Runs on other machines sharing the server would need TEST_DATABASE_URL of
 * their own.)
 */
async function dropLeftovers(): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl('postgres') });
  await admin.connect();
  let names: string[];
  try {
    const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname ~ '^croupier_t(pl)?_[0-9]+($|_)'`);
    names = rows
      .map((r) => r.datname)
      .filter((name) => {
        const pid = Number(/^croupier_tp?l?_(\d+)/.exec(name)![1]);
        return pid <= PID_MAX && !alive(pid);
      });
  } finally {
    await admin.end();
  }
  for (const name of names) await dropDatabase(adminUrl(name));
  if (names.length) console.log(`dropped ${names.length} test database(s) left by interrupted runs`);
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}
