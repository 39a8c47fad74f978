import { sql } from 'kysely';
import { expect } from 'vitest';
import { PlayerCode } from '../../src/wallet/types.ts';
import type { TestGateway } from '../support/gateway.ts';

/**
 * Shared builders for the command-dialect tests (docs/specs/command-dialect.md). Payloads follow
 * the spec's shapes verbatim: every data field, trans_id an integer, timestamp a string, a check list.
 */

/** The three configured command-dialect instances and their account currencies. */
export const CURRENCY = { 'scorpio-play': 'USD', slotcity: 'EUR', meganodes: 'KRW' } as const;
export type CommandProvider = keyof typeof CURRENCY;

export const CHECK = {
  authenticate: '21',
  balance: '21,22',
  bet: '21,22,41,31',
  win: '21,22,41',
  cancel: '21,22,42',
  status: '21,42',
} as const;

let clock = 1_600_000_000;
/** unix seconds, as a string (the spec's envelope). */
export const timestamp = () => String(++clock);

let nextTransId = 7_000_000;
/** A fresh integer trans_id, unique within a test file. */
export const transId = () => ++nextTransId;

export interface MoneyOptions {
  round?: string;
  check?: string;
  type?: number;
  callId?: number;
}

/** The spec's envelope. `data` is written as is (so tests can put raw JSON values in it). */
export function envelope(command: string, data: Record<string, unknown>, check?: string) {
  return { command, data, timestamp: timestamp(), ...(check === undefined ? {} : { check }) };
}

export const authenticate = (account: string, check: string = CHECK.authenticate) => envelope('authenticate', { account }, check);

export const balance = (account: string, check: string = CHECK.balance) => envelope('balance', { account }, check);

/** bet / win data with every field the spec lists. `amount` is a JSON number (or any raw value). */
function money(command: 'bet' | 'win', account: string, trans_id: unknown, amount: unknown, o: MoneyOptions = {}) {
  return envelope(
    command,
    {
      account,
      trans_id,
      call_id: o.callId ?? 0,
      round_id: o.round ?? `round-${String(trans_id)}`,
      provider_id: 'pragmatic',
      game_code: 'vs20doghouse',
      game_name: 'The Dog House',
      game_type: 'slots',
      amount,
      type: o.type ?? (command === 'bet' ? 1 : 2),
    },
    o.check ?? CHECK[command],
  );
}

export const bet = (account: string, trans_id: unknown, amount: unknown, o?: MoneyOptions) => money('bet', account, trans_id, amount, o);
export const win = (account: string, trans_id: unknown, amount: unknown, o?: MoneyOptions) => money('win', account, trans_id, amount, o);

export function cancel(account: string, trans_id: unknown, o: { round?: string; check?: string } = {}) {
  return envelope(
    'cancel',
    {
      account,
      trans_id,
      round_id: o.round ?? `round-${String(trans_id)}`,
      provider_id: 'pragmatic',
      game_code: 'vs20doghouse',
      game_name: 'The Dog House',
      game_type: 'slots',
    },
    o.check ?? CHECK.cancel,
  );
}

export const status = (account: string, trans_id: unknown, check: string = CHECK.status) => envelope('status', { account, trans_id }, check);

/** The spec's answer shapes, as exact bytes. */
export const ok = (bal: string) => `{"result":0,"status":"OK","data":{"balance":${bal}}}`;
export const authOk = (account: string, bal: string) => `{"result":0,"status":"OK","data":{"account":${JSON.stringify(account)},"balance":${bal}}}`;
export const withBalance = (result: 31 | 41 | 42 | 99, bal: string) => `{"result":${result},"status":"ERROR","data":{"balance":${bal}}}`;
export const bare = (result: 21 | 22 | 99 | 100) => `{"result":${result},"status":"ERROR"}`;
export const statusOk = (id: string, state: 'OK' | 'CANCELED') => `{"result":0,"status":"OK","data":{"trans_id":${id},"trans_status":"${state}"}}`;

/** Every account balance and the number of transfers: the whole ledger state, for "nothing changed". */
export async function snapshot(gw: TestGateway) {
  const accounts = await gw.gateway.db.selectFrom('accounts').select(['id', 'balance']).orderBy('id').execute();
  const { n } = await gw.gateway.db
    .selectFrom('transfers')
    .select(sql<string>`count(*)::text`.as('n'))
    .executeTakeFirstOrThrow();
  return { accounts: accounts.map((a) => `${a.id}=${a.balance}`), transfers: Number(n) };
}

/** Rows in provider_transactions (applied and refused alike). */
export async function providerTxCount(gw: TestGateway): Promise<number> {
  const { n } = await gw.gateway.db
    .selectFrom('provider_transactions')
    .select(sql<string>`count(*)::text`.as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** The player's wallet balance in minor units, straight from the back office. */
export async function wallet(gw: TestGateway, code: string, currency: string): Promise<bigint> {
  const view = await gw.gateway.backOffice.player(PlayerCode(code));
  if (!view.ok) throw new Error(`no player ${code}: ${view.reason}`);
  const w = view.value.wallets.find((x) => x.currency.trim() === currency);
  if (!w) throw new Error(`${code} has no ${currency} wallet`);
  return w.balance;
}

/** Sends and asserts the exact answer bytes and HTTP 200. */
export async function expectAnswer(gw: TestGateway, provider: string, body: unknown, expected: string, headers?: Record<string, string>) {
  const res = await gw.callback(provider, body, headers);
  expect(res.text).toBe(expected);
  expect(res.status).toBe(200);
  return res;
}

/** The ledger invariants hold. */
export async function expectReconciled(gw: TestGateway) {
  expect(await gw.reconcile()).toEqual([]);
}
