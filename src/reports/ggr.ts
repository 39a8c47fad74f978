import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Db } from '../ledger/database.ts';
import type { Database, ReportDaysTable } from '../ledger/schema.ts';
import { asCurrency, isCurrency } from '../money/currency.ts';
import { formatAmountFixed, type Minor } from '../money/minor.ts';

/**
 * Gross gaming revenue, read from the ledger: what each provider's games took and paid, per day
 * (UTC), game and currency.
 *
 * A result change that overtook its result settled the round with the corrected values (the late
 * result then pays nothing): it is the round's win, not a correction of one.
 *
 * Which day money belongs to: the day it moved (the transfer's transaction time, UTC). A result or
 * a cancel that arrives after midnight is in the new day, with its round's stake in the day before:
 * a closed day's figures never change afterwards, which is what revenue declared to a regulator
 * needs. (A day's RTP can then exceed 100% on a quiet day; a month's is exact up to the rounds open
 * at its end.)
 *
 * Closed days are computed once, by a scheduled job, into report_days; a report reads them from there,
 * and the days not yet done (today, or a day still settling: transactions started before midnight
 * commit just after it) from the ledger itself.
 */

/** A day is final this long after it ended: every transaction begun before midnight has committed. */
const SETTLE_MS = 10 * 60_000;
/**
 * Days rolled up per job run (every ten minutes): a ledger's history is caught up in small steps
 * (a day of a 10M-transfer ledger is a few seconds of one Postgres core), never in one long query
 * beside the live traffic.
 */
const DAYS_PER_RUN = 2;

export interface GgrTotals {
  rounds: bigint;
  players: bigint;
  bets: bigint;
  stakes: Minor;
  refunds: Minor;
  wins: Minor;
  reversals: Minor;
  /** Result changes, net: positive when the player was paid more. */
  adjustments: Minor;
  /** Free-bet, bonus and promotional wins (a stake-free win, kept apart from game wins), net of their reversals. */
  promoWins: Minor;
  /**
   * Cashier adjustments reconciliation made for the provider's findings (the vendor lists a win at
   * more than the wallet paid, a bet at less than it took), net to the players: game money paid
   * outside a game, in a row of the provider's with no game.
   */
  reconciliation: Minor;
}

export interface GgrRow extends GgrTotals {
  /** YYYY-MM-DD, or YYYY-MM when by month. */
  period: string;
  provider: string;
  game: string;
  currency: string;
}

export interface GgrQuery {
  /** First day (UTC, YYYY-MM-DD), inclusive. */
  from: string;
  /** Last day, inclusive. */
  to: string;
  by: 'day' | 'month';
  provider?: string | undefined;
  game?: string | undefined;
  currency?: string | undefined;
}

/** What the ledger's money says of one cut: GGR = stakes - refunds - (wins - reversals + adjustments + reconciliation). */
export function derived(t: GgrTotals): { paid: Minor; staked: Minor; ggr: Minor; ggrAfterPromotions: Minor; rtp: string | null } {
  const staked = t.stakes - t.refunds;
  const paid = t.wins - t.reversals + t.adjustments + t.reconciliation;
  const ggr = staked - paid;
  // RTP in percent with two decimals, exact (integer arithmetic, rounded half up). Negative on a day
  // whose reversals exceed its wins: bigint division truncates toward zero, so the floor is taken.
  const scaled = paid * 10_000n + staked / 2n;
  const rtp = staked > 0n ? formatAmountFixed(scaled / staked - (scaled < 0n && scaled % staked !== 0n ? 1n : 0n), asCurrency('USD')) : null;
  return { paid, staked, ggr, ggrAfterPromotions: ggr - t.promoWins, rtp };
}

/** A day's cut as Postgres gives it, a report_days row: the money sums as numeric text, exact past the largest bigint. */
type Raw = ReportDaysTable;

const ZERO: GgrTotals = { rounds: 0n, players: 0n, bets: 0n, stakes: 0n, refunds: 0n, wins: 0n, reversals: 0n, adjustments: 0n, promoWins: 0n, reconciliation: 0n };

const totalsOf = (r: Raw): GgrTotals => ({
  rounds: r.rounds,
  players: r.players,
  bets: r.bets,
  stakes: BigInt(r.stakes),
  refunds: BigInt(r.refunds),
  wins: BigInt(r.wins),
  reversals: BigInt(r.reversals),
  adjustments: BigInt(r.adjustments),
  promoWins: BigInt(r.promo_wins),
  reconciliation: BigInt(r.reconciliation),
});

const dayMs = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const startOf = (day: string) => Date.parse(`${day}T00:00:00Z`);

