import type { Journal, Operation } from './journal.ts';
import { units } from './money.ts';

/**
 * How a session ended:
 * - completed: every round was played;
 * - refused: the casino refused the player (unknown, blocked) or a bet outright;
 * - broke: the balance no longer covers the smallest stake (or a bet was refused for funds);
 * - failed: the casino did not answer the session's opening call;
 * - stopped: the vendor was shut down mid-session.
 */
export type SessionEnd = 'completed' | 'refused' | 'broke' | 'failed' | 'stopped';

export interface SessionReport {
  id: string;
  provider: string;
  player: string;
  currency: string;
  /** The game symbol, or the table code. */
  game: string;
  /** Rounds in which a bet was sent. */
  rounds: number;
  ended: SessionEnd;
  /** The vendor's expected net change of the player's wallet from this session, in minor units. */
  change: bigint;
  /** The last balance the casino answered, in minor units. */
  balance?: bigint;
  /** Attempts sent in this session (retries and duplicate copies included). */
  calls: number;
  startedAt: Date;
  ms: number;
}

export function sessionReport(
  journal: Journal,
  s: { id: string; provider: string; player: string; currency: string; game: string; rounds: number; ended: SessionEnd; balance?: bigint; startedAt: Date },
): SessionReport {
  return {
    ...s,
    change: journal.expectedChange(s.player, s.currency, { session: s.id }),
    calls: journal.attempts.filter((a) => a.session === s.id).length,
    ms: Date.now() - s.startedAt.getTime(),
  };
}

/** One log line for a session's end. */
export function describeReport(r: SessionReport): string {
  const balance = r.balance === undefined ? '' : `, balance ${units(r.balance, r.currency)}`;
  return `session ${r.id} ${r.player} ended ${r.ended}: ${r.rounds} rounds, ${r.calls} calls, change ${units(r.change, r.currency)} ${r.currency}${balance} (${r.ms} ms)`;
}

/** One log line for a concluded operation. */
export function describeOperation(op: Operation): string {
  const amount = op.amount === undefined ? '' : ` ${units(op.amount, op.currency)} ${op.currency}`;
  const verdict = op.final === 'ok' ? '' : ` (${op.final})`;
  return `${op.session ?? '-'} ${op.player} ${op.call} ${op.target ? `of ${op.target}` : op.transId}${amount} -> ${String(op.reply)}${verdict}`;
}
