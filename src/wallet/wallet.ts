import type { Minor } from '../money/minor.ts';
import { HouseAccounts } from '../ledger/accounts.ts';
import { transact, type Db } from '../ledger/database.ts';
import { Records, type KnownTx, type LockedWallet, type Snapshot, type Trx } from './records.ts';
import type { Check, Outcome, Refusal, WalletOperation } from './types.ts';

export type Within<T> = (trx: Trx, outcome: Outcome) => Promise<T>;

type Op<K extends WalletOperation['op']> = Extract<WalletOperation, { op: K }>;
type MoneyOperation = Op<'debit' | 'credit' | 'cancel_bets' | 'adjust'>;

/** The wallet's own order for reporting failed checks when a dialect does not say otherwise. */
const DEFAULT_PRECEDENCE: readonly Check[] = ['player', 'active', 'unique', 'funds', 'target'];

/** Unique keys two players' concurrent operations can race for (their wallet locks do not order them). */
const RACE_KEYS = new Set([
  'provider_transaction_unique',
  'rollback_unique',
  'round_unique',
  'bet_line_unique',
  'line_cancel_unique',
  'player_session_unique',
]);

const refused = (reason: Refusal, balance?: Minor, repeat?: boolean): Outcome => ({
  type: 'refused',
  reason,
  ...(balance !== undefined ? { balance } : {}),
  ...(repeat ? { repeat } : {}),
});

const KIND: Record<MoneyOperation['op'], KnownTx['kind']> = { debit: 'debit', credit: 'credit', cancel_bets: 'refund', adjust: 'adjust' };

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

  execute(op: WalletOperation): Promise<Outcome>;
  /** `within` runs in the operation's transaction once its outcome is known, and commits (or not) with it. */
  execute<T>(op: WalletOperation, within: Within<T>): Promise<T>;
  execute<T>(op: WalletOperation, within?: Within<T>): Promise<Outcome | T> {
    return transact(this.#db, RACE_KEYS, async (trx) => {
      const outcome = await this.#apply(trx, op);
      return within ? within(trx, outcome) : outcome;
    });
  }

  #apply(trx: Trx, op: WalletOperation): Promise<Outcome> {
    const records = new Records(trx, this.#house);
    switch (op.op) {
      case 'authenticate':
      case 'balance':
        return read(records, op);
      case 'session':
        return session(records, op);
      case 'debit':
        return debit(records, op);
      case 'credit':
        return credit(records, op);
      case 'rollback':
        return rollback(records, op);
      case 'cancel_bets':
        return cancelBets(records, op);
      case 'adjust':
        return adjust(records, op);
      case 'status':
        return status(records, op);
    }
  }
}

async function read(records: Records, op: Op<'authenticate' | 'balance'>): Promise<Outcome> {
  const wallet = await records.wallet(op.player, op.currency, false);
  if (typeof wallet === 'string') return refused(wallet);
  const failure = pick({ active: op.requireActive && wallet.status === 'blocked' ? refused('player_blocked') : undefined }, op.precedence);
  return failure ?? { type: 'ok', balance: wallet.balance, moved: false };
}

async function session(records: Records, op: Op<'session'>): Promise<Outcome> {
  const wallet = await records.wallet(op.player, op.currency, false);
  if (typeof wallet === 'string') return refused(wallet);
  if (op.requireActive && wallet.status === 'blocked') return refused('player_blocked', wallet.balance);
  await records.insertSession(op.provider, op.txId, wallet.playerId, op.action === 'start' ? 'login' : 'logout', op.details);
  return { type: 'ok', balance: wallet.balance, moved: false };
}

