import { sql } from 'kysely';
import type { VendorApi, VendorRecord } from '../gateway/vendor-api.ts';
import type { Db } from '../ledger/database.ts';
import type { VendorFinding } from '../ledger/schema.ts';
import { asCurrency, isCurrency, type Currency } from '../money/currency.ts';
import { formatAmountFixed, parseAmount, type Minor } from '../money/minor.ts';
import type { OperatorActions } from '../operators/actions.ts';
import type { Actor, Audit } from '../operators/audit.ts';
import { heldBackRollbacks } from '../wallet/records.ts';
import { ExternalTxId, PlayerCode, ProviderId, type Outcome, type WalletOperation } from '../wallet/types.ts';
import { amountText, compare, type Finding, type LedgerRollback, type LedgerTransaction } from './compare.ts';
import type { VendorExport } from './export.ts';

/** Each side is read this far around the period, so a transaction stamped at its edge is matched. */
const MARGIN_MS = 5 * 60_000;
/** A round with open lines this old is stuck (the vendor never settled nor cancelled it). */
export const STUCK_AFTER_MS = 60 * 60_000;

export interface RunSummary {
  run: string;
  provider: string;
  from: string;
  to: string;
  source: 'api' | 'import';
  vendorRecords: number;
  matched: number;
  /** Findings of this period still open (new or seen again). */
  open: number;
  /** Open findings of this period and currency that this run no longer finds, closed by it. */
  cleared: number;
  findings: FindingView[];
}

export interface FindingView {
  id: string;
  provider: string;
  key: string;
  kind: string;
  at: string;
  player: string | null;
  currency: string | null;
  detail: string;
  vendor: unknown;
  ledger: unknown;
  state: 'open' | 'resolved' | 'explained';
  resolvedBy: string | null;
  resolvedAt: string | null;
  resolution: unknown;
}

export type Resolution =
  | { action: 'explain'; note: string }
  | { action: 'replay'; webhookId: bigint; note?: string }
  | { action: 'adjust'; direction: 'deposit' | 'withdrawal'; amount: string; note: string };

export type ResolveResult = { ok: true; finding: FindingView } | { ok: false; reason: 'not_found' | 'not_open' | 'refused'; message: string };

/** A stored finding, as the table holds it. */
type Row = VendorFinding;

export const findingJson = (r: Row): FindingView => ({
  id: r.id.toString(),
  provider: r.provider_id,
  key: r.key,
  kind: r.kind,
  at: r.at.toISOString(),
  player: r.player_code,
  currency: r.currency,
  detail: r.detail,
  vendor: r.vendor,
  ledger: r.ledger,
  state: r.state,
  resolvedBy: r.resolved_by,
  resolvedAt: r.resolved_at?.toISOString() ?? null,
  resolution: r.resolution,
});

/**
 * Reconciliation with the vendors' own records: reads a provider's period from its API (or an
 * imported export), compares it with the ledger (compare.ts), and keeps what did not match as
 * findings, one per (provider, key, kind): a second run over the same period finds the same rows
 * and moves no money. Operators resolve a finding with a replay or an adjustment (through
 * OperatorActions, audited), or mark it explained.
 */
export class VendorReconciler {
  readonly #db: Db;
  readonly #vendors: (provider: string) => VendorApi | undefined;
  readonly #actions: OperatorActions;
  readonly #audit: Audit;

  readonly #stuckAfterMs: number;
  readonly #wallet: { execute(op: WalletOperation): Promise<Outcome> } | undefined;
  readonly #resultSettlesRound: (provider: string) => boolean;

  /**
   * `wallet`: the gateway's (its player locks included), to pay a lost win as the vendor's transaction
   * itself; `resultSettlesRound`: whether the provider's result settles its round (its adapter says).
   */
  constructor(
    db: Db,
    vendors: (provider: string) => VendorApi | undefined,
    actions: OperatorActions,
    audit: Audit,
    options: { stuckAfterMs?: number; wallet?: { execute(op: WalletOperation): Promise<Outcome> }; resultSettlesRound?: (provider: string) => boolean } = {},
  ) {
    this.#db = db;
    this.#vendors = vendors;
    this.#actions = actions;
    this.#audit = audit;
    this.#stuckAfterMs = options.stuckAfterMs ?? STUCK_AFTER_MS;
    this.#wallet = options.wallet;
    this.#resultSettlesRound = options.resultSettlesRound ?? (() => false);
  }

  /** Whether the provider's vendor serves its records (else its exports are imported). */
  offersRecords(provider: string): boolean {
    return this.#vendors(provider)?.records !== undefined;
  }

