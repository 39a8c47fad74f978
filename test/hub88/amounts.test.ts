import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHubUnits, hubUnitsPerMinor, toHubUnits } from '../../providers/hub88/units.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { balanceOf, expectReconciled, ledgerState, transactionsOf } from '../event/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { betBody, configDir, expectAnswer, instance, newRound, post, token, uuid, winBody } from './helpers.ts';

/**
 * Hub88 amounts are integers in 1/100000 of the currency unit ($3.56 is 356000): one minor unit is
 * 1000 of them in USD, 100 in BHD (three decimals), 100000 in KRW (none). Converted exactly both ways;
 * an amount that is not a non-negative integer of whole minor units is refused, never rounded.
 */

const H = instance('hub88-amt');
const KRW = instance('hub88-amt-krw', { currency: 'KRW' });

let dir: string;
let gw: TestGateway;
beforeAll(async () => {
  dir = configDir([H, KRW]);
  gw = await startTestGateway({ CONFIG_DIR: dir });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the conversion', () => {
  it('one minor unit is 10^(5 - exponent) hub units', () => {
    expect(hubUnitsPerMinor(asCurrency('USD'))).toBe(1_000n);
    expect(hubUnitsPerMinor(asCurrency('EUR'))).toBe(1_000n);
    expect(hubUnitsPerMinor(asCurrency('BHD'))).toBe(100n);
    expect(hubUnitsPerMinor(asCurrency('KRW'))).toBe(100_000n);
    expect(hubUnitsPerMinor(asCurrency('JPY'))).toBe(100_000n);
    expect(hubUnitsPerMinor(asCurrency('KWD'))).toBe(100n);
  });

  it('converts exactly, refusing what is not an integer of whole minor units', () => {
    const usd = asCurrency('USD');
    expect(fromHubUnits('356000', usd)).toEqual({ ok: true, value: 356n });
    expect(fromHubUnits('0', usd)).toEqual({ ok: true, value: 0n });
    expect(fromHubUnits('9223372036854775000', usd)).toEqual({ ok: true, value: 9_223_372_036_854_775n });
    for (const bad of ['356001', '1', '999', '-1000', '-0', '1e3', '1000.0', '1000.5', '01000', '', ' 1000', '9223372036854775808', '99999999999999999999']) {
      expect(fromHubUnits(bad, usd).ok, bad).toBe(false);
    }
    expect(fromHubUnits('150000', asCurrency('KRW')).ok).toBe(false);
    expect(fromHubUnits('100000', asCurrency('KRW'))).toEqual({ ok: true, value: 1n });
    expect(toHubUnits(356n, usd)).toBe(356_000n);
    expect(toHubUnits(12_345_678_901_234n, usd)).toBe(12_345_678_901_234_000n);
    expect(toHubUnits(7n, asCurrency('KRW'))).toBe(700_000n);
  });
});

describe('USD: one cent is 1000', () => {
  it('$3.56 is 356000 on the way in and on the way out, a cent is 1000', async () => {
    await gw.fund('a_usd', { USD: '10' });
    const round = newRound();
    const bet = await betBody(H, { user: 'a_usd', round, amount: 356_000 });
    expectAnswer(await post(gw, H, '/transaction/bet', bet), { user: 'a_usd', status: 'RS_OK', request_uuid: bet.request_uuid, currency: 'USD', balance: 644_000 });
    expect(await balanceOf(gw, 'a_usd')).toBe(644n);
    const cent = await betBody(H, { user: 'a_usd', round, amount: 1_000 });
    expectAnswer(await post(gw, H, '/transaction/bet', cent), { user: 'a_usd', status: 'RS_OK', request_uuid: cent.request_uuid, currency: 'USD', balance: 643_000 });
    const win = await winBody(H, { user: 'a_usd', round, amount: 1_234_567_000 }, bet.transaction_uuid);
    expectAnswer(await post(gw, H, '/transaction/win', win), { user: 'a_usd', status: 'RS_OK', request_uuid: win.request_uuid, currency: 'USD', balance: 1_235_210_000 });
    expect(await balanceOf(gw, 'a_usd')).toBe(1_235_210n);
    expect((await transactionsOf(gw, 'a_usd', H.id)).map((t) => t.amount)).toEqual([356n, 1n, 1_234_567n]);
    await expectReconciled(gw);
  });

  it('amounts that are not whole cents, negative, or not integers are RS_ERROR_WRONG_TYPES, and nothing moves', async () => {
    await gw.fund('a_bad', { USD: '100' });
    const before = await ledgerState(gw);
    for (const amount of ['1', '999', '356001', '1000001', '-1000', '-0', '1e3', '1000.0', '1000.5', '9223372036854775808']) {
      const bet = await betBody(H, { user: 'a_bad', amount });
      const reply = await post(gw, H, '/transaction/bet', bet);
      expectAnswer(reply, { user: 'a_bad', status: 'RS_ERROR_WRONG_TYPES', request_uuid: bet.request_uuid, currency: 'USD' });
    }
    // As text, it is the wrong type whatever its digits.
    const text = await betBody(H, { user: 'a_bad', amount: 1000 });
    expect((await post(gw, H, '/transaction/bet', { ...text, amount: '1000' })).answer.status).toBe('RS_ERROR_WRONG_TYPES');
    const win = await winBody(H, { user: 'a_bad', amount: 500 }, 'some-bet');
    expect((await post(gw, H, '/transaction/win', win)).answer.status).toBe('RS_ERROR_WRONG_TYPES');
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a balance beyond 2^53 hub units comes back digit for digit', async () => {
    await gw.fund('a_rich', { USD: '123456789012.34' });
    const reply = await post(gw, H, '/user/balance', { user: 'a_rich', token: await token(H, 'a_rich'), request_uuid: uuid() });
    expect(reply.raw).toContain('"balance":12345678901234000');
    expect(12_345_678_901_234_000 > Number.MAX_SAFE_INTEGER).toBe(true);
  });
});

