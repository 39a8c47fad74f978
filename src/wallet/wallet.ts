import type { Currency } from '../money/currency.ts';
import { MAX_MINOR, rescale, type Minor } from '../money/minor.ts';
import { HouseAccounts } from '../ledger/accounts.ts';
import type pg from 'pg';
import { onClient, PgError, pgErrorCode, poolOf, untilNoRace, type Db } from '../ledger/database.ts';
import { Busy, HouseOrder, Records, storedGame, type KnownTx, type LockedWallet, type Snapshot, type Trx, type WalletWait } from './records.ts';
import {
  checkBefore,
  checkStaked,
  checkTotals,
  claimedPayout,
  claimOf,
  namedLines,
  olderThanHeld,
  payoutOf,
  resultAtSettled,
  sameClaim,
  type Claim,
  type RoundLine,
  type RoundRefusal,
} from './rounds.ts';
import { ExternalTxId, type Check, type Outcome, type PlayerCode, type ProviderId, type Refusal, type WalletOperation } from './types.ts';

export type Within<T> = (trx: Trx, outcome: Outcome) => Promise<T>;

/** An operation and what runs in its transaction once its outcome is known (see Wallet.execute). */
export interface Member {
  op: WalletOperation;
  within?: Within<unknown> | undefined;
}

/**
 * Operations that may follow another of the same player in one transaction (Wallet.executeAll):
 * each knows its outcome before it writes anything that moves money (its post is sent, not
 * awaited), so it can decide without waiting for the others' writes. A rollback reads the lines of
 * a round it does not name; a cancel of lines and a result change wait for their own post.
 */
export const CHAINABLE: ReadonlySet<WalletOperation['op']> = new Set(['debit', 'credit', 'settle']);

/**
 * How many of `ops`, from the first, may run one after the other in one transaction: chainable
 * operations of one player naming no transaction or round in common, so what each reads is what it
 * would read after the ones before it had committed, but for the balance of its currency's wallet.
 */
export function chainLength(ops: readonly WalletOperation[]): number {
  const named = new Set<string>();
  const first = ops[0];
  for (const [i, op] of ops.entries()) {
    if (!CHAINABLE.has(op.op) || op.player !== first?.player) return i;
    // One that guessed its currency may be applied in another wallet's: it goes first, and last.
    if ('currencyUnnamed' in op && op.currencyUnnamed) return i === 0 ? 1 : i;
    const provider = 'provider' in op ? op.provider : '';
    const keys = [
      'txId' in op ? `tx ${provider} ${op.txId}` : undefined,
      'against' in op && op.against !== undefined ? `tx ${provider} ${op.against}` : undefined,
      'roundId' in op && op.roundId !== undefined ? `round ${provider} ${op.roundId}` : undefined,
    ];
    for (const key of keys) {
      if (key === undefined) continue;
      if (named.has(key)) return i;
      named.add(key);
    }
  }
  return ops.length;
}

/** Whether all of `ops` may run one after the other in one transaction (see chainLength). */
export const chainable = (ops: readonly WalletOperation[]): boolean => chainLength(ops) === ops.length;

type Op<K extends WalletOperation['op']> = Extract<WalletOperation, { op: K }>;
type MoneyOperation = Op<'debit' | 'credit' | 'settle' | 'cancel_bets' | 'adjust'>;

/** The wallet's own order for reporting failed checks when a dialect does not say otherwise. */
const DEFAULT_PRECEDENCE: readonly Check[] = ['player', 'active', 'unique', 'funds', 'target'];

/** Unique keys two players' concurrent operations can race for (their wallet locks do not order them). */
const RACE_KEYS = new Set([
  'provider_transaction_unique',
  'rollback_unique',
  'rollbacks_external',
  'round_unique',
  'bet_line_unique',
  'line_cancel_unique',
  'player_session_unique',
]);

type Refused = Extract<Outcome, { type: 'refused' }>;

const refused = (reason: Refusal, balance?: Minor, repeat?: boolean): Refused => ({
  type: 'refused',
  reason,
  ...(balance !== undefined ? { balance } : {}),
  ...(repeat ? { repeat } : {}),
});

const KIND: Record<MoneyOperation['op'], KnownTx['kind']> = { debit: 'debit', credit: 'credit', settle: 'credit', cancel_bets: 'refund', adjust: 'adjust' };

export interface GroupObserver {
  /** A group of `size` operations committed together, or was rolled back and each ran again alone. */
  grouped(size: number, result: 'committed' | 'rerun'): void;
  /** The same for `size` queued operations of one player (Wallet.executeAll). */
  chained?(size: number, result: 'committed' | 'rerun'): void;
}

export interface WalletOptions {
  /**
   * Up to this many operations of different players that start together share one transaction on
   * one connection (1: each has its own). See `#together`.
   */
  group?: number;
  /**
   * At most this many of the pool's connections in use by the wallet at once (default: no limit);
   * operations beyond wait for one here, in arrival order, and those that wait together go as one
   * group. What the pool has beyond it stays free for everything else (history rows written outside
   * a transaction, the back office).
   */
  connections?: number;
  observer?: GroupObserver;
}

/** An operation waiting for its group: one that would not wait for its wallet (`nowait`). */
interface Waiting {
  op: WalletOperation;
  within: Within<unknown> | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The money rules (docs/specs/wallet-semantics.md), dialect-free. Every operation runs in a
 * database transaction (its own, or one it shares with other players' operations that started with
 * it) that first locks the player's wallet row, so any number of concurrent calls
 * for one player, from any number of processes, apply in some serial order. The database's own
 * constraints (non-negative wallet, unique provider transaction, insert-only ledger) back every rule.
 */
export class Wallet {
  readonly #db: Db;
  readonly #house: HouseAccounts;
  readonly #group: number;
  readonly #pool: pg.Pool;
  readonly #observer: GroupObserver | undefined;
  #waiting: Waiting[] = [];
  #scheduled = false;
  /** A connection is asked for the next group (see #start). */
  #asked = false;
  /** Connections the wallet may still take, and what waits for one (see #take). */
  #free: number;
  readonly #line: (() => Promise<unknown>)[] = [];

