import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../config/secret.ts';
import express from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Observation } from '../gateway/callbacks.ts';
import type { AdmissionObserver } from '../locks/admission.ts';
import type { GroupObserver } from '../wallet/wallet.ts';
import type { LockObserver } from '../locks/player-lock.ts';
import type { VendorCallObservation } from '../vendors/transport.ts';

export interface MetricsSources {
  queueDepth(): Promise<Record<string, Record<string, number>>>;
  unresolvedFailures(): Promise<number>;
}

/** Prometheus metrics: callbacks by provider, operation and outcome; latencies; lock waits; queues; failures. */
export class Metrics {
  readonly registry = new Registry();
  readonly #callbacks: Counter<'provider' | 'operation' | 'outcome'>;
  readonly #latency: Histogram<'provider' | 'operation'>;
  readonly #lockWait: Histogram<'result'>;
  readonly #admissionWait: Histogram<'result' | 'owed'>;
  readonly #locksLost: Counter;
  readonly #groups: Histogram<'result'>;
  readonly #chains: Histogram<'result'>;
  readonly #vendorCalls: Counter<'provider' | 'route' | 'result'>;
  readonly #vendorLatency: Histogram<'provider' | 'route'>;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'croupier_' });
    this.#callbacks = new Counter({
      name: 'croupier_callbacks_total',
      help: 'Vendor callbacks by provider, wallet operation and outcome',
      labelNames: ['provider', 'operation', 'outcome'],
      registers: [this.registry],
    });
    this.#latency = new Histogram({
      name: 'croupier_callback_duration_seconds',
      help: 'Time from reading a callback to its answer',
      labelNames: ['provider', 'operation'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4],
      registers: [this.registry],
    });
    this.#lockWait = new Histogram({
      name: 'croupier_player_lock_wait_seconds',
      help: "Wait for a player's turn, by result (uncontended: no Redis lock needed; acquired: the Redis lock; timeout; bypassed when Redis is unreachable)",
      labelNames: ['result'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers: [this.registry],
    });
    this.#admissionWait = new Histogram({
      name: 'croupier_admission_wait_seconds',
      help: 'Wait for a slot to run a wallet operation, by result (admitted, late: let go as it could not be answered in time) and whether it was owed money',
      labelNames: ['result', 'owed'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers: [this.registry],
    });
    this.#groups = new Histogram({
      name: 'croupier_wallet_group_size',
      help: 'Wallet operations of different players that shared one transaction, by result (committed; rerun: rolled back, each ran again alone)',
      labelNames: ['result'],
      buckets: [2, 4, 8, 16, 32],
      registers: [this.registry],
    });
    this.#chains = new Histogram({
      name: 'croupier_wallet_chain_size',
      help: "Queued wallet operations of one player that ran one after the other in one transaction, by result (committed; rerun: rolled back, each ran again alone)",
      labelNames: ['result'],
      buckets: [2, 4, 8, 16, 32],
      registers: [this.registry],
    });
    this.#locksLost = new Counter({ name: 'croupier_player_locks_lost_total', help: 'Player locks lost while held', registers: [this.registry] });
    this.#vendorCalls = new Counter({
      name: 'croupier_vendor_calls_total',
      help: "Calls to vendors' own APIs by provider, route and result (ok: the vendor answered, whatever it said)",
      labelNames: ['provider', 'route', 'result'],
      registers: [this.registry],
    });
    this.#vendorLatency = new Histogram({
      name: 'croupier_vendor_call_duration_seconds',
      help: "Time of a call to a vendor's API, retries included",
      labelNames: ['provider', 'route'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
      registers: [this.registry],
    });
  }

  vendorCall = (o: VendorCallObservation): void => {
    this.#vendorCalls.inc({ provider: o.provider, route: o.route, result: o.result });
    this.#vendorLatency.observe({ provider: o.provider, route: o.route }, o.seconds);
  };

  observe = (o: Observation): void => {
    this.#callbacks.inc({ provider: o.provider, operation: o.operation, outcome: o.outcome });
    this.#latency.observe({ provider: o.provider, operation: o.operation }, o.seconds);
  };

  readonly locks: LockObserver = {
    waited: (seconds, result) => this.#lockWait.observe({ result }, seconds),
    lost: () => this.#locksLost.inc(),
  };

  readonly groups: GroupObserver = {
    grouped: (size, result) => this.#groups.observe({ result }, size),
    chained: (size, result) => this.#chains.observe({ result }, size),
  };

  readonly admission: AdmissionObserver = {
    admitted: (seconds, result, owed) => this.#admissionWait.observe({ result, owed: String(owed) }, seconds),
  };

  /** Gauges read at scrape time from the queues and the history. */
  watch(sources: MetricsSources): void {
    new Gauge({
      name: 'croupier_queue_jobs',
      help: 'Jobs in the retry, history and maintenance queues, by state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        const depth = await sources.queueDepth().catch(() => ({}) as Record<string, Record<string, number>>);
        for (const [queue, states] of Object.entries(depth)) {
          for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
        }
      },
    });
    new Gauge({
      name: 'croupier_failed_webhooks',
      help: 'Webhooks that failed on a fault and are not settled yet',
      registers: [this.registry],
      async collect() {
        const n = await sources.unresolvedFailures().catch(() => Number.NaN);
        this.set(n);
      },
    });
  }

  /** GET /metrics; with `token`, only for a request bearing it (Authorization: Bearer). */
  router(token?: Secret) {
    const router = express.Router();
    const expected = token === undefined ? undefined : createHash('sha256').update(token.reveal()).digest();
    router.get('/metrics', async (req, res) => {
      if (expected) {
        const sent = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
        if (!timingSafeEqual(createHash('sha256').update(sent).digest(), expected)) {
          res.status(401).json({ error: { code: 'unauthorized', message: 'METRICS_TOKEN is set: send it as a Bearer token' } });
          return;
        }
      }
      res.type(this.registry.contentType).send(await this.registry.metrics());
    });
    return router;
  }
}
