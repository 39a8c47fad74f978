/**
 * A simulated command-dialect vendor (../shared/specs/command-dialect.md), the way the vendors
 * behave on the wire: a `bet` is sent once and never retried, and a bet that failed (result 99, a
 * non-200 answer, no answer in time) is followed by a `cancel` of it; `win` and `cancel` are sent
 * once plus up to 3 retries while the answer is a failure. Time limits: 2 s for a bet, 4 s for the
 * rest. Every attempt is logged with its answer, so a test can hold the gateway to what it answered.
 *
 * Several gateway processes may serve one vendor (behind a load balancer): each call goes to one of
 * them, a process that refused the connection is left out of the next calls (fail-over), and with
 * `duplicateRate` some calls are sent twice at once, to two different processes.
 */

export type Command = 'bet' | 'win' | 'cancel';

/** A command-dialect result code, or how the call failed without one. */
export type Reply = number | 'timeout' | 'network' | 'http' | 'garbled';

/** A failure answer: the vendor treats the call as not done (retries a win/cancel, cancels a bet). */
export const isFailure = (reply: Reply) => typeof reply !== 'number' || reply === 99;

export interface Attempt {
  command: Command;
  player: string;
  /** trans_id of the call (for a cancel: of the transaction it cancels). */
  transId: string;
  /** Minor units (bet and win). */
  amount?: bigint;
  endpoint: string;
  reply: Reply;
  ms: number;
  /** 0 for the first send, 1..3 for the vendor's retries. */
  retry: number;
  /** 0, or 1 for the second copy of a duplicated call. */
  copy: number;
  /** Time the attempt started (ms since the vendor was created). */
  at: number;
}

export interface Bet {
  player: string;
  transId: string;
  round: string;
  amount: bigint;
  /** Some copy answered 0: for the vendor the bet stands (unless it cancels the round). */
  ok: boolean;
  /** The vendor sent a cancel of it (after a failure, or to void the round). */
  cancelled: boolean;
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

export interface VendorOptions {
  provider: string;
  token: string;
  endpoints: readonly string[];
  /** The pause before a retry, drawn between these bounds (the real vendors wait 2-4 s). */
  retryDelayMs: readonly [number, number];
  random: () => number;
  betTimeoutMs?: number;
  otherTimeoutMs?: number;
  duplicateRate?: number;
  firstTransId?: number;
}

const GAME = { call_id: 0, provider_id: 'fault-lab', game_code: 'fl-slot', game_name: 'Fault Lab', game_type: 'slot' };
const TIMESTAMP = '1700000000';
/** Minor units (cents) as the vendor's JSON number: exact for two-decimal values. */
const units = (minor: bigint) => Number(minor) / 100;

/** A small deterministic PRNG, so a failing run can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export class Vendor {
  readonly attempts: Attempt[] = [];
  readonly bets: Bet[] = [];
  readonly wins: Win[] = [];
  readonly cancels: Cancel[] = [];
  readonly #o: Required<VendorOptions>;
  readonly #down = new Set<string>();
  readonly #epoch = performance.now();
  #next: number;
  #turn = 0;
  #inFlight = 0;

  constructor(options: VendorOptions) {
    this.#o = { betTimeoutMs: 2000, otherTimeoutMs: 4000, duplicateRate: 0, firstTransId: 1_000_000, ...options };
    this.#next = this.#o.firstTransId;
  }

  /** Milliseconds since the vendor was created (the clock of `Attempt.at`). */
  now(): number {
    return performance.now() - this.#epoch;
  }

