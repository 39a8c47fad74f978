import type { Check, Refusal } from '../../src/wallet/types.ts';

/** The command dialect's numeric `check` codes, as wallet checks. */
export const CHECKS: Readonly<Record<string, Check>> = {
  '21': 'player',
  '22': 'active',
  '31': 'funds',
  '41': 'unique',
  '42': 'target',
};

export const RESULT = { ok: 0, processingFailure: 99, badToken: 100 } as const;

/**
 * Every wallet refusal as a command-dialect result, in one table. `withBalance` says whether the
 * answer carries `data.balance` (the spec's shapes for 31, 41 and 42).
 */
export const REFUSAL_RESULT: Readonly<Record<Refusal, { result: number; withBalance: boolean }>> = {
  unknown_player: { result: 21, withBalance: false },
  // One vendor account is one currency: a player without a wallet in it is unknown to that account.
  currency_mismatch: { result: 21, withBalance: false },
  player_blocked: { result: 22, withBalance: false },
  insufficient_funds: { result: 31, withBalance: true },
  conflict: { result: 41, withBalance: true },
  // A bet whose cancel arrived first: its trans_id is already settled (as cancelled), never debited.
  rolled_back: { result: 41, withBalance: true },
  target_not_found: { result: 42, withBalance: true },
  // A win on a round whose every bet was cancelled or refused (or never came): the bet it would pay does not exist.
  no_stake: { result: 42, withBalance: true },
  unknown_line: { result: 42, withBalance: true },
  line_closed: { result: 42, withBalance: true },
  // Not reachable through this dialect (its wins never settle a round, it has no itemised results),
  // answered as a failure the vendor does not take for success.
  inconsistent: { result: RESULT.processingFailure, withBalance: true },
  round_settled: { result: RESULT.processingFailure, withBalance: true },
  stale_change: { result: RESULT.processingFailure, withBalance: true },
  superseded: { result: 41, withBalance: true },
  // A cancel of the last bet under a win that stands: a failure, so the vendor retries it; once it
  // has cancelled the win, the retry refunds.
  win_stands: { result: RESULT.processingFailure, withBalance: true },
};

/**
 * The result for a refusal of `command`. A cancel has no "already processed" check: naming a
 * transaction that is another account's, or not on the round it names, it names none of the caller's
 * (42, the check the spec lists for a cancel), where another command's conflict is a repeat with other
 * content (41).
 */
export function refusalResult(command: string, reason: Refusal): { result: number; withBalance: boolean } {
  return command === 'cancel' && reason === 'conflict' ? REFUSAL_RESULT.target_not_found : REFUSAL_RESULT[reason];
}

/** The result for a repeat of an already applied transaction, per command. */
export function duplicateResult(command: string): number {
  // A second cancel answers OK with the current balance (the vendor's own sample); a repeated bet or win answers 41.
  return command === 'cancel' ? RESULT.ok : 41;
}
