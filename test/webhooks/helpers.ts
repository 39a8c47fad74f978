import pg from 'pg';
import { expect } from 'vitest';
import type { Queue } from 'bullmq';
import { createLogger } from '../../src/logging.ts';
import { createGateway, type Gateway } from '../../src/service.ts';
import type { WebhookRow } from '../../src/webhooks/history.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

/**
 * A gateway whose wallet faults on demand: a player's wallet row held by another connection makes
 * every money operation for that player hit the row-lock timeout (300 ms), and no worker runs, so
 * nothing is retried behind the test's back.
 */
export const startFaultyGateway = (env: Record<string, string> = {}) =>
  startTestGateway({ LOCK_WAIT_MS: '200', DB_LOCK_TIMEOUT_MS: '300', WORKERS: 'false', ...env });

/** Holds a player's wallet row `FOR UPDATE` in an open transaction on a connection of its own, until released. */
export async function holdWallet(gw: TestGateway, player: string, currency: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: gw.database.url });
  await client.connect();
  await client.query('begin');
  const { rowCount } = await client.query(
    `select a.id from accounts a join players p on p.id = a.player_id where p.code = $1 and a.currency = $2 for update of a`,
    [player, currency],
  );
  expect(rowCount, `${player} has a ${currency} wallet to hold`).toBe(1);
  return async () => {
    await client.query('rollback');
    await client.end();
  };
}

/** A second gateway process on the same database and Redis prefix, with the queue workers running. */
export async function startWorkerGateway(gw: TestGateway): Promise<Gateway> {
  const config = { ...gw.config, queue: { ...gw.config.queue, workers: true } };
  const worker = createGateway(config, createLogger(gw.config.logLevel));
  await worker.startWorkers();
  return worker;
}

/** The webhook rows of a provider transaction id (oldest first). */
export const rowsOf = (gw: TestGateway, transactionId: string | number): Promise<WebhookRow[]> =>
  gw.gateway.db.selectFrom('webhooks').selectAll().where('transaction_id', '=', String(transactionId)).orderBy('id').execute();

/** The one vendor webhook of a provider transaction id. */
export async function vendorRowOf(gw: TestGateway, transactionId: string | number, operation?: string): Promise<WebhookRow> {
  const rows = (await rowsOf(gw, transactionId)).filter(
    (r) => r.source === 'vendor' && (operation === undefined || (r.operation as { op?: string } | null)?.op === operation),
  );
  expect(rows, `one vendor webhook for ${transactionId}`).toHaveLength(1);
  return rows[0]!;
}

export function queue(gw: TestGateway | Gateway, name: 'retries' | 'history' | 'maintenance'): Queue {
  const gateway = 'gateway' in gw ? gw.gateway : gw;
  const found = gateway.parking.queues().find((q) => q.name === name);
  if (!found) throw new Error(`no ${name} queue`);
  return found;
}

/** Parked jobs waiting in the retries queue, as their transaction ids. */
export async function parkedTransactions(gw: TestGateway): Promise<string[]> {
  const jobs = await queue(gw, 'retries').getJobs(['waiting', 'delayed', 'active', 'prioritized']);
  return jobs.map((j) => String((j.data as { transactionId?: string }).transactionId)).sort();
}

/** Polls until `check` passes or the deadline is over (then its last failure is the test's). */
export async function eventually<T>(check: () => Promise<T>, deadlineMs = 10_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
