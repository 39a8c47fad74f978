import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { createCodec, type Codec, type Encryption } from '../../providers/event/codec.ts';
import { PlayerCode } from '../../src/wallet/types.ts';
import type { TestGateway } from '../support/gateway.ts';

/**
 * Shared builders for the event-dialect tests (docs/specs/event-dialect.md): envelopes in the
 * spec's shapes, encrypted with the instance's codec, sent with Api-Id / Api-Key, answers decrypted.
 */

/** The `dowinn` instance of config/providers.json (its demo key: the test environment sets none). */
export const DOWINN = { id: 'dowinn', apiId: 'demo-dowinn-agent', apiKey: 'demo-dowinn-api-key-0123456789ab' } as const;

export const keyBytes = (apiKey: string) => new TextEncoder().encode(apiKey);
export const codecFor = (apiKey: string, encryption: Encryption = 'aes-ecb'): Codec => createCodec(encryption, keyBytes(apiKey));

/** unix seconds now, as the vendor stamps an event. */
export const now = () => Math.floor(Date.now() / 1000);

let next = 0;
/** A fresh transaction_id in the vendor's style, unique per test file. */
export const txId = () => `2_sandboxagent01_${Date.now()}_${process.pid}_${++next}`;

let nextGame = 0;
/** A fresh round (table_no, game_no) within a test file. */
export const newRound = () => ({ table_no: 'T07', game_no: `${process.pid}${String(++nextGame).padStart(5, '0')}` });
export type Round = ReturnType<typeof newRound>;

export interface Envelope {
  transaction_id: string;
  event_type: string;
  timestamp: number;
  feedback_data?: string;
  user_id: string;
  data?: unknown;
}

export function event(event_type: string, user_id: string, data?: unknown, o: { id?: string; timestamp?: number; feedback?: string } = {}): Envelope {
  return {
    transaction_id: o.id ?? txId(),
    event_type,
    timestamp: o.timestamp ?? now(),
    feedback_data: o.feedback ?? 'TEST_FEEDBACK_DATA',
    user_id,
    ...(data === undefined ? {} : { data }),
  };
}

/** [bet_index, bet_amount] pairs; amounts are written as JSON numbers (or raw values as given). */
export type Bets = readonly (readonly [string | number, unknown])[];

const BET_TYPES = ['Player', 'Banker', 'Tie', 'PlayerPair', 'BankerPair'];
const items = (bets: Bets) => bets.map(([bet_index, bet_amount], i) => ({ bet_index, bet_type: BET_TYPES[i % BET_TYPES.length], bet_amount }));

/** The decimal sum of the amounts, as a JSON number (cents, so no float error for test amounts). */
const sum = (bets: Bets) => JSON.rawJSON(String(bets.reduce((s, [, a]) => s + Math.round(Number(a) * 100), 0) / 100));

export interface BetOptions {
  id?: string;
  total?: unknown;
  currency?: string;
  timestamp?: number;
}

export function bet(user: string, round: Round, bets: Bets, o: BetOptions = {}): Envelope {
  return event(
    'bet',
    user,
    { currency: o.currency ?? 'USD', game_type: 'BAC', ...round, total_bet_amount: o.total ?? sum(bets), bets: items(bets) },
    o,
  );
}

export function cancel(user: string, round: Round, bets: Bets, o: BetOptions = {}): Envelope {
  return event(
    'bet_cancel',
    user,
    {
      ...(o.currency === undefined ? {} : { currency: o.currency }),
      game_type: 'BAC',
      ...round,
      total_bet_cancel_amount: o.total ?? sum(bets),
      bet_cancels: items(bets),
    },
    o,
  );
}

const DETAIL = JSON.stringify({ player: ['S3', 'H10'], banker: ['D4', 'C5'], player_score: 3, banker_score: 9 });
const DETAIL_BEFORE = JSON.stringify({ player: ['S3', 'H6'], banker: ['D4', 'C2'], player_score: 9, banker_score: 6 });

/** bet_result: `winloss` is the round's total net result (negative when lost, 0 for a push). */
export function result(user: string, round: Round, totalBet: number, winloss: number, o: { id?: string; timestamp?: number } = {}): Envelope {
  return event(
    'bet_result',
    user,
    {
      game_type: 'BAC',
      ...round,
      total_bet_amount: totalBet,
      total_winloss: winloss,
      result: winloss > 0 ? 'P' : winloss < 0 ? 'B' : 'T',
      result_detail: DETAIL,
      bet_results: [{ bet_index: 1, bet_type: 'Player', bet_amount: totalBet, winloss }],
    },
    o,
  );
}

