import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TOKENS, startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  authenticate,
  balance,
  bare,
  bet,
  cancel,
  envelope,
  expectAnswer,
  expectReconciled,
  ok,
  providerTxCount,
  snapshot,
  status,
  transId,
  wallet,
  win,
  withBalance,
} from './helpers.ts';

/**
 * Rule 6: bad credentials and malformed or inconsistent payloads get the dialect's error answer
 * (HTTP 200, exact bytes), change nothing and record nothing. A 99 carries the balance of the player
 * the body names, where it names one with a wallet in the instance's currency (the spec's shape).
 */

const ERR99 = bare(99);
const ERR100 = bare(100);
/** 99 for a call naming "val": USD and EUR 100.00, KRW 100000. */
const VAL99 = withBalance(99, '100');
const VAL99_KRW = withBalance(99, '100000');

let gw: TestGateway;
let before: Awaited<ReturnType<typeof snapshot>>;
let txBefore: number;

beforeAll(async () => {
  gw = await startTestGateway();
  await gw.fund('val', { USD: '100.00', EUR: '100.00', KRW: '100000' });
  // Some history, so "unchanged" covers transfers and recorded transactions too.
  await expectAnswer(gw, 'scorpio-play', bet('val', 1, 10, { round: 'r-setup' }), ok('90'));
  await expectAnswer(gw, 'scorpio-play', win('val', 2, 10, { round: 'r-setup' }), ok('100'));
});
afterAll(() => gw.close());

beforeEach(async () => {
  before = await snapshot(gw);
  txBefore = await providerTxCount(gw);
});

async function expectUnchanged() {
  expect(await snapshot(gw)).toEqual(before);
  expect(await providerTxCount(gw)).toBe(txBefore);
  expect(await wallet(gw, 'val', 'USD')).toBe(10000n);
  expect(await wallet(gw, 'val', 'EUR')).toBe(10000n);
  expect(await wallet(gw, 'val', 'KRW')).toBe(100000n);
  await expectReconciled(gw);
}

