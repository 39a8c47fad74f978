import { setTimeout as sleep } from 'node:timers/promises';
import { decrypt, encrypt } from './aes.ts';
import { Courier, withBalance, type Answer } from './courier.ts';
import { isFailure, isSuccess, Journal, type Call, type EventCode, type Operation } from './journal.ts';
import { ExactNumber, jsonUnits, parseJson, parseUnits } from './money.ts';
import { amountBetween, between, shuffle, type Random } from './random.ts';
import { describeOperation, sessionReport, type SessionEnd, type SessionReport } from './session.ts';

/**
 * An event-dialect (DOWINN-style) vendor calling the casino's webhook
 * (docs/specs/event-dialect.md): envelopes `{transaction_id, event_type, timestamp,
 * feedback_data, user_id, data}` encrypted with AES-256-ECB under the API key, answered with
 * encrypted `{code: R0..R4, latest_balance}`. Rounds of baccarat on a table: a bet of 1-3 lines,
 * sometimes a cancel of some lines, the result, sometimes a result change. A bet is never retried:
 * one that failed (R1, a non-200 answer, no answer in time) is followed by a bet_cancel of its
 * lines; cancels, results and result changes are retried with the same transaction_id while the
 * answer is a failure, up to 3 times.
 */

export type EventType = 'login' | 'logout' | 'bet' | 'bet_cancel' | 'bet_result' | 'result_change';

/** The lobby's betting limits per bet line, in minor units. */
export interface Limits {
  min: bigint;
  max: bigint;
}

export interface Line {
  index: number;
  type: BetType;
  amount: bigint;
}

type BetType = 'Player' | 'Banker' | 'Tie' | 'PlayerPair' | 'BankerPair';
const BET_TYPES: readonly BetType[] = ['Player', 'Banker', 'Tie', 'PlayerPair', 'BankerPair'];

/** A baccarat coup: who won, the pairs, and the detail string the vendor sends. */
interface Coup {
  result: 'P' | 'B' | 'T';
  playerPair: boolean;
  bankerPair: boolean;
  detail: string;
}

export interface EventPlayerOptions {
  /** The casino's id of this vendor account (journal label). */
  provider: string;
  apiId: string;
  /** The API key: the Api-Key header and, as 32 UTF-8 bytes, the AES-256 key. */
  apiKey: string;
  /** The casino's webhook URL(s) for this account. */
  endpoints: readonly string[];
  retryDelayMs?: readonly [number, number];
  random?: Random;
  betTimeoutMs?: number;
  otherTimeoutMs?: number;
  duplicateRate?: number;
  /** Where transaction ids come from (shared by every session of a vendor). */
  nextTransactionId?: () => string;
  /** Where a table's game numbers come from (shared by every session of a vendor). */
  nextGame?: (table: string) => string;
  /** Share of standing bets of which some lines are cancelled before the result. */
  lineCancelRate?: number;
  /** Share of settled rounds whose result is changed afterwards. */
  resultChangeRate?: number;
  feedbackData?: string;
  journal?: Journal;
  session?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Told of every concluded operation (the vendor keeps its own transaction list from them). */
  onOperation?: (op: Operation) => void;
}

const DEFAULTS = {
  retryDelayMs: [2000, 4000] as const,
  random: Math.random,
  betTimeoutMs: 2000,
  otherTimeoutMs: 4000,
  duplicateRate: 0,
  lineCancelRate: 0.1,
  resultChangeRate: 0.05,
  feedbackData: 'SIMULATOR',
};

/** Transaction ids in the vendor's style ("2_<agent>_<ms>_<n>"): unique across restarts. */
export function transactionIds(apiId: string): () => string {
  let next = 0;
  const started = Date.now();
  return () => `2_${apiId}_${started}_${++next}`;
}

/** Game numbers per table, from the clock: a new simulator never reuses a round of an earlier one. */
export function gameNumbers(): (table: string) => string {
  const next = new Map<string, number>();
  return (table) => {
    const n = next.get(table) ?? Date.now();
    next.set(table, n + 1);
    return String(n);
  };
}

