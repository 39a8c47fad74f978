import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TimeoutError } from 'redis-semaphore';
import { SteadyMutex } from './steady.ts';
import { PgError, pgErrorCode } from '../ledger/database.ts';
import { LOCK_FREE, type Outcome, type WalletOperation } from '../wallet/types.ts';
import { chainLength, type Member, type Within } from '../wallet/wallet.ts';

/** A wallet operation could not get its player's lock within the wait: a fault, answered as one. */
export class LockTimeout extends Error {}

export interface LockObserver {
  /** acquired: the Redis lock; uncontended: none needed (no other process held the player); bypassed: Redis away; timeout. */
  waited(seconds: number, result: 'acquired' | 'uncontended' | 'timeout' | 'bypassed'): void;
  lost(): void;
}

/**
 * What the gateway knows of the call an operation serves: by when (performance.now(), ms) its answer
 * must be on its way (none for a retry or a replay); and `nowait`, to fail at once on a wallet row
 * another transaction holds rather than wait for it.
 */
export interface Call {
  deadline?: number;
  nowait?: boolean;
}

export interface WalletExecutor {
  execute(op: WalletOperation, within?: undefined, call?: Call): Promise<Outcome>;
  execute<T>(op: WalletOperation, within: Within<T>, call?: Call): Promise<T>;
}

/** The wallet behind the player's line: it also runs several operations of one player, in order, in one transaction (Wallet.executeAll). */
export interface ChainingWallet extends WalletExecutor {
  executeAll(members: readonly Member[], call?: Call): Promise<PromiseSettledResult<unknown>[]>;
}

export interface PlayerLockOptions {
  /** Longest wait for the lock of a call with no vendor waiting for it (a retry, a replay); a vendor's call waits until its deadline allows. */
  waitMs: number;
  /** How long a held lock lives in Redis without a refresh (a crashed holder frees it after this). */
  ttlMs: number;
  prefix: string;
  /** Up to this many of a player's queued calls run in one turn, in one transaction (1: each its own; see `#riders`). */
  chain?: number;
}

/** How often a call waiting for a player held by another process asks Redis again. */
const RETRY_INTERVAL_MS = 5;

/** A player's Redis lock as this process holds it. */
interface Held {
  mutex: SteadyMutex;
  since: number;
  /** Its refresh found it expired or taken: it is not passed on. */
  lost: boolean;
}

/** A call waiting for its turn in its player's line. */
interface Waiter {
  op: WalletOperation;
  within: Within<unknown> | undefined;
  started: number;
  timer: NodeJS.Timeout | undefined;
  /** Lets the calls behind it go. */
  leave: () => void;
  /** It was taken along into the turn of a call ahead of it (see #riders), and no longer waits for its own. */
  taken: boolean;
  /** What that turn gave it. */
  ride: (result: PromiseSettledResult<unknown>) => void;
}

/** One player's calls in this process: one runs, the others wait in memory, in arrival order. */
interface Line {
  /** The calls waiting, in arrival order. */
  queue: Waiter[];
  /** Settles when the last call to join has left. */
  tail: Promise<void>;
  /** Calls waiting for their turn. */
  waiting: number;
  /** Calls that had their turn and have not finished: two while one commits and the next starts. */
  busy: number;
  /** The Redis lock, kept between calls while more are waiting: passed down the line, not taken again. */
  held: Held | undefined;
  /** A lock released for its age is not taken again before this, so a waiter in another process gets it. */
  yieldUntil: number;
  /** Another process was found busy with the player: until then its calls queue in Redis straight away. */
  contendedUntil: number;
}

/** How long a player found busy in another process keeps its calls queueing in Redis first. */
const CONTENDED_MS = 1000;

/** Moving average of how long a turn of a line lasts, in ms: a call judges by it whether it can wait for its turn. */
const TURN_START_MS = 5;

/**
 * Keeps one player's money operations in line across gateway processes (redis-semaphore's Mutex on
 * ioredis), so they queue in Redis instead of each holding a Postgres connection while it waits for
 * the wallet row. Postgres stays the guard of correctness: the row lock and the unique keys make any
 * interleaving safe. So when Redis is unreachable the operation runs without the lock, and a lock
 * lost mid-operation (an event-loop stall past the TTL) is only counted and logged.
 *
 * The Redis lock is taken only when it is needed: a call first locks the wallet row without
 * waiting, and only when another process holds it does the call (and, for a second, every call of
 * that player in this process) queue in Redis. Most players are busy in one process at a time, and
 * their calls save the lock's two Redis round trips.
 *
 * Within a process a player's calls wait in memory and only the head of the line deals with Redis.
 * While more calls of the player are waiting, the head passes the lock to the next instead of
 * releasing it (two Redis round trips saved per call of a busy player), for at most half of
 * LOCK_WAIT_MS: then it is released and not taken again for two retry intervals, so that a call
 * waiting for the player in another process (polling every retry interval, for up to LOCK_WAIT_MS)
 * gets its turn. A lock that was lost is never passed on; the last call of a line releases it.
 * A call steps aside for the next as soon as only its COMMIT is left to answer (the next one's
 * locking read then waits on the wallet row in Postgres): the line costs one Postgres connection
 * more per busy player, and a busy player's calls follow each other without a round trip between.
 * A turn takes along the calls waiting right behind it that may run one after the other in one
 * transaction with it (`chain`, see #riders): a busy player's line moves several calls per turn.
 *
 * Only calls that lock the wallet row queue. A read (balance, authenticate, status, a session) goes
 * straight on: it waits for no row, and nothing it does depends on the order of the player's money
 * calls (each answered only once committed, so a read sent after an answer sees it).
 */
