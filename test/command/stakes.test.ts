import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { balance, bet, cancel, expectAnswer, expectReconciled, ok, snapshot, status, statusOk, transId, wallet, win, withBalance } from './helpers.ts';

/**
 * What a command-dialect round owes, held against what the calls claim: a cancel names its
 * transaction's own round, a bet of 0 is no stake, and a win the wallet cannot hold is refused
 * rather than parked as a passing fault.
 */

let gw: TestGateway;
beforeAll(async () => {
  // Parked retries fast, so a parked credit that can be applied later is applied within the test.
  gw = await startTestGateway({ RETRY_MAX_BACKOFF_MS: '200' });
});
afterAll(() => gw.close());

describe('a cancel naming another round than its transaction is inconsistent (rules 1, 6)', () => {
  it('a cancel of a bet that names a round the bet is not on is refused and refunds nothing', async () => {
    await gw.fund('core_cround', { USD: '100.00' });
    await gw.fund('core_cround_other', { USD: '1.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('core_cround', b, 30, { round: 'r-core-a' }), ok('70'));
    const before = await snapshot(gw);
    // The bet is on r-core-a; the cancel says r-core-b. Before: refunded.
    // Not the transaction it names (42: the spec's answer for a cancel), not "already processed" (41).
    await expectAnswer(gw, 'scorpio-play', cancel('core_cround', b, { round: 'r-core-b' }), withBalance(42, '70'));
    // Nor is it when another account names it.
    await expectAnswer(gw, 'scorpio-play', cancel('core_cround_other', b, { round: 'r-core-a' }), withBalance(42, '1'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await wallet(gw, 'core_cround', 'USD')).toBe(7000n);
    await expectAnswer(gw, 'scorpio-play', status('core_cround', b), statusOk(String(b), 'OK'));
    // The cancel naming the bet's own round still refunds it.
    await expectAnswer(gw, 'scorpio-play', cancel('core_cround', b, { round: 'r-core-a' }), ok('100'));
    await expectReconciled(gw);
  });

  it('a cancel of a win that names another round takes nothing back', async () => {
    await gw.fund('core_cwround', { USD: '10.00' });
    await expectAnswer(gw, 'scorpio-play', bet('core_cwround', transId(), 1, { round: 'r-core-w' }), ok('9'));
    const w = transId();
    await expectAnswer(gw, 'scorpio-play', win('core_cwround', w, 5, { round: 'r-core-w' }), ok('14'));
    await expectAnswer(gw, 'scorpio-play', cancel('core_cwround', w, { round: 'r-core-elsewhere' }), withBalance(42, '14'));
    expect(await wallet(gw, 'core_cwround', 'USD')).toBe(1400n);
  });
});

describe('a bet of 0 is no stake (rules 10, 11)', () => {
  it('a win on a round whose only bet debited 0 pays nothing (42), unless it is a bonus-call win', async () => {
    await gw.fund('core_zero', { USD: '10.00' });
    await expectAnswer(gw, 'scorpio-play', bet('core_zero', transId(), 0, { round: 'r-core-zero' }), ok('10'));
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', win('core_zero', transId(), 500, { round: 'r-core-zero' }), withBalance(42, '10'));
    expect(await snapshot(gw)).toEqual(before);
    await expectAnswer(gw, 'scorpio-play', win('core_zero', transId(), 5, { round: 'r-core-zero', type: 32, callId: 31 }), ok('15'));
  });

  it('a bet of 0 does not revive a round whose real bet was cancelled', async () => {
    await gw.fund('core_revive', { USD: '10.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('core_revive', b, 5, { round: 'r-core-revive' }), ok('5'));
    await expectAnswer(gw, 'scorpio-play', cancel('core_revive', b, { round: 'r-core-revive' }), ok('10'));
    await expectAnswer(gw, 'scorpio-play', bet('core_revive', transId(), 0, { round: 'r-core-revive' }), ok('10'));
    await expectAnswer(gw, 'scorpio-play', win('core_revive', transId(), 1000, { round: 'r-core-revive' }), withBalance(42, '10'));
    expect(await wallet(gw, 'core_revive', 'USD')).toBe(1000n);
  });
});

describe('a win the wallet cannot hold is a refusal, not a fault parked for later (rules 6, 8)', () => {
  it('a win that would overflow the balance answers an error, is not parked, and is never paid later', async () => {
    await gw.fund('core_big', { USD: '100.00' });
    await expectAnswer(gw, 'scorpio-play', bet('core_big', transId(), 1, { round: 'r-core-big' }), ok('99'));
    await expectAnswer(gw, 'scorpio-play', win('core_big', transId(), JSON.rawJSON('50000000000000000'), { round: 'r-core-big' }), ok('50000000000000099'));
    const w = transId();
    const res = await gw.callback('scorpio-play', win('core_big', w, JSON.rawJSON('50000000000000000'), { round: 'r-core-big' }));
    expect(res.json.result).not.toBe(0);
    const row = await gw.gateway.db.selectFrom('webhooks').select(['outcome', 'detail']).where('transaction_id', '=', String(w)).orderBy('id', 'asc').executeTakeFirstOrThrow();
    expect(row.outcome).not.toBe('parked');
    // The player then stakes most of it: had the win been parked, a retry would now fit and pay it.
    await expectAnswer(gw, 'scorpio-play', bet('core_big', transId(), JSON.rawJSON('49999999999999999'), { round: 'r-core-big2' }), ok('100'));
    await new Promise((r) => setTimeout(r, 1500));
    await expectAnswer(gw, 'scorpio-play', balance('core_big'), ok('100'));
    await expectReconciled(gw);
  });
});

describe('a cancel that would leave a paid win with no stake under it (rules 11-13)', () => {
  // Arriving bet, win, cancel, the same messages the vendor may have sent as bet, cancel, win (the
  // win then pays nothing): the cancel is the late message, refused with nothing moved until the win
  // is cancelled, so no order of arrival pays both the refund and the win.
  it('is refused (99) while the win stands, and refunded when the win is cancelled, retried or not', async () => {
    await gw.fund('core_winstands', { USD: '100.00' });
    const [b1, b2, w] = [transId(), transId(), transId()];
    await expectAnswer(gw, 'scorpio-play', bet('core_winstands', b1, 10, { round: 'r-core-ws' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', bet('core_winstands', b2, 10, { round: 'r-core-ws' }), ok('80'));
    await expectAnswer(gw, 'scorpio-play', win('core_winstands', w, 50, { round: 'r-core-ws' }), ok('130'));
    // The first cancel leaves b2 under the win: refunded.
    await expectAnswer(gw, 'scorpio-play', cancel('core_winstands', b1, { round: 'r-core-ws' }), ok('140'));
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', cancel('core_winstands', b2, { round: 'r-core-ws' }), withBalance(99, '140'));
    expect(await snapshot(gw)).toEqual(before);
    const [refusal] = await gw.gateway.db.selectFrom('round_refusals').select(['reason', 'detail']).where('round_external_id', '=', 'r-core-ws').execute();
    expect(refusal).toMatchObject({ reason: 'win_stands' });
    // The vendor voids the round: the win goes back, and with it the stake the refused cancel asked for.
    await expectAnswer(gw, 'scorpio-play', cancel('core_winstands', w, { round: 'r-core-ws' }), ok('100'));
    // The vendor's retry of that cancel finds it done.
    await expectAnswer(gw, 'scorpio-play', cancel('core_winstands', b2, { round: 'r-core-ws' }), ok('100'));
    await expectAnswer(gw, 'scorpio-play', status('core_winstands', b2), statusOk(String(b2), 'CANCELED'));
    expect(await wallet(gw, 'core_winstands', 'USD')).toBe(10000n);
    await expectReconciled(gw);
  });

  it('a win of 0 (a lost round) or a bonus-call win stands on no stake: the cancel refunds', async () => {
    await gw.fund('core_winzero', { USD: '100.00' });
    const [b1, b2] = [transId(), transId()];
    await expectAnswer(gw, 'scorpio-play', bet('core_winzero', b1, 10, { round: 'r-core-wz' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', win('core_winzero', transId(), 0, { round: 'r-core-wz' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', cancel('core_winzero', b1, { round: 'r-core-wz' }), ok('100'));
    await expectAnswer(gw, 'scorpio-play', bet('core_winzero', b2, 10, { round: 'r-core-wb' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', win('core_winzero', transId(), 5, { round: 'r-core-wb', type: 32, callId: 7 }), ok('95'));
    await expectAnswer(gw, 'scorpio-play', cancel('core_winzero', b2, { round: 'r-core-wb' }), ok('105'));
    await expectReconciled(gw);
  });
});
