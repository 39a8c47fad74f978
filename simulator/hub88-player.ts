import { randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Courier, withBalance, type Answer } from './courier.ts';
import { isFailure, isSuccess, Journal, type Call, type HubStatus, type Operation } from './journal.ts';
import { exponentOf, parseJson, ExactNumber } from './money.ts';
import { amountBetween, between, type Random } from './random.ts';
import { describeOperation, sessionReport, type SessionEnd, type SessionReport } from './session.ts';

/**
 * Hub88 calling the casino's wallet (docs/specs/hub88-dialect.md): one endpoint per call under the
 * casino's address (/user/balance, /transaction/bet, /transaction/win, /transaction/rollback), each
 * body signed with Hub88's RSA key in X-Hub88-Signature, each answer `{status, balance, ...}` checked
 * against the casino's signature. Amounts are integers in 1/100000 of the currency unit.
 *
 * As Hub88 plays: a bet is sent once; a bet that failed is rolled back (retried until answered); a win
 * (0 for a lost round, closing it) and a rollback are retried every 2-4 s while the answer is a
 * failure, the same request each time; some calls go out twice; now and then the game rolls a bet
 * back, and a session may end with a promotional (free-bet) win that has no stake.
 */

export interface Hub88PlayerOptions {
  /** The casino's id of this vendor account ("hub88"). */
  provider: string;
  operatorId: number;
  /** The casino's Hub88 base address(es): `<gateway>/callbacks/<provider>`. */
  endpoints: readonly string[];
  /** Hub88's private key: signs every call. */
  vendorKey: KeyObject;
  /** The casino's public key: checks every answer. */
  casinoKey: KeyObject;
  retryDelayMs?: readonly [number, number];
  random?: Random;
  betTimeoutMs?: number;
  otherTimeoutMs?: number;
  duplicateRate?: number;
  /** Share of standing bets the game rolls back instead of settling. */
  rollbackRate?: number;
  /** Share of sessions that end with a promotional win. */
  promoRate?: number;
  retries?: number;
  journal?: Journal;
  session?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface Hub88Session {
  id: string;
  user: string;
  /** The casino's session token from the launch. */
  token: string;
  currency: string;
  game: string;
  rounds: number;
  /** Stakes, in minor units. */
  stakes: readonly [bigint, bigint];
  pauseMs: readonly [number, number];
}

/** Hub units per minor unit of `currency`: 10^(5 - exponent). */
export const hubPerMinor = (currency: string) => 10n ** BigInt(5 - exponentOf(currency));

/** RSA-SHA256 of the body's bytes, base64: the X-Hub88-Signature header. */
export const signature = (body: string, key: KeyObject) => sign('sha256', Buffer.from(body, 'utf8'), key).toString('base64');

export const signedBy = (body: string, header: string | null | undefined, key: KeyObject) => {
  try {
    return typeof header === 'string' && verify('sha256', Buffer.from(body, 'utf8'), key, Buffer.from(header, 'base64'));
  } catch {
    return false;
  }
};

function reader(text: string, call: Call): Answer {
  try {
    const body = parseJson(text) as { status?: unknown; balance?: unknown } | null;
    if (typeof body?.status !== 'string' || !body.status.startsWith('RS_')) return { reply: 'garbled' };
    const hub = body.balance instanceof ExactNumber && /^\d+$/.test(body.balance.text) ? BigInt(body.balance.text) : undefined;
    const per = hubPerMinor(call.currency);
    return { reply: body.status as HubStatus, ...(hub !== undefined && hub % per === 0n ? { balance: hub / per } : {}) };
  } catch {
    return { reply: 'garbled' };
  }
}

export class Hub88Player {
  readonly journal: Journal;
  readonly #o: Hub88PlayerOptions;
  readonly #courier: Courier;
  readonly #random: Random;

  constructor(options: Hub88PlayerOptions) {
    this.#o = options;
    this.journal = options.journal ?? new Journal();
    this.#random = options.random ?? Math.random;
    this.#courier = new Courier({
      endpoints: options.endpoints,
      headers: { 'content-type': 'application/json' },
      random: this.#random,
      duplicateRate: options.duplicateRate ?? 0,
      journal: this.journal,
      read: reader,
      sign: (body) => ({ 'x-hub88-signature': signature(body, options.vendorKey) }),
      check: (text, headers) => signedBy(text, headers.get('x-hub88-signature'), options.casinoKey),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  #body(s: Hub88Session, fields: Record<string, unknown>): string {
    return JSON.stringify({ user: s.user, request_uuid: randomUUID(), operator_id: this.#o.operatorId, game_code: s.game, ...fields });
  }

  #amount(minor: bigint, currency: string) {
    return JSON.rawJSON(String(minor * hubPerMinor(currency)));
  }

  #conclude(op: Omit<Operation, 'at'>): Operation {
    const done = this.journal.conclude(op);
    this.#o.log?.(`${this.#o.provider} ${describeOperation(done)}`);
    return done;
  }

  /** A call owed to the player (win, rollback): retried while failing; owed even when never confirmed. */
  async #owed(s: Hub88Session, call: Call & { target?: string }, path: string, body: string, effect: bigint): Promise<Answer> {
    const { answer, settled } = await this.#courier.persist(call, body, this.#o.otherTimeoutMs ?? 4000, this.#o.retries ?? 5, this.#o.retryDelayMs ?? [2000, 4000], path);
    const final = settled ? (isSuccess(answer.reply) ? 'ok' : 'refused') : 'gave_up';
    this.#conclude({ ...call, final, reply: answer.reply, effect: final === 'refused' ? 0n : effect, ...withBalance(answer) });
    return answer;
  }

