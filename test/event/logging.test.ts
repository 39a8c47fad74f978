import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../../providers/index.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/logging.ts';
import { asCurrency } from '../../src/money/currency.ts';
import { createGateway, type Gateway } from '../../src/service.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import { authenticate } from '../command/helpers.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { TOKENS } from '../support/gateway.ts';
import { DOWINN, bet, codecFor, event, newRound } from './helpers.ts';

/**
 * Secrets never reach the logs: a gateway logging at info into a captured stream receives event and
 * command webhooks (right and wrong credentials, refused and oversize bodies) and admin calls; no
 * line may carry an Api-Key, a Callback-Token or a bearer token.
 */

const lines: string[] = [];
let database: TestDatabase;
let gateway: Gateway;
let url: string;
let adminToken: string;

const WRONG_API_KEY = 'wrong-dowinn-api-key-0123456789a';
const WRONG_TOKEN = 'wrong-callback-token-0123456789';

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', SEED_DEMO: 'false', DATABASE_URL: database.url }, dialects);
  gateway = createGateway(config, createLogger(config.logLevel, { write: (line: string) => void lines.push(line) }));
  const server = await gateway.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  adminToken = await new SignJWT({ role: 'admin' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('test-operator')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(config.adminJwtSecret.reveal()));
  await gateway.backOffice.createPlayer(PlayerCode('ev_log'), [asCurrency('USD')]);
  await gateway.backOffice.cashier('deposit', PlayerCode('ev_log'), asCurrency('USD'), 10_000n, 'ev-log-fund');
});
afterAll(async () => {
  await gateway?.close();
  await database?.drop();
});

const post = (path: string, headers: Record<string, string>, body: string) => fetch(`${url}${path}`, { method: 'POST', headers, body }).then((r) => r.text());

describe('logs', () => {
  it('never carry the Api-Key, the Callback-Token or an admin bearer token', async () => {
    const codec = codecFor(DOWINN.apiKey);
    const headers = (apiKey: string) => ({ 'content-type': 'text/plain', 'api-id': DOWINN.apiId, 'api-key': apiKey });
    // Event dialect: accepted, wrong key, refused by the wallet, undecryptable, oversize.
    await post('/callbacks/dowinn', headers(DOWINN.apiKey), await codec.encrypt(JSON.stringify(event('login', 'ev_log'))));
    await post('/callbacks/dowinn', headers(DOWINN.apiKey), await codec.encrypt(JSON.stringify(bet('ev_log', newRound(), [[1, 10]]))));
    await post('/callbacks/dowinn', headers(WRONG_API_KEY), await codec.encrypt(JSON.stringify(event('login', 'ev_log'))));
    await post('/callbacks/dowinn', headers(DOWINN.apiKey), await codec.encrypt(JSON.stringify(bet('ev_log', newRound(), [[1, 1000]]))));
    await post('/callbacks/dowinn', headers(DOWINN.apiKey), 'garbage');
    await post('/callbacks/dowinn', headers(DOWINN.apiKey), 'A'.repeat(70_000));
    // Command dialect: right and wrong token.
    const json = (token: string) => ({ 'content-type': 'application/json', 'callback-token': token });
    await post('/callbacks/scorpio-play', json(TOKENS['scorpio-play']), JSON.stringify(authenticate('ev_log')));
    await post('/callbacks/scorpio-play', json(WRONG_TOKEN), JSON.stringify(authenticate('ev_log')));
    await post('/callbacks/scorpio-play', json(TOKENS['scorpio-play']), 'x'.repeat(70_000));
    // Admin API with a bearer token.
    await fetch(`${url}/v1/players/ev_log`, { headers: { authorization: `Bearer ${adminToken}` } }).then((r) => r.text());

    const output = lines.join('');
    const records = lines.map((l) => JSON.parse(l) as { msg?: string; req?: { url?: string; headers?: Record<string, string> } });
    // The requests were logged, with their headers (so the checks below are not vacuous) ...
    const logged = records.filter((r) => r.req?.headers);
    expect(logged.filter((r) => r.req!.url === '/callbacks/dowinn')).toHaveLength(6);
    expect(logged.filter((r) => r.req!.url === '/callbacks/scorpio-play')).toHaveLength(3);
    for (const r of logged.filter((r) => r.req!.url === '/callbacks/dowinn')) {
      expect(r.req!.headers!['api-key']).toBe('[redacted]');
      expect(r.req!.headers!['api-id']).toBe(DOWINN.apiId);
    }
    for (const r of logged.filter((r) => r.req!.url === '/callbacks/scorpio-play')) expect(r.req!.headers!['callback-token']).toBe('[redacted]');
    expect(logged.find((r) => r.req!.url === '/v1/players/ev_log')?.req!.headers!.authorization).toBe('[redacted]');
    // ... and no secret (nor a caller's wrong guess at one) appears anywhere.
    for (const secret of [DOWINN.apiKey, WRONG_API_KEY, TOKENS['scorpio-play'], WRONG_TOKEN, adminToken]) {
      expect(output).not.toContain(secret);
    }
    for (const token of Object.values(TOKENS)) expect(output).not.toContain(token);
  });
});