export class Reports {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** The ledger's money per UTC day, provider, game and currency, for the days in [fromDay, toDay). */
  async #fromLedger(fromDay: string, toDay: string, db: Kysely<Database> = this.#db): Promise<Raw[]> {
    const from = new Date(startOf(fromDay));
    const to = new Date(startOf(toDay));
    // A transaction and its transfer share their transaction's time: the BRIN index on the
    // provider transactions (and on the rollbacks) finds the period, the transfer comes by its key.
    // A message that names no game (a dialect may name it on the bet only: the event dialect's cancel
    // and result) is the game of its round, so a game's refunds and wins stand beside its stakes.
    const { rows } = await sql<Raw>`
      with moves as (
        select pt.created_at as at, pt.provider_id, coalesce(pt.game, (select g.game from provider_transactions g where g.round_id = pt.round_id and g.game is not null order by g.id limit 1), '') as game, pt.currency, pt.player_id, pt.round_id,
               -- A result change that overtook its result settled the round: it paid the round's result, a win.
               case when t.kind = 'adjustment' and exists (select 1 from rounds s where s.id = pt.round_id and s.settled_by = pt.id) then 'win' else t.kind::text end as kind,
               t.amount, ca.kind = 'player' as to_player
        from provider_transactions pt
        join transfers t on t.id = pt.transfer_id
        join accounts ca on ca.id = t.credit_account_id
        where pt.created_at >= ${from} and pt.created_at < ${to} and pt.transfer_id is not null
        union all
        select r.created_at, r.provider_id, coalesce(target.game, (select g.game from provider_transactions g where g.round_id = target.round_id and g.game is not null order by g.id limit 1), ''), t.currency, r.player_id, target.round_id,
               case when t.kind = 'win_reversal' and reversed.kind = 'promo_win' then 'promo_reversal' else t.kind::text end,
               t.amount, ca.kind = 'player'
        from rollbacks r
        join transfers t on t.id = r.transfer_id
        join accounts ca on ca.id = t.credit_account_id
        left join provider_transactions target on target.id = r.target_id
        left join transfers reversed on reversed.id = target.transfer_id
        where r.created_at >= ${from} and r.created_at < ${to} and r.transfer_id is not null
        union all
        -- A cashier adjustment a finding's resolution made (its audit entry, committed with the
        -- resolution, names the reference): the finding's provider's money, in no game, on the day
        -- it was resolved (a retry after a lost answer resolves with the operation made before).
        select a.at, a.detail ->> 'provider', '', c.currency, c.player_id, null::bigint, 'reconciliation', c.amount, c.kind = 'deposit'
        from audit_events a
        join cashier_operations c on c.reference = a.detail ->> 'reference'
        where a.action = 'finding_resolve' and a.outcome = 'ok' and a.at >= ${from} and a.at < ${to}
      )
      select to_char((at at time zone 'UTC')::date, 'YYYY-MM-DD') as day, provider_id, game, currency,
        count(distinct round_id) filter (where kind = 'bet') as rounds,
        count(distinct player_id) as players,
        count(*) filter (where kind = 'bet') as bets,
        coalesce(sum(amount) filter (where kind = 'bet'), 0)::text as stakes,
        coalesce(sum(amount) filter (where kind = 'bet_refund'), 0)::text as refunds,
        coalesce(sum(amount) filter (where kind = 'win'), 0)::text as wins,
        coalesce(sum(amount) filter (where kind = 'win_reversal'), 0)::text as reversals,
        coalesce(sum(case when to_player then amount else -amount end) filter (where kind = 'adjustment'), 0)::text as adjustments,
        (coalesce(sum(amount) filter (where kind = 'promo_win'), 0) - coalesce(sum(amount) filter (where kind = 'promo_reversal'), 0))::text as promo_wins,
        coalesce(sum(case when to_player then amount else -amount end) filter (where kind = 'reconciliation'), 0)::text as reconciliation
      from moves
      group by 1, 2, 3, 4`.execute(db);
    return rows;
  }

  /** The closed days not rolled up yet, oldest first, at most `limit`. */
  async #pendingDays(limit: number, now: number): Promise<string[]> {
    const first = await this.#db.selectFrom('provider_transactions').select('created_at').orderBy('id').limit(1).executeTakeFirst();
    if (!first) return [];
    const lastClosed = dayOf(now - SETTLE_MS - dayMs);
    const done = new Set((await this.#db.selectFrom('report_days_done').select(sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day')).execute()).map((r) => r.day));
    const out: string[] = [];
    for (let ms = startOf(dayOf(first.created_at.getTime())); dayOf(ms) <= lastClosed && out.length < limit; ms += dayMs) {
      if (!done.has(dayOf(ms))) out.push(dayOf(ms));
    }
    return out;
  }

  /**
   * Computes closed days into report_days (the scheduled job; several processes may run it at once:
   * a transaction-scoped advisory lock lets one do a day, and a done day is never redone). Returns
   * the days it did.
   */
  async rollUp(now = Date.now(), days = DAYS_PER_RUN): Promise<string[]> {
    const did: string[] = [];
    for (const day of await this.#pendingDays(days, now)) {
      const next = dayOf(startOf(day) + dayMs);
      const rows = await this.#fromLedger(day, next);
      const done = await this.#db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('croupier.report_days'))`.execute(trx);
        const already = await trx.selectFrom('report_days_done').select('day').where('day', '=', day).executeTakeFirst();
        if (already) return false;
        if (rows.length) await trx.insertInto('report_days').values(rows).execute();
        await trx.insertInto('report_days_done').values({ day }).execute();
        return true;
      });
      if (done) did.push(day);
    }
    return did;
  }

  /** GGR per day or month, provider, game and currency, for the days from `from` to `to` (inclusive, UTC). */
  async ggr(q: GgrQuery, now = Date.now()): Promise<GgrRow[]> {
    const end = dayOf(startOf(q.to) + dayMs);
    // Which days are rolled up, their rows and the other days' ledger in one snapshot: a day the job
    // commits between two of these reads would otherwise be counted from both.
    const { rolled, live } = await this.#db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute(async (trx) => {
        const doneRows = await trx.selectFrom('report_days_done').select(sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day')).where('day', '>=', q.from).where('day', '<', end).execute();
        const done = new Set(doneRows.map((r) => r.day));
        const rolled = (await sql<Raw>`
          select to_char(day, 'YYYY-MM-DD') as day, provider_id, game, currency, rounds, players, bets,
            stakes::text, refunds::text, wins::text, reversals::text, adjustments::text, promo_wins::text, reconciliation::text
          from report_days where day >= ${q.from} and day < ${end}`.execute(trx)).rows;
        // The days of the period not rolled up (today, a day still settling, or a job behind): from the ledger, a query per run of consecutive days.
        const today = dayOf(now);
        const pending: string[] = [];
        for (let ms = startOf(q.from); ms <= startOf(q.to) && dayOf(ms) <= today; ms += dayMs) if (!done.has(dayOf(ms))) pending.push(dayOf(ms));
        const live: Raw[] = [];
        for (let i = 0; i < pending.length; ) {
          let j = i;
          while (j + 1 < pending.length && startOf(pending[j + 1]!) === startOf(pending[j]!) + dayMs) j++;
          live.push(...(await this.#fromLedger(pending[i]!, dayOf(startOf(pending[j]!) + dayMs), trx)));
          i = j + 1;
        }
        return { rolled, live };
      });
    const rows = [...rolled, ...live].filter(
      (r) => (q.provider === undefined || r.provider_id === q.provider) && (q.game === undefined || r.game === q.game) && (q.currency === undefined || r.currency === q.currency),
    );
    const groups = new Map<string, GgrRow>();
    for (const r of rows) {
      const period = q.by === 'month' ? r.day.slice(0, 7) : r.day;
      const key = [period, r.provider_id, r.game, r.currency].join('\u0000');
      const sum = groups.get(key) ?? { period, provider: r.provider_id, game: r.game, currency: r.currency, ...ZERO };
      const t = totalsOf(r);
      for (const k of Object.keys(ZERO) as (keyof GgrTotals)[]) sum[k] += t[k];
      groups.set(key, sum);
    }
    return [...groups.values()].sort((a, b) => a.period.localeCompare(b.period) || a.provider.localeCompare(b.provider) || a.currency.localeCompare(b.currency) || a.game.localeCompare(b.game));
  }
}