  async playSession(s: Hub88Session): Promise<SessionReport> {
    const startedAt = new Date();
    const base = { provider: this.#o.provider, session: s.id, player: s.user, currency: s.currency };
    let rounds = 0;
    let ended: SessionEnd = 'completed';
    let balance: bigint | undefined;
    const report = () => sessionReport(this.journal, { id: s.id, provider: this.#o.provider, player: s.user, currency: s.currency, game: s.game, rounds, ended, ...(balance === undefined ? {} : { balance }), startedAt });

    const opening = await this.#courier.deliver({ ...base, call: 'balance', transId: '' }, this.#body(s, { token: s.token }), this.#o.otherTimeoutMs ?? 4000, 0, '/user/balance');
    const first = opening.find((a) => isSuccess(a.reply)) ?? opening[0]!;
    if (!isSuccess(first.reply)) {
      ended = isFailure(first.reply) ? 'failed' : 'refused';
      return report();
    }
    balance = first.balance;

    for (let i = 0; i < s.rounds; i++) {
      if (this.#o.signal?.aborted) {
        ended = 'stopped';
        break;
      }
      if (i > 0) await sleep(between(this.#random, s.pauseMs));
      const room = balance === undefined ? s.stakes[1] : balance < s.stakes[1] ? balance : s.stakes[1];
      if (room < s.stakes[0]) {
        ended = 'broke';
        break;
      }
      const stake = amountBetween(this.#random, s.stakes[0], room);
      const round = randomUUID();
      const betId = randomUUID();
      rounds++;
      const betCall: Call = { ...base, call: 'bet', transId: betId, round, amount: stake };
      const answers = await this.#courier.deliver(
        betCall,
        this.#body(s, { token: s.token, transaction_uuid: betId, supplier_transaction_id: `sim-${betId}`, round, round_closed: false, is_free: false, currency: s.currency, bet: null, amount: this.#amount(stake, s.currency), meta: null }),
        this.#o.betTimeoutMs ?? 2000,
        0,
        '/transaction/bet',
      );
      const answer = answers.find((a) => isSuccess(a.reply)) ?? answers.find((a) => !isFailure(a.reply)) ?? answers[0]!;
      if (answer.balance !== undefined) balance = answer.balance;
      if (!isSuccess(answer.reply)) {
        const failed = isFailure(answer.reply);
        this.#conclude({ ...betCall, final: failed ? 'failed' : 'refused', reply: answer.reply, effect: 0n, ...withBalance(answer) });
        if (failed) {
          // Not known to be taken: rolled back, which refunds it if it was.
          const rollbackId = randomUUID();
          await this.#owed(s, { ...base, call: 'rollback', transId: rollbackId, target: betId, round, amount: 0n }, '/transaction/rollback', this.#body(s, { token: s.token, transaction_uuid: rollbackId, reference_transaction_uuid: betId, round, round_closed: true }), 0n);
          continue;
        }
        ended = answer.reply === 'RS_ERROR_NOT_ENOUGH_MONEY' ? 'broke' : 'refused';
        break;
      }
      this.#conclude({ ...betCall, final: 'ok', reply: answer.reply, effect: -stake, ...withBalance(answer) });

      if (this.#random() < (this.#o.rollbackRate ?? 0.08)) {
        const rollbackId = randomUUID();
        const done = await this.#owed(s, { ...base, call: 'rollback', transId: rollbackId, target: betId, round, amount: stake }, '/transaction/rollback', this.#body(s, { token: s.token, transaction_uuid: rollbackId, reference_transaction_uuid: betId, round, round_closed: true }), stake);
        if (done.balance !== undefined) balance = done.balance;
        continue;
      }
      // Half the rounds are lost: a win of 0 closes them.
      const won = this.#random() < 0.5 ? 0n : (stake * BigInt(50 + Math.floor(this.#random() * 250))) / 100n;
      const winId = randomUUID();
      const paid = await this.#owed(
        s,
        { ...base, call: 'win', transId: winId, round, amount: won },
        '/transaction/win',
        this.#body(s, { token: s.token, transaction_uuid: winId, supplier_transaction_id: `sim-${winId}`, reference_transaction_uuid: betId, round, round_closed: true, is_free: false, currency: s.currency, amount: this.#amount(won, s.currency), meta: null }),
        won,
      );
      if (paid.balance !== undefined) balance = paid.balance;
    }

    if (ended === 'completed' && this.#random() < (this.#o.promoRate ?? 0.3)) {
      // A promotional (free-bet) win: no stake behind it, marked by its reward.
      const prize = s.stakes[0] * BigInt(1 + Math.floor(this.#random() * 5));
      const winId = randomUUID();
      const round = randomUUID();
      const paid = await this.#owed(
        s,
        { ...base, call: 'promo_win', transId: winId, round, amount: prize },
        '/transaction/win',
        this.#body(s, { token: s.token, transaction_uuid: winId, reference_transaction_uuid: randomUUID(), reward_uuid: randomUUID(), is_free: true, round, round_closed: true, currency: s.currency, amount: this.#amount(prize, s.currency), meta: null }),
        prize,
      );
      if (paid.balance !== undefined) balance = paid.balance;
    }
    return report();
  }
}
