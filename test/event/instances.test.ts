import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { authOk, authenticate, bare } from '../command/helpers.ts';
import {
  answerTo,
  balanceOf,
  bet,
  codecFor,
  configDir,
  event,
  expectBare,
  expectEvent,
  expectReconciled,
  ledgerState,
  linesOf,
  newRound,
  now,
  postRaw,
  send,
  type Target,
} from './helpers.ts';

/**
 * Instances of our own (CONFIG_DIR): a JWE instance, and the per-instance IP allow-list for any
 * dialect, with and without TRUST_PROXY.
 */

const JWE: Target = { provider: 'ev-jwe', apiId: 'jwe-agent', apiKey: 'jwe-instance-api-key-0123456789a', encryption: 'jwe' };
const LOCAL: Target = { provider: 'ev-local', apiId: 'local-agent', apiKey: 'local-instance-api-key-012345678' };
const FAR: Target = { provider: 'ev-far', apiId: 'far-agent', apiKey: 'far-instance-api-key-0123456789a' };
const CMD_FAR = { provider: 'cmd-far', token: 'cmd-far-callback-token-0123456789' };
const CMD_LOCAL = { provider: 'cmd-local', token: 'cmd-local-callback-token-012345' };

const eventInstance = (t: Target, extra: Record<string, unknown> = {}) => ({
  id: t.provider,
  dialect: 'event',
  ...extra,
  options: { apiId: t.apiId, apiKey: t.apiKey, currency: 'USD', encryption: t.encryption ?? 'aes-ecb', timestampWindowSeconds: 300 },
});

let dir: string;
/** TRUST_PROXY unset (false): X-Forwarded-For is not believed. */
let gw: TestGateway;
/** TRUST_PROXY=true: the caller's address is the X-Forwarded-For client. */
let proxied: TestGateway;

