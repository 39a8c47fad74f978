import { sql, type Transaction } from 'kysely';
import type { Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';
import type { HouseAccounts } from '../ledger/accounts.ts';
import { ahead, PgError, prepared } from '../ledger/database.ts';
import type { Database, PlayerStatus, ProviderTransactionKind, TransferKind } from '../ledger/schema.ts';
import type { ExternalTxId, PlayerCode, ProviderId, Refusal } from './types.ts';

export type Trx = Transaction<Database>;

export interface LockedWallet {
  playerId: bigint;
  status: PlayerStatus;
  accountId: bigint;
  balance: Minor;
}

export interface KnownTx {
  id: bigint;
  player_id: bigint;
  kind: ProviderTransactionKind;
  currency: string;
  amount: bigint;
  status: 'applied' | 'refused';
  refusal: string | null;
  round: string | null;
}

export interface NewTx {
  provider: ProviderId;
  txId: ExternalTxId;
  kind: ProviderTransactionKind;
  currency: Currency;
  amount: Minor;
  roundId?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

export interface KnownLine {
  id: bigint;
  ref: string;
  amount: bigint;
  /** The debit carrying the line was refused or rolled back as a whole: the line holds no money. */
  settled: boolean;
}

/** Everything an operation decides on, read in one statement with the wallet row locked. */
export interface Snapshot {
  wallet: LockedWallet;
  /** The provider transaction with the operation's key (its own id, or a rollback's target). */
  tx: KnownTx | undefined;
  /** A rollback marker naming that key. */
  marker: { id: bigint; target_id: bigint | null; player_id: bigint } | undefined;
  /** The player's round of the operation's round id at that provider. */
  round: { id: bigint; currency: string } | undefined;
}

/**
 * The loser of a race the wallet lock does not order (the same player's round created meanwhile by
 * an operation in another currency): the transaction is rolled back and run again, and then sees it.
 */
export class LostRace extends Error {
  readonly code = PgError.serializationFailure;
}

/** The ledger rows the wallet rules read and write, inside one operation's transaction. */
export class Records {
  readonly #trx: Trx;
  readonly #house: HouseAccounts;

  constructor(trx: Trx, house: HouseAccounts) {
    this.#trx = trx;
    this.#house = house;
  }

  /** Loads (and with `lock`, locks) the player's wallet in `currency`, or says why there is none. */
  async wallet(player: PlayerCode, currency: Currency, lock: boolean): Promise<LockedWallet | Refusal> {
    let query = this.#trx
      .selectFrom('players as p')
      .innerJoin('accounts as a', (join) => join.onRef('a.player_id', '=', 'p.id').on('a.kind', '=', sql.lit('player')).on('a.currency', '=', currency))
      .select(['p.id as playerId', 'p.status', 'a.id as accountId', 'a.balance'])
      .where('p.code', '=', player);
    if (lock) query = query.forUpdate('a');
    const [row] = (await this.#trx.executeQuery(prepared(query, this.#trx))).rows;
    if (row) return row;
    const known = await this.#trx.selectFrom('players').select('id').where('code', '=', player).executeTakeFirst();
    return known ? 'currency_mismatch' : 'unknown_player';
  }

  /**
   * One round trip: the wallet (locked with `lock`), the transaction and rollback marker keyed
   * `key`, and the round `roundId`, or why the player has no wallet in `currency`.
   *
   * The lock is its own statement, run before the read: under READ COMMITTED a statement that
   * waits for a row lock sees the locked row as the holder left it but every other table as of its
   * own start, so a read that locked the wallet itself could miss the transaction, rollback marker
   * or round that a concurrent operation of the player (in another process, or with Redis away)
   * committed while it waited, and take a bet its rollback had refused or refuse a rollback of a
   * bet it then left standing. The read after the lock starts once the lock is held: it sees all.
   *
   * The round is looked up by its whole key (provider, player, round id) whatever the statistics
   * say: joined plainly, the planner could take the index on (provider, round id) alone, a scan of
   * every round of the provider, which grows with the ledger (0.9 ms at 33k rounds, found in a
   * generic plan; the LIMIT keeps the subquery from being flattened into that join).
   */
  async snapshot(
    player: PlayerCode,
    currency: Currency,
    at: { provider: ProviderId; key: ExternalTxId; roundId?: string | undefined },
    lock = true,
  ): Promise<Snapshot | Refusal> {
    if (lock) {
      await this.#trx.executeQuery(
        ahead(
          sql`select a.id from players p join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = ${currency}
            where p.code = ${player} for update of a`,
          this.#trx,
        ),
      );
    }
    const { rows } = await this.#trx.executeQuery(
      prepared(
        sql<Record<string, any>>`
      select p.id as player_id, p.status, a.id as account_id, a.balance,
        t.id as tx_id, t.player_id as tx_player_id, t.kind as tx_kind, t.currency as tx_currency, t.amount as tx_amount,
        t.status as tx_status, t.refusal as tx_refusal, tr.external_id as tx_round,
        m.id as marker_id, m.target_id as marker_target_id, m.player_id as marker_player_id,
        r.id as round_id, r.currency as round_currency
      from players p
      join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = ${currency}
      left join provider_transactions t on t.provider_id = ${at.provider} and t.external_id = ${at.key}
      left join rounds tr on tr.id = t.round_id
      left join rollbacks m on m.provider_id = ${at.provider} and m.target_external_id = ${at.key}
      left join lateral (
        select r.id, r.currency from rounds r
        where r.provider_id = ${at.provider} and r.player_id = p.id and r.external_id = ${at.roundId ?? null} limit 1
      ) r on true
      where p.code = ${player}`,
        this.#trx,
      ),
    );
    const row = rows[0];
    if (!row) {
      const known = await this.#trx.selectFrom('players').select('id').where('code', '=', player).executeTakeFirst();
      return known ? 'currency_mismatch' : 'unknown_player';
    }
    return {
      wallet: { playerId: row.player_id, status: row.status, accountId: row.account_id, balance: row.balance },
      tx:
        row.tx_id === null
          ? undefined
          : {
              id: row.tx_id,
              player_id: row.tx_player_id,
              kind: row.tx_kind,
              currency: row.tx_currency,
              amount: row.tx_amount,
              status: row.tx_status,
              refusal: row.tx_refusal,
              round: row.tx_round,
            },
      marker: row.marker_id === null ? undefined : { id: row.marker_id, target_id: row.marker_target_id, player_id: row.marker_player_id },
      round: row.round_id === null ? undefined : { id: row.round_id, currency: row.round_currency },
    };
  }

  /**
   * Records a provider transaction in one statement: its round (unless `knownRound`), its transfer
   * when it moves money (the transfer's trigger moves both balances), and the transaction itself.
   */
  async post(
    tx: NewTx,
    playerId: bigint,
    knownRound: bigint | undefined,
    result: { status: 'applied'; from: bigint; to: bigint; amount: Minor; kind: TransferKind } | { status: 'refused'; refusal: Refusal },
  ): Promise<{ id: bigint; roundId: bigint | null }> {
    const newRound = tx.roundId !== undefined && knownRound === undefined;
    const applied = result.status === 'applied';
    const { rows } = await this.#trx.executeQuery(
      prepared(
        sql<{ id: bigint; round_id: bigint | null }>`
      with new_round as (
        insert into rounds (provider_id, external_id, player_id, currency)
        select ${tx.provider}, ${tx.roundId ?? null}, ${playerId}, ${tx.currency} where ${newRound}
        on conflict on constraint round_unique do nothing
        returning id
      ), moved as (
        insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
        select ${applied ? result.from : null}::bigint, ${applied ? result.to : null}::bigint, ${applied ? result.amount : null}::bigint,
          ${tx.currency}, ${applied ? result.kind : null}
        where ${applied}
        returning id
      )
      insert into provider_transactions
        (provider_id, external_id, player_id, kind, currency, amount, round_id, details, status, refusal, transfer_id)
      values (${tx.provider}, ${tx.txId}, ${playerId}, ${tx.kind}, ${tx.currency}, ${tx.amount},
        ${newRound ? sql`(select id from new_round)` : sql`${knownRound ?? null}::bigint`},
        ${tx.details ? JSON.stringify(tx.details) : null}::jsonb, ${result.status}, ${applied ? null : result.refusal},
        (select id from moved))
      returning id, round_id`,
        this.#trx,
      ),
    );
    const row = rows[0]!;
    if (newRound && row.round_id === null) throw new LostRace('the round was created meanwhile');
    return { id: row.id, roundId: row.round_id };
  }

  insertRollback(provider: ProviderId, target: ExternalTxId, playerId: bigint, targetId: bigint | null, transferId: bigint | null) {
    return this.#trx
      .insertInto('rollbacks')
      .values({ provider_id: provider, target_external_id: target, player_id: playerId, target_id: targetId, transfer_id: transferId })
      .execute();
  }

  gameAccount(provider: ProviderId, currency: Currency, playerId: bigint): Promise<bigint> {
    return this.#house.idFor(this.#trx, { kind: 'game', provider, currency }, playerId);
  }

  async transfer(from: bigint, to: bigint, amount: Minor, currency: Currency, kind: TransferKind): Promise<bigint> {
    const { id } = await this.#trx
      .insertInto('transfers')
      .values({ debit_account_id: from, credit_account_id: to, amount, currency, kind })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  async insertLines(transactionId: bigint, roundId: bigint, lines: readonly { ref: string; amount: Minor }[]): Promise<void> {
    if (lines.length === 0) return;
    await this.#trx
      .insertInto('bet_lines')
      .values(lines.map((l) => ({ provider_transaction_id: transactionId, round_id: roundId, ref: l.ref, amount: l.amount })))
      .execute();
  }

  /** The named bet lines of a round already placed, with whether their money is still on the table. */
  async lines(roundId: bigint, refs: readonly string[]): Promise<Map<string, KnownLine>> {
    if (refs.length === 0) return new Map();
    const rows = await this.#trx
      .selectFrom('bet_lines as l')
      .innerJoin('provider_transactions as t', 't.id', 'l.provider_transaction_id')
      .select(['l.id', 'l.ref', 'l.amount'])
      .select((eb) =>
        eb
          .or([eb('t.status', '<>', 'applied'), eb.exists(eb.selectFrom('rollbacks as r').select('r.id').whereRef('r.target_id', '=', 't.id'))])
          .as('settled'),
      )
      .where('l.round_id', '=', roundId)
      .where('l.ref', 'in', refs)
      .execute();
    return new Map(rows.map((r) => [r.ref, { ...r, settled: Boolean(r.settled) }]));
  }

  /** Which of the named bet lines of a round have been cancelled (possibly before they arrived). */
  async cancelledLines(provider: ProviderId, playerId: bigint, roundExternalId: string, refs: readonly string[]): Promise<Set<string>> {
    if (refs.length === 0) return new Set();
    const rows = await this.#trx
      .selectFrom('line_cancels')
      .select('ref')
      .where('provider_id', '=', provider)
      .where('player_id', '=', playerId)
      .where('round_external_id', '=', roundExternalId)
      .where('ref', 'in', refs)
      .execute();
    return new Set(rows.map((r) => r.ref));
  }

  async insertLineCancels(
    provider: ProviderId,
    roundExternalId: string,
    playerId: bigint,
    cancelId: bigint,
    lines: readonly { ref: string; lineId: bigint | null }[],
  ): Promise<void> {
    if (lines.length === 0) return;
    await this.#trx
      .insertInto('line_cancels')
      .values(
        lines.map((l) => ({ provider_id: provider, round_external_id: roundExternalId, ref: l.ref, player_id: playerId, line_id: l.lineId, cancel_id: cancelId })),
      )
      .execute();
  }

  /** The bet lines a debit carries, in its order. */
  linesOf(transactionId: bigint) {
    return this.#trx.selectFrom('bet_lines').select(['ref', 'amount']).where('provider_transaction_id', '=', transactionId).orderBy('id').execute();
  }

  /** Whether the round already holds an applied credit not rolled back (it has been settled). */
  async settled(roundId: bigint): Promise<boolean> {
    const row = await this.#trx
      .selectFrom('provider_transactions as t')
      .select('t.id')
      .where('t.round_id', '=', roundId)
      .where('t.kind', '=', 'credit')
      .where('t.status', '=', 'applied')
      .where((eb) => eb.not(eb.exists(eb.selectFrom('rollbacks as r').select('r.id').whereRef('r.target_id', '=', 't.id'))))
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Sum of the named debit's bet lines cancelled one by one: a later whole rollback refunds only the rest. */
  async cancelledAmountOf(transactionId: bigint): Promise<Minor> {
    const row = await this.#trx
      .selectFrom('line_cancels as c')
      .innerJoin('bet_lines as l', 'l.id', 'c.line_id')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<bigint>('l.amount'), sql<bigint>`0`).as('total'))
      .where('l.provider_transaction_id', '=', transactionId)
      .executeTakeFirstOrThrow();
    return BigInt(row.total);
  }

  /** What a round has paid the player so far: its credits and adjustments, less credits rolled back. */
  async paidForRound(roundId: bigint, walletAccountId: bigint): Promise<Minor> {
    const { rows } = await sql<{ paid: bigint }>`
      select coalesce(sum(case when tr.credit_account_id = ${walletAccountId} then tr.amount else -tr.amount end), 0)::bigint as paid
      from provider_transactions t
      join transfers tr on tr.id = t.transfer_id
      where t.round_id = ${roundId} and t.kind in ('credit', 'adjust') and t.status = 'applied'
        and not exists (select 1 from rollbacks r where r.target_id = t.id)`.execute(this.#trx);
    return rows[0]!.paid;
  }

  async insertSession(provider: ProviderId, txId: ExternalTxId, playerId: bigint, kind: 'login' | 'logout', details?: Record<string, unknown>) {
    await this.#trx
      .insertInto('player_sessions')
      .values({ provider_id: provider, external_id: txId, player_id: playerId, kind, details: details ? JSON.stringify(details) : null })
      .onConflict((oc) => oc.constraint('player_session_unique').doNothing())
      .execute();
  }
}