export function resultChange(user: string, round: Round, totalBet: number, winloss: number, before: number, o: { id?: string; timestamp?: number } = {}): Envelope {
  return event(
    'result_change',
    user,
    {
      game_type: 'BAC',
      ...round,
      total_bet_amount: totalBet,
      total_winloss: winloss,
      total_winloss_before: before,
      result: winloss > 0 ? 'P' : 'B',
      result_before: before > 0 ? 'P' : 'B',
      result_detail: DETAIL,
      result_detail_before: DETAIL_BEFORE,
      bet_results: [{ bet_index: 1, bet_type: 'Player', bet_amount: totalBet, winloss, winloss_before: before }],
    },
    o,
  );
}

export interface Target {
  provider: string;
  apiId: string;
  apiKey: string;
  encryption?: Encryption;
}

export const DOWINN_TARGET: Target = { provider: DOWINN.id, apiId: DOWINN.apiId, apiKey: DOWINN.apiKey };

export interface Reply {
  status: number;
  contentType: string | null;
  /** The raw answer body (ciphertext). */
  raw: string;
  /** The answer decrypted with the instance key and parsed. */
  answer: Record<string, unknown>;
}

export interface PostOptions {
  headers?: Record<string, string>;
  /** Leave out these of the default headers (content-type, api-id, api-key). */
  omit?: readonly string[];
  contentType?: string;
}

/** POSTs a raw body to the instance's webhook and decrypts the answer with the instance's key. */
export async function postRaw(gw: TestGateway, target: Target, body: string | Uint8Array, o: PostOptions = {}): Promise<Reply> {
  const defaults: Record<string, string> = { 'content-type': o.contentType ?? 'text/plain', 'api-id': target.apiId, 'api-key': target.apiKey };
  for (const name of o.omit ?? []) delete defaults[name];
  const res = await fetch(`${gw.url}/callbacks/${target.provider}`, { method: 'POST', headers: { ...defaults, ...o.headers }, body });
  const raw = await res.text();
  const plain = await codecFor(target.apiKey, target.encryption).decrypt(raw);
  return { status: res.status, contentType: res.headers.get('content-type'), raw, answer: JSON.parse(plain) as Record<string, unknown> };
}

