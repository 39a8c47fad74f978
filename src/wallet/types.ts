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
  /** Vendor context kept with the transaction for audit (game, call id, ...). */
  details?: Record<string, unknown>;
}

/** One bet inside a debit, named by the vendor's index within its round so a cancel can name it. */
export interface BetLine {
  ref: string;
  amount: Minor;
}

export type WalletOperation =
  | ({ op: 'authenticate'; requireActive: boolean } & PlayerOp)
  | ({ op: 'balance'; requireActive: boolean } & PlayerOp)
  /** A bet; `lines` (summing to `amount`) when it carries several bets of one round. */
  | ({ op: 'debit'; lines?: readonly BetLine[] } & MoneyOp)
  /** A win; with `settles`, the round's one result: a second settling credit for the round is refused (a correction is an adjust). */
  | ({ op: 'credit'; settles?: boolean } & MoneyOp)
  /** Reverses one whole transaction named by its id (the cancel has no id of its own). */
  | ({ op: 'rollback'; provider: ProviderId; target: ExternalTxId } & PlayerOp)
  /** Refunds some bet lines of a round; the cancel is a transaction of its own (`txId`, `amount` = the lines' sum). */
  | ({ op: 'cancel_bets'; roundId: string; lines: readonly BetLine[] } & MoneyOp)
  /** A result change: the round's settlement becomes `amount`; the difference from what was paid moves. */
  | ({ op: 'adjust'; roundId: string } & MoneyOp)
  | ({ op: 'status'; provider: ProviderId; txId: ExternalTxId } & PlayerOp)
  /** Login / logout: no money, recorded for audit; `txId` makes a repeat a no-op. */
  | ({ op: 'session'; action: 'start' | 'end'; provider: ProviderId; txId: ExternalTxId; requireActive: boolean; details?: Record<string, unknown> } & PlayerOp);

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
  | 'target_not_found';

export type TxState = 'processed' | 'cancelled' | 'refused' | 'unknown';

export type Outcome =
  /** Applied now. `moved` is false when a rollback had nothing to move (its target was refused). */
  | { type: 'ok'; balance: Minor; moved: boolean }
  /** A repeat of something already applied with the same content: nothing changed. */
  | { type: 'duplicate'; balance: Minor }
  /** Refused; nothing changed (beyond recording the refusal). `repeat` is true when the refusal is an earlier one replayed. */
  | { type: 'refused'; reason: Refusal; balance?: Minor; repeat?: boolean }
  | { type: 'status'; state: TxState; balance: Minor };
