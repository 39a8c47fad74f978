import { setTimeout as sleep } from 'node:timers/promises';
import { Courier, withBalance, type Answer } from './courier.ts';
import { isFailure, isSuccess, Journal, type Attempt, type Call, type Final, type Operation, type Reply } from './journal.ts';
import { ExactNumber, jsonUnits, parseJson, parseUnits } from './money.ts';
import { amountBetween, between, type Random } from './random.ts';
import { describeOperation, sessionReport, type SessionEnd, type SessionReport } from './session.ts';

/**
 * A command-dialect vendor calling the casino's wallet (docs/specs/command-dialect.md), the
 * way the vendors behave on the wire: a `bet` is sent once and never retried, and a bet that failed
 * (result 99, a non-200 answer, no answer in time) is followed by a `cancel` of it; `win` and
 * `cancel` are sent once plus up to 3 retries while the answer is a failure, `balance` once plus 2.
 * Time limits: 2 s for bet and balance, 4 s for the rest. Amounts go out as exact decimal JSON
 * numbers in the account's currency. Every attempt and every concluded transaction is journaled,
 * so a test can hold the casino to what it answered.
 */

export type { Attempt, Reply } from './journal.ts';
export { isFailure } from './journal.ts';
export { prng } from './random.ts';

export type Command = 'authenticate' | 'balance' | 'bet' | 'win' | 'cancel';

/** The game context every money call carries. */
export interface Game {
  provider_id: string;
  game_code: string;
  game_name: string;
  game_type: string;
}

export interface Bet {
  player: string;
  transId: string;
  round: string;
  amount: bigint;
  /** Some copy answered 0: for the vendor the bet stands (unless it cancels it). */
  ok: boolean;
  /** The vendor sent a cancel of it (after a failure, or to void the round). */
  cancelled: boolean;
  /** The answer the vendor went by. */
  reply: Reply;
}

export interface Win {
  player: string;
  transId: string;
  round: string;
  amount: bigint;
  /** The answer the vendor settled on, or 'gave_up' after 4 failed attempts. */
  final: Reply | 'gave_up';
  cancelled: boolean;
}

export interface Cancel {
  player: string;
  target: string;
  targetKind: 'bet' | 'win';
  final: Reply | 'gave_up';
}

export interface CommandPlayerOptions {
  /** The casino's id of this vendor account (journal label). */
  provider: string;
  /** The account's Callback-Token. */
  token: string;
  /** The casino's callback URL(s) for this account (several: gateway processes, with fail-over). */
  endpoints: readonly string[];
  /** The account's currency (one account is one currency). */
  currency?: string;
  game?: Game;
  /** The pause before a retry, drawn between these bounds (the real vendors wait 2-4 s). */
  retryDelayMs?: readonly [number, number];
  random?: Random;
  betTimeoutMs?: number;
  otherTimeoutMs?: number;
  /** Share of calls delivered twice at once. */
  duplicateRate?: number;
  /** Where trans_ids come from (shared by every session of a vendor); by default a counter from `firstTransId`. */
  nextTransId?: () => string;
  firstTransId?: number;
  /** Stakes, in minor units, drawn between these bounds. */
  stake?: readonly [bigint, bigint];
  /** Return to player, in percent: the mean of win / stake over many rounds. */
  rtp?: number;
  /** Share of rounds lost (a win of amount 0). */
  lossRate?: number;
  /** Share of standing bets the vendor cancels (a voided round). */
  voidRate?: number;
  /** Share of paid wins the vendor cancels afterwards. */
  winCancelRate?: number;
  journal?: Journal;
  /** The session these calls belong to (journal label). */
  session?: string;
  /** Stops the player: calls in flight are aborted, no retry follows. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Told of every concluded operation (the vendor keeps its own transaction list from them). */
  onOperation?: (op: Operation) => void;
}

const DEFAULTS = {
  currency: 'USD',
  game: { provider_id: 'fault-lab', game_code: 'fl-slot', game_name: 'Fault Lab', game_type: 'slot' },
  retryDelayMs: [2000, 4000] as const,
  random: Math.random,
  betTimeoutMs: 2000,
  otherTimeoutMs: 4000,
  duplicateRate: 0,
  firstTransId: 1_000_000,
  stake: [1n, 500n] as const,
  rtp: 96,
  lossRate: 0.25,
  voidRate: 0.1,
  winCancelRate: 0.1,
};

