import type { Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';

/** A configured provider instance ("scorpio-play", "dowinn"). */
export type ProviderId = string & { readonly __brand: 'ProviderId' };
/** The player's id as the casino and its vendors know it (a vendor's `account` / `user_id`). */
export type PlayerCode = string & { readonly __brand: 'PlayerCode' };
/** A vendor's transaction id: opaque text, unique per provider. */
export type ExternalTxId = string & { readonly __brand: 'ExternalTxId' };

export const ProviderId = (s: string) => s as ProviderId;
export const PlayerCode = (s: string) => s as PlayerCode;
export const ExternalTxId = (s: string) => s as ExternalTxId;

/**
 * The validations a dialect may ask for, dialect-free. A dialect can say in which order they are
 * reported (the command dialect's `check` list); the wallet always enforces the ones that protect
 * money whatever the order, and never refuses money owed to a player because the player is blocked.
 */
export type Check = 'player' | 'active' | 'unique' | 'funds' | 'target';

interface PlayerOp {
  player: PlayerCode;
  currency: Currency;
  /** Order in which failed checks are reported; unlisted checks follow in the wallet's own order. */
  precedence?: readonly Check[];
}

interface MoneyOp extends PlayerOp {
  provider: ProviderId;
  txId: ExternalTxId;
  amount: Minor;
  roundId?: string;
  /** The vendor's game of the call (its code), where the dialect names one: reports cut revenue by it. */
  game?: string | undefined;
  /** Vendor context kept with the transaction for audit (game, call id, ...). */
  details?: Record<string, unknown>;
}

/** One bet inside a debit, named by the vendor's index within its round so a cancel or a result can name it. */
export interface BetLine {
  ref: string;
  amount: Minor;
}

/** A bet line's result as the vendor states it: the stake it says was bet, and the net win/loss (negative when lost). */
export interface LineResult {
  ref: string;
  stake: Minor;
  winloss: Minor;
}

/** A line's corrected result; `winlossBefore`, where the vendor states it, is what it corrects. */
export interface LineChange extends LineResult {
  winlossBefore?: Minor;
}

/**
 * When the vendor made a result or result change (unix seconds, by its clock), where the dialect
 * states it: a message made in an earlier second than the one that set a line's figures is older
 * than them (rule 13). Within one second only the figures order them.
 */
export type MadeAt = number;

/** The totals a result message asserts: checked against its lines, never paid from. */
export interface ResultTotals {
  stake: Minor;
  winloss: Minor;
  /** A result change's total before the change. */
  winlossBefore?: Minor;
}

/**
 * An operation on a round whose message may name no currency (`currencyUnnamed`): its `currency` is
 * then the adapter's guess, and its amounts that guess's minor units. The wallet applies it in its
 * round's currency, where the round is the player's, with its amounts re-expressed exactly in that
 * currency's minor units (refused as inconsistent where they cannot be); the outcome's `currency`
 * then says which. A round's money is never refused for the adapter's guess (rule 7).
 */
interface InRound {
  currencyUnnamed?: boolean;
}

export type WalletOperation =
  | ({ op: 'authenticate'; requireActive: boolean } & PlayerOp)
  | ({ op: 'balance'; requireActive: boolean } & PlayerOp)
  /** A bet; `lines` (summing to `amount`) when it itemises its round; otherwise it is one line of its own. */
  | ({ op: 'debit'; lines?: readonly BetLine[] } & MoneyOp)
  /**
   * A win of a stated amount (the vendor is the authority on what a game won). It needs a stake on
   * its round unless `stakeFree` (a bonus, promotional or free-bet win); `against`, where the dialect
   * names the bet it pays, needs that bet placed and standing; `closes` settles the round with it
   * (its open lines settled, no bet joining it later); otherwise the round stays open (rounds of
   * several bets and wins, free spins).
   */
  | ({ op: 'credit'; stakeFree?: boolean; against?: ExternalTxId; closes?: boolean } & MoneyOp)
  /** The result that settles an itemised round: pays each named line its stake as debited plus its win/loss. */
  | ({ op: 'settle'; roundId: string; lines: readonly LineResult[]; totals: ResultTotals; madeAt?: MadeAt } & Omit<MoneyOp, 'amount'> & InRound)
  /** A result change: the named settled lines take their corrected win/loss; the difference moves either way. */
  | ({ op: 'adjust'; roundId: string; lines: readonly LineChange[]; totals: ResultTotals; madeAt?: MadeAt } & Omit<MoneyOp, 'amount'> & InRound)
  /**
   * Reverses one whole transaction named by its id. `id`: the rollback's own transaction id, where
   * the dialect gives it one (the same id naming another transaction is then a conflict).
   * `currencyUnnamed`: the dialect's rollback names no currency, so `currency` is only the adapter's
   * guess: the wallet reverses the transaction in its own currency, when it is the player's (the
   * outcome's `currency` then says which), and uses the guess only for a transaction never seen.
   */
  | ({ op: 'rollback'; provider: ProviderId; target: ExternalTxId; id?: ExternalTxId; currencyUnnamed?: boolean; roundId?: string } & PlayerOp)
  /** Refunds some bet lines of a round; the cancel is a transaction of its own (`txId`, `amount` = the lines' sum). */
  | ({ op: 'cancel_bets'; roundId: string; lines: readonly BetLine[] } & MoneyOp & InRound)
  | ({ op: 'status'; provider: ProviderId; txId: ExternalTxId } & PlayerOp)
  /** Login / logout: no money, recorded for audit; `txId` makes a repeat a no-op. */
  | ({ op: 'session'; action: 'start' | 'end'; provider: ProviderId; txId: ExternalTxId; requireActive: boolean; details?: Record<string, unknown> } & PlayerOp);

/** Money owed to the player: when something must wait, these go first; on a fault they are parked and applied later. */
export const OWED: ReadonlySet<WalletOperation['op']> = new Set(['credit', 'settle', 'adjust', 'rollback', 'cancel_bets']);

/**
 * Operations that read the wallet without locking its row and move no money: nothing they do depends
 * on the order of the player's other calls, so they take no place in the player's line.
 */
export const LOCK_FREE: ReadonlySet<WalletOperation['op']> = new Set(['authenticate', 'balance', 'status', 'session']);

/** Why the wallet said no. Each adapter maps these to its codes in one table. */
export type Refusal =
  | 'unknown_player'
  | 'currency_mismatch'
  | 'player_blocked'
  | 'insufficient_funds'
  /** Same transaction id, different content (amount, player, round, kind). */
  | 'conflict'
  /** A money transaction whose rollback arrived first: it is refused for good. */
  | 'rolled_back'
  /** A rollback or status naming a transaction never seen. */
  | 'target_not_found'
  // The round rules (rules 10-14): each is recorded in the round's refusals with what the vendor claimed.
  /** The message contradicts itself: totals that are not the sum of its lines, a line losing more than its stake. */
  | 'inconsistent'
  /** A win or result on a round that took no stake, or whose every stake was cancelled. */
  | 'no_stake'
  /** A result names a bet line the round never took, or states another stake than was debited for it. */
  | 'unknown_line'
  /** A line named is no longer open: a result for a cancelled line, a cancel of a settled one. */
  | 'line_closed'
  /** The round is settled: no bet joins it and no second result pays it (a correction is a result change). */
  | 'round_settled'
  /** A result change whose "before" is not the round's current result: it follows a change not yet applied. */
  | 'stale_change'
  /** A result or change older than the figures the round holds (the change that corrected it came first): it pays nothing. */
  | 'superseded'
  /** A bet's rollback that would leave a win paid on its round with no stake under it: the win is rolled back first. */
  | 'win_stands';

export type TxState = 'processed' | 'cancelled' | 'refused' | 'unknown';

/**
 * What the wallet did. `currency`, on an operation that did not name its own (a rollback with
 * `currencyUnnamed`), is the currency of `balance` when it is not the one the operation guessed.
 */
export type Outcome =
  /** Applied now. `moved` is false when a rollback had nothing to move (its target was refused). */
  | { type: 'ok'; balance: Minor; moved: boolean; currency?: Currency }
  /** A repeat of something already applied with the same content: nothing changed. */
  | { type: 'duplicate'; balance: Minor; currency?: Currency }
  /**
   * Refused; nothing changed (beyond recording the refusal). `repeat` is true when the refusal is an
   * earlier one replayed; `detail` says what in the message did not hold, for the history.
   */
  | { type: 'refused'; reason: Refusal; balance?: Minor; repeat?: boolean; detail?: string; currency?: Currency }
  | { type: 'status'; state: TxState; balance: Minor };