async function debit(records: Records, op: Op<'debit'>): Promise<Outcome> {
  const lines = op.lines ?? [];
  if (lines.length && (op.roundId === undefined || lines.reduce((sum, l) => sum + l.amount, 0n) !== op.amount)) {
    throw new Error('a debit with bet lines needs a round and lines summing to its amount');
  }
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  let unique: Outcome | undefined;
  if (existing) {
    unique = repeatOf(existing, op, wallet);
    if (unique.type !== 'refused' && lines.length && !sameLines(await records.linesOf(existing.id), lines)) unique = refused('conflict', wallet.balance);
  } else {
    const refs = lines.map((l) => l.ref);
    const cancelledFirst = snap.marker !== undefined || (await records.cancelledLines(op.provider, wallet.playerId, op.roundId ?? '', refs)).size > 0;
    if (cancelledFirst) unique = refused('rolled_back', wallet.balance);
    else if (round && round.currency !== op.currency) unique = refused('currency_mismatch', wallet.balance);
    else if (round && lines.length && (await records.lines(round.id, refs)).size > 0) unique = refused('conflict', wallet.balance);
  }
  const failure = pick(
    {
      active: wallet.status === 'blocked' ? refused('player_blocked', wallet.balance) : undefined,
      unique,
      funds: wallet.balance < op.amount ? refused('insufficient_funds', wallet.balance) : undefined,
    },
    op.precedence,
  );
  if (failure) return recordRefusal(records, op, snap, failure);

  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  const posted = await records.post({ ...op, kind: 'debit' }, wallet.playerId, round?.id, {
    status: 'applied',
    from: wallet.accountId,
    to: game,
    amount: op.amount,
    kind: 'bet',
  });
  if (posted.roundId !== null) await records.insertLines(posted.id, posted.roundId, lines);
  return { type: 'ok', balance: wallet.balance - op.amount, moved: true };
}

/** Credits are owed to the player: paid even when the player is blocked (rule 7). */
async function credit(records: Records, op: Op<'credit'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  let unique: Outcome | undefined = existing ? repeatOf(existing, op, wallet) : undefined;
  if (!existing) {
    if (snap.marker !== undefined) unique = refused('rolled_back', wallet.balance);
    else if (round && round.currency !== op.currency) unique = refused('currency_mismatch', wallet.balance);
    else if (round && op.settles && (await records.settled(round.id))) unique = refused('conflict', wallet.balance);
  }
  const failure = pick({ unique }, op.precedence);
  if (failure) return recordRefusal(records, op, snap, failure);

  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  await records.post({ ...op, kind: 'credit' }, wallet.playerId, round?.id, { status: 'applied', from: game, to: wallet.accountId, amount: op.amount, kind: 'win' });
  return { type: 'ok', balance: wallet.balance + op.amount, moved: true };
}

async function rollback(records: Records, op: Op<'rollback'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.target });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, marker, tx: target } = snap;
  if (marker) {
    // A second rollback changes nothing; one of a transaction never seen stays "not found".
    return marker.target_id === null ? refused('target_not_found', wallet.balance, true) : { type: 'duplicate', balance: wallet.balance };
  }
  if (!target) {
    // Rollback before the transaction: remembered durably so the late transaction is refused (rule 2).
    await records.insertRollback(op.provider, op.target, wallet.playerId, null, null);
    return refused('target_not_found', wallet.balance);
  }
  if (target.player_id !== wallet.playerId || target.currency !== op.currency || (target.kind !== 'debit' && target.kind !== 'credit')) {
    return refused('conflict', wallet.balance);
  }
  if (target.status === 'refused') {
    await records.insertRollback(op.provider, op.target, wallet.playerId, target.id, null); // nothing was taken: nothing to give back (rule 4)
    return { type: 'ok', balance: wallet.balance, moved: false };
  }
  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  let balance: Minor;
  let transferId: bigint;
  if (target.kind === 'debit') {
    const refund = target.amount - (await records.cancelledAmountOf(target.id)); // bet lines cancelled one by one are already back
    transferId = await records.transfer(game, wallet.accountId, refund, op.currency, 'bet_refund');
    balance = wallet.balance + refund;
  } else {
    if (wallet.balance < target.amount) return refused('insufficient_funds', wallet.balance);
    transferId = await records.transfer(wallet.accountId, game, target.amount, op.currency, 'win_reversal');
    balance = wallet.balance - target.amount;
  }
  await records.insertRollback(op.provider, op.target, wallet.playerId, target.id, transferId);
  return { type: 'ok', balance, moved: true };
}

/**
 * Refunds named bet lines of a round. A line not placed yet is remembered as cancelled, so the bet
 * carrying it is refused when it arrives (rule 2 at line level); a line already cancelled, or whose
 * bet was refused or rolled back, refunds nothing.
 */