/** Reads an encrypted answer: its code and, when given, latest_balance. */
function reader(apiKey: string) {
  return (text: string, call: Call): Answer => {
    try {
      const body = parseJson(decrypt(apiKey, text)) as { code?: unknown; latest_balance?: unknown } | null;
      const code = body?.code;
      if (typeof code !== 'string' || !/^R[0-4]$/.test(code)) return { reply: 'garbled' };
      const balance = body?.latest_balance instanceof ExactNumber ? parseUnits(body.latest_balance.text, call.currency) : undefined;
      return { reply: code as EventCode, ...(balance === undefined ? {} : { balance }) };
    } catch {
      return { reply: 'garbled' };
    }
  };
}

export class EventPlayer {
  readonly journal: Journal;
  readonly #o: Required<Omit<EventPlayerOptions, 'session' | 'signal' | 'log' | 'onOperation' | 'journal' | 'nextTransactionId' | 'nextGame'>> & Pick<EventPlayerOptions, 'session' | 'signal' | 'log' | 'onOperation'>;
  readonly #courier: Courier;
  readonly #id: () => string;
  readonly #game: (table: string) => string;
  readonly #balances = new Map<string, bigint>();

  constructor(options: EventPlayerOptions) {
    this.#o = { ...DEFAULTS, ...options };
    this.journal = options.journal ?? new Journal();
    this.#id = options.nextTransactionId ?? transactionIds(options.apiId);
    this.#game = options.nextGame ?? gameNumbers();
    this.#courier = new Courier({
      endpoints: options.endpoints,
      headers: { 'content-type': 'text/plain', 'api-id': options.apiId, 'api-key': options.apiKey },
      random: this.#o.random,
      duplicateRate: this.#o.duplicateRate,
      journal: this.journal,
      read: reader(options.apiKey),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  balanceOf(user: string): bigint | undefined {
    return this.#balances.get(user);
  }

  /** The dialect names no time limits: a bet gets the command dialect's 2 s, everything else its 4 s. */
  async login(user: string, currency: string): Promise<Answer> {
    return this.#session('login', user, currency);
  }

  async logout(user: string, currency: string): Promise<Answer> {
    return this.#session('logout', user, currency);
  }

  /**
   * One round on `table`: a bet of 1-3 lines within the limits (their total never above `cap`);
   * undefined when no bet fits.
   */
  async playRound(user: string, o: { currency: string; table: string; limits: Limits; cap?: bigint }): Promise<{ bet: Operation } | undefined> {
    const r = this.#o.random;
    const lo = o.limits.min > 0n ? o.limits.min : 1n;
    const top = (count: number) => {
      let hi = o.limits.max < lo * 10n ? o.limits.max : lo * 10n;
      if (o.cap !== undefined && o.cap / BigInt(count) < hi) hi = o.cap / BigInt(count);
      return hi;
    };
    let count = 1 + Math.floor(r() * 3);
    if (top(count) < lo) count = 1;
    const hi = top(count);
    if (hi < lo) return undefined;
    const types = shuffle(r, BET_TYPES).slice(0, count);
    const lines: Line[] = types.map((type, i) => ({ index: i + 1, type, amount: amountBetween(r, lo, hi) }));
    const round = { currency: o.currency, game_type: 'BAC', table_no: o.table, game_no: this.#game(o.table) };

    const bet = await this.bet(user, round, lines);
    if (bet.final === 'failed') {
      await this.cancel(user, round, lines, false);
      return { bet };
    }
    if (bet.final !== 'ok') return { bet };
    let standing = lines;
    if (r() < this.#o.lineCancelRate) {
      const cancelled = lines.filter(() => r() < 0.5);
      const named = cancelled.length ? cancelled : [lines[0]!];
      await this.cancel(user, round, named, true);
      standing = lines.filter((l) => !named.includes(l));
    }
    if (standing.length === 0) return { bet };
    const coup = this.#coup();
    const result = await this.result(user, round, standing, coup);
    if (result.final === 'ok' && r() < this.#o.resultChangeRate) {
      let changed = this.#coup();
      for (let i = 0; i < 10 && totalWinloss(standing, changed) === totalWinloss(standing, coup); i++) changed = this.#coup();
      await this.resultChange(user, round, standing, coup, changed);
    }
    return { bet };
  }

  async bet(user: string, round: Round, lines: readonly Line[]): Promise<Operation> {
    const total = sum(lines);
    const data = { ...round, total_bet_amount: jsonUnits(total, round.currency), bets: lines.map((l) => this.#line(l, round.currency)) };
    const { call, body } = this.#event('bet', user, round.currency, data, total);
    const answers = await this.#courier.deliver(call, body, this.#o.betTimeoutMs, 0);
    for (const a of answers) this.#seen(user, a);
    const success = answers.find((a) => isSuccess(a.reply));
    const failure = success ? undefined : answers.find((a) => isFailure(a.reply));
    const failed = failure !== undefined;
    const answer = success ?? failure ?? answers[0]!;
    return this.#conclude({ ...call, final: success ? 'ok' : failed ? 'failed' : 'refused', reply: answer.reply, effect: success ? -total : 0n, ...withBalance(answer) });
  }

  /** A bet_cancel of `lines`; `standing`: the bet carrying them was acknowledged, so the cancel refunds them. */
  async cancel(user: string, round: Round, lines: readonly Line[], standing: boolean): Promise<Operation> {
    const total = sum(lines);
    const data = { ...round, total_bet_cancel_amount: jsonUnits(total, round.currency), bet_cancels: lines.map((l) => this.#line(l, round.currency)) };
    return this.#owed('bet_cancel', user, round, data, total, standing ? total : 0n);
  }

  async result(user: string, round: Round, lines: readonly Line[], coup: Coup): Promise<Operation> {
    const totalBet = sum(lines);
    const winloss = totalWinloss(lines, coup);
    const data = {
      ...round,
      total_bet_amount: jsonUnits(totalBet, round.currency),
      total_winloss: jsonUnits(winloss, round.currency),
      result: coup.result,
      result_detail: coup.detail,
      bet_results: lines.map((l) => ({ ...this.#line(l, round.currency), winloss: jsonUnits(lineWinloss(l, coup), round.currency) })),
    };
    const paid = totalBet + winloss;
    return this.#owed('bet_result', user, round, data, paid, paid);
  }

  async resultChange(user: string, round: Round, lines: readonly Line[], before: Coup, after: Coup): Promise<Operation> {
    const totalBet = sum(lines);
    const winloss = totalWinloss(lines, after);
    const winlossBefore = totalWinloss(lines, before);
    const data = {
      ...round,
      total_bet_amount: jsonUnits(totalBet, round.currency),
      total_winloss: jsonUnits(winloss, round.currency),
      total_winloss_before: jsonUnits(winlossBefore, round.currency),
      result: after.result,
      result_before: before.result,
      result_detail: after.detail,
      result_detail_before: before.detail,
      bet_results: lines.map((l) => ({
        ...this.#line(l, round.currency),
        winloss: jsonUnits(lineWinloss(l, after), round.currency),
        winloss_before: jsonUnits(lineWinloss(l, before), round.currency),
      })),
    };
    return this.#owed('result_change', user, round, data, totalBet + winloss, winloss - winlossBefore);
  }

  /**
   * A session at a table: login, then `rounds` rounds (stakes never above the last balance
   * answered), then logout.
   */
  async playSession(
    user: string,
    o: { id: string; rounds: number; currency: string; table: string; limits: Limits; pauseMs?: readonly [number, number] },
  ): Promise<SessionReport> {
    const startedAt = new Date();
    let played = 0;
    const end = async (ended: SessionEnd, loggedIn = true) => {
      if (loggedIn && !this.#o.signal?.aborted) await this.logout(user, o.currency);
      const balance = this.#balances.get(user);
      return sessionReport(this.journal, { id: o.id, provider: this.#o.provider, player: user, currency: o.currency, game: o.table, rounds: played, ended, startedAt, ...(balance === undefined ? {} : { balance }) });
    };
    const login = await this.login(user, o.currency);
    if (!isSuccess(login.reply)) return end(login.reply === 'aborted' ? 'stopped' : isFailure(login.reply) ? 'failed' : 'refused', false);
    for (; played < o.rounds; ) {
      if (this.#o.signal?.aborted) return end('stopped');
      const cap = this.#balances.get(user);
      const round = await this.playRound(user, { currency: o.currency, table: o.table, limits: o.limits, ...(cap === undefined ? {} : { cap }) });
      if (!round) return end('broke');
      played++;
      const { bet } = round;
      if (bet.final === 'refused') return end(bet.reply === 'R4' ? 'broke' : 'refused');
      if (o.pauseMs && o.pauseMs[1] > 0) {
        try {
          await sleep(between(this.#o.random, o.pauseMs), undefined, this.#o.signal ? { signal: this.#o.signal } : {});
        } catch {
          return end('stopped');
        }
      }
    }
    return end('completed');
  }

  /** Money owed to the player: retried while the answer is a failure; counts unless refused outright. */
  async #owed(type: EventType, user: string, round: Round, data: Record<string, unknown>, amount: bigint, effect: bigint): Promise<Operation> {
    const { call, body } = this.#event(type, user, round.currency, data, amount);
    const { answer, settled } = await this.#courier.persist(call, body, this.#o.otherTimeoutMs, 3, this.#o.retryDelayMs);
    this.#seen(user, answer);
    const counts = !settled || isSuccess(answer.reply);
    return this.#conclude({ ...call, final: !settled ? 'gave_up' : counts ? 'ok' : 'refused', reply: answer.reply, effect: counts ? effect : 0n, ...withBalance(answer) });
  }

  async #session(type: 'login' | 'logout', user: string, currency: string): Promise<Answer> {
    const { call, body } = this.#event(type, user, currency);
    const answers = await this.#courier.deliver(call, body, this.#o.otherTimeoutMs, 0);
    const answer = answers.find((a) => isSuccess(a.reply)) ?? answers[0]!;
    this.#seen(user, answer);
    return answer;
  }

  #event(type: EventType, user: string, currency: string, data?: Record<string, unknown>, amount?: bigint): { call: Call; body: string } {
    const transactionId = this.#id();
    const envelope = {
      transaction_id: transactionId,
      event_type: type,
      timestamp: Math.floor(Date.now() / 1000),
      feedback_data: this.#o.feedbackData,
      user_id: user,
      ...(data === undefined ? {} : { data }),
    };
    const round = data && typeof data.table_no === 'string' ? `${data.table_no}:${String(data.game_no)}` : undefined;
    const call: Call = {
      provider: this.#o.provider,
      ...(this.#o.session === undefined ? {} : { session: this.#o.session }),
      call: type,
      player: user,
      currency,
      transId: transactionId,
      ...(round === undefined ? {} : { round }),
      ...(amount === undefined ? {} : { amount }),
    };
    return { call, body: encrypt(this.#o.apiKey, JSON.stringify(envelope)) };
  }

  #line(l: Line, currency: string) {
    return { bet_index: l.index, bet_type: l.type, bet_amount: jsonUnits(l.amount, currency) };
  }

  #coup(): Coup {
    const r = this.#o.random;
    const x = r();
    const result = x < 0.4586 ? 'B' : x < 0.4586 + 0.4462 ? 'P' : 'T';
    const winner = 1 + Math.floor(r() * 9);
    const loser = Math.floor(r() * winner);
    const [player, banker] = result === 'T' ? [winner - 1, winner - 1] : result === 'P' ? [winner, loser] : [loser, winner];
    const coup = { result, playerPair: r() < 0.0747, bankerPair: r() < 0.0747 } as const;
    return { ...coup, detail: JSON.stringify({ player_score: player, banker_score: banker, player_pair: coup.playerPair, banker_pair: coup.bankerPair }) };
  }

  #seen(user: string, answer: Answer): void {
    if (answer.balance !== undefined) this.#balances.set(user, answer.balance);
  }

  #conclude(op: Omit<Operation, 'at'>): Operation {
    const done = this.journal.conclude(op);
    this.#o.onOperation?.(done);
    this.#o.log?.(`${this.#o.provider} ${describeOperation(done)}`);
    return done;
  }
}

interface Round {
  currency: string;
  game_type: string;
  table_no: string;
  game_no: string;
}

const sum = (lines: readonly Line[]) => lines.reduce((total, l) => total + l.amount, 0n);

/** A line's net result: its win (banker pays 95%, tie 8:1, pairs 11:1), 0 for a push, minus its stake when lost. */
function lineWinloss(line: Line, coup: Coup): bigint {
  const a = line.amount;
  switch (line.type) {
    case 'Player':
      return coup.result === 'P' ? a : coup.result === 'B' ? -a : 0n;
    case 'Banker':
      return coup.result === 'B' ? (a * 95n) / 100n : coup.result === 'P' ? -a : 0n;
    case 'Tie':
      return coup.result === 'T' ? 8n * a : -a;
    case 'PlayerPair':
      return coup.playerPair ? 11n * a : -a;
    case 'BankerPair':
      return coup.bankerPair ? 11n * a : -a;
  }
}

const totalWinloss = (lines: readonly Line[], coup: Coup) => lines.reduce((total, l) => total + lineWinloss(l, coup), 0n);