/** POSTs without any Callback-Token header. */
async function postWithoutToken(provider: string, body: unknown) {
  const res = await fetch(`${gw.url}/callbacks/${provider}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

describe('Callback-Token (100)', () => {
  it('a wrong token answers 100 for every command', async () => {
    const wrong = { 'callback-token': 'not-the-right-callback-token' };
    for (const body of [authenticate('val'), balance('val'), bet('val', transId(), 10), win('val', transId(), 10), cancel('val', 1), status('val', 1)]) {
      await expectAnswer(gw, 'scorpio-play', body, ERR100, wrong);
    }
    await expectUnchanged();
  });

  it("another vendor account's token answers 100", async () => {
    await expectAnswer(gw, 'scorpio-play', bet('val', transId(), 10), ERR100, { 'callback-token': TOKENS.slotcity });
    await expectAnswer(gw, 'meganodes', win('val', transId(), 1000), ERR100, { 'callback-token': TOKENS['scorpio-play'] });
    await expectUnchanged();
  });

  it('an empty token, or the right one with a suffix, answers 100', async () => {
    await expectAnswer(gw, 'scorpio-play', bet('val', transId(), 10), ERR100, { 'callback-token': '' });
    await expectAnswer(gw, 'scorpio-play', bet('val', transId(), 10), ERR100, { 'callback-token': `${TOKENS['scorpio-play']}x` });
    await expectUnchanged();
  });

  it('a missing token answers 100', async () => {
    for (const body of [balance('val'), bet('val', transId(), 10), cancel('val', 1)]) {
      const res = await postWithoutToken('scorpio-play', body);
      expect(res.text).toBe(ERR100);
      expect(res.status).toBe(200);
    }
    await expectUnchanged();
  });

  it('a wrong token is answered 100 before the body is even read as JSON', async () => {
    await expectAnswer(gw, 'scorpio-play', '{not json', ERR100, { 'callback-token': 'wrong-wrong-wrong-wrong' });
    await expectUnchanged();
  });
});

describe('unreadable bodies and unknown commands (99)', () => {
  it('an unknown command answers 99 (with the balance of the player it names)', async () => {
    for (const command of ['deposit', 'withdraw', 'BET', 'refund', '']) {
      await expectAnswer(gw, 'scorpio-play', envelope(command, { account: 'val', trans_id: transId(), amount: 10 }, '21'), VAL99);
    }
    await expectUnchanged();
  });

  it('a command name inherited from Object.prototype is unknown (99)', async () => {
    await expectAnswer(gw, 'scorpio-play', envelope('constructor', { account: 'val' }), VAL99);
    await expectAnswer(gw, 'scorpio-play', envelope('__proto__', { account: 'val' }), VAL99);
    await expectUnchanged();
  });

  it('malformed JSON answers 99', async () => {
    for (const body of ['{"command":"bet",', '{', 'not json at all', '', '{"command":"balance","data":{"account":"val"}}}', "{'command':'balance'}"]) {
      await expectAnswer(gw, 'scorpio-play', body, ERR99);
    }
    await expectUnchanged();
  });

  it('JSON that is not an envelope answers 99', async () => {
    for (const body of ['null', '[]', '42', '"bet"', '{}', '{"command":"balance"}', '{"command":"balance","data":"val"}', '{"command":"balance","data":null}', '{"command":"balance","data":[]}']) {
      await expectAnswer(gw, 'scorpio-play', body, ERR99);
    }
    // Not an envelope, but it names a player: the 99 carries their balance.
    await expectAnswer(gw, 'scorpio-play', '{"command":7,"data":{"account":"val"}}', VAL99);
    await expectUnchanged();
  });

  it('an oversize body (> 64kb) answers 99 and is not applied (never read: no player known, bare 99)', async () => {
    const body = { ...bet('val', transId(), 10), padding: 'x'.repeat(70 * 1024) };
    await expectAnswer(gw, 'scorpio-play', body, ERR99);
    await expectAnswer(gw, 'scorpio-play', 'x'.repeat(200 * 1024), ERR99);
    await expectUnchanged();
    // The gateway still answers normally afterwards.
    await expectAnswer(gw, 'scorpio-play', balance('val'), ok('100'));
  });
});

describe('wrong types (99)', () => {
  it('a timestamp that is not unix seconds (text, a date, a fraction, negative)', async () => {
    for (const timestamp of ['yesterday', '2026-12-05T10:00:00Z', '1600000001.5', '-1600000001', '', ' 1600000001', true, null, 1.5]) {
      await expectAnswer(gw, 'scorpio-play', { ...bet('val', transId(), 10), timestamp }, VAL99);
    }
    await expectUnchanged();
    // Seconds as the spec writes them (a string), or as a number, are read.
    await expectAnswer(gw, 'scorpio-play', { ...balance('val'), timestamp: '1600000001' }, ok('100'));
    await expectAnswer(gw, 'scorpio-play', { ...balance('val'), timestamp: 1600000001 }, ok('100'));
  });

  it('amount true, [], {}, null, or missing', async () => {
    for (const amount of [true, false, [], {}, [10], { value: 10 }, null]) {
      await expectAnswer(gw, 'scorpio-play', bet('val', transId(), amount), VAL99);
      await expectAnswer(gw, 'scorpio-play', win('val', transId(), amount), VAL99);
    }
    const noAmount = bet('val', transId(), 10);
    delete (noAmount.data as Record<string, unknown>).amount;
    await expectAnswer(gw, 'scorpio-play', noAmount, VAL99);
    await expectUnchanged();
  });

  it('account a number, empty, or missing (no player named: bare 99)', async () => {
    for (const account of [42, 0, null, true, '', '   ', ['val'], { id: 'val' }]) {
      await expectAnswer(gw, 'scorpio-play', envelope('balance', { account }, '21,22'), ERR99);
      await expectAnswer(gw, 'scorpio-play', bet(account as string, transId(), 10), ERR99);
    }
    await expectAnswer(gw, 'scorpio-play', envelope('authenticate', {}, '21'), ERR99);
    await expectAnswer(gw, 'scorpio-play', envelope('bet', { trans_id: transId(), round_id: 'r', amount: 10, type: 1 }, '21,22,41,31'), ERR99);
    await expectUnchanged();
  });

  it('trans_id negative, a float, an object, or missing', async () => {
    for (const id of [-5, -1, 1.5, 10.0001, {}, { id: 5 }, [5], true, null]) {
      await expectAnswer(gw, 'scorpio-play', bet('val', id, 10, { round: 'r-bad-id' }), VAL99);
      await expectAnswer(gw, 'scorpio-play', win('val', id, 10, { round: 'r-bad-id' }), VAL99);
      await expectAnswer(gw, 'scorpio-play', cancel('val', id, { round: 'r-bad-id' }), VAL99);
      await expectAnswer(gw, 'scorpio-play', status('val', id), VAL99);
    }
    await expectAnswer(gw, 'scorpio-play', envelope('status', { account: 'val' }, '21,42'), VAL99);
    await expectUnchanged();
  });

  it('a bet whose type is not a bet type, or a win whose type is not a win type', async () => {
    await expectAnswer(gw, 'scorpio-play', bet('val', transId(), 10, { type: 2 }), VAL99);
    await expectAnswer(gw, 'scorpio-play', win('val', transId(), 10, { type: 1 }), VAL99);
    await expectAnswer(gw, 'scorpio-play', win('val', transId(), 10, { type: 16 }), VAL99);
    await expectUnchanged();
  });
});

describe('amounts (99)', () => {
  it('negative amounts', async () => {
    for (const amount of [-10, -0.01, '-10', '-0.01']) {
      await expectAnswer(gw, 'scorpio-play', bet('val', transId(), amount), VAL99);
      await expectAnswer(gw, 'scorpio-play', win('val', transId(), amount), VAL99);
    }
    await expectUnchanged();
  });

  it('"NaN", "Infinity" and other non-numbers', async () => {
    for (const amount of ['NaN', 'Infinity', '-Infinity', '', ' ', '10 USD', '0x10', '1,000', '1_000', '١٠']) {
      await expectAnswer(gw, 'scorpio-play', bet('val', transId(), amount), VAL99);
      await expectAnswer(gw, 'scorpio-play', win('val', transId(), amount), VAL99);
    }
    await expectUnchanged();
  });

  it('huge amounts: 1e30 and 99999999999999999999', async () => {
    for (const amount of [JSON.rawJSON('1e30'), 1e30, JSON.rawJSON('99999999999999999999'), '99999999999999999999', JSON.rawJSON('1e400')]) {
      await expectAnswer(gw, 'scorpio-play', bet('val', transId(), amount), VAL99);
      await expectAnswer(gw, 'scorpio-play', win('val', transId(), amount), VAL99);
      await expectAnswer(gw, 'meganodes', win('val', transId(), amount), VAL99_KRW);
    }
    await expectUnchanged();
  });

  it('more decimals than the currency has: 10.001 in USD and EUR, 1.5 in KRW', async () => {
    await expectAnswer(gw, 'scorpio-play', bet('val', transId(), 10.001), VAL99);
    await expectAnswer(gw, 'scorpio-play', win('val', transId(), 10.001), VAL99);
    await expectAnswer(gw, 'scorpio-play', win('val', transId(), JSON.rawJSON('0.001')), VAL99);
    await expectAnswer(gw, 'slotcity', bet('val', transId(), 10.001), VAL99);
    await expectAnswer(gw, 'meganodes', bet('val', transId(), 1.5), VAL99_KRW);
    await expectAnswer(gw, 'meganodes', win('val', transId(), 1.5), VAL99_KRW);
    await expectAnswer(gw, 'meganodes', win('val', transId(), '1000.5'), VAL99_KRW);
    await expectUnchanged();
  });

  it('a 99 for one call leaves the next valid call unaffected', async () => {
    const id = transId();
    await expectAnswer(gw, 'scorpio-play', bet('val', id, 10.001), VAL99);
    // The same trans_id was never recorded, so the corrected bet goes through.
    await expectAnswer(gw, 'scorpio-play', bet('val', id, 10), ok('90'));
    await expectAnswer(gw, 'scorpio-play', cancel('val', id), ok('100'));
    expect(await wallet(gw, 'val', 'USD')).toBe(10000n);
    await expectReconciled(gw);
  });
});

describe('99 carries the balance where the player is known', () => {
  /** The last call kept in the webhook history: a refused call is kept, with why. */
  const lastWebhook = () =>
    gw.gateway.db.selectFrom('webhooks').select(['outcome', 'detail', 'player_code', 'answer']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();

  beforeAll(async () => {
    // A USD wallet only, with a balance of its own.
    await gw.fund('peek', { USD: '12.34' });
  });

  it('an unknown command naming a funded player answers 99 with their balance', async () => {
    await expectAnswer(gw, 'scorpio-play', envelope('deposit', { account: 'val', amount: 10 }), withBalance(99, '100'));
    await expectAnswer(gw, 'meganodes', envelope('deposit', { account: 'val', amount: 10 }), withBalance(99, '100000'));
    await expectAnswer(gw, 'scorpio-play', envelope('deposit', { account: 'peek', amount: 10 }), withBalance(99, '12.34'));
    expect(await lastWebhook()).toEqual({
      outcome: 'rejected',
      detail: 'unsupported: unknown command "deposit"',
      player_code: 'peek',
      answer: withBalance(99, '12.34'),
    });
    await expectUnchanged();
    expect(await wallet(gw, 'peek', 'USD')).toBe(1234n);
  });

  it('the same naming an unknown player, or a player with no wallet in the instance currency, answers bare 99', async () => {
    await expectAnswer(gw, 'scorpio-play', envelope('deposit', { account: 'nobody-here', amount: 10 }), ERR99);
    // peek has no KRW wallet: meganodes (KRW) has no balance of theirs to give.
    await expectAnswer(gw, 'meganodes', envelope('deposit', { account: 'peek', amount: 10 }), ERR99);
    await expectUnchanged();
  });

  it('a body that is not JSON answers bare 99, even where its text names a player', async () => {
    const text = JSON.stringify(bet('val', transId(), 10));
    await expectAnswer(gw, 'scorpio-play', text.slice(0, -1), ERR99);
    await expectAnswer(gw, 'scorpio-play', `${text}}`, ERR99);
    await expectUnchanged();
  });

  it('a body naming a key twice in one object answers bare 99 (it is not read) and moves nothing', async () => {
    const id = transId();
    const body = JSON.stringify(bet('val', id, 10));
    const data = (amount: number) => JSON.stringify(bet('val', id, amount).data);
    const duplicates: [string, string][] = [
      [body.replace('"amount":10', '"amount":10,"amount":1000'), 'amount'],
      // "\u0061mount" is "amount" as JSON reads it.
      [body.replace('"amount":10', '"amount":10,"\\u0061mount":1000'), 'amount'],
      [body.replace(/"data":\{[^}]*\}/, `"data":${data(10)},"data":${data(1000)}`), 'data'],
      [body.replace('"account":"val"', '"account":"val","account":"peek"'), 'account'],
    ];
    for (const [text, key] of duplicates) {
      expect(text).not.toBe(body);
      await expectAnswer(gw, 'scorpio-play', text, ERR99);
      expect(await lastWebhook()).toEqual({
        outcome: 'rejected',
        detail: `malformed: body: the key "${key}" appears twice in one object`,
        player_code: null,
        answer: ERR99,
      });
    }
    await expectUnchanged();
    expect(await wallet(gw, 'peek', 'USD')).toBe(1234n);
    // Nothing was recorded under that trans_id: the same bet, sent once, goes through.
    await expectAnswer(gw, 'scorpio-play', body, ok('90'));
    await expectAnswer(gw, 'scorpio-play', cancel('val', id), ok('100'));
    await expectReconciled(gw);
  });

  it('a bet whose trans_id holds a NUL or an unpaired surrogate answers 99 with the balance and moves nothing', async () => {
    const nul = JSON.stringify(bet('val', '7\u0000', 10));
    expect(nul).toContain('"trans_id":"7\\u0000"');
    await expectAnswer(gw, 'scorpio-play', nul, VAL99);
    const row = await lastWebhook();
    expect(row).toMatchObject({ outcome: 'rejected', player_code: 'val', answer: VAL99 });
    expect(row.detail).toMatch(/^malformed: bet: .*cannot be stored/s);
    await expectAnswer(gw, 'scorpio-play', bet('val', '7\ud800', 10), VAL99);
    await expectAnswer(gw, 'scorpio-play', bet('val', transId(), 10, { round: 'r\u0000' }), VAL99);
    await expectAnswer(gw, 'meganodes', win('val', '\udc007', 1000), VAL99_KRW);
    await expectUnchanged();
  });
});