/** A counter of integer trans_ids; starting from the clock keeps them unique across restarts of a simulator. */
export function transIds(first: number = Date.now() * 1000): () => string {
  let next = first;
  return () => String(next++);
}

/** Reads a command-dialect answer: `result` and, when given, `data.balance`. */
function readAnswer(text: string, call: Call): Answer {
  try {
    const body = parseJson(text) as { result?: unknown; data?: { balance?: unknown } } | null;
    const result = body?.result;
    if (!(result instanceof ExactNumber) || !/^\d{1,9}$/.test(result.text)) return { reply: 'garbled' };
    const balance = body?.data?.balance instanceof ExactNumber ? parseUnits(body.data.balance.text, call.currency) : undefined;
    return { reply: Number(result.text), ...(balance === undefined ? {} : { balance }) };
  } catch {
    return { reply: 'garbled' };
  }
}

export class CommandPlayer {
  readonly journal: Journal;
  readonly bets: Bet[] = [];
  readonly wins: Win[] = [];
  readonly cancels: Cancel[] = [];
  readonly #o: Required<Omit<CommandPlayerOptions, 'session' | 'signal' | 'log' | 'onOperation' | 'journal' | 'nextTransId'>> & Pick<CommandPlayerOptions, 'session' | 'signal' | 'log' | 'onOperation'>;
  readonly #courier: Courier;
  readonly #id: () => string;
  readonly #balances = new Map<string, bigint>();

  constructor(options: CommandPlayerOptions) {
    this.#o = { ...DEFAULTS, ...options };
    this.journal = options.journal ?? new Journal();
    this.#id = options.nextTransId ?? transIds(this.#o.firstTransId);
    this.#courier = new Courier({
      endpoints: options.endpoints,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'callback-token': options.token },
      random: this.#o.random,
      duplicateRate: this.#o.duplicateRate,
      journal: this.journal,
      read: readAnswer,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  /** The journal's attempts (every vendor's, when the journal is shared). */
  get attempts(): Attempt[] {
    return this.journal.attempts;
  }

  /** Milliseconds since the journal was created (the clock of `Attempt.at`). */
  now(): number {
    return this.journal.now();
  }

  inFlight(): number {
    return this.#courier.inFlight();
  }

  down(): string[] {
    return this.#courier.down();
  }

  /** The last balance the casino answered for the player, in minor units. */
  balanceOf(player: string): bigint | undefined {
    return this.#balances.get(player);
  }

  async authenticate(player: string): Promise<Answer> {
    const call = this.#call('authenticate', player, '');
    const answers = await this.#courier.deliver(call, this.#body('authenticate', { account: player }, '21'), this.#o.otherTimeoutMs, 0);
    const answer = answers.find((a) => isSuccess(a.reply)) ?? answers[0]!;
    this.#seen(player, answer);
    return answer;
  }

  /** Once plus 2 retries while the answer is a failure. */
  async balance(player: string): Promise<Answer> {
    const call = this.#call('balance', player, '');
    const { answer } = await this.#courier.persist(call, this.#body('balance', { account: player }, '21,22'), this.#o.betTimeoutMs, 2, this.#o.retryDelayMs);
    this.#seen(player, answer);
    return answer;
  }

