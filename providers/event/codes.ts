import type { Outcome, Refusal } from '../../src/wallet/types.ts';

export type Code = 'R0' | 'R1' | 'R2' | 'R3' | 'R4';

/** Every wallet refusal as an event-dialect code, in one table. */
export const REFUSAL_CODE: Readonly<Record<Refusal, Code>> = {
  unknown_player: 'R3',
  currency_mismatch: 'R3',
  // The dialect has no "blocked" code: the event is refused as invalid for this player.
  player_blocked: 'R3',
  insufficient_funds: 'R4',
  conflict: 'R3',
  rolled_back: 'R3',
  target_not_found: 'R3',
  inconsistent: 'R3',
  no_stake: 'R3',
  unknown_line: 'R3',
  line_closed: 'R3',
  round_settled: 'R3',
  stale_change: 'R3',
  // The original result of a round its result change already settled: the round is as the vendor
  // wants it, so the late result is answered as done; it paid nothing, and the refusal is recorded.
  superseded: 'R0',
  // Not reachable through this dialect: a result settles its lines, and a cancel of a settled line is line_closed.
  win_stands: 'R3',
};

/**
 * The code for a wallet outcome. A repeat answers its original outcome (R0 with the current balance).
 * A bet_cancel naming bets never placed answers R0: nothing was taken, so the cancel is settled and
 * the player's balance is whole; the cancel is remembered, and the late bet is refused.
 */
export function codeFor(event: string, outcome: Outcome): Code {
  switch (outcome.type) {
    case 'ok':
    case 'duplicate':
    case 'status':
      return 'R0';
    case 'refused':
      if (event === 'bet_cancel' && outcome.reason === 'target_not_found') return 'R0';
      return REFUSAL_CODE[outcome.reason];
  }
}
