import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlayerCode } from '../../src/wallet/types.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  authOk,
  authenticate,
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

/** Every command of the dialect, in the spec's payload shapes, and the wallet semantics behind them. */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('authenticate and balance', () => {
  it('authenticate answers the account and its balance (USD via scorpio-play)', async () => {
    await gw.fund('auth_usd', { USD: '100.00' });
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', authenticate('auth_usd'), authOk('auth_usd', '100'));
    expect(await snapshot(gw)).toEqual(before);
  });

  it('balance answers the current balance, decimals exactly', async () => {
    await gw.fund('bal_usd', { USD: '12.34' });
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', balance('bal_usd'), ok('12.34'));
    await expectAnswer(gw, 'scorpio-play', balance('bal_usd'), ok('12.34'));
    expect(await snapshot(gw)).toEqual(before);
  });

  it('EUR via slotcity and KRW via meganodes (no decimals)', async () => {
    await gw.fund('multi', { USD: '1.00', EUR: '250.50', KRW: '150000' });
    await expectAnswer(gw, 'slotcity', authenticate('multi'), authOk('multi', '250.5'));
    await expectAnswer(gw, 'slotcity', balance('multi'), ok('250.5'));
    await expectAnswer(gw, 'meganodes', authenticate('multi'), authOk('multi', '150000'));
    await expectAnswer(gw, 'meganodes', balance('multi'), ok('150000'));
    await expectAnswer(gw, 'scorpio-play', balance('multi'), ok('1'));
  });

  it('a zero balance is the number 0', async () => {
    await gw.fund('empty', { USD: '0' });
    await expectAnswer(gw, 'scorpio-play', authenticate('empty'), authOk('empty', '0'));
    await expectAnswer(gw, 'scorpio-play', balance('empty'), ok('0'));
  });
});

describe('check 21: unknown account', () => {
  it('every command for an unknown account answers 21 and changes nothing', async () => {
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    const id = transId();
    for (const body of [
      authenticate('nobody'),
      balance('nobody'),
      bet('nobody', id, 10),
      win('nobody', id, 10),
      cancel('nobody', id),
      status('nobody', id),
    ]) {
      await expectAnswer(gw, 'scorpio-play', body, bare(21));
    }
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
    await expectReconciled(gw);
  });

  it('a player without a wallet in the vendor account currency is unknown to that account (21)', async () => {
    await gw.fund('usd_only', { USD: '50.00' });
    const before = await snapshot(gw);
    await expectAnswer(gw, 'slotcity', authenticate('usd_only'), bare(21));
    await expectAnswer(gw, 'slotcity', bet('usd_only', transId(), 5), bare(21));
    await expectAnswer(gw, 'meganodes', win('usd_only', transId(), 500), bare(21));
    expect(await snapshot(gw)).toEqual(before);
    expect(await wallet(gw, 'usd_only', 'USD')).toBe(5000n);
  });
});

