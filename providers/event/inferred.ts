import type { Minor } from '../../src/money/minor.ts';

/**
 * Every point of the event dialect that the vendor's published pages left open (marked INFERRED in
 * ../shared/specs/event-dialect.md), each in one place so it is a one-line change once a vendor confirms.
 */

/** The event's `transaction_id` is its idempotency key: a vendor's retry repeats it. */
export const idempotencyKey = (event: { transaction_id: string }) => event.transaction_id;

/** The name of the event that corrects a settled round (the older protocol's name). */
export const RESULT_CHANGE_EVENT = 'result_change';

/** What a settled round pays: the stake back plus the net win/loss, never below zero. */
export const settlement = (totalBet: Minor, totalWinloss: Minor): Minor => {
  const paid = totalBet + totalWinloss;
  return paid > 0n ? paid : 0n;
};

/** A round is identified by table and game number. */
export const roundKey = (tableNo: string, gameNo: string) => `${tableNo}:${gameNo}`;

/**
 * The game-lobby call (the vendor's own API): its `agent_id` is the instance's Api-Id, and its body is
 * plain JSON (the spec shows the encryption only for webhooks). The vendor has no user API: a player
 * is known to it by the `user_id` its webhooks carry, the player code.
 */
export const lobbyAgentId = (apiId: string) => apiId;
export const LOBBY_BODY_ENCRYPTED = false;
