import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { JsonNumber, parseJsonExact } from '../../src/money/json.ts';
import { parseAmount } from '../../src/money/minor.ts';
import { Secret } from '../../src/config/secret.ts';
import type { Currency } from '../../src/money/currency.ts';
import {
  apiBaseOptions,
  vendorFailure,
  type Game,
  type LaunchRequest,
  type Studio,
  type TransportFactory,
  type VendorApi,
  type VendorError,
  type VendorResult,
  type VendorRecord,
  type VendorTransport,
} from '../../src/gateway/vendor-api.ts';
import type { PlayerCode } from '../../src/wallet/types.ts';

/**
 * The command-dialect vendor's own API (docs/specs/command-dialect.md, "The vendor's own API"):
 * POST JSON with `Authorization: Bearer <API token>`, answers `{code, message, data}`.
 */

export const apiOptions = z.object({
  /** url: the base of the vendor's API (the routes are /v4/...). */
  ...apiBaseOptions,
  token: z.string().min(8, 'an API token must be at least 8 characters').transform((s) => new Secret(s)),
  /** The vendor accepts 50 calls in flight per account and answers 1018 past that. */
  maxConcurrent: z.number().int().min(1).max(50).default(50),
  /** `win_ratio` of every game launch: the player's RTP in percent; 0, the vendor's documented default, is the agent's own. */
  winRatio: z.number().min(0).max(100).default(0),
  /** Pause between two pages of the vendor's transaction list (its rate limit on reconciliation reads). */
  recordsPauseMs: z.number().int().min(0).max(60_000).default(250),
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

/** `/v4/game/transaction`, read exactly: numbers arrive as JsonNumber with their source text. */
const exact = z.instanceof(JsonNumber);
const exactInt = exact.transform((n) => Number(n.source)).pipe(z.number().int().min(0));
const transactionPage = z.object({
  code: exactInt,
  data: z.object({
    total: exactInt,
    list: z.array(
      z.object({
        trans_id: z.union([exact.transform((n) => n.source), z.string()]),
        user_code: z.union([exact.transform((n) => n.source), z.string()]),
        round_id: z.union([exact.transform((n) => n.source), z.string()]).nullable().optional(),
        // 4 deposit and 8 withdraw are the vendor's transfer mode, never a seamless wallet's: a list holding
        // one is not this casino's account, and is refused by name rather than compared.
        trans_type: exactInt.pipe(z.union([z.literal(1), z.literal(2), z.literal(16), z.literal(32)], { error: (i) => `trans_type ${String(i.input)} is not a seamless-wallet transaction (1 bet, 2 win, 16 cancel, 32 bonus-call win)` })),
        trans_amount: exact,
        regdate: z.string(),
      }),
    ),
  }),
});
const HOUR_MS = 3_600_000;
const PAGE = 2000;

/**
 * INFERRED: the vendor's pages give `start_time`, `end_time` and `regdate` as "YYYY-MM-DD HH:mm:ss"
 * without a zone; the vendors are Korean and their sample times are Korea Standard Time (UTC+9, no
 * daylight saving), so that is the zone read and written here.
 */
const KST_MS = 9 * HOUR_MS;
const vendorTime = (d: Date) => new Date(d.getTime() + KST_MS).toISOString().replace('T', ' ').slice(0, 19);
function fromVendorTime(text: string): Date | undefined {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms - KST_MS);
}

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

  /**
   * The vendor's transactions in [from, to): `/v4/game/transaction` in windows of at most one hour,
   * pages of at most 2,000 rows by offset, a pause between pages. Amounts are read from the answer's
   * text, digit for digit (never through a float). Types: 1 bet, 2 win, 16 cancel, 32 a bonus call's
   * win (a win the wallet paid with no stake, kept as a promotional win: a win all the same).
   */
  async records(period: { from: Date; to: Date }): Promise<VendorResult<VendorRecord[]>> {
    const out: VendorRecord[] = [];
    // A row can be read twice: two windows meet at an instant (the vendor may count its end_time in),
    // and offset pages shift when rows are added while they are read. A row read again, identical,
    // is kept once; an id the vendor lists again with other facts stays, for the comparison to find.
    const seen = new Set<string>();
    for (let start = period.from.getTime(); start < period.to.getTime(); start += HOUR_MS) {
      const end = Math.min(start + HOUR_MS, period.to.getTime());
      for (let offset = 0; ; offset += PAGE) {
        if (out.length > 0 || offset > 0) await sleep(this.#api.recordsPauseMs);
        const page = await this.#page({ start_time: vendorTime(new Date(start)), end_time: vendorTime(new Date(end)), offset, limit: PAGE });
        if (!page.ok) return page;
        for (const r of page.value.list) {
          const key = JSON.stringify([r.id, r.kind, r.user, r.round ?? null, String(r.amount), r.at.getTime()]);
          if (!seen.has(key)) out.push(r);
          seen.add(key);
        }
        if (page.value.list.length < PAGE || offset + PAGE >= page.value.total) break;
      }
    }
    return { ok: true, value: out };
  }

  async #page(body: { start_time: string; end_time: string; offset: number; limit: number }): Promise<VendorResult<{ total: number; list: VendorRecord[] }>> {
    const route = '/v4/game/transaction';
    const exchange = await this.#transport.send({ route, url: `${this.#api.url}${route}`, headers: { authorization: `Bearer ${this.#api.token.reveal()}` }, body: JSON.stringify(body), idempotent: true, notProcessed: (_s, reply) => (reply as { code?: unknown } | undefined)?.code === BUSY });
    if (!exchange.ok) return vendorFailure(exchange.error, exchange.detail);
    let parsed: unknown;
    try {
      parsed = parseJsonExact(exchange.text ?? '');
    } catch {
      return vendorFailure('vendor_error', `${route}: unreadable answer (HTTP ${exchange.status})`);
    }
    const answer = transactionPage.safeParse(parsed);
    if (!answer.success) return vendorFailure('vendor_error', `${route}: unexpected data: ${z.prettifyError(answer.error)}`);
    if (answer.data.code !== OK) return vendorFailure(CODES[answer.data.code] ?? 'vendor_error', `${route}: vendor code ${answer.data.code}`);
    const list: VendorRecord[] = [];
    for (const row of answer.data.data.list) {
      const amount = parseAmount(row.trans_amount.source, this.currency);
      if (!amount.ok) return vendorFailure('vendor_error', `${route}: trans_amount ${row.trans_amount.source}: ${amount.reason}`);
      const at = fromVendorTime(row.regdate);
      if (at === undefined) return vendorFailure('vendor_error', `${route}: regdate ${JSON.stringify(row.regdate)}`);
      list.push({ id: row.trans_id, kind: row.trans_type === 1 ? 'bet' : row.trans_type === 16 ? 'cancel' : 'win', user: row.user_code, ...(row.round_id ? { round: row.round_id } : {}), amount: amount.value, at });
    }
    return { ok: true, value: { total: answer.data.data.total, list } };
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
