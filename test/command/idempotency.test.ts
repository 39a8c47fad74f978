import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlayerCode } from '../../src/wallet/types.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  balance,
  bare,
  bet,
  cancel,
  expectAnswer,
  expectReconciled,
  ok,
  providerTxCount,
  snapshot,
  status,
  statusOk,
  transId,
  wallet,
  win,
  withBalance,
} from './helpers.ts';

/**
 * Repeats (check 41), cancels before and after (check 42, rules 1-3), the order of the `check` list,
 * and trans_id scope (unique per provider, not globally).
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('check 41: a trans_id already processed', () => {
  it('a duplicate bet answers 41 with the balance and is debited once', async () => {
    await gw.fund('dupbet', { USD: '100.00' });
    const b = transId();
    const body = bet('dupbet', b, 10, { round: 'r-dupbet' });
    await expectAnswer(gw, 'scorpio-play', body, ok('90'));
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    await expectAnswer(gw, 'scorpio-play', body, withBalance(41, '90'));
    await expectAnswer(gw, 'scorpio-play', bet('dupbet', b, 10, { round: 'r-dupbet' }), withBalance(41, '90'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
    expect(await wallet(gw, 'dupbet', 'USD')).toBe(9000n);
    await expectReconciled(gw);
  });

  it('a duplicate win answers 41 with the balance and is credited once', async () => {
    await gw.fund('dupwin', { USD: '100.00' });
    await expectAnswer(gw, 'scorpio-play', bet('dupwin', transId(), 10, { round: 'r-dupwin' }), ok('90'));
    const w = transId();
    const body = win('dupwin', w, 12.5, { round: 'r-dupwin' });
    await expectAnswer(gw, 'scorpio-play', body, ok('102.5'));
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    for (let retry = 0; retry < 3; retry++) {
      await expectAnswer(gw, 'scorpio-play', win('dupwin', w, 12.5, { round: 'r-dupwin' }), withBalance(41, '102.5'));
    }
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
    expect(await wallet(gw, 'dupwin', 'USD')).toBe(10250n);
    await expectReconciled(gw);
  });

  it('the balance in a 41 answer is the current one, not the one at the first call', async () => {
    await gw.fund('dupcur', { USD: '100.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('dupcur', b, 10, { round: 'r-dupcur' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', win('dupcur', transId(), 30, { round: 'r-dupcur' }), ok('120'));
    await expectAnswer(gw, 'scorpio-play', bet('dupcur', b, 10, { round: 'r-dupcur' }), withBalance(41, '120'));
  });

  it('an integer trans_id and the same id as a string are one transaction', async () => {
    await gw.fund('idtext', { USD: '100.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('idtext', b, 10, { round: 'r-idtext' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', bet('idtext', String(b), 10, { round: 'r-idtext' }), withBalance(41, '90'));
    expect(await wallet(gw, 'idtext', 'USD')).toBe(9000n);
  });

  it('a trans_id is kept as sent: the same id with a space around it is another transaction', async () => {
    await gw.fund('idspace', { USD: '100.00' });
    const b = String(transId());
    await expectAnswer(gw, 'scorpio-play', bet('idspace', b, 10, { round: 'r-idspace' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', bet('idspace', ` ${b}`, 10, { round: 'r-idspace' }), ok('80'));
    await expectAnswer(gw, 'scorpio-play', bet('idspace', `${b} `, 10, { round: 'r-idspace' }), ok('70'));
    expect(await wallet(gw, 'idspace', 'USD')).toBe(7000n);
  });

  it('a repeat with a different amount answers 41 and changes nothing', async () => {
    await gw.fund('diffamt', { USD: '100.00' });
    const b = transId();
    const w = transId();
    await expectAnswer(gw, 'scorpio-play', bet('diffamt', b, 10, { round: 'r-diffamt' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', win('diffamt', w, 5, { round: 'r-diffamt' }), ok('95'));
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    await expectAnswer(gw, 'scorpio-play', bet('diffamt', b, 20, { round: 'r-diffamt' }), withBalance(41, '95'));
    await expectAnswer(gw, 'scorpio-play', bet('diffamt', b, 9.99, { round: 'r-diffamt' }), withBalance(41, '95'));
    await expectAnswer(gw, 'scorpio-play', win('diffamt', w, 500, { round: 'r-diffamt' }), withBalance(41, '95'));
    await expectAnswer(gw, 'scorpio-play', win('diffamt', w, 0, { round: 'r-diffamt' }), withBalance(41, '95'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
    expect(await wallet(gw, 'diffamt', 'USD')).toBe(9500n);
    await expectReconciled(gw);
  });

  it('a repeat with a different round, player or command answers 41 and changes nothing', async () => {
    await gw.fund('diffctx', { USD: '100.00' });
    await gw.fund('diffctx2', { USD: '100.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('diffctx', b, 10, { round: 'r-diffctx' }), ok('90'));
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', bet('diffctx', b, 10, { round: 'r-other' }), withBalance(41, '90'));
    await expectAnswer(gw, 'scorpio-play', win('diffctx', b, 10, { round: 'r-diffctx' }), withBalance(41, '90'));
    await expectAnswer(gw, 'scorpio-play', bet('diffctx2', b, 10, { round: 'r-diffctx' }), withBalance(41, '100'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await wallet(gw, 'diffctx2', 'USD')).toBe(10000n);
    await expectReconciled(gw);
  });

  it('a large integer trans_id is kept digit for digit and echoed exactly by status', async () => {
    await gw.fund('bigid', { USD: '10.00' });
    const id = JSON.rawJSON('12345678901234567890');
    await expectAnswer(gw, 'scorpio-play', bet('bigid', id, 1, { round: 'r-bigid' }), ok('9'));
    await expectAnswer(gw, 'scorpio-play', status('bigid', id), statusOk('12345678901234567890', 'OK'));
    await expectAnswer(gw, 'scorpio-play', bet('bigid', JSON.rawJSON('12345678901234567891'), 1, { round: 'r-bigid' }), ok('8'));
    await expectAnswer(gw, 'scorpio-play', bet('bigid', id, 1, { round: 'r-bigid' }), withBalance(41, '8'));
  });
});

describe('cancel: repeats and cancel before the transaction (rules 2 and 3)', () => {
  it('a double cancel: the second answers OK with the current balance and changes nothing', async () => {
    await gw.fund('dblc', { USD: '100.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('dblc', b, 25, { round: 'r-dblc' }), ok('75'));
    await expectAnswer(gw, 'scorpio-play', cancel('dblc', b, { round: 'r-dblc' }), ok('100'));
    await expectAnswer(gw, 'scorpio-play', win('dblc', transId(), 3, { round: 'r-dblc2', type: 32, callId: 77 }), ok('103'));
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    await expectAnswer(gw, 'scorpio-play', cancel('dblc', b, { round: 'r-dblc' }), ok('103'));
    await expectAnswer(gw, 'scorpio-play', cancel('dblc', b, { round: 'r-dblc' }), ok('103'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
    await expectAnswer(gw, 'scorpio-play', status('dblc', b), statusOk(String(b), 'CANCELED'));
    await expectReconciled(gw);
  });

  it('a double cancel of a win takes it back once', async () => {
    await gw.fund('dblw', { USD: '10.00' });
    await expectAnswer(gw, 'scorpio-play', bet('dblw', transId(), 2, { round: 'r-dblw' }), ok('8'));
    const w = transId();
    await expectAnswer(gw, 'scorpio-play', win('dblw', w, 5, { round: 'r-dblw' }), ok('13'));
    await expectAnswer(gw, 'scorpio-play', cancel('dblw', w, { round: 'r-dblw' }), ok('8'));
    await expectAnswer(gw, 'scorpio-play', cancel('dblw', w, { round: 'r-dblw' }), ok('8'));
    expect(await wallet(gw, 'dblw', 'USD')).toBe(800n);
    await expectReconciled(gw);
  });

  it('a cancelled bet cannot be replayed: its repeat answers 41 and is not debited again', async () => {
    await gw.fund('replay', { USD: '50.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('replay', b, 20, { round: 'r-replay' }), ok('30'));
    await expectAnswer(gw, 'scorpio-play', cancel('replay', b, { round: 'r-replay' }), ok('50'));
    await expectAnswer(gw, 'scorpio-play', bet('replay', b, 20, { round: 'r-replay' }), withBalance(41, '50'));
    expect(await wallet(gw, 'replay', 'USD')).toBe(5000n);
    await expectReconciled(gw);
  });

  it('cancel of an unknown trans_id answers 42; the bet arriving later is refused and never debited', async () => {
    await gw.fund('early', { USD: '100.00' });
    const b = transId();
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', cancel('early', b, { round: 'r-early' }), withBalance(42, '100'));
    expect(await snapshot(gw)).toEqual(before);
    // The cancel is remembered durably, in Postgres.
    const marker = await gw.gateway.db
      .selectFrom('rollbacks')
      .select(['target_id', 'transfer_id'])
      .where('provider_id', '=', 'scorpio-play')
      .where('target_external_id', '=', String(b))
      .executeTakeFirstOrThrow();
    expect(marker).toEqual({ target_id: null, transfer_id: null });
    // For the vendor the bet is cancelled: it will be refused if it arrives.
    await expectAnswer(gw, 'scorpio-play', status('early', b), statusOk(String(b), 'CANCELED'));

    await expectAnswer(gw, 'scorpio-play', bet('early', b, 10, { round: 'r-early' }), withBalance(41, '100'));
    await expectAnswer(gw, 'scorpio-play', bet('early', b, 10, { round: 'r-early' }), withBalance(41, '100'));
    // A repeated cancel is still "not found": nothing was ever taken.
    await expectAnswer(gw, 'scorpio-play', cancel('early', b, { round: 'r-early' }), withBalance(42, '100'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await wallet(gw, 'early', 'USD')).toBe(10000n);
    const row = await gw.gateway.db
      .selectFrom('provider_transactions')
      .select(['status', 'transfer_id'])
      .where('provider_id', '=', 'scorpio-play')
      .where('external_id', '=', String(b))
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'refused', transfer_id: null });
    await expectAnswer(gw, 'scorpio-play', status('early', b), statusOk(String(b), 'CANCELED'));
    await expectReconciled(gw);
  });

  it('a win arriving after its cancel is refused too and never credited', async () => {
    await gw.fund('earlywin', { USD: '10.00' });
    const w = transId();
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', cancel('earlywin', w), withBalance(42, '10'));
    await expectAnswer(gw, 'scorpio-play', win('earlywin', w, 50), withBalance(41, '10'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await wallet(gw, 'earlywin', 'USD')).toBe(1000n);
  });
});

describe('the order of the check list decides which failure answers', () => {
  it('a blocked player whose bet is also a duplicate: 22 with "21,22,41,31", 41 with "21,41,22,31"', async () => {
    await gw.fund('blkdup', { USD: '100.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('blkdup', b, 10, { round: 'r-blkdup' }), ok('90'));
    await gw.gateway.backOffice.setStatus(PlayerCode('blkdup'), 'blocked');
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    await expectAnswer(gw, 'scorpio-play', bet('blkdup', b, 10, { round: 'r-blkdup', check: '21,22,41,31' }), bare(22));
    await expectAnswer(gw, 'scorpio-play', bet('blkdup', b, 10, { round: 'r-blkdup', check: '21,41,22,31' }), withBalance(41, '90'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
    await expectReconciled(gw);
  });

  it('a duplicate with insufficient balance: 41 with "21,22,41,31", 31 with "21,22,31,41"', async () => {
    await gw.fund('dupfunds', { USD: '10.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('dupfunds', b, 8, { round: 'r-dupfunds' }), ok('2'));
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    await expectAnswer(gw, 'scorpio-play', bet('dupfunds', b, 8, { round: 'r-dupfunds', check: '21,22,41,31' }), withBalance(41, '2'));
    await expectAnswer(gw, 'scorpio-play', bet('dupfunds', b, 8, { round: 'r-dupfunds', check: '21,22,31,41' }), withBalance(31, '2'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
    expect(await wallet(gw, 'dupfunds', 'USD')).toBe(200n);
    await expectReconciled(gw);
  });

  it('a new bet from a blocked player without the funds: 22 with "21,22,41,31", 31 with "21,31,22,41"', async () => {
    await gw.fund('blkpoor', { USD: '1.00' });
    await gw.gateway.backOffice.setStatus(PlayerCode('blkpoor'), 'blocked');
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', bet('blkpoor', transId(), 5, { check: '21,22,41,31' }), bare(22));
    await expectAnswer(gw, 'scorpio-play', bet('blkpoor', transId(), 5, { check: '21,31,22,41' }), withBalance(31, '1'));
    expect(await snapshot(gw)).toEqual(before);
  });

  it('an unknown account answers 21 whatever the order', async () => {
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', bet('ghost', transId(), 5, { check: '41,31,22,21' }), bare(21));
    await expectAnswer(gw, 'scorpio-play', bet('ghost', transId(), 5, { check: '21,22,41,31' }), bare(21));
    expect(await snapshot(gw)).toEqual(before);
  });

  it('balance with check "21,22" refuses a blocked player (22)', async () => {
    await gw.fund('blkbal', { USD: '3.00' });
    await gw.gateway.backOffice.setStatus(PlayerCode('blkbal'), 'blocked');
    await expectAnswer(gw, 'scorpio-play', balance('blkbal', '21,22'), bare(22));
  });
});

describe('trans_id is unique per provider, not globally', () => {
  it('the same trans_id at two providers is two independent transactions', async () => {
    await gw.fund('duo', { USD: '100.00', EUR: '100.00', KRW: '100000' });
    const id = transId();
    await expectAnswer(gw, 'scorpio-play', bet('duo', id, 10, { round: 'r-duo' }), ok('90'));
    await expectAnswer(gw, 'slotcity', bet('duo', id, 10, { round: 'r-duo' }), ok('90'));
    await expectAnswer(gw, 'meganodes', bet('duo', id, 1000, { round: 'r-duo' }), ok('99000'));
    expect(await wallet(gw, 'duo', 'USD')).toBe(9000n);
    expect(await wallet(gw, 'duo', 'EUR')).toBe(9000n);
    expect(await wallet(gw, 'duo', 'KRW')).toBe(99000n);

    // A cancel at one provider touches only that provider's transaction.
    await expectAnswer(gw, 'slotcity', cancel('duo', id, { round: 'r-duo' }), ok('100'));
    await expectAnswer(gw, 'slotcity', status('duo', id), statusOk(String(id), 'CANCELED'));
    await expectAnswer(gw, 'scorpio-play', status('duo', id), statusOk(String(id), 'OK'));
    await expectAnswer(gw, 'meganodes', status('duo', id), statusOk(String(id), 'OK'));
    expect(await wallet(gw, 'duo', 'USD')).toBe(9000n);
    expect(await wallet(gw, 'duo', 'KRW')).toBe(99000n);

    // Each provider's duplicate check is its own.
    await expectAnswer(gw, 'scorpio-play', bet('duo', id, 10, { round: 'r-duo' }), withBalance(41, '90'));
    await expectAnswer(gw, 'meganodes', bet('duo', id, 1000, { round: 'r-duo' }), withBalance(41, '99000'));
    await expectReconciled(gw);
  });

  it('a cancel before the bet at one provider does not block that trans_id at another', async () => {
    await gw.fund('duo2', { USD: '50.00', EUR: '50.00' });
    const id = transId();
    await expectAnswer(gw, 'scorpio-play', cancel('duo2', id), withBalance(42, '50'));
    await expectAnswer(gw, 'slotcity', bet('duo2', id, 5), ok('45'));
    await expectAnswer(gw, 'scorpio-play', bet('duo2', id, 5), withBalance(41, '50'));
    expect(await wallet(gw, 'duo2', 'USD')).toBe(5000n);
    expect(await wallet(gw, 'duo2', 'EUR')).toBe(4500n);
    await expectReconciled(gw);
  });

  it('status at a provider that never saw the trans_id answers 42', async () => {
    await gw.fund('duo3', { USD: '20.00', EUR: '30.00' });
    const id = transId();
    await expectAnswer(gw, 'scorpio-play', bet('duo3', id, 1), ok('19'));
    await expectAnswer(gw, 'slotcity', status('duo3', id), withBalance(42, '30'));
  });
});

describe('concurrent repeats (rule 5)', () => {
  it('the same bet sent 10 times at once is debited once; the others answer 41', async () => {
    await gw.fund('burst', { USD: '100.00' });
    const b = transId();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => gw.callback('scorpio-play', bet('burst', b, 7.5, { round: 'r-burst' }))),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const texts = answers.map((a) => a.text).sort();
    expect(texts).toEqual([ok('92.5'), ...Array.from({ length: 9 }, () => withBalance(41, '92.5'))].sort());
    expect(await wallet(gw, 'burst', 'USD')).toBe(9250n);
    await expectReconciled(gw);
  });

  it('concurrent distinct bets never overdraw the wallet', async () => {
    await gw.fund('race', { USD: '10.00' });
    const answers = await Promise.all(Array.from({ length: 8 }, () => gw.callback('scorpio-play', bet('race', transId(), 3))));
    const accepted = answers.filter((a) => a.json?.result === 0).length;
    expect(accepted).toBe(3);
    expect(answers.filter((a) => a.json?.result === 31).every((a) => a.text === withBalance(31, '1'))).toBe(true);
    expect(await wallet(gw, 'race', 'USD')).toBe(100n);
    await expectReconciled(gw);
  });
});
