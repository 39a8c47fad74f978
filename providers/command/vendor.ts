import { z } from 'zod';
import { Secret } from '../../src/config/secret.ts';
import type { Currency } from '../../src/money/currency.ts';
import {
  vendorFailure,
  type Game,
  type LaunchRequest,
  type Studio,
  type TransportFactory,
  type VendorApi,
  type VendorError,
  type VendorResult,
  type VendorTransport,
} from '../../src/gateway/vendor-api.ts';
import type { PlayerCode } from '../../src/wallet/types.ts';

/**
 * The command-dialect vendor's own API (docs/specs/command-dialect.md, "The vendor's own API"):
 * POST JSON with `Authorization: Bearer <API token>`, answers `{code, message, data}`.
 */

export const apiOptions = z.object({
  /** Base URL of the vendor's API (the routes are /v4/...). */
  url: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  token: z.string().min(8, 'an API token must be at least 8 characters').transform((s) => new Secret(s)),
  /** The vendor answers within this; past it the call fails (and is repeated only if safe). */
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
  /** The vendor accepts 50 calls in flight per account and answers 1018 past that. */
  maxConcurrent: z.number().int().min(1).max(50).default(50),
  /** `win_ratio` of every game launch: the player's RTP in percent; 0, the vendor's documented default, is the agent's own. */
  winRatio: z.number().min(0).max(100).default(0),
});

export type ApiOptions = z.infer<typeof apiOptions>;

/** The vendor's response codes (spec: "Response codes include ..."); any other is a vendor_error. */
const CODES: Readonly<Record<number, VendorError>> = {
  1: 'maintenance',
  1002: 'invalid_request',
  1015: 'vendor_error', // CALLBACK_ERROR: the vendor's call to our wallet failed
  1018: 'busy',
  1020: 'ip_not_allowed',
  2002: 'user_not_found',
  2003: 'game_not_found',
  2013: 'vendor_error', // ROUND_NOT_FOUND: not asked by anything Croupier calls
  2014: 'currency_not_supported',
};
const OK = 0;
const BUSY = 1018;

/** The vendor's user names: 2-50 letters, digits and underscores. Croupier registers the player code as the name. */
const USER_NAME = /^[A-Za-z0-9_]{2,50}$/;

const envelope = z.object({ code: z.number().int(), message: z.string().optional(), data: z.unknown().optional() });
const text = z.union([z.string(), z.number()]).transform(String);
const created = z.object({ user_code: text });
const studios = z.array(z.object({ provider_id: text, name: z.string() }));
const games = z.array(z.object({ game_symbol: text, game_name: z.string(), game_type: text.optional(), provider_id: text.optional() }));
const gameUrl = z.object({ game_url: z.url() });

class CommandVendor implements VendorApi {
  readonly currency: Currency;
  readonly #api: ApiOptions;
  readonly #transport: VendorTransport;

  constructor(currency: Currency, api: ApiOptions, transport: VendorTransport) {
    this.currency = currency;
    this.#api = api;
    this.#transport = transport;
  }

  async register(player: PlayerCode): Promise<VendorResult<{ userCode: string }>> {
    if (!USER_NAME.test(player)) {
      return vendorFailure('invalid_request', `player code ${JSON.stringify(player)} cannot be this vendor's user name (2-50 letters, digits, _)`);
    }
    // An existing name returns the existing user: safe to repeat.
    const answer = await this.#call('/v4/user/create', { name: player }, true, created);
    return answer.ok ? { ok: true, value: { userCode: answer.value.user_code } } : answer;
  }

  user(userCode: string): Promise<VendorResult<Record<string, unknown>>> {
    return this.#call('/v4/user/info', { user_code: userCode }, true, z.record(z.string(), z.unknown()));
  }

  async studios(lang: string): Promise<VendorResult<Studio[]>> {
    const answer = await this.#call('/v4/game/providers', { lang }, true, studios);
    return answer.ok ? { ok: true, value: answer.value.map((s) => ({ id: s.provider_id, name: s.name })) } : answer;
  }

  async games(query: { lang: string; studio?: string }): Promise<VendorResult<Game[]>> {
    if (query.studio === undefined) {
      const all = await this.studios(query.lang);
      if (!all.ok) return all;
      const lists = await Promise.all(all.value.map((s) => this.games({ lang: query.lang, studio: s.id })));
      const failed = lists.find((l) => !l.ok);
      if (failed) return failed;
      return { ok: true, value: lists.flatMap((l) => (l.ok ? l.value : [])) };
    }
    const studio = query.studio;
    const answer = await this.#call('/v4/game/games', { provider_id: studio, lang: query.lang }, true, games);
    if (!answer.ok) return answer;
    return {
      ok: true,
      value: answer.value.map((g) => ({ id: g.game_symbol, name: g.game_name, studio: g.provider_id ?? studio, ...(g.game_type ? { type: g.game_type } : {}) })),
    };
  }

  async launch(request: LaunchRequest): Promise<VendorResult<{ url: string }>> {
    let studio = request.studio;
    if (studio === undefined) {
      const catalogue = await this.games({ lang: request.lang });
      if (!catalogue.ok) return catalogue;
      studio = catalogue.value.find((g) => g.id === request.game)?.studio;
      if (studio === undefined) return vendorFailure('game_not_found', `no game ${JSON.stringify(request.game)} in the vendor's catalogue`);
    }
    const body = {
      user_code: request.userCode,
      provider_id: studio,
      game_symbol: request.game,
      lang: request.lang,
      return_url: request.returnUrl ?? '',
      win_ratio: this.#api.winRatio,
    };
    // Each call mints a new one-time URL: not repeated after an ambiguous failure.
    const answer = await this.#call('/v4/game/game-url', body, false, gameUrl);
    return answer.ok ? { ok: true, value: { url: answer.value.game_url } } : answer;
  }

  async #call<T>(route: string, body: unknown, idempotent: boolean, data: z.ZodType<T>): Promise<VendorResult<T>> {
    const exchange = await this.#transport.send({
      route,
      url: `${this.#api.url}${route}`,
      headers: { authorization: `Bearer ${this.#api.token.reveal()}` },
      body: JSON.stringify(body),
      idempotent,
      notProcessed: (_status, reply) => (reply as { code?: unknown } | undefined)?.code === BUSY,
    });
    if (!exchange.ok) return vendorFailure(exchange.error, exchange.detail);
    if (exchange.status === 401 || exchange.status === 403) return vendorFailure('unauthorized', `the vendor refused the API token (HTTP ${exchange.status})`);
    const parsed = envelope.safeParse(exchange.body);
    if (!parsed.success) return vendorFailure('vendor_error', `unreadable answer (HTTP ${exchange.status})`);
    const { code, message } = parsed.data;
    if (code !== OK) return vendorFailure(CODES[code] ?? 'vendor_error', `${route}: vendor code ${code}${message ? ` ${message}` : ''}`);
    const value = data.safeParse(parsed.data.data);
    if (!value.success) return vendorFailure('vendor_error', `${route}: unexpected data: ${z.prettifyError(value.error)}`);
    return { ok: true, value: value.data };
  }
}

export function commandVendor(currency: Currency, api: ApiOptions | undefined, transport: TransportFactory): VendorApi | undefined {
  return api && new CommandVendor(currency, api, transport({ timeoutMs: api.timeoutMs, maxConcurrent: api.maxConcurrent }));
}