  constructor(db: Db, house: HouseAccounts = new HouseAccounts(), options: WalletOptions = {}) {
    this.#db = db;
    this.#house = house;
    this.#group = Math.max(1, options.group ?? 1);
    const pool = poolOf(db);
    if (!pool) throw new Error('the wallet runs on a database made by createDatabase or databaseOn: it needs its pool');
    this.#pool = pool;
    this.#observer = options.observer;
    this.#free = options.connections ?? Number.POSITIVE_INFINITY;
  }

  /**
   * `within` runs in the operation's transaction once its outcome is known, and commits (or not) with
   * it. With `nowait`, a wallet row locked by another transaction fails the operation at once
   * (Postgres's lock_not_available) instead of waiting for it: the caller then queues for the player.
   */
  execute(op: WalletOperation, within?: undefined, options?: { nowait?: boolean | undefined }): Promise<Outcome>;
  execute<T>(op: WalletOperation, within: Within<T>, options?: { nowait?: boolean | undefined }): Promise<T>;
  execute<T>(op: WalletOperation, within?: Within<T>, options: { nowait?: boolean | undefined } = {}): Promise<Outcome | T> {
    // An operation that may wait for its wallet row (no `nowait`: its player is busy elsewhere, or it
    // is a retry) runs alone: waiting inside a group would hold up every operation of the group.
    if (this.#group === 1 || options.nowait !== true) return this.#alone(op, within, options.nowait === true ? 'nowait' : 'wait');
    return new Promise((resolve, reject) => {
      this.#waiting.push({ op, within: within as Within<unknown> | undefined, resolve: resolve as (value: unknown) => void, reject });
      // Everything that starts in this turn of the event loop (the calls whose requests came in together) goes together.
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#start());
      }
    });
  }

  /**
   * The player's balance as last committed: one statement outside any transaction and outside the
   * wallet's line for connections, for an answer that carries it (a failure's); undefined when there
   * is no such wallet. With `op`, an answer to it: when it guessed its currency (`currencyUnnamed`)
   * and its target or round is in another, undefined (another wallet's balance would mislead).
   */
  async peek(player: PlayerCode, currency: Currency, op?: WalletOperation): Promise<Minor | undefined> {
    const records = new Records(this.#db, this.#house);
    if (op && 'currencyUnnamed' in op && op.currencyUnnamed) {
      const own = op.op === 'rollback' ? await records.currencyOf(op.provider, op.target, player) : await records.roundCurrencyOf(op.provider, op.roundId, player);
      if (own !== undefined && own !== currency) return undefined;
    }
    const wallet = await records.wallet(player, currency, false);
    return typeof wallet === 'string' ? undefined : wallet.balance;
  }

  /** An operation in a transaction of its own, once a connection is free for it. */
  #alone<T>(op: WalletOperation, within: Within<T> | undefined, wait: WalletWait): Promise<Outcome | T> {
    return this.#whenFree(() => this.#run(op, within, wait));
  }

