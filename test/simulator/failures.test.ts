import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EPHEMERAL_PORTS, startVendors, type Vendors } from '../../simulator/demo.ts';
import type { Operation } from '../../simulator/journal.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { commandGameUrl, eventGameUrl, expectBalancesMatchJournal, expectSuccessesInLedger, fundAll, quiesce, tally } from './helpers.ts';

/**
 * The vendors' failure rules played against a real gateway: a bet whose answer does not come in
 * time is cancelled (never retried); when the gateway answers a failure (its wallet row held
 * elsewhere), bets are cancelled and the money owed (wins, cancels, results) is retried until
 * answered. Whatever happened on the way, the ledger ends where the vendors believe it is.
 */

let gw: TestGateway;
let vendors: Vendors;
/** Every wallet this file funded (the journal spans the whole file). */
const funding = new Map<string, Map<string, bigint>>();

beforeAll(async () => {
  // A held row fails a call within 150 ms (not 700), and parked work is retried within 300 ms.
  gw = await startTestGateway({ DB_LOCK_TIMEOUT_MS: '150', LOCK_WAIT_MS: '300', RETRY_MAX_BACKOFF_MS: '300' });
  vendors = await startVendors({ gatewayUrl: gw.url, ports: EPHEMERAL_PORTS, play: { retryDelayMs: [100, 200] } });
});
afterAll(async () => {
  await vendors?.close();
  await gw?.close();
});

const ofSession = (id: string) => vendors.journal.operations.filter((op) => op.session === id);

describe('a bet that times out', () => {
  it('is followed by a cancel of it, in both dialects, and the ledger ends as the vendor believes', async () => {
    await fundAll(gw, ['slow_sam', 'slow_sue'], { USD: '200.00' }, funding);
    // A few milliseconds to answer a bet: (nearly) every one times out; the rest of the session keeps its limits.
    const [command, event] = await Promise.all([
      vendors['scorpio-play'].open(await commandGameUrl(vendors['scorpio-play'], 'slow_sam'), { betTimeoutMs: 3, rounds: 6, seed: 11 }),
      vendors.dowinn.open(await eventGameUrl(vendors.dowinn, 'slow_sue'), { betTimeoutMs: 3, rounds: 6, seed: 12 }),
    ]);
    await quiesce(gw);

    for (const report of [command, event]) expect(report).toMatchObject({ ended: 'completed', rounds: 6 });
    const failedBets = (id: string) => ofSession(id).filter((op) => op.call === 'bet' && op.final === 'failed');
    expect(failedBets(command.id).length).toBeGreaterThan(0);
    expect(failedBets(event.id).length).toBeGreaterThan(0);

    // Command dialect: each failed bet is followed by a cancel of its trans_id, answered (0, or 42: never taken).
    const cancels = new Map(ofSession(command.id).filter((op) => op.call === 'cancel').map((op) => [op.target, op]));
    for (const bet of failedBets(command.id)) {
      expect(cancels.get(bet.transId), `cancel of ${bet.transId}`).toMatchObject({ final: 'ok', effect: 0n });
      expect([0, 42]).toContain(cancels.get(bet.transId)!.reply);
    }
    // Event dialect: each failed bet is followed by a bet_cancel of all its lines in its round.
    const lineCancels = new Map(ofSession(event.id).filter((op) => op.call === 'bet_cancel').map((op) => [op.round, op]));
    for (const bet of failedBets(event.id)) expect(lineCancels.get(bet.round), `bet_cancel of ${bet.round}`).toMatchObject({ final: 'ok', amount: bet.amount, effect: 0n });
    // The bet was never retried: one attempt per bet (a duplicate copy aside).
    const betAttempts = vendors.journal.attempts.filter((a) => a.call === 'bet' && (a.session === command.id || a.session === event.id));
    expect(betAttempts.every((a) => a.retry === 0)).toBe(true);

    // In the gateway, each timed-out command bet was either never taken or taken and refunded.
    const { rows } = await sql<{ external_id: string; status: string; refunded: boolean }>`
      select pt.external_id, pt.status, exists(select 1 from rollbacks r where r.provider_id = pt.provider_id and r.target_external_id = pt.external_id and r.transfer_id is not null) as refunded
      from provider_transactions pt where pt.provider_id = 'scorpio-play' and pt.kind = 'debit'`.execute(gw.database.db);
    const debits = new Map(rows.map((r) => [r.external_id, r]));
    for (const bet of failedBets(command.id)) {
      const row = debits.get(bet.transId);
      expect(row === undefined || row.status === 'refused' || row.refunded, `bet ${bet.transId}: ${JSON.stringify(row)}`).toBe(true);
    }

    expect(vendors.journal.problems).toEqual([]);
    expect(await gw.reconcile()).toEqual([]);
    await expectBalancesMatchJournal(gw, vendors.journal, funding);
    await expectSuccessesInLedger(gw, vendors.journal);
  });
});

