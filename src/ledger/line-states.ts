/** A bet line is open until its round's result settles it or a cancel refunds it. */
export type LineState = 'open' | 'settled' | 'cancelled';

/**
 * Every move a bet line may make, as data: the wallet's round rules (src/wallet/rounds.ts) decide by
 * it, and the database holds the same rows (`line_transitions`), whose trigger refuses any other
 * move, so a line is never both settled and cancelled, and reopens only when the payment that settled
 * it is rolled back. Reconcile checks the two are the same.
 */
export const LINE_TRANSITIONS: readonly (readonly [from: LineState, to: LineState])[] = [
  ['open', 'settled'],
  ['open', 'cancelled'],
  // A result change re-settles a settled line with its corrected win/loss.
  ['settled', 'settled'],
  // A closing win rolled back (Hub88's voided round) leaves the lines it settled open again; the
  // trigger allows it only when a rollback with money moved names the settling payment.
  ['settled', 'open'],
];
