import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Currency } from '../../src/money/currency.ts';
import {
  apiBaseOptions,
  vendorFailure,
  type Game,
  type LaunchRequest,
  type TransportFactory,
  type VendorApi,
  type VendorResult,
  type VendorTransport,
} from '../../src/gateway/vendor-api.ts';
import type { PlayerCode } from '../../src/wallet/types.ts';
import { GAMES_API_STATUS } from './inferred.ts';
import type { SessionTokens } from './session.ts';
import { SIGNATURE_HEADER, signBody } from './signature.ts';

/**
 * Hub88's Games API, the casino's side (docs/specs/hub88-dialect.md, "The vendor's own API"):
 * `POST /operator/generic/v2/game/list` and `/operator/generic/v2/game/url`, JSON bodies signed with
 * the casino's private key in X-Hub88-Signature (Hub88 checks them with the public key it holds for
 * the operator_id). The launch carries the casino's own session token (session.ts), which Hub88 then
 * sends back on every wallet call of the game. Hub88 keeps no user records: a player's user code is
 * the casino's own player code.
 */

export const apiOptions = z.object({
  /** url: the base of Hub88's Operator API (the routes are /operator/generic/v2/...). */
  ...apiBaseOptions,
  maxConcurrent: z.number().int().min(1).max(500).default(50),
  /** `platform` of every launch: the layout Hub88 serves. */
  platform: z.enum(['GPL_DESKTOP', 'GPL_MOBILE']).default('GPL_DESKTOP'),
  /** The players' country (ISO 3166-1 alpha-2), when Hub88 needs it for the games' restrictions. */
  country: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  /** Where the game's Home button leads when the launch names no return URL. */
  lobbyUrl: z.url().max(255).optional(),
});

export type ApiOptions = z.infer<typeof apiOptions>;

/** A game of Hub88's list: the fields the casino reads (others are kept out). */
const listedGame = z.object({
  game_code: z.string().min(1).max(200),
  name: z.string().max(300),
  category: z.string().max(100).nullable().optional(),
  product: z.string().max(100).nullable().optional(),
  enabled: z.boolean().optional(),
});

const urlAnswer = z.object({ url: z.url() });
const errorAnswer = z.object({ error: z.string() });


class Hub88Vendor implements VendorApi {
  readonly currency: Currency;
  readonly #api: ApiOptions;
  readonly #operatorId: number;
  readonly #casinoKey: KeyObject;
  readonly #sessions: SessionTokens;
  readonly #transport: VendorTransport;

  constructor(currency: Currency, api: ApiOptions, operatorId: number, casinoKey: KeyObject, sessions: SessionTokens, transport: VendorTransport) {
    this.currency = currency;
    this.#api = api;
    this.#operatorId = operatorId;
    this.#casinoKey = casinoKey;
    this.#sessions = sessions;
    this.#transport = transport;
  }

  /** Hub88 learns of a player from the launch: the user code is the casino's player code, no call. */
  async register(player: PlayerCode): Promise<VendorResult<{ userCode: string }>> {
    return { ok: true, value: { userCode: player } };
  }

  async #call(route: string, body: Record<string, unknown>, idempotent: boolean): Promise<VendorResult<unknown>> {
    const text = JSON.stringify(body);
    const exchange = await this.#transport.send({
      route,
      url: `${this.#api.url}${route}`,
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: await signBody(text, this.#casinoKey) },
      body: text,
      idempotent,
    });
    if (!exchange.ok) return vendorFailure(exchange.error, exchange.detail);
    if (exchange.status !== 200) {
      const error = errorAnswer.safeParse(exchange.body);
      return vendorFailure(GAMES_API_STATUS[exchange.status] ?? 'vendor_error', `${route}: HTTP ${exchange.status}${error.success ? ` ${error.data.error.slice(0, 200)}` : ''}`);
    }
    return { ok: true, value: exchange.body };
  }

  async games(): Promise<VendorResult<Game[]>> {
    const answer = await this.#call('/operator/generic/v2/game/list', { operator_id: this.#operatorId }, true);
    if (!answer.ok) return answer;
    const list = z.array(z.unknown()).safeParse(answer.value);
    if (!list.success) return vendorFailure('vendor_error', '/operator/generic/v2/game/list: not a list of games');
    const games: Game[] = [];
    for (const entry of list.data) {
      const game = listedGame.safeParse(entry);
      // A game Hub88 describes in a way the casino cannot read, or has switched off, is not offered.
      if (!game.success || game.data.enabled === false) continue;
      games.push({ id: game.data.game_code, name: game.data.name, ...(game.data.category ? { type: game.data.category } : {}), ...(game.data.product ? { studio: game.data.product } : {}) });
    }
    return { ok: true, value: games };
  }

  async launch(request: LaunchRequest): Promise<VendorResult<{ url: string }>> {
    const token = await this.#sessions.mint(request.userCode, this.currency);
    const lobby = request.returnUrl ?? this.#api.lobbyUrl;
    const answer = await this.#call(
      '/operator/generic/v2/game/url',
      {
        user: request.userCode,
        token,
        platform: this.#api.platform,
        operator_id: this.#operatorId,
        lang: request.lang,
        ...(lobby ? { lobby_url: lobby } : {}),
        game_code: request.game,
        currency: this.currency,
        ...(this.#api.country ? { country: this.#api.country } : {}),
        meta: {},
      },
      // Each launch opens a game session with a new token: not repeated after an ambiguous failure.
      false,
    );
    if (!answer.ok) return answer;
    const url = urlAnswer.safeParse(answer.value);
    if (!url.success) return vendorFailure('vendor_error', '/operator/generic/v2/game/url: no url in the answer');
    return { ok: true, value: { url: url.data.url } };
  }
}

export function hub88Vendor(
  currency: Currency,
  api: ApiOptions | undefined,
  operatorId: number,
  casinoKey: KeyObject,
  sessions: SessionTokens,
  transport: TransportFactory,
): VendorApi | undefined {
  return api && new Hub88Vendor(currency, api, operatorId, casinoKey, sessions, transport({ timeoutMs: api.timeoutMs, maxConcurrent: api.maxConcurrent }));
}
