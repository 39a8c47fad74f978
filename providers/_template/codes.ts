import type { Outcome, Refusal } from '../../src/wallet/types.ts';

/**
 * The vendor's answer codes. Every wallet refusal maps to one, in this one table.
 * TEMPLATE: replace the statuses with the vendor's.
 */
export type Status = 'ok' | 'already_processed' | 'insufficient_funds' | 'player_unknown' | 'player_blocked' | 'not_found' | 'rejected' | 'unauthorized' | 'error';

export const REFUSAL_STATUS: Readonly<Record<Refusal, Status>> = {
  unknown_player: 'player_unknown',
  currency_mismatch: 'player_unknown',
  player_blocked: 'player_blocked',
  insufficient_funds: 'insufficient_funds',
  conflict: 'rejected',
  rolled_back: 'rejected',
  target_not_found: 'not_found',
  // The round rules: the message does not match what the round holds.
  inconsistent: 'rejected',
  no_stake: 'rejected',
  unknown_line: 'rejected',
  line_closed: 'rejected',
  round_settled: 'rejected',
  stale_change: 'rejected',
  superseded: 'already_processed',
  win_stands: 'rejected',
};

export function statusFor(outcome: Outcome): Status {
  switch (outcome.type) {
    case 'ok':
    case 'status':
      return 'ok';
    case 'duplicate':
      return 'already_processed';
    case 'refused':
      return REFUSAL_STATUS[outcome.reason];
  }
}