export class LockedWallet implements WalletExecutor {
  readonly #wallet: ChainingWallet;
  readonly #redis: Redis;
  readonly #options: PlayerLockOptions;
  readonly #observer: LockObserver;
  readonly #log: Logger;
  readonly #lines = new Map<string, Line>();
  #turnMs = TURN_START_MS;

  constructor(wallet: ChainingWallet, redis: Redis, options: PlayerLockOptions, observer: LockObserver, log: Logger) {
    this.#wallet = wallet;
    this.#redis = redis;
    this.#options = options;
    this.#observer = observer;
    this.#log = log;
  }

  execute(op: WalletOperation, within?: undefined, call?: Call): Promise<Outcome>;
  execute<T>(op: WalletOperation, within: Within<T>, call?: Call): Promise<T>;
  async execute<T>(op: WalletOperation, within?: Within<T>, call?: Call): Promise<Outcome | T> {
    // A read never waits for the wallet row: behind a busy player's money calls it would only wait
    // for nothing (and, past its time, fail), and it may share a transaction with other players'.
    if (LOCK_FREE.has(op.op)) return within ? this.#wallet.execute(op, within, { ...call, nowait: true }) : this.#wallet.execute(op, undefined, { ...call, nowait: true });
    const started = performance.now();
    // A vendor's call waits in line while its answer can still go out in time; a retry or a replay, LOCK_WAIT_MS.
    const until = call?.deadline !== undefined ? call.deadline - this.#turnMs : started + this.#options.waitMs;
    let line = this.#lines.get(op.player);
    if (!line) this.#lines.set(op.player, (line = { queue: [], tail: Promise.resolve(), waiting: 0, busy: 0, held: undefined, yieldUntil: 0, contendedUntil: 0 }));
    const ahead = line.tail;
    const me: Waiter = { op, within: within as Within<unknown> | undefined, started, timer: undefined, leave: () => {}, taken: false, ride: () => {} };
    const mine = new Promise<void>((resolve) => (me.leave = resolve));
    const ridden = new Promise<PromiseSettledResult<unknown>>((resolve) => (me.ride = resolve));
    line.tail = ahead.then(() => mine);
    line.queue.push(me);
    line.waiting++;
    const turn = await Promise.race([
      // A call taken along into the turn of one ahead of it has its turn when that one's ends.
      ahead.then(() => true),
      new Promise<false>((resolve) => (me.timer = setTimeout(() => resolve(false), Math.max(0, until - performance.now())))),
    ]);
    clearTimeout(me.timer);
    line.waiting--;
    if (me.taken) {
      // Run in the turn of a call ahead: that call let the line go on, and reported the wait.
      const result = await ridden;
      this.#done(op.player, line);
      if (result.status === 'rejected') throw result.reason;
      return result.value as Outcome | T;
    }
    line.queue.splice(line.queue.indexOf(me), 1);
    if (!turn) {
      me.leave();
      this.#done(op.player, line);
      this.#observer.waited((performance.now() - started) / 1000, 'timeout');
      throw new LockTimeout(`player ${op.player} stayed busy for ${Math.round(performance.now() - started)} ms`);
    }
    line.busy++;
    const riders = this.#riders(op, line);
    const turnStarted = performance.now();
    let turnEnded = false;
    const endTurn = () => {
      me.leave();
      for (const r of riders) r.leave();
      if (turnEnded) return;
      turnEnded = true;
      this.#turnMs += (performance.now() - turnStarted - this.#turnMs) / 20;
    };
    const report = (result: Parameters<LockObserver['waited']>[1]) => {
      const now = performance.now();
      for (const w of [me, ...riders]) this.#observer.waited((now - w.started) / 1000, result);
    };
    // Once the operations' last statements are sent and only the COMMIT is left, the next call of
    // the line may start: its locking read waits in Postgres for that COMMIT, instead of in this
    // process for the COMMIT's answer to come back first.
    let answering = 1 + riders.length;
    const answered = <R>(w: Within<R> | undefined): Within<R | Outcome> => async (trx, outcome) => {
      const result = w ? await w(trx, outcome) : outcome;
      if (--answering === 0) endTurn();
      return result;
    };
    try {
      if (riders.length === 0) {
        const run = (nowait: boolean): Promise<Outcome | T> => this.#wallet.execute(op, answered(within), { ...call, nowait }) as Promise<Outcome | T>;
        return await this.#locked(op, line, started, until, report, run);
      }
      // The calls taken along go in this call's turn, by its deadline.
      const members: Member[] = [me, ...riders].map((w) => ({ op: w.op, within: answered(w.within) }));
      let settled: PromiseSettledResult<unknown>[];
      try {
        settled = await this.#locked(op, line, started, until, report, (nowait) => this.#wallet.executeAll(members, { ...call, nowait }));
      } catch (error) {
        settled = members.map(() => ({ status: 'rejected', reason: error }));
      }
      riders.forEach((r, i) => r.ride(settled[i + 1]!));
      const result = settled[0]!;
      if (result.status === 'rejected') throw result.reason;
      return result.value as Outcome | T;
    } finally {
      endTurn();
      line.busy--;
      this.#done(op.player, line);
    }
  }

