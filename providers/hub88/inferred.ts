import type { Currency } from '../../src/money/currency.ts';
import type { Minor } from '../../src/money/minor.ts';
import type { VendorError } from '../../src/gateway/vendor-api.ts';

/**
 * Every point of the Hub88 wallet dialect that Hub88's public pages ("Operator API > Wallet API",
 * "Seamless Wallet response statuses") leave open or say only in passing, each in one place, so it is
 * a one-line change once Hub88 confirms. What the pages say is quoted; what they leave open follows.
 */

/**
 * Amounts are integers in 1/100000 of the currency unit. The pages: "The amount of money displayed in
 * integer (Int64) format. To convert real float value to integer, it is multiplied by 100000.
 * Example: $3.56 is represented as 356000." Left open: whether the factor is the same for every
 * currency (KRW, with no minor unit; BHD, with three), and what to do with an amount that is not a
 * whole number of the currency's minor units. Taken: one factor for every currency; such an amount is
 * refused (RS_ERROR_WRONG_TYPES), never rounded.
 */
export const HUB_UNITS_PER_CURRENCY_UNIT = 100_000n;

/**
 * A repeat of a transaction already applied with the same content is answered RS_OK with the
 * player's current balance. The pages (request consistency): requests "have to be idempotent ... the
 * response will be the same for all duplicate requests", and RS_ERROR_DUPLICATE_TRANSACTION only for the same
 * transaction_uuid "with a different reference transactionID, amount, currency, round, user or game".
 * Left open: which balance the repeated answer carries; the current one is what the casino can say
 * (the original answer is not kept).
 */
export const REPEAT_STATUS = 'RS_OK';

/**
 * A user the casino does not know. The pages have no status for it (RS_ERROR_INVALID_TOKEN is "token
 * is unknown"): the casino issued the token for a user it knows, so a call naming an unknown user
 * carries a token that is not one of its own for that user.
 */
export const UNKNOWN_USER_STATUS = 'RS_ERROR_INVALID_TOKEN';

/**
 * A free bet (`is_free: true`) is paid by the promotion, not by the player: it debits nothing (it is
 * kept as a bet of 0 on its round, the stated amount in its details). The pages name the flag and
 * `reward_uuid` but do not say whose money a free bet's stake is.
 */
export const debitOf = (stated: Minor, isFree: boolean): Minor => (isFree ? 0n : stated);

/**
 * A win needing no stake on its round (kept as a promo_win): one flagged `is_free`, or paying a reward
 * (`reward_uuid`). The pages leave open whether a free bet's win, or a reward's, names a bet the casino
 * has seen. Taken: when it names one of the casino's bets, that bet must not have been refused or
 * rolled back ("the bet referenced in win request can't be found (wasn't processed or was rolled
 * back)": RS_ERROR_TRANSACTION_DOES_NOT_EXIST); when it names none the casino knows, it is paid.
 */
export const isStakeFreeWin = (w: { is_free?: boolean | null | undefined; reward_uuid?: string | null | undefined }): boolean =>
  w.is_free === true || (typeof w.reward_uuid === 'string' && w.reward_uuid.trim() !== '');

/**
 * `round_closed` on a win closes its round: no bet joins it later and none of its bets can be rolled
 * back. The pages only say the field "denotes when the round is closed". On a bet it is kept in the
 * bet's details and closes nothing: a round closed by its bet would leave no room for the win that
 * pays it.
 */
export const winCloses = (roundClosed: boolean | null | undefined): boolean => roundClosed === true;

/**
 * `operator_id` is optional in the wallet calls. The pages show it in the calls Hub88 signs ("the
 * public key associated with the provided operator_id") but not among every wallet call's fields;
 * where a call carries it, it must be the instance's (else RS_ERROR_INVALID_PARTNER).
 */
export const OPERATOR_ID_REQUIRED = false;

/**
 * Which calls verify the session token. The pages: "token validity must not be validated in case of
 * wins and rollbacks, since they might come after the bet has been played". Left open: whether
 * /user/info does (it carries no token). Verified on /user/balance and /transaction/bet only.
 */
export const TOKEN_VERIFIED_ON: ReadonlySet<string> = new Set(['/user/balance', '/transaction/bet']);

/**
 * The currency of a rollback: a rollback names no currency. The wallet reverses the transaction in
 * that transaction's own currency (`currencyUnnamed`); this guess is the currency of a rollback whose
 * transaction was never seen: that of the session token it carries when that is one of this
 * instance's tokens for the same user (signature and user checked, validity not: a rollback is never
 * refused for its token); otherwise the instance's currency (that of /user/info).
 */
export const rollbackCurrency = (tokenCurrency: Currency | undefined, instanceCurrency: Currency): Currency => tokenCurrency ?? instanceCurrency;

/**
 * A currency code the casino does not know at all is answered RS_ERROR_WRONG_CURRENCY ("the
 * transaction currency is different from user's wallet currency"), not as a syntax error.
 */
export const UNKNOWN_CURRENCY_STATUS = 'RS_ERROR_WRONG_CURRENCY';

/**
 * How long Hub88 waits for an answer. The pages give no limit; taken as the other dialects':
 * 2 s for what a player waits on (the user's info and balance, a bet), 4 s for the rest (wins and
 * rollbacks, which Hub88 retries).
 */
export const answerWithinMs = (path: string): number => (path === '/transaction/win' || path === '/transaction/rollback' ? 4000 : 2000);

/**
 * The Games API's answers (game list, game URL). The pages show a 200 with the result and a 404
 * `{"error": "<text>"}`, and say nothing of other statuses, nor that these answers are signed. Taken:
 * the usual HTTP meanings below (anything else is a vendor error), and no signature check of these
 * answers (they come over TLS from the configured address; the wallet calls, which move money, are
 * the signed ones).
 */
export const GAMES_API_STATUS: Readonly<Record<number, VendorError>> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'unauthorized',
  404: 'game_not_found',
  409: 'invalid_request',
  422: 'invalid_request',
  429: 'busy',
  503: 'maintenance',
};
