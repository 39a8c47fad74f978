import type { Minor } from '../money/minor.ts';
import type { LineState } from '../ledger/line-states.ts';
import type { LineChange, LineResult, MadeAt, Refusal, ResultTotals } from './types.ts';


/**
 * The round rules (wallet-semantics.md, rules 10-14), dialect-free: a round's bet lines and their
 * states, and the checks every result, result change and cancel must pass against the wallet's own
 * record of the round, never against what the message says about the past.
 */

/** A bet line as the wallet holds it. */
export interface RoundLine {
  id: bigint;
  ref: string;
  /** The stake as debited: the only stake a result pays back. */
  amount: Minor;
  state: LineState;
  /** The vendor's net win/loss and what the line paid, once settled (unknown for lines settled before the wallet kept them). */
  winloss: Minor | null;
  payout: Minor | null;
  /** When the vendor made the message that set its figures, where it said (rule 13); null while open. */
  madeAt: MadeAt | null;
  /** The debit that placed the line. */
  debitId: bigint;
}

/** What a result or result change claimed, kept with its transaction and with a refusal of it. */
export interface Claim {
  lines: { ref: string; stake: string; winloss: string; before?: string }[];
  totals: { stake: string; winloss: string; before?: string };
  /** When the vendor made the message (unix seconds), where the dialect states it. */
  at?: string;
}

export interface RoundState {
  id: bigint;
  lines: readonly RoundLine[];
  /** The transaction that settled the round, and what it claimed (null for a result settled before claims were kept). */
  settledBy: { id: bigint; kind: string; claim: Claim | null } | null;
}

/** A refusal under the round rules, with what did not hold, for the history and the round's record. */
export interface RoundRefusal {
  reason: Extract<Refusal, 'inconsistent' | 'no_stake' | 'unknown_line' | 'line_closed' | 'round_settled' | 'stale_change' | 'superseded' | 'win_stands'>;
  detail: string;
}

const refuse = (reason: RoundRefusal['reason'], detail: string): RoundRefusal => ({ reason, detail });

export function claimOf(lines: readonly LineChange[], totals: ResultTotals, madeAt?: MadeAt): Claim {
  return {
    ...(madeAt !== undefined ? { at: String(madeAt) } : {}),
    lines: lines.map((l) => ({ ref: l.ref, stake: String(l.stake), winloss: String(l.winloss), ...(l.winlossBefore !== undefined ? { before: String(l.winlossBefore) } : {}) })),
    totals: { stake: String(totals.stake), winloss: String(totals.winloss), ...(totals.winlossBefore !== undefined ? { before: String(totals.winlossBefore) } : {}) },
  };
}

/**
 * Field by field: a claim read back from jsonb has its keys in jsonb's order, not ours. Its time is
 * not compared: a vendor's retry may be stamped when it was sent, and it is the same claim.
 */
export function sameClaim(a: Claim, b: Claim): boolean {
  const sameFigures = (x: Claim['totals'], y: Claim['totals']) => x.stake === y.stake && x.winloss === y.winloss && x.before === y.before;
  return (
    sameFigures(a.totals, b.totals) &&
    a.lines.length === b.lines.length &&
    a.lines.every((l, i) => l.ref === b.lines[i]!.ref && sameFigures(l, b.lines[i]!))
  );
}

/** What the message claims a result pays: each line's stake plus its win/loss (used only to compare with a transaction kept before claims were). */
export const claimedPayout = (lines: readonly LineResult[]): Minor => lines.reduce((sum, l) => sum + l.stake + l.winloss, 0n);

/** Rule 11: the message must agree with itself before the wallet looks at the round. */
export function checkTotals(lines: readonly LineChange[], totals: ResultTotals): RoundRefusal | undefined {
  if (lines.length === 0) return refuse('inconsistent', 'the result names no bet line');
  const refs = new Set(lines.map((l) => l.ref));
  if (refs.size !== lines.length) return refuse('inconsistent', 'a bet line is named twice');
  const stake = lines.reduce((sum, l) => sum + l.stake, 0n);
  if (stake !== totals.stake) return refuse('inconsistent', `the lines stake ${stake}, the total says ${totals.stake}`);
  const winloss = lines.reduce((sum, l) => sum + l.winloss, 0n);
  if (winloss !== totals.winloss) return refuse('inconsistent', `the lines win/loss ${winloss}, the total says ${totals.winloss}`);
  const overdrawn = lines.find((l) => l.winloss < -l.stake || (l.winlossBefore !== undefined && l.winlossBefore < -l.stake));
  if (overdrawn) return refuse('inconsistent', `line ${overdrawn.ref} loses more than its stake`);
  if (totals.winlossBefore !== undefined && lines.every((l) => l.winlossBefore !== undefined)) {
    const before = lines.reduce((sum, l) => sum + l.winlossBefore!, 0n);
    if (before !== totals.winlossBefore) return refuse('inconsistent', `the lines win/loss before ${before}, the total says ${totals.winlossBefore}`);
  }
  return undefined;
}

/**
 * Rule 11: every line a result names exists with the stake the wallet debited for it, in `state`.
 * Returns the wallet's lines in the message's order.
 */
