import { sql, type Kysely, type RawBuilder } from 'kysely';
import { asCurrency, type Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';
import type { HouseAccounts } from '../ledger/accounts.ts';
import { ahead, PgError, prepared } from '../ledger/database.ts';
import { storableJson, storableText } from '../ledger/storable.ts';
import type { Database, PlayerStatus, ProviderTransactionKind, TransferKind } from '../ledger/schema.ts';
import type { LineState } from '../ledger/line-states.ts';
import type { Claim, RoundLine, RoundRefusal, RoundState } from './rounds.ts';
import type { ExternalTxId, PlayerCode, ProviderId, Refusal } from './types.ts';

/** Where an operation's statements run: its own transaction, or a connection in a transaction several operations share. */
export type Trx = Kysely<Database>;

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
  /** What a result or result change claimed (null for other transactions, and results kept before claims were). */
  claim: Claim | null;
  /** The game it named, as stored (storedGame); null if none. */
  game: string | null;
  /** The bet a win said it pays (its `against`); null if none, or kept before wins kept it. */
  against: string | null;
}

/** A game's name as provider_transactions keeps it. */
export const storedGame = (game: string): string => storableText(game).slice(0, 200);

export interface NewTx {
  provider: ProviderId;
  txId: ExternalTxId;
  kind: ProviderTransactionKind;
  currency: Currency;
  amount: Minor;
  roundId?: string | undefined;
  game?: string | undefined;
  details?: Record<string, unknown> | undefined;
}


/** What a transaction does to its round, written in the same statement as the transaction. */
export interface RoundEffects {
  /** Bet lines it places. */
  place?: readonly { ref: string; amount: Minor }[];
  /** Lines it settles, or re-settles (a result change), with their win/loss and what they pay (null: not itemised by the dialect). */
  settle?: readonly { id: bigint; winloss: Minor | null; payout: Minor | null }[];
  /** Open lines whose stake it refunds. */
  cancel?: readonly bigint[];
  /** It is the round's result: the round is settled by it. */
  settleRound?: boolean;
}

/** Everything an operation decides on, read in one statement with the wallet row locked. */
export interface Snapshot {
  wallet: LockedWallet;
  /** The provider transaction with the operation's key (its own id, or a rollback's target). */
  tx: KnownTx | undefined;
  /** A rollback marker naming that key. */
  marker: { id: bigint; target_id: bigint | null; player_id: bigint } | undefined;
  /** The player's round of the operation's round id at that provider. */
  round: SnapshotRound | undefined;
}

export interface SnapshotRound {
  id: bigint;
  currency: string;
  settled: boolean;
  /** Some bet line of the round is not cancelled: the round holds (or held) a stake (null unless asked for). */
  staked: boolean | null;
  /** Its lines and how it was settled, when the snapshot was asked for them. */
  state?: RoundState;
}

/**
 * The wallet row is locked by another transaction, found without waiting and without an error (in a
 * transaction several operations share, an error would end it for all): the caller queues for the player.
 */
export class Busy extends Error {
  readonly code = PgError.lockNotAvailable;
}

/**
 * How an operation takes its player's wallet row when another transaction holds it: wait for it;
 * fail at once (`nowait`: Postgres's lock_not_available, and the transaction with it); or, in a
 * transaction several operations share, skip it and fail only this operation as Busy (`skip`).
 */
export type WalletWait = 'wait' | 'nowait' | 'skip';

/**
 * The order in which the operations of a group (several players' operations in one transaction)
 * write their transfers: by the id of the house account each moves money with. A transfer locks its
 * house row until the transaction ends; written in whatever order the operations got there, two
 * groups sharing two house rows could each take one and wait for the other, a deadlock that only the
 * lock timeout would end, with both groups' work. Each operation's transfer waits until every
 * operation of the group is either at its transfer or finished, and then they go in that order: the
 * house rows a group holds all sort before the one it waits for. (A lone operation takes one house
 * row: it needs no order.) The rows are still taken when written, not before: no longer held.
 */
