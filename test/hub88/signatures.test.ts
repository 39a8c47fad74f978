import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hub88Dialect } from '../../providers/hub88/adapter.ts';
import { driver } from '../../providers/hub88/conformance.ts';
import { dialects } from '../../providers/index.ts';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { ProviderId } from '../../src/wallet/types.ts';
import { balanceOf, ledgerState } from '../event/helpers.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { STRANGER, betBody, configDir, entry, expectAnswer, instance, newRound, pem, post, rollbackBody, signedBy, token, uuid, winBody, type Hub88Instance } from './helpers.ts';

/**
 * X-Hub88-Signature both ways: a call is carried out only if Hub88's key signed exactly its bytes, and
 * every answer, whatever it says, is signed with the casino's key, so a changed answer is caught. The
 * keys are checked when the configuration loads.
 */

const H = instance('hub88-sig');
const OTHER = instance('hub88-sig-other');

let dir: string;
let gw: TestGateway;
beforeAll(async () => {
  dir = configDir([H, OTHER]);
  gw = await startTestGateway({ CONFIG_DIR: dir });
  await gw.fund('s_player', { USD: '100' });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('calls', () => {
  it('a call not signed by Hub88’s key of this instance is RS_ERROR_INVALID_SIGNATURE and changes nothing', async () => {
    const call = await betBody(H, { user: 's_player', amount: 1_000_000 });
    const body = JSON.stringify(call);
    const changed = body.replace('"amount":1000000', '"amount":9000000');
    expect(changed).not.toBe(body);
    const before = await ledgerState(gw);
    const forged = [
      post(gw, H, '/transaction/bet', body, { key: null }),
      post(gw, H, '/transaction/bet', body, { key: STRANGER.privateKey }),
      post(gw, H, '/transaction/bet', body, { key: OTHER.vendor.privateKey }),
      // The casino's own key: the other side's signature.
      post(gw, H, '/transaction/bet', body, { key: H.casino.privateKey }),
      // Signed, then changed on the way.
      post(gw, H, '/transaction/bet', changed, { signed: body }),
      // A signature of the same body in another encoding, or of the body with a trailing newline.
      post(gw, H, '/transaction/bet', body, { signed: `${body}\n` }),
      post(gw, H, '/transaction/bet', body, { signature: sign('sha256', Buffer.from(body), H.vendor.privateKey).toString('hex') }),
      post(gw, H, '/transaction/bet', body, { signature: '' }),
      post(gw, H, '/transaction/bet', body, { signature: '%%% not base64 %%%' }),
      post(gw, H, '/transaction/bet', body, { signature: Buffer.alloc(256, 7).toString('base64') }),
      post(gw, H, '/transaction/bet', body, { signature: Buffer.alloc(3).toString('base64') }),
    ];
    for (const reply of await Promise.all(forged)) {
      // Only its request_uuid is echoed ("The Operator has to respond with the same request_uuid"): nothing else of an unauthenticated body.
      expectAnswer(reply, { status: 'RS_ERROR_INVALID_SIGNATURE', request_uuid: call.request_uuid });
    }
    expect(await ledgerState(gw)).toEqual(before);
    // The same body, properly signed, is carried out.
    expect((await post(gw, H, '/transaction/bet', body)).answer.status).toBe('RS_OK');
    expect(await balanceOf(gw, 's_player')).toBe(9_000n);
  });

  it('a signature of a call to one instance does not open another', async () => {
    await gw.fund('s_cross', { USD: '100' });
    const before = await ledgerState(gw);
    const bet = await betBody(OTHER, { user: 's_cross', amount: 1_000_000 });
    // Sent to H with OTHER's Hub88 signature: H verifies with its own key.
    const reply = await post(gw, H, '/transaction/bet', bet, { key: OTHER.vendor.privateKey });
    expectAnswer(reply, { status: 'RS_ERROR_INVALID_SIGNATURE', request_uuid: bet.request_uuid });
    expect(await ledgerState(gw)).toEqual(before);
  });

  it('a signed call sent to another endpoint is RS_ERROR_WRONG_SYNTAX and changes nothing: the signature covers the body, not the path', async () => {
    await gw.fund('s_path', { USD: '100' });
    const round = newRound();
    const bet = await betBody(H, { user: 's_path', round, amount: 1_000_000 });
    expect((await post(gw, H, '/transaction/bet', bet)).answer.status).toBe('RS_OK');
    const win = await winBody(H, { user: 's_path', round, amount: 3_000_000 }, bet.transaction_uuid);
    const rollback = await rollbackBody(H, 's_path', bet.transaction_uuid);
    const calls = { '/transaction/bet': bet, '/transaction/win': win, '/transaction/rollback': rollback };
    const before = await ledgerState(gw);
    for (const [own, body] of Object.entries(calls)) {
      for (const endpoint of Object.keys(calls).filter((e) => e !== own)) {
        // A win replayed at /transaction/rollback would refund the bet it pays (and the win then find
        // no bet); at /transaction/bet it would take its amount from the player.
        const reply = await post(gw, H, endpoint, body);
        expect(reply.answer.status, `${own} sent to ${endpoint}`).toBe('RS_ERROR_WRONG_SYNTAX');
        expectAnswer(reply, { user: 's_path', status: 'RS_ERROR_WRONG_SYNTAX', request_uuid: body.request_uuid });
      }
    }
    expect(await ledgerState(gw)).toEqual(before);
    // Where Hub88 sent it, the win pays the bet it names.
    expectAnswer(await post(gw, H, '/transaction/win', win), { user: 's_path', status: 'RS_OK', request_uuid: win.request_uuid, currency: 'USD', balance: 12_000_000 });
    expect(await balanceOf(gw, 's_path')).toBe(12_000n);
  });

  it('the signature header is kept redacted in the history, with the call refused', async () => {
    const body = JSON.stringify({ user: 's_player', request_uuid: uuid() });
    await post(gw, H, '/user/info', body, { signature: 'c2VjcmV0LWxvb2tpbmctc2lnbmF0dXJl' });
    await post(gw, H, '/user/info', body);
    const rows = await gw.gateway.db.selectFrom('webhooks').select(['headers', 'outcome', 'path', 'answer']).where('provider_id', '=', H.id).where('path', '=', '/user/info').orderBy('id').execute();
    expect(rows.map((r) => r.outcome)).toEqual(['rejected', 'ok']);
    for (const row of rows) {
      expect((row.headers as Record<string, string>)['x-hub88-signature']).toBe('[redacted]');
      expect(row.path).toBe('/user/info');
    }
    expect(JSON.stringify(rows)).not.toContain('c2VjcmV0LWxvb2tpbmctc2lnbmF0dXJl');
  });
});

describe('answers', () => {
  it('every kind of answer is signed with the casino key of its instance, and with no other key', async () => {
    await gw.fund('s_answers', { USD: '10' });
    const bet = await betBody(H, { user: 's_answers', amount: 1_000_000 });
    const replies = [
      await post(gw, H, '/user/info', { user: 's_answers', request_uuid: uuid() }),
      await post(gw, H, '/user/balance', { user: 's_answers', token: await token(H, 's_answers'), request_uuid: uuid() }),
      await post(gw, H, '/transaction/bet', bet),
      await post(gw, H, '/transaction/bet', bet),
      await post(gw, H, '/transaction/bet', await betBody(H, { user: 's_answers', amount: 100_000_000 })),
      await post(gw, H, '/transaction/win', await winBody(H, { user: 's_answers', amount: 5 }, bet.transaction_uuid)),
      await post(gw, H, '/transaction/rollback', await rollbackBody(H, 's_answers', 'never-seen')),
      await post(gw, H, '/transaction/jackpot', bet),
      await post(gw, H, '/transaction/bet', 'not json'),
      await post(gw, H, '/transaction/bet', bet, { key: null }),
      await post(gw, H, '/transaction/bet', { ...bet, padding: 'x'.repeat(100_000) }),
    ];
    expect(new Set(replies.map((r) => r.answer.status)).size).toBeGreaterThanOrEqual(5);
    for (const reply of replies) {
      // (post() checked H's casino key already.)
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(signedBy(reply, OTHER.casino.publicKey)).toBe(false);
      expect(signedBy(reply, H.vendor.publicKey)).toBe(false);
    }
  });

  it('an answer changed after it was signed does not verify', async () => {
    const reply = await post(gw, H, '/user/info', { user: 's_player', request_uuid: uuid() });
    expect(signedBy(reply, H.casino.publicKey)).toBe(true);
    const richer = reply.raw.replace(/"balance":(\d+)/, (_, n: string) => `"balance":${BigInt(n) * 10n}`);
    expect(richer).not.toBe(reply.raw);
    expect(signedBy({ raw: richer, signature: reply.signature }, H.casino.publicKey)).toBe(false);
    expect(signedBy({ raw: reply.raw.replace('RS_OK', 'RS_ERROR_UNKNOWN'), signature: reply.signature }, H.casino.publicKey)).toBe(false);
  });
});

describe("the conformance driver's reading", () => {
  it('reads an answer signed with the instance casino key, and throws on a changed, unsigned or foreign one', async () => {
    const [a, b] = driver.instances.map((i) => hub88Dialect.create(ProviderId(i.id), hub88Dialect.options.parse(i.options)));
    const fault = await a!.fail('fault');
    const asHttp = (answer: { body: string; headers?: Readonly<Record<string, string>> }, body = answer.body) => ({
      status: 200,
      contentType: 'application/json; charset=utf-8',
      body,
      headers: Object.fromEntries(Object.entries(answer.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    });
    const id = driver.instances[0]!.id;
    expect(await driver.read(id, asHttp(fault))).toMatchObject({ kind: 'failed' });
    await expect(driver.read(id, asHttp(fault, fault.body.replace('RS_ERROR_UNKNOWN', 'RS_OK')))).rejects.toThrow(/not signed/);
    await expect(driver.read(id, { ...asHttp(fault), headers: {} })).rejects.toThrow(/not signed/);
    // Signed, but by the other instance's casino key.
    await expect(driver.read(id, asHttp(await b!.fail('fault')))).rejects.toThrow(/not signed/);
  });
});

describe('keys at configuration load', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  function load(providers: unknown[], env: Record<string, string> = {}) {
    const d = mkdtempSync(path.join(tmpdir(), 'croupier-hub88-config-'));
    dirs.push(d);
    writeFileSync(path.join(d, 'providers.json'), JSON.stringify({ providers }));
    return loadConfig({ NODE_ENV: 'test', SEED_DEMO: 'false', CONFIG_DIR: d, ...env }, dialects);
  }

  function failure(i: Hub88Instance, options: Record<string, unknown>): string {
    const e = entry(i);
    try {
      load([{ ...e, options: { ...e.options, ...options } }]);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('the configuration was accepted');
  }

  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });

  it('loads PEMs as written, or with their line breaks as \\n (from an environment variable), the private key as a secret', () => {
    const e = entry(H);
    const config = load([{ ...e, options: { ...e.options, casinoPrivateKey: { $env: 'H_KEY' }, vendorPublicKey: e.options.vendorPublicKey.replaceAll('\n', '\\n') } }], {
      H_KEY: e.options.casinoPrivateKey.replaceAll('\n', '\\n'),
    });
    expect(config.providers.map((p) => p.adapter.dialect)).toEqual(['hub88']);
    expect(inspect(config.providers[0]!.adapter, { depth: 5 })).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(config.providers[0]!.adapter)).not.toContain('PRIVATE KEY');
  });

  it('refuses a bad vendor key, naming it', () => {
    expect(failure(H, { vendorPublicKey: 'not a key' })).toMatch(/options\.vendorPublicKey: .*RSA public key in PEM/);
    expect(failure(H, { vendorPublicKey: pem(H.vendor.privateKey) })).toMatch(/vendorPublicKey: .*private key/);
    expect(failure(H, { vendorPublicKey: pem(ec.publicKey) })).toMatch(/vendorPublicKey: .*ec key/);
  });

  it('refuses a bad casino key, naming it, never showing it', () => {
    const garbage = '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----';
    const message = failure(H, { casinoPrivateKey: garbage });
    expect(message).toMatch(/options\.casinoPrivateKey: .*RSA private key/);
    expect(message).not.toContain('bm90IGEga2V5');
    expect(failure(H, { casinoPrivateKey: pem(H.casino.publicKey) })).toMatch(/casinoPrivateKey: /);
    expect(failure(H, { casinoPrivateKey: pem(ec.privateKey) })).toMatch(/casinoPrivateKey: .*ec key/);
    const weak = failure(H, { casinoPrivateKey: pem(small.privateKey) });
    expect(weak).toMatch(/casinoPrivateKey: .*1024 bits/);
    expect(weak).not.toContain(pem(small.privateKey).split('\n')[1]!);
  });

  it('refuses a short token secret, a bad operator id or currency', () => {
    expect(failure(H, { tokenSecret: 'too-short' })).toMatch(/tokenSecret: the session token secret must be at least 32 characters/);
    expect(failure(H, { operatorId: 0 })).toMatch(/operatorId/);
    expect(failure(H, { operatorId: '77' })).toMatch(/operatorId/);
    expect(failure(H, { currency: 'XYZ' })).toMatch(/currency: not an ISO 4217 currency/);
    expect(failure(H, { tokenTtlSeconds: 5 })).toMatch(/tokenTtlSeconds/);
  });
});
