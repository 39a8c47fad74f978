import type { Redis } from 'ioredis';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import { TimeoutError } from 'redis-semaphore';
import { SteadySemaphore } from '../locks/steady.ts';
import type { Exchange, TransportLimits, VendorCall, VendorTransport } from '../gateway/vendor-api.ts';
import type { ProviderId } from '../wallet/types.ts';

export interface VendorCallObservation {
  provider: string;
  route: string;
  /** "ok" (the vendor answered, whatever it said), or why no answer came. */
  result: 'ok' | 'timeout' | 'unreachable' | 'busy' | 'vendor_error';
  seconds: number;
  attempts: number;
}

export interface TransportOptions {
  provider: ProviderId;
  limits: TransportLimits;
  /** Extra attempts after a failure that may be repeated (see VendorCall.idempotent). */
  retries: number;
  redis: Redis;
  prefix: string;
  log: Logger;
  observe?(o: VendorCallObservation): void;
}

/** The call surely did not reach the vendor, or the vendor said it did nothing: any call may be sent again. */
class NotProcessed extends Error {
  readonly kind: 'unreachable' | 'busy';
  constructor(kind: 'unreachable' | 'busy', message: string) {
    super(message);
    this.kind = kind;
  }
}

/** No usable answer, and the vendor may have acted on the call: only an idempotent call is sent again. */
class Ambiguous extends Error {
  readonly kind: 'timeout' | 'unreachable' | 'vendor_error';
  constructor(kind: 'timeout' | 'unreachable' | 'vendor_error', message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Connection errors raised before a byte of the request left: the vendor cannot have seen it. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Sends a dialect's calls to one vendor account: each attempt bounded by the account's timeout,
 * bounded retries (p-retry, exponential backoff with jitter) only where repeating is safe, and at most
 * `maxConcurrent` calls in flight across every gateway process (redis-semaphore's counting semaphore:
 * the command dialect's vendors answer 1018 past 50 per account). When Redis is unreachable the calls
 * go out ungated; the vendor's own "busy" answer is then retried like any other not-processed answer.
 */
export class VendorHttp implements VendorTransport {
  readonly #o: TransportOptions;

  constructor(options: TransportOptions) {
    this.#o = options;
  }

  async send(call: VendorCall): Promise<Exchange> {
    const started = performance.now();
    let attempts = 0;
    const finish = (exchange: Exchange): Exchange => {
      const result = exchange.ok ? 'ok' : exchange.error;
      const seconds = (performance.now() - started) / 1000;
      this.#o.observe?.({ provider: this.#o.provider, route: call.route, result, seconds, attempts });
      const line = { provider: this.#o.provider, route: call.route, attempts, ms: Math.round(seconds * 1000) };
      if (exchange.ok) this.#o.log.debug({ ...line, status: exchange.status }, 'vendor call answered');
      else this.#o.log.warn({ ...line, error: exchange.error, detail: exchange.detail }, 'vendor call failed');
      return exchange;
    };
    try {
      const answer = await pRetry(
        async () => {
          attempts++;
          return this.#attempt(call);
        },
        {
          retries: this.#o.retries,
          minTimeout: 100,
          maxTimeout: 1000,
          randomize: true,
          maxRetryTime: this.#o.limits.timeoutMs * (this.#o.retries + 1) + 2000,
          shouldRetry: ({ error }) => error instanceof NotProcessed || (call.idempotent && error instanceof Ambiguous),
        },
      );
      return finish({ ok: true, ...answer });
    } catch (error) {
      if (error instanceof NotProcessed || error instanceof Ambiguous) return finish({ ok: false, error: error.kind, detail: error.message });
      throw error;
    }
  }

  async #attempt(call: VendorCall): Promise<{ status: number; body: unknown; text: string }> {
    const leave = await this.#enter();
    try {
      let res: Response;
      try {
        res = await fetch(call.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...call.headers },
          body: call.body,
          signal: AbortSignal.timeout(this.#o.limits.timeoutMs),
        });
      } catch (error) {
        throw classify(error, this.#o.limits.timeoutMs);
      }
      let text: string;
      try {
        text = await res.text();
      } catch (error) {
        throw classify(error, this.#o.limits.timeoutMs);
      }
      if (res.status >= 500) throw new Ambiguous('vendor_error', `HTTP ${res.status}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (call.notProcessed?.(res.status, body)) throw new NotProcessed('busy', 'the vendor refused the call as busy');
      return { status: res.status, body, text };
    } finally {
      leave();
    }
  }

  /** A place among the account's calls in flight; resolves to the function that gives it back. */
  async #enter(): Promise<() => void> {
    const { redis, limits, provider, prefix } = this.#o;
    if (redis.status !== 'ready') return () => {};
    const semaphore = new SteadySemaphore(redis, `${prefix}vendor:${provider}`, limits.maxConcurrent, {
      acquireTimeout: limits.timeoutMs,
      lockTimeout: limits.timeoutMs * 2 + 1000,
      retryInterval: 10,
    });
    try {
      await semaphore.acquire();
    } catch (error) {
      if (error instanceof TimeoutError) {
        throw new AbortError(new NotProcessed('busy', `${limits.maxConcurrent} calls to ${provider} stayed in flight for ${limits.timeoutMs} ms`));
      }
      this.#o.log.warn({ err: error, provider }, 'vendor call gate unavailable; calling ungated');
      return () => {};
    }
    return () => {
      semaphore.release().catch((error: unknown) => this.#o.log.warn({ err: error, provider }, 'vendor call gate release failed; it expires on its own'));
    };
  }
}

function classify(error: unknown, timeoutMs: number): Error {
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') return new Ambiguous('timeout', `no answer within ${timeoutMs} ms`);
  const code = String((error as { cause?: { code?: unknown } }).cause?.code ?? (error as { code?: unknown }).code ?? '');
  if (NOT_SENT.has(code)) return new NotProcessed('unreachable', `cannot connect (${code})`);
  return new Ambiguous('unreachable', `connection failed (${code || (error as Error).message})`);
}