  /** One round as the vendor plays it: a bet, then (if it stood) a void or a win, sometimes a cancel of the win. */
  async playRound(player: string, o: { rtp?: number; cap?: bigint } = {}): Promise<{ bet: Bet; win?: Win }> {
    const r = this.#o.random;
    const [min, max] = this.#o.stake;
    const transId = this.#id();
    const round = `r${transId}`;
    const stake = amountBetween(r, min, o.cap !== undefined && o.cap < max ? o.cap : max);
    const bet = await this.bet(player, transId, round, stake);
    if (!bet.ok) return { bet };
    if (r() < this.#o.voidRate) {
      await this.cancel(player, bet.transId, round, 'bet', bet);
      return { bet };
    }
    const win = await this.win(player, this.#id(), round, r() < this.#o.lossRate ? 0n : this.#winFor(stake, o.rtp ?? this.#o.rtp));
    if (r() < this.#o.winCancelRate && (win.final === 0 || win.final === 41)) await this.cancel(player, win.transId, round, 'win');
    return { bet, win };
  }

  async bet(player: string, transId: string, round: string, amount: bigint): Promise<Bet> {
    const call = this.#call('bet', player, transId, round, amount);
    const answers = await this.#courier.deliver(call, this.#body('bet', this.#money(player, transId, round, amount, 1), '21,22,41,31'), this.#o.betTimeoutMs, 0);
    for (const a of answers) this.#seen(player, a);
    // Any success stands the bet; otherwise any failure (even beside a definite answer of the other copy) calls for a cancel.
    const success = answers.find((a) => isSuccess(a.reply));
    const failure = success ? undefined : answers.find((a) => isFailure(a.reply));
    const failed = failure !== undefined;
    const answer = success ?? failure ?? answers[0]!;
    const bet: Bet = { player, transId, round, amount, ok: success !== undefined, cancelled: false, reply: answer.reply };
    this.bets.push(bet);
    this.#conclude({ ...call, final: success ? 'ok' : failed ? 'failed' : 'refused', reply: answer.reply, effect: success ? -amount : 0n, ...withBalance(answer) });
    // Never retried: a bet without a success answer, failed or unanswered, is cancelled.
    if (failed) await this.cancel(player, transId, round, 'bet', bet);
    return bet;
  }

  async win(player: string, transId: string, round: string, amount: bigint): Promise<Win> {
    const call = this.#call('win', player, transId, round, amount);
    const { answer, settled } = await this.#courier.persist(call, this.#body('win', this.#money(player, transId, round, amount, 2), '21,22,41'), this.#o.otherTimeoutMs, 3, this.#o.retryDelayMs);
    this.#seen(player, answer);
    // 41 is "already processed": a retry (or the other copy) of a win that was applied.
    const paid = !settled || answer.reply === 0 || answer.reply === 41;
    const win: Win = { player, transId, round, amount, final: settled ? answer.reply : 'gave_up', cancelled: false };
    this.wins.push(win);
    this.#conclude({ ...call, final: settled ? (paid ? 'ok' : 'refused') : 'gave_up', reply: answer.reply, effect: paid ? amount : 0n, ...withBalance(answer) });
    return win;
  }

  async cancel(player: string, target: string, round: string, targetKind: 'bet' | 'win', bet?: Bet): Promise<Cancel> {
    const b = targetKind === 'bet' ? (bet ?? this.bets.find((x) => x.transId === target)) : undefined;
    const w = targetKind === 'win' ? this.wins.find((x) => x.transId === target) : undefined;
    if (b) b.cancelled = true;
    if (w) w.cancelled = true;
    const data = { account: player, trans_id: JSON.rawJSON(target), round_id: round, ...this.#o.game };
    const call = this.#call('cancel', player, target, round, b?.amount ?? w?.amount);
    const { answer, settled } = await this.#courier.persist(call, this.#body('cancel', data, '21,22,42'), this.#o.otherTimeoutMs, 3, this.#o.retryDelayMs);
    this.#seen(player, answer);
    this.cancels.push({ player, target, targetKind, final: settled ? answer.reply : 'gave_up' });

    // What the cancel undoes, as far as the vendor knows: a standing bet is refunded, a paid win taken back.
    const acknowledged = b ? b.ok : w !== undefined && (w.final === 0 || w.final === 41);
    const standing = !acknowledged ? 0n : b ? -b.amount : w!.amount;
    const done = !settled || answer.reply === 0;
    if (settled && answer.reply === 42 && acknowledged) {
      this.journal.flag(`${this.#o.provider}: cancel of ${targetKind} ${target} of ${player}, acknowledged before, answered 42 (not found)`);
    }
    // 42 for a bet the casino never took is the settled answer: nothing to give back.
    const final: Final = !settled ? 'gave_up' : done || (answer.reply === 42 && !acknowledged) ? 'ok' : 'refused';
    this.#conclude({ ...call, target, final, reply: answer.reply, effect: done ? -standing : 0n, ...withBalance(answer) });
    return this.cancels.at(-1)!;
  }

  /**
   * A player's session: authenticate, balance, then `rounds` rounds (a stake never above the last
   * balance answered), pausing `pauseMs` between rounds.
   */
  async playSession(player: string, o: { id: string; rounds: number; rtp?: number; pauseMs?: readonly [number, number] }): Promise<SessionReport> {
    const startedAt = new Date();
    const end = (ended: SessionEnd, rounds: number) => {
      const balance = this.#balances.get(player);
      return sessionReport(this.journal, { id: o.id, provider: this.#o.provider, player, currency: this.#o.currency, game: this.#o.game.game_code, rounds, ended, startedAt, ...(balance === undefined ? {} : { balance }) });
    };
    const auth = await this.authenticate(player);
    if (!isSuccess(auth.reply)) return end(isFailure(auth.reply) ? (auth.reply === 'aborted' ? 'stopped' : 'failed') : 'refused', 0);
    await this.balance(player);
    for (let played = 0; played < o.rounds; played++) {
      if (this.#o.signal?.aborted) return end('stopped', played);
      const cap = this.#balances.get(player);
      if (cap !== undefined && cap < this.#o.stake[0]) return end('broke', played);
      const { bet } = await this.playRound(player, { ...(o.rtp === undefined ? {} : { rtp: o.rtp }), ...(cap === undefined ? {} : { cap }) });
      if (!bet.ok && !isFailure(bet.reply)) return end(bet.reply === 31 ? 'broke' : 'refused', played + 1);
      if (o.pauseMs && o.pauseMs[1] > 0) {
        try {
          await sleep(between(this.#o.random, o.pauseMs), undefined, this.#o.signal ? { signal: this.#o.signal } : {});
        } catch {
          return end('stopped', played + 1);
        }
      }
    }
    return end('completed', o.rounds);
  }

  /** A win drawn so that, over many rounds, wins / stakes tends to `rtp` percent. */
  #winFor(stake: bigint, rtp: number): bigint {
    const ceiling = (2 * rtp * 100) / (1 - this.#o.lossRate); // basis points of the stake
    return (stake * BigInt(Math.floor(this.#o.random() * ceiling))) / 10_000n;
  }

  #money(player: string, transId: string, round: string, amount: bigint, type: number) {
    return { account: player, trans_id: JSON.rawJSON(transId), call_id: 0, round_id: round, ...this.#o.game, amount: jsonUnits(amount, this.#o.currency), type };
  }

  #body(command: Command, data: Record<string, unknown>, check: string): string {
    return JSON.stringify({ command, data, timestamp: String(Math.floor(Date.now() / 1000)), check });
  }

  #call(call: Command, player: string, transId: string, round?: string, amount?: bigint): Call {
    return {
      provider: this.#o.provider,
      ...(this.#o.session === undefined ? {} : { session: this.#o.session }),
      call,
      player,
      currency: this.#o.currency,
      transId,
      ...(round === undefined ? {} : { round }),
      ...(amount === undefined ? {} : { amount }),
    };
  }

  #seen(player: string, answer: Answer): void {
    if (answer.balance !== undefined) this.#balances.set(player, answer.balance);
  }

  #conclude(op: Omit<Operation, 'at'>): void {
    const done = this.journal.conclude(op);
    this.#o.onOperation?.(done);
    this.#o.log?.(`${this.#o.provider} ${describeOperation(done)}`);
  }
}

/**
 * Runs `streams` concurrent sequences of rounds per player, until `stop()` says so (bounded by
 * `maxRounds` each). Sequences start at random moments within `rampMs`, as players do.
 */
export async function playStreams(
  player: CommandPlayer,
  players: readonly string[],
  streams: number,
  maxRounds: number,
  stop: () => boolean,
  rampMs = 0,
  random: Random = Math.random,
): Promise<number> {
  let rounds = 0;
  await Promise.all(
    players.flatMap((name) =>
      Array.from({ length: streams }, async () => {
        if (rampMs > 0) await sleep(random() * rampMs);
        for (let i = 0; i < maxRounds && !stop(); i++) {
          await player.playRound(name);
          rounds++;
        }
      }),
    ),
  );
  return rounds;
}
