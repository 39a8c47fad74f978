import { z } from 'zod';
import type { Secret } from '../../src/config/secret.ts';
import type { Currency } from '../../src/money/currency.ts';
import { amountAsJsonNumber, parseAmount, type Minor } from '../../src/money/minor.ts';
import {
  apiBaseOptions,
  vendorFailure,
  type Game,
  type LaunchRequest,
  type TransportFactory,
  type VendorApi,
  type VendorError,
  type VendorResult,
  type VendorTransport,
} from '../../src/gateway/vendor-api.ts';
import type { PlayerCode } from '../../src/wallet/types.ts';
import type { Codec } from './codec.ts';
import { LOBBY_BODY_ENCRYPTED, lobbyAgentId } from './inferred.ts';

/**
 * The event-dialect vendor's own API (docs/specs/event-dialect.md, "The vendor's own API"):
 * `POST /game-lobby` with the webhooks' Api-Id and Api-Key, answering `{code, response_data: {game_url}}`.
 * The vendor publishes no game list: the instance's tables are configured here.
 */

const decimal = z.string().regex(/^\d{1,18}(\.\d{1,6})?$/, 'a decimal amount in currency units, as a string');

export const apiOptions = z.object({
  ...apiBaseOptions,
  maxConcurrent: z.number().int().min(1).max(500).default(50),
  /** Where the vendor sends a player who leaves the table, unless the launch names another. */
  homeUrl: z.url().optional(),
  tables: z
    .array(z.object({ code: z.string().min(1).max(100), name: z.string().min(1).max(200), type: z.string().max(50).optional(), betMin: decimal, betMax: decimal }))
    .default([]),
});

export type ApiOptions = z.infer<typeof apiOptions>;

/** The vendor's lobby codes (spec: "0 ok, 2 missing data, 3 invalid key, 5 expired, 6 invalid agent, 9 blocked user, 102 insufficient balance"). */
const CODES: Readonly<Record<number, VendorError>> = {
  2: 'invalid_request',
  3: 'unauthorized',
  5: 'expired',
  6: 'unauthorized',
  9: 'player_blocked',
  102: 'insufficient_balance',
};

const lobbyAnswer = z.object({
  code: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]),
  message: z.string().optional(),
  response_data: z.object({ game_url: z.url() }).optional(),
});

interface Credentials {
  apiId: string;
  apiKey: Secret;
  codec: Codec;
}

class EventVendor implements VendorApi {
  readonly currency: Currency;
  readonly #api: ApiOptions;
  readonly #credentials: Credentials;
  readonly #transport: VendorTransport;
  readonly #tables: Game[];

  constructor(currency: Currency, api: ApiOptions, credentials: Credentials, transport: VendorTransport) {
    this.currency = currency;
    this.#api = api;
    this.#credentials = credentials;
    this.#transport = transport;
    this.#tables = api.tables.map((t) => ({
      id: t.code,
      name: t.name,
      ...(t.type ? { type: t.type } : {}),
      limits: { min: minor(t.betMin, currency), max: minor(t.betMax, currency) },
    }));
  }

  async register(player: PlayerCode): Promise<VendorResult<{ userCode: string }>> {
    return { ok: true, value: { userCode: player } };
  }

  async games(): Promise<VendorResult<Game[]>> {
    return { ok: true, value: this.#tables };
  }

  async launch(request: LaunchRequest): Promise<VendorResult<{ url: string }>> {
    const table = this.#tables.find((t) => t.id === request.game);
    if (!table) return vendorFailure('game_not_found', `no table ${JSON.stringify(request.game)} is configured for this provider`);
    const limits = request.limits ?? table.limits!;
    if (limits.min > limits.max || limits.min < table.limits!.min || limits.max > table.limits!.max) {
      return vendorFailure('invalid_request', "the bet limits must lie within the table's");
    }
    const homeUrl = request.returnUrl ?? this.#api.homeUrl;
    if (homeUrl === undefined) return vendorFailure('invalid_request', 'a return URL is needed (this provider has no homeUrl configured)');
    const money = (value: Minor) => amountAsJsonNumber(value, this.currency);
    const json = JSON.stringify({
      user_id: request.userCode,
      agent_id: lobbyAgentId(this.#credentials.apiId),
      balance: money(request.balance),
      currency: this.currency,
      language: request.lang,
      home_url: homeUrl,
      table_code: table.id,
      bet_n_min: money(limits.min),
      bet_n_max: money(limits.max),
    });
    const exchange = await this.#transport.send({
      route: '/game-lobby',
      url: `${this.#api.url}/game-lobby`,
      headers: {
        'api-id': this.#credentials.apiId,
        'api-key': this.#credentials.apiKey.reveal(),
        ...(LOBBY_BODY_ENCRYPTED ? { 'content-type': 'text/plain' } : {}),
      },
      body: LOBBY_BODY_ENCRYPTED ? await this.#credentials.codec.encrypt(json) : json,
      // Each call opens a new lobby session: not repeated after an ambiguous failure.
      idempotent: false,
    });
    if (!exchange.ok) return vendorFailure(exchange.error, exchange.detail);
    const answer = lobbyAnswer.safeParse(exchange.body);
    if (!answer.success) return vendorFailure('vendor_error', `unreadable lobby answer (HTTP ${exchange.status})`);
    const { code, message, response_data: data } = answer.data;
    if (code !== 0) return vendorFailure(CODES[code] ?? 'vendor_error', `/game-lobby: vendor code ${code}${message ? ` ${message}` : ''}`);
    if (!data) return vendorFailure('vendor_error', '/game-lobby: no game_url in the answer');
    return { ok: true, value: { url: data.game_url } };
  }
}

function minor(text: string, currency: Currency): Minor {
  const amount = parseAmount(text, currency);
  if (!amount.ok) throw new Error(`bet limit ${text}: ${amount.reason}`);
  return amount.value;
}

/** Checks the tables' limits in the instance's currency, so a bad one stops the start naming the field. */
export function checkTables(api: ApiOptions | undefined, currency: Currency, ctx: z.RefinementCtx): void {
  api?.tables.forEach((t, i) => {
    const min = parseAmount(t.betMin, currency);
    const max = parseAmount(t.betMax, currency);
    if (!min.ok) ctx.addIssue({ code: 'custom', path: ['api', 'tables', i, 'betMin'], message: min.reason });
    if (!max.ok) ctx.addIssue({ code: 'custom', path: ['api', 'tables', i, 'betMax'], message: max.reason });
    if (min.ok && max.ok && min.value > max.value) ctx.addIssue({ code: 'custom', path: ['api', 'tables', i, 'betMin'], message: 'betMin is above betMax' });
  });
}

export function eventVendor(currency: Currency, api: ApiOptions | undefined, credentials: Credentials, transport: TransportFactory): VendorApi | undefined {
  return api && new EventVendor(currency, api, credentials, transport({ timeoutMs: api.timeoutMs, maxConcurrent: api.maxConcurrent }));
}
