import type { Currency } from '../money/currency.ts';
import type { BackOffice, BackOfficeRefusal, CashierGuard, PlayerView } from '../wallet/backoffice.ts';
import { cashierAmount } from '../wallet/backoffice-wire.ts';
import { PlayerCode } from '../wallet/types.ts';
import type { ImportedNotification, ReplayFilter, ReplayResult, Replayer } from '../webhooks/replay.ts';
import type { WebhookRow } from '../webhooks/history.ts';
import type { Actor, Audit } from './audit.ts';

/** How far a long operation has come: `done` of `total`. */
export type Progress = (done: number, total: number) => void;

export interface ReplaySummary {
  count: number;
  outcomes: Record<string, number>;
  results: ReplayResult[];
}

export const summarise = (results: readonly ReplayResult[]): ReplaySummary => {
  const outcomes: Record<string, number> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return { count: results.length, outcomes, results: [...results] };
};

/** A single replay that changed nothing because there was nothing to run. */
export const replayRefused = (r: ReplayResult) => r.outcome === 'not_found' || r.outcome === 'unknown_provider' || r.outcome === 'not_replayable';

export type CashierResult =
  | { ok: true; balance: bigint; repeat: boolean }
  | { ok: false; reason: BackOfficeRefusal | 'invalid_amount'; message?: string };

/**
 * What operators do to the wallet and the history, each checked and audited once, whoever asks:
 * `/v1`, the console and the CLI call these (one place per rule). Refused attempts are audited too.
 */
export class OperatorActions {
  readonly #backOffice: BackOffice;
  readonly #replayer: Replayer | undefined;
  readonly #audit: Audit;

  /** Without a replayer (the CLI's cashier and player commands need no gateway), replays are not offered. */
  constructor(backOffice: BackOffice, replayer: Replayer | undefined, audit: Audit) {
    this.#backOffice = backOffice;
    this.#replayer = replayer;
    this.#audit = audit;
  }

  get #replays(): Replayer {
    if (!this.#replayer) throw new Error('replays need the gateway: OperatorActions was made without a replayer');
    return this.#replayer;
  }

  async replay(actor: Actor, id: bigint): Promise<ReplayResult> {
    const result = await this.#replays.replay(id);
    await this.#audit.record({ actor, action: 'replay', target: id.toString(), outcome: replayRefused(result) ? 'refused' : 'ok', detail: { outcome: result.outcome, provider: result.provider } });
    return result;
  }

  /**
   * What a bulk replay of `asked` would run, changing nothing: how many, the first `MAX_BULK` oldest
   * first, and the window they were counted in. The window ends no later than `now`, so replaying
   * that window (not the one asked) runs what was counted and no failure that arrived since, unseen
   * (one settled meanwhile is skipped).
   */
  async dryRun(asked: ReplayFilter, now = new Date()): Promise<{ filter: ReplayFilter; count: number; first: WebhookRow[] }> {
    const filter = asked.until < now || asked.since >= now ? asked : { ...asked, until: now };
    const [count, first] = await Promise.all([this.#replays.count(filter), this.#replays.candidates(filter)]);
    return { filter, count, first };
  }

  async replayMatching(actor: Actor, filter: ReplayFilter, progress?: Progress): Promise<ReplaySummary> {
    const window = { provider: filter.provider, since: filter.since.toISOString(), until: filter.until.toISOString(), outcomes: filter.outcomes ?? 'unsettled failures' };
    try {
      const done = summarise(await this.#replays.replayMatching(filter, progress));
      await this.#audit.record({ actor, action: 'bulk_replay', target: filter.provider, outcome: 'ok', detail: { ...window, count: done.count, outcomes: done.outcomes } });
      return done;
    } catch (error) {
      await this.#audit.record({ actor, action: 'bulk_replay', target: filter.provider, outcome: 'failed', detail: { ...window, error: String(error) } });
      throw error;
    }
  }

  async import(actor: Actor, provider: string, notifications: readonly ImportedNotification[], progress?: Progress): Promise<ReplaySummary> {
    try {
      const done = summarise(await this.#replays.import(provider, notifications, progress));
      await this.#audit.record({ actor, action: 'import', target: provider, outcome: 'ok', detail: { count: done.count, outcomes: done.outcomes } });
      return done;
    } catch (error) {
      await this.#audit.record({ actor, action: 'import', target: provider, outcome: 'failed', detail: { count: notifications.length, error: String(error) } });
      throw error;
    }
  }

  async createPlayer(actor: Actor, code: string, currencies: readonly Currency[]) {
    const result = await this.#backOffice.createPlayer(PlayerCode(code), currencies);
    await this.#audit.record({ actor, action: 'player_create', target: code, outcome: result.ok ? 'ok' : 'refused', detail: result.ok ? { currencies } : { reason: result.reason } });
    return result;
  }

  /** Blocks or unblocks a player; `note`: the operator's words on why, kept in the audit trail. */
  async setStatus(actor: Actor, code: string, status: 'active' | 'blocked', note?: string) {
    const result = await this.#backOffice.setStatus(PlayerCode(code), status);
    const why = note ? { note } : {};
    await this.#audit.record({ actor, action: status === 'blocked' ? 'block' : 'unblock', target: code, outcome: result.ok ? 'ok' : 'refused', detail: result.ok ? why : { ...why, reason: result.reason } });
    return result;
  }

  /**
   * A deposit or withdrawal: `amount` as decimal text in currency units; idempotent on `reference`.
   * `guard`: a check run on the player's wallet row held (BackOffice.cashier).
   */
  async cashier(actor: Actor, kind: 'deposit' | 'withdrawal', code: string, currency: Currency, amount: string, reference: string, guard?: CashierGuard): Promise<CashierResult> {
    const detail = { currency, amount, reference };
    const minor = cashierAmount(amount, currency);
    if (!minor.ok) {
      await this.#audit.record({ actor, action: kind, target: code, outcome: 'refused', detail: { ...detail, reason: 'invalid_amount' } });
      return { ok: false, reason: 'invalid_amount', message: minor.reason };
    }
    const result = await this.#backOffice.cashier(kind, PlayerCode(code), currency, minor.value, reference, guard);
    await this.#audit.record({
      actor,
      action: kind,
      target: code,
      outcome: result.ok ? 'ok' : 'refused',
      detail: result.ok ? { ...detail, repeat: result.repeat === true } : { ...detail, reason: result.reason, ...(result.message ? { message: result.message } : {}) },
    });
    return result.ok ? { ok: true, balance: result.value.balance, repeat: result.repeat === true } : { ok: false, reason: result.reason, ...(result.message ? { message: result.message } : {}) };
  }

  player(code: string): ReturnType<BackOffice['player']> {
    return this.#backOffice.player(PlayerCode(code));
  }
}

export type { PlayerView };
