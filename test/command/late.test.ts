import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitForLockWaiters } from '../support/db.ts';
import { type TestGateway, startTestGateway } from '../support/gateway.ts';
import * as command from './helpers.ts';

/**
 * A call that can no longer start in time (admission by deadline, docs/design.md "Under load") is
 * answered at once with the dialect's failure: without the player's balance, whose read would wait
 * for the database the call could not get in time; and its history row is kept like any call's.
 * One admission slot here (one wallet connection, one operation each), held by a bet whose wallet row
 * another session has locked.
 */
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ DATABASE_POOL_SIZE: '3', WALLET_OPS_PER_CONNECTION: '1', DB_LOCK_TIMEOUT_MS: '6000' });
  await gw.fund('late-holder', { USD: '10' });
  await gw.fund('late-waiter', { USD: '10' });
});
afterAll(() => gw?.close());

it('a bet that cannot start in time is answered 99 without a balance, and kept', async () => {
  const other = new pg.Client({ connectionString: gw.database.url });
  await other.connect();
  try {
    await other.query('begin');
    await other.query("select a.id from accounts a join players p on p.id = a.player_id where p.code = 'late-holder' for update of a");
    // Admitted, it waits for the row in the only slot.
    const holding = gw.callback('scorpio-play', command.bet('late-holder', command.transId(), 1));
    await waitForLockWaiters(gw.gateway.db);
    const txId = command.transId();
    const late = await gw.callback('scorpio-play', command.bet('late-waiter', txId, 1));
    expect(late.json).toEqual({ result: 99, status: 'ERROR' });
    await other.query('rollback');
    expect((await holding).json).toMatchObject({ result: 0 });
    const row = await gw.gateway.db.selectFrom('webhooks').select(['outcome', 'detail', 'player_code']).where('transaction_id', '=', String(txId)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ outcome: 'fault', player_code: 'late-waiter' });
    expect(row.detail).toMatch(/no slot to start in time/);
  } finally {
    await other.end();
  }
  // Nothing moved for the call let go: the waiter still has its 10.
  const balance = await gw.callback('scorpio-play', { command: 'balance', data: { account: 'late-waiter' } });
  expect(balance.json).toMatchObject({ result: 0, data: { balance: 10 } });
});