  /** What `start` gives, started once one of the wallet's connections is free for it (see #take). */
  #whenFree<R>(start: () => Promise<R>): Promise<R> {
    return new Promise((resolve, reject) =>
      this.#take(() => {
        const run = start();
        run.then(resolve, reject);
        return run;
      }),
    );
  }

  /** An operation in a transaction of its own; one that lost a race runs again (untilNoRace), and then sees the winner's row. */
  #run<T>(op: WalletOperation, within: Within<T> | undefined, wait: WalletWait): Promise<Outcome | T> {
    return untilNoRace(RACE_KEYS, () => this.#once(op, within, wait));
  }

  /** One attempt, in a transaction of its own (see #inOne). */
  async #once<T>(op: WalletOperation, within: Within<T> | undefined, wait: WalletWait): Promise<Outcome | T> {
    const [result] = await this.#inOne([{ op, within }], wait);
    return result as Outcome | T;
  }

  /**
   * Several queued operations of one player, in their order, in one transaction (see #inOne); each
   * one's result or error, in the same order. If the transaction fails, each runs again alone, one
   * after the other, as it would have from the start; but a wallet row another transaction holds
   * (asked with `nowait`) fails them all at once, and nothing ran: the caller queues for the player.
   */
  executeAll(members: readonly Member[], options: { nowait?: boolean | undefined } = {}): Promise<PromiseSettledResult<unknown>[]> {
    return this.#whenFree(() => this.#chain(members, options.nowait === true ? 'nowait' : 'wait'));
  }

  async #chain(members: readonly Member[], wait: WalletWait): Promise<PromiseSettledResult<unknown>[]> {
    try {
      const results = await this.#inOne(members, wait);
      this.#observer?.chained?.(members.length, 'committed');
      return results.map((value) => ({ status: 'fulfilled', value }));
    } catch (error) {
      if (pgErrorCode(error) === PgError.lockNotAvailable) throw error;
      this.#observer?.chained?.(members.length, 'rerun');
      // A house account one of them created is gone with the transaction.
      this.#house.forget();
    }
    const settled: PromiseSettledResult<unknown>[] = [];
    for (const { op, within } of members) {
      settled.push(
        await this.#run(op, within, 'wait').then(
          (value) => ({ status: 'fulfilled', value }) as const,
          (reason: unknown) => ({ status: 'rejected', reason }) as const,
        ),
      );
    }
    return settled;
  }

  /**
   * One transaction for one operation, or for several of one player run one after the other, on a
   * connection of its own whose statements are pipelined as a group's are (see #together): the
   * last post, the history row its answer adds and the COMMIT leave in one write, instead of each
   * waiting for the one before it to be answered. A player whose calls queue (a busy player, a
   * retry) holds its wallet row for that much less time per call.
   *
   * Several operations (see `chainLength` for which may share a transaction) take the round trips
   * of one: every snapshot leaves at once, and each operation decides, in turn, as soon as
   * the one before it has, on the balance that one left (Records' `before`); nothing else it reads
   * can have changed, as they name no transaction or round in common. Their posts wait for the last
   * one to decide and go together, in the order of their house accounts (see HouseOrder: the
   * operations may be at several vendors). One COMMIT, and each wallet row taken once, for all.
   * Each takes its wallet row as the first does (`wait`): with `nowait`, a wallet row of the
   * player's that another transaction holds (another currency's, in another process) fails them all
   * at once.
   */
  async #inOne(members: readonly Member[], wait: WalletWait): Promise<unknown[]> {
    const client = await this.#pool.connect();
    const trx = onClient(client);
    const order = members.length > 1 ? new HouseOrder(members.length) : undefined;
    const records: Records[] = [];
    let open = true;
    let broken: Error | undefined;
    try {
      void client.query('begin'); // answered at once, sent with the first read (LedgerClient)
      // The balance the operations so far left in each currency (each its own wallet row).
      const left = new Map<string, Promise<Minor | undefined>>();
      const applied = members.map(({ op }) => {
        const place = order?.member();
        const before = left.get(op.currency);
        const r = new Records(trx, this.#house, wait, place, before);
        records.push(r);
        const outcome = place ? this.#apply(r, op).finally(place.finished) : this.#apply(r, op);
        const after = outcome.then((o) => ('balance' in o && o.balance !== undefined ? o.balance : before));
        after.catch(() => {}); // the operation's own failure is reported
        left.set(op.currency, after);
        return outcome;
      });
      const outcomes = await settledInOrder(applied);
      const results = await Promise.all(members.map(({ within }, i) => (within ? within(trx, outcomes[i]!) : outcomes[i])));
      // What was sent without waiting goes through Kysely's promise chain before it reaches the
      // connection: after one turn of the event loop it has, and the COMMIT goes behind it.
      await new Promise((resolve) => setImmediate(resolve));
      const commit = await client.query('commit');
      open = false;
      if (commit.command === 'COMMIT') return results;
      // Rolled back at the COMMIT: a statement sent without waiting failed (a post, or a history
      // row, whose own promise its caller holds).
      throw (await failureOf(records)) ?? new Error('the transaction was rolled back at its COMMIT: a statement sent without waiting failed');
    } catch (error) {
      if (!open) throw error;
      await client.query('rollback').catch((failed: Error) => (broken = failed));
      throw (await failureOf(records)) ?? error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Runs `start` (a transaction, alone or a group's) once one of the wallet's connections is free;
   * until then it waits in line, first come first served. The connection is the wallet's until what
   * `start` returns settles.
   */
  #take(start: () => Promise<unknown>): void {
    if (this.#free > 0) {
      this.#free--;
      this.#hold(start);
    } else this.#line.push(start);
  }

  #hold(start: () => Promise<unknown>): void {
    void start()
      .catch(() => {})
      .finally(() => {
        const next = this.#line.shift();
        if (next) this.#hold(next);
        else this.#free++;
      });
  }

  /**
   * Asks for a connection for the next group. The group is made when the connection is there, of
   * what is waiting then, up to `group` operations, one per player (a player's second operation goes
   * with a later group), oldest first: under load, the operations that waited for a connection
   * together go together. If more are left, the next group asks in turn.
   */
  #start(): void {
    this.#scheduled = false;
    if (this.#asked || this.#waiting.length === 0) return;
    this.#asked = true;
    this.#take(() => {
      this.#asked = false;
      const members: Waiting[] = [];
      const players = new Set<string>();
      const rest: Waiting[] = [];
      for (const w of this.#waiting) {
        if (members.length < this.#group && !players.has(w.op.player)) {
          players.add(w.op.player);
          members.push(w);
        } else rest.push(w);
      }
      this.#waiting = rest;
      this.#start();
      if (members.length === 1) return this.#run(members[0]!.op, members[0]!.within, 'nowait').then(members[0]!.resolve, members[0]!.reject);
      return this.#together(members);
    });
  }

  #settleAlone(w: Waiting): Promise<void> {
    return this.#alone(w.op, w.within, 'nowait').then(w.resolve, w.reject);
  }

  /**
   * Several players' operations in one transaction, on one connection: each runs the same rules
   * with the same statements as alone, but their statements travel together (the connection
   * pipelines them), so the group costs one BEGIN, one COMMIT and one disk flush, and each step of
   * it one round trip for all. What they do is independent: different players, different rows.
   *
   * - Only operations that would not wait for their wallet (`nowait`) join a group. A wallet held by
   *   another transaction is skipped: that operation alone fails as Busy, before it wrote anything,
   *   and the others go on.
   * - Any other failure before the answers (a race for a unique key, a deadlock, a lock timeout)
   *   ends the transaction for all: it is rolled back and each operation runs again alone, as it
   *   would have from the start. No `within` has run yet, so no caller has seen an outcome.
   * - A failure after them (a history row that cannot be written: the COMMIT then rolls back) runs
   *   every operation again alone too; their `within` runs a second time, in the new transaction.
   */
  async #together(members: Waiting[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool!.connect();
    } catch (error) {
      for (const w of members) w.reject(error);
      return;
    }
    const trx = onClient(client);
    const going: { w: Waiting; outcome: Outcome }[] = [];
    const busy = new Set<Waiting>();
    let results: unknown[] | undefined;
    let broken: Error | undefined;
    try {
      void client.query('begin'); // answered at once, sent with the first read (LedgerClient)
      // Their transfers are written in the order of their house accounts (see HouseOrder).
      const order = new HouseOrder(members.length);
      const applied = await Promise.allSettled(
        members.map((w) => {
          const place = order.member();
          return this.#apply(new Records(trx, this.#house, 'skip', place), w.op).finally(place.finished);
        }),
      );
      let failed = false;
      applied.forEach((result, i) => {
        const w = members[i]!;
        if (result.status === 'fulfilled') going.push({ w, outcome: result.value });
        else if (result.reason instanceof Busy) {
          busy.add(w);
          w.reject(result.reason);
        } else failed = true;
      });
      if (!failed && going.length > 0) {
        const answered = await Promise.allSettled(going.map(({ w, outcome }) => (w.within ? w.within(trx, outcome) : Promise.resolve(outcome))));
        if (answered.every((a) => a.status === 'fulfilled')) {
          // What the answers sent without awaiting (the history rows) goes through Kysely's promise
          // chain before it reaches the connection: after one turn of the event loop it has, and the
          // COMMIT goes behind it.
          await new Promise((resolve) => setImmediate(resolve));
          const commit = await client.query('commit');
          if (commit.command === 'COMMIT') results = answered.map((a) => (a as PromiseFulfilledResult<unknown>).value);
        }
      }
      if (!results) await client.query('rollback');
    } catch (error) {
      broken = error as Error;
    } finally {
      client.release(broken);
    }
    if (results) {
      this.#observer?.grouped(members.length, 'committed');
      going.forEach(({ w }, i) => w.resolve(results[i]));
      return;
    }
    // Rolled back: what was not Busy runs again, each alone. A house account one of them created is gone with it.
    const again = members.filter((w) => !busy.has(w));
    if (again.length > 0) {
      this.#observer?.grouped(members.length, 'rerun');
      this.#house.forget();
    }
    for (const w of again) void this.#settleAlone(w);
  }

  #apply(records: Records, op: WalletOperation): Promise<Outcome> {
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
      case 'settle':
        return inRoundCurrency(records, op, settle);
      case 'adjust':
        return inRoundCurrency(records, op, adjust);
      case 'rollback':
        return rollback(records, op);
      case 'cancel_bets':
        return inRoundCurrency(records, op, cancelBets);
      case 'status':
        return status(records, op);
    }
  }
}

