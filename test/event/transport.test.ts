import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import {
  DOWINN,
  DOWINN_TARGET,
  answerTo,
  balanceOf,
  bet,
  codecFor,
  event,
  expectBare,
  expectEvent,
  expectReconciled,
  ledgerState,
  newRound,
  now,
  postRaw,
  send,
} from './helpers.ts';

/**
 * The transport defences the spec asks of the gateway (ECB gives no integrity and no replay
 * protection): Api-Id / Api-Key, undecryptable bodies, malformed envelopes, the timestamp window and
 * the body limit. Every answer is HTTP 200 with a body encrypted under the instance key.
 */

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
  await gw.fund('ev_door', { USD: '100' });
});
afterAll(() => gw.close());

/** Sends `attempt` and asserts the bet it carries never reached the wallet. */
async function expectNothingChanges(attempt: () => Promise<void>) {
  const before = await ledgerState(gw);
  await attempt();
  expect(await ledgerState(gw)).toEqual(before);
  expect(await balanceOf(gw, 'ev_door')).toBe(10000n);
}

describe('credentials', () => {
  it('a wrong Api-Key is R2, and the bet is not taken', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      const reply = await send(gw, bet('ev_door', newRound(), [[1, 10]]), { headers: { 'api-key': 'demo-dowinn-api-key-0123456789ac' } });
      expectBare(reply, 'R2', sentAt);
    });
  });

  it('a wrong Api-Id is R2', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      expectBare(await send(gw, bet('ev_door', newRound(), [[1, 10]]), { headers: { 'api-id': 'demo-dowinn-agenT' } }), 'R2', sentAt);
      expectBare(await send(gw, bet('ev_door', newRound(), [[1, 10]]), { headers: { 'api-id': 'other-agent' } }), 'R2', sentAt);
    });
  });

  it('a missing Api-Id, Api-Key or both is R2', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      for (const omit of [['api-id'], ['api-key'], ['api-id', 'api-key']]) {
        expectBare(await send(gw, bet('ev_door', newRound(), [[1, 10]]), { omit }), 'R2', sentAt);
      }
      expectBare(await send(gw, bet('ev_door', newRound(), [[1, 10]]), { headers: { 'api-key': '' } }), 'R2', sentAt);
    });
  });

  it('the right credentials with the same body are accepted (the refusals above were the credentials)', async () => {
    await gw.fund('ev_door_ok', { USD: '20' });
    await expectEvent(gw, bet('ev_door_ok', newRound(), [[1, 10]]), 'R0', 10);
  });
});

describe('bodies that do not decrypt', () => {
  it('a body that is not base64 is R2 (answered encrypted under the instance key)', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      const plain = JSON.stringify(bet('ev_door', newRound(), [[1, 10]]));
      for (const body of [plain, 'not base64 at all!', 'QUJD', '', '====']) {
        const reply = await postRaw(gw, DOWINN_TARGET, body);
        expectBare(reply, 'R2', sentAt);
        expect(reply.contentType).toMatch(/^text\/plain/);
      }
    });
  });

  it('a body encrypted under another key is R2', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      // A fixed envelope, so the ciphertext under the other key (and so the outcome) is the same every run.
      const fixed = { ...bet('ev_door', { table_no: 'T1', game_no: '1' }, [[1, 10]], { id: 'fixed-1', timestamp: 1_763_107_599 }) };
      const other = codecFor('another-32-byte-key-000000000000');
      const reply = await postRaw(gw, DOWINN_TARGET, await other.encrypt(JSON.stringify(fixed)));
      expectBare(reply, 'R2', sentAt);
      // The same under a JWE (an instance configured for ECB cannot read it either).
      const jwe = await codecFor(DOWINN.apiKey, 'jwe').encrypt(JSON.stringify(fixed));
      expectBare(await postRaw(gw, DOWINN_TARGET, jwe), 'R2', sentAt);
    });
  });

  it('base64 whose length is not a whole number of AES blocks is R2', async () => {
    const sentAt = now();
    expectBare(await postRaw(gw, DOWINN_TARGET, Buffer.from('0123456789abcdefX').toString('base64')), 'R2', sentAt);
  });
});

