import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Mutex, TimeoutError } from 'redis-semaphore';
import type { Outcome, WalletOperation } from '../wallet/types.ts';
import type { Within } from '../wallet/wallet.ts';

/** A wallet operation could not get its player's lock within the wait: a fault, answered as one. */
export class LockTimeout extends Error {}

export interface LockObserver {
  waited(seconds: number, result: 'acquired' | 'timeout' | 'bypassed'): void;
  lost(): void;
}

export interface WalletExecutor {
  execute(op: WalletOperation): Promise<Outcome>;
  execute<T>(op: WalletOperation, within: Within<T>): Promise<T>;
}

export interface PlayerLockOptions {
  /** Longest wait for the lock: inside the vendors' 2 s limit, with room for the operation itself. */
  waitMs: number;
  /** How long a held lock lives in Redis without a refresh (a crashed holder frees it after this). */
  ttlMs: number;
  prefix: string;
}

/**
 * Keeps one player's money operations in line across gateway processes (redis-semaphore's Mutex on
 * ioredis), so they queue in Redis instead of each holding a Postgres connection while it waits for
 * the wallet row. Postgres stays the guard of correctness: the row lock and the unique keys make any
 * interleaving safe. So when Redis is unreachable the operation runs without the lock, and a lock
 * lost mid-operation (an event-loop stall past the TTL) is only counted and logged.
 */
export class LockedWallet implements WalletExecutor {
  readonly #wallet: WalletExecutor;
  readonly #redis: Redis;
  readonly #options: PlayerLockOptions;
  readonly #observer: LockObserver;
  readonly #log: Logger;

  constructor(wallet: WalletExecutor, redis: Redis, options: PlayerLockOptions, observer: LockObserver, log: Logger) {
    this.#wallet = wallet;
    this.#redis = redis;
    this.#options = options;
    this.#observer = observer;
    this.#log = log;
  }

  /** Per player, the end of this process's line: only its head polls Redis, the others wait in memory. */
  readonly #lines = new Map<string, Promise<void>>();

  execute(op: WalletOperation): Promise<Outcome>;
  execute<T>(op: WalletOperation, within: Within<T>): Promise<T>;
  async execute<T>(op: WalletOperation, within?: Within<T>): Promise<Outcome | T> {
    const started = performance.now();
    const waited = () => (performance.now() - started) / 1000;
    const ahead = this.#lines.get(op.player) ?? Promise.resolve();
    let leave!: () => void;
    const mine = new Promise<void>((resolve) => (leave = resolve));
    const line = ahead.then(() => mine);
    this.#lines.set(op.player, line);
    try {
      let timer: NodeJS.Timeout | undefined;
      const turn = await Promise.race([
        ahead.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.#options.waitMs))),
      ]);
      clearTimeout(timer);
      if (!turn) {
        this.#observer.waited(waited(), 'timeout');
        throw new LockTimeout(`player ${op.player} stayed busy for ${this.#options.waitMs} ms`);
      }
      const run = (): Promise<Outcome | T> => (within ? this.#wallet.execute(op, within) : this.#wallet.execute(op));
      return await this.#locked(op, started, waited, run);
    } finally {
      leave();
      if (this.#lines.get(op.player) === line) this.#lines.delete(op.player);
    }
  }

  async #locked<R>(op: WalletOperation, started: number, waited: () => number, run: () => Promise<R>): Promise<R> {
    if (this.#redis.status !== 'ready') {
      this.#observer.waited(waited(), 'bypassed');
      return run();
    }
    const remaining = Math.max(1, this.#options.waitMs - (performance.now() - started));
    const mutex = new Mutex(this.#redis, `${this.#options.prefix}lock:player:${op.player}`, {
      acquireTimeout: remaining,
      lockTimeout: this.#options.ttlMs,
      retryInterval: 5,
      onLockLost: () => {
        this.#observer.lost();
        this.#log.warn({ player: op.player, op: op.op }, 'player lock lost while held; Postgres still serialises the operation');
      },
    });
    try {
      await mutex.acquire();
    } catch (error) {
      if (error instanceof TimeoutError) {
        this.#observer.waited(waited(), 'timeout');
        throw new LockTimeout(`player ${op.player} stayed locked for ${this.#options.waitMs} ms`);
      }
      this.#observer.waited(waited(), 'bypassed');
      this.#log.warn({ err: error, player: op.player }, 'player lock unavailable; running on the Postgres row lock alone');
      return run();
    }
    this.#observer.waited(waited(), 'acquired');
    try {
      return await run();
    } finally {
      mutex.release().catch((error: unknown) => this.#log.warn({ err: error, player: op.player }, 'player lock release failed; it expires on its own'));
    }
  }
}