describe('KRW: one won is 100000; BHD: one fils is 100', () => {
  it('KRW balances and bets in whole won; a KRW amount not a multiple of 100000 is refused', async () => {
    await gw.fund('a_krw', { KRW: '1000' });
    const request_uuid = uuid();
    expectAnswer(await post(gw, KRW, '/user/info', { user: 'a_krw', request_uuid }), { user: 'a_krw', status: 'RS_OK', request_uuid, currency: 'KRW', balance: 100_000_000 });
    const bet = await betBody(KRW, { user: 'a_krw', amount: 100_000 });
    expectAnswer(await post(gw, KRW, '/transaction/bet', bet), { user: 'a_krw', status: 'RS_OK', request_uuid: bet.request_uuid, currency: 'KRW', balance: 99_900_000 });
    expect(await balanceOf(gw, 'a_krw', 'KRW')).toBe(999n);
    const before = await ledgerState(gw);
    for (const amount of [150_000, 99_999, 1_000, 1]) {
      const odd = await betBody(KRW, { user: 'a_krw', amount });
      expectAnswer(await post(gw, KRW, '/transaction/bet', odd), { user: 'a_krw', status: 'RS_ERROR_WRONG_TYPES', request_uuid: odd.request_uuid, currency: 'KRW' });
    }
    expect(await ledgerState(gw)).toEqual(before);
    // The USD instance takes a KRW session too: the bet's currency is its session's.
    const viaUsd = await betBody(H, { user: 'a_krw', amount: 500_000, currency: 'KRW' });
    expectAnswer(await post(gw, H, '/transaction/bet', viaUsd), { user: 'a_krw', status: 'RS_OK', request_uuid: viaUsd.request_uuid, currency: 'KRW', balance: 99_400_000 });
  });

  it('BHD in fils: 100 hub units each', async () => {
    await gw.fund('a_bhd', { BHD: '1.234' });
    const bet = await betBody(H, { user: 'a_bhd', amount: 100, currency: 'BHD' });
    expectAnswer(await post(gw, H, '/transaction/bet', bet), { user: 'a_bhd', status: 'RS_OK', request_uuid: bet.request_uuid, currency: 'BHD', balance: 123_300 });
    expect(await balanceOf(gw, 'a_bhd', 'BHD')).toBe(1_233n);
    const half = await betBody(H, { user: 'a_bhd', amount: 50, currency: 'BHD' });
    expect((await post(gw, H, '/transaction/bet', half)).answer.status).toBe('RS_ERROR_WRONG_TYPES');
  });

  it('a zero win is paid as nothing, and answered with the balance', async () => {
    await gw.fund('a_zero', { USD: '1' });
    const round = newRound();
    const bet = await betBody(H, { user: 'a_zero', round, amount: 100_000 });
    await post(gw, H, '/transaction/bet', bet);
    const win = await winBody(H, { user: 'a_zero', round, amount: 0 }, bet.transaction_uuid);
    expectAnswer(await post(gw, H, '/transaction/win', win), { user: 'a_zero', status: 'RS_OK', request_uuid: win.request_uuid, currency: 'USD', balance: 0 });
    expect(await transactionsOf(gw, 'a_zero', H.id)).toHaveLength(2);
  });

  it('the amount is read from its digits, not from a float: 2^53 + 1 hub-unit multiples stay exact', async () => {
    await gw.fund('a_exact', { USD: '90071992547409.93' });
    // 9007199254740993000 hub units: as a float it would be ...992000 or ...994000.
    const bet = await betBody(H, { user: 'a_exact', amount: '9007199254740993000' });
    const reply = await post(gw, H, '/transaction/bet', bet);
    expectAnswer(reply, { user: 'a_exact', status: 'RS_OK', request_uuid: bet.request_uuid, currency: 'USD', balance: 0 });
  });
});