describe('malformed envelopes', () => {
  it('a plaintext that is not JSON is R3', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      for (const plain of ['hello', '{"transaction_id": ', '']) {
        expectBare(await send(gw, plain), 'R3', sentAt);
      }
    });
  });

  it('JSON that is not an envelope is R3', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      for (const plain of ['null', '[]', '42', '"login"']) {
        expectBare(await send(gw, plain), 'R3', sentAt);
      }
    });
  });

  it('an envelope missing a field, or with a field of the wrong type, is R3', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      const good = bet('ev_door', newRound(), [[1, 10]]);
      const broken: Record<string, unknown>[] = [];
      for (const field of ['transaction_id', 'event_type', 'timestamp', 'user_id'] as const) {
        const copy: Record<string, unknown> = { ...good };
        delete copy[field];
        broken.push(copy);
      }
      broken.push({ ...good, timestamp: String(good.timestamp) }); // unix seconds are a number
      broken.push({ ...good, timestamp: good.timestamp + 0.5 });
      broken.push({ ...good, transaction_id: '' });
      broken.push({ ...good, user_id: 42 });
      for (const body of broken) expectBare(await send(gw, body), 'R3', sentAt);
    });
  });

  it('an unknown event_type is R3, answered for that event', async () => {
    await expectNothingChanges(async () => {
      const e = event('jackpot', 'ev_door', { amount: 1000 });
      const reply = await send(gw, e);
      expect(reply.answer).toEqual(answerTo(e, 'R3'));
      expect(reply.status).toBe(200);
    });
  });

  it('a known event_type whose data is malformed is R3, answered for that event', async () => {
    await expectNothingChanges(async () => {
      await expectEvent(gw, event('bet', 'ev_door', { currency: 'USD', table_no: 'T1', game_no: '9', total_bet_amount: 10, bets: 'all-in' }), 'R3');
      await expectEvent(gw, event('bet_cancel', 'ev_door', { table_no: 'T1', game_no: '9', total_bet_cancel_amount: 10 }), 'R3');
      await expectEvent(gw, event('bet_result', 'ev_door', { table_no: 'T1', total_bet_amount: 10, total_winloss: 0 }), 'R3');
    });
  });
});

describe('timestamp window (300 s)', () => {
  it('a bet stamped older than the window is R2 and nothing changes', async () => {
    await expectNothingChanges(async () => {
      await expectEvent(gw, bet('ev_door', newRound(), [[1, 10]], { timestamp: now() - 301 }), 'R2');
      await expectEvent(gw, bet('ev_door', newRound(), [[1, 10]], { timestamp: now() - 86_400 }), 'R2');
      await expectEvent(gw, event('login', 'ev_door', undefined, { timestamp: 1_763_107_599 }), 'R2'); // the spec's own example
    });
  });

  it('a bet stamped further in the future than the window is R2', async () => {
    await expectNothingChanges(async () => {
      await expectEvent(gw, bet('ev_door', newRound(), [[1, 10]], { timestamp: now() + 400 }), 'R2');
    });
  });

  it('a captured body replayed byte for byte after the window is R2, though it was accepted when fresh', async () => {
    await gw.fund('ev_door_replay', { USD: '50' });
    const fresh = bet('ev_door_replay', newRound(), [[1, 5]], { timestamp: now() - 250 });
    const captured = await codecFor(DOWINN.apiKey).encrypt(JSON.stringify(fresh));
    expect((await postRaw(gw, DOWINN_TARGET, captured)).answer).toEqual(answerTo(fresh, 'R0', 45));
    // The gateway runs in this process: move its clock (Date only) past the window and replay.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 60_000);
      const replay = await postRaw(gw, DOWINN_TARGET, captured);
      expect(replay.answer).toEqual(answerTo(fresh, 'R2'));
      expect(replay.status).toBe(200);
    } finally {
      vi.useRealTimers();
    }
    expect(await balanceOf(gw, 'ev_door_replay')).toBe(4500n);
  });
});

describe('body limit (64kb)', () => {
  // A valid event padded with JSON whitespace: only the body's size tells the two apart.
  const padded = (e: object, spaces: number) => `${JSON.stringify(e)}${' '.repeat(spaces)}`;

  it('a body over 64kb gets HTTP 200 and an encrypted R3, and nothing changes', async () => {
    await expectNothingChanges(async () => {
      const sentAt = now();
      const e = bet('ev_door', newRound(), [[1, 10]]);
      const plain = padded(e, 50_000);
      expect((await codecFor(DOWINN.apiKey).encrypt(plain)).length).toBeGreaterThan(64 * 1024);
      const reply = await send(gw, plain);
      expectBare(reply, 'R3', sentAt);
      expect(reply.contentType).toMatch(/^text\/plain/);
    });
  });

  it('the same event padded to just under 64kb is read and applied', async () => {
    await gw.fund('ev_door_big', { USD: '20' });
    const e = bet('ev_door_big', newRound(), [[1, 10]]);
    const plain = padded(e, 47_000);
    const body = await codecFor(DOWINN.apiKey).encrypt(plain);
    expect(body.length).toBeGreaterThan(60 * 1024);
    expect(body.length).toBeLessThan(64 * 1024);
    const reply = await postRaw(gw, DOWINN_TARGET, body);
    expect(reply.answer).toEqual(answerTo(e, 'R0', 10));
    expect(await balanceOf(gw, 'ev_door_big')).toBe(1000n);
  });
});

describe('the ledger after every defence', () => {
  it('reconciles', async () => {
    await expectReconciled(gw);
  });
});
