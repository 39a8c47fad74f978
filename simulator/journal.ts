/**
 * What the simulated vendors sent and what the casino answered, and what those answers imply for
 * each player's wallet. Two levels:
 * - every attempt: one HTTP call as it went out (a retry and each copy of a duplicated call are
 *   attempts of their own) with the answer it got;
 * - every operation: one transaction as the vendor sees it once it is over (a bet, a win, a cancel,
 *   a settlement...), with the net change the vendor believes it made to the player's wallet.
 *
 * The vendor's belief follows the dialects' rules: a bet stands only on a success answer (a bet is
 * never retried; a failed one is cancelled); money owed to the player (a win, a cancel, a result, a
 * result change) is owed once sent, unless the casino refused it outright: the vendor retries it
 * and, after its last retry, leaves it to the casino to apply (the gateway parks it), so an
 * operation given up on still counts, and is listed by `unconfirmed()`.
 */

/** How a call failed without a dialect answer. */
export type Failure = 'timeout' | 'network' | 'http' | 'garbled' | 'aborted';
export type EventCode = 'R0' | 'R1' | 'R2' | 'R3' | 'R4';
/** A Hub88 status ("RS_OK", "RS_ERROR_NOT_ENOUGH_MONEY", ...). */
export type HubStatus = `RS_${string}`;
/** A command-dialect result, an event-dialect code, a Hub88 status, or a failure. */
export type Reply = number | EventCode | HubStatus | Failure;

const FAILURES: ReadonlySet<Reply> = new Set<Reply>(['timeout', 'network', 'http', 'garbled', 'aborted', 99, 'R1', 'RS_ERROR_UNKNOWN']);

/** A failure answer: the vendor treats the call as not done (retries a credit, cancels a bet). */
export const isFailure = (reply: Reply) => FAILURES.has(reply);
/** The dialects' success answers. */
export const isSuccess = (reply: Reply) => reply === 0 || reply === 'R0' || reply === 'RS_OK';

/** What a call is about. */
export interface Call {
  /** The casino's id of the vendor account ("scorpio-play"). */
  provider: string;
  session?: string;
  /** The command ("bet", "win", "cancel", ...) or event type ("bet_result", ...). */
  call: string;
  /** The player as the vendor names it to the casino (`account` / `user_id`). */
  player: string;
  currency: string;
  /** The call's transaction id (a command-dialect cancel carries its target's trans_id). */
  transId: string;
  round?: string;
  /** Minor units: the stake, the win, the lines cancelled, the settlement paid. */
  amount?: bigint;
}

export interface Attempt extends Call {
  /** The URL it was sent to. */
  endpoint: string;
  reply: Reply;
  /** The balance the answer carried, in minor units. */
  balance?: bigint;
  ms: number;
  /** 0 for the first send, 1..3 for the vendor's retries. */
  retry: number;
  /** 0, or 1 for the second copy of a duplicated call. */
  copy: number;
  /** When it was sent, in ms since the journal was created. */
  at: number;
}

/**
 * - ok: a success answer (or, for a command-dialect win, "already processed");
 * - refused: a definite answer other than success: nothing moved;
 * - failed: a bet answered with a failure (the vendor then cancels it);
 * - gave_up: money owed that got only failures, or the vendor stopped before an answer.
 */
export type Final = 'ok' | 'refused' | 'failed' | 'gave_up';

export interface Operation extends Call {
  /** A cancel's target transaction(s). */
  target?: string;
  final: Final;
  /** The answer it settled on (the last one when it gave up). */
  reply: Reply;
  /** The net change of the player's wallet the vendor believes this made, in minor units. */
  effect: bigint;
  /** The balance the settling answer carried, in minor units. */
  balance?: bigint;
  /** When it concluded, in ms since the journal was created. */
  at: number;
}

const key = (player: string, currency: string) => `${player}\u0000${currency}`;

export class Journal {
  readonly attempts: Attempt[] = [];
  readonly operations: Operation[] = [];
  /** Answers that contradict earlier ones (e.g. a cancel of a paid win answered "not found"). */
  readonly problems: string[] = [];
  readonly #epoch = performance.now();

  /** Milliseconds since the journal was created (the clock of `at`). */
  now(): number {
    return performance.now() - this.#epoch;
  }

  record(attempt: Attempt): void {
    this.attempts.push(attempt);
  }

  conclude(operation: Omit<Operation, 'at'>): Operation {
    const done = { ...operation, at: this.now() };
    this.operations.push(done);
    return done;
  }

  flag(problem: string): void {
    this.problems.push(problem);
  }

  /** The vendor's expected net change of one wallet, over every operation (or those matching `where`). */
  expectedChange(player: string, currency: string, where: { provider?: string; session?: string } = {}): bigint {
    let change = 0n;
    for (const op of this.operations) {
      if (op.player !== player || op.currency !== currency) continue;
      if (where.provider !== undefined && op.provider !== where.provider) continue;
      if (where.session !== undefined && op.session !== where.session) continue;
      change += op.effect;
    }
    return change;
  }

  /** Every wallet the vendors touched, with its expected net change. */
  expectations(): { player: string; currency: string; change: bigint }[] {
    const changes = new Map<string, { player: string; currency: string; change: bigint }>();
    for (const op of this.operations) {
      const k = key(op.player, op.currency);
      const entry = changes.get(k) ?? { player: op.player, currency: op.currency, change: 0n };
      entry.change += op.effect;
      changes.set(k, entry);
    }
    return [...changes.values()];
  }

  /** Money owed that the casino never confirmed: the vendor counts on it being applied later. */
  unconfirmed(): Operation[] {
    return this.operations.filter((op) => op.final === 'gave_up');
  }

  /** Every attempt answered with success: each must have its effect in the casino's ledger. */
  successes(): Attempt[] {
    return this.attempts.filter((a) => isSuccess(a.reply));
  }
}
