import { decrypt, encrypt } from '../simulator/aes.ts';
import type { Reply } from './http.ts';
import { EXPONENT, type CommandProvider, type Currency, type EventProvider, type Provider } from './world.ts';

/**
 * The vendors' side of the wire (docs/specs/command-dialect.md and event-dialect.md): the bodies
 * they send and how they read the answers. Written from the specs, not from the gateway's code, so
 * the bench exercises the gateway exactly as a vendor would (the AES code is the vendor's copy, shared
 * with the simulator).
 */

export type Op = 'balance' | 'bet' | 'win' | 'cancel';

export interface Call {
  op: Op;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The answers that mean the call did what the vendor wanted (a repeat is answered differently). */
  expect: readonly (number | string)[];
  provider: Provider;
}

/** How a call ended, from the vendor's point of view. */
export type Verdict = 'ok' | 'timeout' | 'network' | 'http' | 'fault' | 'unexpected';

/** A round's money, in minor units. */
export interface Stake {
  amount: bigint;
}

/** Minor units as the JSON number the vendor writes ("12.34" for 1234 cents, "700" for 700 won). */
export function units(minor: bigint, currency: Currency): string {
  const exponent = EXPONENT[currency];
  if (exponent === 0) return minor.toString();
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

// ---------------------------------------------------------------------------------------------
// Command dialect

const GAME = '"call_id":0,"provider_id":"bench","game_code":"bench-slot","game_name":"Bench Slot","game_type":"slot"';

function command(provider: CommandProvider, op: Op, data: string, check: string, expect: readonly number[]): Call {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    op,
    provider,
    path: `/callbacks/${provider.id}`,
    headers: { 'content-type': 'application/json', accept: 'application/json', 'callback-token': provider.token },
    // Written by hand: amounts must go out as the exact decimal text, which JSON.stringify cannot promise.
    body: `{"command":"${op}","data":{${data}},"timestamp":"${timestamp}","check":"${check}"}`,
    expect,
  };
}

export const commandCalls = {
  balance: (p: CommandProvider, account: string) => command(p, 'balance', `"account":"${account}"`, '21,22', [0]),
  bet: (p: CommandProvider, account: string, transId: number, round: string, amount: bigint) =>
    command(p, 'bet', `"account":"${account}","trans_id":${transId},"round_id":"${round}",${GAME},"amount":${units(amount, p.currency)},"type":1`, '21,22,41,31', [0]),
  win: (p: CommandProvider, account: string, transId: number, round: string, amount: bigint) =>
    command(p, 'win', `"account":"${account}","trans_id":${transId},"round_id":"${round}",${GAME},"amount":${units(amount, p.currency)},"type":2`, '21,22,41', [0]),
  /** `expect` widens for the cancel that follows a failed bet: the bet may never have been taken (42). */
  cancel: (p: CommandProvider, account: string, transId: number, round: string, expect: readonly number[] = [0]) =>
    command(p, 'cancel', `"account":"${account}","trans_id":${transId},"round_id":"${round}",${GAME}`, '21,22,42', expect),
};

/** A vendor retry of an already answered call: a repeated win answers 41, a repeated cancel 0 (spec). */
export function commandRetry(call: Call): Call {
  return { ...call, expect: call.op === 'win' || call.op === 'bet' ? [41] : [0] };
}

// ---------------------------------------------------------------------------------------------
// Event dialect

export interface TableRound {
  table: string;
  game: string;
  /** The one bet line of the round (a baccarat "PLAYER" bet). */
  amount: bigint;
}

function event(provider: EventProvider, op: Op, transactionId: string, type: string, user: string, data: string): Call {
  const timestamp = Math.floor(Date.now() / 1000);
  const plain = `{"transaction_id":"${transactionId}","event_type":"${type}","timestamp":${timestamp},"user_id":"${user}","data":{${data}}}`;
  return {
    op,
    provider,
    path: `/callbacks/${provider.id}`,
    headers: { 'content-type': 'text/plain', 'api-id': provider.apiId, 'api-key': provider.apiKey },
    body: encrypt(provider.apiKey, plain),
    // Every event, a repeat included, answers R0 when it is (or was) applied.
    expect: ['R0'],
  };
}

const table = (p: EventProvider, r: TableRound) => `"currency":"${p.currency}","game_type":"BAC","table_no":"${r.table}","game_no":"${r.game}"`;

export const eventCalls = {
  bet: (p: EventProvider, user: string, id: string, r: TableRound) => {
    const a = units(r.amount, p.currency);
    return event(p, 'bet', id, 'bet', user, `${table(p, r)},"total_bet_amount":${a},"bets":[{"bet_index":"1","bet_type":"PLAYER","bet_amount":${a}}]`);
  },
  cancel: (p: EventProvider, user: string, id: string, r: TableRound) => {
    const a = units(r.amount, p.currency);
    return event(p, 'cancel', id, 'bet_cancel', user, `${table(p, r)},"total_bet_cancel_amount":${a},"bet_cancels":[{"bet_index":"1","bet_type":"PLAYER","bet_amount":${a}}]`);
  },
  /** Settles the round paying `paid` (stake back plus net win/loss): winloss = paid - stake. */
  result: (p: EventProvider, user: string, id: string, r: TableRound, paid: bigint) => {
    const a = units(r.amount, p.currency);
    const w = units(paid - r.amount, p.currency);
    return event(
      p,
      'win',
      id,
      'bet_result',
      user,
      `${table(p, r)},"total_bet_amount":${a},"total_winloss":${w},"result":"P","bet_results":[{"bet_index":"1","bet_type":"PLAYER","bet_amount":${a},"winloss":${w}}]`,
    );
  },
};

// ---------------------------------------------------------------------------------------------

/** What the vendor makes of the answer to `call`. */
export function judge(call: Call, reply: Reply): { verdict: Verdict; code?: number | string } {
  if ('failed' in reply) return { verdict: reply.failed };
  if (reply.status !== 200) return { verdict: 'http', code: reply.status };
  let code: unknown;
  try {
    const text = call.provider.dialect === 'event' ? decrypt(call.provider.apiKey, reply.body) : reply.body;
    code = call.provider.dialect === 'event' ? (JSON.parse(text) as { code?: unknown }).code : (JSON.parse(text) as { result?: unknown }).result;
  } catch {
    return { verdict: 'unexpected', code: 'garbled' };
  }
  if (typeof code !== 'number' && typeof code !== 'string') return { verdict: 'unexpected', code: 'garbled' };
  if (call.expect.includes(code)) return { verdict: 'ok', code };
  // The dialects' "internal failure" answers: the gateway could not do it in time (pool, lock, database).
  return { verdict: code === 99 || code === 'R1' ? 'fault' : 'unexpected', code };
}
