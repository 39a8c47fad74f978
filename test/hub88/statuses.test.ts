import { sign } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOOR_STATUS, FAILURE_STATUS, REFUSAL_STATUS } from '../../providers/hub88/codes.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { balanceOf, block, expectReconciled, ledgerState, transactionsOf } from '../event/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { holdWallet } from '../webhooks/helpers.ts';
import { betBody, configDir, expectAnswer, instance, newRound, post, rollbackBody, token, txId, units, uuid, winBody } from './helpers.ts';

/**
 * Every way a Hub88 call can end, and the status it gets: one wallet operation per call, the wallet's
 * outcome through the one table of codes.ts; the door's refusals; the gateway's failures. Each answer
 * is `{user, status, request_uuid, currency, balance}` (each where known), signed (helpers.post checks
 * the signature of every answer).
 */

const H = instance('hub88-st');
const FAR = instance('hub88-st-far', { allowFrom: ['10.0.0.0/8'] });
const USD_CENT = 1000n; // hub units in one cent

let dir: string;
let gw: TestGateway;
beforeAll(async () => {
  dir = configDir([H, FAR]);
  // A short lock wait: a wallet held elsewhere faults in time (the 'fault' test).
  gw = await startTestGateway({ CONFIG_DIR: dir, LOCK_WAIT_MS: '200', DB_LOCK_TIMEOUT_MS: '300', WORKERS: 'false' });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

const usd = (player: string) => balanceOf(gw, player);
const cents = (n: bigint) => n * USD_CENT;

describe('the table', () => {
  it('maps every wallet refusal, failure and door refusal to the status the brief and the vendor say', () => {
    expect(REFUSAL_STATUS).toEqual({
      unknown_player: 'RS_ERROR_INVALID_TOKEN',
      currency_mismatch: 'RS_ERROR_WRONG_CURRENCY',
      player_blocked: 'RS_ERROR_USER_DISABLED',
      insufficient_funds: 'RS_ERROR_NOT_ENOUGH_MONEY',
      conflict: 'RS_ERROR_DUPLICATE_TRANSACTION',
      rolled_back: 'RS_ERROR_TRANSACTION_ROLLED_BACK',
      target_not_found: 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
      no_stake: 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
      round_settled: 'RS_ERROR_WRONG_SYNTAX',
      line_closed: 'RS_ERROR_WRONG_SYNTAX',
      inconsistent: 'RS_ERROR_WRONG_SYNTAX',
      unknown_line: 'RS_ERROR_WRONG_SYNTAX',
      stale_change: 'RS_ERROR_WRONG_SYNTAX',
      superseded: 'RS_OK',
      win_stands: 'RS_ERROR_UNKNOWN',
    });
    expect(FAILURE_STATUS).toEqual({ fault: 'RS_ERROR_UNKNOWN', unreadable: 'RS_ERROR_WRONG_SYNTAX', forbidden: 'RS_ERROR_INVALID_PARTNER' });
    expect(DOOR_STATUS).toMatchObject({ badSignature: 'RS_ERROR_INVALID_SIGNATURE', badToken: 'RS_ERROR_INVALID_TOKEN', expiredToken: 'RS_ERROR_TOKEN_EXPIRED' });
  });
});

describe('/user/info and /user/balance', () => {
  it('/user/info: RS_OK with the user, the request_uuid echoed, the balance in the instance currency; a blocked user too', async () => {
    await gw.fund('h_info', { USD: '12.34' });
    const request_uuid = uuid();
    expectAnswer(await post(gw, H, '/user/info', { user: 'h_info', request_uuid }), { user: 'h_info', status: 'RS_OK', request_uuid, currency: 'USD', balance: 1_234_000 });
    await block(gw, 'h_info');
    expectAnswer(await post(gw, H, '/user/info', { user: 'h_info', request_uuid }), { user: 'h_info', status: 'RS_OK', request_uuid, currency: 'USD', balance: 1_234_000 });
  });

  it('/user/info of a user the casino does not know: RS_ERROR_INVALID_TOKEN; of one without a wallet in the currency: RS_ERROR_WRONG_CURRENCY', async () => {
    const request_uuid = uuid();
    expectAnswer(await post(gw, H, '/user/info', { user: 'h_nobody', request_uuid }), { user: 'h_nobody', status: 'RS_ERROR_INVALID_TOKEN', request_uuid, currency: 'USD' });
    await gw.fund('h_eur_only', { EUR: '5' });
    expectAnswer(await post(gw, H, '/user/info', { user: 'h_eur_only', request_uuid }), { user: 'h_eur_only', status: 'RS_ERROR_WRONG_CURRENCY', request_uuid, currency: 'USD' });
  });

  it("/user/balance: the balance in the session's currency, unknown fields accepted", async () => {
    await gw.fund('h_bal', { USD: '1', EUR: '2.5' });
    const request_uuid = uuid();
    const call = async (currency: string) => ({ user: 'h_bal', token: await token(H, 'h_bal', currency), request_uuid, game_code: null, supplier_user: 'x_h_bal', new_field: { a: 1 } });
    expectAnswer(await post(gw, H, '/user/balance', await call('USD')), { user: 'h_bal', status: 'RS_OK', request_uuid, currency: 'USD', balance: 100_000 });
    expectAnswer(await post(gw, H, '/user/balance', await call('EUR')), { user: 'h_bal', status: 'RS_OK', request_uuid, currency: 'EUR', balance: 250_000 });
  });
});

describe('bets, wins and rollbacks: the wallet outcome as a status', () => {
  it('RS_OK for a bet, a win, a rollback; a repeat answers RS_OK with the balance as it is now', async () => {
    await gw.fund('h_ok', { USD: '100' });
    const round = newRound();
    const bet = await betBody(H, { user: 'h_ok', round, amount: cents(1_000n) });
    expectAnswer(await post(gw, H, '/transaction/bet', bet), { user: 'h_ok', status: 'RS_OK', request_uuid: bet.request_uuid, currency: 'USD', balance: cents(9_000n) });
    const win = await winBody(H, { user: 'h_ok', round, amount: cents(2_550n) }, bet.transaction_uuid);
    expectAnswer(await post(gw, H, '/transaction/win', win), { user: 'h_ok', status: 'RS_OK', request_uuid: win.request_uuid, currency: 'USD', balance: cents(11_550n) });
    // The bet again (Hub88's retry, with a request_uuid of its own): nothing moves, the current balance.
    const again = { ...bet, request_uuid: uuid() };
    expectAnswer(await post(gw, H, '/transaction/bet', again), { user: 'h_ok', status: 'RS_OK', request_uuid: again.request_uuid, currency: 'USD', balance: cents(11_550n) });
    expectAnswer(await post(gw, H, '/transaction/win', win), { user: 'h_ok', status: 'RS_OK', request_uuid: win.request_uuid, currency: 'USD', balance: cents(11_550n) });
    const rollback = await rollbackBody(H, 'h_ok', win.transaction_uuid);
    expectAnswer(await post(gw, H, '/transaction/rollback', rollback), { user: 'h_ok', status: 'RS_OK', request_uuid: rollback.request_uuid, currency: 'USD', balance: cents(9_000n) });
    expectAnswer(await post(gw, H, '/transaction/rollback', rollback), { user: 'h_ok', status: 'RS_OK', request_uuid: rollback.request_uuid, currency: 'USD', balance: cents(9_000n) });
    expect(await usd('h_ok')).toBe(9_000n);
    expect((await transactionsOf(gw, 'h_ok', H.id)).map((t) => [t.kind, t.status, t.amount, t.round])).toEqual([
      ['debit', 'applied', 1_000n, round],
      ['credit', 'applied', 2_550n, round],
    ]);
    // The call's context is kept with the transaction.
    expect((await transactionsOf(gw, 'h_ok', H.id))[1]!.details).toMatchObject({
      game_code: 'clt_dragonrising',
      supplier_transaction_id: 'supplier-1',
      request_uuid: win.request_uuid,
      round_closed: false,
      reference_transaction_uuid: bet.transaction_uuid,
    });
    await expectReconciled(gw);
  });

  it('RS_ERROR_DUPLICATE_TRANSACTION: the same transaction_uuid with another amount, round, user or currency; nothing moves', async () => {
    await gw.fund('h_dup', { USD: '100', EUR: '100' });
    await gw.fund('h_dup_other', { USD: '100' });
    const bet = await betBody(H, { user: 'h_dup', amount: cents(1_000n) });
    await post(gw, H, '/transaction/bet', bet);
    const before = await ledgerState(gw);
    for (const changed of [
      { ...bet, amount: units(cents(2_000n)) },
      { ...bet, round: newRound() },
      await betBody(H, { user: 'h_dup_other', tx: bet.transaction_uuid, round: bet.round, amount: cents(1_000n) }),
      await betBody(H, { user: 'h_dup', tx: bet.transaction_uuid, round: bet.round, amount: cents(1_000n), currency: 'EUR' }),
    ]) {
      const reply = await post(gw, H, '/transaction/bet', changed);
      expect(reply.answer.status, reply.raw).toBe('RS_ERROR_DUPLICATE_TRANSACTION');
      expect(reply.answer.user).toBe(changed.user);
    }
    expect(await ledgerState(gw)).toEqual(before);
    expect(await usd('h_dup')).toBe(9_000n);
  });

  it('RS_ERROR_NOT_ENOUGH_MONEY with the balance; the retry after a deposit is still refused', async () => {
    await gw.fund('h_poor', { USD: '5' });
    const bet = await betBody(H, { user: 'h_poor', amount: cents(501n) });
    expectAnswer(await post(gw, H, '/transaction/bet', bet), { user: 'h_poor', status: 'RS_ERROR_NOT_ENOUGH_MONEY', request_uuid: bet.request_uuid, currency: 'USD', balance: cents(500n) });
    const deposit = await gw.backOffice.cashier('deposit', PlayerCode('h_poor'), asCurrency('USD'), 1_000n, 'top-up:h_poor');
    expect(deposit.ok).toBe(true);
    expectAnswer(await post(gw, H, '/transaction/bet', bet), { user: 'h_poor', status: 'RS_ERROR_NOT_ENOUGH_MONEY', request_uuid: bet.request_uuid, currency: 'USD', balance: cents(1_500n) });
    expect(await usd('h_poor')).toBe(1_500n);
  });

  it('RS_ERROR_USER_DISABLED for a blocked user’s bet; its win and rollback are paid', async () => {
    await gw.fund('h_blocked', { USD: '100' });
    const round = newRound();
    const b1 = await betBody(H, { user: 'h_blocked', round, amount: cents(1_000n) });
    const b2 = await betBody(H, { user: 'h_blocked', round, amount: cents(500n) });
    await post(gw, H, '/transaction/bet', b1);
    await post(gw, H, '/transaction/bet', b2);
    await block(gw, 'h_blocked');
    const refused = await betBody(H, { user: 'h_blocked', round, amount: cents(100n) });
    expectAnswer(await post(gw, H, '/transaction/bet', refused), { user: 'h_blocked', status: 'RS_ERROR_USER_DISABLED', request_uuid: refused.request_uuid, currency: 'USD', balance: cents(8_500n) });
    expect((await post(gw, H, '/transaction/win', await winBody(H, { user: 'h_blocked', round, amount: cents(3_000n) }, b1.transaction_uuid))).answer.status).toBe('RS_OK');
    expect((await post(gw, H, '/transaction/rollback', await rollbackBody(H, 'h_blocked', b2.transaction_uuid))).answer.status).toBe('RS_OK');
    expect(await usd('h_blocked')).toBe(12_000n);
  });

  it('RS_ERROR_WRONG_CURRENCY for a bet in a currency the user has no wallet in; RS_ERROR_INVALID_TOKEN for a user the casino does not know', async () => {
    await gw.fund('h_usd_only', { USD: '100' });
    const eur = await betBody(H, { user: 'h_usd_only', amount: cents(100n), currency: 'EUR' });
    expectAnswer(await post(gw, H, '/transaction/bet', eur), { user: 'h_usd_only', status: 'RS_ERROR_WRONG_CURRENCY', request_uuid: eur.request_uuid, currency: 'EUR' });
    const ghost = await betBody(H, { user: 'h_ghost', amount: cents(100n) });
    expectAnswer(await post(gw, H, '/transaction/bet', ghost), { user: 'h_ghost', status: 'RS_ERROR_INVALID_TOKEN', request_uuid: ghost.request_uuid, currency: 'USD' });
    expect(await usd('h_usd_only')).toBe(10_000n);
  });

  it('RS_OK for a rollback of a bet never seen (Hub88: "can\'t find the transaction to roll back, respond RS_OK"), then RS_ERROR_TRANSACTION_ROLLED_BACK for that bet', async () => {
    await gw.fund('h_rb_first', { USD: '100' });
    const bet = await betBody(H, { user: 'h_rb_first', amount: cents(1_000n) });
    const rollback = await rollbackBody(H, 'h_rb_first', bet.transaction_uuid);
    expectAnswer(await post(gw, H, '/transaction/rollback', rollback), {
      user: 'h_rb_first',
      status: 'RS_OK',
      request_uuid: rollback.request_uuid,
      currency: 'USD',
      balance: cents(10_000n),
    });
    for (let i = 0; i < 2; i++) {
      expectAnswer(await post(gw, H, '/transaction/bet', bet), {
        user: 'h_rb_first',
        status: 'RS_ERROR_TRANSACTION_ROLLED_BACK',
        request_uuid: bet.request_uuid,
        currency: 'USD',
        balance: cents(10_000n),
      });
    }
    expect(await usd('h_rb_first')).toBe(10_000n);
  });

  it('RS_ERROR_TRANSACTION_DOES_NOT_EXIST for a win whose bet cannot be found: never placed, rolled back, refused, on another round', async () => {
    await gw.fund('h_no_bet', { USD: '100' });
    const round = newRound();
    const standing = await betBody(H, { user: 'h_no_bet', round, amount: cents(1_000n) });
    const cancelled = await betBody(H, { user: 'h_no_bet', round, amount: cents(100n) });
    const elsewhere = await betBody(H, { user: 'h_no_bet', amount: cents(100n) });
    const tooBig = await betBody(H, { user: 'h_no_bet', round, amount: cents(1_000_000n) });
    for (const b of [standing, cancelled, elsewhere, tooBig]) await post(gw, H, '/transaction/bet', b);
    await post(gw, H, '/transaction/rollback', await rollbackBody(H, 'h_no_bet', cancelled.transaction_uuid));
    expect(await usd('h_no_bet')).toBe(8_900n);
    const before = await ledgerState(gw);
    for (const reference of [txId(), cancelled.transaction_uuid, elsewhere.transaction_uuid, tooBig.transaction_uuid]) {
      const win = await winBody(H, { user: 'h_no_bet', round, amount: cents(5_000n) }, reference);
      expectAnswer(await post(gw, H, '/transaction/win', win), {
        user: 'h_no_bet',
        status: 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
        request_uuid: win.request_uuid,
        currency: 'USD',
        balance: cents(8_900n),
      });
    }
    expect((await ledgerState(gw)).accounts).toEqual(before.accounts);
    // Naming the bet that stands, it is paid.
    const paid = await winBody(H, { user: 'h_no_bet', round, amount: cents(5_000n) }, standing.transaction_uuid);
    expect((await post(gw, H, '/transaction/win', paid)).answer.status).toBe('RS_OK');
    expect(await usd('h_no_bet')).toBe(13_900n);
  });

  it('RS_ERROR_WRONG_SYNTAX for a bet on a round its win closed, and for a rollback of a bet of that round', async () => {
    await gw.fund('h_closed', { USD: '100' });
    const round = newRound();
    const bet = await betBody(H, { user: 'h_closed', round, amount: cents(1_000n) });
    await post(gw, H, '/transaction/bet', bet);
    const win = await winBody(H, { user: 'h_closed', round, amount: cents(1_500n) }, bet.transaction_uuid, { round_closed: true });
    expect((await post(gw, H, '/transaction/win', win)).answer.status).toBe('RS_OK');
    const late = await betBody(H, { user: 'h_closed', round, amount: cents(100n) });
    expectAnswer(await post(gw, H, '/transaction/bet', late), { user: 'h_closed', status: 'RS_ERROR_WRONG_SYNTAX', request_uuid: late.request_uuid, currency: 'USD', balance: cents(10_500n) });
    const rollback = await rollbackBody(H, 'h_closed', bet.transaction_uuid);
    expectAnswer(await post(gw, H, '/transaction/rollback', rollback), {
      user: 'h_closed',
      status: 'RS_ERROR_WRONG_SYNTAX',
      request_uuid: rollback.request_uuid,
      currency: 'USD',
      balance: cents(10_500n),
    });
    expect(await usd('h_closed')).toBe(10_500n);
  });

  it('RS_ERROR_DUPLICATE_TRANSACTION for a rollback whose transaction_uuid already rolled back another transaction; a second rollback of a bet is RS_OK', async () => {
    await gw.fund('h_rb_id', { USD: '100' });
    const b1 = await betBody(H, { user: 'h_rb_id', amount: cents(1_000n) });
    const b2 = await betBody(H, { user: 'h_rb_id', amount: cents(2_000n) });
    await post(gw, H, '/transaction/bet', b1);
    await post(gw, H, '/transaction/bet', b2);
    const first = await rollbackBody(H, 'h_rb_id', b1.transaction_uuid);
    expect((await post(gw, H, '/transaction/rollback', first)).answer.status).toBe('RS_OK');
    const reused = { ...first, reference_transaction_uuid: b2.transaction_uuid, request_uuid: uuid() };
    expectAnswer(await post(gw, H, '/transaction/rollback', reused), {
      user: 'h_rb_id',
      status: 'RS_ERROR_DUPLICATE_TRANSACTION',
      request_uuid: reused.request_uuid,
      currency: 'USD',
      balance: cents(8_000n),
    });
    const second = await rollbackBody(H, 'h_rb_id', b1.transaction_uuid);
    expect((await post(gw, H, '/transaction/rollback', second)).answer).toMatchObject({ status: 'RS_OK' });
    expect(await usd('h_rb_id')).toBe(8_000n);
  });

  it('RS_ERROR_NOT_ENOUGH_MONEY for a rollback of a win the user has already bet away', async () => {
    await gw.fund('h_spent', { USD: '10' });
    const round = newRound();
    const bet = await betBody(H, { user: 'h_spent', round, amount: cents(1_000n) });
    await post(gw, H, '/transaction/bet', bet);
    const win = await winBody(H, { user: 'h_spent', round, amount: cents(3_000n) }, bet.transaction_uuid);
    await post(gw, H, '/transaction/win', win);
    await post(gw, H, '/transaction/bet', await betBody(H, { user: 'h_spent', amount: cents(3_000n) }));
    const rollback = await rollbackBody(H, 'h_spent', win.transaction_uuid);
    expectAnswer(await post(gw, H, '/transaction/rollback', rollback), { user: 'h_spent', status: 'RS_ERROR_NOT_ENOUGH_MONEY', request_uuid: rollback.request_uuid, currency: 'USD', balance: 0 });
    expect(await usd('h_spent')).toBe(0n);
  });
});

describe('refused at the door: nothing moves', () => {
  it('RS_ERROR_WRONG_SYNTAX for an unknown endpoint, echoing the user and request_uuid', async () => {
    await gw.fund('h_path', { USD: '100' });
    const bet = await betBody(H, { user: 'h_path', amount: cents(1_000n) });
    const before = await ledgerState(gw);
    for (const endpoint of ['/transaction/jackpot', '/transaction', '', '/user/bet', '/Transaction/Bet']) {
      expectAnswer(await post(gw, H, endpoint, bet), { user: 'h_path', status: 'RS_ERROR_WRONG_SYNTAX', request_uuid: bet.request_uuid });
    }
    // A trailing slash names the same endpoint.
    expect((await post(gw, H, '/transaction/bet/', bet)).answer.status).toBe('RS_OK');
    expect((await ledgerState(gw)).transfers).toBe(before.transfers + 1);
  });

  it('RS_ERROR_WRONG_SYNTAX for a body that is not a JSON object, names a key twice or lacks a field; RS_ERROR_WRONG_TYPES for a field of the wrong type', async () => {
    await gw.fund('h_syntax', { USD: '100' });
    const bet = await betBody(H, { user: 'h_syntax', amount: cents(1_000n) });
    const text = JSON.stringify(bet);
    const before = await ledgerState(gw);
    for (const body of ['', '{', '[]', '42', 'null', text.replace('"amount":', '"amount":1,"amount":')]) {
      expectAnswer(await post(gw, H, '/transaction/bet', body), { status: 'RS_ERROR_WRONG_SYNTAX' });
    }
    // Bytes that are not UTF-8 (signed as sent): refused, not read with a replacement character.
    const latin1 = Buffer.from(text.replace('"bet":"spin"', '"bet":"spïn"'), 'latin1');
    expect(latin1.includes(0xef)).toBe(true);
    const res = await fetch(`${gw.url}/callbacks/${H.id}/transaction/bet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub88-signature': sign('sha256', latin1, H.vendor.privateKey).toString('base64') },
      body: latin1,
    });
    expect(JSON.parse(await res.text())).toEqual({ status: 'RS_ERROR_WRONG_SYNTAX' });
    for (const field of ['user', 'transaction_uuid', 'round', 'amount', 'currency', 'token', 'request_uuid']) {
      const without = Object.fromEntries(Object.entries(bet).filter(([k]) => k !== field));
      expect((await post(gw, H, '/transaction/bet', without)).answer.status, field).toBe('RS_ERROR_WRONG_SYNTAX');
    }
    for (const wrong of [{ amount: String(cents(1_000n)) }, { amount: true }, { user: 7 }, { round: ['r'] }, { is_free: 'true' }, { meta: 'text' }, { currency: 840 }, { transaction_uuid: '' }]) {
      const reply = await post(gw, H, '/transaction/bet', { ...bet, ...wrong });
      expect(reply.answer.status, JSON.stringify(wrong)).toBe('RS_ERROR_WRONG_TYPES');
      expect(reply.answer.request_uuid).toBe(bet.request_uuid);
    }
    expect(await ledgerState(gw)).toEqual(before);
    // Unknown fields are Hub88's to add: accepted.
    expect((await post(gw, H, '/transaction/bet', { ...bet, is_billable: true, billable_amount: units(0), something_new: { x: [1] } })).answer.status).toBe('RS_OK');
  });

  it('RS_ERROR_WRONG_CURRENCY for a currency code the casino does not know', async () => {
    await gw.fund('h_xyz', { USD: '100' });
    const before = await ledgerState(gw);
    const bet = await betBody(H, { user: 'h_xyz', amount: cents(1_000n) });
    expectAnswer(await post(gw, H, '/transaction/bet', { ...bet, currency: 'XYZ' }), { user: 'h_xyz', status: 'RS_ERROR_WRONG_CURRENCY', request_uuid: bet.request_uuid });
    const win = await winBody(H, { user: 'h_xyz', amount: cents(1_000n) }, txId(), { currency: 'usd' });
    expectAnswer(await post(gw, H, '/transaction/win', win), { user: 'h_xyz', status: 'RS_ERROR_WRONG_CURRENCY', request_uuid: win.request_uuid });
    expect(await ledgerState(gw)).toEqual(before);
  });
});

describe('the gateway’s failures', () => {
  it('RS_ERROR_UNKNOWN with the balance when the wallet faults (its row held elsewhere), in time; nothing moves', async () => {
    await gw.fund('h_fault', { USD: '100' });
    const bet = await betBody(H, { user: 'h_fault', amount: cents(1_000n) });
    const release = await holdWallet(gw, 'h_fault', 'USD');
    let reply;
    const started = performance.now();
    try {
      reply = await post(gw, H, '/transaction/bet', bet);
    } finally {
      await release();
    }
    expect(performance.now() - started).toBeLessThan(2000);
    expectAnswer(reply, { user: 'h_fault', status: 'RS_ERROR_UNKNOWN', request_uuid: bet.request_uuid, currency: 'USD', balance: cents(10_000n) });
    expect(await usd('h_fault')).toBe(10_000n);
  });

  it('RS_ERROR_WRONG_SYNTAX for a body over the limit, signed, and RS_ERROR_INVALID_PARTNER for a caller not on the allow-list', async () => {
    await gw.fund('h_big', { USD: '100' });
    const before = await ledgerState(gw);
    expectAnswer(await post(gw, H, '/transaction/bet', await betBody(H, { user: 'h_big', amount: cents(1_000n) }, { padding: 'x'.repeat(100_000) })), { status: 'RS_ERROR_WRONG_SYNTAX' });
    expectAnswer(await post(gw, FAR, '/user/info', { user: 'h_big', request_uuid: uuid() }), { status: 'RS_ERROR_INVALID_PARTNER' });
    expectAnswer(await post(gw, FAR, '/transaction/bet', await betBody(FAR, { user: 'h_big', amount: cents(1_000n) })), { status: 'RS_ERROR_INVALID_PARTNER' });
    expect(await ledgerState(gw)).toEqual(before);
  });
});