  /**
   * The calls right behind `op` in its line that go in its turn, in one transaction with it
   * (Wallet.executeAll): as many as wait, up to `chain` in all, as long as they may run one after
   * the other in one transaction (see `chainLength`). The first that may not, and all behind it,
   * wait for a turn of their own: no call overtakes one that came before it. A busy player's calls
   * then cost one turn (a transaction, a COMMIT, a lock handover) for several.
   */
  #riders(op: WalletOperation, line: Line): Waiter[] {
    const behind = line.queue.slice(0, (this.#options.chain ?? 1) - 1);
    const riders = line.queue.splice(0, chainLength([op, ...behind.map((w) => w.op)]) - 1);
    for (const r of riders) {
      r.taken = true;
      clearTimeout(r.timer);
    }
    return riders;
  }

  /** The last call of a line releases the lock and the line. */
  #done(player: string, line: Line): void {
    if (line.waiting > 0 || line.busy > 0) return;
    this.#release(player, line);
    if (this.#lines.get(player) === line) this.#lines.delete(player);
  }

  async #locked<R>(
    op: WalletOperation,
    line: Line,
    started: number,
    until: number,
    report: (result: Parameters<LockObserver['waited']>[1]) => void,
    run: (nowait: boolean) => Promise<R>,
  ): Promise<R> {
    const held = line.held;
    if (held && !held.lost && performance.now() - held.since < this.#options.waitMs / 2) {
      report('acquired');
      return run(false);
    }
    if (held) {
      if (!held.lost) line.yieldUntil = performance.now() + 2 * RETRY_INTERVAL_MS;
      this.#release(op.player, line);
    }
    if (this.#redis.status !== 'ready') {
      report('bypassed');
      return run(false);
    }
    // A player no other process is busy with needs no Redis lock: the wallet row, locked without
    // waiting, says whether another process holds it; only then does the call queue in Redis.
    if (performance.now() >= line.contendedUntil) {
      try {
        const result = await run(true);
        report('uncontended');
        return result;
      } catch (error) {
        if (pgErrorCode(error) !== PgError.lockNotAvailable) throw error;
        line.contendedUntil = performance.now() + CONTENDED_MS;
      }
    }
    const pause = line.yieldUntil - performance.now();
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    const remaining = Math.max(1, until - performance.now());
    const taken: Held = {
      mutex: new SteadyMutex(this.#redis, `${this.#options.prefix}lock:player:${op.player}`, {
        acquireTimeout: remaining,
        lockTimeout: this.#options.ttlMs,
        retryInterval: RETRY_INTERVAL_MS,
        onLockLost: () => {
          taken.lost = true;
          this.#observer.lost();
          this.#log.warn({ player: op.player, op: op.op }, 'player lock lost while held; Postgres still serialises the operation');
        },
      }),
      since: 0,
      lost: false,
    };
    try {
      await taken.mutex.acquire();
    } catch (error) {
      if (error instanceof TimeoutError) {
        report('timeout');
        throw new LockTimeout(`player ${op.player} stayed locked elsewhere for ${Math.round(performance.now() - started)} ms`);
      }
      report('bypassed');
      this.#log.warn({ err: error, player: op.player }, 'player lock unavailable; running on the Postgres row lock alone');
      return run(false);
    }
    report('acquired');
    taken.since = performance.now();
    line.held = taken;
    return run(false);
  }

  #release(player: string, line: Line): void {
    const held = line.held;
    if (!held) return;
    line.held = undefined;
    held.mutex.release().catch((error: unknown) => this.#log.warn({ err: error, player }, 'player lock release failed; it expires on its own'));
  }
}
