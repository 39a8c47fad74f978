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
/** How every simulated vendor plays a session: the options its dialect's sessions share. */
export interface PlayOptions {
  /** Rounds per session. */
  rounds: number;
  /** Share of calls sent twice at once (a vendor's duplicate delivery). */
  duplicateRate: number;
  retryDelayMs: readonly [number, number];
  betTimeoutMs: number;
  otherTimeoutMs: number;
  /** Think time between rounds. */
  pauseMs: readonly [number, number];
  /** Seeds the session's random choices (default: Math.random). */
  seed?: number;
}

export const PLAY_DEFAULTS: PlayOptions = {
  rounds: 5,
  duplicateRate: 0,
  retryDelayMs: [2000, 4000],
  betTimeoutMs: 2000,
  otherTimeoutMs: 4000,
  pauseMs: [0, 0],
};

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