/**
 * The outcomes, once every one has settled; or the first error in their order that is not merely
 * "the transaction is aborted" (the statements behind a failed one get that), else the first.
 */
async function settledInOrder(applied: readonly Promise<Outcome>[]): Promise<Outcome[]> {
  const settled = await Promise.allSettled(applied);
  const failed = settled.filter((s) => s.status === 'rejected').map((s) => s.reason as unknown);
  if (failed.length) throw firstCause(failed);
  return settled.map((s) => (s as PromiseFulfilledResult<Outcome>).value);
}

/** The failure of the posts sent without waiting (see settledInOrder for which), if one failed. */
async function failureOf(records: readonly Records[]): Promise<unknown> {
  const failed = (await Promise.all(records.map((r) => r.failure()))).filter((f) => f !== undefined);
  return failed.length ? firstCause(failed) : undefined;
}

/** Of the errors of one transaction's statements, the first that is not what a statement after a failed one gets, else the first. */
const firstCause = (errors: readonly unknown[]): unknown => errors.find((e) => pgErrorCode(e) !== PgError.inFailedTransaction) ?? errors[0];

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
  const recorded = await records.insertSession(op.provider, op.txId, wallet.playerId, op.action === 'start' ? 'login' : 'logout', op.details);
  if (recorded === 'conflict') return refused('conflict', wallet.balance);
  return recorded === 'repeat' ? { type: 'duplicate', balance: wallet.balance } : { type: 'ok', balance: wallet.balance, moved: false };
}

/**
 * A bet. It places its lines on the round (its own single line when it does not itemise), open; a
 * bet on a settled round is refused for good (rule 12), like one whose cancel came first (rule 2).
 */
async function debit(records: Records, op: Op<'debit'>): Promise<Outcome> {
  const itemised = op.lines ?? [];
  if (itemised.length && (op.roundId === undefined || itemised.reduce((sum, l) => sum + l.amount, 0n) !== op.amount)) {
    throw new Error('a debit with bet lines needs a round and lines summing to its amount');
  }
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId }, { lines: itemised.length > 0 });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  let unique: Outcome | undefined;
  let roundRule: RoundRefusal | undefined;
  if (existing) {
    unique = repeatOf(existing, op, wallet);
    if (unique.type !== 'refused' && itemised.length && !sameLines(await records.linesOf(existing.id), itemised)) unique = refused('conflict', wallet.balance);
  } else {
    const refs = itemised.map((l) => l.ref);
    const cancelledFirst = snap.marker !== undefined || (await records.cancelledLines(op.provider, wallet.playerId, op.roundId ?? '', refs)).size > 0;
    if (cancelledFirst) unique = refused('rolled_back', wallet.balance);
    else if (round && round.currency !== op.currency) unique = refused('currency_mismatch', wallet.balance);
    else if (round?.settled) roundRule = { reason: 'round_settled', detail: 'the round is settled: no bet joins it' };
    else if (round?.state?.lines.some((l) => refs.includes(l.ref))) unique = refused('conflict', wallet.balance);
    if (roundRule) unique = { ...refused(roundRule.reason, wallet.balance), detail: roundRule.detail };
  }
  const failure = pick(
    {
      active: wallet.status === 'blocked' ? refused('player_blocked', wallet.balance) : undefined,
      unique,
      funds: wallet.balance < op.amount ? refused('insufficient_funds', wallet.balance) : undefined,
    },
    op.precedence,
  );
  if (failure) {
    if (failure === unique && roundRule) await recordRoundRefusal(records, op, snap, roundRule, { amount: String(op.amount), lines: itemised.map((l) => ({ ref: l.ref, amount: String(l.amount) })) });
    return recordRefusal(records, op, snap, failure);
  }

  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  const lines = itemised.length ? itemised : op.roundId !== undefined ? [{ ref: op.txId, amount: op.amount }] : [];
  records.send(
    { ...op, kind: 'debit' },
    wallet.playerId,
    round?.id,
    { status: 'applied', from: wallet.accountId, to: game, amount: op.amount, kind: 'bet' },
    { place: lines },
  );
  return { type: 'ok', balance: wallet.balance - op.amount, moved: true };
}

