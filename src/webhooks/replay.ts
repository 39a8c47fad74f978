import type { ProviderInstance } from '../gateway/contract.ts';
import type { Pipeline, Processed } from '../gateway/callbacks.ts';
import type { WebhookOutcome } from '../ledger/schema.ts';
import { FAILED, type WebhookHistory, type WebhookRow } from './history.ts';

export interface ReplayResult {
  webhookId: string;
  provider: string;
  outcome: WebhookOutcome | 'unknown_provider' | 'not_found' | 'not_replayable';
  detail?: string | undefined;
  replayId?: string | undefined;
  /** The dialect's answer to the replay (what the vendor would have been told). */
  answer?: string | undefined;
}

/**
 * One failed notification from a vendor's back-office export: the body as sent, or its decoded
 * payload; `path`, for a dialect with an endpoint per call, the endpoint it was sent to.
 */
export interface ImportedNotification {
  body?: string;
  payload?: unknown;
  path?: string;
}

export interface ReplayFilter {
  provider: string;
  since: Date;
  until: Date;
  /** Default: failures not yet settled. */
  outcomes?: readonly WebhookOutcome[];
}

const MAX_BULK = 10_000;

/**
 * Operators' replays: a stored webhook runs again through the same adapter and wallet rules, as a
 * trusted call (its credentials were checked on arrival). Replaying anything any number of times is
 * safe: the ledger applies a transaction id once, and a replay that settles a failure marks it so.
 */
export class Replayer {
  readonly #history: WebhookHistory;
  readonly #pipeline: Pipeline;
  readonly #providers: ReadonlyMap<string, ProviderInstance>;

  readonly #page: number;

  /** `page`: how many matches a bulk replay reads at a time (and a dry run lists). */
  constructor(history: WebhookHistory, pipeline: Pipeline, providers: ReadonlyMap<string, ProviderInstance>, page = MAX_BULK) {
    this.#history = history;
    this.#pipeline = pipeline;
    this.#providers = providers;
    this.#page = page;
  }

  async replay(id: bigint): Promise<ReplayResult> {
    const stored = await this.#history.get(id);
    if (!stored) return { webhookId: id.toString(), provider: '', outcome: 'not_found' };
    return this.#run(stored);
  }

  /**
   * What replayMatching would replay now, oldest first, a page (`MAX_BULK`) from the one after `after`
   * (a page: replayMatching goes through them all); `count` says how many there are in all.
   */
  candidates(filter: ReplayFilter, after = 0n): Promise<WebhookRow[]> {
    return this.#history.search({ ...this.#window(filter), after, limit: this.#page });
  }

  /** How many webhooks replayMatching would replay now. */
  count(filter: ReplayFilter): Promise<number> {
    return this.#history.count(this.#window(filter));
  }

  #window(filter: ReplayFilter) {
    const { provider, since, until } = filter;
    return { provider, since, until, ...(filter.outcomes ? { outcomes: filter.outcomes } : { outcomes: FAILED, unresolved: true }) };
  }

  /** Replays every matching webhook, oldest first, page by page; by default the failures no retry or replay has settled yet. */
  async replayMatching(filter: ReplayFilter, progress?: (done: number, total: number) => void): Promise<ReplayResult[]> {
    const results: ReplayResult[] = [];
    const total = await this.count(filter);
    let done = 0;
    progress?.(0, total);
    for (let after = 0n; ; ) {
      const matches = await this.candidates(filter, after);
      for (const match of matches) {
        if (done > 0) progress?.(Math.min(done, total), total);
        done++;
        // Read again: replaying an earlier match settles the failed re-runs of the same webhook with it.
        const stored = await this.#history.get(match.id);
        if (!stored || (!filter.outcomes && stored.resolved_at !== null)) continue;
        results.push(await this.#run(stored));
      }
      if (matches.length < this.#page) break;
      after = matches.at(-1)!.id;
    }
    progress?.(done, Math.max(done, total));
    return results;
  }

  async #run(stored: WebhookRow): Promise<ReplayResult> {
    const refusal = notReplayable(stored);
    if (refusal) return { webhookId: stored.id.toString(), provider: stored.provider_id, outcome: 'not_replayable', detail: refusal };
    const instance = this.#providers.get(stored.provider_id);
    if (!instance) return { webhookId: stored.id.toString(), provider: stored.provider_id, outcome: 'unknown_provider' };
    // A re-run names the webhook that first arrived, so settling it settles every failed re-run of it.
    const processed = await this.#pipeline.handle(
      instance,
      { path: stored.path, headers: stored.headers as Record<string, string>, body: stored.body, ip: '', receivedAt: new Date() },
      { source: 'replay', replayOf: stored.replay_of ?? stored.id, plaintext: stored.plaintext },
    );
    return result(stored.id, stored.provider_id, processed);
  }

  /** Processes a vendor's export of failed notifications for one provider, each kept in the history as an import. */
  async import(provider: string, notifications: readonly ImportedNotification[], progress?: (done: number, total: number) => void): Promise<ReplayResult[]> {
    const instance = this.#providers.get(provider);
    if (!instance) return [{ webhookId: '', provider, outcome: 'unknown_provider' }];
    const results: ReplayResult[] = [];
    for (const n of notifications) {
      progress?.(results.length, notifications.length);
      const plaintext = n.body === undefined;
      const body = Buffer.from(n.body ?? JSON.stringify(n.payload ?? null), 'utf8');
      const processed = await this.#pipeline.handle(instance, { path: n.path ?? '', headers: {}, body, ip: '', receivedAt: new Date() }, { source: 'import', plaintext });
      results.push(result(undefined, provider, processed));
    }
    progress?.(results.length, notifications.length);
    return results;
  }
}

/**
 * A replay is trusted (its credentials are not checked again), so it must never run what was not
 * trusted on arrival; and a bet is taken only when the vendor is told so, at once: one answered as
 * failed or refused (whichever way it came: from the vendor, an import, a replay) is never taken
 * later, even once what refused it has changed (a player created since, funds deposited since).
 * A bet that was taken replays as the repeat it is.
 */
function notReplayable(stored: WebhookRow): string | undefined {
  if (stored.outcome === 'rejected') return 'refused at the door (credentials, address or form): a replay cannot vouch for it';
  const op = (stored.operation as { op?: string } | null)?.op;
  if (op === 'debit' && stored.outcome !== 'ok' && stored.outcome !== 'duplicate') return `a bet answered as ${stored.outcome === 'refused' ? 'refused' : 'failed'} is never taken later`;
  return undefined;
}

function result(original: bigint | undefined, provider: string, p: Processed): ReplayResult {
  return {
    webhookId: original?.toString() ?? p.webhookId?.toString() ?? '',
    provider,
    outcome: p.outcome,
    detail: p.detail,
    replayId: p.webhookId?.toString(),
    answer: p.answer.body,
  };
}