  /** Compares the provider's period as its vendor's API lists it. */
  async run(actor: Actor, provider: string, from: Date, to: Date): Promise<RunSummary> {
    const api = this.#vendors(provider);
    if (!api?.records) throw new ReconcileError('no_records', `provider ${provider} has no records API: import its export instead`);
    const run = await this.#start(actor, provider, from, to, 'api');
    const records = await api.records({ from: new Date(from.getTime() - MARGIN_MS), to: new Date(to.getTime() + MARGIN_MS) });
    if (!records.ok) {
      await this.#db.updateTable('vendor_reconcile_runs').set({ finished_at: new Date(), error: `${records.error}: ${records.detail}` }).where('id', '=', run).execute();
      throw new ReconcileError('vendor', `the vendor's records: ${records.error}: ${records.detail}`);
    }
    return this.#finish(actor, run, provider, from, to, 'api', records.value, api.currency);
  }

  /**
   * Compares the provider's period with records the vendor exported (a file imported by an operator),
   * in the export's currency: a provider whose dialect names a currency per call holds several.
   */
  async import(actor: Actor, provider: string, from: Date, to: Date, exported: VendorExport): Promise<RunSummary> {
    const run = await this.#start(actor, provider, from, to, 'import');
    return this.#finish(actor, run, provider, from, to, 'import', exported.records, exported.currency);
  }

