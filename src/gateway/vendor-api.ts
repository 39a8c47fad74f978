import { z } from 'zod';
import type { Currency } from '../money/currency.ts';
import type { Minor } from '../money/minor.ts';
import type { PlayerCode } from '../wallet/types.ts';

/**
 * The outbound part of the adapter contract: the vendor's own API, called by the casino to register a
 * player and launch a game. Optional: a dialect without one only receives callbacks. Like the inbound
 * part it only translates; which player may play, and with which wallet, is decided by the core.
 */
export interface VendorApi {
  /** The currency of the vendor account (the wallet a launched game plays with). */
  readonly currency: Currency;
  /**
   * Makes the player known to the vendor and returns the vendor's user code. Safe to repeat: a vendor
   * that already knows the player returns the same code. A dialect whose vendor has no user API
   * returns the code it sends in callbacks, without a call.
   */
  register(player: PlayerCode): Promise<VendorResult<{ userCode: string }>>;
  /** The vendor's own record of a user, as it sends it (for operators). */
  user?(userCode: string): Promise<VendorResult<Record<string, unknown>>>;
  /** The game studios behind an aggregating vendor (the command dialect's "providers"). */
  studios?(lang: string): Promise<VendorResult<Studio[]>>;
  games(query: { lang: string; studio?: string }): Promise<VendorResult<Game[]>>;
  /** A one-time URL that opens `game` for the player. */
  launch(request: LaunchRequest): Promise<VendorResult<{ url: string }>>;
  /**
   * The vendor's own record of the transactions in [from, to), for reconciliation: every page and
   * window the vendor's API needs, within its limits. Optional: a vendor without such an API sends
   * exports instead (imported through the same comparison).
   */
  records?(period: { from: Date; to: Date }): Promise<VendorResult<VendorRecord[]>>;
}

/** One transaction as the vendor records it. A cancel names its round and amount, not its target. */
export interface VendorRecord {
  id: string;
  kind: 'bet' | 'win' | 'cancel';
  /** The vendor's user code. */
  user: string;
  round?: string;
  /** Minor units of the vendor account's currency. */
  amount: Minor;
  at: Date;
}

export interface Studio {
  id: string;
  name: string;
}

export interface Game {
  /** The id the vendor launches it by (a game symbol, a table code). */
  id: string;
  name: string;
  type?: string;
  studio?: string;
  /** Bet limits, when the vendor states them (a live table). */
  limits?: { min: Minor; max: Minor };
}

export interface LaunchRequest {
  player: PlayerCode;
  userCode: string;
  game: string;
  /** The game's studio, for vendors that need it; found in the catalogue when absent. */
  studio?: string;
  lang: string;
  /** Where the vendor sends the player when they leave the game. */
  returnUrl?: string;
  /** The player's current balance in the vendor's currency (some vendors show it in the lobby). */
  balance: Minor;
  /** Bet limits for this launch, for vendors that take them. */
  limits?: { min: Minor; max: Minor };
}

/** Why the vendor did not do it. The http layer maps these to statuses in one table. */
export type VendorError =
  | 'maintenance'
  | 'busy'
  | 'ip_not_allowed'
  | 'unauthorized'
  | 'user_not_found'
  | 'game_not_found'
  | 'currency_not_supported'
  | 'player_blocked'
  | 'insufficient_balance'
  | 'expired'
  | 'invalid_request'
  | 'timeout'
  | 'unreachable'
  | 'vendor_error';

export type VendorResult<T> = { ok: true; value: T } | { ok: false; error: VendorError; detail: string };

export const vendorFailure = (error: VendorError, detail: string): { ok: false; error: VendorError; detail: string } => ({ ok: false, error, detail });

/** One call to a vendor's API. `headers` may carry credentials: they are sent, never logged. */
export interface VendorCall {
  /** The vendor's route, for logs and metrics ("/v4/user/create"). */
  route: string;
  url: string;
  headers: Record<string, string>;
  /** The JSON body as text: the dialect writes it, so amounts keep their exact decimal digits. */
  body: string;
  /**
   * The vendor may receive this call twice without harm (a read, or a create that returns the
   * existing record): it is sent again after an ambiguous failure (no answer in time, a dropped
   * connection, a 5xx). A call that is not idempotent is sent again only when it surely was not
   * processed (the connection was refused, or the vendor said so with `notProcessed`).
   */
  idempotent: boolean;
  /** The vendor's answers that mean "refused without acting on it" (busy): sent again after a pause. */
  notProcessed?(status: number, body: unknown): boolean;
}

export type Exchange =
  /** `text`: the body as received, for a reader that needs a number's exact digits (amounts). */
  | { ok: true; status: number; body: unknown; text?: string }
  | { ok: false; error: Extract<VendorError, 'timeout' | 'unreachable' | 'busy' | 'vendor_error'>; detail: string };

export interface VendorTransport {
  send(call: VendorCall): Promise<Exchange>;
}

/** Per vendor account: how long to wait for an answer, and how many calls it accepts at once. */
export interface TransportLimits {
  timeoutMs: number;
  maxConcurrent: number;
}

export type TransportFactory = (limits: TransportLimits) => VendorTransport;

/** The settings every vendor API shares, for a dialect's `apiOptions` to spread: where it is and how long it may take. */
export const apiBaseOptions = {
  /** Base URL of the vendor's API (no trailing slash kept). */
  url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  /** The vendor answers within this; past it the call fails (and is repeated only if safe). */
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
};
