import type { Minor } from '../../src/money/minor.ts';

/**
 * Every point of the event dialect that the vendor's published pages left open (marked INFERRED in
 * docs/specs/event-dialect.md), each in one place so it is a one-line change once a vendor confirms.
 */

/** The event's `transaction_id` is its idempotency key: a vendor's retry repeats it. */
export const idempotencyKey = (event: { transaction_id: string }) => event.transaction_id;

/** The name of the event that corrects a settled round (the older protocol's name). */
export const RESULT_CHANGE_EVENT = 'result_change';

/**
 * A bet line's `winloss` (and a total's) is its net result: negative when lost, 0 for a push. The
 * wallet pays a settled line the stake it debited plus this, and refuses a line losing more than
 * its stake. Were it a gross win, this would return `winloss - stake`.
 */
export const netResult = (_stake: Minor, winloss: Minor): Minor => winloss;

/**
 * How long the vendor waits for an answer. Its pages give no limit: taken as the command dialect's,
 * 2 s for what a player waits on (login, a bet), 4 s for the rest (results, cancels, changes).
 */
export const answerWithinMs = (eventType: string): number => (eventType === 'bet' || eventType === 'login' ? 2000 : 4000);

/**
 * The event's `timestamp` is when the vendor made the event, and a retry carries it unchanged: it
 * orders a round's result and corrections made in different seconds (a correction made before the
 * figures the round holds pays nothing). Were it the time of sending, a late retry of an overtaken
 * correction would be judged by its figures alone, as a dialect without a time is.
 */
export const madeAt = (event: { timestamp: number }) => event.timestamp;

/**
 * A round is identified by table and game number, kept as `table:game`. A table holding ':' or '%' is
 * percent-encoded first (':' as %3A, '%' as %25), so no two pairs share a key (table "T:1" with game
 * "2" and table "T" with game "1:2" used to): the first ':' of a key always ends its table. Every other
 * table's keys are as they always were (docs/operations.md, "Upgrading").
 */
export const roundKey = (tableNo: string, gameNo: string) => `${/[:%]/.test(tableNo) ? tableNo.replaceAll('%', '%25').replaceAll(':', '%3A') : tableNo}:${gameNo}`;

/**
 * The game-lobby call (the vendor's own API): its `agent_id` is the instance's Api-Id, and its body is
 * plain JSON (the spec shows the encryption only for webhooks). The vendor has no user API: a player
 * is known to it by the `user_id` its webhooks carry, the player code.
 */
export const lobbyAgentId = (apiId: string) => apiId;
export const LOBBY_BODY_ENCRYPTED = false;