  async #start(actor: Actor, provider: string, from: Date, to: Date, source: 'api' | 'import'): Promise<bigint> {
    if (!(to > from)) throw new ReconcileError('invalid', 'the period must end after it starts');
    const row = await this.#db
      .insertInto('vendor_reconcile_runs')
      .values({ provider_id: provider, period_from: from, period_to: to, source, started_by: actor.name })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** `currency`: the vendor's records are in it, and are compared with the ledger's money in it only. */
  async #finish(actor: Actor, run: bigint, provider: string, from: Date, to: Date, source: 'api' | 'import', records: readonly VendorRecord[], currency: Currency): Promise<RunSummary> {
    const [ledger, rollbacks, stuck, users] = await Promise.all([
      this.#ledger(provider, from, to),
      this.#rollbacks(provider, from, to),
      this.#stuck(provider, currency, from, to),
      this.#db.selectFrom('provider_users').innerJoin('players', 'players.id', 'provider_users.player_id').select(['provider_users.user_code', 'players.code']).where('provider_users.provider_id', '=', provider).execute(),
    ]);
    // A vendor that names players by the casino's own code (no user API) maps each code to itself.
    const players = new Map<string, string>([...records.map((r) => [r.user, r.user] as const), ...users.map((u) => [u.user_code, u.code] as const)]);
    const { matched, findings } = compare(records, ledger, rollbacks, { from, to }, { players, currency });
    const all = [...findings, ...stuck];
    // New facts are other money, players, rounds or states; not a time (a vendor may restamp a row),
    // nor the count of refunds a cancel's comparison saw (kept for its resolution's guard only).
    const facts = (side: 'vendor' | 'ledger', row: 'vendor_findings' | 'excluded') => {
      const v = sql.ref(`${row}.${side}`);
      return sql`case jsonb_typeof(${v}) when 'object' then nullif(${v} - 'at' - 'refunds', '{}'::jsonb)
        when 'array' then (select jsonb_agg(case jsonb_typeof(e) when 'object' then e - 'at' else e end) from jsonb_array_elements(${v}) e)
        else ${v} end`;
    };
    const changed = sql`(${facts('vendor', 'vendor_findings')} is distinct from ${facts('vendor', 'excluded')} or ${facts('ledger', 'vendor_findings')} is distinct from ${facts('ledger', 'excluded')})`;
    const wasCleared = sql`coalesce(vendor_findings.resolution ->> 'action' = 'cleared', false)`;
    let cleared = 0;
    await this.#db.transaction().execute(async (trx) => {
      for (const f of all) {
        await sql`
          insert into vendor_findings (provider_id, key, kind, at, player_code, currency, detail, vendor, ledger, first_run, last_run)
          values (${provider}, ${f.key}, ${f.kind}, ${f.at}, ${f.player}, ${f.currency}, ${f.detail}, ${JSON.stringify(f.vendor ?? null)}::jsonb, ${JSON.stringify(f.ledger ?? null)}::jsonb, ${run}, ${run})
          on conflict (provider_id, key, kind) do update set last_run = excluded.last_run, detail = excluded.detail, vendor = excluded.vendor, ledger = excluded.ledger,
            -- Other facts under a resolved finding's key are a new discrepancy: open again (its resolution
            -- is in the audit trail); so is one a run had cleared, found again.
            state = case when ${changed} or ${wasCleared} then 'open' else vendor_findings.state end,
            resolved_by = case when ${changed} or ${wasCleared} then null else vendor_findings.resolved_by end,
            resolved_at = case when ${changed} or ${wasCleared} then null else vendor_findings.resolved_at end,
            resolution = case when ${changed} or ${wasCleared} then null else vendor_findings.resolution end`.execute(trx);
      }
      // An open finding of this period and currency that this run no longer finds is settled: the
      // vendor's late call arrived, the export was imported in its own currency, the stuck round
      // ended. Closed as cleared by this run, and opened again should a later run find it again.
      const gone = await trx
        .updateTable('vendor_findings')
        .set({ state: 'resolved', resolved_by: actor.name, resolved_at: new Date(), resolution: JSON.stringify({ action: 'cleared', run: run.toString(), note: 'not found again by a later comparison of its period' }) })
        .where('provider_id', '=', provider)
        .where('state', '=', 'open')
        .where('at', '>=', from)
        .where('at', '<', to)
        .where('currency', '=', currency)
        .where('last_run', '<>', run)
        .returning('id')
        .execute();
      cleared = gone.length;
      await trx.updateTable('vendor_reconcile_runs').set({ finished_at: new Date(), vendor_records: records.length, matched, findings: all.length }).where('id', '=', run).execute();
    });
    const rows = all.length
      ? await this.#db
          .selectFrom('vendor_findings')
          .selectAll()
          .where('provider_id', '=', provider)
          .where((eb) => eb.or(all.map((f) => eb.and([eb('key', '=', f.key), eb('kind', '=', f.kind)]))))
          .orderBy('at')
          .execute()
      : [];
    const open = rows.filter((r) => r.state === 'open').length;
    await this.#audit.record({ actor, action: 'vendor_reconcile', target: provider, outcome: 'ok', detail: { run: run.toString(), from: from.toISOString(), to: to.toISOString(), source, vendorRecords: records.length, matched, findings: all.length, open, cleared } });
    return { run: run.toString(), provider, from: from.toISOString(), to: to.toISOString(), source, vendorRecords: records.length, matched, open, cleared, findings: rows.map((r) => findingJson(r)) };
  }

  /**
   * The provider's debits and credits around the period, in every currency (compare() reports on the
   * records' own, and finds a record of money moved in another), with the vendor's user code of each player.
   */
  async #ledger(provider: string, from: Date, to: Date): Promise<LedgerTransaction[]> {
    const { rows } = await sql<{ id: string; kind: LedgerTransaction['kind']; user_code: string | null; player: string; round: string | null; amount: bigint; currency: string; status: string; rolled_back: boolean; at: Date }>`
      select pt.external_id as id, pt.kind, u.user_code, p.code as player, r.external_id as round, pt.amount, pt.currency, pt.status,
        exists (select 1 from rollbacks rb where rb.provider_id = pt.provider_id and rb.target_external_id = pt.external_id and rb.transfer_id is not null) as rolled_back,
        pt.created_at as at
      from provider_transactions pt
      join players p on p.id = pt.player_id
      left join provider_users u on u.player_id = pt.player_id and u.provider_id = pt.provider_id
      left join rounds r on r.id = pt.round_id
      where pt.provider_id = ${provider}
        and pt.created_at >= ${new Date(from.getTime() - MARGIN_MS)} and pt.created_at < ${new Date(to.getTime() + MARGIN_MS)}`.execute(this.#db);
    return rows.map((r) => ({ id: r.id, kind: r.kind, user: r.user_code ?? r.player, player: r.player, round: r.round, amount: r.amount, currency: r.currency.trim(), applied: r.status === 'applied', rolledBack: r.rolled_back, at: r.at }));
  }

  /** The money moved back around the period, in every currency: rollbacks, and cancels of bet lines (a refund of their own). */
  async #rollbacks(provider: string, from: Date, to: Date): Promise<LedgerRollback[]> {
    const [start, end] = [new Date(from.getTime() - MARGIN_MS), new Date(to.getTime() + MARGIN_MS)];
    const { rows } = await sql<{ target: string; round: string | null; user_code: string | null; player: string; amount: bigint; currency: string; at: Date }>`
      select rb.target_external_id as target, r.external_id as round, u.user_code, p.code as player, t.amount, t.currency, rb.created_at as at
      from rollbacks rb
      join transfers t on t.id = rb.transfer_id
      join players p on p.id = rb.player_id
      left join provider_transactions pt on pt.id = rb.target_id
      left join rounds r on r.id = pt.round_id
      left join provider_users u on u.player_id = rb.player_id and u.provider_id = rb.provider_id
      where rb.provider_id = ${provider} and rb.created_at >= ${start} and rb.created_at < ${end}
      union all
      select c.external_id, r.external_id, u.user_code, p.code, t.amount, t.currency, c.created_at
      from provider_transactions c
      join transfers t on t.id = c.transfer_id
      join players p on p.id = c.player_id
      left join rounds r on r.id = c.round_id
      left join provider_users u on u.player_id = c.player_id and u.provider_id = c.provider_id
      where c.provider_id = ${provider} and c.kind = 'refund' and c.status = 'applied' and c.created_at >= ${start} and c.created_at < ${end}`.execute(this.#db);
    return rows.map((r) => ({ target: r.target, round: r.round, user: r.user_code ?? r.player, player: r.player, amount: r.amount, currency: r.currency.trim(), at: r.at }));
  }

  /**
   * Rounds begun in the period, older than the stuck threshold, on which nothing came back: every line
   * still open, no line settled or cancelled, no win paid on the round. (A command-dialect round never
   * settles its lines, but its win, even of 0, comes back; an event-dialect round settles them.)
   */
  async #stuck(provider: string, currency: Currency, from: Date, to: Date): Promise<Finding[]> {
    const before = new Date(Math.min(to.getTime(), Date.now() - this.#stuckAfterMs));
    const { rows } = await sql<{ round: string; player: string; currency: string; at: Date; open: number; staked: bigint }>`
      select r.external_id as round, p.code as player, r.currency, r.created_at as at, count(*)::int as open, sum(l.amount)::bigint as staked
      from rounds r join players p on p.id = r.player_id join bet_lines l on l.round_id = r.id and l.state = 'open'
      where r.provider_id = ${provider} and r.currency = ${currency} and r.created_at >= ${from} and r.created_at < ${before}
        and not exists (select 1 from bet_lines x where x.round_id = r.id and x.state <> 'open')
        and not exists (select 1 from provider_transactions c where c.round_id = r.id and c.kind = 'credit' and c.status = 'applied')
        and not exists (select 1 from rollbacks rb join provider_transactions t on t.id = rb.target_id where t.round_id = r.id and rb.transfer_id is not null)
      group by r.id, p.code`.execute(this.#db);
    return rows.map((r) => ({
      key: `round:${r.player}:${r.round}`,
      kind: 'stuck_round' as const,
      at: r.at,
      player: r.player,
      currency: r.currency?.trim() ?? null,
      detail: `round ${r.round} of ${r.player} has ${r.open} open line(s) staking ${amountText(r.staked, r.currency?.trim() ?? null)}, unsettled since ${r.at.toISOString()}`,
      ledger: { round: r.round, openLines: r.open, staked: r.staked.toString() },
    }));
  }

  async findings(f: { provider?: string | undefined; state?: string | undefined; limit: number; before?: bigint | undefined }): Promise<FindingView[]> {
    let q = this.#db.selectFrom('vendor_findings').selectAll().orderBy('id', 'desc').limit(f.limit);
    if (f.provider) q = q.where('provider_id', '=', f.provider);
    if (f.state) q = q.where('state', '=', f.state as Row['state']);
    if (f.before !== undefined) q = q.where('id', '<', f.before);
    return (await q.execute()).map((r) => findingJson(r));
  }

  async runs(provider: string | undefined, limit: number) {
    let q = this.#db.selectFrom('vendor_reconcile_runs').selectAll().orderBy('id', 'desc').limit(limit);
    if (provider) q = q.where('provider_id', '=', provider);
    return (await q.execute()).map((r) => ({
      id: r.id.toString(),
      provider: r.provider_id,
      from: r.period_from.toISOString(),
      to: r.period_to.toISOString(),
      source: r.source,
      startedBy: r.started_by,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      vendorRecords: r.vendor_records,
      matched: r.matched,
      findings: r.findings,
      error: r.error,
    }));
  }

  /**
   * Resolves an open finding: explained (a note), replayed (a stored webhook run again, which must
   * apply), or adjusted (a cashier deposit or withdrawal, referenced by the finding so it is applied
   * once). Audited, with the finding, the action and the note.
   *
   * One resolution of a finding at a time, across gateway processes: its row is held until the
   * resolution and its audit entry commit, so a second request (a double click, two operators) is
   * answered that it is under way, or finds it resolved, instead of moving money again. Money moved
   * before a crash that lost the resolution is not moved again by the next attempt: a win paid as the
   * vendor's own is a repeat; a cancel's refund, made since the comparison, refuses any other; a
   * cashier adjustment takes the same reference (the count of resolutions committed).
   */
  async resolve(actor: Actor, id: bigint, how: Resolution): Promise<ResolveResult> {
    try {
      return await this.#db.transaction().execute((trx) => this.#resolve(trx, actor, id, how));
    } catch (error) {
      if (error instanceof UnderWay) return { ok: false, reason: 'not_open', message: `finding ${id} is being resolved by another request` };
      throw error;
    }
  }

  async #resolve(trx: Db, actor: Actor, id: bigint, how: Resolution): Promise<ResolveResult> {
    const row = await trx
      .selectFrom('vendor_findings')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .noWait()
      .executeTakeFirst()
      .catch((error: unknown) => {
        // Held by a resolution under way: not waited for (each waiter would hold a pooled connection the one under way may need).
        throw (error as { code?: string }).code === '55P03' ? new UnderWay() : error;
      });
    if (!row) return { ok: false, reason: 'not_found', message: `no finding ${id}` };
    if (row.state !== 'open') return { ok: false, reason: 'not_open', message: `finding ${id} is already ${row.state}` };
    // The wallet moved it, in another currency: nothing is owed in this one (an export imported in the wrong currency).
    if (row.kind === 'currency_mismatch' && how.action !== 'explain') return this.#refused(actor, row, how, `the wallet moved it in another currency (${row.detail}): import the export in its own currency, or explain this finding`);
    let resolution: Record<string, unknown>;
    if (how.action === 'explain') {
      resolution = { action: 'explain', note: how.note };
    } else if (how.action === 'replay') {
      const unrelated = await this.#unrelated(row, how.webhookId);
      if (unrelated) return this.#refused(actor, row, how, unrelated);
      const replayed = await this.#actions.replay(actor, how.webhookId);
      if (replayed.outcome !== 'ok' && replayed.outcome !== 'duplicate') return this.#refused(actor, row, how, `the replay of webhook ${how.webhookId} ended ${replayed.outcome}${replayed.detail ? ` (${replayed.detail})` : ''}`);
      resolution = { action: 'replay', webhookId: how.webhookId.toString(), outcome: replayed.outcome, note: how.note ?? null };
    } else {
      if (!row.player_code || !row.currency || !isCurrency(row.currency)) return this.#refused(actor, row, how, 'this finding names no player wallet to adjust');
      const currency = asCurrency(row.currency);
      const parsed = parseAmount(how.amount, currency);
      if (!parsed.ok) return this.#refused(actor, row, how, `amount: ${parsed.reason}`);
      const amount = parsed.value;
      const asWin = (await this.#payAsWin(row, how, currency, amount)) ?? (await this.#payAsCancel(row, how, currency, amount));
      if (typeof asWin === 'string') return this.#refused(actor, row, how, asWin);
      if (asWin) {
        resolution = { action: 'adjust', direction: how.direction, amount: how.amount, currency: row.currency, paidAs: asWin.paidAs, transaction: asWin.transaction, outcome: asWin.outcome, balance: formatAmountFixed(asWin.balance, currency), note: how.note };
      } else {
        // One reference per time the finding is resolved: a repeat of this request applies once, and a
        // finding reopened by new facts can be adjusted again (by the difference, say).
        const earlier = await this.#db
          .selectFrom('audit_events')
          .select((e) => e.fn.countAll<string>().as('n'))
          .where('action', '=', 'finding_resolve')
          .where('target', '=', row.id.toString())
          .where('outcome', '=', 'ok')
          .executeTakeFirstOrThrow();
        const reference = Number(earlier.n) === 0 ? `reconcile-${row.id}` : `reconcile-${row.id}-${Number(earlier.n) + 1}`;
        // Checked on the player's wallet row held: no refund of the wallet's commits between the check and the deposit.
        const done = await this.#actions.cashier(actor, how.direction, row.player_code, currency, how.amount, reference, (trx, playerId) => this.#refundedOrHeld(trx, row, how, amount, playerId));
        if (!done.ok) return this.#refused(actor, row, how, `the adjustment was refused: ${done.message ?? done.reason}`);
        resolution = { action: 'adjust', direction: how.direction, amount: how.amount, currency: row.currency, reference, balance: formatAmountFixed(done.balance, currency), note: how.note };
      }
    }
    const updated = await trx
      .updateTable('vendor_findings')
      .set({ state: how.action === 'explain' ? 'explained' : 'resolved', resolved_by: actor.name, resolved_at: new Date(), resolution: JSON.stringify(resolution) })
      .where('id', '=', id)
      .where('state', '=', 'open')
      .returningAll()
      .executeTakeFirst();
    if (!updated) return { ok: false, reason: 'not_open', message: `finding ${id} was resolved meanwhile` };
    await this.#audit.record({ actor, action: 'finding_resolve', target: id.toString(), outcome: 'ok', detail: { provider: row.provider_id, kind: row.kind, key: row.key, ...resolution } }, trx);
    return { ok: true, finding: findingJson(updated) };
  }

  /**
   * Why a cashier deposit for a cancel the vendor lists would refund it twice, if it would:
   * - it names no round: no bet of the wallet's can be told to be the one it cancelled;
   * - the wallet holds more refunds of that amount to the player on that round than the comparison
   *   that found the cancel missing saw (the vendor's late cancel arrived, or an earlier try of this
   *   resolution refunded it and then lost its answer);
   * - the wallet holds back a rollback of a bet of the round until a win is rolled back, and will
   *   refund it then (refundHeldBack);
   * - the player's open stake on the round covers it, and no single bet of that amount was there to
   *   roll back (two such bets, a bet with lines of its own cancelled): the vendor's cancel, arriving
   *   late, refunds the bet it names, whichever that is, and a deposit beside it pays twice.
   */
  async #refundedOrHeld(db: Db, row: Row, how: Extract<Resolution, { action: 'adjust' }>, amount: Minor, playerId: bigint): Promise<string | undefined> {
    if (!row.key.startsWith('cancel:') || how.direction !== 'deposit') return undefined;
    const listed = (row.vendor as { round?: unknown } | null)?.round;
    if (typeof listed !== 'string') return "the vendor's cancel names no round, so no bet of the wallet's can be told to be the one it cancelled: replay or import the vendor's cancel (it names its bet), or explain the finding";
    const round = listed;
    // Counted, not dated: a refund whose transaction began before the comparison and committed after
    // its reads is one the comparison did not see, whatever its time says.
    const seen = BigInt((row.ledger as { refunds?: number } | null)?.refunds ?? 0);
    const { rows } = await sql<{ n: string }>`
      with since as (select period_from - ${`${MARGIN_MS} milliseconds`}::interval as at from vendor_reconcile_runs where id = ${row.last_run})
      select ((select count(*) from rollbacks rb
          join transfers t on t.id = rb.transfer_id
          join provider_transactions pt on pt.id = rb.target_id
          join rounds r on r.id = pt.round_id
          where rb.provider_id = ${row.provider_id} and rb.player_id = ${playerId} and r.external_id = ${round}
            and t.amount = ${amount} and rb.created_at >= (select at from since))
        + (select count(*) from provider_transactions c
          join transfers t on t.id = c.transfer_id
          join rounds r on r.id = c.round_id
          where c.provider_id = ${row.provider_id} and c.player_id = ${playerId} and r.external_id = ${round}
            and c.kind = 'refund' and c.status = 'applied' and t.amount = ${amount} and c.created_at >= (select at from since)))::text as n`.execute(db);
    if (BigInt(rows[0]?.n ?? '0') > seen) return `the wallet has refunded that much on round ${round} since the comparison that found this cancel missing: compare the period again (a deposit would refund it twice)`;
    const [held] = await heldBackRollbacks(db, row.provider_id, playerId, round);
    if (held) return `the wallet holds back the rollback of bet ${held.externalId} until the win on round ${round} is rolled back, and refunds it then (a deposit would refund it twice)`;
    const { rows: stake } = await sql<{ open: string }>`
      select coalesce(sum(l.amount), 0)::text as open
      from bet_lines l join rounds r on r.id = l.round_id
      where r.provider_id = ${row.provider_id} and r.player_id = ${playerId} and r.external_id = ${round} and l.state = 'open'`.execute(db);
    const open = BigInt(stake[0]?.open ?? '0');
    if (open >= amount) return `round ${round} still holds ${formatAmountFixed(open, asCurrency(row.currency!))} ${row.currency} of open stakes, and the vendor's cancel, arriving late, would refund the bet it names beside a deposit: replay or import the vendor's cancel instead (it names what it cancels), or explain the finding`;
    return undefined;
  }

  /**
   * A win the vendor lists and the wallet never saw, paid by a deposit, is paid as that win: the
   * vendor's transaction id, on its round, through the wallet. When the win itself arrives later (a
   * retry, a replay, the vendor's export imported) it is then a repeat and pays nothing; paid by a
   * cashier deposit, it would pay a second time. So it is paid as listed, at the vendor's amount (any
   * other is refused: paid under the win's id, the difference could never be told apart), and a win
   * the wallet refuses for good (cancelled before it arrived, its id taken by other content, ...) is
   * refused, not paid by the cashier: the wallet has its reason, and the late win would meet it too.
   */
  async #payAsWin(row: Row, how: Extract<Resolution, { action: 'adjust' }>, currency: Currency, amount: Minor): Promise<PaidAs | string | undefined> {
    const listed = row.vendor as Partial<Record<keyof VendorRecord, unknown>> | null;
    if (!this.#wallet || row.kind !== 'missing_at_casino' || row.ledger !== null || how.direction !== 'deposit') return undefined;
    if (!listed || Array.isArray(listed) || listed.kind !== 'win' || typeof listed.id !== 'string' || typeof listed.round !== 'string') return undefined;
    if (typeof listed.amount !== 'string' || amount !== BigInt(listed.amount)) {
      return `the vendor lists this win at ${typeof listed.amount === 'string' ? formatAmountFixed(BigInt(listed.amount), currency) : '(no amount)'}: a deposit for it is paid as that win, at that amount (or explain the finding)`;
    }
    const win = { op: 'credit', provider: ProviderId(row.provider_id), player: PlayerCode(row.player_code!), currency, txId: ExternalTxId(listed.id), roundId: listed.round, amount } as const;
    // Where the result settles its round, so does the win paid in its place: its lines left open, a
    // change or cancel arriving after the late result (a repeat) would pay them again. Their figures
    // are unknown, so such a change is refused (stale_change), recorded for an operator.
    const settles = this.#resultSettlesRound(row.provider_id);
    let outcome = await this.#apply(settles ? { ...win, closes: true } : win);
    // The round holds no stake of the player's (its bet was lost too) or is settled: neither is the
    // win's fate for good (the lost bet may still arrive), so a cashier deposit could be paid again by
    // the late win. Paid without a stake (a promotional win, by finance's decision), it is still that
    // win: the late one is a repeat. It closes nothing: the late bet is then taken, as the vendor took it.
    // A round settled where the result settles it was settled by a result or a change already: the
    // lost result pays nothing more there (rule 13), so the refusal stands.
    if (typeof outcome !== 'string' && outcome.type === 'refused' && (outcome.reason === 'no_stake' || (outcome.reason === 'round_settled' && !settles))) {
      outcome = await this.#apply({ ...win, stakeFree: true });
    }
    if (typeof outcome === 'string') return outcome;
    if (outcome.type === 'ok' || outcome.type === 'duplicate') return { paidAs: 'win', transaction: listed.id, outcome: outcome.type, balance: outcome.balance };
    return `the wallet refuses win ${listed.id} (${outcome.type === 'refused' ? outcome.reason : outcome.type}): a deposit would pay what it refuses (explain the finding)`;
  }

  /** The operation through the gateway's wallet; a fault (a lock not had in time) is a refusal to try again, with nothing moved. */
  async #apply(op: WalletOperation): Promise<Outcome | string> {
    try {
      return await this.#wallet!.execute(op);
    } catch (error) {
      return `the wallet could not apply it now (${(error as Error).message}); nothing moved, try again`;
    }
  }

  /**
   * A cancel the vendor lists and the wallet never applied (a bet of the player's on that round, of
   * that amount, still standing), refunded by a deposit, is refunded as the rollback of that bet: when
   * the vendor's cancel itself arrives later it finds the bet already rolled back and refunds nothing.
   * With no such bet, or more than one, undefined: the cashier pays.
   */
  async #payAsCancel(row: Row, how: Extract<Resolution, { action: 'adjust' }>, currency: Currency, amount: Minor): Promise<PaidAs | string | undefined> {
    const listed = row.vendor as Partial<Record<keyof VendorRecord, unknown>> | null;
    if (!this.#wallet || row.kind !== 'status_mismatch' || !row.key.startsWith('cancel:') || how.direction !== 'deposit' || !row.player_code) return undefined;
    if (!listed || Array.isArray(listed) || listed.kind !== 'cancel' || typeof listed.amount !== 'string') return undefined;
    // A refund of what the vendor cancelled: its amount, not one typed (paid from the cashier, any other
    // would stand beside the vendor's late cancel, which refunds the bet itself).
    if (amount !== BigInt(listed.amount)) return `the vendor lists this cancel at ${formatAmountFixed(BigInt(listed.amount), currency)} ${currency}: a deposit for it refunds that amount (or explain the finding)`;
    if (typeof listed.round !== 'string') return undefined;
    const bets = await this.#db
      .selectFrom('provider_transactions as t')
      .innerJoin('players as p', 'p.id', 't.player_id')
      .innerJoin('rounds as r', 'r.id', 't.round_id')
      .select('t.external_id')
      .where('t.provider_id', '=', row.provider_id)
      .where('p.code', '=', row.player_code)
      .where('r.external_id', '=', listed.round)
      .where('t.kind', '=', 'debit')
      .where('t.status', '=', 'applied')
      .where('t.amount', '=', amount)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('rollbacks as b').select('b.id').whereRef('b.target_id', '=', 't.id'))))
      // Every line still open: its rollback then refunds exactly its amount.
      .where((eb) => eb.not(eb.exists(eb.selectFrom('bet_lines as l').select('l.id').whereRef('l.provider_transaction_id', '=', 't.id').where('l.state', '<>', 'open'))))
      .limit(2)
      .execute();
    if (bets.length !== 1) return undefined;
    const target = bets[0]!.external_id;
    const outcome = await this.#apply({ op: 'rollback', provider: ProviderId(row.provider_id), player: PlayerCode(row.player_code), currency, target: ExternalTxId(target) });
    if (typeof outcome === 'string') return outcome;
    if (outcome.type === 'ok' && outcome.moved !== false) return { paidAs: 'cancel', transaction: target, outcome: outcome.type, balance: outcome.balance };
    // Refused (a win the vendor paid stands on the bet, say: its rollback refunds the bet then): the
    // wallet has its reason, and a cashier deposit would be refunded again when the bet goes back.
    return `the wallet refuses to roll back bet ${target} (${outcome.type === 'refused' ? `${outcome.reason}${outcome.detail ? `: ${outcome.detail}` : ''}` : outcome.type}): a deposit would refund it twice (explain the finding, or resolve it once the wallet takes it)`;
  }

  /**
   * Why a webhook cannot resolve this finding, if it cannot. It must be the provider's, and:
   * - a finding about one transaction (keyed by its id): a call of that transaction;
   * - a cancel the wallet never applied: a cancel or rollback of the player's on that round;
   * - a stuck round: a call of the player's that pays or refunds on that round;
   * - a refund the vendor does not list: none (the wallet's side is right; explain or adjust it).
   * Replaying some other call that answers "ok" or "duplicate" would otherwise close it with nothing paid.
   */
  async #unrelated(row: Row, webhookId: bigint): Promise<string | undefined> {
    const hook = await this.#db.selectFrom('webhooks').select(['provider_id', 'transaction_id', 'player_code', 'operation']).where('id', '=', webhookId).executeTakeFirst();
    if (!hook) return undefined; // the replay says "not found"
    if (hook.provider_id !== row.provider_id) return `webhook ${webhookId} is ${hook.provider_id}'s, not ${row.provider_id}'s`;
    if (!/^(cancel|rollback|round):/.test(row.key)) {
      return hook.transaction_id === row.key ? undefined : `webhook ${webhookId} is not a call of transaction ${row.key}`;
    }
    if (row.key.startsWith('rollback:')) return 'the wallet refunded it and the vendor does not list it: a replay adds nothing (explain or adjust it)';
    const op = hook.operation as { op?: string; roundId?: string; target?: string } | null;
    const round = row.key.startsWith('cancel:') ? (row.vendor as { round?: unknown } | null)?.round : row.key.slice(`round:${row.player_code ?? ''}:`.length);
    const kinds = row.key.startsWith('cancel:') ? ['rollback', 'cancel_bets'] : ['credit', 'settle', 'adjust', 'rollback', 'cancel_bets'];
    if (hook.player_code !== row.player_code || !op?.op || !kinds.includes(op.op)) return `webhook ${webhookId} is not a ${kinds.join(' or ')} of player ${row.player_code ?? '(none)'}`;
    const onRound = op.roundId !== undefined ? op.roundId === round : op.target !== undefined && (await this.#roundOf(row.provider_id, op.target)) === round;
    return onRound ? undefined : `webhook ${webhookId} is not a call on round ${String(round)}`;
  }

  /** The round (its vendor id) of a provider transaction, if the wallet has it. */
  async #roundOf(provider: string, txId: string): Promise<string | undefined> {
    const found = await this.#db
      .selectFrom('provider_transactions as t')
      .innerJoin('rounds as r', 'r.id', 't.round_id')
      .select('r.external_id')
      .where('t.provider_id', '=', provider)
      .where('t.external_id', '=', txId)
      .executeTakeFirst();
    return found?.external_id ?? undefined;
  }

  async #refused(actor: Actor, row: Row, how: Resolution, message: string): Promise<ResolveResult> {
    await this.#audit.record({ actor, action: 'finding_resolve', target: row.id.toString(), outcome: 'refused', detail: { provider: row.provider_id, kind: row.kind, action: how.action, reason: message } });
    return { ok: false, reason: 'refused', message };
  }
}