export function namedLines(round: RoundState, lines: readonly LineResult[], state: LineState): RoundLine[] | RoundRefusal {
  const byRef = new Map(round.lines.map((l) => [l.ref, l]));
  const found: RoundLine[] = [];
  for (const line of lines) {
    const held = byRef.get(line.ref);
    if (!held) return refuse('unknown_line', `line ${line.ref} was never placed on this round`);
    if (held.amount !== line.stake) return refuse('unknown_line', `line ${line.ref} states stake ${line.stake}, the wallet debited ${held.amount}`);
    // Rules 10-11: a line's stake is what was debited for it; a line of 0 took nothing to pay for.
    if (held.amount === 0n) return refuse('no_stake', `line ${line.ref} staked nothing`);
    if (held.state !== state) return refuse('line_closed', `line ${line.ref} is ${held.state}, not ${state}`);
    found.push(held);
  }
  return found;
}

/** Rule 11: a round that never took a stake pays no result. */
export function checkStaked(round: RoundState | undefined): RoundRefusal | undefined {
  return round && round.lines.length > 0 ? undefined : refuse('no_stake', 'the round took no stake');
}

/**
 * Rule 13: a result arriving at a round a result change has already settled. It is the original
 * being corrected (it pays nothing, and the round stays as corrected) when it says exactly what the
 * change says it corrected; anything else is a second result for a settled round.
 */
export function lateResult(round: RoundState, lines: readonly LineResult[], totals: ResultTotals): RoundRefusal {
  const claim = round.settledBy?.kind === 'adjust' ? round.settledBy.claim : null;
  if (claim && claim.totals.before === String(totals.winloss) && claim.totals.stake === String(totals.stake)) {
    const corrected = new Map(claim.lines.map((l) => [l.ref, l]));
    const same =
      corrected.size === lines.length &&
      lines.every((l) => {
        const c = corrected.get(l.ref);
        return c !== undefined && c.stake === String(l.stake) && (c.before === undefined || c.before === String(l.winloss));
      });
    if (same) return refuse('superseded', 'the result change that corrected this result has settled the round');
  }
  return refuse('round_settled', 'the round is already settled; a correction is a result change');
}

/**
 * Rule 13: a result arriving at a settled round. Settled by a result change that overtook it, the
 * result is the original being corrected when, for the lines the change settled, it is older by the
 * vendor's clock or says what the change corrected (`olderThanHeld`, `lateResult`): it pays nothing
 * for those. The open lines it names besides, which the change said nothing of, it pays (`pay`), as
 * the vendor's own order would. Anything else is a second result for a settled round.
 */
export function resultAtSettled(round: RoundState, lines: readonly LineResult[], totals: ResultTotals, madeAt: MadeAt | undefined): RoundRefusal | { pay: readonly LineResult[] } {
  const open = new Set(round.lines.filter((l) => l.state === 'open').map((l) => l.ref));
  const corrected = lines.filter((l) => !open.has(l.ref));
  const rest = lines.filter((l) => open.has(l.ref));
  if (round.settledBy?.kind !== 'adjust' || corrected.length === 0 || rest.length === 0) return olderThanHeld(round, lines, madeAt) ?? lateResult(round, lines, totals);
  const part = { stake: corrected.reduce((sum, l) => sum + l.stake, 0n), winloss: corrected.reduce((sum, l) => sum + l.winloss, 0n) };
  const verdict = olderThanHeld(round, corrected, madeAt) ?? lateResult(round, corrected, part);
  return verdict.reason === 'superseded' ? { pay: rest } : verdict;
}

/**
 * Rule 13 by the vendor's clock: a result or result change made in an earlier second than the
 * message that set the figures of a line it names is older than those figures (a later change
 * overtook it). It is the vendor's past: it pays nothing and the round stays as the later message
 * left it. Within one second, or where the dialect states no time, the figures decide (`lateResult`,
 * `checkBefore`): a chain of corrections back to earlier figures (A -> B -> A) made within one
 * second cannot be ordered.
 */
export function olderThanHeld(round: RoundState, lines: readonly LineResult[], madeAt: MadeAt | undefined): RoundRefusal | undefined {
  if (madeAt === undefined) return undefined;
  const named = new Set(lines.map((l) => l.ref));
  const later = round.lines.find((l) => named.has(l.ref) && l.madeAt !== null && l.madeAt > madeAt);
  return later ? refuse('superseded', `line ${later.ref} holds figures the vendor made at ${later.madeAt}, after this message (${madeAt})`) : undefined;
}

/**
 * Rule 13 for corrections: a result change applies to the result the round holds now. Its "before"
 * (per line where the vendor states it, else its total) must be the lines' current win/loss;
 * otherwise it follows a change the wallet has not seen yet, and applying it would lose that one.
 */
export function checkBefore(held: readonly RoundLine[], lines: readonly LineChange[], totals: ResultTotals): RoundRefusal | undefined {
  if (held.some((l) => l.winloss === null)) return refuse('stale_change', 'the lines were settled before the wallet kept per-line results');
  for (const [i, line] of lines.entries()) {
    if (line.winlossBefore !== undefined && line.winlossBefore !== held[i]!.winloss) {
      return refuse('stale_change', `line ${line.ref} corrects win/loss ${line.winlossBefore}, the round holds ${held[i]!.winloss}`);
    }
  }
  if (totals.winlossBefore !== undefined) {
    const current = held.reduce((sum, l) => sum + l.winloss!, 0n);
    if (current !== totals.winlossBefore) return refuse('stale_change', `the change corrects a total win/loss of ${totals.winlossBefore}, the round holds ${current}`);
  }
  return undefined;
}

/** Rule 11: what a settled line pays, from the stake the wallet debited. */
export const payoutOf = (line: RoundLine, winloss: Minor): Minor => line.amount + winloss;