/**
 * A win of a stated amount that leaves its round open. Owed to the player, so paid even when the
 * player is blocked (rule 7); but only on a round that holds a stake (rule 11), unless the vendor
 * marks it as needing none (a bonus call, a free bet, a promotion), which is kept apart as `promo_win`.
 */
async function credit(records: Records, op: Op<'credit'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId }, { staked: !op.stakeFree, lines: op.closes === true });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  let unique: Outcome | undefined = existing ? repeatOf(existing, op, wallet) : undefined;
  if (!existing) {
    if (snap.marker !== undefined) unique = refused('rolled_back', wallet.balance);
    else if (round && round.currency !== op.currency) unique = refused('currency_mismatch', wallet.balance);
  }
  const failure = pick({ unique }, op.precedence);
  if (failure) return recordRefusal(records, op, snap, failure);
  const claim = { amount: String(op.amount), ...(op.against ? { against: op.against } : {}) };
  if (!op.stakeFree && !round?.staked) {
    const detail = round ? 'every stake of the round was cancelled or refused' : 'the round took no stake';
    return recordRoundRefusal(records, op, snap, { reason: 'no_stake', detail }, claim, wallet.balance);
  }
  // The bet the win names must stand; a promotional win may name a bet never seen here (it is paid),
  // but not one of ours that was refused or rolled back (the promotion is void with its round).
  const against = op.against && (await records.standingBet(op.provider, op.against, wallet.playerId, round?.id));
  if (against && against !== 'standing' && (!op.stakeFree || against === 'gone')) {
    const detail = against === 'missing' ? `the bet it pays (${op.against}) was never placed on this round` : `the bet it pays (${op.against}) was refused or rolled back`;
    return recordRoundRefusal(records, op, snap, { reason: 'no_stake', detail }, claim, wallet.balance);
  }
  // A settled round pays no more, unless the win names a bet of it that still stands (a dialect that
  // pays bets one by one, Hub88, may send a win before the closing one and deliver it after: rule 13)
  // or needs no stake. A second closing win is never such a win: a round closes once.
  if (round?.settled && (op.closes || (!op.stakeFree && against !== 'standing'))) {
    return recordRoundRefusal(records, op, snap, { reason: 'round_settled', detail: 'the round is settled' }, claim, wallet.balance);
  }

  const beyond = pastLimit(wallet.balance, op.amount);
  if (beyond) return beyond;
  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  // A closing win settles the lines still open: the dialect does not say what each line won.
  const closing = op.closes ? (round?.state?.lines ?? []).filter((l) => l.state === 'open').map((l) => ({ id: l.id, winloss: null, payout: null })) : [];
  records.send(
    // The bet it pays is kept with it: a repeat that names another is not a repeat (repeatOf).
    { ...op, kind: 'credit', ...(op.against !== undefined ? { details: { ...op.details, against: op.against } } : {}) },
    wallet.playerId,
    round?.id,
    { status: 'applied', from: game, to: wallet.accountId, amount: op.amount, kind: op.stakeFree ? 'promo_win' : 'win' },
    { settle: closing, settleRound: op.closes === true },
  );
  return { type: 'ok', balance: wallet.balance + op.amount, moved: true };
}

/**
 * The result that settles an itemised round (rules 11-13). It must agree with itself, name only
 * open lines the round took, with the stakes the wallet debited; it pays each line that stake plus
 * the vendor's win/loss, and settles the round. At a round a result change has already settled, the
 * original result it corrected pays nothing.
 */
async function settle(records: Records, op: Op<'settle'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId }, { lines: true });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  const claim = claimOf(op.lines, op.totals, op.madeAt);
  if (existing) return repeatOf(existing, op, wallet, claim);
  if (snap.marker !== undefined) return recordRefusal(records, op, snap, refused('rolled_back', wallet.balance));
  if (round && round.currency !== op.currency) return refused('currency_mismatch', wallet.balance);

  const state = round?.state;
  const rule = checkTotals(op.lines, op.totals) ?? checkStaked(state);
  const late = rule || !state!.settledBy ? undefined : resultAtSettled(state!, op.lines, op.totals, op.madeAt);
  // At a round a change settled first, only the open lines the change did not name are paid.
  const paying = late && 'pay' in late ? late.pay : op.lines;
  const held = rule || (late && !('pay' in late)) ? undefined : namedLines(state!, paying, 'open');
  const refusal = rule ?? (late && !('pay' in late) ? late : undefined) ?? (held && !Array.isArray(held) ? held : undefined);
  if (refusal) return recordRoundRefusal(records, op, snap, refusal, claim, wallet.balance);

  const lines = (held as RoundLine[]).map((line, i) => ({ id: line.id, winloss: paying[i]!.winloss, payout: payoutOf(line, paying[i]!.winloss) }));
  const paid = lines.reduce((sum, l) => sum + l.payout, 0n);
  const beyond = pastLimit(wallet.balance, paid);
  if (beyond) return beyond;
  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  records.send(
    { ...op, kind: 'credit', amount: paid, details: { ...op.details, claim } },
    wallet.playerId,
    round!.id,
    { status: 'applied', from: game, to: wallet.accountId, amount: paid, kind: 'win' },
    { settle: lines, settleRound: !state!.settledBy },
  );
  return { type: 'ok', balance: wallet.balance + paid, moved: true };
}

/**
 * A result change (rules 12-13): the named settled lines take their corrected win/loss, and the
 * difference from what they paid moves either way. Arriving before the result it corrects, it
 * settles the round itself with the corrected values (and the late result then pays nothing).
 */