describe('a wallet the gateway cannot lock', () => {
  it('fails calls with 99 / R1: bets are cancelled, owed money is retried until answered and applies exactly once', async () => {
    await fundAll(gw, ['held_hal', 'held_hedy'], { USD: '200.00', EUR: '200.00' }, funding);
    const sessions = Promise.all([
      vendors['scorpio-play'].open(await commandGameUrl(vendors['scorpio-play'], 'held_hal'), { rounds: 30, seed: 21, duplicateRate: 0.2 }),
      vendors.slotcity.open(await commandGameUrl(vendors.slotcity, 'held_hedy'), { rounds: 30, seed: 22, duplicateRate: 0.2 }),
      vendors.dowinn.open(await eventGameUrl(vendors.dowinn, 'held_hedy'), { rounds: 30, seed: 23, duplicateRate: 0.2, resultChangeRate: 0.2 }),
    ]);
    // Holds both players' wallet rows for a while, twice, from the test's own connection.
    const hold = (player: string, ms: number) =>
      gw.database.db.transaction().execute(async (trx) => {
        await sql`select a.id from accounts a join players p on p.id = a.player_id where p.code = ${player} and a.kind = 'player' for update of a`.execute(trx);
        await new Promise((resolve) => setTimeout(resolve, ms));
      });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await Promise.all([hold('held_hal', 700), hold('held_hedy', 700)]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await Promise.all([hold('held_hal', 500), hold('held_hedy', 500)]);
    const reports = await sessions;
    await quiesce(gw);

    const mine = new Set(reports.map((r) => r.id));
    const attempts = vendors.journal.attempts.filter((a) => a.session !== undefined && mine.has(a.session));
    const operations = vendors.journal.operations.filter((op) => op.session !== undefined && mine.has(op.session));
    expect(attempts.filter((a) => a.reply === 99 || a.reply === 'R1').length).toBeGreaterThan(0);
    // Owed money was retried with the same transaction id until the gateway answered.
    const retried = attempts.filter((a) => a.retry > 0);
    expect(retried.length).toBeGreaterThan(0);
    expect(retried.every((a) => a.call !== 'bet')).toBe(true);
    const settledAfterRetry = operations.filter((op: Operation) => op.final === 'ok' && attempts.some((a) => a.transId === op.transId && a.call === op.call && a.retry > 0));
    expect(settledAfterRetry.length).toBeGreaterThan(0);
    // Each bet answered with a failure was cancelled.
    for (const bet of operations.filter((op) => op.call === 'bet' && op.final === 'failed')) {
      const cancel = operations.find((op) => (op.call === 'cancel' && op.target === bet.transId) || (op.call === 'bet_cancel' && op.round === bet.round));
      expect(cancel, `cancel of ${bet.provider} bet ${bet.transId}`).toBeDefined();
    }

    expect(vendors.journal.problems).toEqual([]);
    expect(await gw.reconcile()).toEqual([]);
    await expectBalancesMatchJournal(gw, vendors.journal, funding);
    await expectSuccessesInLedger(gw, vendors.journal);
    console.log(JSON.stringify({ reports: reports.map((r) => `${r.id} ${r.ended} ${r.rounds}`), calls: tally(attempts), unconfirmed: vendors.journal.unconfirmed().length }, null, 1));
  });
});
