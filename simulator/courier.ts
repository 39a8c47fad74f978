import { setTimeout as sleep } from 'node:timers/promises';
import { isFailure, isSuccess, type Call, type Journal, type Reply } from './journal.ts';
import { between, type Random } from './random.ts';

/**
 * How a vendor delivers its calls to the casino, whatever the dialect: each call to one of the
 * casino's endpoints (several gateway processes behind one vendor account: a process that refused
 * a connection is left out of the next calls), within the call's time limit; with `duplicateRate`
 * some calls go out twice at once (to two processes when there are several); calls owed to the
 * player are retried while the answer is a failure. Every attempt goes into the journal.
 */

export interface Answer {
  reply: Reply;
  /** The balance the answer carried, in minor units. */
  balance?: bigint;
}

/** The answer's balance as an optional field (absent, not undefined). */
export const withBalance = (answer: Answer): { balance?: bigint } => (answer.balance === undefined ? {} : { balance: answer.balance });

export interface CourierOptions {
  /** The casino's callback URL(s) for this vendor account. */
  endpoints: readonly string[];
  headers: Readonly<Record<string, string>>;
  random: Random;
  duplicateRate: number;
  journal: Journal;
  /** Aborts calls in flight and pending retries (the vendor is shutting down). */
  signal?: AbortSignal;
  /** Reads the body of an HTTP 200 answer in the dialect's words. */
  read(text: string, call: Call): Answer;
  /** Headers that depend on the body (a signature of it), added to `headers`. */
  sign?(body: string): Record<string, string>;
  /** Whether an answer is the casino's (its signature); one that is not is read as garbled. */
  check?(text: string, headers: Headers): boolean;
}

/** What a retried call settled on: a definite answer (success preferred), or the last failure. */
export interface Outcome {
  answer: Answer;
  settled: boolean;
}

export class Courier {
  readonly #o: CourierOptions;
  readonly #down = new Set<string>();
  #turn = 0;
  #inFlight = 0;

  constructor(options: CourierOptions) {
    this.#o = options;
  }

  /** Calls still waiting for an answer. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Endpoints left out after refusing a connection. */
  down(): string[] {
    return [...this.#down];
  }

  /** Sends one call once (or, as a duplicate, twice at once); the answer of each copy. */
  async deliver(call: Call, body: string, timeoutMs: number, retry: number, path = ''): Promise<Answer[]> {
    const journal = this.#o.journal;
    if (this.#o.signal?.aborted) {
      journal.record({ ...call, endpoint: '', reply: 'aborted', ms: 0, retry, copy: 0, at: journal.now() });
      return [{ reply: 'aborted' }];
    }
    const alive = this.#o.endpoints.filter((e) => !this.#down.has(e));
    if (alive.length === 0) {
      journal.record({ ...call, endpoint: '', reply: 'network', ms: 0, retry, copy: 0, at: journal.now() });
      return [{ reply: 'network' }];
    }
    const first = this.#turn++ % alive.length;
    const copies = this.#o.duplicateRate > 0 && this.#o.random() < this.#o.duplicateRate ? 2 : 1;
    const targets = Array.from({ length: copies }, (_, i) => `${alive[(first + i) % alive.length]!}${path}`);
    return Promise.all(
      targets.map(async (endpoint, copy) => {
        const at = journal.now();
        const { answer, ms, refused } = await this.#post(endpoint, body, timeoutMs, call);
        // A refused connection: that process is gone; the next calls go to the others.
        if (refused) this.#down.add(endpoint.slice(0, endpoint.length - path.length));
        journal.record({ ...call, endpoint, reply: answer.reply, ...withBalance(answer), ms, retry, copy, at });
        return answer;
      }),
    );
  }

  /** Sends once plus up to `retries` more while every answer is a failure, pausing `delayMs` (a range) between tries. */
  async persist(call: Call, body: string, timeoutMs: number, retries: number, delayMs: readonly [number, number], path = ''): Promise<Outcome> {
    let last: Answer = { reply: 'aborted' };
    for (let retry = 0; retry <= retries; retry++) {
      if (retry > 0) {
        try {
          await sleep(between(this.#o.random, delayMs), undefined, this.#o.signal ? { signal: this.#o.signal } : {});
        } catch {
          break; // stopped while waiting
        }
      }
      const answers = await this.deliver(call, body, timeoutMs, retry, path);
      const done = answers.filter((a) => !isFailure(a.reply));
      if (done.length) return { answer: done.find((a) => isSuccess(a.reply)) ?? done[0]!, settled: true };
      last = answers[0]!;
      if (last.reply === 'aborted') break;
    }
    return { answer: last, settled: false };
  }

  async #post(endpoint: string, body: string, timeoutMs: number, call: Call): Promise<{ answer: Answer; ms: number; refused?: boolean }> {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    const stop = this.#o.signal;
    this.#inFlight++;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { ...this.#o.headers, ...this.#o.sign?.(body) },
        body,
        signal: stop ? AbortSignal.any([timeout, stop]) : timeout,
      });
      const text = await res.text();
      if (res.status !== 200) return { answer: { reply: 'http' }, ms: ms() };
      if (this.#o.check && !this.#o.check(text, res.headers)) return { answer: { reply: 'garbled' }, ms: ms() };
      return { answer: this.#o.read(text, call), ms: ms() };
    } catch (error) {
      if (stop?.aborted) return { answer: { reply: 'aborted' }, ms: ms() };
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') return { answer: { reply: 'timeout' }, ms: ms() };
      const code = ((error as { cause?: { code?: unknown } }).cause?.code ?? '') as string;
      return { answer: { reply: 'network' }, ms: ms(), refused: code === 'ECONNREFUSED' };
    } finally {
      this.#inFlight--;
    }
  }
}