async function adjust(records: Records, op: Op<'adjust'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId }, { lines: true });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  const claim = claimOf(op.lines, op.totals, op.madeAt);
  if (existing) return repeatOf(existing, op, wallet, claim);
  if (round && round.currency !== op.currency) return refused('currency_mismatch', wallet.balance);

  const state = round?.state;
  const settled = state?.settledBy !== null && state?.settledBy !== undefined;
  const rule = checkTotals(op.lines, op.totals) ?? checkStaked(state);
  const named = rule ? undefined : namedLines(state!, op.lines, settled ? 'settled' : 'open');
  const held = named && Array.isArray(named) ? named : undefined;
  const refusal =
    rule ??
    (named && !Array.isArray(named) ? named : undefined) ??
    (settled ? (olderThanHeld(state!, op.lines, op.madeAt) ?? checkBefore(held!, op.lines, op.totals)) : undefined);
  if (refusal) return recordRoundRefusal(records, op, snap, refusal, claim, wallet.balance);

  const lines = held!.map((line, i) => ({ id: line.id, winloss: op.lines[i]!.winloss, payout: payoutOf(line, op.lines[i]!.winloss) }));
  const delta = lines.reduce((sum, l, i) => sum + l.payout - (held![i]!.payout ?? 0n), 0n);
  // Taking back a paid result never makes the wallet negative: refused, and the vendor's retry may succeed later.
  if (delta < 0n && wallet.balance < -delta) return refused('insufficient_funds', wallet.balance);
  const beyond = pastLimit(wallet.balance, delta);
  if (beyond) return beyond;
  const unchanged = state!.lines.filter((l) => l.state === 'settled' && !held!.includes(l)).reduce((sum, l) => sum + (l.payout ?? 0n), 0n);
  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  const [from, to] = delta >= 0n ? [game, wallet.accountId] : [wallet.accountId, game];
  await records.post(
    // Its amount is the round's settlement after the change; the transfer moves the difference.
    { ...op, kind: 'adjust', amount: unchanged + lines.reduce((sum, l) => sum + l.payout, 0n), details: { ...op.details, claim } },
    wallet.playerId,
    round!.id,
    { status: 'applied', from, to, amount: delta >= 0n ? delta : -delta, kind: 'adjustment' },
    { settle: lines, settleRound: !settled },
  );
  return { type: 'ok', balance: wallet.balance + delta, moved: delta !== 0n };
}

/**
 * A rollback that names no currency (`currencyUnnamed`) reverses its target in the target's own
 * currency: money owed back is not refused for the adapter's guess (rule 7). Rollbacks never share a
 * transaction with an earlier operation (chainLength), so no balance is carried in from another wallet.
 */
async function rollback(records: Records, op: Op<'rollback'>): Promise<Outcome> {
  const own = op.currencyUnnamed ? await records.currencyOf(op.provider, op.target, op.player) : undefined;
  if (own === undefined || own === op.currency) return reverse(records, op);
  return inCurrency(own, reverse(records, { ...op, currency: own }));
}

type RoundOp = Op<'settle' | 'adjust' | 'cancel_bets'>;

/**
 * A result, change or cancel that names no currency (`currencyUnnamed`) is applied in its round's
 * currency, its amounts re-expressed in that currency's minor units: a round's money is not refused
 * for the adapter's guess (rule 7). Such an operation ends a chain (chainLength), so no balance is
 * carried in from another wallet.
 */
async function inRoundCurrency<O extends RoundOp>(records: Records, op: O, apply: (records: Records, op: O) => Promise<Outcome>): Promise<Outcome> {
  const own = op.currencyUnnamed ? await records.roundCurrencyOf(op.provider, op.roundId, op.player) : undefined;
  if (own === undefined || own === op.currency) return apply(records, op);
  const moved = amountsIn(op, own);
  if (!moved) return { ...refused('inconsistent'), detail: `an amount has more decimals than ${own}, the round's currency, holds`, currency: own };
  return inCurrency(own, apply(records, moved as O));
}

/** The outcome of an operation applied in `own`, not the currency it guessed. */
async function inCurrency(own: Currency, applied: Promise<Outcome>): Promise<Outcome> {
  const outcome = await applied;
  return outcome.type === 'status' ? outcome : { ...outcome, currency: own };
}

/** `op` in `to`, every amount it carries re-expressed exactly in `to`'s minor units; undefined where one cannot be. */
function amountsIn(op: RoundOp, to: Currency): RoundOp | undefined {
  let exact = true;
  const at = (value: Minor): Minor => {
    const moved = rescale(value, op.currency, to);
    if (moved === undefined) exact = false;
    return moved ?? 0n;
  };
  const optional = (value: Minor | undefined) => (value === undefined ? {} : { winlossBefore: at(value) });
  let moved: RoundOp;
  if (op.op === 'cancel_bets') {
    moved = { ...op, currency: to, amount: at(op.amount), lines: op.lines.map((l) => ({ ...l, amount: at(l.amount) })) };
  } else {
    const totals = { ...op.totals, stake: at(op.totals.stake), winloss: at(op.totals.winloss), ...optional(op.totals.winlossBefore) };
    const lines = op.lines.map((l) => ({ ...l, stake: at(l.stake), winloss: at(l.winloss), ...optional('winlossBefore' in l ? l.winlossBefore : undefined) }));
    moved = { ...op, currency: to, totals, lines } as RoundOp;
  }
  return exact ? moved : undefined;
}

