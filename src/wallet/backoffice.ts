import { sql, type Transaction } from 'kysely';
import type { Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';
import { HouseAccounts } from '../ledger/accounts.ts';
import { PgError, pgErrorCode, transact, type Db } from '../ledger/database.ts';
import type { Database, PlayerStatus } from '../ledger/schema.ts';
import type { PlayerCode } from './types.ts';

/** Two players' cashier operations can race for one reference: the loser runs again and sees a conflict. */
const CASHIER_RACE_KEYS = new Set(['cashier_operations_reference_key']);
/** The largest bigint (ids are below it): a paged list with no `before` starts from the newest row. */
const LAST_ID = 2n ** 63n - 1n;

/** `not_owed`: the caller's guard found the money owed no more (or not yet), under the wallet's lock. */
export type BackOfficeRefusal = 'unknown_player' | 'player_exists' | 'currency_mismatch' | 'insufficient_funds' | 'conflict' | 'not_owed';

export type BackOfficeResult<T> = { ok: true; value: T; repeat?: boolean } | { ok: false; reason: BackOfficeRefusal; message?: string };

/**
 * A check a cashier operation runs on the player's wallet row held (so no wallet operation of the
 * player's commits between it and the transfer): why the money is not owed, if it is not.
 */
export type CashierGuard = (trx: Transaction<Database>, playerId: bigint) => Promise<string | undefined>;

export interface PlayerView {
  code: PlayerCode;
  status: PlayerStatus;
  wallets: { currency: string; balance: Minor }[];
}

export interface HistoryEntry {
  transferId: bigint;
  kind: string;
  currency: string;
  /** Signed change of the player's wallet. */
  delta: Minor;
  provider: string | null;
  externalId: string | null;
  reference: string | null;
  createdAt: Date;
}

export interface RoundEntry {
  roundId: bigint;
  provider: string;
  externalId: string;
  currency: string | null;
  createdAt: Date;
  settledAt: Date | null;
  /** Its bet lines: how many, how many still open, how many cancelled. */
  lines: number;
  open: number;
  cancelled: number;
  /** The stakes its lines took, and what the round paid the player: its wins, results and changes, less those rolled back. */
  staked: Minor;
  paid: Minor;
}

/** The casino's own operations on players and their money: cashier deposits and withdrawals, blocking. */
export class BackOffice {
  readonly #db: Db;
  readonly #house: HouseAccounts;

  constructor(db: Db, house: HouseAccounts = new HouseAccounts()) {
    this.#db = db;
    this.#house = house;
  }

  async createPlayer(code: PlayerCode, currencies: readonly Currency[]): Promise<BackOfficeResult<PlayerView>> {
    try {
      await this.#db.transaction().execute(async (trx) => {
        const { id } = await trx.insertInto('players').values({ code }).returning('id').executeTakeFirstOrThrow();
        for (const currency of new Set(currencies)) {
          await trx.insertInto('accounts').values({ kind: 'player', player_id: id, currency, provider_id: null }).execute();
        }
      });
    } catch (error) {
      if (pgErrorCode(error) === PgError.uniqueViolation) return { ok: false, reason: 'player_exists' };
      throw error;
    }
    return this.player(code);
  }

  async player(code: PlayerCode): Promise<BackOfficeResult<PlayerView>> {
    const player = await this.#db.selectFrom('players').select(['id', 'code', 'status']).where('code', '=', code).executeTakeFirst();
    if (!player) return { ok: false, reason: 'unknown_player' };
    const wallets = await this.#db
      .selectFrom('accounts')
      .select(['currency', 'balance'])
      .where('kind', '=', 'player')
      .where('player_id', '=', player.id)
      .orderBy('currency')
      .execute();
    return { ok: true, value: { code: player.code as PlayerCode, status: player.status, wallets } };
  }

  async setStatus(code: PlayerCode, status: PlayerStatus): Promise<BackOfficeResult<PlayerView>> {
    const updated = await this.#db
      .updateTable('players')
      .set({ status, updated_at: new Date() })
      .where('code', '=', code)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return { ok: false, reason: 'unknown_player' };
    return this.player(code);
  }

  /**
   * Moves money between the cashier and a player's wallet. `reference` is the back office's own
   * idempotency key: a repeat with the same content answers the original result, other content is refused.
   */
  async cashier(
    kind: 'deposit' | 'withdrawal',
    code: PlayerCode,
    currency: Currency,
    amount: Minor,
    reference: string,
    guard?: CashierGuard,
  ): Promise<BackOfficeResult<{ balance: Minor }>> {
    return transact(this.#db, CASHIER_RACE_KEYS, async (trx) => {
      const wallet = await trx
        .selectFrom('players as p')
        .innerJoin('accounts as a', (join) => join.onRef('a.player_id', '=', 'p.id').on('a.kind', '=', 'player').on('a.currency', '=', currency))
        .select(['p.id as playerId', 'a.id as accountId', 'a.balance'])
        .where('p.code', '=', code)
        .forUpdate('a')
        .executeTakeFirst();
      if (!wallet) {
        const known = await trx.selectFrom('players').select('id').where('code', '=', code).executeTakeFirst();
        return { ok: false, reason: known ? 'currency_mismatch' : 'unknown_player' };
      }
      const existing = await trx
        .selectFrom('cashier_operations')
        .select(['player_id', 'kind', 'currency', 'amount'])
        .where('reference', '=', reference)
        .executeTakeFirst();
      if (existing) {
        const same = existing.player_id === wallet.playerId && existing.kind === kind && existing.currency === currency && existing.amount === amount;
        return same ? { ok: true, value: { balance: wallet.balance }, repeat: true } : { ok: false, reason: 'conflict' };
      }
      if (kind === 'withdrawal' && wallet.balance < amount) return { ok: false, reason: 'insufficient_funds' };
      const why = guard ? await guard(trx, wallet.playerId) : undefined;
      if (why !== undefined) return { ok: false, reason: 'not_owed', message: why };
      const cashier = await this.#house.idFor(trx, { kind: 'cashier', currency }, wallet.playerId);
      const [from, to] = kind === 'deposit' ? [cashier, wallet.accountId] : [wallet.accountId, cashier];
      const { id } = await trx
        .insertInto('transfers')
        .values({ debit_account_id: from, credit_account_id: to, amount, currency, kind })
        .returning('id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('cashier_operations')
        .values({ reference, player_id: wallet.playerId, kind, currency, amount, transfer_id: id })
        .execute();
      return { ok: true, value: { balance: kind === 'deposit' ? wallet.balance + amount : wallet.balance - amount } };
    });
  }

  /** A paged list's player and where its page starts (`before`: the last id of the previous page; none, from the newest). */
  async #pageStart(code: PlayerCode, before: bigint | undefined): Promise<{ player: { id: bigint }; before: bigint } | undefined> {
    const player = await this.#db.selectFrom('players').select('id').where('code', '=', code).executeTakeFirst();
    return player && { player, before: before ?? LAST_ID };
  }

  /** The player's wallet movements, newest first; `before` is the last transfer id of the previous page. */
  async history(code: PlayerCode, options: { limit: number; before?: bigint }): Promise<BackOfficeResult<HistoryEntry[]>> {
    const page = await this.#pageStart(code, options.before);
    if (!page) return { ok: false, reason: 'unknown_player' };
    const { player, before } = page;
    const { rows } = await sql<{
      id: bigint;
      kind: string;
      currency: string;
      delta: bigint;
      provider: string | null;
      external_id: string | null;
      reference: string | null;
      created_at: Date;
    }>`
      with moves as (
        (select t.id, t.amount as delta from accounts a join transfers t on t.credit_account_id = a.id
          where a.kind = 'player' and a.player_id = ${player.id} and t.id < ${before} order by t.id desc limit ${options.limit})
        union all
        (select t.id, -t.amount from accounts a join transfers t on t.debit_account_id = a.id
          where a.kind = 'player' and a.player_id = ${player.id} and t.id < ${before} order by t.id desc limit ${options.limit})
      )
      select t.id, t.kind, t.currency, m.delta, t.created_at,
        coalesce(p.provider_id, tp.provider_id) as provider,
        coalesce(p.external_id, tp.external_id) as external_id,
        c.reference
      from (select * from moves order by id desc limit ${options.limit}) m
      join transfers t on t.id = m.id
      left join provider_transactions p on p.transfer_id = t.id
      left join rollbacks r on r.transfer_id = t.id
      left join provider_transactions tp on tp.id = r.target_id
      left join cashier_operations c on c.transfer_id = t.id
      order by t.id desc`.execute(this.#db);
    return {
      ok: true,
      value: rows.map((r) => ({
        transferId: r.id,
        kind: r.kind,
        currency: r.currency.trim(),
        delta: r.delta,
        provider: r.provider,
        externalId: r.external_id,
        reference: r.reference,
        createdAt: r.created_at,
      })),
    };
  }

  /** Players whose code starts with `prefix`, in code order (index players_code_prefix). */
  async search(prefix: string, limit: number): Promise<{ code: string; status: PlayerStatus }[]> {
    const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.#db.selectFrom('players').select(['code', 'status']).where('code', 'like', pattern).orderBy('code').limit(limit).execute();
  }

  /**
   * The player's rounds, newest first, with what their lines staked and paid and their state; `before`
   * is the last round id of the previous page.
   */
  async rounds(code: PlayerCode, options: { limit: number; before?: bigint }): Promise<BackOfficeResult<RoundEntry[]>> {
    const page = await this.#pageStart(code, options.before);
    if (!page) return { ok: false, reason: 'unknown_player' };
    const { player, before } = page;
    const { rows } = await sql<{
      id: bigint;
      provider_id: string;
      external_id: string;
      currency: string | null;
      created_at: Date;
      settled_at: Date | null;
      lines: number;
      open: number;
      cancelled: number;
      staked: bigint;
      paid: bigint;
    }>`
      select r.id, r.provider_id, r.external_id, r.currency, r.created_at, r.settled_at,
        count(l.id)::int as lines,
        count(l.id) filter (where l.state = 'open')::int as open,
        count(l.id) filter (where l.state = 'cancelled')::int as cancelled,
        coalesce(sum(l.amount), 0)::bigint as staked,
        -- From its payments, not its lines: a win that pays without itemising (the command and Hub88
        -- dialects', a closing win) settles no line with a payout.
        (coalesce((select sum(case when tr.credit_account_id = a.id then tr.amount else -tr.amount end)
           from provider_transactions t
           join transfers tr on tr.id = t.transfer_id
           join accounts a on a.player_id = t.player_id and a.kind = 'player' and a.currency = t.currency
           where t.round_id = r.id and t.kind in ('credit', 'adjust') and t.status = 'applied'), 0)
         - coalesce((select sum(tr.amount) from provider_transactions t
           join rollbacks b on b.target_id = t.id join transfers tr on tr.id = b.transfer_id
           where t.round_id = r.id and t.kind = 'credit'), 0))::bigint as paid
      from rounds r left join bet_lines l on l.round_id = r.id
      where r.player_id = ${player.id} and r.id < ${before}
      group by r.id
      order by r.id desc
      limit ${options.limit}`.execute(this.#db);
    return {
      ok: true,
      value: rows.map((r) => ({
        roundId: r.id,
        provider: r.provider_id,
        externalId: r.external_id,
        currency: r.currency?.trim() ?? null,
        createdAt: r.created_at,
        settledAt: r.settled_at,
        lines: r.lines,
        open: r.open,
        cancelled: r.cancelled,
        staked: r.staked,
        paid: r.paid,
      })),
    };
  }
}
