import { sql, type Transaction } from 'kysely';
import type { Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';
import type { HouseAccounts } from '../ledger/accounts.ts';
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
      .innerJoin('accounts as a', (join) => join.onRef('a.player_id', '=', 'p.id').on('a.kind', '=', 'player').on('a.currency', '=', currency))
      .select(['p.id as playerId', 'p.status', 'a.id as accountId', 'a.balance'])
      .where('p.code', '=', player);
    if (lock) query = query.forUpdate('a');
    const row = await query.executeTakeFirst();
    if (row) return row;
    const known = await this.#trx.selectFrom('players').select('id').where('code', '=', player).executeTakeFirst();
    return known ? 'currency_mismatch' : 'unknown_player';
  }

  findTx(provider: ProviderId, txId: ExternalTxId): Promise<KnownTx | undefined> {
    return this.#trx
      .selectFrom('provider_transactions as t')
      .leftJoin('rounds as r', 'r.id', 't.round_id')
      .select(['t.id', 't.player_id', 't.kind', 't.currency', 't.amount', 't.status', 't.refusal', 'r.external_id as round'])
      .where('t.provider_id', '=', provider)
      .where('t.external_id', '=', txId)
      .executeTakeFirst();
  }

  findRollback(provider: ProviderId, target: ExternalTxId) {
    return this.#trx
      .selectFrom('rollbacks')
      .select(['id', 'target_id', 'player_id'])
      .where('provider_id', '=', provider)
      .where('target_external_id', '=', target)
      .executeTakeFirst();
  }

  insertRollback(provider: ProviderId, target: ExternalTxId, playerId: bigint, targetId: bigint | null, transferId: bigint | null) {
    return this.#trx
      .insertInto('rollbacks')
      .values({ provider_id: provider, target_external_id: target, player_id: playerId, target_id: targetId, transfer_id: transferId })
      .execute();
  }

  /** The player's round of that id at that provider (a live table's round is one round per player). */
  findRound(provider: ProviderId, externalId: string, playerId: bigint) {
    return this.#trx
      .selectFrom('rounds')
      .select(['id', 'currency'])
      .where('provider_id', '=', provider)
      .where('player_id', '=', playerId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
  }

  async round(provider: ProviderId, externalId: string, playerId: bigint, currency: Currency): Promise<bigint> {
    const inserted = await this.#trx
      .insertInto('rounds')
      .values({ provider_id: provider, external_id: externalId, player_id: playerId, currency })
      .onConflict((oc) => oc.constraint('round_unique').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return inserted.id;
    const { id } = (await this.findRound(provider, externalId, playerId))!;
    return id;
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

  async insertTx(
    tx: NewTx,
    playerId: bigint,
    result: { status: 'applied'; transferId: bigint } | { status: 'refused'; refusal: Refusal },
  ): Promise<{ id: bigint; roundId: bigint | null }> {
    const roundId = tx.roundId === undefined ? null : await this.round(tx.provider, tx.roundId, playerId, tx.currency);
    const { id } = await this.#trx
      .insertInto('provider_transactions')
      .values({
        provider_id: tx.provider,
        external_id: tx.txId,
        player_id: playerId,
        kind: tx.kind,
        currency: tx.currency,
        amount: tx.amount,
        round_id: roundId,
        details: tx.details ? JSON.stringify(tx.details) : null,
        status: result.status,
        transfer_id: result.status === 'applied' ? result.transferId : null,
        refusal: result.status === 'refused' ? result.refusal : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id, roundId };
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
