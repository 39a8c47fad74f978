import { generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { mintSessionToken } from '../../providers/hub88/session.ts';
import { JsonNumber, parseJsonExact } from '../../src/money/json.ts';
import type { TestGateway } from '../support/gateway.ts';

/**
 * Shared builders for the Hub88 dialect's tests: instances of our own (each with its Hub88 and casino
 * RSA key pairs and its session token secret), calls signed as Hub88 signs them, answers checked
 * against the casino's key before they are read.
 */

export interface Hub88Instance {
  id: string;
  operatorId: number;
  currency: string;
  tokenSecret: string;
  /** Hub88's pair: it signs the calls. */
  vendor: { publicKey: KeyObject; privateKey: KeyObject };
  /** The casino's pair: it signs the answers. */
  casino: { publicKey: KeyObject; privateKey: KeyObject };
  allowFrom?: string[];
}

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 });
export const pem = (key: KeyObject) => key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;

export function instance(id: string, o: { operatorId?: number; currency?: string; allowFrom?: string[] } = {}): Hub88Instance {
  return {
    id,
    operatorId: o.operatorId ?? 77,
    currency: o.currency ?? 'USD',
    tokenSecret: `${id}-session-token-secret-0123456789abcdef`,
    vendor: rsa(),
    casino: rsa(),
    ...(o.allowFrom ? { allowFrom: o.allowFrom } : {}),
  };
}

/** A key pair no instance knows. */
export const STRANGER = rsa();

export const entry = (i: Hub88Instance) => ({
  id: i.id,
  dialect: 'hub88',
  ...(i.allowFrom ? { allowFrom: i.allowFrom } : {}),
  options: {
    operatorId: i.operatorId,
    currency: i.currency,
    vendorPublicKey: pem(i.vendor.publicKey),
    casinoPrivateKey: pem(i.casino.privateKey),
    tokenSecret: i.tokenSecret,
  },
});

/** A CONFIG_DIR of our own: providers.json with these instances and an empty demo.json. */
export function configDir(instances: readonly Hub88Instance[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'croupier-hub88-'));
  writeFileSync(path.join(dir, 'providers.json'), JSON.stringify({ providers: instances.map(entry) }));
  writeFileSync(path.join(dir, 'demo.json'), JSON.stringify({ players: [] }));
  return dir;
}

/** A session token of the instance for `player` in `currency` (its ttl in seconds; negative: expired). */
export const token = (i: Hub88Instance, player: string, currency = i.currency, ttl?: number) =>
  mintSessionToken({ instance: i.id, tokenSecret: i.tokenSecret }, player, currency, ttl);

let seq = 0;
export const uuid = () => randomUUID();
/** A fresh transaction_uuid, unique in the run. */
export const txId = () => `${randomUUID()}-${++seq}`;
export const newRound = () => `round-${process.pid}-${++seq}`;

/** An amount in hub units (1/100000 of the currency unit), written exactly as a JSON number. */
export const units = (n: bigint | number | string) => JSON.rawJSON(String(n));

export interface Money {
  user: string;
  tx?: string;
  round?: string;
  /** In hub units. */
  amount: bigint | number | string;
  currency?: string;
}

export async function betBody(i: Hub88Instance, m: Money, extra: Record<string, unknown> = {}) {
  const currency = m.currency ?? i.currency;
  return {
    user: m.user,
    transaction_uuid: m.tx ?? txId(),
    supplier_transaction_id: 'supplier-1',
    token: await token(i, m.user, currency),
    round: m.round ?? newRound(),
    round_closed: false,
    request_uuid: uuid(),
    game_code: 'clt_dragonrising',
    currency,
    bet: 'spin',
    amount: units(m.amount),
    ...extra,
  };
}

export async function winBody(i: Hub88Instance, m: Money, reference: string, extra: Record<string, unknown> = {}) {
  return { ...(await betBody(i, m)), reference_transaction_uuid: reference, ...extra };
}

export async function rollbackBody(i: Hub88Instance, user: string, target: string, extra: Record<string, unknown> = {}) {
  return { user, transaction_uuid: txId(), reference_transaction_uuid: target, round: 'r', request_uuid: uuid(), token: await token(i, user), game_code: 'clt_dragonrising', ...extra };
}

export interface SendOptions {
  /** Who signs the call: Hub88's key of the instance by default; null sends no signature. */
  key?: KeyObject | null;
  /** The signature header as given. */
  signature?: string;
  /** Signs these bytes instead of the body sent. */
  signed?: string;
  headers?: Record<string, string>;
}

export interface Reply {
  status: number;
  contentType: string | null;
  raw: string;
  signature: string | null;
  /** The answer, parsed exactly (balance as a JsonNumber). */
  answer: Record<string, unknown>;
}

/** POSTs `body` to the instance's endpoint, signed; checks the answer is HTTP 200 and signed with the instance's casino key. */
export async function post(gw: TestGateway, i: Hub88Instance, endpoint: string, body: unknown, o: SendOptions = {}): Promise<Reply> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const key = o.key === undefined ? i.vendor.privateKey : o.key;
  const signature = o.signature ?? (key ? sign('sha256', Buffer.from(o.signed ?? text, 'utf8'), key).toString('base64') : undefined);
  const res = await fetch(`${gw.url}/callbacks/${i.id}${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'x-hub88-signature': signature }), ...o.headers },
    body: text,
  });
  const raw = await res.text();
  const reply = { status: res.status, contentType: res.headers.get('content-type'), raw, signature: res.headers.get('x-hub88-signature'), answer: {} };
  expect(reply.status, raw).toBe(200);
  expect(signedBy(reply, i.casino.publicKey), `the answer is signed with ${i.id}'s casino key: ${raw}`).toBe(true);
  reply.answer = parseJsonExact(raw) as Record<string, unknown>;
  return reply;
}

/** Whether the answer's X-Hub88-Signature is `key`'s signature of its body. */
export function signedBy(reply: { raw: string; signature: string | null }, key: KeyObject): boolean {
  if (!reply.signature) return false;
  return verify('sha256', Buffer.from(reply.raw, 'utf8'), key, Buffer.from(reply.signature, 'base64'));
}

/** The answer with its balance as text (the digits sent): easy to compare. */
export function plain(reply: Reply): Record<string, unknown> {
  const { balance, ...rest } = reply.answer;
  return balance instanceof JsonNumber ? { ...rest, balance: balance.source } : reply.answer;
}

/** Asserts the answer: status, echo of user and request_uuid, and currency and balance (hub units, as digits) where given. */
export function expectAnswer(reply: Reply, expected: { status: string; user?: string; request_uuid?: string; currency?: string; balance?: bigint | number | string }) {
  const want: Record<string, unknown> = {};
  if (expected.user !== undefined) want.user = expected.user;
  want.status = expected.status;
  if (expected.request_uuid !== undefined) want.request_uuid = expected.request_uuid;
  if (expected.currency !== undefined) want.currency = expected.currency;
  if (expected.balance !== undefined) want.balance = String(expected.balance);
  expect(plain(reply)).toEqual(want);
  expect(Object.keys(reply.answer)).toEqual(Object.keys(want));
}

/** The status of an answer. */
export const statusOf = (reply: Reply) => reply.answer.status as string;