/** Encrypts the envelope (any JSON value) with the instance's codec and sends it. */
export async function send(gw: TestGateway, payload: unknown, o: PostOptions & { target?: Target } = {}): Promise<Reply> {
  const target = o.target ?? DOWINN_TARGET;
  const body = await codecFor(target.apiKey, target.encryption).encrypt(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return postRaw(gw, target, body, o);
}

/** The answer the spec wants for an event: the event's type, timestamp and user echoed, and the code. */
export function answerTo(e: Envelope, code: string, latestBalance?: number) {
  return {
    code,
    event_type: e.event_type,
    timestamp: e.timestamp,
    user_id: e.user_id,
    ...(latestBalance === undefined ? {} : { latest_balance: latestBalance }),
  };
}

/** Sends the event and asserts HTTP 200 and the exact decoded answer. */
export async function expectEvent(gw: TestGateway, e: Envelope, code: string, latestBalance?: number, o: PostOptions & { target?: Target } = {}) {
  const reply = await send(gw, e, o);
  expect(reply.answer).toEqual(answerTo(e, code, latestBalance));
  expect(reply.status).toBe(200);
  return reply;
}

/**
 * An answer for a request that never named its event (no envelope could be read): HTTP 200, the code,
 * no event or user, and a timestamp of the answer's own time.
 */
export function expectBare(reply: Reply, code: string, sentAt: number) {
  expect(reply.answer).toEqual({ code, event_type: null, timestamp: expect.any(Number), user_id: null });
  expect(reply.answer.timestamp as number).toBeGreaterThanOrEqual(sentAt);
  expect(reply.answer.timestamp as number).toBeLessThanOrEqual(now() + 1);
  expect(reply.status).toBe(200);
}

/** The player's wallet balance in minor units, from the back office. */
export async function balanceOf(gw: TestGateway, code: string, currency = 'USD'): Promise<bigint> {
  const view = await gw.gateway.backOffice.player(PlayerCode(code));
  if (!view.ok) throw new Error(`no player ${code}: ${view.reason}`);
  const w = view.value.wallets.find((x) => x.currency.trim() === currency);
  if (!w) throw new Error(`${code} has no ${currency} wallet`);
  return w.balance;
}

const count = async (gw: TestGateway, table: 'transfers' | 'provider_transactions' | 'bet_lines' | 'line_cancels' | 'player_sessions' | 'rounds' | 'rollbacks') => {
  const { n } = await gw.gateway.db
    .selectFrom(table)
    .select(sql<string>`count(*)::text`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
};

/** Every account balance and the row count of every table a webhook can write: "nothing changed" is equality. */
export async function ledgerState(gw: TestGateway) {
  const accounts = await gw.gateway.db.selectFrom('accounts').select(['id', 'balance']).orderBy('id').execute();
  return {
    accounts: accounts.map((a) => `${a.id}=${a.balance}`),
    transfers: await count(gw, 'transfers'),
    provider_transactions: await count(gw, 'provider_transactions'),
    bet_lines: await count(gw, 'bet_lines'),
    line_cancels: await count(gw, 'line_cancels'),
    player_sessions: await count(gw, 'player_sessions'),
    rounds: await count(gw, 'rounds'),
    rollbacks: await count(gw, 'rollbacks'),
  };
}

/** The provider transaction rows of a player at an instance, oldest first. */
export async function transactionsOf(gw: TestGateway, code: string, provider: string = DOWINN.id) {
  return gw.gateway.db
    .selectFrom('provider_transactions as t')
    .innerJoin('players as p', 'p.id', 't.player_id')
    .leftJoin('transfers as tr', 'tr.id', 't.transfer_id')
    .leftJoin('rounds as r', 'r.id', 't.round_id')
    .select(['t.external_id', 't.kind', 't.amount', 't.currency', 't.status', 't.refusal', 'r.external_id as round', 'tr.amount as moved', 't.details'])
    .where('p.code', '=', code)
    .where('t.provider_id', '=', provider)
    .orderBy('t.id')
    .execute();
}

/** The bet lines of a round (`table:game`), with the transaction carrying each. */
export async function linesOf(gw: TestGateway, round: Round, provider: string = DOWINN.id) {
  return gw.gateway.db
    .selectFrom('bet_lines as l')
    .innerJoin('rounds as r', 'r.id', 'l.round_id')
    .innerJoin('provider_transactions as t', 't.id', 'l.provider_transaction_id')
    .select(['l.ref', 'l.amount', 't.external_id'])
    .where('r.provider_id', '=', provider)
    .where('r.external_id', '=', `${round.table_no}:${round.game_no}`)
    .orderBy('l.ref')
    .execute();
}

/** The line cancels of a round, with whether each refunded a placed line, and the cancel carrying each. */
export async function cancelsOf(gw: TestGateway, round: Round, provider: string = DOWINN.id) {
  const rows = await gw.gateway.db
    .selectFrom('line_cancels as c')
    .innerJoin('provider_transactions as t', 't.id', 'c.cancel_id')
    .select(['c.ref', 'c.line_id', 't.external_id'])
    .where('c.provider_id', '=', provider)
    .where('c.round_external_id', '=', `${round.table_no}:${round.game_no}`)
    .orderBy('c.ref')
    .execute();
  return rows.map((r) => ({ ref: r.ref, refunded: r.line_id !== null, cancel: r.external_id }));
}

export async function sessionsOf(gw: TestGateway, code: string, provider: string = DOWINN.id) {
  return gw.gateway.db
    .selectFrom('player_sessions as s')
    .innerJoin('players as p', 'p.id', 's.player_id')
    .select(['s.external_id', 's.kind', 's.details'])
    .where('p.code', '=', code)
    .where('s.provider_id', '=', provider)
    .orderBy('s.id')
    .execute();
}

export async function expectReconciled(gw: TestGateway) {
  expect(await gw.reconcile()).toEqual([]);
}

export async function block(gw: TestGateway, code: string) {
  const r = await gw.gateway.backOffice.setStatus(PlayerCode(code), 'blocked');
  if (!r.ok) throw new Error(`block ${code}: ${r.reason}`);
}

/** A CONFIG_DIR of our own: providers.json with the given instances and an empty demo.json. */
export function configDir(providers: unknown[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'croupier-event-'));
  writeFileSync(path.join(dir, 'providers.json'), JSON.stringify({ providers }));
  writeFileSync(path.join(dir, 'demo.json'), JSON.stringify({ players: [] }));
  return dir;
}