  /** Calls still waiting for an answer. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Processes left out after refusing a connection. */
  down(): string[] {
    return [...this.#down];
  }

  /** One round as the vendor plays it: a bet, then (if it stood) a win or a void, sometimes a cancel of the win. */
  async playRound(player: string): Promise<void> {
    const r = this.#o.random;
    const transId = this.#id();
    const round = `fr-${transId}`;
    const bet = await this.bet(player, transId, round, 1n + BigInt(Math.floor(r() * 500)));
    if (!bet.ok) return;
    const roll = r();
    if (roll < 0.1) {
      await this.cancel(player, bet.transId, round, 'bet');
      return;
    }
    const amount = r() < 0.25 ? 0n : BigInt(Math.floor(r() * 1000));
    const win = await this.win(player, this.#id(), round, amount);
    if (roll > 0.9 && win.final !== 'gave_up' && !isFailure(win.final)) await this.cancel(player, win.transId, round, 'win');
  }

  async bet(player: string, transId: string, round: string, amount: bigint): Promise<Bet> {
    const body = { command: 'bet', data: { account: player, trans_id: Number(transId), round_id: round, ...GAME, amount: units(amount), type: 1 }, timestamp: TIMESTAMP, check: '21,22,41,31' };
    const replies = await this.#send('bet', player, transId, amount, body, 0);
    const bet: Bet = { player, transId, round, amount, ok: replies.includes(0), cancelled: false };
    this.bets.push(bet);
    // Never retried: a bet without a success answer, failed or unanswered, is cancelled.
    if (!bet.ok && replies.some(isFailure)) {
      bet.cancelled = true;
      await this.cancel(player, transId, round, 'bet', bet);
    }
    return bet;
  }

  async win(player: string, transId: string, round: string, amount: bigint): Promise<Win> {
    const body = { command: 'win', data: { account: player, trans_id: Number(transId), round_id: round, ...GAME, amount: units(amount), type: 2 }, timestamp: TIMESTAMP, check: '21,22,41' };
    const win: Win = { player, transId, round, amount, final: await this.#withRetries('win', player, transId, amount, body), cancelled: false };
    this.wins.push(win);
    return win;
  }

  async cancel(player: string, target: string, round: string, targetKind: 'bet' | 'win', bet?: Bet): Promise<Cancel> {
    if (targetKind === 'bet') {
      const b = bet ?? this.bets.find((x) => x.transId === target);
      if (b) b.cancelled = true;
    } else {
      const w = this.wins.find((x) => x.transId === target);
      if (w) w.cancelled = true;
    }
    const body = { command: 'cancel', data: { account: player, trans_id: Number(target), round_id: round, ...GAME }, timestamp: TIMESTAMP, check: '21,22,42' };
    const cancel: Cancel = { player, target, targetKind, final: await this.#withRetries('cancel', player, target, undefined, body) };
    this.cancels.push(cancel);
    return cancel;
  }

  /** Once plus 3 retries while the answer is a failure; the answer settled on, or 'gave_up'. */
  async #withRetries(command: Command, player: string, transId: string, amount: bigint | undefined, body: unknown): Promise<Reply | 'gave_up'> {
    for (let retry = 0; retry <= 3; retry++) {
      if (retry > 0) {
        const [min, max] = this.#o.retryDelayMs;
        await new Promise((resolve) => setTimeout(resolve, min + this.#o.random() * (max - min)));
      }
      const replies = await this.#send(command, player, transId, amount, body, retry);
      const settled = replies.filter((reply) => !isFailure(reply));
      if (settled.length) return settled.includes(0) ? 0 : settled[0]!;
    }
    return 'gave_up';
  }

  /** Sends one call (to one process, or as a duplicate to two), logging each copy's answer. */
  async #send(command: Command, player: string, transId: string, amount: bigint | undefined, body: unknown, retry: number): Promise<Reply[]> {
    const alive = this.#o.endpoints.filter((e) => !this.#down.has(e));
    if (alive.length === 0) {
      this.attempts.push({ command, player, transId, amount, endpoint: '', reply: 'network', ms: 0, retry, copy: 0, at: performance.now() - this.#epoch });
      return ['network'];
    }
    const first = this.#turn++ % alive.length;
    const copies = alive.length > 1 && this.#o.random() < this.#o.duplicateRate ? 2 : 1;
    const targets = Array.from({ length: copies }, (_, i) => alive[(first + i) % alive.length]!);
    const timeout = command === 'bet' ? this.#o.betTimeoutMs : this.#o.otherTimeoutMs;
    const text = JSON.stringify(body);
    return Promise.all(
      targets.map(async (endpoint, copy) => {
        const at = performance.now() - this.#epoch;
        const { reply, ms, refused } = await this.#post(endpoint, text, timeout);
        // A refused connection: that process is gone; the next calls go to the others.
        if (refused) this.#down.add(endpoint);
        this.attempts.push({ command, player, transId, amount, endpoint, reply, ms, retry, copy, at });
        return reply;
      }),
    );
  }

  async #post(endpoint: string, body: string, timeoutMs: number): Promise<{ reply: Reply; ms: number; refused?: boolean }> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    this.#inFlight++;
    try {
      const res = await fetch(`${endpoint}/callbacks/${this.#o.provider}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'callback-token': this.#o.token },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      if (res.status !== 200) return { reply: 'http', ms: ms() };
      try {
        const result = (JSON.parse(text) as { result?: unknown }).result;
        return { reply: typeof result === 'number' ? result : 'garbled', ms: ms() };
      } catch {
        return { reply: 'garbled', ms: ms() };
      }
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') return { reply: 'timeout', ms: ms() };
      const code = ((error as { cause?: { code?: unknown } }).cause?.code ?? '') as string;
      return { reply: 'network', ms: ms(), refused: code === 'ECONNREFUSED' };
    } finally {
      this.#inFlight--;
    }
  }

  #id(): string {
    return String(this.#next++);
  }
}

/**
 * Runs `streams` concurrent vendor sessions per player, round after round, until `stop()` says so
 * (bounded by `maxRounds` each). Sessions start at random moments within `rampMs`, as players do.
 */
export async function playStreams(
  vendor: Vendor,
  players: readonly string[],
  streams: number,
  maxRounds: number,
  stop: () => boolean,
  rampMs = 0,
  random: () => number = Math.random,
): Promise<number> {
  let rounds = 0;
  await Promise.all(
    players.flatMap((player) =>
      Array.from({ length: streams }, async () => {
        if (rampMs > 0) await new Promise((resolve) => setTimeout(resolve, random() * rampMs));
        for (let i = 0; i < maxRounds && !stop(); i++) {
          await vendor.playRound(player);
          rounds++;
        }
      }),
    ),
  );
  return rounds;
}
