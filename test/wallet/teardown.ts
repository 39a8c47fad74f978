import pg from 'pg';
import type { TestDatabase } from '../support/db.ts';
import { adminUrl } from '../support/db.ts';
import type { TestGateway } from '../support/gateway.ts';

/**
 * pg's Pool.end() resolves once every client has been asked to end, not once their sockets are closed;
 * a `drop database ... with (force)` right after it can kill a still-closing connection, whose FATAL
 * 57P01 then surfaces as an unhandled error of the test run. So: close the pool, wait until the server
 * has no backend left on the database, then drop it.
 */
async function waitForNoBackends(url: string): Promise<void> {
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

export async function dropTestDatabase(t: TestDatabase): Promise<void> {
  await t.db.destroy();
  await waitForNoBackends(t.url);
  await t.drop();
}

export async function closeTestGateway(gw: TestGateway): Promise<void> {
  await gw.gateway.db.destroy();
  await waitForNoBackends(gw.database.url);
  await gw.close();
}
