import { Queue, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { storableJson } from '../ledger/storable.ts';
import type { WebhookRecord } from '../webhooks/history.ts';

/** A webhook record as it travels through Redis (JSON: the body as base64, dates and ids as text). */
export interface StoredRecord extends Omit<WebhookRecord, 'body' | 'receivedAt' | 'replayOf'> {
  body: string;
  receivedAt: string;
  replayOf?: string;
}

export const toStored = (r: WebhookRecord): StoredRecord => {
  const { body, receivedAt, replayOf, operation, payload, ...rest } = r;
  return {
    ...rest,
    ...(replayOf === undefined ? {} : { replayOf: replayOf.toString() }),
    ...(operation === undefined ? {} : { operation: JSON.parse(storableJson(operation)) as unknown }),
    ...(payload === undefined ? {} : { payload: JSON.parse(storableJson(payload)) as unknown }),
    body: body.toString('base64'),
    receivedAt: receivedAt.toISOString(),
  };
};

export const fromStored = ({ replayOf, ...s }: StoredRecord): WebhookRecord => ({
  ...s,
  body: Buffer.from(s.body, 'base64'),
  receivedAt: new Date(s.receivedAt),
  ...(replayOf === undefined ? {} : { replayOf: BigInt(replayOf) }),
});

export interface ParkingOptions {
  redisUrl: string;
  prefix: string;
  /** Attempts of a parked operation before it is left to operators (backoff grows to `maxBackoffMs`). */
  maxAttempts: number;
  maxBackoffMs: number;
}

export interface ParkingHandlers {
  /**
   * Applies a parked webhook again; throws while it still fails on a fault (BullMQ retries it later).
   * `last`: this is its last attempt, after which it is left to operators.
   */
  retry(record: WebhookRecord, last: boolean): Promise<void>;
  /** Writes a webhook record captured while Postgres was unreachable. */
  history(record: WebhookRecord): Promise<void>;
  /**
   * Periodic upkeep: `purge` (history retention, hourly), `rollup` (closed days' revenue, every ten
   * minutes), `vendor-reconcile` (the last closed hour, hourly), `statistics` (the planner's
   * statistics where autovacuum is off, every ten minutes).
   */
  maintain(job: string): Promise<void>;
}

const RETRIES = 'retries';
const HISTORY = 'history';
const MAINTENANCE = 'maintenance';

/**
 * The BullMQ side of "nothing acknowledged is lost": a money operation owed to a player (a credit,
 * a rollback) that failed on a fault is parked here and applied later; a webhook record that could
 * not reach Postgres waits here for it. Every job id is BullMQ's own (a custom id would be silently
 * dropped while an old job with that id exists), and a job running twice (a stalled job taken over)
 * is harmless: the ledger applies a transaction id once, and a record's capture id lands once.
 */
export class Parking {
  readonly #options: ParkingOptions;
  readonly #log: Logger;
  readonly #queues: Map<string, Queue>;
  readonly #workers: Worker[] = [];

  constructor(options: ParkingOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
    // Producers fail fast while Redis is away rather than queue commands in memory.
    const connection = { url: options.redisUrl, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
    this.#queues = new Map(
      [RETRIES, HISTORY, MAINTENANCE].map((name) => {
        const queue = new Queue(name, { connection, prefix: options.prefix });
        queue.on('error', (err) => log.warn({ err, queue: name }, 'queue connection error'));
        return [name, queue];
      }),
    );
  }

  async park(record: WebhookRecord): Promise<void> {
    await this.#queue(RETRIES).add('apply', toStored(record), {
      attempts: this.#options.maxAttempts,
      backoff: { type: 'capped' },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: false,
    });
  }

  /** A record Postgres could not take: tried until it does, however long it stays away (never dropped). */
  async keepHistory(record: WebhookRecord): Promise<void> {
    await this.#queue(HISTORY).add('record', toStored(record), {
      attempts: Number.MAX_SAFE_INTEGER,
      backoff: { type: 'capped' },
      removeOnComplete: true,
      removeOnFail: false,
    });
  }

  /** Starts this process's workers and the upkeep schedules (one schedule for all processes). */
  async start(handlers: ParkingHandlers): Promise<void> {
    const connection = { url: this.#options.redisUrl, maxRetriesPerRequest: null };
    const backoffStrategy = (attemptsMade: number) => Math.min(this.#options.maxBackoffMs, 500 * 2 ** Math.min(attemptsMade, 20));
    const make = (name: string, run: (job: Job) => Promise<void>) => {
      const worker = new Worker(name, run, { connection, prefix: this.#options.prefix, concurrency: 4, settings: { backoffStrategy } });
      worker.on('error', (err) => this.#log.warn({ err, queue: name }, 'worker connection error'));
      worker.on('failed', (job, err) => this.#log.warn({ err, queue: name, job: job?.id, attempts: job?.attemptsMade }, 'queued work failed'));
      this.#workers.push(worker);
    };
    // attemptsMade counts the attempts that failed before this one.
    make(RETRIES, (job) => handlers.retry(fromStored(job.data as StoredRecord), job.attemptsMade + 1 >= (job.opts.attempts ?? 1)));
    make(HISTORY, (job) => handlers.history(fromStored(job.data as StoredRecord)));
    make(MAINTENANCE, (job) => handlers.maintain(job.name));
    await this.#queue(MAINTENANCE)
      .upsertJobScheduler('retention', { every: 3_600_000 }, { name: 'purge' })
      .catch((err: unknown) => this.#log.warn({ err }, 'could not schedule history retention'));
    await this.#queue(MAINTENANCE)
      .upsertJobScheduler('reports', { every: 600_000 }, { name: 'rollup' })
      .catch((err: unknown) => this.#log.warn({ err }, 'could not schedule the revenue roll-up'));
    await this.#queue(MAINTENANCE)
      .upsertJobScheduler('statistics', { every: 600_000 }, { name: 'statistics' })
      .catch((err: unknown) => this.#log.warn({ err }, 'could not schedule the planner statistics'));
    // Five minutes past each hour: the hour just closed, compared with each vendor's records.
    await this.#queue(MAINTENANCE)
      .upsertJobScheduler('vendor-reconcile', { pattern: '5 * * * *' }, { name: 'vendor-reconcile' })
      .catch((err: unknown) => this.#log.warn({ err }, 'could not schedule the vendor reconciliation'));
  }

  queues(): Queue[] {
    return [...this.#queues.values()];
  }

  async depth(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, queue] of this.#queues) out[name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    return out;
  }

  /** Waits for active jobs to finish, then closes workers and queues. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#workers.map((w) => w.close()));
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
  }

  #queue(name: string): Queue {
    return this.#queues.get(name)!;
  }
}
