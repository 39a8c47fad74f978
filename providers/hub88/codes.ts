import type { Failure } from '../../src/gateway/contract.ts';
import type { Outcome, Refusal } from '../../src/wallet/types.ts';
import { REPEAT_STATUS, UNKNOWN_CURRENCY_STATUS, UNKNOWN_USER_STATUS } from './inferred.ts';

/**
 * Hub88's answer statuses ("Seamless Wallet response statuses"), and every way the casino can come to
 * one, in this one file: the wallet's outcomes, the gateway's failures, and the refusals at the door.
 * RS_ERROR_INVALID_GAME is never sent: the casino keeps no list of Hub88's games.
 */
export const STATUSES = [
  'RS_OK',
  'RS_ERROR_UNKNOWN',
  'RS_ERROR_INVALID_PARTNER',
  'RS_ERROR_INVALID_TOKEN',
  'RS_ERROR_INVALID_GAME',
  'RS_ERROR_WRONG_CURRENCY',
  'RS_ERROR_NOT_ENOUGH_MONEY',
  'RS_ERROR_USER_DISABLED',
  'RS_ERROR_INVALID_SIGNATURE',
  'RS_ERROR_TOKEN_EXPIRED',
  'RS_ERROR_WRONG_SYNTAX',
  'RS_ERROR_WRONG_TYPES',
  'RS_ERROR_DUPLICATE_TRANSACTION',
  'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
  'RS_ERROR_TRANSACTION_ROLLED_BACK',
] as const;

export type Status = (typeof STATUSES)[number];

export const isStatus = (s: unknown): s is Status => typeof s === 'string' && (STATUSES as readonly string[]).includes(s);

/** Every wallet refusal as a Hub88 status. */
export const REFUSAL_STATUS: Readonly<Record<Refusal, Status>> = {
  unknown_player: UNKNOWN_USER_STATUS,
  currency_mismatch: 'RS_ERROR_WRONG_CURRENCY',
  player_blocked: 'RS_ERROR_USER_DISABLED',
  insufficient_funds: 'RS_ERROR_NOT_ENOUGH_MONEY',
  // The same transaction_uuid with other content (amount, currency, round, user), or a rollback's own
  // transaction_uuid already used for another transaction.
  conflict: 'RS_ERROR_DUPLICATE_TRANSACTION',
  // A bet whose rollback came first: it is refused for good, never debited.
  rolled_back: 'RS_ERROR_TRANSACTION_ROLLED_BACK',
  // A win whose bet was never placed, was refused or rolled back ("the bet referenced in win request
  // can't be found"). (A rollback of a transaction never seen is RS_OK: statusFor.)
  target_not_found: 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
  no_stake: 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
  // The round rules: a bet on a round its closing win settled, a rollback of a bet whose round is
  // closed. Hub88 has no status for them; the call contradicts what the round holds.
  round_settled: 'RS_ERROR_WRONG_SYNTAX',
  line_closed: 'RS_ERROR_WRONG_SYNTAX',
  // Not reachable through this dialect (it never itemises a round nor corrects a result).
  inconsistent: 'RS_ERROR_WRONG_SYNTAX',
  unknown_line: 'RS_ERROR_WRONG_SYNTAX',
  stale_change: 'RS_ERROR_WRONG_SYNTAX',
  superseded: 'RS_OK',
  // A rollback of the last bet under a win that stands: not the caller's syntax but the round's
  // state for now, answered as a failure to try again; the wallet refunds it itself when the win is
  // rolled back (a retry then finds it done).
  win_stands: 'RS_ERROR_UNKNOWN',
};

/**
 * The status of a wallet outcome: applied, or repeated with the same content, is RS_OK with the current
 * balance. A rollback of a transaction the wallet never saw is RS_OK too, as Hub88's statuses page
 * says ("If you received rollback request and can't find the transaction to roll back, respond
 * RS_OK"): Hub88 rolls back every bet not answered RS_OK, so this is every bet refused at the door or
 * lost to a fault. The wallet still remembers the rollback, and the bet, if it comes late, is refused.
 */
export function statusFor(outcome: Outcome, endpoint?: string): Status {
  if (endpoint === '/transaction/rollback' && outcome.type === 'refused' && outcome.reason === 'target_not_found') return 'RS_OK';
  switch (outcome.type) {
    case 'ok':
    case 'status':
      return 'RS_OK';
    case 'duplicate':
      return REPEAT_STATUS;
    case 'refused':
      return REFUSAL_STATUS[outcome.reason];
  }
}

/** The gateway's failures, where no outcome exists. */
export const FAILURE_STATUS: Readonly<Record<Failure, Status>> = {
  fault: 'RS_ERROR_UNKNOWN',
  unreadable: 'RS_ERROR_WRONG_SYNTAX',
  // The caller's address is not on the instance's allow-list.
  forbidden: 'RS_ERROR_INVALID_PARTNER',
};

/** Refusals at the door, before the wallet: nothing moves. */
export const DOOR_STATUS = {
  /** X-Hub88-Signature missing, unreadable, or not Hub88's signature of these bytes. */
  badSignature: 'RS_ERROR_INVALID_SIGNATURE',
  /** A body that is not a JSON object, names a key twice, lacks a required field, or is another endpoint's call; an unknown endpoint. */
  syntax: 'RS_ERROR_WRONG_SYNTAX',
  /** A field of the wrong type; an amount not a non-negative integer of whole minor units. */
  types: 'RS_ERROR_WRONG_TYPES',
  /** An operator_id that is not the instance's. */
  foreignOperator: 'RS_ERROR_INVALID_PARTNER',
  /** A session token not this instance's, or issued for another user. */
  badToken: 'RS_ERROR_INVALID_TOKEN',
  expiredToken: 'RS_ERROR_TOKEN_EXPIRED',
  /** A bet in another currency than its session's. */
  otherCurrency: 'RS_ERROR_WRONG_CURRENCY',
  /** A currency code the casino does not know. */
  unknownCurrency: UNKNOWN_CURRENCY_STATUS,
} as const satisfies Record<string, Status>;