beforeAll(async () => {
  dir = configDir([
    eventInstance(JWE),
    eventInstance(LOCAL, { allowFrom: ['127.0.0.1'] }),
    eventInstance(FAR, { allowFrom: ['10.0.0.0/8'] }),
    { id: CMD_FAR.provider, dialect: 'command', allowFrom: ['10.0.0.0/8'], options: { currency: 'USD', callbackToken: CMD_FAR.token } },
    { id: CMD_LOCAL.provider, dialect: 'command', allowFrom: ['192.0.2.1', '127.0.0.0/8'], options: { currency: 'USD', callbackToken: CMD_LOCAL.token } },
  ]);
  [gw, proxied] = await Promise.all([startTestGateway({ CONFIG_DIR: dir }), startTestGateway({ CONFIG_DIR: dir, TRUST_PROXY: 'true' })]);
  for (const g of [gw, proxied]) await g.fund('ev_inst', { USD: '100' });
});
afterAll(async () => {
  await Promise.all([gw?.close(), proxied?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('a JWE instance', () => {
  it('login and a bet work with JWE bodies, and the answers are JWE under the same key', async () => {
    const login = event('login', 'ev_inst');
    const reply = await expectEvent(gw, login, 'R0', 100, { target: JWE });
    expect(reply.raw.split('.')).toHaveLength(5); // a compact JWE
    const header = JSON.parse(Buffer.from(reply.raw.split('.')[0]!, 'base64url').toString()) as unknown;
    expect(header).toEqual({ alg: 'dir', enc: 'A256GCM' });

    const round = newRound();
    await expectEvent(
      gw,
      bet('ev_inst', round, [
        [1, 10.5],
        [2, 20],
      ]),
      'R0',
      69.5,
      { target: JWE },
    );
    expect(await balanceOf(gw, 'ev_inst')).toBe(6950n);
    expect((await linesOf(gw, round, JWE.provider)).map((l) => [l.ref, l.amount])).toEqual([
      ['1', 1050n],
      ['2', 2000n],
    ]);
    await expectReconciled(gw);
  });

  it('an AES-ECB body sent to the JWE instance is R2 (answered in JWE), nothing changes', async () => {
    const before = await ledgerState(gw);
    const sentAt = now();
    const ecb = await codecFor(JWE.apiKey, 'aes-ecb').encrypt(JSON.stringify(bet('ev_inst', newRound(), [[1, 10]])));
    expectBare(await postRaw(gw, JWE, ecb), 'R2', sentAt);
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a tampered JWE is R2, nothing changes', async () => {
    const before = await ledgerState(gw);
    const sentAt = now();
    const token = await codecFor(JWE.apiKey, 'jwe').encrypt(JSON.stringify(bet('ev_inst', newRound(), [[1, 10]])));
    const parts = token.split('.');
    // Flip one bit of the ciphertext, then of the tag: GCM refuses both.
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64url');
      bytes[0] = bytes[0]! ^ 0x01;
      return bytes.toString('base64url');
    };
    const tamperedCipher = [parts[0], parts[1], parts[2], flip(parts[3]!), parts[4]].join('.');
    const tamperedTag = [parts[0], parts[1], parts[2], parts[3], flip(parts[4]!)].join('.');
    expectBare(await postRaw(gw, JWE, tamperedCipher), 'R2', sentAt);
    expectBare(await postRaw(gw, JWE, tamperedTag), 'R2', sentAt);
    expectBare(await postRaw(gw, JWE, 'not.a.jwe.at.all'), 'R2', sentAt);
    expect(await ledgerState(gw)).toEqual(before);
    // The untouched token goes through.
    expect((await postRaw(gw, JWE, token)).answer.code).toBe('R0');
  });

  it('a JWE under another key is R2', async () => {
    const sentAt = now();
    const other = await codecFor(LOCAL.apiKey, 'jwe').encrypt(JSON.stringify(event('login', 'ev_inst')));
    expectBare(await postRaw(gw, JWE, other), 'R2', sentAt);
  });
});

describe('the IP allow-list', () => {
  it('an instance allowing 127.0.0.1 accepts the test client', async () => {
    await gw.fund('ev_local', { USD: '10' });
    await expectEvent(gw, event('login', 'ev_local'), 'R0', 10, { target: LOCAL });
    await expectEvent(gw, bet('ev_local', newRound(), [[1, 1]]), 'R0', 9, { target: LOCAL });
    expect(await balanceOf(gw, 'ev_local')).toBe(900n);
  });

  it('an event instance allowing only 10.0.0.0/8 answers R2 and changes nothing', async () => {
    const before = await ledgerState(gw);
    const sentAt = now();
    expectBare(await send(gw, bet('ev_inst', newRound(), [[1, 10]]), { target: FAR }), 'R2', sentAt);
    expectBare(await send(gw, event('login', 'ev_inst'), { target: FAR }), 'R2', sentAt);
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a command-dialect instance allowing only 10.0.0.0/8 answers {"result":100,"status":"ERROR"} and changes nothing', async () => {
    const before = await ledgerState(gw);
    const res = await gw.callback(CMD_FAR.provider, authenticate('ev_inst'), { 'callback-token': CMD_FAR.token });
    expect(res.text).toBe(bare(100));
    expect(res.status).toBe(200);
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a command-dialect instance whose list includes 127.0.0.0/8 accepts the client', async () => {
    await gw.fund('ev_cmd_local', { USD: '12.5' });
    const res = await gw.callback(CMD_LOCAL.provider, authenticate('ev_cmd_local'), { 'callback-token': CMD_LOCAL.token });
    expect(res.text).toBe(authOk('ev_cmd_local', '12.5'));
    expect(res.status).toBe(200);
  });

  it('without TRUST_PROXY an X-Forwarded-For of 10.1.2.3 is not believed (R2 / 100)', async () => {
    const before = await ledgerState(gw);
    const sentAt = now();
    const xff = { 'x-forwarded-for': '10.1.2.3' };
    expectBare(await send(gw, bet('ev_inst', newRound(), [[1, 10]]), { target: FAR, headers: xff }), 'R2', sentAt);
    const res = await gw.callback(CMD_FAR.provider, authenticate('ev_inst'), { 'callback-token': CMD_FAR.token, ...xff });
    expect(res.text).toBe(bare(100));
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('with TRUST_PROXY=true an X-Forwarded-For of 10.1.2.3 is allowed by 10.0.0.0/8', async () => {
    const xff = { 'x-forwarded-for': '10.1.2.3' };
    const round = newRound();
    const b = bet('ev_inst', round, [[1, 10]]);
    const reply = await send(proxied, b, { target: FAR, headers: xff });
    expect(reply.answer).toEqual(answerTo(b, 'R0', 90));
    expect(reply.status).toBe(200);
    expect(await balanceOf(proxied, 'ev_inst')).toBe(9000n);

    const res = await proxied.callback(CMD_FAR.provider, authenticate('ev_inst'), { 'callback-token': CMD_FAR.token, ...xff });
    expect(res.text).toBe(authOk('ev_inst', '90'));
    await expectReconciled(proxied);
  });

  it('with TRUST_PROXY=true the forwarded client is what counts: outside the list, or no header, is R2', async () => {
    const before = await ledgerState(proxied);
    const sentAt = now();
    expectBare(await send(proxied, bet('ev_inst', newRound(), [[1, 10]]), { target: FAR, headers: { 'x-forwarded-for': '192.168.1.9' } }), 'R2', sentAt);
    expectBare(await send(proxied, bet('ev_inst', newRound(), [[1, 10]]), { target: FAR }), 'R2', sentAt);
    // 127.0.0.1 is allowed on ev-local, but behind a trusted proxy the client is 10.1.2.3.
    expectBare(await send(proxied, bet('ev_inst', newRound(), [[1, 10]]), { target: LOCAL, headers: { 'x-forwarded-for': '10.1.2.3' } }), 'R2', sentAt);
    expect(await ledgerState(proxied)).toEqual(before);
  });
});