/** A row as /v1 and the CLI give it: amounts as exact decimal strings in the currency's units. */
export function ggrJson(r: GgrRow, by: 'day' | 'month') {
  const money = (v: Minor) => (isCurrency(r.currency) ? formatAmountFixed(v, asCurrency(r.currency)) : v.toString());
  const d = derived(r);
  return {
    period: r.period,
    provider: r.provider,
    game: r.game,
    currency: r.currency,
    rounds: r.rounds.toString(),
    // Distinct players of a day; summed over a month's days, a player counts once per day played.
    [by === 'day' ? 'players' : 'playerDays']: r.players.toString(),
    bets: r.bets.toString(),
    stakes: money(r.stakes),
    refunds: money(r.refunds),
    wins: money(r.wins),
    reversals: money(r.reversals),
    adjustments: money(r.adjustments),
    promoWins: money(r.promoWins),
    reconciliation: money(r.reconciliation),
    ggr: money(d.ggr),
    ggrAfterPromotions: money(d.ggrAfterPromotions),
    rtp: d.rtp,
  };
}

/** A cell: quoted when it must be; text a spreadsheet would run as a formula (=, +, -, @ first, and not a number) kept as text with a leading apostrophe. */
function csvCell(v: string | null): string {
  if (v === null) return '';
  const formula = /^[=+\-@\t\r]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v);
  const text = formula ? `'${v}` : v;
  return formula || /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The same rows as CSV (a header line, one line per row); a cell that a spreadsheet would run as a formula is quoted as text. */
export function ggrCsv(rows: readonly GgrRow[], by: 'day' | 'month'): string {
  const json = rows.map((r) => ggrJson(r, by));
  const header = ['period', 'provider', 'game', 'currency', 'rounds', by === 'day' ? 'players' : 'playerDays', 'bets', 'stakes', 'refunds', 'wins', 'reversals', 'adjustments', 'promoWins', 'reconciliation', 'ggr', 'ggrAfterPromotions', 'rtp'];
  const lines = json.map((j) => header.map((h) => csvCell((j as Record<string, string | null>)[h] ?? null)).join(','));
  return `${[header.join(','), ...lines].join('\r\n')}\r\n`;
}