async function reverse(records: Records, op: Op<'rollback'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.target });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, marker, tx: target } = snap;
  if (op.id !== undefined) {
    const reversed = await records.rollbackById(op.provider, op.id);
    if (reversed !== undefined && reversed !== op.target) return refused('conflict', wallet.balance);
  }
  // Another player's repeat of a rollback is not a repeat (rule 1).
  if (marker && marker.player_id !== wallet.playerId) return refused('conflict', wallet.balance);
  // A rollback that names a round names the transaction's own: another round is an inconsistent call (rules 1, 6).
  if (target && op.roundId !== undefined && target.round !== op.roundId) return refused('conflict', wallet.balance);
  if (marker) {
    // A second rollback changes nothing; one of a transaction never seen stays "not found".
    return marker.target_id === null ? refused('target_not_found', wallet.balance, true) : { type: 'duplicate', balance: wallet.balance };
  }
  if (!target) {
    // Rollback before the transaction: remembered durably so the late transaction is refused (rule 2).
    await records.insertRollback(op.provider, op.target, wallet.playerId, null, null, op.id);
    return refused('target_not_found', wallet.balance);
  }
  // A result is corrected by a result change, never rolled back.
  if (target.player_id !== wallet.playerId || target.currency !== op.currency || (target.kind !== 'debit' && target.kind !== 'credit') || target.claim !== null) {
    return refused('conflict', wallet.balance);
  }
  if (target.status === 'refused') {
    await records.insertRollback(op.provider, op.target, wallet.playerId, target.id, null, op.id); // nothing was taken: nothing to give back (rule 4)
    return { type: 'ok', balance: wallet.balance, moved: false };
  }
  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  let balance: Minor;
  let transferId: bigint;
  if (target.kind === 'debit') {
    const lines = await records.linesOf(target.id);
    const settled = lines.find((l) => l.state === 'settled');
    // Either refusal is remembered with the round: rolling back the win that holds the bet refunds
    // it then (refundHeldBack), whether or not the vendor retries.
    const claim = { rollback: op.target, ...(op.id !== undefined ? { id: op.id } : {}) };
    const held = { ...op, txId: op.target, roundId: target.round ?? '' };
    if (settled) {
      return recordRoundRefusal(records, held, snap, { reason: 'line_closed', detail: `line ${settled.ref} of the bet is settled` }, claim, wallet.balance);
    }
    // Refunded under a win that stands, the round would have paid a win on no stake: the win the
    // vendor's own order refuses when the cancel came first (rules 11, 13). The win goes back first.
    if (lines.some((l) => l.state === 'open' && l.amount > 0n) && (await records.winOutlivesStake(target.id))) {
      return recordRoundRefusal(records, held, snap, { reason: 'win_stands', detail: 'a win paid on the round stands on this bet alone: it is refunded when the win is rolled back' }, claim, wallet.balance);
    }
    // Lines cancelled one by one are already back: the rest comes back now.
    const open = lines.filter((l) => l.state === 'open');
    const refund = lines.length ? open.reduce((sum, l) => sum + l.amount, 0n) : target.amount;
    const beyond = pastLimit(wallet.balance, refund);
    if (beyond) return beyond;
    transferId = await records.transfer(game, wallet.accountId, refund, op.currency, 'bet_refund');
    await records.cancelLines(open.map((l) => l.id));
    balance = wallet.balance + refund;
  } else {
    if (wallet.balance < target.amount) return refused('insufficient_funds', wallet.balance);
    transferId = await records.transfer(wallet.accountId, game, target.amount, op.currency, 'win_reversal');
    balance = wallet.balance - target.amount;
  }
  await records.insertRollback(op.provider, op.target, wallet.playerId, target.id, transferId, op.id);
  if (target.kind === 'credit' && target.round !== null) {
    // A closing win rolled back no longer settles its round: its lines are owed again (rules 12-13).
    await records.reopenSettledBy(target.id);
    balance += await refundHeldBack(records, op, wallet, target.round, game);
  }
  return { type: 'ok', balance, moved: true };
}

/**
 * The bets of the round whose rollback was refused while the win just rolled back held them (it stood
 * on them alone, `win_stands`, or its closing settled their lines, `line_closed`): the vendor asked
 * for those refunds, and now nothing stands in their way, so they are made here, with the win's
 * rollback, rather than left to a retry the vendor may never send (a retry later finds them done).
 * A bet still held (a line settled, another win standing on it alone) stays as it is.
 */
async function refundHeldBack(records: Records, op: Op<'rollback'>, wallet: LockedWallet, round: string, game: bigint): Promise<Minor> {
  let refunded = 0n;
  for (const bet of await records.heldBackRollbacks(op.provider, wallet.playerId, round)) {
    if (await records.winOutlivesStake(bet.id)) continue;
    const lines = await records.linesOf(bet.id);
    if (lines.some((l) => l.state === 'settled')) continue;
    const open = lines.filter((l) => l.state === 'open');
    const refund = open.reduce((sum, l) => sum + l.amount, 0n);
    if (refund === 0n) continue;
    // The refused rollback's own id, unless the vendor has since used it for another rollback.
    const id = bet.rollbackId === null || (await records.rollbackById(op.provider, ExternalTxId(bet.rollbackId))) !== undefined ? undefined : ExternalTxId(bet.rollbackId);
    const transferId = await records.transfer(game, wallet.accountId, refund, op.currency, 'bet_refund');
    await records.cancelLines(open.map((l) => l.id));
    await records.insertRollback(op.provider, ExternalTxId(bet.externalId), wallet.playerId, bet.id, transferId, id);
    refunded += refund;
  }
  return refunded;
}

/**
 * Refunds named bet lines of a round. A line not placed yet is remembered as cancelled, so the bet
 * carrying it is refused when it arrives (rule 2 at line level); a line already cancelled refunds
 * nothing; a settled line cannot be cancelled (rule 12): the whole cancel is refused.
 */
