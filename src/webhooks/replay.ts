import type { ProviderInstance } from '../gateway/contract.ts';
import type { Pipeline, Processed } from '../gateway/callbacks.ts';
import type { WebhookOutcome } from '../ledger/schema.ts';
import { FAILED, type WebhookHistory } from './history.ts';

export interface ReplayResult {
  webhookId: string;
  provider: string;
  outcome: WebhookOutcome | 'unknown_provider' | 'not_found';
  detail?: string | undefined;
  replayId?: string | undefined;
}

/** One failed notification from a vendor's back-office export: the body as sent, or its decoded payload. */
export interface ImportedNotification {
  body?: string;
  payload?: unknown;
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

  constructor(history: WebhookHistory, pipeline: Pipeline, providers: ReadonlyMap<string, ProviderInstance>) {
    this.#history = history;
    this.#pipeline = pipeline;
    this.#providers = providers;
  }

  async replay(id: bigint): Promise<ReplayResult> {
    const stored = await this.#history.get(id);
    if (!stored) return { webhookId: id.toString(), provider: '', outcome: 'not_found' };
    const instance = this.#providers.get(stored.provider_id);
    if (!instance) return { webhookId: id.toString(), provider: stored.provider_id, outcome: 'unknown_provider' };
    const processed = await this.#pipeline.handle(
      instance,
      { headers: stored.headers as Record<string, string>, body: stored.body, ip: '', receivedAt: new Date() },
      { source: 'replay', replayOf: stored.id },
    );
    return result(stored.id, stored.provider_id, processed);
  }

  /** Replays every matching webhook, oldest first. */
  async replayMatching(filter: ReplayFilter): Promise<ReplayResult[]> {
    const matches = await this.#history.search({
      provider: filter.provider,
      since: filter.since,
      until: filter.until,
      limit: MAX_BULK,
      ...(filter.outcomes ? { outcomes: filter.outcomes } : { outcomes: FAILED, unresolved: true }),
    });
    const results: ReplayResult[] = [];
    for (const stored of matches.reverse()) results.push(await this.replay(stored.id));
    return results;
  }

  /** Processes a vendor's export of failed notifications for one provider, each kept in the history as an import. */
  async import(provider: string, notifications: readonly ImportedNotification[]): Promise<ReplayResult[]> {
    const instance = this.#providers.get(provider);
    if (!instance) return [{ webhookId: '', provider, outcome: 'unknown_provider' }];
    const results: ReplayResult[] = [];
    for (const n of notifications) {
      const plaintext = n.body === undefined;
      const body = Buffer.from(n.body ?? JSON.stringify(n.payload ?? null), 'utf8');
      const processed = await this.#pipeline.handle(instance, { headers: {}, body, ip: '', receivedAt: new Date() }, { source: 'import', plaintext });
      results.push(result(undefined, provider, processed));
    }
    return results;
  }
}

function result(original: bigint | undefined, provider: string, p: Processed): ReplayResult {
  return {
    webhookId: original?.toString() ?? p.webhookId?.toString() ?? '',
    provider,
    outcome: p.outcome,
    detail: p.detail,
    replayId: p.webhookId?.toString(),
  };
}

