import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlayerCode } from '../../src/wallet/types.ts';
import { TOKENS, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { bare, bet, cancel, balance, expectAnswer, expectReconciled, ok, providerTxCount, snapshot, transId, wallet, win, withBalance } from './helpers.ts';

/**
 * Command-dialect edges a certification team or an attacker tries, which the other command tests and
 * the conformance kit do not reach: check codes that do not apply to a command, a blocked player's
 * refused bet as a round's stake, exponent amounts, compressed and hostile bodies.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe('a check code that does not apply to the command never refuses money owed', () => {
  it('31 listed first on a win, or on a cancel of a bet, is not a funds check: both are paid', async () => {
    await gw.fund('aud_chk', { USD: '20.00' });
    const b = transId();
    await expectAnswer(gw, 'scorpio-play', bet('aud_chk', b, 10, { round: 'r-aud-chk' }), ok('10'));
    await expectAnswer(gw, 'scorpio-play', bet('aud_chk', transId(), 10, { round: 'r-aud-chk-w' }), ok('0'));
    // A win far above the balance, with "31" (balance covers the amount) first in the list.
    await expectAnswer(gw, 'scorpio-play', win('aud_chk', transId(), 500, { round: 'r-aud-chk-w', check: '31,21,22,41' }), ok('500'));
    await expectAnswer(gw, 'scorpio-play', bet('aud_chk', transId(), 500, { round: 'r-aud-chk2' }), ok('0'));
    await expectAnswer(gw, 'scorpio-play', cancel('aud_chk', b, { round: 'r-aud-chk', check: '31,21,22,42' }), ok('10'));
    expect(await wallet(gw, 'aud_chk', 'USD')).toBe(1000n);
    await expectReconciled(gw);
  });

  it('42 listed on a bet does not refuse a new bet', async () => {
    await gw.fund('aud_chk42', { USD: '10.00' });
    await expectAnswer(gw, 'scorpio-play', bet('aud_chk42', transId(), 1, { check: '42,21,22,41,31' }), ok('9'));
  });
});

describe('blocked player and round rules together (rules 7, 11)', () => {
  it('a bet refused because the player is blocked is no stake: a win on its round pays nothing', async () => {
    await gw.fund('aud_blkrnd', { USD: '10.00' });
    await gw.gateway.backOffice.setStatus(PlayerCode('aud_blkrnd'), 'blocked');
    const before = await snapshot(gw);
    await expectAnswer(gw, 'scorpio-play', bet('aud_blkrnd', transId(), 5, { round: 'r-aud-blk' }), bare(22));
    await expectAnswer(gw, 'scorpio-play', win('aud_blkrnd', transId(), 50, { round: 'r-aud-blk' }), withBalance(42, '10'));
    await gw.gateway.backOffice.setStatus(PlayerCode('aud_blkrnd'), 'active');
    await expectAnswer(gw, 'scorpio-play', win('aud_blkrnd', transId(), 50, { round: 'r-aud-blk' }), withBalance(42, '10'));
    expect(await snapshot(gw)).toEqual(before);
    await expectReconciled(gw);
  });
});

describe('call_id: a number, or its digits as text', () => {
  it('a call_id that is not digits is malformed (99), never taken for a bonus call that needs no stake', async () => {
    await gw.fund('aud_callid', { USD: '10.00' });
    const before = await snapshot(gw);
    for (const callId of [' 0', '0 ', 'abc', '1e3', '-1']) {
      const body = win('aud_callid', transId(), 50, { round: 'r-aud-callid' });
      (body.data as Record<string, unknown>).call_id = callId;
      const res = await gw.callback('scorpio-play', body);
      expect(res.json.result, JSON.stringify(callId)).toBe(99);
    }
    expect(await snapshot(gw)).toEqual(before);
    // Digits as text read as the number: "0" is an ordinary win (no stake: 42), "7" a bonus call's.
    const plain = win('aud_callid', transId(), 50, { round: 'r-aud-callid' });
    (plain.data as Record<string, unknown>).call_id = '000';
    await expectAnswer(gw, 'scorpio-play', plain, withBalance(42, '10'));
    const bonus = win('aud_callid', transId(), 50, { round: 'r-aud-callid' });
    (bonus.data as Record<string, unknown>).call_id = '7';
    await expectAnswer(gw, 'scorpio-play', bonus, ok('60'));
    await expectReconciled(gw);
  });
});

describe('amounts in exponent notation and negative zero', () => {
  it('exponent forms are converted exactly; -0 and an exponent below a cent are refused (99)', async () => {
    await gw.fund('aud_exp', { USD: '100.00' });
    await expectAnswer(gw, 'scorpio-play', bet('aud_exp', transId(), JSON.rawJSON('1E+1'), { round: 'r-aud-exp' }), ok('90'));
    await expectAnswer(gw, 'scorpio-play', bet('aud_exp', transId(), '1e-2', { round: 'r-aud-exp' }), ok('89.99'));
    await expectAnswer(gw, 'scorpio-play', win('aud_exp', transId(), JSON.rawJSON('2.5e1'), { round: 'r-aud-exp' }), ok('114.99'));
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    for (const amount of [JSON.rawJSON('-0'), '-0', JSON.rawJSON('-0.0'), JSON.rawJSON('1e-3'), JSON.rawJSON('1e-400'), JSON.rawJSON('0e-41')]) {
      await expectAnswer(gw, 'scorpio-play', bet('aud_exp', transId(), amount, { round: 'r-aud-exp' }), withBalance(99, '114.99'));
      await expectAnswer(gw, 'scorpio-play', win('aud_exp', transId(), amount, { round: 'r-aud-exp' }), withBalance(99, '114.99'));
    }
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
  });
});

describe('transport: encodings and nesting (rule 6)', () => {
  const post = async (body: Uint8Array | string, headers: Record<string, string>) => {
    const res = await fetch(`${gw.url}/callbacks/scorpio-play`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'callback-token': TOKENS['scorpio-play'], ...headers },
      body,
    });
    return { status: res.status, text: await res.text() };
  };

  it('a gzip body is read; a corrupt or unsupported encoding, a gzip bomb and deep nesting answer 99 with HTTP 200 and move nothing', async () => {
    await gw.fund('aud_enc', { USD: '10.00' });
    expect(await post(gzipSync(JSON.stringify(bet('aud_enc', transId(), 1))), { 'content-encoding': 'gzip' })).toEqual({ status: 200, text: ok('9') });
    const before = await snapshot(gw);
    const txBefore = await providerTxCount(gw);
    const hostile: [Uint8Array | string, Record<string, string>][] = [
      [JSON.stringify(bet('aud_enc', transId(), 1)), { 'content-encoding': 'gzip' }],
      [JSON.stringify(bet('aud_enc', transId(), 1)), { 'content-encoding': 'compress' }],
      [gzipSync(Buffer.alloc(20 * 1024 * 1024, 32)), { 'content-encoding': 'gzip' }],
      [`{"command":"bet","data":${JSON.stringify(bet('aud_enc', transId(), 1).data).slice(0, -1)},"x":${'['.repeat(20000)}${']'.repeat(20000)}}}`, {}],
    ];
    for (const [body, headers] of hostile) expect(await post(body, headers)).toMatchObject({ status: 200, text: expect.stringMatching(/^\{"result":99,"status":"ERROR"/) });
    expect(await snapshot(gw)).toEqual(before);
    expect(await providerTxCount(gw)).toBe(txBefore);
    await expectAnswer(gw, 'scorpio-play', balance('aud_enc'), ok('9'));
  });
});