async function cancelBets(records: Records, op: Op<'cancel_bets'>): Promise<Outcome> {
  if (op.lines.reduce((sum, l) => sum + l.amount, 0n) !== op.amount) throw new Error('cancelled lines must sum to the cancel amount');
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId, roundId: op.roundId }, { lines: true });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx: existing, round } = snap;
  if (existing) return repeatOf(existing, op, wallet);
  if (round && round.currency !== op.currency) return refused('currency_mismatch', wallet.balance);

  const held = new Map((round?.state?.lines ?? []).map((l) => [l.ref, l]));
  const claim = { lines: op.lines.map((l) => ({ ref: l.ref, amount: String(l.amount) })) };
  for (const line of op.lines) {
    const placed = held.get(line.ref);
    if (placed && placed.amount !== line.amount) {
      return recordRoundRefusal(records, op, snap, { reason: 'unknown_line', detail: `line ${line.ref} states stake ${line.amount}, the wallet debited ${placed.amount}` }, claim, wallet.balance);
    }
    if (placed?.state === 'settled') return recordRoundRefusal(records, op, snap, { reason: 'line_closed', detail: `line ${line.ref} is settled` }, claim, wallet.balance);
  }
  const already = await records.cancelledLines(op.provider, wallet.playerId, op.roundId, op.lines.map((l) => l.ref));
  const fresh = op.lines.filter((l) => !already.has(l.ref));
  const refunded = fresh.map((l) => held.get(l.ref)).filter((l) => l?.state === 'open').map((l) => l!);
  const refund = refunded.reduce((sum, l) => sum + l.amount, 0n);
  const beyond = pastLimit(wallet.balance, refund);
  if (beyond) return beyond;
  // line_id is set exactly when this cancel refunded the line: reconcile sums the refund from it.
  const marks = fresh.map((l) => ({ ref: l.ref, lineId: held.get(l.ref)?.state === 'open' ? held.get(l.ref)!.id : null }));

  if (!op.lines.some((l) => held.has(l.ref))) {
    const posted = await records.post({ ...op, kind: 'refund' }, wallet.playerId, round?.id, { status: 'refused', refusal: 'target_not_found' });
    await records.insertLineCancels(op.provider, op.roundId, wallet.playerId, posted.id, marks);
    return refused('target_not_found', wallet.balance);
  }
  const game = await records.gameAccount(op.provider, op.currency, wallet.playerId);
  const posted = await records.post(
    { ...op, kind: 'refund' },
    wallet.playerId,
    round?.id,
    { status: 'applied', from: game, to: wallet.accountId, amount: refund, kind: 'bet_refund' },
    { cancel: refunded.map((l) => l.id) },
  );
  await records.insertLineCancels(op.provider, op.roundId, wallet.playerId, posted.id, marks);
  return { type: 'ok', balance: wallet.balance + refund, moved: refund > 0n };
}

async function status(records: Records, op: Op<'status'>): Promise<Outcome> {
  const snap = await records.snapshot(op.player, op.currency, { provider: op.provider, key: op.txId }, { lock: false });
  if (typeof snap === 'string') return refused(snap);
  const { wallet, tx, marker } = snap;
  const mine = (tx ?? marker)?.player_id === wallet.playerId;
  const state = !mine ? 'unknown' : marker ? 'cancelled' : tx?.status === 'refused' ? 'refused' : 'processed';
  return { type: 'status', state, balance: wallet.balance };
}

/** A refused transaction is recorded too: a later rollback of it then knows there is nothing to give back. */
async function recordRefusal(records: Records, op: Op<'debit' | 'credit' | 'settle'>, snap: Snapshot, failure: Outcome) {
  if (!snap.tx && failure.type === 'refused') {
    const amount = op.op === 'settle' ? claimedPayout(op.lines) : op.amount;
    records.send({ ...op, kind: KIND[op.op], amount: amount < 0n ? 0n : amount }, snap.wallet.playerId, snap.round?.id, { status: 'refused', refusal: failure.reason });
  }
  return failure;
}

/**
 * Rule 14: a refusal under the round rules goes into the round's record with what the vendor
 * claimed. It is not kept as the transaction's fate: the same message may pass later, once the round
 * holds what it names (a result that overtook its bet), and is then applied on its merits.
 */
async function recordRoundRefusal(
  records: Records,
  op: { op: string; provider: ProviderId; txId: ExternalTxId; roundId?: string | undefined },
  snap: Snapshot,
  refusal: RoundRefusal,
  claim: unknown,
  balance?: Minor,
): Promise<Outcome> {
  await records.insertRoundRefusal({
    provider: op.provider,
    playerId: snap.wallet.playerId,
    roundExternalId: op.roundId ?? '',
    roundId: snap.round?.id,
    txId: op.txId,
    operation: op.op,
    refusal,
    claim,
  });
  return { ...refused(refusal.reason, balance), detail: refusal.detail };
}

/**
 * A credit (a win, a result, a refund) that would take the balance past the largest the ledger holds
 * (Postgres bigint) would fail in Postgres as a fault, be parked, and be retried until the player had
 * spent enough: it is not a passing fault but an impossible claim, refused (rule 6) and never parked.
 */
function pastLimit(balance: Minor, credit: Minor): Outcome | undefined {
  if (credit <= 0n || credit <= MAX_MINOR - balance) return undefined;
  return { ...refused('inconsistent', balance), detail: 'the credit would take the balance past the largest the ledger holds' };
}

/** Idempotency with a content check (rule 1): same content replays the original outcome, other content is a conflict. */
function repeatOf(existing: KnownTx, op: MoneyOperation, wallet: LockedWallet, claim?: Claim): Outcome {
  const sameContent =
    claim === undefined || op.op === 'debit' || op.op === 'credit' || op.op === 'cancel_bets'
      ? 'amount' in op && existing.amount === op.amount
      : existing.claim !== null
        ? sameClaim(existing.claim, claim)
        : op.op === 'settle' && existing.amount === claimedPayout(op.lines);
  // A game or a bet paid is compared where both the transaction and the repeat name one.
  const against = op.op === 'credit' ? op.against : undefined;
  const same =
    sameContent &&
    existing.player_id === wallet.playerId &&
    existing.kind === KIND[op.op] &&
    existing.currency === op.currency &&
    existing.round === (op.roundId ?? null) &&
    (existing.game === null || op.game === undefined || existing.game === storedGame(op.game)) &&
    (existing.against === null || against === undefined || existing.against === against);
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
