import { rmSync } from 'node:fs';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintSessionToken, SessionTokens } from '../../providers/hub88/session.ts';
import { balanceOf, ledgerState, transactionsOf } from '../event/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { holdWallet, vendorRowOf } from '../webhooks/helpers.ts';
import { betBody, configDir, expectAnswer, instance, newRound, post, rollbackBody, token, uuid, winBody, type Hub88Instance } from './helpers.ts';

/**
 * The session token (the casino's own HS256 JWT, minted at launch) and the operator id: a bet and a
 * balance need a valid token of this instance for this user; a win and a rollback are paid whatever
 * their token says (they may come after the session). A re-read of a call (a replay, an import) does
 * not refuse it because its token expired since.
 */

const H = instance('hub88-ses', { operatorId: 77 });
const OTHER = instance('hub88-ses-other', { operatorId: 78 });

let dir: string;
let gw: TestGateway;
beforeAll(async () => {
  dir = configDir([H, OTHER]);
  gw = await startTestGateway({ CONFIG_DIR: dir, LOCK_WAIT_MS: '200', DB_LOCK_TIMEOUT_MS: '300', WORKERS: 'false' });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const key = (i: Hub88Instance) => new TextEncoder().encode(i.tokenSecret);
const now = () => Math.floor(Date.now() / 1000);

/** Tokens that are not a valid session of H for `user`, and the status each gets. */
async function badTokens(user: string): Promise<[string, string, string][]> {
  return [
    ['expired', await token(H, user, 'USD', -1), 'RS_ERROR_TOKEN_EXPIRED'],
    ["another user's", await token(H, `${user}-other`), 'RS_ERROR_INVALID_TOKEN'],
    ["another instance's", await token(OTHER, user), 'RS_ERROR_INVALID_TOKEN'],
    ["this instance's key, another's audience", await mintSessionToken({ instance: OTHER.id, tokenSecret: H.tokenSecret }, user, 'USD'), 'RS_ERROR_INVALID_TOKEN'],
    ['garbage', 'not-a-token', 'RS_ERROR_INVALID_TOKEN'],
    ['a uuid, as Hub88 shows in its samples', '55b7518e-b89e-11e7-81be-58404eea6d16', 'RS_ERROR_INVALID_TOKEN'],
    ['unsigned (alg none)', `${b64({ alg: 'none' })}.${b64({ sub: user, aud: H.id, cur: 'USD', exp: now() + 60 })}.`, 'RS_ERROR_INVALID_TOKEN'],
    ['without an expiry', await new SignJWT({ cur: 'USD' }).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setAudience(H.id).sign(key(H)), 'RS_ERROR_INVALID_TOKEN'],
    ['without a currency', await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(user).setAudience(H.id).setExpirationTime('1h').sign(key(H)), 'RS_ERROR_INVALID_TOKEN'],
    ['an expired token of another user', await token(H, `${user}-other`, 'USD', -60), 'RS_ERROR_INVALID_TOKEN'],
  ];
}

describe('the session token', () => {
  it('mints a JWT naming the player, the currency and the instance, valid tokenTtlSeconds, and verifies it', async () => {
    const t = await mintSessionToken({ instance: H.id, tokenSecret: H.tokenSecret, tokenTtlSeconds: 600 }, 'ses_p', 'EUR');
    const claims = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: 'ses_p', aud: H.id, cur: 'EUR' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    const tokens = new SessionTokens({ instance: H.id, tokenSecret: H.tokenSecret });
    expect(await tokens.verify(t, 'ses_p')).toEqual({ ok: true, currency: 'EUR', expired: false });
    expect(await tokens.verify(t, 'someone')).toMatchObject({ ok: false, problem: 'invalid' });
    const old = await tokens.mint('ses_p', 'EUR', -5);
    expect(await tokens.verify(old, 'ses_p')).toMatchObject({ ok: false, problem: 'expired' });
    expect(await tokens.verify(old, 'ses_p', { allowExpired: true })).toEqual({ ok: true, currency: 'EUR', expired: true });
  });

  it('/user/balance with a token that is not a valid session of this instance for the user is refused, with the user and request_uuid', async () => {
    await gw.fund('ses_bal', { USD: '10' });
    for (const [what, t, status] of await badTokens('ses_bal')) {
      const request_uuid = uuid();
      const reply = await post(gw, H, '/user/balance', { user: 'ses_bal', token: t, request_uuid });
      expect(reply.answer.status, what).toBe(status);
      expectAnswer(reply, { user: 'ses_bal', status, request_uuid });
    }
    expect((await post(gw, H, '/user/balance', { user: 'ses_bal', token: await token(H, 'ses_bal'), request_uuid: uuid() })).answer.status).toBe('RS_OK');
  });

  it('a bet with such a token is refused the same way, and nothing moves', async () => {
    await gw.fund('ses_bet', { USD: '10' });
    const before = await ledgerState(gw);
    for (const [what, t, status] of await badTokens('ses_bet')) {
      const bet = await betBody(H, { user: 'ses_bet', amount: 100_000 }, { token: t });
      expect((await post(gw, H, '/transaction/bet', bet)).answer.status, what).toBe(status);
    }
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a bet in another currency than its session is RS_ERROR_WRONG_CURRENCY', async () => {
    await gw.fund('ses_cur', { USD: '10', EUR: '10' });
    const before = await ledgerState(gw);
    const bet = await betBody(H, { user: 'ses_cur', amount: 100_000 }, { currency: 'EUR' });
    expectAnswer(await post(gw, H, '/transaction/bet', bet), { user: 'ses_cur', status: 'RS_ERROR_WRONG_CURRENCY', request_uuid: bet.request_uuid, currency: 'EUR' });
    expect(await ledgerState(gw)).toEqual(before);
  });

  it("wins and rollbacks are paid whatever their token says: expired, another user's, garbage, or none", async () => {
    await gw.fund('ses_owed', { USD: '100' });
    const round = newRound();
    const bets = [];
    for (let i = 0; i < 8; i++) {
      const bet = await betBody(H, { user: 'ses_owed', round, amount: 100_000 });
      expect((await post(gw, H, '/transaction/bet', bet)).answer.status).toBe('RS_OK');
      bets.push(bet);
    }
    expect(await balanceOf(gw, 'ses_owed')).toBe(9_200n);
    const tokens = [await token(H, 'ses_owed', 'USD', -3600), await token(H, 'ses_other'), 'garbage', undefined];
    for (const [n, t] of tokens.entries()) {
      const win = await winBody(H, { user: 'ses_owed', round, amount: 200_000 }, bets[n]!.transaction_uuid, { token: t });
      expect((await post(gw, H, '/transaction/win', win)).answer.status).toBe('RS_OK');
      const rollback = await rollbackBody(H, 'ses_owed', bets[4 + n]!.transaction_uuid, { token: t });
      expect((await post(gw, H, '/transaction/rollback', rollback)).answer.status).toBe('RS_OK');
    }
    expect(await balanceOf(gw, 'ses_owed')).toBe(9_200n + 4n * 200n + 4n * 100n);
  });

  it("a rollback takes its session's currency; without a session token, the instance's", async () => {
    await gw.fund('ses_rb', { USD: '10', EUR: '10' });
    const eur = await betBody(H, { user: 'ses_rb', amount: 100_000, currency: 'EUR' });
    const usd = await betBody(H, { user: 'ses_rb', amount: 200_000 });
    await post(gw, H, '/transaction/bet', eur);
    await post(gw, H, '/transaction/bet', usd);
    const eurBack = await rollbackBody(H, 'ses_rb', eur.transaction_uuid, { token: await token(H, 'ses_rb', 'EUR', -60) });
    expectAnswer(await post(gw, H, '/transaction/rollback', eurBack), { user: 'ses_rb', status: 'RS_OK', request_uuid: eurBack.request_uuid, currency: 'EUR', balance: 1_000_000 });
    const usdBack = await rollbackBody(H, 'ses_rb', usd.transaction_uuid, { token: undefined });
    expectAnswer(await post(gw, H, '/transaction/rollback', usdBack), { user: 'ses_rb', status: 'RS_OK', request_uuid: usdBack.request_uuid, currency: 'USD', balance: 1_000_000 });
    expect([await balanceOf(gw, 'ses_rb', 'EUR'), await balanceOf(gw, 'ses_rb')]).toEqual([1_000n, 1_000n]);
  });

  it("a rollback of a bet it reaches without its session's token reverses it in the bet's currency", async () => {
    await gw.fund('ses_rb2', { USD: '10', EUR: '10' });
    const eur = await betBody(H, { user: 'ses_rb2', amount: 300_000, currency: 'EUR' });
    expect((await post(gw, H, '/transaction/bet', eur)).answer.status).toBe('RS_OK');
    // No token (the instance's USD would be guessed), or a USD session's: the bet was in EUR all the same.
    for (const extra of [{ token: undefined }, { token: await token(H, 'ses_rb2', 'USD') }]) {
      const back = await rollbackBody(H, 'ses_rb2', eur.transaction_uuid, extra);
      expectAnswer(await post(gw, H, '/transaction/rollback', back), { user: 'ses_rb2', status: 'RS_OK', request_uuid: back.request_uuid, currency: 'EUR', balance: 1_000_000 });
    }
    expect([await balanceOf(gw, 'ses_rb2', 'EUR'), await balanceOf(gw, 'ses_rb2')]).toEqual([1_000n, 1_000n]);
    // A rollback of a bet never seen is answered in the guessed currency.
    const ghost = await rollbackBody(H, 'ses_rb2', 'never-placed-eur', { token: await token(H, 'ses_rb2', 'EUR') });
    expectAnswer(await post(gw, H, '/transaction/rollback', ghost), { user: 'ses_rb2', status: 'RS_OK', request_uuid: ghost.request_uuid, currency: 'EUR', balance: 1_000_000 });
  });
});

describe('operator_id', () => {
  it("a call naming another operator is RS_ERROR_INVALID_PARTNER on every endpoint; naming this instance's, or none, it is carried out", async () => {
    await gw.fund('ses_op', { USD: '10' });
    const round = newRound();
    const bet = await betBody(H, { user: 'ses_op', round, amount: 100_000 });
    const win = await winBody(H, { user: 'ses_op', round, amount: 50_000 }, bet.transaction_uuid);
    const calls: [string, Record<string, unknown>][] = [
      ['/user/info', { user: 'ses_op', request_uuid: uuid() }],
      ['/user/balance', { user: 'ses_op', token: await token(H, 'ses_op'), request_uuid: uuid() }],
      ['/transaction/bet', bet],
      ['/transaction/win', win],
      ['/transaction/rollback', await rollbackBody(H, 'ses_op', win.transaction_uuid as string)],
    ];
    const before = await ledgerState(gw);
    for (const [endpoint, body] of calls) {
      for (const operator_id of [78, 0, -77, '78', 77.5]) {
        const reply = await post(gw, H, endpoint, { ...body, operator_id });
        expectAnswer(reply, { user: 'ses_op', status: 'RS_ERROR_INVALID_PARTNER', request_uuid: body.request_uuid as string });
      }
    }
    expect(await ledgerState(gw)).toEqual(before);
    const expected = [1_000_000, 1_000_000, 900_000, 950_000, 900_000];
    for (const [n, [endpoint, body]] of calls.entries()) {
      const reply = await post(gw, H, endpoint, n % 2 ? { ...body, operator_id: 77 } : body);
      expectAnswer(reply, { user: 'ses_op', status: 'RS_OK', request_uuid: body.request_uuid as string, currency: 'USD', balance: expected[n]! });
    }
  });

  it("another instance's operator id (and its keys) do not reach this instance", async () => {
    await gw.fund('ses_op2', { USD: '10' });
    const bet = await betBody(OTHER, { user: 'ses_op2', amount: 100_000 }, { operator_id: 78 });
    expect((await post(gw, OTHER, '/transaction/bet', bet)).answer.status).toBe('RS_OK');
    expect((await post(gw, H, '/transaction/bet', { ...bet, transaction_uuid: uuid() }, { key: H.vendor.privateKey })).answer.status).toBe('RS_ERROR_INVALID_PARTNER');
    expect(await balanceOf(gw, 'ses_op2')).toBe(900n);
  });
});

describe('re-reads: a call checked when it arrived is not refused for its token later', () => {
  it("an imported win whose session has expired since is carried out; a bet naming another user's session is refused for it; no bet is taken", async () => {
    await gw.fund('ses_import', { USD: '10' });
    const round = newRound();
    const bet = await betBody(H, { user: 'ses_import', round, amount: 100_000 });
    expect((await post(gw, H, '/transaction/bet', bet)).answer.status).toBe('RS_OK');
    const late = await winBody(H, { user: 'ses_import', round, amount: 300_000 }, bet.transaction_uuid, { token: await token(H, 'ses_import', 'USD', -3600) });
    const foreign = await betBody(H, { user: 'ses_import', amount: 100_000 }, { token: await token(H, 'ses_someone') });
    const another = await betBody(H, { user: 'ses_import', amount: 100_000 });
    const results = await gw.gateway.replayer.import(H.id, [
      { body: JSON.stringify(late), path: '/transaction/win' },
      { body: JSON.stringify(foreign), path: '/transaction/bet' },
      { body: JSON.stringify(another), path: '/transaction/bet' },
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['ok', 'rejected', 'rejected']);
    expect(JSON.parse(results[1]!.answer!)).toMatchObject({ status: 'RS_ERROR_INVALID_TOKEN' });
    // The vendor lists a bet as a failed notification when it was not told the bet was taken.
    expect(results[2]!.detail).toBe('an imported bet is never taken: the vendor counts it as failed');
    expect(await balanceOf(gw, 'ses_import')).toBe(1_200n);
  });

  it('a win that hit a fault is parked with its endpoint, and the operator’s replay pays it once', async () => {
    await gw.fund('ses_replay', { USD: '10' });
    const round = newRound();
    const bet = await betBody(H, { user: 'ses_replay', round, amount: 100_000 });
    await post(gw, H, '/transaction/bet', bet);
    const win = await winBody(H, { user: 'ses_replay', round, amount: 300_000 }, bet.transaction_uuid, { token: await token(H, 'ses_replay', 'USD', 1) });
    const release = await holdWallet(gw, 'ses_replay', 'USD');
    try {
      expectAnswer(await post(gw, H, '/transaction/win', win), { user: 'ses_replay', status: 'RS_ERROR_UNKNOWN', request_uuid: win.request_uuid, currency: 'USD', balance: 900_000 });
    } finally {
      await release();
    }
    const row = await vendorRowOf(gw, win.transaction_uuid);
    expect(row).toMatchObject({ outcome: 'parked', path: '/transaction/win' });
    const replayed = await gw.gateway.replayer.replay(row.id);
    expect(replayed.outcome).toBe('ok');
    expect(JSON.parse(replayed.answer!)).toMatchObject({ status: 'RS_OK', user: 'ses_replay', request_uuid: win.request_uuid });
    expect((await gw.gateway.replayer.replay(row.id)).outcome).toBe('duplicate');
    expect(await balanceOf(gw, 'ses_replay')).toBe(1_200n);
    expect((await transactionsOf(gw, 'ses_replay', H.id)).map((t) => [t.kind, t.amount])).toEqual([
      ['debit', 100n],
      ['credit', 300n],
    ]);
  });
});