async function cancelBets(records: Records, op: Op<'cancel_bets'>): Promise<Outcome> {
  if (op.lines.reduce((sum, l) => sum + l.amount, 0n) !== op.amount) throw new Error('cancelled lines must sum to the cancel amount');
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  if (existing) return repeatOf(existing, op, wallet);

  const refs = op.lines.map((l) => l.ref);
  if (round && round.currency !== op.currency) return refused('currency_mismatch', wallet.balance);
  const placed = round ? await records.lines(round.id, refs) : new Map();
  if (op.lines.some((l) => placed.has(l.ref) && placed.get(l.ref)!.amount !== l.amount)) return refused('conflict', wallet.balance);
  const already = await records.cancelledLines(op.provider, wallet.playerId, op.roundId, refs);
  const fresh = op.lines.filter((l) => !already.has(l.ref));
  const refund = fresh.reduce((sum, l) => {
    const line = placed.get(l.ref);
    return line && !line.settled ? sum + line.amount : sum;
  }, 0n);

  // line_id is set exactly when this cancel refunded the line: reconcile sums the refund from it.
  const marks = fresh.map((l) => {
    const line = placed.get(l.ref);
    return { ref: l.ref, lineId: line && !line.settled ? line.id : null };
  });
  if (placed.size === 0) {
    const posted = await records.post({ ...op, kind: 'refund' }, wallet.playerId, round?.id, { status: 'refused', refusal: 'target_not_found' });
    await records.insertLineCancels(op.provider, op.roundId, wallet.playerId, posted.id, marks);
    return refused('target_not_found', wallet.balance);
  }
  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  const posted = await records.post({ ...op, kind: 'refund' }, wallet.playerId, round?.id, {
    status: 'applied',
    from: game,
    to: wallet.accountId,
    amount: refund,
    kind: 'bet_refund',
  });
  await records.insertLineCancels(op.provider, op.roundId, wallet.playerId, posted.id, marks);
  return { type: 'ok', balance: wallet.balance + refund, moved: refund > 0n };
}

/** A result change: the round's settlement becomes `op.amount`; the difference from what it paid so far moves either way. */
async function adjust(records: Records, op: Op<'adjust'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  if (existing) return repeatOf(existing, op, wallet);
  if (!round) return refused('target_not_found', wallet.balance);
  if (round.currency !== op.currency) return refused('currency_mismatch', wallet.balance);

  const delta = op.amount - (await records.paidForRound(round.id, wallet.accountId));
  // Taking back a paid result never makes the wallet negative: refused, and the vendor's retry may succeed later.
  if (delta < 0n && wallet.balance < -delta) return refused('insufficient_funds', wallet.balance);
  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  const [from, to] = delta >= 0n ? [game, wallet.accountId] : [wallet.accountId, game];
  await records.post({ ...op, kind: 'adjust' }, wallet.playerId, round.id, { status: 'applied', from, to, amount: delta >= 0n ? delta : -delta, kind: 'adjustment' });
  return { type: 'ok', balance: wallet.balance + delta, moved: delta !== 0n };
}

async function status(records: Records, op: Op<'status'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId }, false);
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx, marker } = snap;
  const mine = (tx ?? marker)?.player_id === wallet.playerId;
  const state = !mine ? 'unknown' : marker ? 'cancelled' : tx?.status === 'refused' ? 'refused' : 'processed';
  return { type: 'status', state, balance: wallet.balance };
}

/** A refused transaction is recorded too: a later rollback of it then knows there is nothing to give back. */
async function recordRefusal(records: Records, op: Op<'debit' | 'credit'>, snap: Snapshot, failure: Outcome) {
  if (!snap.tx && failure.type === 'refused') {
    await records.post({ ...op, kind: op.op }, snap.wallet.playerId, snap.round?.id, { status: 'refused', refusal: failure.reason });
  }
  return failure;
}

/** Idempotency with a content check (rule 1): same content replays the original outcome, other content is a conflict. */
function repeatOf(existing: KnownTx, op: MoneyOperation, wallet: LockedWallet): Outcome {
  const same =
    existing.player_id === wallet.playerId &&
    existing.kind === KIND[op.op] &&
    existing.amount === op.amount &&
    existing.currency === op.currency &&
    existing.round === (op.roundId ?? null);
  if (!same) return refused('conflict', wallet.balance);
  if (existing.status === 'applied') return { type: 'duplicate', balance: wallet.balance };
  return refused(existing.refusal as Refusal, wallet.balance, true);
}

function sameLines(stored: readonly { ref: string; amount: bigint }[], lines: readonly { ref: string; amount: bigint }[]): boolean {
  return stored.length === lines.length && stored.every((l, i) => l.ref === lines[i]!.ref && l.amount === lines[i]!.amount);
}

/** The first failed check, in the dialect's order, then the wallet's own. */
function pick(failures: Partial<Record<Check, Outcome | undefined>>, precedence: readonly Check[] = []): Outcome | undefined {
  for (const check of [...precedence, ...DEFAULT_PRECEDENCE]) {
    const failure = failures[check];
    if (failure) return failure;
  }
  return undefined;
}
