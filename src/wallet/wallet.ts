import type { Transaction } from 'kysely';
import type { Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';
import { HouseAccounts } from '../ledger/accounts.ts';
import { transact, type Db } from '../ledger/database.ts';
import type { Database, PlayerStatus, TransferKind } from '../ledger/schema.ts';
import type { Check, ExternalTxId, Outcome, PlayerCode, ProviderId, Refusal, WalletOperation } from './types.ts';

type Trx = Transaction<Database>;

interface LockedWallet {
  playerId: bigint;
  status: PlayerStatus;
  accountId: bigint;
  balance: Minor;
}

interface KnownTx {
  id: bigint;
  player_id: bigint;
  kind: 'debit' | 'credit';
  currency: string;
  amount: bigint;
  status: 'applied' | 'refused';
  refusal: string | null;
  round: string | null;
}

type MoneyOperation = Extract<WalletOperation, { op: 'debit' | 'credit' }>;
type RollbackOperation = Extract<WalletOperation, { op: 'rollback' }>;
type StatusOperation = Extract<WalletOperation, { op: 'status' }>;
type ReadOperation = Extract<WalletOperation, { op: 'authenticate' | 'balance' }>;

/** The wallet's own order for reporting failed checks when a dialect does not say otherwise. */
const DEFAULT_PRECEDENCE: readonly Check[] = ['player', 'active', 'unique', 'funds', 'target'];

/** Unique keys two players' concurrent operations can race for (their wallet locks do not order them). */
const RACE_KEYS = new Set(['provider_transaction_unique', 'rollback_unique', 'rounds_provider_id_external_id_key']);

const refused = (reason: Refusal, balance?: Minor, repeat?: boolean): Outcome => ({
  type: 'refused',
  reason,
  ...(balance !== undefined ? { balance } : {}),
  ...(repeat ? { repeat } : {}),
});

/**
 * The money rules (../shared/specs/wallet-semantics.md), dialect-free. Every operation is one
 * database transaction that first locks the player's wallet row, so any number of concurrent calls
 * for one player, from any number of processes, apply in some serial order. The database's own
 * constraints (non-negative wallet, unique provider transaction, insert-only ledger) back every rule.
 */
export class Wallet {
  readonly #db: Db;
  readonly #house: HouseAccounts;

  constructor(db: Db, house: HouseAccounts = new HouseAccounts()) {
    this.#db = db;
    this.#house = house;
  }

  execute(op: WalletOperation): Promise<Outcome> {
    return transact(this.#db, RACE_KEYS, (trx) => this.#apply(trx, op));
  }

  #apply(trx: Trx, op: WalletOperation): Promise<Outcome> {
    switch (op.op) {
      case 'authenticate':
      case 'balance':
        return this.#read(trx, op);
      case 'debit':
        return this.#debit(trx, op);
      case 'credit':
        return this.#credit(trx, op);
      case 'rollback':
        return this.#rollback(trx, op);
      case 'status':
        return this.#status(trx, op);
    }
  }

  async #read(trx: Trx, op: ReadOperation): Promise<Outcome> {
    const wallet = await this.#wallet(trx, op.player, op.currency, false);
    if ('type' in wallet) return wallet;
    const failure = pick({ active: op.requireActive && wallet.status === 'blocked' ? refused('player_blocked') : undefined }, op.precedence);
    return failure ?? { type: 'ok', balance: wallet.balance, moved: false };
  }

  async #debit(trx: Trx, op: MoneyOperation): Promise<Outcome> {
    const wallet = await this.#wallet(trx, op.player, op.currency, true);
    if ('type' in wallet) return wallet;
    const existing = await this.#findTx(trx, op.provider, op.txId);
    const cancelledFirst = !existing && (await this.#findRollback(trx, op.provider, op.txId)) !== undefined;
    const failure = pick(
      {
        active: wallet.status === 'blocked' ? refused('player_blocked', wallet.balance) : undefined,
        unique: existing ? repeatOf(existing, op, wallet) : cancelledFirst ? refused('rolled_back', wallet.balance) : undefined,
        funds: wallet.balance < op.amount ? refused('insufficient_funds', wallet.balance) : undefined,
      },
      op.precedence,
    );
    if (failure) {
      if (!existing && failure.type === 'refused') await this.#recordRefusal(trx, op, wallet, failure.reason);
      return failure;
    }
    return this.#applyMoney(trx, op, wallet, 'bet');
  }

  /** Credits are owed to the player: paid even when the player is blocked (rule 7). */
  async #credit(trx: Trx, op: MoneyOperation): Promise<Outcome> {
    const wallet = await this.#wallet(trx, op.player, op.currency, true);
    if ('type' in wallet) return wallet;
    const existing = await this.#findTx(trx, op.provider, op.txId);
    const cancelledFirst = !existing && (await this.#findRollback(trx, op.provider, op.txId)) !== undefined;
    const failure = pick(
      { unique: existing ? repeatOf(existing, op, wallet) : cancelledFirst ? refused('rolled_back', wallet.balance) : undefined },
      op.precedence,
    );
    if (failure) {
      if (!existing && failure.type === 'refused') await this.#recordRefusal(trx, op, wallet, failure.reason);
      return failure;
    }
    return this.#applyMoney(trx, op, wallet, 'win');
  }

  async #rollback(trx: Trx, op: RollbackOperation): Promise<Outcome> {
    const wallet = await this.#wallet(trx, op.player, op.currency, true);
    if ('type' in wallet) return wallet;
    const marker = await this.#findRollback(trx, op.provider, op.target);
    if (marker) {
      // A second rollback changes nothing; one of a transaction never seen stays "not found".
      return marker.target_id === null ? refused('target_not_found', wallet.balance, true) : { type: 'duplicate', balance: wallet.balance };
    }
    const target = await this.#findTx(trx, op.provider, op.target);
    if (target && (target.player_id !== wallet.playerId || target.currency !== op.currency)) {
      return refused('conflict', wallet.balance);
    }
    const mark = (targetId: bigint | null, transferId: bigint | null) =>
      trx
        .insertInto('rollbacks')
        .values({ provider_id: op.provider, target_external_id: op.target, player_id: wallet.playerId, target_id: targetId, transfer_id: transferId })
        .execute();
    if (!target) {
      // Rollback before the transaction: remembered durably so the late transaction is refused (rule 2).
      await mark(null, null);
      return refused('target_not_found', wallet.balance);
    }
    if (target.status === 'refused') {
      await mark(target.id, null); // nothing was taken, so nothing is given back (rule 4)
      return { type: 'ok', balance: wallet.balance, moved: false };
    }
    const game = await this.#house.idFor(trx, { kind: 'game', provider: op.provider, currency: op.currency }, wallet.playerId);
    let balance: Minor;
    let transferId: bigint;
    if (target.kind === 'debit') {
      transferId = await transfer(trx, game, wallet.accountId, target.amount, op.currency, 'bet_refund');
      balance = wallet.balance + target.amount;
    } else {
      if (wallet.balance < target.amount) return refused('insufficient_funds', wallet.balance);
      transferId = await transfer(trx, wallet.accountId, game, target.amount, op.currency, 'win_reversal');
      balance = wallet.balance - target.amount;
    }
    await mark(target.id, transferId);
    return { type: 'ok', balance, moved: true };
  }

  async #status(trx: Trx, op: StatusOperation): Promise<Outcome> {
    const wallet = await this.#wallet(trx, op.player, op.currency, false);
    if ('type' in wallet) return wallet;
    const tx = await this.#findTx(trx, op.provider, op.txId);
    const marker = await this.#findRollback(trx, op.provider, op.txId);
    const mine = (tx ?? marker)?.player_id === wallet.playerId;
    const state = !mine ? 'unknown' : marker ? 'cancelled' : tx?.status === 'refused' ? 'refused' : 'processed';
    return { type: 'status', state, balance: wallet.balance };
  }

  async #applyMoney(trx: Trx, op: MoneyOperation, wallet: LockedWallet, kind: 'bet' | 'win'): Promise<Outcome> {
    const game = await this.#house.idFor(trx, { kind: 'game', provider: op.provider, currency: op.currency }, wallet.playerId);
    const [from, to] = kind === 'bet' ? [wallet.accountId, game] : [game, wallet.accountId];
    const transferId = await transfer(trx, from, to, op.amount, op.currency, kind);
    await this.#insertTx(trx, op, wallet, { status: 'applied', transfer_id: transferId, refusal: null });
    return { type: 'ok', balance: kind === 'bet' ? wallet.balance - op.amount : wallet.balance + op.amount, moved: true };
  }

  /** A refused transaction is recorded too: a later rollback of it then knows there is nothing to give back. */
  async #recordRefusal(trx: Trx, op: MoneyOperation, wallet: LockedWallet, reason: Refusal): Promise<void> {
    await this.#insertTx(trx, op, wallet, { status: 'refused', transfer_id: null, refusal: reason });
  }

  async #insertTx(
    trx: Trx,
    op: MoneyOperation,
    wallet: LockedWallet,
    result: { status: 'applied' | 'refused'; transfer_id: bigint | null; refusal: Refusal | null },
  ): Promise<void> {
    const roundId = op.roundId === undefined ? null : await this.#round(trx, op.provider, op.roundId, wallet.playerId);
    await trx
      .insertInto('provider_transactions')
      .values({
        provider_id: op.provider,
        external_id: op.txId,
        player_id: wallet.playerId,
        kind: op.op,
        currency: op.currency,
        amount: op.amount,
        round_id: roundId,
        details: op.details ? JSON.stringify(op.details) : null,
        ...result,
      })
      .execute();
  }

  async #round(trx: Trx, provider: ProviderId, externalId: string, playerId: bigint): Promise<bigint> {
    const inserted = await trx
      .insertInto('rounds')
      .values({ provider_id: provider, external_id: externalId, player_id: playerId })
      .onConflict((oc) => oc.columns(['provider_id', 'external_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return inserted.id;
    const { id } = await trx
      .selectFrom('rounds')
      .select('id')
      .where('provider_id', '=', provider)
      .where('external_id', '=', externalId)
      .executeTakeFirstOrThrow();
    return id;
  }

  /** Loads (and with `lock`, locks) the player's wallet in `currency`, or says why there is none. */
  async #wallet(trx: Trx, player: PlayerCode, currency: Currency, lock: boolean): Promise<LockedWallet | Outcome> {
    let query = trx
      .selectFrom('players as p')
      .innerJoin('accounts as a', (join) => join.onRef('a.player_id', '=', 'p.id').on('a.kind', '=', 'player').on('a.currency', '=', currency))
      .select(['p.id as playerId', 'p.status', 'a.id as accountId', 'a.balance'])
      .where('p.code', '=', player);
    if (lock) query = query.forUpdate('a');
    const row = await query.executeTakeFirst();
    if (row) return row;
    const known = await trx.selectFrom('players').select('id').where('code', '=', player).executeTakeFirst();
    return refused(known ? 'currency_mismatch' : 'unknown_player');
  }

  async #findTx(trx: Trx, provider: ProviderId, txId: ExternalTxId): Promise<KnownTx | undefined> {
    return trx
      .selectFrom('provider_transactions as t')
      .leftJoin('rounds as r', 'r.id', 't.round_id')
      .select(['t.id', 't.player_id', 't.kind', 't.currency', 't.amount', 't.status', 't.refusal', 'r.external_id as round'])
      .where('t.provider_id', '=', provider)
      .where('t.external_id', '=', txId)
      .executeTakeFirst();
  }

  #findRollback(trx: Trx, provider: ProviderId, target: ExternalTxId) {
    return trx
      .selectFrom('rollbacks')
      .select(['id', 'target_id', 'player_id'])
      .where('provider_id', '=', provider)
      .where('target_external_id', '=', target)
      .executeTakeFirst();
  }
}

async function transfer(trx: Trx, from: bigint, to: bigint, amount: Minor, currency: string, kind: TransferKind): Promise<bigint> {
  const { id } = await trx
    .insertInto('transfers')
    .values({ debit_account_id: from, credit_account_id: to, amount, currency, kind })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** Idempotency with a content check (rule 1): same content replays the original outcome, other content is a conflict. */
function repeatOf(existing: KnownTx, op: MoneyOperation, wallet: LockedWallet): Outcome {
  const same =
    existing.player_id === wallet.playerId &&
    existing.kind === op.op &&
    existing.amount === op.amount &&
    existing.currency === op.currency &&
    existing.round === (op.roundId ?? null);
  if (!same) return refused('conflict', wallet.balance);
  if (existing.status === 'applied') return { type: 'duplicate', balance: wallet.balance };
  return refused(existing.refusal as Refusal, wallet.balance, true);
}

/** The first failed check, in the dialect's order, then the wallet's own. */
function pick(failures: Partial<Record<Check, Outcome | undefined>>, precedence: readonly Check[] = []): Outcome | undefined {
  for (const check of [...precedence, ...DEFAULT_PRECEDENCE]) {
    const failure = failures[check];
    if (failure) return failure;
  }
  return undefined;
}
