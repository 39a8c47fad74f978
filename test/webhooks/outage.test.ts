import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as command from '../command/helpers.ts';
import { PG_BASE } from '../support/db.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { eventually, queue, rowsOf } from './helpers.ts';

/**
 * A win parked while Postgres is unreachable travels in its job alone. Its retries may run out before
 * Postgres is back (2 attempts here; 40, about three hours, by default): its record must still reach
 * the history, for operators to see and replay (rule 8), and so must a failed bet's record.
 *
 * Only this test's own database is made unreachable (connections refused, its backends ended).
 */

const SCORPIO = 'scorpio-play';
let gw: TestGateway;
let dbName: string;

async function reachable(on: boolean) {
  const admin = new pg.Client({ connectionString: PG_BASE });
  await admin.connect();
  try {
    await admin.query(`alter database "${dbName}" with allow_connections ${on ? 'true' : 'false'}`);
    if (!on) await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName]);
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  gw = await startTestGateway({ RETRY_MAX_ATTEMPTS: '2', RETRY_MAX_BACKOFF_MS: '100' });
  dbName = decodeURIComponent(new URL(gw.database.url).pathname.slice(1));
  await gw.fund('outage', { USD: '100' });
  await command.expectAnswer(gw, SCORPIO, command.bet('outage', command.transId(), 1, { round: 'r-outage' }), command.ok('99'));
});
afterAll(async () => {
  await reachable(true).catch(() => undefined);
  await gw?.close();
});

describe('a win parked while Postgres is away for longer than its retries', () => {
  it('is in the inbox once Postgres is back, and a replay pays it; the bet that failed with it is kept too', async () => {
    const win = command.transId();
    const bet = command.transId();
    await reachable(false);
    try {
      expect((await gw.callback(SCORPIO, command.win('outage', win, 5, { round: 'r-outage' }))).text).toBe(command.bare(99));
      expect((await gw.callback(SCORPIO, command.bet('outage', bet, 1, { round: 'r-outage' }))).text).toBe(command.bare(99));
      // The parked job runs out of attempts while Postgres is still away.
      await eventually(async () => {
        const failed = await queue(gw, 'retries').getJobs(['failed']);
        expect(failed.map((j) => String((j.data as { transactionId?: string }).transactionId))).toContain(String(win));
      }, 20_000);
    } finally {
      await reachable(true);
    }
    const parked = await eventually(async () => {
      const rows = await rowsOf(gw, win);
      expect(rows.map((r) => [r.source, r.outcome, r.resolved_at])).toEqual([['vendor', 'parked', null]]);
      return rows[0]!;
    }, 20_000);
    expect((await gw.gateway.history.search({ unresolved: true, limit: 50 })).map((r) => r.id)).toContain(parked.id);
    await eventually(async () => expect((await rowsOf(gw, bet)).map((r) => r.outcome)).toEqual(['fault']), 20_000);

    expect(await command.wallet(gw, 'outage', 'USD')).toBe(9900n);
    expect((await gw.gateway.replayer.replay(parked.id)).outcome).toBe('ok');
    expect(await command.wallet(gw, 'outage', 'USD')).toBe(10400n);
  });
});