export class HouseOrder {
  #left: number;
  #queue: { house: bigint; go: () => void }[] = [];

  constructor(members: number) {
    this.#left = members;
  }

  /** One operation's place in the order: it arrives once, at its first transfer or when it finishes. */
  member(): { turn(house: bigint): Promise<void>; finished(): void } {
    let arrived = false;
    const arrive = () => {
      if (arrived) return;
      arrived = true;
      if (--this.#left > 0) return;
      // Let go in a later microtask: the last to arrive is awaiting its turn by then, so that every
      // operation resumes (and sends its transfer) in the order its turn was given.
      queueMicrotask(() => {
        for (const { go } of this.#queue.sort((a, b) => (a.house < b.house ? -1 : a.house > b.house ? 1 : 0))) go();
        this.#queue = [];
      });
    };
    return {
      turn: (house) => {
        if (arrived) return Promise.resolve();
        const turn = new Promise<void>((go) => this.#queue.push({ house, go }));
        arrive();
        return turn;
      },
      finished: arrive,
    };
  }
}

type Place = ReturnType<HouseOrder['member']>;

/**
 * The bets of the player's round whose rollback was refused while a win held them (`win_stands`: it
 * stood on them alone; `line_closed`: its closing settled their lines) and that still stand, oldest
 * refusal first, with the rollback's own id where it had one: the win's rollback refunds them
 * (wallet.ts, refundHeldBack), so nothing else may (a reconciliation deposit would pay twice).
 */
export async function heldBackRollbacks(db: Kysely<Database>, provider: string, playerId: bigint, roundExternalId: string): Promise<{ id: bigint; externalId: string; rollbackId: string | null }[]> {
  const { rows } = await sql<{ id: bigint; external_id: string; rollback_id: string | null }>`
    select b.id, b.external_id, rr.claim ->> 'id' as rollback_id
    from round_refusals rr
    join provider_transactions b on b.provider_id = rr.provider_id and b.external_id = rr.external_id and b.player_id = rr.player_id
    where rr.provider_id = ${provider} and rr.player_id = ${playerId} and rr.round_external_id = ${roundExternalId}
      and rr.operation = 'rollback' and rr.reason in ('win_stands', 'line_closed')
      and b.kind = 'debit' and b.status = 'applied'
      and not exists (select 1 from rollbacks x where x.provider_id = b.provider_id and x.target_external_id = b.external_id)
    order by rr.id`.execute(db);
  return rows.map((r) => ({ id: r.id, externalId: r.external_id, rollbackId: r.rollback_id }));
}

/** The ledger rows the wallet rules read and write, inside one operation's transaction. */
export class Records {
  readonly #trx: Trx;
  readonly #house: HouseAccounts;
  readonly #wait: WalletWait;
  readonly #order: Place | undefined;
  /** The game account this operation moves money with (see gameAccount). */
  #game: bigint | undefined;
  /** Posts sent without waiting for their answers (see send), in the order sent. */
  readonly #sent: Promise<unknown>[] = [];
  readonly #before: Promise<Minor | undefined> | undefined;

  /**
   * `order`: its place among the operations of a shared transaction (see HouseOrder). `before`: in
   * a transaction that runs several operations of the player one after the other, the balance the
   * ones before this one leave (undefined: they leave it as read); its snapshot then waits for it.
   */
  constructor(trx: Trx, house: HouseAccounts, wait: WalletWait = 'wait', order?: Place, before?: Promise<Minor | undefined>) {
    this.#trx = trx;
    this.#house = house;
    this.#wait = wait;
    this.#order = order;
    this.#before = before;
  }

  /**
   * In a shared transaction, waits for this operation's turn to write its transfer (see HouseOrder).
   * Every transfer moves money with the game account the operation looked up (gameAccount) just before.
   */
  #turn(): Promise<void> | undefined {
    return this.#order?.turn(this.#game ?? 0n);
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
   *
   * With `lines`, the round's bet lines and how it was settled come in the same round trip: what a
   * result, a change or a cancel is checked against; with `staked`, whether the round holds a stake.
   * Each costs only when asked for.
   */
  async snapshot(
    player: PlayerCode,
    currency: Currency,
    at: { provider: ProviderId; key: ExternalTxId; roundId?: string | undefined },
    { lock = true, lines = false, staked = false }: { lock?: boolean; lines?: boolean; staked?: boolean } = {},
  ): Promise<Snapshot | Refusal> {
    const locking = (mode: RawBuilder<unknown>) =>
      sql`select a.id from players p join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = ${currency}
            where p.code = ${player} for update of a${mode}`;
    // In a shared transaction the lock's answer is needed (was the row skipped?); it goes out with the read all the same.
    const skipping = lock && this.#wait === 'skip' ? this.#trx.executeQuery(prepared(locking(sql` skip locked`), this.#trx)) : undefined;
    if (lock && !skipping) await this.#trx.executeQuery(ahead(locking(this.#wait === 'nowait' ? sql` nowait` : sql``), this.#trx));
    // Whether the round's stake and lines are read is a part of the statement's text, not a parameter:
    // a few shapes, each prepared once. Left to parameters, the plan made for any value (the generic
    // plan) counts the subqueries the flags may skip, costs more than one made for the values of
    // each call, and Postgres then plans the statement again on every call.
    const stakedColumn = staked ? sql`exists (select 1 from bet_lines l where l.round_id = r.id and l.state <> 'cancelled' and l.amount > 0)` : sql`null::boolean`;
    const linesColumns = lines
      ? sql`(select json_agg(json_build_object('id', l.id::text, 'ref', l.ref, 'amount', l.amount::text, 'state', l.state,
            'winloss', l.winloss::text, 'payout', l.payout::text, 'debit', l.provider_transaction_id::text,
            'at', (select s.details -> 'claim' ->> 'at' from provider_transactions s where s.id = l.settled_by)) order by l.id)
          from bet_lines l where l.round_id = r.id) as round_lines,
        (select json_build_object('kind', s.kind, 'claim', s.details -> 'claim') from provider_transactions s where s.id = r.settled_by) as settled`
      : sql`null::json as round_lines, null::json as settled`;
    const read = this.#trx.executeQuery(
      prepared(
        sql<Record<string, any>>`
      select p.id as player_id, p.status, a.id as account_id, a.balance,
        t.id as tx_id, t.player_id as tx_player_id, t.kind as tx_kind, t.currency as tx_currency, t.amount as tx_amount,
        t.status as tx_status, t.refusal as tx_refusal, tr.external_id as tx_round, t.details -> 'claim' as tx_claim, t.game as tx_game, t.details ->> 'against' as tx_against,
        m.id as marker_id, m.target_id as marker_target_id, m.player_id as marker_player_id,
        r.id as round_id, r.currency as round_currency, r.settled_by,
        ${stakedColumn} as round_staked,
        ${linesColumns}
      from players p
      join accounts a on a.player_id = p.id and a.kind = 'player' and a.currency = ${currency}
      left join provider_transactions t on t.provider_id = ${at.provider} and t.external_id = ${at.key}
      left join rounds tr on tr.id = t.round_id
      left join rollbacks m on m.provider_id = ${at.provider} and m.target_external_id = ${at.key}
      left join lateral (
        select r.id, r.currency, r.settled_by from rounds r
        where r.provider_id = ${at.provider} and r.player_id = p.id and r.external_id = ${at.roundId ?? null} limit 1
      ) r on true
      where p.code = ${player}`,
        this.#trx,
      ),
    );
    const [{ rows }, lockedRows, before] = await Promise.all([read, skipping, this.#before]);
    const row = rows[0];
    if (row && lockedRows?.rows.length === 0) throw new Busy(`the wallet of ${player} is locked by another transaction`);
    if (!row) {
      const known = await this.#trx.selectFrom('players').select('id').where('code', '=', player).executeTakeFirst();
      return known ? 'currency_mismatch' : 'unknown_player';
    }
    return {
      wallet: { playerId: row.player_id, status: row.status, accountId: row.account_id, balance: before ?? row.balance },
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
              claim: row.tx_claim,
              game: row.tx_game,
              against: row.tx_against,
            },
      marker: row.marker_id === null ? undefined : { id: row.marker_id, target_id: row.marker_target_id, player_id: row.marker_player_id },
      round:
        row.round_id === null
          ? undefined
          : {
              id: row.round_id,
              currency: row.round_currency,
              settled: row.settled_by !== null,
              staked: row.round_staked,
              ...(lines
                ? {
                    state: {
                      id: row.round_id,
                      lines: ((row.round_lines ?? []) as RawLine[]).map(lineOf),
                      settledBy: row.settled_by === null ? null : { id: row.settled_by, kind: row.settled.kind, claim: row.settled.claim },
                    },
                  }
                : {}),
            },
    };
  }

  /**
   * Records a provider transaction in one statement, with everything it does to the round: its round
   * (unless `knownRound`), its transfer when it moves money (the transfer's trigger moves both
   * balances), the transaction itself, the bet lines it places (only with a round), the lines it
   * settles (with their win/loss and payout) or cancels, and whether it settles the round.
   *
   * A new round that another transaction created meanwhile (the same player's round, by an operation
   * in another currency: the wallet lock does not order them) fails the statement on `round_unique`,
   * one of the wallet's race keys: the transaction runs again and then sees the round. An error, not
   * a check of the answer, so that a post sent without waiting for it (see send) cannot commit a
   * transaction without its round.
   */
  async post(
    tx: NewTx,
    playerId: bigint,
    knownRound: bigint | undefined,
    result: { status: 'applied'; from: bigint; to: bigint; amount: Minor; kind: TransferKind } | { status: 'refused'; refusal: Refusal },
    effects: RoundEffects = {},
  ): Promise<{ id: bigint; roundId: bigint | null }> {
    const newRound = tx.roundId !== undefined && knownRound === undefined;
    const applied = result.status === 'applied';
    if (applied) await this.#turn();
    const { place = [], settle = [], cancel = [], settleRound = false } = effects;
    // Only the parts a transaction needs are in its statement: a few shapes, each prepared once.
    const parts = [
      place.length
        ? sql`, placed as (
        insert into bet_lines (provider_transaction_id, round_id, ref, amount)
        select p.id, p.round_id, l.ref, l.amount
        from posted p, unnest(${place.map((l) => l.ref)}::text[], ${place.map((l) => String(l.amount))}::bigint[]) with ordinality as l(ref, amount, n)
        where p.round_id is not null
        order by l.n
      )`
        : sql``,
      settle.length
        ? sql`, settled as (
        update bet_lines l set state = 'settled', winloss = s.winloss, payout = s.payout, settled_by = (select id from posted)
        from ${settledRows(settle)} as s(id, winloss, payout)
        where l.id = s.id
      )`
        : sql``,
      cancel.length ? sql`, cancelled as (update bet_lines set state = 'cancelled' where id in (select id from ${idRows(cancel)} as c(id)))` : sql``,
      settleRound
        ? sql`, closed as (
        update rounds set settled_by = p.id, settled_at = now() from posted p where rounds.id = p.round_id and rounds.settled_by is null
      )`
        : sql``,
    ];
    const { rows } = await this.#trx.executeQuery(
      prepared(
        sql<{ id: bigint; round_id: bigint | null }>`
      with new_round as (
        insert into rounds (provider_id, external_id, player_id, currency)
        select ${tx.provider}, ${tx.roundId ?? null}, ${playerId}, ${tx.currency} where ${newRound}
        returning id
      ), moved as (
        insert into transfers (debit_account_id, credit_account_id, amount, currency, kind)
        select ${applied ? result.from : null}::bigint, ${applied ? result.to : null}::bigint, ${applied ? result.amount : null}::bigint,
          ${tx.currency}, ${applied ? result.kind : null}
        where ${applied}
        returning id
      ), posted as (
        insert into provider_transactions
          (provider_id, external_id, player_id, kind, currency, amount, round_id, details, game, status, refusal, transfer_id)
        values (${tx.provider}, ${tx.txId}, ${playerId}, ${tx.kind}, ${tx.currency}, ${tx.amount},
          ${newRound ? sql`(select id from new_round)` : sql`${knownRound ?? null}::bigint`},
          ${tx.details ? storableJson(tx.details) : null}::jsonb, ${tx.game === undefined ? null : storedGame(tx.game)}::text,
          ${result.status}, ${applied ? null : result.refusal},
          (select id from moved))
        returning id, round_id
      )${sql.join(parts, sql``)}
      select id, round_id from posted`,
        this.#trx,
      ),
    );
    const row = rows[0]!;
    return { id: row.id, roundId: row.round_id };
  }

  /**
   * A post (see there) sent without waiting for its answer: an operation's last statement, whose
   * result it does not need. It reaches the connection before anything sent after it (the history row,
   * the COMMIT); if it fails, the transaction fails with it, the COMMIT answers ROLLBACK, and
   * `failure` names its error.
   */
  send(...post: Parameters<Records['post']>): void {
    const sent = this.post(...post);
    sent.catch(() => {}); // named by failure()
    this.#sent.push(sent);
  }

  /** The error of the first post sent without waiting that failed, if one did. */
  async failure(): Promise<unknown> {
    for (const sent of this.#sent) {
      try {
        await sent;
      } catch (error) {
        return error;
      }
    }
    return undefined;
  }

  insertRollback(provider: ProviderId, target: ExternalTxId, playerId: bigint, targetId: bigint | null, transferId: bigint | null, id?: ExternalTxId) {
    return this.#trx
      .insertInto('rollbacks')
      .values({ provider_id: provider, target_external_id: target, player_id: playerId, target_id: targetId, transfer_id: transferId, external_id: id ?? null })
      .execute();
  }

  /** What a rollback with its own id `id` reversed, if one was recorded. */
  async rollbackById(provider: ProviderId, id: ExternalTxId): Promise<string | undefined> {
    const row = await this.#trx.selectFrom('rollbacks').select('target_external_id').where('provider_id', '=', provider).where('external_id', '=', id).executeTakeFirst();
    return row?.target_external_id;
  }

  /**
   * The currency of transaction `txId`, when it is `player`'s: a transaction's currency never
   * changes once recorded, so this is read before the wallet row is locked.
   */
  async currencyOf(provider: ProviderId, txId: ExternalTxId, player: PlayerCode): Promise<Currency | undefined> {
    const row = await this.#trx
      .selectFrom('provider_transactions as t')
      .innerJoin('players as p', 'p.id', 't.player_id')
      .select('t.currency')
      .where('t.provider_id', '=', provider)
      .where('t.external_id', '=', txId)
      .where('p.code', '=', player)
      .executeTakeFirst();
    return row === undefined ? undefined : asCurrency(row.currency.trim());
  }

  /** The currency of `player`'s round `roundId`: fixed by its first bet, so read before the wallet row is locked. */
  async roundCurrencyOf(provider: ProviderId, roundId: string, player: PlayerCode): Promise<Currency | undefined> {
    const row = await this.#trx
      .selectFrom('rounds as r')
      .innerJoin('players as p', 'p.id', 'r.player_id')
      .select('r.currency')
      .where('r.provider_id', '=', provider)
      .where('r.external_id', '=', roundId)
      .where('p.code', '=', player)
      .executeTakeFirst();
    return row === undefined ? undefined : asCurrency(row.currency.trim());
  }

  /**
   * The bet a win names (`against`): whether it was placed for this player on this round and still
   * stands (applied, not rolled back, a line not cancelled).
   */
  async standingBet(provider: ProviderId, txId: ExternalTxId, playerId: bigint, roundId: bigint | undefined): Promise<'standing' | 'missing' | 'gone'> {
    const { rows } = await sql<{ status: string; same: boolean; live: boolean }>`
      select t.status, t.player_id = ${playerId} and t.kind = 'debit' and t.round_id is not distinct from ${roundId ?? null}::bigint as same,
        exists (select 1 from bet_lines l where l.provider_transaction_id = t.id and l.state <> 'cancelled') as live
      from provider_transactions t where t.provider_id = ${provider} and t.external_id = ${txId}`.execute(this.#trx);
    const bet = rows[0];
    if (!bet || !bet.same) return 'missing';
    return bet.status === 'applied' && bet.live ? 'standing' : 'gone';
  }

  /**
   * Whether rolling back bet `betId` would leave a win standing on its round with no stake under it:
   * a game win of more than 0 paid there and not rolled back (a stake-free win needs no stake), and no
   * other line of the round open with a stake (rules 11-13).
   */
  async winOutlivesStake(betId: bigint): Promise<boolean> {
    const { rows } = await sql<{ alone: boolean }>`
      select exists (
          select 1 from provider_transactions c join transfers t on t.id = c.transfer_id
          where c.round_id = b.round_id and c.kind = 'credit' and c.status = 'applied' and t.kind = 'win' and t.amount > 0
            and not exists (select 1 from rollbacks rb where rb.target_id = c.id and rb.transfer_id is not null))
        and not exists (select 1 from bet_lines l where l.round_id = b.round_id and l.provider_transaction_id <> b.id and l.state = 'open' and l.amount > 0) as alone
      from provider_transactions b where b.id = ${betId} and b.round_id is not null`.execute(this.#trx);
    return rows[0]?.alone === true;
  }

  /** The bets of the player's round held back by a win (heldBackRollbacks). */
  heldBackRollbacks(provider: ProviderId, playerId: bigint, roundExternalId: string) {
    return heldBackRollbacks(this.#trx, provider, playerId, roundExternalId);
  }

  async gameAccount(provider: ProviderId, currency: Currency, playerId: bigint): Promise<bigint> {
    return (this.#game = await this.#house.idFor(this.#trx, { kind: 'game', provider, currency }, playerId));
  }

  async transfer(from: bigint, to: bigint, amount: Minor, currency: Currency, kind: TransferKind): Promise<bigint> {
    await this.#turn();
    const { id } = await this.#trx
      .insertInto('transfers')
      .values({ debit_account_id: from, credit_account_id: to, amount, currency, kind })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  /** The bet lines a debit placed, in its order. */
  async linesOf(transactionId: bigint): Promise<Omit<RoundLine, 'madeAt'>[]> {
    const rows = await this.#trx
      .selectFrom('bet_lines')
      .select(['id', 'ref', 'amount', 'state', 'winloss', 'payout', 'provider_transaction_id'])
      .where('provider_transaction_id', '=', transactionId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: r.id, ref: r.ref, amount: r.amount, state: r.state, winloss: r.winloss, payout: r.payout, debitId: r.provider_transaction_id }));
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

  /**
   * The lines and round a payment settled, open again once that payment is rolled back: what they
   * owe is owed again (a new closing win settles them, a bet's rollback refunds them).
   */
  async reopenSettledBy(payment: bigint): Promise<void> {
    await sql`with lines as (
        update bet_lines set state = ${'open' satisfies LineState}, winloss = null, payout = null, settled_by = null
        where settled_by = ${payment} and state = ${'settled' satisfies LineState}
      )
      update rounds set settled_by = null, settled_at = null
      where id = (select round_id from provider_transactions where id = ${payment}) and settled_by = ${payment}`.execute(this.#trx);
  }

  /** Open lines whose stake went back to the player. */
  async cancelLines(ids: readonly bigint[]): Promise<void> {
    if (ids.length === 0) return;
    await sql`update bet_lines set state = ${'cancelled' satisfies LineState} where id = any(${ids.map(String)}::bigint[])`.execute(this.#trx);
  }

  /** Rule 14: the round's own record of a message refused under the round rules, with what the vendor claimed. */
  async insertRoundRefusal(r: {
    provider: ProviderId;
    playerId: bigint;
    roundExternalId: string;
    roundId: bigint | undefined;
    txId: ExternalTxId;
    operation: string;
    refusal: RoundRefusal;
    claim: unknown;
  }): Promise<void> {
    await this.#trx
      .insertInto('round_refusals')
      .values({
        provider_id: r.provider,
        player_id: r.playerId,
        round_external_id: r.roundExternalId,
        round_id: r.roundId ?? null,
        external_id: r.txId,
        operation: r.operation,
        reason: r.refusal.reason,
        detail: r.refusal.detail,
        claim: storableJson(r.claim),
      })
      .onConflict((oc) => oc.constraint('round_refusal_unique').doNothing())
      .execute();
  }

  /**
   * Records a login or logout under its id: 'repeat' when the id already names this player's session
   * event of this kind, 'conflict' when it names another player's or another kind (rule 1).
   */
  async insertSession(provider: ProviderId, txId: ExternalTxId, playerId: bigint, kind: 'login' | 'logout', details?: Record<string, unknown>): Promise<'recorded' | 'repeat' | 'conflict'> {
    const inserted = await this.#trx
      .insertInto('player_sessions')
      .values({ provider_id: provider, external_id: txId, player_id: playerId, kind, details: details ? storableJson(details) : null })
      .onConflict((oc) => oc.constraint('player_session_unique').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return 'recorded';
    // A statement of its own sees the row that won the race, committed before the insert gave way to it.
    const held = await this.#trx.selectFrom('player_sessions').select(['player_id', 'kind']).where('provider_id', '=', provider).where('external_id', '=', txId).executeTakeFirst();
    return held?.player_id === playerId && held.kind === kind ? 'repeat' : 'conflict';
  }
}

/**
 * A post's lines as rows for its statement. Up to `WRITTEN_OUT` lines are written out, a parameter
 * each, so that the plan Postgres makes for any values (the generic plan) counts as many rows as the
 * plan for this call's: for an array it counts ten, the generic plan then looks dearer than planning
 * each call, and Postgres plans the statement again on every call. Past that, one shape for all (a
 * text per count would be a prepared statement per count on every connection).
 */
const WRITTEN_OUT = 4;

/** A bigint as a parameter's text (pg sends a JavaScript bigint no other way). */
const text = (v: bigint | null) => (v === null ? null : String(v));

function settledRows(lines: NonNullable<RoundEffects['settle']>): RawBuilder<unknown> {
  if (lines.length > WRITTEN_OUT) {
    return sql`unnest(${lines.map((l) => text(l.id))}::bigint[], ${lines.map((l) => text(l.winloss))}::bigint[], ${lines.map((l) => text(l.payout))}::bigint[])`;
  }
  return sql`(values ${sql.join(lines.map((l) => sql`(${text(l.id)}::bigint, ${text(l.winloss)}::bigint, ${text(l.payout)}::bigint)`))})`;
}

function idRows(ids: readonly bigint[]): RawBuilder<unknown> {
  if (ids.length > WRITTEN_OUT) return sql`unnest(${ids.map(text)}::bigint[])`;
  return sql`(values ${sql.join(ids.map((id) => sql`(${text(id)}::bigint)`))})`;
}

interface RawLine {
  id: string;
  ref: string;
  amount: string;
  state: LineState;
  winloss: string | null;
  payout: string | null;
  debit: string;
  at: string | null;
}

const lineOf = (l: RawLine): RoundLine => ({
  id: BigInt(l.id),
  ref: l.ref,
  amount: BigInt(l.amount),
  state: l.state,
  winloss: l.winloss === null ? null : BigInt(l.winloss),
  payout: l.payout === null ? null : BigInt(l.payout),
  madeAt: l.at === null ? null : Number(l.at),
  debitId: BigInt(l.debit),
});
