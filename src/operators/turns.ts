import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TimeoutError } from 'redis-semaphore';
import { SteadyMutex } from '../locks/steady.ts';

/** Runs a task once it has the turn of each of its keys. */
export interface TurnTaker {
  run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T>;
}

/** A turn could not be had in time: the keys are that busy (a burst at work in other processes). */
export class TurnTimeout extends Error {}

/**
 * Tasks that take their turn per key, in this process: a task starts once every earlier task of any
 * of its keys has ended. The sign-in brake counts the failures recorded before an attempt; attempts
 * checked side by side would all see the same count and let a burst of guesses through.
 */
export class Turns implements TurnTaker {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const before = keys.map((key) => this.#tails.get(key) ?? Promise.resolve());
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = Promise.all(before).then(() => done);
    for (const key of keys) this.#tails.set(key, tail);
    try {
      await Promise.all(before);
      return await task();
    } finally {
      release();
      // The last in line leaves no entry behind: a key's map entry lives only while attempts wait.
      void tail.then(() => {
        for (const key of keys) if (this.#tails.get(key) === tail) this.#tails.delete(key);
      });
    }
  }
}

export interface SharedTurnsOptions {
  /** Redis key prefix (the gateway's REDIS_PREFIX and a colon). */
  prefix: string;
  /** Longest wait for the other processes' turns before the task is refused (TurnTimeout). */
  waitMs?: number;
  /** How long a turn lives in Redis without a refresh (a crashed holder frees it after this). */
  ttlMs?: number;
}

/**
 * Turns across gateway processes: in this process first (Turns: one Redis lock per key at a time),
 * then a Redis lock per key (redis-semaphore, as the players' line), taken in the keys' order so two
 * tasks never wait on each other. With Redis away a task goes on with this process's turns alone:
 * sign-in stays open, and a burst split across processes gets at most one process's share more.
 */
export class SharedTurns implements TurnTaker {
  readonly #local = new Turns();
  readonly #redis: Redis;
  readonly #log: Logger | undefined;
  readonly #prefix: string;
  readonly #waitMs: number;
  readonly #ttlMs: number;

  constructor(redis: Redis, options: SharedTurnsOptions, log?: Logger) {
    this.#redis = redis;
    this.#log = log;
    this.#prefix = options.prefix;
    this.#waitMs = options.waitMs ?? 5_000;
    this.#ttlMs = options.ttlMs ?? 10_000;
  }

  run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    return this.#local.run(keys, async () => {
      const held: SteadyMutex[] = [];
      try {
        for (const key of [...new Set(keys)].sort()) {
          const mutex = new SteadyMutex(this.#redis, `${this.#prefix}turn:${key}`, { acquireTimeout: this.#waitMs, lockTimeout: this.#ttlMs, retryInterval: 10 });
          try {
            await mutex.acquire();
          } catch (error) {
            if (error instanceof TimeoutError) throw new TurnTimeout(`no turn for ${key} within ${this.#waitMs} ms`);
            this.#log?.warn({ err: (error as Error).message }, 'redis away: turns are kept in this process only');
            break;
          }
          held.push(mutex);
        }
        return await task();
      } finally {
        await Promise.all(held.map((m) => m.release().catch(() => {})));
      }
    });
  }
}