describe('bet, win, status, cancel', () => {
  it('a decimal bet of 34.75 debits exactly; a win credits exactly', async () => {
    await gw.fund('dec', { USD: '100.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('dec', b, 34.75, { round: 'r-dec' }), ok('65.25'));
    expect(await wallet(gw, 'dec', 'USD')).toBe(6525n);
    await expectAnswer(gw, 'scorpio-play', balance('dec'), ok('65.25'));
    const w = transId();
    await expectAnswer(gw, 'scorpio-play', win('dec', w, 10.5, { round: 'r-dec' }), ok('75.75'));
    expect(await wallet(gw, 'dec', 'USD')).toBe(7575n);
    await expectAnswer(gw, 'scorpio-play', authenticate('dec'), authOk('dec', '75.75'));
    await expectReconciled(gw);
  });

  it('an amount sent as a decimal string ("34.75") is converted exactly', async () => {
    await gw.fund('stramt', { USD: '100.00' });
    await expectAnswer(gw, 'scorpio-play', bet('stramt', transId(), '34.75'), ok('65.25'));
    expect(await wallet(gw, 'stramt', 'USD')).toBe(6525n);
  });

  it('integer amounts in currency units (the documented form)', async () => {
    await gw.fund('ints', { USD: '5000.00' });
    await expectAnswer(gw, 'scorpio-play', bet('ints', transId(), 1000, { round: 'r-ints' }), ok('4000'));
    await expectAnswer(gw, 'scorpio-play', win('ints', transId(), 2500, { round: 'r-ints' }), ok('6500'));
    expect(await wallet(gw, 'ints', 'USD')).toBe(650000n);
    await expectReconciled(gw);
  });

  it('status of a processed bet and win: OK, trans_id echoed as the integer sent', async () => {
    await gw.fund('stat', { USD: '100.00' });
    const b = transId();
    const w = transId();
    await expectAnswer(gw, 'scorpio-play', bet('stat', b, 20, { round: 'r-stat' }), ok('80'));
    await expectAnswer(gw, 'scorpio-play', win('stat', w, 5, { round: 'r-stat' }), ok('85'));
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', status('stat', b), statusOk(String(b), 'OK'));
    await expectAnswer(gw, 'scorpio-play', status('stat', w), statusOk(String(w), 'OK'));
    expect(await snapshot(gw)).toEqual(before);
  });

  it('status of an unknown trans_id answers 42 with the balance (check 42)', async () => {
    await gw.fund('stat42', { USD: '44.00' });
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', status('stat42', transId()), withBalance(42, '44'));
    expect(await snapshot(gw)).toEqual(before);
  });

  it("status of another player's trans_id is unknown to this player (42)", async () => {
    await gw.fund('owner', { USD: '10.00' });
    await gw.fund('other', { USD: '7.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('owner', b, 1), ok('9'));
    await expectAnswer(gw, 'scorpio-play', status('other', b), withBalance(42, '7'));
  });

  it('cancel of a bet refunds it; status then says CANCELED', async () => {
    await gw.fund('cb', { USD: '100.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('cb', b, 30, { round: 'r-cb' }), ok('70'));
    await expectAnswer(gw, 'scorpio-play', cancel('cb', b, { round: 'r-cb' }), ok('100'));
    expect(await wallet(gw, 'cb', 'USD')).toBe(10000n);
    await expectAnswer(gw, 'scorpio-play', status('cb', b), statusOk(String(b), 'CANCELED'));
    await expectReconciled(gw);
  });

  it('cancel of a win takes the win back', async () => {
    await gw.fund('cw', { USD: '100.00' });
    const b = transId();
    const w = transId();
    await expectAnswer(gw, 'scorpio-play', bet('cw', b, 10, { round: 'r-cw' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', win('cw', w, 25.5, { round: 'r-cw' }), ok('115.5'));
    await expectAnswer(gw, 'scorpio-play', cancel('cw', w, { round: 'r-cw' }), ok('90'));
    expect(await wallet(gw, 'cw', 'USD')).toBe(9000n);
    await expectAnswer(gw, 'scorpio-play', status('cw', w), statusOk(String(w), 'CANCELED'));
    await expectAnswer(gw, 'scorpio-play', status('cw', b), statusOk(String(b), 'OK'));
    await expectReconciled(gw);
  });

  it('cancel of a win the wallet no longer covers is refused (31) and changes nothing', async () => {
    await gw.fund('cwpoor', { USD: '10.00' });
    await expectAnswer(gw, 'scorpio-play', bet('cwpoor', transId(), 5, { round: 'r-cwpoor' }), ok('5'));
    const w = transId();
    await expectAnswer(gw, 'scorpio-play', win('cwpoor', w, 50, { round: 'r-cwpoor' }), ok('55'));
    await expectAnswer(gw, 'scorpio-play', bet('cwpoor', transId(), 55, { round: 'r-cwpoor2' }), ok('0'));
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', cancel('cwpoor', w, { round: 'r-cwpoor' }), withBalance(31, '0'));
    expect(await snapshot(gw)).toEqual(before);
    await expectAnswer(gw, 'scorpio-play', status('cwpoor', w), statusOk(String(w), 'OK'));
    await expectReconciled(gw);
  });

  it('cancel of an unknown trans_id answers 42 with the balance and moves nothing', async () => {
    await gw.fund('c42', { USD: '20.00' });
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', cancel('c42', transId()), withBalance(42, '20'));
    expect(await snapshot(gw)).toEqual(before);
  });

  it('insufficient funds: 31 with the current balance, nothing debited', async () => {
    await gw.fund('poor', { USD: '5.00' });
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', bet('poor', transId(), 5.01), withBalance(31, '5'));
    await expectAnswer(gw, 'scorpio-play', bet('poor', transId(), 1000), withBalance(31, '5'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await wallet(gw, 'poor', 'USD')).toBe(500n);
    await expectReconciled(gw);
  });

  it('a bet of exactly the balance is allowed and leaves 0', async () => {
    await gw.fund('exact', { USD: '42.42' });
    await expectAnswer(gw, 'scorpio-play', bet('exact', transId(), 42.42), ok('0'));
    expect(await wallet(gw, 'exact', 'USD')).toBe(0n);
    await expectAnswer(gw, 'scorpio-play', balance('exact'), ok('0'));
    await expectAnswer(gw, 'scorpio-play', bet('exact', transId(), 0.01), withBalance(31, '0'));
    await expectReconciled(gw);
  });

  it('a bet refused for funds, then its cancel: OK with the balance, nothing refunded (rule 4)', async () => {
    await gw.fund('refused', { USD: '3.00' });
    const b = transId();
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', bet('refused', b, 10), withBalance(31, '3'));
    await expectAnswer(gw, 'scorpio-play', cancel('refused', b), ok('3'));
    expect(await snapshot(gw)).toEqual(before);
    expect(await wallet(gw, 'refused', 'USD')).toBe(300n);
    // The refused bet is recorded as refused, not as money moved.
    const row = await gw.gateway.db
      .selectFrom('provider_transactions')
      .select(['status', 'transfer_id'])
      .where('provider_id', '=', 'scorpio-play')
      .where('external_id', '=', String(b))
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'refused', transfer_id: null });
    await expectReconciled(gw);
  });

  it('a zero win (lost round) is accepted and recorded', async () => {
    await gw.fund('zero', { USD: '10.00' });
    const b = transId();
    const w = transId();
    await expectAnswer(gw, 'scorpio-play', bet('zero', b, 2, { round: 'r-zero' }), ok('8'));
    const txBefore = await providerTxCount(gw);
    await expectAnswer(gw, 'scorpio-play', win('zero', w, 0, { round: 'r-zero' }), ok('8'));
    expect(await providerTxCount(gw)).toBe(txBefore + 1);
    const row = await gw.gateway.db
      .selectFrom('provider_transactions')
      .select(['kind', 'amount', 'status'])
      .where('provider_id', '=', 'scorpio-play')
      .where('external_id', '=', String(w))
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ kind: 'credit', amount: 0n, status: 'applied' });
    await expectAnswer(gw, 'scorpio-play', status('zero', w), statusOk(String(w), 'OK'));
    expect(await wallet(gw, 'zero', 'USD')).toBe(800n);
    await expectReconciled(gw);
  });

  it('a bonus-call win (type 32, call_id set) is credited', async () => {
    await gw.fund('bonus', { USD: '0' });
    await expectAnswer(gw, 'scorpio-play', win('bonus', transId(), 15, { type: 32, callId: 9001 }), ok('15'));
    expect(await wallet(gw, 'bonus', 'USD')).toBe(1500n);
  });

  it('the vendor context is kept with the transaction', async () => {
    await gw.fund('ctx', { USD: '10.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('ctx', b, 1, { round: 'r-ctx' }), ok('9'));
    const row = await gw.gateway.db
      .selectFrom('provider_transactions')
      .select(['amount', 'currency', 'details'])
      .where('provider_id', '=', 'scorpio-play')
      .where('external_id', '=', String(b))
      .executeTakeFirstOrThrow();
    expect(row.amount).toBe(100n);
    expect(row.currency.trim()).toBe('USD');
    expect(row.details).toMatchObject({ game_code: 'vs20doghouse', game_name: 'The Dog House', provider_id: 'pragmatic' });
  });
});

describe('blocked player (check 22, wallet-semantics rule 7)', () => {
  it('bet and balance are refused with 22; nothing is debited', async () => {
    await gw.fund('blk', { USD: '100.00' });
    await gw.gateway.backOffice.setStatus(PlayerCode('blk'), 'blocked');
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', bet('blk', transId(), 10), bare(22));
    await expectAnswer(gw, 'scorpio-play', balance('blk'), bare(22));
    expect(await snapshot(gw)).toEqual(before);
    expect(await wallet(gw, 'blk', 'USD')).toBe(10000n);
    await expectReconciled(gw);
  });

  it('a win and a cancel for a blocked player are still paid', async () => {
    await gw.fund('blkpay', { USD: '100.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('blkpay', b, 40, { round: 'r-blkpay' }), ok('60'));
    await expectAnswer(gw, 'scorpio-play', bet('blkpay', transId(), 10, { round: 'r-blkpay' }), ok('50'));
    await gw.gateway.backOffice.setStatus(PlayerCode('blkpay'), 'blocked');
    await expectAnswer(gw, 'scorpio-play', win('blkpay', transId(), 15, { round: 'r-blkpay' }), ok('65'));
    await expectAnswer(gw, 'scorpio-play', cancel('blkpay', b, { round: 'r-blkpay' }), ok('105'));
    expect(await wallet(gw, 'blkpay', 'USD')).toBe(10500n);
    await expectAnswer(gw, 'scorpio-play', status('blkpay', b), statusOk(String(b), 'CANCELED'));
    await expectAnswer(gw, 'scorpio-play', bet('blkpay', transId(), 1), bare(22));
    await expectReconciled(gw);
  });

  it('once unblocked the player can bet again', async () => {
    await gw.fund('unblk', { USD: '10.00' });
    await gw.gateway.backOffice.setStatus(PlayerCode('unblk'), 'blocked');
    await expectAnswer(gw, 'scorpio-play', bet('unblk', transId(), 1), bare(22));
    await gw.gateway.backOffice.setStatus(PlayerCode('unblk'), 'active');
    await expectAnswer(gw, 'scorpio-play', bet('unblk', transId(), 1), ok('9'));
  });
});

describe('EUR (slotcity) and KRW (meganodes)', () => {
  it('a full EUR round via slotcity', async () => {
    await gw.fund('eur', { EUR: '100.00' });
    const b = transId();
    const w = transId();
    await expectAnswer(gw, 'slotcity', bet('eur', b, 2.5, { round: 'r-eur' }), ok('97.5'));
    await expectAnswer(gw, 'slotcity', win('eur', w, 7.25, { round: 'r-eur' }), ok('104.75'));
    await expectAnswer(gw, 'slotcity', status('eur', b), statusOk(String(b), 'OK'));
    await expectAnswer(gw, 'slotcity', cancel('eur', w, { round: 'r-eur' }), ok('97.5'));
    await expectAnswer(gw, 'slotcity', balance('eur'), ok('97.5'));
    expect(await wallet(gw, 'eur', 'EUR')).toBe(9750n);
    await expectReconciled(gw);
  });

  it('a full KRW round via meganodes: balances never carry decimals', async () => {
    await gw.fund('krw', { KRW: '50000' });
    const b = transId();
    const w = transId();
    await expectAnswer(gw, 'meganodes', authenticate('krw'), authOk('krw', '50000'));
    await expectAnswer(gw, 'meganodes', bet('krw', b, 1000, { round: 'r-krw' }), ok('49000'));
    await expectAnswer(gw, 'meganodes', win('krw', w, 2500, { round: 'r-krw' }), ok('51500'));
    await expectAnswer(gw, 'meganodes', cancel('krw', w, { round: 'r-krw' }), ok('49000'));
    await expectAnswer(gw, 'meganodes', cancel('krw', b, { round: 'r-krw' }), ok('50000'));
    await expectAnswer(gw, 'meganodes', balance('krw'), ok('50000'));
    await expectAnswer(gw, 'meganodes', bet('krw', transId(), 50001), withBalance(31, '50000'));
    expect(await wallet(gw, 'krw', 'KRW')).toBe(50000n);
    await expectReconciled(gw);
  });

  it('KRW amounts written with zero decimals ("1000.00" as a number) are exact', async () => {
    await gw.fund('krw2', { KRW: '3000' });
    await expectAnswer(gw, 'meganodes', bet('krw2', transId(), JSON.rawJSON('1000.00')), ok('2000'));
    expect(await wallet(gw, 'krw2', 'KRW')).toBe(2000n);
  });

  it('one player, three vendor accounts: each moves only its own currency', async () => {
    await gw.fund('tri', { USD: '10.00', EUR: '20.00', KRW: '30000' });
    await expectAnswer(gw, 'scorpio-play', bet('tri', transId(), 1), ok('9'));
    await expectAnswer(gw, 'slotcity', bet('tri', transId(), 2), ok('18'));
    await expectAnswer(gw, 'meganodes', bet('tri', transId(), 3000), ok('27000'));
    expect(await wallet(gw, 'tri', 'USD')).toBe(900n);
    expect(await wallet(gw, 'tri', 'EUR')).toBe(1800n);
    expect(await wallet(gw, 'tri', 'KRW')).toBe(27000n);
    await expectReconciled(gw);
  });
});