/** The finding's row is held by a resolution under way (its lock not had at once). */
class UnderWay extends Error {}

/** A deposit made as the vendor's own transaction: the win it lists, or the rollback of the bet it lists cancelled. */
interface PaidAs {
  paidAs: 'win' | 'cancel';
  transaction: string;
  outcome: string;
  /** The player's balance after it, in minor units. */
  balance: Minor;
}

export class ReconcileError extends Error {
  readonly reason: 'no_records' | 'vendor' | 'invalid';
  constructor(reason: 'no_records' | 'vendor' | 'invalid', message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * The scheduled run (hourly, one BullMQ job across every gateway process): each provider whose vendor
 * serves records, over the last closed hour. Findings are keyed, so a run repeated after a crash or
 * by a second process adds nothing.
 */
export async function reconcileLastHour(reconciler: VendorReconciler, providers: readonly string[], log: { info(o: object, m: string): void; warn(o: object, m: string): void }, now = new Date()): Promise<RunSummary[]> {
  const to = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000);
  const from = new Date(to.getTime() - 3_600_000);
  const done: RunSummary[] = [];
  for (const provider of providers.filter((p) => reconciler.offersRecords(p))) {
    try {
      const summary = await reconciler.run({ name: 'scheduler', via: 'cli' }, provider, from, to);
      done.push(summary);
      (summary.open ? log.warn : log.info).call(log, { provider, from, to, matched: summary.matched, open: summary.open }, 'vendor reconciliation of the last hour');
    } catch (err) {
      log.warn({ err, provider }, 'vendor reconciliation of the last hour failed');
    }
  }
  return done;
}
